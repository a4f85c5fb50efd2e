/// One usage fact a geo reports to the auth node's billing ledger (B3). Service-days and portal-days
/// come from started/ended spans; API calls from the counts data planes report.
public enum UsageRecord: Sendable, Hashable {
    case serviceStarted(organizationID: String, controlPlaneID: String, serviceID: String, name: String, at: SimTime)
    case serviceEnded(organizationID: String, controlPlaneID: String, serviceID: String, at: SimTime)
    case portalPublished(organizationID: String, portalID: String, name: String, at: SimTime)
    case portalUnpublished(organizationID: String, portalID: String, at: SimTime)
    /// Calls proxied by one data plane of a control plane; `at` is when the geo received the count
    /// (nil: the auth node stamps its own moment).
    case apiCalls(organizationID: String, controlPlaneID: String, nodeID: String, count: Int64, at: SimTime?)

    /// The most calls one record may carry.
    public static let maximumCount: Int64 = 1_000_000_000_000

    public static let typeNames = [
        "service_started", "service_ended", "portal_published", "portal_unpublished", "api_calls",
    ]

    public var typeName: String {
        switch self {
        case .serviceStarted: "service_started"
        case .serviceEnded: "service_ended"
        case .portalPublished: "portal_published"
        case .portalUnpublished: "portal_unpublished"
        case .apiCalls: "api_calls"
        }
    }

    public var organizationID: String {
        switch self {
        case .serviceStarted(let org, _, _, _, _), .serviceEnded(let org, _, _, _), .portalPublished(let org, _, _, _),
            .portalUnpublished(let org, _, _), .apiCalls(let org, _, _, _, _):
            org
        }
    }

    public var json: JSON {
        var object = JSONObject([("type", .string(typeName)), ("organization_id", .string(organizationID))])
        switch self {
        case .serviceStarted(_, let cp, let id, let name, let at):
            object["control_plane_id"] = .string(cp)
            object["id"] = .string(id)
            object["name"] = .string(name)
            object["at"] = .string(at.iso8601)
        case .serviceEnded(_, let cp, let id, let at):
            object["control_plane_id"] = .string(cp)
            object["id"] = .string(id)
            object["at"] = .string(at.iso8601)
        case .portalPublished(_, let id, let name, let at):
            object["id"] = .string(id)
            object["name"] = .string(name)
            object["at"] = .string(at.iso8601)
        case .portalUnpublished(_, let id, let at):
            object["id"] = .string(id)
            object["at"] = .string(at.iso8601)
        case .apiCalls(_, let cp, let node, let count, let at):
            object["control_plane_id"] = .string(cp)
            object["node_id"] = .string(node)
            object["count"] = .int(count)
            if let at { object["at"] = .string(at.iso8601) }
        }
        return .object(object)
    }

    public init(json: JSON) throws(ContractError) {
        self = try decodeContract("usage record", json) { reader in UsageRecord.read(&reader) }
    }

    /// Reads the record's members from `reader` (shared with `NumberedUsageRecord`).
    static func read(_ reader: inout ObjectReader) -> UsageRecord? {
        let type = reader.string("type", required: true, nullable: false, allowed: typeNames)
        let org = reader.text("organization_id")
        switch type {
        case "service_started":
            let cp = reader.text("control_plane_id")
            let id = reader.text("id")
            let name = reader.text("name")
            let at = reader.moment("at")
            guard let org, let cp, let id, let name, let at else { return nil }
            return .serviceStarted(organizationID: org, controlPlaneID: cp, serviceID: id, name: name, at: at)
        case "service_ended":
            let cp = reader.text("control_plane_id")
            let id = reader.text("id")
            let at = reader.moment("at")
            guard let org, let cp, let id, let at else { return nil }
            return .serviceEnded(organizationID: org, controlPlaneID: cp, serviceID: id, at: at)
        case "portal_published":
            let id = reader.text("id")
            let name = reader.text("name")
            let at = reader.moment("at")
            guard let org, let id, let name, let at else { return nil }
            return .portalPublished(organizationID: org, portalID: id, name: name, at: at)
        case "portal_unpublished":
            let id = reader.text("id")
            let at = reader.moment("at")
            guard let org, let id, let at else { return nil }
            return .portalUnpublished(organizationID: org, portalID: id, at: at)
        case "api_calls":
            let cp = reader.text("control_plane_id")
            let node = reader.text("node_id")
            let count = reader.int("count", required: true, nullable: false, min: 0, max: maximumCount)
            let at = reader.moment("at", required: false)
            guard let org, let cp, let node, let count else { return nil }
            return .apiCalls(organizationID: org, controlPlaneID: cp, nodeID: node, count: count, at: at)
        default:
            return nil
        }
    }
}

/// A usage record with the geo's outbox number: the auth node applies each number once (B3).
public struct NumberedUsageRecord: Sendable, Hashable {
    public var seq: Int64
    public var record: UsageRecord

    public init(seq: Int64, record: UsageRecord) {
        self.seq = seq
        self.record = record
    }

    public var json: JSON {
        var json = record.json
        json["seq"] = .int(seq)
        return json
    }

    public init(json: JSON) throws(ContractError) {
        self = try decodeContract("usage record", json) { reader in
            let seq = reader.int("seq", required: true, nullable: false, min: 1)
            guard let record = UsageRecord.read(&reader), let seq else { return nil }
            return NumberedUsageRecord(seq: seq, record: record)
        }
    }
}

/// What a geo posts to the auth node (`POST /internal/v1/usage`): its records in outbox order.
public struct UsageBatch: Sendable, Hashable {
    public var geo: String
    public var records: [NumberedUsageRecord]

    public init(geo: String, records: [NumberedUsageRecord]) {
        self.geo = geo
        self.records = records
    }

    public var json: JSON { ["geo": .string(geo), "records": .array(records.map(\.json))] }

    public init(json: JSON) throws(ContractError) {
        let (geo, items) = try decodeContract("usage batch", json) {
            (reader: inout ObjectReader) -> (String, [JSON])? in
            let geo = reader.text("geo", maxLength: 64)
            guard let items = reader.any("records") else { return nil }
            guard case .array(let array) = items else {
                reader.fail("records", "is_array", "must be an array, got \(items.typeName)")
                return nil
            }
            guard let geo else { return nil }
            return (geo, array)
        }
        var records: [NumberedUsageRecord] = []
        for (position, item) in items.enumerated() {
            do throws(ContractError) {
                records.append(try NumberedUsageRecord(json: item))
            } catch {
                throw ContractError(
                    message: "usage batch",
                    problems: error.problems.map {
                        InvalidParameter(field: "records[\(position)].\($0.field)", rule: $0.rule, reason: $0.reason)
                    })
            }
        }
        self.init(geo: geo, records: records)
    }
}

/// The auth node's acknowledgement of a usage batch: how many records it applied, how many it had seen.
public struct UsageBatchReceipt: Sendable, Hashable {
    public var applied: Int
    public var duplicates: Int

    public init(applied: Int, duplicates: Int) {
        self.applied = applied
        self.duplicates = duplicates
    }

    public var json: JSON { ["applied": .int(applied), "duplicates": .int(duplicates)] }

    public init(json: JSON) throws(ContractError) {
        self = try decodeContract("usage batch receipt", json) { reader in
            let applied = reader.int("applied", required: true, nullable: false, min: 0)
            let duplicates = reader.int("duplicates", required: true, nullable: false, min: 0)
            guard let applied, let duplicates else { return nil }
            return UsageBatchReceipt(applied: Int(applied), duplicates: Int(duplicates))
        }
    }
}
