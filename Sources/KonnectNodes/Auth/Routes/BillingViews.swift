import KonnectCore

/// What customers and support read about an organization's billing (P1, P2, B4), at the calendar's moment.
struct BillingViews: Sendable {
    let db: AuthDatabase
    let clock: CalendarClock
    let invoices: InvoiceStore
    let billing: BillingLedger

    func plan(_ organizationID: String) throws -> JSON {
        let now = clock.now
        return try db.read { tx in try billing.plan(tx, organizationID: organizationID, now: now) }
    }

    /// The Billing and Usage view of one cycle (`current`, `previous` or its number).
    func usage(_ organizationID: String, selector: String) throws -> JSON {
        let now = clock.now
        return try db.read { tx in
            try billing.usageView(tx, organizationID: organizationID, selector: selector, now: now)
        }
    }

    func invoices(_ organizationID: String) throws -> [JSON] {
        try db.read { tx in try invoices.invoices(tx, organizationID: organizationID) }
    }
}
