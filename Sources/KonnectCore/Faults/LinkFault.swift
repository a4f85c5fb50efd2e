/// A fault injected on a link: the connection from one node to another, named `from->to`
/// (`eu->auth`, `dp1->eu`). The connecting side's transport applies it, so the effect is real socket
/// behaviour (a refused connect, a slowed or dropped request) rather than a flag a server checks.
public struct LinkFault: Sendable, Hashable {
    /// Connections are refused as if the peer were unreachable.
    public var partitioned: Bool
    /// Added before every request and every streamed message.
    public var latencyMilliseconds: Int
    /// A uniformly random extra delay in `0...jitterMilliseconds`.
    public var jitterMilliseconds: Int
    /// The fraction of requests, in parts per million, that fail as if the connection reset.
    public var dropPartsPerMillion: Int

    public init(
        partitioned: Bool = false, latencyMilliseconds: Int = 0, jitterMilliseconds: Int = 0,
        dropPartsPerMillion: Int = 0
    ) {
        self.partitioned = partitioned
        self.latencyMilliseconds = latencyMilliseconds
        self.jitterMilliseconds = jitterMilliseconds
        self.dropPartsPerMillion = dropPartsPerMillion
    }

    public var isNone: Bool { self == LinkFault() }

    public static func linkName(from: String, to: String) -> String { "\(from)->\(to)" }

    /// How the link behaves, one word per fault kind, the strongest first: a partition hides latency
    /// and drops, drops hide latency. Timelines and the console colour links by it.
    public var condition: LinkCondition {
        if partitioned { return .partitioned }
        if dropPartsPerMillion > 0 { return .dropping }
        if latencyMilliseconds > 0 || jitterMilliseconds > 0 { return .slowed }
        return .healthy
    }

    /// Every fault in force, as `faults` prints it: `partitioned, latency 50ms+20ms, drop 25.0%`.
    public var summary: String {
        var parts: [String] = []
        if partitioned { parts.append("partitioned") }
        if latencyMilliseconds > 0 || jitterMilliseconds > 0 {
            parts.append("latency \(latencyMilliseconds)ms+\(jitterMilliseconds)ms")
        }
        if dropPartsPerMillion > 0 { parts.append("drop \(Double(dropPartsPerMillion) / 10_000)%") }
        return parts.isEmpty ? "healthy" : parts.joined(separator: ", ")
    }

    public var json: JSON {
        [
            "partitioned": .bool(partitioned), "latency_ms": .int(latencyMilliseconds),
            "jitter_ms": .int(jitterMilliseconds), "drop_ppm": .int(dropPartsPerMillion),
        ]
    }

    public init(json: JSON) {
        self.init(
            partitioned: json["partitioned"]?.boolValue ?? false,
            latencyMilliseconds: Int(json["latency_ms"]?.intValue ?? 0),
            jitterMilliseconds: Int(json["jitter_ms"]?.intValue ?? 0),
            dropPartsPerMillion: Int(json["drop_ppm"]?.intValue ?? 0))
    }
}

/// A link's behaviour in one word.
public enum LinkCondition: String, Sendable, CaseIterable {
    case healthy, partitioned, dropping, slowed
}

/// Every fault in force in a cluster, plus the seed that makes jitter and drop decisions repeatable.
/// Stored as `faults.json` in the run directory; nodes re-read it when it changes.
public struct FaultPlan: Sendable, Hashable {
    public var seed: UInt64
    public var links: [String: LinkFault]

    public init(seed: UInt64 = 0, links: [String: LinkFault] = [:]) {
        self.seed = seed
        self.links = links
    }

    public var json: JSON {
        var object = JSONObject()
        for name in links.keys.sorted() { object[name] = links[name]!.json }
        return ["seed": .int(Int64(bitPattern: seed)), "links": .object(object)]
    }

    public init(json: JSON) {
        seed = UInt64(bitPattern: json["seed"]?.intValue ?? 0)
        var links: [String: LinkFault] = [:]
        for (name, value) in json["links"]?.objectValue ?? JSONObject() { links[name] = LinkFault(json: value) }
        self.links = links
    }

    /// Changes one link's fault; a fault equal to none removes the entry.
    public mutating func update(_ link: String, _ change: (inout LinkFault) -> Void) {
        var fault = links[link] ?? LinkFault()
        change(&fault)
        links[link] = fault.isNone ? nil : fault
    }
}

/// A small deterministic generator (SplitMix64) for ids, jitter and drop decisions under a seed.
public struct SeededRandom: Sendable, RandomNumberGenerator {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A stable 64-bit hash of a string (FNV-1a), for deriving per-link and per-node seeds.
    public static func hash(_ text: String) -> UInt64 {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            value ^= UInt64(byte)
            value = value &* 0x100_0000_01b3
        }
        return value
    }
}
