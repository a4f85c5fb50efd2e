import KonnectCore

/// Header fields in arrival order with case-insensitive lookup, as HTTP/1.1 defines them.
public struct HTTPHeaders: Sendable, Sequence, ExpressibleByDictionaryLiteral {
    public private(set) var fields: [(name: String, value: String)] = []

    public init() {}

    /// Empty, with room for `capacity` fields (no reallocation while they are added).
    public init(capacity: Int) { fields.reserveCapacity(capacity) }
    public init(dictionaryLiteral elements: (String, String)...) {
        for (name, value) in elements { add(name, value) }
    }

    public mutating func add(_ name: String, _ value: String) { fields.append((name, value)) }

    /// Replaces every field of that name with one.
    public mutating func set(_ name: String, _ value: String) {
        remove(name)
        add(name, value)
    }

    public mutating func remove(_ name: String) {
        fields.removeAll { HTTPHeaders.nameEquals($0.name, name) }
    }

    public subscript(name: String) -> String? {
        fields.first { HTTPHeaders.nameEquals($0.name, name) }?.value
    }

    public func values(_ name: String) -> [String] {
        fields.filter { HTTPHeaders.nameEquals($0.name, name) }.map(\.value)
    }

    /// Whether two field names are equal ignoring ASCII case (without allocating lower-cased copies).
    public static func nameEquals(_ left: String, _ right: String) -> Bool {
        let count = left.utf8.count
        guard count == right.utf8.count else { return false }
        let compared = left.utf8.withContiguousStorageIfAvailable { one in
            right.utf8.withContiguousStorageIfAvailable { other -> Bool in
                for index in 0..<count where one[index] != other[index] {
                    if asciiLower(one[index]) != asciiLower(other[index]) { return false }
                }
                return true
            }
        }
        if let compared, let result = compared { return result }
        var leftBytes = left.utf8.makeIterator()
        var rightBytes = right.utf8.makeIterator()
        while let one = leftBytes.next(), let other = rightBytes.next() {
            if one != other && asciiLower(one) != asciiLower(other) { return false }
        }
        return true
    }

    /// Whether a field value contains `lowercased` ignoring ASCII case (without allocating).
    public static func value(_ value: String, contains lowercased: String) -> Bool {
        let haystack = value.utf8
        let needle = lowercased.utf8
        guard let first = needle.first else { return true }
        guard haystack.count >= needle.count else { return false }
        var start = haystack.startIndex
        while start != haystack.endIndex {
            if asciiLower(haystack[start]) == first {
                var position = start
                var expected = needle.startIndex
                while expected != needle.endIndex && position != haystack.endIndex
                    && asciiLower(haystack[position]) == needle[expected]
                {
                    position = haystack.index(after: position)
                    expected = needle.index(after: expected)
                }
                if expected == needle.endIndex { return true }
            }
            start = haystack.index(after: start)
        }
        return false
    }

    @inline(__always)
    static func asciiLower(_ byte: UInt8) -> UInt8 {
        byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
    }

    public func contains(_ name: String) -> Bool { self[name] != nil }

    /// How many fields have this name.
    public func count(_ name: String) -> Int {
        var count = 0
        for field in fields where HTTPHeaders.nameEquals(field.name, name) { count += 1 }
        return count
    }

    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> { fields.makeIterator() }
}

/// One query parameter, percent-decoded.
public struct QueryItem: Sendable, Hashable {
    public var name: String
    public var value: String
}

/// A parsed HTTP/1.x request.
public struct HTTPRequest: Sendable {
    public var method: String
    /// The request target exactly as sent (`/v2/control-planes?page[size]=10`).
    public var target: String
    public var minorVersion: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// The certificate the client presented, for a request that arrived on a TLS link (set by the server).
    public var peer: PeerCertificate? = nil
    /// The client's IPv4 address, for a request that arrived over TCP (set by the server; nil on the Unix
    /// socket).
    public var clientAddress: String? = nil

    public init(method: String, target: String, minorVersion: Int = 1, headers: HTTPHeaders = [:], body: [UInt8] = []) {
        self.method = method
        self.target = target
        self.minorVersion = minorVersion
        self.headers = headers
        self.body = body
    }

    /// The path part of the target, still percent-encoded.
    public var path: String {
        // The UTF-8 view: a search by Character would segment the whole target into grapheme clusters.
        if let mark = target.utf8.firstIndex(of: UInt8(ascii: "?")) { return String(target[..<mark]) }
        return target
    }

