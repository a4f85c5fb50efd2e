import Foundation
import KonnectCluster
import KonnectCore
import KonnectHTTP
import KonnectNodes
import Testing

#if canImport(Glibc)
    import Glibc
#endif

// MARK: - Gateway helpers (shared by the data-plane, billing, deactivation and mesh process tests)

/// An organization with a control plane "shop": service "orders" -> the echo upstream's `/api`, and
/// route "orders" on `/orders`. Its configuration is at version 3 (created, service, route).
struct GatewayShop {
    var token: String
    var organization: String
    var controlPlane: String
    var upstreamPort: Int
    /// The upstream's URL as the data plane reaches it (loopback, or its host's address in `netns`).
    var upstreamURL: String
}

extension TestCluster {
    /// Starts the echo upstream (or finds it running) and returns its TCP port.
    @discardableResult
    func gwUpstream(_ name: String = "up1") throws -> Int {
        try cluster.startUpstream(name: name).port
    }

    /// Creates a service in a control plane.
    @discardableResult
    func gwService(_ controlPlane: String, _ body: JSON, geo: String = "eu", token: String) throws -> JSON {
        try expect(201, geo, "POST", "/v2/control-planes/\(controlPlane)/core-entities/services", body, token: token)
    }

    /// Creates a route under a service (by name or id).
    @discardableResult
    func gwRoute(_ controlPlane: String, service: String, _ body: JSON, geo: String = "eu", token: String) throws
        -> JSON
    {
        try expect(
            201, geo, "POST", "/v2/control-planes/\(controlPlane)/core-entities/services/\(service)/routes", body,
            token: token)
    }

    /// Signs up (or reuses `token`), creates control plane "shop" with service "orders" and route "/orders".
    func gwShop(
        _ email: String = "ana@example.com", organization: String = "Acme", plan: String = "plus", geo: String = "eu",
        controlPlaneName: String = "shop", existing: (token: String, organization: String)? = nil
    ) throws -> GatewayShop {
        let (token, org) = try existing ?? newOrganization(email, organization: organization, plan: plan, geo: geo)
        let upstream = try cluster.startUpstream(name: "up1")
        let cp = try createControlPlane(controlPlaneName, geo: geo, token: token)
        try gwService(cp, ["name": "orders", "url": .string(upstream.url + "/api")], geo: geo, token: token)
        try gwRoute(cp, service: "orders", ["name": "orders", "paths": ["/orders"]], geo: geo, token: token)
        return GatewayShop(
            token: token, organization: org, controlPlane: cp, upstreamPort: upstream.port, upstreamURL: upstream.url)
    }

    /// Starts a data plane joined to a control plane with a credential the geo issues.
    func gwStartDataPlane(_ name: String, controlPlane: String, geo: String = "eu") throws {
        do {
            try cluster.startDataPlane(name: name, geo: geo, controlPlane: controlPlane)
        } catch {
            throw ProcessTestFailure(message: "data plane \(name) did not start: \(error)\n\(allLogs())")
        }
    }

    /// The data plane's state (synced, disconnected, orphaned).
    func gwState(_ dataPlane: String) throws -> String? { try dataPlaneStatus(dataPlane)["state"]?.stringValue }

    /// The configuration version the data plane runs.
    func gwVersion(_ dataPlane: String) throws -> Int64? {
        try dataPlaneStatus(dataPlane)["config"]?["version"]?.intValue
    }

    /// Waits until the data plane is synced on exactly this configuration version, with its hash (which
    /// follows a delta in its own message).
    func gwWaitForVersion(_ dataPlane: String, _ version: Int64, timeout: Double = 5) throws {
        try waitUntil("\(dataPlane) is synced on configuration version \(version)", timeout: timeout) {
            let status = try dataPlaneStatus(dataPlane)
            return status["state"]?.stringValue == "synced" && status["config"]?["version"]?.intValue == version
                && status["config"]?["hash"]?.stringValue != nil
        }
    }

    /// Waits until the data plane (or zone) reports this state.
    func gwWaitForState(_ node: String, _ state: String, timeout: Double = 6) throws {
        try waitUntil("\(node) is \(state)", timeout: timeout) {
            try dataPlaneStatus(node)["state"]?.stringValue == state
        }
    }

    /// Sends a request through a data plane's proxy (a fresh connection per call).
    func gwProxy(
        _ dataPlane: String, _ method: String = "GET", _ path: String, headers: HTTPHeaders = [:], body: [UInt8] = [],
        timeoutMilliseconds: Int = 10_000
    ) throws -> ClientResponse {
        let client = HTTPClient(endpoint: try publicEndpoint(dataPlane), timeoutMilliseconds: timeoutMilliseconds)
        return try client.send(method, path, headers: headers, body: body)
    }

