import KonnectCore
import KonnectHTTP
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The simulated calendar (B1): moves only when told, and runs what falls due in date order, exactly
/// once, in batches that commit together with the clock, so a crash resumes where it stopped.
final class AuthCalendar: Sendable {
    let db: AuthDatabase
    let clock: CalendarClock
    let clockStore: ClockStore
    let organizations: OrganizationStore
    let usageSpans: UsageSpanStore
    let transitions: OrganizationTransitions
    let billing: BillingLedger
    let tokenUses: AccessTokenUses
    /// Serializes calendar moves.
    private let moving = Mutex(())

    init(
        db: AuthDatabase, clock: CalendarClock, clockStore: ClockStore, organizations: OrganizationStore,
        usageSpans: UsageSpanStore, transitions: OrganizationTransitions, billing: BillingLedger,
        tokenUses: AccessTokenUses
    ) {
        self.db = db
        self.clock = clock
        self.clockStore = clockStore
        self.organizations = organizations
        self.usageSpans = usageSpans
        self.transitions = transitions
        self.billing = billing
        self.tokenUses = tokenUses
    }

    /// The longest single move (100 years), so one request cannot occupy the calendar indefinitely.
    static let longestMove = SimDuration.days(36_500)

    /// How many due events one transaction carries out.
    static let batchSize = 4096

    /// Finishes a calendar move that a crash interrupted (B1: exactly once).
    func resumeInterruptedMove() throws {
        guard let target = try db.read({ tx in try clockStore.clock(tx)?.target }) else { return }
        Log.info("resuming the calendar move to \(target.iso8601) interrupted by a restart")
        _ = try advance(to: target, actor: "system")
    }

    /// Moves the calendar to `target`, carrying out every due event in date order.
    func advance(to target: SimTime, actor: String) throws -> JSON {
        try moving.withLock { _ in
            let startedAt = Monotonic.nanoseconds
            let cpuAtStart = AuthCalendar.threadCPUMilliseconds()
            let start = clock.now
            guard target >= start else {
                throw APIError.conflict(
                    "The calendar only moves forward: it is at \(start.iso8601), \(target.iso8601) is earlier")
            }
            guard target - start <= AuthCalendar.longestMove else {
                throw APIError.invalid(
                    field: "now", rule: "invalid",
                    reason: "the calendar moves at most \(AuthCalendar.longestMove) at a time")
            }
            // What reads recorded off the request path (token uses) is on disk before the move reads anything.
            try tokenUses.flush()
            try db.write { work in try clockStore.beginMove(work, to: target) }
            let startedAfter = try db.read { tx in try transitions.outbox.lastSeq(tx) }
            clock.moveStarted(afterEvent: startedAfter)
            defer { clock.moveEnded() }
            var queue = DueEventQueue()
            var scheduled: [String: DueEvent] = [:]
            let schedules = try db.read { tx in
                try organizations.scheduled(tx).map { $0.schedule(notBefore: start) }
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
                try db.write { work in
                    var processed = 0
                    var moment = first.at
                    // Requests between batches may have changed organizations and usage: reload both once
                    // per batch; inside the batch, this transaction is the only writer.
                    var records: [String: OrganizationRecord] = [:]
                    for record in try organizations.scheduled(work.tx) {
                        records[record.id] = record
                        // An organization created between batches joins the move.
                        if !considered.contains(record.id) {
                            considered.insert(record.id)
                            if let event = record.schedule(notBefore: start).nextEvent, event.at <= target {
                                queue.push(event)
                                scheduled[record.id] = event
                            }
                        }
                    }
                    var usage: [String: OrganizationUsage] = [:]
                    while processed < AuthCalendar.batchSize, let event = queue.first, event.at <= target {
                        _ = queue.pop()
                        guard scheduled[event.organizationID] == event else { continue }
                        // A login, payment method or deactivation since the queue was built may have
                        // changed what falls due.
                        guard let record = records[event.organizationID],
                            let current = record.schedule(notBefore: start).nextEvent
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
                        try carryOut(event, work, record, usage: &usage)
                        counts[event.kind, default: 0] += 1
                        processed += 1
                        let after = try organizations.organization(work.tx, id: event.organizationID)
                        records[event.organizationID] = after
                        if let next = after?.schedule(notBefore: start).nextEvent, next.at <= target, next != event {
                            queue.push(next)
                            scheduled[event.organizationID] = next
                        } else {
                            scheduled[event.organizationID] = nil
                        }
                    }
                    try clockStore.advance(work, to: moment)
                }
            }
            // Geos carry out the purges this move issued as the calendar reaches them: each is stamped
            // with its own due moment when every geo confirms it before the move ends (A5).
            let waitStarted = Monotonic.nanoseconds
            let unconfirmed =
                (counts[.retentionEnd] ?? 0) > 0 ? try awaitPurges(issuedAfter: startedAfter) : PurgeWait()
            let purgeWait = Int64((Monotonic.nanoseconds - waitStarted) / 1_000_000)
            try db.write { work in try clockStore.finishMove(work, at: target) }
            let total = counts.values.reduce(0, +)
            Log.info("calendar moved from \(start.iso8601) to \(target.iso8601) by \(actor): \(total) due events")
            var byKind = JSONObject()
            for kind in DueEventKind.allCases { byKind[kind.name] = .int(counts[kind] ?? 0) }
            let elapsed = Int64((Monotonic.nanoseconds - startedAt) / 1_000_000)
            return [
                "now": .string(target.iso8601), "previous": .string(start.iso8601), "events": .int(total),
                "by_kind": .object(byKind),
                "purges_pending": [
                    "organizations": .strings(unconfirmed.organizations), "geos": .strings(unconfirmed.geos),
                ],
                "purge_wait_ms": .int(purgeWait),
                "elapsed_ms": .int(elapsed), "cpu_ms": .int(AuthCalendar.threadCPUMilliseconds() - cpuAtStart),
            ]
        }
    }

