import KonnectCore
import KonnectStorage

/// Proxied API call counts (`api_calls`), stamped with the calendar moment they were recorded and the
/// billing cycle open then (NULL: not billed), and with the invoice that charged them (B3, B4).
struct APICallStore {
    func record(
        _ work: UnitOfWork, organizationID: String, geo: String, count: Int64, cycle: Int64?, at moment: SimTime
    ) throws {
        try work.tx.execute(
            "INSERT INTO api_calls(org_id, geo, at, count, cycle) VALUES (?, ?, ?, ?, ?)", .text(organizationID),
            .text(geo), .time(moment), .int(count), .optional(cycle))
    }

    /// The calls attributed to a cycle and not invoiced yet, summed per moment.
    func uninvoiced(_ db: Transaction, organizationID: String, cycle: Int64) throws -> [APICallRecord] {
        try db.query(
            "SELECT at, SUM(count) AS n FROM api_calls WHERE org_id = ? AND cycle = ? AND invoice_id IS NULL GROUP BY at ORDER BY at",
            .text(organizationID), .int(cycle)
        ).map { APICallRecord(at: $0.time("at") ?? SimTime(seconds: 0), count: $0.int("n") ?? 0) }
    }

    /// The cycle's calls are charged by this invoice.
    func markInvoiced(_ work: UnitOfWork, organizationID: String, cycle: Int64, invoiceID: String) throws {
        try work.tx.execute(
            "UPDATE api_calls SET invoice_id = ? WHERE org_id = ? AND cycle = ? AND invoice_id IS NULL",
            .text(invoiceID),
            .text(organizationID), .int(cycle))
    }
}
