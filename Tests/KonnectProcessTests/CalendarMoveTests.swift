import Foundation
import KonnectCluster
import KonnectCore
import KonnectHTTP
import KonnectNodes
import Testing

extension ProcessTests {
    /// Issue 14: one calendar. A move settles usage in flight first, stamps what it carries out with its own
    /// due moment, and everything the APIs show is on the simulated calendar (B1, B3, A5, C2).
    @Suite struct CalendarMove {
        /// Ana's free Plus organization with a data plane synced on its control plane.
        func shopWithDataPlane(_ cluster: TestCluster) throws -> GatewayShop {
            let shop = try cluster.gwShop()
            try cluster.gwStartDataPlane("dp1", controlPlane: shop.controlPlane)
            try cluster.gwWaitForVersion("dp1", 3)
            return shop
        }

        func queuedInEu(_ cluster: TestCluster) throws -> Int64 {
            try cluster.unix("eu").send("GET", "/internal/v1/status").json?["pending_usage_records"]?.intValue ?? 0
        }

        func usage(_ cluster: TestCluster, _ organization: String, cycle: String) throws -> JSON {
            try #require(
                try cluster.support("GET", "/v3/support/organizations/\(organization)/billing/usage?cycle=\(cycle)")
                    .json)
        }

        @Test("B1, B3, D2: clock advance delivers usage in flight first and attributes it to the moment it happened")
        func aMoveSettlesUsageInFlight() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let shop = try shopWithDataPlane(cluster)
            // The geo cannot reach the auth node when the call is proxied on day 0: it waits in its outbox.
            try cluster.cluster.partition(from: "eu", to: "auth")
            try cluster.gwSend(1, to: "dp1", "/orders/1")
            try cluster.waitUntil("eu queued the call") { try queuedInEu(cluster) > 0 }
            try cluster.cluster.heal(from: "eu", to: "auth")

