import KonnectCore
import KonnectHTTP
import KonnectStorage

/// Deactivation, reactivation, retention and the support API (A5, D1-D7).
extension AuthNode {
    var lifecycleRoutes: [Router.Route] {
        [
            Router.route("POST", "/v3/organizations/me/deactivate") { request in
                let principal = try self.principal(request)
                try self.requireAdmin(principal)
                try self.deactivate(
                    organizationID: principal.organizationID, reason: .adminDeactivated,
                    actor: "user:\(principal.userID)")
                return HTTPResponse.json(self.organizationJSON(try self.organizationRow(principal.organizationID)))
            },
            Router.route("GET", "/v3/support/organizations", supportListOrganizations),
            Router.route("GET", "/v3/support/organizations/{orgId}", supportGetOrganization),
            Router.route("GET", "/v3/support/organizations/{orgId}/licenses") { request in
                try self.requireSupport(request)
                let id = try self.supportOrganizationID(request)
                return HTTPResponse.json(["data": .array(try self.licenses(id))])
            },
            Router.route("GET", "/v3/support/organizations/{orgId}/invoices") { request in
                try self.requireSupport(request)
                let id = try self.supportOrganizationID(request)
                return HTTPResponse.json(["data": .array(try self.invoices(id))])
            },
            Router.route("GET", "/v3/support/organizations/{orgId}/billing/usage") { request in
                try self.requireSupport(request)
                let id = try self.supportOrganizationID(request)
                return HTTPResponse.json(try self.usageView(id, selector: request.query("cycle") ?? "current"))
            },
            Router.route("GET", "/v3/support/organizations/{orgId}/plan") { request in
                try self.requireSupport(request)
                let id = try self.supportOrganizationID(request)
                return HTTPResponse.json(try self.planJSON(id))
            },
            Router.route("POST", "/v3/support/organizations/{orgId}/deactivate") { request in
                try self.requireSupport(request)
                let id = try self.supportOrganizationID(request)
                try self.deactivate(organizationID: id, reason: .support, actor: "support")
                return try self.supportOrganizationResponse(id)
            },
            Router.route("POST", "/v3/support/organizations/{orgId}/reactivate") { request in
                try self.requireSupport(request)
                let id = try self.supportOrganizationID(request)
                try self.reactivate(organizationID: id, actor: "support")
                return try self.supportOrganizationResponse(id)
            },
            Router.route("GET", "/v3/support/email-locks") { request in
                try self.requireSupport(request)
                let rows = try self.db.read { db in
                    try db.query("SELECT * FROM email_locks ORDER BY locked_at, email_key")
                }
                return HTTPResponse.json([
                    "data": .array(
                        rows.map {
                            [
                                "email": .optional($0.string("email")),
                                "organization_id": .optional($0.string("org_id")),
                                "locked_at": $0.time("locked_at")?.json ?? .null,
                            ]
                        })
                ])
            },
            Router.route("DELETE", "/v3/support/email-locks/{email}") { request in
                try self.requireSupport(request)
                let key = EmailAddress.canonical(request.parameter("email"))
                let removed = try self.db.write { db in
                    try db.execute("DELETE FROM email_locks WHERE email_key = ?", .text(key))
                }
                guard removed == 1 else { throw APIError.notFound("No lock on the email \(key)") }
                Log.info("support unlocked the email \(key)")
                return .noContent
            },
        ]
    }

    private func supportOrganizationID(_ request: APIRequest) throws -> String {
        let id = request.parameter("orgId")
        guard IdentifierSource.isUUID(id) else {
            throw APIError.invalid(field: "orgId", rule: "is_uuid", reason: "must be a UUID, got \"\(id.prefix(64))\"")
        }
        _ = try organizationRow(id)
        return id
    }

    private func supportOrganizationResponse(_ id: String) throws -> HTTPResponse {
        HTTPResponse.json(try supportView(id))
    }

