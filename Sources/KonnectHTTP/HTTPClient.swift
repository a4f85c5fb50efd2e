import KonnectCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Why a request did not produce a response.
public struct HTTPClientError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable { case unreachable, timedOut, connectionLost, protocolViolation, faultInjected }
    public var kind: Kind
    public var endpoint: Endpoint
    public var message: String

    public var description: String { "\(endpoint): \(message)" }
}

/// A blocking HTTP/1.1 client over a Unix or TCP socket (with TLS when given a `TLSClientContext`), with a
/// small keep-alive pool; pooled TLS connections keep their session.
///
/// Every node-to-node call goes through one of these, named after its link (`eu->auth`), so that
/// partitions, latency and drops injected in `faults.json` act on real connections right here.
public final class HTTPClient: Sendable {
    public let endpoint: Endpoint
    private let tls: TLSClientContext?
    public let link: String?
    private let faults: (any LinkFaultSource)?
    public let connectTimeoutMilliseconds: Int
    public let timeoutMilliseconds: Int
    private let idle = Mutex<[ClientConnection]>([])
    private let maxIdle: Int

    public init(
        endpoint: Endpoint, tls: TLSClientContext? = nil, link: String? = nil, faults: (any LinkFaultSource)? = nil,
        connectTimeoutMilliseconds: Int = 1000, timeoutMilliseconds: Int = 10_000, maxIdle: Int = 8
    ) {
        self.endpoint = endpoint
        self.tls = tls
        self.link = link
        self.faults = faults
        self.connectTimeoutMilliseconds = connectTimeoutMilliseconds
        self.timeoutMilliseconds = timeoutMilliseconds
        self.maxIdle = maxIdle
    }

    /// Closes pooled connections (after a fault change or a peer restart).
    public func reset() {
        let connections = idle.withLock { connections -> [ClientConnection] in
            defer { connections = [] }
            return connections
        }
        for connection in connections { connection.close() }
    }

    /// Sends a request and reads the whole response.
    public func send(
        _ method: String, _ target: String, headers: HTTPHeaders = [:], body: [UInt8] = [],
        timeoutMilliseconds: Int? = nil
    ) throws(HTTPClientError) -> ClientResponse {
        let timeout = timeoutMilliseconds ?? self.timeoutMilliseconds
        // Injected latency counts against the request's time budget, as a slow link would.
        let delay = try applyFaults()
        if delay >= timeout {
            sleepMilliseconds(timeout)
            throw HTTPClientError(
                kind: .timedOut, endpoint: endpoint,
                message: "no response within \(timeout) ms (link \(link ?? "") slowed by \(delay) ms, injected fault)")
        }
        sleepMilliseconds(delay)
        let remaining = timeout - delay
        let bytes = serialize(method, target, headers: headers, body: body)
        // A pooled connection may have been closed by the server while idle: if it fails before any
        // response byte arrives, retry once on a fresh connection.
        var pooled = takeIdle()
        while true {
            let connection: ClientConnection
            if let pooled { connection = pooled } else { connection = try connect() }
            switch exchange(connection, bytes, method: method, timeout: remaining) {
            case .success(let (response, reusable)):
                finish(connection, reusable: reusable)
                return response
            case .failure(let failure):
                connection.close()
                guard pooled != nil, !failure.responseStarted else { throw failure.error }
                pooled = nil
            }
        }
    }

    /// Sends a JSON body (or none) and reads the response.
    public func json(
        _ method: String, _ target: String, _ body: JSON? = nil, headers: HTTPHeaders = [:],
        timeoutMilliseconds: Int? = nil
    ) throws(HTTPClientError) -> ClientResponse {
        var headers = headers
        if body != nil { headers.set("Content-Type", "application/json") }
        return try send(
            method, target, headers: headers, body: body?.bytes ?? [], timeoutMilliseconds: timeoutMilliseconds)
    }

    /// Opens a streamed (chunked) response that stays open: data-plane and zone config push.
    public func openStream(_ method: String, _ target: String, headers: HTTPHeaders = [:]) throws(HTTPClientError)
        -> HTTPStream
    {
        sleepMilliseconds(min(try applyFaults(), timeoutMilliseconds))
        let connection = try connect()
        do {
            try connection.writeAll(
                serialize(method, target, headers: headers, body: []), timeoutMilliseconds: timeoutMilliseconds)
        } catch {
            connection.close()
            throw HTTPClientError(kind: .connectionLost, endpoint: endpoint, message: error.description)
        }
        return HTTPStream(connection: connection, method: method, endpoint: endpoint, link: link, faults: faults)
    }

