import KonnectCluster
import KonnectCore
import KonnectHTTP
import KonnectNodes
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

extension Benchmarks {
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
            "advanced \(duration) in \(format(elapsed)) (\(body["elapsed_ms"]?.intValue ?? 0) ms inside the auth node, \(body["cpu_ms"]?.intValue ?? 0) ms of CPU, \(body["purge_wait_ms"]?.intValue ?? 0) ms waiting for the geos to confirm its purges): \(events) due events (\(body["by_kind"]?.text ?? "")), \(Int(Double(events) / max(elapsed / 1000, 0.000001))) events/s"
        )
    }
}
