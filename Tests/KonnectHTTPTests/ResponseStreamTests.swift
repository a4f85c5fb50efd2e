import Foundation
import KonnectCore
import KonnectHTTP
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

// Issue 13: answers that hold no thread while they wait. A pushed stream is written from any thread
// through a StreamWriter; a deferred response is completed later from any thread or by its timeout.

/// Values handed from a handler to the test.
private final class Stash<Value: Sendable>: Sendable {
    private let values = Mutex<[Value]>([])
    let added = Signal()

    func add(_ value: Value) {
        values.withLock { $0.append(value) }
        added.fire()
    }

    var all: [Value] { values.withLock { $0 } }

    /// Waits until at least `count` values arrived (bounded).
    func wait(for count: Int, milliseconds: Int = 5000) -> Bool {
        let deadline = Monotonic.now + milliseconds
        while values.withLock({ $0.count }) < count && Monotonic.now < deadline {
            added.wait(after: added.current, timeoutMilliseconds: 50)
        }
        return values.withLock { $0.count } >= count
    }
}

@Suite("HTTPServer streams and deferred answers")
struct ResponseStreamTests {
    @Test("issue 13: a pushed stream is written from another thread chunk by chunk, and finish ends it")
    func pushedStreamFromAnotherThread() throws {
        let server = try InProcessServer(handler: { request, _ in
            if request.path == "/plain" { return HTTPResponse.json(["plain": true]) }
            return HTTPResponse(
                status: 200, headers: ["Content-Type": "application/x-ndjson"],
                body: .push { writer in
                    spawnThread(name: "producer") {
                        for index in 0..<5 { writer.write(Array("{\"n\":\(index)}\n".utf8)) }
                        writer.finish()
                    }
                })
        })
        let connection = try ServerTestSocket(unixPath: server.socketPath)
        connection.write("GET /stream HTTP/1.1\r\nHost: test\r\n\r\n")
        let response = try connection.readResponse()
        #expect(response.status == 200)
        #expect(response.headers["transfer-encoding"] == "chunked")
        #expect(response.text == (0..<5).map { "{\"n\":\($0)}\n" }.joined())
        // The connection is kept alive after the stream ended.
        connection.write("GET /plain HTTP/1.1\r\nHost: test\r\n\r\n")
        #expect(try connection.readResponse().json?["plain"]?.boolValue == true)
    }

    @Test("issue 13: a pushed stream learns that its peer left: write fails, isOpen is false, onClose runs once")
    func pushedStreamNoticesThePeerLeaving() throws {
        let writers = Stash<StreamWriter>()
        let closed = Stash<Int>()
        let server = try InProcessServer(handler: { _, _ in
            HTTPResponse(
                status: 200,
                body: .push { writer in
                    writer.onClose { closed.add(1) }
                    writer.write(Array("hello\n".utf8))
                    writers.add(writer)
                })
        })
        let connection = try ServerTestSocket(tcpPort: server.port)
        connection.write("GET /stream HTTP/1.1\r\nHost: test\r\n\r\n")
        try #require(writers.wait(for: 1))
        let writer = try #require(writers.all.first)
        #expect(connection.waitReadable(milliseconds: 5000))
        #expect(writer.isOpen)
        close(connection.fd)
        #expect(closed.wait(for: 1), "onClose did not run after the peer left")
        #expect(!writer.isOpen)
        #expect(!writer.write(Array("late\n".utf8)))
        writer.finish()
        #expect(closed.all.count == 1)
    }

    @Test("issue 13: deferred answers hold no worker: more waiting requests than worker threads, completed later")
    func deferredAnswersHoldNoWorker() throws {
        let waiting = Stash<PendingResponse>()
        let server = try InProcessServer(handler: { request, _ in
            guard request.path == "/wait" else { return HTTPResponse.json(["quick": true]) }
            return HTTPResponse.deferred(
                timeoutMilliseconds: 20_000, onTimeout: { HTTPResponse.json(["timed_out": true]) }
            ) { pending in waiting.add(pending) }
        })
        let count = WorkerPool.shared.maxThreads + WorkerPool.shared.reservedThreads + 10
        var connections: [ServerTestSocket] = []
        for _ in 0..<count {
            let connection = try ServerTestSocket(tcpPort: server.port)
            connection.write("GET /wait HTTP/1.1\r\nHost: test\r\n\r\n")
            connections.append(connection)
        }
        try #require(waiting.wait(for: count), "only \(waiting.all.count) of \(count) requests were waiting")
        // Every worker would be taken if each waiting request held one; this one is answered at once.
        #expect(try server.tcpClient().send("GET", "/quick").json?["quick"]?.boolValue == true)
        spawnThread(name: "completer") {
            for (index, pending) in waiting.all.enumerated() {
                pending.complete(HTTPResponse.json(["answer": .int(index)]))
            }
        }
        var answers: Set<Int> = []
        for connection in connections {
            let response = try connection.readResponse()
            #expect(response.status == 200)
            if let answer = response.json?["answer"]?.intValue { answers.insert(Int(answer)) }
        }
        #expect(answers.count == count)
        // A second answer for the same request is refused.
        #expect(waiting.all.first?.complete(HTTPResponse.noContent) == false)
    }

