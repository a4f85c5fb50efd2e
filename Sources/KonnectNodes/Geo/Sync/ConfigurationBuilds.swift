import KonnectCore
import Synchronization

/// Where a control plane's configuration stands in the database: its version, how far back its change
/// log reaches, whose it is, and why the operator decommissioned it (nil while commissioned).
struct ConfigurationHead: Sendable, Equatable {
    var version: Int64
    var changesSince: Int64
    var organizationID: String
    var decommissioned: String?
}

/// How one kind of control plane's configuration is read from the stores: Gateway control planes
/// (Kong entities, for data planes) or Mesh global control planes (meshes and policies, for zones).
struct ConfigurationSource: Sendable {
    let layout: ConfigurationLayout
    /// What the subscribers call it in messages ("control plane", "Mesh global control plane").
    let noun: String
    let target: @Sendable (String) -> SyncTarget
    let head: @Sendable (String, GeoSnapshot) throws -> ConfigurationHead?
    let items: @Sendable (String, GeoSnapshot) throws -> [ConfigurationItem]
    /// The organization's license its subscribers receive (P4).
    let license: @Sendable (OrganizationLicenses?) -> JSON
    let changes: ConfigurationChangeStore

    static func gateway(_ stores: GeoStores) -> ConfigurationSource {
        let controlPlanes = stores.controlPlanes
        let entities = stores.entities
        return ConfigurationSource(
            layout: .gateway, noun: "control plane", target: { .controlPlane(id: $0) },
            head: { id, snapshot in
                try controlPlanes.find(id, in: snapshot).map {
                    ConfigurationHead(
                        version: $0.configVersion, changesSince: $0.changesSince, organizationID: $0.organizationID,
                        decommissioned: $0.decommissioned)
                }
            },
            items: { id, snapshot in try entities.items(controlPlane: id, in: snapshot) },
            license: { $0?.gateway ?? .null }, changes: stores.entityChanges)
    }

    static func mesh(_ stores: GeoStores) -> ConfigurationSource {
        let meshControlPlanes = stores.meshControlPlanes
        let resources = stores.meshResources
        return ConfigurationSource(
            layout: .mesh, noun: "Mesh global control plane", target: { .meshControlPlane(id: $0) },
            head: { id, snapshot in
                try meshControlPlanes.find(id, in: snapshot).map {
                    ConfigurationHead(
                        version: $0.configVersion, changesSince: $0.changesSince, organizationID: $0.organizationID,
                        decommissioned: nil)
                }
            },
            items: { id, snapshot in try resources.items(meshControlPlane: id, in: snapshot) },
            license: { $0?.mesh ?? .null }, changes: stores.meshResourceChanges)
    }
}

/// One version of a control plane's configuration, built once: its items with their digest, and
/// Kong's hash, computed the first time something asks for it (MD5 needs the whole configuration, so
/// a delta is sent without waiting for it). The lines sent to subscribers are encoded once per
/// license and kept with it.
final class ConfigurationBuild: Sendable {
    let target: SyncTarget
    let head: ConfigurationHead
    let configuration: VersionedConfiguration
    private let knownHash: Mutex<String?>
    private let lines = Mutex<Lines>(Lines())

    private struct Lines {
        var full: (license: JSON, lines: [[UInt8]])?
        /// Deltas to this version by the version they start from (a few: subscribers are mostly at one).
        var deltas: [Int64: (license: JSON, line: [UInt8])] = [:]
    }

    init(target: SyncTarget, head: ConfigurationHead, configuration: VersionedConfiguration, hash: String? = nil) {
        self.target = target
        self.head = head
        self.configuration = configuration
        knownHash = Mutex(hash)
    }

    /// Kong's hash: MD5 of the build, kept once computed. It is computed outside the lock, so a
    /// caller never waits for the low-priority hasher (two callers racing may both compute it once).
    var hash: String {
        if let known = hashIfComputed { return known }
        let computed = configuration.content.kongHash
        return knownHash.withLock { known in
            if let known { return known }
            known = computed
            return computed
        }
    }

    /// The hash when it was already computed.
    var hashIfComputed: String? { knownHash.withLock { $0 } }

    var version: Int64 { configuration.version }
    var content: ConfigurationContent { configuration.content }

    /// The full configuration's lines with this license (a header and parts when it is large),
    /// encoded once.
    func fullLines(license: JSON) -> [[UInt8]] {
        if let cached = lines.withLock({ $0.full }), cached.license == license { return cached.lines }
        let encoded = SyncMessage.configurationLines(
            target: target, version: version, hash: hash, digest: configuration.digest, body: content, license: license,
            partBytes: SyncMessage.partBytes)
        lines.withLock { $0.full = (license, encoded) }
        return encoded
    }

    /// The line of a delta from `from`, encoded once per license by `encode`.
    func deltaLine(from: Int64, license: JSON, encode: () throws -> [UInt8]?) rethrows -> [UInt8]? {
        if let cached = lines.withLock({ $0.deltas[from] }), cached.license == license { return cached.line }
        guard let line = try encode() else { return nil }
        lines.withLock { lines in
            if lines.deltas.count >= 16 { lines.deltas.removeAll() }
            lines.deltas[from] = (license, line)
        }
        return line
    }

