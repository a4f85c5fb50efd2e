import KonnectCore
import KonnectStorage
import Synchronization

/// Each organization's licenses, which data planes and zones receive with their configuration (P4).
/// Every introspection answer brings them; a request only notes them in memory, and they are written
/// behind: within a second, and by any write the geo makes before that (so an acknowledged control
/// plane never has its organization's licenses only in memory).
final class LicenseBook: Sendable {
    private let known = Mutex<[String: OrganizationLicenses]>([:])
    private let store: OrganizationLicenseStore
    let writes: WriteBehind<String, OrganizationLicenses>

    init(store: OrganizationLicenseStore) {
        self.store = store
        writes = WriteBehind("geo-license-writes", database: store.database.database) { transaction, licenses in
            for (organization, value) in licenses {
                try store.save(value, organization: organization, in: transaction)
            }
        }
    }

    /// Notes the licenses the auth node reported for an organization.
    func note(_ licenses: OrganizationLicenses, organization: String) {
        known.withLock { map in
            guard map[organization] != licenses else { return }
            map[organization] = licenses
            // Under the lock, so the last value noted is the last one written.
            writes.record(licenses, for: organization)
        }
    }

    /// The organization's licenses: the latest noted, else the stored ones; nil when none are known.
    func licenses(organization: String, in context: (any GeoReading)? = nil) throws -> OrganizationLicenses? {
        if let noted = known.withLock({ $0[organization] }) { return noted }
        return try store.licenses(organization: organization, in: context)
    }

    /// An organization whose objects are purged: its licenses go too.
    func forget(organization: String, in work: GeoWork) throws {
        known.withLock { map in
            map[organization] = nil
            writes.discard(organization)
        }
        try store.remove(organization: organization, in: work)
    }
}
