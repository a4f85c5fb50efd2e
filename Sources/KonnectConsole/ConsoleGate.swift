import KonnectHTTP
import KonnectSecurity

/// Who may use the console. The console acts as the operator (it kills nodes and moves the calendar),
/// so, as Jupyter does, it answers only requests that carry the token it printed at start, and it
/// refuses what a browser would send on another site's behalf:
/// - `Host` must name the console (127.0.0.1 or localhost with its port): a DNS-rebinding guard;
/// - an `Origin`, when sent, must be the console's own; actions (`POST`) must send one;
/// - the token comes from the console's cookie (HttpOnly, SameSite=Strict, named after the port so
///   two consoles do not overwrite each other's), a bearer header, or, on `GET /` only, the URL's
///   `?token=` (which sets the cookie); it is compared in constant time.
/// Pure: a request's method, path, headers and query in, a decision out.
public struct ConsoleGate: Sendable {
    public let token: String
    public let port: Int

    public init(token: String, port: Int) {
        self.token = token
        self.port = port
    }

    public enum Decision: Sendable, Equatable {
        /// Go on; `setCookie` is the `Set-Cookie` value when the token came in the URL.
        case allow(setCookie: String?)
        case deny(status: Int, message: String)
    }

    public var cookieName: String { "konnect_console_\(port)" }
    public var origin: String { "http://127.0.0.1:\(port)" }
    var origins: [String] { [origin, "http://localhost:\(port)"] }
    var hosts: [String] { ["127.0.0.1:\(port)", "localhost:\(port)"] }

    /// The URL the console prints.
    public var url: String { "\(origin)/?token=\(token)" }

    public func check(method: String, path: String, headers: HTTPHeaders, queryToken: String?) -> Decision {
        let host = headers["host"] ?? ""
        guard hosts.contains(host.lowercased()) else {
            return .deny(
                status: 403,
                message:
                    "The console answers only requests addressed to \(hosts[0]) (Host was '\(host.prefix(100))'); open \(origin)/ instead."
            )
        }
        if let sent = headers["origin"], !origins.contains(sent.lowercased()) {
            return .deny(
                status: 403,
                message:
                    "Cross-site request refused: Origin '\(sent.prefix(100))' is not this console (\(origin)). The console takes requests only from its own page."
            )
        }
        if method == "POST", headers["origin"] == nil {
            return .deny(
                status: 403,
                message:
                    "Actions are taken only from the console's own page: a POST must carry the header Origin: \(origin)."
            )
        }
        if let queryToken, method == "GET", path == "/" {
            guard Secrets.constantTimeEquals(queryToken, token) else {
                return .deny(
                    status: 401,
                    message:
                        "The token in this URL is not this console's. Use the URL the console printed when it started (a restarted console prints a new token)."
                )
            }
            return .allow(setCookie: "\(cookieName)=\(token); Path=/; HttpOnly; SameSite=Strict")
        }
        guard let presented = presentedToken(headers) else {
            return .deny(
                status: 401,
                message:
                    "This console needs its token: open the URL it printed when it started (\(origin)/?token=...)."
            )
        }
        guard Secrets.constantTimeEquals(presented, token) else {
            return .deny(
                status: 401,
                message:
                    "The console's token was wrong (a restarted console prints a new one): open the URL it printed when it started."
            )
        }
        return .allow(setCookie: nil)
    }

    /// The token of the console's cookie or of an `Authorization: Bearer` header.
    func presentedToken(_ headers: HTTPHeaders) -> String? {
        if let value = headers["authorization"] {
            let parts = value.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" { return String(parts[1]).filter { $0 != " " } }
        }
        for header in headers.values("cookie") {
            for pair in header.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0].filter({ $0 != " " }) == cookieName {
                    return parts[1].filter { $0 != " " }
                }
            }
        }
        return nil
    }

    /// Headers on every answer: nothing cached, nothing framed (a click on the console must be the
    /// user's), nothing loaded from elsewhere, no referrer carrying the token, and no CORS headers at all.
    public static let securityHeaders: [(String, String)] = [
        ("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "no-referrer"),
        (
            "Content-Security-Policy",
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
        ),
    ]
}
