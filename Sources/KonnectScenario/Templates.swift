import KonnectCore

/// `$name.path` references inside paths and JSON bodies.
public enum Templates {
    static func isReferenceCharacter(_ character: Character) -> Bool {
        character.isLetter || character.isNumber || character == "_" || character == "-" || character == "."
    }

    /// Finds references: (range in characters, name, path).
    public static func references(_ text: String) -> [(Range<Int>, String, String)] {
        let characters = Array(text)
        var found: [(Range<Int>, String, String)] = []
        var index = 0
        while index < characters.count {
            guard characters[index] == "$" else {
                index += 1
                continue
            }
            var end = index + 1
            while end < characters.count, isReferenceCharacter(characters[end]) { end += 1 }
            // A trailing dot ends a sentence, not a path.
            while end > index + 1, characters[end - 1] == "." { end -= 1 }
            if end > index + 1 {
                let reference = String(characters[(index + 1)..<end])
                let parts = reference.split(separator: ".", maxSplits: 1)
                found.append((index..<end, String(parts[0]), parts.count > 1 ? String(parts[1]) : ""))
            }
            index = end
        }
        return found
    }

    /// Replaces references with `resolve`'s text: inside JSON strings the raw text, outside a JSON value.
    static func substitute(_ text: String, json: Bool, resolve: (String, String) throws -> JSON) rethrows -> String {
        let characters = Array(text)
        var output = ""
        var last = 0
        for (range, name, path) in references(text) {
            output += String(characters[last..<range.lowerBound])
            let value = try resolve(name, path)
            if json && !insideString(characters, at: range.lowerBound) {
                output += value.text
            } else if case .string(let string) = value {
                output += json ? jsonEscaped(string) : string
            } else {
                output += json ? jsonEscaped(value.text) : value.text
            }
            last = range.upperBound
        }
        output += String(characters[last...])
        return output
    }

    /// The JSON with every unquoted reference replaced by `null`: checks a body's syntax at parse time.
    static func placeholderJSON(_ text: String) -> String {
        substitute(text, json: true) { _, _ in .null }
    }

    static func insideString(_ characters: [Character], at position: Int) -> Bool {
        var inside = false
        var index = 0
        while index < position {
            if characters[index] == "\\" && inside {
                index += 2
                continue
            }
            if characters[index] == "\"" { inside.toggle() }
            index += 1
        }
        return inside
    }

    static func jsonEscaped(_ text: String) -> String {
        let encoded = JSON.string(text).text
        return String(encoded.dropFirst().dropLast())
    }
}
