import Foundation
import KonnectCluster
import KonnectCore
import KonnectHTTP
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// README.md's tour, run as written: a README that drifts from the product fails CI (issue 14).
struct ReadmeTour {
    /// The repository's README.md (the source, never a copy).
    static var readme: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("README.md")
    }

    /// The lines of the first fenced block after the "A tour with curl" heading.
    static func tourLines() throws -> [String] {
        let text = try String(contentsOf: readme, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let heading = lines.firstIndex(where: { $0.hasPrefix("## A tour with curl") }),
            let open = lines[heading...].firstIndex(where: { $0.hasPrefix("```") }),
            let close = lines[(open + 1)...].firstIndex(where: { $0.hasPrefix("```") })
        else {
            throw ProcessTestFailure(message: "README.md has no fenced block under '## A tour with curl'")
        }
        return Array(lines[(open + 1)..<close])
    }

    /// What one line of the tour printed, and how its last command exited.
    struct Step {
        var line: String
        var output: String
        var status: Int
    }

    /// The tour as a bash script that marks each command line's output and exit status. `swift build`
    /// is skipped: `.build/release/konnect-sim` is the binary the tests use.
    static func script(_ lines: [String]) -> String {
        var script = "set -u\nswift() { :; }\n"
        for (index, line) in lines.enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty, !trimmed.hasPrefix("#") else { continue }
            script += "printf '\\n@@@ step %d\\n' \(index)\n\(line)\nprintf '\\n@@@ status %d\\n' $?\n"
        }
        return script
    }

    /// Runs a script to its end and returns what it printed (stdout and stderr together); a watchdog
    /// terminates it after `seconds`, so a script that hangs ends the test (whose defer stops its nodes).
    static func run(
        _ executable: String, _ arguments: [String], in directory: String, environment: [String: String]? = nil,
        seconds: Double
    ) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        if let environment { process.environment = environment }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let watchdog = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds, execute: watchdog)
        let output = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        watchdog.cancel()
        return output
    }

    static func steps(_ output: String, lines: [String]) -> [Step] {
        var steps: [Step] = []
        var current: Step? = nil
        for raw in output.split(separator: "\n", omittingEmptySubsequences: false) {
            let text = String(raw)
            if text.hasPrefix("@@@ step "), let index = Int(text.dropFirst(9)), index < lines.count {
                current = Step(line: lines[index], output: "", status: -1)
            } else if text.hasPrefix("@@@ status "), var step = current {
                step.status = Int(text.dropFirst(11)) ?? -1
                steps.append(step)
                current = nil
            } else if current != nil {
                current!.output += text + "\n"
            }
        }
        return steps
    }

    /// Pids of processes whose command line names `directory` (the tour's nodes).
    static func processes(under directory: String) -> [Int32] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return entries.compactMap { Int32($0) }.filter { pid in
            guard pid != getpid(), let bytes = readWholeFile("/proc/\(pid)/cmdline") else { return false }
            return String(decoding: bytes.map { $0 == 0 ? 32 : $0 }, as: UTF8.self).contains(directory)
        }
    }
}