    public var rawQuery: String? {
        guard let mark = target.utf8.firstIndex(of: UInt8(ascii: "?")) else { return nil }
        return String(target[target.utf8.index(after: mark)...])
    }

    public var query: [QueryItem] {
        guard let raw = rawQuery, !raw.isEmpty else { return [] }
        return raw.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = PercentEncoding.decode(String(parts[0]), plusAsSpace: true) ?? String(parts[0])
            let value =
                parts.count > 1 ? (PercentEncoding.decode(String(parts[1]), plusAsSpace: true) ?? String(parts[1])) : ""
            return QueryItem(name: name, value: value)
        }
    }

    public func queryValue(_ name: String) -> String? { query.first { $0.name == name }?.value }

    /// Whether the connection stays open after this request (HTTP/1.1 default, `Connection` header).
    public var keepAlive: Bool {
        let connection = headers["connection"] ?? ""
        if minorVersion == 0 { return HTTPHeaders.value(connection, contains: "keep-alive") }
        return !HTTPHeaders.value(connection, contains: "close")
    }
}

/// How a response body is delivered.
public enum HTTPBody: Sendable {
    case bytes([UInt8])
    /// Sent with chunked encoding without holding a thread: `start` is called once with a writer that
    /// any thread may write to later and must `finish`; the writer says when the peer is gone.
    case push(@Sendable (StreamWriter) -> Void)
    /// The response comes later (a long poll); see `HTTPResponse.deferred`.
    case deferred(Deferral)
}

/// A response that comes later: `start` keeps the `PendingResponse` where the answer will come from;
/// after `timeoutMilliseconds` without one, `onTimeout` answers (on a worker thread).
public struct Deferral: Sendable {
    public var timeoutMilliseconds: Int
    public var onTimeout: @Sendable () -> HTTPResponse
    public var start: @Sendable (PendingResponse) -> Void
}

/// An HTTP response as the handlers produce it.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: HTTPBody

    public init(status: Int, headers: HTTPHeaders = [:], body: HTTPBody = .bytes([])) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public init(status: Int, headers: HTTPHeaders = [:], bytes: [UInt8]) {
        self.init(status: status, headers: headers, body: .bytes(bytes))
    }

    public var bodyBytes: [UInt8] {
        if case .bytes(let bytes) = body { return bytes }
        return []
    }

    /// A response given later from any thread, holding no thread while it waits (a long poll). `start`
    /// runs once with the pending response and keeps it (in a list of waiters, say); whoever has the
    /// answer calls `complete`. Without an answer after `timeoutMilliseconds`, `onTimeout` gives it.
    public static func deferred(
        timeoutMilliseconds: Int, onTimeout: @escaping @Sendable () -> HTTPResponse,
        _ start: @escaping @Sendable (PendingResponse) -> Void
    ) -> HTTPResponse {
        HTTPResponse(
            status: 0,
            body: .deferred(
                Deferral(timeoutMilliseconds: max(0, timeoutMilliseconds), onTimeout: onTimeout, start: start)))
    }

    public static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 100: "Continue"
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 204: "No Content"
        case 301: "Moved Permanently"
        case 302: "Found"
        case 304: "Not Modified"
        case 400...599: APIError.defaultTitle(status)
        default: "Status \(status)"
        }
    }

    /// Whether a response with this status to this method carries no body by definition.
    public static func hasNoBody(status: Int, method: String) -> Bool {
        method == "HEAD" || status == 204 || status == 304 || (100..<200).contains(status)
    }
}

extension HTTPResponse {
    /// A JSON response.
    public static func json(_ body: JSON, status: Int = 200, contentType: String = "application/json") -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": contentType], bytes: body.bytes + [0x0A])
    }

    /// An empty 204.
    public static var noContent: HTTPResponse { HTTPResponse(status: 204) }
}

/// Percent-decoding for paths and query strings.
public enum PercentEncoding {
    public static func decode(_ text: String, plusAsSpace: Bool = false) -> String? {
        guard text.utf8.contains(where: { $0 == UInt8(ascii: "%") || (plusAsSpace && $0 == UInt8(ascii: "+")) }) else {
            return text
        }
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.popFirst(), let low = iterator.popFirst(), isHexDigit(high), isHexDigit(low),
                    let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
                else { return nil }
                bytes.append(value)
            } else if plusAsSpace && byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    static func isHexDigit(_ byte: UInt8) -> Bool {
        (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 70) || (byte >= 97 && byte <= 102)
    }

    public static func encode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            }
        }
        return out
    }
}
