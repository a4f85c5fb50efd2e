import KonnectCore
import KonnectHTTP
import KonnectSecurity
import KonnectStorage

/// How an auth node is started (`konnect-sim node auth ...`).
public struct AuthConfiguration: Sendable {
    public var directory: String
    /// The geos of the cluster: where organizations may live, and who must confirm a purge.
    public var geos: [String]
    public var start: SimTime
    public var rateCard: RateCard
    public var seed: UInt64?
    /// A file holding the support credential (created by `up`); its hash is stored at start.
    public var supportTokenFile: String?
    public var network: NodeNetwork

    public init(
        directory: String, geos: [String], start: SimTime, rateCard: RateCard, seed: UInt64?, supportTokenFile: String?,
        network: NodeNetwork = NodeNetwork()
    ) {
        self.network = network
        self.directory = directory
        self.geos = geos
        self.start = start
        self.rateCard = rateCard
        self.seed = seed
        self.supportTokenFile = supportTokenFile
    }
}

/// Every store of `auth.sqlite`, one per thing the auth node keeps. Only the wiring sees them all;
/// each route type is handed the few it needs.
struct AuthStores: Sendable {
    let clock = ClockStore()
    let users: UserStore
    let organizations: OrganizationStore
    let memberships = MembershipStore()
    let sessions = SessionStore()
    let accessTokens: AccessTokenStore
    let invites: InviteStore
    let teams: TeamStore
    let roles: RoleAssignmentStore
    let licenses: LicenseStore
    let subscriptions: SubscriptionStore
    let history = StateHistoryStore()
    let emailLocks = EmailLockStore()
    let outbox = OutboxStore()
    let geoCursors = GeoCursorStore()
    let usageReceipts = UsageReceiptStore()
    let usageSpans = UsageSpanStore()
    let apiCalls = APICallStore()
    let invoices = InvoiceStore()
    let supportCredentials = SupportCredentialStore()

    init(ids: IdentifierSource) {
        users = UserStore(ids: ids)
        organizations = OrganizationStore(ids: ids)
        accessTokens = AccessTokenStore(ids: ids)
        invites = InviteStore(ids: ids)
        teams = TeamStore(ids: ids)
        roles = RoleAssignmentStore(ids: ids)
        licenses = LicenseStore(ids: ids)
        subscriptions = SubscriptionStore(ids: ids)
    }
}

/// The auth node (T1): identity, sessions, tokens, organizations, teams and roles, plans and licenses,
/// the billing ledger, email locks, support actions and the simulated calendar. The only state that
/// geos share. This type only wires stores, rules and routes together.
public final class AuthNode: Sendable {
    public let configuration: AuthConfiguration
    let db: AuthDatabase
    let clock: CalendarClock
    let calendar: AuthCalendar
    let tokenUses: AccessTokenUses
    /// Every route of the auth node.
    public let router: Router

    public init(configuration: AuthConfiguration) throws {
        self.configuration = configuration
        let database = try Database(path: configuration.directory + "/auth.sqlite", migrations: AuthSchema.migrations)
        let ids = IdentifierSource(seed: configuration.seed, node: "auth")
        let stores = AuthStores(ids: ids)
        let stored = try database.read { tx in try stores.clock.clock(tx) }
        clock = CalendarClock(stored?.now ?? configuration.start)
        let db = AuthDatabase(database: database, effects: AuthEffects(clock: clock))
        self.db = db
        if stored == nil {
            try db.write { work in try stores.clock.start(work, at: configuration.start) }
        }
        if let file = configuration.supportTokenFile, let bytes = readWholeFile(file) {
            let token = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: " \n\r\t")
            if !token.isEmpty {
                let now = clock.now
                try db.write { work in
                    try stores.supportCredentials.register(work, tokenHash: Secrets.sha256Hex(token), at: now)
                }
            }
        }
        tokenUses = .accessTokenUses(database: database, tokens: stores.accessTokens)

        let geos = configuration.geos
        let inferredRegion = geos.first ?? "us"
        let billing = BillingLedger(
            organizations: stores.organizations, usageSpans: stores.usageSpans, apiCalls: stores.apiCalls,
            invoices: stores.invoices, subscriptions: stores.subscriptions, ids: ids, rateCard: configuration.rateCard)
        let transitions = OrganizationTransitions(
            organizations: stores.organizations, users: stores.users, memberships: stores.memberships,
            sessions: stores.sessions, accessTokens: stores.accessTokens, teams: stores.teams, roles: stores.roles,
            licenses: stores.licenses, subscriptions: stores.subscriptions, emailLocks: stores.emailLocks,
            history: stores.history, outbox: stores.outbox, geoCursors: stores.geoCursors, billing: billing,
            geos: geos)
        let provisioning = OrganizationProvisioning(
            organizations: stores.organizations, memberships: stores.memberships, roles: stores.roles,
            licenses: stores.licenses, subscriptions: stores.subscriptions, history: stores.history,
            rateCard: configuration.rateCard)
        calendar = AuthCalendar(
            db: db, clock: clock, clockStore: stores.clock, organizations: stores.organizations,
            usageSpans: stores.usageSpans, transitions: transitions, billing: billing, tokenUses: tokenUses)
        let principals = PrincipalResolver(
            db: db, clock: clock, sessions: stores.sessions, accessTokens: stores.accessTokens, roles: stores.roles,
            tokenUses: tokenUses)
        let support = SupportGate(db: db, credentials: stores.supportCredentials)
        let members = MemberLookup(db: db, memberships: stores.memberships)
        let teams = TeamLookup(db: db, teams: stores.teams)
        let organizations = OrganizationLookup(db: db, organizations: stores.organizations)
        let licenses = LicenseListing(db: db, organizations: stores.organizations, licenses: stores.licenses)
        let billingViews = BillingViews(db: db, clock: clock, invoices: stores.invoices, billing: billing)