    /// Everything support sees about an organization: state, history, licenses, subscriptions, lock.
    func supportView(_ id: String) throws -> JSON {
        let row = try organizationRow(id)
        let (history, subscriptions, lock, owner) = try db.read { db in
            (
                try db.query("SELECT * FROM state_history WHERE org_id = ? ORDER BY seq", .text(id)),
                try db.query("SELECT * FROM subscriptions WHERE org_id = ? ORDER BY name", .text(id)),
                try db.query(
                    "SELECT l.* FROM email_locks l JOIN users u ON u.email_key = l.email_key JOIN organizations o ON o.owner_id = u.id WHERE o.id = ?",
                    .text(id)
                ).first,
                try db.query(
                    "SELECT u.email FROM users u JOIN organizations o ON o.owner_id = u.id WHERE o.id = ?", .text(id)
                ).first
            )
        }
        var body = organizationJSON(row)
        body["owner_email"] = .optional(owner?.string("email"))
        body["deactivated_at"] = row.time("deactivated_at")?.json ?? .null
        body["deactivation_reason"] = .optional(row.string("deactivation_reason"))
        body["email_locked"] = .bool(lock != nil)
        body["state_history"] = .array(
            history.map {
                StateChange(
                    state: OrganizationState(rawValue: $0.string("state") ?? "") ?? .active,
                    reason: $0.string("reason") ?? "",
                    actor: $0.string("actor") ?? "", at: $0.time("at") ?? SimTime(seconds: 0)
                ).json
            })
        body["subscriptions"] = .array(subscriptions.map(subscriptionJSON))
        body["licenses"] = .array(try licenses(id))
        return body
    }

    func subscriptionJSON(_ row: Row) -> JSON {
        [
            "name": .optional(row.string("name")), "state": .optional(row.string("state")),
            "started_at": row.time("started_at")?.json ?? .null, "ended_at": row.time("ended_at")?.json ?? .null,
        ]
    }

    func supportListOrganizations(_ request: APIRequest) throws -> HTTPResponse {
        try requireSupport(request)
        let page = try PageRequest(request)
        var rows = try db.read { db in
            try db.query(
                "SELECT o.*, u.email AS owner_email FROM organizations o JOIN users u ON u.id = o.owner_id ORDER BY o.created_at, o.id"
            )
        }
        if let email = request.query("filter[owner_email]") {
            rows = rows.filter { $0.string("owner_email")?.lowercased() == email.lowercased() }
        }
        if let name = request.query("filter[name]") { rows = rows.filter { $0.string("name") == name } }
        if let state = request.query("filter[state]") { rows = rows.filter { $0.string("state") == state } }
        return page.response(
            rows.map { row in
                var body = organizationJSON(row)
                body["owner_email"] = .optional(row.string("owner_email"))
                return body
            })
    }

    func supportGetOrganization(_ request: APIRequest) throws -> HTTPResponse {
        try requireSupport(request)
        return try supportOrganizationResponse(try supportOrganizationID(request))
    }

    /// Rebuilds the lifecycle value from a row.
    func organizationLifecycle(_ row: Row) -> OrganizationLifecycle {
        OrganizationLifecycle(
            state: OrganizationState(rawValue: row.string("state") ?? "") ?? .active,
            deactivatedAt: row.time("deactivated_at"),
            deactivationReason: row.string("deactivation_reason").flatMap(DeactivationReason.init(rawValue:)),
            retentionDays: row.int("retention_days") ?? OrganizationLifecycle.defaultRetentionDays, history: [])
    }

    /// Deactivates an organization now (D1).
    func deactivate(organizationID: String, reason: DeactivationReason, actor: String) throws {
        let moment = now
        try db.write { db in
            try deactivate(db, organizationID: organizationID, reason: reason, actor: actor, at: moment)
        }
        outboxSignal.fire()
        Log.info("organization \(organizationID) deactivated (\(reason.rawValue)) by \(actor)")
    }

