import KonnectCore
import Synchronization
import Testing

@testable import KonnectHTTP

private struct NotAnAPIError: Error, CustomStringConvertible {
    var description: String { "disk on fire" }
}

/// Collects what the router logs.
private final class LogLines: Sendable {
    let lines = Mutex<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
}

/// A handler answering with the method, the path parameters and the query.
private func echo(_ request: APIRequest) -> HTTPResponse {
    var parameters = JSONObject()
    for key in request.parameters.keys.sorted() { parameters[key] = .string(request.parameters[key]!) }
    return HTTPResponse.json([
        "method": .string(request.method), "path": .string(request.path), "parameters": .object(parameters),
        "query": .optional(request.query("q")),
    ])
}

private func makeRouter(log: LogLines = LogLines()) -> Router {
    Router(
        routes: [
            Router.route("GET", "/v2/control-planes", echo),
            Router.route("POST", "/v2/control-planes", echo),
            Router.route("GET", "/v2/control-planes/{controlPlaneId}", echo),
            Router.route("PATCH", "/v2/control-planes/{controlPlaneId}", echo),
            Router.route("DELETE", "/v2/control-planes/{controlPlaneId}", echo),
            Router.route("GET", "/v2/control-planes/{controlPlaneId}/core-entities/services/{serviceId}", style: .kong)
            { request in
                throw APIError.notFound("Not found: service \(request.parameter("serviceId"))")
            },
            Router.route("POST", "/v2/control-planes/{controlPlaneId}/core-entities/services", style: .kong) { _ in
                throw APIError.badRequest(
                    "schema violation",
                    [InvalidParameter(field: "host", rule: "required", reason: "required field missing")])
            },
            Router.route("PUT", "/v2/control-planes/{controlPlaneId}/core-entities/services", style: .kong) { _ in
                throw NotAnAPIError()
            },
            Router.route("GET", "/internal/state", unixOnly: true, echo),
            Router.route("GET", "/v3/things", echo),
            Router.route("POST", "/v3/things", unixOnly: true, echo),
            Router.route("POST", "/v3/validate") { request in
                let body = try request.json()
                var reader = try ObjectReader(body)
                _ = reader.string("name", required: true)
                try reader.finish()
                return HTTPResponse.json(body, status: 201)
            },
            Router.route("GET", "/v3/broken") { _ in throw NotAnAPIError() },
            Router.route("GET", "/", echo),
        ],
        log: { log.append($0) })
}

private func request(
    _ method: String, _ target: String, headers: HTTPHeaders = ["Host": "localhost"], body: String = ""
) -> HTTPRequest {
    HTTPRequest(method: method, target: target, headers: headers, body: Array(body.utf8))
}

private func send(
    _ method: String, _ target: String, listener: ListenerKind = .tcp, headers: HTTPHeaders = ["Host": "localhost"],
    body: String = "",
    router: Router = makeRouter()
) -> (status: Int, headers: HTTPHeaders, json: JSON?) {
    let response = router.handle(request(method, target, headers: headers, body: body), listener: listener)
    return (response.status, response.headers, try? JSONParser.parse(response.bodyBytes))
}

@Suite struct RouterTests {
    @Test func matchingRouteRunsItsHandler() {
        let response = send("GET", "/v2/control-planes")
        #expect(response.status == 200)
        #expect(response.json?["method"] == "GET")
        #expect(response.json?["parameters"] == .object(JSONObject()))
    }

    @Test func rootPathMatchesTheRootRoute() {
        #expect(send("GET", "/").json?["path"] == "/")
    }

    @Test func unknownPathIs404ProblemDocument() throws {
        let response = send("GET", "/v2/nothing-here")
        #expect(response.status == 404)
        #expect(response.headers["Content-Type"] == "application/problem+json")
        let json = try #require(response.json)
        #expect(json["status"] == 404)
        #expect(json["title"] == "Not Found")
        #expect(json["type"] == "https://httpstatuses.com/404")
        #expect(json["detail"] == "No route for GET /v2/nothing-here")
        #expect(json["instance"]?.stringValue?.hasPrefix("konnect:trace:") == true)
    }

    @Test(arguments: [
        "/v2", "/v2/control-planes/a/b", "/v2/control-planes/a/core-entities/services/b/c", "/v3/things/x",
    ])
    func wrongSegmentCountIs404(path: String) {
        #expect(send("GET", path).status == 404)
    }

    @Test func knownPathWithAnotherMethodIs405WithAllow() throws {
        let response = send("POST", "/v2/control-planes/abc")
        #expect(response.status == 405)
        #expect(response.headers["Allow"] == "GET, PATCH, DELETE")
        #expect(response.headers.values("allow").count == 1)
        #expect(response.headers["Content-Type"] == "application/problem+json")
        let json = try #require(response.json)
        #expect(json["title"] == "Method Not Allowed")
        #expect(json["detail"] == "POST is not allowed on /v2/control-planes/abc; use GET, PATCH, DELETE")
    }

