import KonnectCluster
import KonnectCore
import KonnectHTTP
import KonnectNodes
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

extension Benchmarks {
    /// Change-to-applied latency on many data planes, with the raw Unix-socket round trip for
    /// comparison; with `entities` > 1, a control plane of that many entities (half services, half
    /// routes), one entity changed at a time, with the bytes pushed per change and the memory of the
    /// geo and the data planes.
    /// Returns the change-to-applied p99 in milliseconds.
    static func sync(dataPlanes: Int, changes: Int, entities: Int, topology: Topology) throws -> Double {
        print(
            "bench sync: \(dataPlanes) data planes, \(entities) entities, \(changes) configuration changes (\(cores) cores, load \(ExternalTool.loadAverage()), topology \(topology.rawValue)\(topology == .netns ? ": a network namespace per node, TLS over TCP" : ": Unix sockets"))"
        )
        let bench = try BenchCluster(geos: ["eu"], topology: topology)
        let token = try bench.organization("bench@example.com")
        let geo = try bench.tcp("eu")
        let headers: HTTPHeaders = ["Authorization": "Bearer \(token)"]
        let cpID = try bench.controlPlane("bench", token: token)
        let base = "/v2/control-planes/\(cpID)/core-entities"
        let services = max(1, entities - entities / 2)
        let routes = entities - services
        let started = Monotonic.now
        try createEntities(services: services, routes: routes, base: base, bench: bench, headers: headers)
        if entities > 1 {
            let seconds = Double(Monotonic.now - started) / 1000
            print(
                "created \(services) services and \(routes) routes in \(round1(seconds)) s (\(Int(Double(entities) / max(seconds, 0.001)))/s, 8 writers)"
            )
        }

        let dataPlanesStarted = Monotonic.now
        do {
            try concurrently(dataPlanes, lanes: 8, name: "bench-dp") { index in
                try bench.cluster.startDataPlane(name: "dp\(index)", geo: "eu", controlPlane: cpID)
            }
        } catch {
            throw ProcessError("a data plane did not start: \(error)")
        }
        print("started \(dataPlanes) data planes in \(Double(Monotonic.now - dataPlanesStarted) / 1000) s")

        let clients = (0..<dataPlanes).map { try? bench.cluster.client(named: "dp\($0)", timeoutMilliseconds: 5000) }
        /// The versions every data plane has applied and cached on disk.
        func versions(_ field: String) -> [Int64] {
            clients.map { client in (try? client?.send("GET", "/version"))??.json?[field]?.intValue ?? -1 }
        }
        /// Waits until every data plane has applied the version and written it to its disk cache, so that
        /// each change is measured on a quiet disk rather than behind the previous change's fsyncs.
        func waitForAll(_ version: Int64, within milliseconds: Int = 30_000) throws {
            let deadline = Monotonic.now + milliseconds
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
            throw ProcessError("not every data plane reached version \(version) within \(milliseconds / 1000) s")
        }
        let initial = try expectedVersion(bench: bench, controlPlane: cpID, headers: headers)
        try waitForAll(initial, within: 120_000)
        let pushedBefore = try pushCounters(bench)

        var sentAt: [Int64: UInt64] = [:]
        var acknowledged: [Double] = []
        var changedBytes: [Int] = []
        for change in 1...changes {
            let version = initial + Int64(change)
            // One entity at a time: a service's retries, or (every other change) a route's priority.
            let (path, body): (String, JSON) =
                change % 2 == 1 || routes == 0
                ? ("\(base)/services/\(serviceName(change % services, of: entities))", ["retries": .int(change % 30)])
                : ("\(base)/routes/rt-\(change % routes)", ["regex_priority": .int(change % 30)])
            sentAt[version] = Monotonic.nanoseconds
            let answer = try bench.expect(try geo.json("PATCH", path, body, headers: headers), 200, "change \(change)")
            acknowledged.append(Double(Monotonic.nanoseconds - sentAt[version]!) / 1_000_000)
            changedBytes.append(answer.canonicalBytes.count)
            try waitForAll(version)
        }
        let pushedAfter = try pushCounters(bench)
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
        let p99 = percentile(latencies, 0.99)
        let goal = entities > 1 ? 30.0 : 20.0
        print(
            "change-to-applied on every data plane (\(latencies.count) samples): p50 \(format(percentile(latencies, 0.5))), p99 \(format(p99)), max \(format(latencies.last ?? 0)) (goal p99 <= \(Int(goal)) ms: \(p99 <= goal ? "met" : "not met"))"
        )
        print(
            "the change's API call alone (PATCH answered 200, durable): p50 \(format(percentile(acknowledged, 0.5))), p99 \(format(percentile(acknowledged, 0.99)))"
        )
        print(
            "raw Unix-socket round trip (GET /health, keep-alive, 2000 samples): p50 \(format(percentile(roundTrips, 0.5))), p99 \(format(percentile(roundTrips, 0.99))), max \(format(roundTrips.last ?? 0))"
        )

        // What the geo pushed for the changes: per change and data plane, against the entity changed and the whole configuration.
        let bytes = pushedAfter.bytes - pushedBefore.bytes
        let perChange = Double(bytes) / Double(max(1, changes * dataPlanes))
        let entity = Double(changedBytes.reduce(0, +)) / Double(max(1, changedBytes.count))
        let full = try fullConfigurationBytes(geo: geo, base: base, headers: headers)
        let proportional = perChange <= 2 * entity + 1024
        print(
            "bytes pushed per change per data plane: \(Int(perChange)) (\(pushedAfter.deltas - pushedBefore.deltas) deltas, \(pushedAfter.full - pushedBefore.full) full configurations); "
                + "the changed entity is \(Int(entity)) bytes, the full configuration \(full) bytes "
                + "(goal, proportional to the change: \(proportional ? "met" : "not met"))")

        // Memory: VmRSS of the geo holding the control plane, and of each data plane running it.
        let geoRSS = residentMegabytes(try bench.cluster.requireRecord("eu"), bench: bench)
        let dataPlaneRSS = (0..<dataPlanes).compactMap {
            residentMegabytes(try? bench.cluster.requireRecord("dp\($0)"), bench: bench)
        }
        .sorted()
        let largest = dataPlaneRSS.last ?? 0
        print(
            "VmRSS: geo \(round1(geoRSS)) MB (goal <= 60 MB: \(geoRSS <= 60 ? "met" : "not met")); data planes median \(round1(percentile(dataPlaneRSS, 0.5))) MB, largest \(round1(largest)) MB (goal <= 40 MB each: \(largest <= 40 ? "met" : "not met"))"
        )
        return p99
    }

