import Foundation
import KonnectCluster
import KonnectCore
import KonnectHTTP
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension ProcessTests {
    /// The live console (issue 16): `konnect-sim console` against a real cluster, over HTTP and in a
    /// real browser.
    @Suite struct Console {
        @Test(
            "issue 16 (security): loopback only, the printed token on every request, no cross-site requests, actions only by POST"
        )
        func consoleRefusesWhatIsNotItsOwnPage() throws {
            let cluster = try TestCluster(geos: ["us", "eu"])
            let console = try ConsoleProcess(directory: cluster.directory)
            defer { console.stop() }
            let url = try ConsoleURL(try console.url())
            let client = url.client()

            // Bound to 127.0.0.1 only (the kernel's table of listening sockets).
            #expect(try listeningAddresses(port: url.port) == ["0100007F"])

            let anonymous = try client.send("GET", "/")
            #expect(anonymous.status == 401)
            #expect(anonymous.text.contains("open the URL it printed"), "\(anonymous.text)")
            #expect(try client.send("GET", "/?token=kcon_guess").status == 401)
            #expect(try client.send("GET", "/state", headers: ["Authorization": "Bearer kcon_guess"]).status == 401)

            let page = try client.send("GET", "/?token=\(url.token)")
            #expect(page.status == 200)
            let cookie = try #require(page.headers["set-cookie"])
            #expect(cookie.hasPrefix("konnect_console_\(url.port)=\(url.token);"))
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"))
            #expect(page.headers["content-security-policy"]?.contains("default-src 'none'") == true)
            #expect(page.text.contains("data-node=\"eu\" data-kind=\"geo\" data-state=\"up\""))
            let session: HTTPHeaders = ["Cookie": "konnect_console_\(url.port)=\(url.token)"]

            // Another Host (DNS rebinding) or another site's Origin: 403, even with the token.
            var rebound = session
            rebound.set("Host", "attacker.example:\(url.port)")
            #expect(try client.send("GET", "/state", headers: rebound).status == 403)
            let pause: JSON = ["action": "pause", "node": "us"]
            var crossSite = session
            crossSite.set("Origin", "https://attacker.example")
            let refused = try client.json("POST", "/actions", pause, headers: crossSite)
            #expect(refused.status == 403)
            #expect(refused.text.contains("Cross-site request refused"))
            #expect(try client.json("POST", "/actions", pause, headers: session).status == 403, "a POST without Origin")
            var own = session
            own.set("Origin", url.origin)
            #expect(try client.send("GET", "/actions", headers: own).status == 405)
            let preflight = try client.send(
                "OPTIONS", "/actions", headers: ["Origin": url.origin, "Access-Control-Request-Method": "POST"])
            #expect(preflight.status == 401)
            #expect(!preflight.headers.contains { $0.name.lowercased().hasPrefix("access-control-") })
            var form = own
            form.set("Content-Type", "application/x-www-form-urlencoded")
            #expect(try client.send("POST", "/actions", headers: form, body: Array("action=pause".utf8)).status == 415)
            #expect(cluster.cluster.faultLog.isEmpty, "no refused request reached the cluster")

            // Its own page's action is carried out as the CLI would, and shows in faults.log.
            let done = try client.json("POST", "/actions", pause, headers: own)
            #expect(done.status == 200, "\(done.text)")
            #expect(done.json?["message"]?.stringValue == "paused us (SIGSTOP)")
            #expect(cluster.cluster.faultLog.last?["fault"]?.stringValue == "pause")
            #expect(cluster.cluster.faultLog.last?["node"]?.stringValue == "us")
            try cluster.waitUntil("the console shows us paused") {
                let state = try client.send("GET", "/state", headers: session)
                return state.json?["sections"]?["topology"]?.stringValue?.contains(
                    "data-node=\"us\" data-kind=\"geo\" data-state=\"paused\"") == true
            }
            let missing = try client.json("POST", "/actions", ["action": "kill", "node": "nowhere"], headers: own)
            #expect(missing.status == 404)
            #expect(missing.json?["detail"]?.stringValue?.contains("nodes: auth") == true)
            let resumed = try client.json("POST", "/actions", ["action": "resume", "node": "us"], headers: own)
            #expect(resumed.status == 200)
            let bad = try client.json("POST", "/actions", ["action": "slow", "link": "us->auth"], headers: own)
            #expect(bad.status == 400)
            #expect(bad.json?["invalid_parameters"]?[0]?["field"]?.stringValue == "latency_ms")

            // A calendar move from the page: the auth node's report of what fell due, and the invoice.
            try cluster.signup("ana@example.com", organization: "Acme", geo: "eu")
            let move = try client.json("POST", "/actions", ["action": "advance", "by": "31d"], headers: own)
            #expect(move.status == 200, "\(move.text)")
            #expect(move.json?["report"]?["by_kind"]?["cycle_end"]?.intValue == 1)
            try cluster.waitUntil("the console lists what fell due in the move") {
                let calendar =
                    try client.send("GET", "/state", headers: session).json?["sections"]?["calendar"]?
                    .stringValue ?? ""
                return calendar.contains("(from this console)") && calendar.contains("1 cycle end")
                    && calendar.contains("invoice: Acme: 0.00 USD for 2026-01-01 to 2026-01-31")
            }
            let late = try client.json("POST", "/actions", ["action": "set-clock", "date": "2026-01-02"], headers: own)
            #expect(late.status == 409, "the calendar only moves forward: \(late.text)")

            #expect(console.stop() == 0)
            #expect(console.output.contains("console stopped"))
        }

        @Test("issue 16, T3: each geo's operator endpoint reports what a token of the organization gets from that geo")
        func geosReportWhatATokenSees() throws {
            let cluster = try TestCluster(geos: ["us", "eu"])
            let (token, acme) = try cluster.newOrganization("ana@example.com", organization: "Acme", geo: "eu")
            let (_, globex) = try cluster.newOrganization("bo@example.com", organization: "Globex", geo: "us")
            let shop = try cluster.createControlPlane("shop", geo: "eu", token: token)
            try cluster.gwService(shop, ["name": "orders", "url": "http://127.0.0.1:9/api"], token: token)
            try cluster.gwRoute(shop, service: "orders", ["name": "orders", "paths": ["/orders"]], token: token)
            try cluster.expect(201, "eu", "POST", "/v2/portals", ["name": "developers"], token: token)

            func report(_ geo: String) throws -> OrganizationObjectsReport {
                let response = try cluster.unix(geo).send(
                    "GET", "/internal/v1/operator/organization-objects?organization=\(acme)&organization=\(globex)")
                #expect(response.status == 200, "\(response.text)")
                return try OrganizationObjectsReport(json: try #require(response.json))
            }
            let eu = try report("eu")
            #expect(eu.geo == "eu")
            #expect(eu.organizations.map(\.organizationID) == [acme, globex])
            let mine = eu.organizations[0]
            #expect(mine.controlPlanes.map(\.name) == ["shop"])
            #expect(mine.entities == 2)
            #expect(mine.portals == 1)
            #expect(eu.organizations[1].isEmpty)
            #expect(try report("us").organizations.allSatisfy(\.isEmpty))

            // The same numbers as the token's own lists, and 404 by id in the other geo (T3).
            let listed = try cluster.expect(200, "eu", "GET", "/v2/control-planes", token: token)
            #expect(listed["data"]?.arrayValue?.count == mine.controlPlanes.count)
            #expect(try cluster.expect(200, "us", "GET", "/v2/control-planes", token: token)["data"] == .array([]))
            try cluster.expect(404, "us", "GET", "/v2/control-planes/\(shop)", token: token)
            let version = try cluster.expect(200, "eu", "GET", "/v2/control-planes/\(shop)", token: token)
            #expect(version["id"]?.stringValue == mine.controlPlanes[0].id)

            // Operator only: not on TCP; bad questions are 400 naming the parameter.
            #expect(
                try cluster.tcp("eu").send("GET", "/internal/v1/operator/organization-objects?organization=\(acme)")
                    .status == 404)
            let none = try cluster.unix("eu").send("GET", "/internal/v1/operator/organization-objects")
            #expect(none.status == 400)
            #expect(none.json?["invalid_parameters"]?[0]?["field"]?.stringValue == "organization")
            #expect(
                try cluster.unix("eu").send("GET", "/internal/v1/operator/organization-objects?organization=x'--")
                    .status == 400)
        }

        @Test(
            "issue 16: in headless Chromium the page shows every geo up, a geo killed with the CLI down within 2 s, and a click partitions a link as 'konnect-sim partition' would",
            .enabled(if: HeadlessChromium.executable != nil, Comment(rawValue: HeadlessChromium.missing)))
        func consoleInARealBrowser() throws {
            let cluster = try TestCluster(geos: ["us", "eu", "au"])
            let (token, _) = try cluster.newOrganization("ana@example.com", organization: "Acme", geo: "eu")
            try cluster.createControlPlane("shop", geo: "eu", token: token)
            let console = try ConsoleProcess(directory: cluster.directory)
            defer { console.stop() }
            let url = try console.url()
            let browser = try HeadlessChromium(directory: cluster.directory)
            defer { browser.close() }
            try browser.navigate(url)

            let geos = "['us', 'eu', 'au']"
            let geoStates =
                "JSON.stringify(\(geos).map((g) => [g, document.querySelector(`[data-node=\"${g}\"][data-kind=\"geo\"]`)?.dataset.state]))"
            try browser.waitUntil(
                "every geo up",
                "\(geos).every((g) => document.querySelector(`[data-node=\"${g}\"][data-kind=\"geo\"]`)?.dataset.state === 'up')",
                timeout: 15, describe: geoStates)
            try browser.waitUntil(
                "the event stream connected", "document.getElementById('connection').textContent === 'live'",
                timeout: 15,
                describe: "document.getElementById('connection').textContent")
            #expect(try browser.evaluate("location.search") == "", "the token is dropped from the address bar")
            try browser.waitUntil(
                "Acme in the organizations",
                "document.querySelector('#organizations tr[data-org] td')?.textContent.includes('Acme')",
                timeout: 10, describe: "document.getElementById('organizations').textContent")

            try browser.waitUntil(
                "Acme's control plane in eu only",
                "document.querySelector('#organizations td.geo.home[data-geo=\"eu\"]')?.textContent.includes('1 control plane: shop v1') && document.querySelector('#organizations td.geo[data-geo=\"us\"]')?.textContent.includes('ids from other geos answer 404')",
                timeout: 10, describe: "document.getElementById('organizations').textContent")

            let kill = try cluster.runCLI(["kill", "--dir", cluster.directory, "eu"])
            #expect(kill.status == 0, "\(kill.stderr)")
            let shown = try browser.waitUntil(
                "eu down within 2 s of the CLI's kill",
                "document.querySelector('[data-node=\"eu\"][data-kind=\"geo\"]')?.dataset.state === 'down'", timeout: 2,
                describe: geoStates)
            print("the console showed eu down \(shown) ms after 'konnect-sim kill' returned")
            try browser.waitUntil(
                "the kill in the timeline", "document.getElementById('timeline').textContent.includes('kill eu')",
                timeout: 5, describe: "document.getElementById('timeline').textContent")

            try browser.click("button[data-action=\"partition\"][data-link=\"us->auth\"]")
            try browser.waitUntil(
                "the click's answer", "document.getElementById('result').textContent === 'partitioned us -> auth'",
                timeout: 10, describe: "document.getElementById('result').textContent")
            let faults = try cluster.runCLI(["faults", "--dir", cluster.directory])
            #expect(faults.status == 0, "\(faults.stderr)")
            #expect(faults.stdout.contains("us->auth: partitioned"), "\(faults.stdout)")
            #expect(faults.stdout.contains("partition us->auth"), "\(faults.stdout)")
            try browser.waitUntil(
                "us->auth partitioned on the page",
                "document.querySelector('.link[data-link=\"us->auth\"]')?.dataset.condition === 'partitioned'",
                timeout: 5)

            let foreign = try browser.evaluate(
                "performance.getEntriesByType('resource').map((e) => e.name).filter((n) => !n.startsWith(location.origin))"
            )
            #expect(foreign == .array([]), "everything comes from the console itself")
            #expect(browser.pageErrors.isEmpty, "\(browser.pageErrors)")
            browser.close()
            #expect(console.stop() == 0, "\(console.output)")
        }
    }
}

/// The local addresses (hex, as the kernel prints them) listening on `port`.
func listeningAddresses(port: Int) throws -> [String] {
    let table = try String(contentsOfFile: "/proc/net/tcp", encoding: .utf8)
    let wanted = String(format: "%04X", port)
    return table.split(separator: "\n").dropFirst().compactMap { line in
        let fields = line.split(separator: " ")
        guard fields.count > 3, fields[3] == "0A" else { return nil }
        let local = fields[1].split(separator: ":")
        return local.count == 2 && local[1] == wanted ? String(local[0]) : nil
    }
}
