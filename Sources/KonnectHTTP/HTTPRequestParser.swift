/// Why bytes on a connection are not an acceptable HTTP/1.1 request. Each case maps to the status the
/// server answers before it closes the connection.
public enum HTTPParseError: Error, Sendable, Equatable {
    case malformed(String)
    case headTooLarge(limit: Int)
    case bodyTooLarge(limit: Int)

    public var status: Int {
        switch self {
        case .malformed: 400
        case .headTooLarge: 431
        case .bodyTooLarge: 413
        }
    }

    public var detail: String {
        switch self {
        case .malformed(let why): "Malformed HTTP request: \(why)"
        case .headTooLarge(let limit): "Request line and headers exceed \(limit) bytes"
        case .bodyTooLarge(let limit): "Request body exceeds \(limit) bytes"
        }
    }
}

/// Size limits the parser enforces.
public struct HTTPLimits: Sendable {
    public var maxHeadBytes: Int
    public var maxBodyBytes: Int
    public var maxHeaderCount: Int

    public init(maxHeadBytes: Int = 16 * 1024, maxBodyBytes: Int = 1024 * 1024, maxHeaderCount: Int = 100) {
        self.maxHeadBytes = maxHeadBytes
        self.maxBodyBytes = maxBodyBytes
        self.maxHeaderCount = maxHeaderCount
    }
}

/// An incremental HTTP/1.1 request parser: feed it bytes in any split, ask it for the next request.
///
/// Pure (no I/O) so it can be tested one byte at a time and with garbage. Strict where laxness enables
/// request smuggling: `Content-Length` together with `Transfer-Encoding`, conflicting lengths, obsolete
/// line folding and bare LF line endings are all rejected.
public struct HTTPRequestParser: Sendable {
    public enum Result: Sendable {
        case request(HTTPRequest)
        case needMoreData
        case failure(HTTPParseError)
    }

    private enum State: Sendable {
        case head
        case fixedBody(HTTPRequest, remaining: Int)
        case chunkedBody(HTTPRequest, ChunkedDecoder)
        case failed(HTTPParseError)
    }

    public let limits: HTTPLimits
    private var buffer: [UInt8] = []
    private var start = 0
    private var scanned = 0
    private var state: State = .head
    private var continuePending = false

    public init(limits: HTTPLimits = HTTPLimits()) { self.limits = limits }

    /// Whether part of a request has arrived (so a timeout is a slow client, not an idle connection).
    public var hasPartialRequest: Bool {
        if case .head = state { return buffer.count > start }
        return true
    }

    /// True once after a request head with `Expect: 100-continue` whose body has not arrived yet:
    /// the server answers `100 Continue` so clients such as curl send the body without waiting.
    public mutating func takeContinueExpectation() -> Bool {
        defer { continuePending = false }
        return continuePending
    }

