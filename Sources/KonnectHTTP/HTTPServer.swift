import KonnectCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Which socket a request arrived on. Internal node-to-node endpoints are served on the Unix socket only.
public enum ListenerKind: Sendable { case unix, tcp }

/// The HTTP/1.1 server every node runs: one accept thread, one thread per connection, keep-alive,
/// size limits and timeouts that answer 400/408/413/431 with a JSON body, and a graceful shutdown that
/// stops accepting, lets in-flight requests finish and then closes what is left.
///
/// Threads rather than an event loop: handlers are synchronous (SQLite is), connection counts are small,
/// and a blocked handler never stalls another connection.
public final class HTTPServer: Sendable {
    public struct Configuration: Sendable {
        public var limits = HTTPLimits()
        /// An idle keep-alive connection is answered 408 and closed after this long.
        public var idleTimeoutMilliseconds = 60_000
        /// A request whose head and body do not arrive within this long from its first byte gets 408.
        public var requestTimeoutMilliseconds = 10_000
        public var writeTimeoutMilliseconds = 10_000
        public var maxConnections = 1024
        /// Renders transport-level errors (400, 408, 413, 431, 503); the default is a problem document.
        public var renderError: @Sendable (APIError, String) -> HTTPResponse = { error, instance in
            HTTPResponse.json(
                error.problem(instance: instance), status: error.status, contentType: "application/problem+json")
        }

        public init() {}
    }

    public typealias Handler = @Sendable (HTTPRequest, ListenerKind) -> HTTPResponse

    private struct Connection {
        var busy: Bool
    }

    private struct State {
        var listeners: [(fd: Int32, kind: ListenerKind)] = []
        var connections: [Int32: Connection] = [:]
        var draining = false
        var acceptRunning = false
    }

    public let configuration: Configuration
    private let handler: Handler
    private let state = Mutex(State())
    private let drained = Signal()
    private let wakeRead: Int32
    private let wakeWrite: Int32

    public init(configuration: Configuration = Configuration(), handler: @escaping Handler) {
        self.configuration = configuration
        self.handler = handler
        var fds: [Int32] = [0, 0]
        pipe(&fds)
        Socket.setCloseOnExec(fds[0])
        Socket.setCloseOnExec(fds[1])
        wakeRead = fds[0]
        wakeWrite = fds[1]
    }

    /// Listens on a Unix socket path (replacing a stale socket file).
    public func listen(unixPath: String) throws(SocketError) {
        let fd = try Socket.listenUnix(path: unixPath)
        Socket.setNonBlocking(fd, true)
        state.withLock { $0.listeners.append((fd, .unix)) }
    }

    /// Listens on 127.0.0.1; returns the port (the kernel's choice when `port` is 0).
    public func listen(tcpPort port: Int) throws(SocketError) -> Int {
        let (fd, actual) = try Socket.listenTCP(port: port)
        Socket.setNonBlocking(fd, true)
        state.withLock { $0.listeners.append((fd, .tcp)) }
        return actual
    }

    /// Starts accepting on every listener.
    public func start() {
        state.withLock { $0.acceptRunning = true }
        spawnThread(name: "accept") { [self] in acceptLoop() }
    }

    public var isDraining: Bool { state.withLock { $0.draining } }

    /// Stops accepting, waits up to `drainMilliseconds` for in-flight requests, then closes everything.
    public func shutdown(drainMilliseconds: Int = 5000) {
        state.withLock { state in
            state.draining = true
            // Under the lock: a connection's descriptor is closed (and its number reused) only under it too.
            for (fd, connection) in state.connections where !connection.busy { Glibc.shutdown(fd, Int32(SHUT_RDWR)) }
        }
        var byte: UInt8 = 1
        _ = Glibc.write(wakeWrite, &byte, 1)
        let deadline = Monotonic.now + drainMilliseconds
        while true {
            let seen = drained.current
            let (open, accepting) = state.withLock { ($0.connections.count, $0.acceptRunning) }
            if open == 0 && !accepting { break }
            if Monotonic.now >= deadline {
                state.withLock { state in
                    for fd in state.connections.keys { Glibc.shutdown(fd, Int32(SHUT_RDWR)) }
                }
                // Give connection threads a moment to notice.
                drained.wait(after: drained.current, timeoutMilliseconds: 200)
                break
            }
            drained.wait(after: seen, timeoutMilliseconds: 50)
        }
    }

