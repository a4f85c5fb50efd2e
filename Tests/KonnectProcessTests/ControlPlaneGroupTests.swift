import Foundation
import KonnectCluster
import KonnectCore
import KonnectHTTP
import Testing

extension TestCluster {
    /// Creates a control plane group; returns its id.
    func groupCreate(_ name: String, geo: String = "eu", token: String) throws -> String {
        try expect(
            201, geo, "POST", "/v2/control-planes",
            ["name": .string(name), "cluster_type": .string(ControlPlaneTypes.group)], token: token)["id"]?
            .stringValue ?? ""
    }

    /// Changes a group's members (PUT, or POST .../add or .../remove).
    @discardableResult
    func groupMembers(
        _ group: String, _ change: String, _ members: [String], geo: String = "eu", token: String,
        expecting status: Int = 204
    ) throws -> JSON {
        let method = change == "put" ? "PUT" : "POST"
        let path = "/v2/control-planes/\(group)/group-memberships" + (change == "put" ? "" : "/\(change)")
        return try expect(
            status, geo, method, path, ["members": .array(members.map { ["id": .string($0)] })], token: token)
    }

    func groupStatus(_ group: String, geo: String = "eu", token: String) throws -> JSON {
        try expect(200, geo, "GET", "/v2/control-planes/\(group)/group-status", token: token)["item"] ?? .null
    }
}

extension ProcessTests {
    /// Issue 15: control plane groups, as control-planes-v2 has them.
    @Suite struct ControlPlaneGroups {
        @Test("issue 15, C2: a group's data planes receive the union of its members' configurations and proxy to both")
        func aGroupsDataPlanesGetTheUnion() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let shop = try cluster.gwShop()
            let token = shop.token
            let billing = try cluster.createControlPlane("billing", token: token)
            try cluster.gwService(
                billing, ["name": "invoices", "url": .string("http://127.0.0.1:\(shop.upstreamPort)/bills")],
                token: token)
            try cluster.gwRoute(
                billing, service: "invoices", ["name": "invoices", "paths": ["/invoices"]], token: token)
            let group = try cluster.groupCreate("steel", token: token)
            try cluster.groupMembers(group, "put", [shop.controlPlane, billing], token: token)
            #expect(try cluster.groupStatus(group, token: token)["state"] == "OK")
            let config = try cluster.expect(
                200, "eu", "GET", "/v2/control-planes/\(group)/core-entities/config", token: token)
            #expect(
                Set(config["config"]?["services"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? [])
                    == ["orders", "invoices"])

            try cluster.gwStartDataPlane("dp1", controlPlane: "steel")
            try cluster.gwWaitForVersion("dp1", try geoConfigVersion(cluster, group, token: token).asInt64)
            #expect(try cluster.gwProxy("dp1", "GET", "/orders/1").status == 200)
            #expect(try cluster.gwProxy("dp1", "GET", "/invoices/7").status == 200)
            #expect(
                try cluster.dataPlaneStatus("dp1")["config"]?["hash"]
                    == .optional(try cluster.gwExpectedHash(group, token: token)))

            // A member's change reaches the group's data planes.
            try cluster.gwRoute(
                billing, service: "invoices", ["name": "receipts", "paths": ["/receipts"]], token: token)
            try cluster.gwWaitForVersion("dp1", try geoConfigVersion(cluster, group, token: token).asInt64)
            #expect(try cluster.gwProxy("dp1", "GET", "/receipts/1").status == 200)