    public mutating func feed<Bytes: Collection>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        buffer.append(contentsOf: bytes)
    }

    public mutating func next() -> Result {
        while true {
            switch state {
            case .failed(let error):
                return .failure(error)
            case .head:
                // Robustness (RFC 9112 2.2): ignore empty lines before a request line.
                while buffer.count - start >= 2, buffer[start] == 0x0D, buffer[start + 1] == 0x0A {
                    start += 2
                    scanned = max(scanned, start)
                }
                let end: Int
                switch findHeadEnd() {
                case .found(let index):
                    end = index
                case .bareLineFeed:
                    // Rejected as soon as it is seen: a head using LF alone never ends in CRLFCRLF.
                    return fail(.malformed("bare LF in request head"))
                case .notYet:
                    // Up to three bytes of the CRLFCRLF that would end a head within the limit may be here.
                    if buffer.count - start > limits.maxHeadBytes + 3 {
                        return fail(.headTooLarge(limit: limits.maxHeadBytes))
                    }
                    return .needMoreData
                }
                if end - start > limits.maxHeadBytes { return fail(.headTooLarge(limit: limits.maxHeadBytes)) }
                let head = buffer[start..<end]
                start = end + 4
                scanned = start
                switch parseHead(head) {
                case .failure(let error): return fail(error)
                case .success(let (request, framing)):
                    switch framing {
                    case .none:
                        compact()
                        return .request(request)
                    case .length(let length):
                        if length > limits.maxBodyBytes { return fail(.bodyTooLarge(limit: limits.maxBodyBytes)) }
                        state = .fixedBody(request, remaining: length)
                        continuePending = expectsContinue(request) && buffer.count - start < length
                    case .chunked:
                        state = .chunkedBody(request, ChunkedDecoder(maxBodyBytes: limits.maxBodyBytes))
                        continuePending = expectsContinue(request) && buffer.count == start
                    }
                }
            case .fixedBody(var request, let remaining):
                guard buffer.count - start >= remaining else { return .needMoreData }
                request.body = Array(buffer[start..<start + remaining])
                start += remaining
                scanned = start
                state = .head
                compact()
                return .request(request)
            case .chunkedBody(var request, var decoder):
                let available = buffer[start...]
                switch decoder.decode(available) {
                case .failure(let error):
                    return fail(error)
                case .success(let consumed):
                    start += consumed
                    scanned = start
                    if decoder.isComplete {
                        request.body = decoder.body
                        state = .head
                        compact()
                        return .request(request)
                    }
                    state = .chunkedBody(request, decoder)
                    return .needMoreData
                }
            }
        }
    }

    private func expectsContinue(_ request: HTTPRequest) -> Bool {
        request.minorVersion == 1 && request.headers["expect"]?.lowercased() == "100-continue"
    }

    private mutating func fail(_ error: HTTPParseError) -> Result {
        state = .failed(error)
        return .failure(error)
    }

    private mutating func compact() {
        if start > 0 && (start == buffer.count || start > 64 * 1024) {
            // Everything consumed (the usual case): keep the storage for the next request.
            if start == buffer.count {
                buffer.removeAll(keepingCapacity: buffer.capacity <= 64 * 1024)
            } else {
                buffer.removeFirst(start)
            }
            start = 0
            scanned = 0
        }
    }

    private enum HeadEnd {
        case found(Int)
        case bareLineFeed, notYet
    }

    /// Scans each byte of the head once, in order, however the bytes arrive: so whether a bare LF or
    /// the end of the head is seen first does not depend on how the input was split.
    private mutating func findHeadEnd() -> HeadEnd {
        var index = max(scanned, start)
        let count = buffer.count
        // Nothing past the size limit is looked at (the caller answers 431), as if it had not arrived yet.
        while index + 3 < count, index - start <= limits.maxHeadBytes {
            if buffer[index] == 0x0D && buffer[index + 1] == 0x0A && buffer[index + 2] == 0x0D
                && buffer[index + 3] == 0x0A
            {
                return .found(index)
            }
            if buffer[index] == 0x0A && (index == start || buffer[index - 1] != 0x0D) { return .bareLineFeed }
            index += 1
        }
        scanned = index
        return .notYet
    }

    enum Framing {
        case none
        case length(Int)
        case chunked
    }

    private func parseHead(_ head: ArraySlice<UInt8>) -> Swift.Result<(HTTPRequest, Framing), HTTPParseError> {
        var lines: [ArraySlice<UInt8>] = []
        lines.reserveCapacity(16)
        var lineStart = head.startIndex
        var index = head.startIndex
        while index < head.endIndex {
            if head[index] == 0x0D {
                guard index + 1 < head.endIndex, head[index + 1] == 0x0A else {
                    return .failure(.malformed("bare CR in request head"))
                }
                lines.append(head[lineStart..<index])
                index += 2
                lineStart = index
                continue
            }
            if head[index] == 0x0A { return .failure(.malformed("bare LF in request head")) }
            index += 1
        }
        lines.append(head[lineStart..<head.endIndex])

        let requestLine = lines[0]
        // Exactly two spaces: method, target, version (found without building an array).
        guard let firstSpace = requestLine.firstIndex(of: UInt8(ascii: " ")),
            let secondSpace = requestLine[(firstSpace + 1)...].firstIndex(of: UInt8(ascii: " ")),
            !requestLine[(secondSpace + 1)...].contains(UInt8(ascii: " "))
        else { return .failure(.malformed("request line must be 'METHOD target HTTP/1.1'")) }
        let parts = (
            requestLine[requestLine.startIndex..<firstSpace], requestLine[(firstSpace + 1)..<secondSpace],
            requestLine[(secondSpace + 1)...]
        )
        guard !parts.0.isEmpty, parts.0.allSatisfy(HTTPRequestParser.isTokenByte) else {
            return .failure(.malformed("invalid method"))
        }
        guard !parts.1.isEmpty, parts.1.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            return .failure(.malformed("invalid request target"))
        }
        let target = String(decoding: parts.1, as: UTF8.self)
        guard target.hasPrefix("/") || target == "*" || target.hasPrefix("http://") || target.hasPrefix("https://")
        else {
            return .failure(.malformed("request target must start with '/'"))
        }
        let version = String(decoding: parts.2, as: UTF8.self)
        let minor: Int
        switch version {
        case "HTTP/1.1": minor = 1
        case "HTTP/1.0": minor = 0
        default: return .failure(.malformed("unsupported HTTP version '\(version.prefix(16))'"))
        }

        var headers = HTTPHeaders(capacity: lines.count - 1)
        if lines.count - 1 > limits.maxHeaderCount { return .failure(.headTooLarge(limit: limits.maxHeadBytes)) }
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
                if let first = line.first, first == 0x20 || first == 0x09 {
                    return .failure(.malformed("obsolete header line folding"))
                }
                return .failure(.malformed("header line without ':'"))
            }
            let name = line[line.startIndex..<colon]
            guard !name.isEmpty, name.allSatisfy(HTTPRequestParser.isTokenByte) else {
                return .failure(.malformed("invalid header name"))
            }
            var value = line[(colon + 1)...]
            while let first = value.first, first == 0x20 || first == 0x09 { value = value.dropFirst() }
            while let last = value.last, last == 0x20 || last == 0x09 { value = value.dropLast() }
            guard value.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }) else {
                return .failure(.malformed("control character in header value"))
            }
            headers.add(String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self))
        }
        if minor == 1 && headers.count("host") != 1 {
            return .failure(.malformed("HTTP/1.1 request needs exactly one Host header"))
        }

        let request = HTTPRequest(
            method: String(decoding: parts.0, as: UTF8.self), target: target, minorVersion: minor, headers: headers)
        let encodings = headers.values("transfer-encoding")
        let lengths = headers.values("content-length")
        if !encodings.isEmpty {
            guard lengths.isEmpty else { return .failure(.malformed("both Content-Length and Transfer-Encoding")) }
            guard encodings.count == 1, encodings[0].lowercased() == "chunked" else {
                return .failure(.malformed("only 'Transfer-Encoding: chunked' is supported"))
            }
            return .success((request, .chunked))
        }
        if !lengths.isEmpty {
            let distinct = Set(lengths.flatMap { $0.split(separator: ",").map { $0.trimmingSpaces } })
            guard distinct.count == 1, let text = distinct.first, !text.isEmpty, text.count <= 18,
                text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }), let length = Int(text)
            else { return .failure(.malformed("invalid Content-Length")) }
            return .success((request, length == 0 ? .none : .length(length)))
        }
        return .success((request, .none))
    }

    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }
}

