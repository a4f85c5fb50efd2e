import KonnectCore
import KonnectHTTP
import Synchronization

/// Writes what a data plane or zone applied to its disk cache, off the apply path (D6): a change
/// becomes a delta file from the cached version (write, fsync, rename: it costs what it changes), and
/// once the delta files outgrow the snapshot, a new snapshot replaces them (`ConfigurationJournal`).
/// Versions applied while a write is in progress are merged into the next write, so the cache always
/// holds one applied version, never a mix. A version whose hash has not arrived yet (it follows its
/// delta) waits for it a little, so the file records it; past that, a delta file is written without
/// it (a snapshot, which needs it, computes it).
final class ConfigurationCacheWriter: Sendable {
    private struct Pending {
        /// The latest applied version.
        var record: ReplicaRecord
        /// When it was noted (monotonic milliseconds).
        var at: Int = Monotonic.now
        /// The changes from the version the cache holds to it; nil when only a snapshot will do.
        var delta: (from: Int64, changes: ConfigurationDelta)?
    }

    let store: ConfigurationCacheStore
    private let journal: Mutex<ConfigurationJournal>
    private let pending = Mutex<Pending?>(nil)
    /// One write at a time (the loop's, or the last one when the node stops).
    private let writing = Mutex(())
    private let queued = Signal()
    /// The version the disk cache holds.
    let cachedVersion: Mutex<Int64?>

    init(store: ConfigurationCacheStore, journal: ConfigurationJournal) {
        self.store = store
        self.journal = Mutex(journal)
        cachedVersion = Mutex(journal.version)
    }

    /// Notes an applied update (called in apply order, by the subscriber's thread).
    func applied(_ update: ConfigurationUpdate, record: ReplicaRecord) {
        pending.withLock { pending in
            guard case .delta(let delta) = update else {
                pending = Pending(record: record, delta: nil)
                return
            }
            guard let earlier = pending else {
                pending = Pending(record: record, delta: (delta.fromVersion, delta.changes))
                return
            }
            let chained = earlier.delta.flatMap { earlierDelta -> (from: Int64, changes: ConfigurationDelta)? in
                guard earlier.record.version == delta.fromVersion else { return nil }
                return (earlierDelta.from, earlierDelta.changes.followed(by: delta.changes))
            }
            // The first unwritten change's moment bounds how long the cache waits behind hashes.
            pending = Pending(record: record, at: earlier.at, delta: chained)
        }
        queued.fire()
    }

    /// How long a version waits for its hash before it is written without it.
    static let hashWaitMilliseconds = 1000

    /// Kong's hash of a version arrived after it was applied: the pending write records it.
    func hashKnown(version: Int64, hash: String) {
        pending.withLock { pending in
            if pending?.record.version == version { pending?.record.hash = hash }
        }
        queued.fire()
    }

    func wake() { queued.fire() }

    /// The loop: waits for an applied version, pauses briefly (so the fsync is not in the moment every
    /// data plane applies the change), writes, and on failure keeps the newest for the next attempt.
    func run(label: String, isStopping: @escaping @Sendable () -> Bool) {
        let log = LoopLog(loop: "\(label) configuration cache")
        while !isStopping() {
            let generation = queued.current
            guard pending.withLock({ $0 != nil }) else {
                queued.wait(after: generation, timeoutMilliseconds: 1000)
                continue
            }
            sleepMilliseconds(25)
            // The hash follows the delta: give it a moment, so the file records it.
            if let waiting = pending.withLock({ $0 }), waiting.record.hash == nil,
                Monotonic.now - waiting.at < ConfigurationCacheWriter.hashWaitMilliseconds
            {
                queued.wait(after: queued.current, timeoutMilliseconds: 50)
                continue
            }
            do {
                try writePending()
                log.succeeded()
            } catch {
                log.failed(error, next: "serving what runs from memory, writing it again in 1 s")
                queued.wait(after: queued.current, timeoutMilliseconds: 1000)
            }
        }
    }

    /// Writes what is pending, if anything; returns the version the cache then holds. On failure the
    /// newest version stays pending (as a snapshot: the journal no longer continues from it).
    @discardableResult
    func writePending() throws -> Int64? {
        try writing.withLock { _ in try writeNext() }
    }

    private func writeNext() throws -> Int64? {
        guard
            let next = pending.withLock({ pending -> Pending? in
                defer { pending = nil }
                return pending
            })
        else { return nil }
        do {
            try write(next)
        } catch {
            pending.withLock { pending in
                if pending == nil { pending = Pending(record: next.record, delta: nil) } else { pending?.delta = nil }
            }
            throw error
        }
        cachedVersion.withLock { $0 = next.record.version }
        return next.record.version
    }

    private func write(_ next: Pending) throws {
        let record = next.record
        var deltaWrite: (delta: SyncedDelta, bytes: Int)? = nil
        if let delta = next.delta {
            let synced = SyncedDelta(
                target: record.target, fromVersion: delta.from, version: record.version, hash: record.hash,
                digest: record.configuration.digest, changes: delta.changes, license: record.license)
            // The size the file will have, to decide between a delta file and a snapshot.
            let size = ConfigurationCacheStore.deltaFile(synced, receivedAt: record.receivedAt).count
            deltaWrite = (synced, size)
        }
        let plan = journal.withLock {
            $0.plan(
                to: record.version, delta: deltaWrite.map { ($0.delta.fromVersion, $0.bytes) },
                snapshotBytes: record.content.itemBytes + record.content.count + 1024)
        }
        switch plan {
        case .delta(let entry):
            guard let deltaWrite else { return }
            let written = try store.writeDelta(deltaWrite.delta, receivedAt: record.receivedAt)
            journal.withLock { $0.record(.delta(.init(from: entry.from, to: entry.to, bytes: written))) }
        case .snapshot(let version, _, let removing):
            let written = try store.writeSnapshot(record)
            journal.withLock { $0.record(.snapshot(version: version, bytes: written, removing: removing)) }
            if written >= MemoryRelease.threshold { MemoryRelease.returnFreedMemory() }
        }
    }
}