    /// Deactivation inside a transaction: the lifecycle decides, this carries out its directives (D3).
    func deactivate(
        _ db: Transaction, organizationID: String, reason: DeactivationReason, actor: String, at moment: SimTime
    ) throws {
        guard let row = try db.query("SELECT * FROM organizations WHERE id = ?", .text(organizationID)).first else {
            throw APIError.notFound("The requested organization was not found")
        }
        var lifecycle = organizationLifecycle(row)
        let directives: [LifecycleDirective]
        do {
            directives = try lifecycle.deactivate(reason: reason, actor: actor, at: moment)
        } catch {
            throw APIError.conflict("\(error)")
        }
        try db.execute(
            "UPDATE organizations SET state = 'inactive', deactivated_at = ?, deactivation_reason = ?, updated_at = ? WHERE id = ?",
            .time(moment), .text(reason.rawValue), .time(moment), .text(organizationID))
        try recordState(
            db, organizationID: organizationID,
            StateChange(state: .inactive, reason: reason.rawValue, actor: actor, at: moment))
        try carryOut(directives, db, organizationID: organizationID, row: row, at: moment)
    }

    /// Reactivation by support (D7).
    func reactivate(organizationID: String, actor: String) throws {
        let moment = now
        try db.write { db in
            guard let row = try db.query("SELECT * FROM organizations WHERE id = ?", .text(organizationID)).first else {
                throw APIError.notFound("The requested organization was not found")
            }
            var lifecycle = organizationLifecycle(row)
            let directives: [LifecycleDirective]
            do {
                directives = try lifecycle.reactivate(actor: actor, at: moment)
            } catch {
                throw APIError.conflict("\(error)")
            }
            try db.execute(
                "UPDATE organizations SET state = 'active', deactivated_at = NULL, deactivation_reason = NULL, updated_at = ? WHERE id = ?",
                .time(moment), .text(organizationID))
            try recordState(
                db, organizationID: organizationID,
                StateChange(state: .active, reason: "reactivated", actor: actor, at: moment))
            try carryOut(directives, db, organizationID: organizationID, row: row, at: moment)
        }
        outboxSignal.fire()
        Log.info("organization \(organizationID) reactivated by \(actor)")
    }

    /// The retention period ended (A5): deleting, and every geo purges.
    func retentionElapsed(_ db: Transaction, organizationID: String, at moment: SimTime) throws {
        guard let row = try db.query("SELECT * FROM organizations WHERE id = ?", .text(organizationID)).first else {
            return
        }
        var lifecycle = organizationLifecycle(row)
        let directives: [LifecycleDirective]
        do {
            directives = try lifecycle.retentionElapsed(at: moment)
        } catch {
            return
        }
        try db.execute(
            "UPDATE organizations SET state = 'deleting', updated_at = ? WHERE id = ?", .time(moment),
            .text(organizationID))
        try recordState(
            db, organizationID: organizationID,
            StateChange(state: .deleting, reason: "retention_period_elapsed", actor: "system", at: moment))
        try carryOut(directives, db, organizationID: organizationID, row: row, at: moment)
    }

