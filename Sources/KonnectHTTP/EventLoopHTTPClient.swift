import CLinux
import KonnectCore

#if canImport(Glibc)
    import Glibc
#endif

/// A request for `EventLoopHTTPClient`: the method, the origin-form target and the headers to send
/// (a Host header is added when missing).
public struct ClientRequest: Sendable {
    public var method: String
    public var target: String
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(method: String, target: String, headers: HTTPHeaders = [:], body: [UInt8] = []) {
        self.method = method
        self.target = target
        self.headers = headers
        self.body = body
    }
}

/// An HTTP/1.1 client that waits on the event loop instead of a thread: a request is written, its
/// response read and handed to `completion`, all on the loop the caller runs on (the data plane forwards
/// proxied requests with it, without a worker hop). Each loop keeps a keep-alive pool per upstream
/// address; a pooled connection the upstream closed while idle is dropped as soon as that is seen, and
/// one that fails before any response byte is replaced once by a fresh connection.
public final class EventLoopHTTPClient: Sendable {
    private let pools: [UpstreamPool]
    private let group: EventLoopGroup

    /// `maxIdle` connections per address and loop are kept; an idle one is closed after `idleMilliseconds`.
    public init(group: EventLoopGroup = .shared, maxIdle: Int = 64, idleMilliseconds: Int = 30_000) {
        self.group = group
        pools = group.loops.map { UpstreamPool(loop: $0, maxIdle: maxIdle, idleMilliseconds: idleMilliseconds) }
    }

    /// Sends `request` to `host:port` (an IPv4 address or `localhost`); `completion` runs on `loop`.
    /// `timeoutMilliseconds` bounds the exchange after the connection is made, as a read timeout does.
    public func send(
        _ request: ClientRequest, host: String, port: Int, connectTimeoutMilliseconds: Int, timeoutMilliseconds: Int,
        on loop: EventLoop, _ completion: @escaping @Sendable (Result<ClientResponse, HTTPClientError>) -> Void
    ) {
        send(
            encoded: MessageEncoding.request(
                request.method, request.target, headers: request.headers, body: request.body, host: "\(host):\(port)"),
            method: request.method, host: host, port: port, connectTimeoutMilliseconds: connectTimeoutMilliseconds,
            timeoutMilliseconds: timeoutMilliseconds, on: loop, completion)
    }

    /// Sends a request the caller encoded completely (request line, fields with Host and framing, body).
    public func send(
        encoded bytes: [UInt8], method: String, host: String, port: Int, connectTimeoutMilliseconds: Int,
        timeoutMilliseconds: Int, on loop: EventLoop,
        _ completion: @escaping @Sendable (Result<ClientResponse, HTTPClientError>) -> Void
    ) {
        let pool = pools[loop.index]
        let exchange = UpstreamExchange(
            method: method, bytes: bytes, endpoint: .tcp(host: host, port: port),
            connectTimeout: connectTimeoutMilliseconds, timeout: timeoutMilliseconds, completion: completion)
        if loop.inLoop {
            pool.start(exchange)
        } else {
            loop.execute { pool.start(exchange) }
        }
    }
}

/// One request in flight and what to do with its outcome (a class: handed from pool to connection
/// without copying).
final class UpstreamExchange: @unchecked Sendable {
    let method: String
    let bytes: [UInt8]
    let endpoint: Endpoint
    let connectTimeout: Int
    let timeout: Int
    let completion: (Result<ClientResponse, HTTPClientError>) -> Void

    init(
        method: String, bytes: [UInt8], endpoint: Endpoint, connectTimeout: Int, timeout: Int,
        completion: @escaping (Result<ClientResponse, HTTPClientError>) -> Void
    ) {
        self.method = method
        self.bytes = bytes
        self.endpoint = endpoint
        self.connectTimeout = connectTimeout
        self.timeout = timeout
        self.completion = completion
    }
}

/// A loop's idle upstream connections, by address (loop thread only).
final class UpstreamPool: @unchecked Sendable {
    let loop: EventLoop
    let maxIdle: Int
    let idleMilliseconds: Int
    /// Idle connections per address, most recently used last (a class, so taking one does not copy).
    private final class IdleConnections {
        var connections: [UpstreamConnection] = []
    }
    private var idle: [Endpoint: IdleConnections] = [:]

