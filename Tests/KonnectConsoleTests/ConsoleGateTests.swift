import KonnectHTTP
import Testing

@testable import KonnectConsole

/// issue 16 (security): the console answers only its own page, with its token, on loopback.
@Suite struct ConsoleGateTests {
    let gate = ConsoleGate(token: "kcon_secret", port: 4242)

    func headers(_ pairs: [(String, String)]) -> HTTPHeaders {
        var headers: HTTPHeaders = ["Host": "127.0.0.1:4242"]
        for (name, value) in pairs { headers.set(name, value) }
        return headers
    }

    func check(_ method: String = "GET", _ path: String = "/", _ pairs: [(String, String)] = [], token: String? = nil)
        -> ConsoleGate.Decision
    {
        gate.check(method: method, path: path, headers: headers(pairs), queryToken: token)
    }

    func status(_ decision: ConsoleGate.Decision) -> Int? {
        if case .deny(let status, _) = decision { return status }
        return nil
    }

    func message(_ decision: ConsoleGate.Decision) -> String {
        if case .deny(_, let message) = decision { return message }
        return ""
    }

    @Test func theURLCarriesTheTokenAndTheFirstLoadSetsAStrictHttpOnlyCookie() {
        #expect(gate.url == "http://127.0.0.1:4242/?token=kcon_secret")
        #expect(
            check(token: "kcon_secret")
                == .allow(setCookie: "konnect_console_4242=kcon_secret; Path=/; HttpOnly; SameSite=Strict"))
    }

    @Test func theCookieOrABearerHeaderCarriesTheTokenAfterwards() {
        #expect(
            check("GET", "/events", [("Cookie", "other=1; konnect_console_4242=kcon_secret")]) == .allow(setCookie: nil)
        )
        #expect(check("GET", "/state", [("Authorization", "Bearer kcon_secret")]) == .allow(setCookie: nil))
    }

    @Test func withoutTheTokenEveryPathIs401SayingWhatToOpen() {
        for path in ["/", "/events", "/state", "/console.js", "/no-such-page"] {
            let decision = check("GET", path)
            #expect(status(decision) == 401, "\(path)")
            #expect(message(decision).contains("open the URL it printed"))
        }
    }

    @Test func aWrongTokenIs401Everywhere() {
        #expect(status(check(token: "kcon_guess")) == 401)
        #expect(message(check(token: "kcon_guess")).contains("not this console's"))
        #expect(status(check("GET", "/state", [("Cookie", "konnect_console_4242=kcon_guess")])) == 401)
        #expect(status(check("GET", "/state", [("Authorization", "Bearer kcon_secretx")])) == 401)
        // Another console's cookie (another port) is not this one's.
        #expect(status(check("GET", "/state", [("Cookie", "konnect_console_4343=kcon_secret")])) == 401)
    }

    @Test func theURLTokenCountsOnlyOnThePageItself() {
        #expect(status(check("GET", "/state", token: "kcon_secret")) == 401)
        #expect(status(check("POST", "/", [("Origin", "http://127.0.0.1:4242")], token: "kcon_secret")) == 401)
    }

    @Test(arguments: ["evil.example:4242", "127.0.0.1:4343", "127.0.0.1", "", "localhost.evil.example:4242"])
    func aRequestForAnotherHostIs403(host: String) {
        var headers = HTTPHeaders()
        if !host.isEmpty { headers.set("Host", host) }
        headers.set("Authorization", "Bearer kcon_secret")
        let decision = gate.check(method: "GET", path: "/", headers: headers, queryToken: nil)
        #expect(status(decision) == 403)
        #expect(message(decision).contains("127.0.0.1:4242"))
    }

    @Test func localhostIsTheConsoleToo() {
        let headers: HTTPHeaders = ["Host": "localhost:4242", "Origin": "http://localhost:4242"]
        #expect(
            gate.check(method: "POST", path: "/actions", headers: headers, queryToken: nil) != .allow(setCookie: nil))
        var withToken = headers
        withToken.set("Cookie", "konnect_console_4242=kcon_secret")
        #expect(
            gate.check(method: "POST", path: "/actions", headers: withToken, queryToken: nil) == .allow(setCookie: nil))
    }

    @Test(arguments: ["https://evil.example", "null", "http://127.0.0.1:4343", "http://127.0.0.1:4242.evil.example"])
    func aCrossSiteOriginIs403EvenWithTheToken(origin: String) {
        for method in ["GET", "POST"] {
            let decision = check(
                method, "/actions", [("Origin", origin), ("Cookie", "konnect_console_4242=kcon_secret")])
            #expect(status(decision) == 403)
            #expect(message(decision).contains("Cross-site request refused"))
        }
    }

    @Test func anActionWithoutOriginIs403AndWithItsOwnOriginPasses() {
        let cookie = ("Cookie", "konnect_console_4242=kcon_secret")
        #expect(status(check("POST", "/actions", [cookie])) == 403)
        #expect(message(check("POST", "/actions", [cookie])).contains("Origin: http://127.0.0.1:4242"))
        #expect(check("POST", "/actions", [cookie, ("Origin", "http://127.0.0.1:4242")]) == .allow(setCookie: nil))
    }

    @Test func answersCarryNoCORSAndForbidOtherSourcesAndFraming() {
        let names = ConsoleGate.securityHeaders.map { $0.0.lowercased() }
        #expect(!names.contains { $0.hasPrefix("access-control-") })
        let policy = ConsoleGate.securityHeaders.first { $0.0 == "Content-Security-Policy" }?.1 ?? ""
        #expect(policy.contains("default-src 'none'"))
        #expect(policy.contains("frame-ancestors 'none'"))
        #expect(!policy.contains("http"))
        #expect(ConsoleGate.securityHeaders.contains { $0 == ("Referrer-Policy", "no-referrer") })
    }
}
