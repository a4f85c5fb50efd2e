import KonnectCluster
import KonnectCore
import KonnectHTTP
import KonnectScenario

#if canImport(Glibc)
    import Glibc
#endif

/// A `check` step: heal everything, let the cluster settle (awaiting conditions, each with a deadline),
/// observe it, read back what was acknowledged, then judge the whole history with the invariant
/// checkers. Every observation is recorded in the history, after a `final` mark (and a `reads` mark for
/// the read-back), so the checkers judge exactly what was seen.
public struct ChaosChecks: InvariantChecking {
    public var settings: InvariantSettings

    public init(settings: InvariantSettings = .standard) {
        self.settings = settings
    }

    public func check(_ runner: ScenarioRunner, invariants: [String], boundMilliseconds: Int?) throws -> CheckOutcome {
        var settings = self.settings
        if let boundMilliseconds { settings.deactivationBoundMilliseconds = boundMilliseconds }
        try FinalObservation(runner: runner, settings: settings).run()
        let verdicts = Invariants.check(runner.history, names: invariants, settings: settings)
        return ChaosChecks.outcome(verdicts, history: runner.history)
    }

    /// One line per failed invariant with its first violations, or the invariants that held.
    static func outcome(_ verdicts: [CheckVerdict], history: [HistoryEvent]) -> CheckOutcome {
        let failed = verdicts.filter { !$0.passed }
        guard !failed.isEmpty else {
            return CheckOutcome(
                passed: true, summary: "invariants held: \(verdicts.map(\.invariant).joined(separator: ", "))",
                details: verdicts)
        }
        var lines: [String] = []
        for verdict in failed {
            lines.append(
                "invariant \(verdict.invariant) broken (\(verdict.violations.count) violation\(verdict.violations.count == 1 ? "" : "s")):"
            )
            for violation in verdict.violations.prefix(3) {
                lines.append("  - \(violation.message)")
                for index in violation.events.prefix(4) where index < history.count {
                    lines.append("      \(history[index].summary) (line \(history[index].line))")
                }
            }
        }
        return CheckOutcome(passed: false, summary: lines.joined(separator: "\n"), details: verdicts)
    }
}

/// The final observations of a `check` step.
struct FinalObservation {
    let runner: ScenarioRunner
    let settings: InvariantSettings

    var cluster: Cluster? { runner.cluster }

    func run() throws {
        guard let cluster else { throw ProcessError("no cluster to check") }
        runner.record(.mark("heal"), .done, since: runner.elapsed, calendar: runner.calendar)
        healEverything(cluster)
        runner.observe()
        // Usage delivered, data planes connected: awaited, each with a deadline; what is still missing
        // is for the checkers to judge.
        try? runner.run(.settle)
        waitUntil("every data plane is connected to its geo", deadline: Monotonic.now + 15_000) {
            cluster.records.filter { $0.kind == .dataPlane }.allSatisfy { record in
                guard let state = (try? cluster.nodeStatus(record.name))?["state"]?.stringValue else { return false }
                return state == "synced" || state == "orphaned"
            }
        }
        runner.observe()
        runner.record(.mark("final"), .done, since: runner.elapsed, calendar: runner.calendar)
        let facts = RunFacts(runner.history)
        var states: [String: String] = [:]
        for organization in facts.organizations.keys.sorted() {
            let view = try? runner.supportCall("GET", "/v3/support/organizations/\(organization)")
            states[organization] = view?.json?["state"]?.stringValue
        }
        // Deactivation effects get the bound, once, for every geo and data plane together.
        let deadline = Monotonic.now + settings.deactivationBoundMilliseconds
        observeGeos(cluster, states: states, deadline: deadline)
        probeDataPlanes(facts, states: states, deadline: deadline)
        // A clean boundary for usage: every call answered so far is recorded before the views are read
        // (shorter: what the first settle could not deliver is stuck, the probes' calls are quick).
        try? runner.settle(timeoutMilliseconds: 10_000)
        observePendingUsage(cluster)
        for organization in facts.organizations.keys.sorted() {
            readBilling(organization)
        }
        runner.record(.mark("reads"), .done, since: runner.elapsed, calendar: runner.calendar)
        readBack(facts, states: states)
    }

    /// Heals every link, rejoins isolated hosts, resumes paused nodes and restarts the ones that are down.
    func healEverything(_ cluster: Cluster) {
        try? runner.run(.healAll)
        for node in FinalObservation.hostsLeftIsolated(runner.history) { try? runner.run(.rejoin(node)) }
        for record in cluster.records {
            switch cluster.processState(record).1 {
            case .paused: try? runner.run(.resume(record.name))
            case .down: try? runner.run(.restart(record.name))
            case .running: break
            }
        }
    }

    /// Nodes whose last isolate or rejoin step is not a rejoin that worked (an isolate that failed may
    /// have taken the link down all the same): their hosts may be off the network.
    static func hostsLeftIsolated(_ history: [HistoryEvent]) -> [String] {
        var last: [String: Bool] = [:]
        for event in history {
            guard case .fault(let kind, let node) = event.action, kind == "isolate" || kind == "rejoin" else {
                continue
            }
            last[node] = kind == "isolate" || event.outcome != .done
        }
        return last.filter(\.value).keys.sorted()
    }

