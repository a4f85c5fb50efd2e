import Testing

@testable import KonnectCore

/// The error `JSONParser.parse` throws for `bytes`, or nil when it accepts them.
private func parseError(_ bytes: [UInt8]) -> JSONParseError? {
    do {
        _ = try JSONParser.parse(bytes)
        return nil
    } catch {
        return error
    }
}

private func parseError(_ text: String) -> JSONParseError? { parseError(Array(text.utf8)) }

private func nested(_ depth: Int, open: String = "[", close: String = "]") -> String {
    String(repeating: open, count: depth) + String(repeating: close, count: depth)
}

@Suite struct JSONParserAcceptsValidDocumentsTests {
    @Test(arguments: [
        ("null", JSON.null),
        ("true", JSON.bool(true)),
        ("false", JSON.bool(false)),
        ("0", JSON.int(0)),
        ("-0", JSON.int(0)),
        ("42", JSON.int(42)),
        ("-17", JSON.int(-17)),
        ("\"\"", JSON.string("")),
        ("\"text\"", JSON.string("text")),
        ("[]", JSON.array([])),
        ("{}", JSON.object(JSONObject())),
        (" \t\r\n 7 \t\r\n ", JSON.int(7)),
    ])
    func scalarsAndEmptyContainersAtTopLevel(text: String, expected: JSON) throws {
        #expect(try JSONParser.parse(text) == expected)
    }

