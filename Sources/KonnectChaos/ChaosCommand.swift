import KonnectCluster
import KonnectCore
import KonnectHTTP
import KonnectScenario

#if canImport(Glibc)
    import Glibc
#endif

/// `konnect-sim chaos`: what the command line asks for, as values.
public struct ChaosRequest: Sendable, Equatable {
    public var seeds: ClosedRange<UInt64>
    public var durationMilliseconds: Int
    public var maximumSteps: Int?
    public var geos: [String]
    public var rates: FaultRates
    public var boundMilliseconds: Int
    public var shrink: Bool
    public var shrinkMilliseconds: Int
    public var outDirectory: String
    public var reportDirectory: String?
    public var workDirectory: String
    public var keep: Bool
    /// Where the clusters run (`--topology`): nodes on one machine, or each a host of its own.
    public var topology: Topology
    /// A schedule to run instead of the seed's.
    public var replay: [String]?

    /// Parses the command's options; errors name the bad value.
    public static func parse(_ command: ParsedCommand) throws(UsageError) -> ChaosRequest {
        func duration(_ name: String, _ fallback: String) throws(UsageError) -> Int {
            let text = command.option(name) ?? fallback
            guard let value = WallDuration.milliseconds(text), value > 0 else {
                throw UsageError("invalid value '\(text)' for --\(name); expected \(WallDuration.expected)")
            }
            return value
        }
        var seeds: ClosedRange<UInt64>
        if let range = command.option("seeds") {
            let parts = range.split(separator: ".", omittingEmptySubsequences: true)
            guard range.contains(".."), parts.count == 2, let low = UInt64(parts[0]), let high = UInt64(parts[1]),
                low <= high
            else {
                throw UsageError("invalid value '\(range)' for --seeds; expected a range such as 1..20")
            }
            seeds = low...high
        } else {
            let text = command.option("seed") ?? "1"
            guard let seed = UInt64(text) else {
                throw UsageError("invalid value '\(text)' for --seed; expected a non-negative integer")
            }
            seeds = seed...seed
        }
        var steps: Int? = nil
        if let text = command.option("steps") {
            guard let value = Int(text), value > 0 else {
                throw UsageError("invalid value '\(text)' for --steps; expected a positive integer")
            }
            steps = value
        }
        let geos: [String]
        switch ClusterConfiguration.parseGeos(command.option("geos") ?? "us,eu,au") {
        case .success(let parsed): geos = parsed
        case .failure(let error): throw error
        }
        let topology = try ChaosRequest.topology(command)
        let rates: FaultRates
        switch FaultRates.parse(
            rate: command.option("fault-rate"), kinds: command.option("faults"), topology: topology)
        {
        case .success(let parsed): rates = parsed
        case .failure(let error): throw UsageError(error.message)
        }
        var replay: [String]? = nil
        if let path = command.option("replay") {
            guard let bytes = readWholeFile(path) else { throw UsageError("cannot read the schedule \(path)") }
            let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init).filter {
                let trimmed = $0.drop { $0 == " " }
                return !trimmed.isEmpty && !trimmed.hasPrefix("#")
            }
            guard lines.first?.hasPrefix("cluster") == true, lines.last?.hasPrefix("check") == true else {
                throw UsageError(
                    "\(path) is not a chaos schedule: it must start with a cluster step and end with a check step")
            }
            do {
                _ = try ScenarioParser.parse(lines.joined(separator: "\n"), file: path)
            } catch {
                throw UsageError("\(path) does not parse: \(error)")
            }
            let text = String(decoding: bytes, as: UTF8.self)
            if topology != .netns,
                text.contains("# Needs --topology netns") || lines.contains(where: ChaosSchedule.needsHosts)
            {
                throw UsageError(
                    "\(path) needs nodes on hosts of their own (it was found in, or isolates hosts of, a netns cluster); add --topology netns"
                )
            }
            replay = lines
        }
        return ChaosRequest(
            seeds: seeds, durationMilliseconds: try duration("duration", "60s"), maximumSteps: steps, geos: geos,
            rates: rates, boundMilliseconds: try duration("bound", "10s"), shrink: command.flag("shrink"),
            shrinkMilliseconds: try duration("shrink-time", "10m"), outDirectory: command.option("out") ?? ".",
            reportDirectory: command.option("report"), workDirectory: command.option("work-dir") ?? "/tmp",
            keep: command.flag("keep"), topology: topology, replay: replay)
    }

    /// `--topology` (whether this machine can make network namespaces is asked when the runs start).
    static func topology(_ command: ParsedCommand) throws(UsageError) -> Topology {
        guard let text = command.option("topology") else { return .unix }
        switch Topology.parse(text) {
        case .success(let topology): return topology
        case .failure(let error): throw UsageError(error.message)
        }
    }

    public func options(seed: UInt64) -> ChaosOptions {
        var settings = InvariantSettings.standard
        settings.deactivationBoundMilliseconds = boundMilliseconds
        return ChaosOptions(
            seed: seed, durationMilliseconds: durationMilliseconds, maximumSteps: maximumSteps, geos: geos,
            rates: rates, settings: settings, workDirectory: workDirectory, keepDirectories: keep, topology: topology)
    }
}

