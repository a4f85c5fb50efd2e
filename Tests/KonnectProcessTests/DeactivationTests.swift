import Foundation
import KonnectCluster
import KonnectCore
import KonnectHTTP
import Testing

// MARK: - Deactivation helpers

extension TestCluster {
    /// Everything support sees about an organization (state, history, licenses, subscriptions, lock).
    func dxSupportView(_ organization: String) throws -> JSON {
        let response = try support("GET", "/v3/support/organizations/\(organization)")
        guard response.status == 200, let body = response.json else {
            throw ProcessTestFailure(message: "support view answered \(response.status): \(response.text)")
        }
        return body
    }

    func dxState(_ organization: String) throws -> String? { try dxSupportView(organization)["state"]?.stringValue }

    /// The last entry of the organization's state history.
    func dxLastChange(_ organization: String) throws -> JSON? {
        try dxSupportView(organization)["state_history"]?.arrayValue?.last
    }

    /// Support deactivates (or reactivates) an organization; returns support's view.
    @discardableResult
    func dxSupportAction(_ organization: String, _ action: String, expecting status: Int = 200) throws -> JSON {
        let response = try support("POST", "/v3/support/organizations/\(organization)/\(action)")
        guard response.status == status else {
            throw ProcessTestFailure(
                message:
                    "support \(action) answered \(response.status), expected \(status): \(response.text)\n\(allLogs())")
        }
        return response.json ?? .null
    }

    /// Whether a geo has applied the organization's decommissioning.
    func dxDecommissioned(_ organization: String, in geo: String) throws -> Bool {
        try gwGeoStatus(geo)["decommissioned_organizations"]?.arrayValue?.contains { $0.stringValue == organization }
            == true
    }

    func dxWaitForDecommission(_ organization: String, in geos: [String], _ applied: Bool = true, timeout: Double = 6)
        throws
    {
        try waitUntil(
            "\(geos.joined(separator: ", ")) \(applied ? "applied" : "lifted") the decommission of \(organization)",
            timeout: timeout
        ) {
            try geos.allSatisfy { try dxDecommissioned(organization, in: $0) == applied }
        }
    }

    /// Requires a 401 saying the organization is deactivated.
    func dxExpectDeactivated401(
        _ node: String, _ method: String, _ path: String, _ body: JSON? = nil, token: String?,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let answer = try expect(401, node, method, path, body, token: token, sourceLocation: sourceLocation)
        #expect(
            answer["reason"]?.stringValue == "organization_deactivated", "\(method) \(path) on \(node): \(answer.text)",
            sourceLocation: sourceLocation)
    }
}

extension ProcessTests {
    /// Organization deactivation, inactivity, retention and support actions across all geos (issue 6:
    /// A5, D1-D7).
    @Suite struct Deactivation {
        // MARK: Ways in (D1, D2)

        @Test("D1, A5: the owner deleting their account deactivates the organization; anyone else only leaves it")
        func ownerDeletesAccount() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let ana = try cluster.signup("ana@example.com")
            let anaToken = try cluster.login("ana@example.com")
            let bo = try cluster.blInvite("bo@example.com", by: anaToken)

            // A member deleting their account only leaves the organization.
            try cluster.expect(204, "auth", "DELETE", "/v3/users/me", token: bo.token)
            #expect(try cluster.dxState(ana.organization) == "active")
            let users = try cluster.expect(200, "auth", "GET", "/v3/users", token: anaToken)
            #expect(users["data"]?.arrayValue?.contains { $0["id"]?.stringValue == bo.user } == false)
            try cluster.expect(401, "auth", "GET", "/v3/users/me", token: bo.token)

            // The owner deleting theirs closes it.
            try cluster.expect(204, "auth", "DELETE", "/v3/users/me", token: anaToken)
            let view = try cluster.dxSupportView(ana.organization)
            #expect(view["state"]?.stringValue == "inactive")
            #expect(view["deactivation_reason"]?.stringValue == "owner_deleted_account")
            let history = view["state_history"]?.arrayValue ?? []
            #expect(history.count == 2)
            #expect(history.first?["state"]?.stringValue == "active")
            #expect(history.first?["reason"]?.stringValue == "created")
            #expect(history.last?["state"]?.stringValue == "inactive")
            #expect(history.last?["reason"]?.stringValue == "owner_deleted_account")
            #expect(history.last?["actor"]?.stringValue == "user:\(ana.user)")
            #expect(history.last?["at"]?.stringValue == "2026-01-01T00:00:00Z")
        }

        @Test("D1, A4: an Organization Admin deactivates the organization; other members get 403")
        func adminDeactivates() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let (anaToken, org) = try cluster.newOrganization("ana@example.com")
            let bo = try cluster.blInvite("bo@example.com", by: anaToken)
            let cy = try cluster.blInvite("cy@example.com", by: anaToken)
            try cluster.expect(
                201, "auth", "POST", "/v3/users/\(cy.user)/assigned-roles",
                ["role_name": "Admin", "entity_type_name": "Organization"], token: anaToken)
            try cluster.advance("2d")
            let boToken = try cluster.login("bo@example.com")
            let cyToken = try cluster.login("cy@example.com")

