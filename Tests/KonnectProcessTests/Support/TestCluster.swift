import Foundation
import KonnectCluster
import KonnectCore
import KonnectHTTP
import KonnectNodes
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Why a step of a process test could not go on; carries the node logs that explain it.
struct ProcessTestFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// A real cluster (separate processes) in a per-test temporary directory. Every process it starts is
/// stopped when the value goes away, also when the test fails, and with `topology: .netns` every network
/// namespace it made is removed; the directory is removed unless `KONNECT_SIM_KEEP_TEST_DIRS` is set.
/// Ports come from the kernel; nothing is fixed.
final class TestCluster {
    static let password = "Correct-Horse-42!"

    let cluster: Cluster
    let directory: String
    /// Every response a test receives through this cluster is checked against the node's served document.
    let conformance = ResponseConformance()

    /// Starts auth + the given geos, on one machine or (`.netns`) each on a host of its own.
    init(
        geos: [String] = ["us", "eu"], start: SimTime = .defaultStart, seed: UInt64? = 7, rateCard: JSON? = nil,
        topology: Topology = .unix
    ) throws {
        TestCluster.locateExecutable()
        var template = Array("/tmp/ks-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw ProcessTestFailure(message: "mkdtemp failed") }
        directory = String(cString: made)
        cluster = Cluster(directory: directory)
        var rateCardPath: String? = nil
        if let rateCard {
            rateCardPath = directory + "/rate-card.json"
            try rateCard.prettyText.write(toFile: rateCardPath!, atomically: true, encoding: .utf8)
        }
        do {
            _ = try ClusterBoot.up(
                cluster,
                ClusterConfiguration(
                    geos: geos, start: start, seed: seed, rateCardPath: rateCardPath, topology: topology))
        } catch {
            let logs = allLogs()
            _ = cluster.down(graceMilliseconds: 1000)
            throw ProcessTestFailure(message: "cluster did not start: \(error)\n\(logs)")
        }
    }

    deinit {
        conformance.reportPending()
        _ = cluster.down(graceMilliseconds: 3000)
        // A node whose files went missing (the directory removed under a running test) is found by its
        // command line.
        NodeProcess.killAll(under: directory)
        if getenv("KONNECT_SIM_KEEP_TEST_DIRS") == nil {
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    /// Tests run inside the test bundle; nodes are the `konnect-sim` executable built next to it.
    static func locateExecutable() {
        if getenv("KONNECT_SIM_EXECUTABLE") != nil { return }
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        var directory =
            count > 0 ? String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
        // .../.build/debug/konnect-simPackageTests.xctest (or a nested path on other layouts)
        while !directory.isEmpty,
            !FileManager.default.isExecutableFile(atPath: directory + "/konnect-sim") || directory.hasSuffix(".xctest")
        {
            guard let slash = directory.lastIndex(of: "/") else { break }
            directory = String(directory[..<slash])
        }
        setenv("KONNECT_SIM_EXECUTABLE", directory + "/konnect-sim", 1)
    }

    // MARK: - Nodes

    func record(_ name: String) throws -> NodeRecord { try cluster.requireRecord(name) }

    /// The node's public API over TCP, as the operator reaches it (loopback, or the node's address from the
    /// operator's host in a `netns` cluster); responses are checked against the document it serves there.
    func tcp(_ name: String, timeoutMilliseconds: Int = 10_000) throws -> CheckedClient {
        checked(HTTPClient(endpoint: try publicEndpoint(name), timeoutMilliseconds: timeoutMilliseconds))
    }

    /// Where the operator reaches a node's public listener (a data plane's proxy).
    func publicEndpoint(_ name: String) throws -> Endpoint {
        guard let descriptor = cluster.descriptor(try record(name)) else {
            throw ProcessTestFailure(message: "\(name) has no node.json")
        }
        return cluster.publicEndpoint(descriptor)
    }

    /// The node's Unix socket; responses are checked against the document it serves there.
    func unix(_ name: String, timeoutMilliseconds: Int = 10_000) throws -> CheckedClient {
        checked(try cluster.client(named: name, timeoutMilliseconds: timeoutMilliseconds))
    }

    /// A client whose responses are checked against the document served at its endpoint.
    func checked(_ client: HTTPClient) -> CheckedClient { CheckedClient(client: client, conformance: conformance) }

    func port(_ name: String) throws -> Int {
        guard let descriptor = cluster.descriptor(try record(name)) else {
            throw ProcessTestFailure(message: "\(name) has no node.json")
        }
        return descriptor.port
    }

    /// Every node's log, for failure messages.
    func allLogs(lines: Int = 40) -> String {
        cluster.records.map {
            "--- \($0.name) (\(NodeFiles.log($0.directory))):\n\(cluster.logTail($0, lines: lines))"
        }.joined(separator: "\n")
    }

    // MARK: - Calls

    /// Calls a node's public API; `token` goes in the Authorization header.
    @discardableResult
    func call(
        _ node: String, _ method: String, _ path: String, _ body: JSON? = nil, token: String? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> ClientResponse {
        var headers: HTTPHeaders = [:]
        if let token { headers.set("Authorization", "Bearer \(token)") }
        return try tcp(node).json(method, path, body, headers: headers, sourceLocation: sourceLocation)
    }

    /// Like `call`, but fails with the node logs unless the status is the expected one; returns the JSON body.
    @discardableResult
    func expect(
        _ status: Int, _ node: String, _ method: String, _ path: String, _ body: JSON? = nil, token: String? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> JSON {
        let response = try call(node, method, path, body, token: token, sourceLocation: sourceLocation)
        guard response.status == status else {
            throw ProcessTestFailure(
                message:
                    "\(method) \(path) on \(node): expected \(status), got \(response.status): \(response.text)\n\(allLogs())"
            )
        }
        return response.json ?? .null
    }

    /// Signs up a user and their organization; returns (user id, organization id).
    @discardableResult
    func signup(_ email: String, organization: String = "Acme", plan: String = "plus", geo: String = "eu") throws -> (
        user: String, organization: String
    ) {
        let body = try expect(
            201, "auth", "POST", "/v3/signup",
            [
                "email": .string(email), "password": .string(TestCluster.password), "full_name": "Test User",
                "organization_name": .string(organization), "plan": .string(plan), "geo": .string(geo),
            ])
        return (body["user"]?["id"]?.stringValue ?? "", body["organization"]?["id"]?.stringValue ?? "")
    }

    /// Logs in; returns the session token.
    func login(_ email: String, organization: String? = nil) throws -> String {
        let body = try expect(
            200, "auth", "POST", "/v3/authenticate",
            [
                "email": .string(email), "password": .string(TestCluster.password),
                "organization_id": .optional(organization),
            ])
        guard let token = body["access_token"]?.stringValue else {
            throw ProcessTestFailure(message: "no access_token in \(body.text)")
        }
        return token
    }

    /// Signs up and logs in; returns (token, organization id).
    func newOrganization(_ email: String, organization: String = "Acme", plan: String = "plus", geo: String = "eu")
        throws -> (token: String, organization: String)
    {
        let ids = try signup(email, organization: organization, plan: plan, geo: geo)
        return (try login(email), ids.organization)
    }

    /// Calls the auth node with the support credential (over its Unix socket, as the CLI does).
    @discardableResult
    func support(_ method: String, _ path: String, _ body: JSON? = nil) throws -> ClientResponse {
        guard let token = cluster.supportToken else {
            throw ProcessTestFailure(message: "no support credential in \(directory)")
        }
        return try unix("auth", timeoutMilliseconds: 60_000).json(
            method, path, body, headers: ["Authorization": "Bearer \(token)"])
    }

    /// Moves the calendar forward.
    @discardableResult
    func advance(_ duration: String) throws -> JSON {
        let response = try support("POST", "/v3/simulator/clock/advance", ["by": .string(duration)])
        guard response.status == 200, let body = response.json else {
            throw ProcessTestFailure(
                message: "advance \(duration) answered \(response.status): \(response.text)\n\(allLogs())")
        }
        return body
    }

    /// Creates a control plane; returns its id.
    @discardableResult
    func createControlPlane(_ name: String, geo: String = "eu", token: String) throws -> String {
        let body = try expect(201, geo, "POST", "/v2/control-planes", ["name": .string(name)], token: token)
        return body["id"]?.stringValue ?? ""
    }

    // MARK: - Waiting

    /// Waits until `condition` holds, checking every 20 ms: the way tests synchronise with other
    /// processes (never a bare sleep). Fails with the node logs after `timeout` seconds.
    func waitUntil(_ what: String, timeout: Double = 10, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        var lastError: Error? = nil
        while Date() < deadline {
            do {
                if try condition() { return }
            } catch {
                lastError = error
            }
            usleep(20_000)
        }
        throw ProcessTestFailure(
            message:
                "timed out after \(timeout) s waiting until \(what)\(lastError.map { " (last error: \($0))" } ?? "")\n\(allLogs())"
        )
    }

    /// A data plane's status document.
    func dataPlaneStatus(_ name: String) throws -> JSON { try cluster.nodeStatus(name) }

    /// Waits until every data plane and geo has delivered its usage (nothing pending).
    func waitForUsageDelivered(geos: [String], dataPlanes: [String] = [], timeout: Double = 15) throws {
        try waitUntil("usage is delivered", timeout: timeout) {
            for name in dataPlanes where (try dataPlaneStatus(name))["unreported_usage"]?.intValue != 0 { return false }
            for geo in geos {
                let status = try unix(geo).send("GET", "/internal/v1/status").json
                if status?["pending_usage_records"]?.intValue != 0 { return false }
            }
            return true
        }
    }
}
