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
        let server = HTTPServer { request, listener in router.handle(request, listener: listener) }
        try NodeRuntime(role: "auth", name: "auth", directory: configuration.directory).run(server: server)
    }

    public static func runGeo(_ configuration: GeoConfiguration) throws {
        NodeRuntime.prepareSignals()
        let node = try GeoNode(configuration: configuration)
        let router = node.router
        let server = HTTPServer { request, listener in router.handle(request, listener: listener) }
        try NodeRuntime(role: "geo", name: configuration.name, directory: configuration.directory).run(
            server: server, started: { node.startBackgroundWork() }, stop: { node.stop() })
    }
}
