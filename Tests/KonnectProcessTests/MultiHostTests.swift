import Foundation
import KonnectCluster
import KonnectCore
import KonnectHTTP
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// README.md's "Running on separate machines", run as written on three hosts made of network namespaces
/// (issue 17): a README that drifts from the product fails CI.
struct MultiHostReadme {
    /// One fenced block: the host it runs on (A, B or C, from its first line `# on X`) and its command lines.
    struct Block {
        var host: String
        var lines: [String]
    }

    /// The README's addresses of hosts A, B and C.
    static let readmeAddresses = ["A": "10.0.0.1", "B": "10.0.0.2", "C": "10.0.0.3"]

    /// Every fenced block between the "Running on separate machines" heading and the next one.
    static func blocks() throws -> [Block] {
        let text = try String(contentsOf: ReadmeTour.readme, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let heading = lines.firstIndex(where: { $0.hasPrefix("## Running on separate machines") }) else {
            throw ProcessTestFailure(message: "README.md has no '## Running on separate machines' section")
        }
        let end = lines[(heading + 1)...].firstIndex(where: { $0.hasPrefix("## ") }) ?? lines.count
        var blocks: [Block] = []
        var index = heading + 1
        while index < end {
            guard lines[index].hasPrefix("```") else {
                index += 1
                continue
            }
            guard let close = lines[(index + 1)..<end].firstIndex(where: { $0.hasPrefix("```") }) else {
                throw ProcessTestFailure(message: "README.md: an unclosed block at line \(index + 1)")
            }
            let body = Array(lines[(index + 1)..<close])
            let words = body.first?.split(separator: " ") ?? []
            guard words.count >= 3, words[0] == "#", words[1] == "on",
                let host = readmeAddresses.keys.first(where: {
                    words[2].hasPrefix($0)
                })
            else {
                throw ProcessTestFailure(
                    message:
                        "README.md: a block at line \(index + 1) does not start with '# on A', '# on B' or '# on C'")
            }
            blocks.append(Block(host: host, lines: body))
            index = close + 1
        }
        return blocks
    }

    /// The command lines of a block (no blank lines, no comment lines).
    static func commands(_ lines: [String]) -> [String] {
        lines.filter {
            let trimmed = $0.trimmingCharacters(in: .whitespaces)
            return !trimmed.isEmpty && !trimmed.hasPrefix("#")
        }
    }

    /// `--name value` in a command line.
    static func option(_ name: String, in line: String) -> String? {
        let words = line.split(separator: " ").map(String.init)
        guard let at = words.firstIndex(of: "--" + name), at + 1 < words.count else { return nil }
        return words[at + 1]
    }

    /// The shell variables a block assigns (`NAME=` at the start of a line), carried to the blocks after it
    /// as one shell session would.
    static func assignedVariables(_ lines: [String]) -> [String] {
        commands(lines).compactMap { line in
            guard let equals = line.firstIndex(of: "=") else { return nil }
            let name = line[..<equals]
            guard let first = name.first, first.isUppercase,
                name.allSatisfy({ $0.isUppercase || $0.isNumber || $0 == "_" })
            else { return nil }
            return String(name)
        }
    }

    /// Pids of processes whose working directory is inside `directory` (the README's nodes run with relative
    /// `--dir`s, so their command lines do not name it).
    static func processes(in directory: String) -> [Int32] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return entries.compactMap { Int32($0) }.filter { pid in
            guard pid != getpid(),
                let cwd = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/cwd")
            else { return false }
            return cwd == directory || cwd.hasPrefix(directory + "/")
        }
    }
}

/// Three hosts (A, B, C) and the operator's, each a network namespace on one bridge, with a directory each
/// standing for its home directory. Everything it starts is killed and every namespace removed by `stop`.
final class MultiHostRun {
    let work: String
    let executable: String
    let plan: NetworkPlan
    /// Host letter to its name in the plan.
    static let planNames = ["A": "auth", "B": "eu", "C": "edge"]
    private(set) var nodes: [(line: String, process: Process, log: String)] = []
    /// Variables the blocks assigned so far.
    var variables: [String: String] = [:]

