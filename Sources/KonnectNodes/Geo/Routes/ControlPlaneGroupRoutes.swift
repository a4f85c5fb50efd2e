import KonnectCore
import KonnectHTTP

/// Control plane groups (control-planes-v2 "Control Plane Groups"): a group's members
/// (`group-memberships`: GET, PUT replaces them, `add`, `remove`), its status with the conflicts between
/// members (`group-status`), and whether a control plane is a member (`group-member-status`). Members
/// are standard control planes of the caller's organization in this geo; the group's data planes get the
/// union of their configurations (`GatewayEntityStore.groupChanged`).
struct ControlPlaneGroupRoutes: Sendable {
    let access: ControlPlaneAccess
    let database: GeoDatabase
    let controlPlanes: ControlPlaneStore
    let groups: ControlPlaneGroupStore
    let entities: GatewayEntityStore
    /// How control planes look in answers (the list of members).
    let view: ControlPlaneRoutes

    enum Change { case replace, add, remove }

    var routes: [Router.Route] {
        let base = "/v2/control-planes/{controlPlaneId}"
        return [
            Router.route("GET", base + "/group-memberships", list),
            Router.route("PUT", base + "/group-memberships") { request in try change(request, .replace) },
            Router.route("POST", base + "/group-memberships/add") { request in try change(request, .add) },
            Router.route("POST", base + "/group-memberships/remove") { request in try change(request, .remove) },
            Router.route("GET", base + "/group-status", status),
            Router.route("GET", base + "/group-member-status") { request in
                let controlPlane = try access.scope(request, write: false).controlPlane
                let group = try groups.group(ofMember: controlPlane.id)
                return HTTPResponse.json(["is_member": .bool(group != nil)])
            },
        ]
    }

    /// The control plane the path names, when it is a group (400 otherwise).
    private func group(_ request: APIRequest, write: Bool) throws -> (caller: Caller, group: ControlPlane) {
        let (caller, controlPlane) = try access.scope(request, write: write)
        guard controlPlane.clusterType == ControlPlaneTypes.group else {
            throw APIError.invalid(
                field: "controlPlaneId", rule: "invalid",
                reason:
                    "is a \(controlPlane.clusterType) control plane, not a control plane group (\(ControlPlaneTypes.group))"
            )
        }
        return (caller, controlPlane)
    }

    /// `GET .../group-memberships?page[size]=N&page[after]=ID`: the members, in the order they joined.
    func list(_ request: APIRequest) throws -> HTTPResponse {
        let group = try group(request, write: false).group
        var size = 100
        if let text = request.query("page[size]") {
            guard let value = Int(text), (1...1000).contains(value) else {
                throw APIError.invalid(
                    field: "page[size]", rule: "invalid",
                    reason: "must be an integer from 1 to 1000, got \"\(text.prefix(32))\"")
            }
            size = value
        }
        let after = request.query("page[after]").flatMap { $0.isEmpty ? nil : $0 }
        let members = try database.read { snapshot in
            try groups.members(of: group.id, in: snapshot).compactMap { try controlPlanes.find($0, in: snapshot) }
        }
        var start = 0
        if let after {
            guard let index = members.firstIndex(where: { $0.id == after }) else {
                throw APIError.invalid(
                    field: "page[after]", rule: "invalid", reason: "is not a cursor this API returned")
            }
            start = index + 1
        }
        let page = Array(members[start..<min(members.count, start + size)])
        var meta = JSONObject([("size", .int(size))])
        if let last = page.last, start + size < members.count {
            meta["next"] = .string("\(request.path)?page[size]=\(size)&page[after]=\(last.id)")
        } else {
            meta["next"] = .null
        }
        if after == nil { meta["total"] = .int(members.count) }
        return HTTPResponse.json(["meta": ["page": .object(meta)], "data": .array(page.map(view.json))])
    }

