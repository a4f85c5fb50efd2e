import Testing

@testable import KonnectCore

@Suite struct LabelsValidationTests {
    private func labels(_ members: [(String, JSON)]) -> JSONObject { JSONObject(members) }

    @Test func validLabelsHaveNoProblem() {
        let object = labels([
            ("env", "prod"), ("team-name", "a-b.c_d"), ("A1", "Z9"), ("x", "y"),
            (String(repeating: "k", count: 63), .string(String(repeating: "v", count: 63))),
            ("kon", "g"),  // close to a reserved prefix but not one
        ])
        #expect(Labels.problem(object) == nil)
    }

    @Test func emptyLabelsHaveNoProblem() {
        #expect(Labels.problem(JSONObject()) == nil)
        #expect(Labels.problem(JSONObject(), maxCount: 0) == nil)
    }

    @Test func maximumCountIsEnforcedOnlyWhenGiven() {
        let object = labels([("a", "1"), ("b", "2"), ("c", "3")])
        #expect(Labels.problem(object) == nil)
        #expect(Labels.problem(object, maxCount: 3) == nil)
        #expect(Labels.problem(object, maxCount: 2) == "must have at most 2 labels")
    }

    @Test(arguments: ["", String(repeating: "k", count: 64)])
    func keyLengthMustBe1To63(key: String) {
        #expect(Labels.problem(labels([(key, "v")]))?.hasSuffix("must have 1 to 63 characters") == true)
    }

    @Test(arguments: [
        ("kong", "kong"), ("kongx", "kong"), ("Kong-env", "kong"), ("KONNECT.io", "konnect"), ("konnect", "konnect"),
        ("mesh-zone", "mesh"), ("kicker", "kic"), ("_private", "_"),
    ])
    func reservedKeyPrefixesAreRejectedCaseInsensitively(key: String, prefix: String) {
        #expect(Labels.problem(labels([(key, "v")])) == "key \"\(key)\" must not start with \"\(prefix)\"")
    }

    @Test(arguments: [JSON.int(1), .bool(true), .null, .array(["a"]), .object(JSONObject())])
    func nonStringValuesAreRejected(value: JSON) {
        #expect(Labels.problem(labels([("env", value)])) == "value of \"env\" must be a string")
    }

    @Test(arguments: [
        "", "-prod", "prod-", ".x", "x.", "_x", "x_", "has space", "ünï", "a/b", "a:b",
        String(repeating: "v", count: 64),
    ])
    func invalidValuesAreRejected(value: String) {
        #expect(
            Labels.problem(labels([("env", .string(value))]))?.hasPrefix("value of \"env\" must have 1 to 63") == true)
    }

    @Test(arguments: ["a", "9", "a-b", "a.b", "a_b", "A--__..z", "0123456789"])
    func validValues(value: String) {
        #expect(Labels.isValidValue(value))
    }

    @Test func firstProblemIsReported() {
        let object = labels([("ok", "fine"), ("kong", "x"), ("bad", "-")])
        #expect(Labels.problem(object) == "key \"kong\" must not start with \"kong\"")
    }
}

@Suite struct LabelsFilterTests {
    static let labels = JSONObject([("env", "prod"), ("team", "core"), ("tier", "1")])

    @Test(arguments: [
        ("env:prod", true),
        ("env:dev", false),
        ("env", true),
        ("missing", false),
        ("env:prod,team:core", true),
        ("env:prod,team:edge", false),
        ("env,team", true),
        ("env,owner", false),
        ("tier:1", true),
        ("env:prod:x", false),  // the value is everything after the first ':'
        ("", true),  // no terms: nothing to fail
        (",,", true),
    ])
    func termsMustAllMatch(filter: String, expected: Bool) {
        #expect(Labels.matches(Self.labels, filter: filter) == expected)
    }

    @Test func valueWithColonMatchesWhole() {
        let labels = JSONObject([("url", "a:b")])
        #expect(Labels.matches(labels, filter: "url:a:b"))
    }

    @Test(arguments: [":", "env:prod,:", ":,env"])
    func termWithoutAKeyMatchesNothingAndDoesNotCrash(filter: String) {
        #expect(!Labels.matches(Self.labels, filter: filter))
    }

    @Test func emptyLabelsMatchOnlyTheEmptyFilter() {
        #expect(Labels.matches(JSONObject(), filter: ""))
        #expect(!Labels.matches(JSONObject(), filter: "env"))
    }
}
