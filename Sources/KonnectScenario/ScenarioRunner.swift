import KonnectCluster
import KonnectCore
import KonnectHTTP
import KonnectNodes

#if canImport(Glibc)
    import Glibc
#endif

/// A failed step: what was expected and what was seen.
struct StepFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// Options of a run.
public struct ScenarioOptions: Sendable {
    public var seed: UInt64
    public var keepGoing: Bool
    /// Where relative file names in steps (rate cards) are resolved.
    public var baseDirectory: String
    /// Keep the cluster's run directory after the run (for debugging).
    public var keepDirectory: Bool
    /// Sees every response of the public APIs the steps call (endpoint, method, target, response): the
    /// tests check each one against the document the node serves.
    public var responseObserver: (@Sendable (Endpoint, String, String, ClientResponse) -> Void)?
    /// Where the run directory is made (a fresh `kss-XXXXXX` inside it).
    public var workDirectory: String
    /// What `check` steps run (the chaos module's checkers); nil fails them.
    public var checks: (any InvariantChecking)?
    /// The topology of the clusters the scenarios start (`--topology`).
    public var topology: Topology

    public init(
        seed: UInt64 = 1, keepGoing: Bool = false, baseDirectory: String = ".", keepDirectory: Bool = false,
        responseObserver: (@Sendable (Endpoint, String, String, ClientResponse) -> Void)? = nil,
        workDirectory: String = "/tmp", checks: (any InvariantChecking)? = nil, topology: Topology = .unix
    ) {
        self.topology = topology
        self.seed = seed
        self.keepGoing = keepGoing
        self.baseDirectory = baseDirectory
        self.keepDirectory = keepDirectory
        self.responseObserver = responseObserver
        self.workDirectory = workDirectory
        self.checks = checks
    }
}

/// Runs one scenario in its own fresh cluster in a temporary directory, and always stops it.
///
/// Every call, proxied request, fault, node start, settle and sampled state is recorded in `history`
/// with wall and calendar time: the record the invariant checkers of `check` steps judge.
public final class ScenarioRunner {
    let scenario: Scenario
    let options: ScenarioOptions
    public internal(set) var cluster: Cluster?
    public internal(set) var directory: String?
    var variables: [String: JSON] = [:]
    var last: JSON = .null
    let started = Monotonic.now
    var timeline: [TimelineEvent] = []
    var observer = TimelineObserver()
    var proxyClients: [String: HTTPClient] = [:]
    var results: [StepResult] = []
    var failed = false
    var fatal: String? = nil
    var stopped = false
    /// Everything the run did, in order.
    public internal(set) var history: [HistoryEvent] = []
    /// The line of the step running now (0 outside steps).
    var line = 0
    /// Inside a chaos run: step failures are recorded, not fatal; requests use `requestTimeout`.
    var tolerant = false
    var requestTimeout = 30_000
    /// The calendar as the runner knows it: the start, then each move's answer.
    var knownCalendar: SimTime?
    /// After a move whose answer was lost (it may still happen, when a paused auth node resumes), until
    /// the next move's answer: the calendar is asked from the auth node each time, unknown when it does
    /// not answer.
    var calendarUncertain = false
    /// What `check` steps found, in order.
    public internal(set) var checkOutcomes: [CheckOutcome] = []

    public init(scenario: Scenario, options: ScenarioOptions) {
        self.scenario = scenario
        self.options = options
    }

    /// Milliseconds since the run started.
    public var elapsed: Int { Monotonic.now - started }

    /// Runs every step, then stops the cluster.
    public func run() -> ScenarioResult {
        defer { stop() }
        for step in scenario.steps {
            perform(step)
            if fatal != nil { break }
        }
        return result
    }

