import KonnectCore
import KonnectHTTP
import KonnectStorage

/// The data plane's reverse proxy (C3) and its usage counting (B3).
extension DataPlaneNode {
    static let hopByHop: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade",
        "proxy-authorization",
        "proxy-authenticate", "content-length", "host",
    ]

    /// Kong's JSON error for the proxy.
    static func proxyError(_ status: Int, _ message: String, extra: JSONObject = JSONObject()) -> HTTPResponse {
        var body = JSONObject([("message", .string(message))])
        for (key, value) in extra { body[key] = value }
        var response = HTTPResponse.json(.object(body), status: status)
        response.headers.set("Server", "kong/\(DataPlaneNode.softwareVersion)")
        return response
    }

    /// Handles one proxied request: route, forward, count.
    func proxy(_ request: HTTPRequest) -> HTTPResponse {
        let started = Monotonic.nanoseconds
        switch subscriber.machine.withLock({ $0.proxyMode }) {
        case .refuse(let reason):
            let state = subscriber.machine.withLock { $0.state }
            return DataPlaneNode.proxyError(
                503,
                state == .orphaned
                    ? "This data plane no longer proxies: \(reason)" : "This data plane cannot proxy yet: \(reason)",
                extra: JSONObject([("reason", .string(reason)), ("data_plane_state", .string(state.rawValue))]))
        case .serve:
            break
        }
        guard let current = running.withLock({ $0 }) else {
            return DataPlaneNode.proxyError(503, "This data plane has no configuration")
        }
        let hostHeader = request.headers["host"]
        let host = hostHeader.map { value -> String in
            if value.hasPrefix("[") { return value.lowercased() }
            return String(value.split(separator: ":").first ?? "").lowercased()
        }
        let info = ProxyRequestInfo(
            method: request.method, path: request.path, host: host, headers: request.headers.fields)
        guard let match = current.routes.match(info) else {
            return DataPlaneNode.proxyError(404, "no Route matched with those values")
        }
        count(serviceID: match.serviceID ?? "", routeID: match.routeID)
        guard let target = match.upstream else {
            return DataPlaneNode.proxyError(503, "no Service found with those values")
        }
        guard target.protocolName == "http" else {
            return DataPlaneNode.proxyError(
                502,
                "An invalid response was received from the upstream server: the simulator proxies http upstreams only, not \(target.protocolName)"
            )
        }
        var headers = HTTPHeaders()
        for (name, value) in request.headers where !DataPlaneNode.hopByHop.contains(name.lowercased()) {
            headers.add(name, value)
        }
        headers.set(
            "Host",
            match.preserveHost
                ? (hostHeader ?? target.host) : (target.port == 80 ? target.host : "\(target.host):\(target.port)"))
        headers.add("X-Forwarded-For", "127.0.0.1")
        headers.add("X-Forwarded-Proto", "http")
        if let hostHeader { headers.add("X-Forwarded-Host", hostHeader) }
        headers.add("X-Forwarded-Path", request.path)
        let query = request.rawQuery.map { "?" + $0 } ?? ""
        let client = upstream(target)
        let upstreamStarted = Monotonic.nanoseconds
        do {
            let response = try client.send(
                request.method, match.upstreamPath + query, headers: headers, body: request.body,
                timeoutMilliseconds: target.readTimeoutMilliseconds)
            let upstreamLatency = (Monotonic.nanoseconds - upstreamStarted) / 1_000_000
            var out = HTTPHeaders()
            let chunked = response.headers["transfer-encoding"]?.lowercased().contains("chunked") == true
            for (name, value) in response.headers where !DataPlaneNode.hopByHop.contains(name.lowercased()) {
                out.add(name, value)
            }
            out.add("Via", "1.1 kong/\(DataPlaneNode.softwareVersion)")
            out.add("X-Kong-Upstream-Latency", String(upstreamLatency))
            out.add("X-Kong-Proxy-Latency", String((upstreamStarted - started) / 1_000_000))
            if chunked {
                // Keep the upstream's framing: a chunked response stays chunked.
                let body = response.body
                return HTTPResponse(
                    status: response.status, headers: out, body: .stream { writer in _ = writer.write(body) })
            }
            return HTTPResponse(status: response.status, headers: out, bytes: response.body)
        } catch {
            switch error.kind {
            case .timedOut:
                return DataPlaneNode.proxyError(504, "The upstream server is timing out")
            default:
                return DataPlaneNode.proxyError(502, "An invalid response was received from the upstream server")
            }
        }
    }

    /// A keep-alive client per upstream address.
    private func upstream(_ target: ServiceTarget) -> HTTPClient {
        let key = "\(target.host):\(target.port):\(target.connectTimeoutMilliseconds)"
        return upstreams.withLock { clients in
            if let client = clients[key] { return client }
            let client = HTTPClient(
                endpoint: .tcp(host: target.host, port: target.port),
                connectTimeoutMilliseconds: target.connectTimeoutMilliseconds,
                timeoutMilliseconds: target.readTimeoutMilliseconds, maxIdle: 32)
            clients[key] = client
            return client
        }
    }

    /// Counts one API call (kept on disk, so a crash loses nothing already counted).
    private func count(serviceID: String, routeID: String) {
        do {
            try usage.count(serviceID: serviceID, routeID: routeID)
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
