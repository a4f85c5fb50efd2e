import Foundation
import KonnectCluster
import KonnectCore
import KonnectHTTP
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
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = in_addr_t(UInt32(0x7F00_0001).bigEndian)
        var waiting: [Int32] = []
        for _ in 0..<count {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            guard fd >= 0 else {
                failed += 1
                continue
            }
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            if result == 0 {
                descriptors.append(fd)
            } else if errno == EINPROGRESS {
                waiting.append(fd)
            } else {
                close(fd)
                failed += 1
            }
        }
        let deadline = Monotonic.now + 10_000
        while !waiting.isEmpty && Monotonic.now < deadline {
            var polled = waiting.map { pollfd(fd: $0, events: Int16(POLLOUT), revents: 0) }
            _ = poll(&polled, nfds_t(polled.count), 100)
            waiting = []
            for entry in polled {
                guard entry.revents != 0 else {
                    waiting.append(entry.fd)
                    continue
                }
                var code: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(entry.fd, SOL_SOCKET, SO_ERROR, &code, &length)
                if code == 0 {
                    descriptors.append(entry.fd)
                } else {
                    close(entry.fd)
                    failed += 1
                }
            }
        }
        for fd in waiting { close(fd) }
        failed += waiting.count
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
    }
}
