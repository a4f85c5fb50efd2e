import Foundation
import Testing

/// Issue 11: SQL lives only in store types. Every string literal in `Sources/` that reads like SQL
/// must be in a store file (a file named `...Store.swift` or `...Schema.swift`, a file under a
/// `Stores/` folder, or the `KonnectStorage` module that wraps SQLite).
@Suite struct SQLPlacementTests {
    /// Files that measure the storage layer itself on a scratch table of their own, not a node's data.
    static let storageBenchmarks = ["Sources/KonnectScenario/WritesBenchmark.swift"]

    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }

    static func isStoreFile(_ relativePath: String) -> Bool {
        let name = (relativePath as NSString).lastPathComponent
        return relativePath.hasPrefix("Sources/KonnectStorage/") || relativePath.contains("/Stores/")
            || name.hasSuffix("Store.swift") || name.hasSuffix("Schema.swift")
    }

    @Test("No SQL in a string literal outside store files (names file:line)")
    func sqlOnlyInStores() throws {
        let root = Self.repositoryRoot
        let sources = root.appendingPathComponent("Sources")
        let files = try #require(FileManager.default.enumerator(atPath: sources.path)).compactMap { $0 as? String }
            .filter { $0.hasSuffix(".swift") }.sorted()
        #expect(files.count > 50, "expected the whole source tree under \(sources.path)")
        var offenders: [String] = []
        for file in files {
            let relative = "Sources/" + file
            if Self.isStoreFile(relative) || Self.storageBenchmarks.contains(relative) { continue }
            let text = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
            for hit in SQLLiteralScanner.sqlLiterals(in: text) {
                offenders.append("\(relative):\(hit.line): \(hit.text.prefix(80))")
            }
        }
        if !offenders.isEmpty {
            Issue.record(
                "\(offenders.count) SQL literals outside a store type; move each into the store of what it keeps:\n\(offenders.joined(separator: "\n"))"
            )
        }
    }

    @Test("The scanner finds SQL in single-line, multi-line and interpolated literals, not in comments or prose")
    func scannerFindsWhatItShould() {
        let source = #"""
            // SELECT id FROM users in a comment is fine
            /* DELETE FROM users in a block comment too */
            let prose = "select a plan from the list, then update it"
            let one = "SELECT * FROM users WHERE id = ?"
            let nested = "name: \(flag ? "a" : "b") and more"
            let two = """
                INSERT INTO teams(id) VALUES (?)
                """
            let three = "value \(x) UPDATE organizations SET name = ?"
            let four = "PRAGMA user_version"
            """#
        let hits = SQLLiteralScanner.sqlLiterals(in: source)
        #expect(hits.map(\.line) == [4, 6, 9, 10])
        #expect(hits.first?.text == "SELECT * FROM users WHERE id = ?")
    }
}

/// Finds string literals in Swift source and keeps those that read like SQL statements.
enum SQLLiteralScanner {
    struct Literal {
        var line: Int
        var text: String
    }

    static let patterns = [
        #"\bSELECT\b[\s\S]*\bFROM\b"#, #"\bINSERT\s+(OR\s+[A-Z]+\s+)?INTO\b"#, #"\bUPDATE\s+\w+\s+SET\b"#,
        #"\bDELETE\s+FROM\b"#, #"\b(CREATE|ALTER|DROP)\s+(TABLE|INDEX|UNIQUE\s+INDEX|VIEW|TRIGGER)\b"#,
        #"\bPRAGMA\s+\w+"#, #"\bBEGIN\s+(IMMEDIATE|EXCLUSIVE|DEFERRED)\b"#, #"\b(SAVEPOINT|RELEASE\s+SAVEPOINT)\b"#,
    ]

    static func sqlLiterals(in source: String) -> [Literal] {
        let statements = patterns.map { try! Regex($0) }
        return literals(in: source).filter { literal in
            statements.contains { literal.text.contains($0) }
        }
    }

    /// Every string literal with the line it starts on; interpolated expressions are scanned for
    /// nested literals, comments are skipped.
    static func literals(in source: String) -> [Literal] {
        var scanner = Scanner(Array(source.unicodeScalars))
        scanner.scanCode(untilClosingParenthesis: false)
        return scanner.found
    }

    private struct Scanner {
        let scalars: [Unicode.Scalar]
        var position = 0
        var line = 1
        var found: [Literal] = []

        init(_ scalars: [Unicode.Scalar]) { self.scalars = scalars }

        func peek(_ offset: Int = 0) -> Unicode.Scalar? {
            position + offset < scalars.count ? scalars[position + offset] : nil
        }

        func starts(with text: String) -> Bool {
            for (offset, scalar) in text.unicodeScalars.enumerated() where peek(offset) != scalar { return false }
            return true
        }

        mutating func advance(_ count: Int = 1) {
            for _ in 0..<count where position < scalars.count {
                if scalars[position] == "\n" { line += 1 }
                position += 1
            }
        }

        /// Code: skips comments, records literals; inside an interpolation, stops at its `)`.
        mutating func scanCode(untilClosingParenthesis: Bool) {
            var depth = 0
            while let scalar = peek() {
                if starts(with: "//") {
                    while let next = peek(), next != "\n" { advance() }
                } else if starts(with: "/*") {
                    advance(2)
                    while peek() != nil, !starts(with: "*/") { advance() }
                    advance(2)
                } else if scalar == "#" || scalar == "\"" {
                    var hashes = 0
                    while peek(hashes) == "#" { hashes += 1 }
                    if peek(hashes) == "\"" { scanLiteral(hashes: hashes) } else { advance(max(hashes, 1)) }
                } else if untilClosingParenthesis && scalar == "(" {
                    depth += 1
                    advance()
                } else if untilClosingParenthesis && scalar == ")" {
                    advance()
                    if depth == 0 { return }
                    depth -= 1
                } else {
                    advance()
                }
            }
        }

        /// A literal starting at `#...#"` or `"""`, with `hashes` leading `#`.
        mutating func scanLiteral(hashes: Int) {
            let start = line
            let closingHashes = String(repeating: "#", count: hashes)
            advance(hashes)
            let multiLine = starts(with: "\"\"\"")
            let closing = (multiLine ? "\"\"\"" : "\"") + closingHashes
            advance(multiLine ? 3 : 1)
            var text = ""
            while let scalar = peek() {
                if starts(with: closing) {
                    advance(closing.unicodeScalars.count)
                    break
                }
                if !multiLine && scalar == "\n" { break }
                if scalar == "\\" && starts(with: "\\" + closingHashes) {
                    advance(1 + hashes)
                    if peek() == "(" {
                        advance()
                        scanCode(untilClosingParenthesis: true)
                        text += " "
                    } else if let escaped = peek() {
                        text.unicodeScalars.append(escaped)
                        advance()
                    }
                    continue
                }
                text.unicodeScalars.append(scalar)
                advance()
            }
            found.append(Literal(line: start, text: text.trimmingCharacters(in: .whitespacesAndNewlines)))
        }
    }
}