    /// Refuses or drops the request as the link's fault says; returns the latency to add.
    func applyFaults() throws(HTTPClientError) -> Int {
        guard let link, let faults, let fault = faults.fault(on: link) else { return 0 }
        if fault.partitioned {
            reset()
            throw HTTPClientError(
                kind: .faultInjected, endpoint: endpoint,
                message: "link \(link) is partitioned (injected fault): connection refused")
        }
        if fault.dropPartsPerMillion > 0, faults.draw(on: link, below: 1_000_000) < fault.dropPartsPerMillion {
            reset()
            throw HTTPClientError(
                kind: .faultInjected, endpoint: endpoint,
                message: "request dropped on link \(link) (injected fault): connection reset")
        }
        return fault.latencyMilliseconds + faults.draw(on: link, below: fault.jitterMilliseconds + 1)
    }

    /// Whether the link has been partitioned since the request was sent (checked while waiting, so a
    /// partition also cuts requests in flight, such as long polls).
    private var isPartitioned: Bool {
        guard let link, let faults else { return false }
        return faults.fault(on: link)?.partitioned == true
    }

    /// A new connection (with its TLS handshake, if any, inside the connect timeout).
    private func connect() throws(HTTPClientError) -> ClientConnection {
        try ClientConnection.open(to: endpoint, tls: tls, timeoutMilliseconds: connectTimeoutMilliseconds)
    }

    private func takeIdle() -> ClientConnection? {
        idle.withLock { $0.popLast() }
    }

    private func finish(_ connection: ClientConnection, reusable: Bool) {
        let kept =
            reusable
            && idle.withLock { connections -> Bool in
                guard connections.count < maxIdle else { return false }
                connections.append(connection)
                return true
            }
        if !kept { connection.close() }
    }

    private func serialize(_ method: String, _ target: String, headers: HTTPHeaders, body: [UInt8]) -> [UInt8] {
        return MessageEncoding.request(method, target, headers: headers, body: body, host: endpoint.hostHeader)
    }

    private struct ExchangeFailure: Error {
        var error: HTTPClientError
        var responseStarted: Bool
    }

    private func exchange(_ connection: ClientConnection, _ bytes: [UInt8], method: String, timeout: Int) -> Result<
        (ClientResponse, Bool), ExchangeFailure
    > {
        do {
            try connection.writeAll(bytes, timeoutMilliseconds: timeout)
        } catch {
            return .failure(
                ExchangeFailure(
                    error: HTTPClientError(kind: .connectionLost, endpoint: endpoint, message: error.description),
                    responseStarted: false))
        }
        var parser = HTTPResponseParser(method: method)
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var received = false
        let deadline = Monotonic.now + timeout
        while true {
            switch parser.next() {
            case .response(let response):
                // A partition applied while the answer was in flight loses the answer, as a real one would.
                if isPartitioned {
                    return .failure(
                        ExchangeFailure(
                            error: HTTPClientError(
                                kind: .faultInjected, endpoint: endpoint,
                                message: "link \(link ?? "") was partitioned during the request (injected fault)"),
                            responseStarted: true))
                }
                let close = response.headers["connection"]?.lowercased().contains("close") == true
                return .success((response, !close && parser.isIdle))
            case .failure(let why):
                return .failure(
                    ExchangeFailure(
                        error: HTTPClientError(kind: .protocolViolation, endpoint: endpoint, message: why),
                        responseStarted: true))
            case .needMoreData:
                break
            }
            let remaining = deadline - Monotonic.now
            guard remaining > 0 else {
                return .failure(
                    ExchangeFailure(
                        error: HTTPClientError(
                            kind: .timedOut, endpoint: endpoint, message: "no response within \(timeout) ms"),
                        responseStarted: true))
            }
            if isPartitioned {
                return .failure(
                    ExchangeFailure(
                        error: HTTPClientError(
                            kind: .faultInjected, endpoint: endpoint,
                            message: "link \(link ?? "") was partitioned during the request (injected fault)"),
                        responseStarted: true))
            }
            switch connection.read(
                into: &buffer, timeoutMilliseconds: link != nil && faults != nil ? min(remaining, 100) : remaining)
            {
            case .data(let count):
                received = true
                parser.feed(buffer[0..<count])
            case .eof:
                if received, case .response(let response) = parser.finish() { return .success((response, false)) }
                return .failure(
                    ExchangeFailure(
                        error: HTTPClientError(
                            kind: .connectionLost, endpoint: endpoint,
                            message: "connection closed before a complete response"), responseStarted: received))
            case .timeout:
                if deadline - Monotonic.now > 0 { continue }
                return .failure(
                    ExchangeFailure(
                        error: HTTPClientError(
                            kind: .timedOut, endpoint: endpoint, message: "no response within \(timeout) ms"),
                        responseStarted: true))
            case .failed(let error):
                return .failure(
                    ExchangeFailure(
                        error: HTTPClientError(kind: .connectionLost, endpoint: endpoint, message: error.description),
                        responseStarted: received))
            }
        }
    }
}

/// A long-lived streamed response, read message by message (newline-delimited JSON inside chunks).
/// Used by one thread at a time: the data plane's or zone's sync loop.
public final class HTTPStream: @unchecked Sendable {
    public enum Event: Sendable {
        case message(JSON)
        case timeout
        case closed(String)
    }

