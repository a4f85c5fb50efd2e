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
    /// Bad input on every socket (issue 2: "Any byte sequence on any socket leaves the node up"; issue 3:
    /// "Invalid JSON, wrong types, unknown fields ... 400 with the field named; nothing partially written").
    /// Every probe runs against the auth node's Unix socket and TCP port and a geo's Unix socket and TCP
    /// port, and each is followed by a /health check on the same socket.
    @Suite struct BadInput {
        @Test("T4, issue 2: seeded random garbage bytes on every socket leave the node up")
        func garbageBytes() throws {
            let setup = try BadInputSetup()
            var random = BadInputRandom(seed: 0x5EED_0002)
            for target in setup.targets {
                let pid = try setup.pid(target)
                for round in 0..<24 {
                    let payload = BadInputGarbage.payload(&random, round: round, target: target, token: setup.token)
                    let bytes = BadInputSocket.exchange(target.endpoint, payload)
                    if let response = BadInputSocket.firstResponse(bytes) {
                        #expect(
                            response.status < 500,
                            "\(target) round \(round): \(response.status) \(response.text)\n\(setup.cluster.allLogs())")
                    }
                    try setup.expectServing(target, after: "garbage round \(round)")
                }
                // Half-sent garbage on many idle connections does not stop others from being served.
                let stalled = (0..<16).compactMap { _ in
                    BadInputSocket.openAndSend(
                        target.endpoint, Array("\u{1}\u{2}GET /v2 HT".utf8) + random.bytes(32).filter { $0 != 0x0A })
                }
                try setup.expectServing(target, after: "16 stalled connections")
                for fd in stalled { close(fd) }
                #expect(try setup.pid(target) == pid, "\(target.node) was replaced")
            }
        }

        @Test("issue 2 limits: oversized request heads get 431 on every socket")
        func oversizedHeads() throws {
            let setup = try BadInputSetup()
            let limit = 16 * 1024
            for target in setup.targets {
                // One byte more than the parser holds while looking for the end of the head (which never comes).
                let header = "GET /health HTTP/1.1\r\nHost: test\r\nX-Big: "
                let longHeader = header + String(repeating: "h", count: limit + 4 - header.utf8.count)
                let target1 = "GET /" + String(repeating: "t", count: limit + 4 - 5)
                var manyHeaders = "GET /health HTTP/1.1\r\nHost: test\r\n"
                for index in 0..<101 { manyHeaders += "X-H\(index): v\r\n" }
                manyHeaders += "\r\n"
                for (label, request) in [
                    ("long header", longHeader), ("long target", target1), ("101 headers", manyHeaders),
                ] {
                    let response = try #require(
                        BadInputSocket.firstResponse(BadInputSocket.exchange(target.endpoint, Array(request.utf8))),
                        "\(target) \(label): no answer")
                    #expect(response.status == 431, "\(target) \(label): \(response.status) \(response.text)")
                    #expect(response.headers["connection"]?.lowercased() == "close")
                    #expect(response.headers["content-type"] == "application/problem+json")
                    #expect(response.json?["status"]?.intValue == 431)
                    try setup.expectServing(target, after: label)
                }
                // Just under the limit is fine.
                let fits =
                    "GET /health HTTP/1.1\r\nHost: test\r\nX-Fill: " + String(repeating: "f", count: limit - 200)
                    + "\r\n\r\n"
                let ok = try #require(
                    BadInputSocket.firstResponse(BadInputSocket.exchange(target.endpoint, Array(fits.utf8))))
                #expect(ok.status == 200, "\(target) a head of \(fits.utf8.count) bytes: \(ok.status)")
            }
        }

        @Test("issue 2 limits: oversized request bodies get 413 on every socket; exactly 1 MiB is accepted")
        func oversizedBodies() throws {
            let setup = try BadInputSetup()
            for target in setup.targets {
                let path = target.node == "auth" ? "/v3/signup" : "/v2/control-planes"
                let heads = [
                    (
                        "Content-Length 1 MiB + 1",
                        "POST \(path) HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 1048577\r\n\r\n"
                    ),
                    (
                        "huge Content-Length",
                        "POST \(path) HTTP/1.1\r\nHost: test\r\nContent-Length: 99999999999999\r\n\r\n"
                    ),
                    (
                        "chunk of 1 MiB + 1",
                        "POST \(path) HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n100001\r\n"
                    ),
                ]
                for (label, head) in heads {
                    let response = try #require(
                        BadInputSocket.firstResponse(BadInputSocket.exchange(target.endpoint, Array(head.utf8))),
                        "\(target) \(label): no answer")
                    #expect(response.status == 413, "\(target) \(label): \(response.status) \(response.text)")
                    #expect(response.headers["connection"]?.lowercased() == "close")
                    #expect(response.json?["status"]?.intValue == 413)
                    try setup.expectServing(target, after: label)
                }
                // A body of exactly 1 MiB passes the transport and is judged by the API (400 naming the field).
                let filler = String(repeating: "n", count: 1024 * 1024 - #"{"name":""}"#.utf8.count)
                let body = Array(#"{"name":"\#(filler)"}"#.utf8)
                #expect(body.count == 1024 * 1024)
                let response = try target.client().send(
                    "POST", target.node == "auth" ? "/v3/teams" : "/v2/control-planes",
                    headers: ["Content-Type": "application/json", "Authorization": "Bearer \(setup.token)"], body: body)
                #expect(response.status == 400, "\(target): \(response.status) \(response.text.prefix(300))")
                #expect(badInputFields(response).contains("name"), "\(response.text.prefix(300))")
                try setup.expectServing(target, after: "1 MiB body")
            }
        }

        @Test("issue 2: malformed request lines and heads get 400 and close the connection, on every socket")
        func malformedRequests() throws {
            let setup = try BadInputSetup()
            let heads = [
                "GARBAGE\r\n\r\n",
                "GET /health\r\nHost: test\r\n\r\n",
                "GET /health HTTP/1.1 extra\r\nHost: test\r\n\r\n",
                "GET  /health HTTP/1.1\r\nHost: test\r\n\r\n",
                "GET /health HTTP/2.0\r\nHost: test\r\n\r\n",
                "GET /health http/1.1\r\nHost: test\r\n\r\n",
                "GET health HTTP/1.1\r\nHost: test\r\n\r\n",
                "G@T /health HTTP/1.1\r\nHost: test\r\n\r\n",
                "GET /he\u{7F}alth HTTP/1.1\r\nHost: test\r\n\r\n",
                "GET /health HTTP/1.1\r\n\r\n",
                "GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
                "GET /health HTTP/1.1\nHost: test\n\n",
                "GET /health HTTP/1.1\r\nHost test\r\n\r\n",
                "GET /health HTTP/1.1\r\nHost: test\r\n folded: value\r\n\r\n",
                "GET /health HTTP/1.1\r\nHost: test\r\nX-Bad\u{1}: v\r\n\r\n",
                "GET /health HTTP/1.1\r\nHost: test\r\nX-Ctl: a\u{1}b\r\n\r\n",
                "POST /health HTTP/1.1\r\nHost: test\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
                "POST /health HTTP/1.1\r\nHost: test\r\nContent-Length: -1\r\n\r\n",
                "POST /health HTTP/1.1\r\nHost: test\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                "POST /health HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: gzip\r\n\r\n",
                "POST /health HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                "POST /health HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\n",
            ]
            for target in setup.targets {
                for head in heads {
                    let label = head.prefix(40).debugDescription
                    let response = try #require(
                        BadInputSocket.firstResponse(BadInputSocket.exchange(target.endpoint, Array(head.utf8))),
                        "\(target) \(label): no answer")
                    #expect(response.status == 400, "\(target) \(label): \(response.status) \(response.text)")
                    #expect(response.headers["connection"]?.lowercased() == "close", "\(target) \(label)")
                    #expect(response.headers["content-type"] == "application/problem+json")
                    #expect(
                        response.json?["detail"]?.stringValue?.hasPrefix("Malformed HTTP request") == true,
                        "\(response.text)")
                    try setup.expectServing(target, after: label)
                }
            }
        }

        @Test(
            "issue 2, issue 3: invalid JSON, wrong types, unknown fields and bad enums get 400 naming the field; nothing is written"
        )
        func invalidBodiesNameTheField() throws {
            let setup = try BadInputSetup()
            let plane = try setup.cluster.createControlPlane("the-only-one", token: setup.token)
            for target in setup.targets {
                let cases: [(String, String, String, String)]  // method, path, body, field
                if target.node == "auth" {
                    let valid =
                        #""email":"new@example.com","password":"Correct-Horse-42!","full_name":"N","organization_name":"O","geo":"eu""#
                    cases = [
                        ("POST", "/v3/signup", #"{"email": "x@example.com","#, "body"),
                        ("POST", "/v3/signup", "[1, 2, 3]", "body"),
                        ("POST", "/v3/signup", "\"just a string\"", "body"),
                        ("POST", "/v3/signup", #"{"email":"a@example.com","email":"b@example.com"}"#, "body"),
                        ("POST", "/v3/signup", #"{"email":"\u{0}@example.com""#, "body"),
                        (
                            "POST", "/v3/signup",
                            "{\(valid.replacingOccurrences(of: #""email":"new@example.com""#, with: #""email":42"#))}",
                            "email"
                        ),
                        (
                            "POST", "/v3/signup",
                            "{\(valid.replacingOccurrences(of: #""full_name":"N""#, with: #""full_name":["N"]"#))}",
                            "full_name"
                        ),
                        ("POST", "/v3/signup", "{\(valid),\"shoe_size\":44}", "shoe_size"),
                        ("POST", "/v3/signup", "{\(valid),\"plan\":\"gold\"}", "plan"),
                        (
                            "POST", "/v3/signup",
                            "{\(valid.replacingOccurrences(of: #""geo":"eu""#, with: #""geo":"mars""#))}", "geo"
                        ),
                        (
                            "POST", "/v3/signup",
                            "{\(valid.replacingOccurrences(of: #""organization_name":"O""#, with: "\"organization_name\":\"\(String(repeating: "o", count: 251))\""))}",
                            "organization_name"
                        ),
                        ("POST", "/v3/authenticate", #"{"email":"ana@example.com","password":true}"#, "password"),
                        ("POST", "/v3/teams", #"{"name":5}"#, "name"),
                        ("POST", "/v3/teams", #"{"name":"t","members":[]}"#, "members"),
                        ("POST", "/v3/teams", #"{"name":"t","labels":{"kong-owned":"x"}}"#, "labels"),
                    ]
                } else {
                    let base = "/v2/control-planes/\(plane)/core-entities"
                    cases = [
                        ("POST", "/v2/control-planes", "{", "body"),
                        ("POST", "/v2/control-planes", "[]", "body"),
                        ("POST", "/v2/control-planes", #"{"name":7}"#, "name"),
                        ("POST", "/v2/control-planes", #"{"name":"cp","colour":"red"}"#, "colour"),
                        (
                            "POST", "/v2/control-planes", #"{"name":"cp","cluster_type":"CLUSTER_TYPE_NOPE"}"#,
                            "cluster_type"
                        ),
                        ("POST", "/v2/control-planes", #"{"name":"cp","auth_type":"password"}"#, "auth_type"),
                        // The spec's maxLength is 256.
                        ("POST", "/v2/control-planes", "{\"name\":\"\(String(repeating: "c", count: 257))\"}", "name"),
                        ("POST", "/v2/control-planes", #"{"name":"c"}"#, "name"),  // the spec's minLength 2
                        ("POST", "/v2/control-planes", #"{"name":"cp","labels":{"kong-x":"a"}}"#, "labels"),
                        ("POST", "/v2/control-planes", #"{"name":"cp","cloud_gateway":"yes"}"#, "cloud_gateway"),
                        ("PATCH", "/v2/control-planes/\(plane)", #"{"description":false}"#, "description"),
                        (
                            "PATCH", "/v2/control-planes/\(plane)",
                            #"{"name":"renamed","cluster_type":"CLUSTER_TYPE_CONTROL_PLANE"}"#, "cluster_type"
                        ),
                        ("POST", "/v2/portals", #"{"name":"p","published":"yes"}"#, "published"),
                        ("POST", "\(base)/services", "{not json}", "body"),
                        ("POST", "\(base)/services", #"{"host":5}"#, "host"),
                        ("POST", "\(base)/services", #"{"url":"not a url"}"#, "url"),
                        ("POST", "\(base)/services", #"{"host":"h.internal","retries":"five"}"#, "retries"),
                        ("POST", "\(base)/services", #"{"host":"h.internal","protocol":"gopher"}"#, "protocol"),
                        ("POST", "\(base)/services", #"{"host":"h.internal","colour":"red"}"#, "colour"),
                        ("POST", "\(base)/routes", #"{"paths":"/not-a-list"}"#, "paths"),
                        ("POST", "\(base)/consumers", #"{"username":["u"]}"#, "username"),
                    ]
                }
                for (method, path, body, field) in cases {
                    let response = try target.client().send(
                        method, path,
                        headers: ["Content-Type": "application/json", "Authorization": "Bearer \(setup.token)"],
                        body: Array(body.utf8))
                    #expect(
                        response.status == 400,
                        "\(target) \(method) \(path) \(body.prefix(80)): \(response.status) \(response.text)")
                    #expect(
                        badInputFields(response).contains(field),
                        "\(target) \(method) \(path) \(body.prefix(80)): expected \(field) named in \(response.text)")
                    try setup.expectServing(target, after: "\(method) \(path)")
                }
                // A body sent as another media type is refused with 415 (issue 15), as a problem document.
                for type in ["text/plain", "application/xml", "multipart/form-data; boundary=x", "text/json"] {
                    let typed = try target.client().send(
                        "POST", target.node == "auth" ? "/v3/teams" : "/v2/control-planes",
                        headers: ["Content-Type": type, "Authorization": "Bearer \(setup.token)"],
                        body: Array(#"{"name":"typed"}"#.utf8))
                    #expect(typed.status == 415, "\(target) \(type): \(typed.status) \(typed.text)")
                    #expect(typed.headers["content-type"] == "application/problem+json")
                    #expect(typed.json?["status"]?.intValue == 415)
                }
            }
            // Nothing was partially written.
            let planes = try setup.cluster.expect(200, "eu", "GET", "/v2/control-planes", token: setup.token)
            #expect(planes["data"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["the-only-one"])
            let detail = try setup.cluster.expect(200, "eu", "GET", "/v2/control-planes/\(plane)", token: setup.token)
            #expect(detail["name"]?.stringValue == "the-only-one")
            #expect(detail["description"]?.stringValue == "")
            let services = try setup.cluster.expect(
                200, "eu", "GET", "/v2/control-planes/\(plane)/core-entities/services", token: setup.token)
            #expect(services["data"]?.arrayValue?.isEmpty == true)
            #expect(
                try setup.cluster.expect(200, "eu", "GET", "/v2/portals", token: setup.token)["data"]?.arrayValue?
                    .isEmpty == true)
            #expect(
                try setup.cluster.expect(200, "auth", "GET", "/v3/teams", token: setup.token)["data"]?.arrayValue?
                    .isEmpty == true)
            try setup.cluster.expect(
                401, "auth", "POST", "/v3/authenticate",
                ["email": "new@example.com", "password": .string(TestCluster.password)])
        }

        @Test("issue 3: bad UUIDs and bad percent-encoding in paths get 400 naming the parameter, on every socket")
        func badUUIDsInPaths() throws {
            let setup = try BadInputSetup()
            let plane = try setup.cluster.createControlPlane("cp", token: setup.token)
            for target in setup.targets {
                let cases: [(String, String, String?)]  // method, path, field (nil: only 400)
                if target.node == "auth" {
                    cases = [
                        ("GET", "/v3/users/not-a-uuid", "userId"),
                        ("DELETE", "/v3/users/1234", "userId"),
                        ("GET", "/v3/users/zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz/assigned-roles", "userId"),
                        ("GET", "/v3/teams/not-a-uuid", "teamId"),
                        ("DELETE", "/v3/teams/42", "teamId"),
                        ("GET", "/v3/teams/'%20OR%201=1/users", "teamId"),
                        ("GET", "/v3/users/%zz", nil),
                        ("GET", "/v3/users/%C3%28", nil),
                    ]
                } else {
                    cases = [
                        ("GET", "/v2/control-planes/not-a-uuid", "controlPlaneId"),
                        ("PATCH", "/v2/control-planes/1234", "controlPlaneId"),
                        ("DELETE", "/v2/control-planes/\(plane)x", "controlPlaneId"),
                        (
                            "GET", "/v2/control-planes/zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz/expected-config-hash",
                            "controlPlaneId"
                        ),
                        ("GET", "/v2/control-planes/not-a-uuid/core-entities/services", "controlPlaneId"),
                        ("POST", "/v2/control-planes/not-a-uuid/core-entities/routes", "controlPlaneId"),
                        ("GET", "/v2/portals/123", "portalId"),
                        ("DELETE", "/v2/portals/not-a-uuid", "portalId"),
                        ("GET", "/v2/control-planes/%zz", nil),
                        ("GET", "/v2/control-planes/%FF%FE", nil),
                    ]
                }
                for (method, path, field) in cases {
                    let body: [UInt8] = ["POST", "PATCH", "PUT"].contains(method) ? Array(#"{"name":"x"}"#.utf8) : []
                    let response = try target.client().send(
                        method, path,
                        headers: ["Content-Type": "application/json", "Authorization": "Bearer \(setup.token)"],
                        body: body)
                    #expect(response.status == 400, "\(target) \(method) \(path): \(response.status) \(response.text)")
                    if let field {
                        #expect(
                            badInputFields(response).contains(field), "\(target) \(method) \(path): \(response.text)")
                    }
                    try setup.expectServing(target, after: "\(method) \(path)")
                }
            }
            // The control plane is untouched by the PATCH and DELETE attempts.
            try setup.cluster.expect(200, "eu", "GET", "/v2/control-planes/\(plane)", token: setup.token)
        }

        @Test("issue 2: unknown routes get 404 and wrong methods 405 with Allow, on every socket")
        func unknownRoutesAndWrongMethods() throws {
            let setup = try BadInputSetup()
            let id = "00000000-0000-4000-8000-000000000000"
            for target in setup.targets {
                let missing: [String]
                let wrong: [(String, String, Set<String>)]
                if target.node == "auth" {
                    missing = [
                        "/", "/v3", "/v3/nope", "/v3/users/me/nope", "/v2/control-planes", "/healthz",
                        "/v3/users/\(id)/access-tokens/\(id)/x",
                    ]
                    wrong = [
                        ("DELETE", "/v3/signup", ["POST"]), ("GET", "/v3/authenticate", ["POST"]),
                        ("PUT", "/v3/users/me", ["GET", "DELETE"]),
                        ("PATCH", "/v3/organizations/me/licenses", ["GET"]), ("POST", "/health", ["GET"]),
                        ("PUT", "/v3/teams", ["GET", "POST"]),
                    ]
                } else {
                    missing = [
                        "/", "/v2", "/v2/nope", "/v3/users/me", "/v2/control-planes/\(id)/nope",
                        "/v2/control-planes/\(id)/core-entities/upstreams",
                    ]
                    wrong = [
                        ("PUT", "/v2/control-planes", ["GET", "POST"]),
                        ("POST", "/v2/control-planes/\(id)", ["GET", "PATCH", "DELETE"]),
                        ("DELETE", "/v2/whoami", ["GET"]),
                        ("POST", "/v2/control-planes/\(id)/core-entities/config", ["GET"]),
                        ("PATCH", "/v2/portals", ["GET", "POST"]), ("DELETE", "/health", ["GET"]),
                    ]
                }
                for path in missing {
                    let response = try target.client().send(
                        "GET", path, headers: ["Authorization": "Bearer \(setup.token)"])
                    #expect(response.status == 404, "\(target) GET \(path): \(response.status)")
                    #expect(response.json?["status"]?.intValue == 404)
                    try setup.expectServing(target, after: "GET \(path)")
                }
                for (method, path, allowed) in wrong {
                    let response = try target.client().send(
                        method, path, headers: ["Authorization": "Bearer \(setup.token)"])
                    #expect(response.status == 405, "\(target) \(method) \(path): \(response.status)")
                    let allow = Set(
                        (response.headers["allow"] ?? "").split(separator: ",").map {
                            $0.trimmingCharacters(in: .whitespaces)
                        })
                    #expect(
                        allow == allowed, "\(target) \(method) \(path): Allow \(response.headers["allow"] ?? "none")")
                    #expect(response.json?["status"]?.intValue == 405)
                    try setup.expectServing(target, after: "\(method) \(path)")
                }
            }
        }

        @Test("T4: internal endpoints are served on the Unix socket only (404 on TCP)")
        func internalEndpointsAreUnixOnly() throws {
            let setup = try BadInputSetup()
            let geoTCP = try setup.cluster.tcp("eu")
            let geoUnix = try setup.cluster.unix("eu")
            #expect(try geoTCP.send("GET", "/internal/v1/status").status == 404)
            #expect(try geoUnix.send("GET", "/internal/v1/status").status == 200)
            #expect(
                try geoTCP.json("POST", "/internal/v1/operator/dp-credentials", ["control_plane": "x"]).status == 404)

            let authTCP = try setup.cluster.tcp("auth")
            let authUnix = try setup.cluster.unix("auth")
            let introspect: JSON = ["tokens": [.string(setup.token)]]
            #expect(try authTCP.json("POST", "/internal/v1/introspect", introspect).status == 404)
            let resolved = try authUnix.json("POST", "/internal/v1/introspect", introspect)
            #expect(resolved.status == 200)
            #expect(
                resolved.json?["answers"]?[0]?["introspection"]?["user"]?["email"]?.stringValue == "ana@example.com")
            #expect(try authTCP.send("GET", "/internal/v1/clock").status == 404)
            #expect(try authUnix.send("GET", "/internal/v1/clock").status == 200)
            #expect(try authTCP.send("GET", "/internal/v1/events?geo=eu").status == 404)
            #expect(try authTCP.json("POST", "/internal/v1/usage", ["geo": "eu", "records": []]).status == 404)
        }

        @Test("T5, A3: missing, malformed and unknown tokens get 401 on every socket")
        func badTokensGet401() throws {
            let setup = try BadInputSetup()
            for target in setup.targets {
                let path = target.node == "auth" ? "/v3/users/me" : "/v2/whoami"
                let headers: [HTTPHeaders] = [
                    [:], ["Authorization": "Bearer"], ["Authorization": "Basic YW5hOnNlY3JldA=="],
                    ["Authorization": "Bearer kses_unknown"],
                    ["Authorization": "Bearer kpat_unknown"],
                    ["Authorization": "Bearer " + String(repeating: "x", count: 4000)],
                    ["Authorization": "bearer \(setup.token)x"],
                ]
                for header in headers {
                    let response = try target.client().send("GET", path, headers: header)
                    #expect(
                        response.status == 401,
                        "\(target) \(header.fields.first.map { String($0.value.prefix(30)) } ?? "no header"): \(response.status) \(response.text)"
                    )
                    #expect(response.headers["content-type"] == "application/problem+json")
                    try setup.expectServing(target, after: "bad token")
                }
                // The scheme is case-insensitive; the right token works on this socket.
                #expect(
                    try target.client().send("GET", path, headers: ["Authorization": "bearer \(setup.token)"]).status
                        == 200)
            }
        }
    }
}

// MARK: - Helpers for bad-input tests

/// One socket of one node.
struct BadInputTarget: CustomStringConvertible {
    var node: String
    var endpoint: Endpoint
    var conformance: ResponseConformance

    var description: String { "\(node) \(endpoint)" }

    /// A client whose responses are checked against the document the node serves on this socket.
    func client() -> CheckedClient {
        CheckedClient(client: HTTPClient(endpoint: endpoint, timeoutMilliseconds: 10_000), conformance: conformance)
    }
}

/// A cluster with one organization (its owner's token) and the four sockets under test.
struct BadInputSetup {
    let cluster: TestCluster
    let token: String
    let targets: [BadInputTarget]

    init() throws {
        cluster = try TestCluster(geos: ["eu"])
        token = try cluster.newOrganization("ana@example.com").token
        var targets: [BadInputTarget] = []
        for node in ["auth", "eu"] {
            let record = try cluster.record(node)
            targets.append(
                BadInputTarget(
                    node: node, endpoint: .unix(NodeFiles.socket(record.directory)), conformance: cluster.conformance))
            targets.append(
                BadInputTarget(
                    node: node, endpoint: .tcp(host: "127.0.0.1", port: try cluster.port(node)),
                    conformance: cluster.conformance))
        }
        self.targets = targets
    }

    func pid(_ target: BadInputTarget) throws -> Int32 {
        let record = try cluster.record(target.node)
        let (descriptor, state) = cluster.cluster.processState(record)
        guard let descriptor, state == .running else {
            throw ProcessTestFailure(message: "\(target.node) is \(state)\n\(cluster.allLogs())")
        }
        return descriptor.pid
    }

    /// The node still answers /health on this very socket, and still serves authenticated requests.
    func expectServing(_ target: BadInputTarget, after what: String, sourceLocation: SourceLocation = #_sourceLocation)
        throws
    {
        let health: ClientResponse
        do {
            health = try target.client().send("GET", "/health")
        } catch {
            throw ProcessTestFailure(
                message: "\(target) stopped answering after \(what): \(error)\n\(cluster.allLogs())")
        }
        #expect(health.status == 200, "\(target) after \(what): \(health.status)", sourceLocation: sourceLocation)
        #expect(health.json?["status"]?.stringValue == "ok", sourceLocation: sourceLocation)
    }
}

/// The fields a 400 names: `invalid_parameters[].field` (problem documents) or the keys of `fields` (Kong's shape).
func badInputFields(_ response: ClientResponse) -> [String] {
    guard let body = response.json else { return [] }
    var fields = body["invalid_parameters"]?.arrayValue?.compactMap { $0["field"]?.stringValue } ?? []
    if let kong = body["fields"]?.objectValue { fields += kong.keys }
    return fields
}

/// A small deterministic generator (SplitMix64) so that garbage is the same on every run.
struct BadInputRandom {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

    mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) } }

    mutating func printable(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8(32 + below(95)) } }
}

/// Garbage payloads of several shapes: raw noise, noisy text with line breaks, a valid request line with
/// noise after it, noise ending in an empty line, and well-framed requests whose JSON body is noise.
enum BadInputGarbage {
    static func payload(_ random: inout BadInputRandom, round: Int, target: BadInputTarget, token: String) -> [UInt8] {
        let length = 1 + random.below(3000)
        switch round % 6 {
        case 0:
            return random.bytes(length)
        case 1:
            var text = random.printable(length)
            for _ in 0..<(length / 40) { text.insert(contentsOf: [0x0D, 0x0A], at: random.below(text.count)) }
            return text
        case 2:
            let line = [
                "GET /v2/whoami HTTP/1.1\r\n", "POST /v3/signup HTTP/1.1\r\nHost: x\r\n", "PUT / HTTP/1.0\r\n",
            ][random.below(3)]
            return Array(line.utf8) + random.bytes(length)
        case 3:
            return random.bytes(length) + [0x0D, 0x0A, 0x0D, 0x0A]
        case 4:
            let body = random.bytes(length)
            let path =
                target.node == "auth"
                ? ["/v3/signup", "/v3/authenticate", "/v3/teams"][random.below(3)]
                : ["/v2/control-planes", "/v2/portals"][random.below(2)]
            let head =
                "POST \(path) HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer \(token)\r\nContent-Length: \(body.count)\r\n\r\n"
            return Array(head.utf8) + body
        default:
            // JSON-looking noise: brackets, quotes, escapes, deep nesting, huge numbers.
            let alphabet = Array("{}[]\":,\\u0123456789eE+-.truefalsenull \t".utf8)
            var body = (0..<length).map { _ in alphabet[random.below(alphabet.count)] }
            if random.below(2) == 0 { body = Array(repeating: UInt8(ascii: "["), count: 5000) + body }
            let path = target.node == "auth" ? "/v3/signup" : "/v2/control-planes"
            let head =
                "POST \(path) HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer \(token)\r\nContent-Length: \(body.count)\r\n\r\n"
            return Array(head.utf8) + body
        }
    }
}

/// Raw sockets (Glibc), for bytes that HTTPClient would never send.
enum BadInputSocket {
    /// Connects; nil when the node refuses.
    static func connect(_ endpoint: Endpoint) -> Int32? {
        switch endpoint {
        case .unix(let path):
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { return nil }
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                for (index, byte) in bytes.enumerated() { raw[index] = byte }
                raw[bytes.count] = 0
            }
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            if result != 0 {
                close(fd)
                return nil
            }
            return fd
        case .tcpInNamespace: return nil
        case .tcp(_, let port):
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { return nil }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = in_addr_t(UInt32(0x7F00_0001).bigEndian)
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            if result != 0 {
                close(fd)
                return nil
            }
            return fd
        }
    }

    /// Writes what it can (the peer may close early: that is allowed).
    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { raw in
                send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
            }
            if sent < 0 && errno == EINTR { continue }
            if sent <= 0 { return }
            offset += sent
        }
    }

    /// Sends `bytes`, closes the sending side, and reads until the node closes (at most `milliseconds`).
    static func exchange(_ endpoint: Endpoint, _ bytes: [UInt8], milliseconds: Int = 5000) -> [UInt8] {
        guard let fd = connect(endpoint) else { return [] }
        defer { close(fd) }
        writeAll(fd, bytes)
        shutdown(fd, Int32(SHUT_WR))
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        let deadline = Monotonic.now + milliseconds
        while Monotonic.now < deadline {
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, Int32(max(1, deadline - Monotonic.now)))
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { break }
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            received += buffer[0..<count]
        }
        return received
    }

    /// Connects and sends without closing: the caller keeps the descriptor open.
    static func openAndSend(_ endpoint: Endpoint, _ bytes: [UInt8]) -> Int32? {
        guard let fd = connect(endpoint) else { return nil }
        writeAll(fd, bytes)
        return fd
    }

    /// The first response in `bytes`, if a whole one is there.
    static func firstResponse(_ bytes: [UInt8]) -> ClientResponse? {
        guard !bytes.isEmpty else { return nil }
        var parser = HTTPResponseParser(method: "GET")
        parser.feed(bytes)
        switch parser.next() {
        case .response(let response): return response
        case .needMoreData:
            if case .response(let response) = parser.finish() { return response }
            return nil
        case .failure: return nil
        }
    }
}
