import Foundation
import KonnectCluster
import KonnectCore
import KonnectHTTP
import KonnectNodes
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension ProcessTests {
    /// Geo-specific objects (issue 3): control planes, gateway entities and Dev Portals, isolated per geo
    /// and per organization (T3, C1), durable and safe under concurrent writers.
    @Suite struct GeoObjects {
        // MARK: - Control planes

        @Test("C1: control plane create, read, update and delete with the spec's fields")
        func controlPlaneCRUD() throws {
            let cluster = try TestCluster()
            let (token, _) = try cluster.newOrganization("ana@example.com")
            let created = try cluster.expect(
                201, "eu", "POST", "/v2/control-planes",
                [
                    "name": "k8s-prod", "description": "production ingress", "labels": ["env": "prod", "team": "core"],
                    "cluster_type": "CLUSTER_TYPE_K8S_INGRESS_CONTROLLER", "auth_type": "pki_client_certs",
                ], token: token)
            let id = try #require(created["id"]?.stringValue)
            #expect(isCanonicalUUID(id))
            #expect(created["name"]?.stringValue == "k8s-prod")
            #expect(created["description"]?.stringValue == "production ingress")
            #expect(created["labels"] == ["env": "prod", "team": "core"])
            #expect(created["config"]?["cluster_type"]?.stringValue == "CLUSTER_TYPE_K8S_INGRESS_CONTROLLER")
            #expect(created["config"]?["auth_type"]?.stringValue == "pki_client_certs")
            // control_plane_endpoint names where this geo serves data planes.
            let euSocket = NodeFiles.socket(try cluster.record("eu").directory)
            #expect(
                created["config"]?["control_plane_endpoint"]?.stringValue?.contains(euSocket) == true, "\(created.text)"
            )
            #expect(created["config"]?["telemetry_endpoint"]?.stringValue?.isEmpty == false)
            #expect(created["created_at"]?.stringValue == "2026-01-01T00:00:00Z")
            #expect(created["updated_at"]?.stringValue == "2026-01-01T00:00:00Z")
            #expect(try cluster.expect(200, "eu", "GET", "/v2/control-planes/\(id)", token: token) == created)

            // Defaults: a plain hybrid control plane with pinned certificates.
            let plain = try cluster.expect(201, "eu", "POST", "/v2/control-planes", ["name": "plain"], token: token)
            #expect(plain["config"]?["cluster_type"]?.stringValue == "CLUSTER_TYPE_CONTROL_PLANE")
            #expect(plain["config"]?["auth_type"]?.stringValue == "pinned_client_certs")
            #expect(plain["labels"] == [:])
            #expect(plain["description"]?.stringValue == "")

            try cluster.advance("2h")
            let patched = try cluster.expect(
                200, "eu", "PATCH", "/v2/control-planes/\(id)",
                [
                    "name": "k8s-production", "description": "renamed", "labels": ["env": "production"],
                ], token: token)
            #expect(patched["id"]?.stringValue == id)
            #expect(patched["name"]?.stringValue == "k8s-production")
            #expect(patched["description"]?.stringValue == "renamed")
            #expect(patched["labels"] == ["env": "production"])
            #expect(patched["config"]?["cluster_type"] == created["config"]?["cluster_type"])
            #expect(patched["created_at"] == created["created_at"])
            #expect(patched["updated_at"]?.stringValue == "2026-01-01T02:00:00Z")
            #expect(try cluster.expect(200, "eu", "GET", "/v2/control-planes/\(id)", token: token) == patched)

            try cluster.expect(204, "eu", "DELETE", "/v2/control-planes/\(id)", token: token)
            try cluster.expect(404, "eu", "GET", "/v2/control-planes/\(id)", token: token)
            try cluster.expect(404, "eu", "DELETE", "/v2/control-planes/\(id)", token: token)
            let list = try cluster.expect(200, "eu", "GET", "/v2/control-planes", token: token)
            #expect(list["data"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["plain"])
        }

        @Test("C1: a control plane name is unique per organization within a geo (409)")
        func controlPlaneNameUniqueness() throws {
            let cluster = try TestCluster()
            let (ana, _) = try cluster.newOrganization("ana@example.com")
            let (bob, _) = try cluster.newOrganization("bob@example.com", organization: "Bobco")
            let first = try cluster.createControlPlane("gateway", token: ana)
            let duplicate = try cluster.call("eu", "POST", "/v2/control-planes", ["name": "gateway"], token: ana)
            #expect(duplicate.status == 409, "\(duplicate.text)")
            #expect(duplicate.json?["status"]?.intValue == 409)
            // Same name: fine in another geo, and for another organization in the same geo.
            try cluster.expect(201, "us", "POST", "/v2/control-planes", ["name": "gateway"], token: ana)
            try cluster.expect(201, "eu", "POST", "/v2/control-planes", ["name": "gateway"], token: bob)
            // Renaming onto a taken name is a conflict too, and changes nothing.
            let other = try cluster.createControlPlane("other", token: ana)
            try cluster.expect(
                409, "eu", "PATCH", "/v2/control-planes/\(other)", ["name": "gateway", "description": "x"], token: ana)
            let unchanged = try cluster.expect(200, "eu", "GET", "/v2/control-planes/\(other)", token: ana)
            #expect(unchanged["name"]?.stringValue == "other")
            // Deleting frees the name.
            try cluster.expect(204, "eu", "DELETE", "/v2/control-planes/\(first)", token: ana)
            try cluster.expect(201, "eu", "POST", "/v2/control-planes", ["name": "gateway"], token: ana)
        }

        @Test("C1: labels follow the spec's key and value rules")
        func controlPlaneLabelRules() throws {
            let cluster = try TestCluster()
            let (token, _) = try cluster.newOrganization("ana@example.com")
            let good = try cluster.expect(
                201, "eu", "POST", "/v2/control-planes",
                [
                    "name": "labelled",
                    "labels": ["env": "prod", "team.name": "core-api_1", "k": "V.1", "app-kong": "x"],
                ], token: token)
            #expect(good["labels"]?["team.name"]?.stringValue == "core-api_1")

            let longKey = String(repeating: "k", count: 64)
            let longValue = String(repeating: "v", count: 64)
            let badLabels: [JSON] = [
                ["kong-managed": "x"], ["Konnect": "x"], ["mesh.zone": "x"], ["kic": "x"], ["_private": "x"], ["": "x"],
                [longKey: "x"], ["env": ""], ["env": " space"], ["env": "-start"], ["env": "end-"],
                ["env": .string(longValue)], ["env": 5], ["env": .null], ["env": "ünïcode"], ["env": "a b"],
            ]
            for (index, labels) in badLabels.enumerated() {
                let response = try cluster.call(
                    "eu", "POST", "/v2/control-planes", ["name": .string("bad-\(index)"), "labels": labels],
                    token: token)
                #expect(response.status == 400, "labels \(labels.text): \(response.status)")
                #expect(badInputFields(response).contains("labels"), "labels \(labels.text): \(response.text)")
            }
            var fifty = JSONObject()
            for index in 0..<50 { fifty["key\(index)"] = .string("v\(index)") }
            try cluster.expect(
                201, "eu", "POST", "/v2/control-planes", ["name": "fifty", "labels": .object(fifty)], token: token)
            fifty["key50"] = "v50"
            let tooMany = try cluster.call(
                "eu", "POST", "/v2/control-planes", ["name": "fifty-one", "labels": .object(fifty)], token: token)
            #expect(tooMany.status == 400)
            #expect(badInputFields(tooMany).contains("labels"))
            // PATCH applies the same rules, and replaces the labels when valid.
            let id = try #require(good["id"]?.stringValue)
            try cluster.expect(400, "eu", "PATCH", "/v2/control-planes/\(id)", ["labels": ["kong": "no"]], token: token)
            let patched = try cluster.expect(
                200, "eu", "PATCH", "/v2/control-planes/\(id)", ["labels": ["tier": "gold"]], token: token)
            #expect(patched["labels"] == ["tier": "gold"])
            // Nothing invalid was created.
            let names = try cluster.expect(200, "eu", "GET", "/v2/control-planes?page[size]=100", token: token)["data"]?
                .arrayValue?.compactMap { $0["name"]?.stringValue }
            #expect(Set(names ?? []) == ["labelled", "fifty"])
        }

        @Test("C1: control plane lists page with page[size]/page[number] and meta.page, filter by name and labels")
        func controlPlanePagingAndFilters() throws {
            let cluster = try TestCluster()
            let (token, _) = try cluster.newOrganization("ana@example.com")
            var ids: [String] = []
            for index in 0..<7 {
                let labels: JSON = ["env": index % 2 == 0 ? "prod" : "dev", "tier": index < 3 ? "gold" : "silver"]
                let body = try cluster.expect(
                    201, "eu", "POST", "/v2/control-planes", ["name": .string("cp-\(index)"), "labels": labels],
                    token: token)
                ids.append(body["id"]?.stringValue ?? "")
            }
            var collected: [String] = []
            for number in 1...4 {
                let page = try cluster.expect(
                    200, "eu", "GET", "/v2/control-planes?page[size]=3&page[number]=\(number)", token: token)
                let items = page["data"]?.arrayValue ?? []
                #expect(items.count == [3, 3, 1, 0][number - 1], "page \(number): \(items.count) items")
                #expect(page["meta"]?["page"] == ["number": .int(number), "size": 3, "total": 7])
                collected += items.compactMap { $0["id"]?.stringValue }
            }
            // The pages partition the whole list, in the list's own stable order.
            let defaults = try cluster.expect(200, "eu", "GET", "/v2/control-planes", token: token)
            #expect(defaults["meta"]?["page"]?["number"] == 1)
            #expect(defaults["meta"]?["page"]?["total"] == 7)
            let order = defaults["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
            #expect(Set(order) == Set(ids))
            #expect(order.count == 7)
            #expect(collected == order)
            func inListOrder(_ subset: [Int]) -> [String] { order.filter { id in subset.contains { ids[$0] == id } } }
            // page[number] uses an encoded bracket just as well.
            let encoded = try cluster.expect(
                200, "eu", "GET", "/v2/control-planes?page%5Bsize%5D=2&page%5Bnumber%5D=2", token: token)
            #expect(encoded["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == Array(order[2..<4]))

            let byName = try cluster.expect(200, "eu", "GET", "/v2/control-planes?filter[name][eq]=cp-3", token: token)
            #expect(byName["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == [ids[3]])
            #expect(byName["meta"]?["page"]?["total"] == 1)
            let noName = try cluster.expect(200, "eu", "GET", "/v2/control-planes?filter[name][eq]=cp-99", token: token)
            #expect(noName["data"]?.arrayValue?.isEmpty == true)
            let prod = try cluster.expect(200, "eu", "GET", "/v2/control-planes?labels=env:prod", token: token)
            #expect(prod["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == inListOrder([0, 2, 4, 6]))
            let prodGold = try cluster.expect(
                200, "eu", "GET", "/v2/control-planes?labels=env:prod,tier:gold", token: token)
            #expect(prodGold["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == inListOrder([0, 2]))
            let pagedFilter = try cluster.expect(
                200, "eu", "GET", "/v2/control-planes?labels=env:prod&page[size]=3&page[number]=2", token: token)
            #expect(
                pagedFilter["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == [inListOrder([0, 2, 4, 6])[3]])
            #expect(pagedFilter["meta"]?["page"]?["total"] == 4)

            for query in [
                "page[size]=0", "page[size]=101", "page[size]=abc", "page[number]=0", "page[number]=-1",
                "filter[colour][eq]=red",
            ] {
                let response = try cluster.call("eu", "GET", "/v2/control-planes?\(query)", token: token)
                #expect(response.status == 400, "\(query): \(response.status)")
                let field = String(query.prefix { $0 != "=" })
                #expect(badInputFields(response).contains(field), "\(query): \(response.text)")
            }
        }

        @Test("C1: deleting a control plane deletes its entities with it")
        func deletingControlPlaneDeletesEntities() throws {
            let cluster = try TestCluster()
            let (token, _) = try cluster.newOrganization("ana@example.com")
            let plane = try cluster.createControlPlane("doomed", token: token)
            let base = geoEntities(plane)
            let service =
                try cluster.expect(
                    201, "eu", "POST", "\(base)/services", ["name": "svc", "host": "svc.internal"], token: token)["id"]?
                .stringValue ?? ""
            try cluster.expect(
                201, "eu", "POST", "\(base)/services/\(service)/routes", ["name": "r", "paths": ["/r"]], token: token)
            try cluster.expect(201, "eu", "POST", "\(base)/plugins", ["name": "cors"], token: token)
            try cluster.expect(204, "eu", "DELETE", "/v2/control-planes/\(plane)", token: token)
            try cluster.expect(404, "eu", "GET", "\(base)/services/\(service)", token: token)
            try cluster.expect(404, "eu", "GET", "\(base)/routes", token: token)
            // A new control plane of the same name starts empty.
            let again = try cluster.createControlPlane("doomed", token: token)
            #expect(again != plane)
            for collection in ["services", "routes", "plugins", "consumers"] {
                let list = try cluster.expect(200, "eu", "GET", "\(geoEntities(again))/\(collection)", token: token)
                #expect(list["data"]?.arrayValue?.isEmpty == true, "\(collection) not empty")
            }
        }

        // MARK: - Gateway entities

        @Test("C1: services, routes, consumers and plugins in Kong's shapes, with nested paths")
        func gatewayEntitiesInKongShapes() throws {
            let cluster = try TestCluster()
            let (token, _) = try cluster.newOrganization("ana@example.com")
            let plane = try cluster.createControlPlane("gw", token: token)
            let base = geoEntities(plane)

            let fromURL = try cluster.expect(
                201, "eu", "POST", "\(base)/services",
                ["name": "orders", "url": "https://orders.internal:8443/api/v1", "tags": ["team-a"]], token: token)
            let ordersID = try #require(fromURL["id"]?.stringValue)
            #expect(isCanonicalUUID(ordersID))
            #expect(fromURL["protocol"] == "https")
            #expect(fromURL["host"] == "orders.internal")
            #expect(fromURL["port"] == 8443)
            #expect(fromURL["path"] == "/api/v1")
            #expect(fromURL["retries"] == 5)
            #expect(fromURL["connect_timeout"] == 60000)
            #expect(fromURL["write_timeout"] == 60000)
            #expect(fromURL["read_timeout"] == 60000)
            #expect(fromURL["enabled"] == true)
            #expect(fromURL["tags"] == ["team-a"])
            let created = try #require(fromURL["created_at"]?.intValue)
            #expect(created == SimTime.defaultStart.seconds)
            #expect(fromURL["updated_at"]?.intValue == created)

            let fromParts = try cluster.expect(
                201, "eu", "POST", "\(base)/services",
                ["name": "users", "host": "users.internal", "retries": 2, "read_timeout": 5000], token: token)
            let usersID = try #require(fromParts["id"]?.stringValue)
            #expect(fromParts["protocol"] == "http")
            #expect(fromParts["port"] == 80)
            #expect(fromParts["path"] == .null)
            #expect(fromParts["retries"] == 2)
            #expect(fromParts["read_timeout"] == 5000)
            #expect(fromParts["tags"] == .null)
            let both = try cluster.call(
                "eu", "POST", "\(base)/services", ["url": "http://a.internal", "host": "b.internal"], token: token)
            #expect(both.status == 400)
            #expect(both.json?["message"]?.stringValue?.isEmpty == false)
            #expect(both.json?["status"] == 400)
            #expect(both.json?["fields"]?["host"] != nil)

            // Routes: top level with a reference, and nested under a service (by id and by name).
            let route = try cluster.expect(
                201, "eu", "POST", "\(base)/routes",
                ["name": "orders-route", "paths": ["/orders"], "service": ["id": .string(ordersID)]], token: token)
            #expect(route["service"] == ["id": .string(ordersID)])
            #expect(route["protocols"] == ["http", "https"])
            #expect(route["strip_path"] == true)
            #expect(route["preserve_host"] == false)
            #expect(route["methods"] == .null)
            #expect(route["hosts"] == .null)
            let nested = try cluster.expect(
                201, "eu", "POST", "\(base)/services/\(usersID)/routes",
                [
                    "name": "users-get", "paths": ["/users"], "methods": ["GET"], "hosts": ["api.example.com"],
                    "strip_path": false,
                ], token: token)
            #expect(nested["service"] == ["id": .string(usersID)])
            #expect(nested["methods"] == ["GET"])
            #expect(nested["strip_path"] == false)
            let byName = try cluster.expect(
                201, "eu", "POST", "\(base)/services/users/routes",
                ["name": "users-post", "paths": ["/users"], "methods": ["POST"]], token: token)
            #expect(byName["service"] == ["id": .string(usersID)])
            let byReferenceName = try cluster.expect(
                201, "eu", "POST", "\(base)/routes",
                ["name": "by-ref-name", "paths": ["/x"], "service": ["name": "orders"]], token: token)
            #expect(byReferenceName["service"] == ["id": .string(ordersID)])
            let usersRoutes = try cluster.expect(200, "eu", "GET", "\(base)/services/\(usersID)/routes", token: token)
            #expect(
                Set(usersRoutes["data"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []) == [
                    "users-get", "users-post",
                ])
            #expect(
                try cluster.expect(200, "eu", "GET", "\(base)/routes", token: token)["data"]?.arrayValue?.count == 4)
            let routeID = try #require(route["id"]?.stringValue)
            // A route read through another service's path does not exist there.
            try cluster.expect(404, "eu", "GET", "\(base)/services/\(usersID)/routes/\(routeID)", token: token)
            try cluster.expect(200, "eu", "GET", "\(base)/services/\(ordersID)/routes/\(routeID)", token: token)
            try cluster.expect(200, "eu", "GET", "\(base)/services/orders", token: token)
            try cluster.expect(200, "eu", "GET", "\(base)/routes/orders-route", token: token)

            // Consumers and plugins (top level and nested under a service, a route and a consumer).
            let consumer = try cluster.expect(
                201, "eu", "POST", "\(base)/consumers", ["username": "alice", "custom_id": "c-1"], token: token)
            let consumerID = try #require(consumer["id"]?.stringValue)
            #expect(consumer["username"] == "alice")
            try cluster.expect(409, "eu", "POST", "\(base)/consumers", ["username": "alice"], token: token)
            let global = try cluster.expect(
                201, "eu", "POST", "\(base)/plugins", ["name": "cors", "config": ["origins": ["*"]]], token: token)
            #expect(global["service"] == .null)
            #expect(global["enabled"] == true)
            #expect(global["config"] == ["origins": ["*"]])
            #expect(global["protocols"] == ["grpc", "grpcs", "http", "https"])
            let onService = try cluster.expect(
                201, "eu", "POST", "\(base)/services/\(ordersID)/plugins",
                ["name": "rate-limiting", "config": ["minute": 5]], token: token)
            #expect(onService["service"] == ["id": .string(ordersID)])
            let onRoute = try cluster.expect(
                201, "eu", "POST", "\(base)/routes/\(routeID)/plugins", ["name": "rate-limiting"], token: token)
            #expect(onRoute["route"] == ["id": .string(routeID)])
            let onConsumer = try cluster.expect(
                201, "eu", "POST", "\(base)/consumers/alice/plugins", ["name": "rate-limiting"], token: token)
            #expect(onConsumer["consumer"] == ["id": .string(consumerID)])
            // Kong: one plugin of a name per scope.
            try cluster.expect(
                409, "eu", "POST", "\(base)/services/\(ordersID)/plugins", ["name": "rate-limiting"], token: token)
            try cluster.expect(409, "eu", "POST", "\(base)/plugins", ["name": "cors"], token: token)
            #expect(
                try cluster.expect(200, "eu", "GET", "\(base)/plugins", token: token)["data"]?.arrayValue?.count == 4)
            let servicePlugins = try cluster.expect(
                200, "eu", "GET", "\(base)/services/\(ordersID)/plugins", token: token)
            #expect(
                servicePlugins["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue }
                    == [onService["id"]?.stringValue].compactMap { $0 })
            let consumerPlugins = try cluster.expect(
                200, "eu", "GET", "\(base)/consumers/\(consumerID)/plugins", token: token)
            #expect(consumerPlugins["data"]?.arrayValue?.count == 1)

            // The declarative configuration holds everything.
            let config = try cluster.expect(200, "eu", "GET", "\(base)/config", token: token)
            #expect(config["config"]?["services"]?.arrayValue?.count == 2)
            #expect(config["config"]?["routes"]?.arrayValue?.count == 4)
            #expect(config["config"]?["consumers"]?.arrayValue?.count == 1)
            #expect(config["config"]?["plugins"]?.arrayValue?.count == 4)

            // Deleting a route takes its plugins with it (Kong); DELETE of a missing entity is 204.
            try cluster.expect(204, "eu", "DELETE", "\(base)/routes/\(routeID)", token: token)
            try cluster.expect(404, "eu", "GET", "\(base)/plugins/\(onRoute["id"]?.stringValue ?? "")", token: token)
            try cluster.expect(204, "eu", "DELETE", "\(base)/routes/\(routeID)", token: token)
            let missing = try cluster.call("eu", "GET", "\(base)/routes/\(routeID)", token: token)
            #expect(missing.status == 404)
            #expect(missing.json?["message"]?.stringValue?.isEmpty == false)
            #expect(missing.json?["status"] == 404)
        }

        @Test("C1: PUT upserts by id and by name; PATCH updates part of an entity")
        func putUpsertAndPatch() throws {
            let cluster = try TestCluster()
            let (token, _) = try cluster.newOrganization("ana@example.com")
            let plane = try cluster.createControlPlane("gw", token: token)
            let base = geoEntities(plane)

            // By id: 201 the first time, 200 after, same id and created_at, full replacement.
            let id = "3f2a4b6c-8d9e-4f01-a234-56789abcdef0"
            let first = try cluster.expect(
                201, "eu", "PUT", "\(base)/services/\(id)",
                ["name": "put-by-id", "host": "one.internal", "retries": 9], token: token)
            #expect(first["id"]?.stringValue == id)
            #expect(first["retries"] == 9)
            try cluster.advance("1h")
            let second = try cluster.expect(
                200, "eu", "PUT", "\(base)/services/\(id)", ["name": "put-by-id", "host": "two.internal"], token: token)
            #expect(second["id"]?.stringValue == id)
            #expect(second["host"] == "two.internal")
            #expect(second["retries"] == 5, "PUT replaces: unspecified fields return to their defaults")
            #expect(second["created_at"] == first["created_at"])
            #expect(second["updated_at"]?.intValue == (first["created_at"]?.intValue ?? 0) + 3600)

            // By name: the name comes from the path.
            let named = try cluster.expect(
                201, "eu", "PUT", "\(base)/services/by-name", ["host": "named.internal"], token: token)
            let namedID = try #require(named["id"]?.stringValue)
            #expect(named["name"] == "by-name")
            let renamedHost = try cluster.expect(
                200, "eu", "PUT", "\(base)/services/by-name", ["name": "by-name", "host": "named2.internal"],
                token: token)
            #expect(renamedHost["id"]?.stringValue == namedID)
            #expect(renamedHost["host"] == "named2.internal")
            // Consumers upsert by username.
            let consumer = try cluster.expect(
                201, "eu", "PUT", "\(base)/consumers/bob", ["custom_id": "b-1"], token: token)
            #expect(consumer["username"] == "bob")
            try cluster.expect(
                200, "eu", "PUT", "\(base)/consumers/bob", ["username": "bob", "custom_id": "b-2"], token: token)

            // PATCH changes only what it names, by id or by name.
            let patched = try cluster.expect(
                200, "eu", "PATCH", "\(base)/services/\(namedID)", ["retries": 1, "tags": ["patched"]], token: token)
            #expect(patched["retries"] == 1)
            #expect(patched["host"] == "named2.internal")
            #expect(patched["tags"] == ["patched"])
            let byName = try cluster.expect(
                200, "eu", "PATCH", "\(base)/services/by-name", ["port": 8080], token: token)
            #expect(byName["port"] == 8080)
            #expect(byName["retries"] == 1)
            try cluster.expect(400, "eu", "PATCH", "\(base)/services/\(namedID)", ["port": 70000], token: token)
            try cluster.expect(404, "eu", "PATCH", "\(base)/services/no-such-service", ["retries": 1], token: token)
            try cluster.expect(
                404, "eu", "PATCH", "\(base)/services/00000000-0000-4000-8000-000000000000", ["retries": 1],
                token: token)
            let services = try cluster.expect(200, "eu", "GET", "\(base)/services", token: token)
            #expect(
                Set(services["data"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []) == [
                    "put-by-id", "by-name",
                ])
        }

        @Test("C1: a PUT by name keeps the entity's name from the path, so repeated PUTs replace one entity")
        func putByNameKeepsTheName() throws {
            let cluster = try TestCluster()
            let (token, _) = try cluster.newOrganization("ana@example.com")
            let plane = try cluster.createControlPlane("gw", token: token)
            let base = geoEntities(plane)
            // Kong: in PUT /services/{name}, the name in the path is the entity's name; the body need not repeat it.
            do {
                for (collection, key, field, body) in [
                    ("services", "by-name", "name", ["host": "a.internal"] as JSON),
                    ("consumers", "shared", "username", ["custom_id": "c-1"] as JSON),
                ] {
                    let created = try cluster.expect(
                        201, "eu", "PUT", "\(base)/\(collection)/\(key)", body, token: token)
                    let id = try #require(created["id"]?.stringValue)
                    #expect(created[field]?.stringValue == key)
                    let replaced = try cluster.expect(
                        200, "eu", "PUT", "\(base)/\(collection)/\(key)", body, token: token)
                    #expect(replaced["id"]?.stringValue == id)
                    #expect(
                        replaced[field]?.stringValue == key,
                        "\(collection): the second PUT dropped the \(field): \(replaced.text)")
                    let read = try cluster.call("eu", "GET", "\(base)/\(collection)/\(key)", token: token)
                    #expect(read.status == 200, "\(collection)/\(key) is no longer found by its name after a PUT")
                    let third = try cluster.call("eu", "PUT", "\(base)/\(collection)/\(key)", body, token: token)
                    #expect(
                        third.status == 200, "\(collection): a third PUT by name created another entity: \(third.text)")
                    let list = try cluster.expect(200, "eu", "GET", "\(base)/\(collection)", token: token)
                    #expect(list["data"]?.arrayValue?.count == 1, "\(collection): \(list.text)")
                }
            }
        }

        @Test("C1: Kong's list format {data, next, offset} with size and offset, and the tags filter")
        func kongListFormatAndTags() throws {
            let cluster = try TestCluster()
            let (token, _) = try cluster.newOrganization("ana@example.com")
            let plane = try cluster.createControlPlane("gw", token: token)
            let base = geoEntities(plane)
            let tags: [[String]] = [["a"], ["a", "b"], ["b"], ["c"], ["a", "c"]]
            var ids: [String] = []
            for (index, set) in tags.enumerated() {
                let body = try cluster.expect(
                    201, "eu", "POST", "\(base)/services",
                    ["name": .string("s\(index)"), "host": "h.internal", "tags": .strings(set)], token: token)
                ids.append(body["id"]?.stringValue ?? "")
            }
            // Follow `offset` until `next` is null.
            var collected: [String] = []
            var query = "size=2"
            var pages = 0
            while pages < 10 {
                let page = try cluster.expect(200, "eu", "GET", "\(base)/services?\(query)", token: token)
                pages += 1
                collected += page["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
                guard let offset = page["offset"]?.stringValue else {
                    #expect(page["next"] == .null)
                    break
                }
                #expect(page["next"]?.stringValue?.contains("offset=\(offset)") == true)
                query = "size=2&offset=\(offset)"
            }
            #expect(pages == 3)
            let all = try cluster.expect(200, "eu", "GET", "\(base)/services", token: token)
            let order = all["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
            #expect(Set(order) == Set(ids))
            #expect(order.count == 5)
            #expect(collected == order, "the pages do not partition the list in its order")
            #expect(all["next"] == .null)
            #expect(all["offset"] == nil)
            for bad in ["size=0", "size=1001", "size=x", "offset=-1"] {
                let response = try cluster.call("eu", "GET", "\(base)/services?\(bad)", token: token)
                #expect(response.status == 400, "\(bad)")
                #expect(response.json?["status"] == 400)
            }

            func names(_ filter: String) throws -> Set<String> {
                Set(
                    try cluster.expect(200, "eu", "GET", "\(base)/services?tags=\(filter)", token: token)["data"]?
                        .arrayValue?.compactMap { $0["name"]?.stringValue } ?? [])
            }
            #expect(try names("a") == ["s0", "s1", "s4"])
            #expect(try names("a,b") == ["s1"])  // every tag
            #expect(try names("b/c") == ["s1", "s2", "s3", "s4"])  // any tag
            #expect(try names("zzz") == [])
            let tagged = try cluster.expect(200, "eu", "GET", "\(base)/services?tags=a&size=2", token: token)
            #expect(tagged["data"]?.arrayValue?.count == 2)
            #expect(tagged["offset"]?.stringValue != nil)
        }

        @Test("C1: following `next` of a filtered list continues the same filtered list")
        func nextKeepsTheFilter() throws {
            let cluster = try TestCluster()
            let (token, _) = try cluster.newOrganization("ana@example.com")
            let plane = try cluster.createControlPlane("gw", token: token)
            let base = geoEntities(plane)
            for index in 0..<6 {
                let tags: JSON = index % 2 == 0 ? ["even"] : ["odd"]
                try cluster.expect(
                    201, "eu", "POST", "\(base)/services",
                    ["name": .string("s\(index)"), "host": "h.internal", "tags": tags], token: token)
            }
            // Kong: `next` is the path to request for the following page, with the same filter.
            var names: [String] = []
            var path: String? = "\(base)/services?tags=even&size=1"
            var pages = 0
            while let current = path, pages < 10 {
                let page = try cluster.expect(200, "eu", "GET", current, token: token)
                pages += 1
                names += page["data"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
                path = page["next"]?.stringValue
            }
            // `next` keeps the request's tags (and filter[name]) parameters.
            do {
                #expect(Set(names) == ["s0", "s2", "s4"], "following next gave \(names)")
                #expect(names.count == 3)
            }
            // Passing the filter again with the returned offset does give the filtered pages.
            var manual: [String] = []
            var query = "tags=even&size=1"
            for _ in 0..<10 {
                let page = try cluster.expect(200, "eu", "GET", "\(base)/services?\(query)", token: token)
                manual += page["data"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
                guard let offset = page["offset"]?.stringValue else { break }
                query = "tags=even&size=1&offset=\(offset)"
            }
            #expect(manual.count == 3)
            #expect(Set(manual) == ["s0", "s2", "s4"])
        }

        @Test("T3: another organization's entity id reveals nothing when used to create an entity")
        func foreignEntityIDRevealsNothing() throws {
            let cluster = try TestCluster()
            let (ana, _) = try cluster.newOrganization("ana@example.com")
            let (bob, _) = try cluster.newOrganization("bob@example.com", organization: "Bobco")
            let anaPlane = try cluster.createControlPlane("ana-gw", token: ana)
            let bobPlane = try cluster.createControlPlane("bob-gw", token: bob)
            let anaService =
                try cluster.expect(
                    201, "eu", "POST", "\(geoEntities(anaPlane))/services", ["name": "secret", "host": "s.internal"],
                    token: ana)["id"]?.stringValue ?? ""
            let anaOther =
                try cluster.expect(
                    201, "eu", "POST", "\(geoEntities(anaPlane))/services", ["name": "other", "host": "o.internal"],
                    token: ana)["id"]?.stringValue ?? ""
            let fresh = "7d1c3e5a-9b2f-4c6d-8e0a-1b3c5d7e9f00"
            // Bob cannot tell Ana's id from an unused one: both behave the same in his control plane.
            do {
                let withFresh = try cluster.call(
                    "eu", "PUT", "\(geoEntities(bobPlane))/services/\(fresh)",
                    ["name": "mine-1", "host": "m.internal"], token: bob)
                let withForeign = try cluster.call(
                    "eu", "PUT", "\(geoEntities(bobPlane))/services/\(anaService)",
                    ["name": "mine-2", "host": "m.internal"], token: bob)
                #expect(withFresh.status == 201)
                #expect(
                    withForeign.status == withFresh.status,
                    "PUT with another organization's service id: \(withForeign.status) \(withForeign.text)")
                let postForeign = try cluster.call(
                    "eu", "POST", "\(geoEntities(bobPlane))/services",
                    ["id": .string(anaOther), "name": "mine-3", "host": "m.internal"], token: bob)
                #expect(
                    postForeign.status == 201,
                    "POST with another organization's service id: \(postForeign.status) \(postForeign.text)")
            }
            // Ana's service is untouched either way.
            let mine = try cluster.expect(
                200, "eu", "GET", "\(geoEntities(anaPlane))/services/\(anaService)", token: ana)
            #expect(mine["name"] == "secret")
            #expect(mine["host"] == "s.internal")
        }

        @Test(
            "C1: referential rules: a route needs an existing service of its control plane; a service with routes cannot be deleted"
        )
        func referentialRules() throws {
            let cluster = try TestCluster()
            let (token, _) = try cluster.newOrganization("ana@example.com")
            let plane = try cluster.createControlPlane("gw", token: token)
            let otherPlane = try cluster.createControlPlane("other", token: token)
            let base = geoEntities(plane)
            let foreignService =
                try cluster.expect(
                    201, "eu", "POST", "\(geoEntities(otherPlane))/services",
                    ["name": "foreign", "host": "f.internal"], token: token)["id"]?.stringValue ?? ""
            let versionBefore = try geoConfigVersion(cluster, plane, token: token)

            for reference: JSON in [
                ["id": "00000000-0000-4000-8000-000000000000"], ["name": "ghost"], ["id": .string(foreignService)],
            ] {
                let response = try cluster.call(
                    "eu", "POST", "\(base)/routes", ["name": "r", "paths": ["/r"], "service": reference], token: token)
                #expect(response.status == 400, "\(reference.text): \(response.status)")
                #expect(response.json?["message"]?.stringValue?.isEmpty == false)
                #expect(response.json?["status"] == 400)
            }
            try cluster.expect(
                404, "eu", "POST", "\(base)/services/00000000-0000-4000-8000-000000000000/routes", ["paths": ["/r"]],
                token: token)
            try cluster.expect(
                400, "eu", "POST", "\(base)/plugins",
                ["name": "acl", "consumer": ["id": "00000000-0000-4000-8000-000000000000"]], token: token)
            #expect(
                try cluster.expect(200, "eu", "GET", "\(base)/routes", token: token)["data"]?.arrayValue?.isEmpty
                    == true)
            #expect(
                try geoConfigVersion(cluster, plane, token: token) == versionBefore,
                "a rejected write produced a configuration version")

            let service =
                try cluster.expect(
                    201, "eu", "POST", "\(base)/services", ["name": "svc", "host": "svc.internal"], token: token)["id"]?
                .stringValue ?? ""
            let route =
                try cluster.expect(
                    201, "eu", "POST", "\(base)/routes",
                    ["name": "r", "paths": ["/r"], "service": ["id": .string(service)]], token: token)["id"]?
                .stringValue ?? ""
            let refused = try cluster.call("eu", "DELETE", "\(base)/services/\(service)", token: token)
            #expect(refused.status == 400, "\(refused.text)")
            #expect(refused.json?["message"]?.stringValue?.contains("routes") == true)
            try cluster.expect(200, "eu", "GET", "\(base)/services/\(service)", token: token)
            try cluster.expect(204, "eu", "DELETE", "\(base)/routes/\(route)", token: token)
            try cluster.expect(204, "eu", "DELETE", "\(base)/services/\(service)", token: token)
            try cluster.expect(404, "eu", "GET", "\(base)/services/\(service)", token: token)
        }

        @Test("C1: every change produces a new configuration version and a new expected-config-hash")
        func configVersionAndHashChangeWithEveryChange() throws {
            let cluster = try TestCluster()
            let (token, _) = try cluster.newOrganization("ana@example.com")
            let plane = try cluster.createControlPlane("gw", token: token)
            let base = geoEntities(plane)
            var version = try geoConfigVersion(cluster, plane, token: token)
            var hash = try geoConfigHash(cluster, plane, token: token)
            #expect(!hash.isEmpty)
            let emptyHash = hash

            var serviceID = ""
            var routeID = ""
            var pluginID = ""
            let changes: [(String, () throws -> Void)] = [
                (
                    "create service",
                    {
                        serviceID =
                            try cluster.expect(
                                201, "eu", "POST", "\(base)/services", ["name": "svc", "host": "svc.internal"],
                                token: token)["id"]?.stringValue ?? ""
                    }
                ),
                (
                    "patch service",
                    {
                        try cluster.expect(
                            200, "eu", "PATCH", "\(base)/services/\(serviceID)", ["retries": 3], token: token)
                    }
                ),
                (
                    "put service",
                    {
                        try cluster.expect(
                            200, "eu", "PUT", "\(base)/services/\(serviceID)",
                            ["name": "svc", "host": "svc2.internal"], token: token)
                    }
                ),
                (
                    "create route",
                    {
                        routeID =
                            try cluster.expect(
                                201, "eu", "POST", "\(base)/services/\(serviceID)/routes", ["paths": ["/a"]],
                                token: token)["id"]?.stringValue ?? ""
                    }
                ),
                (
                    "create consumer",
                    {
                        try cluster.expect(
                            201, "eu", "PUT", "\(base)/consumers/carol", ["custom_id": "c"], token: token)
                    }
                ),
                (
                    "create plugin",
                    {
                        pluginID =
                            try cluster.expect(201, "eu", "POST", "\(base)/plugins", ["name": "cors"], token: token)[
                                "id"]?.stringValue ?? ""
                    }
                ),
                (
                    "disable plugin",
                    {
                        try cluster.expect(
                            200, "eu", "PATCH", "\(base)/plugins/\(pluginID)", ["enabled": false], token: token)
                    }
                ),
                (
                    "delete plugin",
                    { try cluster.expect(204, "eu", "DELETE", "\(base)/plugins/\(pluginID)", token: token) }
                ),
                (
                    "delete route",
                    { try cluster.expect(204, "eu", "DELETE", "\(base)/routes/\(routeID)", token: token) }
                ),
                (
                    "delete consumer",
                    { try cluster.expect(204, "eu", "DELETE", "\(base)/consumers/carol", token: token) }
                ),
                (
                    "delete service",
                    { try cluster.expect(204, "eu", "DELETE", "\(base)/services/\(serviceID)", token: token) }
                ),
            ]
            for (label, change) in changes {
                try change()
                let newVersion = try geoConfigVersion(cluster, plane, token: token)
                let newHash = try geoConfigHash(cluster, plane, token: token)
                #expect(newVersion == version + 1, "\(label): version \(version) -> \(newVersion)")
                #expect(newHash != hash, "\(label): the hash did not change")
                let config = try cluster.expect(200, "eu", "GET", "\(base)/config", token: token)
                #expect(config["version"]?.intValue == Int64(newVersion))
                #expect(config["hash"]?.stringValue == newHash)
                version = newVersion
                hash = newHash
            }
            // The spec's shape: expected_hash with integer created_at and updated_at; updated_at follows the calendar.
            let before = try cluster.expect(
                200, "eu", "GET", "/v2/control-planes/\(plane)/expected-config-hash", token: token)
            #expect(before["created_at"]?.intValue == SimTime.defaultStart.seconds)
            let updatedBefore = try #require(before["updated_at"]?.intValue)
            try cluster.advance("1h")
            try cluster.expect(201, "eu", "POST", "\(base)/consumers", ["username": "late"], token: token)
            let after = try cluster.expect(
                200, "eu", "GET", "/v2/control-planes/\(plane)/expected-config-hash", token: token)
            #expect(after["updated_at"]?.intValue == updatedBefore + 3600)
            #expect(after["created_at"] == before["created_at"])
            try cluster.expect(204, "eu", "DELETE", "\(base)/consumers/late", token: token)
            version += 2
            hash = try geoConfigHash(cluster, plane, token: token)
            #expect(try geoConfigVersion(cluster, plane, token: token) == version)
            // Back to an empty configuration: the hash of the content is the empty one again.
            #expect(hash == emptyHash)
            // Reads and rejected writes change nothing.
            try cluster.expect(200, "eu", "GET", "\(base)/services", token: token)
            try cluster.expect(400, "eu", "POST", "\(base)/services", ["host": 5], token: token)
            try cluster.expect(204, "eu", "DELETE", "\(base)/services/never-existed", token: token)
            #expect(try geoConfigVersion(cluster, plane, token: token) == version)
        }

        // MARK: - Isolation

        @Test("T3: an id from another geo or another organization is 404, never 403")
        func crossGeoAndCrossOrganizationAre404() throws {
            let cluster = try TestCluster()
            let (ana, _) = try cluster.newOrganization("ana@example.com")
            let euPlane = try cluster.createControlPlane("eu-plane", geo: "eu", token: ana)
            let usPlane = try cluster.createControlPlane("us-plane", geo: "us", token: ana)
            let euService =
                try cluster.expect(
                    201, "eu", "POST", "\(geoEntities(euPlane))/services", ["name": "svc", "host": "svc.internal"],
                    token: ana)["id"]?.stringValue ?? ""
            let euPortal =
                try cluster.expect(201, "eu", "POST", "/v2/portals", ["name": "eu-portal"], token: ana)["id"]?
                .stringValue ?? ""

            // The same organization asking the wrong geo.
            let euPaths = [
                "/v2/control-planes/\(euPlane)", "/v2/control-planes/\(euPlane)/expected-config-hash",
                "\(geoEntities(euPlane))/services",
                "\(geoEntities(euPlane))/services/\(euService)", "/v2/portals/\(euPortal)",
            ]
            for path in euPaths {
                let response = try cluster.call("us", "GET", path, token: ana)
                #expect(response.status == 404, "us GET \(path): \(response.status)")
            }
            try cluster.expect(404, "us", "PATCH", "/v2/control-planes/\(euPlane)", ["description": "x"], token: ana)
            try cluster.expect(404, "us", "DELETE", "/v2/control-planes/\(euPlane)", token: ana)
            try cluster.expect(404, "us", "DELETE", "/v2/portals/\(euPortal)", token: ana)
            try cluster.expect(404, "us", "GET", "\(geoEntities(usPlane))/services/\(euService)", token: ana)
            try cluster.expect(
                404, "us", "POST", "\(geoEntities(euPlane))/services", ["host": "x.internal"], token: ana)
            #expect(
                try cluster.expect(200, "us", "GET", "/v2/control-planes", token: ana)["data"]?.arrayValue?.compactMap {
                    $0["id"]?.stringValue
                } == [usPlane])
            #expect(
                try cluster.expect(200, "us", "GET", "/v2/portals", token: ana)["data"]?.arrayValue?.isEmpty == true)

            // Another organization in the same geo: its Organization Admin gets 404 for every object of Ana's.
            let (bob, _) = try cluster.newOrganization("bob@example.com", organization: "Bobco")
            for path in euPaths {
                let response = try cluster.call("eu", "GET", path, token: bob)
                #expect(response.status == 404, "other organization GET \(path): \(response.status)")
            }
            try cluster.expect(404, "eu", "PATCH", "/v2/control-planes/\(euPlane)", ["description": "x"], token: bob)
            try cluster.expect(404, "eu", "DELETE", "/v2/control-planes/\(euPlane)", token: bob)
            try cluster.expect(
                404, "eu", "PATCH", "\(geoEntities(euPlane))/services/\(euService)", ["retries": 1], token: bob)
            try cluster.expect(404, "eu", "DELETE", "\(geoEntities(euPlane))/services/\(euService)", token: bob)
            try cluster.expect(404, "eu", "PATCH", "/v2/portals/\(euPortal)", ["description": "x"], token: bob)
            try cluster.expect(404, "eu", "DELETE", "/v2/portals/\(euPortal)", token: bob)
            // A member of that organization without any role: control planes are 404 like for its admin; for
            // every path the answer is the same as for an id that exists nowhere, so existence does not leak.
            let bobMember = try cluster.identityAddMember("bea@example.com", adminToken: bob)
            for path in euPaths.prefix(4) {
                #expect(
                    try cluster.call("eu", "GET", path, token: bobMember.token).status == 404,
                    "role-less member GET \(path)")
            }
            let nowhere = "00000000-0000-4000-8000-000000000000"
            for (path, twin) in [
                ("/v2/control-planes/\(euPlane)", "/v2/control-planes/\(nowhere)"),
                ("/v2/portals/\(euPortal)", "/v2/portals/\(nowhere)"),
                ("\(geoEntities(euPlane))/services/\(euService)", "\(geoEntities(nowhere))/services/\(euService)"),
            ] {
                let existing = try cluster.call("eu", "GET", path, token: bobMember.token)
                let missing = try cluster.call("eu", "GET", twin, token: bobMember.token)
                #expect(!existing.isSuccess)
                #expect(
                    existing.status == missing.status,
                    "\(path): \(existing.status) but \(missing.status) for an id that exists nowhere")
            }
            // Ana's objects are intact.
            #expect(
                try cluster.expect(200, "eu", "GET", "/v2/control-planes/\(euPlane)", token: ana)["description"] == "")
            #expect(
                try cluster.expect(200, "eu", "GET", "\(geoEntities(euPlane))/services/\(euService)", token: ana)[
                    "retries"] == 5)
            try cluster.expect(200, "eu", "GET", "/v2/portals/\(euPortal)", token: ana)
        }

        // MARK: - Durability

        @Test("issue 3: every 2xx write is durable: kill -9 right after the answer, restart, the object is there")
        func writesSurviveKillMinusNine() throws {
            let cluster = try TestCluster()
            let (token, _) = try cluster.newOrganization("ana@example.com")
            let plane = try cluster.createControlPlane("durable", token: token)
            try cluster.cluster.kill("eu")
            try cluster.cluster.restart("eu")
            #expect(
                try cluster.expect(200, "eu", "GET", "/v2/control-planes/\(plane)", token: token)["name"] == "durable")

            let base = geoEntities(plane)
            let service =
                try cluster.expect(
                    201, "eu", "POST", "\(base)/services", ["name": "svc", "host": "svc.internal"], token: token)["id"]?
                .stringValue ?? ""
            try cluster.expect(
                201, "eu", "POST", "\(base)/services/\(service)/routes", ["name": "r", "paths": ["/r"]], token: token)
            try cluster.expect(200, "eu", "PATCH", "\(base)/services/\(service)", ["retries": 7], token: token)
            let portal =
                try cluster.expect(201, "eu", "POST", "/v2/portals", ["name": "docs"], token: token)["id"]?.stringValue
                ?? ""
            let version = try geoConfigVersion(cluster, plane, token: token)
            let hash = try geoConfigHash(cluster, plane, token: token)
            let ephemeral = try cluster.createControlPlane("ephemeral", token: token)
            try cluster.expect(204, "eu", "DELETE", "/v2/control-planes/\(ephemeral)", token: token)
            try cluster.cluster.kill("eu")
            try cluster.cluster.restart("eu")
            #expect(try cluster.expect(200, "eu", "GET", "\(base)/services/\(service)", token: token)["retries"] == 7)
            #expect(
                try cluster.expect(200, "eu", "GET", "\(base)/routes/r", token: token)["service"] == [
                    "id": .string(service)
                ])
            try cluster.expect(200, "eu", "GET", "/v2/portals/\(portal)", token: token)
            #expect(try geoConfigVersion(cluster, plane, token: token) == version)
            #expect(try geoConfigHash(cluster, plane, token: token) == hash)
            #expect(
                try cluster.expect(200, "eu", "GET", "/v2/control-planes", token: token)["data"]?.arrayValue?.compactMap
                { $0["name"]?.stringValue } == ["durable"])

            // The auth node too: a signup acknowledged just before kill -9 can log in after the restart.
            try cluster.signup("late@example.com", organization: "Late")
            try cluster.cluster.kill("auth")
            try cluster.cluster.restart("auth")
            let late = try cluster.login("late@example.com")
            try cluster.expect(200, "eu", "GET", "/v2/whoami", token: late)
        }

        // MARK: - Concurrency

        @Test("issue 3: 8 concurrent writers creating services lose nothing")
        func eightConcurrentWriters() throws {
            let cluster = try TestCluster()
            let (token, _) = try cluster.newOrganization("ana@example.com")
            let plane = try cluster.createControlPlane("busy", token: token)
            let port = try cluster.tcp("eu")
            let path = "\(geoEntities(plane))/services"
            let perWriter = 12
            let outcomes = GeoConcurrent.run(8) { writer in
                let client = geoWriterClient(port)
                return (0..<perWriter).map { index in
                    geoPost(
                        client, path, ["name": .string("w\(writer)-s\(index)"), "host": "h.internal"], token: token)
                }
            }
            let all = outcomes.flatMap { $0 }
            #expect(
                all.filter { $0.status == 201 }.count == 8 * perWriter, "\(all.filter { $0.status != 201 }.prefix(5))")
            let list = try cluster.expect(200, "eu", "GET", "\(path)?size=1000", token: token)
            let names = list["data"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
            let expected = Set((0..<8).flatMap { writer in (0..<perWriter).map { "w\(writer)-s\($0)" } })
            #expect(names.count == expected.count)
            #expect(Set(names) == expected)
            #expect(Set(all.compactMap(\.id)).count == expected.count)
            // One configuration version per write, none lost.
            #expect(try geoConfigVersion(cluster, plane, token: token) == 1 + expected.count)

            // Control planes too.
            let planes = GeoConcurrent.run(8) { writer in
                geoPost(geoWriterClient(port), "/v2/control-planes", ["name": .string("cp-\(writer)")], token: token)
            }
            #expect(planes.allSatisfy { $0.status == 201 })
            #expect(
                try cluster.expect(200, "eu", "GET", "/v2/control-planes?page[size]=100", token: token)["meta"]?[
                    "page"]?["total"] == 9)
        }

        @Test("issue 3: concurrent creates of the same name yield exactly one 201")
        func concurrentSameNameCreates() throws {
            let cluster = try TestCluster()
            let (token, _) = try cluster.newOrganization("ana@example.com")
            let plane = try cluster.createControlPlane("contended", token: token)
            let port = try cluster.tcp("eu")
            let base = geoEntities(plane)

            let services = GeoConcurrent.run(8) { _ in
                geoPost(geoWriterClient(port), "\(base)/services", ["name": "dup", "host": "h.internal"], token: token)
            }
            #expect(services.filter { $0.status == 201 }.count == 1, "\(services.map(\.status))")
            #expect(services.filter { $0.status == 409 }.count == 7, "\(services.map(\.status))")
            #expect(
                try cluster.expect(200, "eu", "GET", "\(base)/services?filter[name][eq]=dup", token: token)["data"]?
                    .arrayValue?.count == 1)
            #expect(
                try cluster.expect(200, "eu", "GET", "\(base)/services", token: token)["data"]?.arrayValue?.count == 1)

            let planes = GeoConcurrent.run(8) { _ in
                geoPost(geoWriterClient(port), "/v2/control-planes", ["name": "same-plane"], token: token)
            }
            #expect(planes.filter { $0.status == 201 }.count == 1, "\(planes.map(\.status))")
            #expect(planes.filter { $0.status == 409 }.count == 7, "\(planes.map(\.status))")
            #expect(
                try cluster.expect(200, "eu", "GET", "/v2/control-planes?filter[name][eq]=same-plane", token: token)[
                    "data"]?.arrayValue?.count == 1)

            let portals = GeoConcurrent.run(8) { _ in
                geoPost(geoWriterClient(port), "/v2/portals", ["name": "same-portal"], token: token)
            }
            #expect(portals.filter { $0.status == 201 }.count == 1, "\(portals.map(\.status))")
            #expect(portals.filter { $0.status == 409 }.count == 7, "\(portals.map(\.status))")

            // PUT by name: one creates, the others replace the same entity.
            let upserts = GeoConcurrent.run(8) { writer in
                geoSend(
                    geoWriterClient(port), "PUT", "\(base)/consumers/shared",
                    ["username": "shared", "custom_id": .string("writer-\(writer)")], token: token)
            }
            #expect(upserts.filter { $0.status == 201 }.count == 1, "\(upserts.map(\.status))")
            #expect(upserts.filter { $0.status == 200 }.count == 7, "\(upserts.map(\.status))")
            #expect(Set(upserts.compactMap(\.id)).count == 1)
            #expect(
                try cluster.expect(200, "eu", "GET", "\(base)/consumers", token: token)["data"]?.arrayValue?.count == 1)
        }

        @Test("issue 3: 50 concurrent writers lose nothing and duplicate nothing")
        func fiftyConcurrentWriters() throws {
            let cluster = try TestCluster()
            let (token, _) = try cluster.newOrganization("ana@example.com")
            let plane = try cluster.createControlPlane("crowded", token: token)
            let port = try cluster.tcp("eu")
            let path = "\(geoEntities(plane))/services"
            let outcomes = GeoConcurrent.run(50) { writer in
                let client = geoWriterClient(port)
                return (0..<2).map { index in
                    geoPost(client, path, ["name": .string("w\(writer)-\(index)"), "host": "h.internal"], token: token)
                }
            }
            let all = outcomes.flatMap { $0 }
            #expect(all.count == 100)
            #expect(all.allSatisfy { $0.status == 201 }, "\(all.filter { $0.status != 201 }.prefix(5))")
            let list = try cluster.expect(200, "eu", "GET", "\(path)?size=1000", token: token)
            let names = list["data"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
            #expect(names.count == 100)
            #expect(Set(names).count == 100)
            #expect(Set(all.compactMap(\.id)).count == 100)
            #expect(try geoConfigVersion(cluster, plane, token: token) == 101)
            let config = try cluster.expect(200, "eu", "GET", "\(geoEntities(plane))/config", token: token)
            #expect(config["config"]?["services"]?.arrayValue?.count == 100)
            #expect(config["hash"]?.stringValue == (try geoConfigHash(cluster, plane, token: token)))
        }

        // MARK: - Dev Portals

        @Test("issue 3: Dev Portals: create, list, read, update, delete, per geo and organization")
        func portalsCRUD() throws {
            let cluster = try TestCluster()
            let (token, _) = try cluster.newOrganization("ana@example.com")
            let created = try cluster.expect(
                201, "eu", "POST", "/v2/portals", ["name": "developer-hub", "description": "docs", "published": false],
                token: token)
            let id = try #require(created["id"]?.stringValue)
            #expect(isCanonicalUUID(id))
            #expect(created["name"] == "developer-hub")
            #expect(created["description"] == "docs")
            #expect(created["published"] == false)
            #expect(created["geo"] == "eu")
            #expect(created["created_at"]?.stringValue == "2026-01-01T00:00:00Z")
            let second = try cluster.expect(201, "eu", "POST", "/v2/portals", ["name": "partners"], token: token)
            #expect(second["published"] == true, "published defaults to true")
            try cluster.expect(409, "eu", "POST", "/v2/portals", ["name": "developer-hub"], token: token)
            try cluster.expect(201, "us", "POST", "/v2/portals", ["name": "developer-hub"], token: token)

            let list = try cluster.expect(200, "eu", "GET", "/v2/portals", token: token)
            let listed = list["data"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
            #expect(Set(listed) == ["developer-hub", "partners"])
            #expect(list["meta"]?["page"]?["total"] == 2)
            let paged = try cluster.expect(200, "eu", "GET", "/v2/portals?page[size]=1&page[number]=2", token: token)
            #expect(paged["data"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == Array(listed.suffix(1)))
            #expect(try cluster.expect(200, "eu", "GET", "/v2/portals/\(id)", token: token) == created)

            let updated = try cluster.expect(
                200, "eu", "PATCH", "/v2/portals/\(id)", ["published": true, "description": "public docs"], token: token
            )
            #expect(updated["published"] == true)
            #expect(updated["description"] == "public docs")
            #expect(updated["name"] == "developer-hub")
            try cluster.expect(409, "eu", "PATCH", "/v2/portals/\(id)", ["name": "partners"], token: token)
            try cluster.expect(400, "eu", "PATCH", "/v2/portals/\(id)", ["colour": "red"], token: token)
            try cluster.expect(400, "eu", "POST", "/v2/portals", ["name": ""], token: token)

            try cluster.expect(204, "eu", "DELETE", "/v2/portals/\(id)", token: token)
            try cluster.expect(404, "eu", "GET", "/v2/portals/\(id)", token: token)
            try cluster.expect(404, "eu", "DELETE", "/v2/portals/\(id)", token: token)
            #expect(
                try cluster.expect(200, "eu", "GET", "/v2/portals", token: token)["data"]?.arrayValue?.compactMap {
                    $0["name"]?.stringValue
                } == ["partners"])
            // The us portal of the same name is a different object, untouched.
            #expect(
                try cluster.expect(200, "us", "GET", "/v2/portals", token: token)["data"]?.arrayValue?.compactMap {
                    $0["name"]?.stringValue
                } == ["developer-hub"])
        }
    }
}

