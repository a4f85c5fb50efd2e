import CLinux
import KonnectCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Which socket a request arrived on: the node's Unix socket, a plain TCP port (public traffic), or a TLS
/// link between nodes. Internal node-to-node endpoints are served on the Unix socket and on links only.
public enum ListenerKind: Sendable { case unix, tcp, link }

/// The HTTP/1.1 server every node runs, on the process's event loops: each loop accepts on every
/// listener and owns the connections it accepted; request handlers run on a bounded `WorkerPool` (or,
/// for a `LoopHandler`, on the loop itself), so an idle or slow connection costs a small object and its
/// timer, not a thread.
///
/// Limits: size limits and timeouts answer 400/408/413/431 with a JSON body; connection limits come from
/// the descriptor limit (raised to the hard limit), the Unix socket has capacity of its own, and at a
/// limit the oldest idle connection of that socket is closed to make room (503 only when none is idle).
/// Shutdown stops accepting, closes idle connections, lets requests in progress finish and then closes
/// what is left.
public final class HTTPServer: Sendable {
    public struct Configuration: Sendable {
        public var limits = HTTPLimits()
        /// An idle keep-alive connection is answered 408 and closed after this long.
        public var idleTimeoutMilliseconds = 60_000
        /// A request whose head and body do not arrive within this long from its first byte gets 408; a new
        /// connection must deliver its first request head within this long of being opened.
        public var requestTimeoutMilliseconds = 10_000
        /// A peer that reads nothing of a response for this long is disconnected.
        public var writeTimeoutMilliseconds = 10_000
        /// Open TCP connections at most; nil derives it from the process's descriptor limit.
        public var maxTCPConnections: Int? = nil
        /// Open Unix-socket connections at most, a capacity TCP traffic cannot take.
        public var maxUnixConnections = 512
        /// Open TLS link connections (node to node) at most, a capacity public traffic cannot take.
        public var maxLinkConnections = 512
        /// Renders transport-level errors (400, 408, 413, 431, 503); the default is a problem document.
        public var renderError: @Sendable (APIError, String) -> HTTPResponse = { error, instance in
            HTTPResponse.json(
                error.problem(instance: instance), status: error.status, contentType: "application/problem+json")
        }

        public init() {}
    }

    /// Answers one request on a worker thread (it may block).
    public typealias Handler = @Sendable (HTTPRequest, ListenerKind) -> HTTPResponse
    /// Answers one request on the connection's event loop: must not block; completes `PendingResponse`
    /// now or later (from any thread).
    public typealias LoopHandler = @Sendable (HTTPRequest, ListenerKind, PendingResponse) -> Void

    private let core: ServerCore
    private let group: EventLoopGroup
    private let contexts: [ServerLoopContext]
    private let listeners = Mutex<[Listener]>([])
    private let started = Atomic<Bool>(false)

    public var configuration: Configuration { core.configuration }

    public convenience init(
        configuration: Configuration = Configuration(), group: EventLoopGroup = .shared,
        workers: WorkerPool = .shared, handler: @escaping Handler
    ) {
        self.init(configuration: configuration, group: group, workers: workers, handling: .blocking(handler))
    }

    public convenience init(
        configuration: Configuration = Configuration(), group: EventLoopGroup = .shared,
        loopHandler: @escaping LoopHandler
    ) {
        self.init(configuration: configuration, group: group, workers: .shared, handling: .onLoop(loopHandler))
    }

    private init(configuration: Configuration, group: EventLoopGroup, workers: WorkerPool, handling: Handling) {
        let descriptors = FileLimit.raiseToHardLimit()
        var configuration = configuration
        if configuration.maxTCPConnections == nil {
            // What is left after the Unix socket's and the links' shares and room for files, databases and
            // outgoing calls.
            configuration.maxTCPConnections = max(
                64, descriptors - configuration.maxUnixConnections - configuration.maxLinkConnections - 256)
        }
        let core = ServerCore(configuration: configuration, workers: workers, handling: handling)
        self.core = core
        self.group = group
        let contexts = group.loops.map { ServerLoopContext(core: core, loop: $0) }
        self.contexts = contexts
        for context in contexts { context.siblings = contexts.filter { $0 !== context } }
    }

