import Foundation
import KonnectCluster
import KonnectCore
import KonnectHTTP
import KonnectNodes
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// One organization with one of everything, so that every documented path can be filled with real ids.
struct SpecFixture {
    let cluster: TestCluster
    let token: String
    let supportToken: String
    var ids: [String: String] = [:]
    /// A control plane group, for the group endpoints.
    var group = ""

    init(geos: [String] = ["eu"]) throws {
        cluster = try TestCluster(geos: geos)
        let owner = try cluster.signup("ana@example.com")
        token = try cluster.login("ana@example.com")
        supportToken = try #require(cluster.cluster.supportToken)
        ids["userId"] = owner.user
        ids["orgId"] = owner.organization
        ids["teamId"] = try cluster.expect(201, "auth", "POST", "/v3/teams", ["name": "devs"], token: token)["id"]?
            .stringValue
        ids["tokenId"] =
            try cluster.expect(
                201, "auth", "POST", "/v3/users/\(owner.user)/access-tokens", ["name": "ci"], token: token)["id"]?
            .stringValue
        ids["inviteId"] =
            try cluster.expect(201, "auth", "POST", "/v3/invites", ["email": "bob@example.com"], token: token)["id"]?
            .stringValue
        ids["roleId"] =
            try cluster.expect(200, "auth", "GET", "/v3/users/\(owner.user)/assigned-roles", token: token)["data"]?[0]?[
                "id"]?.stringValue
        ids["email"] = "nobody@example.com"
        let plane = try cluster.createControlPlane("shop", token: token)
        ids["controlPlaneId"] = plane
        let entities = geoEntities(plane)
        ids["serviceId"] =
            try cluster.expect(
                201, "eu", "POST", "\(entities)/services", ["name": "orders", "host": "o.internal"], token: token)[
                "id"]?.stringValue
        ids["routeId"] =
            try cluster.expect(
                201, "eu", "POST", "\(entities)/routes", ["name": "orders", "paths": ["/orders"]], token: token)["id"]?
            .stringValue
        ids["consumerId"] =
            try cluster.expect(201, "eu", "POST", "\(entities)/consumers", ["username": "ana"], token: token)["id"]?
            .stringValue
        ids["pluginId"] =
            try cluster.expect(201, "eu", "POST", "\(entities)/plugins", ["name": "cors"], token: token)["id"]?
            .stringValue
        ids["certificateId"] =
            try cluster.expect(
                201, "eu", "POST", "/v2/control-planes/\(plane)/dp-client-certificates", [:], token: token)[
                "item"]?["id"]?.stringValue
        ids["nodeId"] = "00000000-0000-4000-8000-000000000000"
        group =
            try cluster.expect(
                201, "eu", "POST", "/v2/control-planes",
                ["name": "steel", "cluster_type": .string(ControlPlaneTypes.group)], token: token)["id"]?.stringValue
            ?? ""
        ids["portalId"] =
            try cluster.expect(201, "eu", "POST", "/v2/portals", ["name": "docs"], token: token)["id"]?.stringValue
        let mesh = try cluster.mzControlPlane("mesh", token: token)
        ids["meshControlPlaneId"] = mesh
        try cluster.mzDefaultPolicies(mesh, token: token)
        ids["mesh"] = "default"
        ids["policyType"] = "meshtimeouts"
        ids["name"] = "short"
        ids["zone"] = "zone-1"
    }

    /// The public document the node serves on TCP.
    func document(_ node: String) throws -> JSON {
        try cluster.expect(200, node, "GET", "/openapi.json")
    }

    /// `path` with every parameter filled from the fixture, `override` replacing one.
    func fill(_ path: String, override: (String, String)? = nil) -> String {
        var filled = path
        let isGroupPath = path.contains("/group-memberships") || path.hasSuffix("/group-status")
        for parameter in OpenAPIDocument.pathParameters(path) {
            let fixture = parameter == "controlPlaneId" && isGroupPath ? group : ids[parameter]
            let value = parameter == override?.0 ? override!.1 : (fixture ?? "unknown")
            filled = filled.replacingOccurrences(of: "{\(parameter)}", with: value)
        }
        return filled
    }

