import KonnectCluster
import KonnectNodes

#if canImport(Glibc)
    import Glibc
#endif

/// `konnect-sim console --dir DIR [--port N]`: prints the console's URL (with its token) on the first
/// line of standard output and serves until SIGINT, SIGTERM or SIGHUP, then stops and exits 0.
public enum ConsoleMain {
    public static func command(_ command: ParsedCommand) throws {
        let cluster = Cluster(directory: command.directory)
        guard cluster.configuration != nil else {
            throw ProcessError(
                "no cluster in \(cluster.directory); start one with 'konnect-sim up --dir \(command.directory)' first")
        }
        let port = try command.integer("port", range: 0...65535) ?? 0
        // Signals are collected by this thread; block them before any other thread starts.
        NodeRuntime.prepareSignals()
        let console: ConsoleServer
        do {
            console = try ConsoleServer(cluster: cluster, port: port)
        } catch {
            throw ProcessError("the console cannot listen on 127.0.0.1:\(port): \(error)")
        }
        // Written at once, not buffered: a script or test reads the URL while the console runs.
        say(console.url)
        say("konnect-sim console for \(cluster.directory), on loopback only; the token is required (Ctrl-C stops it)")
        NodeRuntime.waitForTermination()
        console.stop()
        say("console stopped")
    }

    static func say(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
    }
}