        let identity = IdentityRoutes(
            db: db, clock: clock, principals: principals, users: stores.users, memberships: stores.memberships,
            organizations: stores.organizations, sessions: stores.sessions, accessTokens: stores.accessTokens,
            teams: stores.teams, roles: stores.roles, emailLocks: stores.emailLocks, members: members,
            provisioning: provisioning, transitions: transitions, geos: geos, logins: LoginGuard())
        let accessTokens = AccessTokenRoutes(
            db: db, clock: clock, principals: principals, accessTokens: stores.accessTokens, tokenUses: tokenUses)
        let invites = InviteRoutes(
            db: db, clock: clock, principals: principals, invites: stores.invites, users: stores.users,
            memberships: stores.memberships, organizations: stores.organizations, inferredRegion: inferredRegion)
        let organization = OrganizationRoutes(
            db: db, clock: clock, principals: principals, organizations: stores.organizations, lookup: organizations,
            licenses: licenses, roles: stores.roles, members: members, transitions: transitions)
        let teamRoutes = TeamRoutes(
            db: db, clock: clock, principals: principals, teams: stores.teams, roles: stores.roles, members: members,
            lookup: teams, inferredRegion: inferredRegion)
        let roleRoutes = RoleAssignmentRoutes(
            db: db, clock: clock, principals: principals, roles: stores.roles, members: members, teams: teams)
        let billingRoutes = BillingRoutes(
            db: db, clock: clock, principals: principals, organizations: stores.organizations, views: billingViews)
        let supportRoutes = SupportRoutes(
            db: db, clock: clock, support: support, organizations: stores.organizations, users: stores.users,
            history: stores.history, subscriptions: stores.subscriptions, emailLocks: stores.emailLocks,
            transitions: transitions, lookup: organizations, licenses: licenses, billing: billingViews)
        let calendarRoutes = CalendarRoutes(clock: clock, support: support, calendar: calendar)
        let internalRoutes = InternalRoutes(
            db: db, clock: clock, effects: db.effects, principals: principals, licenses: stores.licenses,
            outbox: stores.outbox, geoCursors: stores.geoCursors, transitions: transitions,
            usageReceipts: stores.usageReceipts, usageSpans: stores.usageSpans, apiCalls: stores.apiCalls,
            organizations: stores.organizations, geos: geos)
        let creatorRoles = CreatorRoleRoutes(
            db: db, clock: clock, organizations: stores.organizations, memberships: stores.memberships,
            roles: stores.roles, geos: geos)
        let clock = clock
        let documents = (
            tcp: OpenAPIDocument.auth(geos: geos, listener: .tcp),
            unix: OpenAPIDocument.auth(geos: geos, listener: .unix)
        )
        router = Router(
            routes: identity.routes + accessTokens.routes + invites.routes + organization.routes + teamRoutes.routes
                + roleRoutes.routes + billingRoutes.routes + supportRoutes.routes + calendarRoutes.routes
                + internalRoutes.routes + creatorRoles.routes + [
                    Router.route("GET", "/health") { _ in
                        HTTPResponse.json(["status": "ok", "role": "auth", "now": .string(clock.now.iso8601)])
                    },
                    // Each listener serves the document of what it answers (TCP: no /internal routes).
                    Router.route("GET", "/openapi.json") { request in
                        HTTPResponse.json(request.listener == .unix ? documents.unix : documents.tcp)
                    },
                ], log: { Log.error($0) })
    }

    /// The calendar's current moment.
    public var now: SimTime { clock.now }

    /// Finishes a calendar move that a crash interrupted (B1: exactly once).
    public func resumeInterruptedAdvance() throws {
        try calendar.resumeInterruptedMove()
    }

    /// Ends long polls so that a shutdown does not wait for them.
    public func stop() {
        db.effects.stop()
    }

    /// Stops writing behind and writes what requests recorded off their path (token uses); called once
    /// requests have drained.
    public func finish() throws {
        try tokenUses.stop()
    }
}