    /// `PUT` replaces the members, `POST .../add` adds some, `POST .../remove` removes some; 204.
    func change(_ request: APIRequest, _ change: Change) throws -> HTTPResponse {
        let (caller, group) = try group(request, write: true)
        let listed = try memberIDs(try request.json())
        try database.write { work in
            let current = try groups.members(of: group.id, in: work)
            var problems: [InvalidParameter] = []
            var wanted: [String]
            switch change {
            case .replace: wanted = listed.map(\.id)
            case .add: wanted = current + listed.map(\.id).filter { !current.contains($0) }
            case .remove:
                for (index, id) in listed where !current.contains(id) {
                    problems.append(
                        InvalidParameter(
                            field: "members[\(index)].id", rule: "missing_reference",
                            reason: "\(id) is not a member of this group"))
                }
                wanted = current.filter { id in !listed.contains { $0.id == id } }
            }
            if change != .remove {
                for (index, id) in listed {
                    guard let member = try controlPlanes.find(id, organization: caller.organizationID, in: work) else {
                        problems.append(
                            InvalidParameter(
                                field: "members[\(index)].id", rule: "missing_reference",
                                reason: "no control plane \(id) of this organization in this geo"))
                        continue
                    }
                    if member.clusterType != ControlPlaneTypes.controlPlane {
                        problems.append(
                            InvalidParameter(
                                field: "members[\(index)].id", rule: "invalid",
                                reason:
                                    "is a \(member.clusterType) control plane; only \(ControlPlaneTypes.controlPlane) control planes can be members"
                            ))
                    } else if let other = try groups.group(ofMember: id, in: work), other != group.id {
                        problems.append(
                            InvalidParameter(
                                field: "members[\(index)].id", rule: "invalid",
                                reason: "is already a member of control plane group \(other)"))
                    }
                }
            }
            if wanted.count > ControlPlaneGroup.maximumMembers {
                problems.append(
                    InvalidParameter(
                        field: "members", rule: "max_items",
                        reason: "a group has at most \(ControlPlaneGroup.maximumMembers) members",
                        maximum: Int64(ControlPlaneGroup.maximumMembers)))
            }
            guard problems.isEmpty else {
                throw APIError.badRequest(
                    "Invalid request: check \(problems.map(\.field).joined(separator: ", "))", problems)
            }
            for id in current where !wanted.contains(id) { _ = try groups.remove(id, from: group.id, in: work) }
            for id in wanted where !current.contains(id) { try groups.add(id, to: group.id, at: caller.now, in: work) }
            if Set(wanted) != Set(current) { entities.groupChanged(group.id, at: caller.now, in: work) }
        }
        return .noContent
    }

    /// `{"members": [{"id": ...}, ...]}` (control-planes-v2's `GroupMembership`), each id once.
    private func memberIDs(_ body: JSON) throws -> [(index: Int, id: String)] {
        var reader = try ObjectReader(body)
        guard let raw = reader.raw("members") else {
            reader.fail("members", "required", "is required")
            try reader.finish()
            return []
        }
        guard let items = raw.arrayValue else {
            reader.fail("members", "is_array", "must be an array of {\"id\": \"...\"}")
            try reader.finish()
            return []
        }
        if items.count > ControlPlaneGroup.maximumMembers {
            reader.fail(
                "members", "max_items", "must have at most \(ControlPlaneGroup.maximumMembers) items",
                maximum: Int64(ControlPlaneGroup.maximumMembers))
            try reader.finish()
        }
        var ids: [(Int, String)] = []
        for (index, item) in items.enumerated() {
            guard var entry = try? ObjectReader(item, prefix: "members[\(index)]") else {
                reader.fail("members[\(index)]", "is_object", "must be an object such as {\"id\": \"...\"}")
                continue
            }
            let id = entry.string("id", required: true, nullable: false, maxLength: 64)
            if let id, !IdentifierSource.isUUID(id) {
                entry.fail("id", "is_uuid", "must be a control plane id (a UUID), got \"\(id.prefix(64))\"")
            } else if let id, !ids.contains(where: { $0.1 == id.lowercased() }) {
                ids.append((index, id.lowercased()))
            }
            reader.absorb(entry, strict: true)
        }
        try reader.finish()
        return ids
    }

    /// `GET .../group-status`: `{item: {id, created_at, updated_at, conflicts, state}}`.
    func status(_ request: APIRequest) throws -> HTTPResponse {
        let group = try group(request, write: false).group
        let merged = try database.read { snapshot in try entities.groupMerge(group.id, in: snapshot) }
        return HTTPResponse.json([
            "item": [
                "id": .string(group.id), "created_at": group.createdAt.json,
                "updated_at": group.configUpdatedAt.json,
                "conflicts": .array(merged.conflicts.prefix(256).map(\.json)),
                "state": .string(merged.conflicts.isEmpty ? "OK" : "CONFLICT"),
            ]
        ])
    }
}
