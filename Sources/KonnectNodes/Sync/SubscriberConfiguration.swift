import KonnectCore
import KonnectHTTP
import Synchronization

/// What a data plane or zone runs (C2, D6): one version of its control plane's configuration and what
/// it derives from it, changed atomically by verified updates, kept on disk by a cache writer and
/// checked against its MD5 hash by an audit, both off the apply path.
final class SubscriberConfiguration<Derived: DerivedConfiguration>: Sendable {
    let target: SyncTarget
    private let state: Mutex<Replica<Derived>?>
    let cache: ConfigurationCacheWriter
    let audit = HashAudit()
    /// Monotonic nanoseconds at which each version was applied (for `bench sync`), newest last.
    let applied = Mutex<[(version: Int64, at: UInt64)]>([])
    private let label: String

    /// Starts from the disk cache (D6: a node restarted during an outage serves what it last applied).
    init(directory: String, name: String, target: SyncTarget, label: String) {
        self.target = target
        self.label = label
        let store = ConfigurationCacheStore(directory: directory, name: name, target: target)
        let loaded = store.load()
        state = Mutex(loaded.map { Replica(record: $0.record) })
        cache = ConfigurationCacheWriter(store: store, journal: loaded?.journal ?? ConfigurationJournal())
        if let loaded {
            Log.info(
                "loaded cached configuration version \(loaded.record.version) (\(loaded.record.hash ?? "hash computed on the next check")) from \(store.snapshotPath) and \(loaded.journal.entries.count) delta files"
            )
        }
    }

    /// What runs now (a copy: cheap, it shares storage).
    var current: Replica<Derived>? { state.withLock { $0 } }

    func withLock<T: Sendable>(_ body: (inout Replica<Derived>?) -> T) -> T { state.withLock { body(&$0) } }

    /// Starts the cache writer and the hash audit; a mismatch asks `resync` for the full configuration.
    func start(isStopping: @escaping @Sendable () -> Bool, resync: @escaping @Sendable (String) -> Void) {
        spawnThread(name: "\(label)-cache") { [self] in cache.run(label: label, isStopping: isStopping) }
        spawnThread(name: "\(label)-audit") { [self] in
            audit.run(label: label, current: { current?.record }, mismatch: resync, isStopping: isStopping)
        }
    }

    /// The node is stopping: what was applied and not cached yet is written now, and the loops are
    /// woken so they notice.
    func stop() {
        do {
            try cache.writePending()
        } catch {
            Log.error("\(label): cannot write the configuration cache while stopping: \(error)")
        }
        cache.wake()
        audit.note()
    }

    /// Checks an update against what runs (the subscriber calls this before its machine decides);
    /// `receivedAt` is the calendar's moment it arrived.
    func prepare(_ update: ConfigurationUpdate, receivedAt: String) -> Result<PreparedApply, ConfigurationError> {
        let running = current
        let changesLicense = running?.license != update.license
        return Replica<Derived>.prepare(
            update, running: running, target: target, receivedAt: receivedAt, digester: .sha256
        ).map { prepared in
            PreparedApply(changesLicense: changesLicense) { [self] () throws(ConfigurationError) in
                try apply(prepared, update, receivedAt: receivedAt)
            }
        }
    }

    /// Kong's hash of a version arrived after its delta: it is recorded when that version runs.
    func noteHash(_ hash: SyncedHash) {
        let known = state.withLock { running -> Bool in
            guard running?.version == hash.version else { return false }
            running?.record.hash = hash.hash
            return true
        }
        guard known else { return }
        cache.hashKnown(version: hash.version, hash: hash.hash)
        audit.note()
    }

    /// Applies a verified update atomically (what is derived changes with the configuration); the cache
    /// writer writes it to disk and the audit checks it later.
    private func apply(_ prepared: PreparedUpdate<Derived>, _ update: ConfigurationUpdate, receivedAt: String)
        throws(ConfigurationError)
    {
        let record = try state.withLock { running throws(ConfigurationError) -> ReplicaRecord? in
            try Replica.commit(prepared, to: &running, receivedAt: receivedAt, digester: .sha256)
            return running?.record
        }
        guard let record else { return }
        let stamp = Monotonic.nanoseconds
        applied.withLock { list in
            list.append((record.version, stamp))
            if list.count > 4096 { list.removeFirst(list.count - 4096) }
        }
        cache.applied(update, record: record)
        audit.note()
    }
}