    init() throws {
        TestCluster.locateExecutable()
        executable = String(cString: getenv("KONNECT_SIM_EXECUTABLE"))
        var template = Array("/tmp/kmh-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw ProcessTestFailure(message: "mkdtemp failed") }
        work = String(cString: made)
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        var plan = NetworkPlan(id: "mh" + String((0..<6).map { _ in alphabet.randomElement()! }))
        for host in ["A", NetworkPlan.operatorHost, "B", "C"] { plan.add(MultiHostRun.planNames[host] ?? host) }
        self.plan = plan
    }

    func address(_ host: String) -> String { plan.address(MultiHostRun.planNames[host]!)! }
    func namespace(_ host: String) -> String { plan.namespace(MultiHostRun.planNames[host] ?? host) }
    func home(_ host: String) -> String { work + "/" + host }

    /// Creates the bridge, the hosts' namespaces and their home directories, and puts `konnect-sim` on PATH.
    func prepare() throws {
        try NetworkNamespaces.run(plan.switchCommands)
        for host in ["A", NetworkPlan.operatorHost, "B", "C"] {
            try NetworkNamespaces.run(plan.hostCommands(MultiHostRun.planNames[host] ?? host))
        }
        for host in ["A", "B", "C", "logs", "bin"] {
            try FileManager.default.createDirectory(atPath: work + "/" + host, withIntermediateDirectories: true)
        }
        try FileManager.default.createSymbolicLink(atPath: work + "/bin/konnect-sim", withDestinationPath: executable)
    }

    /// Kills every node, removes the namespaces and (unless KONNECT_SIM_KEEP_TEST_DIRS) the directory.
    func stop() {
        for node in nodes where node.process.isRunning {
            kill(node.process.processIdentifier, SIGKILL)
            node.process.waitUntilExit()
        }
        for pid in MultiHostReadme.processes(in: work) { kill(pid, SIGKILL) }
        NetworkNamespaces.runIgnoringFailures(plan.removeCommands.filter { NetworkNamespaces.exists($0[2]) })
        if getenv("KONNECT_SIM_KEEP_TEST_DIRS") == nil { try? FileManager.default.removeItem(atPath: work) }
    }

    /// The README's addresses replaced by the hosts' own.
    func localized(_ line: String) -> String {
        var line = line
        for (host, readme) in MultiHostReadme.readmeAddresses {
            line = line.replacingOccurrences(of: readme, with: address(host))
        }
        return line
    }

    var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        for name in ["http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"] {
            environment[name] = nil
        }
        environment["PATH"] = work + "/bin:" + (environment["PATH"] ?? "/usr/bin:/bin")
        environment.merge(variables) { $1 }
        return environment
    }

    /// `scp -r DIR ADDRESS:` between hosts: a copy into that host's home directory.
    var scpFunction: String {
        let cases = ["A", "B", "C"].map { "\(address($0))) to=\(home($0));;" }.joined(separator: " ")
        return """
            scp() {
              local args=() to; for a in "$@"; do [ "$a" = -r ] || args+=("$a"); done
              local target="${args[-1]}"; case "${target%%:*}" in \(cases) *) echo "scp: unknown host $target" >&2; return 1;; esac
              cp -r "${args[@]:0:${#args[@]}-1}" "$to/${target#*:}"
            }

            """
    }

    /// Runs a block's command lines in one shell inside the host's namespace and home directory; returns each
    /// line's output and status, and keeps the variables it assigned.
    func runShell(_ block: MultiHostReadme.Block) throws -> [ReadmeTour.Step] {
        let lines = block.lines.map(localized)
        var script = scpFunction + ReadmeTour.script(lines)
        for name in MultiHostReadme.assignedVariables(lines) {
            script += "printf '\\n@@@ var \(name)=%s\\n' \"${\(name):-}\"\n"
        }
        guard let ip = ExternalTool.find("ip") else { throw ProcessTestFailure(message: "no `ip`") }
        let output = try ReadmeTour.run(
            ip, ["netns", "exec", namespace(block.host), "/bin/bash", "-c", script], in: home(block.host),
            environment: environment, seconds: 60)
        for line in output.split(separator: "\n") where line.hasPrefix("@@@ var ") {
            let assignment = line.dropFirst(8)
            guard let equals = assignment.firstIndex(of: "=") else { continue }
            variables[String(assignment[..<equals])] = String(assignment[assignment.index(after: equals)...])
        }
        let steps = ReadmeTour.steps(output, lines: lines)
        let expected = MultiHostReadme.commands(lines).count
        guard steps.count == expected else {
            throw ProcessTestFailure(
                message: "on \(block.host), \(steps.count) of \(expected) lines ran:\n\(output.suffix(4000))\n\(logs())"
            )
        }
        return steps
    }

