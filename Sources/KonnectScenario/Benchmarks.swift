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
            let dataPlanes = try count(command, "dps", 1...500, 50)
            let changes = try count(command, "changes", 1...100_000, 200)
            let entities = try count(command, "entities", 1...1_000_000, 1)
            guard try command.topology() == .netns else {
                _ = try sync(dataPlanes: dataPlanes, changes: changes, entities: entities, topology: .unix)
                return
            }
            // The peer is the same benchmark on Unix sockets, in the same invocation.
            let unix = try sync(dataPlanes: dataPlanes, changes: changes, entities: entities, topology: .unix)
            print("")
            let netns = try sync(dataPlanes: dataPlanes, changes: changes, entities: entities, topology: .netns)
            let ratio = netns / max(unix, 0.001)
            print(
                "\nchange-to-applied p99: netns (TLS over TCP between namespaces) \(format(netns)) against Unix sockets \(format(unix)) in this run: \((ratio * 100).rounded() / 100)x (goal <= 1.5x: \(ratio <= 1.5 ? "met" : "not met"))"
            )
        case "proxy":
            try ProxyBenchmark.run(command)
        case "connections":
            try ConnectionBenchmark.run(command)
        case "calendar":
            let text = command.option("by") ?? "365d"
            guard let duration = SimDuration(text: text) else {
                throw UsageError("invalid value '\(text)' for --by; expected a duration such as 365d")
            }
            try calendar(organizations: try count(command, "orgs", 1...100_000, 1000), by: duration)
        case "writes":
            try writes(
                writers: try count(command, "writers", 1...256, 8),
                entities: try count(command, "entities", 1...1_000_000, 2000))
        default:
            try http(
                requests: try count(command, "requests", 1...10_000_000, 2000),
                clients: try count(command, "clients", 1...256, 8))
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

    static func percentile(_ sorted: [Double], _ fraction: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let index = min(sorted.count - 1, Int((Double(sorted.count) * fraction).rounded(.up)) - 1)
        return sorted[max(0, index)]
    }

    static func format(_ milliseconds: Double) -> String {
        let rounded = (milliseconds * 100).rounded() / 100
        return "\(rounded) ms"
    }

    static var cores: Int { Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) }

    /// What `clients` threads measured, each sending requests on its own keep-alive connection.
    struct Load {
        /// Latencies of the answers with the expected status, in milliseconds, sorted.
        var latencies: [Double]
        var errors: Int
        var firstError: String?
        var seconds: Double

        var perSecond: Double { Double(latencies.count) / max(seconds, 1e-9) }
        var summary: String {
            let errorText = errors == 0 ? "" : ", \(errors) errors (first: \(firstError ?? ""))"
            return "\(Int(perSecond)) requests/s, p50 \(format(percentile(latencies, 0.5))), "
                + "p99 \(format(percentile(latencies, 0.99)))\(errorText)"
        }
    }

    /// Sends `requests` requests from each of `clients` threads (after a short warm-up on the same
    /// connections) and measures them; `request` returns the answer, which counts when it has `status`.
    static func measure(
        clients: Int, requests: Int, endpoint: Endpoint, status: Int = 200,
        _ request: @escaping @Sendable (HTTPClient) throws -> ClientResponse
    ) throws -> Load {
        let latencies = Mutex<[Double]>([])
        let errors = Mutex<(count: Int, first: String?)>((0, nil))
        let ready = Mutex(0)
        let start = Mutex<UInt64>(0)
        let warmUp = min(200, max(1, requests / 10))
        try concurrently(clients, lanes: clients, name: "bench-client") { _ in
            let client = HTTPClient(endpoint: endpoint, timeoutMilliseconds: 10_000)
            for _ in 0..<warmUp { _ = try? request(client) }
            // Every client starts measuring together, once all are warm.
            ready.withLock { $0 += 1 }
            while ready.withLock({ $0 }) < clients { usleep(100) }
            start.withLock { if $0 == 0 { $0 = Monotonic.nanoseconds } }
            var local: [Double] = []
            local.reserveCapacity(requests)
            for _ in 0..<requests {
                let begin = Monotonic.nanoseconds
                let problem: String?
                do {
                    let response = try request(client)
                    problem = response.status == status ? nil : "\(response.status) \(response.text.prefix(200))"
                } catch {
                    problem = "\(error)"
                }
                if let problem {
                    errors.withLock {
                        if $0.first == nil { $0.first = problem }
                        $0.count += 1
                    }
                } else {
                    local.append(Double(Monotonic.nanoseconds - begin) / 1_000_000)
                }
            }
            latencies.withLock { $0.append(contentsOf: local) }
        }
        let seconds = Double(Monotonic.nanoseconds - start.withLock { $0 }) / 1_000_000_000
        let failed = errors.withLock { $0 }
        return Load(
            latencies: latencies.withLock { $0 }.sorted(), errors: failed.count, firstError: failed.first,
            seconds: seconds)
    }

    /// One decimal.
    static func round1(_ value: Double) -> Double { (value * 10).rounded() / 10 }

    /// `part` as a percentage of `whole`: whole percents, one decimal below 10%.
    static func percent(_ part: Double, of whole: Double) -> String {
        let value = part / max(whole, 1e-9) * 100
        return value < 10 ? "\(round1(value))%" : "\(Int(value.rounded()))%"
    }
}
