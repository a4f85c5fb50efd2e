import KonnectCore
import KonnectHTTP
import KonnectStorage

#if canImport(Glibc)
    import Glibc
#endif

/// What a running node publishes about itself in `node.json`, for `status`, the CLI and tests.
public struct NodeDescriptor: Sendable, Hashable {
    public var role: String
    public var name: String
    public var pid: Int32
    public var socket: String
    /// The address its public listener is bound to: loopback, or its host's address in a `netns` cluster.
    public var host: String
    public var port: Int
    public var startedAt: String
    public var extra: JSONObject

    public init(
        role: String, name: String, pid: Int32, socket: String, host: String = "127.0.0.1", port: Int,
        startedAt: String, extra: JSONObject = JSONObject()
    ) {
        self.role = role
        self.name = name
        self.pid = pid
        self.socket = socket
        self.host = host
        self.port = port
        self.startedAt = startedAt
        self.extra = extra
    }

    public var url: String { "http://\(host):\(port)" }

    /// Whether the node went through its graceful shutdown (it writes `stopped_at` last); a descriptor
    /// without it, of a process that is gone, is what a crash or kill -9 leaves.
    public var stoppedCleanly: Bool { extra["stopped_at"] != nil }

    public var json: JSON {
        var object = JSONObject([
            ("role", .string(role)), ("name", .string(name)), ("pid", .int(Int64(pid))), ("socket", .string(socket)),
            ("host", .string(host)), ("port", .int(port)), ("url", .string(url)), ("started_at", .string(startedAt)),
        ])
        for (key, value) in extra { object[key] = value }
        return .object(object)
    }

    public init?(json: JSON) {
        guard let role = json["role"]?.stringValue, let name = json["name"]?.stringValue,
            let pid = json["pid"]?.intValue,
            let socket = json["socket"]?.stringValue, let port = json["port"]?.intValue
        else { return nil }
        var extra = json.objectValue ?? JSONObject()
        for key in ["role", "name", "pid", "socket", "host", "port", "url", "started_at"] { extra[key] = nil }
        self.init(
            role: role, name: name, pid: Int32(pid), socket: socket, host: json["host"]?.stringValue ?? "127.0.0.1",
            port: Int(port),
            startedAt: json["started_at"]?.stringValue ?? "", extra: extra)
    }

    public static func read(directory: String) -> NodeDescriptor? {
        guard let bytes = readWholeFile(directory + "/node.json"), let json = try? JSONParser.parse(bytes) else {
            return nil
        }
        return NodeDescriptor(json: json)
    }
}

/// Files of a node's working directory.
public enum NodeFiles {
    public static func socket(_ directory: String) -> String { directory + "/sock" }
    public static func descriptor(_ directory: String) -> String { directory + "/node.json" }
    public static func log(_ directory: String) -> String { directory + "/node.log" }

    /// A run or node directory: only its owner may enter it (0700), also when an older version made it 0755.
    public static func makePrivateDirectory(_ path: String) {
        mkdir(path, 0o700)
        chmod(path, 0o700)
    }
}

/// Runs a node process: listens on its Unix socket and a loopback TCP port, publishes `node.json`,
/// then waits for SIGTERM or SIGINT and shuts down gracefully (stop accepting, drain, close in reverse).
public struct NodeRuntime {
    public let role: String
    public let name: String
    public let directory: String

    public init(role: String, name: String, directory: String) {
        self.role = role
        self.name = name
        self.directory = directory
    }

    /// Raises the descriptor limit to the hard limit, blocks termination signals in every thread (the main
    /// thread collects them with `sigwait`) and ignores SIGPIPE. Call before starting any thread. Everything
    /// the node creates from then on is its own: files 0600, directories 0700 (databases, caches, sockets,
    /// `node.json`). Large blocks of memory are mapped on their own (`MemoryRelease`).
    public static func prepareSignals() {
        umask(0o077)
        MemoryRelease.keepLargeBlocksOutOfArenas()
        // Connections are bounded by descriptors, not threads: take all the kernel allows.
        FileLimit.raiseToHardLimit()
        signal(SIGPIPE, SIG_IGN)
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGTERM)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGHUP)
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Serves `server` until a termination signal; `stop` runs first (ending background loops and
    /// streams), then the server stops accepting and drains in-flight requests.
    /// `tcpPort` nil means no public TCP listener (data planes have their own proxy port); the public
    /// listener is bound to `network.host`, and `network.listen` adds the TLS listener for node-to-node
    /// traffic.
    public func run(
        server: HTTPServer, network: NodeNetwork = NodeNetwork(), tcpPort: Int? = 0, advertisedPort: Int? = nil,
        extra: @escaping @Sendable () -> JSONObject = { JSONObject() },
        started: () -> Void = {}, stop: () -> Void = {}
    ) throws {
        let previous = NodeDescriptor.read(directory: directory)
        let socketPath = NodeFiles.socket(directory)
        try server.listen(unixPath: socketPath)
        var port = 0
        if let tcpPort {
            port = try NodeRuntime.listen(server, host: network.host, port: tcpPort, previous: previous?.port)
        }
        var details = extra()
        if let link = network.listen {
            let linkPort = try server.listen(tcpHost: link.host, port: link.port, tls: try network.serverContext())
            let advertised = link.host == "0.0.0.0" ? network.host : link.host
            details["link_url"] = .string(NodeLink.tls(host: advertised, port: linkPort).description)
        }
        server.start()
        let descriptor = NodeDescriptor(
            role: role, name: name, pid: getpid(), socket: socketPath, host: network.host,
            port: advertisedPort ?? port, startedAt: NodeRuntime.wallClockNow(), extra: details)
        try AtomicFile.write(descriptor.json.prettyText + "\n", to: NodeFiles.descriptor(directory))
        let links = details["link_url"]?.stringValue.map { ", node-to-node links on \($0)" } ?? ""
        Log.info(
            "\(role) \(name) listening on \(socketPath)\(descriptor.port > 0 ? " and \(descriptor.url)" : "")\(links) (pid \(getpid()))"
        )
        started()
        NodeRuntime.waitForTermination()
        Log.info("\(role) \(name) shutting down")
        stop()
        server.shutdown()
        unlink(socketPath)
        var stopped = descriptor
        stopped.extra["stopped_at"] = .string(NodeRuntime.wallClockNow())
        do {
            try AtomicFile.write(stopped.json.prettyText + "\n", to: NodeFiles.descriptor(directory))
        } catch {
            Log.warning("could not record the clean stop in \(NodeFiles.descriptor(directory)): \(error)")
        }
        Log.info("\(role) \(name) stopped")
    }

    /// Listens on `host`: on `port`, or (port 0) on the port of the previous run if it is free, so that
    /// clients of a restarted node find it where it was, else on one the kernel picks.
    public static func listen(_ server: HTTPServer, host: String, port: Int, previous: Int?) throws -> Int {
        let wanted = port != 0 ? port : (previous ?? 0)
        if wanted != 0, let reused = try? server.listen(tcpHost: host, port: wanted, tls: nil) { return reused }
        return try server.listen(tcpHost: host, port: port, tls: nil)
    }

    /// Blocks until SIGTERM, SIGINT or SIGHUP.
    public static func waitForTermination() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGTERM)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGHUP)
        var received: Int32 = 0
        while sigwait(&set, &received) != 0 {}
    }

    /// Wall-clock time for operational records (process start), never for business rules.
    public static func wallClockNow() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return SimTime(seconds: Int64(now.tv_sec)).iso8601
    }
}
