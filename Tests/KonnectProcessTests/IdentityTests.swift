import Foundation
import KonnectCluster
import KonnectCore
import KonnectHTTP
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension ProcessTests {
    /// Identity on the auth node (issue 2: A1-A4, P3) and the authorization the geos derive from it.
    @Suite struct Identity {
        // MARK: - Signup and login

        @Test("A1, A2, A3: signup creates the owner and organization; authenticate returns a session bound to it")
        func signupAndAuthenticate() throws {
            let cluster = try TestCluster()
            let body = try cluster.expect(
                201, "auth", "POST", "/v3/signup",
                [
                    "email": "Ana@Example.com", "password": .string(TestCluster.password), "full_name": "Ana Admin",
                    "organization_name": "Acme", "plan": "enterprise", "geo": "us",
                ])
            let user = try #require(body["user"])
            let organization = try #require(body["organization"])
            let userID = try #require(user["id"]?.stringValue)
            let organizationID = try #require(organization["id"]?.stringValue)
            #expect(isCanonicalUUID(userID) && isCanonicalUUID(organizationID))
            #expect(user["full_name"]?.stringValue == "Ana Admin")
            #expect(organization["name"]?.stringValue == "Acme")
            #expect(organization["owner_id"]?.stringValue == userID)
            #expect(organization["state"]?.stringValue == "active")
            #expect(organization["plan"]?.stringValue == "enterprise")
            #expect(organization["home_geo"]?.stringValue == "us")
            #expect(user["password"] == nil && user["password_hash"] == nil)

            // Emails are case-insensitive: any spelling logs in.
            let login = try cluster.expect(
                200, "auth", "POST", "/v3/authenticate",
                [
                    "email": "ana@EXAMPLE.com", "password": .string(TestCluster.password),
                ])
            let token = try #require(login["access_token"]?.stringValue)
            #expect(login["token_type"]?.stringValue == "Bearer")
            #expect((login["expires_in"]?.intValue ?? 0) > 0)
            #expect(login["organization_id"]?.stringValue == organizationID)
            let whoami = try cluster.expect(200, "us", "GET", "/v2/whoami", token: token)
            #expect(whoami["organization"]?["id"]?.stringValue == organizationID)
            #expect(whoami["user"]?["id"]?.stringValue == userID)

            // A1: the same email with other casing and another password is taken (409).
            let taken = try cluster.call(
                "auth", "POST", "/v3/signup",
                [
                    "email": "ANA@example.COM", "password": "Another-Secret-99!", "full_name": "Impostor",
                    "organization_name": "Evil", "plan": "plus", "geo": "eu",
                ])
            #expect(taken.status == 409, "\(taken.text)")
            // A2: the password policy is Konnect's (422 naming the rule).
            let weak = try cluster.call(
                "auth", "POST", "/v3/signup",
                [
                    "email": "weak@example.com", "password": "short", "full_name": "Weak", "organization_name": "W",
                    "geo": "eu",
                ])
            #expect(weak.status == 422)
            #expect(weak.json?["invalid_parameters"]?[0]?["field"]?.stringValue == "password")
        }

        @Test("A1: concurrent signups with one email (in any case) create exactly one account")
        func concurrentSignupsOneAccount() throws {
            let cluster = try TestCluster()
            let port = try cluster.tcp("auth")
            let outcomes = GeoConcurrent.run(8) { writer in
                let email = writer % 2 == 0 ? "race@example.com" : "RACE@Example.COM"
                return geoPost(
                    geoWriterClient(port), "/v3/signup",
                    [
                        "email": .string(email), "password": .string("Racer-Number-\(writer)!x"), "full_name": "Racer",
                        "organization_name": .string("Race \(writer)"), "geo": "eu",
                    ], token: "")
            }
            #expect(outcomes.filter { $0.status == 201 }.count == 1, "\(outcomes.map(\.status))")
            #expect(outcomes.filter { $0.status == 409 }.count == 7, "\(outcomes.map(\.status))")
            let winner = try #require(outcomes.firstIndex { $0.status == 201 })
            let login = try cluster.expect(
                200, "auth", "POST", "/v3/authenticate",
                ["email": "race@example.com", "password": .string("Racer-Number-\(winner)!x")])
            let token = try #require(login["access_token"]?.stringValue)
            #expect(
                try cluster.expect(200, "auth", "GET", "/v3/organizations/me", token: token)["name"]?.stringValue
                    == "Race \(winner)")
            let organizations = try cluster.support(
                "GET", "/v3/support/organizations?filter[owner_email]=race@example.com")
            #expect(organizations.json?["data"]?.arrayValue?.count == 1, "\(organizations.text)")
        }

        @Test("D7, T1: support endpoints need the support credential; customer tokens get 403")
        func supportNeedsTheSupportCredential() throws {
            let cluster = try TestCluster()
            let ids = try cluster.signup("ana@example.com")
            let token = try cluster.login("ana@example.com")
            let pat =
                try cluster.expect(
                    201, "auth", "POST", "/v3/users/\(ids.user)/access-tokens", ["name": "ci"], token: token)[
                    "konnect_token"]?.stringValue ?? ""
            for path in [
                "/v3/support/organizations", "/v3/support/organizations/\(ids.organization)", "/v3/support/email-locks",
            ] {
                try cluster.expect(401, "auth", "GET", path)
                try cluster.expect(403, "auth", "GET", path, token: token)
                try cluster.expect(403, "auth", "GET", path, token: pat)
                #expect(try cluster.support("GET", path).status == 200, "\(path) with the support credential")
            }
            try cluster.expect(403, "auth", "POST", "/v3/simulator/clock/advance", ["by": "1d"], token: token)
            try cluster.expect(
                403, "auth", "POST", "/v3/support/organizations/\(ids.organization)/deactivate", ["reason": "x"],
                token: token)
            #expect(
                try cluster.expect(200, "auth", "GET", "/v3/organizations/me", token: token)["state"]?.stringValue
                    == "active")
            let listed = try cluster.support("GET", "/v3/support/organizations")
            #expect(listed.json?["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == [ids.organization])
            // The support credential is not a customer token: it opens no customer API.
            let supportToken = try #require(cluster.cluster.supportToken)
            try cluster.expect(401, "auth", "GET", "/v3/users/me", token: supportToken)
            try cluster.expect(401, "eu", "GET", "/v2/whoami", token: supportToken)
        }

        @Test("A3: a wrong password and an unknown email get the same 401")
        func wrongPasswordAndUnknownEmailLookAlike() throws {
            let cluster = try TestCluster()
            try cluster.signup("ana@example.com")
            let wrong = try cluster.call(
                "auth", "POST", "/v3/authenticate", ["email": "ana@example.com", "password": "Wrong-Horse-42!x"])
            let unknown = try cluster.call(
                "auth", "POST", "/v3/authenticate", ["email": "nobody@example.com", "password": "Wrong-Horse-42!x"])
            #expect(wrong.status == 401)
            #expect(unknown.status == 401)
            var wrongBody = try #require(wrong.json?.objectValue)
            var unknownBody = try #require(unknown.json?.objectValue)
            // Only the trace id (instance) may differ.
            wrongBody["instance"] = nil
            unknownBody["instance"] = nil
            #expect(wrongBody == unknownBody)
            #expect(wrong.headers["content-type"] == unknown.headers["content-type"])
            #expect(wrong.json?["access_token"] == nil)
        }

        @Test("A2, A3: organization_id is required when the user belongs to several organizations")
        func organizationIDRequiredWithSeveralOrganizations() throws {
            let cluster = try TestCluster()
            let first = try cluster.signup("ana@example.com", organization: "First")
            // A2: the same person (same password) opens a second organization.
            let second = try cluster.signup("ana@example.com", organization: "Second", geo: "us")
            #expect(first.user == second.user)
            #expect(first.organization != second.organization)

            let ambiguous = try cluster.call(
                "auth", "POST", "/v3/authenticate",
                ["email": "ana@example.com", "password": .string(TestCluster.password)])
            #expect(ambiguous.status == 400, "\(ambiguous.text)")
            #expect(ambiguous.json?["invalid_parameters"]?[0]?["field"]?.stringValue == "organization_id")
            #expect(
                Set(ambiguous.json?["organizations"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []) == [
                    first.organization, second.organization,
                ])

            let firstToken = try cluster.login("ana@example.com", organization: first.organization)
            let secondToken = try cluster.login("ana@example.com", organization: second.organization)
            #expect(
                try cluster.expect(200, "auth", "GET", "/v3/organizations/me", token: firstToken)["name"]?.stringValue
                    == "First")
            #expect(
                try cluster.expect(200, "auth", "GET", "/v3/organizations/me", token: secondToken)["name"]?.stringValue
                    == "Second")
            #expect(
                try cluster.expect(200, "eu", "GET", "/v2/whoami", token: secondToken)["organization"]?["id"]?
                    .stringValue == second.organization)
            // A session is bound to its organization: objects of one are not visible with the other's token.
            let plane = try cluster.createControlPlane("first-only", token: firstToken)
            try cluster.expect(404, "eu", "GET", "/v2/control-planes/\(plane)", token: secondToken)
            // An organization the user does not belong to is a 401 that says so (issue 14: LoginErrors).
            let stranger = try cluster.signup("bob@example.com")
            let foreign = try cluster.call(
                "auth", "POST", "/v3/authenticate",
                [
                    "email": "ana@example.com", "password": .string(TestCluster.password),
                    "organization_id": .string(stranger.organization),
                ])
            #expect(foreign.status == 401)
        }

        @Test("A2: users/me and organizations/me describe the caller in the spec's fields")
        func usersMeAndOrganizationsMe() throws {
            let cluster = try TestCluster()
            let ids = try cluster.signup("ana@example.com", organization: "Acme", geo: "eu")
            let token = try cluster.login("ana@example.com")
            let me = try cluster.expect(200, "auth", "GET", "/v3/users/me", token: token)
            #expect(me["id"]?.stringValue == ids.user)
            #expect(me["email"]?.stringValue == "ana@example.com")
            #expect(me["full_name"]?.stringValue == "Test User")
            #expect(me["active"]?.boolValue == true)
            #expect(me["created_at"]?.stringValue == "2026-01-01T00:00:00Z")
            let organization = try cluster.expect(200, "auth", "GET", "/v3/organizations/me", token: token)
            #expect(organization["id"]?.stringValue == ids.organization)
            #expect(organization["name"]?.stringValue == "Acme")
            #expect(organization["owner_id"]?.stringValue == ids.user)
            #expect(organization["state"]?.stringValue == "active")
            #expect(organization["created_at"]?.stringValue == "2026-01-01T00:00:00Z")
            #expect(organization["updated_at"]?.stringValue != nil)
            // Without a token: 401 problem documents.
            let anonymous = try cluster.call("auth", "GET", "/v3/users/me")
            #expect(anonymous.status == 401)
            #expect(anonymous.headers["content-type"] == "application/problem+json")
            try cluster.expect(401, "auth", "GET", "/v3/organizations/me", token: "kses_not-a-real-token")
        }

        @Test("P3: an organization has three licenses, and no endpoint creates one")
        func threeLicensesNoneCreatable() throws {
            let cluster = try TestCluster()
            let (token, _) = try cluster.newOrganization("ana@example.com")
            let body = try cluster.expect(200, "auth", "GET", "/v3/organizations/me/licenses", token: token)
            let licenses = try #require(body["data"]?.arrayValue)
            #expect(
                Set(licenses.compactMap { $0["name"]?.stringValue }) == [
                    "Kong Gateway Enterprise", "Kong Ingress Controller", "Kong Mesh",
                ])
            #expect(
                licenses.allSatisfy { $0["state"]?.stringValue == "active" && $0["customer"]?.stringValue == "Acme" })
            #expect(Set(licenses.compactMap { $0["id"]?.stringValue }).count == 3)

            for method in ["POST", "PUT", "PATCH", "DELETE"] {
                let response = try cluster.call(
                    "auth", method, "/v3/organizations/me/licenses", method == "DELETE" ? nil : ["name": "Kong Mesh"],
                    token: token)
                #expect(response.status == 405, "\(method): \(response.status)")
                #expect(response.headers["allow"] == "GET")
            }
            for path in ["/v3/licenses", "/v3/organizations/me/licenses/upload"] {
                #expect(try cluster.call("auth", "POST", path, ["license": "x"], token: token).status == 404)
            }
            // Still exactly three.
            #expect(
                try cluster.expect(200, "auth", "GET", "/v3/organizations/me/licenses", token: token)["data"]?
                    .arrayValue?.count == 3)
        }

        // MARK: - Personal access tokens

        @Test("A3: personal access tokens: kpat_ prefix, shown once, stored hashed, revocable (401 after)")
        func personalAccessTokens() throws {
            let cluster = try TestCluster()
            let ids = try cluster.signup("ana@example.com")
            let token = try cluster.login("ana@example.com")
            let created = try cluster.expect(
                201, "auth", "POST", "/v3/users/\(ids.user)/access-tokens", ["name": "ci"], token: token)
            let pat = try #require(created["konnect_token"]?.stringValue)
            let patID = try #require(created["id"]?.stringValue)
            #expect(pat.hasPrefix("kpat_"))
            #expect(pat.count >= 32)
            #expect(created["state"]?.stringValue == "ACTIVE")
            #expect(created["expires_at"] == .null)
            let other = try cluster.expect(
                201, "auth", "POST", "/v3/users/\(ids.user)/access-tokens", ["name": "other"], token: token)
            let otherPAT = try #require(other["konnect_token"]?.stringValue)
            let otherID = try #require(other["id"]?.stringValue)
            #expect(otherPAT != pat)

            // The token works on the auth node and on every geo.
            #expect(try cluster.expect(200, "auth", "GET", "/v3/users/me", token: pat)["id"]?.stringValue == ids.user)
            let whoami = try cluster.expect(200, "us", "GET", "/v2/whoami", token: pat)
            #expect(whoami["token_kind"]?.stringValue == "personal_access_token")
            try cluster.expect(201, "eu", "POST", "/v2/control-planes", ["name": "made-with-a-pat"], token: pat)

            // Shown once: neither the list nor the item carries it again.
            let list = try cluster.expect(200, "auth", "GET", "/v3/users/\(ids.user)/access-tokens", token: token)
            let items = try #require(list["data"]?.arrayValue)
            #expect(Set(items.compactMap { $0["name"]?.stringValue }) == ["ci", "other"])
            #expect(items.allSatisfy { $0["konnect_token"] == nil })
            #expect(!list.text.contains(pat))
            let item = try cluster.expect(
                200, "auth", "GET", "/v3/users/\(ids.user)/access-tokens/\(patID)", token: token)
            #expect(item["konnect_token"] == nil)
            #expect(item["name"]?.stringValue == "ci")

            // Stored only as a hash: neither the token nor the password is in the auth node's files.
            let authDirectory = try cluster.record("auth").directory
            for file in ["auth.sqlite", "auth.sqlite-wal"] {
                let bytes = readWholeFile(authDirectory + "/" + file) ?? []
                #expect(!identityBytes(bytes, contain: pat), "\(file) holds the personal access token in clear")
                #expect(!identityBytes(bytes, contain: TestCluster.password), "\(file) holds the password in clear")
            }

            // Revoked (identity-v3: PATCH .../revoke): 401 everywhere; the other token is unaffected.
            let revokedNow = try cluster.expect(
                200, "auth", "PATCH", "/v3/users/\(ids.user)/access-tokens/\(patID)/revoke", token: token)
            #expect(revokedNow["state"]?.stringValue == "REVOKED")
            try cluster.expect(401, "auth", "GET", "/v3/users/me", token: pat)
            try cluster.expect(401, "us", "GET", "/v2/whoami", token: pat)
            try cluster.expect(401, "eu", "GET", "/v2/control-planes", token: pat)
            try cluster.expect(200, "eu", "GET", "/v2/whoami", token: otherPAT)
            let revoked = try cluster.expect(
                200, "auth", "GET", "/v3/users/\(ids.user)/access-tokens/\(patID)", token: token)
            #expect(revoked["state"]?.stringValue == "REVOKED")
            // Deleted: 401 and no longer listed.
            try cluster.expect(
                204, "auth", "DELETE", "/v3/users/\(ids.user)/access-tokens/\(otherID)", token: token)
            try cluster.expect(401, "eu", "GET", "/v2/whoami", token: otherPAT)
            try cluster.expect(404, "auth", "GET", "/v3/users/\(ids.user)/access-tokens/\(otherID)", token: token)

            // Tokens are managed by their own user only.
            let bob = try cluster.signup("bob@example.com", organization: "Bobco")
            let bobToken = try cluster.login("bob@example.com")
            try cluster.expect(
                403, "auth", "POST", "/v3/users/\(ids.user)/access-tokens", ["name": "steal"], token: bobToken)
            try cluster.expect(403, "auth", "GET", "/v3/users/\(ids.user)/access-tokens", token: bobToken)
            try cluster.expect(404, "auth", "DELETE", "/v3/users/\(bob.user)/access-tokens/\(patID)", token: bobToken)
        }

        @Test("A3, B1: a personal access token expires when the simulated calendar passes its expiry")
        func personalAccessTokensExpireWithTheCalendar() throws {
            let cluster = try TestCluster()
            let ids = try cluster.signup("ana@example.com")
            let token = try cluster.login("ana@example.com")
            let short = try cluster.expect(
                201, "auth", "POST", "/v3/users/\(ids.user)/access-tokens", ["name": "one-day", "ttl_seconds": 86_400],
                token: token)
            let long = try cluster.expect(
                201, "auth", "POST", "/v3/users/\(ids.user)/access-tokens",
                ["name": "until-the-5th", "expires_at": "2026-01-05T00:00:00Z"],
                token: token)
            let shortToken = try #require(short["konnect_token"]?.stringValue)
            let longToken = try #require(long["konnect_token"]?.stringValue)
            #expect(short["expires_at"]?.stringValue == "2026-01-02T00:00:00Z")
            #expect(long["expires_at"]?.stringValue == "2026-01-05T00:00:00Z")
            // An expiry in the past of the calendar is refused.
            let past = try cluster.call(
                "auth", "POST", "/v3/users/\(ids.user)/access-tokens",
                ["name": "past", "expires_at": "2025-12-31T00:00:00Z"], token: token)
            #expect(past.status == 400)
            #expect(past.json?["invalid_parameters"]?[0]?["field"]?.stringValue == "expires_at")

            // Nothing happens with the wall clock; only the calendar expires tokens.
            try cluster.advance("23h")
            try cluster.expect(200, "eu", "GET", "/v2/whoami", token: shortToken)
            try cluster.advance("2h")
            try cluster.expect(401, "eu", "GET", "/v2/whoami", token: shortToken)
            try cluster.expect(401, "auth", "GET", "/v3/users/me", token: shortToken)
            try cluster.expect(200, "eu", "GET", "/v2/whoami", token: longToken)
            try cluster.advance("3d")
            try cluster.expect(401, "us", "GET", "/v2/whoami", token: longToken)

            // The session from before has expired too (it lasts a calendar day); a new login lists both as expired.
            try cluster.expect(401, "auth", "GET", "/v3/users/me", token: token)
            let fresh = try cluster.login("ana@example.com")
            let list = try cluster.expect(200, "auth", "GET", "/v3/users/\(ids.user)/access-tokens", token: fresh)
            #expect(list["data"]?.arrayValue?.compactMap { $0["state"]?.stringValue } == ["EXPIRED", "EXPIRED"])
        }

        // MARK: - Members, teams, roles

        @Test("A2, A4: an admin invites a user, who accepts, sets a password and logs in")
        func inviteAcceptAndLogin() throws {
            let cluster = try TestCluster()
            let ana = try cluster.signup("ana@example.com")
            let token = try cluster.login("ana@example.com")
            let invite = try cluster.expect(
                201, "auth", "POST", "/v3/invites", ["email": "bea@example.com"], token: token)
            let inviteToken = try #require(invite["invite_token"]?.stringValue)
            #expect(invite["organization_id"]?.stringValue == ana.organization)

            // A weak password is refused with the policy's 422; the invite stays usable.
            let weak = try cluster.call(
                "auth", "POST", "/v3/invites/accept",
                ["invite_token": .string(inviteToken), "password": "weakweak", "full_name": "Bea"])
            #expect(weak.status == 422)
            let accepted = try cluster.expect(
                201, "auth", "POST", "/v3/invites/accept",
                [
                    "invite_token": .string(inviteToken), "password": "Bea-Password-77!", "full_name": "Bea Member",
                ])
            let beaID = try #require(accepted["user"]?["id"]?.stringValue)
            #expect(accepted["organization_id"]?.stringValue == ana.organization)
            // An invite is used once.
            let again = try cluster.call(
                "auth", "POST", "/v3/invites/accept",
                ["invite_token": .string(inviteToken), "password": "Bea-Password-77!", "full_name": "Bea"])
            #expect(again.status == 401)

            let login = try cluster.expect(
                200, "auth", "POST", "/v3/authenticate", ["email": "bea@example.com", "password": "Bea-Password-77!"])
            let beaToken = try #require(login["access_token"]?.stringValue)
            #expect(login["organization_id"]?.stringValue == ana.organization)
            #expect(
                try cluster.expect(200, "auth", "GET", "/v3/users/me", token: beaToken)["full_name"]?.stringValue
                    == "Bea Member")
            #expect(
                try cluster.expect(200, "eu", "GET", "/v2/whoami", token: beaToken)["organization"]?["id"]?.stringValue
                    == ana.organization)
            let users = try cluster.expect(200, "auth", "GET", "/v3/users", token: token)
            #expect(Set(users["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []) == [ana.user, beaID])
            #expect(users["meta"]?["page"]?["total"]?.intValue == 2)

            // Inviting a member again is a conflict; a member without Organization Admin cannot invite.
            try cluster.expect(409, "auth", "POST", "/v3/invites", ["email": "BEA@example.com"], token: token)
            try cluster.expect(403, "auth", "POST", "/v3/invites", ["email": "carl@example.com"], token: beaToken)

            // Someone who already has an account joins by proving their password; they then pick the organization.
            let carl = try cluster.signup("carl@example.com", organization: "Carlco")
            let carlInvite =
                try cluster.expect(201, "auth", "POST", "/v3/invites", ["email": "carl@example.com"], token: token)[
                    "invite_token"]?.stringValue ?? ""
            try cluster.expect(
                401, "auth", "POST", "/v3/invites/accept",
                ["invite_token": .string(carlInvite), "password": "Not-Carls-Pass-1!"])
            let joined = try cluster.expect(
                201, "auth", "POST", "/v3/invites/accept",
                ["invite_token": .string(carlInvite), "password": .string(TestCluster.password)])
            #expect(joined["user"]?["id"]?.stringValue == carl.user)
            try cluster.expect(
                400, "auth", "POST", "/v3/authenticate",
                ["email": "carl@example.com", "password": .string(TestCluster.password)])
            let carlInAcme = try cluster.login("carl@example.com", organization: ana.organization)
            #expect(
                try cluster.expect(200, "auth", "GET", "/v3/organizations/me", token: carlInAcme)["id"]?.stringValue
                    == ana.organization)
        }

        @Test("A4: teams hold users; roles assigned to a team or a user reach its members")
        func teamsAndAssignedRoles() throws {
            let cluster = try TestCluster()
            let (token, _) = try cluster.newOrganization("ana@example.com")
            let bea = try cluster.identityAddMember("bea@example.com", adminToken: token)
            let plane = try cluster.createControlPlane("shared", token: token)

            // Without any role, a member sees no control planes.
            try cluster.expect(403, "eu", "GET", "/v2/control-planes", token: bea.token)
            try cluster.expect(403, "eu", "GET", "/v2/control-planes/\(plane)", token: bea.token)

            let team = try cluster.expect(
                201, "auth", "POST", "/v3/teams", ["name": "viewers", "description": "read only"], token: token)
            let teamID = try #require(team["id"]?.stringValue)
            #expect(team["name"]?.stringValue == "viewers")
            try cluster.expect(409, "auth", "POST", "/v3/teams", ["name": "viewers"], token: token)
            try cluster.expect(
                201, "auth", "POST", "/v3/teams/\(teamID)/users", ["id": .string(bea.user)], token: token)
            let members = try cluster.expect(200, "auth", "GET", "/v3/teams/\(teamID)/users", token: token)
            #expect(members["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == [bea.user])
            let teams = try cluster.expect(200, "auth", "GET", "/v3/teams", token: token)
            #expect(teams["data"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["viewers"])

            let teamRole = try cluster.expect(
                201, "auth", "POST", "/v3/teams/\(teamID)/assigned-roles",
                [
                    "role_name": "Viewer", "entity_type_name": "Control Planes", "entity_region": "*",
                ], token: token)
            #expect(teamRole["role_name"]?.stringValue == "Viewer")
            #expect(teamRole["entity_id"]?.stringValue == "*")
            let teamRoles = try cluster.expect(200, "auth", "GET", "/v3/teams/\(teamID)/assigned-roles", token: token)
            #expect(teamRoles["data"]?.arrayValue?.count == 1)

            // The team's role reaches its member, on every geo.
            let whoami = try cluster.expect(200, "eu", "GET", "/v2/whoami", token: bea.token)
            #expect(
                whoami["roles"]?.arrayValue?.contains {
                    $0["role_name"]?.stringValue == "Viewer" && $0["entity_type_name"]?.stringValue == "Control Planes"
                } == true)
            try cluster.expect(200, "eu", "GET", "/v2/control-planes/\(plane)", token: bea.token)
            try cluster.expect(403, "eu", "POST", "/v2/control-planes", ["name": "nope"], token: bea.token)

            // A role assigned directly to the user adds to it.
            let userRole = try cluster.identityAssign(
                bea.user, role: "Admin", type: "Control Planes", region: "eu", adminToken: token)
            try cluster.expect(201, "eu", "POST", "/v2/control-planes", ["name": "bea-made-this"], token: bea.token)
            let beaRoles = try cluster.expect(200, "auth", "GET", "/v3/users/\(bea.user)/assigned-roles", token: token)
            #expect(beaRoles["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == [userRole])

            // Leaving the team and losing the user role takes the access away (checked on every request).
            try cluster.expect(204, "auth", "DELETE", "/v3/users/\(bea.user)/assigned-roles/\(userRole)", token: token)
            try cluster.expect(403, "eu", "POST", "/v2/control-planes", ["name": "not-any-more"], token: bea.token)
            try cluster.expect(204, "auth", "DELETE", "/v3/teams/\(teamID)/users/\(bea.user)", token: token)
            try cluster.expect(403, "eu", "GET", "/v2/control-planes/\(plane)", token: bea.token)

            // Invalid assignments name the field; members cannot assign roles.
            let badRole = try cluster.call(
                "auth", "POST", "/v3/users/\(bea.user)/assigned-roles",
                ["role_name": "Emperor", "entity_type_name": "Control Planes"], token: token)
            #expect(badRole.status == 400)
            #expect(badRole.json?["invalid_parameters"]?[0]?["field"]?.stringValue == "role_name")
            let badRegion = try cluster.call(
                "auth", "POST", "/v3/users/\(bea.user)/assigned-roles",
                [
                    "role_name": "Viewer", "entity_type_name": "Control Planes", "entity_region": "mars",
                ], token: token)
            #expect(badRegion.status == 400)
            #expect(badRegion.json?["invalid_parameters"]?[0]?["field"]?.stringValue == "entity_region")
            try cluster.expect(
                403, "auth", "POST", "/v3/users/\(bea.user)/assigned-roles",
                [
                    "role_name": "Admin", "entity_type_name": "Organization",
                ], token: bea.token)
            try cluster.expect(403, "auth", "POST", "/v3/teams", ["name": "bea-team"], token: bea.token)
        }

        @Test("A4: GET /v3/roles lists the predefined roles")
        func predefinedRoles() throws {
            let cluster = try TestCluster()
            let (token, _) = try cluster.newOrganization("ana@example.com")
            let roles = try cluster.expect(200, "auth", "GET", "/v3/roles", token: token)
            #expect(roles["organization"]?["name"]?.stringValue == "Organization")
            #expect(roles["organization"]?["roles"]?["admin"]?["name"]?.stringValue == "Admin")
            #expect(roles["control_planes"]?["roles"]?["admin"] != nil)
            #expect(roles["control_planes"]?["roles"]?["viewer"] != nil)
            #expect(roles["billing"]?["roles"]?["admin"] != nil)
            try cluster.expect(401, "auth", "GET", "/v3/roles")
        }

        @Test("A4: a Control Plane Viewer can read control planes and their entities but not write them")
        func controlPlaneViewerReadsOnly() throws {
            let cluster = try TestCluster()
            let (token, _) = try cluster.newOrganization("ana@example.com")
            let plane = try cluster.createControlPlane("prod", token: token)
            let service = try cluster.expect(
                201, "eu", "POST", "/v2/control-planes/\(plane)/core-entities/services",
                ["name": "orders", "host": "orders.internal"], token: token)
            let serviceID = try #require(service["id"]?.stringValue)
            let viewer = try cluster.identityAddMember("vic@example.com", adminToken: token)
            try cluster.identityAssign(
                viewer.user, role: "Viewer", type: "Control Planes", region: "*", adminToken: token)

            let list = try cluster.expect(200, "eu", "GET", "/v2/control-planes", token: viewer.token)
            #expect(list["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == [plane])
            try cluster.expect(200, "eu", "GET", "/v2/control-planes/\(plane)", token: viewer.token)
            try cluster.expect(
                200, "eu", "GET", "/v2/control-planes/\(plane)/expected-config-hash", token: viewer.token)
            try cluster.expect(
                200, "eu", "GET", "/v2/control-planes/\(plane)/core-entities/services", token: viewer.token)
            try cluster.expect(
                200, "eu", "GET", "/v2/control-planes/\(plane)/core-entities/services/\(serviceID)", token: viewer.token
            )

            try cluster.expect(403, "eu", "POST", "/v2/control-planes", ["name": "viewer-made"], token: viewer.token)
            try cluster.expect(
                403, "eu", "PATCH", "/v2/control-planes/\(plane)", ["description": "changed"], token: viewer.token)
            try cluster.expect(403, "eu", "DELETE", "/v2/control-planes/\(plane)", token: viewer.token)
            try cluster.expect(
                403, "eu", "POST", "/v2/control-planes/\(plane)/core-entities/services",
                ["name": "x", "host": "x.internal"], token: viewer.token)
            try cluster.expect(
                403, "eu", "PATCH", "/v2/control-planes/\(plane)/core-entities/services/\(serviceID)", ["retries": 1],
                token: viewer.token)
            try cluster.expect(
                403, "eu", "DELETE", "/v2/control-planes/\(plane)/core-entities/services/\(serviceID)",
                token: viewer.token)

            // Nothing changed.
            let after = try cluster.expect(200, "eu", "GET", "/v2/control-planes/\(plane)", token: token)
            #expect(after["description"]?.stringValue == "")
            let entity = try cluster.expect(
                200, "eu", "GET", "/v2/control-planes/\(plane)/core-entities/services/\(serviceID)", token: token)
            #expect(entity["retries"]?.intValue == 5)
            #expect(
                try cluster.expect(200, "eu", "GET", "/v2/control-planes", token: token)["data"]?.arrayValue?.count == 1
            )
        }

        @Test("A4: a Control Plane Viewer role for one control plane reaches that one only")
        func entityScopedViewer() throws {
            let cluster = try TestCluster()
            let (token, _) = try cluster.newOrganization("ana@example.com")
            let visible = try cluster.createControlPlane("visible", token: token)
            let hidden = try cluster.createControlPlane("hidden", token: token)
            let member = try cluster.identityAddMember("vic@example.com", adminToken: token)
            try cluster.expect(
                201, "auth", "POST", "/v3/users/\(member.user)/assigned-roles",
                [
                    "role_name": "Viewer", "entity_type_name": "Control Planes", "entity_id": .string(visible),
                    "entity_region": "eu",
                ], token: token)
            let list = try cluster.expect(200, "eu", "GET", "/v2/control-planes", token: member.token)
            #expect(list["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == [visible])
            #expect(list["meta"]?["page"]?["total"] == 1)
            try cluster.expect(200, "eu", "GET", "/v2/control-planes/\(visible)", token: member.token)
            try cluster.expect(
                200, "eu", "GET", "/v2/control-planes/\(visible)/core-entities/services", token: member.token)
            try cluster.expect(403, "eu", "GET", "/v2/control-planes/\(hidden)", token: member.token)
            try cluster.expect(
                403, "eu", "GET", "/v2/control-planes/\(hidden)/core-entities/services", token: member.token)
            try cluster.expect(
                403, "eu", "PATCH", "/v2/control-planes/\(visible)", ["description": "x"], token: member.token)
            try cluster.expect(403, "us", "GET", "/v2/control-planes", token: member.token)
        }

        @Test("A4: a role whose entity_region is another geo grants nothing in this geo (403)")
        func roleForAnotherGeoGrantsNothing() throws {
            let cluster = try TestCluster()
            let (token, _) = try cluster.newOrganization("ana@example.com")
            let euPlane = try cluster.createControlPlane("eu-plane", geo: "eu", token: token)
            let usPlane = try cluster.createControlPlane("us-plane", geo: "us", token: token)
            let member = try cluster.identityAddMember("uma@example.com", adminToken: token)
            try cluster.identityAssign(
                member.user, role: "Admin", type: "Control Planes", region: "us", adminToken: token)
            try cluster.identityAssign(member.user, role: "Viewer", type: "Portals", region: "us", adminToken: token)

            // In us: the role works.
            try cluster.expect(200, "us", "GET", "/v2/control-planes", token: member.token)
            try cluster.expect(200, "us", "GET", "/v2/control-planes/\(usPlane)", token: member.token)
            try cluster.expect(201, "us", "POST", "/v2/control-planes", ["name": "uma-us"], token: member.token)
            try cluster.expect(200, "us", "GET", "/v2/portals", token: member.token)
            // In eu: nothing.
            try cluster.expect(403, "eu", "GET", "/v2/control-planes", token: member.token)
            try cluster.expect(403, "eu", "GET", "/v2/control-planes/\(euPlane)", token: member.token)
            try cluster.expect(
                403, "eu", "PATCH", "/v2/control-planes/\(euPlane)", ["description": "x"], token: member.token)
            try cluster.expect(403, "eu", "POST", "/v2/control-planes", ["name": "uma-eu"], token: member.token)
            try cluster.expect(
                403, "eu", "GET", "/v2/control-planes/\(euPlane)/core-entities/services", token: member.token)
            try cluster.expect(403, "eu", "GET", "/v2/portals", token: member.token)
            #expect(
                try cluster.expect(200, "eu", "GET", "/v2/control-planes", token: token)["data"]?.arrayValue?.count == 1
            )
        }

        @Test("A4: Organization Admin can do everything, in every geo")
        func organizationAdminCanDoAll() throws {
            let cluster = try TestCluster()
            let (token, _) = try cluster.newOrganization("ana@example.com")
            let admin = try cluster.identityAddMember("ada@example.com", adminToken: token)
            try cluster.identityAssign(admin.user, role: "Admin", type: "Organization", region: "*", adminToken: token)

            for geo in ["us", "eu"] {
                let plane = try cluster.createControlPlane("ada-\(geo)", geo: geo, token: admin.token)
                try cluster.expect(
                    200, geo, "PATCH", "/v2/control-planes/\(plane)", ["description": "by ada"], token: admin.token)
                let service = try cluster.expect(
                    201, geo, "POST", "/v2/control-planes/\(plane)/core-entities/services",
                    ["name": "s", "host": "s.internal"], token: admin.token)
                try cluster.expect(
                    204, geo, "DELETE",
                    "/v2/control-planes/\(plane)/core-entities/services/\(service["id"]?.stringValue ?? "")",
                    token: admin.token)
                let portal = try cluster.expect(
                    201, geo, "POST", "/v2/portals", ["name": "ada-portal"], token: admin.token)
                try cluster.expect(
                    204, geo, "DELETE", "/v2/portals/\(portal["id"]?.stringValue ?? "")", token: admin.token)
                try cluster.expect(204, geo, "DELETE", "/v2/control-planes/\(plane)", token: admin.token)
            }
            let team =
                try cluster.expect(201, "auth", "POST", "/v3/teams", ["name": "ada-team"], token: admin.token)["id"]?
                .stringValue ?? ""
            try cluster.expect(
                201, "auth", "POST", "/v3/teams/\(team)/assigned-roles",
                ["role_name": "Admin", "entity_type_name": "Billing"], token: admin.token)
            let newbie = try cluster.identityAddMember("ned@example.com", adminToken: admin.token)
            try cluster.expect(
                201, "auth", "POST", "/v3/teams/\(team)/users", ["id": .string(newbie.user)], token: admin.token)
            try cluster.expect(
                200, "auth", "PATCH", "/v3/organizations/me", ["name": "Acme Renamed"], token: admin.token)
            try cluster.expect(204, "auth", "DELETE", "/v3/users/\(newbie.user)", token: admin.token)
            try cluster.expect(401, "auth", "GET", "/v3/users/me", token: newbie.token)
        }

        @Test("A2: the owner's Organization Admin role and the owner's membership cannot be removed")
        func ownersAdminRoleCannotBeRemoved() throws {
            let cluster = try TestCluster()
            let ana = try cluster.signup("ana@example.com")
            let token = try cluster.login("ana@example.com")
            let roles = try cluster.expect(200, "auth", "GET", "/v3/users/\(ana.user)/assigned-roles", token: token)
            let ownerAdmin = try #require(
                roles["data"]?.arrayValue?.first { $0["entity_type_name"]?.stringValue == "Organization" })
            let ownerAdminID = try #require(ownerAdmin["id"]?.stringValue)
            #expect(ownerAdmin["role_name"]?.stringValue == "Admin")

            // Another admin cannot take it away, nor can the owner themselves.
            let admin = try cluster.identityAddMember("ada@example.com", adminToken: token)
            let adaRole = try cluster.identityAssign(
                admin.user, role: "Admin", type: "Organization", region: "*", adminToken: token)
            try cluster.expect(
                409, "auth", "DELETE", "/v3/users/\(ana.user)/assigned-roles/\(ownerAdminID)", token: admin.token)
            try cluster.expect(
                409, "auth", "DELETE", "/v3/users/\(ana.user)/assigned-roles/\(ownerAdminID)", token: token)
            try cluster.expect(409, "auth", "DELETE", "/v3/users/\(ana.user)", token: admin.token)
            let still = try cluster.expect(200, "auth", "GET", "/v3/users/\(ana.user)/assigned-roles", token: token)
            #expect(still["data"]?.arrayValue?.contains { $0["id"]?.stringValue == ownerAdminID } == true)
            try cluster.expect(201, "eu", "POST", "/v2/control-planes", ["name": "owner-still-admin"], token: token)

            // Any other admin's Organization Admin role can be removed, after which they are no admin.
            try cluster.expect(204, "auth", "DELETE", "/v3/users/\(admin.user)/assigned-roles/\(adaRole)", token: token)
            try cluster.expect(403, "auth", "POST", "/v3/teams", ["name": "ada-team"], token: admin.token)
        }
    }
}

