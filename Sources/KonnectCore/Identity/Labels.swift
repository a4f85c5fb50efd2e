/// Konnect's label rules: keys of 1-63 characters not starting with `kong`, `konnect`, `mesh`, `kic`
/// or `_`; values of 1-63 characters matching `^[a-z0-9A-Z]{1}([a-z0-9A-Z\-\.\_]*[a-z0-9A-Z]+)?$`.
public enum Labels {
    static let reservedPrefixes = ["kong", "konnect", "mesh", "kic", "_"]

    /// What is wrong with a labels object, or nil.
    public static func problem(_ labels: JSONObject, maxCount: Int? = nil) -> String? {
        if let maxCount, labels.count > maxCount { return "must have at most \(maxCount) labels" }
        for (key, value) in labels {
            guard (1...63).contains(key.count) else { return "key \"\(key.prefix(70))\" must have 1 to 63 characters" }
            if let prefix = reservedPrefixes.first(where: { key.lowercased().hasPrefix($0) }) {
                return "key \"\(key)\" must not start with \"\(prefix)\""
            }
            guard case .string(let text) = value else { return "value of \"\(key)\" must be a string" }
            guard isValidValue(text) else {
                return
                    "value of \"\(key)\" must have 1 to 63 letters, digits, '-', '.' or '_', starting and ending with a letter or digit"
            }
        }
        return nil
    }

    static func isValidValue(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard (1...63).contains(bytes.count) else { return false }
        func alphanumeric(_ byte: UInt8) -> Bool {
            (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122)
        }
        guard alphanumeric(bytes[0]), alphanumeric(bytes[bytes.count - 1]) else { return false }
        return bytes.allSatisfy {
            alphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_")
        }
    }

    /// Parses a `labels=key:value,other` query filter; each term must match.
    public static func matches(_ labels: JSONObject, filter: String) -> Bool {
        for term in filter.split(separator: ",") {
            let parts = term.split(separator: ":", maxSplits: 1)
            // A term of only ":" names no key and matches nothing (it used to trap on parts[0]).
            guard let first = parts.first else { return false }
            let key = String(first)
            if parts.count == 1 {
                if !labels.contains(key) { return false }
            } else if labels[key]?.stringValue != String(parts[1]) {
                return false
            }
        }
        return true
    }
}
