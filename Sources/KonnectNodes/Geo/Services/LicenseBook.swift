import KonnectCore
import KonnectStorage
import Synchronization

/// Each organization's licenses, which data planes and zones receive with their configuration (P4).
/// Every introspection answer brings them; a request only notes them in memory. They are written
/// behind (within a second), and also by any write the geo makes before that (`RideAlong`), so an
/// acknowledged control plane never has its organization's licenses only in memory.
final class LicenseBook: RideAlong, Sendable {
    private struct Entries {
        var known: [String: OrganizationLicenses] = [:]
        /// Organizations whose noted licenses may not be on disk yet, with the note's number.
        var unsaved: [String: UInt64] = [:]
        var notes: UInt64 = 0
    }

    private final class Book: Sendable {
        let entries = Mutex(Entries())
        func withLock<T>(_ body: (inout Entries) -> T) -> T { entries.withLock { body(&$0) } }
    }

    private let book = Book()
    private let store: OrganizationLicenseStore
    private let writes: WriteBehind<String, OrganizationLicenses>

    init(store: OrganizationLicenseStore) {
        self.store = store
        let book = self.book
        writes = WriteBehind(
            name: "organization licenses", database: store.database.database, interval: .seconds(1),
            log: { Log.warning($0) },
            persist: { [book] transaction, licenses in
                // An organization purged meanwhile is not written back.
                let current = book.withLock { $0.known }
                for (organization, value) in licenses where current[organization] == value {
                    try store.save(value, organization: organization, in: transaction)
                }
            })
    }

    /// Notes the licenses the auth node reported for an organization.
    func note(_ licenses: OrganizationLicenses, organization: String) {
        book.withLock { book in
            guard book.known[organization] != licenses else { return }
            book.known[organization] = licenses
            book.notes += 1
            book.unsaved[organization] = book.notes
            // Under the lock, so the last value noted is the last one written.
            writes.record(licenses, for: organization)
        }
    }

    /// The organization's licenses: the latest noted, else the stored ones; nil when none are known.
    func licenses(organization: String, in context: (any GeoReading)? = nil) throws -> OrganizationLicenses? {
        if let noted = book.withLock({ $0.known[organization] }) { return noted }
        return try store.licenses(organization: organization, in: context)
    }

    /// An organization whose objects are purged: its licenses go too.
    func forget(organization: String, in work: GeoWork) throws {
        book.withLock { book in
            book.known[organization] = nil
            book.unsaved[organization] = nil
        }
        try store.remove(organization: organization, in: work)
    }

    func writePending(in transaction: Transaction) throws -> @Sendable () -> Void {
        let (unsaved, known) = book.withLock { ($0.unsaved, $0.known) }
        guard !unsaved.isEmpty else { return {} }
        for organization in unsaved.keys {
            if let licenses = known[organization] {
                try store.save(licenses, organization: organization, in: transaction)
            }
        }
        return { [book] in
            book.withLock { book in
                for (organization, note) in unsaved where book.unsaved[organization] == note {
                    book.unsaved[organization] = nil
                }
            }
        }
    }

    func stop() throws { try writes.stop() }
}
