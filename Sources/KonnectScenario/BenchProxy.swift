import KonnectCluster
import KonnectCore
import KonnectHTTP
import KonnectNodes
import KonnectStorage
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// `konnect-sim bench proxy`: a data plane and nginx (`proxy_pass` with an upstream keep-alive pool) in
/// front of the same fast upstream (nginx answering `return 200`), driven by the same load generator
/// (`wrk`, or our own client when it is missing) at 16 and 64 connections, alternating, in one run.
/// Prints requests/s, p50 and p99 of each and the data plane's ratios against the goal: at least 80%
/// of nginx's requests/s and a p99 at most 1.5x nginx's, at both concurrencies.
enum ProxyBenchmark {
    struct Sample {
        var requestsPerSecond: Double
        var p50: Double
        var p99: Double
        var errors: Int
    }

    static let concurrencies = [16, 64]

    static func run(_ command: ParsedCommand) throws {
        let seconds = try Benchmarks.count(command, "duration", 1...600, 4)
        let rounds = try Benchmarks.count(command, "rounds", 1...50, 3)
        let cores = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        // The data plane's own default (one I/O thread per core, at most four) unless told otherwise.
        let ioThreads = try Benchmarks.count(command, "io-threads", 1...64, min(4, max(1, cores)))
        let nginx = ExternalTool.find("nginx")
        let wrk = ExternalTool.find("wrk")
        print("load average before the run (other processes share the machine): \(ExternalTool.loadAverage())")
        print(
            "bench proxy: \(rounds) rounds of \(seconds) s at \(concurrencies.map(String.init).joined(separator: " and ")) connections (\(cores) cores); data plane with \(ioThreads) I/O thread(s)"
        )
        if nginx == nil || wrk == nil {
            print(
                "\(nginx == nil ? "nginx" : "wrk") is not installed: install both with `apt-get install -y nginx wrk` (Debian) for the comparison"
            )
        }
        guard let nginx else {
            print("skipping the comparison with nginx; the data plane is measured behind our echo upstream instead")
            try measureAlone(seconds: seconds, ioThreads: ioThreads, wrk: wrk)
            return
        }
        let scratch = try ScratchDirectory(prefix: "ksp")
        let upstreamPort = try ExternalTool.freePort()
        let upstream = try NginxProcess.start(
            nginx, directory: scratch.path + "/upstream", workers: 1,
            server: "listen 127.0.0.1:\(upstreamPort); location / { return 200 \"ok\\n\"; }")
        defer { upstream.stop() }
        let frontPort = try ExternalTool.freePort()
        let front = try NginxProcess.start(
            nginx, directory: scratch.path + "/front", workers: ioThreads,
            upstreams: "upstream fast { server 127.0.0.1:\(upstreamPort); keepalive 64; }",
            server:
                "listen 127.0.0.1:\(frontPort); location / { proxy_pass http://fast; proxy_http_version 1.1; proxy_set_header Connection \"\"; }"
        )
        defer { front.stop() }
        print(
            "upstream: nginx `return 200` (1 worker) on 127.0.0.1:\(upstreamPort); nginx proxy: worker_processes \(ioThreads), upstream keepalive 64, on 127.0.0.1:\(frontPort)"
        )

        let dataPlane = try BenchDataPlane(upstreamPort: upstreamPort, ioThreads: ioThreads)
        let targets = [("nginx", frontPort), ("data plane", dataPlane.port)]
        for (_, port) in targets { try ExternalTool.waitForOK(port: port, path: "/") }
        print("load generator: \(wrk.map { "wrk -t1 -c<n> -d\(seconds)s --latency (\($0))" } ?? "our own client")")

        var samples: [String: [Sample]] = [:]
        for round in 1...rounds {
            for connections in concurrencies {
                // Alternate who goes first, so neither always runs on a warmer (or hotter) machine.
                let order = round % 2 == 1 ? targets : targets.reversed()
                for (name, port) in order {
                    let sample = try LoadGenerator.run(
                        wrk: wrk, port: port, path: "/", connections: connections, seconds: seconds)
                    samples["\(name)@\(connections)", default: []].append(sample)
                    print(
                        "round \(round), \(connections) connections, \(name): \(Int(sample.requestsPerSecond)) requests/s, p50 \(Benchmarks.format(sample.p50)), p99 \(Benchmarks.format(sample.p99)), errors \(sample.errors)"
                    )
                }
            }
        }
        print("")
        var met = true
        for connections in concurrencies {
            let ours = median(samples["data plane@\(connections)"] ?? [])
            let theirs = median(samples["nginx@\(connections)"] ?? [])
            let throughput = ours.requestsPerSecond / max(theirs.requestsPerSecond, 1)
            let tail = ours.p99 / max(theirs.p99, 0.001)
            let ok = throughput >= 0.8 && tail <= 1.5 && ours.errors == 0
            met = met && ok
            print(
                "\(connections) connections (medians of \(rounds)): data plane \(Int(ours.requestsPerSecond)) requests/s, p50 \(Benchmarks.format(ours.p50)), p99 \(Benchmarks.format(ours.p99)); nginx \(Int(theirs.requestsPerSecond)) requests/s, p50 \(Benchmarks.format(theirs.p50)), p99 \(Benchmarks.format(theirs.p99))"
            )
            print(
                "  ratios: requests/s \(percent(throughput)) of nginx (goal >= 80%), p99 \(times(tail)) nginx's (goal <= 1.5x): \(ok ? "met" : "not met")"
            )
        }
        print("load average after the run: \(ExternalTool.loadAverage())")
        print(
            "goal (>= 80% of nginx's requests/s and p99 <= 1.5x nginx's at 16 and 64 connections): \(met ? "met" : "not met")"
        )
    }

