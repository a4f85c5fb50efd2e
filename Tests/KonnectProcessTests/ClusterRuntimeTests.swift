import Foundation
import KonnectCluster
import KonnectCore
import KonnectHTTP
import KonnectNodes
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension ProcessTests {
    /// The cluster runtime (issue 2): processes, transport, authentication across geos (T1-T5).
    @Suite struct ClusterRuntime {
        @Test("T1, T5: a geo answers whoami having asked the auth node")
        func geoAuthenticatesThroughAuthNode() throws {
            let cluster = try TestCluster()
            let (token, organization) = try cluster.newOrganization("ana@example.com")
            let body = try cluster.expect(200, "eu", "GET", "/v2/whoami", token: token)
            #expect(body["geo"]?.stringValue == "eu")
            #expect(body["organization"]?["id"]?.stringValue == organization)
            #expect(body["roles"]?[0]?["entity_type_name"]?.stringValue == "Organization")
        }

        // MARK: - up, status, down

        @Test("issue 2 (up): a second up says the cluster is already running and starts nothing")
        func upIsIdempotent() throws {
            let cluster = try TestCluster()
            let before = try cluster.runtimePids()
            let configuration = try #require(cluster.cluster.configuration)
            let report = try ClusterBoot.up(cluster.cluster, configuration)
            #expect(report.message.contains("already running"), "\(report.message)")
            #expect(try cluster.runtimePids() == before)
            #expect(report.nodes.map(\.state) == ["up", "up", "up"])

            // The command line says the same and exits 0.
            let cli = try cluster.runCLI(["up", "--dir", cluster.directory, "--geos", "us,eu"])
            #expect(cli.status == 0, "\(cli.stderr)")
            #expect(cli.stdout.contains("already running"), "\(cli.stdout)")
            #expect(try cluster.runtimePids() == before)
        }

        @Test("issue 2 (up): stale state after kill -9 of every node is detected and restarted with its data")
        func upRestartsStaleClusterKeepingData() throws {
            let cluster = try TestCluster()
            let (token, _) = try cluster.newOrganization("ana@example.com")
            let controlPlane = try cluster.createControlPlane("survivor", token: token)
            let before = try cluster.runtimePids()
            for name in ["auth", "us", "eu"] { try cluster.cluster.kill(name) }
            // The run directory still describes the crashed run: node.json files with dead pids.
            for status in cluster.cluster.status() {
                #expect(status.state == "down", "\(status.record.name) is \(status.state)")
                #expect(status.descriptor != nil)
            }

            let configuration = try #require(cluster.cluster.configuration)
            let report = try ClusterBoot.up(cluster.cluster, configuration)
            #expect(report.message.contains("stale state"), "\(report.message)")
            #expect(report.message.contains("data kept"), "\(report.message)")
            #expect(report.nodes.map(\.state) == ["up", "up", "up"])
            let after = try cluster.runtimePids()
            for name in ["auth", "us", "eu"] { #expect(after[name] != before[name], "\(name) kept its old pid") }

            // The data survived: the old session still works, the password logs in, the control plane is there.
            try cluster.expect(200, "auth", "GET", "/v3/users/me", token: token)
            let fresh = try cluster.login("ana@example.com")
            let body = try cluster.expect(200, "eu", "GET", "/v2/control-planes/\(controlPlane)", token: fresh)
            #expect(body["name"]?.stringValue == "survivor")
        }

        @Test("issue 2 (status): a killed node shows as down and a paused one as paused")
        func statusShowsKilledAndPausedNodes() throws {
            let cluster = try TestCluster()
            try cluster.cluster.kill("us")
            try cluster.cluster.pause("eu")
            defer { try? cluster.cluster.resume("eu") }

            let json = try cluster.runCLI(["status", "--dir", cluster.directory, "--json"])
            #expect(json.status == 0, "\(json.stderr)")
            let body = try JSONParser.parse(json.stdout)
            var states: [String: String] = [:]
            for node in body["nodes"]?.arrayValue ?? [] {
                states[node["node"]?.stringValue ?? "?"] = node["state"]?.stringValue
            }
            #expect(states == ["auth": "up", "us": "down", "eu": "paused"])

            let table = try cluster.runCLI(["status", "--dir", cluster.directory])
            #expect(table.status == 0)
            let rows = table.stdout.split(separator: "\n").map {
                $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            }
            #expect(rows.first?.starts(with: ["NODE", "ROLE", "PID", "STATE"]) == true, "\(table.stdout)")
            #expect(rows.contains { $0.first == "us" && $0.contains("down") }, "\(table.stdout)")
            #expect(rows.contains { $0.first == "eu" && $0.contains("paused") }, "\(table.stdout)")
            #expect(rows.contains { $0.first == "auth" && $0.contains("up") }, "\(table.stdout)")

            // After resuming, the paused node is up again and answers.
            try cluster.cluster.resume("eu")
            try cluster.waitUntil("eu answers again") {
                cluster.cluster.status().first { $0.record.name == "eu" }?.state == "up"
            }
            #expect(try cluster.unix("eu").send("GET", "/health").status == 200)
        }

        @Test("issue 2 (down): down stops every process gracefully and removes every socket")
        func downStopsEverything() throws {
            let cluster = try TestCluster()
            let pids = try cluster.runtimePids()
            let sockets = cluster.cluster.records.map { NodeFiles.socket($0.directory) }
            for socket in sockets { #expect(access(socket, F_OK) == 0, "\(socket) missing while up") }

            // A paused node is stopped as well (it is resumed to handle SIGTERM).
            try cluster.cluster.pause("us")
            let cli = try cluster.runCLI(["down", "--dir", cluster.directory])
            #expect(cli.status == 0, "\(cli.stderr)")
            #expect(cli.stdout.contains("stopped 3 nodes"), "\(cli.stdout)")
            for (name, pid) in pids { #expect(NodeProcess.state(pid) == .down, "\(name) (pid \(pid)) still runs") }
            for socket in sockets { #expect(access(socket, F_OK) != 0, "\(socket) was not removed") }
            #expect(cluster.cluster.status().allSatisfy { $0.state == "down" })
            // Each node went through its graceful shutdown (SIGTERM), not a SIGKILL.
            for record in cluster.cluster.records {
                let log = String(decoding: readWholeFile(NodeFiles.log(record.directory)) ?? [], as: UTF8.self)
                #expect(
                    log.contains("\(record.name) stopped"),
                    "\(record.name)'s log does not end with a graceful stop:\n\(log.suffix(600))")
            }
            // A public port no longer answers either.
            #expect(throws: (any Error).self) { try cluster.call("eu", "GET", "/health") }
        }

        // MARK: - Faults

        @Test("T3, T5: kill -9 one geo and the other geos and the auth node keep answering")
        func killOneGeoOthersKeepAnswering() throws {
            let cluster = try TestCluster(geos: ["us", "eu", "au"])
            let (token, _) = try cluster.newOrganization("ana@example.com")
            let controlPlane = try cluster.createControlPlane("in-us", geo: "us", token: token)
            try cluster.cluster.kill("eu")

            #expect(throws: (any Error).self) { try cluster.call("eu", "GET", "/v2/whoami", token: token) }
            try cluster.expect(200, "auth", "GET", "/v3/users/me", token: token)
            try cluster.expect(200, "auth", "GET", "/v3/organizations/me", token: token)
            for geo in ["us", "au"] {
                let body = try cluster.expect(200, geo, "GET", "/v2/whoami", token: token)
                #expect(body["geo"]?.stringValue == geo)
            }
            try cluster.expect(200, "us", "GET", "/v2/control-planes/\(controlPlane)", token: token)
            try cluster.expect(201, "au", "POST", "/v2/control-planes", ["name": "while-eu-is-down"], token: token)
            // A new login also works: authentication does not need the dead geo.
            try cluster.expect(200, "us", "GET", "/v2/whoami", token: try cluster.login("ana@example.com"))
        }

        @Test("T5: with the auth node killed, geos answer 503 auth_node_unavailable within 1 s, and recover on restart")
        func authNodeDownGives503ThenRecovers() throws {
            let cluster = try TestCluster()
            let (token, _) = try cluster.newOrganization("ana@example.com")
            try cluster.expect(200, "eu", "GET", "/v2/whoami", token: token)
            try cluster.cluster.kill("auth")

            for geo in ["us", "eu"] {
                for path in ["/v2/whoami", "/v2/control-planes"] {
                    try cluster.expectAuthUnavailable(geo, path, token: token)
                }
            }
            // The geos themselves stay up (health does not need the auth node).
            #expect(try cluster.unix("eu").send("GET", "/health").status == 200)

            try cluster.cluster.restart("auth")
            // The session was stored by the auth node: the same token works again everywhere.
            for geo in ["us", "eu"] {
                try cluster.waitUntil("\(geo) authenticates again") {
                    try cluster.call(geo, "GET", "/v2/whoami", token: token).status == 200
                }
            }
            try cluster.expect(201, "eu", "POST", "/v2/control-planes", ["name": "after-restart"], token: token)
        }

        @Test("T5: with the auth node paused (SIGSTOP), geos still answer 503 within about 1 s")
        func authNodePausedGives503() throws {
            let cluster = try TestCluster()
            let (token, _) = try cluster.newOrganization("ana@example.com")
            try cluster.expect(200, "us", "GET", "/v2/whoami", token: token)
            try cluster.expect(200, "eu", "GET", "/v2/whoami", token: token)
            try cluster.cluster.pause("auth")
            defer { try? cluster.cluster.resume("auth") }

            for geo in ["us", "eu"] {
                try cluster.expectAuthUnavailable(geo, "/v2/whoami", token: token)
            }
            try cluster.cluster.resume("auth")
            for geo in ["us", "eu"] {
                try cluster.waitUntil("\(geo) authenticates after the auth node resumes") {
                    try cluster.call(geo, "GET", "/v2/whoami", token: token).status == 200
                }
            }
        }

        // MARK: - Isolation and state

        @Test("T3, A3: a token from one organization cannot read another organization's data")
        func organizationsAreIsolated() throws {
            let cluster = try TestCluster()
            let ana = try cluster.signup("ana@example.com", organization: "Acme")
            let bob = try cluster.signup("bob@example.com", organization: "Bobco")
            let anaToken = try cluster.login("ana@example.com")
            let bobToken = try cluster.login("bob@example.com")
            let bobPlane = try cluster.createControlPlane("bobs-plane", token: bobToken)
            let bobService =
                try cluster.expect(
                    201, "eu", "POST", "/v2/control-planes/\(bobPlane)/core-entities/services",
                    ["name": "billing", "url": "http://billing.internal"],
                    token: bobToken)["id"]?.stringValue ?? ""
            let bobTeam =
                try cluster.expect(201, "auth", "POST", "/v3/teams", ["name": "bobs-team"], token: bobToken)["id"]?
                .stringValue ?? ""
            let bobPortal =
                try cluster.expect(201, "eu", "POST", "/v2/portals", ["name": "bobs-portal"], token: bobToken)["id"]?
                .stringValue ?? ""

            // Each token sees its own organization.
            #expect(
                try cluster.expect(200, "auth", "GET", "/v3/organizations/me", token: anaToken)["id"]?.stringValue
                    == ana.organization)
            #expect(
                try cluster.expect(200, "auth", "GET", "/v3/organizations/me", token: bobToken)["id"]?.stringValue
                    == bob.organization)
            #expect(
                try cluster.expect(200, "eu", "GET", "/v2/whoami", token: anaToken)["organization"]?["id"]?.stringValue
                    == ana.organization)

            // Ana's token never reaches Bob's objects: 404, never 403.
            try cluster.expect(404, "auth", "GET", "/v3/users/\(bob.user)", token: anaToken)
            try cluster.expect(404, "auth", "GET", "/v3/teams/\(bobTeam)", token: anaToken)
            try cluster.expect(404, "eu", "GET", "/v2/control-planes/\(bobPlane)", token: anaToken)
            try cluster.expect(
                404, "eu", "PATCH", "/v2/control-planes/\(bobPlane)", ["description": "mine now"], token: anaToken)
            try cluster.expect(404, "eu", "DELETE", "/v2/control-planes/\(bobPlane)", token: anaToken)
            try cluster.expect(
                404, "eu", "GET", "/v2/control-planes/\(bobPlane)/core-entities/services/\(bobService)", token: anaToken
            )
            try cluster.expect(404, "eu", "GET", "/v2/portals/\(bobPortal)", token: anaToken)
            try cluster.expect(
                404, "auth", "POST", "/v3/teams/\(bobTeam)/users", ["id": .string(ana.user)], token: anaToken)
            try cluster.expect(404, "auth", "GET", "/v3/users/\(bob.user)/assigned-roles", token: anaToken)
            try cluster.expect(
                404, "auth", "POST", "/v3/users/\(bob.user)/assigned-roles",
                ["role_name": "Admin", "entity_type_name": "Organization"], token: anaToken)
            let anaTeam =
                try cluster.expect(201, "auth", "POST", "/v3/teams", ["name": "anas-team"], token: anaToken)["id"]?
                .stringValue ?? ""
            try cluster.expect(
                404, "auth", "POST", "/v3/teams/\(anaTeam)/users", ["id": .string(bob.user)], token: anaToken)
            let list = try cluster.expect(200, "eu", "GET", "/v2/control-planes", token: anaToken)
            #expect(list["data"]?.arrayValue?.isEmpty == true)
            let users = try cluster.expect(200, "auth", "GET", "/v3/users", token: anaToken)
            #expect(users["data"]?.arrayValue?.compactMap { $0["email"]?.stringValue } == ["ana@example.com"])
            // Bob's objects are untouched.
            #expect(
                try cluster.expect(200, "eu", "GET", "/v2/control-planes/\(bobPlane)", token: bobToken)["description"]?
                    .stringValue == "")
        }

        @Test("issue 2 (storage): restarting a node keeps its state in SQLite")
        func restartKeepsState() throws {
            let cluster = try TestCluster()
            let ids = try cluster.signup("ana@example.com")
            let token = try cluster.login("ana@example.com")
            let pat = try cluster.expect(
                201, "auth", "POST", "/v3/users/\(ids.user)/access-tokens", ["name": "ci"], token: token)
            let patToken = try #require(pat["konnect_token"]?.stringValue)
            let team =
                try cluster.expect(201, "auth", "POST", "/v3/teams", ["name": "platform"], token: token)["id"]?
                .stringValue ?? ""
            let plane = try cluster.createControlPlane("kept", token: token)
            try cluster.expect(
                201, "eu", "POST", "/v2/control-planes/\(plane)/core-entities/services",
                ["name": "svc", "host": "svc.internal"], token: token)
            let hashBefore = try cluster.expect(
                200, "eu", "GET", "/v2/control-planes/\(plane)/expected-config-hash", token: token)
            try cluster.advance("3h")

            for name in ["auth", "eu"] {
                let before = try cluster.runtimePids()[name]
                try cluster.cluster.restart(name)
                #expect(try cluster.runtimePids()[name] != before, "\(name) was not restarted")
            }
            try cluster.expect(200, "auth", "GET", "/v3/users/me", token: token)
            try cluster.expect(200, "auth", "GET", "/v3/users/me", token: patToken)
            try cluster.expect(200, "auth", "GET", "/v3/teams/\(team)", token: token)
            let clock = try cluster.unix("auth").send("GET", "/v3/simulator/clock").json
            #expect(clock?["now"]?.stringValue == "2026-01-01T03:00:00Z")
            #expect(
                try cluster.expect(200, "eu", "GET", "/v2/control-planes/\(plane)", token: patToken)["name"]?
                    .stringValue == "kept")
            let services = try cluster.expect(
                200, "eu", "GET", "/v2/control-planes/\(plane)/core-entities/services", token: token)
            #expect(services["data"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["svc"])
            let hashAfter = try cluster.expect(
                200, "eu", "GET", "/v2/control-planes/\(plane)/expected-config-hash", token: token)
            #expect(hashAfter["expected_hash"] == hashBefore["expected_hash"])
        }

        @Test("T4: node.json ports are kernel-assigned loopback ports, distinct per node and per cluster")
        func portsAreKernelAssigned() throws {
            let first = try TestCluster()
            let second = try TestCluster(geos: ["eu"])
            let range = ephemeralPortRange()
            var seen: Set<Int> = []
            for cluster in [first, second] {
                for record in cluster.cluster.records {
                    #expect(
                        !record.arguments.contains("--port"),
                        "\(record.name) was started with a fixed port: \(record.arguments)")
                    let descriptor = try #require(cluster.cluster.descriptor(record))
                    #expect(
                        range.contains(descriptor.port),
                        "\(record.name) port \(descriptor.port) is outside the kernel's range \(range)")
                    #expect(descriptor.url == "http://127.0.0.1:\(descriptor.port)")
                    #expect(descriptor.socket == NodeFiles.socket(record.directory))
                    #expect(seen.insert(descriptor.port).inserted, "port \(descriptor.port) used twice")
                    // The port in node.json is the one the node really serves on.
                    let health = try cluster.tcp(record.name).send("GET", "/health")
                    #expect(health.status == 200)
                    #expect(health.json?["role"]?.stringValue == record.kind.role)
                }
            }
        }
    }
}