    @Test func methodsAreCaseSensitive() {
        let response = send("get", "/v2/control-planes")
        #expect(response.status == 405)
        #expect(response.headers["Allow"] == "GET, POST")
    }

    @Test func kongStyleRouteAnswers405InKongStyle() throws {
        let response = send("DELETE", "/v2/control-planes/cp/core-entities/services/svc")
        #expect(response.status == 405)
        #expect(response.headers["Allow"] == "GET")
        #expect(response.headers["Content-Type"] == "application/json")
        #expect(response.json?["status"] == 405)
        #expect(response.json?["message"]?.stringValue?.hasPrefix("DELETE is not allowed") == true)
    }

    @Test func pathParametersAreExtracted() {
        let response = send("GET", "/v2/control-planes/0f3c/core-entities/services/svc-1")
        // The kong handler throws 404 naming the decoded parameter.
        #expect(response.json?["message"] == "Not found: service svc-1")
    }

    @Test(arguments: [
        ("/v2/control-planes/a%20b", "a b"),
        ("/v2/control-planes/caf%C3%A9", "café"),
        ("/v2/control-planes/caf%c3%a9", "café"),
        ("/v2/control-planes/a%2Fb", "a/b"),  // an encoded slash stays inside one segment
        ("/v2/control-planes/a+b", "a+b"),  // '+' is only a space in query strings
        ("/v2/control-planes/%7Bid%7D", "{id}"),
    ])
    func pathParametersArePercentDecoded(path: String, value: String) {
        let response = send("GET", path)
        #expect(response.status == 200)
        #expect(response.json?["parameters"] == ["controlPlaneId": .string(value)])
    }

    @Test func literalSegmentsArePercentDecodedToo() {
        #expect(send("GET", "/v2/control%2Dplanes").status == 200)
    }

    @Test(arguments: [
        "/v2/control-planes/%", "/v2/control-planes/%zz", "/v2/control-planes/%C3", "/v2/control-planes/%FF",
    ])
    func invalidPercentEncodingIs400(path: String) {
        let response = send("GET", path)
        #expect(response.status == 400)
        #expect(response.json?["detail"] == "The path is not valid percent-encoded UTF-8")
    }

    @Test func queryStringDoesNotAffectMatching() {
        let response = send("GET", "/v2/control-planes/cp1?q=hello%20world&x=1")
        #expect(response.json?["parameters"] == ["controlPlaneId": "cp1"])
        #expect(response.json?["query"] == "hello world")
        #expect(response.json?["path"] == "/v2/control-planes/cp1")
    }

    @Test func trailingSlashMatchesTheSamePath() {
        #expect(send("GET", "/v2/control-planes/").json?["method"] == "GET")
    }

    @Test func emptySegmentDoesNotFillAParameter() {
        // One trailing empty segment is dropped, leaving an empty {controlPlaneId}: no route.
        #expect(send("GET", "/v2/control-planes//").status == 404)
        #expect(send("GET", "/v2/control-planes//core-entities/services/x").status == 404)
    }

    @Test func unixOnlyRoutesAreInvisibleOnTCP() {
        #expect(send("GET", "/internal/state", listener: .unix).status == 200)
        let overTCP = send("GET", "/internal/state", listener: .tcp)
        #expect(overTCP.status == 404)
        #expect(overTCP.headers["Allow"] == nil)
    }

    @Test func unixOnlyMethodIsNotAdvertisedOnTCP() {
        let overTCP = send("POST", "/v3/things", listener: .tcp)
        #expect(overTCP.status == 405)
        #expect(overTCP.headers["Allow"] == "GET")
        #expect(send("POST", "/v3/things", listener: .unix).status == 200)
    }

    @Test func thrownAPIErrorIsRenderedAsProblemJSON() throws {
        let response = send(
            "POST", "/v3/validate", headers: ["Host": "h", "Content-Type": "application/json"], body: #"{"extra": 1}"#)
        #expect(response.status == 400)
        #expect(response.headers["Content-Type"] == "application/problem+json")
        let json = try #require(response.json)
        #expect(json["title"] == "Bad Request")
        #expect(
            json["invalid_parameters"] == [
                ["field": "name", "rule": "required", "reason": "is required"],
                ["field": "extra", "rule": "unknown_property", "reason": "is not a known property"],
            ])
    }

