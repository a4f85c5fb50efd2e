import KonnectCore
import Testing

/// What happens to an invoice's total (B4, P2, issue 14).
@Suite struct InvoicePaymentTests {
    @Test func issuedStates() {
        let some = Money(cents: 10_500)
        #expect(InvoicePayment.issued(total: some, contract: true, hasPaymentMethod: false) == .contract)
        #expect(InvoicePayment.issued(total: .zero, contract: false, hasPaymentMethod: false) == .nothingDue)
        #expect(InvoicePayment.issued(total: .zero, contract: false, hasPaymentMethod: true) == .nothingDue)
        #expect(InvoicePayment.issued(total: some, contract: false, hasPaymentMethod: true) == .charged)
        #expect(InvoicePayment.issued(total: some, contract: false, hasPaymentMethod: false) == .unpaidNoPaymentMethod)
    }

    @Test func detailsSayWhatHappens() {
        #expect(InvoicePayment.unpaidNoPaymentMethod.detail(hasPaymentMethod: false).contains("no payment method"))
        #expect(InvoicePayment.open.detail(hasPaymentMethod: true).contains("charged to the payment method on file"))
        #expect(InvoicePayment.open.detail(hasPaymentMethod: false).contains("no payment method"))
        #expect(InvoicePayment.charged.json(hasPaymentMethod: true)["state"] == "charged")
    }
}
