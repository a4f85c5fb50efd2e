import Foundation
import KonnectCluster
import KonnectCore
import KonnectHTTP
import Testing

extension ProcessTests {
    /// Issue 14: what a login or a token says when it cannot be used (A3, A5, D3).
    @Suite struct LoginErrors {
        @Test("A3: the right password and an organization the user is not in says so, listing the user's own")
        func notAMember() throws {
            let cluster = try TestCluster()
            let ana = try cluster.signup("ana@example.com", organization: "Acme")
            let bob = try cluster.signup("bob@example.com", organization: "Bobco")
            let response = try cluster.call(
                "auth", "POST", "/v3/authenticate",
                [
                    "email": "ana@example.com", "password": .string(TestCluster.password),
                    "organization_id": .string(bob.organization),
                ])
            #expect(response.status == 401)
            let body = try #require(response.json)
            #expect(body["reason"]?.stringValue == "not_a_member")
            let detail = body["detail"]?.stringValue ?? ""
            #expect(detail.contains("is not a member of organization \(bob.organization)"), "\(detail)")
            #expect(detail.contains("Acme (\(ana.organization))"), "\(detail)")
            #expect(!detail.contains("Invalid email or password"), "\(detail)")
            // A wrong password says nothing about organizations.
            let wrong = try cluster.call(
                "auth", "POST", "/v3/authenticate",
                [
                    "email": "ana@example.com", "password": "Wrong-Horse-42!x",
                    "organization_id": .string(bob.organization),
                ])
            #expect(wrong.status == 401)
            #expect(wrong.json?["detail"]?.stringValue == "Invalid email or password")
        }

        @Test("A3: a user with one active and other deactivated organizations logs into the active one without asking")
        func oneActiveAmongDeactivated() throws {
            let cluster = try TestCluster()
            let first = try cluster.signup("ana@example.com", organization: "First")
            let second = try cluster.signup("ana@example.com", organization: "Second")
            let third = try cluster.signup("ana@example.com", organization: "Third")
            for organization in [first.organization, third.organization] {
                let token = try cluster.login("ana@example.com", organization: organization)
                try cluster.expect(200, "auth", "POST", "/v3/organizations/me/deactivate", token: token)
            }
            let login = try cluster.expect(
                200, "auth", "POST", "/v3/authenticate",
                ["email": "ana@example.com", "password": .string(TestCluster.password)])
            #expect(login["organization_id"]?.stringValue == second.organization)
            // Asking for a deactivated one still says it is deactivated, and that support can reactivate it.
            let deactivated = try cluster.call(
                "auth", "POST", "/v3/authenticate",
                [
                    "email": "ana@example.com", "password": .string(TestCluster.password),
                    "organization_id": .string(first.organization),
                ])
            #expect(deactivated.status == 401)
            #expect(deactivated.json?["detail"]?.stringValue?.contains("Contact Kong Support to reactivate it") == true)
        }

        @Test("A5, D7: a deleted organization's login error does not offer a reactivation support refuses")
        func deletedOrganizationCannotBeReactivated() throws {
            let cluster = try TestCluster()
            let (token, organization) = try cluster.newOrganization("ana@example.com")
            try cluster.expect(
                200, "auth", "PATCH", "/v3/organizations/me", ["retention_period_days": 1], token: token)
            try cluster.expect(200, "auth", "POST", "/v3/organizations/me/deactivate", token: token)
            try cluster.advance("2d")
            try cluster.waitUntil("the organization is deleted") {
                try cluster.support("GET", "/v3/support/organizations/\(organization)").json?["state"]?.stringValue
                    == "deleted"
            }
            let login = try cluster.call(
                "auth", "POST", "/v3/authenticate",
                ["email": "ana@example.com", "password": .string(TestCluster.password)])
            #expect(login.status == 401)
            let detail = login.json?["detail"]?.stringValue ?? ""
            #expect(detail.contains("cannot be reactivated"), "\(detail)")
            #expect(!detail.contains("Contact Kong Support to reactivate"), "\(detail)")
            #expect(login.json?["organization_state"]?.stringValue == "deleted")
            // What support says agrees.
            let reactivate = try cluster.support("POST", "/v3/support/organizations/\(organization)/reactivate")
            #expect(reactivate.status == 409)
            #expect(reactivate.json?["detail"]?.stringValue?.contains("cannot be reactivated") == true)
        }

        @Test("A3: an expired token says it expired and when, on the auth node and through a geo")
        func expiredTokensSaySo() throws {
            let cluster = try TestCluster()
            let ids = try cluster.signup("ana@example.com")
            let session = try cluster.login("ana@example.com")
            let pat = try cluster.expect(
                201, "auth", "POST", "/v3/users/\(ids.user)/access-tokens", ["name": "ci", "ttl_seconds": 86_400],
                token: session)
            let patToken = try #require(pat["konnect_token"]?.stringValue)
            try cluster.advance("2d")

            for (node, path) in [("auth", "/v3/users/me"), ("eu", "/v2/whoami")] {
                let expiredPAT = try cluster.call(node, "GET", path, token: patToken)
                #expect(expiredPAT.status == 401)
                let detail = expiredPAT.json?["detail"]?.stringValue ?? ""
                #expect(
                    detail.contains("personal access token expired at 2026-01-02T00:00:00Z"), "\(node): \(detail)")
                #expect(!detail.contains("log in again"), "\(node): \(detail)")
                #expect(expiredPAT.json?["reason"]?.stringValue == "token_expired")
                #expect(expiredPAT.json?["expired_at"]?.stringValue == "2026-01-02T00:00:00Z")

                let expiredSession = try cluster.call(node, "GET", path, token: session)
                #expect(expiredSession.status == 401)
                let sessionDetail = expiredSession.json?["detail"]?.stringValue ?? ""
                #expect(sessionDetail.contains("session expired at 2026-01-02T00:00:00Z"), "\(node): \(sessionDetail)")
                #expect(sessionDetail.contains("log in again"), "\(node): \(sessionDetail)")
            }
        }
    }
}
