import Foundation
import KonnectCore
import KonnectHTTP
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

// Issue 13: connection limits that protect a node. Connections cost no thread; at a limit the oldest idle
// connection of that socket makes room; the Unix socket keeps capacity of its own; a new connection must
// send its head within the request timeout.

/// The threads of this process (entries of /proc/self/task).
private func threadCount() -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? -1
}

/// One I/O thread: which connection is the oldest idle one is then the same for every loop.
private let oneLoop = EventLoopGroup(threads: 1)
/// Two I/O threads: connections land on either.
private let twoLoops = EventLoopGroup(threads: 2)

@Suite("HTTPServer connection limits")
struct ConnectionLimitTests {
    @Test("issue 13: at the TCP limit the oldest idle keep-alive connection is closed to admit a new one")
    func oldestIdleConnectionMakesRoom() throws {
        let server = try InProcessServer(
            configure: { $0.maxTCPConnections = 3 },
            make: { configuration in
                let router = echoRouter()
                return HTTPServer(configuration: configuration, group: oneLoop) { router.handle($0, listener: $1) }
            })
        var connections: [ServerTestSocket] = []
        for index in 0..<3 {
            let connection = try ServerTestSocket(tcpPort: server.port)
            connection.write("GET /things/\(index) HTTP/1.1\r\nHost: test\r\n\r\n")
            #expect(try connection.readResponse().status == 200)
            connections.append(connection)
        }
        // The third became idle last; touching the second makes the first the oldest idle one.
        connections[1].write("GET /things/again HTTP/1.1\r\nHost: test\r\n\r\n")
        #expect(try connections[1].readResponse().status == 200)

        let newcomer = try ServerTestSocket(tcpPort: server.port)
        newcomer.write("GET /things/new HTTP/1.1\r\nHost: test\r\n\r\n")
        let answer = try newcomer.readResponse()
        #expect(answer.status == 200)
        #expect(answer.json?["id"]?.stringValue == "new")
        #expect(connections[0].closesWithoutData(), "the oldest idle connection was not the one closed")
        for index in [1, 2] {
            connections[index].write("GET /things/\(index) HTTP/1.1\r\nHost: test\r\n\r\n")
            #expect(try connections[index].readResponse().status == 200)
        }
        #expect(server.server.openConnections.tcp == 3)
    }

    @Test("issue 13: at the TCP limit an idle connection on another I/O thread makes room just the same")
    func idleConnectionOnAnotherLoopMakesRoom() throws {
        let server = try InProcessServer(
            configure: { $0.maxTCPConnections = 3 },
            make: { configuration in
                let router = echoRouter()
                return HTTPServer(configuration: configuration, group: twoLoops) { router.handle($0, listener: $1) }
            })
        var open: [ServerTestSocket] = []
        for round in 0..<8 {
            // Wherever the kernel puts the newcomer, an idle connection (on its loop or the other) is closed.
            let connection = try ServerTestSocket(tcpPort: server.port)
            connection.write("GET /things/\(round) HTTP/1.1\r\nHost: test\r\n\r\n")
            let response = try connection.readResponse()
            #expect(response.status == 200, "round \(round) answered \(response.status)")
            open.append(connection)
            #expect(eventually { server.server.openConnections.tcp <= 3 })
        }
        let closed = open.filter { $0.closesWithoutData(within: 100) }.count
        #expect(closed == 5, "\(closed) of 8 connections were closed; 3 may stay open")
    }

    @Test(
        "issue 13: with every TCP connection busy a new one gets 503, while the Unix socket, with capacity of its own, is served"
    )
    func unixSocketHasItsOwnCapacity() throws {
        let release = Signal()
        let entered = Mutex(0)
        let server = try InProcessServer(
            configure: {
                $0.maxTCPConnections = 2
                $0.maxUnixConnections = 2
            },
            make: { configuration in
                HTTPServer(configuration: configuration) { request, listener in
                    if request.path == "/hold" {
                        entered.withLock { $0 += 1 }
                        release.wait(after: 0, timeoutMilliseconds: 10_000)
                    }
                    return HTTPResponse.json(["listener": .string(listener == .unix ? "unix" : "tcp")])
                }
            })
        // Two TCP connections, each with a request in progress: nothing idle to close.
        let busy = try (0..<2).map { _ in try ServerTestSocket(tcpPort: server.port) }
        for connection in busy { connection.write("GET /hold HTTP/1.1\r\nHost: test\r\n\r\n") }
        #expect(eventually { entered.withLock { $0 } == 2 })

        let refused = try ServerTestSocket(tcpPort: server.port)
        let unavailable = try refused.readResponse()
        #expect(unavailable.status == 503)
        #expect(unavailable.headers["connection"]?.lowercased() == "close")
        #expect(unavailable.json?["detail"]?.stringValue?.contains("connection limit") == true)

        // The Unix socket is not affected by TCP being full.
        for _ in 0..<3 {
            let response = try server.unixClient().send("GET", "/any")
            #expect(response.status == 200)
            #expect(response.json?["listener"]?.stringValue == "unix")
        }
        release.fire()
        for connection in busy { #expect(try connection.readResponse().status == 200) }
    }

    @Test("issue 13: a new connection that sends nothing gets 408 after the request timeout, not the idle timeout")
    func headMustArriveSoonAfterAccept() throws {
        let server = try InProcessServer(
            idleMilliseconds: 60_000, requestMilliseconds: 300, handler: { _, _ in HTTPResponse.noContent })
        let started = Monotonic.now
        let connection = try ServerTestSocket(tcpPort: server.port)
        let response = try connection.readResponse(within: 5000)
        #expect(response.status == 408)
        #expect(response.json?["detail"]?.stringValue?.contains("of the connection being opened") == true)
        #expect(Monotonic.now - started < 5000)
        #expect(connection.closesWithoutData())
    }

    @Test("issue 13: a thousand idle keep-alive connections are held without a thread each")
    func idleConnectionsHoldNoThreads() throws {
        let server = try InProcessServer(router: echoRouter())
        // Warm up: the loops and some workers exist before counting.
        for _ in 0..<20 { _ = try server.tcpClient().send("GET", "/things") }
        let before = threadCount()
        var connections: [ServerTestSocket] = []
        for index in 0..<1000 {
            let connection = try ServerTestSocket(tcpPort: server.port)
            connection.write("GET /things/\(index) HTTP/1.1\r\nHost: test\r\n\r\n")
            connections.append(connection)
        }
        for (index, connection) in connections.enumerated() {
            let response = try connection.readResponse()
            #expect(response.status == 200)
            #expect(response.json?["id"]?.stringValue == String(index))
        }
        #expect(server.server.openConnections.tcp >= 1000)
        let during = threadCount()
        #expect(during - before < 50, "threads went from \(before) to \(during) for 1000 connections")
        // Still served, also on the Unix socket.
        #expect(try server.unixClient().send("GET", "/things").status == 200)
        #expect(try server.tcpClient().send("GET", "/things").status == 200)
    }
}
