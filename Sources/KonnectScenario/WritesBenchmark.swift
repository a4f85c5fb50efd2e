import KonnectCluster
import KonnectCore
import KonnectHTTP
import KonnectStorage
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

extension Benchmarks {
    /// Durable acknowledged creates per second on one geo: `writers` threads create services with
    /// unique names in one control plane until `entities` were answered 201 (which means on disk).
    static func writes(writers: Int, entities: Int) throws {
        print(
            "bench writes: \(writers) writers create \(entities) services in one control plane on one geo (\(cores) cores)"
        )
        let bench = try BenchCluster(geos: ["eu"])
        let token = try bench.organization("writes@example.com")
        let cpID = try bench.controlPlane("bench", token: token)
        let geo = try bench.endpoint("eu")
        let headers: HTTPHeaders = ["Authorization": "Bearer \(token)"]
        let path = "/v2/control-planes/\(cpID)/core-entities/services"

        // Acknowledged creates: when each was answered (monotonic ns) and how long it took (ms).
        let acknowledged = Mutex<[(at: UInt64, milliseconds: Double)]>([])
        let nextName = Mutex(0)
        let failures = Mutex<(count: Int, first: String?)>((0, nil))
        let start = Monotonic.nanoseconds
        try concurrently(writers, lanes: writers, name: "bench-writer") { _ in
            let client = HTTPClient(endpoint: geo, timeoutMilliseconds: 60_000)
            // Each name is created once; a create that fails is retried, so exactly `entities` exist.
            while failures.withLock({ $0.count }) < 100 {
                let index = nextName.withLock { value -> Int in
                    defer { value += 1 }
                    return value
                }
                guard index < entities else { return }
                while failures.withLock({ $0.count }) < 100 {
                    let begin = Monotonic.nanoseconds
                    let problem: String?
                    do {
                        let response = try client.json(
                            "POST", path, ["name": .string("svc-\(index)"), "url": "http://127.0.0.1:9/"],
                            headers: headers)
                        problem = response.status == 201 ? nil : "\(response.status) \(response.text.prefix(200))"
                    } catch {
                        problem = "\(error)"
                    }
                    let end = Monotonic.nanoseconds
                    guard let problem else {
                        acknowledged.withLock { $0.append((end, Double(end - begin) / 1_000_000)) }
                        break
                    }
                    failures.withLock {
                        if $0.first == nil { $0.first = problem }
                        $0.count += 1
                    }
                }
            }
        }
        let failed = failures.withLock { $0 }
        let answers = acknowledged.withLock { $0 }.sorted { $0.at < $1.at }
        if failed.count >= 100 {
            throw ProcessError("stopped after 100 failed creates; the first: \(failed.first ?? "")")
        }
        let seconds = Double((answers.last?.at ?? start) - start) / 1_000_000_000
        let rate = Double(answers.count) / max(seconds, 1e-9)
        let latencies = answers.map(\.milliseconds).sorted()
        let errorText = failed.count == 0 ? "" : ", \(failed.count) failed and retried (first: \(failed.first ?? ""))"
        print(
            "durable acknowledged creates (201): \(Int(rate))/s overall (\(answers.count) in \(format(seconds * 1000))), "
                + "p50 \(format(percentile(latencies, 0.5))), p99 \(format(percentile(latencies, 0.99)))\(errorText)")

        // The rate of each thousand, from the answer that ended the previous thousand to its own last.
        var rates: [Double] = []
        var from = start
        for first in stride(from: 0, to: answers.count, by: 1000) {
            let last = min(first + 1000, answers.count) - 1
            let count = last - first + 1
            let rate = Double(count) / max(Double(answers[last].at - from) / 1_000_000_000, 1e-9)
            rates.append(rate)
            print("  creates \(first + 1)-\(last + 1): \(Int(rate))/s")
            from = answers[last].at
        }
        if rates.count >= 2 {
            let flat = rates[rates.count - 1] / rates[0]
            print(
                "last thousand / first thousand: \((flat * 100).rounded() / 100) "
                    + "(issue 12's flat goal, >= 0.67: \(flat >= 2.0 / 3.0 ? "met" : "not met"))")
        }
        // The storage layer alone, in this process, one writer and then as many as above: the second
        // over the first is what group commit gains; the HTTP rate over the second, what the rest costs.
        let single = try storageFloor(writers: 1, rows: min(entities, 500), in: bench.directory)
        let grouped = try storageFloor(writers: writers, rows: entities, in: bench.directory)
        print(
            "storage floor (rows inserted straight into a Database, synchronous=FULL): 1 thread \(Int(single.perSecond))/s; "
                + "\(writers) threads \(Int(grouped.perSecond))/s, \(round1(grouped.perCommit)) writes per commit "
                + "(group commit: x\(round1(grouped.perSecond / single.perSecond)))")
        print("HTTP creates / storage floor with \(writers) threads: \(percent(rate, of: grouped.perSecond))")
        let goal = writers == 8 ? (rate >= 5000 ? "met" : "not met") : "not measured (the goal is for 8 writers)"
        print("goal (issue 11): >= 5,000 durable creates/s with 8 writers: \(goal) (\(Int(rate))/s)")
    }

    /// Rows like the services written by `writers` threads straight into a `Database` in this process:
    /// what the storage layer does with no HTTP, authentication or configuration rebuild. Returns the
    /// durable writes per second and how many writes shared a commit on average.
    static func storageFloor(writers: Int, rows: Int, in directory: String) throws -> (
        perSecond: Double, perCommit: Double
    ) {
        let path = directory + "/storage-floor-\(writers).sqlite"
        let db = try Database(
            path: path,
            migrations: [
                Migration(
                    version: 1, sql: "CREATE TABLE entities (id INTEGER PRIMARY KEY, name TEXT UNIQUE, body TEXT)")
            ])
        let body = "{\"url\": \"http://127.0.0.1:9/\", \"retries\": 5, \"tags\": [] }"
        let next = Mutex(0)
        let start = Monotonic.nanoseconds
        try concurrently(writers, lanes: writers, name: "bench-storage") { _ in
            while true {
                let index = next.withLock { value -> Int in
                    defer { value += 1 }
                    return value
                }
                guard index < rows else { return }
                try db.write { tx in
                    try tx.execute(
                        "INSERT INTO entities (name, body) VALUES (?, ?)", .text("svc-\(index)"), .text(body))
                }
            }
        }
        let seconds = Double(Monotonic.nanoseconds - start) / 1_000_000_000
        return (Double(rows) / max(seconds, 1e-9), Double(rows) / Double(max(db.commits, 1)))
    }
}