            let move = try cluster.runCLI(["clock", "advance", "--dir", cluster.directory, "31d"])
            #expect(move.status == 0, "\(move.stderr)")
            #expect(!move.stdout.contains("not delivered"), "\(move.stdout)")
            // The call of day 0 counts in cycle 0, so the free organization was active: no inactivity on day 30.
            let organization = try #require(
                try cluster.support("GET", "/v3/support/organizations/\(shop.organization)").json)
            #expect(organization["state"]?.stringValue == "active", "\(organization.text)")
            #expect(try usage(cluster, shop.organization, cycle: "0")["periods"]?[0]?["usage"]?["api_calls"] == 1)
            #expect(try usage(cluster, shop.organization, cycle: "1")["periods"]?[0]?["usage"]?["api_calls"] == 0)
        }

        @Test("B3: a node that cannot deliver is named by the move; its late usage counts when it arrives")
        func unreachableNodesAreNamed() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let shop = try shopWithDataPlane(cluster)
            // One call delivered; then the geo is cut off from the auth node with one queued, and dp1 from
            // its geo with one counted.
            try cluster.gwSend(1, to: "dp1", "/orders/1")
            try cluster.waitForUsageDelivered(geos: ["eu"], dataPlanes: ["dp1"])
            try cluster.cluster.partition(from: "eu", to: "auth")
            try cluster.gwSend(1, to: "dp1", "/orders/2")
            try cluster.waitUntil("eu queued the call") { try queuedInEu(cluster) > 0 }
            try cluster.cluster.partition(from: "dp1", to: "eu")
            try cluster.gwSend(1, to: "dp1", "/orders/3")
            try cluster.advance("20d")
            _ = try cluster.login("ana@example.com")

            let move = try cluster.runCLI(["clock", "advance", "--dir", cluster.directory, "11d", "--json"])
            #expect(move.status == 0, "\(move.stderr)")
            let report = try JSONParser.parse(move.stdout)
            #expect(report["usage_settlement"]?["complete"] == false)
            let reasons = (report["usage_settlement"]?["unsettled"]?.arrayValue ?? []).compactMap {
                $0["reason"]?.stringValue
            }
            #expect(reasons.contains { $0.contains("data plane dp1 is cut off from geo eu") }, "\(reasons)")
            #expect(reasons.contains { $0.contains("geo eu is cut off from the auth node") }, "\(reasons)")
            #expect(reasons.allSatisfy { $0.contains("recorded when it arrives") }, "\(reasons)")
            // Cycle 0 was invoiced without them.
            #expect(try usage(cluster, shop.organization, cycle: "0")["periods"]?[0]?["usage"]?["api_calls"] == 1)

            // Healed: the late calls count when they arrive, in the cycle open then (never lost).
            try cluster.cluster.healAll()
            try cluster.waitForUsageDelivered(geos: ["eu"], dataPlanes: ["dp1"], timeout: 20)
            #expect(try usage(cluster, shop.organization, cycle: "1")["periods"]?[0]?["usage"]?["api_calls"] == 2)
        }

        @Test("A5, B1: history entries carry their own due moments, also the deletion a move's purge completes")
        func historyIsStampedWithDueMoments() throws {
            let cluster = try TestCluster(geos: ["us", "eu"])
            let (token, organization) = try cluster.newOrganization("ana@example.com")
            try cluster.createControlPlane("shop", token: token)
            try cluster.expect(
                200, "auth", "PATCH", "/v3/organizations/me", ["retention_period_days": 1], token: token)
            try cluster.advance("90d")
            let view = try #require(try cluster.support("GET", "/v3/support/organizations/\(organization)").json)
            let history = (view["state_history"]?.arrayValue ?? []).map {
                "\($0["state"]?.stringValue ?? "") \($0["at"]?.stringValue ?? "")"
            }
            #expect(
                history == [
                    "active 2026-01-01T00:00:00Z", "inactive 2026-01-31T00:00:00Z", "deleting 2026-02-01T00:00:00Z",
                    "deleted 2026-02-01T00:00:00Z",
                ], "\(history)")
        }

        @Test("C2, B1: the node list, dp status and zone times are on the simulated calendar")
        func apisShowTheSimulatedCalendar() throws {
            let cluster = try TestCluster(geos: ["eu"], start: SimTime(iso8601: "2026-01-01T00:00:00Z")!)
            let shop = try cluster.gwShop()
            try cluster.gwStartDataPlane("dp1", controlPlane: shop.controlPlane)
            try cluster.gwWaitForVersion("dp1", 3)
            let nodesPath = "/v2/control-planes/\(shop.controlPlane)/nodes"
            let start = SimTime(iso8601: "2026-01-01T00:00:00Z")!
            let first = try #require(try cluster.expect(200, "eu", "GET", nodesPath, token: shop.token)["items"]?[0])
            #expect(first["created_at"]?.intValue == start.seconds, "\(first.text)")
            #expect(first["last_ping"]?.intValue == start.seconds, "\(first.text)")
            let status = try cluster.dataPlaneStatus("dp1")
            #expect(status["last_sync"]?.stringValue == "2026-01-01T00:00:00Z", "\(status.text)")
            #expect(status["config"]?["received_at"]?.stringValue == "2026-01-01T00:00:00Z")

            try cluster.advance("10d")
            let token = try cluster.login("ana@example.com")
            try cluster.gwService(shop.controlPlane, ["name": "more", "host": "more.internal"], token: token)
            try cluster.gwWaitForVersion("dp1", 4)
            let later = start + .days(10)
            try cluster.waitUntil("the node list shows a ping of day 10") {
                try cluster.expect(200, "eu", "GET", nodesPath, token: token)["items"]?[0]?["last_ping"]?.intValue
                    == later.seconds
            }
            let after = try cluster.dataPlaneStatus("dp1")
            #expect(after["last_sync"]?.stringValue == later.iso8601, "\(after.text)")
            let text = try cluster.runCLI(["dp", "status", "--dir", cluster.directory, "dp1"])
            #expect(text.stdout.contains("last sync: \(later.iso8601)"), "\(text.stdout)")
            let item = try #require(
                try cluster.expect(200, "eu", "GET", nodesPath, token: token)["items"]?[0])
            #expect(item["created_at"]?.intValue == start.seconds)

            // A zone's connection and its workloads are on the calendar too.
            let mesh = try cluster.mzControlPlane("mesh", token: token)
            try cluster.mzStartZone("zone-1", meshControlPlane: mesh)
            try cluster.gwWaitForState("zone-1", "synced")
            try cluster.mzWorkload("zone-1", "web")
            let zones = try cluster.expect(200, "eu", "GET", "/v0/mesh/control-planes/\(mesh)/api/zones", token: token)
            #expect(
                zones["items"]?[0]?["zoneInsight"]?["subscriptions"]?[0]?["connectTime"]?.stringValue
                    == later.iso8601, "\(zones.text)")
            let workloads = try cluster.unix("zone-1").send("GET", "/workloads").json
            #expect(workloads?.text.contains(later.iso8601) == true, "\(workloads?.text ?? "")")
        }
    }
}