    private func acceptLoop() {
        let listeners = state.withLock { $0.listeners }
        var descriptors = listeners.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
        descriptors.append(pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0))
        loop: while true {
            let ready = poll(&descriptors, nfds_t(descriptors.count), -1)
            if ready < 0 {
                if errno == EINTR { continue }
                break
            }
            if descriptors[descriptors.count - 1].revents != 0 || isDraining { break loop }
            for (position, listener) in listeners.enumerated() where descriptors[position].revents != 0 {
                while let fd = Socket.accept(listener.fd) {
                    admit(fd, kind: listener.kind)
                }
            }
        }
        state.withLock { state in
            for listener in state.listeners { close(listener.fd) }
            state.listeners = []
            state.acceptRunning = false
        }
        drained.fire()
    }

    private func admit(_ fd: Int32, kind: ListenerKind) {
        if kind == .tcp { Socket.setNoDelay(fd) }
        let admitted = state.withLock { state -> Bool in
            guard !state.draining, state.connections.count < configuration.maxConnections else { return false }
            state.connections[fd] = Connection(busy: false)
            return true
        }
        guard admitted else {
            let error = APIError.unavailable("The node is at its connection limit or shutting down; retry shortly")
            var response = configuration.renderError(error, "/")
            response.headers.set("Connection", "close")
            try? Socket.writeAll(
                fd,
                serializeHead(response, bodyLength: response.bodyBytes.count, method: "GET", close: true)
                    + response.bodyBytes, timeoutMilliseconds: 100)
            close(fd)
            return
        }
        spawnThread(name: "http-conn") { [self] in
            serve(fd, kind: kind)
            state.withLock { state in
                state.connections[fd] = nil
                close(fd)
            }
            drained.fire()
        }
    }

    private func setBusy(_ fd: Int32, _ busy: Bool) -> Bool {
        state.withLock { state in
            state.connections[fd]?.busy = busy
            return state.draining
        }
    }

    private func serve(_ fd: Int32, kind: ListenerKind) {
        var parser = HTTPRequestParser(limits: configuration.limits)
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var requestStarted: Int? = nil
        while true {
            switch parser.next() {
            case .request(let request):
                requestStarted = nil
                let draining = setBusy(fd, true)
                let response = handler(request, kind)
                let keepOpen = request.keepAlive && !draining && !isDraining
                let written = write(response, for: request, to: fd, close: !keepOpen)
                let drainingNow = setBusy(fd, false)
                if !written || !keepOpen || drainingNow { return }
            case .failure(let error):
                let apiError = APIError(status: error.status, detail: error.detail)
                respondAndClose(fd, configuration.renderError(apiError, "/"))
                return
            case .needMoreData:
                if parser.takeContinueExpectation() {
                    try? Socket.writeAll(
                        fd, Array("HTTP/1.1 100 Continue\r\n\r\n".utf8),
                        timeoutMilliseconds: configuration.writeTimeoutMilliseconds)
                }
                let partial = parser.hasPartialRequest
                if !partial && isDraining { return }
                let timeout: Int
                if partial {
                    let started = requestStarted ?? Monotonic.now
                    requestStarted = started
                    timeout = max(0, started + configuration.requestTimeoutMilliseconds - Monotonic.now)
                } else {
                    timeout = configuration.idleTimeoutMilliseconds
                }
                switch Socket.read(fd, into: &buffer, timeoutMilliseconds: timeout) {
                case .data(let count):
                    if requestStarted == nil { requestStarted = Monotonic.now }
                    parser.feed(buffer[0..<count])
                case .timeout:
                    if isDraining { return }
                    let detail =
                        partial
                        ? "The request did not arrive within \(configuration.requestTimeoutMilliseconds) ms"
                        : "The connection was idle for \(configuration.idleTimeoutMilliseconds) ms"
                    respondAndClose(fd, configuration.renderError(APIError(status: 408, detail: detail), "/"))
                    return
                case .eof, .failed:
                    return
                }
            }
        }
    }

    private func respondAndClose(_ fd: Int32, _ response: HTTPResponse) {
        let body = response.bodyBytes
        let head = serializeHead(response, bodyLength: body.count, method: "GET", close: true)
        try? Socket.writeAll(fd, head + body, timeoutMilliseconds: 1000)
        Glibc.shutdown(fd, Int32(SHUT_WR))
    }

    private func write(_ response: HTTPResponse, for request: HTTPRequest, to fd: Int32, close: Bool) -> Bool {
        let timeout = configuration.writeTimeoutMilliseconds
        do {
            switch response.body {
            case .bytes(let body):
                let noBody = HTTPResponse.hasNoBody(status: response.status, method: request.method)
                let head = serializeHead(response, bodyLength: body.count, method: request.method, close: close)
                try Socket.writeAll(fd, noBody ? head : head + body, timeoutMilliseconds: timeout)
            case .stream(let produce):
                var headers = response.headers
                headers.set("Transfer-Encoding", "chunked")
                let head = serializeHead(
                    HTTPResponse(status: response.status, headers: headers), bodyLength: nil, method: request.method,
                    close: close)
                try Socket.writeAll(fd, head, timeoutMilliseconds: timeout)
                let writer = ConnectionChunkWriter(fd: fd, server: self, timeout: timeout)
                produce(writer)
                guard writer.isHealthy else { return false }
                try Socket.writeAll(fd, Array("0\r\n\r\n".utf8), timeoutMilliseconds: timeout)
            }
            return true
        } catch {
            return false
        }
    }

    func serializeHead(_ response: HTTPResponse, bodyLength: Int?, method: String, close: Bool) -> [UInt8] {
        var head = "HTTP/1.1 \(response.status) \(HTTPResponse.reasonPhrase(response.status))\r\n"
        for (name, value) in response.headers
        where name.lowercased() != "content-length" && name.lowercased() != "connection" {
            head += "\(name): \(value)\r\n"
        }
        if let bodyLength, !(response.status == 204 || response.status == 304 || response.status < 200) {
            head += "Content-Length: \(bodyLength)\r\n"
        }
        if close { head += "Connection: close\r\n" }
        head += "\r\n"
        return Array(head.utf8)
    }
}

