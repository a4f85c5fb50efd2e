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

    public init(
        seed: UInt64 = 1, keepGoing: Bool = false, baseDirectory: String = ".", keepDirectory: Bool = false,
        responseObserver: (@Sendable (Endpoint, String, String, ClientResponse) -> Void)? = nil
    ) {
        self.seed = seed
        self.keepGoing = keepGoing
        self.baseDirectory = baseDirectory
        self.keepDirectory = keepDirectory
        self.responseObserver = responseObserver
    }
}

/// Runs one scenario in its own fresh cluster in a temporary directory, and always stops it.
public final class ScenarioRunner {
    let scenario: Scenario
    let options: ScenarioOptions
    var cluster: Cluster?
    var directory: String?
    var variables: [String: JSON] = [:]
    var last: JSON = .null
    let started = Monotonic.now
    var timeline: [TimelineEvent] = []
    var observer = TimelineObserver()
    var proxyClients: [String: HTTPClient] = [:]

    public init(scenario: Scenario, options: ScenarioOptions) {
        self.scenario = scenario
        self.options = options
    }

    var elapsed: Int { Monotonic.now - started }

    public func run() -> ScenarioResult {
        var results: [StepResult] = []
        var failed = false
        var fatal: String? = nil
        defer { teardown() }
        for step in scenario.steps {
            if failed && !options.keepGoing {
                results.append(
                    StepResult(
                        line: step.line, text: step.text, outcome: .skipped, message: nil, startedAt: elapsed,
                        durationMilliseconds: 0, calendar: nil))
                continue
            }
            let stepStart = elapsed
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
            if outcome == .failed {
                failed = true
                timeline.append(
                    TimelineEvent(
                        at: elapsed, kind: .failure, subject: "line \(step.line)", state: "failed",
                        detail: "\(step.text): \(message ?? "")"))
                if case .cluster = step.action { fatal = message }
            }
            observe()
            results.append(
                StepResult(
                    line: step.line, text: step.text, outcome: outcome, message: message, startedAt: stepStart,
                    durationMilliseconds: elapsed - stepStart, calendar: cluster?.calendarNow?.iso8601))
            if fatal != nil { break }
        }
        return ScenarioResult(
            name: scenario.name, file: scenario.file, summary: scenario.summary, seed: options.seed, steps: results,
            timeline: timeline,
            durationMilliseconds: elapsed, error: fatal.map { "the cluster did not start: \($0)" })
    }

    private func teardown() {
        for client in proxyClients.values { client.reset() }
        guard let cluster else { return }
        _ = cluster.down(graceMilliseconds: 3000)
        if !options.keepDirectory, let directory { removeTree(directory) }
    }

    // MARK: - Observation for the timeline

    /// Samples every node's process state, every data plane's and zone's sync state and every link.
    func observe() {
        guard let cluster else { return }
        timeline += observer.observe(cluster.snapshot(), at: elapsed)
    }

    func requireCluster() throws -> Cluster {
        guard let cluster else { throw StepFailure(message: "no cluster: the first step must start one") }
        return cluster
    }
}

/// Removes a directory tree (the scenario's temporary run directory).
func removeTree(_ path: String) {
    guard let directory = opendir(path) else {
        unlink(path)
        return
    }
    var children: [String] = []
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if name != "." && name != ".." { children.append(path + "/" + name) }
    }
    closedir(directory)
    for child in children {
        var info = stat()
        if lstat(child, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR { removeTree(child) } else { unlink(child) }
    }
    rmdir(path)
}
