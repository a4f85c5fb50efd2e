import KonnectCore
import KonnectHTTP
import KonnectStorage

#if canImport(Glibc)
    import Glibc
#endif

/// The simulated calendar (B1): moves only when told, and runs what falls due in date order, exactly
/// once, in batches that commit together with the clock, so a crash resumes where it stopped.
extension AuthNode {
    var calendarRoutes: [Router.Route] {
        [
            Router.route("GET", "/v3/simulator/clock") { _ in
                HTTPResponse.json(["now": .string(self.now.iso8601)])
            },
            Router.route("POST", "/v3/simulator/clock/advance") { request in
                try self.requireSupport(request)
                var reader = try ObjectReader(request.json())
                let text = reader.string("by", required: true, nullable: false, maxLength: 32)
                try reader.finish()
                guard let text, let duration = SimDuration(text: text), duration.seconds >= 0 else {
                    throw APIError.invalid(
                        field: "by", rule: "invalid", reason: "must be a duration such as 31d, 12h, 90m or 1d12h")
                }
                guard duration <= AuthNode.longestMove else {
                    throw APIError.invalid(field: "by", rule: "max", reason: "must be at most \(AuthNode.longestMove)")
                }
                let result = try self.advance(to: self.now + duration, actor: "support")
                return HTTPResponse.json(result)
            },
            Router.route("PUT", "/v3/simulator/clock") { request in
                try self.requireSupport(request)
                var reader = try ObjectReader(request.json())
                let text = reader.string("now", required: true, nullable: false, maxLength: 64)
                try reader.finish()
                guard let text, let moment = SimTime(iso8601: text) else {
                    throw APIError.invalid(
                        field: "now", rule: "is_date_time",
                        reason: "must be an RFC 3339 date-time such as 2026-03-01T00:00:00Z")
                }
                let result = try self.advance(to: moment, actor: "support")
                return HTTPResponse.json(result)
            },
        ]
    }

    /// The longest single move (100 years), so one request cannot occupy the calendar indefinitely.
    static let longestMove = SimDuration.days(36_500)

    /// How many due events one transaction carries out.
    static let advanceBatchSize = 4096

    /// Moves the calendar to `target`, carrying out every due event in date order.
    func advance(to target: SimTime, actor: String) throws -> JSON {
        try advancing.withLock { _ in
            let startedAt = Monotonic.nanoseconds
            let cpuAtStart = AuthNode.threadCPUMilliseconds()
            let start = now
            guard target >= start else {
                throw APIError.conflict(
                    "The calendar only moves forward: it is at \(start.iso8601), \(target.iso8601) is earlier")
            }
            guard target - start <= AuthNode.longestMove else {
                throw APIError.invalid(
                    field: "now", rule: "max", reason: "the calendar moves at most \(AuthNode.longestMove) at a time")
            }
            try db.write { db in try db.execute("UPDATE clock SET target = ? WHERE id = 1", .time(target)) }
            var queue = DueEventQueue()
            var scheduled: [String: DueEvent] = [:]
            let schedules = try db.read { db in
                try db.query("SELECT * FROM organizations WHERE state IN ('active', 'inactive')").map {
                    schedule($0, notBefore: start)
                }
            }
            var considered = Set(schedules.map(\.organizationID))
            for schedule in schedules {
                if let event = schedule.nextEvent, event.at <= target {
                    queue.push(event)
                    scheduled[schedule.organizationID] = event
                }
            }
            var counts: [DueEventKind: Int] = [:]
            while let first = queue.first, first.at <= target {
                let reached = try db.write { db -> SimTime in
                    var processed = 0
                    var moment = first.at
                    // Requests between batches may have changed organizations and usage: reload both once
                    // per batch; inside the batch, this transaction is the only writer.
                    var rows: [String: Row] = [:]
                    for row in try db.query("SELECT * FROM organizations WHERE state IN ('active', 'inactive')") {
                        let id = row.string("id") ?? ""
                        rows[id] = row
                        // An organization created between batches joins the move.
                        if !considered.contains(id) {
                            considered.insert(id)
                            if let event = schedule(row, notBefore: start).nextEvent, event.at <= target {
                                queue.push(event)
                                scheduled[id] = event
                            }
                        }
                    }
                    var usage: [String: OrganizationUsage] = [:]
                    while processed < AuthNode.advanceBatchSize, let event = queue.first, event.at <= target {
                        _ = queue.pop()
                        guard scheduled[event.organizationID] == event else { continue }
                        // A login, payment method or deactivation since the queue was built may have
                        // changed what falls due.
                        guard let row = rows[event.organizationID],
                            let current = schedule(row, notBefore: start).nextEvent
                        else {
                            scheduled[event.organizationID] = nil
                            continue
                        }
                        guard current == event else {
                            scheduled[event.organizationID] = current.at <= target ? current : nil
                            if current.at <= target { queue.push(current) }
                            continue
                        }
                        moment = event.at
                        try carryOut(event, db, row: row, usage: &usage)
                        counts[event.kind, default: 0] += 1
                        processed += 1
                        let after = try db.query(
                            "SELECT * FROM organizations WHERE id = ?", .text(event.organizationID)
                        ).first
                        rows[event.organizationID] = after
                        if let next = after.map({ schedule($0, notBefore: start) })?.nextEvent, next.at <= target,
                            next != event
                        {
                            queue.push(next)
                            scheduled[event.organizationID] = next
                        } else {
                            scheduled[event.organizationID] = nil
                        }
                    }
                    try db.execute("UPDATE clock SET now = ? WHERE id = 1", .time(moment))
                    return moment
                }
                clock.withLock { $0 = reached }
                outboxSignal.fire()
            }
            try db.write { db in try db.execute("UPDATE clock SET now = ?, target = NULL WHERE id = 1", .time(target)) }
            clock.withLock { $0 = target }
            let total = counts.values.reduce(0, +)
            Log.info("calendar moved from \(start.iso8601) to \(target.iso8601) by \(actor): \(total) due events")
            var byKind = JSONObject()
            for kind in DueEventKind.allCases { byKind[kind.name] = .int(counts[kind] ?? 0) }
            let elapsed = Int64((Monotonic.nanoseconds - startedAt) / 1_000_000)
            return [
                "now": .string(target.iso8601), "previous": .string(start.iso8601), "events": .int(total),
                "by_kind": .object(byKind),
                "elapsed_ms": .int(elapsed), "cpu_ms": .int(AuthNode.threadCPUMilliseconds() - cpuAtStart),
            ]
        }
    }