extension Substring {
    var trimmingSpaces: String {
        var slice = self[...]
        while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
        return String(slice)
    }
}

/// Decodes a chunked body incrementally (RFC 9112 7.1), shared by the request parser and the client.
public struct ChunkedDecoder: Sendable {
    private enum Phase: Sendable {
        case size
        case data(Int)
        case dataEnd, trailer, done
    }
    private var phase: Phase = .size
    public private(set) var body: [UInt8] = []
    public let maxBodyBytes: Int

    public init(maxBodyBytes: Int) { self.maxBodyBytes = maxBodyBytes }

    public var isComplete: Bool {
        if case .done = phase { return true }
        return false
    }

    /// Takes the body decoded so far, leaving the decoder ready for more (used for streaming).
    public mutating func takeBody() -> [UInt8] {
        defer { body = [] }
        return body
    }

    /// Consumes what it can from `bytes`; returns how many bytes were used.
    public mutating func decode(_ bytes: ArraySlice<UInt8>) -> Swift.Result<Int, HTTPParseError> {
        var index = bytes.startIndex
        while true {
            switch phase {
            case .done:
                return .success(index - bytes.startIndex)
            case .size:
                // A line is too long beyond 1024 bytes before its CRLF, whether or not the CRLF has arrived
                // (the last byte seen may be its CR), so the outcome does not depend on how input is split.
                guard let lineEnd = findCRLF(bytes, from: index) else {
                    if bytes.endIndex - index > 1025 { return .failure(.malformed("chunk size line too long")) }
                    return .success(index - bytes.startIndex)
                }
                if lineEnd - index > 1024 { return .failure(.malformed("chunk size line too long")) }
                var sizeText = bytes[index..<lineEnd]
                if let semicolon = sizeText.firstIndex(of: UInt8(ascii: ";")) { sizeText = sizeText[..<semicolon] }
                // Hex digits only: Int(_:radix:) alone accepts a sign, and a negative size would trap below.
                guard !sizeText.isEmpty, sizeText.count <= 15, sizeText.allSatisfy(ChunkedDecoder.isHexDigit),
                    let size = Int(String(decoding: sizeText, as: UTF8.self), radix: 16)
                else { return .failure(.malformed("invalid chunk size")) }
                index = lineEnd + 2
                if size == 0 {
                    phase = .trailer
                } else {
                    if body.count + size > maxBodyBytes { return .failure(.bodyTooLarge(limit: maxBodyBytes)) }
                    phase = .data(size)
                }
            case .data(let remaining):
                let available = min(remaining, bytes.endIndex - index)
                body.append(contentsOf: bytes[index..<index + available])
                index += available
                if available == remaining {
                    phase = .dataEnd
                } else {
                    phase = .data(remaining - available)
                    return .success(index - bytes.startIndex)
                }
            case .dataEnd:
                guard bytes.endIndex - index >= 2 else { return .success(index - bytes.startIndex) }
                guard bytes[index] == 0x0D, bytes[index + 1] == 0x0A else {
                    return .failure(.malformed("missing CRLF after chunk"))
                }
                index += 2
                phase = .size
            case .trailer:
                guard let lineEnd = findCRLF(bytes, from: index) else {
                    if bytes.endIndex - index > 8193 { return .failure(.malformed("trailer too long")) }
                    return .success(index - bytes.startIndex)
                }
                if lineEnd - index > 8192 { return .failure(.malformed("trailer too long")) }
                let empty = lineEnd == index
                index = lineEnd + 2
                if empty { phase = .done }
            }
        }
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
            || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "F"))
    }

    private func findCRLF(_ bytes: ArraySlice<UInt8>, from: Int) -> Int? {
        var index = from
        while index + 1 < bytes.endIndex {
            if bytes[index] == 0x0D && bytes[index + 1] == 0x0A { return index }
            index += 1
        }
        return nil
    }
}