// MARK: - Helpers for the runtime tests

/// What a `konnect-sim` command printed and how it exited.
struct RuntimeCLIResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// The kernel's ephemeral port range (where port 0 binds land).
func ephemeralPortRange() -> ClosedRange<Int> {
    let text = String(decoding: readWholeFile("/proc/sys/net/ipv4/ip_local_port_range") ?? [], as: UTF8.self)
    let parts = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).compactMap { Int($0) }
    guard parts.count == 2 else { return 1024...65535 }
    return parts[0]...parts[1]
}

extension TestCluster {
    /// The pid of every running node by name (from node.json), failing when one is not running.
    func runtimePids() throws -> [String: Int32] {
        var pids: [String: Int32] = [:]
        for record in cluster.records {
            let (descriptor, state) = cluster.processState(record)
            guard let descriptor, state != .down else {
                throw ProcessTestFailure(message: "\(record.name) is not running\n\(allLogs())")
            }
            pids[record.name] = descriptor.pid
        }
        return pids
    }

    /// Runs the `konnect-sim` executable the nodes run, as a user would.
    func runCLI(_ arguments: [String]) throws -> RuntimeCLIResult {
        try TestCluster.commandRunner()(arguments)
    }

    /// T5: a geo whose auth node cannot be reached answers 503 promptly (the one timed assertion:
    /// under 1 s on a monotonic clock) with a problem body whose reason is auth_node_unavailable.
    func expectAuthUnavailable(
        _ geo: String, _ path: String, token: String, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let client = try tcp(geo, timeoutMilliseconds: 5000)
        let started = Monotonic.nanoseconds
        let response = try client.send("GET", path, headers: ["Authorization": "Bearer \(token)"])
        let elapsed = Double(Monotonic.nanoseconds - started) / 1_000_000
        #expect(
            response.status == 503, "\(geo) \(path): \(response.status) \(response.text)",
            sourceLocation: sourceLocation)
        #expect(
            elapsed < 1000, "\(geo) took \(Int(elapsed)) ms to answer without its auth node",
            sourceLocation: sourceLocation)
        #expect(response.headers["content-type"] == "application/problem+json", sourceLocation: sourceLocation)
        let body = response.json
        #expect(
            body?["reason"]?.stringValue == "auth_node_unavailable", "\(response.text)", sourceLocation: sourceLocation)
        #expect(body?["status"]?.intValue == 503, sourceLocation: sourceLocation)
        #expect(body?["detail"]?.stringValue?.contains("auth node") == true, sourceLocation: sourceLocation)
    }
}
