import KonnectCore
import KonnectHTTP

/// The node-to-node API geos call over the auth node's Unix socket (never served on TCP): token
/// introspection (T5), the event outbox that carries decommissions (D4), and usage reports (B3).
/// Every message is a typed contract shared with the geo side.
struct InternalRoutes: Sendable {
    let db: AuthDatabase
    let clock: CalendarClock
    let effects: AuthEffects
    let principals: PrincipalResolver
    let licenses: LicenseStore
    let outbox: OutboxStore
    let geoCursors: GeoCursorStore
    let transitions: OrganizationTransitions
    let usageReceipts: UsageReceiptStore
    let usageSpans: UsageSpanStore
    let apiCalls: APICallStore
    let organizations: OrganizationStore
    let geos: [String]

    var routes: [Router.Route] {
        [
            Router.route("POST", "/internal/v1/introspect", unixOnly: true, introspect),
            Router.route("GET", "/internal/v1/events", unixOnly: true, events),
            Router.route("POST", "/internal/v1/usage", unixOnly: true, ingestUsage),
            Router.route("GET", "/internal/v1/clock", unixOnly: true) { _ in
                HTTPResponse.json(["now": .string(clock.now.iso8601)])
            },
        ]
    }

    /// Resolves the tokens a geo asks about (at most `IntrospectionRequest.maximumTokens`), all in one
    /// read: for each, who, which organization, which roles, the calendar's moment and the organization's
    /// licenses (which the geo passes on to data planes, P4), or the problem a request with it gets.
    func introspect(_ request: APIRequest) throws -> HTTPResponse {
        let asked: IntrospectionRequest
        do {
            asked = try IntrospectionRequest(json: try request.json())
        } catch let error as ContractError {
            throw error.apiError
        }
        let now = clock.now
        let answers = try db.read { tx -> [IntrospectionAnswers.Answer] in
            var held: [String: [LicenseRecord]] = [:]
            return try asked.tokens.map { token in
                let principal: Principal
                switch try principals.resolve(tx, token: token) {
                case .success(let resolved): principal = resolved
                case .failure(let error): return .refused(error)
                }
                let licenses: [LicenseRecord]
                if let known = held[principal.organizationID] {
                    licenses = known
                } else {
                    licenses = try self.licenses.licenses(tx, organizationID: principal.organizationID)
                    held[principal.organizationID] = licenses
                }
                return .introspection(
                    Introspection(
                        user: .init(id: principal.userID, email: principal.email, fullName: principal.fullName),
                        organization: .init(
                            id: principal.organizationID, name: principal.organizationName, state: .active,
                            plan: principal.plan, ownerID: principal.ownerID, homeGeo: principal.homeGeo),
                        roles: principal.roles, tokenKind: principal.tokenKind, now: now,
                        gatewayLicense: licenses.payload(of: .gatewayEnterprise, customer: principal.organizationName),
                        meshLicense: licenses.payload(of: .mesh, customer: principal.organizationName)))
            }
        }
        return HTTPResponse.json(IntrospectionAnswers(answers: answers).json)
    }

    /// `GET /internal/v1/events?geo=eu&after=N&wait_ms=M`: outbox events after N, waiting up to M ms for
    /// one. `after` doubles as the geo's acknowledgement of everything up to N (its durable cursor), which
    /// may confirm purges (A5).
    func events(_ request: APIRequest) throws -> HTTPResponse {
        guard let geo = request.query("geo"), geos.contains(geo) else {
            throw APIError.invalid(
                field: "geo", rule: "enum", reason: "must be one of \(geos.joined(separator: ", "))", choices: geos)
        }
        guard let after = Int64(request.query("after") ?? "0"), after >= 0 else {
            throw APIError.invalid(field: "after", rule: "invalid", reason: "must be a non-negative integer")
        }
        let wait = min(max(Int(request.query("wait_ms") ?? "0") ?? 0, 0), 30_000)
        let moment = clock.now
        let moveStartedAfter = clock.moveStartedAfterEvent
        let deleted = try db.write { work in
            try geoCursors.acknowledge(work, geo: geo, through: after, at: moment)
            return try transitions.confirmPurges(work, at: moment, moveStartedAfter: moveStartedAfter)
        }
        for id in deleted { Log.info("organization \(id) deleted: every geo purged its objects") }
        let generation = effects.outboxGrew.current
        let found = try db.read { tx in try outbox.events(tx, after: after, limit: 100) }
        if !found.isEmpty || wait == 0 || effects.isStopping {
            return HTTPResponse.json(EventFeed(events: found, now: clock.now).json)
        }
        // Nothing yet: the answer comes when the outbox grows (or with what there is after `wait`), and
        // no thread waits meanwhile.
        let answerNow: @Sendable () -> HTTPResponse = { [self] in eventsAnswer(after: after) }
        return HTTPResponse.deferred(timeoutMilliseconds: wait, onTimeout: answerNow) { [self] pending in
            awaitEvents(pending, after: after, moment: moment, seen: generation)
        }
    }

