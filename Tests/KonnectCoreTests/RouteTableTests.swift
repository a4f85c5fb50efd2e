import Testing

@testable import KonnectCore

/// Builds a service and routes in the declarative format; routes without a `service` get `orders`.
private func table(_ routes: [JSON], services: [JSON]? = nil) -> RouteTable {
    let defaultServices: [JSON] = [
        ["id": "orders", "protocol": "http", "host": "orders.internal", "port": 8080, "path": "/api"],
        ["id": "users", "protocol": "http", "host": "users.internal", "port": 80, "path": .null],
    ]
    let routes = routes.map { route -> JSON in
        var object = route.objectValue ?? JSONObject()
        if object["service"] == nil { object["service"] = ["id": "orders"] }
        return .object(object)
    }
    return RouteTable(config: DeclarativeConfig(services: services ?? defaultServices, routes: routes))
}

private func request(
    _ path: String, method: String = "GET", host: String? = nil, headers: [(name: String, value: String)] = []
) -> ProxyRequestInfo {
    ProxyRequestInfo(method: method, path: path, host: host, headers: headers)
}

/// Rule C3: Kong's router for HTTP routes, built once per configuration.
@Suite struct RouteTableTests {
    // MARK: - Paths

    @Test func aPrefixMatchesThePathAndAnythingAfterIt() {
        let routes = table([["id": "r1", "paths": ["/orders"]]])
        for path in ["/orders", "/orders/42", "/ordersX", "/orders/42/items"] {
            #expect(routes.match(request(path))?.routeID == "r1", "\(path)")
        }
        for path in ["/", "/order", "/users/orders"] { #expect(routes.match(request(path)) == nil, "\(path)") }
    }

    @Test func theLongestMatchingPrefixWins() {
        let routes = table([
            ["id": "short", "paths": ["/api"], "created_at": 1],
            ["id": "long", "paths": ["/api/v2"], "created_at": 2],
        ])
        #expect(routes.match(request("/api/v2/items"))?.routeID == "long")
        #expect(routes.match(request("/api/v1/items"))?.routeID == "short")
    }

    @Test func aRouteWithSeveralPathsMatchesOnAny() {
        let routes = table([["id": "r", "paths": ["/a", "/b/c"]]])
        #expect(routes.match(request("/b/c/d"))?.upstreamPath == "/api/d")
        #expect(routes.match(request("/a"))?.upstreamPath == "/api")
    }

    @Test func aRegexPathStartsWithATilde() {
        let routes = table([["id": "items", "paths": [#"~/items/\d+$"#], "strip_path": false]])
        #expect(routes.match(request("/items/42"))?.routeID == "items")
        #expect(routes.match(request("/items/abc")) == nil)
        #expect(routes.match(request("/x/items/42")) == nil, "a regex is anchored at the start of the path")
    }

    @Test func regexPriorityDecidesBetweenRegexRoutes() {
        let routes = table([
            ["id": "low", "paths": [#"~/v\d"#], "regex_priority": 1, "created_at": 1],
            ["id": "high", "paths": [#"~/v[0-9]+"#], "regex_priority": 5, "created_at": 2],
        ])
        #expect(routes.match(request("/v1/x"))?.routeID == "high")
    }

    @Test func stripPathRemovesTheMatchedPrefixAndJoinsTheServicePath() {
        let stripped = table([["id": "r", "paths": ["/orders"]]])
        #expect(stripped.match(request("/orders/42"))?.upstreamPath == "/api/42")
        #expect(stripped.match(request("/orders"))?.upstreamPath == "/api")
        let kept = table([["id": "r", "paths": ["/orders"], "strip_path": false]])
        #expect(kept.match(request("/orders/42"))?.upstreamPath == "/api/orders/42")
        let regex = table([["id": "r", "paths": [#"~/v\d+"#]]])
        #expect(regex.match(request("/v12/items"))?.upstreamPath == "/api/items", "strip_path strips a regex match too")
    }

    @Test(arguments: [
        (String?.none, "/42", "/42"), (String?.none, "", "/"), ("/api", "/42", "/api/42"), ("/api/", "/42", "/api/42"),
        ("/api", "", "/api"), ("/", "x", "/x"),
    ])
    func theServicePathAndTheRemainderAreJoinedWithOneSlash(base: String?, remainder: String, joined: String) {
        #expect(RouteTable.join(servicePath: base, remainder) == joined)
    }

    // MARK: - Hosts, methods, headers

    @Test func hostsMatchExactlyOrWithOneWildcard() {
        let routes = table([
            ["id": "exact", "hosts": ["shop.example.com"]],
            ["id": "suffix", "hosts": ["*.example.org"]],
            ["id": "prefix", "hosts": ["example.*"]],
        ])
        #expect(routes.match(request("/", host: "shop.example.com"))?.routeID == "exact")
        #expect(routes.match(request("/", host: "api.example.org"))?.routeID == "suffix")
        // `*.example.org` needs a subdomain; `example.*` takes the bare name.
        #expect(routes.match(request("/", host: "example.org"))?.routeID == "prefix")
        #expect(routes.match(request("/", host: "example.net"))?.routeID == "prefix")
        #expect(routes.match(request("/", host: "other.com")) == nil)
        #expect(routes.match(request("/")) == nil, "a request without Host matches no host route")
    }

    @Test func methodsRestrictARoute() {
        let routes = table([["id": "read", "paths": ["/orders"], "methods": ["GET", "HEAD"]]])
        #expect(routes.match(request("/orders", method: "GET"))?.routeID == "read")
        #expect(routes.match(request("/orders", method: "HEAD"))?.routeID == "read")
        #expect(routes.match(request("/orders", method: "POST")) == nil)
    }

    @Test func headersMatchByNameAndAnyListedValueIgnoringCase() {
        let routes = table([["id": "v2", "paths": ["/"], "headers": ["X-Version": ["v2", "v3"]]]])
        #expect(routes.match(request("/", headers: [("x-version", "V2")]))?.routeID == "v2")
        #expect(routes.match(request("/", headers: [("X-VERSION", "v3")]))?.routeID == "v2")
        #expect(routes.match(request("/", headers: [("x-version", "v1")])) == nil)
        #expect(routes.match(request("/")) == nil)
    }

    @Test func theRouteWithMoreMatchingAttributesWins() {
        let routes = table([
            ["id": "path", "paths": ["/orders/long/prefix"], "created_at": 1],
            ["id": "host-and-path", "paths": ["/orders"], "hosts": ["shop.example.com"], "created_at": 2],
        ])
        #expect(routes.match(request("/orders/long/prefix", host: "shop.example.com"))?.routeID == "host-and-path")
        #expect(routes.match(request("/orders/long/prefix", host: "other"))?.routeID == "path")
    }

    @Test func onATieTheOldestRouteWins() {
        let routes = table([
            ["id": "newer", "paths": ["/same"], "created_at": 20],
            ["id": "older", "paths": ["/same"], "created_at": 10],
        ])
        #expect(routes.match(request("/same"))?.routeID == "older")
    }

    @Test func onATieOfEverythingTheSmallerIDWinsAsInAnIDSortedScan() {
        let routes = table([
            ["id": "b-route", "paths": ["/same"], "created_at": 10],
            ["id": "a-route", "paths": ["/same"], "created_at": 10],
            ["id": "c-route", "paths": ["/same"], "created_at": 10],
        ])
        #expect(routes.match(request("/same"))?.routeID == "a-route")
    }

    // MARK: - Updated per change

    /// C2, C3: a table updated by each delta routes every request exactly like one built from the whole
    /// configuration of the same version.
    @Test(arguments: [31, 32, 33] as [UInt64])
    func aTableUpdatedByDeltasRoutesLikeOneBuiltFromScratch(seed: UInt64) throws {
        var random = SeededRandom(seed: seed)
        func below(_ bound: Int) -> Int { Int(random.next() % UInt64(bound)) }
        let serviceIDs = (0..<6).map { "s\($0)" }
        let routeIDs = (0..<12).map { "r\($0)" }
        let paths = ["/a", "/a/b", "/b", "/", "~/a/\\d+$"]
        var content = ConfigurationContent(layout: .gateway)
        var incremental = RouteTable(content: content)
        let requests = ["/a", "/a/b/c", "/a/12", "/b", "/x"].flatMap { path in
            [request(path), request(path, method: "POST"), request(path, host: "h1.example")]
        }
        for _ in 0..<120 {
            var changes: [ConfigurationChange] = []
            for _ in 0...below(3) {
                if below(3) == 0 {
                    let id = serviceIDs[below(serviceIDs.count)]
                    let service: JSON = [
                        "id": .string(id), "host": .string("host-\(below(3))"), "port": .int(below(3) + 80),
                    ]
                    changes.append(
                        below(4) == 0
                            ? .delete(ConfigurationItemID(collection: "services", key: id))
                            : .upsert(try ConfigurationLayout.gateway.item(service, in: "services")))
                } else {
                    let id = routeIDs[below(routeIDs.count)]
                    var route: JSONObject = [
                        "id": .string(id), "paths": [.string(paths[below(paths.count)])],
                        "service": ["id": .string(serviceIDs[below(serviceIDs.count)])],
                        "created_at": .int(below(3)), "regex_priority": .int(below(2)),
                    ]
                    if below(3) == 0 { route["methods"] = ["GET"] }
                    if below(4) == 0 { route["hosts"] = ["h1.example"] }
                    if below(6) == 0 { route["protocols"] = ["tcp"] }
                    changes.append(
                        below(4) == 0
                            ? .delete(ConfigurationItemID(collection: "routes", key: id))
                            : .upsert(try ConfigurationLayout.gateway.item(.object(route), in: "routes")))
                }
            }
            let delta = ConfigurationDelta(merging: changes)
            for id in delta.deletes { content.remove(id) }
            for item in delta.upserts { try content.upsert(item) }
            incremental.apply(delta)
            let rebuilt = RouteTable(content: content)
            #expect(incremental.routeCount == rebuilt.routeCount)
            #expect(incremental.serviceCount == rebuilt.serviceCount)
            for request in requests { #expect(incremental.match(request) == rebuilt.match(request), "\(request.path)") }
        }
    }

    // MARK: - Where a match goes

    @Test func aMatchCarriesTheServiceTargetAndPreserveHost() throws {
        let routes = table([
            ["id": "keep", "paths": ["/keep"], "preserve_host": true],
            ["id": "users", "paths": ["/users"], "service": ["id": "users"]],
        ])
        let kept = try #require(routes.match(request("/keep")))
        #expect(kept.preserveHost)
        #expect(kept.serviceID == "orders")
        #expect(kept.upstream?.host == "orders.internal")
        #expect(kept.upstream?.port == 8080)
        #expect(kept.upstream?.protocolName == "http")
        #expect(kept.upstream?.readTimeoutMilliseconds == 60000)
        let users = try #require(routes.match(request("/users/7")))
        #expect(!users.preserveHost)
        #expect(users.upstream?.host == "users.internal")
        #expect(users.upstreamPath == "/7")
    }

    @Test func aRouteWithoutAServiceMatchesWithoutATarget() throws {
        let routes = RouteTable(config: DeclarativeConfig(routes: [["id": "lonely", "paths": ["/x"]]]))
        let match = try #require(routes.match(request("/x")))
        #expect(match.serviceID == nil)
        #expect(match.upstream == nil)
    }

    @Test func nothingMatchesInAnEmptyTableOrOutsideEveryRoute() {
        #expect(RouteTable(config: DeclarativeConfig()).isEmpty)
        #expect(RouteTable(config: DeclarativeConfig()).match(request("/")) == nil)
        #expect(table([["id": "r", "paths": ["/a"]]]).match(request("/b")) == nil)
    }

    @Test func routesForOtherProtocolsAreNotHTTPRoutes() {
        let routes = table([["id": "tcp", "paths": ["/"], "protocols": ["tcp"]]])
        #expect(routes.isEmpty)
        #expect(routes.match(request("/")) == nil)
    }
}
