import KonnectCore
import KonnectHTTP

/// What a cluster was created with, stored as `cluster.json` in the run directory so that later
/// commands (and `restart`) know the cluster's geos, calendar start, seed and rate card. They are fixed
/// when the cluster is created: a later `up` that asks for something else is refused (`differences`).
public struct ClusterConfiguration: Sendable, Hashable {
    /// Known geos (T2).
    public static let knownGeos = ["us", "eu", "au", "me", "in", "sg"]
    public static let defaultGeos = ["us", "eu", "au"]

    public var geos: [String]
    public var start: SimTime
    public var seed: UInt64?
    /// Absolute path of a rate card file, or nil for the standard one. `up` keeps a copy in the run
    /// directory (`rate-card.json`) and records that, so editing the original changes nothing later.
    public var rateCardPath: String?
    /// How the nodes reach each other: Unix sockets on this machine, or hosts of their own (`netns`).
    public var topology: Topology

    public init(
        geos: [String] = ClusterConfiguration.defaultGeos, start: SimTime = .defaultStart, seed: UInt64? = nil,
        rateCardPath: String? = nil, topology: Topology = .unix
    ) {
        self.geos = geos
        self.start = start
        self.seed = seed
        self.rateCardPath = rateCardPath
        self.topology = topology
    }

    public var json: JSON {
        [
            "geos": .strings(geos), "start": .string(start.iso8601),
            "seed": seed.map { .int(Int64(bitPattern: $0)) } ?? .null,
            "rate_card": .optional(rateCardPath), "topology": .string(topology.rawValue),
        ]
    }

    public init?(json: JSON) {
        guard let geos = json["geos"]?.arrayValue?.compactMap(\.stringValue),
            let start = json["start"]?.stringValue.flatMap(SimTime.init(iso8601:))
        else { return nil }
        self.init(
            geos: geos, start: start, seed: json["seed"]?.intValue.map { UInt64(bitPattern: $0) },
            rateCardPath: json["rate_card"]?.stringValue,
            topology: json["topology"]?.stringValue.flatMap(Topology.init(rawValue:)) ?? .unix)
    }

    /// What `requested` asks for that differs from this (existing) cluster, one readable line each; empty
    /// when it asks for the same. Rate cards are compared by what they hold (nil: the standard one).
    public func differences(from requested: ClusterConfiguration) -> [String] {
        var found: [String] = []
        if requested.geos != geos {
            found.append(
                "geos: the cluster has \(geos.joined(separator: ",")), this asks for \(requested.geos.joined(separator: ","))"
            )
        }
        if requested.start != start {
            found.append(
                "calendar start: the cluster started at \(start.iso8601), this asks for \(requested.start.iso8601)")
        }
        if requested.seed != seed {
            found.append(
                "seed: the cluster has \(seed.map(String.init) ?? "none"), this asks for \(requested.seed.map(String.init) ?? "none")"
            )
        }
        if requested.topology != topology {
            found.append(
                "topology: the cluster has \(topology.rawValue), this asks for \(requested.topology.rawValue)")
        }
        let mine = ClusterConfiguration.rateCard(at: rateCardPath)
        let theirs = ClusterConfiguration.rateCard(at: requested.rateCardPath)
        if mine != theirs {
            found.append(
                "rate card: the cluster has \(rateCardPath ?? "the standard one"), this asks for \(requested.rateCardPath ?? "the standard one"), which holds other prices"
            )
        }
        return found
    }

    /// The rate card a file holds (nil path: the standard one); nil when it cannot be read.
    static func rateCard(at path: String?) -> RateCard? {
        guard let path else { return .standard }
        guard let bytes = readWholeFile(path), let json = try? JSONParser.parse(bytes) else { return nil }
        return try? RateCard(json: json)
    }

    /// Parses `--geos us,eu,au`: known codes, no duplicates, at least one.
    public static func parseGeos(_ text: String) -> Result<[String], UsageError> {
        let geos = text.split(separator: ",", omittingEmptySubsequences: false).map { String($0).lowercased() }
        guard !geos.isEmpty, !geos.contains("") else {
            return .failure(UsageError("--geos needs a comma-separated list such as us,eu,au"))
        }
        for geo in geos where !knownGeos.contains(geo) {
            return .failure(
                UsageError("unknown geo '\(geo)' in --geos; valid geos: \(knownGeos.joined(separator: ", "))"))
        }
        guard Set(geos).count == geos.count else { return .failure(UsageError("--geos lists a geo twice: \(text)")) }
        return .success(geos)
    }
}

/// The kinds of node a cluster runs, each a separate process.
public enum NodeKind: String, Sendable, CaseIterable {
    case auth, geo
    case dataPlane = "dp"
    case upstream, zone

    /// The prefix of the node's directory inside the run directory.
    public func directoryName(_ name: String) -> String {
        self == .auth ? "auth" : "\(rawValue)-\(name)"
    }

    /// The node in a sentence: "the auth node", "a geo", "a data plane", "an upstream", "a zone".
    public var described: String {
        switch self {
        case .auth: "the auth node"
        case .geo: "a geo"
        case .dataPlane: "a data plane"
        case .upstream: "an upstream"
        case .zone: "a zone"
        }
    }

    /// The role shown by `status`.
    public var role: String {
        switch self {
        case .auth: "auth"
        case .geo: "geo"
        case .dataPlane: "data-plane"
        case .upstream: "upstream"
        case .zone: "zone"
        }
    }
}
