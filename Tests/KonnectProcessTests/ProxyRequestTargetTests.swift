import Foundation
import KonnectCluster
import KonnectCore
import KonnectHTTP
import Testing

extension ProcessTests {
    /// Issue 13 (C3): request targets as a data plane must read them: dot-segments resolved before routing
    /// and in what is forwarded, absolute-form targets, HEAD wherever GET goes.
    @Suite struct ProxyRequestTargets {
        @Test(
            "C3, RFC 3986 5.2.4: dot-segments (also %2e) are removed before routing and in the forwarded path"
        )
        func dotSegments() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let shop = try cluster.gwShop()
            try cluster.gwStartDataPlane("dp1", controlPlane: shop.controlPlane)
            try cluster.gwWaitForVersion("dp1", 3)

            // Leaving the service's path reaches no route (before: routed to orders as /api/../../etc/passwd).
            for path in ["/orders/../../etc/passwd", "/orders/%2e%2e/%2e%2e/etc/passwd", "/orders/.%2E/nomatch"] {
                let response = try cluster.gwProxy("dp1", "GET", path)
                #expect(response.status == 404, "\(path) answered \(response.status): \(response.text)")
                #expect(response.json?["message"]?.stringValue == "no Route matched with those values")
            }
            // Inside the service they are resolved; the upstream sees the clean path.
            var response = try cluster.gwProxy("dp1", "GET", "/orders/a/../42/./x?q=1")
            #expect(response.status == 200)
            #expect(response.json?["path"]?.stringValue == "/api/42/x")
            #expect(response.json?["query"]?.stringValue == "q=1")
            #expect(response.json?["headers"]?["x-forwarded-path"]?.stringValue == "/orders/42/x")
            response = try cluster.gwProxy("dp1", "GET", "/nothing/../orders/%2e/7")
            #expect(response.status == 200)
            #expect(response.json?["path"]?.stringValue == "/api/7")
        }

        @Test("C3, RFC 9112 3.2.2: an absolute-form target is routed by its path; its authority is the Host")
        func absoluteFormTarget() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let shop = try cluster.gwShop()
            try cluster.gwStartDataPlane("dp1", controlPlane: shop.controlPlane)
            try cluster.gwWaitForVersion("dp1", 3)

            let connection = try GatewayRawConnection(port: try cluster.port("dp1"))
            try connection.write("GET http://shop.example.com/orders/7?x=1 HTTP/1.1\r\nHost: ignored.example\r\n\r\n")
            let response = try #require(try connection.readResponse())
            #expect(response.status == 200, "answered \(response.status): \(response.text)")
            #expect(response.json?["path"]?.stringValue == "/api/7")
            #expect(response.json?["query"]?.stringValue == "x=1")
            #expect(response.json?["headers"]?["x-forwarded-host"]?.stringValue == "shop.example.com")
        }

        @Test("C3, RFC 9110 9.3.2: HEAD is proxied wherever GET is (no body, GET's length); HEAD /health is not 405")
        func headEverywhere() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let shop = try cluster.gwShop()
            try cluster.gwService(
                shop.controlPlane,
                ["name": "reads", "url": .string("http://127.0.0.1:\(shop.upstreamPort)/reads")], token: shop.token)
            try cluster.gwRoute(
                shop.controlPlane, service: "reads", ["name": "reads", "paths": ["/reads"], "methods": ["GET"]],
                token: shop.token)
            try cluster.gwStartDataPlane("dp1", controlPlane: shop.controlPlane)
            try cluster.gwWaitForVersion("dp1", 5)

            for path in ["/orders/1", "/reads/1"] {
                let connection = try GatewayRawConnection(port: try cluster.port("dp1"))
                try connection.write("HEAD \(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                var head = [UInt8]()
                var buffer = [UInt8](repeating: 0, count: 4096)
                while true {
                    let count = buffer.withUnsafeMutableBytes { recv(connection.fd, $0.baseAddress, $0.count, 0) }
                    guard count > 0 else { break }
                    head.append(contentsOf: buffer[0..<count])
                }
                let text = String(decoding: head, as: UTF8.self)
                #expect(text.hasPrefix("HTTP/1.1 200 "), "HEAD \(path) answered \(text.prefix(200))")
                // Nothing after the head: the connection closed right after it.
                #expect(text.hasSuffix("\r\n\r\n"), "HEAD \(path) sent a body: \(text)")
                #expect(text.lowercased().contains("content-length: "))
            }
            // A route limited to POST does not take HEAD.
            try cluster.gwRoute(
                shop.controlPlane, service: "reads", ["name": "writes", "paths": ["/writes"], "methods": ["POST"]],
                token: shop.token)
            try cluster.gwWaitForVersion("dp1", 6)
            #expect(try cluster.gwProxy("dp1", "HEAD", "/writes/1").status == 404)

            // The nodes' own APIs: HEAD where GET exists.
            for node in ["auth", "eu"] {
                let response = try cluster.tcp(node).send("HEAD", "/health")
                #expect(response.status == 200, "HEAD /health on \(node) answered \(response.status)")
                #expect(response.body.isEmpty)
            }
            #expect(try cluster.unix("dp1").send("HEAD", "/status").status == 200)
        }
    }
}
