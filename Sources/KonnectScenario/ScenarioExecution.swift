import KonnectCluster
import KonnectCore
import KonnectHTTP
import KonnectNodes

#if canImport(Glibc)
    import Glibc
#endif

/// What each step does.
extension ScenarioRunner {
    static let defaultPassword = "Correct-Horse-42!"

    func execute(_ action: StepAction) throws {
        switch action {
        case .cluster(let geos, let start, let rateCard):
            try startCluster(geos: geos, start: start, rateCard: rateCard)
        case .signup(let email, let organization, let plan, let geo, let password, let capture):
            let body: JSON = [
                "email": try resolve(email),
                "password": try password.map(resolve) ?? .string(ScenarioRunner.defaultPassword),
                "full_name": "Scenario User", "organization_name": try resolve(organization), "plan": .string(plan),
                "geo": .string(geo),
            ]
            let response = try call("auth", "POST", "/v3/signup", body: body, token: nil)
            try require(response, 201, "signup")
            if let capture { variables[capture] = response.json ?? .null }
        case .login(let email, let organization, let password, let capture):
            let body: JSON = [
                "email": try resolve(email),
                "password": try password.map(resolve) ?? .string(ScenarioRunner.defaultPassword),
                "organization_id": try organization.map(resolve) ?? .null,
            ]
            let response = try call("auth", "POST", "/v3/authenticate", body: body, token: nil)
            try require(response, 200, "login")
            if let capture { variables[capture] = response.json ?? .null }
        case .request(let node, let method, let path, let body, let token, let capture, let status):
            let response = try call(
                node, method, try text(path), body: try body.map(resolve), token: try token.map(tokenText))
            if let capture { variables[capture] = response.json ?? .string(response.text) }
            if let status { try require(response, status, "\(method) \(try text(path))") }
        case .support(let method, let path, let body, let capture, let status):
            let response = try supportCall(method, try text(path), try body.map(resolve))
            if let capture { variables[capture] = response.json ?? .string(response.text) }
            if let status { try require(response, status, "support \(method) \(try text(path))") }
        case .proxy(let dataPlane, let method, let path, let body, let headers, let capture, let status):
            var extra = HTTPHeaders()
            if let headers, case .object(let object) = try resolve(headers) {
                for (name, value) in object { extra.add(name, value.stringValue ?? value.text) }
            }
            let bytes =
                try body.map { value -> [UInt8] in
                    let resolved = try resolve(value)
                    return resolved.stringValue.map { Array($0.utf8) } ?? resolved.bytes
                } ?? []
            let response = try proxy(dataPlane, method, try text(path), headers: extra, body: bytes)
            if let capture { variables[capture] = response.json ?? .string(response.text) }
            if let status { try require(response, status, "request \(dataPlane) \(method) \(try text(path))") }
        case .send(let count, let dataPlane, let method, let path, let status):
            let target = try text(path)
            var statuses: [Int: Int] = [:]
            var errors = 0
            for _ in 0..<count {
                do {
                    let response = try proxy(dataPlane, method, target)
                    statuses[response.status, default: 0] += 1
                } catch {
                    // In a chaos run a request without an answer is history, not the end of the step.
                    guard tolerant else { throw error }
                    errors += 1
                }
            }
            var summary = statuses.sorted { $0.key < $1.key }.map { "\($0.value) x \($0.key)" }.joined(separator: ", ")
            if errors > 0 { summary += (summary.isEmpty ? "" : ", ") + "\(errors) without an answer" }
            if let status, statuses[status] != count {
                throw StepFailure(message: "expected \(count) responses with status \(status), got \(summary)")
            }
            variables["sent"] = [
                "count": .int(count),
                "statuses": .object(JSONObject(statuses.map { (String($0.key), JSON.int($0.value)) })),
            ]
        case .expect(let subject, let path, let comparison, let value, let within):
            try expect(subject, path, comparison, value, withinMilliseconds: within)
        case .upstreamStart(let name):
            try recorded(.node("start", kind: "upstream", name: name, details: [:])) {
                let descriptor = try requireCluster().startUpstream(name: name)
                variables[name] = [
                    "url": .string(descriptor.url), "port": .int(descriptor.port), "host": .string(descriptor.host),
                ]
            }
        case .upstreamStop(let name), .dataPlaneStop(let name), .zoneStop(let name):
            let cluster = try requireCluster()
            let record = try cluster.requireRecord(name)
            try recorded(.node("stop", kind: record.kind.rawValue, name: name, details: [:])) {
                cluster.stop(record)
                proxyClients[name] = nil
            }
        case .dataPlaneStart(let name, let geo, let controlPlane, let organization):
            let target = try stringValue(controlPlane)
            let organizationID = try organization.map(stringValue)
            let details: JSON = [
                "geo": .string(geo), "control_plane": .string(target), "organization_id": .optional(organizationID),
            ]
            try recorded(.node("start", kind: "dp", name: name, details: details)) {
                let descriptor = try requireCluster().startDataPlane(
                    name: name, geo: geo, controlPlane: target, organizationID: organizationID
                ).descriptor
                variables[name] = ["url": .string(descriptor.url), "port": .int(descriptor.port)]
            }
        case .zoneStart(let name, let geo, let mesh, let organization):
            let target = try stringValue(mesh)
            let organizationID = try organization.map(stringValue)
            let details: JSON = [
                "geo": .string(geo), "mesh_control_plane": .string(target),
                "organization_id": .optional(organizationID),
            ]
            try recorded(.node("start", kind: "zone", name: name, details: details)) {
                let descriptor = try requireCluster().startZone(
                    name: name, geo: geo, meshControlPlane: target, organizationID: organizationID
                ).descriptor
                variables[name] = ["url": .string(descriptor.url), "port": .int(descriptor.port)]
            }
        case .workload(let zone, let name, let mesh):
            let response = try requireCluster().client(named: zone).json(
                "POST", "/workloads", ["name": .string(name), "mesh": .string(mesh)])
            try require(response, 201, "register workload \(name)")
        case .advance(let duration):
            try moveCalendar("POST", "/v3/simulator/clock/advance", ["by": .string(duration.description)])
        case .clockSet(let moment):
            try moveCalendar("PUT", "/v3/simulator/clock", ["now": .string(moment.iso8601)])
        case .deactivate(let token):
            let response = try call(
                "auth", "POST", "/v3/organizations/me/deactivate", body: nil, token: try tokenText(token))
            try require(response, 200, "deactivate organization")
        case .deleteAccount(let token):
            let response = try call("auth", "DELETE", "/v3/users/me", body: nil, token: try tokenText(token))
            try require(response, 204, "delete account")
        case .supportDeactivate(let organization):
            let response = try supportCall(
                "POST", "/v3/support/organizations/\(try stringValue(organization))/deactivate")
            try require(response, 200, "support deactivate")
        case .supportReactivate(let organization):
            let response = try supportCall(
                "POST", "/v3/support/organizations/\(try stringValue(organization))/reactivate")
            try require(response, 200, "support reactivate")
        case .supportUnlock(let email):
            let response = try supportCall(
                "DELETE", "/v3/support/email-locks/\(PercentEncoding.encode(try stringValue(email)))")
            try require(response, 204, "support unlock")
        case .kill(let name):
            try fault("kill", name) { try $0.kill(name) }
        case .restart(let name):
            try fault("restart", name) { _ = try $0.restart(name) }
            proxyClients[name] = nil
        case .pause(let name):
            try fault("pause", name) { try $0.pause(name) }
        case .resume(let name):
            try fault("resume", name) { try $0.resume(name) }
        case .isolate(let name):
            try fault("isolate", name) { try $0.isolate(name) }
        case .rejoin(let name):
            try fault("rejoin", name) { try $0.rejoin(name) }
        case .partition(let from, let to):
            try fault("partition", LinkFault.linkName(from: from, to: to)) {
                try $0.updateLink(from: from, to: to, description: ["fault": "partition"]) { $0.partitioned = true }
            }
        case .heal(let from, let to):
            try fault("heal", LinkFault.linkName(from: from, to: to)) {
                try $0.updateLink(from: from, to: to, description: ["fault": "heal"]) { $0 = LinkFault() }
            }
        case .healAll:
            try fault("heal", "*") { try $0.healAll() }
        case .latency(let from, let to, let milliseconds, let jitter):
            try fault("latency", LinkFault.linkName(from: from, to: to), "\(milliseconds)ms+\(jitter)ms") {
                try $0.updateLink(
                    from: from, to: to,
                    description: ["fault": "latency", "latency_ms": .int(milliseconds), "jitter_ms": .int(jitter)]
                ) {
                    $0.latencyMilliseconds = milliseconds
                    $0.jitterMilliseconds = jitter
                }
            }
        case .drop(let from, let to, let partsPerMillion):
            try fault("drop", LinkFault.linkName(from: from, to: to), "\(partsPerMillion / 10_000)%") {
                try $0.updateLink(
                    from: from, to: to, description: ["fault": "drop", "drop_ppm": .int(partsPerMillion)]
                ) {
                    $0.dropPartsPerMillion = partsPerMillion
                }
            }
        case .settle:
            try settle(timeoutMilliseconds: 20_000)
        case .wait(let milliseconds):
            sleepMilliseconds(milliseconds)
        case .set(let name, let value):
            variables[name] = try resolve(value)
        case .chaos(let timeout):
            tolerant = true
            requestTimeout = timeout
            for client in proxyClients.values { client.reset() }
            proxyClients = [:]
        case .knownBug:
            break
        case .check(let invariants, let within):
            guard let checks = options.checks else {
                throw StepFailure(
                    message:
                        "this runner has no invariant checkers; run the scenario with 'konnect-sim scenario run', which has them"
                )
            }
            let outcome = try checks.check(
                self, invariants: invariants.isEmpty ? InvariantNames.all : invariants, boundMilliseconds: within)
            checkOutcomes.append(outcome)
            if !outcome.passed { throw StepFailure(message: outcome.summary) }
        }
    }

