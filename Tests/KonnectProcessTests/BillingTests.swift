import Foundation
import KonnectCluster
import KonnectCore
import KonnectHTTP
import Testing

#if canImport(Glibc)
    import Glibc
#endif

// MARK: - Billing helpers

extension TestCluster {
    /// Support's view of an organization's invoices.
    func blInvoices(_ organization: String) throws -> [JSON] {
        let response = try support("GET", "/v3/support/organizations/\(organization)/invoices")
        guard response.status == 200 else {
            throw ProcessTestFailure(message: "invoices answered \(response.status): \(response.text)")
        }
        return response.json?["data"]?.arrayValue ?? []
    }

    /// Support's Billing and Usage view of one cycle (`current`, `previous` or a number).
    func blUsage(_ organization: String, cycle: String = "current") throws -> JSON {
        let response = try support("GET", "/v3/support/organizations/\(organization)/billing/usage?cycle=\(cycle)")
        guard response.status == 200, let body = response.json else {
            throw ProcessTestFailure(message: "usage answered \(response.status): \(response.text)")
        }
        return body
    }

    /// Support's view of an organization's plan.
    func blPlan(_ organization: String) throws -> JSON {
        let response = try support("GET", "/v3/support/organizations/\(organization)/plan")
        guard response.status == 200, let body = response.json else {
            throw ProcessTestFailure(message: "plan answered \(response.status): \(response.text)")
        }
        return body
    }

    /// Makes the organization of `token` paid (P2), so that inactivity (D2) does not close it.
    func blPay(_ token: String) throws {
        try expect(200, "auth", "PUT", "/v3/organizations/me/payment-method", ["token": "pm_card_visa"], token: token)
    }

    /// Invites `email` into the organization of `adminToken`; returns the new member's user id and session token.
    func blInvite(_ email: String, by adminToken: String) throws -> (user: String, token: String) {
        let invite = try expect(201, "auth", "POST", "/v3/invites", ["email": .string(email)], token: adminToken)
        let joined = try expect(
            201, "auth", "POST", "/v3/invites/accept",
            [
                "invite_token": invite["invite_token"] ?? .null, "password": .string(TestCluster.password),
                "full_name": "Member",
            ])
        let organization = invite["organization_id"]?.stringValue
        return (joined["user"]?["id"]?.stringValue ?? "", try login(email, organization: organization))
    }

    /// The calendar's moment, as the auth node tells anyone.
    func blNow() throws -> String? {
        try expect(200, "auth", "GET", "/v3/simulator/clock")["now"]?.stringValue
    }
}

extension JSON {
    /// The first invoice line of a kind (`service`, `dev_portals`, `api_calls`).
    func blLine(_ kind: String) -> JSON? { self["lines"]?.arrayValue?.first { $0["kind"]?.stringValue == kind } }
}

/// The outcome of a request made on another thread.
final class BillingBackgroundCall: @unchecked Sendable {
    private let lock = NSLock()
    private let done = DispatchSemaphore(value: 0)
    private var outcome: String = ""

    func run(_ body: @escaping @Sendable () -> String) {
        Thread.detachNewThread { [self] in
            let result = body()
            lock.lock()
            outcome = result
            lock.unlock()
            done.signal()
        }
    }

    /// Waits for the call to end (it ends when its connection does).
    func wait(seconds: Double) -> String? {
        guard done.wait(timeout: .now() + seconds) == .success else { return nil }
        lock.lock()
        defer { lock.unlock() }
        return outcome
    }
}

