import KonnectCore

/// Header fields in arrival order with case-insensitive lookup, as HTTP/1.1 defines them.
public struct HTTPHeaders: Sendable, Sequence, ExpressibleByDictionaryLiteral {
    public private(set) var fields: [(name: String, value: String)] = []

    public init() {}
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
        fields.removeAll { $0.name.lowercased() == name.lowercased() }
    }

    public subscript(name: String) -> String? {
        let lower = name.lowercased()
        return fields.first { $0.name.lowercased() == lower }?.value
    }

    public func values(_ name: String) -> [String] {
        let lower = name.lowercased()
        return fields.filter { $0.name.lowercased() == lower }.map(\.value)
    }

    public func contains(_ name: String) -> Bool { self[name] != nil }

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

    public init(method: String, target: String, minorVersion: Int = 1, headers: HTTPHeaders = [:], body: [UInt8] = []) {
        self.method = method
        self.target = target
        self.minorVersion = minorVersion
        self.headers = headers
        self.body = body
    }

    /// The path part of the target, still percent-encoded.
    public var path: String {
        if let mark = target.firstIndex(of: "?") { return String(target[..<mark]) }
        return target
    }

    public var rawQuery: String? {
        guard let mark = target.firstIndex(of: "?") else { return nil }
        return String(target[target.index(after: mark)...])
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
        let connection = headers["connection"]?.lowercased() ?? ""
        if minorVersion == 0 { return connection.contains("keep-alive") }
        return !connection.contains("close")
    }
}

/// How a response body is delivered.
public enum HTTPBody: Sendable {
    case bytes([UInt8])
    /// Sent with chunked encoding while the closure runs; the closure returns when the stream is over.
    case stream(@Sendable (ChunkWriter) -> Void)
}

/// Writes chunks of a streamed response body. `write` returns false once the peer is gone or the server is
/// shutting down, and the stream should end.
public protocol ChunkWriter: Sendable {
    func write(_ bytes: [UInt8]) -> Bool
    var isOpen: Bool { get }
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