    /// Runs one step (or records it as skipped after a failure, unless `keepGoing`).
    @discardableResult
    public func perform(_ step: ScenarioStep) -> StepResult {
        if failed && !options.keepGoing {
            let skipped = StepResult(
                line: step.line, text: step.text, outcome: .skipped, message: nil, startedAt: elapsed,
                durationMilliseconds: 0, calendar: nil)
            results.append(skipped)
            return skipped
        }
        let stepStart = elapsed
        line = step.line
        defer { line = 0 }
        var outcome = StepResult.Outcome.passed
        var message: String? = nil
        do {
            try execute(step.action)
        } catch let failure as StepFailure {
            outcome = .failed
            message = failure.message
        } catch {
            outcome = .failed
            message = "\(error)"
        }
        if outcome == .failed, tolerant, ScenarioRunner.isTolerable(step.action) {
            outcome = .tolerated
        }
        if outcome == .failed {
            failed = true
            timeline.append(
                TimelineEvent(
                    at: elapsed, kind: .failure, subject: "line \(step.line)", state: "failed",
                    detail: "\(step.text): \(message ?? "")"))
            if case .cluster = step.action { fatal = message }
        }
        observe()
        let result = StepResult(
            line: step.line, text: step.text, outcome: outcome, message: message, startedAt: stepStart,
            durationMilliseconds: elapsed - stepStart, calendar: calendar?.iso8601)
        results.append(result)
        return result
    }

    /// In a chaos run every step may fail without failing the scenario, except expectations and checks.
    static func isTolerable(_ action: StepAction) -> Bool {
        switch action {
        case .expect, .check, .cluster: false
        default: true
        }
    }

    /// The result so far.
    public var result: ScenarioResult {
        ScenarioResult(
            name: scenario.name, file: scenario.file, summary: scenario.summary, seed: options.seed, steps: results,
            timeline: timeline, durationMilliseconds: elapsed,
            error: fatal.map { "the cluster did not start: \($0)" }, knownBug: scenario.knownBug)
    }

    /// Stops every node and removes the run directory (unless kept). Safe to call twice.
    public func stop() {
        guard !stopped else { return }
        stopped = true
        for client in proxyClients.values { client.reset() }
        guard let cluster else { return }
        _ = cluster.down(graceMilliseconds: 3000)
        if !options.keepDirectory, let directory { removeTree(directory) }
        ThrowawayClusters.release(cluster)
    }

    // MARK: - History

    /// The calendar's moment as far as the runner knows, asking the auth node when a move's answer was lost.
    public var calendar: SimTime? {
        if knownCalendar == nil || calendarUncertain, let cluster { knownCalendar = cluster.calendarNow }
        return knownCalendar
    }

    /// Records an event that started at `start` and ends now.
    @discardableResult
    public func record(_ action: HistoryAction, _ outcome: HistoryOutcome, since start: Int, calendar: SimTime?)
        -> HistoryEvent
    {
        let event = HistoryEvent(
            index: history.count, line: line, start: start, end: elapsed, calendar: calendar, action: action,
            outcome: outcome)
        history.append(event)
        return event
    }

    /// Runs `body`, recording it as `action` with the outcome it had; rethrows its error.
    func recorded(_ action: HistoryAction, _ body: () throws -> Void) throws {
        let start = elapsed
        let moment = calendar
        do {
            try body()
            record(action, .done, since: start, calendar: moment)
        } catch {
            record(action, .refused("\(error)"), since: start, calendar: moment)
            throw error
        }
    }

    /// How an HTTP exchange that produced no response ended: refused (never delivered) or unknown.
    static func outcome(of error: any Error) -> HistoryOutcome {
        if let error = error as? HTTPClientError {
            switch error.kind {
            case .unreachable, .faultInjected: return .refused(error.description)
            case .timedOut, .connectionLost, .protocolViolation: return .unknown(error.description)
            }
        }
        return .refused("\(error)")
    }

    // MARK: - Observation for the timeline

    /// Samples every node's process state, every data plane's and zone's sync state and every link.
    public func observe() {
        guard let cluster else { return }
        let events = observer.observe(cluster.snapshot(), at: elapsed)
        timeline += events
        for event in events {
            record(
                .observation(
                    subject: event.subject, state: event.state,
                    details: ["of": .string(event.kind.rawValue), "detail": .string(event.detail)]),
                .done, since: elapsed, calendar: calendarUncertain ? nil : knownCalendar)
        }
    }

    func requireCluster() throws -> Cluster {
        guard let cluster else { throw StepFailure(message: "no cluster: the first step must start one") }
        return cluster
    }
}