    /// Without nginx: the data plane behind our echo upstream, for a number without a peer.
    static func measureAlone(seconds: Int, ioThreads: Int, wrk: String?) throws {
        let bench = try Benchmarks.BenchCluster(geos: ["eu"])
        let echo = try bench.cluster.startUpstream(name: "echo")
        let dataPlane = try BenchDataPlane(bench: bench, upstreamPort: echo.port, ioThreads: ioThreads)
        try ExternalTool.waitForOK(port: dataPlane.port, path: "/")
        for connections in concurrencies {
            let sample = try LoadGenerator.run(
                wrk: wrk, port: dataPlane.port, path: "/", connections: connections, seconds: seconds)
            print(
                "\(connections) connections, data plane -> echo upstream: \(Int(sample.requestsPerSecond)) requests/s, p50 \(Benchmarks.format(sample.p50)), p99 \(Benchmarks.format(sample.p99)), errors \(sample.errors)"
            )
        }
    }

    static func median(_ samples: [Sample]) -> Sample {
        guard !samples.isEmpty else { return Sample(requestsPerSecond: 0, p50: 0, p99: 0, errors: 0) }
        func middle(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        return Sample(
            requestsPerSecond: middle(samples.map(\.requestsPerSecond)), p50: middle(samples.map(\.p50)),
            p99: middle(samples.map(\.p99)), errors: samples.map(\.errors).reduce(0, +))
    }

    static func percent(_ ratio: Double) -> String { "\(Int((ratio * 100).rounded()))%" }
    static func times(_ ratio: Double) -> String { "\((ratio * 100).rounded() / 100)x" }
}

/// A cluster with one data plane routing `/` to an upstream on loopback.
final class BenchDataPlane {
    let bench: Benchmarks.BenchCluster
    let port: Int

    convenience init(upstreamPort: Int, ioThreads: Int) throws {
        try self.init(
            bench: try Benchmarks.BenchCluster(geos: ["eu"]), upstreamPort: upstreamPort, ioThreads: ioThreads)
    }

