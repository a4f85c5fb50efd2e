/// Konnect's password rules (A2): at least 12 characters, an upper-case letter, a lower-case letter,
/// a digit and a special character, and no character repeated more than twice in a row.
public enum PasswordPolicy {
    public static let minimumLength = 12
    public static let maximumLength = 256

    /// One broken rule, named like Konnect's `invalid_parameters` rules.
    public struct Violation: Sendable, Hashable {
        public var rule: String
        public var reason: String

        /// As an invalid parameter of `field`, with the bound Kong's minimum and maximum rules carry.
        public func parameter(field: String) -> InvalidParameter {
            switch rule {
            case "min_length": InvalidParameter(field: field, rule: rule, reason: reason, minimum: Int64(minimumLength))
            case "max_length": InvalidParameter(field: field, rule: rule, reason: reason, maximum: Int64(maximumLength))
            case "min_uppercase", "min_lowercase", "min_digits", "min_symbols":
                InvalidParameter(field: field, rule: rule, reason: reason, minimum: 1)
            default: InvalidParameter(field: field, rule: rule, reason: reason)
            }
        }
    }

    /// Every rule the password breaks; empty when it is acceptable.
    public static func violations(_ password: String) -> [Violation] {
        var found: [Violation] = []
        let characters = Array(password)
        if characters.count < minimumLength {
            found.append(Violation(rule: "min_length", reason: "must have at least \(minimumLength) characters"))
        }
        if characters.count > maximumLength {
            found.append(Violation(rule: "max_length", reason: "must have at most \(maximumLength) characters"))
        }
        if !characters.contains(where: { $0.isUppercase }) {
            found.append(Violation(rule: "min_uppercase", reason: "must contain an upper-case letter"))
        }
        if !characters.contains(where: { $0.isLowercase }) {
            found.append(Violation(rule: "min_lowercase", reason: "must contain a lower-case letter"))
        }
        if !characters.contains(where: { $0.isNumber }) {
            found.append(Violation(rule: "min_digits", reason: "must contain a digit"))
        }
        if !characters.contains(where: { !$0.isLetter && !$0.isNumber && !$0.isWhitespace }) {
            found.append(Violation(rule: "min_symbols", reason: "must contain a special character"))
        }
        var run = 1
        for index in characters.indices.dropFirst() {
            run = characters[index] == characters[index - 1] ? run + 1 : 1
            if run > 2 {
                found.append(
                    Violation(rule: "invalid", reason: "must not repeat a character more than twice in a row"))
                break
            }
        }
        return found
    }
}

/// Email addresses as identities: compared case-insensitively (A1), checked for a plausible shape.
public enum EmailAddress {
    public static let maximumLength = 250

    /// The form stored for uniqueness checks and locks.
    public static func canonical(_ email: String) -> String { email.lowercased() }

    /// Why the address is unacceptable, or nil.
    public static func problem(_ email: String) -> String? {
        if email.count > maximumLength { return "must have at most \(maximumLength) characters" }
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !parts[1].hasPrefix("."),
            !parts[1].hasSuffix("."),
            !email.contains(where: { $0.isWhitespace || $0.asciiValue.map { $0 < 0x20 } ?? false })
        else { return "must be an email address such as ana@example.com" }
        return nil
    }
}

/// identity-v3's `PATName`: 1 to 256 characters, letters and digits at both ends, and letters, digits,
/// spaces, `_`, `-`, `.` and `'` between.
public enum PersonalAccessTokenName {
    public static let maximumLength = 256
    public static let pattern = "^[\\p{L}\\p{N}][\\p{L}\\p{N} _\\-\\.']*[\\p{L}\\p{N}]$"

    /// Why `name` cannot name a token, or nil.
    public static func problem(_ name: String) -> String? {
        let characters = Array(name)
        func alphanumeric(_ character: Character) -> Bool { character.isLetter || character.isNumber }
        guard let first = characters.first, let last = characters.last, characters.count >= 2,
            alphanumeric(first), alphanumeric(last),
            characters.allSatisfy({ alphanumeric($0) || " _-.'".contains($0) })
        else {
            return
                "must start and end with a letter or digit and hold only letters, digits, spaces, '_', '-', '.' and \"'\""
        }
        return nil
    }
}
