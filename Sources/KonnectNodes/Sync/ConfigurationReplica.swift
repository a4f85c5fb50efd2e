import KonnectCore

/// What a data plane or zone derives from its configuration and updates per change, swapped together
/// with it: a data plane's route table.
protocol DerivedConfiguration: Sendable {
    init(content: ConfigurationContent)
    mutating func apply(_ delta: ConfigurationDelta)
}

extension RouteTable: DerivedConfiguration {}

/// A zone derives nothing: it serves its policies as they are.
struct NothingDerived: DerivedConfiguration {
    init(content: ConfigurationContent) {}
    mutating func apply(_ delta: ConfigurationDelta) {}
}

/// One version of a subscriber's configuration as it keeps it in memory and on disk: the items with
/// their digest, Kong's hash as the control plane computed it (nil between a delta and the `hash`
/// message that follows it), the license it came with, and when it arrived.
struct ReplicaRecord: Sendable {
    var target: SyncTarget
    var configuration: VersionedConfiguration
    var hash: String?
    var license: JSON
    var receivedAt: String

    var version: Int64 { configuration.version }
    var content: ConfigurationContent { configuration.content }

    /// The record as the full configuration's lines (what a snapshot file holds); a hash that has not
    /// arrived yet is computed from the content (the same MD5, off the apply path).
    var lines: [[UInt8]] {
        SyncMessage.configurationLines(
            target: target, version: version, hash: hash ?? content.kongHash, digest: configuration.digest,
            body: content, license: license, partBytes: SyncMessage.partBytes)
    }
}

/// What arrived from the control plane: a full configuration (its header and all its items, however
/// many parts they came in) or a delta.
enum ConfigurationUpdate: Sendable {
    case full(SyncedConfiguration, items: [ConfigurationItem])
    case delta(SyncedDelta)

    var version: Int64 {
        switch self {
        case .full(let configuration, _): configuration.version
        case .delta(let delta): delta.version
        }
    }

    var license: JSON {
        switch self {
        case .full(let configuration, _): configuration.license
        case .delta(let delta): delta.license
        }
    }
}

/// What a subscriber runs: its record and what it derives from it, swapped together, so that a data
/// plane's route table and the configuration it reports always match (C2).
struct Replica<Derived: DerivedConfiguration>: Sendable {
    var record: ReplicaRecord
    var derived: Derived

    init(record: ReplicaRecord) {
        self.record = record
        derived = Derived(content: record.content)
    }

    var version: Int64 { record.version }
    var hash: String? { record.hash }
    var license: JSON { record.license }
    var receivedAt: String { record.receivedAt }
    var content: ConfigurationContent { record.content }
}

/// An update checked against what runs, ready to apply: a full configuration already turned into a
/// replica (its digest verified), or a delta whose resulting digest was verified.
enum PreparedUpdate<Derived: DerivedConfiguration>: Sendable {
    case full(Replica<Derived>)
    case delta(SyncedDelta)
}

extension Replica {
    /// Checks `update` against `running` without changing anything: a full configuration must hold
    /// items the target's layout reads and lead to the digest it claims; a delta must start at the
    /// version that runs and lead to the digest it claims. The error says what did not hold.
    static func prepare(
        _ update: ConfigurationUpdate, running: Replica?, target: SyncTarget, receivedAt: String,
        digester: ItemDigester
    ) -> Result<PreparedUpdate<Derived>, ConfigurationError> {
        switch update {
        case .full(let message, let items):
            do {
                let content = try ConfigurationContent(layout: .of(target), items: items)
                let configuration = VersionedConfiguration(
                    version: message.version, content: content, digester: digester)
                guard configuration.digest == message.digest else {
                    return .failure(
                        ConfigurationError(
                            "the configuration version \(message.version) has digest \(configuration.digest.hex), not \(message.digest.hex) as the control plane says"
                        ))
                }
                let record = ReplicaRecord(
                    target: target, configuration: configuration, hash: message.hash, license: message.license,
                    receivedAt: receivedAt)
                return .success(.full(Replica(record: record)))
            } catch {
                return .failure(error)
            }
        case .delta(let delta):
            guard let running else {
                return .failure(
                    ConfigurationError("a delta from version \(delta.fromVersion) arrived, but nothing runs yet"))
            }
            guard delta.fromVersion == running.version else {
                return .failure(
                    ConfigurationError(
                        "a delta from version \(delta.fromVersion) does not apply to version \(running.version)"))
            }
            // Only the digest is computed here (no item changes); applying checks it again.
            let next = running.record.configuration.digest(after: delta.changes, digester: digester)
            guard next == delta.digest else {
                return .failure(
                    ConfigurationError(
                        "the delta from version \(delta.fromVersion) to \(delta.version) leads to digest \(next.hex), not \(delta.digest.hex) as the control plane says"
                    ))
            }
            return .success(.delta(delta))
        }
    }

    /// Applies a prepared update: a full configuration replaces what runs; a delta changes the items,
    /// the digest and what is derived, in place, or nothing when it does not verify.
    static func commit(
        _ prepared: PreparedUpdate<Derived>, to running: inout Replica?, receivedAt: String, digester: ItemDigester
    )
        throws(ConfigurationError)
    {
        switch prepared {
        case .full(let replica):
            running = replica
        case .delta(let delta):
            guard var current = running else {
                throw ConfigurationError("a delta from version \(delta.fromVersion) arrived, but nothing runs yet")
            }
            running = nil  // the only reference while changing, so the items change in place
            do {
                try current.record.configuration.apply(
                    delta.changes, from: delta.fromVersion, to: delta.version, expecting: delta.digest,
                    digester: digester)
            } catch {
                running = current
                throw error
            }
            current.derived.apply(delta.changes)
            current.record.hash = delta.hash
            current.record.license = delta.license
            current.record.receivedAt = receivedAt
            running = current
        }
    }
}