    /// Sends `count` GET requests through a data plane and requires each to answer `status`.
    func gwSend(_ count: Int, to dataPlane: String, _ path: String, status: Int = 200) throws {
        for index in 0..<count {
            let response = try gwProxy(dataPlane, "GET", path)
            guard response.status == status else {
                throw ProcessTestFailure(
                    message:
                        "request \(index + 1) of \(count) to \(dataPlane)\(path) answered \(response.status): \(response.text)\n\(allLogs())"
                )
            }
        }
    }

    /// The hash the control plane expects its data planes to run.
    func gwExpectedHash(_ controlPlane: String, geo: String = "eu", token: String) throws -> String? {
        try expect(200, geo, "GET", "/v2/control-planes/\(controlPlane)/expected-config-hash", token: token)[
            "expected_hash"]?.stringValue
    }

    /// Calls one of a geo's operator endpoints on its Unix socket.
    @discardableResult
    func gwOperator(_ geo: String, _ path: String, expecting status: Int = 200) throws -> JSON {
        let response = try unix(geo).json("POST", path, [:])
        guard response.status == status else {
            throw ProcessTestFailure(
                message: "POST \(path) on \(geo)'s socket: expected \(status), got \(response.status): \(response.text)"
            )
        }
        return response.json ?? .null
    }

    /// The geo's internal status (pending usage, events cursor, decommissioned organizations).
    func gwGeoStatus(_ geo: String) throws -> JSON {
        try unix(geo).send("GET", "/internal/v1/status").json ?? .null
    }

    /// The pid a node runs as (to tell a restart from a resumption).
    func gwPid(_ name: String) throws -> Int32? { cluster.descriptor(try record(name))?.pid }
}

/// A client connection held open by hand, to see keep-alive and framing as a client does.
final class GatewayRawConnection {
    let fd: Int32
    private var parser = HTTPResponseParser(method: "GET")
    private var buffer = [UInt8](repeating: 0, count: 64 * 1024)

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ProcessTestFailure(message: "socket() failed: \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(fd)
            throw ProcessTestFailure(message: "connect to 127.0.0.1:\(port) failed: \(errno)")
        }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    func write(_ text: String) throws {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { throw ProcessTestFailure(message: "send failed: \(errno)") }
            sent += count
        }
    }

    /// The next response on the connection, or nil when the server closed it first.
    func readResponse() throws -> ClientResponse? {
        while true {
            switch parser.next() {
            case .response(let response): return response
            case .failure(let why): throw ProcessTestFailure(message: "invalid response: \(why)")
            case .needMoreData: break
            }
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 { return nil }
            guard count > 0 else { throw ProcessTestFailure(message: "recv failed: \(errno)") }
            parser.feed(buffer[0..<count])
        }
    }

    /// Whether the server closed the connection (EOF within the receive timeout).
    func isClosedByPeer() -> Bool {
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        return count == 0
    }
}

// MARK: - Tests

extension ProcessTests {
    /// Data-plane nodes (issue 4): sync by push, disk cache, proxying, and life after the control plane
    /// (C2, C3, P4, D5, D6).
    @Suite struct DataPlane {
        @Test("C2, P4: a change reaches a connected data plane by push, with the organization's license")
        func changeReachesConnectedDataPlane() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let shop = try cluster.gwShop()
            try cluster.gwStartDataPlane("dp1", controlPlane: shop.controlPlane)
            try cluster.gwWaitForVersion("dp1", 3)
            let hash = try cluster.gwExpectedHash(shop.controlPlane, token: shop.token)
            var status = try cluster.dataPlaneStatus("dp1")
            #expect(status["config"]?["hash"]?.stringValue == hash)
            #expect(status["config"]?["services"]?.intValue == 1)
            #expect(status["config"]?["routes"]?.intValue == 1)

            // P4: the organization's Gateway license, inside the configuration.
            let licenses = try cluster.expect(200, "auth", "GET", "/v3/organizations/me/licenses", token: shop.token)
            let gateway = licenses["data"]?.arrayValue?.first {
                $0["product"]?.stringValue == "kong-gateway-enterprise"
            }
            #expect(gateway != nil)
            #expect(status["license"]?["product_subscription"]?.stringValue == "Kong Gateway Enterprise")
            #expect(status["license"]?["state"]?.stringValue == "active")
            #expect(status["license"]?["customer"]?.stringValue == "Acme")
            #expect(status["license"]?["id"]?.stringValue == gateway?["id"]?.stringValue)