            // A member that leaves takes its configuration with it.
            try cluster.groupMembers(group, "remove", [billing], token: token)
            try cluster.gwWaitForVersion("dp1", try geoConfigVersion(cluster, group, token: token).asInt64)
            #expect(try cluster.gwProxy("dp1", "GET", "/invoices/7").status == 404)
            #expect(try cluster.gwProxy("dp1", "GET", "/orders/1").status == 200)
            // A member that is deleted too.
            try cluster.expect(204, "eu", "DELETE", "/v2/control-planes/\(shop.controlPlane)", token: token)
            try cluster.gwWaitForVersion("dp1", try geoConfigVersion(cluster, group, token: token).asInt64)
            #expect(try cluster.gwProxy("dp1", "GET", "/orders/1").status == 404)
            let members = try cluster.expect(
                200, "eu", "GET", "/v2/control-planes/\(group)/group-memberships", token: token)
            #expect(members["data"]?.arrayValue?.isEmpty == true)
        }

        @Test(
            "issue 15: colliding members put the group in CONFLICT (reported by group-status) and its data planes get no update until resolved"
        )
        func conflictsHoldTheGroupsConfiguration() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let (token, _) = try cluster.newOrganization("ana@example.com")
            let blue = try cluster.createControlPlane("blue", token: token)
            let green = try cluster.createControlPlane("green", token: token)
            let blueService = try cluster.gwService(blue, ["name": "svc1", "host": "blue.internal"], token: token)
            try cluster.gwService(green, ["name": "other", "host": "green.internal"], token: token)
            let group = try cluster.groupCreate("steel", token: token)
            try cluster.groupMembers(group, "put", [blue, green], token: token)
            try cluster.gwStartDataPlane("dp1", controlPlane: "steel")
            let good = try geoConfigVersion(cluster, group, token: token)
            try cluster.gwWaitForVersion("dp1", good.asInt64)

            let greenService = try cluster.gwService(green, ["name": "svc1", "host": "green2.internal"], token: token)
            let status = try cluster.groupStatus(group, token: token)
            #expect(status["state"] == "CONFLICT")
            let conflicts = status["conflicts"]?.arrayValue ?? []
            #expect(
                Set(conflicts.compactMap { $0["cluster_id"]?.stringValue }) == [blue, green], "\(status.text)")
            #expect(conflicts.allSatisfy { $0["resource"]?["type"] == "service" })
            #expect(
                Set(conflicts.compactMap { $0["resource"]?["id"]?.stringValue })
                    == [blueService["id"]?.stringValue ?? "", greenService["id"]?.stringValue ?? ""])
            #expect(
                conflicts.first?["description"]?.stringValue?.hasPrefix("conflicting entity found: ID=") == true)
            // No new version while in conflict: the data plane keeps the last union.
            #expect(try geoConfigVersion(cluster, group, token: token) == good)
            try cluster.gwService(blue, ["name": "svc2", "host": "blue2.internal"], token: token)
            #expect(try geoConfigVersion(cluster, group, token: token) == good)
            #expect(try cluster.gwVersion("dp1") == good.asInt64)

            // Resolved by renaming: the group moves on and its data plane follows.
            try cluster.expect(
                200, "eu", "PATCH", "\(geoEntities(green))/services/svc1", ["name": "svc1-green"], token: token)
            #expect(try cluster.groupStatus(group, token: token)["state"] == "OK")
            let resolved = try geoConfigVersion(cluster, group, token: token)
            #expect(resolved > good)
            try cluster.gwWaitForVersion("dp1", resolved.asInt64)
            let names = try cluster.expect(
                200, "eu", "GET", "/v2/control-planes/\(group)/core-entities/config", token: token)["config"]?[
                    "services"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
            #expect(Set(names ?? []) == ["svc1", "svc2", "other", "svc1-green"])
        }

        @Test(
            "issue 15: members are standard control planes of the organization in the group's geo, in one group at most; groups are read-only"
        )
        func membershipRules() throws {
            let cluster = try TestCluster(geos: ["us", "eu"])
            let (token, _) = try cluster.newOrganization("ana@example.com")
            let group = try cluster.groupCreate("steel", token: token)
            let other = try cluster.groupCreate("iron", token: token)
            let a = try cluster.createControlPlane("cp-a", token: token)
            let b = try cluster.createControlPlane("cp-b", token: token)
            let ingress =
                try cluster.expect(
                    201, "eu", "POST", "/v2/control-planes",
                    ["name": "kic", "cluster_type": "CLUSTER_TYPE_K8S_INGRESS_CONTROLLER"], token: token)["id"]?
                .stringValue
                ?? ""
            let american = try cluster.createControlPlane("us-one", geo: "us", token: token)
            let (bobToken, _) = try cluster.newOrganization("bob@example.com", organization: "Bobco")
            let bobs = try cluster.createControlPlane("bobs", token: bobToken)

            func refused(_ members: [String], _ change: String = "add") throws -> [String] {
                let body = try cluster.groupMembers(group, change, members, token: token, expecting: 400)
                return body["invalid_parameters"]?.arrayValue?.compactMap { $0["rule"]?.stringValue } ?? []
            }
            #expect(try refused([other]) == ["invalid"], "a group cannot be a member")
            #expect(try refused([ingress]) == ["invalid"], "only standard control planes")
            #expect(try refused([american]) == ["missing_reference"], "members stay in the group's geo")
            #expect(try refused([bobs]) == ["missing_reference"], "another organization's control plane")
            #expect(try refused(["0"]) == ["is_uuid"])
            try cluster.expect(
                400, "eu", "PUT", "/v2/control-planes/\(group)/group-memberships", ["members": [["name": "cp-a"]]],
                token: token)
            try cluster.expect(400, "eu", "PUT", "/v2/control-planes/\(group)/group-memberships", [:], token: token)

            try cluster.groupMembers(group, "add", [a, a], token: token)
            try cluster.groupMembers(group, "add", [a, b], token: token)
            try cluster.groupMembers(other, "add", [a], token: token, expecting: 400)
            #expect(try refused([ingress], "remove") == ["missing_reference"])
            for (plane, member) in [(a, true), (b, true), (ingress, false), (group, false)] {
                #expect(
                    try cluster.expect(
                        200, "eu", "GET", "/v2/control-planes/\(plane)/group-member-status", token: token)["is_member"]
                        == .bool(member))
            }
            // Pages of members, in the order they joined.
            let first = try cluster.expect(
                200, "eu", "GET", "/v2/control-planes/\(group)/group-memberships?page[size]=1", token: token)
            #expect(first["data"]?[0]?["id"] == .string(a))
            #expect(first["meta"]?["page"]?["total"] == 2)
            let next = try #require(first["meta"]?["page"]?["next"]?.stringValue)
            let second = try cluster.expect(200, "eu", "GET", next, token: token)
            #expect(second["data"]?[0]?["id"] == .string(b))
            #expect(second["meta"]?["page"]?["next"] == .null)

            // PUT replaces the members.
            try cluster.groupMembers(group, "put", [b], token: token)
            #expect(
                try cluster.expect(
                    200, "eu", "GET", "/v2/control-planes/\(a)/group-member-status", token: token)["is_member"]
                    == false)
            try cluster.groupMembers(other, "add", [a], token: token)

            // Group endpoints need a group; a group takes no entities of its own.
            try cluster.expect(400, "eu", "GET", "/v2/control-planes/\(a)/group-status", token: token)
            try cluster.expect(400, "eu", "GET", "/v2/control-planes/\(a)/group-memberships", token: token)
            let write = try cluster.call(
                "eu", "POST", "\(geoEntities(group))/services", ["name": "s", "host": "h.internal"], token: token)
            #expect(write.status == 400)
            #expect(write.json?["fields"]?["controlPlaneId"]?.stringValue?.contains("read-only") == true)
            // Other organizations and geos do not see the group (T3).
            try cluster.expect(404, "eu", "GET", "/v2/control-planes/\(group)/group-status", token: bobToken)
            try cluster.expect(404, "us", "GET", "/v2/control-planes/\(group)/group-status", token: token)
            // Deleting a group lets its members go.
            try cluster.expect(204, "eu", "DELETE", "/v2/control-planes/\(group)", token: token)
            #expect(
                try cluster.expect(
                    200, "eu", "GET", "/v2/control-planes/\(b)/group-member-status", token: token)["is_member"]
                    == false)
            try cluster.expect(200, "eu", "GET", "/v2/control-planes/\(b)", token: token)
        }

        @Test("issue 15, D3, D5: deactivating the organization decommissions its groups like any control plane")
        func deactivationDecommissionsGroups() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let shop = try cluster.gwShop()
            let group = try cluster.groupCreate("steel", token: shop.token)
            try cluster.groupMembers(group, "put", [shop.controlPlane], token: shop.token)
            try cluster.gwStartDataPlane("dp1", controlPlane: "steel")
            try cluster.gwWaitForVersion("dp1", try geoConfigVersion(cluster, group, token: shop.token).asInt64)
            #expect(try cluster.gwProxy("dp1", "GET", "/orders/1").status == 200)
            try cluster.expect(200, "auth", "POST", "/v3/organizations/me/deactivate", token: shop.token)
            try cluster.gwWaitForState("dp1", "orphaned", timeout: 15)
            let answer = try cluster.gwProxy("dp1", "GET", "/orders/1")
            #expect(answer.status == 503)
            #expect(answer.json?["data_plane_state"] == "orphaned")
            #expect(answer.json?["reason"]?.stringValue?.contains("organization deactivated") == true, "\(answer.text)")
        }
    }
}

extension Int {
    var asInt64: Int64 { Int64(self) }
}