extension ProcessTests {
    @Suite struct ReadmeTourTests {
        @Test("README: the tour runs as written and does what its comments promise")
        func tourRunsAsWritten() throws {
            let lines = try ReadmeTour.tourLines()
            TestCluster.locateExecutable()
            let executable = String(cString: getenv("KONNECT_SIM_EXECUTABLE"))
            var template = Array("/tmp/kst-XXXXXX".utf8CString)
            guard let made = mkdtemp(&template) else { throw ProcessTestFailure(message: "mkdtemp failed") }
            let work = String(cString: made)
            let demo = work + "/demo"
            // Whatever happens, the tour's cluster is stopped and its directory removed.
            defer {
                _ = try? TestCluster.commandRunner()(["down", "--dir", demo])
                for pid in ReadmeTour.processes(under: work) { kill(pid, SIGKILL) }
                if getenv("KONNECT_SIM_KEEP_TEST_DIRS") == nil { try? FileManager.default.removeItem(atPath: work) }
            }
            try FileManager.default.createDirectory(
                atPath: work + "/.build/release", withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(
                atPath: work + "/.build/release/konnect-sim", withDestinationPath: executable)

            let output = try ReadmeTour.run("/bin/bash", ["-c", ReadmeTour.script(lines)], in: work, seconds: 150)

            let steps = ReadmeTour.steps(output, lines: lines)
            let context = "the tour printed:\n\(output.suffix(6000))"
            let commands = lines.filter {
                let trimmed = $0.trimmingCharacters(in: .whitespaces)
                return !trimmed.isEmpty && !trimmed.hasPrefix("#")
            }
            try #require(steps.count == commands.count, "\(steps.count) of \(commands.count) lines ran; \(context)")
            for step in steps {
                #expect(step.status == 0, "'\(step.line)' exited \(step.status): \(step.output)")
            }
            func step(_ prefix: String, _ occurrence: Int = 0) throws -> ReadmeTour.Step {
                let matching = steps.filter { $0.line.hasPrefix(prefix) }
                guard occurrence < matching.count else {
                    throw ProcessTestFailure(message: "the tour has no line '\(prefix)...' #\(occurrence + 1)")
                }
                return matching[occurrence]
            }

            // whoami answers from eu, having asked the auth node.
            let whoami = try step("curl -s -H \"Authorization: Bearer $TOKEN\" $EU/v2/whoami")
            #expect(whoami.output.contains(#""geo":"eu""#), "\(whoami.output)")
            // Proxied to the upstream as /api/42 (200), also with eu killed.
            let proxied = "curl -s -w '\\n%{http_code}\\n' $DP1/orders/42"
            func answered(_ output: String, _ status: Int, _ body: String) -> Bool {
                output.contains(body) && output.trimmingCharacters(in: .whitespacesAndNewlines).hasSuffix("\n\(status)")
            }
            #expect(answered(try step(proxied, 0).output, 200, #""path":"/api/42""#), "\(context)")
            #expect(answered(try step("$K kill --dir demo eu").output, 200, #""path":"/api/42""#), "\(context)")
            // 503 while the geo cannot reach the auth node.
            #expect(answered(try step("$K partition --dir demo eu auth").output, 503, "auth_node_unavailable"))
            // The move delivers the calls of day 0 first: no inactivity on day 30, the trial ends, invoices.
            let move = try step("$K clock advance --dir demo 31d").output
            #expect(move.contains("2026-01-01T00:00:00Z -> 2026-02-01T00:00:00Z"), "\(move)")
            #expect(!move.contains("inactivity"), "\(move)")
            #expect(!move.contains("not delivered"), "\(move)")
            let billing = try step("$K billing show").output
            #expect(billing.contains("Cycle 0") && billing.contains("Cycle 1"), "\(billing)")
            #expect(billing.contains("Payment: nothing to pay"), "\(billing)")
            #expect(!billing.contains("-0.00"), "\(billing)")
            // 503 after the deactivation, naming the reason; dp1 keeps running.
            #expect(try step("$K dp status --dir demo dp1 --until orphaned").output.contains("orphaned"))
            let refused = try step(proxied, 1).output
            #expect(answered(refused, 503, "admin_deactivated"), "\(refused)")
            #expect(try step("$K support show").output.contains(": inactive"), "\(context)")
            // 200 again after the reactivation, without a restart.
            #expect(answered(try step(proxied, 2).output, 200, #""path":"/api/42""#), "\(context)")
            // `down` leaves no process and no socket.
            #expect(try step("$K down --dir demo").output.contains("stopped 6 nodes"), "\(context)")
            #expect(ReadmeTour.processes(under: work).isEmpty, "processes left: \(ReadmeTour.processes(under: work))")
            let sockets = (FileManager.default.enumerator(atPath: demo)?.allObjects as? [String] ?? []).filter {
                $0.hasSuffix("/sock")
            }
            #expect(sockets.isEmpty, "sockets left: \(sockets)")
        }
    }
}
