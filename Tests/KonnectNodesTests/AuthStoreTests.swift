import Foundation
import KonnectCore
import KonnectSecurity
import KonnectStorage
import Synchronization
import Testing

@testable import KonnectNodes

private let t0 = SimTime.defaultStart

/// An auth database in a temporary directory with the stores and rules of an auth node wired like
/// `AuthNode` does (geos eu and us).
private final class AuthFixture {
    let directory: String
    let database: Database
    let clock = CalendarClock(t0)
    let db: AuthDatabase
    let ids = IdentifierSource(seed: 7, node: "auth")
    let stores: AuthStores
    let billing: BillingLedger
    let transitions: OrganizationTransitions
    let provisioning: OrganizationProvisioning

    init() throws {
        directory = NSTemporaryDirectory() + "ks-auth-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        database = try Database(path: directory + "/auth.sqlite", migrations: AuthSchema.migrations)
        db = AuthDatabase(database: database, effects: AuthEffects(clock: clock))
        stores = AuthStores(ids: ids)
        billing = BillingLedger(
            organizations: stores.organizations, usageSpans: stores.usageSpans, apiCalls: stores.apiCalls,
            invoices: stores.invoices, subscriptions: stores.subscriptions, ids: ids, rateCard: .standard)
        transitions = OrganizationTransitions(
            organizations: stores.organizations, users: stores.users, memberships: stores.memberships,
            sessions: stores.sessions, accessTokens: stores.accessTokens, teams: stores.teams, roles: stores.roles,
            licenses: stores.licenses, subscriptions: stores.subscriptions, emailLocks: stores.emailLocks,
            history: stores.history, outbox: stores.outbox, geoCursors: stores.geoCursors, billing: billing,
            geos: ["eu", "us"])
        provisioning = OrganizationProvisioning(
            organizations: stores.organizations, memberships: stores.memberships, roles: stores.roles,
            licenses: stores.licenses, subscriptions: stores.subscriptions, history: stores.history,
            rateCard: .standard)
        try db.write { work in try stores.clock.start(work, at: t0) }
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    /// A user with an organization of their own; returns (user id, organization id).
    func organization(_ email: String, at moment: SimTime = t0) throws -> (String, String) {
        try db.write { work in
            let user = try #require(
                try stores.users.create(
                    work, email: email, emailKey: email, fullName: "Ana", passwordHash: "x", at: moment))
            let org = try provisioning.create(
                work, name: "Acme", plan: .plus, geo: "eu", ownerID: user.id, actor: "user:\(user.id)", at: moment)
            return (user.id, org)
        }
    }

    func record(_ id: String) throws -> OrganizationRecord {
        try #require(try db.read { tx in try stores.organizations.organization(tx, id: id) })
    }
}

private struct Refused: Error {}

private final class Flag: Sendable {
    private let state = Mutex(false)
    func set(_ value: Bool) { state.withLock { $0 = value } }
    var value: Bool { state.withLock { $0 } }
}

/// The auth node's stores and its commit and effect paths (issue 11), against a real SQLite file.
@Suite struct AuthStoreTests {
    @Test("D4: outbox events read back through their typed kind, in order, after a given number")
    func outboxRoundTrip() throws {
        let fixture = try AuthFixture()
        let (_, org) = try fixture.organization("ana@example.com")
        let license: JSON = ["id": "l1", "product_subscription": "Kong Gateway Enterprise"]
        let kinds: [OutboxEvent.Kind] = [
            .deactivated(reason: "support_request"), .reactivated(gatewayLicense: license, meshLicense: .null),
            .deleted,
        ]
        try fixture.db.write { work in
            for kind in kinds { try fixture.stores.outbox.append(work, kind, organizationID: org, at: t0) }
        }
        let events = try fixture.db.read { tx in try fixture.stores.outbox.events(tx, after: 0, limit: 100) }
        #expect(events.map(\.kind) == kinds)
        #expect(events.map(\.seq) == [1, 2, 3])
        #expect(events.allSatisfy { $0.organizationID == org && $0.at == t0 })
        let later = try fixture.db.read { tx in try fixture.stores.outbox.events(tx, after: 2, limit: 100) }
        #expect(later.map(\.kind) == [.deleted])
    }

