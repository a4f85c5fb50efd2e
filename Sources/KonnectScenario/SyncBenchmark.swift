import KonnectCluster
import KonnectCore
import KonnectHTTP
import KonnectNodes
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

extension Benchmarks {
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
}