    /// Answers `pending` once the outbox has events after `after` (or the node stops).
    /// A calendar move answers too, so the geo learns the new moment at once.
    private func awaitEvents(_ pending: PendingResponse, after: Int64, moment: SimTime, seen: UInt64) {
        let waiter = effects.outboxGrew.whenChanged(after: seen, timeoutMilliseconds: 30_000) { [self] _ in
            guard pending.isOpen else { return }
            let generation = effects.outboxGrew.current
            let found: [OutboxEvent]
            do {
                found = try db.read { tx in try outbox.events(tx, after: after, limit: 100) }
            } catch {
                pending.complete(InternalRoutes.outboxUnreadable(error))
                return
            }
            if !found.isEmpty || effects.isStopping || clock.now != moment {
                pending.complete(HTTPResponse.json(EventFeed(events: found, now: clock.now).json))
            } else {
                awaitEvents(pending, after: after, moment: moment, seen: generation)
            }
        }
        pending.onClose { waiter.cancel() }
    }

    /// The 500 of a long poll that cannot read the outbox (the geo retries).
    static func outboxUnreadable(_ error: any Error) -> HTTPResponse {
        let problem = APIError(status: 500, detail: "The auth node cannot read its event outbox: \(error)")
        return HTTPResponse.json(
            problem.problem(instance: "/internal/v1/events"), status: 500, contentType: "application/problem+json")
    }

    /// The events after `after` as they are now (the answer of a long poll that waited its time).
    private func eventsAnswer(after: Int64) -> HTTPResponse {
        do {
            let found = try db.read { tx in try outbox.events(tx, after: after, limit: 100) }
            return HTTPResponse.json(EventFeed(events: found, now: clock.now).json)
        } catch {
            return InternalRoutes.outboxUnreadable(error)
        }
    }

    /// `POST /internal/v1/usage`: usage records from a geo, each numbered by the geo's outbox. Records at
    /// or below the geo's last applied number are acknowledged and ignored, so a retry after a crash
    /// (of either side) never counts twice (B3).
    func ingestUsage(_ request: APIRequest) throws -> HTTPResponse {
        let batch: UsageBatch
        do {
            batch = try UsageBatch(json: try request.json())
        } catch let error as ContractError {
            throw error.apiError
        }
        guard geos.contains(batch.geo) else {
            throw APIError.invalid(
                field: "geo", rule: "enum", reason: "must be one of \(geos.joined(separator: ", "))", choices: geos)
        }
        let moment = clock.now
        let receipt = try db.write { work -> UsageBatchReceipt in
            var last = try usageReceipts.lastApplied(work.tx, geo: batch.geo)
            var receipt = UsageBatchReceipt(applied: 0, duplicates: 0)
            for numbered in batch.records {
                guard numbered.seq > last else {
                    receipt.duplicates += 1
                    continue
                }
                try apply(numbered.record, geo: batch.geo, work, at: moment)
                last = numbered.seq
                receipt.applied += 1
            }
            try usageReceipts.setLastApplied(work, geo: batch.geo, seq: last)
            return receipt
        }
        return HTTPResponse.json(receipt.json)
    }

    private func apply(_ record: UsageRecord, geo: String, _ work: UnitOfWork, at moment: SimTime) throws {
        switch record {
        case .serviceStarted(let org, let controlPlane, let service, let name, let at):
            try usageSpans.start(
                work, .service, organizationID: org, geo: geo, scope: controlPlane, objectID: service, name: name,
                at: at)
        case .serviceEnded(let org, let controlPlane, let service, let at):
            try usageSpans.end(
                work, .service, organizationID: org, geo: geo, scope: controlPlane, objectID: service, at: at)
        case .portalPublished(let org, let portal, let name, let at):
            try usageSpans.start(
                work, .portal, organizationID: org, geo: geo, scope: "", objectID: portal, name: name, at: at)
        case .portalUnpublished(let org, let portal, let at):
            try usageSpans.end(work, .portal, organizationID: org, geo: geo, scope: "", objectID: portal, at: at)
        case .apiCalls(let org, _, _, let count, let at):
            guard count > 0 else { return }
            // Calls count at the moment they happened (the geo's stamp) in the billing cycle open then; late
            // ones (their cycle was invoiced meanwhile) when they arrive; while the organization is not
            // billed (deactivated), in no cycle (B3, D3).
            guard let organization = try organizations.organization(work.tx, id: org) else { return }
            let open = organization.state == .active ? organization.openBillingWindowStart : nil
            let stamp = UsageMoment.attributed(reported: at, arrived: moment, openSince: open)
            let cycle = organization.state == .active ? organization.nextCycle : nil
            try apiCalls.record(work, organizationID: org, geo: geo, count: count, cycle: cycle, at: stamp)
            try organizations.recordAPICall(work, id: org, at: stamp)
        }
    }
}