    /// Listens on a Unix socket path (replacing a stale socket file).
    public func listen(unixPath: String) throws(SocketError) {
        let fd = try Socket.listenUnix(path: unixPath)
        Socket.setNonBlocking(fd, true)
        listeners.withLock { $0.append(Listener(fd: fd, kind: .unix)) }
    }

    /// Listens on 127.0.0.1, plain HTTP; returns the port (the kernel's choice when `port` is 0).
    public func listen(tcpPort port: Int) throws(SocketError) -> Int {
        try listen(tcpHost: "127.0.0.1", port: port, tls: nil)
    }

    /// Listens on an IPv4 address (`0.0.0.0` for every interface); returns the port (the kernel's choice
    /// when `port` is 0). With `tls` the listener is a link between nodes (`ListenerKind.link`): every
    /// connection does a TLS handshake, presenting a client certificate, before its first request.
    public func listen(tcpHost host: String, port: Int, tls: TLSServerContext?) throws(SocketError) -> Int {
        let (fd, actual) = try Socket.listenTCP(host: host, port: port)
        Socket.setNonBlocking(fd, true)
        listeners.withLock { $0.append(Listener(fd: fd, kind: tls == nil ? .tcp : .link, tls: tls)) }
        return actual
    }

    /// Starts accepting on every listener, on every loop.
    public func start() {
        guard !started.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let listeners = self.listeners.withLock { $0 }
        for context in contexts {
            context.loop.execute { context.startAccepting(listeners) }
        }
    }

    public var isDraining: Bool { core.isDraining }

    /// Open connections (TCP, Unix, TLS links), for tests and status.
    public var openConnections: (tcp: Int, unix: Int, link: Int) {
        (core.openCount(.tcp), core.openCount(.unix), core.openCount(.link))
    }

    /// Connection limits in force (TCP, Unix, TLS links).
    public var connectionLimits: (tcp: Int, unix: Int, link: Int) {
        (core.limit(.tcp), core.limit(.unix), core.limit(.link))
    }

    /// Stops accepting, waits up to `drainMilliseconds` for requests in progress, then closes everything.
    /// Call it from outside the event loops.
    public func shutdown(drainMilliseconds: Int = 5000) {
        guard core.beginDraining() else { return }
        let released = Signal()
        let remaining = Atomic<Int>(contexts.count)
        for context in contexts {
            context.loop.execute {
                context.drain()
                if remaining.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 { released.fire() }
            }
        }
        while remaining.load(ordering: .acquiring) > 0 {
            released.wait(after: released.current, timeoutMilliseconds: 50)
        }
        // Every loop has stopped watching the listeners: they can be closed.
        for listener in listeners.withLock({ $0 }) { close(listener.fd) }
        listeners.withLock { $0 = [] }
        let deadline = Monotonic.now + drainMilliseconds
        while core.totalOpen > 0 && Monotonic.now < deadline {
            let seen = core.changed.current
            if core.totalOpen == 0 { break }
            core.changed.wait(after: seen, timeoutMilliseconds: 50)
        }
        guard core.totalOpen > 0 else { return }
        for context in contexts { context.loop.execute { context.closeAll() } }
        let forced = Monotonic.now + 500
        while core.totalOpen > 0 && Monotonic.now < forced {
            core.changed.wait(after: core.changed.current, timeoutMilliseconds: 20)
        }
    }
}

struct Listener: Sendable {
    var fd: Int32
    var kind: ListenerKind
    var tls: TLSServerContext? = nil
}

enum Handling: Sendable {
    case blocking(HTTPServer.Handler)
    case onLoop(HTTPServer.LoopHandler)
}

/// What every loop's part of a server shares: configuration, handler, counters and the draining flag.
final class ServerCore: Sendable {
    let configuration: HTTPServer.Configuration
    let workers: WorkerPool
    let handling: Handling
    private let draining = Atomic<Bool>(false)
    private let openTCP = Atomic<Int>(0)
    private let openUnix = Atomic<Int>(0)
    private let openLink = Atomic<Int>(0)
    /// Fired whenever a connection closes (shutdown waits on it).
    let changed = Signal()
    /// The 503 sent when a connection cannot be admitted.
    let unavailable: [UInt8]

    init(configuration: HTTPServer.Configuration, workers: WorkerPool, handling: Handling) {
        self.configuration = configuration
        self.workers = workers
        self.handling = handling
        var response = configuration.renderError(
            APIError.unavailable("The node is at its connection limit or shutting down; retry shortly"), "/")
        response.headers.set("Connection", "close")
        unavailable =
            MessageEncoding.responseHead(response, bodyLength: response.bodyBytes.count, close: true)
            + response.bodyBytes
    }