    /// The service names: `svc` alone (the small benchmark), else `svc-0`...
    static func serviceName(_ index: Int, of entities: Int) -> String { entities == 1 ? "svc" : "svc-\(index)" }

    /// Creates the services, then the routes (route i on service i), with 8 writers.
    static func createEntities(services: Int, routes: Int, base: String, bench: BenchCluster, headers: HTTPHeaders)
        throws
    {
        let endpoint = try bench.endpoint("eu")
        let total = services + routes
        let next = Mutex(0)
        let entities = services + routes
        try concurrently(min(8, total), lanes: min(8, total), name: "bench-setup") { _ in
            let client = HTTPClient(endpoint: endpoint, timeoutMilliseconds: 60_000)
            while true {
                let index = next.withLock { value -> Int in
                    defer { value += 1 }
                    return value
                }
                guard index < total else { return }
                let (path, body): (String, JSON) =
                    index < services
                    ? (
                        "\(base)/services",
                        ["name": .string(serviceName(index, of: entities)), "url": "http://127.0.0.1:9/"]
                    )
                    : (
                        "\(base)/routes",
                        [
                            "name": .string("rt-\(index - services)"), "paths": [.string("/r\(index - services)")],
                            "service": ["name": .string(serviceName((index - services) % services, of: entities))],
                        ]
                    )
                var attempts = 0
                while true {
                    let response = try client.json("POST", path, body, headers: headers)
                    if response.status == 201 { break }
                    attempts += 1
                    guard attempts < 5 else {
                        throw ProcessError("creating \(path) answered \(response.status): \(response.text.prefix(200))")
                    }
                }
            }
        }
    }

    static func expectedVersion(bench: BenchCluster, controlPlane: String, headers: HTTPHeaders) throws -> Int64 {
        let answer = try bench.expect(
            try bench.tcp("eu").send(
                "GET", "/v2/control-planes/\(controlPlane)/expected-config-version", headers: headers), 200,
            "expected-config-version")
        guard let text = answer["expected_config_version"]?.stringValue, let version = Int64(text) else {
            throw ProcessError("expected-config-version answered \(answer)")
        }
        return version
    }

    /// What the geo's push streams have sent so far.
    static func pushCounters(_ bench: BenchCluster) throws -> (full: Int64, deltas: Int64, bytes: Int64) {
        let status = try bench.cluster.client(named: "eu").send("GET", "/internal/v1/status").json
        let push = status?["push"]
        return (
            push?["full_messages"]?.intValue ?? 0, push?["delta_messages"]?.intValue ?? 0,
            push?["configuration_bytes"]?.intValue ?? 0
        )
    }

    static func fullConfigurationBytes(geo: HTTPClient, base: String, headers: HTTPHeaders) throws -> Int {
        try geo.send("GET", "\(base)/config", headers: headers).body.count
    }

    /// A node's resident memory (`VmRSS` in /proc/PID/status), in MB.
    static func residentMegabytes(_ record: NodeRecord?, bench: BenchCluster) -> Double {
        guard let record, let pid = bench.cluster.descriptor(record)?.pid,
            let bytes = readWholeFile("/proc/\(pid)/status")
        else { return 0 }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Double($0) })
        else { return 0 }
        return kilobytes / 1024
    }
}
