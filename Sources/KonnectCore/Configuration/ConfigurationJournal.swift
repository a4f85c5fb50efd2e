/// A subscriber's disk cache as a snapshot plus delta files (D6): each applied change is written as a
/// delta from the cached version (a change costs what it changes); once the delta files together are
/// larger than the snapshot, the next write is a new snapshot and the delta files go. Pure: the shell
/// asks for a plan, writes it (write, fsync, rename), then records it.
public struct ConfigurationJournal: Sendable, Hashable {
    /// One delta file: from one version to another, and its size on disk.
    public struct Entry: Sendable, Hashable {
        public var from: Int64
        public var to: Int64
        public var bytes: Int

        public init(from: Int64, to: Int64, bytes: Int) {
            self.from = from
            self.to = to
            self.bytes = bytes
        }
    }

    /// What to write next.
    public enum Write: Sendable, Hashable {
        /// A delta file continuing the journal.
        case delta(Entry)
        /// A snapshot of `version`, `bytes` long; then these delta files are removed.
        case snapshot(version: Int64, bytes: Int, removing: [Entry])
    }

    public private(set) var snapshotVersion: Int64?
    public private(set) var snapshotBytes: Int
    public private(set) var entries: [Entry]

    /// What the disk holds: a snapshot (or none) and the delta files that continue it, in order.
    public init(snapshotVersion: Int64? = nil, snapshotBytes: Int = 0, entries: [Entry] = []) {
        self.snapshotVersion = snapshotVersion
        self.snapshotBytes = snapshotBytes
        self.entries = entries
    }

    /// The version the cache holds.
    public var version: Int64? { entries.last?.to ?? snapshotVersion }
    public var journalBytes: Int { entries.reduce(0) { $0 + $1.bytes } }

    /// How to move the cache to `version`. `delta` is the delta from the cached version (nil when the
    /// change is not a delta from it: a full configuration, or a cache that lags behind what a delta
    /// starts from) with its encoded size; `snapshotBytes` is the size a snapshot would have.
    public func plan(to version: Int64, delta: (from: Int64, bytes: Int)?, snapshotBytes newSnapshotBytes: Int)
        -> Write
    {
        // A delta continues the journal only when it starts at its end and moves the version on (a
        // license-only change at the same version is written as a snapshot).
        if let delta, snapshotVersion != nil, delta.from == self.version, version > delta.from,
            journalBytes + delta.bytes <= snapshotBytes
        {
            return .delta(Entry(from: delta.from, to: version, bytes: delta.bytes))
        }
        return .snapshot(version: version, bytes: newSnapshotBytes, removing: entries)
    }

    /// Notes that `write` is on disk.
    public mutating func record(_ write: Write) {
        switch write {
        case .delta(let entry):
            entries.append(entry)
        case .snapshot(let version, let bytes, _):
            snapshotVersion = version
            snapshotBytes = bytes
            entries = []
        }
    }
}