            try cluster.expect(403, "auth", "POST", "/v3/organizations/me/deactivate", token: boToken)
            #expect(try cluster.dxState(org) == "active")
            let body = try cluster.expect(200, "auth", "POST", "/v3/organizations/me/deactivate", token: cyToken)
            #expect(body["state"]?.stringValue == "inactive")
            let change = try cluster.dxLastChange(org)
            #expect(change?["state"]?.stringValue == "inactive")
            #expect(change?["reason"]?.stringValue == "admin_deactivated")
            #expect(change?["actor"]?.stringValue == "user:\(cy.user)")
            #expect(change?["at"]?.stringValue == "2026-01-03T00:00:00Z")
            _ = bo
        }

        @Test("D1, D7: support deactivates with its own credential; customer tokens get 403; twice -> 409")
        func supportDeactivates() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let (token, org) = try cluster.newOrganization("ana@example.com")
            try cluster.expect(403, "auth", "POST", "/v3/support/organizations/\(org)/deactivate", token: token)
            try cluster.expect(401, "auth", "POST", "/v3/support/organizations/\(org)/deactivate")
            try cluster.expect(403, "auth", "GET", "/v3/support/organizations/\(org)", token: token)
            #expect(try cluster.dxState(org) == "active")

            let view = try cluster.dxSupportAction(org, "deactivate")
            #expect(view["state"]?.stringValue == "inactive")
            #expect(view["deactivation_reason"]?.stringValue == "support_request")
            let change = view["state_history"]?.arrayValue?.last
            #expect(change?["reason"]?.stringValue == "support_request")
            #expect(change?["actor"]?.stringValue == "support")
            try cluster.dxSupportAction(org, "deactivate", expecting: 409)
            #expect(try cluster.dxSupportView(org)["state_history"]?.arrayValue?.count == 2)
        }

        @Test("D2, P2: inactivity deactivates free organizations only: after 30 days without logins or API calls")
        func inactivityClosesFreeOrganizationsOnly() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let free = try cluster.newOrganization("ana@example.com", organization: "Free")
            let later = try cluster.newOrganization("bo@example.com", organization: "LoggedInLater")
            let paid = try cluster.newOrganization("cy@example.com", organization: "Paid")
            try cluster.blPay(paid.token)
            let enterprise = try cluster.signup("dee@example.com", organization: "Enterprise", plan: "enterprise")
            // A free organization whose data plane proxied calls in cycle 0: active through cycle 1.
            let busy = try cluster.gwShop("eve@example.com", organization: "Busy")
            try cluster.gwStartDataPlane("dp1", controlPlane: busy.controlPlane)
            try cluster.gwWaitForVersion("dp1", 3)
            try cluster.gwSend(3, to: "dp1", "/orders/1")
            try cluster.waitForUsageDelivered(geos: ["eu"], dataPlanes: ["dp1"])

            try cluster.advance("20d")
            _ = try cluster.login("bo@example.com")
            try cluster.advance("11d")  // day 31
            #expect(try cluster.dxState(free.organization) == "inactive")
            let change = try cluster.dxLastChange(free.organization)
            #expect(change?["reason"]?.stringValue == "inactivity")
            #expect(change?["actor"]?.stringValue == "system")
            #expect(change?["at"]?.stringValue == "2026-01-31T00:00:00Z")
            #expect(try cluster.dxState(later.organization) == "active")
            #expect(try cluster.dxState(paid.organization) == "active")
            #expect(try cluster.dxState(enterprise.organization) == "active")
            #expect(try cluster.dxState(busy.organization) == "active")

            try cluster.advance("20d")  // day 51: 30 days after Bo's last login
            #expect(try cluster.dxState(later.organization) == "inactive")
            #expect(try cluster.dxLastChange(later.organization)?["at"]?.stringValue == "2026-02-20T00:00:00Z")
            #expect(try cluster.dxState(busy.organization) == "active")

            try cluster.advance("10d")  // day 61: no calls in cycle 1 or 2
            #expect(try cluster.dxState(busy.organization) == "inactive")
            #expect(try cluster.dxLastChange(busy.organization)?["at"]?.stringValue == "2026-03-02T00:00:00Z")
            #expect(try cluster.dxLastChange(busy.organization)?["reason"]?.stringValue == "inactivity")
            // Deactivated for inactivity like any other way: its data plane is orphaned (D3, D5).
            try cluster.gwWaitForState("dp1", "orphaned")
            #expect(try cluster.dataPlaneStatus("dp1")["orphaned_reason"]?.stringValue?.contains("inactivity") == true)

            try cluster.advance("100d")  // never for paid or enterprise
            #expect(try cluster.dxState(paid.organization) == "active")
            #expect(try cluster.dxState(enterprise.organization) == "active")
        }

        @Test(
            "D2, B1: a paid organization that becomes free is deactivated for inactivity no earlier than that, and billed up to it"
        )
        func inactivityNeverBackdatedBeforeBecomingFree() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let (token, org) = try cluster.newOrganization("ana@example.com")
            try cluster.blPay(token)
            // A personal access token: using it is not a login (D2 counts logins).
            let pat = try #require(
                try cluster.expect(
                    201, "auth", "POST", "/v3/users/me/access-tokens", ["name": "ci", "ttl_seconds": 31_536_000],
                    token: token)["konnect_token"]?
                    .stringValue)
            let cp = try cluster.createControlPlane("shop", token: token)
            try cluster.gwService(cp, ["name": "orders", "url": "http://127.0.0.1:9/orders"], token: token)
            try cluster.waitForUsageDelivered(geos: ["eu"])

            // Paid, so day 30 passes without inactivity; on day 40 the payment method is removed.
            try cluster.advance("40d")
            #expect(try cluster.dxState(org) == "active")
            try cluster.expect(200, "auth", "DELETE", "/v3/organizations/me/payment-method", token: pat)
            let moved = try cluster.advance("1d")
            #expect(moved["by_kind"]?["inactivity"]?.intValue == 1)
            #expect(try cluster.dxState(org) == "inactive")
            let change = try cluster.dxLastChange(org)
            let at = change?["at"]?.stringValue ?? ""
            let invoices = try cluster.blInvoices(org)
            // The organization is inactive the moment it becomes free (day 40): it is deactivated then, not
            // backdated, and the paid days 30-40 are invoiced.
            do {
                #expect(
                    at >= "2026-02-10T00:00:00Z",
                    "deactivated for inactivity at \(at), before it became free on 2026-02-10")
                #expect(invoices.count == 2)
                #expect(invoices.last?["period_start"]?.stringValue == "2026-01-31T00:00:00Z")
                #expect(invoices.last?["period_end"]?.stringValue == at)
                #expect((invoices.last?["usage"]?["service_days"]?.intValue ?? 0) >= 10)
            }
        }

        // MARK: Effects (D3)

        @Test("D3 (1): billing stops at once: the open cycle is invoiced up to the moment, nothing later")
        func billingStopsAtOnce() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let (token, org) = try cluster.newOrganization("ana@example.com")
            try cluster.blPay(token)
            let cp = try cluster.createControlPlane("shop", token: token)
            try cluster.gwService(cp, ["name": "orders", "url": "http://127.0.0.1:9/orders"], token: token)
            try cluster.waitForUsageDelivered(geos: ["eu"])
            try cluster.advance("10d")
            try cluster.dxSupportAction(org, "deactivate")

            var invoices = try cluster.blInvoices(org)
            #expect(invoices.count == 1)
            #expect(invoices.first?["period_start"]?.stringValue == "2026-01-01T00:00:00Z")
            #expect(invoices.first?["period_end"]?.stringValue == "2026-01-11T00:00:00Z")
            #expect(invoices.first?["issued_at"]?.stringValue == "2026-01-11T00:00:00Z")
            #expect(invoices.first?["usage"]?["service_days"]?.intValue == 10)
            #expect(invoices.first?["subtotal"]?.stringValue == "35.00")
            let usage = try cluster.blUsage(org)
            #expect(usage["status"]?.stringValue == "closed")
            #expect(usage["periods"]?.arrayValue?.count == 1)

            // Whatever the calendar does: past the cycle end, the trial end, retention and deletion.
            try cluster.advance("25d")
            #expect(try cluster.blInvoices(org).count == 1)
            try cluster.advance("100d")
            invoices = try cluster.blInvoices(org)
            #expect(invoices.count == 1)
            #expect(invoices.first?["subtotal"]?.stringValue == "35.00")
        }

        @Test(
            "D3 (2-4), D5: subscriptions removed, licenses ended, control planes in every geo decommissioned; DPs orphaned with their last config"
        )
        func licensesEndAndControlPlanesDecommissioned() throws {
            let cluster = try TestCluster(geos: ["us", "eu"])
            let shop = try cluster.gwShop(geo: "eu")
            let shopUS = try cluster.gwShop(geo: "us", existing: (shop.token, shop.organization))
            try cluster.gwStartDataPlane("dp-eu", controlPlane: shop.controlPlane, geo: "eu")
            try cluster.gwStartDataPlane("dp-us", controlPlane: shopUS.controlPlane, geo: "us")
            try cluster.gwWaitForVersion("dp-eu", 3)
            try cluster.gwWaitForVersion("dp-us", 3)
            let hashes = try ["dp-eu", "dp-us"].map { try cluster.dataPlaneStatus($0)["config"]?["hash"]?.stringValue }
            var view = try cluster.dxSupportView(shop.organization)
            #expect(view["licenses"]?.arrayValue?.count == 3)
            #expect(view["licenses"]?.arrayValue?.allSatisfy { $0["state"]?.stringValue == "active" } == true)

            try cluster.expect(200, "auth", "POST", "/v3/organizations/me/deactivate", token: shop.token)
            view = try cluster.dxSupportView(shop.organization)
            let subscriptions = view["subscriptions"]?.arrayValue ?? []
            #expect(!subscriptions.isEmpty)
            #expect(
                subscriptions.allSatisfy {
                    $0["state"]?.stringValue == "removed" && $0["ended_at"]?.stringValue == "2026-01-01T00:00:00Z"
                })
            let licenses = try #require(
                try cluster.support("GET", "/v3/support/organizations/\(shop.organization)/licenses").json?["data"]?
                    .arrayValue)
            #expect(
                Set(licenses.compactMap { $0["product"]?.stringValue }) == [
                    "kong-gateway-enterprise", "kong-ingress-controller", "kong-mesh",
                ])
            #expect(
                licenses.allSatisfy {
                    $0["state"]?.stringValue == "ended" && $0["ended_at"]?.stringValue == "2026-01-01T00:00:00Z"
                })
            #expect(
                try cluster.blPlan(shop.organization)["subscriptions"]?.arrayValue?.allSatisfy {
                    $0["state"]?.stringValue == "removed"
                } == true)

            // Every geo decommissions; every data plane is orphaned, keeps running on its last configuration.
            try cluster.dxWaitForDecommission(shop.organization, in: ["eu", "us"])
            for (index, dp) in ["dp-eu", "dp-us"].enumerated() {
                try cluster.gwWaitForState(dp, "orphaned")
                let status = try cluster.dataPlaneStatus(dp)
                #expect(status["orphaned_reason"]?.stringValue?.contains("admin_deactivated") == true)
                #expect(status["config"]?["version"]?.intValue == 3)
                #expect(status["config"]?["hash"]?.stringValue == hashes[index])
                // The license it had stays in its cached configuration.
                #expect(status["license"]?["product_subscription"]?.stringValue == "Kong Gateway Enterprise")
                let response = try cluster.gwProxy(dp, "GET", "/orders/1")
                #expect(response.status == 503)
                #expect(response.json?["data_plane_state"]?.stringValue == "orphaned")
                #expect(response.json?["reason"]?.stringValue?.contains("organization deactivated") == true)
                #expect(cluster.cluster.processState(try cluster.record(dp)).1 == .running)
            }
        }

        @Test(
            "D3 (5): users lose the organization's teams and roles; their accounts and other memberships keep working")
        func usersLoseTeamsAndRolesButKeepOtherMemberships() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let bobs = try cluster.newOrganization("bo@example.com", organization: "Bobs")
            let (anaToken, acme) = try cluster.newOrganization("ana@example.com", organization: "Acme")
            // Bo joins Acme with his existing account, in team "ops", with a team role and a direct role.
            let invite = try cluster.expect(
                201, "auth", "POST", "/v3/invites", ["email": "bo@example.com"], token: anaToken)
            let joined = try cluster.expect(
                201, "auth", "POST", "/v3/invites/accept",
                [
                    "invite_token": invite["invite_token"] ?? .null, "password": .string(TestCluster.password),
                ])
            let boID = try #require(joined["user"]?["id"]?.stringValue)
            let team = try cluster.expect(201, "auth", "POST", "/v3/teams", ["name": "ops"], token: anaToken)
            let teamID = try #require(team["id"]?.stringValue)
            try cluster.expect(201, "auth", "POST", "/v3/teams/\(teamID)/users", ["id": .string(boID)], token: anaToken)
            try cluster.expect(
                201, "auth", "POST", "/v3/teams/\(teamID)/assigned-roles",
                ["role_name": "Admin", "entity_type_name": "Control Planes"], token: anaToken)
            try cluster.expect(
                201, "auth", "POST", "/v3/users/\(boID)/assigned-roles",
                ["role_name": "Viewer", "entity_type_name": "Control Planes", "entity_region": "eu"], token: anaToken)
            let boInAcme = try cluster.login("bo@example.com", organization: acme)
            try cluster.expect(201, "eu", "POST", "/v2/control-planes", ["name": "bo-made"], token: boInAcme)

            try cluster.dxSupportAction(acme, "deactivate")

            // Bo's account and his own organization are untouched.
            let boInBobs = try cluster.login("bo@example.com", organization: bobs.organization)
            #expect(
                try cluster.expect(200, "auth", "GET", "/v3/organizations/me", token: boInBobs)["name"]?.stringValue
                    == "Bobs")
            try cluster.expect(201, "auth", "POST", "/v3/teams", ["name": "bobs-team"], token: boInBobs)
            try cluster.expect(201, "eu", "POST", "/v2/control-planes", ["name": "bobs-cp"], token: boInBobs)
            #expect(
                try cluster.expect(200, "auth", "GET", "/v3/users/me", token: boInBobs)["active"]?.boolValue == true)
            // Acme is closed to him.
            try cluster.dxExpectDeactivated401(
                "auth", "POST", "/v3/authenticate",
                [
                    "email": "bo@example.com", "password": .string(TestCluster.password),
                    "organization_id": .string(acme),
                ], token: nil)

            // Once support reactivates Acme, it shows that the team lost its members and roles, and Bo his.
            try cluster.dxSupportAction(acme, "reactivate")
            let anaAgain = try cluster.login("ana@example.com")
            #expect(
                try cluster.expect(200, "auth", "GET", "/v3/teams/\(teamID)/users", token: anaAgain)["data"]?
                    .arrayValue?.isEmpty == true)
            #expect(
                try cluster.expect(200, "auth", "GET", "/v3/teams/\(teamID)/assigned-roles", token: anaAgain)["data"]?
                    .arrayValue?.isEmpty == true)
            #expect(
                try cluster.expect(200, "auth", "GET", "/v3/users/\(boID)/assigned-roles", token: anaAgain)["data"]?
                    .arrayValue?.isEmpty == true)
            // His roles in Bobs are intact.
            let bobsRoles = try cluster.expect(200, "auth", "GET", "/v3/users/\(boID)/assigned-roles", token: boInBobs)
            #expect(
                bobsRoles["data"]?.arrayValue?.contains { $0["entity_type_name"]?.stringValue == "Organization" }
                    == true)
        }

        @Test("D3 (6), D7: the owner's email is locked (signup -> 409) until support unlocks it")
        func ownerEmailLockedUntilSupportUnlocks() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let (anaToken, org) = try cluster.newOrganization("ana@example.com")
            _ = try cluster.blInvite("bo@example.com", by: anaToken)
            try cluster.expect(204, "auth", "DELETE", "/v3/users/me", token: anaToken)

            let signup: (String) -> JSON = { email in
                [
                    "email": .string(email), "password": .string(TestCluster.password), "full_name": "Ana",
                    "organization_name": "Again",
                    "geo": "eu",
                ]
            }
            var answer = try cluster.expect(409, "auth", "POST", "/v3/signup", signup("ana@example.com"))
            #expect(answer["reason"]?.stringValue == "email_locked")
            #expect(answer["detail"]?.stringValue?.contains("locked") == true)
            answer = try cluster.expect(409, "auth", "POST", "/v3/signup", signup("ANA@Example.com"))
            #expect(answer["reason"]?.stringValue == "email_locked")
            #expect(try cluster.dxSupportView(org)["email_locked"]?.boolValue == true)
            let locks = try #require(try cluster.support("GET", "/v3/support/email-locks").json?["data"]?.arrayValue)
            #expect(
                locks.contains {
                    $0["email"]?.stringValue == "ana@example.com" && $0["organization_id"]?.stringValue == org
                })
            // Only the owner's email: a member's is free.
            let boOrganization = try cluster.expect(201, "auth", "POST", "/v3/signup", signup("bo@example.com"))[
                "organization"]?["id"]?.stringValue
            // Customers cannot unlock.
            let boToken = try cluster.login("bo@example.com", organization: boOrganization)
            try cluster.expect(403, "auth", "DELETE", "/v3/support/email-locks/ana@example.com", token: boToken)

            #expect(try cluster.support("DELETE", "/v3/support/email-locks/ana@example.com").status == 204)
            #expect(try cluster.support("DELETE", "/v3/support/email-locks/ana@example.com").status == 404)
            #expect(try cluster.dxSupportView(org)["email_locked"]?.boolValue == false)
            try cluster.expect(201, "auth", "POST", "/v3/signup", signup("ana@example.com"))
        }

        @Test(
            "D3 (7): sessions and tokens of a deactivated organization get 401 organization_deactivated on auth and on every geo"
        )
        func tokensRejectedEverywhere() throws {
            let cluster = try TestCluster(geos: ["us", "eu"])
            let (session, org) = try cluster.newOrganization("ana@example.com")
            let pat = try #require(
                try cluster.expect(201, "auth", "POST", "/v3/users/me/access-tokens", ["name": "ci"], token: session)[
                    "konnect_token"]?.stringValue)
            #expect(pat.hasPrefix("kpat_"))
            let bo = try cluster.blInvite("bo@example.com", by: session)
            try cluster.expect(200, "eu", "GET", "/v2/control-planes", token: pat)
            try cluster.expect(200, "us", "GET", "/v2/control-planes", token: session)

            try cluster.dxSupportAction(org, "deactivate")
            for token in [session, pat, bo.token] {
                try cluster.dxExpectDeactivated401("auth", "GET", "/v3/organizations/me", token: token)
                try cluster.dxExpectDeactivated401("eu", "GET", "/v2/control-planes", token: token)
                try cluster.dxExpectDeactivated401("us", "GET", "/v2/control-planes", token: token)
            }
            try cluster.dxExpectDeactivated401("eu", "POST", "/v2/control-planes", ["name": "late"], token: pat)
            // Nobody can log in, by password either.
            try cluster.dxExpectDeactivated401(
                "auth", "POST", "/v3/authenticate",
                ["email": "ana@example.com", "password": .string(TestCluster.password)], token: nil)
            try cluster.dxExpectDeactivated401(
                "auth", "POST", "/v3/authenticate",
                ["email": "bo@example.com", "password": .string(TestCluster.password)], token: nil)
        }

        @Test(
            "D1, D3 (5): an owner who deletes their account closes that organization but keeps their other memberships")
        func ownerDeletingAccountKeepsOtherMemberships() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let bobs = try cluster.newOrganization("bo@example.com", organization: "Bobs")
            let acme = try cluster.signup("ana@example.com", organization: "Acme")
            let anaInAcme = try cluster.login("ana@example.com")
            // Ana joins Bobs as a member.
            let invite = try cluster.expect(
                201, "auth", "POST", "/v3/invites", ["email": "ana@example.com"], token: bobs.token)
            try cluster.expect(
                201, "auth", "POST", "/v3/invites/accept",
                [
                    "invite_token": invite["invite_token"] ?? .null, "password": .string(TestCluster.password),
                ])
            try cluster.expect(204, "auth", "DELETE", "/v3/users/me", token: anaInAcme)
            #expect(try cluster.dxState(acme.organization) == "inactive")
            #expect(try cluster.dxState(bobs.organization) == "active")
            // Her account still opens Bobs.
            let anaInBobs = try cluster.login("ana@example.com", organization: bobs.organization)
            #expect(
                try cluster.expect(200, "auth", "GET", "/v3/organizations/me", token: anaInBobs)["name"]?.stringValue
                    == "Bobs")
            try cluster.dxExpectDeactivated401(
                "auth", "POST", "/v3/authenticate",
                [
                    "email": "ana@example.com", "password": .string(TestCluster.password),
                    "organization_id": .string(acme.organization),
                ], token: nil)
        }

        // MARK: Partitions and crashes (D4)

        @Test("D4, D7: reactivation while a geo is down is applied when it comes back: its DP resumes")
        func reactivationWhileGeoKilled() throws {
            let cluster = try TestCluster(geos: ["us", "eu"])
            let shop = try cluster.gwShop(geo: "us")
            try cluster.gwStartDataPlane("dp-us", controlPlane: shop.controlPlane, geo: "us")
            try cluster.gwWaitForVersion("dp-us", 3)
            try cluster.dxSupportAction(shop.organization, "deactivate")
            try cluster.gwWaitForState("dp-us", "orphaned")

            try cluster.cluster.kill("us")
            try cluster.dxSupportAction(shop.organization, "reactivate")
            // The geo is down: the DP cannot hear of it and stays orphaned (an outage does not end a decommission).
            try cluster.waitUntil("dp-us notices the outage", timeout: 5) {
                try cluster.dataPlaneStatus("dp-us")["last_error"]?.stringValue != nil
            }
            #expect(try cluster.gwState("dp-us") == "orphaned")
            #expect(try cluster.gwProxy("dp-us", "GET", "/orders/1").status == 503)

            try cluster.cluster.restart("us")
            try cluster.dxWaitForDecommission(shop.organization, in: ["us"], false)
            try cluster.gwWaitForVersion("dp-us", 3, timeout: 8)
            #expect(try cluster.gwProxy("dp-us", "GET", "/orders/2").status == 200)
        }

        @Test("D4: deactivation while a geo is killed is applied when it restarts, exactly once")
        func deactivationWhileGeoKilled() throws {
            let cluster = try TestCluster(geos: ["us", "eu"])
            let shop = try cluster.gwShop(geo: "eu")
            let shopUS = try cluster.gwShop(geo: "us", existing: (shop.token, shop.organization))
            try cluster.gwStartDataPlane("dp-eu", controlPlane: shop.controlPlane, geo: "eu")
            try cluster.gwStartDataPlane("dp-us", controlPlane: shopUS.controlPlane, geo: "us")
            try cluster.gwWaitForVersion("dp-eu", 3)
            try cluster.gwWaitForVersion("dp-us", 3)

            try cluster.cluster.kill("us")
            try cluster.dxSupportAction(shop.organization, "deactivate")
            try cluster.dxWaitForDecommission(shop.organization, in: ["eu"])
            try cluster.gwWaitForState("dp-eu", "orphaned")
            // us is down: its data plane only sees an outage, and keeps proxying (D6).
            try cluster.gwWaitForState("dp-us", "disconnected")
            #expect(try cluster.gwProxy("dp-us", "GET", "/orders/1").status == 200)

            try cluster.cluster.restart("us")
            try cluster.dxWaitForDecommission(shop.organization, in: ["us"])
            try cluster.gwWaitForState("dp-us", "orphaned", timeout: 8)
            #expect(try cluster.gwProxy("dp-us", "GET", "/orders/2").status == 503)
            try cluster.waitUntil("us has read as far as eu in the auth node's events", timeout: 5) {
                try cluster.gwGeoStatus("us")["events_cursor"]?.intValue
                    == cluster.gwGeoStatus("eu")["events_cursor"]?.intValue
            }

            // Exactly once: after reactivation, another crash of us does not apply the deactivation again.
            try cluster.dxSupportAction(shop.organization, "reactivate")
            try cluster.dxWaitForDecommission(shop.organization, in: ["eu", "us"], false)
            try cluster.gwWaitForVersion("dp-us", 3, timeout: 8)
            try cluster.cluster.kill("us")
            try cluster.gwWaitForState("dp-us", "disconnected")
            try cluster.cluster.restart("us")
            try cluster.gwWaitForVersion("dp-us", 3, timeout: 8)
            #expect(try cluster.dxDecommissioned(shop.organization, in: "us") == false)
            #expect(try cluster.gwProxy("dp-us", "GET", "/orders/3").status == 200)
            #expect(try cluster.gwState("dp-us") == "synced")
        }

        @Test("D4: a geo cut off from the auth node (partition eu->auth) applies the deactivation when the link heals")
        func deactivationWhileGeoCutOff() throws {
            let cluster = try TestCluster(geos: ["us", "eu"])
            let shop = try cluster.gwShop(geo: "eu")
            try cluster.createControlPlane("shop-us", geo: "us", token: shop.token)
            try cluster.gwStartDataPlane("dp1", controlPlane: shop.controlPlane)
            try cluster.gwWaitForVersion("dp1", 3)
            try cluster.cluster.updateLink(from: "eu", to: "auth", description: ["fault": "partition"]) {
                $0.partitioned = true
            }

            try cluster.dxSupportAction(shop.organization, "deactivate")
            try cluster.dxWaitForDecommission(shop.organization, in: ["us"])
            #expect(try cluster.dxDecommissioned(shop.organization, in: "eu") == false)
            #expect(try cluster.gwState("dp1") == "synced")

            try cluster.cluster.updateLink(from: "eu", to: "auth", description: ["fault": "heal"]) {
                $0.partitioned = false
            }
            try cluster.dxWaitForDecommission(shop.organization, in: ["eu"], timeout: 10)
            try cluster.gwWaitForState("dp1", "orphaned")
            #expect(try cluster.gwProxy("dp1", "GET", "/orders/1").status == 503)
            try cluster.waitUntil("eu has read as far as us in the auth node's events", timeout: 5) {
                try cluster.gwGeoStatus("eu")["events_cursor"]?.intValue
                    == cluster.gwGeoStatus("us")["events_cursor"]?.intValue
            }
        }

        @Test("D4, D5, D6: deactivation while a DP is partitioned from its geo: it becomes orphaned when it reconnects")
        func deactivationWhileDataPlanePartitioned() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let shop = try cluster.gwShop()
            try cluster.gwStartDataPlane("dp1", controlPlane: shop.controlPlane)
            try cluster.gwWaitForVersion("dp1", 3)
            try cluster.cluster.updateLink(from: "dp1", to: "eu", description: ["fault": "partition"]) {
                $0.partitioned = true
            }
            try cluster.gwWaitForState("dp1", "disconnected")

            try cluster.dxSupportAction(shop.organization, "deactivate")
            try cluster.dxWaitForDecommission(shop.organization, in: ["eu"])
            // Cut off, it cannot know: an outage, not a decommission.
            #expect(try cluster.gwState("dp1") == "disconnected")
            #expect(try cluster.gwProxy("dp1", "GET", "/orders/1").status == 200)

            try cluster.cluster.updateLink(from: "dp1", to: "eu", description: ["fault": "heal"]) {
                $0.partitioned = false
            }
            try cluster.gwWaitForState("dp1", "orphaned", timeout: 8)
            let response = try cluster.gwProxy("dp1", "GET", "/orders/2")
            #expect(response.status == 503)
            #expect(response.json?["data_plane_state"]?.stringValue == "orphaned")
            #expect(try cluster.gwVersion("dp1") == 3)
        }

        // MARK: Reactivation (D7)

        @Test(
            "D7: reactivation restores licenses, recommissions (DP resumes without restart), owner Org Admin again, other roles not restored"
        )
        func reactivation() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let shop = try cluster.gwShop()
            let bo = try cluster.blInvite("bo@example.com", by: shop.token)
            let cy = try cluster.blInvite("cy@example.com", by: shop.token)
            let team = try cluster.expect(201, "auth", "POST", "/v3/teams", ["name": "ops"], token: shop.token)
            let teamID = try #require(team["id"]?.stringValue)
            try cluster.expect(
                201, "auth", "POST", "/v3/teams/\(teamID)/users", ["id": .string(bo.user)], token: shop.token)
            try cluster.expect(
                201, "auth", "POST", "/v3/teams/\(teamID)/assigned-roles",
                ["role_name": "Admin", "entity_type_name": "Control Planes"], token: shop.token)
            try cluster.expect(
                201, "auth", "POST", "/v3/users/\(cy.user)/assigned-roles",
                ["role_name": "Admin", "entity_type_name": "Organization"], token: shop.token)
            try cluster.gwStartDataPlane("dp1", controlPlane: shop.controlPlane)
            try cluster.gwWaitForVersion("dp1", 3)
            let hash = try cluster.dataPlaneStatus("dp1")["config"]?["hash"]?.stringValue
            let pid = try cluster.gwPid("dp1")
            let trialEnd = try cluster.blPlan(shop.organization)["trial"]?["end"]?.stringValue

            // Reactivating an active organization is a conflict.
            try cluster.dxSupportAction(shop.organization, "reactivate", expecting: 409)

            try cluster.advance("10d")
            try cluster.dxSupportAction(shop.organization, "deactivate")
            try cluster.gwWaitForState("dp1", "orphaned")
            try cluster.advance("10d")
            let view = try cluster.dxSupportAction(shop.organization, "reactivate")
            #expect(view["state"]?.stringValue == "active")
            #expect(view["deactivation_reason"]?.isNull == true)
            let change = view["state_history"]?.arrayValue?.last
            #expect(change?["state"]?.stringValue == "active")
            #expect(change?["reason"]?.stringValue == "reactivated")
            #expect(change?["actor"]?.stringValue == "support")
            #expect(change?["at"]?.stringValue == "2026-01-21T00:00:00Z")
            #expect(view["state_history"]?.arrayValue?.count == 3)
            #expect(view["licenses"]?.arrayValue?.allSatisfy { $0["state"]?.stringValue == "active" } == true)
            #expect(view["subscriptions"]?.arrayValue?.allSatisfy { $0["state"]?.stringValue == "active" } == true)
            // The trial is not restarted.
            #expect(try cluster.blPlan(shop.organization)["trial"]?["end"]?.stringValue == trialEnd)

            // The data plane resumes by itself: same process, same configuration, license, proxying.
            try cluster.gwWaitForVersion("dp1", 3)
            var status = try cluster.dataPlaneStatus("dp1")
            #expect(status["config"]?["hash"]?.stringValue == hash)
            #expect(status["orphaned_reason"]?.stringValue == nil)
            #expect(status["license"]?["state"]?.stringValue == "active")
            #expect(try cluster.gwPid("dp1") == pid)
            #expect(try cluster.gwProxy("dp1", "GET", "/orders/3").status == 200)

            // The owner is Organization Admin again and administers; changes reach the data plane.
            let ana = try cluster.login("ana@example.com")
            let anaID = try #require(
                try cluster.expect(200, "auth", "GET", "/v3/users/me", token: ana)["id"]?.stringValue)
            let anaRoles = try cluster.expect(
                200, "auth", "GET", "/v3/users/\(anaID)/assigned-roles?filter[entity_type_name]=Organization",
                token: ana)
            #expect(anaRoles["data"]?[0]?["role_name"]?.stringValue == "Admin")
            try cluster.expect(201, "auth", "POST", "/v3/teams", ["name": "platform"], token: ana)
            try cluster.gwRoute(
                shop.controlPlane, service: "orders", ["name": "returns", "paths": ["/returns"]], token: ana)
            try cluster.gwWaitForVersion("dp1", 4)
            status = try cluster.dataPlaneStatus("dp1")
            #expect(try cluster.gwProxy("dp1", "GET", "/returns/4").json?["path"]?.stringValue == "/api/4")

            // Other members: still members, but no teams and no roles.
            #expect(
                try cluster.expect(200, "auth", "GET", "/v3/users/\(bo.user)/assigned-roles", token: ana)["data"]?
                    .arrayValue?.isEmpty == true)
            #expect(
                try cluster.expect(200, "auth", "GET", "/v3/users/\(cy.user)/assigned-roles", token: ana)["data"]?
                    .arrayValue?.isEmpty == true)
            #expect(
                try cluster.expect(200, "auth", "GET", "/v3/teams/\(teamID)/users", token: ana)["data"]?.arrayValue?
                    .isEmpty == true)
            #expect(
                try cluster.expect(200, "auth", "GET", "/v3/teams/\(teamID)/assigned-roles", token: ana)["data"]?
                    .arrayValue?.isEmpty == true)
            let boAgain = try cluster.login("bo@example.com")
            try cluster.expect(403, "eu", "GET", "/v2/control-planes", token: boAgain)
            let cyAgain = try cluster.login("cy@example.com")
            try cluster.expect(403, "auth", "POST", "/v3/teams", ["name": "cy-team"], token: cyAgain)

            // Billing resumed on day 20: cycle 0 is invoiced for days 0-10 and 20-30.
            try cluster.advance("11d")
            let invoices = try cluster.blInvoices(shop.organization)
            #expect(invoices.count == 2)
            #expect(invoices.first?["period_end"]?.stringValue == "2026-01-11T00:00:00Z")
            #expect(invoices.first?["subtotal"]?.stringValue == "35.00")
            #expect(invoices.last?["period_start"]?.stringValue == "2026-01-21T00:00:00Z")
            #expect(invoices.last?["period_end"]?.stringValue == "2026-01-31T00:00:00Z")
            #expect(invoices.last?["subtotal"]?.stringValue == "35.00")
        }

        // MARK: Retention (A5)

        @Test(
            "A5: after the retention period (90 days) the organization is deleting, then deleted once every geo purged it"
        )
        func retentionDeletesAndPurges() throws {
            let cluster = try TestCluster(geos: ["us", "eu"])
            let shop = try cluster.gwShop(geo: "eu")
            let shopUS = try cluster.gwShop(geo: "us", existing: (shop.token, shop.organization))
            try cluster.gwStartDataPlane("dp-eu", controlPlane: shop.controlPlane, geo: "eu")
            try cluster.gwStartDataPlane("dp-us", controlPlane: shopUS.controlPlane, geo: "us")
            // Carol, paid, in the same geo with a control plane of the same name, keeps everything.
            let carol = try cluster.newOrganization("carol@example.com", organization: "Carol")
            try cluster.blPay(carol.token)
            let carolShop = try cluster.gwShop(existing: carol)
            try cluster.gwStartDataPlane("dp-carol", controlPlane: carolShop.controlPlane)
            for dp in ["dp-eu", "dp-us", "dp-carol"] { try cluster.gwWaitForVersion(dp, 3) }

            try cluster.expect(200, "auth", "POST", "/v3/organizations/me/deactivate", token: shop.token)
            try cluster.gwWaitForState("dp-eu", "orphaned")
            try cluster.advance("89d")
            #expect(try cluster.dxState(shop.organization) == "inactive")
            #expect(try cluster.dxDecommissioned(shop.organization, in: "eu"))

            try cluster.advance("2d")
            let history = try cluster.dxSupportView(shop.organization)["state_history"]?.arrayValue ?? []
            #expect(history.count >= 3)
            let deleting: JSON? = history.count > 2 ? history[2] : nil
            #expect(deleting?["state"]?.stringValue == "deleting")
            #expect(deleting?["reason"]?.stringValue == "retention_period_elapsed")
            #expect(deleting?["actor"]?.stringValue == "system")
            #expect(deleting?["at"]?.stringValue == "2026-04-01T00:00:00Z")
            try cluster.waitUntil("the organization is deleted", timeout: 10) {
                try cluster.dxState(shop.organization) == "deleted"
            }
            let deleted = try cluster.dxLastChange(shop.organization)
            #expect(deleted?["state"]?.stringValue == "deleted")
            #expect(deleted?["reason"]?.stringValue == "objects_purged_in_every_geo")

            // Every geo purged: control planes and credentials are gone; the orphaned DPs (still running) are refused.
            try cluster.dxWaitForDecommission(shop.organization, in: ["eu", "us"], false)
            for dp in ["dp-eu", "dp-us"] {
                try cluster.waitUntil("\(dp) is refused as unknown", timeout: 8) {
                    try cluster.dataPlaneStatus(dp)["last_error"]?.stringValue?.contains("credential is unknown")
                        == true
                }
                #expect(try cluster.gwState(dp) == "orphaned")
                #expect(try cluster.gwProxy(dp, "GET", "/orders/1").status == 503)
            }
            let geo = try cluster.unix("eu")
            let response = try geo.json(
                "POST", "/internal/v1/operator/dp-credentials", ["control_plane": .string(shop.controlPlane)])
            #expect(response.status == 404)
            // A deleted organization cannot be reactivated.
            try cluster.dxSupportAction(shop.organization, "reactivate", expecting: 409)

            // Carol is untouched.
            let carolToken = try cluster.login("carol@example.com")
            let list = try cluster.expect(200, "eu", "GET", "/v2/control-planes", token: carolToken)
            #expect(list["data"]?.arrayValue?.map { $0["id"]?.stringValue } == [carolShop.controlPlane])
            #expect(try cluster.gwState("dp-carol") == "synced")
            #expect(try cluster.gwProxy("dp-carol", "GET", "/orders/1").status == 200)
            #expect(try cluster.dxState(carol.organization) == "active")
        }

        @Test(
            "A5, D4: a geo down when retention ends: the organization stays deleting until that geo is back and has purged"
        )
        func retentionWaitsForEveryGeo() throws {
            let cluster = try TestCluster(geos: ["us", "eu"])
            let (token, org) = try cluster.newOrganization("ana@example.com")
            try cluster.createControlPlane("shop", geo: "eu", token: token)
            let usShop = try cluster.gwShop(geo: "us", existing: (token, org))
            try cluster.gwStartDataPlane("dp-us", controlPlane: usShop.controlPlane, geo: "us")
            try cluster.gwWaitForVersion("dp-us", 3)
            try cluster.expect(200, "auth", "PATCH", "/v3/organizations/me", ["retention_period_days": 7], token: token)
            try cluster.dxSupportAction(org, "deactivate")
            try cluster.dxWaitForDecommission(org, in: ["eu", "us"])

            try cluster.cluster.kill("us")
            try cluster.advance("8d")
            #expect(try cluster.dxLastChange(org)?["state"]?.stringValue == "deleting")
            #expect(try cluster.dxLastChange(org)?["at"]?.stringValue == "2026-01-08T00:00:00Z")
            // eu purges at once; us cannot confirm, so the organization is not deleted yet.
            try cluster.dxWaitForDecommission(org, in: ["eu"], false)
            #expect(try cluster.dxState(org) == "deleting")

            try cluster.cluster.restart("us")
            try cluster.waitUntil("the organization is deleted", timeout: 10) { try cluster.dxState(org) == "deleted" }
            #expect(try cluster.dxDecommissioned(org, in: "us") == false)
            try cluster.waitUntil("dp-us is refused as unknown", timeout: 8) {
                try cluster.dataPlaneStatus("dp-us")["last_error"]?.stringValue?.contains("credential is unknown")
                    == true
            }
        }
    }
}
