import KonnectCore

/// A token of a scenario line, with the column it starts at (1-based).
struct Token: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        /// A bare word: `signup`, `eu`, `/v2/control-planes`, `31d`, `$cp.id`.
        case word
        /// A double-quoted string (JSON escapes), unquoted.
        case string
        /// A JSON object or array, as written.
        case json
    }

    var kind: Kind
    var text: String
    var column: Int
}

/// Why a scenario file does not parse: file, line, column and what was expected.
public struct ScenarioParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    public var message: String

    public var description: String { "\(file):\(line):\(column): \(message)" }
}

enum Tokenizer {
    /// Splits a line into tokens; `#` outside strings and JSON starts a comment.
    static func tokens(_ line: String, file: String, lineNumber: Int) throws(ScenarioParseError) -> [Token] {
        let characters = Array(line)
        var tokens: [Token] = []
        var index = 0
        func fail(_ message: String, at column: Int) -> ScenarioParseError {
            ScenarioParseError(file: file, line: lineNumber, column: column, message: message)
        }
        while index < characters.count {
            let character = characters[index]
            if character == " " || character == "\t" || character == "\r" {
                index += 1
                continue
            }
            if character == "#" { break }
            let start = index
            if character == "\"" {
                var text = ""
                index += 1
                var closed = false
                while index < characters.count {
                    let c = characters[index]
                    if c == "\\" {
                        guard index + 1 < characters.count else { break }
                        let next = characters[index + 1]
                        switch next {
                        case "n": text.append("\n")
                        case "t": text.append("\t")
                        case "\"": text.append("\"")
                        case "\\": text.append("\\")
                        default: text.append(next)
                        }
                        index += 2
                        continue
                    }
                    if c == "\"" {
                        closed = true
                        index += 1
                        break
                    }
                    text.append(c)
                    index += 1
                }
                guard closed else { throw fail("unterminated string: expected a closing '\"'", at: start + 1) }
                tokens.append(Token(kind: .string, text: text, column: start + 1))
                continue
            }
            if character == "{" || character == "[" {
                var depth = 0
                var inString = false
                while index < characters.count {
                    let c = characters[index]
                    if inString {
                        if c == "\\" {
                            index += 2
                            continue
                        }
                        if c == "\"" { inString = false }
                    } else if c == "\"" {
                        inString = true
                    } else if c == "{" || c == "[" {
                        depth += 1
                    } else if c == "}" || c == "]" {
                        depth -= 1
                        if depth == 0 {
                            index += 1
                            break
                        }
                    }
                    index += 1
                }
                guard depth == 0, !inString else {
                    throw fail("unbalanced JSON: expected a closing '\(character == "{" ? "}" : "]")'", at: start + 1)
                }
                tokens.append(Token(kind: .json, text: String(characters[start..<index]), column: start + 1))
                continue
            }
            while index < characters.count, characters[index] != " ", characters[index] != "\t",
                characters[index] != "\r"
            {
                index += 1
            }
            tokens.append(Token(kind: .word, text: String(characters[start..<index]), column: start + 1))
        }
        return tokens
    }
}