    @Test func thrownAPIErrorIsRenderedInKongStyleOnKongRoutes() throws {
        let notFound = send("GET", "/v2/control-planes/cp/core-entities/services/abc")
        #expect(notFound.status == 404)
        #expect(notFound.headers["Content-Type"] == "application/json")
        #expect(notFound.json == ["message": "Not found: service abc", "status": 404])

        let invalid = send("POST", "/v2/control-planes/cp/core-entities/services")
        #expect(invalid.status == 400)
        #expect(
            invalid.json == [
                "message": "schema violation", "status": 400, "name": "schema violation",
                "fields": ["host": "required field missing"],
            ])
    }

    @Test func otherErrorsAre500AndLogged() throws {
        let log = LogLines()
        let router = makeRouter(log: log)
        let response = send("GET", "/v3/broken", router: router)
        #expect(response.status == 500)
        #expect(response.headers["Content-Type"] == "application/problem+json")
        #expect(response.json?["title"] == "Internal Server Error")
        #expect(response.json?["detail"] == "The node could not complete the request: disk on fire")
        #expect(log.all == ["GET /v3/broken failed: disk on fire"])

        let kong = send("PUT", "/v2/control-planes/cp/core-entities/services", router: router)
        #expect(kong.status == 500)
        #expect(kong.json == ["message": "The node could not complete the request: disk on fire", "status": 500])
    }

    @Test func successfulRequestsAreNotLogged() {
        let log = LogLines()
        _ = send("GET", "/v2/control-planes", router: makeRouter(log: log))
        #expect(log.all.isEmpty)
    }

    @Test func routeTableIsExposed() {
        let routes = makeRouter().routes
        #expect(routes.count == 14)
        #expect(routes[2].pattern == "/v2/control-planes/{controlPlaneId}")
        #expect(routes[2].segments == ["v2", "control-planes", "{controlPlaneId}"])
        #expect(routes[5].style == .kong)
        #expect(routes[8].unixOnly)
        #expect(routes[10].unixOnly)
        #expect(!routes[9].unixOnly)
    }

    @Test(
        arguments: [
            ("/", [""]), ("/a", ["a"]), ("/a/", ["a"]), ("/a/b", ["a", "b"]), ("/a//b", ["a", "", "b"]), ("", []),
        ] as [(String, [String])])
    func splitting(path: String, segments: [String]) {
        #expect(Router.split(path) == segments)
    }
}

@Suite struct APIRequestTests {
    private func apiRequest(headers: HTTPHeaders = ["Host": "h"], body: String = "") -> APIRequest {
        APIRequest(
            http: request("POST", "/x?q=1", headers: headers, body: body), parameters: ["id": "7"], listener: .tcp,
            traceID: "t")
    }

    @Test func parametersAndQuery() {
        let request = apiRequest()
        #expect(request.parameter("id") == "7")
        #expect(request.parameter("missing") == "")
        #expect(request.query("q") == "1")
        #expect(request.method == "POST")
        #expect(request.path == "/x")
    }

    @Test(
        arguments: [
            ("Bearer kpat_abc", "kpat_abc"), ("bearer  spaced ", "spaced"), ("BEARER t", "t"), ("Basic dXNlcg==", nil),
            ("Bearer", nil),
            ("Bearer   ", nil),
        ] as [(String, String?)])
    func bearerToken(header: String, token: String?) {
        #expect(apiRequest(headers: ["Host": "h", "Authorization": header]).bearerToken == token)
    }

    @Test func noAuthorizationMeansNoToken() {
        #expect(apiRequest().bearerToken == nil)
    }

    @Test func jsonBody() throws {
        #expect(
            try apiRequest(headers: ["Content-Type": "application/json; charset=utf-8"], body: #"{"a":[1]}"#).json()
                == ["a": [1]])
        #expect(try apiRequest(body: "[]").json() == [])  // no content type: still parsed
    }

    @Test func missingBodyIs400() {
        let error = #expect(throws: APIError.self) { try apiRequest().json() }
        #expect(error?.invalidParameters.first?.rule == "required")
    }

    @Test("issue 15: a body sent as another media type is 415, not 400")
    func nonJSONContentTypeIs415() {
        for type in ["text/plain", "application/xml", "text/json", "application/jsonx", "multipart/form-data"] {
            let error = #expect(throws: APIError.self) {
                try apiRequest(headers: ["Content-Type": type], body: "{}").json()
            }
            #expect(error?.status == 415, "\(type)")
            #expect(error?.detail.contains(type) == true)
        }
    }

    @Test("JSON media types, with parameters, and curl -d's form type are read as JSON")
    func jsonMediaTypesAreAccepted() throws {
        for type in [
            "application/json", "Application/JSON; charset=utf-8", "application/problem+json",
            "application/merge-patch+json", "application/x-www-form-urlencoded",
        ] {
            #expect(try apiRequest(headers: ["Content-Type": type], body: "{}").json() == [:], "\(type)")
        }
    }

    @Test func invalidJSONIs400NamingTheProblem() {
        let error = #expect(throws: APIError.self) { try apiRequest(body: #"{"a":1,}"#).json() }
        #expect(error?.status == 400)
        #expect(
            error?.invalidParameters.first?.reason
                == "is not valid JSON: invalid JSON at byte 7: expected a member name")
    }

    @Test func jsonOrEmpty() throws {
        #expect(try apiRequest().jsonOrEmpty() == .object(JSONObject()))
        #expect(try apiRequest(body: "[1]").jsonOrEmpty() == [1])
    }
}