    var isDraining: Bool { draining.load(ordering: .acquiring) }

    /// Sets the draining flag; false when it was set already.
    func beginDraining() -> Bool { !draining.exchange(true, ordering: .acquiringAndReleasing) }

    /// The open-connection counter of a socket kind.
    private func count<Result>(_ kind: ListenerKind, _ body: (borrowing Atomic<Int>) -> Result) -> Result {
        switch kind {
        case .tcp: body(openTCP)
        case .unix: body(openUnix)
        case .link: body(openLink)
        }
    }

    func openCount(_ kind: ListenerKind) -> Int {
        count(kind) { $0.load(ordering: .acquiring) }
    }

    func limit(_ kind: ListenerKind) -> Int {
        switch kind {
        case .tcp: configuration.maxTCPConnections ?? 1024
        case .unix: configuration.maxUnixConnections
        case .link: configuration.maxLinkConnections
        }
    }

    var totalOpen: Int { openCount(.tcp) + openCount(.unix) + openCount(.link) }

    /// Takes a connection slot; false at the limit.
    func reserve(_ kind: ListenerKind) -> Bool {
        let limit = self.limit(kind)
        return count(kind) { open in
            if open.wrappingAdd(1, ordering: .acquiringAndReleasing).newValue <= limit { return true }
            open.wrappingSubtract(1, ordering: .acquiringAndReleasing)
            return false
        }
    }

    /// Takes a slot even at the limit (another loop is closing an idle connection to make room).
    func reserveOverLimit(_ kind: ListenerKind) {
        count(kind) { open -> Void in open.wrappingAdd(1, ordering: .acquiringAndReleasing) }
    }

    func release(_ kind: ListenerKind) {
        count(kind) { open -> Void in open.wrappingSubtract(1, ordering: .acquiringAndReleasing) }
        changed.fire()
        // Half a second after many connections closed, hand the freed memory back to the kernel (malloc
        // keeps it otherwise), so a burst of idle connections leaves the node's memory where it was.
        if closedSinceTrim.wrappingAdd(1, ordering: .relaxed).newValue >= ServerCore.closesBeforeTrim,
            !trimScheduled.exchange(true, ordering: .acquiringAndReleasing)
        {
            EventLoopGroup.shared.next().schedule(after: 500) { [self] in
                workers.submit { [self] in
                    closedSinceTrim.store(0, ordering: .relaxed)
                    trimScheduled.store(false, ordering: .releasing)
                    _ = malloc_trim(0)
                }
            }
        }
    }

    private let closedSinceTrim = Atomic<Int>(0)
    private let trimScheduled = Atomic<Bool>(false)
    static let closesBeforeTrim = 1024

    /// A transport error as bytes: the problem document (or the server's style) and `Connection: close`.
    func renderedError(_ error: APIError) -> [UInt8] {
        let response = configuration.renderError(error, "/")
        return MessageEncoding.responseHead(response, bodyLength: response.bodyBytes.count, close: true)
            + response.bodyBytes
    }
}

/// A server's part on one event loop: its listeners' watchers, the connections it accepted, and the
/// idle ones in the order they became idle. Used on the loop's thread only.
final class ServerLoopContext: @unchecked Sendable {
    let core: ServerCore
    let loop: EventLoop
    private var acceptors: [Acceptor] = []
    private var connections: [Int32: ServerConnection] = [:]
    /// Idle after at least one answer, per socket kind (closed first under pressure, like nginx).
    private let keepAliveTCP = ConnectionList()
    private let keepAliveUnix = ConnectionList()
    private let keepAliveLink = ConnectionList()
    /// Open but silent since accepted, per socket kind (closed next).
    private let freshTCP = ConnectionList()
    private let freshUnix = ConnectionList()
    private let freshLink = ConnectionList()

    init(core: ServerCore, loop: EventLoop) {
        self.core = core
        self.loop = loop
    }

    func keepAlive(_ kind: ListenerKind) -> ConnectionList {
        switch kind {
        case .tcp: keepAliveTCP
        case .unix: keepAliveUnix
        case .link: keepAliveLink
        }
    }

