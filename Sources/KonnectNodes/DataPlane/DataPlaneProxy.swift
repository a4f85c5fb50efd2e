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
        guard let current = running.withLock({ $0 }) else {
            pending.complete(DataPlaneNode.proxyError(503, "This data plane has no configuration"))
            return
        }
        let hostHeader = request.headers["host"]
        let host = hostHeader.map { value -> String in
            if value.hasPrefix("[") { return value.lowercased() }
            return String(value.split(separator: ":").first ?? "").lowercased()
        }
        // Dot-segments are resolved before routing and in what is forwarded (RFC 3986 5.2.4), so a path
        // never leaves the service it was routed to.
        let path = RequestTarget.removeDotSegments(request.path)
        let info = ProxyRequestInfo(method: request.method, path: path, host: host, headers: request.headers.fields)
        guard let match = current.routes.match(info) else {
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
        var headers = HTTPHeaders()
        for (name, value) in request.headers where !DataPlaneNode.isHopByHop(name) {
            headers.add(name, value)
        }
        headers.set(
            "Host",
            match.preserveHost
                ? (hostHeader ?? target.host) : (target.port == 80 ? target.host : "\(target.host):\(target.port)"))
        headers.add("X-Forwarded-For", "127.0.0.1")
        headers.add("X-Forwarded-Proto", "http")
        if let hostHeader { headers.add("X-Forwarded-Host", hostHeader) }
        headers.add("X-Forwarded-Path", path)
        let query = request.rawQuery.map { "?" + $0 } ?? ""
        let upstreamStarted = Monotonic.nanoseconds
        DataPlaneNode.upstreamClient.send(
            ClientRequest(
                method: request.method, target: match.upstreamPath + query, headers: headers, body: request.body),
            host: target.host, port: target.port, connectTimeoutMilliseconds: target.connectTimeoutMilliseconds,
            timeoutMilliseconds: target.readTimeoutMilliseconds, on: pending.loop
        ) { result in
            switch result {
            case .success(let response):
                pending.complete(
                    DataPlaneNode.relay(
                        response, upstreamMilliseconds: (Monotonic.nanoseconds - upstreamStarted) / 1_000_000,
                        proxyMilliseconds: (upstreamStarted - started) / 1_000_000))
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

    /// The upstream's answer as the client gets it: hop-by-hop fields removed, `Via` and Kong's latency
    /// headers added; a chunked answer stays chunked, and an answer to HEAD keeps its Content-Length.
    static func relay(_ response: ClientResponse, upstreamMilliseconds: UInt64, proxyMilliseconds: UInt64)
        -> HTTPResponse
    {
        var out = HTTPHeaders()
        var chunked = false
        for (name, value) in response.headers {
            if HTTPHeaders.nameEquals(name, "transfer-encoding") {
                chunked = value.lowercased().contains("chunked")
                continue
            }
            if DataPlaneNode.isHopByHop(name)
                && !(response.body.isEmpty && HTTPHeaders.nameEquals(name, "content-length"))
            {
                continue
            }
            out.add(name, value)
        }
        out.add("Via", "1.1 kong/\(DataPlaneNode.softwareVersion)")
        out.add("X-Kong-Upstream-Latency", String(upstreamMilliseconds))
        out.add("X-Kong-Proxy-Latency", String(proxyMilliseconds))
        if chunked {
            let body = response.body
            return HTTPResponse(
                status: response.status, headers: out,
                body: .push { writer in
                    writer.write(body)
                    writer.finish()
                })
        }
        return HTTPResponse(status: response.status, headers: out, bytes: response.body)
    }

    static func isHopByHop(_ name: String) -> Bool {
        hopByHop.contains { HTTPHeaders.nameEquals(name, $0) }
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
                        headers: ["Authorization": "Bearer \(configuration.credential)"])
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
