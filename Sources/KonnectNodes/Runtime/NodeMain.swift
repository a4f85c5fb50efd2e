import KonnectCore
import KonnectHTTP

/// Entry points of the node processes (`konnect-sim node <role> ...`). Each returns only when the
/// node has shut down.
public enum NodeMain {
    public static func runAuth(_ configuration: AuthConfiguration) throws {
        NodeRuntime.prepareSignals()
        let node = try AuthNode(configuration: configuration)
        try node.resumeInterruptedAdvance()
        let router = node.router
        let server = HTTPServer(handler: NodeNetwork.guarded(router))
        try NodeRuntime(role: "auth", name: "auth", directory: configuration.directory).run(
            server: server, network: configuration.network, tcpPort: configuration.network.port, stop: { node.stop() })
        // Requests have drained: what they recorded off their path reaches the database before exit.
        do {
            try node.finish()
        } catch {
            Log.error("auth: the last token uses could not be written at shutdown: \(error)")
        }
    }

    public static func runGeo(_ configuration: GeoConfiguration) throws {
        NodeRuntime.prepareSignals()
        let node = try GeoNode(configuration: configuration)
        let router = node.router
        let server = HTTPServer(handler: NodeNetwork.guarded(router))
        try NodeRuntime(role: "geo", name: configuration.name, directory: configuration.directory).run(
            server: server, network: configuration.network, tcpPort: configuration.network.port,
            started: { node.startBackgroundWork() },
            stop: { node.stop() })
    }

    public static func runDataPlane(_ configuration: DataPlaneConfiguration) throws {
        NodeRuntime.prepareSignals()
        let node = try DataPlaneNode(configuration: configuration)
        var proxyConfiguration = HTTPServer.Configuration()
        proxyConfiguration.limits = HTTPLimits(maxHeadBytes: 16 * 1024, maxBodyBytes: 8 * 1024 * 1024)
        proxyConfiguration.renderError = { error, _ in DataPlaneNode.proxyError(error.status, error.detail) }
        let proxy = HTTPServer(configuration: proxyConfiguration) { request, _, pending in node.proxy(request, pending)
        }
        let port = try NodeRuntime.listen(
            proxy, host: configuration.network.host, port: configuration.proxyPort,
            previous: NodeDescriptor.read(directory: configuration.directory)?.port)
        node.proxyPort.withLock { $0 = port }
        proxy.start()
        let admin = Router(
            routes: [
                Router.route("GET", "/health") { _ in
                    HTTPResponse.json(["status": "ok", "role": "data-plane", "name": .string(configuration.name)])
                },
                Router.route("GET", "/status") { _ in HTTPResponse.json(node.statusJSON) },
                Router.route("GET", "/config") { _ in
                    HTTPResponse.json(
                        node.running.withLock {
                            $0.map {
                                [
                                    "version": .int($0.version), "hash": .optional($0.hash),
                                    "config": (try? JSONParser.parse($0.content.canonicalBytes)) ?? .null,
                                ]
                            }
                        } ?? .null)
                },
                Router.route("GET", "/version") { _ in
                    HTTPResponse.json([
                        "version": .optional(node.running.withLock { $0?.version }),
                        "cached_version": .optional(node.running.cache.cachedVersion.withLock { $0 }),
                    ])
                },
                Router.route("GET", "/applied") { _ in
                    HTTPResponse.json(
                        .array(
                            node.running.applied.withLock { $0 }.map {
                                ["version": .int($0.version), "monotonic_ns": .int(Int64(bitPattern: $0.at))]
                            }))
                },
            ], log: { Log.error($0) })
        let server = HTTPServer { request, listener in admin.handle(request, listener: listener) }
        try NodeRuntime(role: "data-plane", name: configuration.name, directory: configuration.directory).run(
            server: server, network: configuration.network, tcpPort: nil, advertisedPort: port,
            extra: {
                [
                    "node_id": .string(node.nodeID), "geo": .string(configuration.geo),
                    "control_plane_id": .string(configuration.controlPlaneID),
                ]
            },
            started: { node.start() },
            stop: {
                node.stop()
                proxy.shutdown(drainMilliseconds: 3000)
            })
    }

    public static func runUpstream(directory: String, name: String, port: Int, network: NodeNetwork = NodeNetwork())
        throws
    {
        NodeRuntime.prepareSignals()
        let server = HTTPServer { request, _ in EchoUpstream.handle(request, name: name) }
        try NodeRuntime(role: "upstream", name: name, directory: directory).run(
            server: server, network: network, tcpPort: port)
    }

    public static func runZone(_ configuration: ZoneConfiguration) throws {
        NodeRuntime.prepareSignals()
        let node = try ZoneNode(configuration: configuration)
        let router = node.router
        let server = HTTPServer(handler: NodeNetwork.guarded(router))
        try NodeRuntime(role: "zone", name: configuration.name, directory: configuration.directory).run(
            server: server, network: configuration.network, started: { node.start() }, stop: { node.stop() })
    }
}
