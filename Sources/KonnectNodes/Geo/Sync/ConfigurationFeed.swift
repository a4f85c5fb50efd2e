import KonnectCore
import KonnectHTTP
import Synchronization

/// What the subscribers of one kind of control plane are sent (C2, D5, P4): data planes of Gateway
/// control planes, zones of Mesh global control planes. Where a control plane stands is read once per
/// change and shared by every stream; its configuration is built once per version
/// (`ConfigurationBuilds`), and each message is encoded once and shared by the subscribers at the same
/// version, however many are connected.
final class ConfigurationFeed: Sendable {
    let builds: ConfigurationBuilds
    private let hasher: ConfigurationHasher
    private let database: GeoDatabase
    private let decommissions: DecommissionStore
    private let licenses: LicenseBook
    private let wakeups: GeoWakeups
    /// Where each control plane stands, and its latest build, as of a wake-up generation: the streams
    /// woken by one change share one look-up instead of one database read each.
    private let states = GenerationCache<SyncState>()
    private let latest = GenerationCache<ConfigurationBuild?>()
    /// Test-only (`KONNECT_SIM_TEST_CORRUPT_DELTA`): the next delta sent is corrupted, once.
    private let corruptNextDelta: Atomic<Bool>

    init(
        builds: ConfigurationBuilds, hasher: ConfigurationHasher, database: GeoDatabase,
        decommissions: DecommissionStore, licenses: LicenseBook, wakeups: GeoWakeups, corruptOneDelta: Bool = false
    ) {
        self.builds = builds
        self.hasher = hasher
        self.database = database
        self.decommissions = decommissions
        self.licenses = licenses
        self.wakeups = wakeups
        corruptNextDelta = Atomic(corruptOneDelta)
    }

    private var source: ConfigurationSource { builds.source }

    /// Where the control plane stands: deleted, decommissioned (by the operator, or with its whole
    /// organization), or active at a version with the organization's license.
    func state(_ id: String) throws -> SyncState {
        let state = try states.value(id, generation: wakeups.streams.current) {
            try database.read { snapshot -> SyncState in
                guard let head = try source.head(id, snapshot) else { return .deleted }
                if let reason = try decommissions.reason(organization: head.organizationID, in: snapshot) {
                    return .decommissioned(
                        reason: "organization deactivated (\(reason)): the \(source.noun) is decommissioned")
                }
                if let reason = head.decommissioned { return .decommissioned(reason: reason) }
                let license = source.license(try licenses.licenses(organization: head.organizationID, in: snapshot))
                return .active(version: head.version, license: license)
            }
        }
        if state == .deleted {
            states.remove(id)
            latest.remove(id)
        }
        return state
    }

    /// The message that brings a subscriber running `subscriber` (nil: nothing, or it asked for
    /// everything) to the latest version: the changes since its version when the change log reaches
    /// back to it and they are smaller than the configuration, the full configuration otherwise.
    func update(_ id: String, from subscriber: Int64?) throws -> SyncUpdate {
        guard let build = try latestBuild(id) else {
            throw APIError.notFound("The \(source.noun) was deleted")
        }
        let license = source.license(try licenses.licenses(organization: build.head.organizationID))
        if case .delta(let from) = SyncPlan.choose(
            subscriber: subscriber, current: build.version, changesSince: build.head.changesSince),
            let line = try build.deltaLine(
                from: from, license: license,
                encode: {
                    guard let changes = try builds.delta(id, from: from, to: build),
                        SyncPlan.prefersDelta(changes, over: build.content)
                    else { return nil }
                    return SyncMessage.delta(delta(build, from: from, changes: changes, license: license)).line
                })
        {
            let hashFollows = !ConfigurationFeed.hashRidesAlong(build)
            if corruptNextDelta.load(ordering: .relaxed), let changes = try builds.delta(id, from: from, to: build),
                !changes.isEmpty, corruptNextDelta.exchange(false, ordering: .relaxed)
            {
                let line = corrupted(build, from: from, changes: changes, license: license)
                return SyncUpdate(version: build.version, line: line, isDelta: true, hashFollows: hashFollows)
            }
            return SyncUpdate(version: build.version, line: line, isDelta: true, hashFollows: hashFollows)
        }
        return SyncUpdate(version: build.version, lines: build.fullLines(license: license), isDelta: false)
    }