    /// Starts a `konnect-sim node` line on the host (with `--netns`, as if run there) in the foreground of a
    /// process of its own, and waits until its Unix socket answers.
    func startNode(_ readmeLine: String, on host: String) throws {
        let line = localized(readmeLine)
        guard let directory = MultiHostReadme.option("dir", in: line) else {
            throw ProcessTestFailure(message: "a node line without --dir: \(readmeLine)")
        }
        let log = work + "/logs/\(host)-\(directory).log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", "exec \(line) --netns \(namespace(host))"]
        process.currentDirectoryURL = URL(fileURLWithPath: home(host))
        process.environment = environment
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        nodes.append((line, process, log))
        let socket = home(host) + "/" + directory + "/sock"
        try waitFor("\(directory) on \(host) to answer on \(socket)", process: process) {
            (try? HTTPClient(endpoint: .unix(socket), timeoutMilliseconds: 2000).send("GET", "/health").status) == 200
        }
    }

    /// Polls `condition` until it holds; fails with the logs when `process` exits or 60 s pass.
    func waitFor(_ what: String, process: Process? = nil, _ condition: () -> Bool) throws {
        let deadline = Monotonic.now + 60_000
        while !condition() {
            if let process, !process.isRunning {
                throw ProcessTestFailure(message: "waiting for \(what): the node exited\n\(logs())")
            }
            guard Monotonic.now < deadline else {
                throw ProcessTestFailure(message: "waited 60 s for \(what)\n\(logs())")
            }
            sleepMilliseconds(50)
        }
    }

    /// A client of a public listener (`AUTH=http://ADDRESS:PORT` and the like) from a host, the operator's
    /// unless told.
    func client(_ url: String, from host: String = NetworkPlan.operatorHost) throws -> HTTPClient {
        let hostPort = url.replacingOccurrences(of: "http://", with: "").split(separator: ":")
        guard hostPort.count == 2, let port = Int(hostPort[1]) else {
            throw ProcessTestFailure(message: "not an http://ADDRESS:PORT URL: \(url)")
        }
        return HTTPClient(
            endpoint: .tcpInNamespace(namespace: namespace(host), host: String(hostPort[0]), port: port),
            timeoutMilliseconds: 10_000)
    }

    func logs() -> String {
        nodes.map { node in
            let text = String(decoding: readWholeFile(node.log) ?? [], as: UTF8.self)
            return "--- \(node.line)\n\(text.split(separator: "\n").suffix(30).joined(separator: "\n"))"
        }.joined(separator: "\n")
    }
}

extension ProcessTests {
    @Suite struct MultiHostTests {
        @Test(
            "README: separate machines, run as written on three network namespaces (TLS links, a pinned data plane)",
            .enabled(
                if: NetworkNamespaces.unavailableReason() == nil,
                "needs root and network namespaces: \(NetworkNamespaces.unavailableReason() ?? "")"))
        func separateMachinesAsWritten() throws {
            let blocks = try MultiHostReadme.blocks()
            let run = try MultiHostRun()
            // Whatever happens, every node is killed and every namespace removed.
            defer { run.stop() }
            try run.prepare()

            var steps: [ReadmeTour.Step] = []
            var dataPlane: String? = nil
            for block in blocks {
                let commands = MultiHostReadme.commands(block.lines)
                if let node = commands.first, node.hasPrefix("konnect-sim node ") {
                    try #require(commands.count == 1, "a node block holds its one foreground command: \(commands)")
                    try run.startNode(node, on: block.host)
                    if node.hasPrefix("konnect-sim node dp ") {
                        // The README shows its state next: it has synced once its pinned certificate let it in.
                        let socket =
                            run.home(block.host) + "/" + (MultiHostReadme.option("dir", in: node) ?? "") + "/sock"
                        try run.waitFor("the data plane to sync") {
                            let status = try? HTTPClient(endpoint: .unix(socket)).send("GET", "/status").json
                            return status?["state"]?.stringValue == "synced"
                        }
                        dataPlane = run.localized(node)
                    }
                    continue
                }
                try #require(
                    !commands.contains { $0.contains("konnect-sim node ") }, "a node line among others: \(commands)")
                let ran = try run.runShell(block)
                for step in ran {
                    #expect(
                        step.status == 0,
                        "on \(block.host): '\(step.line)' exited \(step.status): \(step.output)\n\(run.logs())")
                }
                steps += ran
            }
            func step(_ fragment: String) throws -> ReadmeTour.Step {
                guard let found = steps.first(where: { $0.line.contains(fragment) }) else {
                    throw ProcessTestFailure(message: "the README's section has no line with '\(fragment)'")
                }
                return found
            }