    /// Memory it holds beyond its items, roughly (for the cache's budget).
    var bytes: Int { content.itemBytes * 2 }
}

/// The latest configuration of each control plane, built at most once per version and only when
/// something needs it (a subscriber connecting or behind, `expected-config-hash`, the configuration
/// endpoint), never inside a write (C1, issue 12). A build brings the previous one forward by the
/// change log's item changes (a burst of 1,000 writes is one build, of what they changed), or, when
/// there is none, reads every item's stored canonical bytes. Callers asking for the same control
/// plane at once wait for one build. The builds of the control planes used least recently are
/// dropped beyond a memory budget.
final class ConfigurationBuilds: Sendable {
    private let database: GeoDatabase
    let source: ConfigurationSource
    private let digester: ItemDigester
    private let budgetBytes: Int
    private let entries = Mutex<[String: Entry]>([:])
    private let clock = Atomic<UInt64>(0)
    /// Builds made, full or forward (for tests and the node's status).
    let made = Atomic<Int>(0)

    private final class Entry: Sendable {
        let build = Mutex<ConfigurationBuild?>(nil)
        let lastUsed = Atomic<UInt64>(0)
        let bytes = Atomic<Int>(0)
    }

    init(
        database: GeoDatabase, source: ConfigurationSource, digester: ItemDigester = .sha256,
        budgetBytes: Int = 48 << 20
    ) {
        self.database = database
        self.source = source
        self.digester = digester
        self.budgetBytes = budgetBytes
    }

    /// The configuration at the control plane's latest committed version; nil when it does not exist.
    func latest(_ id: String) throws -> ConfigurationBuild? {
        let entry = entries.withLock { entries in
            if let found = entries[id] { return found }
            let created = Entry()
            entries[id] = created
            return created
        }
        entry.lastUsed.store(clock.add(1, ordering: .relaxed).newValue, ordering: .relaxed)
        let build = try entry.build.withLock { current -> ConfigurationBuild? in
            let next = try database.read { snapshot -> ConfigurationBuild? in
                guard let head = try source.head(id, snapshot) else { return nil }
                if let current, current.version == head.version {
                    return current.head == head
                        ? current
                        : ConfigurationBuild(
                            target: current.target, head: head, configuration: current.configuration,
                            hash: current.hashIfComputed
                        )
                }
                return try self.build(id, head: head, after: current, in: snapshot)
            }
            current = next
            return next
        }
        entry.bytes.store(build?.bytes ?? 0, ordering: .relaxed)
        if build == nil { entries.withLock { _ = $0.removeValue(forKey: id) } }
        keepWithinBudget()
        return build
    }

    private func build(
        _ id: String, head: ConfigurationHead, after previous: ConfigurationBuild?, in snapshot: GeoSnapshot
    )
        throws -> ConfigurationBuild
    {
        made.add(1, ordering: .relaxed)
        var configuration: VersionedConfiguration
        if let previous, previous.version < head.version, previous.version >= head.changesSince {
            configuration = previous.configuration
            let changes = try source.changes.changes(
                target: id, after: previous.version, through: head.version, in: snapshot)
            try configuration.apply(
                ConfigurationDelta(merging: changes), from: previous.version, to: head.version, expecting: nil,
                digester: digester)
        } else {
            let content = try ConfigurationContent(layout: source.layout, items: try source.items(id, snapshot))
            configuration = VersionedConfiguration(version: head.version, content: content, digester: digester)
            // The rows read for it are gone: their memory goes back to the system.
            if content.itemBytes >= MemoryRelease.threshold { MemoryRelease.returnFreedMemory() }
        }
        return ConfigurationBuild(target: source.target(id), head: head, configuration: configuration)
    }

    /// Drops the least recently used builds while their memory is over the budget (never the last one).
    private func keepWithinBudget() {
        entries.withLock { entries in
            var total = entries.values.reduce(0) { $0 + $1.bytes.load(ordering: .relaxed) }
            guard total > budgetBytes else { return }
            let byAge = entries.sorted {
                $0.value.lastUsed.load(ordering: .relaxed) < $1.value.lastUsed.load(ordering: .relaxed)
            }
            for (id, entry) in byAge.dropLast() where total > budgetBytes {
                total -= entry.bytes.load(ordering: .relaxed)
                entries[id] = nil
            }
        }
    }

    /// The changes after `from` up to `build`'s version, merged; nil when the change log no longer
    /// reaches back to `from`.
    func delta(_ id: String, from: Int64, to build: ConfigurationBuild) throws -> ConfigurationDelta? {
        try database.read { snapshot in
            guard let head = try source.head(id, snapshot), head.changesSince <= from else { return nil }
            return ConfigurationDelta(
                merging: try source.changes.changes(target: id, after: from, through: build.version, in: snapshot))
        }
    }
}
