import Foundation
import KonnectCore
import KonnectHTTP
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

// In-process tests of the HTTP server (issue 2, "Processes and transport"): the server runs in the test
// process on a temporary Unix socket (or a kernel-assigned loopback port) with short timeouts, so
// 408s take a fraction of a second instead of the nodes' 10 s / 60 s defaults.

/// A raw client connection: bytes in, bytes out, nothing interpreted for us. Used where HTTPClient would
/// hide what is being tested (keep-alive, timeouts, close).
final class ServerTestSocket {
    let fd: Int32
    private var parser = HTTPResponseParser(method: "GET")
    private var parserMethod = "GET"
    private(set) var sawEOF = false

    init(unixPath path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ServerTestFailure("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
            raw[bytes.count] = 0
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result == 0 else {
            let message = String(cString: strerror(errno))
            close(fd)
            throw ServerTestFailure("connect \(path): \(message)")
        }
    }

    init(tcpPort port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ServerTestFailure("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = in_addr_t(UInt32(0x7F00_0001).bigEndian)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            let message = String(cString: strerror(errno))
            close(fd)
            throw ServerTestFailure("connect 127.0.0.1:\(port): \(message)")
        }
    }

    deinit { close(fd) }

    /// Writes everything; returns false when the peer is gone.
    @discardableResult
    func write(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { raw in
                send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
            }
            if sent < 0 && errno == EINTR { continue }
            if sent <= 0 { return false }
            offset += sent
        }
        return true
    }

    @discardableResult
    func write(_ text: String) -> Bool { write(Array(text.utf8)) }

    /// Reads the next response, waiting at most `milliseconds` in total (a bound, not an expectation).
    func readResponse(method: String = "GET", within milliseconds: Int = 5000) throws -> ClientResponse {
        if method != parserMethod && parser.isIdle {
            parser = HTTPResponseParser(method: method)
            parserMethod = method
        }
        let deadline = Monotonic.now + milliseconds
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            switch parser.next() {
            case .response(let response): return response
            case .failure(let why): throw ServerTestFailure("unparseable response: \(why)")
            case .needMoreData: break
            }
            if sawEOF {
                if case .response(let response) = parser.finish() { return response }
                throw ServerTestFailure("connection closed before a complete response")
            }
            let remaining = deadline - Monotonic.now
            guard remaining > 0, waitReadable(milliseconds: remaining) else {
                throw ServerTestFailure("no response within \(milliseconds) ms")
            }
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                parser.feed(buffer[0..<count])
            } else if count == 0 || errno != EINTR {
                sawEOF = true
            }
        }
    }

    /// Whether the server closes the connection (EOF) within `milliseconds`, with no further bytes.
    func closesWithoutData(within milliseconds: Int = 5000) -> Bool {
        guard waitReadable(milliseconds: milliseconds) else { return false }
        var byte: UInt8 = 0
        let count = recv(fd, &byte, 1, 0)
        return count == 0 || (count < 0 && errno == ECONNRESET)
    }

    func waitReadable(milliseconds: Int) -> Bool {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while true {
            let ready = poll(&descriptor, 1, Int32(clamping: max(0, milliseconds)))
            if ready < 0 && errno == EINTR { continue }
            return ready > 0
        }
    }
}

struct ServerTestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A server in the test process on a temporary Unix socket (and a kernel-assigned TCP port).
final class InProcessServer {
    let server: HTTPServer
    let directory: String
    let socketPath: String
    let port: Int
    private let stopped = Mutex(false)

    convenience init(
        idleMilliseconds: Int = 5000, requestMilliseconds: Int = 5000, limits: HTTPLimits = HTTPLimits(),
        handler: @escaping HTTPServer.Handler
    ) throws {
        try self.init(
            configure: {
                $0.idleTimeoutMilliseconds = idleMilliseconds
                $0.requestTimeoutMilliseconds = requestMilliseconds
                $0.limits = limits
            }, make: { HTTPServer(configuration: $0, handler: handler) })
    }

