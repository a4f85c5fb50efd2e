import KonnectChaos
import KonnectCore
import KonnectScenario

/// Hand-made histories, shaped like the ones a scenario runner records: each event takes 5 ms of wall
/// time unless told otherwise, and the calendar is whatever the last move set.
struct HistoryBuilder {
    var events: [HistoryEvent] = []
    var now = 0
    var calendar: SimTime? = .defaultStart
    var line = 1

    /// Appends an event; returns its index.
    @discardableResult
    mutating func add(_ action: HistoryAction, _ outcome: HistoryOutcome, duration: Int = 5) -> Int {
        let event = HistoryEvent(
            index: events.count, line: line, start: now, end: now + duration, calendar: calendar, action: action,
            outcome: outcome)
        events.append(event)
        now += duration
        line += 1
        return event.index
    }

    /// Lets wall-clock time pass.
    mutating func wait(_ milliseconds: Int) { now += milliseconds }

    @discardableResult
    mutating func call(
        _ node: String, _ method: String, _ path: String, token: String? = nil, body: JSON? = nil,
        _ status: Int, _ answer: JSON = [:]
    ) -> Int {
        add(
            .call(node: node, method: method, path: path, token: token, body: body),
            .response(status: status, body: answer))
    }

    @discardableResult
    mutating func unanswered(_ node: String, _ method: String, _ path: String, token: String? = nil, body: JSON? = nil)
        -> Int
    {
        add(
            .call(node: node, method: method, path: path, token: token, body: body),
            .unknown("no response within 3000 ms"))
    }

    /// Signs up `org` (owner `user`) in a geo and logs in with `token`.
    mutating func organization(_ org: String, user: String, geo: String = "eu", token: String) {
        call(
            "auth", "POST", "/v3/signup",
            body: ["email": .string("\(user)@chaos.test"), "geo": .string(geo)], 201,
            [
                "user": ["id": .string(user), "email": .string("\(user)@chaos.test")],
                "organization": [
                    "id": .string(org), "home_geo": .string(geo), "created_at": .string(calendar!.iso8601),
                ],
            ])
        login(org: org, user: user, token: token)
    }

    mutating func login(org: String, user: String, token: String) {
        call(
            "auth", "POST", "/v3/authenticate", body: ["email": .string("\(user)@chaos.test")], 200,
            ["access_token": .string(token), "organization_id": .string(org), "user_id": .string(user)])
    }

    @discardableResult
    mutating func controlPlane(_ id: String, name: String, geo: String = "eu", token: String) -> Int {
        call(
            geo, "POST", "/v2/control-planes", token: token, body: ["name": .string(name)], 201,
            ["id": .string(id), "name": .string(name), "description": ""])
    }

    /// A service on `/u/<prefix>` of the upstream, and a data plane for its control plane.
    mutating func dataPlane(_ name: String, controlPlane: String, geo: String = "eu", organization: String) {
        add(
            .node(
                "start", kind: "dp", name: name,
                details: [
                    "geo": .string(geo), "control_plane": .string(controlPlane),
                    "organization_id": .string(organization),
                ]), .done)
    }

    @discardableResult
    mutating func service(_ id: String, controlPlane: String, prefix: String, geo: String = "eu", token: String) -> Int
    {
        call(
            geo, "POST", "/v2/control-planes/\(controlPlane)/core-entities/services", token: token,
            body: ["name": .string(id), "url": .string("http://127.0.0.1:4000\(prefix)")], 201,
            ["id": .string(id), "name": .string(id), "path": .string(prefix), "retries": 5])
    }

    /// A request through a data plane answered by the echo upstream.
    @discardableResult
    mutating func served(_ dataPlane: String, _ path: String, upstream: String? = nil) -> Int {
        add(
            .proxy(dataPlane: dataPlane, method: "GET", path: path),
            .response(status: 200, body: ["method": "GET", "path": .string(upstream ?? "/u" + path)]))
    }

    @discardableResult
    mutating func proxied(_ dataPlane: String, _ path: String, _ status: Int, message: String, extra: JSONObject = [:])
        -> Int
    {
        var body = JSONObject([("message", .string(message))])
        for (key, value) in extra { body[key] = value }
        return add(
            .proxy(dataPlane: dataPlane, method: "GET", path: path), .response(status: status, body: .object(body)))
    }

    @discardableResult
    mutating func refusedByDataPlane(_ dataPlane: String, _ path: String) -> Int {
        proxied(
            dataPlane, path, 503, message: "This data plane no longer proxies: organization deactivated",
            extra: [
                "data_plane_state": "orphaned",
                "reason": "organization deactivated (admin_deactivated): the control plane is decommissioned",
            ])
    }

    @discardableResult
    mutating func fault(_ kind: String, _ target: String) -> Int { add(.fault(kind, target: target), .done) }

    @discardableResult
    mutating func settle(clean: Bool = true) -> Int { add(.settle(clean: clean), .done) }

    mutating func mark(_ name: String) { add(.mark(name), .done) }

    /// Moves the calendar as the `advance` step does: a settle, then the move.
    mutating func advance(days: Int64, clean: Bool = true) {
        settle(clean: clean)
        let target = calendar! + .days(days)
        call(
            "auth", "POST", "/v3/simulator/clock/advance", token: "support", body: ["by": .string("\(days)d")], 200,
            ["now": .string(target.iso8601)])
        calendar = target
    }

    /// Support's view of an organization at the final observations.
    mutating func view(
        _ org: String, state: String, history: [(String, String, SimTime)], created: SimTime = .defaultStart
    ) {
        call(
            "auth", "GET", "/v3/support/organizations/\(org)", token: "support", 200,
            [
                "id": .string(org), "state": .string(state), "created_at": .string(created.iso8601),
                "retention_period_days": 90,
                "state_history": .array(
                    history.map { ["state": .string($0.0), "reason": .string($0.1), "at": .string($0.2.iso8601)] }),
            ])
    }

    mutating func usage(_ org: String, cycle: Int64, calls: Int64) {
        call(
            "auth", "GET", "/v3/support/organizations/\(org)/billing/usage?cycle=\(cycle)", token: "support", 200,
            ["cycle": .int(cycle), "periods": [["usage": ["api_calls": .int(calls)]]]])
    }

    mutating func invoices(_ org: String, _ periods: [(SimTime, SimTime)]) {
        call(
            "auth", "GET", "/v3/support/organizations/\(org)/invoices", token: "support", 200,
            [
                "data": .array(
                    periods.enumerated().map { index, period in
                        [
                            "id": .string("inv-\(org)-\(index)"), "period_start": .string(period.0.iso8601),
                            "period_end": .string(period.1.iso8601), "issued_at": .string(period.1.iso8601),
                        ]
                    })
            ])
    }

    mutating func geoStatus(_ geo: String, decommissioned: [String]) {
        add(
            .observation(
                subject: "geo \(geo)", state: "status",
                details: ["decommissioned_organizations": .strings(decommissioned)]), .done)
    }

    func verdict(_ invariant: String, settings: InvariantSettings = .standard) -> CheckVerdict {
        Invariants.check(events, names: [invariant], settings: settings)[0]
    }
}
