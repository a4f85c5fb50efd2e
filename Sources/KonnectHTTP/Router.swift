import KonnectCore

/// How a route renders its errors: Konnect's problem documents, or Kong's `{message, status}` for
/// the core-entity API.
public enum ErrorStyle: Sendable { case problem, kong }

/// A request as a handler sees it: the HTTP request plus path parameters and where it came from.
public struct APIRequest: Sendable {
    public let http: HTTPRequest
    public let parameters: [String: String]
    public let listener: ListenerKind
    /// The certificate the peer presented on a TLS link (nil on the Unix socket and plain TCP).
    public let peer: PeerCertificate?
    /// Konnect-style correlation id, also the `instance` of error bodies.
    public let traceID: String

    init(
        http: HTTPRequest, parameters: [String: String], listener: ListenerKind, peer: PeerCertificate? = nil,
        traceID: String
    ) {
        self.http = http
        self.parameters = parameters
        self.listener = listener
        self.peer = peer
        self.traceID = traceID
    }

    public var method: String { http.method }
    public var path: String { http.path }

    /// A path parameter (always present for a matched route).
    public func parameter(_ name: String) -> String { parameters[name] ?? "" }

    public func query(_ name: String) -> String? { http.queryValue(name) }

    /// The bearer token of the `Authorization` header, if any.
    public var bearerToken: String? {
        guard let value = http.headers["authorization"] else { return nil }
        let parts = value.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingSpaces
        return token.isEmpty ? nil : token
    }

    /// The body as JSON: 415 when it is sent as another media type, 400 naming the problem when it is
    /// missing or not JSON.
    public func json() throws(APIError) -> JSON {
        guard !http.body.isEmpty else {
            throw APIError.invalid(field: "body", rule: "required", reason: "a JSON body is required")
        }
        if let type = http.headers["content-type"], !APIRequest.acceptsAsJSON(type) {
            throw APIError(
                status: 415,
                detail:
                    "The body must be sent as application/json (Content-Type: application/json), not \(type.prefix(100))"
            )
        }
        do {
            return try JSONParser.parse(http.body)
        } catch {
            throw APIError.invalid(field: "body", rule: "type", reason: "is not valid JSON: \(error.description)")
        }
    }

    /// Whether a body of this `Content-Type` is read as JSON: `application/json` and `application/*+json`
    /// (parameters such as `charset` aside), and `application/x-www-form-urlencoded`, which is what
    /// `curl -d` sends when nobody names a type (the body is still parsed as JSON).
    public static func acceptsAsJSON(_ contentType: String) -> Bool {
        let mediaType = contentType.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)[0]
            .trimmingSpaces.lowercased()
        return mediaType == "application/json" || (mediaType.hasPrefix("application/") && mediaType.hasSuffix("+json"))
            || mediaType == "application/x-www-form-urlencoded"
    }

    /// The body as JSON, or an empty object when there is none.
    public func jsonOrEmpty() throws(APIError) -> JSON {
        http.body.isEmpty ? .object(JSONObject()) : try json()
    }
}

/// Maps method and path to handlers, answering 404 for unknown paths and 405 (with `Allow`) for
/// known paths with another method; HEAD is answered by the path's GET handler (the server sends its
/// status and headers, no body). The route table is also what the OpenAPI document is checked against.
public final class Router: Sendable {
    public typealias Handler = @Sendable (APIRequest) throws -> HTTPResponse

    public struct Route: Sendable {
        public let method: String
        public let pattern: String
        public let segments: [String]
        public let unixOnly: Bool
        public let style: ErrorStyle
        let handler: Handler
    }

    private let table: [Route]
    private let log: @Sendable (String) -> Void

    public init(routes: [Route], log: @escaping @Sendable (String) -> Void = { _ in }) {
        table = routes
        self.log = log
    }

    public var routes: [Route] { table }