    /// Purges a move issued that some geo has not confirmed yet, and which geos.
    struct PurgeWait {
        var organizations: [String] = []
        var geos: [String] = []
    }

    /// How long a move waits for geos to confirm the purges it issued; a geo that is down or cut off
    /// confirms when it is back (its organizations stay `deleting` until then, D4).
    static let purgeWaitMilliseconds = 3000

    /// Waits until every geo confirmed the purges issued after `issuedAfter` (geos acknowledge on their
    /// next poll, which confirms them), or the wait is over; what is still pending.
    private func awaitPurges(issuedAfter: Int64) throws -> PurgeWait {
        let deadline = Monotonic.now + AuthCalendar.purgeWaitMilliseconds
        while true {
            let (pending, cursors) = try db.read { tx in
                (
                    try transitions.outbox.pendingPurges(tx).filter { $0.seq > issuedAfter },
                    try transitions.geoCursors.cursors(tx)
                )
            }
            guard let last = pending.map(\.seq).max() else { return PurgeWait() }
            if Monotonic.now >= deadline {
                let behind = transitions.geos.filter { (cursors[$0] ?? 0) < last }
                Log.warning(
                    "\(pending.count) organization\(pending.count == 1 ? "" : "s") stay deleting until \(behind.joined(separator: ", ")) confirm\(behind.count == 1 ? "s" : "") the purge"
                )
                return PurgeWait(organizations: pending.map(\.organizationID).sorted(), geos: behind)
            }
            usleep(10_000)
        }
    }

    /// CPU time used by the calling thread, to tell computing from waiting in the move's report.
    static func threadCPUMilliseconds() -> Int64 {
        var usage = rusage()
        getrusage(__rusage_who_t(1), &usage)  // RUSAGE_THREAD
        return Int64(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000 + Int64(
            usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1000
    }

    /// One due event (B1): cycle end, trial end, inactivity (D2) or the end of retention (A5).
    private func carryOut(
        _ event: DueEvent, _ work: UnitOfWork, _ record: OrganizationRecord, usage: inout [String: OrganizationUsage]
    ) throws {
        switch event.kind {
        case .cycleEnd:
            let spans = try usage[record.id] ?? usageSpans.usage(work.tx, organizationID: record.id)
            usage[record.id] = spans
            try billing.closeCycle(
                work, organizationID: record.id, at: event.at, final: false, organization: record, usage: spans)
        case .trialEnd:
            // New usage earns no credits from now on; the cycle covering the trial's end may still pay its
            // trial part from them when it closes, and records what expired then.
            try organizations.closeTrial(work, id: record.id)
        case .inactivity:
            try transitions.deactivate(
                work, organizationID: record.id, reason: .inactivity, actor: "system", at: event.at)
        case .retentionEnd:
            try transitions.retentionElapsed(work, organizationID: record.id, at: event.at)
        }
    }
}

extension OrganizationRecord {
    /// What the calendar needs to say what falls due next. The end of retention is the lifecycle's own
    /// `deletionDueAt` (one source of truth, A5).
    func schedule(notBefore: SimTime? = nil) -> OrganizationSchedule {
        OrganizationSchedule(
            organizationID: id, createdAt: createdAt, state: state, plan: plan, hasPaymentMethod: paymentMethod != nil,
            nextCycleIndex: nextCycle, trialEndsAt: trialEndsAt, trialClosed: trialClosed,
            lastLoginAt: [lastLoginAt, reactivatedAt].compactMap { $0 }.max(), lastAPICallAt: lastAPICallAt,
            deletionDueAt: lifecycle.deletionDueAt, freeSince: freeSince, notBefore: notBefore)
    }
}
