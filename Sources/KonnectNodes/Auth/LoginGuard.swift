import KonnectCore
import KonnectHTTP
import Synchronization

/// The auth node's `LoginThrottle` on the wall clock (monotonic seconds), shared by every connection.
///
/// The client is the connection's address: on one machine every TCP client is 127.0.0.1, the same client
/// (as behind one NAT address); on hosts of their own each address is a client of its own. The Unix socket
/// is another client.
final class LoginGuard: Sendable {
    private let throttle: Mutex<LoginThrottle>
    private let clock: @Sendable () -> Int64

    init(
        _ throttle: LoginThrottle = LoginThrottle(),
        clock: @escaping @Sendable () -> Int64 = { Int64(Monotonic.now / 1000) }
    ) {
        self.throttle = Mutex(throttle)
        self.clock = clock
    }

    static func client(_ request: APIRequest) -> String {
        request.listener == .unix ? "unix socket" : "tcp \(request.http.clientAddress ?? "unknown")"
    }

    /// 429 with `Retry-After` while the email or the client is refused; the same answer whether or not
    /// the email has an account.
    func admit(email: String, _ request: APIRequest) throws(APIError) {
        let now = clock()
        let decision = throttle.withLock { $0.check(email: email, client: LoginGuard.client(request), now: now) }
        if case .refused(let seconds) = decision {
            throw APIError(
                status: 429,
                detail:
                    "Too many failed logins for this email or from this client; try again in \(seconds) seconds",
                extra: JSONObject([("retry_after", .int(seconds))]))
        }
    }

    func failed(email: String, _ request: APIRequest) {
        let now = clock()
        throttle.withLock { $0.recordFailure(email: email, client: LoginGuard.client(request), now: now) }
    }

    func succeeded(email: String, _ request: APIRequest) {
        throttle.withLock { $0.recordSuccess(email: email, client: LoginGuard.client(request)) }
    }
}
