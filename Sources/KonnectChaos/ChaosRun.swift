import KonnectCluster
import KonnectCore
import KonnectScenario

/// What a chaos run is asked for.
public struct ChaosOptions: Sendable {
    public var seed: UInt64
    /// How long the workload and nemesis run (wall clock), before the `check` step.
    public var durationMilliseconds: Int
    /// At most this many workload and nemesis steps (whichever limit comes first).
    public var maximumSteps: Int?
    public var geos: [String]
    public var rates: FaultRates
    public var settings: InvariantSettings
    /// Where each run's cluster directory is made.
    public var workDirectory: String
    public var keepDirectories: Bool
    /// Where the clusters run: the run, its replays and the shrinking all use the same.
    public var topology: Topology

    public init(
        seed: UInt64, durationMilliseconds: Int = 60_000, maximumSteps: Int? = nil,
        geos: [String] = ["us", "eu", "au"],
        rates: FaultRates = .standard, settings: InvariantSettings = .standard, workDirectory: String = "/tmp",
        keepDirectories: Bool = false, topology: Topology = .unix
    ) {
        self.seed = seed
        self.durationMilliseconds = durationMilliseconds
        self.maximumSteps = maximumSteps
        self.geos = geos
        self.rates = rates
        self.settings = settings
        self.workDirectory = workDirectory
        self.keepDirectories = keepDirectories
        self.topology = topology
    }

    var scenarioOptions: ScenarioOptions {
        ScenarioOptions(
            seed: seed, keepGoing: true, keepDirectory: keepDirectories, workDirectory: workDirectory,
            checks: ChaosChecks(settings: settings), topology: topology)
    }

    /// The `check` step that ends every chaos schedule.
    var checkLine: String {
        let bound = settings.deactivationBoundMilliseconds
        if settings == .standard { return "check" }
        return "check within \(bound % 1000 == 0 ? "\(bound / 1000)s" : "\(bound)ms")"
    }
}

/// One chaos run: the schedule's lines as they ran, the scenario result (steps, timeline), the history
/// and the check's verdicts.
public struct ChaosRunResult: Sendable {
    public var seed: UInt64
    /// The scenario's lines, `cluster` first and `check` last: a scenario file as it ran.
    public var lines: [String]
    public var result: ScenarioResult
    public var history: [HistoryEvent]
    public var outcome: CheckOutcome?
    /// Where it ran (a replay needs the same).
    public var topology: Topology

    /// Whether the invariants held (a run whose cluster did not start, or whose check could not run,
    /// did not pass).
    public var passed: Bool { outcome?.passed == true }

    public var failedInvariants: [String] { outcome?.details.filter { !$0.passed }.map(\.invariant) ?? [] }

    /// Workload and nemesis steps (the lines between the setup's `chaos` line and the `check`).
    public var faultCount: Int { lines.filter(ChaosSchedule.isFault).count }

    public var summary: String {
        if let error = result.error { return "the cluster did not start: \(error)" }
        guard let outcome else {
            return "the check did not run: \(result.steps.last?.message ?? "no check step")"
        }
        return outcome.summary
    }
}

public enum ChaosRun {
    /// Generates the schedule from the seed and runs it until the duration (or step count) is used up,
    /// then checks.
    public static func run(_ options: ChaosOptions, progress: (Int, String) -> Void = { _, _ in }) -> ChaosRunResult {
        var workload = ChaosWorkload(seed: options.seed, geos: options.geos, rates: options.rates)
        let runner = ScenarioRunner(
            scenario: Scenario(name: "chaos-seed-\(options.seed)", file: "chaos", steps: [], summary: ""),
            options: options.scenarioOptions)
        defer { runner.stop() }
        var lines: [String] = []
        func perform(_ line: String) {
            lines.append(line)
            do {
                guard let step = try ScenarioParser.step(line, file: "chaos", line: lines.count) else { return }
                runner.perform(step)
            } catch {
                // The workload writes only lines the parser knows: a parse error is a bug in the workload.
                preconditionFailure("the chaos workload wrote a line that does not parse: \(error)")
            }
        }
        for line in workload.setup() {
            perform(line)
            if runner.result.error != nil { break }
        }
        var steps = 0
        if runner.result.error == nil {
            while runner.elapsed < options.durationMilliseconds, steps < (options.maximumSteps ?? .max) {
                for line in workload.next() { perform(line) }
                steps += 1
                if steps % 50 == 0 { progress(steps, "\(runner.elapsed / 1000) s") }
            }
            perform(options.checkLine)
        }
        return ChaosRunResult(
            seed: options.seed, lines: lines, result: runner.result, history: runner.history,
            outcome: runner.checkOutcomes.last, topology: options.topology)
    }

    /// Runs fixed lines (a schedule being shrunk, or a found scenario) in a fresh cluster.
    public static func replay(_ lines: [String], _ options: ChaosOptions) -> ChaosRunResult {
        let text = lines.joined(separator: "\n") + "\n"
        let scenario: Scenario
        do {
            scenario = try ScenarioParser.parse(text, file: "chaos-replay.scenario")
        } catch {
            preconditionFailure("a chaos schedule does not parse: \(error)")
        }
        let runner = ScenarioRunner(scenario: scenario, options: options.scenarioOptions)
        let result = runner.run()
        return ChaosRunResult(
            seed: options.seed, lines: lines, result: result, history: runner.history,
            outcome: runner.checkOutcomes.last, topology: options.topology)
    }
}
