import KonnectCore

/// A value in a step: a literal, a word, or a reference to a captured value (`$cp.id`).
public enum ScenarioValue: Sendable, Equatable {
    case literal(JSON)
    case reference(name: String, path: String)
    /// A path, URL or body with `$name.path` references inside, substituted when the step runs.
    case template(String)
}

/// How an expectation compares.
public enum Comparison: String, Sendable, CaseIterable {
    case equal = "=="
    case notEqual = "!="
    case greater = ">"
    case greaterOrEqual = ">="
    case less = "<"
    case lessOrEqual = "<="
    case contains, exists, missing
}

/// What an `expect` looks at.
public enum ExpectSubject: Sendable, Equatable {
    /// The last HTTP response: `status`, `body.<path>`, `headers.<name>`.
    case lastResponse
    /// A captured value.
    case variable(String)
    /// A data plane's status document (`state`, `config.version`, `license.state`...).
    case dataPlane(String)
    case zone(String)
    /// A node's process: `up`, `down`, `paused`.
    case node(String)
    /// Support's view of an organization (`state`, `state_history`, `licenses`, `email_locked`...).
    case organization(ScenarioValue)
    /// Support's view of an organization's plan.
    case plan(ScenarioValue)
    /// The Billing and Usage view of a cycle (`current`, `previous`, a number).
    case usage(ScenarioValue, cycle: String)
    /// The organization's invoices, as `{count, data}`.
    case invoices(ScenarioValue)
    /// An email's lock: `{locked: true|false}`.
    case email(ScenarioValue)
    /// A geo's internal status (pending usage, event cursor, decommissioned organizations).
    case geo(String)
    /// The fault log, as `{count, faults}`.
    case faults
    /// A fresh `GET` on a node's public API each time it is observed: `{status, body}`.
    case api(node: String, path: ScenarioValue, token: ScenarioValue?)
}

/// One step of a scenario.
public enum StepAction: Sendable, Equatable {
    case cluster(geos: [String], start: SimTime, rateCard: String?)
    case signup(
        email: ScenarioValue, organization: ScenarioValue, plan: String, geo: String, password: ScenarioValue?,
        capture: String?)
    case login(email: ScenarioValue, organization: ScenarioValue?, password: ScenarioValue?, capture: String?)
    /// An API call on a node: `POST eu /v2/control-planes {...} with $ana as $cp -> 201`.
    case request(
        node: String, method: String, path: ScenarioValue, body: ScenarioValue?, token: ScenarioValue?,
        capture: String?, status: Int?)
    /// An API call with the support credential.
    case support(method: String, path: ScenarioValue, body: ScenarioValue?, capture: String?, status: Int?)
    /// One proxied request through a data plane: `request dp1 GET /orders/42 -> 200`.
    case proxy(
        dataPlane: String, method: String, path: ScenarioValue, body: ScenarioValue?, headers: ScenarioValue?,
        capture: String?, status: Int?)
    /// Many proxied requests: `send 100 requests to dp1 /orders`.
    case send(count: Int, dataPlane: String, method: String, path: ScenarioValue, status: Int?)
    case expect(
        subject: ExpectSubject, path: String, comparison: Comparison, value: ScenarioValue?, withinMilliseconds: Int?)
    case upstreamStart(name: String)
    case upstreamStop(name: String)
    case dataPlaneStart(name: String, geo: String, controlPlane: ScenarioValue, organization: ScenarioValue?)
    case dataPlaneStop(name: String)
    case zoneStart(name: String, geo: String, meshControlPlane: ScenarioValue, organization: ScenarioValue?)
    case zoneStop(name: String)
    case workload(zone: String, name: String, mesh: String)
    case advance(SimDuration)
    case clockSet(SimTime)
    /// Organization Admin: Organization > Settings > Deactivate.
    case deactivate(token: ScenarioValue)
    /// My Account > Delete Account.
    case deleteAccount(token: ScenarioValue)
    case supportDeactivate(organization: ScenarioValue)
    case supportReactivate(organization: ScenarioValue)
    case supportUnlock(email: ScenarioValue)
    case kill(String)
    case restart(String)
    case pause(String)
    case resume(String)
    /// A node's host leaves the network (its link down; `--topology netns` only).
    case isolate(String)
    case rejoin(String)
    case partition(from: String, to: String)
    case heal(from: String, to: String)
    case healAll
    case latency(from: String, to: String, milliseconds: Int, jitterMilliseconds: Int)
    case drop(from: String, to: String, partsPerMillion: Int)
    /// Waits until every data plane and geo has delivered its usage and every running data plane has
    /// caught up with its control plane.
    case settle
    /// Lets wall-clock time pass (for behaviour that is about time itself, such as backoff).
    case wait(milliseconds: Int)
    case set(name: String, value: ScenarioValue)
    /// From here on the steps are a chaos run's: each records its outcome in the history instead of
    /// failing the scenario (expectations and checks still fail), and requests time out after
    /// `timeoutMilliseconds`.
    case chaos(timeoutMilliseconds: Int)
    /// Heals every fault, lets the cluster settle, observes it, and runs the invariant checkers over
    /// the history (all of them, or the ones named); `within` bounds how long deactivation effects may
    /// take once a data plane's path to the auth node is healthy.
    case check(names: [String], withinMilliseconds: Int?)
    /// The scenario shows a bug not fixed yet: it is expected to fail, and reported (not counted as a
    /// failure) while it does; once it passes, the suite says so, so the step is removed.
    case knownBug(String)
}

/// A step with where it was written.
public struct ScenarioStep: Sendable, Equatable {
    public var line: Int
    public var text: String
    public var action: StepAction

    public init(line: Int, text: String, action: StepAction) {
        self.line = line
        self.text = text
        self.action = action
    }
}

/// A parsed scenario file.
public struct Scenario: Sendable, Equatable {
    public var name: String
    public var file: String
    public var steps: [ScenarioStep]
    /// The first comment block: what the story is about.
    public var summary: String

    /// What its `known bug` step says, if it has one.
    public var knownBug: String? {
        for step in steps { if case .knownBug(let text) = step.action { return text } }
        return nil
    }

    public init(name: String, file: String, steps: [ScenarioStep], summary: String) {
        self.name = name
        self.file = file
        self.steps = steps
        self.summary = summary
    }
}