extension ProcessTests {
    /// The simulated calendar, plans, trial credits, usage and the Billing and Usage view (issue 5:
    /// B1-B4, P1, P2).
    @Suite struct Billing {
        @Test("B1: the calendar moves only when told, and runs what falls due in date order")
        func calendarMovesOnlyWhenTold() throws {
            let cluster = try TestCluster(geos: ["eu"])
            #expect(try cluster.blNow() == "2026-01-01T00:00:00Z")
            // Org A on day 0 with one service; both organizations paid, so only cycles and trials fall due.
            let a = try cluster.newOrganization("ana@example.com", organization: "A")
            try cluster.blPay(a.token)
            let cp = try cluster.createControlPlane("shop", token: a.token)
            try cluster.gwService(cp, ["name": "orders", "url": "http://127.0.0.1:9/orders"], token: a.token)
            try cluster.waitForUsageDelivered(geos: ["eu"])
            // Wall time passes and requests are served: the calendar stays where it is.
            #expect(try cluster.blNow() == "2026-01-01T00:00:00Z")
            // Only support moves it; customers get 403.
            try cluster.expect(403, "auth", "POST", "/v3/simulator/clock/advance", ["by": "1d"], token: a.token)
            #expect(try cluster.blNow() == "2026-01-01T00:00:00Z")

            var moved = try cluster.advance("10d")
            #expect(moved["now"]?.stringValue == "2026-01-11T00:00:00Z")
            #expect(moved["events"]?.intValue == 0)
            let b = try cluster.newOrganization("bo@example.com", organization: "B")
            try cluster.blPay(b.token)

            // Day 10 -> 50: A's cycle end and trial end (day 30), then B's (day 40), each at its own moment.
            moved = try cluster.advance("40d")
            #expect(moved["now"]?.stringValue == "2026-02-20T00:00:00Z")
            #expect(moved["previous"]?.stringValue == "2026-01-11T00:00:00Z")
            #expect(moved["by_kind"]?["cycle_end"]?.intValue == 2)
            #expect(moved["by_kind"]?["trial_end"]?.intValue == 2)
            #expect(moved["events"]?.intValue == 4)
            let invoicesA = try cluster.blInvoices(a.organization)
            let invoicesB = try cluster.blInvoices(b.organization)
            #expect(invoicesA.count == 1)
            #expect(invoicesB.count == 1)
            #expect(invoicesA.first?["issued_at"]?.stringValue == "2026-01-31T00:00:00Z")
            #expect(invoicesB.first?["issued_at"]?.stringValue == "2026-02-10T00:00:00Z")
            // At one moment the cycle closes before the trial ends: A's credits paid its first cycle.
            #expect(invoicesA.first?["subtotal"]?.stringValue == "105.00")
            #expect(invoicesA.first?["credits_applied"]?.stringValue == "105.00")
            #expect(invoicesA.first?["total"]?.stringValue == "0.00")
            #expect(try cluster.blPlan(a.organization)["credits"]?["expired"]?.stringValue == "395.00")

            // It never moves back.
            let back = try cluster.support("PUT", "/v3/simulator/clock", ["now": "2026-01-05T00:00:00Z"])
            #expect(back.status == 409)
            #expect(try cluster.support("POST", "/v3/simulator/clock/advance", ["by": "-1d"]).status == 400)
            #expect(try cluster.blNow() == "2026-02-20T00:00:00Z")
        }

        @Test("P1, P2: Plus starts a 30-day trial with 500.00 credits; the plan view; payment method makes it paid")
        func plusTrialAndPlanView() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let (token, _) = try cluster.newOrganization("ana@example.com")
            var plan = try cluster.expect(200, "auth", "GET", "/v3/organizations/me/plan", token: token)
            #expect(plan["plan"]?.stringValue == "plus")
            #expect(plan["trial"]?["active"]?.boolValue == true)
            #expect(plan["trial"]?["start"]?.stringValue == "2026-01-01T00:00:00Z")
            #expect(plan["trial"]?["end"]?.stringValue == "2026-01-31T00:00:00Z")
            #expect(plan["credits"]?["granted"]?.stringValue == "500.00")
            #expect(plan["credits"]?["left"]?.stringValue == "500.00")
            #expect(plan["credits"]?["expires_at"]?.stringValue == "2026-01-31T00:00:00Z")
            #expect(plan["free"]?.boolValue == true)
            #expect(plan["paid"]?.boolValue == false)
            #expect(plan["payment_method_on_file"]?.boolValue == false)
            #expect((plan["subscriptions"]?.arrayValue?.count ?? 0) > 0)
            #expect(plan["subscriptions"]?.arrayValue?.allSatisfy { $0["state"]?.stringValue == "active" } == true)

