import KonnectCore

/// An organization's licenses as customers and support list them (P3, P4, D3).
struct LicenseListing: Sendable {
    let db: AuthDatabase
    let organizations: OrganizationStore
    let licenses: LicenseStore

    /// The three licenses provisioned at creation; ended when the subscriptions end.
    func licenses(of organizationID: String) throws -> [JSON] {
        let (organization, records) = try db.read { tx in
            (
                try organizations.organization(tx, id: organizationID),
                try licenses.licenses(tx, organizationID: organizationID)
            )
        }
        return records.map { $0.json(customer: organization?.name ?? "") }
    }
}
