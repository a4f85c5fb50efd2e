/// What a configuration is for: a Gateway control plane (data planes) or a Mesh global control plane
/// (zones). Both use the same push stream (C2, D5).
public enum SyncTarget: Sendable, Hashable {
    case controlPlane(id: String)
    case meshControlPlane(id: String)

    public var id: String {
        switch self {
        case .controlPlane(let id), .meshControlPlane(let id): id
        }
    }

    /// The member naming the target, and the member holding the body.
    var keys: (id: String, body: String) {
        switch self {
        case .controlPlane: ("control_plane_id", "config")
        case .meshControlPlane: ("mesh_control_plane_id", "policies")
        }
    }
}

/// One version of a configuration as the geo pushes it: Kong's declarative configuration for a data
/// plane, the meshes and policies for a zone, with the organization's license (P4).
public struct SyncedConfiguration: Sendable, Hashable {
    public var target: SyncTarget
    public var version: Int64
    public var hash: String
    /// The declarative configuration (`_format_version`, services, routes, ...) or `{meshes, policies}`.
    public var body: JSON
    public var license: JSON

    public init(target: SyncTarget, version: Int64, hash: String, body: JSON, license: JSON) {
        self.target = target
        self.version = version
        self.hash = hash
        self.body = body
        self.license = license
    }
}

/// A message of the push stream (`GET /internal/v1/dp/sync`, `/internal/v1/zone/sync`), one JSON
/// document per line.
public enum SyncMessage: Sendable, Hashable {
    /// The full configuration at a version.
    case configuration(SyncedConfiguration)
    /// The control plane is decommissioned: keep the last configuration, stop proxying (D5).
    case decommissioned(reason: String)
    /// The credential was revoked: the stream ends.
    case unauthorized(reason: String)
    /// Nothing changed; sent on connect and every second so a silent link is noticed. Carries the
    /// calendar's moment as the geo knows it, so data planes and zones show simulated times (nil from a
    /// geo that does not send it).
    case heartbeat(now: SimTime?)

    public static let typeNames = ["config", "decommissioned", "unauthorized", "heartbeat"]

    public var json: JSON {
        switch self {
        case .configuration(let configuration):
            let keys = configuration.target.keys
            return .object(
                JSONObject([
                    ("type", "config"), (keys.id, .string(configuration.target.id)),
                    ("version", .int(configuration.version)), ("hash", .string(configuration.hash)),
                    (keys.body, configuration.body), ("license", configuration.license),
                ]))
        case .decommissioned(let reason): return ["type": "decommissioned", "reason": .string(reason)]
        case .unauthorized(let reason): return ["type": "unauthorized", "reason": .string(reason)]
        case .heartbeat(let now):
            guard let now else { return ["type": "heartbeat"] }
            return ["type": "heartbeat", "now": .string(now.iso8601)]
        }
    }

    /// The message as one line of the stream.
    public var line: [UInt8] { json.bytes + [0x0A] }

    public init(json: JSON) throws(ContractError) {
        self = try decodeContract("sync message", json) { reader in
            switch reader.string("type", required: true, nullable: false, allowed: SyncMessage.typeNames) {
            case "config":
                let target: SyncTarget
                if reader.has("mesh_control_plane_id") {
                    guard let id = reader.text("mesh_control_plane_id") else { return nil }
                    target = .meshControlPlane(id: id)
                } else {
                    guard let id = reader.text("control_plane_id") else { return nil }
                    target = .controlPlane(id: id)
                }
                let version = reader.int("version", required: true, nullable: false, min: 0)
                let hash = reader.string("hash", required: true, nullable: false, minLength: 1, maxLength: 64)
                let body = reader.object(target.keys.body, required: true, nullable: false)
                let license = reader.any("license")
                guard let version, let hash, let body, let license else { return nil }
                return .configuration(
                    SyncedConfiguration(
                        target: target, version: version, hash: hash, body: .object(body), license: license))
            case "decommissioned":
                return reader.text("reason", maxLength: 4096).map { .decommissioned(reason: $0) }
            case "unauthorized":
                return reader.text("reason", maxLength: 4096).map { .unauthorized(reason: $0) }
            case "heartbeat":
                if reader.has("now") {
                    guard let now = reader.moment("now") else { return nil }
                    return .heartbeat(now: now)
                }
                return .heartbeat(now: nil)
            default:
                return nil
            }
        }
    }
}
