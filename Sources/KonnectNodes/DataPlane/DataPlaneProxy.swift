import KonnectCore
import KonnectHTTP
import KonnectStorage

/// The data plane's reverse proxy (C3) and its usage counting (B3).
extension DataPlaneNode {
    static let hopByHop: [String] = [
        "connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade",
        "proxy-authorization", "proxy-authenticate", "content-length", "host",
    ]

    /// Kong's JSON error for the proxy.
    static func proxyError(_ status: Int, _ message: String, extra: JSONObject = JSONObject()) -> HTTPResponse {
        var body = JSONObject([("message", .string(message))])
        for (key, value) in extra { body[key] = value }
        var response = HTTPResponse.json(.object(body), status: status)
        response.headers.set("Server", "kong/\(DataPlaneNode.softwareVersion)")
        return response
    }

    /// Forwards requests to upstreams from the event loops, with a keep-alive pool per upstream and loop.
    static let upstreamClient = EventLoopHTTPClient(maxIdle: 64)

    /// Handles one proxied request on the connection's event loop, without a worker hop: route (on the
    /// path with dot-segments removed), count, forward; `pending` is completed when the upstream answers.
    func proxy(_ request: HTTPRequest, _ pending: PendingResponse) {
        let started = Monotonic.nanoseconds
        switch subscriber.machine.withLock({ $0.proxyMode }) {
        case .refuse(let reason):
            let state = subscriber.machine.withLock { $0.state }
            pending.complete(
                DataPlaneNode.proxyError(
                    503,
                    state == .orphaned
                        ? "This data plane no longer proxies: \(reason)"
                        : "This data plane cannot proxy yet: \(reason)",
                    extra: JSONObject([("reason", .string(reason)), ("data_plane_state", .string(state.rawValue))])))
            return
        case .serve:
            break
        }
        guard let routes = running.withLock({ $0?.routes }) else {
            pending.complete(DataPlaneNode.proxyError(503, "This data plane has no configuration"))
            return
        }
        let hostHeader = request.headers["host"]
        let host = hostHeader.map(DataPlaneNode.routingHost)
        // Dot-segments are resolved before routing and in what is forwarded (RFC 3986 5.2.4), so a path
        // never leaves the service it was routed to.
        let path = RequestTarget.removeDotSegments(request.path)
        let info = ProxyRequestInfo(method: request.method, path: path, host: host, headers: request.headers.fields)
        guard let match = routes.match(info) else {
            pending.complete(DataPlaneNode.proxyError(404, "no Route matched with those values"))
            return
        }
        count(serviceID: match.serviceID ?? "", routeID: match.routeID, lane: pending.loop.index)
        guard let target = match.upstream else {
            pending.complete(DataPlaneNode.proxyError(503, "no Service found with those values"))
            return
        }
        guard target.protocolName == "http" else {
            pending.complete(
                DataPlaneNode.proxyError(
                    502,
                    "An invalid response was received from the upstream server: the simulator proxies http upstreams only, not \(target.protocolName)"
                ))
            return
        }
        // The request as the upstream gets it, written once: hop-by-hop fields dropped, Host and the
        // X-Forwarded-* fields set.
        var message = MessageWriter(capacity: 512 + request.body.count)
        let query = request.rawQuery
        message.requestLine(request.method, query.map { match.upstreamPath + "?" + $0 } ?? match.upstreamPath)
        for (name, value) in request.headers where !DataPlaneNode.isHopByHop(name) {
            message.field(name, value)
        }
        message.field("Host", match.preserveHost ? (hostHeader ?? target.host) : target.authority)
        message.field("X-Forwarded-For", request.clientAddress ?? "127.0.0.1")
        message.field("X-Forwarded-Proto", "http")
        if let hostHeader { message.field("X-Forwarded-Host", hostHeader) }
        message.field("X-Forwarded-Path", path)
        if !request.body.isEmpty || request.method == "POST" || request.method == "PUT" || request.method == "PATCH" {
            message.field("Content-Length", decimal: request.body.count)
        }
        message.end(body: request.body)
        let upstreamStarted = Monotonic.nanoseconds
        DataPlaneNode.upstreamClient.send(
            encoded: message.bytes, method: request.method, host: target.host, port: target.port,
            connectTimeoutMilliseconds: target.connectTimeoutMilliseconds,
            timeoutMilliseconds: target.readTimeoutMilliseconds, on: pending.loop
        ) { result in
            switch result {
            case .success(let response):
                DataPlaneNode.relay(
                    response, to: pending, upstreamMilliseconds: (Monotonic.nanoseconds - upstreamStarted) / 1_000_000,
                    proxyMilliseconds: (upstreamStarted - started) / 1_000_000)
            case .failure(let error):
                switch error.kind {
                case .timedOut:
                    pending.complete(DataPlaneNode.proxyError(504, "The upstream server is timing out"))
                default:
                    pending.complete(
                        DataPlaneNode.proxyError(502, "An invalid response was received from the upstream server"))
                }
            }
        }
    }

