import Foundation
import KonnectCluster
import KonnectCore
import KonnectHTTP
import Testing

extension ProcessTests {
    /// Defects found in review, each kept from coming back by a test of the behaviour the rules ask for.
    @Suite struct Regressions {
        @Test("C1: a huge offset on a core-entity list is a 400, and the geo stays up")
        func hugeOffsetIsRejected() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let (token, _) = try cluster.newOrganization("ana@example.com")
            let plane = try cluster.createControlPlane("gw", token: token)
            let response = try cluster.call(
                "eu", "GET", "/v2/control-planes/\(plane)/core-entities/services?offset=9223372036854775807",
                token: token)
            #expect(response.status == 400)
            try cluster.expect(200, "eu", "GET", "/health")
        }

        @Test("T3: a PATCH racing a DELETE answers 200 or 404, never crashes the geo")
        func patchRacingDeleteDoesNotCrash() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let (token, _) = try cluster.newOrganization("ana@example.com")
            for round in 0..<5 {
                let portal =
                    try cluster.expect(201, "eu", "POST", "/v2/portals", ["name": .string("p\(round)")], token: token)[
                        "id"]?.stringValue ?? ""
                let statuses = LockedStatuses()
                let geo = try cluster.tcp("eu")
                try concurrently(9, lanes: 9) { index in
                    let client = geoWriterClient(geo)
                    let headers: HTTPHeaders = ["Authorization": "Bearer \(token)"]
                    let response =
                        index == 0
                        ? try client.json("DELETE", "/v2/portals/\(portal)", nil, headers: headers)
                        : try client.json(
                            "PATCH", "/v2/portals/\(portal)", ["published": .bool(index % 2 == 0)], headers: headers)
                    statuses.add(response.status)
                }
                #expect(statuses.all.allSatisfy { [200, 204, 404].contains($0) }, "\(statuses.all)")
                try cluster.expect(200, "eu", "GET", "/health")
            }
        }

        @Test("B3: one service id in two control planes is billed as two services; deleting one ends only its span")
        func sameServiceIDInTwoControlPlanes() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let (token, organization) = try cluster.newOrganization("ana@example.com")
            try cluster.blPay(token)
            let first = try cluster.createControlPlane("one", token: token)
            let second = try cluster.createControlPlane("two", token: token)
            let id = "0d1c3e5a-9b2f-4c6d-8e0a-1b3c5d7e9f11"
            for plane in [first, second] {
                try cluster.expect(
                    201, "eu", "PUT", "/v2/control-planes/\(plane)/core-entities/services/\(id)",
                    ["name": "svc", "host": "a.internal"], token: token)
            }
            try cluster.waitForUsageDelivered(geos: ["eu"])
            try cluster.advance("10d")
            let fresh = try cluster.login("ana@example.com")
            try cluster.expect(
                204, "eu", "DELETE", "/v2/control-planes/\(second)/core-entities/services/\(id)", token: fresh)
            try cluster.waitForUsageDelivered(geos: ["eu"])
            try cluster.advance("20d")
            let invoice = try #require(try cluster.blInvoices(organization).first)
            // 30 days in control plane one, 10 in control plane two.
            #expect(invoice["usage"]?["service_days"]?.intValue == 40, "\(invoice.text)")
        }

        @Test("D7, D2: a reactivated free organization is not deactivated again at the next calendar move")
        func reactivationRestartsTheInactivityWindow() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let (_, organization) = try cluster.newOrganization("ana@example.com")
            try cluster.advance("5d")
            try cluster.dxSupportAction(organization, "deactivate")
            try cluster.advance("40d")
            try cluster.dxSupportAction(organization, "reactivate")
            try cluster.advance("1s")
            #expect(try cluster.dxState(organization) == "active")
            try cluster.advance("29d")
            #expect(try cluster.dxState(organization) == "active")
            // Thirty days after the reactivation, with no login and no calls, it is inactive again (D2).
            try cluster.advance("2d")
            #expect(try cluster.dxState(organization) == "inactive")
            #expect(try cluster.dxLastChange(organization)?["reason"]?.stringValue == "inactivity")
        }

        @Test("P1: credits pay for trial usage in the cycle where a 45-day trial ends")
        func creditsCoverTheTrialPartOfTheStraddlingCycle() throws {
            let cluster = try TestCluster(geos: ["eu"], rateCard: ["trial_days": 45])
            let (token, organization) = try cluster.newOrganization("ana@example.com")
            try cluster.blPay(token)
            let plane = try cluster.createControlPlane("gw", token: token)
            try cluster.expect(
                201, "eu", "POST", "/v2/control-planes/\(plane)/core-entities/services",
                ["name": "svc", "host": "a.internal"], token: token)
            try cluster.waitForUsageDelivered(geos: ["eu"])
            try cluster.advance("60d")
            let invoices = try cluster.blInvoices(organization)
            #expect(invoices.count == 2)
            #expect(invoices.first?["credits_applied"]?.stringValue == "105.00")
            // Cycle 1: days 30-44 are trial days (15 of 30): 52.50 paid from the credits left.
            #expect(invoices.last?["credits_applied"]?.stringValue == "52.50", "\(invoices.last?.text ?? "")")
            #expect(invoices.last?["total"]?.stringValue == "52.50")
            let plan = try cluster.blPlan(organization)
            #expect(plan["credits"]?["expired"]?.stringValue == "342.50")
            #expect(plan["credits"]?["left"]?.stringValue == "0.00")
        }

        @Test("A2: a new owner who was admin only through a team keeps Organization Admin when the team goes")
        func transferredOwnerAlwaysHoldsOrganizationAdmin() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let (token, _) = try cluster.newOrganization("ana@example.com")
            let (member, memberToken) = try cluster.blInvite("bo@example.com", by: token)
            let team =
                try cluster.expect(201, "auth", "POST", "/v3/teams", ["name": "admins"], token: token)["id"]?
                .stringValue ?? ""
            try cluster.expect(201, "auth", "POST", "/v3/teams/\(team)/users", ["id": .string(member)], token: token)
            try cluster.expect(
                201, "auth", "POST", "/v3/teams/\(team)/assigned-roles",
                ["role_name": "Admin", "entity_type_name": "Organization"], token: token)
            try cluster.expect(
                200, "auth", "PUT", "/v3/organizations/me/owner", ["user_id": .string(member)], token: token)
            try cluster.expect(204, "auth", "DELETE", "/v3/teams/\(team)", token: memberToken)
            let whoami = try cluster.expect(200, "eu", "GET", "/v2/whoami", token: memberToken)
            let roles = whoami["roles"]?.arrayValue ?? []
            #expect(
                roles.contains {
                    $0["entity_type_name"]?.stringValue == "Organization" && $0["role_name"]?.stringValue == "Admin"
                })
        }

        @Test("Zone workloads registered concurrently are all acknowledged and all on disk")
        func concurrentWorkloadRegistrations() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let (token, _) = try cluster.newOrganization("ana@example.com")
            let mesh = try cluster.mzControlPlane("mesh", token: token)
            try cluster.mzStartZone("zone-1", meshControlPlane: mesh)
            let statuses = LockedStatuses()
            let zone = try cluster.cluster.client(named: "zone-1")
            try concurrently(64, lanes: 16) { index in
                let response = try zone.json("POST", "/workloads", ["name": .string("w\(index)"), "mesh": "default"])
                statuses.add(response.status)
            }
            #expect(statuses.all.count == 64)
            #expect(statuses.all.allSatisfy { $0 == 201 }, "\(statuses.all)")
            let record = try cluster.record("zone-1")
            let file = try JSONParser.parse(
                Array(try Data(contentsOf: URL(fileURLWithPath: record.directory + "/workloads.json"))))
            #expect(file.arrayValue?.count == 64)
        }
    }
}

/// Statuses collected from several threads.
final class LockedStatuses: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Int] = []
    func add(_ status: Int) {
        lock.lock()
        values.append(status)
        lock.unlock()
    }
    var all: [Int] {
        lock.lock()
        defer { lock.unlock() }
        return values
    }
}
