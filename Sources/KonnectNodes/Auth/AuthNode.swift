import KonnectCore
import KonnectHTTP
import KonnectSecurity
import KonnectStorage
import Synchronization

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

    public init(
        directory: String, geos: [String], start: SimTime, rateCard: RateCard, seed: UInt64?, supportTokenFile: String?
    ) {
        self.directory = directory
        self.geos = geos
        self.start = start
        self.rateCard = rateCard
        self.seed = seed
        self.supportTokenFile = supportTokenFile
    }
}

/// The auth node (T1): identity, sessions, tokens, organizations, teams and roles, plans and licenses,
/// the billing ledger, email locks, support actions and the simulated calendar. The only state that
/// geos share.
public final class AuthNode: Sendable {
    public let configuration: AuthConfiguration
    let db: Database
    let ids: IdentifierSource
    /// The calendar's current moment, mirrored from the `clock` table.
    let clock: Mutex<SimTime>
    /// Fired when the outbox grows, to wake geos long-polling for events.
    let outboxSignal = Signal()
    /// Serializes calendar moves.
    let advancing = Mutex(())
    let stopping = Mutex(false)

    /// Ends long polls so that a shutdown does not wait for them.
    public func stop() {
        stopping.withLock { $0 = true }
        outboxSignal.fire()
    }

    public static let sessionLifetime = SimDuration.days(1)

    public init(configuration: AuthConfiguration) throws {
        self.configuration = configuration
        db = try Database(path: configuration.directory + "/auth.sqlite", migrations: AuthSchema.migrations)
        ids = IdentifierSource(seed: configuration.seed, node: "auth")
        let start = configuration.start
        let stored = try db.write { db -> SimTime in
            if let row = try db.query("SELECT now FROM clock WHERE id = 1").first, let now = row.int("now") {
                return SimTime(seconds: now)
            }
            try db.execute("INSERT INTO clock(id, now) VALUES (1, ?)", .int(start.seconds))
            return start
        }
        clock = Mutex(stored)
        if let file = configuration.supportTokenFile, let bytes = readWholeFile(file) {
            let token = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: " \n\r\t")
            if !token.isEmpty {
                try db.write { db in
                    try db.execute(
                        "INSERT OR IGNORE INTO support_credentials(token_hash, created_at) VALUES (?, ?)",
                        .text(Secrets.sha256Hex(token)), .int(stored.seconds))
                }
            }
        }
    }

    /// The calendar's current moment.
    public var now: SimTime { clock.withLock { $0 } }

    /// Finishes a calendar move that a crash interrupted (B1: exactly once).
    public func resumeInterruptedAdvance() throws {
        let target = try db.read { db in try db.query("SELECT target FROM clock WHERE id = 1").first?.int("target") }
        if let target = target.flatMap({ $0 }) {
            Log.info("resuming the calendar move to \(SimTime(seconds: target).iso8601) interrupted by a restart")
            _ = try advance(to: SimTime(seconds: target), actor: "system")
        }
    }

    /// Every route of the auth node.
    public var router: Router {
        Router(
            routes: identityRoutes + organizationRoutes + billingRoutes + lifecycleRoutes + calendarRoutes
                + internalRoutes + [
                    Router.route("GET", "/health") { _ in
                        HTTPResponse.json(["status": "ok", "role": "auth", "now": .string(self.now.iso8601)])
                    },
                    Router.route("GET", "/openapi.json") { _ in
                        HTTPResponse.json(OpenAPIDocument.auth)
                    },
                ], log: { Log.error($0) })
    }
}

/// Reads a page of a list from `page[size]` and `page[number]` (Konnect's paging), 400 when invalid.
struct PageRequest {
    var size: Int
    var number: Int

    init(_ request: APIRequest, defaultSize: Int = 100, maxSize: Int = 1000) throws(APIError) {
        size = defaultSize
        number = 1
        if let text = request.query("page[size]") {
            guard let value = Int(text), value >= 1, value <= maxSize else {
                throw APIError.invalid(
                    field: "page[size]", rule: "invalid",
                    reason: "must be an integer from 1 to \(maxSize), got \"\(text.prefix(32))\"")
            }
            size = value
        }
        if let text = request.query("page[number]") {
            guard let value = Int(text), value >= 1, value <= 1_000_000 else {
                throw APIError.invalid(
                    field: "page[number]", rule: "invalid",
                    reason: "must be a positive integer, got \"\(text.prefix(32))\"")
            }
            number = value
        }
    }

    var offset: Int { (number - 1) * size }

    func slice<T>(_ items: [T]) -> [T] {
        guard offset < items.count else { return [] }
        return Array(items[offset..<min(items.count, offset + size)])
    }

    func meta(total: Int) -> JSON {
        ["page": ["number": .int(number), "size": .int(size), "total": .int(total)]]
    }

    func response(_ items: [JSON]) -> HTTPResponse {
        HTTPResponse.json(["meta": meta(total: items.count), "data": .array(slice(items))])
    }
}

extension SimTime {
    var json: JSON { .string(iso8601) }
    static func from(_ value: Int64?) -> SimTime? { value.map { SimTime(seconds: $0) } }
}

extension SQLValue {
    static func time(_ moment: SimTime) -> SQLValue { .int(moment.seconds) }
    static func time(_ moment: SimTime?) -> SQLValue { moment.map { .int($0.seconds) } ?? .null }
}

extension Row {
    func time(_ name: String) -> SimTime? { int(name).map { SimTime(seconds: $0) } }
    func json(_ name: String) -> JSON { (try? JSONParser.parse(blob(name) ?? [])) ?? .null }
}