    /// Answers with the upstream's response: hop-by-hop fields removed, `Via` and Kong's latency fields
    /// added, written straight to bytes. A chunked answer stays chunked; an answer to HEAD keeps the
    /// upstream's Content-Length.
    static func relay(
        _ response: ClientResponse, to pending: PendingResponse, upstreamMilliseconds: UInt64, proxyMilliseconds: UInt64
    ) {
        let close = pending.closesConnection
        let method = pending.requestMethod
        var message = MessageWriter(capacity: 512 + response.body.count)
        message.statusLine(response.status)
        var chunked = false
        var declaredLength: String? = nil
        for (name, value) in response.headers {
            if HTTPHeaders.nameEquals(name, "transfer-encoding") {
                chunked = HTTPHeaders.value(value, contains: "chunked")
            } else if HTTPHeaders.nameEquals(name, "content-length") {
                declaredLength = value
            } else if !DataPlaneNode.isHopByHop(name) {
                message.field(name, value)
            }
        }
        message.field("Via", DataPlaneNode.via)
        message.field("X-Kong-Upstream-Latency", decimal: Int(upstreamMilliseconds))
        message.field("X-Kong-Proxy-Latency", decimal: Int(proxyMilliseconds))
        let sendsBody = !HTTPResponse.hasNoBody(status: response.status, method: method)
        if chunked {
            message.field("Transfer-Encoding", "chunked")
            if close { message.field("Connection", "close") }
            message.end()
            if sendsBody {
                if !response.body.isEmpty { message.chunk(response.body) }
                message.lastChunk()
            }
        } else {
            if !(response.status == 204 || response.status == 304 || response.status < 200) {
                if method == "HEAD", response.body.isEmpty, let declaredLength {
                    message.field("Content-Length", declaredLength)
                } else {
                    message.field("Content-Length", decimal: response.body.count)
                }
            }
            if close { message.field("Connection", "close") }
            message.end(body: sendsBody ? response.body : [])
        }
        pending.complete(encoded: message.bytes, close: close)
    }

    /// The Host header's host as routes match it: lower-cased, without the port (IPv6 literals whole).
    static func routingHost(_ value: String) -> String {
        if value.hasPrefix("[") { return value.lowercased() }
        let bytes = value.utf8
        let end = bytes.firstIndex(of: UInt8(ascii: ":")) ?? bytes.endIndex
        let host = bytes[bytes.startIndex..<end]
        if host.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) { return String(Substring(host)).lowercased() }
        return end == bytes.endIndex ? value : String(Substring(host))
    }

    static let via = "1.1 kong/\(DataPlaneNode.softwareVersion)"

    static func isHopByHop(_ name: String) -> Bool {
        // Only names of these lengths can be one: most fields are ruled out without comparing.
        switch name.utf8.count {
        case 2, 4, 7, 10, 14, 16, 17, 18, 19: return hopByHop.contains { HTTPHeaders.nameEquals(name, $0) }
        default: return false
        }
    }

    /// Counts one API call before it is forwarded (on the event loop `lane`; see `UsageReportStore.count`).
    private func count(serviceID: String, routeID: String, lane: Int) {
        do {
            try usage.count(serviceID: serviceID, routeID: routeID, lane: lane)
        } catch {
            Log.error("cannot count an API call: \(error)")
        }
    }

    /// Every half second: turn the counters into a numbered report (one transaction), then deliver
    /// reports in order until the geo acknowledges them. A report keeps its number across crashes and
    /// retries, and the geo ignores numbers it has seen: no loss, no double count (B3).
    func usageLoop() {
        var backoff = Backoff(
            baseMilliseconds: 200, maximumMilliseconds: 3000,
            seed: (configuration.seed ?? 0) ^ SeededRandom.hash(configuration.name + "usage"))
        let log = LoopLog(loop: "dp usage reports")
        while !isStopping {
            usageQueued.wait(after: usageQueued.current, timeoutMilliseconds: 500)
            do {
                try usage.closeReport()
                for report in try usage.pendingReports(nodeID: nodeID) {
                    let response = try geo.json(
                        "POST", "/internal/v1/dp/usage", report.json,
                        headers: configuration.credentialHeaders)
                    _ = try response.decode("POST /internal/v1/dp/usage", DataPlaneUsageReceipt.init(json:))
                    try usage.acknowledge(report.seq)
                }
                backoff.reset()
                log.succeeded()
            } catch {
                let delay = backoff.next()
                log.failed(error, next: "keeping the reports on disk, retrying in \(delay) ms")
                sleepMilliseconds(delay)
            }
        }
    }
}