    private let connection: ClientConnection
    private let endpoint: Endpoint
    private let link: String?
    private let faults: (any LinkFaultSource)?
    private var parser: HTTPResponseParser
    private var pending: [UInt8] = []
    private var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    /// The whole stream arrived with its head (a short stream the server ended at once): its messages are
    /// in `pending`, and nothing more will come.
    private var arrivedWhole = false
    public private(set) var status: Int?
    public private(set) var errorBody: [UInt8] = []

    init(
        connection: ClientConnection, method: String, endpoint: Endpoint, link: String?,
        faults: (any LinkFaultSource)?
    ) {
        self.connection = connection
        self.endpoint = endpoint
        self.link = link
        self.faults = faults
        self.parser = HTTPResponseParser(method: method)
    }

    /// Closes the stream; only the thread that reads it may call this.
    public func close() {
        connection.close()
    }

    /// Wakes and ends a read in progress on another thread (the reader then closes the stream).
    public func interrupt() {
        connection.interrupt()
    }

    /// Waits for the response head; returns its status. A non-200 status carries its body in `errorBody`.
    public func awaitHead(timeoutMilliseconds: Int) -> Result<Int, HTTPClientError> {
        let deadline = Monotonic.now + timeoutMilliseconds
        while true {
            if let head = parser.responseHead {
                status = head.status
                if head.status != 200 || !parser.isChunked {
                    if case .response(let response) = parser.next() { errorBody = response.body }
                }
                return .success(head.status)
            }
            switch parser.next() {
            case .response(let response):
                status = response.status
                if response.status == 200,
                    HTTPHeaders.value(response.headers["transfer-encoding"] ?? "", contains: "chunked")
                {
                    pending.append(contentsOf: response.body)
                    arrivedWhole = true
                } else {
                    errorBody = response.body
                }
                return .success(response.status)
            case .failure(let why):
                return .failure(HTTPClientError(kind: .protocolViolation, endpoint: endpoint, message: why))
            case .needMoreData:
                if parser.responseHead != nil { continue }
            }
            let remaining = deadline - Monotonic.now
            guard remaining > 0 else {
                return .failure(
                    HTTPClientError(
                        kind: .timedOut, endpoint: endpoint, message: "no response within \(timeoutMilliseconds) ms"))
            }
            switch connection.read(into: &buffer, timeoutMilliseconds: remaining) {
            case .data(let count): parser.feed(buffer[0..<count])
            case .eof, .failed:
                return .failure(
                    HTTPClientError(kind: .connectionLost, endpoint: endpoint, message: "stream closed before its head")
                )
            case .timeout:
                return .failure(
                    HTTPClientError(
                        kind: .timedOut, endpoint: endpoint, message: "no response within \(timeoutMilliseconds) ms"))
            }
        }
    }

    /// The next message, waiting at most `timeoutMilliseconds`. A partitioned link closes the stream.
    public func next(timeoutMilliseconds: Int) -> Event {
        let deadline = Monotonic.now + timeoutMilliseconds
        while true {
            if let newline = pending.firstIndex(of: 0x0A) {
                let line = Array(pending[0..<newline])
                pending.removeFirst(newline + 1)
                if line.isEmpty { continue }
                guard let message = try? JSONParser.parse(line) else {
                    return .closed("stream sent a line that is not JSON")
                }
                if let link, let faults, let fault = faults.fault(on: link) {
                    if fault.partitioned { return .closed("link \(link) is partitioned (injected fault)") }
                    sleepMilliseconds(
                        fault.latencyMilliseconds + faults.draw(on: link, below: fault.jitterMilliseconds + 1))
                }
                return .message(message)
            }
            if let link, let faults, faults.fault(on: link)?.partitioned == true {
                return .closed("link \(link) is partitioned (injected fault)")
            }
            if arrivedWhole { return .closed("the server ended the stream") }
            // Bytes that arrived together with the head (or an earlier message) are decoded first.
            let (buffered, ended, failure) = parser.takeStreamData()
            if let failure { return .closed(failure) }
            if !buffered.isEmpty {
                pending.append(contentsOf: buffered)
                continue
            }
            if ended { return .closed("the server ended the stream") }
            let remaining = deadline - Monotonic.now
            guard remaining > 0 else { return .timeout }
            // Wake at least every 100 ms to notice injected partitions.
            switch connection.read(into: &buffer, timeoutMilliseconds: min(remaining, 100)) {
            case .data(let count):
                parser.feed(buffer[0..<count])
                let (data, finished, error) = parser.takeStreamData()
                if let error { return .closed(error) }
                pending.append(contentsOf: data)
                if finished && pending.firstIndex(of: 0x0A) == nil { return .closed("the server ended the stream") }
                if pending.count > 64 * 1024 * 1024 { return .closed("stream message too large") }
            case .timeout:
                continue
            case .eof:
                return .closed("the server closed the connection")
            case .failed(let error):
                return .closed(error.description)
            }
        }
    }
}