            // C2: a new route is pushed (no polling): it arrives within a few seconds, is applied and cached.
            let started = Date()
            try cluster.gwRoute(
                shop.controlPlane, service: "orders", ["name": "returns", "paths": ["/returns"]], token: shop.token)
            try cluster.gwWaitForVersion("dp1", 4, timeout: 3)
            #expect(Date().timeIntervalSince(started) < 3)
            let newHash = try cluster.gwExpectedHash(shop.controlPlane, token: shop.token)
            status = try cluster.dataPlaneStatus("dp1")
            #expect(status["config"]?["hash"]?.stringValue == newHash)
            #expect(newHash != hash)
            try cluster.waitUntil("dp1 cached version 4 on disk", timeout: 3) {
                try cluster.dataPlaneStatus("dp1")["config"]?["cached_version"]?.intValue == 4
            }
            let response = try cluster.gwProxy("dp1", "GET", "/returns/9")
            #expect(response.status == 200)
            #expect(response.json?["path"]?.stringValue == "/api/9")
        }

        @Test(
            "C3: routes by paths (longest prefix wins), hosts, methods, strip_path and preserve_host; 404 when none matches"
        )
        func routingByPathsHostsAndMethods() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let (token, _) = try cluster.newOrganization("ana@example.com")
            let port = try cluster.gwUpstream()
            let base = "http://127.0.0.1:\(port)"
            let cp = try cluster.createControlPlane("shop", token: token)
            try cluster.gwService(cp, ["name": "orders", "url": .string(base + "/api")], token: token)
            try cluster.gwRoute(cp, service: "orders", ["name": "orders", "paths": ["/orders"]], token: token)
            try cluster.gwService(cp, ["name": "special", "url": .string(base + "/special")], token: token)
            try cluster.gwRoute(
                cp, service: "special", ["name": "special", "paths": ["/orders/special"]], token: token)
            try cluster.gwService(cp, ["name": "hosted", "url": .string(base + "/hosted")], token: token)
            try cluster.gwRoute(cp, service: "hosted", ["name": "hosted", "hosts": ["shop.example.com"]], token: token)
            try cluster.gwService(cp, ["name": "submit", "url": .string(base + "/submit")], token: token)
            try cluster.gwRoute(
                cp, service: "submit", ["name": "submit", "paths": ["/submit"], "methods": ["POST", "PUT"]],
                token: token)
            try cluster.gwService(cp, ["name": "keep", "url": .string(base)], token: token)
            try cluster.gwRoute(
                cp, service: "keep", ["name": "keep", "paths": ["/keep"], "strip_path": false], token: token)
            try cluster.gwService(cp, ["name": "preserve", "url": .string(base + "/p")], token: token)
            try cluster.gwRoute(
                cp, service: "preserve", ["name": "preserve", "paths": ["/preserve"], "preserve_host": true],
                token: token)
            try cluster.gwStartDataPlane("dp1", controlPlane: cp)
            try cluster.gwWaitForVersion("dp1", 13)

            // Path prefix, stripped and joined to the service path; the query passes through.
            var response = try cluster.gwProxy("dp1", "GET", "/orders/42?x=1")
            #expect(response.status == 200)
            #expect(response.json?["path"]?.stringValue == "/api/42")
            #expect(response.json?["query"]?.stringValue == "x=1")
            #expect(response.json?["method"]?.stringValue == "GET")
            #expect(response.headers["x-echo-upstream"] == "up1")
            #expect(response.headers["via"]?.contains("kong") == true)
            // Without preserve_host, the upstream sees its own host; the client's is forwarded.
            response = try cluster.gwProxy("dp1", "GET", "/orders/1", headers: ["Host": "other.example.com"])
            #expect(response.json?["headers"]?["host"]?.stringValue == "127.0.0.1:\(port)")
            #expect(response.json?["headers"]?["x-forwarded-host"]?.stringValue == "other.example.com")

            // The longest matching prefix wins.
            response = try cluster.gwProxy("dp1", "GET", "/orders/special/7")
            #expect(response.status == 200)
            #expect(response.json?["path"]?.stringValue == "/special/7")

            // Hosts.
            response = try cluster.gwProxy("dp1", "GET", "/x", headers: ["Host": "shop.example.com"])
            #expect(response.status == 200)
            #expect(response.json?["path"]?.stringValue == "/hosted/x")
            response = try cluster.gwProxy("dp1", "GET", "/x", headers: ["Host": "elsewhere.example.com"])
            #expect(response.status == 404)

            // Methods.
            response = try cluster.gwProxy(
                "dp1", "POST", "/submit/abc", headers: ["Content-Type": "text/plain"], body: Array("hello".utf8))
            #expect(response.status == 200)
            #expect(response.json?["method"]?.stringValue == "POST")
            #expect(response.json?["path"]?.stringValue == "/submit/abc")
            #expect(response.json?["body"]?.stringValue == "hello")
            response = try cluster.gwProxy("dp1", "GET", "/submit/abc")
            #expect(response.status == 404)
            #expect(response.json?["message"]?.stringValue == "no Route matched with those values")

