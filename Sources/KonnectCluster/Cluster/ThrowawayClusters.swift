import KonnectCore
import KonnectHTTP
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Clusters a foreground command starts in a temporary directory for its own use (scenario runs,
/// benchmarks, chaos runs). Nodes run in sessions of their own, because those `up` starts outlive the
/// command; so when such a command is interrupted (Ctrl-C, SIGTERM, SIGHUP), this stops the clusters it
/// holds and removes their directories, and an interrupted run leaves no node running.
public enum ThrowawayClusters {
    private struct Held: Sendable {
        var cluster: Cluster
        var removeDirectory: Bool
    }

    private static let held = Mutex<[String: Held]>([:])
    /// Set when an interrupt arrived: the command's own outcome no longer decides how the process exits.
    private static let interrupted = Atomic<Bool>(false)

    /// Stops `cluster` (and removes its directory when asked) if the command is interrupted.
    public static func hold(_ cluster: Cluster, removeDirectory: Bool) {
        held.withLock { $0[cluster.directory] = Held(cluster: cluster, removeDirectory: removeDirectory) }
    }

    /// The command stopped `cluster` itself.
    public static func release(_ cluster: Cluster) {
        _ = held.withLock { $0.removeValue(forKey: cluster.directory) }
    }

    /// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread and every thread it starts after this, and
    /// waits for them on a thread of its own: then stops every held cluster and exits with 130. Call before
    /// the command starts any thread.
    public static func stopOnInterrupt() {
        var blocked = interruptSignals()
        pthread_sigmask(SIG_BLOCK, &blocked, nil)
        spawnThread(name: "interrupt") {
            var signals = interruptSignals()
            var received: Int32 = 0
            sigwait(&signals, &received)
            interrupted.store(true, ordering: .sequentiallyConsistent)
            let clusters = held.withLock { Array($0.values) }
            if !clusters.isEmpty {
                let plural = clusters.count == 1 ? "" : "s"
                let line = Array(
                    "\ninterrupted: stopping the \(clusters.count) cluster\(plural) this command started\n".utf8)
                _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
            }
            for entry in clusters {
                _ = entry.cluster.down(graceMilliseconds: 2000)
                // A node started while the cluster was being stopped is found by its command line.
                NodeProcess.killAll(under: entry.cluster.directory)
                entry.cluster.removeNetwork()
                if entry.removeDirectory { removeTree(entry.cluster.directory) }
            }
            fflush(nil)
            _exit(130)
        }
    }

    /// Exits with the command's status, unless it was interrupted: then the interrupt's thread is stopping
    /// the clusters (which can make the command fail, a node it waited for gone) and exits with 130 when done.
    public static func exit(_ status: Int32) -> Never {
        while interrupted.load(ordering: .sequentiallyConsistent) { pause() }
        Glibc.exit(status)
    }

    private static func interruptSignals() -> sigset_t {
        var signals = sigset_t()
        sigemptyset(&signals)
        for signal in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&signals, signal) }
        return signals
    }
}
