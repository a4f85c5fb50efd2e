import Foundation
import KonnectCluster
import KonnectCore
import KonnectHTTP
import Testing

extension ProcessTests {
    /// Issue 14, B4: the Billing and Usage view shows usage with what is included, charges, credits used,
    /// left and expired, the total, and what happens to it.
    @Suite struct BillingView {
        @Test("B4, P2: billing show: usage and inclusions, credits, totals without -0.00, and the payment state")
        func billingShowSaysEverything() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let shop = try cluster.gwShop()
            try cluster.expect(201, "eu", "POST", "/v2/portals", ["name": "docs"], token: shop.token)
            try cluster.gwStartDataPlane("dp1", controlPlane: shop.controlPlane)
            try cluster.gwWaitForVersion("dp1", 3)
            try cluster.gwSend(1, to: "dp1", "/orders/1")
            try cluster.waitForUsageDelivered(geos: ["eu"], dataPlanes: ["dp1"])
            try cluster.advance("1d")

            let show = ["billing", "show", "--dir", cluster.directory, "--org", shop.organization]
            let day1 = try cluster.runCLI(show)
            #expect(day1.status == 0, "\(day1.stderr)")
            for wanted in [
                "1 service-day ", "1 portal-day (1 portal included at a time; 0 extra portal-days)",
                "1 call (1,000,000 included; 0 billable)", "Credits applied", "-3.50 USD",
                "Payment: open: there is no payment method on file to charge when the cycle ends",
                "Trial credits: 500.00 USD granted, 3.50 used, 496.50 left, 0.00 expired",
            ] {
                #expect(day1.stdout.contains(wanted), "missing '\(wanted)' in:\n\(day1.stdout)")
            }
            #expect(!day1.stdout.contains("service-days"), "\(day1.stdout)")

            // Day 25 a login keeps the free organization active; day 60 the second cycle is invoiced.
            try cluster.advance("24d")
            _ = try cluster.login("ana@example.com")
            try cluster.advance("35d")
            let later = try cluster.runCLI(show)
            #expect(!later.stdout.contains("-0.00"), "\(later.stdout)")
            for wanted in [
                "30 service-days", "Payment: nothing to pay",
                "Payment: unpaid: there is no payment method on file to charge",
                "Trial credits: 500.00 USD granted, 105.00 used, 0.00 left, 395.00 expired",
            ] {
                #expect(later.stdout.contains(wanted), "missing '\(wanted)' in:\n\(later.stdout)")
            }

            // The same in the API's view.
            let cycle1 = try #require(
                try cluster.support("GET", "/v3/support/organizations/\(shop.organization)/billing/usage?cycle=1").json)
            let invoice = try #require(cycle1["periods"]?[0])
            #expect(invoice["total"]?.stringValue == "105.00")
            #expect(invoice["credits_applied"]?.stringValue == "0.00")
            #expect(invoice["payment"]?["state"]?.stringValue == "unpaid_no_payment_method")
            #expect(cycle1["credits"]?["expired"]?.stringValue == "395.00")
            #expect(cycle1["included"]?["api_calls"]?.intValue == 1_000_000)
            #expect(cycle1["payment_method_on_file"]?.boolValue == false)
            let invoices = try #require(
                try cluster.support("GET", "/v3/support/organizations/\(shop.organization)/invoices").json)
            #expect(invoices["data"]?[0]?["payment"]?["state"]?.stringValue == "nothing_due")
        }
    }
}