    init(bench: Benchmarks.BenchCluster, upstreamPort: Int, ioThreads: Int) throws {
        self.bench = bench
        let token = try bench.organization("proxy@example.com")
        let geo = try bench.tcp("eu")
        let headers: HTTPHeaders = ["Authorization": "Bearer \(token)"]
        let cp = try bench.expect(
            try geo.json("POST", "/v2/control-planes", ["name": "bench"], headers: headers), 201, "control plane")
        let cpID = cp["id"]?.stringValue ?? ""
        _ = try bench.expect(
            try geo.json(
                "POST", "/v2/control-planes/\(cpID)/core-entities/services",
                ["name": "fast", "url": .string("http://127.0.0.1:\(upstreamPort)/")], headers: headers), 201, "service"
        )
        _ = try bench.expect(
            try geo.json(
                "POST", "/v2/control-planes/\(cpID)/core-entities/routes",
                ["name": "all", "paths": ["/"], "strip_path": false, "service": ["id": "fast"]], headers: headers), 201,
            "route")
        // The data plane's process reads its I/O thread count from the environment it is started with.
        setenv("KONNECT_SIM_IO_THREADS", String(ioThreads), 1)
        defer { unsetenv("KONNECT_SIM_IO_THREADS") }
        port = try bench.cluster.startDataPlane(name: "dp", geo: "eu", controlPlane: cpID).descriptor.port
    }
}

/// Runs the load: wrk when installed, else our own blocking clients, one thread per connection.
enum LoadGenerator {
    static func run(wrk: String?, port: Int, path: String, connections: Int, seconds: Int) throws
        -> ProxyBenchmark.Sample
    {
        if let wrk { return try runWrk(wrk, port: port, path: path, connections: connections, seconds: seconds) }
        return try runOwn(port: port, path: path, connections: connections, seconds: seconds)
    }

    static func runWrk(_ wrk: String, port: Int, path: String, connections: Int, seconds: Int) throws
        -> ProxyBenchmark.Sample
    {
        let output = try ExternalTool.run(
            wrk, ["-t1", "-c\(connections)", "-d\(seconds)s", "--latency", "http://127.0.0.1:\(port)\(path)"])
        var sample = ProxyBenchmark.Sample(requestsPerSecond: 0, p50: 0, p99: 0, errors: 0)
        for line in output.split(separator: "\n") {
            let words = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let first = words.first else { continue }
            switch first {
            case "Requests/sec:": sample.requestsPerSecond = words.count > 1 ? Double(words[1]) ?? 0 : 0
            case "50%": sample.p50 = words.count > 1 ? milliseconds(words[1]) : 0
            case "99%": sample.p99 = words.count > 1 ? milliseconds(words[1]) : 0
            case "Non-2xx": sample.errors += Int(words.last ?? "") ?? 0
            case "Socket":
                // "Socket errors: connect 0, read 0, write 0, timeout 0"
                for word in words { sample.errors += Int(word.filter(\.isNumber)) ?? 0 }
            default: break
            }
        }
        guard sample.requestsPerSecond > 0 else { throw ProcessError("wrk printed no requests/s:\n\(output)") }
        return sample
    }

    /// "612.00us", "2.14ms", "1.02s" in milliseconds.
    static func milliseconds(_ text: Substring) -> Double {
        if text.hasSuffix("us") { return (Double(text.dropLast(2)) ?? 0) / 1000 }
        if text.hasSuffix("ms") { return Double(text.dropLast(2)) ?? 0 }
        if text.hasSuffix("s") { return (Double(text.dropLast(1)) ?? 0) * 1000 }
        return Double(text) ?? 0
    }