    // MARK: - Cluster

    func startCluster(geos: [String], start: SimTime, rateCard: String?) throws {
        var template = Array((options.workDirectory + "/kss-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw StepFailure(message: "cannot create a temporary directory") }
        let path = String(cString: made)
        directory = path
        let cluster = Cluster(directory: path)
        self.cluster = cluster
        ThrowawayClusters.hold(cluster, removeDirectory: !options.keepDirectory)
        var rateCardPath: String? = nil
        if let rateCard {
            rateCardPath = rateCard.hasPrefix("/") ? rateCard : options.baseDirectory + "/" + rateCard
            guard let bytes = readWholeFile(rateCardPath!) else {
                throw StepFailure(message: "cannot read the rate card \(rateCardPath!)")
            }
            do { _ = try RateCard(json: try JSONParser.parse(bytes)) } catch {
                throw StepFailure(message: "the rate card \(rateCard) is invalid: \(error)")
            }
        }
        _ = try ClusterBoot.up(
            cluster,
            ClusterConfiguration(
                geos: geos, start: start, seed: options.seed, rateCardPath: rateCardPath, topology: options.topology))
        variables["start"] = .string(start.iso8601)
        knownCalendar = start
    }

    /// Runs a step's action outside the scenario's own steps (a `check` step heals and settles with them),
    /// recorded in the history like any step.
    public func run(_ action: StepAction) throws {
        try execute(action)
    }

    /// Calls a node's public API over TCP, recording the exchange in the history.
    public func call(_ node: String, _ method: String, _ path: String, body: JSON?, token: String?) throws
        -> ClientResponse
    {
        try exchange(.call(node: node, method: method, path: path, token: token, body: body)) {
            let cluster = try requireCluster()
            let record = try cluster.requireRecord(node)
            guard let descriptor = cluster.descriptor(record), descriptor.port > 0 else {
                throw StepFailure(message: "\(node) has no public port")
            }
            var headers = HTTPHeaders()
            if let token { headers.set("Authorization", "Bearer \(token)") }
            let endpoint = cluster.publicEndpoint(descriptor)
            let response = try HTTPClient(endpoint: endpoint, timeoutMilliseconds: requestTimeout)
                .json(method, path, body, headers: headers)
            options.responseObserver?(endpoint, method, path, response)
            return response
        }
    }

    /// Calls the auth node with the support credential, recording the exchange (token `support`).
    public func supportCall(_ method: String, _ path: String, _ body: JSON? = nil) throws -> ClientResponse {
        try exchange(.call(node: "auth", method: method, path: path, token: "support", body: body)) {
            try requireCluster().support(
                method, path, body, timeoutMilliseconds: tolerant ? requestTimeout : 60_000)
        }
    }

    /// One request through a data plane's proxy, recorded.
    public func proxy(
        _ dataPlane: String, _ method: String, _ path: String, headers: HTTPHeaders = [:], body: [UInt8] = []
    ) throws -> ClientResponse {
        try exchange(.proxy(dataPlane: dataPlane, method: method, path: path)) {
            let client = try proxyClient(dataPlane)
            do {
                return try client.send(method, path, headers: headers, body: body)
            } catch {
                client.reset()
                throw error
            }
        }
    }

    /// Runs one HTTP exchange and records it: the answer, or why there was none.
    func exchange(_ action: HistoryAction, _ send: () throws -> ClientResponse) throws -> ClientResponse {
        let start = elapsed
        let moment = calendar
        do {
            let response = try send()
            record(
                action, .response(status: response.status, body: response.json ?? .string(response.text)), since: start,
                calendar: moment)
            remember(response)
            return response
        } catch {
            record(action, ScenarioRunner.outcome(of: error), since: start, calendar: moment)
            throw error
        }
    }

    func proxyClient(_ dataPlane: String) throws -> HTTPClient {
        if let client = proxyClients[dataPlane] { return client }
        let cluster = try requireCluster()
        let record = try cluster.requireRecord(dataPlane)
        guard let descriptor = cluster.descriptor(record), descriptor.port > 0 else {
            throw StepFailure(message: "\(dataPlane) has no proxy port")
        }
        let client = HTTPClient(endpoint: cluster.publicEndpoint(descriptor), timeoutMilliseconds: requestTimeout)
        proxyClients[dataPlane] = client
        return client
    }

    /// A calendar move (after letting usage arrive); the runner learns the new moment from the answer,
    /// and forgets it when the answer is lost (the move may still happen).
    func moveCalendar(_ method: String, _ path: String, _ body: JSON) throws {
        let settlement = try settleBeforeMove()
        let before = calendar
        let response: ClientResponse
        do {
            response = try supportCall(method, path, body)
        } catch {
            // A move that was never delivered changed nothing; one without an answer may still happen.
            if case .unknown = ScenarioRunner.outcome(of: error) {
                knownCalendar = nil
                calendarUncertain = true
            }
            throw error
        }
        try require(response, 200, "\(method) \(path)")
        knownCalendar = response.json?["now"]?.stringValue.flatMap(SimTime.init(iso8601:))
        calendarUncertain = false
        noteCalendar(from: before, response, settlement)
    }

    func remember(_ response: ClientResponse) {
        var headers = JSONObject()
        for (name, value) in response.headers { headers[name.lowercased()] = .string(value) }
        last = [
            "status": .int(response.status), "body": response.json ?? .string(response.text),
            "headers": .object(headers),
        ]
    }

    func require(_ response: ClientResponse, _ status: Int, _ what: String) throws {
        guard response.status == status else {
            throw StepFailure(
                message:
                    "expected \(what) to answer \(status), got \(response.status): \(String(response.text.prefix(400)))"
            )
        }
    }

    /// Injects a fault (or repairs one), records it in the history and marks it on the timeline.
    func fault(_ kind: String, _ target: String, _ detail: String = "", _ body: (Cluster) throws -> Void) throws {
        let cluster = try requireCluster()
        try recorded(.fault(kind, target: target)) { try body(cluster) }
        let subject = target == "*" ? "all links" : target
        timeline.append(
            TimelineEvent(
                at: elapsed, kind: .fault, subject: subject, state: kind,
                detail: "\(kind) \(subject)\(detail.isEmpty ? "" : " " + detail)"))
    }

    func noteCalendar(from before: SimTime?, _ response: ClientResponse, _ settlement: UsageSettlement) {
        let now = response.json?["now"]?.stringValue ?? ""
        let events = response.json?["events"]?.intValue ?? 0
        let unsettled =
            settlement.isComplete
            ? ""
            : "; usage not delivered before the move: " + settlement.unsettled.map(\.reason).joined(separator: "; ")
        timeline.append(
            TimelineEvent(
                at: elapsed, kind: .calendar, subject: "calendar", state: now,
                detail: "\(before?.iso8601 ?? "?") -> \(now) (\(events) due events)\(unsettled)"))
    }

    /// Waits until data planes and geos have delivered their usage (`Cluster.settleUsage`); fails naming
    /// what could not be delivered.
    public func settle(timeoutMilliseconds: Int) throws {
        let cluster = try requireCluster()
        let start = elapsed
        let moment = calendar
        let settlement = cluster.settleUsage(timeoutMilliseconds: timeoutMilliseconds)
        guard settlement.isComplete else {
            let message =
                "usage was not delivered within \(timeoutMilliseconds / 1000) s: \(settlement.unsettled.map(\.reason).joined(separator: "; "))"
            record(.settle(clean: false), .refused(message), since: start, calendar: moment)
            throw StepFailure(message: message)
        }
        record(.settle(clean: true), .done, since: start, calendar: moment)
    }

    /// Before moving the calendar, let usage arrive, as `clock advance` does (a node that is down or cut
    /// off keeps its share; the calendar's timeline entry names it, and the history records the settle as
    /// not clean).
    func settleBeforeMove() throws -> UsageSettlement {
        let cluster = try requireCluster()
        let start = elapsed
        let moment = calendar
        let settlement = cluster.settleUsage(
            timeoutMilliseconds: tolerant ? 3000 : Cluster.settleMilliseconds)
        record(.settle(clean: settlement.isComplete), .done, since: start, calendar: moment)
        return settlement
    }

    // MARK: - Values

    func resolve(_ value: ScenarioValue) throws -> JSON {
        switch value {
        case .literal(let json): return json
        case .reference(let name, let path): return try lookup(name, path)
        case .template(let text):
            let trimmed = text.trimmingLeadingSpace
            if trimmed.hasPrefix("{") || trimmed.hasPrefix("[") {
                let substituted = try Templates.substitute(text, json: true) { name, path in try lookup(name, path) }
                do {
                    return try JSONParser.parse(substituted)
                } catch {
                    throw StepFailure(
                        message: "the body is not valid JSON after substitution: \(error) in \(substituted.prefix(200))"
                    )
                }
            }
            return .string(try Templates.substitute(text, json: false) { name, path in try lookup(name, path) })
        }
    }

    func lookup(_ name: String, _ path: String) throws -> JSON {
        let root: JSON
        if name == "last" {
            root = last
        } else {
            guard let value = variables[name] else {
                throw StepFailure(
                    message:
                        "$\(name) is not set; capture it with 'as $\(name)' first (set: \(variables.keys.sorted().map { "$" + $0 }.joined(separator: ", ")))"
                )
            }
            root = value
        }
        guard !path.isEmpty else { return root }
        guard let value = root.value(atPath: path) else {
            throw StepFailure(message: "$\(name).\(path) does not exist in \(root.text.prefix(300))")
        }
        return value
    }

    func text(_ value: ScenarioValue) throws -> String {
        let resolved = try resolve(value)
        return resolved.stringValue ?? resolved.text
    }

    func stringValue(_ value: ScenarioValue) throws -> String {
        let resolved = try resolve(value)
        if let text = resolved.stringValue { return text }
        if let id = resolved["id"]?.stringValue { return id }
        return resolved.text
    }

    /// A token: a login capture's `access_token`, a PAT's `konnect_token`, or a string.
    func tokenText(_ value: ScenarioValue) throws -> String {
        let resolved = try resolve(value)
        if let token = resolved["access_token"]?.stringValue ?? resolved["konnect_token"]?.stringValue { return token }
        if let token = resolved.stringValue { return token }
        throw StepFailure(message: "expected a token (a login capture or a string), got \(resolved.text.prefix(100))")
    }
}