// MARK: - Helpers for identity tests

/// A member added to an organization by invite: their user id and a session token for that organization.
struct IdentityMember {
    var user: String
    var token: String
}

/// Whether `bytes` contain the UTF-8 of `text`.
func identityBytes(_ bytes: [UInt8], contain text: String) -> Bool {
    let needle = Array(text.utf8)
    guard !needle.isEmpty, bytes.count >= needle.count else { return false }
    var index = 0
    while index <= bytes.count - needle.count {
        if bytes[index] == needle[0], Array(bytes[index..<index + needle.count]) == needle { return true }
        index += 1
    }
    return false
}

func isCanonicalUUID(_ text: String) -> Bool {
    let bytes = Array(text.utf8)
    guard bytes.count == 36 else { return false }
    for (index, byte) in bytes.enumerated() {
        if [8, 13, 18, 23].contains(index) {
            guard byte == UInt8(ascii: "-") else { return false }
        } else {
            guard (byte >= 48 && byte <= 57) || (byte >= 97 && byte <= 102) else { return false }
        }
    }
    return true
}

extension TestCluster {
    /// Invites `email` into the admin's organization, accepts with the test password and logs in.
    func identityAddMember(_ email: String, adminToken: String) throws -> IdentityMember {
        let invite = try expect(201, "auth", "POST", "/v3/invites", ["email": .string(email)], token: adminToken)
        guard let inviteToken = invite["invite_token"]?.stringValue,
            let organization = invite["organization_id"]?.stringValue
        else {
            throw ProcessTestFailure(message: "no invite_token in \(invite.text)")
        }
        let accepted = try expect(
            201, "auth", "POST", "/v3/invites/accept",
            [
                "invite_token": .string(inviteToken), "password": .string(TestCluster.password),
                "full_name": "Invited Member",
            ])
        guard let user = accepted["user"]?["id"]?.stringValue else {
            throw ProcessTestFailure(message: "no user in \(accepted.text)")
        }
        return IdentityMember(user: user, token: try login(email, organization: organization))
    }

    /// Assigns a role to a user; returns the assignment's id.
    @discardableResult
    func identityAssign(_ user: String, role: String, type: String, region: String, adminToken: String) throws -> String
    {
        let body = try expect(
            201, "auth", "POST", "/v3/users/\(user)/assigned-roles",
            [
                "role_name": .string(role), "entity_type_name": .string(type), "entity_region": .string(region),
            ], token: adminToken)
        guard let id = body["id"]?.stringValue else { throw ProcessTestFailure(message: "no id in \(body.text)") }
        return id
    }
}
