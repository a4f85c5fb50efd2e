/// Request targets as servers must read them: absolute form (RFC 9112 §3.2.2) and dot-segments
/// (RFC 3986 §5.2.4). Pure functions.
public enum RequestTarget {
    /// Splits an absolute-form target (`http://host:port/path?query`) into its authority and the
    /// origin-form target (`/path?query`, `/` when the path is empty); nil for any other form.
    public static func splitAbsoluteForm(_ target: String) -> (authority: String, originForm: String)? {
        let rest: Substring
        if target.hasPrefix("http://") {
            rest = target.dropFirst(7)
        } else if target.hasPrefix("https://") {
            rest = target.dropFirst(8)
        } else {
            return nil
        }
        let end = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        var authority = rest[..<end]
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        let remainder = rest[end...]
        let originForm = remainder.hasPrefix("/") ? String(remainder) : "/" + remainder
        return (String(authority), originForm)
    }

    /// Rewrites an absolute-form request to origin form; its Host becomes the target's authority (a
    /// server ignores the Host header it received with an absolute-form target).
    static func normalizeAbsoluteForm(_ request: inout HTTPRequest) {
        guard let first = request.target.utf8.first, first == UInt8(ascii: "h"),
            let (authority, originForm) = splitAbsoluteForm(request.target)
        else { return }
        request.target = originForm
        if !authority.isEmpty { request.headers.set("Host", authority) }
    }

    /// Removes `.` and `..` segments from an absolute path (RFC 3986 §5.2.4), recognising them also when
    /// percent-encoded (`%2e`, `%2E`: an encoded unreserved character is the character, RFC 3986 §6.2.2.2).
    /// `..` never climbs above the root. Every other byte is kept as sent.
    public static func removeDotSegments(_ path: String) -> String {
        guard path.utf8.first == UInt8(ascii: "/"), containsDot(path) else { return path }
        let segments = path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).dropFirst()
        var output: [Substring.UTF8View] = []
        for (position, segment) in segments.enumerated() {
            let isLast = position == segments.count - 1
            switch dots(in: segment) {
            case 1:
                if isLast { output.append(segment[segment.endIndex...]) }
            case 2:
                if !output.isEmpty { output.removeLast() }
                if isLast { output.append(segment[segment.endIndex...]) }
            default:
                output.append(segment)
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(path.utf8.count)
        for segment in output {
            bytes.append(UInt8(ascii: "/"))
            bytes.append(contentsOf: segment)
        }
        if bytes.isEmpty { bytes = [UInt8(ascii: "/")] }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func containsDot(_ path: String) -> Bool {
        var previous: UInt8 = 0
        for byte in path.utf8 {
            if byte == UInt8(ascii: ".") { return true }
            if previous == UInt8(ascii: "%") && byte == UInt8(ascii: "2") { return true }
            previous = byte
        }
        return false
    }

    /// 1 for a `.` segment, 2 for `..` (each dot plain or `%2e`), 0 otherwise.
    private static func dots<Segment: Collection>(in segment: Segment) -> Int where Segment.Element == UInt8 {
        var count = 0
        var index = segment.startIndex
        while index != segment.endIndex {
            if segment[index] == UInt8(ascii: ".") {
                index = segment.index(after: index)
            } else if segment[index] == UInt8(ascii: "%") {
                let two = segment.index(after: index)
                guard two != segment.endIndex, segment[two] == UInt8(ascii: "2") else { return 0 }
                let e = segment.index(after: two)
                guard e != segment.endIndex, segment[e] | 0x20 == UInt8(ascii: "e") else { return 0 }
                index = segment.index(after: e)
            } else {
                return 0
            }
            count += 1
            if count > 2 { return 0 }
        }
        return count
    }
}
