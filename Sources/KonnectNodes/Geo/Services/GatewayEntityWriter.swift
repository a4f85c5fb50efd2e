import KonnectCore

/// Writes a validated Kong entity (C1) the way Kong does: references resolved within the control plane
/// (400 when missing), ids and timestamps assigned, one plugin of a name per service/route/consumer
/// combination, uniqueness answered with Kong's 409 messages. A new service starts counting for usage
/// (B3). The control plane's new configuration version is recorded by the store before the commit.
struct GatewayEntityWriter: Sendable {
    let database: GeoDatabase
    let entities: GatewayEntityStore
    let usage: UsageOutboxStore

    /// Creates an entity (`existing` nil) or replaces one; returns the stored body.
    func write(
        _ validated: ValidatedEntity, id requestedID: String?, replacing existing: GatewayEntity?, controlPlane: String,
        caller: Caller, in work: GeoWork
    ) throws -> JSON {
        var body = validated.body
        for reference in validated.references {
            guard let target = try entities.find(reference.kind, reference.key, controlPlane: controlPlane, in: work)
            else {
                throw APIError(
                    status: 400,
                    detail:
                        "the \(reference.kind.displayName) '\(reference.key)' referenced by \(reference.field) does not exist in this control plane",
                    invalidParameters: [
                        InvalidParameter(
                            field: "\(reference.field).id", rule: "missing_reference",
                            reason: "does not exist in this control plane")
                    ])
            }
            body[reference.field] = ["id": .string(target.id)]
        }
        let id = try existing?.id ?? requestedID ?? database.newID(work)
        let now = caller.now.seconds
        let createdAt = existing?.createdAt ?? now
        body["id"] = .string(id)
        body["created_at"] = .int(createdAt)
        body["updated_at"] = .int(now)
        if validated.kind == .plugin { try requireUniquePlugin(body, id: id, controlPlane: controlPlane, in: work) }
        let unique = body[validated.kind.uniqueField]?.stringValue
        let entity = GatewayEntity(
            id: id, kind: validated.kind, name: unique, body: .object(body), createdAt: createdAt)
        do {
            if existing != nil {
                try entities.replace(entity, controlPlane: controlPlane, at: caller.now, in: work)
            } else {
                try entities.insert(entity, controlPlane: controlPlane, at: caller.now, in: work)
                if validated.kind == .service {
                    try usage.queue(
                        .serviceStarted(
                            organizationID: caller.organizationID, controlPlaneID: controlPlane, serviceID: id,
                            name: unique ?? id, at: caller.now),
                        in: work)
                }
            }
        } catch GatewayEntityConflict.id {
            throw APIError(status: 409, detail: "UNIQUE violation detected on '{id=\"\(id)\"}'")
        } catch GatewayEntityConflict.uniqueField {
            throw APIError(
                status: 409,
                detail: "UNIQUE violation detected on '{\(validated.kind.uniqueField)=\"\(unique ?? "")\"}'")
        }
        return .object(body)
    }

    /// Kong: one plugin of a name per service/route/consumer combination.
    private func requireUniquePlugin(_ body: JSONObject, id: String, controlPlane: String, in work: GeoWork) throws {
        func scope(_ body: JSON) -> [String] {
            ["service", "route", "consumer"].map { body[$0]?["id"]?.stringValue ?? "" }
        }
        let mine = scope(.object(body))
        for other in try entities.list(.plugin, controlPlane: controlPlane, in: work)
        where other.id != id && other.body["name"] == body["name"] && scope(other.body) == mine {
            throw APIError(
                status: 409,
                detail:
                    "UNIQUE violation detected on '{consumer=\(mine[2]),name=\(body["name"]?.stringValue ?? ""),route=\(mine[1]),service=\(mine[0])}'"
            )
        }
    }
}