    static func runOwn(port: Int, path: String, connections: Int, seconds: Int) throws -> ProxyBenchmark.Sample {
        let samples = Mutex<[Double]>([])
        let errors = Mutex(0)
        let started = Monotonic.nanoseconds
        let stop = started + UInt64(seconds) * 1_000_000_000
        try concurrently(connections, lanes: connections, name: "bench-load") { _ in
            let client = HTTPClient(endpoint: .tcp(host: "127.0.0.1", port: port), timeoutMilliseconds: 10_000)
            var local: [Double] = []
            while Monotonic.nanoseconds < stop {
                let begin = Monotonic.nanoseconds
                let status = (try? client.send("GET", path))?.status ?? 0
                if status != 200 { errors.withLock { $0 += 1 } }
                local.append(Double(Monotonic.nanoseconds - begin) / 1_000_000)
            }
            samples.withLock { $0.append(contentsOf: local) }
        }
        let elapsed = Double(Monotonic.nanoseconds - started) / 1_000_000_000
        let sorted = samples.withLock { $0 }.sorted()
        return ProxyBenchmark.Sample(
            requestsPerSecond: Double(sorted.count) / elapsed, p50: Benchmarks.percentile(sorted, 0.5),
            p99: Benchmarks.percentile(sorted, 0.99), errors: errors.withLock { $0 })
    }
}

/// nginx started by the benchmark in a directory of its own (`-p DIR -c DIR/nginx.conf`, `daemon off`),
/// on ports the kernel picked, and stopped afterwards.
final class NginxProcess {
    let pid: Int32
    let directory: String

    private init(pid: Int32, directory: String) {
        self.pid = pid
        self.directory = directory
    }

    static func start(_ nginx: String, directory: String, workers: Int, upstreams: String = "", server: String) throws
        -> NginxProcess
    {
        for sub in ["", "/logs", "/temp"] { mkdir(directory + sub, 0o755) }
        let configuration = """
            worker_processes \(workers);
            daemon off;
            pid \(directory)/nginx.pid;
            error_log \(directory)/logs/error.log warn;
            events { worker_connections 4096; }
            http {
                access_log off;
                client_body_temp_path \(directory)/temp/body;
                proxy_temp_path \(directory)/temp/proxy;
                fastcgi_temp_path \(directory)/temp/fastcgi;
                uwsgi_temp_path \(directory)/temp/uwsgi;
                scgi_temp_path \(directory)/temp/scgi;
                keepalive_requests 1000000;
                \(upstreams)
                server { \(server) }
            }

            """
        try AtomicFile.write(configuration, to: directory + "/nginx.conf")
        let pid = try NodeProcess.spawn(
            arguments: ["-p", directory, "-c", directory + "/nginx.conf", "-e", directory + "/logs/error.log"],
            logPath: directory + "/logs/output.log", executable: nginx)
        return NginxProcess(pid: pid, directory: directory)
    }

    func stop() {
        NodeProcess.stop(pid, graceMilliseconds: 3000)
        NodeProcess.reap(pid)
    }
}

/// What the benchmarks add to the external programs they use.
extension ExternalTool {
    /// The 1, 5 and 15 minute load averages (/proc/loadavg).
    static func loadAverage() -> String {
        let text = String(decoding: readWholeFile("/proc/loadavg") ?? [], as: UTF8.self)
        return text.split(separator: " ").prefix(3).joined(separator: " ")
    }

    /// A loopback port the kernel picks (bound, read, released) for a program that cannot take port 0.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ProcessError("socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = in_addr_t(UInt32(0x7F00_0001).bigEndian)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw ProcessError("cannot get a free port: \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Waits until `GET path` on the port answers 200 (10 s at most).
    static func waitForOK(port: Int, path: String) throws {
        let client = HTTPClient(endpoint: .tcp(host: "127.0.0.1", port: port), timeoutMilliseconds: 1000)
        let deadline = Monotonic.now + 10_000
        while Monotonic.now < deadline {
            if (try? client.send("GET", path))?.status == 200 { return }
            usleep(20_000)
        }
        throw ProcessError("nothing answered 200 on 127.0.0.1:\(port)\(path) within 10 s")
    }
}
