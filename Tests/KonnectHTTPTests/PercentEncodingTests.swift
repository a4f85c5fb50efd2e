import KonnectCore
import Testing

@testable import KonnectHTTP

@Suite struct PercentDecodingTests {
    @Test(arguments: [
        ("plain", "plain"),
        ("", ""),
        ("a%20b", "a b"),
        ("%41%42%43", "ABC"),
        ("caf%C3%A9", "café"),
        ("caf%c3%a9", "café"),
        ("%F0%9F%8E%89", "🎉"),
        ("%2F%3F%23%25%26%3D%2B", "/?#%&=+"),
        ("100%25", "100%"),
        ("a+b", "a+b"),  // '+' is literal unless asked otherwise
        ("%00", "\u{0}"),
    ])
    func decodes(text: String, expected: String) {
        #expect(PercentEncoding.decode(text) == expected)
    }

    @Test(arguments: [("a+b", "a b"), ("a%2Bb", "a+b"), ("+%20+", "   "), ("no-plus", "no-plus")])
    func plusAsSpace(text: String, expected: String) {
        #expect(PercentEncoding.decode(text, plusAsSpace: true) == expected)
    }

    @Test(arguments: ["%", "%2", "a%", "%zz", "%g0", "%C3", "%FF", "%C3%28", "%ED%A0%80", "%E2%82"])
    func rejectsTruncatedBadHexAndInvalidUTF8(text: String) {
        #expect(PercentEncoding.decode(text) == nil)
    }

    @Test(arguments: ["%+F", "%-0", "%+1"])
    func signedHexIsNotAnEscape(text: String) {
        // UInt8(_:radix:) accepts a leading sign; an escape is exactly two hex digits.
        #expect(PercentEncoding.decode(text) == nil)
    }
}

@Suite struct PercentEncodingEncodeTests {
    @Test(arguments: [
        ("AZaz09-_.~", "AZaz09-_.~"),
        ("a b", "a%20b"),
        ("/?#[]@!$&'()*+,;=%", "%2F%3F%23%5B%5D%40%21%24%26%27%28%29%2A%2B%2C%3B%3D%25"),
        ("café", "caf%C3%A9"),
        ("\u{0}\u{1F}\u{7F}", "%00%1F%7F"),
        ("", ""),
    ])
    func encodesEverythingButUnreservedCharacters(text: String, expected: String) {
        #expect(PercentEncoding.encode(text) == expected)
    }

    @Test func decodingInvertsEncoding() {
        var random = SeededRandom(seed: 2026)
        let alphabet: [Character] = Array("aZ09 -_.~/?#%+&=é世🎉\u{0}\t")
        for _ in 0..<300 {
            let length = Int.random(in: 0...20, using: &random)
            let text = String((0..<length).map { _ in alphabet.randomElement(using: &random)! })
            let encoded = PercentEncoding.encode(text)
            #expect(encoded.utf8.allSatisfy { $0 < 0x80 })
            #expect(PercentEncoding.decode(encoded) == text)
            #expect(PercentEncoding.decode(encoded, plusAsSpace: true) == text)
        }
    }
}

@Suite struct HTTPRequestQueryTests {
    @Test func queryItemsAreDecoded() {
        let request = HTTPRequest(method: "GET", target: "/x?a=1&b=two+words&c&d=&e=x%3Dy&name%5B0%5D=v&a=2")
        #expect(request.query.map(\.name) == ["a", "b", "c", "d", "e", "name[0]", "a"])
        #expect(request.query.map(\.value) == ["1", "two words", "", "", "x=y", "v", "2"])
        #expect(request.queryValue("a") == "1")
        #expect(request.queryValue("missing") == nil)
    }

    @Test func undecodableItemsAreKeptRaw() {
        let request = HTTPRequest(method: "GET", target: "/x?bad=%zz&also%=1")
        #expect(request.query == [QueryItem(name: "bad", value: "%zz"), QueryItem(name: "also%", value: "1")])
    }

    @Test func pathAndRawQuery() {
        let request = HTTPRequest(method: "GET", target: "/a%20b/c?x=1?y")
        #expect(request.path == "/a%20b/c")
        #expect(request.rawQuery == "x=1?y")
        #expect(HTTPRequest(method: "GET", target: "/plain").rawQuery == nil)
        #expect(HTTPRequest(method: "GET", target: "/empty?").query.isEmpty)
    }
}