            // strip_path false keeps the matched prefix.
            response = try cluster.gwProxy("dp1", "GET", "/keep/1")
            #expect(response.json?["path"]?.stringValue == "/keep/1")

            // preserve_host sends the client's Host upstream.
            response = try cluster.gwProxy("dp1", "GET", "/preserve/1", headers: ["Host": "preserved.example.com"])
            #expect(response.status == 200)
            #expect(response.json?["path"]?.stringValue == "/p/1")
            #expect(response.json?["headers"]?["host"]?.stringValue == "preserved.example.com")

            // No route: Kong's 404.
            response = try cluster.gwProxy("dp1", "GET", "/nothing/here")
            #expect(response.status == 404)
            #expect(response.json?["message"]?.stringValue == "no Route matched with those values")
        }

        @Test("C3: request and response bodies pass through, with Content-Length and chunked framing")
        func bodiesPassThrough() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let shop = try cluster.gwShop()
            try cluster.gwStartDataPlane("dp1", controlPlane: shop.controlPlane)
            try cluster.gwWaitForVersion("dp1", 3)

            // A 200 kB request body, and a response (the echo) larger still, framed by Content-Length.
            let payload = String(repeating: "abcdefghij", count: 20_000)
            var response = try cluster.gwProxy(
                "dp1", "POST", "/orders/upload", headers: ["Content-Type": "text/plain"], body: Array(payload.utf8))
            #expect(response.status == 200)
            #expect(response.json?["body_bytes"]?.intValue == 200_000)
            #expect(response.json?["body"]?.stringValue == payload)
            #expect(response.headers["content-length"] == String(response.body.count))
            #expect(response.headers["transfer-encoding"] == nil)

            // A chunked upstream response stays chunked, and arrives whole.
            response = try cluster.gwProxy("dp1", "GET", "/orders/chunks", headers: ["X-Echo-Chunked": "true"])
            #expect(response.status == 200)
            #expect(response.headers["transfer-encoding"]?.lowercased().contains("chunked") == true)
            #expect(response.headers["content-length"] == nil)
            #expect(response.json?["path"]?.stringValue == "/api/chunks")

            // Statuses the upstream chooses pass through (it answered: no 502).
            response = try cluster.gwProxy("dp1", "GET", "/orders/teapot", headers: ["X-Echo-Status": "418"])
            #expect(response.status == 418)
            #expect(response.json?["path"]?.stringValue == "/api/teapot")
        }

        @Test("C3: keep-alive on the client side: several requests on one connection")
        func keepAlive() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let shop = try cluster.gwShop()
            try cluster.gwStartDataPlane("dp1", controlPlane: shop.controlPlane)
            try cluster.gwWaitForVersion("dp1", 3)

            let connection = try GatewayRawConnection(port: try cluster.port("dp1"))
            for index in 1...3 {
                try connection.write("GET /orders/\(index) HTTP/1.1\r\nHost: shop.example.com\r\n\r\n")
                let response = try #require(
                    try connection.readResponse(), "the data plane closed the connection after \(index - 1) requests")
                #expect(response.status == 200)
                #expect(response.json?["path"]?.stringValue == "/api/\(index)")
                #expect(response.headers["connection"]?.lowercased() != "close")
            }
            // A body on the same connection, and a 404 that keeps it open too.
            try connection.write("POST /orders/body HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
            let posted = try #require(try connection.readResponse())
            #expect(posted.json?["body"]?.stringValue == "hello")
            try connection.write("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n")
            let missing = try #require(try connection.readResponse())
            #expect(missing.status == 404)
            // The client may close it.
            try connection.write("GET /orders/last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            let last = try #require(try connection.readResponse())
            #expect(last.status == 200)
            #expect(connection.isClosedByPeer())
        }

        @Test("C3: 502 when the upstream is down (and back when it is up), 504 when it times out")
        func upstreamFailures() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let shop = try cluster.gwShop()
            let downPort = try cluster.gwUpstream("up2")
            try cluster.gwService(
                shop.controlPlane, ["name": "flaky", "url": .string("http://127.0.0.1:\(downPort)/flaky")],
                token: shop.token)
            try cluster.gwRoute(
                shop.controlPlane, service: "flaky", ["name": "flaky", "paths": ["/flaky"]], token: shop.token)
            try cluster.gwService(
                shop.controlPlane,
                ["name": "slow", "url": .string("http://127.0.0.1:\(shop.upstreamPort)/slow"), "read_timeout": 300],
                token: shop.token)
            try cluster.gwRoute(
                shop.controlPlane, service: "slow", ["name": "slow", "paths": ["/slow"]], token: shop.token)
            try cluster.gwStartDataPlane("dp1", controlPlane: shop.controlPlane)
            try cluster.gwWaitForVersion("dp1", 7)
            #expect(try cluster.gwProxy("dp1", "GET", "/flaky/1").status == 200)

            // The upstream goes away: 502.
            cluster.cluster.stop(try cluster.record("up2"))
            var response = try cluster.gwProxy("dp1", "GET", "/flaky/2")
            #expect(response.status == 502)
            #expect(
                response.json?["message"]?.stringValue == "An invalid response was received from the upstream server")
            // It comes back on the same port: proxied again.
            try cluster.gwUpstream("up2")
            try cluster.waitUntil("the flaky upstream answers through dp1 again", timeout: 5) {
                try cluster.gwProxy("dp1", "GET", "/flaky/3").status == 200
            }

            // read_timeout 300 ms, the upstream takes 3 s: 504, well before the upstream answers.
            let started = Date()
            response = try cluster.gwProxy("dp1", "GET", "/slow/1", headers: ["X-Echo-Delay-Ms": "3000"])
            let elapsed = Date().timeIntervalSince(started)
            #expect(response.status == 504)
            #expect(response.json?["message"]?.stringValue == "The upstream server is timing out")
            #expect(elapsed < 2.5)
            // A fast answer on the same service is fine.
            response = try cluster.gwProxy("dp1", "GET", "/slow/2", headers: ["X-Echo-Delay-Ms": "20"])
            #expect(response.status == 200)
        }

        @Test("D6: geo killed (-9): traffic keeps flowing, the DP is disconnected, then resyncs to a later change")
        func geoKillKeepsTrafficFlowing() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let shop = try cluster.gwShop()
            try cluster.gwStartDataPlane("dp1", controlPlane: shop.controlPlane)
            try cluster.gwWaitForVersion("dp1", 3)

            try cluster.cluster.kill("eu")
            try cluster.gwSend(5, to: "dp1", "/orders/during-outage")
            try cluster.gwWaitForState("dp1", "disconnected")
            let status = try cluster.dataPlaneStatus("dp1")
            #expect(status["config"]?["version"]?.intValue == 3)
            #expect(status["orphaned_reason"]?.stringValue == nil)
            #expect(status["last_error"]?.stringValue != nil)
            try cluster.gwSend(5, to: "dp1", "/orders/still")

            // The geo comes back: the DP reconnects on its own and takes the next change.
            try cluster.cluster.restart("eu")
            try cluster.gwWaitForState("dp1", "synced", timeout: 8)
            try cluster.gwRoute(
                shop.controlPlane, service: "orders", ["name": "returns", "paths": ["/returns"]], token: shop.token)
            try cluster.gwWaitForVersion("dp1", 4)
            #expect(
                try cluster.dataPlaneStatus("dp1")["config"]?["hash"]?.stringValue
                    == cluster.gwExpectedHash(shop.controlPlane, token: shop.token))
            let response = try cluster.gwProxy("dp1", "GET", "/returns/1")
            #expect(response.status == 200)
            #expect(response.json?["path"]?.stringValue == "/api/1")
        }

        @Test("D6: geo paused (SIGSTOP): the DP notices the silence, is disconnected, keeps proxying; resumed: synced")
        func geoPausedKeepsTrafficFlowing() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let shop = try cluster.gwShop()
            try cluster.gwStartDataPlane("dp1", controlPlane: shop.controlPlane)
            try cluster.gwWaitForVersion("dp1", 3)
            try cluster.cluster.pause("eu")
            defer { try? cluster.cluster.resume("eu") }
            try cluster.gwSend(3, to: "dp1", "/orders/paused")
            try cluster.gwWaitForState("dp1", "disconnected", timeout: 8)
            try cluster.gwSend(3, to: "dp1", "/orders/still")
            try cluster.cluster.resume("eu")
            try cluster.gwWaitForVersion("dp1", 3, timeout: 8)
            try cluster.gwRoute(
                shop.controlPlane, service: "orders", ["name": "returns", "paths": ["/returns"]], token: shop.token)
            try cluster.gwWaitForVersion("dp1", 4)
        }

        @Test("D6: a DP restarted while its geo is down serves from its disk cache")
        func restartDuringOutageServesFromCache() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let shop = try cluster.gwShop()
            try cluster.gwStartDataPlane("dp1", controlPlane: shop.controlPlane)
            try cluster.gwWaitForVersion("dp1", 3)
            try cluster.waitUntil("dp1 cached version 3 on disk", timeout: 3) {
                try cluster.dataPlaneStatus("dp1")["config"]?["cached_version"]?.intValue == 3
            }
            let hash = try cluster.dataPlaneStatus("dp1")["config"]?["hash"]?.stringValue

            try cluster.cluster.kill("eu")
            try cluster.cluster.kill("dp1")
            try cluster.cluster.restart("dp1")
            let status = try cluster.dataPlaneStatus("dp1")
            #expect(status["state"]?.stringValue == "disconnected")
            #expect(status["config"]?["version"]?.intValue == 3)
            #expect(status["config"]?["hash"]?.stringValue == hash)
            #expect(status["license"]?["product_subscription"]?.stringValue == "Kong Gateway Enterprise")
            let response = try cluster.gwProxy("dp1", "GET", "/orders/cached")
            #expect(response.status == 200)
            #expect(response.json?["path"]?.stringValue == "/api/cached")

            try cluster.cluster.restart("eu")
            try cluster.gwWaitForVersion("dp1", 3, timeout: 8)
        }

        @Test(
            "D5: decommissioned -> orphaned, 503 naming the reason, last config kept, no updates; recommissioned -> resumes without restart"
        )
        func decommissionAndRecommission() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let shop = try cluster.gwShop()
            // A witness: another control plane with its own data plane, which keeps getting updates.
            let other = try cluster.createControlPlane("other", token: shop.token)
            try cluster.gwStartDataPlane("dp1", controlPlane: shop.controlPlane)
            try cluster.gwStartDataPlane("dp2", controlPlane: other)
            try cluster.gwWaitForVersion("dp1", 3)
            try cluster.gwWaitForVersion("dp2", 1)
            let hash = try cluster.dataPlaneStatus("dp1")["config"]?["hash"]?.stringValue
            let pid = try cluster.gwPid("dp1")

            let answer = try cluster.gwOperator(
                "eu", "/internal/v1/operator/control-planes/\(shop.controlPlane)/decommission")
            #expect(answer["decommissioned"]?.boolValue == true)
            try cluster.gwWaitForState("dp1", "orphaned", timeout: 3)
            var response = try cluster.gwProxy("dp1", "GET", "/orders/1")
            #expect(response.status == 503)
            #expect(response.json?["data_plane_state"]?.stringValue == "orphaned")
            #expect(response.json?["reason"]?.stringValue == "decommissioned by the operator")
            #expect(response.json?["message"]?.stringValue?.contains("decommissioned by the operator") == true)
            var status = try cluster.dataPlaneStatus("dp1")
            #expect(status["orphaned_reason"]?.stringValue == "decommissioned by the operator")
            #expect(status["config"]?["version"]?.intValue == 3)
            #expect(status["config"]?["hash"]?.stringValue == hash)
            #expect(status["config"]?["routes"]?.intValue == 1)
            #expect(status["license"]?["state"]?.stringValue == "active")

            // No further updates: a change to shop, then one to the witness's control plane; once the
            // witness has its change, dp1 still runs version 3.
            try cluster.gwRoute(
                shop.controlPlane, service: "orders", ["name": "returns", "paths": ["/returns"]], token: shop.token)
            try cluster.gwService(
                other, ["name": "w", "url": .string("http://127.0.0.1:\(shop.upstreamPort)/w")], token: shop.token)
            try cluster.gwWaitForVersion("dp2", 2)
            status = try cluster.dataPlaneStatus("dp1")
            #expect(status["state"]?.stringValue == "orphaned")
            #expect(status["config"]?["version"]?.intValue == 3)
            #expect(try cluster.gwPid("dp1") == pid)

            // Recommissioned: dp1 resumes by itself (same process) with the latest configuration.
            try cluster.gwOperator("eu", "/internal/v1/operator/control-planes/\(shop.controlPlane)/recommission")
            try cluster.gwWaitForVersion("dp1", 4, timeout: 5)
            status = try cluster.dataPlaneStatus("dp1")
            #expect(status["orphaned_reason"]?.stringValue == nil)
            #expect(try cluster.gwPid("dp1") == pid)
            response = try cluster.gwProxy("dp1", "GET", "/returns/5")
            #expect(response.status == 200)
            #expect(response.json?["path"]?.stringValue == "/api/5")
        }

        @Test(
            "D5: an orphaned DP is never stopped remotely; restarted by hand it comes back orphaned with its last config"
        )
        func orphanedSurvivesManualRestart() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let shop = try cluster.gwShop()
            try cluster.gwStartDataPlane("dp1", controlPlane: shop.controlPlane)
            try cluster.gwWaitForVersion("dp1", 3)
            try cluster.gwOperator("eu", "/internal/v1/operator/control-planes/\(shop.controlPlane)/decommission")
            try cluster.gwWaitForState("dp1", "orphaned", timeout: 3)
            try cluster.waitUntil("dp1 cached version 3", timeout: 3) {
                try cluster.dataPlaneStatus("dp1")["config"]?["cached_version"]?.intValue == 3
            }
            // Still running (nobody stopped it), then stopped and started by hand.
            #expect(cluster.cluster.processState(try cluster.record("dp1")).1 == .running)
            try cluster.cluster.restart("dp1")
            let status = try cluster.dataPlaneStatus("dp1")
            #expect(status["state"]?.stringValue == "orphaned")
            #expect(status["config"]?["version"]?.intValue == 3)
            #expect(try cluster.gwProxy("dp1", "GET", "/orders/1").status == 503)
            // Once recommissioned it syncs and proxies again.
            try cluster.gwOperator("eu", "/internal/v1/operator/control-planes/\(shop.controlPlane)/recommission")
            try cluster.gwWaitForVersion("dp1", 3)
            #expect(try cluster.gwProxy("dp1", "GET", "/orders/2").status == 200)
        }

        @Test("C2: the node list shows the DP with its config hash; deleting a node record leaves the process running")
        func nodeListAndDeletion() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let shop = try cluster.gwShop()
            try cluster.gwStartDataPlane("dp1", controlPlane: shop.controlPlane)
            try cluster.gwWaitForVersion("dp1", 3)
            let nodeID = try #require(try cluster.dataPlaneStatus("dp1")["node_id"]?.stringValue)
            let hash = try cluster.gwExpectedHash(shop.controlPlane, token: shop.token)
            let nodes = "/v2/control-planes/\(shop.controlPlane)/nodes"

            var item: JSON? = nil
            try cluster.waitUntil("the node list shows dp1 with hash \(hash ?? "-")", timeout: 5) {
                let list = try cluster.expect(200, "eu", "GET", nodes, token: shop.token)
                item = list["items"]?.arrayValue?.first { $0["id"]?.stringValue == nodeID }
                return item?["config_hash"]?.stringValue == hash
            }
            #expect(item?["version"]?.stringValue == "3.9.0")
            #expect(item?["hostname"]?.stringValue?.hasSuffix("dp1") == true)
            #expect((item?["last_ping"]?.intValue ?? 0) > 0)
            #expect(item?["compatibility_status"]?["state"]?.stringValue == "COMPATIBILITY_STATE_FULLY_COMPATIBLE")
            let single = try cluster.expect(200, "eu", "GET", "\(nodes)/\(nodeID)", token: shop.token)
            #expect(single["item"]?["id"]?.stringValue == nodeID)
            #expect(single["item"]?["config_hash"]?.stringValue == hash)

            // After a change, the node list follows the hash the DP runs.
            try cluster.gwRoute(
                shop.controlPlane, service: "orders", ["name": "returns", "paths": ["/returns"]], token: shop.token)
            try cluster.gwWaitForVersion("dp1", 4)
            let newHash = try cluster.gwExpectedHash(shop.controlPlane, token: shop.token)
            try cluster.waitUntil("the node list shows the new hash", timeout: 8) {
                try cluster.expect(200, "eu", "GET", "\(nodes)/\(nodeID)", token: shop.token)["item"]?["config_hash"]?
                    .stringValue == newHash
            }

            // `status` (konnect-sim status) lists the DP with its state and version.
            let listed = cluster.cluster.status().first { $0.record.name == "dp1" }
            #expect(listed?.details?["state"]?.stringValue == "synced")
            #expect(listed?.details?["config"]?["version"]?.intValue == 4)

            // DELETE removes the record, not the process.
            try cluster.expect(204, "eu", "DELETE", "\(nodes)/\(nodeID)", token: shop.token)
            try cluster.expect(404, "eu", "GET", "\(nodes)/\(nodeID)", token: shop.token)
            let after = try cluster.expect(200, "eu", "GET", nodes, token: shop.token)
            #expect(after["items"]?.arrayValue?.contains { $0["id"]?.stringValue == nodeID } == false)
            try cluster.expect(404, "eu", "DELETE", "\(nodes)/\(nodeID)", token: shop.token)
            #expect(try cluster.gwState("dp1") == "synced")
            #expect(try cluster.gwProxy("dp1", "GET", "/orders/1").status == 200)
        }

        @Test("C2: without a valid credential a data plane gets nothing (401 on the geo's sync stream)")
        func invalidCredentialGetsNothing() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let shop = try cluster.gwShop()
            let geo = try cluster.unix("eu")
            let nodeID = "6f1c3f0e-8a4b-4c1d-9e2f-0a1b2c3d4e5f"

            // No credential, an unknown one: 401 and no configuration.
            var response = try geo.send("GET", "/internal/v1/dp/sync", headers: ["X-Node-Id": nodeID])
            #expect(response.status == 401)
            response = try geo.send(
                "GET", "/internal/v1/dp/sync",
                headers: ["Authorization": "Bearer kdp_not-a-real-credential", "X-Node-Id": nodeID])
            #expect(response.status == 401)
            #expect(!response.text.contains("\"config\""))

            // A credential issued by the geo for this control plane (the dp-client-certificates API) opens the stream.
            let issued = try cluster.expect(
                201, "eu", "POST", "/v2/control-planes/\(shop.controlPlane)/dp-client-certificates", ["title": "test"],
                token: shop.token)
            let secret = try #require(issued["item"]?["cert"]?.stringValue)
            let certificateID = try #require(issued["item"]?["id"]?.stringValue)
            let stream = try geo.openStream(
                "GET", "/internal/v1/dp/sync", headers: ["Authorization": "Bearer \(secret)", "X-Node-Id": nodeID])
            #expect(try stream.awaitHead(timeoutMilliseconds: 3000).get() == 200)
            // On connect: the calendar's moment (a heartbeat, issue 14), then the configuration.
            var moment: JSON? = nil
            if case .message(let message) = stream.next(timeoutMilliseconds: 3000) { moment = message }
            #expect(moment?["type"]?.stringValue == "heartbeat")
            #expect(moment?["now"]?.stringValue == "2026-01-01T00:00:00Z")
            var first: JSON? = nil
            if case .message(let message) = stream.next(timeoutMilliseconds: 3000) { first = message }
            #expect(first?["type"]?.stringValue == "config")
            #expect(first?["version"]?.intValue == 3)
            #expect(first?["license"]?["product_subscription"]?.stringValue == "Kong Gateway Enterprise")
            stream.close()
            // Revoked: nothing any more.
            try cluster.expect(
                204, "eu", "DELETE", "/v2/control-planes/\(shop.controlPlane)/dp-client-certificates/\(certificateID)",
                token: shop.token)
            response = try geo.send(
                "GET", "/internal/v1/dp/sync", headers: ["Authorization": "Bearer \(secret)", "X-Node-Id": nodeID])
            #expect(response.status == 401)

            // A data-plane process whose credential is wrong: never synced, no configuration, proxy refuses.
            try cluster.gwStartDataPlane("dp1", controlPlane: shop.controlPlane)
            try cluster.gwWaitForVersion("dp1", 3)
            let record = try cluster.record("dp1")
            cluster.cluster.stop(record)
            unlink(record.directory + "/config-cache.json")
            unlink(record.directory + "/state.json")
            try "kdp_forged-credential\n".write(
                toFile: record.directory + "/credential", atomically: true, encoding: .utf8)
            try cluster.cluster.restart("dp1")
            try cluster.waitUntil("dp1 reports that the geo refused it (401)", timeout: 5) {
                try cluster.dataPlaneStatus("dp1")["last_error"]?.stringValue?.contains("401") == true
            }
            let status = try cluster.dataPlaneStatus("dp1")
            #expect(status["state"]?.stringValue != "synced")
            #expect(status["config"]?["version"]?.intValue == nil)
            #expect(status["license"]?.isNull == true)
            response = try cluster.gwProxy("dp1", "GET", "/orders/1")
            #expect(response.status == 503)
        }

        @Test("D6: partition dp->geo: disconnected, keeps proxying; heal: synced on the change it missed")
        func partitionAndHeal() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let shop = try cluster.gwShop()
            try cluster.gwStartDataPlane("dp1", controlPlane: shop.controlPlane)
            try cluster.gwWaitForVersion("dp1", 3)

            try cluster.cluster.updateLink(from: "dp1", to: "eu", description: ["fault": "partition"]) {
                $0.partitioned = true
            }
            try cluster.gwWaitForState("dp1", "disconnected", timeout: 5)
            try cluster.gwSend(5, to: "dp1", "/orders/cut-off")
            // A change it cannot receive while cut off.
            try cluster.gwRoute(
                shop.controlPlane, service: "orders", ["name": "returns", "paths": ["/returns"]], token: shop.token)
            #expect(try cluster.gwVersion("dp1") == 3)
            #expect(try cluster.gwProxy("dp1", "GET", "/returns/1").status == 404)

            try cluster.cluster.updateLink(from: "dp1", to: "eu", description: ["fault": "heal"]) {
                $0.partitioned = false
            }
            try cluster.gwWaitForVersion("dp1", 4, timeout: 8)
            #expect(try cluster.gwProxy("dp1", "GET", "/returns/1").status == 200)
        }

        @Test("D6: latency on the dp->geo link slows sync but does not break it")
        func latencyDoesNotBreakSync() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let shop = try cluster.gwShop()
            try cluster.gwStartDataPlane("dp1", controlPlane: shop.controlPlane)
            try cluster.gwWaitForVersion("dp1", 3)
            try cluster.cluster.updateLink(from: "dp1", to: "eu", description: ["fault": "latency"]) {
                $0.latencyMilliseconds = 300
            }
            try cluster.gwRoute(
                shop.controlPlane, service: "orders", ["name": "returns", "paths": ["/returns"]], token: shop.token)
            try cluster.gwWaitForVersion("dp1", 4, timeout: 5)
            #expect(try cluster.gwState("dp1") == "synced")
            #expect(try cluster.gwProxy("dp1", "GET", "/returns/1").status == 200)
        }
    }
}