    func fresh(_ kind: ListenerKind) -> ConnectionList {
        switch kind {
        case .tcp: freshTCP
        case .unix: freshUnix
        case .link: freshLink
        }
    }

    func remove(_ connection: ServerConnection) { connection.list?.remove(connection) }

    func startAccepting(_ listeners: [Listener]) {
        guard !core.isDraining else { return }
        acceptors = listeners.map { Acceptor(listener: $0, context: self) }
        for acceptor in acceptors { acceptor.watch() }
    }

    /// The server's parts on the other loops (set once, before the server starts).
    var siblings: [ServerLoopContext] = []

    /// Idle connections of a kind on this loop (readable from any loop).
    func idleCount(_ kind: ListenerKind) -> Int {
        keepAlive(kind).published.load(ordering: .relaxed) + fresh(kind).published.load(ordering: .relaxed)
    }

    /// Closes this loop's longest-idle connection of a kind (keep-alive first, then silent new ones).
    func closeOldestIdle(_ kind: ListenerKind) -> Bool {
        guard let victim = keepAlive(kind).first ?? fresh(kind).first else { return false }
        victim.closeNow()
        return true
    }

    func admit(_ fd: Int32, listener: Listener) {
        let kind = listener.kind
        guard !core.isDraining else {
            close(fd)
            return
        }
        if !core.reserve(kind) {
            // At the limit: make room by closing the longest-idle connection of the same socket, on this
            // loop, or else on another loop (the new connection is admitted now, one over the limit until
            // that loop has closed its connection).
            if closeOldestIdle(kind) {
                guard core.reserve(kind) else {
                    reject(fd, kind: kind)
                    return
                }
            } else if let other = siblings.first(where: { $0.idleCount(kind) > 0 }) {
                other.loop.execute { _ = other.closeOldestIdle(kind) }
                core.reserveOverLimit(kind)
            } else {
                reject(fd, kind: kind)
                return
            }
        }
        if kind != .unix { Socket.setNoDelay(fd) }
        var session: TLSSession? = nil
        if let tls = listener.tls {
            session = try? TLSSession(server: tls, fd: fd)
            guard session != nil else {
                close(fd)
                core.release(kind)
                return
            }
        }
        let connection = ServerConnection(fd: fd, kind: kind, tls: session, context: self)
        connections[fd] = connection
        connection.start()
    }

    /// Refuses a connection: a 503 in plain text (a link, which speaks TLS only, is just closed).
    private func reject(_ fd: Int32, kind: ListenerKind) {
        if kind != .link {
            _ = core.unavailable.withUnsafeBytes { raw in
                send(fd, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
            }
        }
        close(fd)
    }

    func closed(_ connection: ServerConnection) {
        if connections[connection.fd] === connection { connections[connection.fd] = nil }
        core.release(connection.kind)
    }

    func drain() {
        for acceptor in acceptors { acceptor.stop() }
        acceptors = []
        for connection in Array(connections.values) { connection.drain() }
    }

    func closeAll() {
        for connection in Array(connections.values) { connection.closeNow() }
    }
}

/// Accepts connections on one listener for one loop. Every loop watches every listener with
/// EPOLLEXCLUSIVE, so the kernel wakes one loop per incoming connection.
final class Acceptor: LoopWatcher {
    let listener: Listener
    unowned let context: ServerLoopContext
    private var watching = false
    private var stopped = false

    init(listener: Listener, context: ServerLoopContext) {
        self.listener = listener
        self.context = context
    }

    func watch() {
        guard !watching, !stopped else { return }
        watching = true
        context.loop.watch(listener.fd, self, events: EpollEvents.input | EpollEvents.exclusive)
    }

    func stop() {
        stopped = true
        guard watching else { return }
        watching = false
        context.loop.unwatch(listener.fd)
    }

    func ready(_ events: UInt32) {
        // A bounded batch, so one busy listener cannot starve the others on this loop.
        for _ in 0..<64 {
            let fd = accept4(listener.fd, nil, nil, Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue))
            if fd >= 0 {
                context.admit(fd, listener: listener)
                if stopped { return }
                continue
            }
            switch errno {
            case EINTR, ECONNABORTED:
                continue
            case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                // Out of descriptors: leave the connection in the backlog and try again shortly.
                context.loop.unwatch(listener.fd)
                watching = false
                context.loop.after(100) { [weak self] in self?.watch() }
                return
            default:
                return
            }
        }
    }
}
