/// Serializes heads, request messages and chunks to bytes, shared by the server and both clients.
enum MessageEncoding {
    static let crlf: [UInt8] = [0x0D, 0x0A]
    static let lastChunk: [UInt8] = Array("0\r\n\r\n".utf8)
    static let continueResponse: [UInt8] = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    /// A response head. `bodyLength` nil means no Content-Length (chunked or no body by definition).
    static func responseHead(_ response: HTTPResponse, bodyLength: Int?, close: Bool) -> [UInt8] {
        var head: [UInt8] = []
        head.reserveCapacity(256)
        head.append(contentsOf: "HTTP/1.1 ".utf8)
        appendDecimal(response.status, to: &head)
        head.append(0x20)
        head.append(contentsOf: HTTPResponse.reasonPhrase(response.status).utf8)
        head.append(contentsOf: crlf)
        for (name, value) in response.headers
        where !HTTPHeaders.nameEquals(name, "content-length") && !HTTPHeaders.nameEquals(name, "connection") {
            appendField(name, value, to: &head)
        }
        if let bodyLength, !(response.status == 204 || response.status == 304 || response.status < 200) {
            head.append(contentsOf: "Content-Length: ".utf8)
            appendDecimal(bodyLength, to: &head)
            head.append(contentsOf: crlf)
        }
        if close { head.append(contentsOf: "Connection: close\r\n".utf8) }
        head.append(contentsOf: crlf)
        return head
    }

    /// A request as our clients send it: a Host header unless given, Content-Length for a body (always
    /// for POST, PUT and PATCH).
    static func request(_ method: String, _ target: String, headers: HTTPHeaders, body: [UInt8], host: String)
        -> [UInt8]
    {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256 + body.count)
        bytes.append(contentsOf: method.utf8)
        bytes.append(0x20)
        bytes.append(contentsOf: target.utf8)
        bytes.append(contentsOf: " HTTP/1.1\r\n".utf8)
        if !headers.contains("host") { appendField("Host", host, to: &bytes) }
        for (name, value) in headers where !HTTPHeaders.nameEquals(name, "content-length") {
            appendField(name, value, to: &bytes)
        }
        if !body.isEmpty || method == "POST" || method == "PUT" || method == "PATCH" {
            bytes.append(contentsOf: "Content-Length: ".utf8)
            appendDecimal(body.count, to: &bytes)
            bytes.append(contentsOf: crlf)
        }
        bytes.append(contentsOf: crlf)
        bytes.append(contentsOf: body)
        return bytes
    }

    /// One chunk of a chunked body (never empty: an empty chunk ends the body).
    static func appendChunk(_ bytes: [UInt8], to out: inout [UInt8]) {
        out.append(contentsOf: String(bytes.count, radix: 16).utf8)
        out.append(contentsOf: crlf)
        out.append(contentsOf: bytes)
        out.append(contentsOf: crlf)
    }

    private static func appendField(_ name: String, _ value: String, to out: inout [UInt8]) {
        out.append(contentsOf: name.utf8)
        out.append(0x3A)
        out.append(0x20)
        out.append(contentsOf: value.utf8)
        out.append(contentsOf: crlf)
    }

    static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        guard value > 0 else {
            if value == 0 { out.append(0x30) } else { out.append(contentsOf: String(value).utf8) }
            return
        }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0
        )
        guard value < 10_000_000_000 else {
            out.append(contentsOf: String(value).utf8)
            return
        }
        var remaining = value
        var count = 0
        withUnsafeMutableBytes(of: &digits) { raw in
            while remaining > 0 {
                raw[count] = UInt8(0x30 + remaining % 10)
                remaining /= 10
                count += 1
            }
            for position in stride(from: count - 1, through: 0, by: -1) { out.append(raw[position]) }
        }
    }
}