    /// Calls an operation as its security asks (support credential, or the owner's token).
    func call(_ node: String, _ method: String, _ path: String, _ operation: JSON, body: JSON?) throws
        -> ClientResponse
    {
        let support = operation["security"]?[0]?["supportCredential"] != nil
        var headers: HTTPHeaders = [:]
        headers.set("Authorization", "Bearer \(support ? supportToken : token)")
        return try cluster.tcp(node).json(method, path, body, headers: headers)
    }
}

/// The fields a 400 names: Konnect's `invalid_parameters`, or Kong's `fields` under `/core-entities`.
func invalidFields(_ response: ClientResponse) -> [String] {
    if let parameters = response.json?["invalid_parameters"]?.arrayValue {
        return parameters.compactMap { $0["field"]?.stringValue }
    }
    return response.json?["fields"]?.objectValue?.keys ?? []
}

/// The top-level property a field path names (`proxy_urls[0].host` → `proxy_urls`).
func topLevelField(_ field: String) -> String {
    String(field.prefix { $0 != "." && $0 != "[" })
}

extension ProcessTests {
    /// Issue 15: the documents the nodes serve are true, and the APIs follow Kong's specs.
    @Suite struct SpecConformance {
        @Test(
            "issue 15: each listener serves the document of what it answers; security is per operation; signup offers the cluster's geos"
        )
        func documentsPerListener() throws {
            let cluster = try TestCluster(geos: ["eu"])
            for node in ["auth", "eu"] {
                let tcp = try cluster.expect(200, node, "GET", "/openapi.json")
                let unix = try #require(try cluster.unix(node).send("GET", "/openapi.json").json)
                let tcpPaths = tcp["paths"]?.objectValue?.keys ?? []
                let unixPaths = unix["paths"]?.objectValue?.keys ?? []
                #expect(!tcpPaths.isEmpty)
                #expect(tcpPaths.allSatisfy { !$0.hasPrefix("/internal/") }, "\(node): TCP lists /internal routes")
                #expect(
                    unixPaths.contains { $0.hasPrefix("/internal/") }, "\(node): the socket lists no /internal route")
                #expect(Set(tcpPaths).isSubset(of: Set(unixPaths)))
                #expect(tcp["security"] == nil, "\(node): a global security requirement")
                #expect(tcp["paths"]?["/health"]?["get"]?["security"] == [])
                // An /internal route answers 404 on TCP, as its document says by not listing it.
                let internalPath = try #require(unixPaths.first { $0.hasPrefix("/internal/") && !$0.contains("{") })
                let method = try #require(unix["paths"]?[internalPath]?.objectValue?.keys.first).uppercased()
                #expect(try cluster.call(node, method, internalPath).status == 404)
            }
            let auth = try cluster.expect(200, "auth", "GET", "/openapi.json")
            for (path, method) in [
                ("/v3/simulator/clock", "get"), ("/v3/signup", "post"), ("/v3/authenticate", "post"),
                ("/v3/invites/accept", "post"),
            ] {
                #expect(auth["paths"]?[path]?[method]?["security"] == [], "\(method) \(path) needs no token")
                // ... and indeed answers without one.
                let status = try cluster.call("auth", method.uppercased(), path, method == "get" ? nil : [:]).status
                #expect(status != 401, "\(method) \(path): \(status)")
            }
            #expect(auth["paths"]?["/v3/users/me"]?["get"]?["security"]?.arrayValue?.isEmpty == false)
            #expect(
                auth["paths"]?["/v3/simulator/clock/advance"]?["post"]?["security"]
                    == [["supportCredential": []]])
            #expect(auth["components"]?["schemas"]?["Signup"]?["properties"]?["geo"]?["enum"] == ["eu"])
            let password = auth["components"]?["schemas"]?["Signup"]?["properties"]?["password"]
            #expect(password?["minLength"] == 12)
            #expect(password?["description"]?.stringValue?.contains("upper-case") == true)
        }

        @Test(
            "issue 15: every request body is documented with its properties; {} is refused only for documented fields, naming every required one"
        )
        func requestBodiesNameTheirFields() throws {
            let fixture = try SpecFixture()
            for node in ["auth", "eu"] {
                let document = try fixture.document(node)
                let validator = SchemaValidator(document: document)
                for (path, item) in document["paths"]?.objectValue ?? [:] {
                    for (method, operation) in item.objectValue ?? [:] {
                        guard let schema = operation["requestBody"]?["content"]?["application/json"]?["schema"]
                        else { continue }
                        let resolved = schema["$ref"]?.stringValue.flatMap(validator.resolve) ?? schema
                        let properties = Set(resolved["properties"]?.objectValue?.keys ?? [])
                        let required = Set(resolved["required"]?.arrayValue?.compactMap(\.stringValue) ?? [])
                        #expect(!properties.isEmpty, "\(method) \(path): the body names no property")
                        #expect(required.isSubset(of: properties), "\(method) \(path): required \(required.sorted())")
                        let response = try fixture.call(
                            node, method.uppercased(), fixture.fill(path), operation, body: [:])
                        if response.status == 400 {
                            let named = Set(invalidFields(response).map(topLevelField))
                            #expect(
                                named.isSubset(of: properties),
                                "\(method) \(path) {} named \(named.subtracting(properties).sorted()), which the document does not: \(response.text.prefix(300))"
                            )
                            #expect(
                                required.isSubset(of: named),
                                "\(method) \(path) {} did not name the required \(required.subtracting(named).sorted())"
                            )
                        } else {
                            #expect(
                                required.isEmpty,
                                "\(method) \(path) {} answered \(response.status) though \(required.sorted()) are required"
                            )
                        }
                    }
                }
            }
        }

        @Test("issue 15: every path id the documents call a UUID answers 400 naming it when it is not one")
        func uuidPathParametersAreDocumentedAndChecked() throws {
            let fixture = try SpecFixture()
            var checked = 0
            for node in ["auth", "eu"] {
                let document = try fixture.document(node)
                for (path, item) in document["paths"]?.objectValue ?? [:] {
                    for (method, operation) in item.objectValue ?? [:] {
                        let uuids = (operation["parameters"]?.arrayValue ?? []).filter {
                            $0["in"] == "path" && $0["schema"]?["format"] == "uuid"
                        }.compactMap { $0["name"]?.stringValue }
                        for parameter in uuids {
                            let body: JSON? = operation["requestBody"] == nil ? nil : [:]
                            let response = try fixture.call(
                                node, method.uppercased(), fixture.fill(path, override: (parameter, "0")), operation,
                                body: body)
                            #expect(
                                response.status == 400 && invalidFields(response).contains(parameter),
                                "\(method) \(path) with \(parameter)=0: \(response.status) \(response.text.prefix(200))"
                            )
                            #expect(operation["responses"]?["400"] != nil, "\(method) \(path) does not document 400")
                            checked += 1
                        }
                    }
                }
            }
            #expect(checked > 60)
            // The example of the issue.
            try fixture.cluster.expect(400, "auth", "DELETE", "/v3/teams/0", token: fixture.token)
        }

        // MARK: - control-planes-v2

        @Test(
            "issue 15, control-planes-v2: every rule is one of Kong's, with its bound; labels null is refused; every cluster type is accepted"
        )
        func controlPlaneValidationSpeaksKong() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let (token, _) = try cluster.newOrganization("ana@example.com")
            func problems(_ body: JSON, _ method: String = "POST", _ path: String = "/v2/control-planes") throws
                -> [JSON]
            {
                let response = try cluster.call("eu", method, path, body, token: token)
                #expect(response.status == 400, "\(body.text): \(response.status)")
                return response.json?["invalid_parameters"]?.arrayValue ?? []
            }
            let proxy: JSON = ["host": "example.com", "port": 443, "protocol": "https"]
            var found = try problems(["name": "x"])
            #expect(
                found.first == [
                    "field": "name", "rule": "min_length", "reason": "must have at least 2 characters", "minimum": 2,
                ])
            found = try problems(["name": "ok", "proxy_urls": .array(Array(repeating: proxy, count: 6))])
            #expect(found.first?["rule"] == "max_items")
            #expect(found.first?["maximum"] == 5)
            found = try problems(["name": "ok", "cluster_type": "CLUSTER_TYPE_NOPE"])
            #expect(found.first?["rule"] == "enum")
            #expect(found.first?["choices"] == .strings(ControlPlaneTypes.clusterTypes))
            found = try problems(["name": "ok", "labels": ["kong-owned": "x"]])
            #expect(found.first?["rule"] == "is_label")
            found = try problems(["name": "ok", "labels": nil])
            #expect(found.first?["field"] == "labels")
            #expect(found.first?["rule"] == "is_null")
            found = try problems(["name": "ok", "proxy_urls": [["host": "", "port": 0, "protocol": "https"]]])
            #expect(Set(found.compactMap { $0["field"]?.stringValue }) == ["proxy_urls[0].host", "proxy_urls[0].port"])
            for type in ControlPlaneTypes.clusterTypes where type != ControlPlaneTypes.group {
                let created = try cluster.expect(
                    201, "eu", "POST", "/v2/control-planes",
                    ["name": .string("cp-\(type.lowercased())"), "cluster_type": .string(type)], token: token)
                #expect(created["config"]?["cluster_type"] == .string(type))
            }
            let plane = try cluster.createControlPlane("plain", token: token)
            found = try problems(["labels": nil], "PATCH", "/v2/control-planes/\(plane)")
            #expect(found.first?["rule"] == "is_null")
            found = try problems(["cluster_type": "CLUSTER_TYPE_SERVERLESS"], "PATCH", "/v2/control-planes/\(plane)")
            #expect(found.first?["rule"] == "unknown_property")
        }

        @Test(
            "issue 15, control-planes-v2: the filters Kong accepts (id oeq, cluster_type neq/oeq, cloud_gateway) and sort"
        )
        func controlPlaneFiltersAndSort() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let (token, _) = try cluster.newOrganization("ana@example.com")
            var ids: [String: String] = [:]
            for (name, type, cloud) in [
                ("bravo", "CLUSTER_TYPE_CONTROL_PLANE", false), ("alpha", "CLUSTER_TYPE_K8S_INGRESS_CONTROLLER", false),
                ("charlie", "CLUSTER_TYPE_SERVERLESS_V1", true),
            ] {
                ids[name] =
                    try cluster.expect(
                        201, "eu", "POST", "/v2/control-planes",
                        ["name": .string(name), "cluster_type": .string(type), "cloud_gateway": .bool(cloud)],
                        token: token)["id"]?.stringValue
                try cluster.advance("1h")
            }
            func names(_ query: String) throws -> [String] {
                try cluster.expect(200, "eu", "GET", "/v2/control-planes?\(query)", token: token)["data"]?.arrayValue?
                    .compactMap { $0["name"]?.stringValue } ?? []
            }
            let alpha = try #require(ids["alpha"])
            let charlie = try #require(ids["charlie"])
            #expect(try names("filter[id][oeq]=\(alpha),\(charlie)") == ["alpha", "charlie"])
            #expect(try names("filter[id][eq]=\(alpha)") == ["alpha"])
            #expect(try names("filter[cluster_type][neq]=CLUSTER_TYPE_CONTROL_PLANE") == ["alpha", "charlie"])
            #expect(
                try names("filter[cluster_type][oeq]=CLUSTER_TYPE_CONTROL_PLANE,CLUSTER_TYPE_SERVERLESS_V1")
                    == ["bravo", "charlie"])
            #expect(try names("filter[cloud_gateway]=true") == ["charlie"])
            #expect(try names("filter[cloud_gateway]=false") == ["bravo", "alpha"])
            #expect(try names("sort=created_at") == ["bravo", "alpha", "charlie"])
            #expect(try names("sort=created_at%20desc") == ["charlie", "alpha", "bravo"])
            #expect(try names("sort=name") == ["alpha", "bravo", "charlie"])
            #expect(try names("sort=name%20desc&filter[cloud_gateway]=false") == ["bravo", "alpha"])
            for bad in ["sort=size", "sort=name%20sideways", "filter[cloud_gateway]=maybe", "filter[id][gt]=x"] {
                let response = try cluster.call("eu", "GET", "/v2/control-planes?\(bad)", token: token)
                #expect(response.status == 400, "\(bad): \(response.status)")
            }
        }

        // MARK: - identity-v3

        @Test("issue 15, identity-v3: GET /v3/users/{userId}/teams lists a member's teams")
        func userTeams() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let owner = try cluster.signup("ana@example.com")
            let token = try cluster.login("ana@example.com")
            let devs =
                try cluster.expect(201, "auth", "POST", "/v3/teams", ["name": "devs"], token: token)["id"]?
                .stringValue ?? ""
            try cluster.expect(201, "auth", "POST", "/v3/teams", ["name": "ops"], token: token)
            try cluster.expect(
                201, "auth", "POST", "/v3/teams/\(devs)/users", ["id": .string(owner.user)], token: token)
            let teams = try cluster.expect(200, "auth", "GET", "/v3/users/\(owner.user)/teams", token: token)
            #expect(teams["data"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["devs"])
            #expect(teams["meta"]?["page"]?["total"] == 1)
            let filtered = try cluster.expect(
                200, "auth", "GET", "/v3/users/\(owner.user)/teams?filter[name]=ops", token: token)
            #expect(filtered["data"]?.arrayValue?.isEmpty == true)
            try cluster.expect(400, "auth", "GET", "/v3/users/0/teams", token: token)
            let other = try cluster.signup("bob@example.com", organization: "Bobco")
            try cluster.expect(404, "auth", "GET", "/v3/users/\(other.user)/teams", token: token)
        }

        @Test(
            "issue 15, identity-v3: personal access tokens are renamed with PATCH, revoked with PATCH .../revoke, at most 10 work at a time"
        )
        func personalAccessTokensAsIdentityV3() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let owner = try cluster.signup("ana@example.com")
            let token = try cluster.login("ana@example.com")
            let base = "/v3/users/\(owner.user)/access-tokens"
            var created: [(id: String, secret: String)] = []
            for index in 0..<AccessTokenLimit.value {
                let body = try cluster.expect(
                    201, "auth", "POST", base, ["name": .string("token \(index)")], token: token)
                created.append((body["id"]?.stringValue ?? "", body["konnect_token"]?.stringValue ?? ""))
            }
            let refused = try cluster.call("auth", "POST", base, ["name": "eleventh"], token: token)
            #expect(refused.status == 409, "\(refused.text)")
            #expect(refused.json?["detail"]?.stringValue?.contains("at most 10") == true)

            // Rename.
            let renamed = try cluster.expect(
                200, "auth", "PATCH", "\(base)/\(created[0].id)", ["name": "renamed one"], token: token)
            #expect(renamed["name"] == "renamed one")
            #expect(renamed["state"] == "ACTIVE")
            for bad: JSON in [
                [:], ["name": ""], ["name": " leading space"], ["name": "x"], ["name": "ok", "ttl_seconds": 86400],
            ] {
                try cluster.expect(400, "auth", "PATCH", "\(base)/\(created[0].id)", bad, token: token)
            }
            try cluster.expect(400, "auth", "POST", base, ["name": "bad/name"], token: token)

            // Revoke: 200 with the token REVOKED; it stops working and no longer counts.
            let revoked = try cluster.expect(200, "auth", "PATCH", "\(base)/\(created[1].id)/revoke", token: token)
            #expect(revoked["state"] == "REVOKED")
            #expect(revoked["revoked_at"]?.stringValue != nil)
            try cluster.expect(401, "auth", "GET", "/v3/users/me", token: created[1].secret)
            try cluster.expect(401, "eu", "GET", "/v2/whoami", token: created[1].secret)
            try cluster.expect(200, "eu", "GET", "/v2/whoami", token: created[2].secret)
            try cluster.expect(201, "auth", "POST", base, ["name": "replacement"], token: token)
            try cluster.expect(409, "auth", "POST", base, ["name": "one too many"], token: token)
            // Delete: gone from the list; frees a place too.
            try cluster.expect(204, "auth", "DELETE", "\(base)/\(created[2].id)", token: token)
            try cluster.expect(404, "auth", "GET", "\(base)/\(created[2].id)", token: token)
            let list = try cluster.expect(200, "auth", "GET", base, token: token)
            #expect(list["data"]?.arrayValue?.count == AccessTokenLimit.value + 1 - 1)
            try cluster.expect(201, "auth", "POST", base, ["name": "after delete"], token: token)
            try cluster.expect(400, "auth", "PATCH", "\(base)/0/revoke", token: token)
            try cluster.expect(404, "auth", "PATCH", "\(base)/\(UUID().uuidString.lowercased())/revoke", token: token)
        }

        @Test(
            "issue 15, identity-v3: pending invites are listed and revoked; a second invite to a pending email is 409")
        func pendingInvites() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let (token, organization) = try cluster.newOrganization("ana@example.com")
            let first = try cluster.expect(
                201, "auth", "POST", "/v3/invites", ["email": "bob@example.com"], token: token)
            #expect(first["state"] == "pending")
            #expect(first["organization_id"] == .string(organization))
            let again = try cluster.call("auth", "POST", "/v3/invites", ["email": "BOB@example.com"], token: token)
            #expect(again.status == 409, "\(again.text)")
            try cluster.expect(201, "auth", "POST", "/v3/invites", ["email": "carol@example.com"], token: token)
            var pending = try cluster.expect(200, "auth", "GET", "/v3/invites", token: token)
            #expect(
                Set(pending["data"]?.arrayValue?.compactMap { $0["email"]?.stringValue } ?? [])
                    == ["bob@example.com", "carol@example.com"])
            #expect(pending["data"]?.arrayValue?.allSatisfy { $0["invite_token"] == nil } == true)

            // Revoked: the token no longer works, the email may be invited again.
            let id = try #require(first["id"]?.stringValue)
            try cluster.expect(204, "auth", "DELETE", "/v3/invites/\(id)", token: token)
            try cluster.expect(404, "auth", "DELETE", "/v3/invites/\(id)", token: token)
            try cluster.expect(
                401, "auth", "POST", "/v3/invites/accept",
                [
                    "invite_token": .string(first["invite_token"]?.stringValue ?? ""),
                    "password": .string(TestCluster.password), "full_name": "Bob",
                ])
            let second = try cluster.expect(
                201, "auth", "POST", "/v3/invites", ["email": "bob@example.com"], token: token)
            try cluster.expect(
                201, "auth", "POST", "/v3/invites/accept",
                [
                    "invite_token": .string(second["invite_token"]?.stringValue ?? ""),
                    "password": .string(TestCluster.password), "full_name": "Bob",
                ])
            pending = try cluster.expect(200, "auth", "GET", "/v3/invites", token: token)
            #expect(pending["data"]?.arrayValue?.compactMap { $0["email"]?.stringValue } == ["carol@example.com"])
            // Accepted: a member now, so another invite is a 409 too.
            try cluster.expect(409, "auth", "POST", "/v3/invites", ["email": "bob@example.com"], token: token)

            // Only admins see and revoke invites.
            let bob = try cluster.login("bob@example.com")
            try cluster.expect(403, "auth", "GET", "/v3/invites", token: bob)
            try cluster.expect(400, "auth", "DELETE", "/v3/invites/0", token: token)
        }

        // MARK: - Gateway entities as Kong validates them

        @Test(
            "issue 15, C1: unknown plugins, hosts and headers with CR/LF are refused and never reach a data plane's configuration"
        )
        func gatewayEntitiesAsKongValidatesThem() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let (token, _) = try cluster.newOrganization("ana@example.com")
            let plane = try cluster.createControlPlane("shop", token: token)
            let base = geoEntities(plane)
            try cluster.expect(
                201, "eu", "POST", "\(base)/services", ["name": "orders", "host": "o.internal"], token: token)
            let version = try geoConfigVersion(cluster, plane, token: token)
            let plugin = try cluster.call("eu", "POST", "\(base)/plugins", ["name": "stcp"], token: token)
            #expect(plugin.status == 400)
            #expect(plugin.json?["fields"]?["name"]?.stringValue?.hasPrefix("plugin 'stcp' not enabled") == true)
            for body: JSON in [
                ["paths": ["/a"], "hosts": ["a\r\nb"]],
                ["paths": ["/a"], "hosts": ["shop.*.example.com"]],
                ["paths": ["/a"], "headers": ["X-Tenant": ["a\r\nX-Forged: 1"]]],
                ["paths": ["/a"], "headers": ["X\nForged": ["a"]]],
                ["paths": ["/a\r\nX: y"]],
            ] {
                let response = try cluster.call("eu", "POST", "\(base)/services/orders/routes", body, token: token)
                #expect(response.status == 400, "\(body.text): \(response.status) \(response.text)")
            }
            try cluster.expect(
                201, "eu", "POST", "\(base)/services/orders/routes",
                [
                    "paths": ["/a"], "hosts": ["*.example.com", "shop.example.com:8080"],
                    "headers": ["X-Tenant": ["a"]],
                ],
                token: token)
            try cluster.expect(201, "eu", "POST", "\(base)/plugins", ["name": "rate-limiting"], token: token)
            #expect(try geoConfigVersion(cluster, plane, token: token) == version + 2)
        }

        // MARK: - Hardening

        @Test("issue 15: databases and every file a node writes are 0600; the run directory and node directories 0700")
        func filesAndDirectoriesArePrivate() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let (token, _) = try cluster.newOrganization("ana@example.com")
            let plane = try cluster.createControlPlane("shop", token: token)
            try cluster.expect(
                201, "eu", "POST", "\(geoEntities(plane))/services", ["name": "s", "host": "h.internal"], token: token)
            try cluster.cluster.startDataPlane(name: "dp1", geo: "eu", controlPlane: "shop")
            try cluster.waitUntil("dp1 is synced") { (try cluster.dataPlaneStatus("dp1"))["state"] == "synced" }
            func mode(_ path: String) -> mode_t? {
                var info = stat()
                return stat(path, &info) == 0 ? info.st_mode & 0o777 : nil
            }
            #expect(mode(cluster.directory) == 0o700, "the run directory")
            var checked: [String] = []
            for record in cluster.cluster.records {
                #expect(mode(record.directory) == 0o700, "\(record.directory)")
                for file in (try? FileManager.default.contentsOfDirectory(atPath: record.directory)) ?? [] {
                    let path = record.directory + "/" + file
                    #expect(mode(path) == 0o600, "\(path) is \(String(mode(path) ?? 0, radix: 8))")
                    checked.append(file)
                }
            }
            for name in [
                "auth.sqlite", "auth.sqlite-wal", "geo.sqlite", "usage.sqlite", "node.log", "sock", "node.json",
            ] {
                #expect(checked.contains(name), "\(name) was not checked: \(checked)")
            }
        }

        @Test("issue 15: a control plane named with a newline and terminal escapes cannot forge a line in node.log")
        func logLinesCannotBeForged() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let (token, _) = try cluster.newOrganization("ana@example.com")
            let forged = "21:30:00.000 warn FORGED the auth node was compromised"
            let created = try cluster.expect(
                201, "eu", "POST", "/v2/control-planes", ["name": .string("evil\n\(forged)\u{1b}[31m")], token: token)
            let id = try #require(created["id"]?.stringValue)
            let log = NodeFiles.log(try cluster.record("eu").directory)
            try cluster.waitUntil("the creation is logged") {
                String(decoding: readWholeFile(log) ?? [], as: UTF8.self).contains(id)
            }
            let text = String(decoding: readWholeFile(log) ?? [], as: UTF8.self)
            let lines = text.split(separator: "\n")
            #expect(!lines.contains { $0.hasPrefix(forged) }, "a forged line in node.log")
            #expect(!text.unicodeScalars.contains("\u{1b}"), "a terminal escape in node.log")
            let logged = try #require(lines.first { $0.contains(id) })
            #expect(logged.contains("evil\\n21:30:00.000 warn FORGED"), "\(logged)")
        }

        @Test(
            "issue 15: failed logins are throttled per email (429 with Retry-After, also for the right password), the same for unknown emails, reset on success"
        )
        func loginsAreThrottledPerEmail() throws {
            let cluster = try TestCluster(geos: ["eu"])
            try cluster.signup("ana@example.com")
            func login(_ email: String, _ password: String) throws -> ClientResponse {
                try cluster.call(
                    "auth", "POST", "/v3/authenticate", ["email": .string(email), "password": .string(password)])
            }
            // Four failures, then the right password: the count starts again.
            for _ in 0..<4 { #expect(try login("ana@example.com", "Wrong-Horse-42!").status == 401) }
            #expect(try login("ana@example.com", TestCluster.password).status == 200)
            for _ in 0..<5 { #expect(try login("ana@example.com", "Wrong-Horse-42!").status == 401) }
            // The sixth attempt is refused, whatever the password, without saying whether it was right.
            for password in ["Wrong-Horse-42!", TestCluster.password] {
                let refused = try login("ANA@example.com", password)
                #expect(refused.status == 429, "\(refused.text)")
                let retryAfter = try #require(refused.headers["retry-after"].flatMap { Int($0) })
                #expect((1...30).contains(retryAfter))
                #expect(refused.json?["retry_after"]?.intValue == Int64(retryAfter))
            }
            // An email without an account is throttled exactly alike.
            for _ in 0..<5 { #expect(try login("ghost@example.com", "Wrong-Horse-42!").status == 401) }
            let ghost = try login("ghost@example.com", "Wrong-Horse-42!")
            #expect(ghost.status == 429)
            #expect(ghost.json?["title"] == "Too Many Requests")
            #expect(
                ghost.json?["detail"]?.stringValue?.hasPrefix(
                    "Too many failed logins for this email or from this client") == true)
            // Other emails log in as usual.
            try cluster.signup("bob@example.com", organization: "Bobco")
            #expect(try login("bob@example.com", TestCluster.password).status == 200)
        }

        @Test("issue 15: failed logins are throttled per client: 50 failures over many emails refuse that client only")
        func loginsAreThrottledPerClient() throws {
            let cluster = try TestCluster(geos: ["eu"])
            try cluster.signup("ana@example.com")
            for index in 0..<50 {
                let response = try cluster.call(
                    "auth", "POST", "/v3/authenticate",
                    ["email": .string("guess\(index)@example.com"), "password": "Wrong-Horse-42!"])
                #expect(response.status == 401, "attempt \(index): \(response.status)")
            }
            let refused = try cluster.call(
                "auth", "POST", "/v3/authenticate",
                ["email": "ana@example.com", "password": .string(TestCluster.password)])
            #expect(refused.status == 429)
            #expect(refused.headers["retry-after"].flatMap { Int($0) }.map { (1...60).contains($0) } == true)
            // Another client (the Unix socket) is not refused.
            let other = try cluster.unix("auth").json(
                "POST", "/v3/authenticate", ["email": "ana@example.com", "password": .string(TestCluster.password)])
            #expect(other.status == 200)
        }

        @Test("issue 15: an 80,000-member object on the unauthenticated signup is refused at once, with a small answer")
        func hugeObjectsAreRefusedCheaply() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let members = (0..<80_000).map { "\"k\($0)\":1" }.joined(separator: ",")
            let response = try cluster.tcp("auth").send(
                "POST", "/v3/signup", headers: ["Content-Type": "application/json"], body: Array("{\(members)}".utf8))
            #expect(response.status == 400)
            #expect(response.body.count < 2048, "an answer of \(response.body.count) bytes")
            #expect(response.text.contains("more than 1024 members"), "\(response.text)")
            // One member too many for an object the API reads field by field: each unknown one named, 50 at most.
            let unknown = (0..<200).map { "\"k\($0)\":1" }.joined(separator: ",")
            let listed = try cluster.tcp("auth").send(
                "POST", "/v3/signup", headers: ["Content-Type": "application/json"], body: Array("{\(unknown)}".utf8))
            #expect(listed.status == 400)
            #expect(listed.json?["invalid_parameters"]?.arrayValue?.count == 50)
        }
    }
}

/// identity-v3: "A maximum of 10 personal access tokens can be created."
enum AccessTokenLimit {
    static let value = 10
}
