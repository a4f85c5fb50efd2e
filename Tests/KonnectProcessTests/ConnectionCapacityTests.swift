import Foundation
import KonnectCluster
import KonnectCore
import KonnectHTTP
import KonnectScenario
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Silent TCP connections held open by the test (they send nothing, like an idle browser or an attacker);
/// all closed when the value goes away, also when the test fails.
final class HeldConnections {
    private(set) var descriptors: [Int32] = []
    private(set) var failed = 0

    /// Opens `count` connections to 127.0.0.1:`port`: connects issued without blocking, then awaited.
    init(count: Int, port: Int) {
        (descriptors, failed) = SilentConnections.open(count, port: port)
    }

    /// Connections on which the server wrote something or which it closed (a 503, an early 408).
    var answered: Int {
        descriptors.filter { fd in
            var probe: UInt8 = 0
            return recv(fd, &probe, 1, Int32(MSG_PEEK) | Int32(MSG_DONTWAIT)) >= 0
        }.count
    }

    deinit { for fd in descriptors { close(fd) } }
}

extension ProcessTests {
    /// Issue 13: connections cost a node a small object, not a thread; the Unix socket keeps capacity of
    /// its own (T4, T5: node-to-node traffic is never starved by public traffic).
    @Suite struct ConnectionCapacity {
        @Test(
            "issue 13, T5: 2,000 idle TCP connections to a geo and 2,000 to the auth node; every other client and the Unix sockets are still served"
        )
        func idleConnectionsDoNotStarveNodes() throws {
            FileLimit.raiseToHardLimit()
            let cluster = try TestCluster(geos: ["eu"])
            let (token, _) = try cluster.newOrganization("ana@example.com")
            // Before the issue: about 1,024 of these took a node off the air, its Unix socket too.
            let onGeo = HeldConnections(count: 2000, port: try cluster.port("eu"))
            let onAuth = HeldConnections(count: 2000, port: try cluster.port("auth"))
            #expect(onGeo.failed == 0 && onAuth.failed == 0, "connects failed: \(onGeo.failed), \(onAuth.failed)")
            #expect(onGeo.descriptors.count == 2000 && onAuth.descriptors.count == 2000)

            for round in 0..<10 {
                // A geo read authenticated at the auth node (geo -> auth over the Unix socket).
                let whoami = try cluster.call("eu", "GET", "/v2/whoami", token: token)
                #expect(whoami.status == 200, "round \(round): whoami answered \(whoami.status): \(whoami.text)")
                // Public TCP on the auth node: a signup and a login.
                try cluster.signup("user\(round)@example.com", organization: "Org \(round)")
                _ = try cluster.login("user\(round)@example.com")
                // The Unix sockets (operator and node-to-node).
                #expect(try cluster.unix("eu").send("GET", "/internal/v1/status").status == 200)
                #expect(try cluster.unix("auth").send("GET", "/health").status == 200)
            }
            // The held connections were neither refused (503) nor closed while the others were served.
            #expect(onGeo.answered == 0)
            #expect(onAuth.answered == 0)
        }

        @Test(
            "issue 13, D4: 40 event long polls wait on the auth node without a worker each; geos are still served; an outbox event answers them all"
        )
        func longPollsHoldNoWorkers() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let (token, organization) = try cluster.newOrganization("ana@example.com")
            let auth = try cluster.unix("auth", timeoutMilliseconds: 30_000)
            let now = try #require(try auth.send("GET", "/internal/v1/events?geo=eu&after=0").json)
            let after = now["events"]?.arrayValue?.compactMap { $0["seq"]?.intValue }.max() ?? 0
            // More waiting requests than the worker pool has threads (16 plus 4 for the Unix socket).
            var polls: [HTTPStream] = []
            defer { for poll in polls { poll.close() } }
            for _ in 0..<40 {
                polls.append(try auth.openStream("GET", "/internal/v1/events?geo=eu&after=\(after)&wait_ms=20000"))
            }
            for round in 0..<10 {
                let whoami = try cluster.call("eu", "GET", "/v2/whoami", token: token)
                #expect(whoami.status == 200, "round \(round): whoami answered \(whoami.status): \(whoami.text)")
            }
            try cluster.dxSupportAction(organization, "deactivate")
            for poll in polls {
                #expect(try poll.awaitHead(timeoutMilliseconds: 10_000).get() == 200)
                let events = try JSONParser.parse(poll.errorBody)["events"]?.arrayValue ?? []
                #expect(events.contains { $0["kind"]?.stringValue == "organization.deactivated" })
            }
        }

        @Test(
            "issue 13, C2: 100 config push streams on a geo hold no thread each; every stream gets the configuration and the change after it (issue 12: as a delta)"
        )
        func pushStreamsHoldNoThreads() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let shop = try cluster.gwShop()
            let issued = try cluster.expect(
                201, "eu", "POST", "/v2/control-planes/\(shop.controlPlane)/dp-client-certificates", ["title": "load"],
                token: shop.token)
            let secret = try #require(issued["item"]?["cert"]?.stringValue)
            let pid = try #require(try cluster.gwPid("eu"))
            func threads() -> Int {
                (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task").count) ?? -1
            }
            let before = threads()
            let geo = try cluster.unix("eu")
            var streams: [HTTPStream] = []
            defer { for stream in streams { stream.close() } }
            for index in 0..<100 {
                let nodeID = String(format: "00000000-0000-4000-8000-%012d", index)
                let stream = try geo.openStream(
                    "GET", "/internal/v1/dp/sync", headers: ["Authorization": "Bearer \(secret)", "X-Node-Id": nodeID])
                streams.append(stream)
                #expect(try stream.awaitHead(timeoutMilliseconds: 5000).get() == 200)
            }
            for stream in streams {
                // On connect the calendar's moment comes first, then the configuration.
                guard case .message(let first) = stream.next(timeoutMilliseconds: 5000),
                    case .message(let second) = stream.next(timeoutMilliseconds: 5000)
                else {
                    Issue.record("a stream did not send its heartbeat and configuration")
                    continue
                }
                #expect(first["type"]?.stringValue == "heartbeat")
                #expect(second["type"]?.stringValue == "config")
                #expect(second["version"]?.intValue == 3)
            }
            let during = threads()
            // Before the issue each stream held a thread of its own (and its handler ran on it).
            #expect(during - before < 40, "the geo went from \(before) to \(during) threads for 100 streams")

            try cluster.expect(
                200, "eu", "PATCH", "/v2/control-planes/\(shop.controlPlane)/core-entities/services/orders",
                ["retries": 3], token: shop.token)
            for stream in streams {
                var version: Int64? = nil
                // Heartbeats may come first.
                for _ in 0..<10 {
                    guard case .message(let message) = stream.next(timeoutMilliseconds: 5000) else { break }
                    if message["type"]?.stringValue == "delta" {
                        #expect(message["from_version"]?.intValue == 3)
                        version = message["version"]?.intValue
                        break
                    }
                }
                #expect(version == 4, "the change reaches every stream as a delta from version 3")
            }
        }
    }
}
