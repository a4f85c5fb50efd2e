import KonnectCluster
import KonnectCore
import KonnectHTTP
import KonnectNodes
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// `konnect-sim bench ...`: numbers, printed (speed goals live here, never in timed tests).
public enum Benchmarks {
    public static func command(_ command: ParsedCommand) throws {
        switch command.path.last {
        case "sync":
            try sync(
                dataPlanes: try count(command, "dps", 1...500, 50),
                changes: try count(command, "changes", 1...100_000, 200))
        case "calendar":
            let text = command.option("by") ?? "365d"
            guard let duration = SimDuration(text: text) else {
                throw UsageError("invalid value '\(text)' for --by; expected a duration such as 365d")
            }
            try calendar(organizations: try count(command, "orgs", 1...100_000, 1000), by: duration)
        default:
            try http(
                requests: try count(command, "requests", 1...10_000_000, 2000),
                clients: try count(command, "clients", 1...64, 4))
        }
    }

    static func count(_ command: ParsedCommand, _ name: String, _ range: ClosedRange<Int>, _ fallback: Int) throws
        -> Int
    {
        guard let text = command.option(name) else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw UsageError(
                "invalid value '\(text)' for --\(name); expected an integer from \(range.lowerBound) to \(range.upperBound)"
            )
        }
        return value
    }

    /// A throwaway cluster for one benchmark, always stopped.
    final class BenchCluster: Sendable {
        let cluster: Cluster
        let directory: String
        init(geos: [String]) throws {
            var template = Array("/tmp/ksb-XXXXXX".utf8CString)
            guard let made = mkdtemp(&template) else { throw ProcessError("cannot create a temporary directory") }
            directory = String(cString: made)
            cluster = Cluster(directory: directory)
            _ = try ClusterBoot.up(cluster, ClusterConfiguration(geos: geos, seed: 1))
        }
        deinit {
            _ = cluster.down(graceMilliseconds: 3000)
            removeTree(directory)
        }
        func tcp(_ name: String) throws -> HTTPClient {
            let record = try cluster.requireRecord(name)
            guard let port = cluster.descriptor(record)?.port else { throw ProcessError("\(name) has no port") }
            return HTTPClient(endpoint: .tcp(host: "127.0.0.1", port: port), timeoutMilliseconds: 60_000)
        }
        func expect(_ response: ClientResponse, _ status: Int, _ what: String) throws -> JSON {
            guard response.status == status else {
                throw ProcessError("\(what) answered \(response.status): \(response.text.prefix(300))")
            }
            return response.json ?? .null
        }
        /// An organization with a logged-in admin; returns the token.
        func organization(_ email: String, geo: String = "eu") throws -> String {
            let auth = try tcp("auth")
            _ = try expect(
                try auth.json(
                    "POST", "/v3/signup",
                    [
                        "email": .string(email), "password": "Correct-Horse-42!", "full_name": "Bench",
                        "organization_name": "Bench", "geo": .string(geo),
                    ]), 201, "signup")
            let login = try expect(
                try auth.json("POST", "/v3/authenticate", ["email": .string(email), "password": "Correct-Horse-42!"]),
                200, "login")
            return login["access_token"]?.stringValue ?? ""
        }
    }

    static func percentile(_ sorted: [Double], _ fraction: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let index = min(sorted.count - 1, Int((Double(sorted.count) * fraction).rounded(.up)) - 1)
        return sorted[max(0, index)]
    }

    static func format(_ milliseconds: Double) -> String {
        let rounded = (milliseconds * 100).rounded() / 100
        return "\(rounded) ms"
    }

    /// Change-to-applied latency on many data planes, with the raw Unix-socket round trip for comparison.
    static func sync(dataPlanes: Int, changes: Int) throws {
        print(
            "bench sync: \(dataPlanes) data planes, \(changes) configuration changes (\(sysconf(Int32(_SC_NPROCESSORS_ONLN))) cores)"
        )
        let bench = try BenchCluster(geos: ["eu"])
        let token = try bench.organization("bench@example.com")
        let geo = try bench.tcp("eu")
        let headers: HTTPHeaders = ["Authorization": "Bearer \(token)"]
        let cp = try bench.expect(
            try geo.json("POST", "/v2/control-planes", ["name": "bench"], headers: headers), 201, "create control plane"
        )
        let cpID = cp["id"]?.stringValue ?? ""
        _ = try bench.expect(
            try geo.json(
                "POST", "/v2/control-planes/\(cpID)/core-entities/services",
                ["name": "svc", "url": "http://127.0.0.1:9/"], headers: headers), 201,
            "create service")

        let started = Monotonic.now
        do {
            try concurrently(dataPlanes, lanes: 8, name: "bench-dp") { index in
                try bench.cluster.startDataPlane(name: "dp\(index)", geo: "eu", controlPlane: cpID)
            }
        } catch {
            throw ProcessError("a data plane did not start: \(error)")
        }
        print("started \(dataPlanes) data planes in \(Double(Monotonic.now - started) / 1000) s")

        let clients = (0..<dataPlanes).map { try? bench.cluster.client(named: "dp\($0)", timeoutMilliseconds: 5000) }
        /// The versions every data plane has applied and cached on disk.
        func versions(_ field: String) -> [Int64] {
            clients.map { client in (try? client?.send("GET", "/version"))??.json?[field]?.intValue ?? -1 }
        }
        /// Waits until every data plane has applied the version and written it to its disk cache, so that
        /// each change is measured on a quiet disk rather than behind the previous change's fsyncs.
        func waitForAll(_ version: Int64) throws {
            let deadline = Monotonic.now + 30_000
            var waiting = Array(clients.indices)
            // Polling 50 processes would compete for the CPU with the push being measured: let it finish first.
            sleepMilliseconds(30)
            while Monotonic.now < deadline {
                waiting = waiting.filter { index in
                    ((try? clients[index]?.send("GET", "/version"))??.json?["cached_version"]?.intValue ?? -1) < version
                }
                if waiting.isEmpty { return }
                usleep(5000)
            }
            throw ProcessError("not every data plane reached version \(version) within 30 s")
        }
        let initial = versions("version").max() ?? 0
        try waitForAll(initial)

        var sentAt: [Int64: UInt64] = [:]
        var acknowledged: [Double] = []
        for change in 1...changes {
            let version = initial + Int64(change)
            sentAt[version] = Monotonic.nanoseconds
            _ = try bench.expect(
                try geo.json(
                    "PATCH", "/v2/control-planes/\(cpID)/core-entities/services/svc", ["retries": .int(change % 30)],
                    headers: headers), 200,
                "change \(change)")
            acknowledged.append(Double(Monotonic.nanoseconds - sentAt[version]!) / 1_000_000)
            try waitForAll(version)
        }
        acknowledged.sort()
        var latencies: [Double] = []
        var firstByVersion: [Int64: Double] = [:]
        for client in clients {
            guard let applied = (try? client?.send("GET", "/applied"))??.json?.arrayValue else { continue }
            for entry in applied {
                guard let version = entry["version"]?.intValue, let sent = sentAt[version],
                    let at = entry["monotonic_ns"]?.intValue
                else { continue }
                let latency = Double(UInt64(bitPattern: at) &- sent) / 1_000_000
                latencies.append(latency)
                firstByVersion[version] = min(firstByVersion[version] ?? .infinity, latency)
            }
        }
        latencies.sort()
        let firsts = firstByVersion.values.sorted()
        print(
            "first data plane to apply each change: p50 \(format(percentile(firsts, 0.5))), p99 \(format(percentile(firsts, 0.99)))"
        )

        // The raw Unix-socket round trip, measured in the same run.
        let socket = try bench.cluster.client(named: "eu")
        var roundTrips: [Double] = []
        for _ in 0..<2000 {
            let start = Monotonic.nanoseconds
            _ = try socket.send("GET", "/health")
            roundTrips.append(Double(Monotonic.nanoseconds - start) / 1_000_000)
        }
        roundTrips.sort()
        print(
            "change-to-applied on every data plane (\(latencies.count) samples): p50 \(format(percentile(latencies, 0.5))), p99 \(format(percentile(latencies, 0.99))), max \(format(latencies.last ?? 0))"
        )
        print(
            "the change's API call alone (PATCH answered 200, durable): p50 \(format(percentile(acknowledged, 0.5))), p99 \(format(percentile(acknowledged, 0.99)))"
        )
        print(
            "raw Unix-socket round trip (GET /health, keep-alive, 2000 samples): p50 \(format(percentile(roundTrips, 0.5))), p99 \(format(percentile(roundTrips, 0.99))), max \(format(roundTrips.last ?? 0))"
        )
    }

    /// Advancing the calendar for many organizations: the cost is the events that fall due.
    static func calendar(organizations: Int, by duration: SimDuration) throws {
        print("bench calendar: \(organizations) organizations, advance \(duration)")
        let bench = try BenchCluster(geos: ["eu"])
        let auth = try bench.tcp("auth")
        let started = Monotonic.now
        do {
            try concurrently(organizations, lanes: 4, name: "bench-org") { index in
                // Half pay (they are billed every cycle for a year); half stay free (trial, inactivity, retention).
                let token = try bench.organization("org\(index)@example.com")
                if index % 2 == 0 {
                    _ = try bench.expect(
                        try auth.json(
                            "PUT", "/v3/organizations/me/payment-method", ["token": "pm_bench"],
                            headers: ["Authorization": "Bearer \(token)"]), 200,
                        "payment method")
                }
            }
        } catch {
            throw ProcessError("signup failed: \(error)")
        }
        print("created \(organizations) organizations in \(Double(Monotonic.now - started) / 1000) s")
        let advanceStart = Monotonic.nanoseconds
        let response = try bench.cluster.support(
            "POST", "/v3/simulator/clock/advance", ["by": .string(duration.description)], timeoutMilliseconds: 600_000)
        let elapsed = Double(Monotonic.nanoseconds - advanceStart) / 1_000_000
        let body = try bench.expect(response, 200, "advance")
        let events = body["events"]?.intValue ?? 0
        print(
            "advanced \(duration) in \(format(elapsed)) (\(body["elapsed_ms"]?.intValue ?? 0) ms inside the auth node, \(body["cpu_ms"]?.intValue ?? 0) ms of CPU): \(events) due events (\(body["by_kind"]?.text ?? "")), \(Int(Double(events) / max(elapsed / 1000, 0.000001))) events/s"
        )
    }

    /// Requests per second through a geo's API (each authenticated at the auth node) and a data plane's proxy.
    static func http(requests: Int, clients: Int) throws {
        print("bench http: \(clients) clients x \(requests) requests")
        let bench = try BenchCluster(geos: ["eu"])
        let token = try bench.organization("http@example.com")
        let geo = try bench.tcp("eu")
        let headers: HTTPHeaders = ["Authorization": "Bearer \(token)"]
        let upstream = try bench.cluster.startUpstream(name: "up")
        let cp = try bench.expect(
            try geo.json("POST", "/v2/control-planes", ["name": "bench"], headers: headers), 201, "control plane")
        let cpID = cp["id"]?.stringValue ?? ""
        _ = try bench.expect(
            try geo.json(
                "POST", "/v2/control-planes/\(cpID)/core-entities/services",
                ["name": "echo", "url": .string("http://127.0.0.1:\(upstream.port)/")], headers: headers), 201,
            "service")
        _ = try bench.expect(
            try geo.json(
                "POST", "/v2/control-planes/\(cpID)/core-entities/routes",
                ["name": "echo", "paths": ["/echo"], "service": ["id": "echo"]], headers: headers), 201, "route")
        let dp = try bench.cluster.startDataPlane(name: "dp", geo: "eu", controlPlane: cpID)
        let proxy = HTTPClient(endpoint: .tcp(host: "127.0.0.1", port: dp.port))
        let deadline = Monotonic.now + 10_000
        while Monotonic.now < deadline, (try? proxy.send("GET", "/echo"))?.status != 200 { usleep(10_000) }

        func run(_ label: String, _ makeRequest: @escaping @Sendable (HTTPClient) throws -> Int, endpoint: Endpoint)
            throws
        {
            let samples = Mutex<[Double]>([])
            let errors = Mutex(0)
            let start = Monotonic.nanoseconds
            try concurrently(clients, lanes: clients, name: "bench-http") { _ in
                let client = HTTPClient(endpoint: endpoint, timeoutMilliseconds: 10_000)
                var local: [Double] = []
                local.reserveCapacity(requests)
                for _ in 0..<requests {
                    let begin = Monotonic.nanoseconds
                    let status = (try? makeRequest(client)) ?? 0
                    if status != 200 { errors.withLock { $0 += 1 } }
                    local.append(Double(Monotonic.nanoseconds - begin) / 1_000_000)
                }
                samples.withLock { $0.append(contentsOf: local) }
            }
            let seconds = Double(Monotonic.nanoseconds - start) / 1_000_000_000
            let sorted = samples.withLock { $0 }.sorted()
            print(
                "\(label): \(Int(Double(sorted.count) / seconds)) requests/s, p50 \(format(percentile(sorted, 0.5))), p99 \(format(percentile(sorted, 0.99))), errors \(errors.withLock { $0 })"
            )
        }
        let geoPort = try bench.cluster.descriptor(bench.cluster.requireRecord("eu"))?.port ?? 0
        try run(
            "geo GET /v2/control-planes (authenticated at the auth node)",
            { client in
                try client.send("GET", "/v2/control-planes", headers: ["Authorization": "Bearer \(token)"]).status
            }, endpoint: .tcp(host: "127.0.0.1", port: geoPort))
        try run(
            "data-plane proxy GET /echo -> upstream", { client in try client.send("GET", "/echo").status },
            endpoint: .tcp(host: "127.0.0.1", port: dp.port))
    }
}
