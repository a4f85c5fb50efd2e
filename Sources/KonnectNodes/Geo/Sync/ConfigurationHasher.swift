import KonnectHTTP
import Synchronization

/// Computes Kong's MD5 hash of the builds whose delta already went out, on one thread at the lowest
/// priority, so that the hash never competes with the data planes applying that delta (C1, C2). A
/// build superseded before its turn is skipped (latest version only). When a hash is ready, the push
/// streams are woken to send it, and memory freed by the change's work goes back to the system.
final class ConfigurationHasher: Sendable {
    private let queue = Mutex<[ConfigurationBuild]>([])
    private let queued = Signal()
    private let stop: StopFlag
    private let ready: @Sendable () -> Void

    init(stop: StopFlag, ready: @escaping @Sendable () -> Void) {
        self.stop = stop
        self.ready = ready
    }

    /// Asks for the build's hash (at most once per build; a newer build of the same control plane
    /// replaces an older one still waiting).
    func request(_ build: ConfigurationBuild) {
        let added = queue.withLock { queue -> Bool in
            guard !queue.contains(where: { $0 === build }) else { return false }
            queue.removeAll { $0.target == build.target && $0.version < build.version }
            queue.append(build)
            return true
        }
        if added { queued.fire() }
    }

    /// Wakes the loop so it notices the node is stopping.
    func wake() { queued.fire() }

    func run() {
        BackgroundPriority.lowerThisThread()
        while !stop.isStopping {
            let generation = queued.current
            guard let next = queue.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) else {
                queued.wait(after: generation, timeoutMilliseconds: 1000)
                continue
            }
            _ = next.hash
            ready()
            // A change's work is spread over every stream's thread; what it freed goes back to the
            // system here, off the path of the next change (once per version built, coalesced).
            if next.content.itemBytes >= MemoryRelease.threshold { MemoryRelease.returnFreedMemory() }
        }
    }
}
