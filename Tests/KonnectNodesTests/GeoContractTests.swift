import Foundation
import KonnectCore
import KonnectHTTP
import KonnectStorage
import Synchronization
import Testing

@testable import KonnectNodes

private let now = SimTime(iso8601: "2026-03-04T05:06:07Z")!

private let introspection = Introspection(
    user: .init(id: "u-1", email: "ana@example.com", fullName: "Ana"),
    organization: .init(id: "o-1", name: "Acme", state: .active, plan: .plus, ownerID: "u-1", homeGeo: "eu"),
    roles: [RoleAssignment(roleName: "Admin", entityTypeName: "Organization")], tokenKind: .session, now: now,
    gatewayLicense: ["id": "gateway-license"], meshLicense: ["id": "mesh-license"])

private func api(_ node: GeoNode, _ method: String, _ path: String, token: String? = "token") -> (Int, JSON) {
    var headers: HTTPHeaders = [:]
    if let token { headers.set("Authorization", "Bearer \(token)") }
    let response = node.router.handle(HTTPRequest(method: method, target: path, headers: headers), listener: .tcp)
    return (response.status, (try? JSONParser.parse(response.bodyBytes)) ?? .null)
}

/// T5, D4: what the geo does with what the auth node sends: typed messages, never defaults.
@Suite(.serialized, .timeLimit(.minutes(1))) struct GeoContractTests {
    @Test("T5: an introspection answer the geo understands authenticates the request")
    func aWellFormedIntrospectionAuthenticates() throws {
        let auth = try FakeAuthNode()
        auth.answer { _ in HTTPResponse.json(IntrospectionAnswers(answers: [.introspection(introspection)]).json) }
        let node = try GeoNode(
            configuration: GeoConfiguration(
                directory: auth.geoDirectory, name: "eu", auth: .unix(path: auth.socket), faultsFile: nil, seed: 1))
        let (status, body) = api(node, "GET", "/v2/whoami")
        #expect(status == 200)
        #expect(body["organization"]?["id"] == "o-1")
        #expect(body["calendar_now"] == .string(now.iso8601))
        #expect(auth.received == ["POST /internal/v1/introspect"])
    }

    @Test(
        "T5: an introspection answer without the organization id, or otherwise malformed, is a 503 saying the auth node sent something unexpected",
        arguments: ["organization.id", "roles", "now", "body"])
    func aMalformedIntrospectionIsA503NeverADefault(missing: String) throws {
        let auth = try FakeAuthNode()
        auth.answer { _ in
            var json = introspection.json
            switch missing {
            case "organization.id": json["organization"]?["id"] = nil
            case "body": return HTTPResponse(status: 200, bytes: Array("not json".utf8))
            default: json[missing] = nil
            }
            return HTTPResponse.json(["answers": [["introspection": json]]])
        }
        let node = try GeoNode(
            configuration: GeoConfiguration(
                directory: auth.geoDirectory, name: "eu", auth: .unix(path: auth.socket), faultsFile: nil, seed: 1))
        for path in ["/v2/whoami", "/v2/control-planes", "/v2/portals"] {
            let (status, body) = api(node, "GET", path)
            #expect(status == 503, "\(path)")
            #expect(body["reason"] == "auth_node_unavailable", "\(path)")
            #expect(body["detail"]?.stringValue?.contains("does not understand") == true, "\(path): \(body.text)")
        }
    }

    @Test("T5: the auth node's 401 is passed on with its reason")
    func theAuthNodesRefusalIsPassedOn() throws {
        let auth = try FakeAuthNode()
        auth.answer { _ in
            HTTPResponse.json(
                IntrospectionAnswers(answers: [
                    .refused(
                        APIError(
                            status: 401, title: "Unauthorized", detail: "The organization is deactivated",
                            extra: JSONObject([("reason", "organization_deactivated")])))
                ]).json)
        }
        let node = try GeoNode(
            configuration: GeoConfiguration(
                directory: auth.geoDirectory, name: "eu", auth: .unix(path: auth.socket), faultsFile: nil, seed: 1))
        let (status, body) = api(node, "GET", "/v2/control-planes")
        #expect(status == 401)
        #expect(body["reason"] == "organization_deactivated")
        #expect(api(node, "GET", "/v2/control-planes", token: nil).0 == 401)
    }

    // MARK: - The event follower

    /// A feed of the given events after `after`; with none, waits a little like the auth node's long poll.
    static func feed(_ events: [JSON], after: Int64) -> HTTPResponse {
        let pending = events.filter { ($0["seq"]?.intValue ?? 0) > after }
        if pending.isEmpty { usleep(20_000) }
        return HTTPResponse.json(["events": .array(pending), "now": .string(now.iso8601)])
    }

    static func after(_ request: HTTPRequest) -> Int64 {
        request.query.first { $0.name == "after" }.flatMap { Int64($0.value) } ?? -1
    }

    @Test("D4: an event the geo does not understand stops its follower at that event; an upgrade resumes it")
    func anUnknownEventStopsTheFollowerWithoutSkippingIt() throws {
        let auth = try FakeAuthNode()
        let deactivated = OutboxEvent(
            seq: 1, organizationID: "o-1", at: now, kind: .deactivated(reason: "admin_deactivated"))
        let unknown: JSON = [
            "seq": 2, "kind": "organization.merged", "organization_id": "o-1", "payload": [:],
            "at": .string(now.iso8601),
        ]
        auth.answer { request in
            GeoContractTests.feed([deactivated.json, unknown], after: GeoContractTests.after(request))
        }

        let stores = GeoStores(
            database: try GeoDatabase(
                path: auth.geoDirectory + "/geo.sqlite", ids: IdentifierSource(seed: 1, node: "geo-eu"),
                wakeups: GeoWakeups()))
        let licenses = LicenseBook(store: stores.licenses)
        let stop = StopFlag()
        let follower = AuthEventFollower(
            geo: "eu",
            client: HTTPClient(
                endpoint: .unix(auth.socket), connectTimeoutMilliseconds: 500, timeoutMilliseconds: 5000),
            meta: stores.meta, events: OrganizationEvents(geo: "eu", stores: stores, licenses: licenses),
            calendar: try GeoCalendar(meta: stores.meta), stop: stop, seed: 1, stalledRetryMilliseconds: 50)
        spawnThread(name: "follower") { follower.run() }
        defer { stop.stop() }

        // It applied event 1, and asks again from event 1: event 2 is neither applied nor skipped.
        let askedAgain = FakeAuthNode.eventually {
            auth.received.filter { $0.contains("after=1&") }.count >= 3
        }
        #expect(askedAgain, "\(auth.received)")
        #expect(try stores.meta.eventCursor() == 1)
        #expect(try stores.decommissions.reason(organization: "o-1") == "admin_deactivated")
        #expect(!auth.received.contains { $0.contains("after=2&") })

        // The geo is upgraded (here: the auth node sends what it understands): the follower resumes.
        let reactivated = OutboxEvent(
            seq: 2, organizationID: "o-1", at: now, kind: .reactivated(gatewayLicense: ["id": "g"], meshLicense: .null))
        auth.answer { request in
            GeoContractTests.feed([deactivated.json, reactivated.json], after: GeoContractTests.after(request))
        }
        #expect(try FakeAuthNode.eventually { try stores.meta.eventCursor() == 2 })
        #expect(try stores.decommissions.reason(organization: "o-1") == nil)
        #expect(try licenses.licenses(organization: "o-1")?.gateway == ["id": "g"])
    }

    /// A member whose only way to create control planes in eu is `Creator` (A4, issue 14).
    static let creator = Introspection(
        user: .init(id: "u-2", email: "bo@example.com", fullName: "Bo"),
        organization: .init(id: "o-1", name: "Acme", state: .active, plan: .plus, ownerID: "u-1", homeGeo: "eu"),
        roles: [RoleAssignment(roleName: "Creator", entityTypeName: "Control Planes", entityRegion: "eu")],
        tokenKind: .session, now: now, gatewayLicense: .null, meshLicense: .null)

    @Test("A4: a creator's control plane is created only once the auth node recorded the creator as its Admin")
    func aCreatorsControlPlaneWaitsForItsRole() throws {
        let auth = try FakeAuthNode()
        let node = try GeoNode(
            configuration: GeoConfiguration(
                directory: auth.geoDirectory, name: "eu", auth: .unix(path: auth.socket), faultsFile: nil, seed: 1))
        func create(_ name: String) -> (Int, JSON) {
            let response = node.router.handle(
                HTTPRequest(
                    method: "POST", target: "/v2/control-planes",
                    headers: ["Authorization": "Bearer token", "Content-Type": "application/json"],
                    body: JSON.object(JSONObject([("name", .string(name))])).bytes), listener: .tcp)
            return (response.status, (try? JSONParser.parse(response.bodyBytes)) ?? .null)
        }
        func existing() throws -> [String] {
            try GeoStores(
                database: try GeoDatabase(
                    path: auth.geoDirectory + "/geo.sqlite", ids: IdentifierSource(seed: 1, node: "x"),
                    wakeups: GeoWakeups())
            )
            .controlPlanes.list(organization: "o-1").map(\.name)
        }
        let granted = Mutex<[JSON]>([])

        // The auth node cannot record the role: no control plane, a 503 to retry.
        auth.answer { request in
            if request.target == "/internal/v1/introspect" {
                return HTTPResponse.json(IntrospectionAnswers(answers: [.introspection(GeoContractTests.creator)]).json)
            }
            return HTTPResponse(status: 500)
        }
        let (refused, problem) = create("shop")
        #expect(refused == 503)
        #expect(problem["reason"] == "auth_node_unavailable")
        #expect(problem["detail"]?.stringValue?.contains("was not created") == true, "\(problem.text)")
        #expect(try existing().isEmpty)

        // It records it: the control plane exists, with the id the role names, in this geo only.
        auth.answer { request in
            if request.target == "/internal/v1/introspect" {
                return HTTPResponse.json(IntrospectionAnswers(answers: [.introspection(GeoContractTests.creator)]).json)
            }
            let asked = (try? CreatorRoleRequest(json: JSONParser.parse(request.body)))
            granted.withLock { $0.append(asked?.json ?? .null) }
            guard let asked else { return HTTPResponse(status: 400) }
            return HTTPResponse.json(
                CreatorRoleReceipt(assignmentID: "ra-1", role: asked.assignment, created: true).json, status: 201)
        }
        let (status, body) = create("shop")
        #expect(status == 201, "\(body.text)")
        let asked = try #require(granted.withLock { $0 }.first)
        #expect(asked["control_plane_id"] == body["id"])
        #expect(asked["geo"] == "eu")
        #expect(asked["user_id"] == "u-2")
        #expect(asked["organization_id"] == "o-1")
        #expect(try existing() == ["shop"])

        // A name that is taken is refused before any role is recorded.
        let (taken, _) = create("shop")
        #expect(taken == 409)
        #expect(granted.withLock { $0 }.count == 1)
    }
}