// MARK: - Helpers for geo object tests

func geoEntities(_ controlPlane: String) -> String { "/v2/control-planes/\(controlPlane)/core-entities" }

func geoConfigVersion(_ cluster: TestCluster, _ controlPlane: String, geo: String = "eu", token: String) throws -> Int {
    let body = try cluster.expect(
        200, geo, "GET", "/v2/control-planes/\(controlPlane)/expected-config-version", token: token)
    guard let text = body["expected_config_version"]?.stringValue, let version = Int(text) else {
        throw ProcessTestFailure(message: "no expected_config_version in \(body.text)")
    }
    return version
}

func geoConfigHash(_ cluster: TestCluster, _ controlPlane: String, geo: String = "eu", token: String) throws -> String {
    let body = try cluster.expect(
        200, geo, "GET", "/v2/control-planes/\(controlPlane)/expected-config-hash", token: token)
    guard let hash = body["expected_hash"]?.stringValue else {
        throw ProcessTestFailure(message: "no expected_hash in \(body.text)")
    }
    return hash
}

/// What one concurrent request got: its status, the created object's id, and the body for messages.
struct GeoWriteOutcome: Sendable, CustomStringConvertible {
    var status: Int
    var id: String?
    var text: String

    var description: String { "\(status) \(text.prefix(200))" }
}

