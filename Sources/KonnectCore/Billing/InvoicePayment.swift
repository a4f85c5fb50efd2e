/// What happens to an invoice's total (B4, P2), decided when it is issued and shown with it.
///
/// A free organization (Plus without a payment method) still gets its invoice when usage outlives its
/// credits; there is nothing to charge, and it stays unpaid: adding a payment method later does not
/// charge earlier invoices (the simulator does no collections).
public enum InvoicePayment: String, Sendable, Hashable, CaseIterable {
    /// Enterprise: usage recorded, billed by contract (P1).
    case contract
    /// The total is zero (credits covered it, or nothing was used).
    case nothingDue = "nothing_due"
    /// Charged to the payment method on file.
    case charged
    /// Plus without a payment method: nothing to charge.
    case unpaidNoPaymentMethod = "unpaid_no_payment_method"
    /// The open cycle: what is priced so far is charged when the cycle ends.
    case open

    /// The state of an issued invoice.
    public static func issued(total: Money, contract: Bool, hasPaymentMethod: Bool) -> InvoicePayment {
        if contract { return .contract }
        if total <= .zero { return .nothingDue }
        return hasPaymentMethod ? .charged : .unpaidNoPaymentMethod
    }

    /// What the Billing and Usage view says about it.
    public func detail(hasPaymentMethod: Bool) -> String {
        switch self {
        case .contract: "billed by contract (Enterprise), not charged here"
        case .nothingDue: "nothing to pay"
        case .charged: "charged to the payment method on file"
        case .unpaidNoPaymentMethod:
            "unpaid: there is no payment method on file to charge (add one with PUT /v3/organizations/me/payment-method)"
        case .open:
            hasPaymentMethod
                ? "open: charged to the payment method on file when the cycle ends"
                : "open: there is no payment method on file to charge when the cycle ends"
        }
    }

    public func json(hasPaymentMethod: Bool) -> JSON {
        ["state": .string(rawValue), "detail": .string(detail(hasPaymentMethod: hasPaymentMethod))]
    }
}