            // The geo answered a session token, having asked the auth node over the TLS link.
            let whoami = try step("/v2/whoami").output
            #expect(whoami.contains(#""geo":"eu""#) && whoami.contains("ana@example.com"), "\(whoami)\n\(run.logs())")
            // The pinned certificate's fingerprint is the one `pki issue` printed.
            let issued = try step("--name dp1 --data-plane").output
            let fingerprint = try #require(
                issued.split(whereSeparator: \.isWhitespace).last { $0.count == 64 }.map(String.init), "\(issued)")
            let pinned = try step("/dp-client-certificates").output
            #expect(pinned.contains(#""cert_fingerprint":"\#(fingerprint)""#), "\(pinned)")
            // dp1 synced over TLS with its pinned certificate and proxies to the upstream on C.
            #expect(try step("http://dp1/status").output.contains(#""state":"synced""#))
            let proxied = try step("/orders/42").output
            #expect(proxied.contains(#""path":"/api/42""#), "\(proxied)\n\(run.logs())")
            #expect(proxied.trimmingCharacters(in: .whitespacesAndNewlines).hasSuffix("\n200"), "\(proxied)")

            // The same from the operator's host, which is none of A, B and C.
            let authURL = try #require(run.variables["AUTH"], "the section sets AUTH")
            let auth = try run.client(authURL)
            let eu = try run.client(try #require(run.variables["EU"], "the section sets EU"))
            let login = try auth.json(
                "POST", "/v3/authenticate", ["email": "ana@example.com", "password": .string(TestCluster.password)])
            let token = try #require(login.json?["access_token"]?.stringValue, "\(login.text)")
            let me = try eu.send("GET", "/v2/whoami", headers: ["Authorization": "Bearer \(token)"])
            #expect(me.status == 200 && me.json?["geo"]?.stringValue == "eu", "\(me.text)")
            let line = try #require(dataPlane, "the section starts a data plane")
            let proxy = try run.client(
                "http://\(MultiHostReadme.option("host", in: line) ?? ""):\(MultiHostReadme.option("port", in: line) ?? "")"
            )
            let answer = try proxy.send("GET", "/orders/7")
            #expect(answer.status == 200 && answer.json?["path"]?.stringValue == "/api/7", "\(answer.text)")
            // The upstream learns the client's own address, not loopback's.
            let operatorAddress = try #require(run.plan.address(NetworkPlan.operatorHost))
            #expect(
                answer.json?["headers"]?["x-forwarded-for"]?.stringValue == operatorAddress, "\(answer.text)")

            // Login throttling counts per client address: 50 failures from the operator's host refuse it, not C.
            for attempt in 0..<50 {
                let failed = try auth.json(
                    "POST", "/v3/authenticate",
                    ["email": .string("nobody\(attempt)@example.com"), "password": "Wrong-1!"])
                try #require(failed.status == 401, "failure \(attempt + 1): \(failed.status) \(failed.text)")
            }
            let refused = try auth.json(
                "POST", "/v3/authenticate", ["email": "ana@example.com", "password": .string(TestCluster.password)])
            #expect(refused.status == 429, "the 51st attempt from one address: \(refused.status) \(refused.text)")
            let other = try run.client(authURL, from: "C").json(
                "POST", "/v3/authenticate", ["email": "ana@example.com", "password": .string(TestCluster.password)])
            #expect(other.status == 200, "another address is another client: \(other.status) \(other.text)")
        }
    }
}
