import KonnectCluster
import KonnectCore
import KonnectHTTP
import KonnectSecurity
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The console's process side: a loopback HTTP server (kernel-chosen port unless one is asked for),
/// a sampler thread that reads the cluster every few hundred milliseconds and publishes the page's
/// sections when they change, a server-sent event stream per open page, and the actions, each through
/// the same `Cluster` operation as the CLI. Stop it with `stop()` (the command does on SIGINT/SIGTERM).
public final class ConsoleServer: Sendable {
    /// What the page shows now.
    struct Published: Sendable {
        var version = 0
        var sections: [String: String] = [:]
    }

    public let cluster: Cluster
    public let gate: ConsoleGate
    private let server: HTTPServer
    private let app: ConsoleApp

    /// How often the cluster is read when nothing pokes the sampler.
    static let sampleMilliseconds = 300
    /// A comment on the event stream this often, so a closed page is noticed.
    static let keepAliveMilliseconds = 5000

    /// Starts serving on 127.0.0.1 (`port` 0: the kernel picks) with a fresh token unless one is given.
    public init(cluster: Cluster, port: Int = 0, token: String = Secrets.token(prefix: "kcon_")) throws {
        self.cluster = cluster
        let app = ConsoleApp(cluster: cluster)
        var configuration = HTTPServer.Configuration()
        configuration.maxTCPConnections = 64
        let router = app.router()
        let server = HTTPServer(configuration: configuration) { request, _ in app.handle(request, router) }
        let actual = try server.listen(tcpPort: port)
        let gate = ConsoleGate(token: token, port: actual)
        app.gate.withLock { $0 = gate }
        self.server = server
        self.app = app
        self.gate = gate
        app.sampleOnce()
        server.start()
        spawnThread(name: "console-sampler") { app.sampleLoop() }
    }

    public var url: String { gate.url }
    public var port: Int { gate.port }

    /// Ends the event streams and the sampler, then stops the server.
    public func stop() {
        app.stopping.store(true, ordering: .sequentiallyConsistent)
        app.changed.fire()
        app.poke.fire()
        server.shutdown(drainMilliseconds: 2000)
    }
}

/// The console's state and request handling, shared by the server's threads.
final class ConsoleApp: Sendable {
    let cluster: Cluster
    let reader: ConsoleReader
    let gate = Mutex<ConsoleGate?>(nil)
    let published = Mutex(ConsoleServer.Published())
    let timeline = Mutex(ConsoleTimeline())
    let lastMove = Mutex<CalendarMove?>(nil)
    let lastCalendar = Mutex<SimTime?>(nil)
    /// Fired when `published` changes.
    let changed = Signal()
    /// Fired to read the cluster now (after an action).
    let poke = Signal()
    let stopping = Atomic<Bool>(false)

    init(cluster: Cluster) {
        self.cluster = cluster
        reader = ConsoleReader(cluster: cluster)
    }

    var isStopping: Bool { stopping.load(ordering: .sequentiallyConsistent) }

    // MARK: - Sampling

    func sampleLoop() {
        while !isStopping {
            let seen = poke.current
            sampleOnce()
            poke.wait(after: seen, timeoutMilliseconds: ConsoleServer.sampleMilliseconds)
        }
    }

    /// Reads the cluster, updates the timeline and the last calendar move, and publishes the sections
    /// if any changed.
    func sampleOnce() {
        let state = reader.read()
        let now = ConsoleApp.wallMilliseconds()
        if let calendar = state.calendar {
            let previous = lastCalendar.withLock { value -> SimTime? in
                defer { value = calendar }
                return value
            }
            // A move the console did not make (its own are recorded with their report).
            if let previous, previous != calendar {
                lastMove.withLock { move in
                    if move?.to != calendar { move = CalendarMove(from: previous, to: calendar) }
                }
            }
        }
        let timelineHTML = timeline.withLock { timeline in
            timeline.observe(state, at: now)
            return ConsolePage.timeline(timeline, now: now / 1000 * 1000)
        }
        let view = ConsoleView(state: state, lastMove: lastMove.withLock { $0 })
        let sections = ConsolePage.sections(view, timeline: timelineHTML)
        let changedNow = published.withLock { published -> Bool in
            guard published.sections != sections else { return false }
            published.version += 1
            published.sections = sections
            return true
        }
        if changedNow { changed.fire() }
    }

    static func wallMilliseconds() -> Int {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int(now.tv_sec) * 1000 + Int(now.tv_nsec) / 1_000_000
    }

    // MARK: - Requests

    func handle(_ request: HTTPRequest, _ router: Router) -> HTTPResponse {
        guard let gate = gate.withLock({ $0 }) else {
            return HTTPResponse(status: 503, headers: ["Content-Type": "text/plain; charset=utf-8"], bytes: [])
        }
        var response: HTTPResponse
        switch gate.check(
            method: request.method, path: request.path, headers: request.headers,
            queryToken: request.queryValue("token"))
        {
        case .deny(let status, let message):
            response = HTTPResponse(
                status: status, headers: ["Content-Type": "text/plain; charset=utf-8"],
                bytes: Array((message + "\n").utf8))
        case .allow(let cookie):
            response = router.handle(request, listener: .tcp)
            if let cookie { response.headers.add("Set-Cookie", cookie) }
        }
        for (name, value) in ConsoleGate.securityHeaders { response.headers.set(name, value) }
        return response
    }