    @Test("issue 13: a deferred request nobody answers gets its timeout answer; one whose peer leaves runs onClose")
    func deferredTimeoutAndAbandon() throws {
        let abandoned = Stash<Int>()
        let server = try InProcessServer(handler: { request, _ in
            HTTPResponse.deferred(
                timeoutMilliseconds: request.path == "/short" ? 100 : 20_000,
                onTimeout: { HTTPResponse.json(["timed_out": true]) }
            ) { pending in pending.onClose { abandoned.add(1) } }
        })
        let started = Monotonic.now
        let response = try server.unixClient().send("GET", "/short")
        #expect(response.status == 200)
        #expect(response.json?["timed_out"]?.boolValue == true)
        #expect(Monotonic.now - started < 5000)
        #expect(abandoned.all.isEmpty)

        let leaving = try ServerTestSocket(unixPath: server.socketPath)
        leaving.write("GET /long HTTP/1.1\r\nHost: test\r\n\r\n")
        usleep(50_000)
        close(leaving.fd)
        #expect(abandoned.wait(for: 1), "onClose did not run after the peer left")
    }

    @Test("issue 13: shutdown ends pushed streams cleanly and gives deferred requests their timeout answer")
    func shutdownEndsStreamsAndDeferredAnswers() throws {
        let started = Stash<Int>()
        let server = try InProcessServer(handler: { request, _ in
            if request.path == "/wait" {
                return HTTPResponse.deferred(
                    timeoutMilliseconds: 60_000, onTimeout: { HTTPResponse.json(["timed_out": true]) }
                ) { _ in started.add(1) }
            }
            return HTTPResponse(
                status: 200,
                body: .push { writer in
                    writer.write(Array("first\n".utf8))
                    started.add(2)
                })
        })
        let stream = try ServerTestSocket(unixPath: server.socketPath)
        stream.write("GET /stream HTTP/1.1\r\nHost: test\r\n\r\n")
        let waiting = try ServerTestSocket(unixPath: server.socketPath)
        waiting.write("GET /wait HTTP/1.1\r\nHost: test\r\n\r\n")
        try #require(started.wait(for: 2))
        server.shutdown(drainMilliseconds: 5000)
        let streamed = try stream.readResponse()
        #expect(streamed.text == "first\n")
        let answered = try waiting.readResponse()
        #expect(answered.json?["timed_out"]?.boolValue == true)
        #expect(answered.headers["connection"]?.lowercased() == "close")
    }

    @Test("issue 13: a loop handler answers on the I/O thread, at once or later from another thread")
    func loopHandlerAnswersNowOrLater() throws {
        let server = try InProcessServer(
            configure: { _ in },
            make: { configuration in
                HTTPServer(configuration: configuration) { request, _, pending in
                    #expect(pending.loop.inLoop)
                    if request.path == "/now" {
                        pending.complete(HTTPResponse.json(["when": "now"]))
                    } else {
                        spawnThread(name: "later") { pending.complete(HTTPResponse.json(["when": "later"])) }
                    }
                }
            })
        let connection = try ServerTestSocket(tcpPort: server.port)
        // Pipelined: answered in order although the first is answered later than the second is ready.
        connection.write("GET /later HTTP/1.1\r\nHost: t\r\n\r\nGET /now HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(try connection.readResponse().json?["when"]?.stringValue == "later")
        #expect(try connection.readResponse().json?["when"]?.stringValue == "now")
    }

    // MARK: - HEAD and absolute-form targets

    @Test("RFC 9110 9.3.2: HEAD on a GET route answers its status and headers without a body; 404 and 405 as for GET")
    func headWhereverGetExists() throws {
        let server = try InProcessServer(router: echoRouter())
        let connection = try ServerTestSocket(tcpPort: server.port)
        connection.write("GET /things/7 HTTP/1.1\r\nHost: test\r\n\r\n")
        let get = try connection.readResponse()
        connection.write("HEAD /things/7 HTTP/1.1\r\nHost: test\r\n\r\n")
        let head = try connection.readResponse(method: "HEAD")
        #expect(head.status == 200)
        #expect(head.body.isEmpty)
        #expect(head.headers["content-length"] == String(get.body.count))
        #expect(head.headers["content-type"] == get.headers["content-type"])
        // Nothing stray followed the head: the next answer on the connection is intact.
        connection.write("GET /things/8 HTTP/1.1\r\nHost: test\r\n\r\n")
        #expect(try connection.readResponse(method: "GET").json?["id"]?.stringValue == "8")

        let client = server.tcpClient()
        #expect(try client.send("HEAD", "/nothing/here").status == 404)
        let wrong = try client.send("PATCH", "/things")
        #expect(wrong.status == 405)
        #expect(wrong.headers["allow"] == "GET, POST")
    }

    @Test("RFC 9112 3.2.2: an absolute-form target is served as its path, with Host from its authority")
    func absoluteFormTargets() throws {
        let server = try InProcessServer(handler: { request, _ in
            HTTPResponse.json([
                "target": .string(request.target), "path": .string(request.path),
                "host": .optional(request.headers["host"]),
            ])
        })
        let connection = try ServerTestSocket(tcpPort: server.port)
        connection.write("GET http://shop.example.com:8000/orders/7?x=1 HTTP/1.1\r\nHost: ignored.example\r\n\r\n")
        let response = try connection.readResponse()
        #expect(response.json?["target"]?.stringValue == "/orders/7?x=1")
        #expect(response.json?["path"]?.stringValue == "/orders/7")
        #expect(response.json?["host"]?.stringValue == "shop.example.com:8000")
        connection.write("GET http://shop.example.com HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try connection.readResponse().json?["target"]?.stringValue == "/")
    }
}