    @Test func nestedDocumentKeepsStructureAndMemberOrder() throws {
        let value = try JSONParser.parse(#"{"b": [1, 2.5, "x", null, true], "a": {"c": {}}, "d": []}"#)
        let object = try #require(value.objectValue)
        #expect(object.keys == ["b", "a", "d"])
        #expect(value["b"] == [1, 2.5, "x", nil, true])
        #expect(value["a"]?["c"] == .object(JSONObject()))
        #expect(value["d"] == .array([]))
    }

    @Test func stringEscapesAreDecoded() throws {
        let value = try JSONParser.parse(#""\"\\\/\b\f\n\r\t\u0041\u00e9\u20AC""#)
        #expect(value == .string("\"\\/\u{08}\u{0C}\n\r\tAé€"))
    }

    @Test func rawMultibyteUTF8IsAccepted() throws {
        let value = try JSONParser.parse("\"héllo 世界 🎉\"")
        #expect(value == .string("héllo 世界 🎉"))
    }

    @Test func surrogatePairEscapeDecodesToOneScalar() throws {
        let value = try JSONParser.parse(#""\ud83c\udf89""#)
        #expect(value == .string("🎉"))
        #expect(value.stringValue?.unicodeScalars.count == 1)
    }

    @Test func escapedNULIsAllowed() throws {
        #expect(try JSONParser.parse(#""a\u0000b""#) == .string("a\u{0}b"))
    }
}

@Suite struct JSONParserRejectsInvalidDocumentsTests {
    @Test(arguments: [
        "",
        "   ",
        "[1, 2,]",
        "{\"a\": 1,}",
        "[,1]",
        "{,}",
        "[1 2]",
        "{\"a\" 1}",
        "{\"a\": }",
        "{a: 1}",
        "{'a': 1}",
        "['a']",
        "[1] [2]",
        "1 2",
        "tru",
        "True",
        "nul",
        "nulll",
        "[1, 2",
        "{\"a\": 1",
        "\"unterminated",
        "// comment\n1",
        "/* c */ 1",
        "NaN",
        "Infinity",
        "+1",
        ".5",
        "\u{FEFF}1",
    ])
    func malformedSyntax(text: String) {
        #expect(parseError(text) != nil, "accepted \(text.debugDescription)")
    }

    @Test(
        "An object finds, replaces and removes members alike when small (scanned) and large (indexed), keeps their order, and compares and hashes regardless of it",
        arguments: [3, JSONObject.scannedMembers, JSONObject.scannedMembers + 1, 100])
    func objectMembersSmallAndLarge(count: Int) throws {
        var object = JSONObject()
        for number in 0..<count { object["k\(number)"] = .int(number) }
        #expect(object.count == count)
        #expect(object.keys == (0..<count).map { "k\($0)" })
        for number in 0..<count { #expect(object["k\(number)"] == .int(Int64(number))) }
        #expect(object["k\(count)"] == nil)
        object["k1"] = "one"
        #expect(object["k1"] == "one")
        #expect(object.keys[1] == "k1")
        object["k0"] = nil
        #expect(object["k0"] == nil)
        #expect(object.count == count - 1)
        #expect(object.keys.first == "k1")
        for number in 2..<count { #expect(object["k\(number)"] == .int(Int64(number))) }
        object["k0"] = true
        #expect(object.keys.last == "k0")
        #expect(object["k0"] == true)

        let reversed = JSONObject(object.members.reversed().map { ($0.key, $0.value) })
        #expect(reversed == object)
        #expect(reversed.hashValue == object.hashValue)
        #expect(Set([JSON.object(object), JSON.object(reversed)]).count == 1)
        var different = object
        different["k1"] = "uno"
        #expect(different != object)
        different["k1"] = nil
        #expect(different != object)
        let parsed = try JSONParser.parse(JSON.object(object).bytes)
        #expect(parsed == .object(object))
        #expect(parsed.objectValue?.keys == object.keys)
    }

    @Test func duplicateMemberIsRejectedAtTheKeyOffset() throws {
        let error = try #require(parseError(#"{"a": 1, "a": 2}"#))
        #expect(error.reason == "duplicate member \"a\"")
        #expect(error.offset == 9)
    }

    @Test func duplicateMemberIsDetectedAfterUnescaping() {
        #expect(parseError(#"{"a": 1, "\u0061": 2}"#)?.reason == "duplicate member \"a\"")
    }

    @Test func duplicateMemberInNestedObjectIsRejected() {
        #expect(parseError(#"{"outer": {"x": 1, "y": 2, "x": 3}}"#)?.reason.hasPrefix("duplicate member") == true)
    }

    @Test func sameKeyInSiblingObjectsIsNotADuplicate() throws {
        let value = try JSONParser.parse(#"[{"a": 1}, {"a": 2}]"#)
        #expect(value == [["a": 1], ["a": 2]])
    }

    @Test(arguments: ["01", "-01", "00", "007", "[01]", "{\"n\": 00.5}"])
    func leadingZerosAreRejected(text: String) {
        #expect(parseError(text)?.reason == "leading zero in number")
    }

    @Test(arguments: ["-", "1.", "1.e5", "1e", "1e+", "-e5", "2E-"])
    func incompleteNumbersAreRejected(text: String) {
        #expect(parseError(text) != nil)
    }

    @Test(arguments: ["1e400", "-1e400"])
    func numbersBeyondDoubleRangeAreRejected(text: String) {
        #expect(parseError(text)?.reason == "number out of range")
    }

    @Test(arguments: Array(UInt8(0x00)..<UInt8(0x20)))
    func rawControlCharacterInStringIsRejected(byte: UInt8) {
        let bytes: [UInt8] = [0x22, 0x61, byte, 0x62, 0x22]
        #expect(parseError(bytes)?.reason == "control character in string")
    }

    @Test(
        arguments: [
            [0x22, 0xFF, 0x22],  // never valid in UTF-8
            [0x22, 0xC3, 0x22],  // truncated two-byte sequence
            [0x22, 0xC0, 0xAF, 0x22],  // overlong encoding of '/'
            [0x22, 0xED, 0xA0, 0x80, 0x22],  // UTF-8-encoded surrogate
            [0x22, 0x80, 0x22],  // lone continuation byte
            [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22],  // beyond U+10FFFF
        ] as [[UInt8]])
    func invalidUTF8InStringIsRejected(bytes: [UInt8]) {
        #expect(parseError(bytes)?.reason == "string is not valid UTF-8")
    }

    @Test func invalidUTF8OutsideStringsIsRejected() {
        #expect(parseError([0x5B, 0xFF, 0x5D]) != nil)
    }

    @Test(arguments: [
        #""\ud800""#,  // lone high surrogate
        #""\udc00""#,  // lone low surrogate
        #""\ud800x""#,  // high surrogate followed by a plain character
        #""\ud800\u0041""#,  // high surrogate followed by a non-surrogate escape
        #""\ud800\ud800""#,  // two high surrogates
    ])
    func unpairedSurrogatesAreRejected(text: String) {
        #expect(parseError(text)?.reason == "unpaired surrogate")
    }

    @Test(arguments: [#""\x41""#, #""\'""#, #""\U0041""#, #""\u00G1""#, #""\u12""#, #""\"#])
    func invalidEscapesAreRejected(text: String) {
        #expect(parseError(text) != nil)
    }

    @Test func errorDescriptionNamesOffsetAndReason() throws {
        let error = try #require(parseError("[1,]"))
        #expect(error.offset == 3)
        #expect(error.description == "invalid JSON at byte 3: unexpected character")
    }

    @Test func trailingDataIsReportedAfterTheDocument() {
        #expect(parseError("{} x") == JSONParseError(offset: 3, reason: "unexpected data after the document"))
    }
}

@Suite struct JSONParserDepthLimitTests {
    @Test func maximumDepthIs64() {
        #expect(JSONParser.maximumDepth == 64)
    }

    @Test func arraysNested64DeepAreAccepted() throws {
        var value = try JSONParser.parse(nested(64))
        var depth = 0
        while let inner = value.arrayValue {
            depth += 1
            guard let first = inner.first else { break }
            value = first
        }
        #expect(depth == 64)
    }

    @Test func arraysNested65DeepAreRejected() {
        #expect(parseError(nested(65))?.reason == "nesting deeper than 64 levels")
    }

    @Test func objectsNested65DeepAreRejected() {
        let text = String(repeating: #"{"a":"#, count: 65) + "1" + String(repeating: "}", count: 65)
        let shallower = String(repeating: #"{"a":"#, count: 64) + "1" + String(repeating: "}", count: 64)
        #expect(parseError(text)?.reason == "nesting deeper than 64 levels")
        #expect(parseError(shallower) == nil)
    }

    @Test func mixedNestingCountsBothContainerKinds() {
        let text = String(repeating: #"[{"a":"#, count: 33) + "0" + String(repeating: "}]", count: 33)
        #expect(parseError(text)?.reason == "nesting deeper than 64 levels")
    }

    @Test func siblingsDoNotAccumulateDepth() throws {
        // 100 sibling arrays each 60 deep: depth must come back down after each closes.
        let text = "[" + Array(repeating: nested(60), count: 100).joined(separator: ",") + "]"
        #expect(parseError(text) == nil)
    }

    @Test func hostileDepthFailsWithoutExhaustingTheStack() {
        #expect(parseError(String(repeating: "[", count: 100_000)) != nil)
    }
}

@Suite struct JSONNumberTests {
    @Test(arguments: [
        ("9223372036854775807", JSON.int(Int64.max)),
        ("-9223372036854775808", JSON.int(Int64.min)),
        ("123456789", JSON.int(123_456_789)),
    ])
    func integersWithinInt64StayIntegers(text: String, expected: JSON) throws {
        #expect(try JSONParser.parse(text) == expected)
    }

    @Test(arguments: [
        ("1.5", 1.5),
        ("-0.25", -0.25),
        ("1e3", 1000.0),
        ("1E3", 1000.0),
        ("2.5e-2", 0.025),
        ("1e+2", 100.0),
        ("1.0", 1.0),
        ("9223372036854775808", 9_223_372_036_854_775_808.0),
    ])
    func fractionsExponentsAndHugeIntegersAreDoubles(text: String, expected: Double) throws {
        #expect(try JSONParser.parse(text) == .double(expected))
    }

    @Test func intValueAcceptsWholeDoublesOnly() {
        #expect(JSON.double(3.0).intValue == 3)
        #expect(JSON.double(3.5).intValue == nil)
        #expect(JSON.double(1e16).intValue == nil)
        #expect(JSON.int(-4).intValue == -4)
        #expect(JSON.string("4").intValue == nil)
    }
}

@Suite struct JSONValueAccessTests {
    @Test func typeNames() {
        #expect(JSON.null.typeName == "null")
        #expect(JSON.bool(true).typeName == "boolean")
        #expect(JSON.int(1).typeName == "integer")
        #expect(JSON.double(1).typeName == "number")
        #expect(JSON.string("").typeName == "string")
        #expect(JSON.array([]).typeName == "array")
        #expect(JSON.object(JSONObject()).typeName == "object")
    }

    @Test func accessorsReturnNilForOtherTypes() {
        let value: JSON = "text"
        #expect(value.stringValue == "text")
        #expect(value.boolValue == nil)
        #expect(value.arrayValue == nil)
        #expect(value.objectValue == nil)
        #expect(value["key"] == nil)
        #expect(value[0] == nil)
        #expect(!value.isNull)
        #expect(JSON.null.isNull)
    }

    @Test func subscriptSetterAddsReplacesAndRemovesMembers() {
        var value: JSON = ["a": 1]
        value["b"] = 2
        value["a"] = 3
        #expect(value.objectValue?.keys == ["a", "b"])
        #expect(value == ["a": 3, "b": 2])
        value["a"] = nil
        #expect(value == ["b": 2])
        #expect(value.objectValue?.keys == ["b"])
    }

    @Test func subscriptSetterOnNonObjectIsIgnored() {
        var value: JSON = [1, 2]
        value["a"] = 1
        #expect(value == [1, 2])
    }

    @Test func arrayIndexOutOfRangeIsNil() {
        let value: JSON = [1, 2]
        #expect(value[1] == 2)
        #expect(value[2] == nil)
        #expect(value[-1] == nil)
    }

    @Test func objectEqualityIgnoresMemberOrder() {
        let first = JSONObject([("a", 1), ("b", 2)])
        let second = JSONObject([("b", 2), ("a", 1)])
        #expect(first == second)
        #expect(first.hashValue == second.hashValue)
        #expect(first.keys != second.keys)
    }

    @Test func objectIteratesInInsertionOrder() {
        let object = JSONObject([("z", 1), ("a", 2), ("m", 3)])
        #expect(object.map(\.key) == ["z", "a", "m"])
        #expect(object.map(\.value) == [1, 2, 3])
        #expect(object.count == 3)
        #expect(object.contains("a"))
        #expect(!object.contains("b"))
    }

    @Test func optionalHelpers() {
        #expect(JSON.optional(String?.none) == .null)
        #expect(JSON.optional("x" as String?) == "x")
        #expect(JSON.optional(Int64?.none) == .null)
        #expect(JSON.optional(5 as Int64?) == 5)
        #expect(JSON.int(7 as Int) == .int(7))
        #expect(JSON.strings(["a", "b"]) == ["a", "b"])
    }
}

@Suite struct JSONPathTests {
    static let document: JSON = [
        "data": [["name": "first", "tags": ["x", "y"]], ["name": "second"]],
        "meta": ["page": ["total": 2]],
        "3": "numeric key",
    ]

    @Test(arguments: [
        ("data.0.name", JSON.string("first")),
        ("data.1.name", JSON.string("second")),
        ("data.0.tags.1", JSON.string("y")),
        ("meta.page.total", JSON.int(2)),
        ("3", JSON.string("numeric key")),
    ])
    func pathsResolve(path: String, expected: JSON) {
        #expect(Self.document.value(atPath: path) == expected)
    }

    @Test(arguments: [
        "data.2.name", "data.x", "meta.page.total.more", "missing", "data.0.name.0", "meta..page", "data.-1",
    ])
    func missingPathsAreNil(path: String) {
        #expect(Self.document.value(atPath: path) == nil)
    }

    @Test func wholePathReturnsContainer() {
        #expect(Self.document.value(atPath: "meta.page") == ["total": 2])
    }
}

@Suite struct JSONWriterTests {
    @Test(
        arguments: [
            (JSON.null, "null"),
            (JSON.bool(true), "true"),
            (JSON.bool(false), "false"),
            (JSON.int(-12), "-12"),
            (JSON.double(1.5), "1.5"),
            (JSON.double(3.0), "3.0"),
            (JSON.double(.infinity), "null"),
            (JSON.double(.nan), "null"),
            (JSON.string("a\"b\\c\nd\re\tf\u{01}\u{1F}"), #""a\"b\\c\nd\re\tf\u0001\u001f""#),
            (JSON.array([]), "[]"),
            (JSON.object(JSONObject()), "{}"),
            (["b": 1, "a": [true, nil]], #"{"b":1,"a":[true,null]}"#),
        ] as [(JSON, String)])
    func compactEncoding(value: JSON, expected: String) {
        #expect(value.text == expected)
        #expect(value.bytes == Array(expected.utf8))
    }

    @Test(
        arguments: [
            JSON.null, true, false, 0, -1, .int(Int64.max), .int(Int64.min), 0.1, -2.5e-8, 1e20,
            .double(.leastNonzeroMagnitude), .double(.greatestFiniteMagnitude),
            "", "plain", "quote \" backslash \\ slash /", "controls \u{0}\u{1}\u{8}\u{C}\n\r\t\u{1F}\u{7F}",
            "unicode é 世界 🎉 \u{2028}",
            [], [1, "two", 3.5, nil, [false]],
            ["nested": ["deeper": ["deepest": [1, 2, 3]]], "empty": [:], "list": []],
        ] as [JSON])
    func writerOutputParsesBackToTheSameValue(value: JSON) throws {
        #expect(try JSONParser.parse(value.bytes) == value)
        #expect(try JSONParser.parse(value.canonicalBytes) == value)
        #expect(try JSONParser.parse(value.prettyText) == value)
    }

    @Test func roundTripKeepsMemberOrder() throws {
        let text = #"{"zeta":1,"alpha":{"y":2,"b":3},"mid":[{"k":1,"a":2}]}"#
        #expect(try JSONParser.parse(text).text == text)
    }

    @Test func canonicalBytesSortKeysRecursively() {
        let value: JSON = ["b": 1, "a": ["z": 1, "y": [["d": 1, "c": 2]]], "A": nil]
        #expect(
            String(decoding: value.canonicalBytes, as: UTF8.self)
                == #"{"A":null,"a":{"y":[{"c":2,"d":1}],"z":1},"b":1}"#)
    }

    @Test func canonicalBytesSortByUTF8Bytes() {
        let value: JSON = ["é": 1, "z": 2, "Z": 3, "_": 4, "10": 5, "9": 6]
        #expect(String(decoding: value.canonicalBytes, as: UTF8.self) == #"{"10":5,"9":6,"Z":3,"_":4,"z":2,"é":1}"#)
    }

    @Test func canonicalBytesAreIndependentOfInsertionOrder() {
        let first = JSON.object(JSONObject([("x", 1), ("y", ["p": 1, "q": 2])]))
        let second = JSON.object(JSONObject([("y", ["q": 2, "p": 1]), ("x", 1)]))
        #expect(first.bytes != second.bytes)
        #expect(first.canonicalBytes == second.canonicalBytes)
    }

    @Test("issue 15: an object has at most 1,024 members; more is refused before the rest is read")
    func objectMembersAreCapped() throws {
        func object(_ count: Int) -> String {
            "{" + (0..<count).map { "\"k\($0)\":1" }.joined(separator: ",") + "}"
        }
        #expect(try JSONParser.parse(object(JSONParser.maximumMembers)).objectValue?.count == JSONParser.maximumMembers)
        let error = #expect(throws: JSONParseError.self) { try JSONParser.parse(object(80_000)) }
        #expect(error?.reason == "an object has more than 1024 members")
        // Where the 1,025th member starts, not at the end of the input.
        #expect((error?.offset ?? .max) < object(JSONParser.maximumMembers + 1).utf8.count)
        // Nested objects count their own members; arrays are not capped.
        let nested = "[" + Array(repeating: object(1000), count: 3).joined(separator: ",") + "]"
        #expect(try JSONParser.parse(nested).arrayValue?.count == 3)
        #expect(
            try JSONParser.parse("[" + Array(repeating: "1", count: 5000).joined(separator: ",") + "]").arrayValue?
                .count == 5000)
    }

    @Test("strings without escapes and with escapes read the same characters")
    func stringsWithAndWithoutEscapes() throws {
        #expect(try JSONParser.parse(#"["plain é ✓", "esc\u00e9 \u2713\n"]"#) == ["plain é ✓", "escé ✓\n"])
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0xC3, 0x22]) }  // truncated UTF-8
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0x61, 0x0A, 0x22]) }  // raw newline
    }

    @Test func prettyTextIndentsByTwoSpaces() {
        let value: JSON = ["a": [1, 2], "b": [:], "c": []]
        #expect(value.prettyText == "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": {},\n  \"c\": []\n}")
    }
}
