import KonnectCore

/// A response as the client sees it.
public struct ClientResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(status: Int, headers: HTTPHeaders, body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The body parsed as JSON; `nil` when it is empty or not JSON.
    public var json: JSON? { try? JSONParser.parse(body) }
    public var text: String { String(decoding: body, as: UTF8.self) }
    public var isSuccess: Bool { (200..<300).contains(status) }
}

/// An incremental HTTP/1.1 response parser for the client: Content-Length, chunked and
/// read-until-close bodies. Pure, like the request parser.
public struct HTTPResponseParser: Sendable {
    public enum Result: Sendable {
        case response(ClientResponse)
        case needMoreData
        case failure(String)
    }

    private enum Framing: Sendable {
        case length(Int)
        case chunked(ChunkedDecoder)
        case untilClose
    }
    private var buffer: [UInt8] = []
    private var head: (status: Int, headers: HTTPHeaders)?
    private var framing: Framing?
    private let method: String
    private let maxBodyBytes: Int
    private var interimResponses = 0

    public init(method: String, maxBodyBytes: Int = 32 * 1024 * 1024) {
        self.method = method
        self.maxBodyBytes = maxBodyBytes
    }

    public mutating func feed<Bytes: Collection>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        buffer.append(contentsOf: bytes)
    }

    /// The status and headers once they have arrived, before the body (used by streams).
    public var responseHead: (status: Int, headers: HTTPHeaders)? { head }

    /// True when the body is chunked (a stream's messages arrive as chunks).
    public var isChunked: Bool {
        if case .chunked = framing { return true }
        return false
    }

    public mutating func next() -> Result {
        // Interim (1xx) responses are skipped, a bounded number of them.
        while head == nil {
            guard let end = findHeadEnd() else {
                if buffer.count > 64 * 1024 { return .failure("response head too large") }
                return .needMoreData
            }
            // The head is read as bytes (lines end at CRLF; a field's value is trimmed of spaces and tabs),
            // so no text is built for it but the field names and values themselves.
            let parsed = buffer.withUnsafeBufferPointer {
                HTTPResponseParser.parseHead(UnsafeBufferPointer(rebasing: $0[0..<end]))
            }
            buffer.removeFirst(end + 4)
            guard case .success(let (status, headers)) = parsed else {
                if case .failure(let why) = parsed { return .failure(why.message) }
                return .failure("invalid status line")
            }
            if (100..<200).contains(status) {
                interimResponses += 1
                if interimResponses > 16 { return .failure("more than 16 interim (1xx) responses") }
                continue
            }
            head = (status, headers)
            if HTTPResponse.hasNoBody(status: status, method: method) {
                framing = .length(0)
            } else if HTTPHeaders.value(headers["transfer-encoding"] ?? "", contains: "chunked") {
                framing = .chunked(ChunkedDecoder(maxBodyBytes: maxBodyBytes))
            } else if let length = headers["content-length"].flatMap({ Int($0) }), length >= 0 {
                if length > maxBodyBytes { return .failure("response body larger than \(maxBodyBytes) bytes") }
                framing = .length(length)
            } else {
                framing = .untilClose
            }
        }
        guard let head, let framing else { return .needMoreData }
        switch framing {
        case .length(let length):
            guard buffer.count >= length else { return .needMoreData }
            let body: [UInt8]
            if buffer.count == length {
                // The usual case: the body is all that is buffered; hand the buffer over instead of copying.
                body = buffer
                buffer = []
            } else {
                body = Array(buffer[0..<length])
                buffer.removeFirst(length)
            }
            reset()
            return .response(ClientResponse(status: head.status, headers: head.headers, body: body))
        case .chunked(var decoder):
            switch decoder.decode(buffer[...]) {
            case .failure(let error): return .failure(error.detail)
            case .success(let consumed):
                buffer.removeFirst(consumed)
                if decoder.isComplete {
                    reset()
                    return .response(ClientResponse(status: head.status, headers: head.headers, body: decoder.body))
                }
                self.framing = .chunked(decoder)
                return .needMoreData
            }
        case .untilClose:
            if buffer.count > maxBodyBytes { return .failure("response body larger than \(maxBodyBytes) bytes") }
            return .needMoreData
        }
    }

    /// For streams: the chunk data decoded so far, removed from the parser.
    public mutating func takeStreamData() -> (data: [UInt8], finished: Bool, error: String?) {
        guard case .chunked(var decoder) = framing else { return ([], false, "stream is not chunked") }
        switch decoder.decode(buffer[...]) {
        case .failure(let error): return ([], true, error.detail)
        case .success(let consumed):
            buffer.removeFirst(consumed)
            let data = decoder.takeBody()
            framing = .chunked(decoder)
            return (data, decoder.isComplete, nil)
        }
    }

    /// Called at end of input: completes a read-until-close body, or fails a truncated one.
    public mutating func finish() -> Result {
        guard let head, case .untilClose = framing else {
            return .failure("connection closed before the response was complete")
        }
        let body = buffer
        buffer = []
        reset()
        return .response(ClientResponse(status: head.status, headers: head.headers, body: body))
    }

    private struct HeadError: Error {
        var message: String
    }

    private static func parseHead(_ head: UnsafeBufferPointer<UInt8>) -> Swift.Result<(Int, HTTPHeaders), HeadError> {
        // Lines end at CRLF; the first is the status line. Read through a pointer: no reference counting.
        let end = head.count
        func lineEnd(from start: Int) -> Int {
            var index = start
            while index < end && !(head[index] == 0x0D && index + 1 < end && head[index + 1] == 0x0A) { index += 1 }
            return index
        }
        var lineStart = 0
        var lineStop = lineEnd(from: 0)
        guard let status = statusCode(UnsafeBufferPointer(rebasing: head[lineStart..<lineStop])) else {
            return .failure(HeadError(message: "invalid status line"))
        }
        var headers = HTTPHeaders(capacity: 8)
        while lineStop < end {
            lineStart = lineStop + 2
            lineStop = lineEnd(from: lineStart)
            var colon = lineStart
            while colon < lineStop && head[colon] != 0x3A { colon += 1 }
            guard colon < lineStop else { return .failure(HeadError(message: "invalid header line")) }
            var valueStart = colon + 1
            var valueEnd = lineStop
            while valueStart < valueEnd && (head[valueStart] == 0x20 || head[valueStart] == 0x09) { valueStart += 1 }
            while valueEnd > valueStart && (head[valueEnd - 1] == 0x20 || head[valueEnd - 1] == 0x09) { valueEnd -= 1 }
            headers.add(
                String(decoding: UnsafeBufferPointer(rebasing: head[lineStart..<colon]), as: UTF8.self),
                String(decoding: UnsafeBufferPointer(rebasing: head[valueStart..<valueEnd]), as: UTF8.self))
        }
        return .success((status, headers))
    }

    /// The status code of `HTTP/1.x <code> [reason]` (words separated by spaces), if it is one (100-599).
    private static func statusCode(_ line: UnsafeBufferPointer<UInt8>) -> Int? {
        var index = 0
        while index < line.count && line[index] == 0x20 { index += 1 }
        let versionStart = index
        while index < line.count && line[index] != 0x20 { index += 1 }
        guard UnsafeBufferPointer(rebasing: line[versionStart..<index]).starts(with: versionPrefix) else { return nil }
        while index < line.count && line[index] == 0x20 { index += 1 }
        let codeStart = index
        while index < line.count && line[index] != 0x20 { index += 1 }
        let code = UnsafeBufferPointer(rebasing: line[codeStart..<index])
        guard !code.isEmpty else { return nil }
        var status = 0
        if code.count == 3, code.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            for digit in code { status = status * 10 + Int(digit - 0x30) }
        } else {
            guard let parsed = Int(String(decoding: code, as: UTF8.self)) else { return nil }
            status = parsed
        }
        return (100...599).contains(status) ? status : nil
    }

    private static let versionPrefix = Array("HTTP/1.".utf8)

    /// Whether nothing of a next response has arrived.
    public var isIdle: Bool { head == nil && buffer.isEmpty }

    private mutating func reset() {
        head = nil
        framing = nil
        interimResponses = 0
    }

    private func findHeadEnd() -> Int? {
        guard buffer.count >= 4 else { return nil }
        for index in 0...(buffer.count - 4)
        where buffer[index] == 0x0D && buffer[index + 1] == 0x0A && buffer[index + 2] == 0x0D
            && buffer[index + 3] == 0x0A
        {
            return index
        }
        return nil
    }
}
