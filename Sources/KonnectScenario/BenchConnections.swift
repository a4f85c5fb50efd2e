import Foundation
import KonnectCluster
import KonnectCore
import KonnectHTTP
import KonnectNodes
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// `konnect-sim bench connections --idle 10000`: holds that many idle TCP connections to a geo (on
/// loopback; they send nothing, as an idle browser or an attacker would) while measuring an
/// authenticated geo read and a request on the geo's Unix socket. Prints errors, p50/p99 of both, the
/// geo's resident memory (VmRSS) before, while held and after release. Goal: no error, p99 <= 50 ms,
/// memory growth <= 40 MB.
enum ConnectionBenchmark {
    static func run(_ command: ParsedCommand) throws {
        let count = try Benchmarks.count(command, "idle", 1...100_000, 10_000)
        // A connection that sends nothing is closed 10 s after it was accepted (the request-head deadline).
        let hold = try Benchmarks.count(command, "hold", 1...8, 5)
        let descriptors = FileLimit.raiseToHardLimit()
        guard count + 256 <= descriptors else {
            throw UsageError(
                "invalid value '\(count)' for --idle; this process may open \(descriptors) descriptors (RLIMIT_NOFILE hard limit), so at most \(descriptors - 256)"
            )
        }
        print("bench connections: \(count) idle TCP connections to a geo, held \(hold) s")
        print("load average before the run (other processes share the machine): \(ExternalTool.loadAverage())")
        let bench = try Benchmarks.BenchCluster(geos: ["eu"])
        let token = try bench.organization("idle@example.com")
        let record = try bench.cluster.requireRecord("eu")
        guard let descriptor = bench.cluster.descriptor(record) else { throw ProcessError("eu has no node.json") }
        let geoPID = descriptor.pid
        let reader = try bench.tcp("eu")
        let socket = try bench.cluster.client(named: "eu", timeoutMilliseconds: 10_000)
        let read: @Sendable () throws -> Int = {
            try reader.send("GET", "/v2/control-planes", headers: ["Authorization": "Bearer \(token)"]).status
        }
        let unixRequest: @Sendable () throws -> Int = { try socket.send("GET", "/internal/v1/status").status }
        // Warm up both paths, then take the baseline.
        for _ in 0..<50 {
            _ = try read()
            _ = try unixRequest()
        }
        let baseline = residentKilobytes(geoPID)
        let descriptorsBefore = openDescriptors(geoPID)

        let opened = Monotonic.now
        let (held, failedConnects) = SilentConnections.open(count, port: descriptor.port)
        defer { for fd in held { close(fd) } }
        print(
            "opened \(held.count) connections in \(Double(Monotonic.now - opened) / 1000) s (\(failedConnects) failed)"
        )

        let readLatencies = Mutex<[Double]>([])
        let socketLatencies = Mutex<[Double]>([])
        let errors = Mutex(failedConnects)
        let peakResident = Mutex(residentKilobytes(geoPID))
        let stop = Monotonic.now + hold * 1000
        try concurrently(3, lanes: 3, name: "bench-idle") { lane in
            while Monotonic.now < stop {
                switch lane {
                case 0: measure(read, into: readLatencies, errors: errors)
                case 1: measure(unixRequest, into: socketLatencies, errors: errors)
                default:
                    let resident = residentKilobytes(geoPID)
                    peakResident.withLock { $0 = max($0, resident) }
                    sleepMilliseconds(100)
                }
            }
        }
        // Nothing may have been written to the idle connections (no 503, no early 408).
        let answered = held.filter { fd in
            var probe: UInt8 = 0
            return recv(fd, &probe, 1, Int32(MSG_PEEK) | Int32(MSG_DONTWAIT)) >= 0
        }.count
        errors.withLock { $0 += answered }
        let whileHeld = peakResident.withLock { $0 }
        let descriptorsHeld = openDescriptors(geoPID)
        for fd in held { close(fd) }
        let released = waitForSettledResident(geoPID)
        let descriptorsAfter = openDescriptors(geoPID)

        let reads = readLatencies.withLock { $0 }.sorted()
        let internals = socketLatencies.withLock { $0 }.sorted()
        let growth = Double(whileHeld - baseline) / 1024
        let totalErrors = errors.withLock { $0 }
        print(
            "authenticated geo read (GET /v2/control-planes, TCP) while held: \(reads.count) requests, p50 \(Benchmarks.format(Benchmarks.percentile(reads, 0.5))), p99 \(Benchmarks.format(Benchmarks.percentile(reads, 0.99)))"
        )
        print(
            "Unix-socket request (GET /internal/v1/status) while held: \(internals.count) requests, p50 \(Benchmarks.format(Benchmarks.percentile(internals, 0.5))), p99 \(Benchmarks.format(Benchmarks.percentile(internals, 0.99)))"
        )
        print(
            "errors: \(totalErrors) (failed connects, failed or non-200 requests, idle connections answered while held)"
        )
        print(
            "geo VmRSS: \(mb(baseline)) before, \(mb(whileHeld)) while held (growth \((growth * 10).rounded() / 10) MB), \(mb(released)) after release"
        )
        print(
            "geo open descriptors: \(descriptorsBefore) before, \(descriptorsHeld) while held, \(descriptorsAfter) after release"
        )
        let p99 = max(Benchmarks.percentile(reads, 0.99), Benchmarks.percentile(internals, 0.99))
        let met = totalErrors == 0 && held.count == count && p99 <= 50 && growth <= 40
        print("goal (no error, p99 <= 50 ms, RSS growth <= 40 MB): \(met ? "met" : "not met")")
    }

    static func measure(
        _ call: @Sendable () throws -> Int, into latencies: borrowing Mutex<[Double]>, errors: borrowing Mutex<Int>
    ) {
        let begin = Monotonic.nanoseconds
        let status = (try? call()) ?? 0
        let elapsed = Double(Monotonic.nanoseconds - begin) / 1_000_000
        latencies.withLock { $0.append(elapsed) }
        if status != 200 { errors.withLock { $0 += 1 } }
    }

    /// VmRSS of a process, in kB (0 when it cannot be read).
    static func residentKilobytes(_ pid: Int32) -> Int {
        guard let bytes = readWholeFile("/proc/\(pid)/status") else { return 0 }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
        }
        return 0
    }

    /// The resident size 2 s after the connections closed (the server hands freed memory back to the
    /// kernel half a second after a burst of closes).
    static func waitForSettledResident(_ pid: Int32) -> Int {
        sleepMilliseconds(2000)
        return residentKilobytes(pid)
    }

    /// How many descriptors a process has open.
    static func openDescriptors(_ pid: Int32) -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1
    }

    static func mb(_ kilobytes: Int) -> String { "\((Double(kilobytes) / 102.4).rounded() / 10) MB" }
}
