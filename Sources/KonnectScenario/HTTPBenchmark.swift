import KonnectCluster
import KonnectCore
import KonnectHTTP

#if canImport(Glibc)
    import Glibc
#endif

extension Benchmarks {
    /// Requests per second of authenticated reads on a geo and on the auth node, each next to the geo's
    /// `GET /health` measured in the same run (the floor: our HTTP stack with no work behind it), and
    /// of a data plane's proxy.
    static func http(requests: Int, clients: Int) throws {
        print("bench http: \(clients) clients x \(requests) requests each, one geo and the auth node (\(cores) cores)")
        print("load average before the run (other processes share the machine): \(ExternalTool.loadAverage())")
        let bench = try BenchCluster(geos: ["eu"])
        let token = try bench.organization("http@example.com")
        let geo = try bench.endpoint("eu")
        let auth = try bench.endpoint("auth")
        let headers: HTTPHeaders = ["Authorization": "Bearer \(token)"]
        let upstream = try bench.cluster.startUpstream(name: "up")
        let cpID = try bench.controlPlane("bench", token: token)
        let admin = try bench.tcp("eu")
        _ = try bench.expect(
            try admin.json(
                "POST", "/v2/control-planes/\(cpID)/core-entities/services",
                ["name": "echo", "url": .string("http://127.0.0.1:\(upstream.port)/")], headers: headers), 201,
            "service")
        _ = try bench.expect(
            try admin.json(
                "POST", "/v2/control-planes/\(cpID)/core-entities/routes",
                ["name": "echo", "paths": ["/echo"], "service": ["id": "echo"]], headers: headers), 201, "route")
        let dp = try bench.cluster.startDataPlane(name: "dp", geo: "eu", controlPlane: cpID).descriptor
        let proxyEndpoint = Endpoint.tcp(host: "127.0.0.1", port: dp.port)
        let proxy = HTTPClient(endpoint: proxyEndpoint)
        let deadline = Monotonic.now + 10_000
        while Monotonic.now < deadline, (try? proxy.send("GET", "/echo"))?.status != 200 { usleep(10_000) }

        let floor = try measure(clients: clients, requests: requests, endpoint: geo) { client in
            try client.send("GET", "/health")
        }
        print("floor: geo GET /health: \(floor.summary)")
        let geoRead = try measure(clients: clients, requests: requests, endpoint: geo) { client in
            try client.send("GET", "/v2/control-planes", headers: headers)
        }
        print(
            "geo GET /v2/control-planes (one introspection at the auth node): \(geoRead.summary), "
                + "\(percent(geoRead.perSecond, of: floor.perSecond)) of the floor")
        let authRead = try measure(clients: clients, requests: requests, endpoint: auth) { client in
            try client.send("GET", "/v3/users/me", headers: headers)
        }
        print(
            "auth GET /v3/users/me: \(authRead.summary), \(percent(authRead.perSecond, of: floor.perSecond)) of the floor"
        )
        let proxied = try measure(clients: clients, requests: requests, endpoint: proxyEndpoint) { client in
            try client.send("GET", "/echo")
        }
        print(
            "data-plane proxy GET /echo -> upstream: \(proxied.summary), "
                + "\(percent(proxied.perSecond, of: floor.perSecond)) of the floor")
        print("load average after the run: \(ExternalTool.loadAverage())")
        let met = geoRead.perSecond >= floor.perSecond / 2
        print(
            "goal (issue 11): the authenticated geo read at >= 50% of the floor: \(met ? "met" : "not met") "
                + "(\(percent(geoRead.perSecond, of: floor.perSecond)))")
    }
}
