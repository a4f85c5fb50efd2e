import Foundation
import KonnectCluster
import KonnectCore
import KonnectHTTP
import Testing

extension ProcessTests {
    /// Issue 14, A4: Konnect's `Creator` role: "the creator becomes the owner of the Control Plane they create".
    @Suite struct CreatorRole {
        @Test("A4: a Creator in us becomes Admin of the control plane they create there, and of nothing else")
        func creatorBecomesAdminOfWhatTheyCreate() throws {
            let cluster = try TestCluster(geos: ["us", "eu"])
            let ana = try cluster.signup("ana@example.com")
            let token = try cluster.login("ana@example.com")
            let others = try cluster.createControlPlane("ana-us", geo: "us", token: token)
            let member = try cluster.identityAddMember("cleo@example.com", adminToken: token)
            try cluster.identityAssign(
                member.user, role: "Creator", type: "Control Planes", region: "us", adminToken: token)

            let created = try cluster.expect(
                201, "us", "POST", "/v2/control-planes", ["name": "cleo-us"], token: member.token)
            let id = try #require(created["id"]?.stringValue)
            // What they created, they can read, change, fill and list.
            try cluster.expect(200, "us", "GET", "/v2/control-planes/\(id)", token: member.token)
            try cluster.expect(
                200, "us", "PATCH", "/v2/control-planes/\(id)", ["description": "mine"], token: member.token)
            try cluster.expect(
                201, "us", "POST", "/v2/control-planes/\(id)/core-entities/services",
                ["name": "svc", "host": "svc.internal"], token: member.token)
            let listed = try cluster.expect(200, "us", "GET", "/v2/control-planes", token: member.token)
            #expect(listed["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == [id])
            // Nothing else: another control plane of the geo stays out of reach.
            try cluster.expect(403, "us", "GET", "/v2/control-planes/\(others)", token: member.token)
            try cluster.expect(403, "eu", "POST", "/v2/control-planes", ["name": "cleo-eu"], token: member.token)

            // The role is the control plane's Admin in us only, recorded by the auth node.
            let roles = try cluster.expect(200, "auth", "GET", "/v3/users/\(member.user)/assigned-roles", token: token)
            let admin = try #require(
                roles["data"]?.arrayValue?.first { $0["role_name"]?.stringValue == "Admin" })
            #expect(admin["entity_type_name"]?.stringValue == "Control Planes")
            #expect(admin["entity_id"]?.stringValue == id)
            #expect(admin["entity_region"]?.stringValue == "us")

            // An Organization Admin creating one gets no extra role.
            try cluster.createControlPlane("ana-us-2", geo: "us", token: token)
            let anaRoles = try cluster.expect(200, "auth", "GET", "/v3/users/\(ana.user)/assigned-roles", token: token)
            #expect(
                anaRoles["data"]?.arrayValue?.allSatisfy { $0["entity_type_name"]?.stringValue == "Organization" }
                    == true, "\(anaRoles.text)")
        }

        @Test("A4: the auth node refuses the creator's role to a member without Creator; geos only, over the socket")
        func theRoleIsForCreatorsOnly() throws {
            let cluster = try TestCluster(geos: ["us", "eu"])
            let (token, organization) = try cluster.newOrganization("ana@example.com")
            let member = try cluster.identityAddMember("vic@example.com", adminToken: token)
            try cluster.identityAssign(
                member.user, role: "Viewer", type: "Control Planes", region: "us", adminToken: token)
            let request = CreatorRoleRequest(
                organizationID: organization, userID: member.user, controlPlaneID: UUID().uuidString.lowercased(),
                geo: "us")
            let refused = try cluster.unix("auth").json("POST", "/internal/v1/creator-roles", request.json)
            #expect(refused.status == 403, "\(refused.text)")
            // Not on the public port.
            let publicPort = try cluster.call("auth", "POST", "/internal/v1/creator-roles", request.json)
            #expect(publicPort.status == 404)
            // A malformed request names its field.
            let malformed = try cluster.unix("auth").json("POST", "/internal/v1/creator-roles", ["geo": "us"])
            #expect(malformed.status == 400)
            #expect(malformed.text.contains("organization_id"), "\(malformed.text)")
        }
    }
}