    public static func route(
        _ method: String, _ pattern: String, unixOnly: Bool = false, style: ErrorStyle = .problem,
        _ handler: @escaping Handler
    ) -> Route {
        Route(
            method: method, pattern: pattern, segments: Router.split(pattern), unixOnly: unixOnly, style: style,
            handler: handler)
    }

    static func split(_ path: String) -> [String] {
        var parts = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if parts.first == "" { parts.removeFirst() }
        if parts.count > 1, parts.last == "" { parts.removeLast() }
        return parts
    }

    private static var traceCounter: UInt64 { Monotonic.nanoseconds }

    /// Resolves and runs the handler; never throws, every failure becomes a response.
    public func handle(_ request: HTTPRequest, listener: ListenerKind) -> HTTPResponse {
        let traceID = "konnect:trace:\(Router.traceCounter)"
        let rawSegments = Router.split(request.path)
        var segments: [String] = []
        for raw in rawSegments {
            guard let decoded = PercentEncoding.decode(raw) else {
                return render(
                    APIError.badRequest(
                        "The path is not valid percent-encoded UTF-8",
                        [InvalidParameter(field: "path", rule: "invalid", reason: "is not valid percent-encoded UTF-8")]
                    ),
                    style: .problem, traceID: traceID)
            }
            segments.append(decoded)
        }
        var allowed: [String] = []
        var styleForPath: ErrorStyle = .problem
        var chosen: (route: Route, parameters: [String: String])? = nil
        var getRoute: (route: Route, parameters: [String: String])? = nil
        for route in table where route.segments.count == segments.count {
            // Node-to-node routes: on the Unix socket and on TLS links, never on the public TCP port.
            if route.unixOnly && listener == .tcp { continue }
            var parameters: [String: String] = [:]
            var matches = true
            for (pattern, value) in zip(route.segments, segments) {
                if pattern.hasPrefix("{") && pattern.hasSuffix("}") {
                    if value.isEmpty {
                        matches = false
                        break
                    }
                    parameters[String(pattern.dropFirst().dropLast())] = value
                } else if pattern != value {
                    matches = false
                    break
                }
            }
            guard matches else { continue }
            styleForPath = route.style
            if route.method == request.method {
                chosen = (route, parameters)
                break
            }
            if route.method == "GET" && getRoute == nil { getRoute = (route, parameters) }
            if !allowed.contains(route.method) { allowed.append(route.method) }
        }
        // HEAD wherever GET exists (RFC 9110 9.3.2): the GET handler answers; the server sends no body.
        if chosen == nil && request.method == "HEAD" { chosen = getRoute }
        if let (route, parameters) = chosen {
            let apiRequest = APIRequest(
                http: request, parameters: parameters, listener: listener, peer: request.peer, traceID: traceID)
            do {
                return try route.handler(apiRequest)
            } catch let error as APIError {
                return render(error, style: route.style, traceID: traceID)
            } catch {
                log("\(request.method) \(request.path) failed: \(error)")
                return render(
                    APIError(status: 500, detail: "The node could not complete the request: \(error)"),
                    style: route.style,
                    traceID: traceID)
            }
        }
        if !allowed.isEmpty {
            var response = render(
                APIError(
                    status: 405,
                    detail:
                        "\(request.method) is not allowed on \(request.path); use \(allowed.joined(separator: ", "))"),
                style: styleForPath, traceID: traceID)
            response.headers.set("Allow", allowed.joined(separator: ", "))
            return response
        }
        return render(
            APIError.notFound("No route for \(request.method) \(request.path)"), style: .problem, traceID: traceID)
    }

    public func render(_ error: APIError, style: ErrorStyle, traceID: String) -> HTTPResponse {
        switch style {
        case .problem:
            return HTTPResponse.json(
                error.problem(instance: traceID), status: error.status, contentType: "application/problem+json")
        case .kong:
            return HTTPResponse.json(error.kongBody, status: error.status)
        }
    }
}
