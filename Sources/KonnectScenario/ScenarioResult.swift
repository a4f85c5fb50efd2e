import KonnectCore

/// How one step went.
public struct StepResult: Sendable {
    public enum Outcome: String, Sendable {
        case passed, failed, skipped
        /// Failed inside a chaos run, where a step's failure is recorded, not fatal.
        case tolerated
    }

    public var line: Int
    public var text: String
    public var outcome: Outcome
    public var message: String?
    /// Milliseconds from the scenario's start.
    public var startedAt: Int
    public var durationMilliseconds: Int
    public var calendar: String?

    public init(
        line: Int, text: String, outcome: Outcome, message: String?, startedAt: Int, durationMilliseconds: Int,
        calendar: String?
    ) {
        self.line = line
        self.text = text
        self.outcome = outcome
        self.message = message
        self.startedAt = startedAt
        self.durationMilliseconds = durationMilliseconds
        self.calendar = calendar
    }

    public var json: JSON {
        [
            "line": .int(line), "step": .string(text), "outcome": .string(outcome.rawValue),
            "message": .optional(message),
            "started_ms": .int(startedAt), "duration_ms": .int(durationMilliseconds), "calendar": .optional(calendar),
        ]
    }
}

/// Something the report's timeline draws.
public struct TimelineEvent: Sendable {
    public enum Kind: String, Sendable {
        /// A node's process state: up, down, paused (lane per node).
        case node
        /// A data plane's or zone's sync state: synced, disconnected, orphaned.
        case sync
        /// A link fault in force: partitioned, latency, drop, healed.
        case link
        case calendar
        case fault
        case failure
        /// An organization's state changed (the console).
        case lifecycle
        /// A data plane or zone applied a new configuration version (the console).
        case config
    }

    public var at: Int
    public var kind: Kind
    public var subject: String
    public var state: String
    public var detail: String

    public init(at: Int, kind: Kind, subject: String, state: String, detail: String) {
        self.at = at
        self.kind = kind
        self.subject = subject
        self.state = state
        self.detail = detail
    }

    public var json: JSON {
        [
            "at_ms": .int(at), "kind": .string(kind.rawValue), "subject": .string(subject), "state": .string(state),
            "detail": .string(detail),
        ]
    }
}

/// The outcome of one scenario.
public struct ScenarioResult: Sendable {
    public var name: String
    public var file: String
    public var summary: String
    public var seed: UInt64
    public var steps: [StepResult]
    public var timeline: [TimelineEvent]
    public var durationMilliseconds: Int
    public var error: String?
    /// The scenario's `known bug`: its failure is expected.
    public var knownBug: String? = nil

    public init(
        name: String, file: String, summary: String, seed: UInt64, steps: [StepResult], timeline: [TimelineEvent],
        durationMilliseconds: Int, error: String?, knownBug: String? = nil
    ) {
        self.name = name
        self.file = file
        self.summary = summary
        self.seed = seed
        self.steps = steps
        self.timeline = timeline
        self.durationMilliseconds = durationMilliseconds
        self.error = error
        self.knownBug = knownBug
    }

    public var failures: [StepResult] { steps.filter { $0.outcome == .failed } }
    public var passed: Bool { error == nil && failures.isEmpty }

    public var json: JSON {
        [
            "name": .string(name), "file": .string(file), "summary": .string(summary),
            "seed": .int(Int64(bitPattern: seed)),
            "passed": .bool(passed), "duration_ms": .int(durationMilliseconds), "error": .optional(error),
            "known_bug": .optional(knownBug),
            "steps": .array(steps.map(\.json)), "timeline": .array(timeline.map(\.json)),
        ]
    }

    /// The failure lines printed for people: file:line, the step, what was expected and what was seen.
    public var failureText: String {
        var lines: [String] = []
        if let error { lines.append("\(file): \(error)") }
        for failure in failures {
            lines.append("\(file):\(failure.line): \(failure.text)\n    \(failure.message ?? "")")
        }
        return lines.joined(separator: "\n")
    }
}
