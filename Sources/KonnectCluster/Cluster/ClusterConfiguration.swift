import KonnectCore

/// What `up` was asked for, stored as `cluster.json` in the run directory so that later commands
/// (and `restart`) know the cluster's geos, calendar start, seed and rate card.
public struct ClusterConfiguration: Sendable, Hashable {
    /// Known geos (T2).
    public static let knownGeos = ["us", "eu", "au", "me", "in", "sg"]
    public static let defaultGeos = ["us", "eu", "au"]

    public var geos: [String]
    public var start: SimTime
    public var seed: UInt64?
    /// Absolute path of a rate card file, or nil for the standard one.
    public var rateCardPath: String?

    public init(
        geos: [String] = ClusterConfiguration.defaultGeos, start: SimTime = .defaultStart, seed: UInt64? = nil,
        rateCardPath: String? = nil
    ) {
        self.geos = geos
        self.start = start
        self.seed = seed
        self.rateCardPath = rateCardPath
    }

    public var json: JSON {
        [
            "geos": .strings(geos), "start": .string(start.iso8601),
            "seed": seed.map { .int(Int64(bitPattern: $0)) } ?? .null,
            "rate_card": .optional(rateCardPath),
        ]
    }

    public init?(json: JSON) {
        guard let geos = json["geos"]?.arrayValue?.compactMap(\.stringValue),
            let start = json["start"]?.stringValue.flatMap(SimTime.init(iso8601:))
        else { return nil }
        self.init(
            geos: geos, start: start, seed: json["seed"]?.intValue.map { UInt64(bitPattern: $0) },
            rateCardPath: json["rate_card"]?.stringValue)
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