/// The `chaos` command: runs seeds, prints a verdict per invariant (or a line per seed), shrinks and
/// reports on request; exits 1 when an invariant broke.
public enum ChaosCommandRunner {
    public static func run(_ command: ParsedCommand) throws {
        if let path = command.option("history") { return try judge(path) }
        let request = try ChaosRequest.parse(command)
        if request.topology == .netns, let reason = NetworkNamespaces.unavailableReason() {
            throw ProcessError("--topology netns is not available here: \(reason)")
        }
        let started = Monotonic.now
        var failures: [ChaosRunResult] = []
        var count = 0
        for seed in request.seeds {
            count += 1
            let options = request.options(seed: seed)
            let result = request.replay.map { ChaosRun.replay($0, options) } ?? ChaosRun.run(options)
            let steps = result.lines.count
            let line =
                "seed \(seed): \(result.passed ? "PASS" : "FAIL")  (\(steps) steps, \(result.faultCount) fault steps, \(result.history.count) events, \(Double(result.result.durationMilliseconds) / 1000) s)"
            print(line)
            if request.seeds.count == 1 || !result.passed {
                for verdict in result.outcome?.details ?? [] {
                    print(
                        "  \(verdict.passed ? "ok  " : "FAIL") \(verdict.invariant): \(verdict.passed ? verdict.notes.joined(separator: "; ") : "\(verdict.violations.count) violations")"
                    )
                }
                if !result.passed { print(ChaosCommandRunner.indent(result.summary)) }
            }
            if let report = request.reportDirectory {
                let directory = request.seeds.count == 1 ? report : "\(report)/seed-\(seed)"
                try ChaosReport.write(result, to: directory)
                print("  report: \(directory)/report.html, history: \(directory)/history.jsonl")
            }
            // Each seed's lines as it finishes, also when the output is a file.
            fflush(nil)
            if !result.passed {
                failures.append(result)
                if request.shrink {
                    let shrunk = ChaosShrinker(options: options, budgetMilliseconds: request.shrinkMilliseconds) {
                        print("  shrink: \($0)")
                        fflush(nil)
                    }.shrink(result)
                    let path = "\(request.outDirectory)/chaos-seed-\(seed).scenario"
                    try ScenarioText.write(shrunk, seed: seed, original: result, to: path)
                    print(
                        "  shrunk to \(shrunk.lines.count) lines: \(path) (replay: konnect-sim scenario run \(ScenarioText.topologyOption(request.topology))\(path))"
                    )
                }
            }
        }
        print(
            "\(count - failures.count) of \(count) seeds passed in \(Double(Monotonic.now - started) / 1000) s (\(request.durationMilliseconds / 1000) s each, \(request.rates.description), --topology \(request.topology.rawValue))"
        )
        if !failures.isEmpty {
            throw ProcessError(
                "invariants broke for seed\(failures.count == 1 ? "" : "s") \(failures.map { String($0.seed) }.joined(separator: ", "))"
            )
        }
    }

    /// `--history FILE`: the checkers over a recorded history.
    static func judge(_ path: String) throws {
        guard let bytes = readWholeFile(path) else { throw UsageError("cannot read the history file \(path)") }
        let events = HistoryFile.events(String(decoding: bytes, as: UTF8.self))
        guard !events.isEmpty else { throw UsageError("\(path) holds no history events (JSON lines)") }
        let outcome = ChaosChecks.outcome(Invariants.check(events), history: events)
        for verdict in outcome.details {
            print(
                "\(verdict.passed ? "ok  " : "FAIL") \(verdict.invariant): \(verdict.passed ? verdict.notes.joined(separator: "; ") : "\(verdict.violations.count) violations")"
            )
        }
        if !outcome.passed {
            print(outcome.summary)
            throw ProcessError("invariants broke in \(path)")
        }
    }

    static func indent(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n")
    }
}
