/// A data plane's heartbeat to its geo (`POST /internal/v1/dp/ping`): the hash it runs, for the
/// control plane's node list (C2).
public struct DataPlanePing: Sendable, Hashable {
    public var nodeID: String
    public var configHash: String
    public var state: DataPlaneState

    public init(nodeID: String, configHash: String, state: DataPlaneState) {
        self.nodeID = nodeID
        self.configHash = configHash
        self.state = state
    }

    public var json: JSON {
        ["node_id": .string(nodeID), "config_hash": .string(configHash), "state": .string(state.rawValue)]
    }

    public init(json: JSON) throws(ContractError) {
        self = try decodeContract("data-plane ping", json) { reader in
            let node = reader.text("node_id", maxLength: 64)
            let hash = reader.string("config_hash", required: true, nullable: false, minLength: 1, maxLength: 64)
            let state = reader.string(
                "state", required: true, nullable: false, allowed: DataPlaneState.allCases.map(\.rawValue))
            guard let node, let hash, let state = state.flatMap(DataPlaneState.init(rawValue:)) else { return nil }
            return DataPlanePing(nodeID: node, configHash: hash, state: state)
        }
    }
}

/// A Mesh zone's heartbeat to its geo (`POST /internal/v1/zone/ping`): the policies' hash it runs and
/// how many workloads it serves (Kuma's ZoneInsight).
public struct ZonePing: Sendable, Hashable {
    public var configHash: String
    public var workloads: Int
    public var state: DataPlaneState

    public init(configHash: String, workloads: Int, state: DataPlaneState) {
        self.configHash = configHash
        self.workloads = workloads
        self.state = state
    }

    public var json: JSON {
        ["config_hash": .string(configHash), "workloads": .int(workloads), "state": .string(state.rawValue)]
    }

    public init(json: JSON) throws(ContractError) {
        self = try decodeContract("zone ping", json) { reader in
            let hash = reader.string("config_hash", required: true, nullable: false, minLength: 1, maxLength: 64)
            let workloads = reader.int("workloads", required: true, nullable: false, min: 0, max: 1_000_000)
            let state = reader.string(
                "state", required: true, nullable: false, allowed: DataPlaneState.allCases.map(\.rawValue))
            guard let hash, let workloads, let state = state.flatMap(DataPlaneState.init(rawValue:)) else {
                return nil
            }
            return ZonePing(configHash: hash, workloads: Int(workloads), state: state)
        }
    }
}

/// Calls a data plane proxied for one route of one service since its previous report.
public struct CallCount: Sendable, Hashable {
    public var serviceID: String
    public var routeID: String
    public var count: Int64

    public init(serviceID: String, routeID: String, count: Int64) {
        self.serviceID = serviceID
        self.routeID = routeID
        self.count = count
    }

    /// The most calls one entry may carry (a data plane reports every half second).
    public static let maximumCount: Int64 = 1_000_000_000

    public var json: JSON { ["service_id": .string(serviceID), "route_id": .string(routeID), "count": .int(count)] }
}

/// A data plane's numbered usage report (`POST /internal/v1/dp/usage`): kept on the data plane's disk
/// until the geo acknowledges it; the geo counts each number once (B3).
public struct DataPlaneUsageReport: Sendable, Hashable {
    public var nodeID: String
    public var seq: Int64
    public var counts: [CallCount]

    public static let maximumEntries = 10_000

    public init(nodeID: String, seq: Int64, counts: [CallCount]) {
        self.nodeID = nodeID
        self.seq = seq
        self.counts = counts
    }

    public var total: Int64 { counts.reduce(0) { $0 + $1.count } }

    public var json: JSON { ["node_id": .string(nodeID), "seq": .int(seq), "counts": .array(counts.map(\.json))] }

    public init(json: JSON) throws(ContractError) {
        self = try decodeContract("data-plane usage report", json) { reader in
            let node = reader.text("node_id", maxLength: 64)
            let seq = reader.int("seq", required: true, nullable: false, min: 1)
            guard let items = reader.any("counts") else { return nil }
            guard case .array(let array) = items, array.count <= DataPlaneUsageReport.maximumEntries else {
                reader.fail(
                    "counts", "is_array",
                    "must be an array of at most \(DataPlaneUsageReport.maximumEntries) entries")
                return nil
            }
            var counts: [CallCount] = []
            for (position, item) in array.enumerated() {
                var entry = try ObjectReader(item, prefix: "counts[\(position)]")
                let service = entry.string("service_id", required: true, nullable: false, maxLength: 64)
                let route = entry.string("route_id", required: true, nullable: false, maxLength: 64)
                let count = entry.int("count", required: true, nullable: false, min: 0, max: CallCount.maximumCount)
                reader.absorb(entry, strict: false)
                guard let service, let route, let count else { return nil }
                counts.append(CallCount(serviceID: service, routeID: route, count: count))
            }
            guard let node, let seq else { return nil }
            return DataPlaneUsageReport(nodeID: node, seq: seq, counts: counts)
        }
    }
}

/// The geo's acknowledgement of a usage report.
public struct DataPlaneUsageReceipt: Sendable, Hashable {
    public var seq: Int64
    /// False when the geo had already counted this number (a retry).
    public var accepted: Bool

    public init(seq: Int64, accepted: Bool) {
        self.seq = seq
        self.accepted = accepted
    }

    public var json: JSON { ["accepted": .bool(accepted), "duplicate": .bool(!accepted), "seq": .int(seq)] }

    public init(json: JSON) throws(ContractError) {
        self = try decodeContract("data-plane usage receipt", json) { reader in
            let seq = reader.int("seq", required: true, nullable: false, min: 1)
            let accepted = reader.bool("accepted", required: true, nullable: false)
            _ = reader.raw("duplicate")
            guard let seq, let accepted else { return nil }
            return DataPlaneUsageReceipt(seq: seq, accepted: accepted)
        }
    }
}
