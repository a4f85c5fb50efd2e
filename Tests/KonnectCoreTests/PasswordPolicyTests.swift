import Testing

@testable import KonnectCore

/// Rule A2 (Konnect): at least 12 characters, an upper, a lower, a digit and a special character,
/// no more than two identical characters in a row.
@Suite struct PasswordPolicyTests {
    private func rules(_ password: String) -> [String] { PasswordPolicy.violations(password).map(\.rule) }

    @Test(arguments: [
        "Abcdefgh1!xy",
        "correct-Horse-battery-9",
        "Aa1!Aa1!Aa1!",
        "aaBBcc11!!dd",  // pairs are fine (A2: no more than two in a row)
        "Ünïcödé-pass1",
        "Pass word 12!",  // spaces are allowed, just not as the special character
        String(repeating: "Ab1!", count: 64),  // exactly 256 characters
    ])
    func acceptablePasswordsHaveNoViolations(password: String) {
        #expect(PasswordPolicy.violations(password).isEmpty)
    }

    @Test func minimumLengthIs12Characters() {
        #expect(PasswordPolicy.minimumLength == 12)
        #expect(rules("Abcdefg1!xy") == ["min_length"])  // 11
        #expect(rules("Abcdefg1!xyz") == [])  // 12
    }

    @Test func lengthCountsCharactersNotBytes() {
        // 12 characters, 16 UTF-8 bytes.
        #expect(rules("Éèéê1!abcdef") == [])
        // 11 characters, many bytes.
        #expect(rules("Éèéê1!abcde") == ["min_length"])
    }

    @Test func maximumLengthIs256Characters() {
        #expect(rules(String(repeating: "Ab1!", count: 64) + "x") == ["max_length"])
    }

    @Test(arguments: [
        ("abcdefgh1!xy", "min_uppercase", "must contain an upper-case letter"),
        ("ABCDEFGH1!XY", "min_lowercase", "must contain a lower-case letter"),
        ("Abcdefghi!xy", "min_digits", "must contain a digit"),
        ("Abcdefgh1xyz", "min_symbols", "must contain a special character"),
        ("Abcdefgh1 xy", "min_symbols", "must contain a special character"),
        ("Abcdefgh1!xxx", "invalid", "must not repeat a character more than twice in a row"),
        ("Abc!!!defgh1", "invalid", "must not repeat a character more than twice in a row"),
        ("111Abcdefg!h", "invalid", "must not repeat a character more than twice in a row"),
    ])
    func eachRuleIsReportedAlone(password: String, rule: String, reason: String) {
        #expect(PasswordPolicy.violations(password) == [PasswordPolicy.Violation(rule: rule, reason: reason)])
    }

    @Test func emptyPasswordBreaksEveryCharacterClassRuleAndLength() {
        #expect(rules("") == ["min_length", "min_uppercase", "min_lowercase", "min_digits", "min_symbols"])
    }

    @Test func allViolationsAreReportedTogetherInRuleOrder() {
        #expect(rules("aaaa") == ["min_length", "min_uppercase", "min_digits", "min_symbols", "invalid"])
    }

    @Test func repeatedRunIsReportedOnce() {
        #expect(rules("Abcdefgh1!xxxxyyyy") == ["invalid"])
    }
}

/// Rule A1: emails are unique case-insensitively.
@Suite struct EmailAddressTests {
    @Test func canonicalFormIsLowerCase() {
        #expect(EmailAddress.canonical("Ana.Silva@Example.COM") == "ana.silva@example.com")
        #expect(EmailAddress.canonical("ana@example.com") == EmailAddress.canonical("ANA@EXAMPLE.COM"))
    }

    @Test(arguments: ["ana@example.com", "A.B+tag@sub.example.co", "x@y.z", "ünï@example.org"])
    func plausibleAddressesAreAccepted(email: String) {
        #expect(EmailAddress.problem(email) == nil)
    }

    @Test(arguments: [
        "", "ana", "@example.com", "ana@", "ana@example", "ana@.example.com", "ana@example.com.", "a@b@c.com",
        "ana @example.com", "ana@exa mple.com", "ana\t@example.com", "ana\u{1}@example.com", "ana@example.com\n",
    ])
    func implausibleAddressesAreRejected(email: String) {
        #expect(EmailAddress.problem(email) == "must be an email address such as ana@example.com")
    }

    @Test func maximumLengthIs250Characters() {
        let local = String(repeating: "a", count: 250 - "@example.com".count)
        #expect(EmailAddress.problem(local + "@example.com") == nil)
        #expect(EmailAddress.problem("a" + local + "@example.com") == "must have at most 250 characters")
    }
}