            plan = try cluster.expect(
                200, "auth", "PUT", "/v3/organizations/me/payment-method", ["token": "pm_card_visa"], token: token)
            #expect(plan["paid"]?.boolValue == true)
            #expect(plan["free"]?.boolValue == false)
            #expect(plan["payment_method_on_file"]?.boolValue == true)
            try cluster.expect(400, "auth", "PUT", "/v3/organizations/me/payment-method", ["token": ""], token: token)
            plan = try cluster.expect(200, "auth", "DELETE", "/v3/organizations/me/payment-method", token: token)
            #expect(plan["free"]?.boolValue == true)
            #expect(plan["paid"]?.boolValue == false)

            // Enterprise: a contract, no trial, no credits.
            let enterprise = try cluster.newOrganization("cy@example.com", organization: "Globex", plan: "enterprise")
            plan = try cluster.expect(200, "auth", "GET", "/v3/organizations/me/plan", token: enterprise.token)
            #expect(plan["plan"]?.stringValue == "enterprise")
            #expect(plan["support"]?.stringValue == "24x7x365")
            #expect(plan["professional_services"]?.boolValue == true)
            #expect(plan["paid"]?.boolValue == true)
            #expect(plan["free"]?.boolValue == false)
            #expect(plan["contract"]?["billing"]?.stringValue == "contract")
            #expect(plan["credits"] == nil)
            #expect(plan["trial"] == nil)
        }

        @Test(
            "B2, B4, P1: the first invoice after 30 days, services from two geos, credits applied first; then full price"
        )
        func firstInvoiceWithCredits() throws {
            let cluster = try TestCluster(geos: ["us", "eu"])
            let (token, org) = try cluster.newOrganization("ana@example.com")
            try cluster.blPay(token)
            let eu = try cluster.createControlPlane("shop", geo: "eu", token: token)
            let us = try cluster.createControlPlane("shop-us", geo: "us", token: token)
            for name in ["orders", "payments", "users"] {
                try cluster.gwService(
                    eu, ["name": .string(name), "url": "http://127.0.0.1:9/x"], geo: "eu", token: token)
            }
            for name in ["orders", "catalog"] {
                try cluster.gwService(
                    us, ["name": .string(name), "url": "http://127.0.0.1:9/x"], geo: "us", token: token)
            }
            try cluster.waitForUsageDelivered(geos: ["us", "eu"])
            var usage = try cluster.blUsage(org)
            #expect(usage["cycle"]?.intValue == 0)
            #expect(usage["cycle_start"]?.stringValue == "2026-01-01T00:00:00Z")
            #expect(usage["cycle_end"]?.stringValue == "2026-01-31T00:00:00Z")
            #expect(usage["status"]?.stringValue == "open")

            try cluster.advance("29d")
            #expect(try cluster.blInvoices(org).isEmpty)
            usage = try cluster.blUsage(org)
            #expect(usage["periods"]?[0]?["usage"]?["service_days"]?.intValue == 145)
            #expect(usage["periods"]?[0]?["subtotal"]?.stringValue == "507.50")

            try cluster.advance("2d")
            var invoices = try cluster.blInvoices(org)
            #expect(invoices.count == 1)
            let first = try #require(invoices.first)
            #expect(first["cycle"]?.intValue == 0)
            #expect(first["period_start"]?.stringValue == "2026-01-01T00:00:00Z")
            #expect(first["period_end"]?.stringValue == "2026-01-31T00:00:00Z")
            #expect(first["billing"]?.stringValue == "rate_card")
            #expect(first["usage"]?["service_days"]?.intValue == 150)
            #expect(first["lines"]?.arrayValue?.count == 5)
            #expect(
                first["lines"]?.arrayValue?.allSatisfy {
                    $0["amount"]?.stringValue == "105.00" && $0["quantity"]?.intValue == 30
                } == true)
            // Usage by service, from both geos.
            let geos = first["lines"]?.arrayValue?.compactMap { $0["geo"]?.stringValue } ?? []
            #expect(geos.filter { $0 == "eu" }.count == 3)
            #expect(geos.filter { $0 == "us" }.count == 2)
            #expect(first["subtotal"]?.stringValue == "525.00")
            #expect(first["credits_applied"]?.stringValue == "500.00")
            #expect(first["total"]?.stringValue == "25.00")
            #expect(first["currency"]?.stringValue == "USD")
            // The customer's own view agrees (sessions last a calendar day: log in again).
            let fresh = try cluster.login("ana@example.com")
            let mine = try cluster.expect(200, "auth", "GET", "/v3/organizations/me/invoices", token: fresh)
            #expect(mine["data"]?[0]?["total"]?.stringValue == "25.00")
            let plan = try cluster.expect(200, "auth", "GET", "/v3/organizations/me/plan", token: fresh)
            #expect(plan["trial"]?["active"]?.boolValue == false)
            #expect(plan["credits"]?["used"]?.stringValue == "500.00")
            #expect(plan["credits"]?["left"]?.stringValue == "0.00")
            usage = try cluster.blUsage(org, cycle: "previous")
            #expect(usage["cycle"]?.intValue == 0)
            #expect(usage["status"]?.stringValue == "closed")
            #expect(usage["periods"]?[0]?["total"]?.stringValue == "25.00")
            #expect(try cluster.blUsage(org)["cycle"]?.intValue == 1)

