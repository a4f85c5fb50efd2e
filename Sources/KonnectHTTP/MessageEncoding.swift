/// Writes an HTTP/1.1 message as bytes, field by field: the server's and clients' encoders, and code
/// that relays messages without building an `HTTPHeaders` in between (the data plane's proxy).
public struct MessageWriter: Sendable {
    public private(set) var bytes: [UInt8]

    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public mutating func requestLine(_ method: String, _ target: String) {
        append(method)
        bytes.append(0x20)
        append(target)
        bytes.append(contentsOf: " HTTP/1.1\r\n".utf8)
    }

    /// `HTTP/1.1 <status> <reason>`.
    public mutating func statusLine(_ status: Int) {
        bytes.append(contentsOf: "HTTP/1.1 ".utf8)
        appendDecimal(status)
        bytes.append(0x20)
        append(HTTPResponse.reasonPhrase(status))
        bytes.append(contentsOf: MessageEncoding.crlf)
    }

    public mutating func field(_ name: String, _ value: String) {
        append(name)
        bytes.append(0x3A)
        bytes.append(0x20)
        append(value)
        bytes.append(contentsOf: MessageEncoding.crlf)
    }

    public mutating func field(_ name: String, decimal value: Int) {
        append(name)
        bytes.append(0x3A)
        bytes.append(0x20)
        appendDecimal(value)
        bytes.append(contentsOf: MessageEncoding.crlf)
    }

    /// Ends the head and appends the body.
    public mutating func end(body: [UInt8] = []) {
        bytes.append(contentsOf: MessageEncoding.crlf)
        bytes.append(contentsOf: body)
    }

    /// Appends one chunk of a chunked body (never empty: an empty chunk ends the body).
    public mutating func chunk(_ data: [UInt8]) {
        bytes.append(contentsOf: String(data.count, radix: 16).utf8)
        bytes.append(contentsOf: MessageEncoding.crlf)
        bytes.append(contentsOf: data)
        bytes.append(contentsOf: MessageEncoding.crlf)
    }

    /// Ends a chunked body.
    public mutating func lastChunk() { bytes.append(contentsOf: MessageEncoding.lastChunk) }

    /// A string's UTF-8 bytes, copied in one go.
    @inline(__always)
    private mutating func append(_ text: String) {
        var text = text
        text.withUTF8 { bytes.append(contentsOf: $0) }
    }

    private mutating func appendDecimal(_ value: Int) {
        guard value >= 0 && value < 1_000_000_000_000 else {
            bytes.append(contentsOf: String(value).utf8)
            return
        }
        if value == 0 {
            bytes.append(0x30)
            return
        }
        var divisor = 1
        while divisor * 10 <= value { divisor *= 10 }
        var remaining = value
        while divisor > 0 {
            bytes.append(UInt8(0x30 + remaining / divisor))
            remaining %= divisor
            divisor /= 10
        }
    }
}

/// Serializes heads, request messages and chunks, shared by the server and both clients.
enum MessageEncoding {
    static let crlf: [UInt8] = [0x0D, 0x0A]
    static let lastChunk: [UInt8] = Array("0\r\n\r\n".utf8)
    static let continueResponse: [UInt8] = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    /// A response head. `bodyLength` nil means no Content-Length (chunked or no body by definition).
    static func responseHead(_ response: HTTPResponse, bodyLength: Int?, close: Bool, extra: Int = 0) -> [UInt8] {
        var head = MessageWriter(capacity: 256 + extra)
        head.statusLine(response.status)
        for (name, value) in response.headers
        where !HTTPHeaders.nameEquals(name, "content-length") && !HTTPHeaders.nameEquals(name, "connection") {
            head.field(name, value)
        }
        if let bodyLength, !(response.status == 204 || response.status == 304 || response.status < 200) {
            head.field("Content-Length", decimal: bodyLength)
        }
        if close { head.field("Connection", "close") }
        head.end()
        return head.bytes
    }

    /// A request as our clients send it: a Host header unless given, Content-Length for a body (always
    /// for POST, PUT and PATCH).
    static func request(_ method: String, _ target: String, headers: HTTPHeaders, body: [UInt8], host: String)
        -> [UInt8]
    {
        var message = MessageWriter(capacity: 256 + body.count)
        message.requestLine(method, target)
        if !headers.contains("host") { message.field("Host", host) }
        for (name, value) in headers where !HTTPHeaders.nameEquals(name, "content-length") {
            message.field(name, value)
        }
        if !body.isEmpty || method == "POST" || method == "PUT" || method == "PATCH" {
            message.field("Content-Length", decimal: body.count)
        }
        message.end(body: body)
        return message.bytes
    }

    /// One chunk of a chunked body (never empty: an empty chunk ends the body).
    static func appendChunk(_ bytes: [UInt8], to out: inout [UInt8]) {
        out.append(contentsOf: String(bytes.count, radix: 16).utf8)
        out.append(contentsOf: crlf)
        out.append(contentsOf: bytes)
        out.append(contentsOf: crlf)
    }
}