    @Test("D4: a stored event of a kind nobody knows is an error, never skipped")
    func unknownOutboxKindIsAnError() throws {
        let fixture = try AuthFixture()
        try fixture.database.write { tx in
            try tx.execute(
                "INSERT INTO outbox(kind, org_id, payload, created_at) VALUES ('organization.renamed', 'o', '{}', 0)")
        }
        #expect(throws: ContractError.self) {
            try fixture.db.read { tx in try fixture.stores.outbox.events(tx, after: 0, limit: 100) }
        }
    }

    @Test("Effects are published once, after the commit; a unit of work that throws publishes nothing")
    func effectsFollowTheCommit() throws {
        let fixture = try AuthFixture()
        let (_, org) = try fixture.organization("ana@example.com")
        let signal = fixture.db.effects.outboxGrew
        let before = signal.current
        #expect(throws: Refused.self) {
            try fixture.db.write { work in
                try fixture.stores.outbox.append(work, .deleted, organizationID: org, at: t0)
                try fixture.stores.clock.advance(work, to: t0 + .days(3))
                throw Refused()
            }
        }
        #expect(signal.current == before)
        #expect(fixture.clock.now == t0)
        #expect(try fixture.db.read { tx in try fixture.stores.outbox.events(tx, after: 0, limit: 10) }.isEmpty)

        let generationInside = try fixture.db.write { work -> UInt64 in
            try fixture.stores.outbox.append(work, .deleted, organizationID: org, at: t0)
            try fixture.stores.outbox.append(work, .deleted, organizationID: org, at: t0)
            try fixture.stores.clock.advance(work, to: t0 + .days(3))
            #expect(work.effects.count == 3)
            return signal.current
        }
        #expect(generationInside == before, "nothing is published before the commit")
        #expect(signal.current == before + 1, "one wake-up for the unit of work")
        #expect(fixture.clock.now == t0 + .days(3))
    }

    @Test("A5, D3: a deactivation persists exactly the transition the lifecycle returned, and its effects")
    func deactivationPersistsTheTransition() throws {
        let fixture = try AuthFixture()
        let (owner, org) = try fixture.organization("ana@example.com")
        let moment = t0 + .days(3)
        let transition = try fixture.db.write { work in
            try fixture.transitions.deactivate(
                work, organizationID: org, reason: .adminDeactivated, actor: "user:\(owner)", at: moment)
        }
        let record = try fixture.record(org)
        #expect(record.state == transition.state)
        #expect(record.deactivatedAt == transition.deactivatedAt)
        #expect(record.deactivationReason == transition.deactivationReason)
        // The calendar's end of retention is the transition's (one source of truth).
        #expect(record.schedule().deletionDueAt == transition.deletionDueAt)
        #expect(transition.deletionDueAt == moment + .days(90))
        let (history, events, locked) = try fixture.db.read { tx in
            (
                try fixture.stores.history.history(tx, organizationID: org),
                try fixture.stores.outbox.events(tx, after: 0, limit: 10),
                try fixture.stores.emailLocks.isLocked(tx, emailKey: "ana@example.com")
            )
        }
        #expect(history.map(\.state) == [.active, .inactive])
        #expect(history.last == transition.change)
        #expect(events.map(\.kind) == [.deactivated(reason: "admin_deactivated")])
        #expect(locked)
        // A second deactivation is refused by the core: 409, nothing written.
        #expect(throws: APIError.self) {
            try fixture.db.write { work in
                try fixture.transitions.deactivate(
                    work, organizationID: org, reason: .support, actor: "support", at: moment + .days(1))
            }
        }
        #expect(try fixture.db.read { tx in try fixture.stores.history.history(tx, organizationID: org) }.count == 2)
    }

    @Test("A5: a purge is confirmed (deleted) only once every geo's cursor passed the purge event")
    func purgeConfirmedByEveryGeo() throws {
        let fixture = try AuthFixture()
        let (_, org) = try fixture.organization("ana@example.com")
        try fixture.db.write { work in
            try fixture.transitions.deactivate(
                work, organizationID: org, reason: .support, actor: "support", at: t0 + .days(1))
        }
        let deleting = try fixture.db.write { work in
            try fixture.transitions.retentionElapsed(work, organizationID: org, at: t0 + .days(91))
        }
        #expect(deleting?.state == .deleting)
        let purge = try #require(
            try fixture.db.read { tx in try fixture.stores.outbox.events(tx, after: 0, limit: 10) }.last)
        #expect(purge.kind == .deleted)

        func acknowledge(_ geo: String, _ seq: Int64) throws -> [String] {
            try fixture.db.write { work in
                try fixture.stores.geoCursors.acknowledge(work, geo: geo, through: seq, at: t0 + .days(92))
                return try fixture.transitions.confirmPurges(work, at: t0 + .days(92))
            }
        }
        #expect(try acknowledge("eu", purge.seq) == [])
        #expect(try fixture.record(org).state == .deleting)
        #expect(try acknowledge("us", purge.seq - 1) == [])
        #expect(try acknowledge("us", purge.seq) == [org])
        #expect(try fixture.record(org).state == .deleted)
        let history = try fixture.db.read { tx in try fixture.stores.history.history(tx, organizationID: org) }
        #expect(
            history.last
                == StateChange(
                    state: .deleted, reason: "objects_purged_in_every_geo", actor: "system", at: t0 + .days(92)))
        // Confirmed once: a later poll changes nothing.
        #expect(try acknowledge("eu", purge.seq + 5) == [])
    }

    @Test("D4: a geo's cursor never moves back")
    func geoCursorNeverMovesBack() throws {
        let fixture = try AuthFixture()
        for seq: Int64 in [5, 3, 7, 0] {
            try fixture.db.write { work in
                try fixture.stores.geoCursors.acknowledge(work, geo: "eu", through: seq, at: t0)
            }
        }
        #expect(try fixture.db.read { tx in try fixture.stores.geoCursors.cursors(tx) } == ["eu": 7])
    }

    @Test("A3: token uses are kept in memory, coalesced per token, and written by flush; later moments win")
    func tokenUsesAreWrittenBehind() throws {
        let fixture = try AuthFixture()
        let (user, org) = try fixture.organization("ana@example.com")
        let token = try #require(
            try fixture.db.write { work in
                try fixture.stores.accessTokens.create(
                    work, userID: user, organizationID: org, name: "ci", tokenHash: "h", expiresAt: nil, at: t0)
            })
        // No background write during the test: only `flush` writes.
        let uses = AccessTokenUses(
            name: "test", database: fixture.database, interval: .seconds(3600), log: { _ in },
            persist: { [tokens = fixture.stores.accessTokens] tx, uses in try tokens.recordUse(tx, uses) })
        func lastUsed() throws -> SimTime? {
            try fixture.db.read { tx in try fixture.stores.accessTokens.token(tx, id: token.id, userID: user) }?
                .lastUsedAt
        }
        uses.record(t0 + .hours(2), for: token.id)
        uses.record(t0 + .hours(5), for: token.id)
        #expect(uses.pendingCount == 1)
        #expect(try lastUsed() == nil, "nothing is written on the request path")
        try uses.flush()
        #expect(try lastUsed() == t0 + .hours(5))
        uses.record(t0 + .hours(3), for: token.id)
        try uses.flush()
        #expect(try lastUsed() == t0 + .hours(5), "an older use never replaces a newer one")
    }

    @Test("B1, A3: a calendar move first writes the token uses recorded off the request path")
    func calendarMoveWritesTokenUsesFirst() throws {
        let fixture = try AuthFixture()
        let (user, org) = try fixture.organization("ana@example.com")
        let token = try #require(
            try fixture.db.write { work in
                try fixture.stores.accessTokens.create(
                    work, userID: user, organizationID: org, name: "ci", tokenHash: "h", expiresAt: nil, at: t0)
            })
        // Only the move writes: the background interval is an hour.
        let uses = AccessTokenUses(
            name: "test", database: fixture.database, interval: .seconds(3600), log: { _ in },
            persist: { [tokens = fixture.stores.accessTokens] tx, uses in try tokens.recordUse(tx, uses) })
        let calendar = AuthCalendar(
            db: fixture.db, clock: fixture.clock, clockStore: fixture.stores.clock,
            organizations: fixture.stores.organizations, usageSpans: fixture.stores.usageSpans,
            transitions: fixture.transitions, billing: fixture.billing, tokenUses: uses)
        uses.record(t0, for: token.id)
        _ = try calendar.advance(to: t0 + .days(1), actor: "test")
        #expect(uses.pendingCount == 0)
        let stored = try fixture.db.read { tx in try fixture.stores.accessTokens.token(tx, id: token.id, userID: user) }
        #expect(stored?.lastUsedAt == t0)
        #expect(fixture.clock.now == t0 + .days(1))
    }

    @Test("T5, A3: resolving a token is a read: it answers while a write transaction is open, from the last commit")
    func resolvingATokenDoesNotWaitForWrites() throws {
        let fixture = try AuthFixture()
        let (user, org) = try fixture.organization("ana@example.com")
        try fixture.db.write { work in
            try fixture.stores.sessions.create(
                work, tokenHash: Secrets.sha256Hex("kses_reader"), userID: user, organizationID: org, at: t0,
                expiresAt: t0 + .days(1))
        }
        let uses = AccessTokenUses.accessTokenUses(database: fixture.database, tokens: fixture.stores.accessTokens)
        let resolver = PrincipalResolver(
            db: fixture.db, clock: fixture.clock, sessions: fixture.stores.sessions,
            accessTokens: fixture.stores.accessTokens, roles: fixture.stores.roles, tokenUses: uses)
        let inside = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let finished = DispatchSemaphore(value: 0)
        let releasedByReader = Flag()
        let (db, organizations) = (fixture.db, fixture.stores.organizations)
        DispatchQueue.global().async { @Sendable in
            _ = try? db.write { work in
                try organizations.rename(work, id: org, to: "Renamed", at: t0)
                inside.signal()
                // Bounded only so that a regression fails instead of hanging.
                releasedByReader.set(release.wait(timeout: .now() + 10) == .success)
            }
            finished.signal()
        }
        inside.wait()
        let principal = try resolver.principal(token: "kses_reader")
        release.signal()
        finished.wait()
        #expect(releasedByReader.value, "the read waited for the open write")
        #expect(principal.organizationName == "Acme", "a read sees the last commit, not an open write")
        #expect(principal.userID == user)
    }

    @Test("T5, A3: the holder of a session is read in one statement with its membership")
    func sessionHolder() throws {
        let fixture = try AuthFixture()
        let (user, org) = try fixture.organization("ana@example.com")
        try fixture.db.write { work in
            try fixture.stores.sessions.create(
                work, tokenHash: "s1", userID: user, organizationID: org, at: t0, expiresAt: t0 + .days(1))
        }
        var holder = try #require(try fixture.db.read { tx in try fixture.stores.sessions.holder(tx, tokenHash: "s1") })
        #expect(holder.userID == user)
        #expect(holder.organizationID == org)
        #expect(holder.isMember && holder.userActive && !holder.revoked)
        #expect(holder.organizationState == .active)
        #expect(holder.expiresAt == t0 + .days(1))
        try fixture.db.write { work in
            try fixture.stores.memberships.remove(work, organizationID: org, userID: user)
            try fixture.stores.sessions.revoke(work, organizationID: org, userID: user)
        }
        holder = try #require(try fixture.db.read { tx in try fixture.stores.sessions.holder(tx, tokenHash: "s1") })
        #expect(!holder.isMember)
        #expect(holder.revoked)
        #expect(try fixture.db.read { tx in try fixture.stores.sessions.holder(tx, tokenHash: "nope") } == nil)
    }

    @Test("B3: usage spans start once, end once, and read back by kind in start order")
    func usageSpans() throws {
        let fixture = try AuthFixture()
        let spans = fixture.stores.usageSpans
        try fixture.db.write { work in
            try spans.start(
                work, .service, organizationID: "o", geo: "eu", scope: "cp1", objectID: "s", name: "orders",
                at: t0 + .days(2))
            // The same service id in another control plane is another span (ids are unique per control plane).
            try spans.start(
                work, .service, organizationID: "o", geo: "eu", scope: "cp2", objectID: "s", name: "orders",
                at: t0 + .days(1))
            try spans.start(
                work, .service, organizationID: "o", geo: "eu", scope: "cp1", objectID: "s", name: "again",
                at: t0 + .days(2))
            try spans.start(
                work, .portal, organizationID: "o", geo: "eu", scope: "", objectID: "p", name: "docs", at: t0)
            try spans.end(
                work, .service, organizationID: "o", geo: "eu", scope: "cp1", objectID: "s", at: t0 + .days(4))
            try spans.end(
                work, .service, organizationID: "o", geo: "eu", scope: "cp1", objectID: "s", at: t0 + .days(9))
        }
        let usage = try fixture.db.read { tx in try spans.usage(tx, organizationID: "o") }
        #expect(
            usage.services == [
                UsageSpan(id: "s", name: "orders", geo: "eu", start: t0 + .days(1), end: nil, scope: "cp2"),
                UsageSpan(id: "s", name: "orders", geo: "eu", start: t0 + .days(2), end: t0 + .days(4), scope: "cp1"),
            ])
        #expect(usage.portals == [UsageSpan(id: "p", name: "docs", geo: "eu", start: t0, end: nil)])
    }
}
