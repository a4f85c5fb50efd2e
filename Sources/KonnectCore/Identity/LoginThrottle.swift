/// Brute-force protection for `POST /v3/authenticate`: failed logins are counted per email and per
/// client; past a limit, that email (or client) is refused with 429 for a while, twice as long after each
/// further failure, up to a ceiling. A successful login resets its email and client. Emails that do not
/// exist are counted exactly like those that do, so a 429 never says whether an account exists, and a
/// refused attempt checks no password.
///
/// Pure: time (in seconds, any monotonic origin) is passed in. The auth node keeps one in memory, on the
/// wall clock (a restart forgets it).
public struct LoginThrottle: Sendable {
    public struct Policy: Sendable, Hashable {
        /// Failures allowed before the key is refused.
        public var failures: Int
        /// How long failures are remembered, from the first one.
        public var window: Int64
        /// The first refusal's length, doubled after each further failure, up to `longest`.
        public var firstLockout: Int64
        public var longest: Int64

        public init(failures: Int, window: Int64, firstLockout: Int64, longest: Int64) {
            self.failures = failures
            self.window = window
            self.firstLockout = firstLockout
            self.longest = longest
        }

        /// 5 failures per email within 15 minutes: refused 30 s, then 60 s, 120 s ... at most 15 minutes.
        public static let perEmail = Policy(failures: 5, window: 900, firstLockout: 30, longest: 900)
        /// 50 failures per client within 15 minutes: refused 60 s, then doubling, at most 15 minutes.
        public static let perClient = Policy(failures: 50, window: 900, firstLockout: 60, longest: 900)
    }

    public enum Decision: Sendable, Hashable {
        case allowed
        /// Refused; try again in this many seconds (at least 1).
        case refused(retryAfter: Int64)
    }

    struct Record: Sendable, Hashable {
        var failures: Int
        var firstFailure: Int64
        var lockedUntil: Int64
        var lockouts: Int
        var lastSeen: Int64
    }

    public let emailPolicy: Policy
    public let clientPolicy: Policy
    /// The most keys kept; beyond it, forgotten records go first, then the least recently seen.
    public let capacity: Int
    private(set) var emails: [String: Record] = [:]
    private(set) var clients: [String: Record] = [:]

    public init(emailPolicy: Policy = .perEmail, clientPolicy: Policy = .perClient, capacity: Int = 10_000) {
        self.emailPolicy = emailPolicy
        self.clientPolicy = clientPolicy
        self.capacity = capacity
    }

    /// Whether an attempt for `email` from `client` may check a password now.
    public func check(email: String, client: String, now: Int64) -> Decision {
        let waits = [emails[email]?.lockedUntil, clients[client]?.lockedUntil].compactMap { $0 }.map { $0 - now }
        guard let longest = waits.max(), longest > 0 else { return .allowed }
        return .refused(retryAfter: longest)
    }

    public mutating func recordFailure(email: String, client: String, now: Int64) {
        LoginThrottle.fail(&emails, email, emailPolicy, now: now, capacity: capacity)
        LoginThrottle.fail(&clients, client, clientPolicy, now: now, capacity: capacity)
    }

    /// A successful login: its email and client start afresh.
    public mutating func recordSuccess(email: String, client: String) {
        emails[email] = nil
        clients[client] = nil
    }

    private static func fail(
        _ records: inout [String: Record], _ key: String, _ policy: Policy, now: Int64, capacity: Int
    ) {
        var record = records[key] ?? Record(failures: 0, firstFailure: now, lockedUntil: 0, lockouts: 0, lastSeen: now)
        if record.failures > 0, now - record.firstFailure >= policy.window, record.lockedUntil <= now {
            record = Record(failures: 0, firstFailure: now, lockedUntil: 0, lockouts: 0, lastSeen: now)
        }
        record.failures += 1
        record.lastSeen = now
        if record.failures >= policy.failures {
            let shift = min(record.lockouts, 20)
            record.lockedUntil = now + min(policy.longest, policy.firstLockout << shift)
            record.lockouts += 1
        }
        if records[key] == nil, records.count >= capacity { prune(&records, policy, now: now, capacity: capacity) }
        records[key] = record
    }

    /// Drops what no longer matters (window over, not locked); if still full, the least recently seen.
    private static func prune(_ records: inout [String: Record], _ policy: Policy, now: Int64, capacity: Int) {
        records = records.filter { _, record in now - record.firstFailure < policy.window || record.lockedUntil > now }
        if records.count >= capacity {
            let keep = records.sorted { $0.value.lastSeen > $1.value.lastSeen }.prefix(capacity / 2)
            records = Dictionary(uniqueKeysWithValues: keep.map { ($0.key, $0.value) })
        }
    }

    /// How many emails and clients are tracked (for tests).
    public var trackedKeys: (emails: Int, clients: Int) { (emails.count, clients.count) }
}
