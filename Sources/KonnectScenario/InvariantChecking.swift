/// The invariants a `check` step can name; the chaos module implements them.
public enum InvariantNames {
    public static let all = ["writes", "usage", "isolation", "deactivation", "availability", "calendar"]
}

/// What a `check` step found: whether the invariants held, a summary for people, and the details
/// (verdicts with their offending events) for reports.
public struct CheckOutcome: Sendable {
    public var passed: Bool
    public var summary: String
    public var details: [CheckVerdict]

    public init(passed: Bool, summary: String, details: [CheckVerdict]) {
        self.passed = passed
        self.summary = summary
        self.details = details
    }
}

/// One invariant's verdict over a history, with the events that break it.
public struct CheckVerdict: Sendable, Equatable {
    public var invariant: String
    public var passed: Bool
    /// What was checked, and what could not be decided (and why).
    public var notes: [String]
    public var violations: [Violation]

    public init(invariant: String, notes: [String] = [], violations: [Violation] = []) {
        self.invariant = invariant
        self.passed = violations.isEmpty
        self.notes = notes
        self.violations = violations
    }
}

/// One way an invariant was broken: what, and the history events (by index) that show it.
public struct Violation: Sendable, Equatable {
    public var message: String
    public var events: [Int]

    public init(_ message: String, events: [Int]) {
        self.message = message
        self.events = events
    }
}

/// What runs a `check` step: heals and settles the cluster, observes it (recording what it sees in the
/// history), then judges the history. Supplied by the chaos module (`ChaosChecks`); a runner without
/// one fails `check` steps with a message saying so.
public protocol InvariantChecking: Sendable {
    func check(_ runner: ScenarioRunner, invariants: [String], boundMilliseconds: Int?) throws -> CheckOutcome
}