            // The second cycle: full price, no credits.
            try cluster.advance("30d")
            invoices = try cluster.blInvoices(org)
            #expect(invoices.count == 2)
            #expect(invoices.last?["cycle"]?.intValue == 1)
            #expect(invoices.last?["period_start"]?.stringValue == "2026-01-31T00:00:00Z")
            #expect(invoices.last?["period_end"]?.stringValue == "2026-03-02T00:00:00Z")
            #expect(invoices.last?["subtotal"]?.stringValue == "525.00")
            #expect(invoices.last?["credits_applied"]?.stringValue == "0.00")
            #expect(invoices.last?["total"]?.stringValue == "525.00")
        }

        @Test("P1, B4: Enterprise usage is recorded on the invoice but billed by contract, not by the rate card")
        func enterpriseContract() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let (token, org) = try cluster.newOrganization("cy@example.com", organization: "Globex", plan: "enterprise")
            let cp = try cluster.createControlPlane("big", token: token)
            try cluster.gwService(cp, ["name": "a", "url": "http://127.0.0.1:9/a"], token: token)
            try cluster.gwService(cp, ["name": "b", "url": "http://127.0.0.1:9/b"], token: token)
            try cluster.expect(201, "eu", "POST", "/v2/portals", ["name": "one"], token: token)
            try cluster.expect(201, "eu", "POST", "/v2/portals", ["name": "two"], token: token)
            try cluster.waitForUsageDelivered(geos: ["eu"])
            try cluster.advance("31d")
            let invoices = try cluster.blInvoices(org)
            #expect(invoices.count == 1)
            let invoice = try #require(invoices.first)
            #expect(invoice["billing"]?.stringValue == "contract")
            #expect(invoice["usage"]?["service_days"]?.intValue == 60)
            #expect(invoice["usage"]?["portal_days"]?.intValue == 60)
            #expect(invoice["subtotal"]?.stringValue == "0.00")
            #expect(invoice["credits_applied"]?.stringValue == "0.00")
            #expect(invoice["total"]?.stringValue == "0.00")
            // Never deactivated for inactivity (nobody logged in for 31 days).
            #expect(
                try cluster.support("GET", "/v3/support/organizations/\(org)").json?["state"]?.stringValue == "active")
        }

        @Test("B2, B3: service-days, portal-days and API calls land in the cycle they happened in")
        func usageLandsInTheRightCycle() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let shop = try cluster.gwShop()
            try cluster.blPay(shop.token)
            try cluster.gwStartDataPlane("dp1", controlPlane: shop.controlPlane)
            try cluster.gwWaitForVersion("dp1", 3)

            // Day 10: two published portals (one included, one charged), 7 API calls.
            try cluster.advance("10d")
            let token = try cluster.login("ana@example.com")  // sessions last one calendar day
            try cluster.expect(201, "eu", "POST", "/v2/portals", ["name": "public"], token: token)
            try cluster.expect(201, "eu", "POST", "/v2/portals", ["name": "partners"], token: token)
            try cluster.gwSend(7, to: "dp1", "/orders/1")
            try cluster.waitForUsageDelivered(geos: ["eu"], dataPlanes: ["dp1"])
            // Usage so far, before the calendar moves.
            var usage = try cluster.blUsage(shop.organization)
            #expect(usage["periods"]?[0]?["usage"]?["api_calls"]?.intValue == 7)

            // Day 35 (cycle 1): 4 more calls.
            try cluster.advance("25d")
            try cluster.gwSend(4, to: "dp1", "/orders/2")
            try cluster.waitForUsageDelivered(geos: ["eu"], dataPlanes: ["dp1"])
            try cluster.advance("1h")

            let invoices = try cluster.blInvoices(shop.organization)
            #expect(invoices.count == 1)
            let first = try #require(invoices.first)
            #expect(first["cycle"]?.intValue == 0)
            #expect(first["usage"]?["service_days"]?.intValue == 30)
            #expect(first["usage"]?["portal_days"]?.intValue == 40)
            #expect(first["usage"]?["api_calls"]?.intValue == 7)
            #expect(first.blLine("service")?["amount"]?.stringValue == "105.00")
            #expect(first.blLine("dev_portals")?["quantity"]?.intValue == 20)
            #expect(first.blLine("dev_portals")?["amount"]?.stringValue == "200.00")
            #expect(first.blLine("api_calls")?["quantity"]?.intValue == 7)
            #expect(first.blLine("api_calls")?["amount"]?.stringValue == "0.00")
            #expect(first["subtotal"]?.stringValue == "305.00")

            usage = try cluster.blUsage(shop.organization)
            #expect(usage["cycle"]?.intValue == 1)
            #expect(usage["status"]?.stringValue == "open")
            let current = try #require(usage["periods"]?[0])
            #expect(current["usage"]?["api_calls"]?.intValue == 4)
            #expect(current["usage"]?["service_days"]?.intValue == 6)
            #expect(current["usage"]?["portal_days"]?.intValue == 12)
            let closed = try cluster.blUsage(shop.organization, cycle: "0")
            #expect(closed["status"]?.stringValue == "closed")
            #expect(closed["periods"]?[0]?["usage"]?["api_calls"]?.intValue == 7)
            // The customer's Billing and Usage view says the same.
            let again = try cluster.login("ana@example.com")
            let mine = try cluster.expect(
                200, "auth", "GET", "/v3/organizations/me/billing/usage?cycle=previous", token: again)
            #expect(mine["periods"]?[0]?["usage"]?["api_calls"]?.intValue == 7)
            try cluster.expect(404, "auth", "GET", "/v3/organizations/me/billing/usage?cycle=5", token: again)
            try cluster.expect(400, "auth", "GET", "/v3/organizations/me/billing/usage?cycle=soon", token: again)
        }

        @Test(
            "B3: API-call usage is counted exactly once across a geo kill -9, an auth node kill -9, a DP kill -9 and lossy links"
        )
        func usageExactlyOnceAcrossCrashes() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let shop = try cluster.gwShop()
            try cluster.blPay(shop.token)
            try cluster.gwStartDataPlane("dp1", controlPlane: shop.controlPlane)
            try cluster.gwWaitForVersion("dp1", 3)

            // Round 1: the geo is killed right after traffic; more traffic while it is down.
            try cluster.gwSend(40, to: "dp1", "/orders/a")
            try cluster.cluster.kill("eu")
            try cluster.gwSend(10, to: "dp1", "/orders/b")
            try cluster.waitUntil("dp1 holds unreported calls", timeout: 3) {
                (try cluster.dataPlaneStatus("dp1")["unreported_usage"]?.intValue ?? 0) > 0
            }
            try cluster.cluster.restart("eu")
            try cluster.waitForUsageDelivered(geos: ["eu"], dataPlanes: ["dp1"])

            // Round 2: the auth node is killed; the geo holds the records, is killed with them, both restart.
            try cluster.cluster.kill("auth")
            try cluster.gwSend(30, to: "dp1", "/orders/c")
            try cluster.waitUntil("dp1 delivered its calls to eu, which cannot deliver them to auth", timeout: 8) {
                let dp = try cluster.dataPlaneStatus("dp1")["unreported_usage"]?.intValue
                let geo = try cluster.gwGeoStatus("eu")["pending_usage_records"]?.intValue ?? 0
                return dp == 0 && geo > 0
            }
            try cluster.cluster.kill("eu")
            try cluster.cluster.restart("eu")
            #expect((try cluster.gwGeoStatus("eu")["pending_usage_records"]?.intValue ?? 0) > 0)
            try cluster.cluster.restart("auth")
            try cluster.waitForUsageDelivered(geos: ["eu"], dataPlanes: ["dp1"])

            // Round 3: the data plane itself is killed with counts not yet reported.
            try cluster.gwSend(25, to: "dp1", "/orders/d")
            try cluster.cluster.kill("dp1")
            try cluster.cluster.restart("dp1")
            try cluster.gwWaitForState("dp1", "synced")
            try cluster.waitForUsageDelivered(geos: ["eu"], dataPlanes: ["dp1"])

            // Round 4: lossy links (30% of the requests on dp1->eu and eu->auth reset): reports are retried
            // until delivered, never counted twice.
            try cluster.cluster.updateLink(from: "dp1", to: "eu", description: ["fault": "drop"]) {
                $0.dropPartsPerMillion = 300_000
            }
            try cluster.cluster.updateLink(from: "eu", to: "auth", description: ["fault": "drop"]) {
                $0.dropPartsPerMillion = 300_000
            }
            try cluster.gwSend(50, to: "dp1", "/orders/e")
            try cluster.waitForUsageDelivered(geos: ["eu"], dataPlanes: ["dp1"], timeout: 20)
            try cluster.cluster.healAll()

            try cluster.advance("1d")
            var usage = try cluster.blUsage(shop.organization)
            #expect(usage["periods"]?[0]?["usage"]?["api_calls"]?.intValue == 155)
            #expect(usage["periods"]?[0]?.blLine("api_calls")?["quantity"]?.intValue == 155)
            try cluster.advance("30d")
            let invoices = try cluster.blInvoices(shop.organization)
            #expect(invoices.count == 1)
            #expect(invoices.first?["usage"]?["api_calls"]?.intValue == 155)
            usage = try cluster.blUsage(shop.organization)
            #expect(usage["periods"]?[0]?["usage"]?["api_calls"]?.intValue == 0)
        }

        @Test(
            "B3: calls a data plane counted are billed exactly once although its control plane was deleted before they were reported (found by chaos)"
        )
        func usageOutlivesItsControlPlane() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let shop = try cluster.gwShop()
            try cluster.blPay(shop.token)
            try cluster.gwStartDataPlane("dp1", controlPlane: shop.controlPlane)
            try cluster.gwWaitForVersion("dp1", 3)
            try cluster.gwSend(4, to: "dp1", "/orders/a")
            try cluster.waitForUsageDelivered(geos: ["eu"], dataPlanes: ["dp1"])

            // Cut off from its geo, the data plane counts 6 calls it cannot report; meanwhile the control
            // plane is deleted (its credential revoked, its node records removed).
            try cluster.cluster.updateLink(from: "dp1", to: "eu", description: ["fault": "partition"]) {
                $0.partitioned = true
            }
            try cluster.gwWaitForState("dp1", "disconnected", timeout: 5)
            try cluster.gwSend(6, to: "dp1", "/orders/b")
            try cluster.waitUntil("dp1 holds the 6 calls it could not report", timeout: 5) {
                try cluster.dataPlaneStatus("dp1")["unreported_usage"]?.intValue == 6
            }
            try cluster.expect(204, "eu", "DELETE", "/v2/control-planes/\(shop.controlPlane)", token: shop.token)

            // Healed: the report reaches the geo with the retired credential and counts for the organization.
            try cluster.cluster.updateLink(from: "dp1", to: "eu", description: ["fault": "heal"]) {
                $0.partitioned = false
            }
            try cluster.waitForUsageDelivered(geos: ["eu"], dataPlanes: ["dp1"])
            // Back in touch, the data plane learns its control plane is gone and stops proxying.
            // (Calls it still proxies until then are counted and billed too.)
            var servedMeanwhile = 0
            try cluster.waitUntil("dp1 answers 503 once it hears its control plane was deleted", timeout: 15) {
                let status = try cluster.gwProxy("dp1", "GET", "/orders/c").status
                if status == 200 { servedMeanwhile += 1 }
                return status == 503
            }

            // The retired credential is good for usage reports only: the sync stream says the control plane
            // was deleted, the heartbeat is refused as before, and a report sent again is acknowledged
            // without counting.
            let record = try cluster.record("dp1")
            let secret = try String(contentsOfFile: record.directory + "/credential", encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let nodeID = try #require(try cluster.dataPlaneStatus("dp1")["node_id"]?.stringValue)
            let geo = try cluster.unix("eu")
            let bearer: HTTPHeaders = [
                "Authorization": "Bearer \(secret)", "X-Node-Id": nodeID, "Content-Type": "application/json",
            ]
            let sync = try geo.openStream("GET", "/internal/v1/dp/sync", headers: bearer)
            defer { sync.close() }
            #expect(try sync.awaitHead(timeoutMilliseconds: 5000).get() == 200)
            var seen: [String] = []
            var reason: String? = nil
            for _ in 0..<3 {
                let next = sync.next(timeoutMilliseconds: 5000)
                guard case .message(let message) = next else {
                    seen.append("\(next)")
                    break
                }
                seen.append(message.text)
                if message["type"]?.stringValue == "decommissioned" {
                    reason = message["reason"]?.stringValue
                    break
                }
            }
            #expect(reason == "the control plane was deleted", "the stream sent \(seen)")
            let ping: JSON = [
                "node_id": .string(nodeID), "config_hash": .string(DeclarativeConfig.emptyHash), "state": "synced",
            ]
            #expect(try geo.send("POST", "/internal/v1/dp/ping", headers: bearer, body: ping.bytes).status == 401)
            let replay: JSON = [
                "node_id": .string(nodeID), "seq": 1,
                "counts": [["service_id": "s", "route_id": "r", "count": 100]],
            ]
            let receipt = try geo.send("POST", "/internal/v1/dp/usage", headers: bearer, body: replay.bytes)
            #expect(receipt.status == 200)
            #expect(receipt.json?["accepted"]?.boolValue == false)
            try cluster.waitForUsageDelivered(geos: ["eu"], dataPlanes: ["dp1"])

            try cluster.advance("1d")
            let usage = try cluster.blUsage(shop.organization)
            #expect(usage["periods"]?[0]?["usage"]?["api_calls"]?.intValue == Int64(10 + servedMeanwhile))
        }

        @Test("B4: a custom rate card (TestCluster(rateCard:)) prices services, portals and credits")
        func customRateCard() throws {
            let card: JSON = [
                "service_per_cycle": "60.00", "portals_included": 0, "portal_per_cycle": "90.00",
                "trial_credits": "10.00", "currency": "EUR",
            ]
            let cluster = try TestCluster(geos: ["eu"], rateCard: card)
            let (token, org) = try cluster.newOrganization("ana@example.com")
            try cluster.blPay(token)
            let plan = try cluster.expect(200, "auth", "GET", "/v3/organizations/me/plan", token: token)
            #expect(plan["credits"]?["granted"]?.stringValue == "10.00")
            #expect(plan["credits"]?["currency"]?.stringValue == "EUR")
            let cp = try cluster.createControlPlane("shop", token: token)
            try cluster.gwService(cp, ["name": "orders", "url": "http://127.0.0.1:9/orders"], token: token)
            try cluster.expect(201, "eu", "POST", "/v2/portals", ["name": "public"], token: token)
            try cluster.waitForUsageDelivered(geos: ["eu"])
            try cluster.advance("31d")
            let invoice = try #require(try cluster.blInvoices(org).first)
            #expect(invoice.blLine("service")?["amount"]?.stringValue == "60.00")
            #expect(invoice.blLine("dev_portals")?["quantity"]?.intValue == 30)
            #expect(invoice.blLine("dev_portals")?["amount"]?.stringValue == "90.00")
            #expect(invoice["subtotal"]?.stringValue == "150.00")
            #expect(invoice["credits_applied"]?.stringValue == "10.00")
            #expect(invoice["total"]?.stringValue == "140.00")
            #expect(invoice["currency"]?.stringValue == "EUR")
        }

        @Test("issue 5: the billing view is only for Organization Admin or Billing Admin (403 otherwise)")
        func billingViewNeedsRole() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let (admin, _) = try cluster.newOrganization("ana@example.com")
            let bo = try cluster.blInvite("bo@example.com", by: admin)
            let cy = try cluster.blInvite("cy@example.com", by: admin)
            try cluster.expect(
                201, "auth", "POST", "/v3/users/\(cy.user)/assigned-roles",
                ["role_name": "Admin", "entity_type_name": "Control Planes"], token: admin)
            let views = [
                "/v3/organizations/me/plan", "/v3/organizations/me/billing/usage?cycle=current",
                "/v3/organizations/me/invoices",
            ]
            for path in views {
                try cluster.expect(200, "auth", "GET", path, token: admin)
                try cluster.expect(403, "auth", "GET", path, token: bo.token)
                try cluster.expect(403, "auth", "GET", path, token: cy.token)
            }
            try cluster.expect(
                403, "auth", "PUT", "/v3/organizations/me/payment-method", ["token": "pm_x"], token: bo.token)
            try cluster.expect(403, "auth", "DELETE", "/v3/organizations/me/payment-method", token: cy.token)

            // Billing Admin opens the view (same session, roles are checked on every request).
            try cluster.expect(
                201, "auth", "POST", "/v3/users/\(bo.user)/assigned-roles",
                ["role_name": "Admin", "entity_type_name": "Billing"], token: admin)
            for path in views { try cluster.expect(200, "auth", "GET", path, token: bo.token) }
            try cluster.expect(
                200, "auth", "PUT", "/v3/organizations/me/payment-method", ["token": "pm_x"], token: bo.token)
            try cluster.expect(403, "auth", "GET", "/v3/organizations/me/invoices", token: cy.token)
        }

        @Test("B1: a calendar move interrupted by killing the auth node resumes after restart, each event exactly once")
        func interruptedAdvanceResumesExactlyOnce() throws {
            let cluster = try TestCluster(geos: ["eu"])
            var organizations: [String] = []
            // Enterprise organizations: only cycle ends fall due (1216 in 100 years), a few thousand in all.
            for index in 0..<10 {
                organizations.append(
                    try cluster.signup("e\(index)@example.com", organization: "E\(index)", plan: "enterprise")
                        .organization)
            }
            let target = "2125-12-08T00:00:00Z"  // 2026-01-01 + 36500 days
            let auth = try cluster.unix("auth", timeoutMilliseconds: 120_000)
            let supportToken = try #require(cluster.cluster.supportToken)
            let call = BillingBackgroundCall()
            call.run {
                let response = try? auth.json(
                    "POST", "/v3/simulator/clock/advance", ["by": "36500d"],
                    headers: ["Authorization": "Bearer \(supportToken)"])
                return response.map { "\($0.status) \($0.text)" } ?? "no response"
            }
            // Kill the auth node once the move has committed some of its work but not all.
            var seen: String? = nil
            try cluster.waitUntil("the calendar is part-way through the move", timeout: 20) {
                seen = cluster.cluster.calendarNow?.iso8601
                return seen != nil && seen != "2026-01-01T00:00:00Z"
            }
            try cluster.cluster.kill("auth")
            let outcome = call.wait(seconds: 10)
            #expect(seen != target, "the move finished before the kill; the test could not interrupt it")
            #expect(outcome?.hasPrefix("200") != true, "the move answered before the kill: \(outcome ?? "")")

            // Restarted, the auth node finishes the move before it serves.
            try cluster.cluster.restart("auth")
            #expect(try cluster.blNow() == target)
            for organization in organizations {
                let invoices = try cluster.blInvoices(organization)
                let cycles = invoices.compactMap { $0["cycle"]?.intValue }
                #expect(invoices.count == 1216, "organization \(organization) has \(invoices.count) invoices")
                #expect(Set(cycles).count == cycles.count, "an invoice was issued twice for \(organization)")
                #expect(cycles.min() == 0 && cycles.max() == 1215)
            }
            // Nothing left to do: moving by zero runs no event.
            #expect(try cluster.advance("0d")["events"]?.intValue == 0)
        }
    }
}
