import KonnectScenario

/// The bounds checkers allow for things that take time.
public struct InvariantSettings: Sendable, Equatable {
    /// How long after a deactivation commits (and its data plane's path to the auth node is healthy) a
    /// data plane may still proxy.
    public var deactivationBoundMilliseconds: Int
    /// How long after applying a configuration a data plane may take to write it to its disk cache: a
    /// configuration proven served less than this before a crash is not required after the restart.
    public var cacheGraceMilliseconds: Int

    public static let standard = InvariantSettings(deactivationBoundMilliseconds: 10_000, cacheGraceMilliseconds: 1000)

    public init(deactivationBoundMilliseconds: Int, cacheGraceMilliseconds: Int) {
        self.deactivationBoundMilliseconds = deactivationBoundMilliseconds
        self.cacheGraceMilliseconds = cacheGraceMilliseconds
    }
}

/// The invariant checkers: each a pure function from a run's history to a verdict with the events that
/// break it.
public enum Invariants {
    public static var checkers: [(name: String, check: (RunFacts, InvariantSettings) -> CheckVerdict)] {
        [
            ("writes", { facts, _ in WritesInvariant.check(facts) }),
            ("usage", { facts, _ in UsageInvariant.check(facts) }),
            ("isolation", { facts, _ in IsolationInvariant.check(facts) }),
            ("deactivation", DeactivationInvariant.check),
            ("availability", AvailabilityInvariant.check),
            ("calendar", { facts, _ in CalendarInvariant.check(facts) }),
        ]
    }

    /// Runs the named checkers (all when empty) over a history.
    public static func check(
        _ events: [HistoryEvent], names: [String] = [], settings: InvariantSettings = .standard
    ) -> [CheckVerdict] {
        let facts = RunFacts(events)
        return checkers.filter { names.isEmpty || names.contains($0.name) }.map { $0.check(facts, settings) }
    }
}

extension HistoryEvent {
    /// A short description for verdicts and reports: `#12 POST eu /v2/control-planes -> 201`.
    public var summary: String {
        let what: String
        switch action {
        case .call(let node, let method, let path, _, _): what = "\(method) \(node) \(path)"
        case .proxy(let dataPlane, let method, let path): what = "request \(dataPlane) \(method) \(path)"
        case .fault(let kind, let target): what = "\(kind) \(target)"
        case .node(let action, let kind, let name, _): what = "\(kind) \(action) \(name)"
        case .settle(let clean): what = clean ? "settle" : "settle (incomplete)"
        case .observation(let subject, let state, _): what = "\(subject) \(state)"
        case .mark(let name): what = "-- \(name) --"
        }
        let result: String
        switch outcome {
        case .response(let status, _): result = " -> \(status)"
        case .done: result = ""
        case .refused(let why): result = " (refused: \(why.prefix(80)))"
        case .unknown(let why): result = " (no answer: \(why.prefix(80)))"
        }
        return "#\(index) \(what)\(result)"
    }
}
