import KonnectCore
import KonnectStorage

/// `group_members` and a group's stored configuration: which standard control planes a control plane
/// group combines (each member in at most one group), and the union of their configurations that the
/// group last sent its data planes (kept while members conflict).
struct ControlPlaneGroupStore: Sendable {
    let database: GeoDatabase

    static func alreadyInAGroup(_ member: String) -> APIError {
        APIError.invalid(
            field: "members", rule: "invalid",
            reason: "control plane \(member) is already a member of another group; remove it from there first")
    }

    /// The group's members, in the order they joined.
    func members(of group: String, in context: (any GeoReading)? = nil) throws -> [String] {
        try database.reading(context) { db in
            try db.query(
                "SELECT member_id FROM group_members WHERE group_id = ? ORDER BY added_at, member_id", .text(group)
            ).map { try $0.text("member_id") }
        }
    }

    /// The group a control plane is a member of, or nil.
    func group(ofMember member: String, in context: (any GeoReading)? = nil) throws -> String? {
        try database.reading(context) { db in
            try db.query("SELECT group_id FROM group_members WHERE member_id = ?", .text(member)).first.map {
                try $0.text("group_id")
            }
        }
    }

    /// Adds a member (nothing when it already is one); 400 when it is a member of another group.
    func add(_ member: String, to group: String, at moment: SimTime, in work: GeoWork) throws {
        if let current = try self.group(ofMember: member, in: work) {
            guard current == group else { throw ControlPlaneGroupStore.alreadyInAGroup(member) }
            return
        }
        try unique(or: ControlPlaneGroupStore.alreadyInAGroup(member)) {
            try work.transaction.execute(
                "INSERT INTO group_members(group_id, member_id, added_at) VALUES (?, ?, ?)", .text(group),
                .text(member), .time(moment))
        }
    }

    /// Removes a member; false when it was not one.
    func remove(_ member: String, from group: String, in work: GeoWork) throws -> Bool {
        try work.transaction.execute(
            "DELETE FROM group_members WHERE group_id = ? AND member_id = ?", .text(group), .text(member)) == 1
    }

    /// A control plane that goes leaves its group, or a group that goes lets its members go; returns the
    /// group that lost a member, if any.
    func forget(_ controlPlane: String, in work: GeoWork) throws -> String? {
        let group = try self.group(ofMember: controlPlane, in: work)
        try work.transaction.execute(
            "DELETE FROM group_members WHERE member_id = ? OR group_id = ?", .text(controlPlane), .text(controlPlane))
        return group
    }

    /// The union the group sends its data planes, once it has one.
    func storedConfiguration(group: String, in context: (any GeoReading)? = nil) throws -> DeclarativeConfig? {
        try database.reading(context) { db in
            guard
                let text = try db.query("SELECT group_config FROM control_planes WHERE id = ?", .text(group)).first?
                    .string("group_config")
            else { return nil }
            do {
                return DeclarativeConfig(json: try JSONParser.parse(text))
            } catch {
                throw StoredRowError(column: "group_config", expected: "a declarative configuration (\(error))")
            }
        }
    }

    func storeConfiguration(group: String, _ config: DeclarativeConfig, in work: GeoWork) throws {
        try work.transaction.execute(
            "UPDATE control_planes SET group_config = ? WHERE id = ?", .text(config.json.text), .text(group))
    }
}