    /// CPU time used by the calling thread, to tell computing from waiting in the move's report.
    static func threadCPUMilliseconds() -> Int64 {
        var usage = rusage()
        getrusage(__rusage_who_t(1), &usage)  // RUSAGE_THREAD
        return Int64(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000 + Int64(
            usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1000
    }

    func schedule(_ row: Row, notBefore: SimTime? = nil) -> OrganizationSchedule {
        let state = OrganizationState(rawValue: row.string("state") ?? "") ?? .active
        let retention = row.int("retention_days") ?? OrganizationLifecycle.defaultRetentionDays
        return OrganizationSchedule(
            organizationID: row.string("id") ?? "", createdAt: row.time("created_at") ?? SimTime(seconds: 0),
            state: state,
            plan: PlanKind(rawValue: row.string("plan") ?? "") ?? .plus,
            hasPaymentMethod: row.string("payment_method") != nil,
            nextCycleIndex: row.int("next_cycle") ?? 0, trialEndsAt: row.time("trial_ends_at"),
            trialClosed: row.bool("trial_closed"),
            lastLoginAt: [row.time("last_login_at"), row.time("reactivated_at")].compactMap { $0 }.max(),
            lastAPICallAt: row.time("last_api_call_at"),
            deletionDueAt: state == .inactive ? row.time("deactivated_at").map { $0 + .days(retention) } : nil,
            freeSince: row.time("free_since"), notBefore: notBefore)
    }

    /// One due event (B1): cycle end, trial end, inactivity (D2) or the end of retention (A5).
    private func carryOut(_ event: DueEvent, _ db: Transaction, row: Row, usage: inout [String: OrganizationUsage])
        throws
    {
        switch event.kind {
        case .cycleEnd:
            let records = try usage[event.organizationID] ?? usageRecords(db, organizationID: event.organizationID)
            usage[event.organizationID] = records
            try closeCycle(
                db, organizationID: event.organizationID, at: event.at, final: false, row: row, usage: records)
        case .trialEnd:
            // New usage earns no credits from now on; the cycle covering the trial's end may still pay its
            // trial part from them when it closes, and records what expired then.
            try db.execute("UPDATE organizations SET trial_closed = 1 WHERE id = ?", .text(event.organizationID))
        case .inactivity:
            try deactivate(db, organizationID: event.organizationID, reason: .inactivity, actor: "system", at: event.at)
        case .retentionEnd:
            try retentionElapsed(db, organizationID: event.organizationID, at: event.at)
        }
    }
}