    /// Kong's hash of `version`, to send after the delta that led to it: ready, still being computed
    /// (the hasher wakes the streams when it is), or superseded by a later version (whose own hash
    /// follows its own delta).
    func hash(_ id: String, version: Int64) throws -> HashMessage {
        guard let build = try latestBuild(id), build.version == version else { return .superseded }
        guard let hash = build.hashIfComputed else {
            hasher.request(build)
            return .pending
        }
        let line = SyncMessage.hash(SyncedHash(target: build.target, version: version, hash: hash)).line
        return .ready(SyncUpdate(version: version, line: line, isDelta: false, isHash: true))
    }

    private func latestBuild(_ id: String) throws -> ConfigurationBuild? {
        try latest.value(id, generation: wakeups.streams.current) { try builds.latest(id) }
    }

    /// Whether a delta to this build carries its hash: when the configuration is small enough that MD5
    /// over it costs next to nothing (a part's worth of items, well under a millisecond). A larger
    /// one's hash follows in its own message, built off the delta's path.
    static func hashRidesAlong(_ build: ConfigurationBuild) -> Bool {
        build.content.itemBytes <= SyncMessage.partBytes
    }

    private func delta(_ build: ConfigurationBuild, from: Int64, changes: ConfigurationDelta, license: JSON)
        -> SyncedDelta
    {
        SyncedDelta(
            target: build.target, fromVersion: from, version: build.version,
            hash: ConfigurationFeed.hashRidesAlong(build) ? build.hash : nil, digest: build.configuration.digest,
            changes: changes, license: license)
    }

    /// The test switch's delta: one changed item altered (or one removal left out) under the digest and
    /// hash of the real change, as a corruption in transit would be.
    private func corrupted(_ build: ConfigurationBuild, from: Int64, changes: ConfigurationDelta, license: JSON)
        -> [UInt8]
    {
        var upserts = changes.upserts
        var deletes = changes.deletes
        if var first = upserts.first, case .object(var object)? = try? JSONParser.parse(first.bytes) {
            object["tags"] = .strings(["corrupted-in-transit"])
            first.bytes = JSON.object(object).canonicalBytes
            upserts[0] = first
        } else if !deletes.isEmpty {
            deletes.removeFirst()
        }
        Log.warning(
            "test switch KONNECT_SIM_TEST_CORRUPT_DELTA: sending a corrupted delta from version \(from) to \(build.version) of \(build.target.id)"
        )
        return SyncMessage.delta(
            delta(build, from: from, changes: ConfigurationDelta(upserts: upserts, deletes: deletes), license: license)
        ).line
    }
}

/// Where the hash message of a version stands.
enum HashMessage: Sendable {
    case ready(SyncUpdate)
    case pending
    case superseded
}

/// The message that brings a subscriber to `version` (a full configuration may be several lines), or
/// tells it that version's hash.
struct SyncUpdate: Sendable {
    var version: Int64
    var lines: [[UInt8]]
    var isDelta: Bool
    var isHash = false
    /// A delta without its hash: a `hash` message follows.
    var hashFollows = false

    init(version: Int64, line: [UInt8], isDelta: Bool, isHash: Bool = false, hashFollows: Bool = false) {
        self.init(version: version, lines: [line], isDelta: isDelta, isHash: isHash, hashFollows: hashFollows)
    }

    init(version: Int64, lines: [[UInt8]], isDelta: Bool, isHash: Bool = false, hashFollows: Bool = false) {
        self.version = version
        self.lines = lines
        self.isDelta = isDelta
        self.isHash = isHash
        self.hashFollows = hashFollows
    }

    var bytes: Int { lines.reduce(0) { $0 + $1.count } }
}