    private func idleConnections(_ endpoint: Endpoint) -> IdleConnections {
        if let existing = idle[endpoint] { return existing }
        let created = IdleConnections()
        idle[endpoint] = created
        return created
    }

    init(loop: EventLoop, maxIdle: Int, idleMilliseconds: Int) {
        self.loop = loop
        self.maxIdle = maxIdle
        self.idleMilliseconds = idleMilliseconds
    }

    func start(_ exchange: UpstreamExchange) {
        if let connection = idle[exchange.endpoint]?.connections.popLast() {
            connection.begin(exchange, reused: true)
            return
        }
        open(exchange)
    }

    /// A fresh connection for `exchange`.
    func open(_ exchange: UpstreamExchange) {
        guard case .tcp(let host, let port) = exchange.endpoint else { return }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(clamping: port).bigEndian)
        guard inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host, &address.sin_addr) == 1 else {
            exchange.completion(
                .failure(
                    HTTPClientError(
                        kind: .unreachable, endpoint: exchange.endpoint,
                        message: "connect \(host):\(port): not an IPv4 address")))
            return
        }
        let fd = socket(
            AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else {
            exchange.completion(
                .failure(
                    HTTPClientError(
                        kind: .unreachable, endpoint: exchange.endpoint,
                        message: SocketError.errno("socket").description)))
            return
        }
        Socket.setNoDelay(fd)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        let code = errno
        if result != 0 && code != EINPROGRESS {
            close(fd)
            exchange.completion(
                .failure(
                    HTTPClientError(
                        kind: .unreachable, endpoint: exchange.endpoint,
                        message: SocketError.errno("connect \(exchange.endpoint)", code).description)))
            return
        }
        let connection = UpstreamConnection(fd: fd, endpoint: exchange.endpoint, pool: self)
        connection.connect(exchange, connected: result == 0)
    }

    /// Keeps a connection for reuse; false when the pool for its address is full.
    func keep(_ connection: UpstreamConnection) -> Bool {
        let list = idleConnections(connection.endpoint)
        guard list.connections.count < maxIdle else { return false }
        list.connections.append(connection)
        return true
    }

    func forget(_ connection: UpstreamConnection) {
        guard let list = idle[connection.endpoint],
            let position = list.connections.firstIndex(where: { $0 === connection })
        else { return }
        list.connections.remove(at: position)
    }
}

/// One connection to an upstream, on one loop: connecting, busy with an exchange, or idle in the pool.
final class UpstreamConnection: LoopWatcher {
    private enum Phase { case connecting, busy, idle, closed }

    let fd: Int32
    let endpoint: Endpoint
    unowned let pool: UpstreamPool
    private var loop: EventLoop { pool.loop }
    private var phase = Phase.connecting
    private var parser = HTTPResponseParser(method: "GET")
    private var exchange: UpstreamExchange?
    private var output: [UInt8] = []
    private var outputOffset = 0
    private var received = false
    private var reused = false
    private var interest: UInt32 = 0
    private var timer: LoopTimer!

    init(fd: Int32, endpoint: Endpoint, pool: UpstreamPool) {
        self.fd = fd
        self.endpoint = endpoint
        self.pool = pool
        timer = LoopTimer(loop: pool.loop) { [weak self] in self?.deadlinePassed() }
    }

    func connect(_ exchange: UpstreamExchange, connected: Bool) {
        self.exchange = exchange
        if connected {
            interest = EpollEvents.input | EpollEvents.peerClosed
            loop.watch(fd, self, events: interest)
            begin(exchange, reused: false)
            return
        }
        phase = .connecting
        timer.set(after: exchange.connectTimeout)
        interest = EpollEvents.output
        loop.watch(fd, self, events: interest)
    }

    func begin(_ exchange: UpstreamExchange, reused: Bool) {
        self.exchange = exchange
        self.reused = reused
        phase = .busy
        parser = HTTPResponseParser(method: exchange.method)
        received = false
        timer.set(after: exchange.timeout)
        let sent = exchange.bytes.withUnsafeBytes { raw in
            send(fd, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
        }
        if sent == exchange.bytes.count {
            setInterest(EpollEvents.input | EpollEvents.peerClosed)
            return
        }
        if sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
            lost(SocketError.errno("send").description)
            return
        }
        output = sent > 0 ? Array(exchange.bytes[sent...]) : exchange.bytes
        outputOffset = 0
        setInterest(EpollEvents.input | EpollEvents.peerClosed | EpollEvents.output)
    }

