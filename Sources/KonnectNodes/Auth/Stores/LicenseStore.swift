import KonnectCore
import KonnectStorage

/// One of an organization's three licenses (P3).
struct LicenseRecord: Sendable {
    var id: String
    /// The stored product name (a `LicenseProduct` raw value).
    var productName: String
    var createdAt: SimTime
    /// When the license ended with the subscriptions (D3); nil while active.
    var endedAt: SimTime?

    var product: LicenseProduct? { LicenseProduct(rawValue: productName) }

    init(_ row: Row) {
        id = row.string("id") ?? ""
        productName = row.string("product") ?? ""
        createdAt = row.time("created_at") ?? SimTime(seconds: 0)
        endedAt = row.time("ended_at")
    }
}

/// Licenses (`licenses`): provisioned at creation, never created by API (P3), ended and restored with
/// the organization (D3, D7).
struct LicenseStore {
    let ids: IdentifierSource

    /// One license of every product (P3).
    func provision(_ work: UnitOfWork, organizationID: String, at moment: SimTime) throws {
        for product in LicenseProduct.allCases {
            try work.tx.execute(
                "INSERT INTO licenses(id, org_id, product, created_at) VALUES (?, ?, ?, ?)",
                .text(try ids.next(work.tx)),
                .text(organizationID), .text(product.rawValue), .time(moment))
        }
    }

    /// The organization's licenses by product name.
    func licenses(_ db: Transaction, organizationID: String) throws -> [LicenseRecord] {
        try db.query("SELECT * FROM licenses WHERE org_id = ? ORDER BY product", .text(organizationID)).map(
            LicenseRecord.init)
    }

    func end(_ work: UnitOfWork, organizationID: String, at moment: SimTime) throws {
        try work.tx.execute(
            "UPDATE licenses SET ended_at = ? WHERE org_id = ? AND ended_at IS NULL", .time(moment),
            .text(organizationID))
    }

    func restore(_ work: UnitOfWork, organizationID: String) throws {
        try work.tx.execute("UPDATE licenses SET ended_at = NULL WHERE org_id = ?", .text(organizationID))
    }
}
