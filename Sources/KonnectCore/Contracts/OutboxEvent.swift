/// An event of the auth node's outbox that every geo applies exactly once, in order (D4): the
/// lifecycle effects a geo must carry out for an organization.
public struct OutboxEvent: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// Decommission every control plane of the organization in this geo (D3, D5).
        case deactivated(reason: String)
        /// Recommission them, with the organization's restored licenses (D7).
        case reactivated(gatewayLicense: JSON, meshLicense: JSON)
        /// Purge every object of the organization from this geo (A5).
        case deleted

        public var name: String {
            switch self {
            case .deactivated: "organization.deactivated"
            case .reactivated: "organization.reactivated"
            case .deleted: "organization.deleted"
            }
        }

        public static let names = ["organization.deactivated", "organization.reactivated", "organization.deleted"]

        /// What the outbox stores next to the kind's name.
        public var payload: JSON {
            switch self {
            case .deactivated(let reason): ["reason": .string(reason)]
            case .reactivated(let gateway, let mesh): ["gateway_license": gateway, "mesh_license": mesh]
            case .deleted: [:]
            }
        }

        /// Rebuilds a kind from its name and stored payload; an unknown name is an error, never skipped.
        public init(name: String, payload: JSON) throws(ContractError) {
            let message = "outbox event \(name)"
            switch name {
            case "organization.deactivated":
                self = try decodeContract(message, payload) { reader in
                    reader.text("reason").map { Kind.deactivated(reason: $0) }
                }
            case "organization.reactivated":
                self = try decodeContract(message, payload) { reader in
                    guard let gateway = reader.any("gateway_license"), let mesh = reader.any("mesh_license") else {
                        return nil
                    }
                    return Kind.reactivated(gatewayLicense: gateway, meshLicense: mesh)
                }
            case "organization.deleted":
                self = .deleted
            default:
                throw ContractError(
                    message: "outbox event",
                    problems: [
                        InvalidParameter(
                            field: "kind", rule: "enum",
                            reason:
                                "\"\(name.prefix(64))\" is not a kind this node understands (\(Kind.names.joined(separator: ", ")))",
                            choices: Kind.names)
                    ])
            }
        }
    }

    /// The outbox's sequence number: a geo's cursor and acknowledgement.
    public var seq: Int64
    public var organizationID: String
    /// The calendar moment the event was recorded.
    public var at: SimTime
    public var kind: Kind

    public init(seq: Int64, organizationID: String, at: SimTime, kind: Kind) {
        self.seq = seq
        self.organizationID = organizationID
        self.at = at
        self.kind = kind
    }

    public var json: JSON {
        [
            "seq": .int(seq), "kind": .string(kind.name), "organization_id": .string(organizationID),
            "payload": kind.payload, "at": .string(at.iso8601),
        ]
    }

    public init(json: JSON) throws(ContractError) {
        let (seq, organization, at, name, payload) = try decodeContract("outbox event", json) {
            (reader: inout ObjectReader) -> (Int64, String, SimTime, String, JSON)? in
            let seq = reader.int("seq", required: true, nullable: false, min: 1)
            let organization = reader.text("organization_id")
            let at = reader.moment("at")
            let name = reader.text("kind", maxLength: 128)
            let payload = reader.object("payload", required: true, nullable: false)
            guard let seq, let organization, let at, let name, let payload else { return nil }
            return (seq, organization, at, name, JSON.object(payload))
        }
        self.init(seq: seq, organizationID: organization, at: at, kind: try Kind(name: name, payload: payload))
    }
}

/// The auth node's answer to a geo's long poll (`GET /internal/v1/events?geo=..&after=N`): the events
/// after N, in order, and the calendar's moment.
public struct EventFeed: Sendable, Hashable {
    public var events: [OutboxEvent]
    public var now: SimTime

    public init(events: [OutboxEvent], now: SimTime) {
        self.events = events
        self.now = now
    }

    public var json: JSON { ["events": .array(events.map(\.json)), "now": .string(now.iso8601)] }

    public init(json: JSON) throws(ContractError) {
        let readable = try EventFeed.readable(json: json)
        if let stop = readable.unreadable { throw stop }
        self = readable.feed
    }

    /// The feed as far as this node understands it: the events before the first one it cannot read
    /// (an unknown kind from a newer auth node), and the error for that one. A geo applies the events
    /// it understands and stops its follower at the first one it does not, so nothing is skipped.
    public static func readable(json: JSON) throws(ContractError) -> (feed: EventFeed, unreadable: ContractError?) {
        let (items, now) = try decodeContract("event feed", json) {
            (reader: inout ObjectReader) -> ([JSON], SimTime)? in
            let now = reader.moment("now")
            guard let items = reader.any("events") else { return nil }
            guard case .array(let array) = items else {
                reader.fail("events", "is_array", "must be an array, got \(items.typeName)")
                return nil
            }
            guard let now else { return nil }
            return (array, now)
        }
        var events: [OutboxEvent] = []
        for item in items {
            do throws(ContractError) {
                events.append(try OutboxEvent(json: item))
            } catch {
                return (EventFeed(events: events, now: now), error)
            }
        }
        return (EventFeed(events: events, now: now), nil)
    }
}
