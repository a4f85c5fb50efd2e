import KonnectCore

/// How the auth node's records look in its API answers (Konnect's shapes).
extension UserRecord {
    /// `inferredRegion` is the cluster's first geo (Konnect infers it from the signup).
    func json(inferredRegion: String) -> JSON {
        [
            "id": .string(id), "email": .string(email), "full_name": .string(fullName),
            "preferred_name": .string(preferredName ?? ""), "active": .bool(active),
            "inferred_region": .string(inferredRegion), "created_at": createdAt.json, "updated_at": updatedAt.json,
        ]
    }
}

extension OrganizationRecord {
    var json: JSON {
        [
            "id": .string(id), "name": .string(name), "owner_id": .string(ownerID), "login_path": "",
            "created_at": createdAt.json, "updated_at": updatedAt.json, "state": .string(state.rawValue),
            "retention_period_days": .int(retentionDays), "plan": .string(plan.rawValue),
            "home_geo": .string(homeGeo),
        ]
    }
}

extension RoleAssignmentRecord {
    var json: JSON {
        [
            "id": .string(id), "role_name": .string(role.roleName), "entity_id": .string(role.entityID),
            "entity_type_name": .string(role.entityTypeName), "entity_region": .string(role.entityRegion),
        ]
    }
}

extension AccessTokenRecord {
    /// `ACTIVE`, `REVOKED` or `EXPIRED` at the calendar's moment `now`.
    func json(now: SimTime) -> JSON {
        var state = "ACTIVE"
        if revokedAt != nil {
            state = "REVOKED"
        } else if let expiresAt, expiresAt <= now {
            state = "EXPIRED"
        }
        return [
            "id": .string(id), "name": .string(name), "state": .string(state), "user_id": .string(userID),
            "created_at": createdAt.json, "updated_at": updatedAt.json, "expires_at": expiresAt?.json ?? .null,
            "last_used_at": lastUsedAt?.json ?? .null, "revoked_at": revokedAt?.json ?? .null,
        ]
    }
}

extension TeamRecord {
    var json: JSON {
        [
            "id": .string(id), "name": .string(name), "description": .optional(description), "system_team": false,
            "labels": labels, "created_at": createdAt.json, "updated_at": updatedAt.json,
        ]
    }
}

extension SubscriptionRecord {
    var json: JSON {
        [
            "name": .string(name), "state": .string(state), "started_at": startedAt.json,
            "ended_at": endedAt?.json ?? .null,
        ]
    }
}

extension LicenseRecord {
    /// As `GET /v3/organizations/me/licenses` lists it (P3).
    func json(customer: String) -> JSON {
        [
            "id": .string(id), "product": .string(productName), "name": .string(product?.displayName ?? ""),
            "customer": .string(customer), "state": .string(endedAt == nil ? "active" : "ended"),
            "created_at": createdAt.json, "ended_at": endedAt?.json ?? .null,
        ]
    }
}

extension [LicenseRecord] {
    /// The license of one product as data planes and zones receive it (P4); null when there is none.
    func payload(of product: LicenseProduct, customer: String) -> JSON {
        guard let license = first(where: { $0.product == product }) else { return .null }
        return [
            "id": .string(license.id), "product_subscription": .string(product.displayName),
            "customer": .string(customer), "license_creation_date": license.createdAt.json,
            "state": .string(license.endedAt == nil ? "active" : "ended"), "ended_at": license.endedAt?.json ?? .null,
        ]
    }
}
