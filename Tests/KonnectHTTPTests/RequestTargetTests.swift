import KonnectHTTP
import Testing

// Issue 13: the pure request-target rules: dot-segment removal (RFC 3986 §5.2.4, with percent-encoded
// dots) and absolute-form targets (RFC 9112 §3.2.2).

@Suite struct RequestTargetTests {
    @Test(
        "RFC 3986 5.2.4: dot-segments are removed",
        arguments: [
            ("/a/b/c/./../../g", "/a/g"),
            ("/mid/content=5/../6", "/mid/6"),
            ("/orders/../../etc/passwd", "/etc/passwd"),
            ("/orders/../nomatch", "/nomatch"),
            ("/orders/..", "/"),
            ("/orders/.", "/orders/"),
            ("/orders/./42", "/orders/42"),
            ("/..", "/"),
            ("/.", "/"),
            ("/../../..", "/"),
            ("/a/b/../", "/a/"),
        ])
    func dotSegments(path: String, expected: String) {
        #expect(RequestTarget.removeDotSegments(path) == expected)
    }

    @Test(
        "RFC 3986 6.2.2.2: percent-encoded dots count as dots, in either case and mixed with plain ones",
        arguments: [
            ("/orders/%2e%2e/%2e%2e/etc/passwd", "/etc/passwd"),
            ("/orders/%2E%2E/x", "/x"),
            ("/orders/.%2e/x", "/x"),
            ("/orders/%2e./x", "/x"),
            ("/orders/%2e/42", "/orders/42"),
        ])
    func encodedDotSegments(path: String, expected: String) {
        #expect(RequestTarget.removeDotSegments(path) == expected)
    }

    @Test(
        "Segments that only contain dots among other bytes are kept as sent",
        arguments: [
            "/orders/42", "/", "//double//slashes", "/v1.2/file.json", "/a/.../b", "/a/..b/c", "/a/%2e%2e%2e/b",
            "/a/%2f../b", "/a/%2/b", "/%2", "/orders/%41",
        ])
    func unchangedPaths(path: String) {
        #expect(RequestTarget.removeDotSegments(path) == path)
    }

    @Test("RFC 9112 3.2.2: absolute-form targets split into authority and origin form")
    func absoluteForm() {
        #expect(RequestTarget.splitAbsoluteForm("http://h.example/p?q=1")! == ("h.example", "/p?q=1"))
        #expect(RequestTarget.splitAbsoluteForm("http://h.example:8080")! == ("h.example:8080", "/"))
        #expect(RequestTarget.splitAbsoluteForm("https://h.example?x")! == ("h.example", "/?x"))
        #expect(RequestTarget.splitAbsoluteForm("http://user@h.example/a")! == ("h.example", "/a"))
        #expect(RequestTarget.splitAbsoluteForm("/origin/form") == nil)
        #expect(RequestTarget.splitAbsoluteForm("*") == nil)
    }
}