/// Writes chunks on a connection thread; closed once the peer leaves or the server drains.
final class ConnectionChunkWriter: ChunkWriter, @unchecked Sendable {
    // Used only from the connection thread that owns `fd`.
    private let fd: Int32
    private let server: HTTPServer
    private let timeout: Int
    private(set) var isHealthy = true

    init(fd: Int32, server: HTTPServer, timeout: Int) {
        self.fd = fd
        self.server = server
        self.timeout = timeout
    }

    var isOpen: Bool {
        guard isHealthy, !server.isDraining else { return false }
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, 0) > 0 else { return true }
        if descriptor.revents & (Int16(POLLHUP) | Int16(POLLERR)) != 0 { return false }
        var probe: UInt8 = 0
        return recv(fd, &probe, 1, Int32(MSG_PEEK) | Int32(MSG_DONTWAIT)) != 0
    }

    func write(_ bytes: [UInt8]) -> Bool {
        guard isOpen, !bytes.isEmpty else { return isOpen }
        let chunk = Array(String(bytes.count, radix: 16).utf8) + [0x0D, 0x0A] + bytes + [0x0D, 0x0A]
        do {
            try Socket.writeAll(fd, chunk, timeoutMilliseconds: timeout)
            return true
        } catch {
            isHealthy = false
            return false
        }
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