    /// A server with any configuration (`configure`), made by `make` (a blocking or a loop handler).
    init(
        configure: (inout HTTPServer.Configuration) -> Void, make: (HTTPServer.Configuration) -> HTTPServer
    ) throws {
        var template = Array("/tmp/khs-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw ServerTestFailure("mkdtemp failed") }
        directory = String(cString: made)
        socketPath = directory + "/sock"
        var configuration = HTTPServer.Configuration()
        configuration.idleTimeoutMilliseconds = 5000
        configuration.requestTimeoutMilliseconds = 5000
        configure(&configuration)
        server = make(configuration)
        try server.listen(unixPath: socketPath)
        port = try server.listen(tcpPort: 0)
        server.start()
    }

    convenience init(idleMilliseconds: Int = 5000, requestMilliseconds: Int = 5000, router: Router) throws {
        try self.init(idleMilliseconds: idleMilliseconds, requestMilliseconds: requestMilliseconds) {
            request, listener in
            router.handle(request, listener: listener)
        }
    }

    func shutdown(drainMilliseconds: Int = 2000) {
        let first = stopped.withLock { done -> Bool in
            defer { done = true }
            return !done
        }
        if first { server.shutdown(drainMilliseconds: drainMilliseconds) }
    }

    deinit {
        shutdown(drainMilliseconds: 500)
        try? FileManager.default.removeItem(atPath: directory)
    }

    func unixClient() -> HTTPClient { HTTPClient(endpoint: .unix(socketPath), timeoutMilliseconds: 5000) }
    func tcpClient() -> HTTPClient {
        HTTPClient(endpoint: .tcp(host: "127.0.0.1", port: port), timeoutMilliseconds: 5000)
    }
}

/// Polls `condition` every 10 ms until it holds or `seconds` pass: how these tests wait for the server's
/// threads, never a bare sleep.
func eventually(_ seconds: Double = 5, _ condition: () -> Bool) -> Bool {
    let deadline = Monotonic.now + Int(seconds * 1000)
    while Monotonic.now < deadline {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}

func echoRouter() -> Router {
    Router(routes: [
        Router.route("GET", "/things") { request in
            HTTPResponse.json(["method": .string(request.method), "path": .string(request.path)])
        },
        Router.route("POST", "/things") { request in
            HTTPResponse.json(["received": .int(request.http.body.count)], status: 201)
        },
        Router.route("GET", "/things/{thingId}") { request in
            HTTPResponse.json(["id": .string(request.parameter("thingId"))])
        },
        Router.route("GET", "/internal/only", unixOnly: true) { _ in HTTPResponse.json(["internal": true]) },
    ])
}

@Suite("HTTPServer in process")
struct HTTPServerTests {
    // MARK: - 408

    @Test("issue 2 limits: an idle keep-alive connection gets 408 and is closed")
    func idleConnectionGets408() throws {
        let server = try InProcessServer(idleMilliseconds: 200, requestMilliseconds: 5000, router: echoRouter())
        let connection = try ServerTestSocket(unixPath: server.socketPath)
        // Nothing is sent at all: after the idle timeout the server says 408 and closes.
        let response = try connection.readResponse(within: 5000)
        #expect(response.status == 408)
        #expect(response.headers["connection"]?.lowercased() == "close")
        #expect(response.headers["content-type"] == "application/problem+json")
        #expect(response.json?["status"]?.intValue == 408)
        #expect(response.json?["detail"]?.stringValue?.contains("idle") == true)
        #expect(connection.closesWithoutData())
    }

    @Test("issue 2 limits: a keep-alive connection that goes idle after a request gets 408")
    func idleAfterRequestGets408() throws {
        let server = try InProcessServer(idleMilliseconds: 200, requestMilliseconds: 5000, router: echoRouter())
        let connection = try ServerTestSocket(tcpPort: server.port)
        connection.write("GET /things HTTP/1.1\r\nHost: test\r\n\r\n")
        let first = try connection.readResponse()
        #expect(first.status == 200)
        #expect(first.headers["connection"] == nil)
        let second = try connection.readResponse(within: 5000)
        #expect(second.status == 408)
        #expect(connection.closesWithoutData())
    }

    @Test("issue 2 limits: a client whose head never completes gets 408 after the request timeout")
    func partialHeadGets408() throws {
        // The idle timeout is long: only the request timeout can produce this 408.
        let server = try InProcessServer(idleMilliseconds: 60_000, requestMilliseconds: 250, router: echoRouter())
        let connection = try ServerTestSocket(unixPath: server.socketPath)
        connection.write("GET /things HTTP/1.1\r\nHost: te")
        let response = try connection.readResponse(within: 5000)
        #expect(response.status == 408)
        #expect(response.json?["detail"]?.stringValue?.contains("did not arrive") == true)
        #expect(connection.closesWithoutData())
    }

    @Test("issue 2 limits: a client whose body never completes gets 408")
    func partialBodyGets408() throws {
        let server = try InProcessServer(idleMilliseconds: 60_000, requestMilliseconds: 250, router: echoRouter())
        let connection = try ServerTestSocket(tcpPort: server.port)
        connection.write(
            "POST /things HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"a\":"
        )
        let response = try connection.readResponse(within: 5000)
        #expect(response.status == 408)
        #expect(connection.closesWithoutData())
    }

    @Test("issue 2 limits: a slow client dripping bytes is cut off by the request timeout, not reset by each byte")
    func dripFedClientGets408() throws {
        let server = try InProcessServer(idleMilliseconds: 60_000, requestMilliseconds: 300, router: echoRouter())
        let connection = try ServerTestSocket(unixPath: server.socketPath)
        let request = Array(
            "GET /things HTTP/1.1\r\nHost: slow-client.example\r\nX-Padding: abcdefghijklmnopqrstuvwxyz\r\n\r\n".utf8)
        var sent = 0
        var answered = false
        // One byte at a time; between bytes, wait up to 50 ms for the server's answer (each gap is far
        // below the timeout, so only a deadline counted from the first byte can end this early).
        while sent < request.count {
            guard connection.write([request[sent]]) else { break }
            sent += 1
            if connection.waitReadable(milliseconds: 50) {
                answered = true
                break
            }
        }
        #expect(answered, "the server waited for the whole drip-fed head (\(request.count) bytes)")
        #expect(sent < request.count)
        let response = try connection.readResponse(within: 5000)
        #expect(response.status == 408)
    }

    // MARK: - Keep-alive

    @Test("issue 2: keep-alive reuses one connection for sequential and pipelined requests")
    func keepAliveReusesTheConnection() throws {
        let server = try InProcessServer(router: echoRouter())
        let connection = try ServerTestSocket(unixPath: server.socketPath)
        for index in 0..<5 {
            connection.write("GET /things/\(index) HTTP/1.1\r\nHost: test\r\n\r\n")
            let response = try connection.readResponse()
            #expect(response.status == 200)
            #expect(response.json?["id"]?.stringValue == String(index))
            #expect(response.headers["connection"] == nil)
        }
        // A POST with a body, then two pipelined requests in one write: answered in order on the same connection.
        connection.write(
            "POST /things HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}"
        )
        #expect(try connection.readResponse(method: "POST").json?["received"]?.intValue == 7)
        connection.write("GET /things/a HTTP/1.1\r\nHost: test\r\n\r\nGET /things/b HTTP/1.1\r\nHost: test\r\n\r\n")
        let first = try connection.readResponse()
        let second = try connection.readResponse()
        #expect(first.json?["id"]?.stringValue == "a")
        #expect(second.json?["id"]?.stringValue == "b")
        // Connection: close is honoured: the answer says so and the server closes.
        connection.write("GET /things/c HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        let last = try connection.readResponse()
        #expect(last.status == 200)
        #expect(last.headers["connection"]?.lowercased() == "close")
        #expect(connection.closesWithoutData())
    }

    @Test("issue 2: HTTP/1.0 without keep-alive is closed after one response; with keep-alive it stays open")
    func http10ConnectionHandling() throws {
        let server = try InProcessServer(router: echoRouter())
        let plain = try ServerTestSocket(tcpPort: server.port)
        plain.write("GET /things HTTP/1.0\r\n\r\n")
        #expect(try plain.readResponse().status == 200)
        #expect(plain.closesWithoutData())

        let kept = try ServerTestSocket(tcpPort: server.port)
        kept.write("GET /things HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        #expect(try kept.readResponse().status == 200)
        kept.write("GET /things HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        #expect(try kept.readResponse().status == 200)
    }

    @Test("issue 2: HTTPClient's pool reuses its connection across requests")
    func clientPoolReuse() throws {
        let server = try InProcessServer(router: echoRouter())
        let client = server.tcpClient()
        for index in 0..<20 {
            let response = try client.send("GET", "/things/\(index)")
            #expect(response.status == 200)
            #expect(response.json?["id"]?.stringValue == String(index))
        }
    }

    @Test("issue 2: chunked request bodies and Expect: 100-continue are handled on a kept-alive connection")
    func chunkedBodiesAndContinue() throws {
        let server = try InProcessServer(router: echoRouter())
        let connection = try ServerTestSocket(unixPath: server.socketPath)
        connection.write(
            "POST /things HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n"
        )
        let chunked = try connection.readResponse(method: "POST")
        #expect(chunked.status == 201)
        #expect(chunked.json?["received"]?.intValue == 11)
        // Expect: 100-continue: the interim 100 arrives before the body is sent, then the final answer.
        connection.write("POST /things HTTP/1.1\r\nHost: test\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
        #expect(connection.waitReadable(milliseconds: 5000), "no 100 Continue")
        var interim = [UInt8](repeating: 0, count: 25)
        let count = recv(connection.fd, &interim, interim.count, 0)
        #expect(String(decoding: interim[0..<max(0, count)], as: UTF8.self) == "HTTP/1.1 100 Continue\r\n\r\n")
        connection.write("abcd")
        let final = try connection.readResponse(method: "POST")
        #expect(final.status == 201)
        #expect(final.json?["received"]?.intValue == 4)
    }

    // MARK: - Router through the server

    @Test("issue 2: unknown route 404 and wrong method 405 with Allow, through a Router")
    func routerErrorsThroughServer() throws {
        let server = try InProcessServer(router: echoRouter())
        for client in [server.unixClient(), server.tcpClient()] {
            let missing = try client.send("GET", "/nothing/here")
            #expect(missing.status == 404)
            #expect(missing.headers["content-type"] == "application/problem+json")
            #expect(missing.json?["status"]?.intValue == 404)

            let wrong = try client.send("DELETE", "/things")
            #expect(wrong.status == 405)
            #expect(wrong.headers["allow"] == "GET, POST")
            #expect(wrong.json?["status"]?.intValue == 405)

            let wrongItem = try client.json("PUT", "/things/1", ["a": 1])
            #expect(wrongItem.status == 405)
            #expect(wrongItem.headers["allow"] == "GET")

            // The connection stays usable after an error answer.
            #expect(try client.send("GET", "/things").status == 200)
        }
        // Unix-only routes do not exist on TCP (404, not 405).
        #expect(try server.unixClient().send("GET", "/internal/only").status == 200)
        #expect(try server.tcpClient().send("GET", "/internal/only").status == 404)
    }

    @Test("issue 2 limits: 400, 413 and 431 close the connection and the server keeps serving")
    func transportErrorsClose() throws {
        let server = try InProcessServer(
            limits: HTTPLimits(maxHeadBytes: 1024, maxBodyBytes: 2048),
            handler: { request, listener in
                echoRouter().handle(request, listener: listener)
            })
        let malformed = try ServerTestSocket(unixPath: server.socketPath)
        malformed.write("NOT AN HTTP REQUEST LINE\r\n\r\n")
        let bad = try malformed.readResponse()
        #expect(bad.status == 400)
        #expect(bad.headers["connection"]?.lowercased() == "close")
        #expect(malformed.closesWithoutData())

        let bigHead = try ServerTestSocket(unixPath: server.socketPath)
        // Exactly one byte more than the parser can hold while looking for the end of the head.
        let prefix = "GET /things HTTP/1.1\r\nHost: test\r\nX-Big: "
        bigHead.write(prefix + String(repeating: "a", count: 1024 + 4 - prefix.utf8.count))
        #expect(try bigHead.readResponse().status == 431)

        let bigBody = try ServerTestSocket(unixPath: server.socketPath)
        bigBody.write("POST /things HTTP/1.1\r\nHost: test\r\nContent-Length: 2049\r\n\r\n")
        #expect(try bigBody.readResponse(method: "POST").status == 413)

        #expect(try server.unixClient().send("GET", "/things").status == 200)
    }

    // MARK: - Shutdown

    @Test("issue 2: shutdown stops accepting, finishes the in-flight request and closes idle connections")
    func shutdownDrainsInFlightRequests() throws {
        let entered = Signal()
        let release = Signal()
        let releaseBase = release.current
        let server = try InProcessServer(idleMilliseconds: 60_000, requestMilliseconds: 60_000) { request, _ in
            if request.path == "/slow" {
                entered.fire()
                release.wait(after: releaseBase, timeoutMilliseconds: 10_000)
                return HTTPResponse.json(["finished": true])
            }
            return HTTPResponse.json(["fast": true])
        }
        let idle = try ServerTestSocket(unixPath: server.socketPath)
        idle.write("GET /fast HTTP/1.1\r\nHost: test\r\n\r\n")
        #expect(try idle.readResponse().status == 200)

        let result = Mutex<Result<ClientResponse, HTTPClientError>?>(nil)
        let clientDone = Signal()
        let clientBase = clientDone.current
        let socketPath = server.socketPath
        spawnThread(name: "slow-client") {
            let client = HTTPClient(endpoint: .unix(socketPath), timeoutMilliseconds: 15_000)
            let outcome: Result<ClientResponse, HTTPClientError>
            do throws(HTTPClientError) { outcome = .success(try client.send("GET", "/slow")) } catch {
                outcome = .failure(error)
            }
            result.withLock { $0 = outcome }
            clientDone.fire()
        }
        entered.wait(after: 0, timeoutMilliseconds: 5000)
        try #require(entered.current > 0, "the slow request never reached its handler")

        let shutdownDone = Signal()
        let shutdownBase = shutdownDone.current
        let inner = server.server
        spawnThread(name: "shutdown") {
            inner.shutdown(drainMilliseconds: 10_000)
            shutdownDone.fire()
        }
        // New connections are refused once the server drains...
        #expect(
            eventually {
                inner.isDraining && (try? ServerTestSocket(unixPath: socketPath)) == nil
            })
        // ...the idle keep-alive connection is closed...
        #expect(idle.closesWithoutData())
        // ...but the request in flight holds the shutdown until it is answered.
        #expect(shutdownDone.current == shutdownBase)
        #expect(result.withLock { $0 } == nil)

        release.fire()
        clientDone.wait(after: clientBase, timeoutMilliseconds: 10_000)
        shutdownDone.wait(after: shutdownBase, timeoutMilliseconds: 10_000)
        let outcome = try #require(result.withLock { $0 })
        switch outcome {
        case .success(let response):
            #expect(response.status == 200)
            #expect(response.json?["finished"]?.boolValue == true)
            #expect(response.headers["connection"]?.lowercased() == "close")
        case .failure(let error):
            Issue.record("the in-flight request failed during shutdown: \(error)")
        }
        #expect(shutdownDone.current != shutdownBase, "shutdown did not return after the last request finished")
    }
}