    /// Waits until `condition` holds or the deadline (a `Monotonic` moment) passes, polling.
    @discardableResult
    func waitUntil(_ what: String, deadline: Int, _ condition: () -> Bool) -> Bool {
        while true {
            if condition() { return true }
            if Monotonic.now >= deadline {
                runner.record(
                    .observation(subject: "check", state: "deadline passed", details: ["waiting until": .string(what)]),
                    .done, since: runner.elapsed, calendar: runner.calendar)
                return false
            }
            usleep(100_000)
        }
    }

    /// Each geo's decommissioned organizations, once they agree with the organizations' states (or the
    /// bound passed), recorded as an observation.
    func observeGeos(_ cluster: Cluster, states: [String: String], deadline: Int) {
        for record in cluster.records where record.kind == .geo {
            var status: JSON? = nil
            waitUntil(
                "geo \(record.name) agrees with the organizations' states",
                deadline: deadline
            ) {
                status = try? cluster.client(record, timeoutMilliseconds: 2000).send("GET", "/internal/v1/status").json
                let listed = Set((status?["decommissioned_organizations"]?.arrayValue ?? []).compactMap(\.stringValue))
                return states.allSatisfy { organization, state in
                    state == "inactive"
                        ? listed.contains(organization) : !(state == "active" && listed.contains(organization))
                }
            }
            runner.record(
                .observation(subject: "geo \(record.name)", state: "status", details: status ?? .null),
                status == nil ? .refused("geo \(record.name) did not answer its status") : .done,
                since: runner.elapsed, calendar: runner.calendar)
        }
    }

    /// One request through each data plane (for a path it served before), until it answers as its
    /// organization's state says it must (503 when inactive), or the bound passes.
    func probeDataPlanes(_ facts: RunFacts, states: [String: String], deadline: Int) {
        for dataPlane in facts.dataPlanes.values.sorted(by: { $0.name < $1.name }) {
            let served = facts.runEvents.last { event in
                if case .proxy(dataPlane.name, "GET", _) = event.action, AvailabilityInvariant.answeredByUpstream(event)
                {
                    return true
                }
                return false
            }
            var path = "/"
            if let served, case .proxy(_, _, let servedPath) = served.action { path = servedPath }
            let inactive = dataPlane.organization.flatMap { states[$0] } == "inactive"
            waitUntil(
                "data plane \(dataPlane.name) answers as its organization's state says",
                deadline: deadline
            ) {
                guard let response = try? runner.proxy(dataPlane.name, "GET", path) else { return false }
                let orphaned = response.json?["data_plane_state"]?.stringValue == "orphaned"
                return inactive ? response.status == 503 : !(response.status == 503 && orphaned)
            }
        }
    }

    /// Usage still held by a data plane or a geo after the settle, recorded as observations
    /// (`usage pending`): with every fault healed, it may never arrive.
    func observePendingUsage(_ cluster: Cluster) {
        for record in cluster.records where record.kind == .dataPlane || record.kind == .geo {
            let status =
                record.kind == .dataPlane
                ? try? cluster.nodeStatus(record.name)
                : (try? cluster.client(record, timeoutMilliseconds: 2000).send("GET", "/internal/v1/status"))?.json
            let pending = status?[record.kind == .dataPlane ? "unreported_usage" : "pending_usage_records"]?.intValue
            guard let pending, pending > 0 else { continue }
            runner.record(
                .observation(subject: record.name, state: "usage pending", details: ["pending": .int(pending)]),
                .done, since: runner.elapsed, calendar: runner.calendar)
        }
    }

    /// The Billing and Usage view of every cycle so far, the invoices and support's view.
    func readBilling(_ organization: String) {
        let base = "/v3/support/organizations/\(organization)"
        _ = try? runner.supportCall("GET", base)
        _ = try? runner.supportCall("GET", "\(base)/invoices")
        guard let current = try? runner.supportCall("GET", "\(base)/billing/usage?cycle=current"),
            current.status == 200, let index = current.json?["cycle"]?.intValue
        else { return }
        for cycle in 0..<index {
            _ = try? runner.supportCall("GET", "\(base)/billing/usage?cycle=\(cycle)")
        }
    }

    /// Reads every acknowledged object back as its organization's owner (reactivating an inactive
    /// organization first: D7 restores its control planes with the configuration they had).
    func readBack(_ facts: RunFacts, states: [String: String]) {
        for organization in facts.organizations.values.sorted(by: { $0.event < $1.event }) {
            let state = states[organization.id]
            guard state == "active" || state == "inactive" else { continue }
            if state == "inactive" {
                _ = try? runner.supportCall("POST", "/v3/support/organizations/\(organization.id)/reactivate")
            }
            let login = try? runner.call(
                "auth", "POST", "/v3/authenticate",
                body: [
                    "email": .string(organization.ownerEmail), "password": "Correct-Horse-42!",
                    "organization_id": .string(organization.id),
                ], token: nil)
            guard let token = login?.json?["access_token"]?.stringValue else { continue }
            for object in facts.objects.values.sorted(by: { $0.event < $1.event })
            where object.organization == organization.id {
                _ = try? runner.call(object.geo, "GET", object.path, body: nil, token: token)
            }
        }
    }
}