/// A client of its own (its own connections) to the node `template` talks to, checked the same way.
func geoWriterClient(_ template: CheckedClient) -> CheckedClient {
    CheckedClient(
        client: HTTPClient(endpoint: template.endpoint, timeoutMilliseconds: 30_000), conformance: template.conformance)
}

func geoSend(_ client: CheckedClient, _ method: String, _ path: String, _ body: JSON, token: String) -> GeoWriteOutcome
{
    do {
        let response = try client.json(method, path, body, headers: ["Authorization": "Bearer \(token)"])
        return GeoWriteOutcome(
            status: response.status, id: response.isSuccess ? response.json?["id"]?.stringValue : nil,
            text: response.text)
    } catch {
        return GeoWriteOutcome(status: -1, id: nil, text: "\(error)")
    }
}

func geoPost(_ client: CheckedClient, _ path: String, _ body: JSON, token: String) -> GeoWriteOutcome {
    geoSend(client, "POST", path, body, token: token)
}

/// Runs `count` bodies on their own OS threads, released together, and returns their results in order.
/// (OS threads rather than tasks: the bodies block on sockets, and the cooperative pool has two threads here.)
enum GeoConcurrent {
    final class Results<T: Sendable>: Sendable {
        let values: Mutex<[Int: T]> = Mutex([:])
    }

    static func run<T: Sendable>(_ count: Int, timeoutSeconds: Int = 60, _ body: @escaping @Sendable (Int) -> T) -> [T]
    {
        let results = Results<T>()
        let go = Signal()
        let base = go.current
        let done = Signal()
        for index in 0..<count {
            spawnThread(name: "writer-\(index)") {
                go.wait(after: base, timeoutMilliseconds: 10_000)
                let value = body(index)
                results.values.withLock { $0[index] = value }
                done.fire()
            }
        }
        go.fire()
        let deadline = Monotonic.now + timeoutSeconds * 1000
        while Monotonic.now < deadline {
            let seen = done.current
            if results.values.withLock({ $0.count }) == count { break }
            done.wait(after: seen, timeoutMilliseconds: 1000)
        }
        let values = results.values.withLock { $0 }
        return (0..<count).compactMap { values[$0] }
    }
}