    func ready(_ events: UInt32) {
        switch phase {
        case .connecting:
            var code: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &length)
            guard code == 0, let exchange else {
                fail(
                    .unreachable, SocketError.errno("connect \(endpoint)", code == 0 ? ECONNREFUSED : code).description)
                return
            }
            begin(exchange, reused: false)
        case .busy:
            if events & EpollEvents.output != 0 { writeOutput() }
            if phase == .busy
                && events & (EpollEvents.input | EpollEvents.peerClosed | EpollEvents.hangUp | EpollEvents.error) != 0
            {
                readResponse()
            }
        case .idle:
            // The upstream closed an idle connection (or sent something unasked): it cannot be reused.
            pool.forget(self)
            closeNow()
        case .closed:
            break
        }
    }

    private func writeOutput() {
        while outputOffset < output.count {
            let sent = output.withUnsafeBytes { raw in
                send(
                    fd, raw.baseAddress! + outputOffset, raw.count - outputOffset,
                    Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
            }
            if sent > 0 {
                outputOffset += sent
                continue
            }
            if sent < 0 && errno == EINTR { continue }
            if sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return }
            lost(SocketError.errno("send").description)
            return
        }
        output = []
        outputOffset = 0
        setInterest(EpollEvents.input | EpollEvents.peerClosed)
    }

    private func readResponse() {
        let buffer = loop.readBuffer
        while phase == .busy {
            let count = recv(fd, buffer.baseAddress, buffer.count, 0)
            if count > 0 {
                received = true
                parser.feed(
                    UnsafeBufferPointer(start: buffer.baseAddress!.assumingMemoryBound(to: UInt8.self), count: count))
                switch parser.next() {
                case .response(let response):
                    let reusable =
                        parser.isIdle && !HTTPHeaders.value(response.headers["connection"] ?? "", contains: "close")
                    finish(.success(response), reusable: reusable && outputOffset >= output.count)
                    return
                case .failure(let why):
                    fail(.protocolViolation, why)
                    return
                case .needMoreData:
                    if count < buffer.count { return }
                    continue
                }
            }
            if count < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { return }
                lost(SocketError.errno("recv").description)
                return
            }
            // End of input: a read-until-close body is complete; anything else was cut short.
            if received, case .response(let response) = parser.finish() {
                finish(.success(response), reusable: false)
                return
            }
            lost("connection closed before a complete response")
            return
        }
    }

    /// The connection broke: a reused one that had not answered yet is replaced once by a fresh one.
    private func lost(_ message: String) {
        if reused && !received, let exchange {
            self.exchange = nil
            closeNow()
            pool.open(exchange)
            return
        }
        fail(.connectionLost, message)
    }

    private func fail(_ kind: HTTPClientError.Kind, _ message: String) {
        finish(.failure(HTTPClientError(kind: kind, endpoint: endpoint, message: message)), reusable: false)
    }

    private func finish(_ result: Result<ClientResponse, HTTPClientError>, reusable: Bool) {
        guard let exchange else { return }
        self.exchange = nil
        if reusable && pool.keep(self) {
            phase = .idle
            timer.set(after: pool.idleMilliseconds)
        } else {
            closeNow()
        }
        exchange.completion(result)
    }

    private func deadlinePassed() {
        switch phase {
        case .connecting:
            fail(.timedOut, "connect \(endpoint): timed out after \(exchange?.connectTimeout ?? 0) ms")
        case .busy:
            fail(.timedOut, "no response within \(exchange?.timeout ?? 0) ms")
        case .idle:
            pool.forget(self)
            closeNow()
        case .closed:
            break
        }
    }

    private func setInterest(_ wanted: UInt32) {
        guard wanted != interest, phase != .closed else { return }
        interest = wanted
        loop.change(fd, events: wanted)
    }

    private func closeNow() {
        guard phase != .closed else { return }
        phase = .closed
        timer.cancel()
        loop.unwatch(fd)
        close(fd)
    }
}