    /// Carries out lifecycle directives, in order, in the caller's transaction.
    func carryOut(
        _ directives: [LifecycleDirective], _ db: Transaction, organizationID id: String, row: Row, at moment: SimTime
    ) throws {
        for directive in directives {
            switch directive {
            case .closeBillingCycle(let at):
                try closeCycle(db, organizationID: id, at: at, final: true)
            case .removeSubscriptions:
                try db.execute(
                    "UPDATE subscriptions SET state = 'removed', ended_at = ? WHERE org_id = ? AND state = 'active'",
                    .time(moment), .text(id))
            case .endLicenses:
                try db.execute(
                    "UPDATE licenses SET ended_at = ? WHERE org_id = ? AND ended_at IS NULL", .time(moment), .text(id))
            case .decommissionControlPlanes:
                let reason = try db.query("SELECT deactivation_reason FROM organizations WHERE id = ?", .text(id))
                    .first?.string("deactivation_reason")
                try appendEvent(
                    db, kind: "organization.deactivated", organizationID: id, payload: ["reason": .optional(reason)],
                    at: moment)
            case .removeTeamMembershipsAndRoles:
                try db.execute(
                    "DELETE FROM team_members WHERE team_id IN (SELECT id FROM teams WHERE org_id = ?)", .text(id))
                try db.execute("DELETE FROM role_assignments WHERE org_id = ?", .text(id))
            case .lockEmail:
                if let owner = try db.query(
                    "SELECT email, email_key FROM users WHERE id = ?", .text(row.string("owner_id") ?? "")
                ).first {
                    try db.execute(
                        "INSERT OR REPLACE INTO email_locks(email_key, email, org_id, locked_at) VALUES (?, ?, ?, ?)",
                        .text(owner.string("email_key") ?? ""), .text(owner.string("email") ?? ""), .text(id),
                        .time(moment))
                }
            case .revokeSessions:
                try db.execute("UPDATE sessions SET revoked = 1 WHERE org_id = ?", .text(id))
                try db.execute(
                    "UPDATE access_tokens SET revoked_at = ? WHERE org_id = ? AND revoked_at IS NULL", .time(moment),
                    .text(id))
            case .restoreSubscriptions:
                try db.execute("UPDATE subscriptions SET state = 'active', ended_at = NULL WHERE org_id = ?", .text(id))
            case .restoreLicenses:
                try db.execute("UPDATE licenses SET ended_at = NULL WHERE org_id = ?", .text(id))
            case .resumeBilling(let at):
                let created = row.time("created_at") ?? at
                let cycle = BillingCycle(containing: at, createdAt: created)
                // A reactivation counts as activity: the inactivity window starts again from it (D2, D7).
                try db.execute(
                    "UPDATE organizations SET next_cycle = ?, billing_from = ?, reactivated_at = ? WHERE id = ?",
                    .int(cycle.index), .time(at), .time(at),
                    .text(id))
            case .recommissionControlPlanes:
                try appendEvent(
                    db, kind: "organization.reactivated", organizationID: id,
                    payload: [
                        "gateway_license": try gatewayLicense(db, organizationID: id),
                        "mesh_license": try meshLicense(db, organizationID: id),
                    ], at: moment)
            case .restoreOwnerAdmin:
                let ownerID = row.string("owner_id") ?? ""
                try db.execute("UPDATE users SET active = 1 WHERE id = ?", .text(ownerID))
                try db.execute(
                    "INSERT OR IGNORE INTO memberships(org_id, user_id, created_at) VALUES (?, ?, ?)", .text(id),
                    .text(ownerID), .time(moment))
                try assignRole(
                    db, organizationID: id, userID: ownerID, teamID: nil, RoleCatalog.organizationAdmin, now: moment)
            case .purgeObjects:
                try appendEvent(db, kind: "organization.deleted", organizationID: id, payload: [:], at: moment)
            }
        }
    }

    /// Adds an event to the outbox every geo reads in order (D4).
    func appendEvent(_ db: Transaction, kind: String, organizationID: String, payload: JSON, at moment: SimTime) throws
    {
        try db.execute(
            "INSERT INTO outbox(kind, org_id, payload, created_at) VALUES (?, ?, ?, ?)", .text(kind),
            .text(organizationID),
            .text(payload.text), .time(moment))
    }

    /// Marks `deleted` every organization whose purge every geo has confirmed (its cursor passed the event).
    func confirmPurges(_ db: Transaction, at moment: SimTime) throws {
        let cursors = try db.query("SELECT geo, cursor FROM geo_cursors")
        var minimum = Int64.max
        for geo in configuration.geos {
            let cursor = cursors.first { $0.string("geo") == geo }?.int("cursor") ?? 0
            minimum = min(minimum, cursor)
        }
        let pending = try db.query(
            "SELECT o.id, e.seq FROM organizations o JOIN outbox e ON e.org_id = o.id AND e.kind = 'organization.deleted' WHERE o.state = 'deleting'"
        )
        for row in pending where (row.int("seq") ?? .max) <= minimum {
            let id = row.string("id") ?? ""
            try db.execute(
                "UPDATE organizations SET state = 'deleted', updated_at = ? WHERE id = ?", .time(moment), .text(id))
            try recordState(
                db, organizationID: id,
                StateChange(state: .deleted, reason: "objects_purged_in_every_geo", actor: "system", at: moment))
            Log.info("organization \(id) deleted: every geo purged its objects")
        }
    }
}
