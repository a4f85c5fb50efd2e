import KonnectCore
import KonnectHTTP
import Synchronization

/// Checks, off the apply path, that the configuration a data plane or zone runs has the MD5 hash the
/// control plane sent with it (C1, C2). Each applied version was already verified by its digest before
/// the swap; this second check covers the build itself. It runs once changes pause (half a second
/// without one, or five seconds after the first unchecked one while they keep coming), on the latest
/// version only, at the thread's lowest priority, because MD5 over a large configuration on every
/// data plane for every change would not fit the sync budget. A mismatch is logged and asks for the
/// full configuration.
final class HashAudit: Sendable {
    private let applied = Signal()
    /// Versions checked, and the last result (for tests).
    let checked = Mutex<(count: Int, lastVersion: Int64?)>((0, nil))

    static let quietMilliseconds = 500
    static let longestDelayMilliseconds = 5000

    /// A version was applied.
    func note() { applied.fire() }

    /// The loop: `current` is what runs, `mismatch` is told why it does not hash as it should.
    func run(
        label: String, current: () -> ReplicaRecord?, mismatch: (String) -> Void, isStopping: () -> Bool
    ) {
        BackgroundPriority.lowerThisThread()
        var lastChecked: (version: Int64, hash: String)? = nil
        while !isStopping() {
            let seen = applied.current
            // Wait for something to check: a version whose hash arrived (only its version and hash are
            // kept while waiting, so the items are never pinned and an apply never copies them).
            let running = current().flatMap { record in record.hash.map { (version: record.version, hash: $0) } }
            if let running, lastChecked.map({ $0.version != running.version || $0.hash != running.hash }) ?? true {
                // Then for a pause in the changes, but not forever.
                let started = Monotonic.now
                var generation = seen
                while !isStopping() && Monotonic.now - started < HashAudit.longestDelayMilliseconds {
                    let next = applied.wait(after: generation, timeoutMilliseconds: HashAudit.quietMilliseconds)
                    if next == generation { break }
                    generation = next
                }
                if isStopping() { return }
                guard let latest = current(), let expected = latest.hash else { continue }
                let hash = latest.content.kongHash
                lastChecked = (latest.version, expected)
                checked.withLock { $0 = ($0.count + 1, latest.version) }
                if hash != expected {
                    let reason =
                        "the configuration version \(latest.version) hashes to \(hash), not \(expected) as the control plane says"
                    Log.error("\(label): \(reason); asking for the full configuration")
                    mismatch(reason)
                }
                continue
            }
            applied.wait(after: seen, timeoutMilliseconds: 1000)
        }
    }
}
