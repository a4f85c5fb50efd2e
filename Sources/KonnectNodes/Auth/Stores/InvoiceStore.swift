import KonnectCore
import KonnectStorage

/// Issued invoices (`invoices`, B4), kept as the JSON body the APIs answer.
struct InvoiceStore {
    func issue(
        _ work: UnitOfWork, id: String, organizationID: String, _ invoice: Invoice, body: JSON, at moment: SimTime
    )
        throws
    {
        try work.tx.execute(
            """
            INSERT INTO invoices(id, org_id, cycle, period_start, period_end, body, subtotal, credits_applied, total, issued_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, .text(id), .text(organizationID), .int(invoice.cycle.index), .time(invoice.periodStart),
            .time(invoice.periodEnd), .text(body.text), .int(invoice.subtotal.cents),
            .int(invoice.creditsApplied.cents),
            .int(invoice.total.cents), .time(moment))
    }

    /// Every invoice of the organization, by period.
    func invoices(_ db: Transaction, organizationID: String) throws -> [JSON] {
        try db.query(
            "SELECT body FROM invoices WHERE org_id = ? ORDER BY period_start, issued_at", .text(organizationID)
        ).map { $0.json("body") }
    }

    /// The invoices of one cycle (more than one when a deactivation split it).
    func invoices(_ db: Transaction, organizationID: String, cycle: Int64) throws -> [JSON] {
        try db.query(
            "SELECT body FROM invoices WHERE org_id = ? AND cycle = ? ORDER BY period_start", .text(organizationID),
            .int(cycle)
        ).map { $0.json("body") }
    }
}