    /// The console's routes; the gate has passed before any of them runs.
    func router() -> Router {
        Router(routes: [
            Router.route("GET", "/") { _ in
                let sections = self.published.withLock { $0.sections }
                return ConsoleApp.text(
                    ConsoleAssets.page(directory: self.cluster.directory, sections: sections), "text/html")
            },
            Router.route("GET", "/console.css") { _ in ConsoleApp.text(ConsoleAssets.css, "text/css") },
            Router.route("GET", "/console.js") { _ in ConsoleApp.text(ConsoleAssets.script, "text/javascript") },
            Router.route("GET", "/favicon.svg") { _ in ConsoleApp.text(ConsoleAssets.icon, "image/svg+xml") },
            Router.route("GET", "/state") { _ in
                let published = self.published.withLock { $0 }
                return HTTPResponse.json(ConsoleApp.payload(published.version, published.sections))
            },
            Router.route("GET", "/events") { _ in self.events() },
            Router.route("POST", "/actions") { request in try self.act(request) },
        ])
    }

    static func text(_ body: String, _ type: String) -> HTTPResponse {
        HTTPResponse(status: 200, headers: ["Content-Type": "\(type); charset=utf-8"], bytes: Array(body.utf8))
    }

    static func payload(_ version: Int, _ sections: [String: String]) -> JSON {
        var object = JSONObject()
        for id in ConsolePage.sectionIDs { if let html = sections[id] { object[id] = .string(html) } }
        return ["version": .int(Int64(version)), "sections": .object(object)]
    }

    /// Server-sent events: the sections that changed since this page's last message, as soon as the
    /// sampler publishes them; a comment every few seconds so a closed page ends the stream. No thread
    /// waits for a change: see `ConsoleEventFeed`.
    func events() -> HTTPResponse {
        HTTPResponse(
            status: 200, headers: ["Content-Type": "text/event-stream"],
            body: .push { [self] writer in
                guard writer.write(Array("retry: 1000\n\n".utf8)) else {
                    writer.finish()
                    return
                }
                ConsoleEventFeed(app: self, writer: writer).turn()
            })
    }

    /// `POST /actions`: one action, carried out by the CLI's operation; 404 for a node or link that does
    /// not exist, 409 when the node's state does not allow it (killing a node that is down).
    func act(_ request: APIRequest) throws -> HTTPResponse {
        guard request.http.headers["content-type"]?.lowercased().hasPrefix("application/json") == true else {
            throw APIError(status: 415, detail: "Actions are JSON: send Content-Type: application/json")
        }
        let action = try ConsoleAction(json: try request.json())
        try requireTarget(action)
        let report: JSON?
        do {
            report = try cluster.perform(action)
        } catch let error as UsageError {
            throw APIError.badRequest(error.message)
        } catch let error as ProcessError {
            throw APIError.conflict(error.message)
        }
        if let report, let from = report["previous"]?.stringValue.flatMap(SimTime.init(iso8601:)),
            let to = report["now"]?.stringValue.flatMap(SimTime.init(iso8601:))
        {
            lastMove.withLock { $0 = CalendarMove(from: from, to: to, report: report) }
        }
        poke.fire()
        return HTTPResponse.json(["message": .string(action.done), "report": report ?? .null])
    }

    /// The node or link an action names must exist.
    func requireTarget(_ action: ConsoleAction) throws {
        switch action {
        case .kill(let node), .restart(let node), .pause(let node), .resume(let node):
            let names = cluster.records.map(\.name)
            guard names.contains(node) else {
                throw APIError.notFound("No node named '\(node)'; nodes: \(names.joined(separator: ", "))")
            }
        case .partition(let from, let to), .heal(let from, let to), .slow(let from, let to, _),
            .drop(let from, let to, _):
            let links = cluster.links
            let link = LinkFault.linkName(from: from, to: to)
            guard links.contains(link) else {
                throw APIError.notFound("No link \(link); links: \(links.joined(separator: ", "))")
            }
        case .healAll, .advanceCalendar, .setCalendar: break
        }
    }
}

/// One page's event stream: each turn (on a worker) sends what changed, then waits without a thread
/// for the next change or the keep-alive interval (`Signal.whenChanged`). Turns never overlap.
final class ConsoleEventFeed: Sendable {
    private struct Sent {
        var sections: [String: String] = [:]
        var version = -1
    }

    private let app: ConsoleApp
    private let writer: StreamWriter
    private let sent = Mutex(Sent())

    init(app: ConsoleApp, writer: StreamWriter) {
        self.app = app
        self.writer = writer
    }

    func turn() {
        guard writer.isOpen && !app.isStopping else {
            writer.finish()
            return
        }
        let seen = app.changed.current
        let current = app.published.withLock { $0 }
        let delivered = sent.withLock { sent -> Bool in
            guard current.version != sent.version else { return true }
            let delta = current.sections.filter { sent.sections[$0.key] != $0.value }
            let message = "event: state\ndata: \(ConsoleApp.payload(current.version, delta).text)\n\n"
            guard writer.write(Array(message.utf8)) else { return false }
            sent.sections = current.sections
            sent.version = current.version
            return true
        }
        guard delivered else {
            writer.finish()
            return
        }
        app.changed.whenChanged(after: seen, timeoutMilliseconds: ConsoleServer.keepAliveMilliseconds) {
            [self] changed in
            if !changed && !writer.write(Array(": keep-alive\n\n".utf8)) {
                writer.finish()
                return
            }
            turn()
        }
    }
}
