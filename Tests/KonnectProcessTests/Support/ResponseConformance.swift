import Foundation
import KonnectCore
import KonnectHTTP
import Synchronization
import Testing

/// A node's served OpenAPI document, used to check that a response is one the document promises: the
/// operation's documented status, its media type, and its schema.
struct ServedDocument: Sendable {
    let document: JSON
    /// (method, path segments) of every operation, most literal segments first (so `/v3/users/me` wins
    /// over `/v3/users/{userId}`).
    private let operations: [(method: String, path: String, segments: [String], operation: JSON)]

    /// Statuses the HTTP layer answers before any route runs (slow request, body or head too large);
    /// the document says so in its description instead of on every operation.
    static let transportStatuses: Set<Int> = [408, 413, 431]

    init(_ document: JSON) {
        self.document = document
        var found: [(String, String, [String], JSON)] = []
        for (path, item) in document["paths"]?.objectValue ?? JSONObject() {
            for (method, operation) in item.objectValue ?? JSONObject() where method != "parameters" {
                found.append((method.uppercased(), path, ServedDocument.segments(path), operation))
            }
        }
        operations = found.sorted { lhs, rhs in
            let left = lhs.2.filter { !$0.hasPrefix("{") }.count
            let right = rhs.2.filter { !$0.hasPrefix("{") }.count
            return left != right ? left > right : lhs.1 < rhs.1
        }
    }

    static func segments(_ path: String) -> [String] {
        var parts = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if parts.first == "" { parts.removeFirst() }
        if parts.count > 1, parts.last == "" { parts.removeLast() }
        return parts
    }

    /// The documented operation a request reaches, if any.
    func operation(_ method: String, _ target: String) -> (path: String, operation: JSON)? {
        let path = String(target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0])
        let segments = ServedDocument.segments(path).map { PercentEncoding.decode($0) ?? $0 }
        for candidate in operations where candidate.method == method && candidate.segments.count == segments.count {
            let matches = zip(candidate.segments, segments).allSatisfy { pattern, value in
                pattern.hasPrefix("{") ? !value.isEmpty : pattern == value
            }
            if matches { return (candidate.path, candidate.operation) }
        }
        return nil
    }

    /// What is wrong with `response` as an answer to `method target`; empty when it conforms. Requests no
    /// operation matches (404 for an unknown route, 405) are not the document's business.
    func problems(_ method: String, _ target: String, _ response: ClientResponse) -> [String] {
        guard let (path, operation) = operation(method, target) else { return [] }
        let name = "\(method) \(path) (\(operation["operationId"]?.stringValue ?? "no operationId"))"
        let responses = operation["responses"]?.objectValue ?? JSONObject()
        guard let documented = responses[String(response.status)] ?? responses["default"] else {
            if ServedDocument.transportStatuses.contains(response.status) { return [] }
            return [
                "\(name) answered \(response.status), a status its document does not list (\(responses.keys.joined(separator: ", "))): \(response.text.prefix(300))"
            ]
        }
        let content = documented["content"]?.objectValue ?? JSONObject()
        let mediaType =
            response.headers["content-type"]?.split(separator: ";").first.map {
                $0.trimmingCharacters(in: .whitespaces).lowercased()
            } ?? ""
        if content.isEmpty {
            return response.body.isEmpty
                ? [] : ["\(name) answered \(response.status) with a body the document does not describe"]
        }
        guard let media = content[mediaType] else {
            return [
                "\(name) answered \(response.status) as '\(mediaType)', the document says \(content.keys.joined(separator: " or ")): \(response.text.prefix(200))"
            ]
        }
        guard let schema = media["schema"] else { return [] }
        if mediaType == "application/x-ndjson" { return [] }
        guard let body = try? JSONParser.parse(response.body) else {
            return ["\(name) answered \(response.status) with a body that is not JSON: \(response.text.prefix(200))"]
        }
        let violations = SchemaValidator(document: document).validate(
            body, schema, schemaPath: "#/paths/\(path)/\(method.lowercased())/responses/\(response.status)")
        return violations.map { "\(name) answered \(response.status): \($0)" }
    }
}

/// Checks responses against the document the answering node serves on the same listener, fetching each
/// document once. Problems are recorded as test issues naming the operation, the status and the schema
/// path.
final class ResponseConformance: Sendable {
    private let documents = Mutex<[String: ServedDocument?]>([:])
    /// Problems found on threads that run outside any test (reported by `reportPending`).
    private let pending = Mutex<[(String, SourceLocation)]>([])

    /// The document served at `endpoint`, or nil for nodes that serve none (data planes, zones).
    func document(_ endpoint: Endpoint) -> ServedDocument? {
        if let cached = documents.withLock({ $0[endpoint.description] }) { return cached }
        // A node that does not answer now (killed, paused by the test) is asked again next time.
        guard
            let response = try? HTTPClient(endpoint: endpoint, timeoutMilliseconds: 10_000).send("GET", "/openapi.json")
        else { return nil }
        let document = (response.status == 200 ? response.json : nil).map(ServedDocument.init)
        documents.withLock { $0[endpoint.description] = document }
        return document
    }

    /// Forgets documents (a node restarted on another port may serve another one).
    func forget(_ endpoint: Endpoint) {
        documents.withLock { $0[endpoint.description] = nil }
    }

    func check(
        _ endpoint: Endpoint, _ method: String, _ target: String, _ response: ClientResponse,
        sourceLocation: SourceLocation
    ) {
        guard let document = document(endpoint) else { return }
        for problem in document.problems(method, target, response) {
            let message = "response does not match the served document at \(endpoint): \(problem)"
            if Test.current == nil {
                pending.withLock { $0.append((message, sourceLocation)) }
            } else {
                Issue.record(Comment(rawValue: message), sourceLocation: sourceLocation)
            }
        }
    }

    /// Records, in the current test, the problems found on other threads.
    func reportPending() {
        for (message, location) in pending.withLock({ pending in
            defer { pending = [] }
            return pending
        }) {
            Issue.record(Comment(rawValue: message), sourceLocation: location)
        }
    }
}

/// An `HTTPClient` whose every response is checked against the document its node serves
/// (`ResponseConformance`): what `TestCluster.tcp` and `unix` hand out.
struct CheckedClient: Sendable {
    let client: HTTPClient
    let conformance: ResponseConformance

    var endpoint: Endpoint { client.endpoint }

    @discardableResult
    func send(
        _ method: String, _ target: String, headers: HTTPHeaders = [:], body: [UInt8] = [],
        timeoutMilliseconds: Int? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) throws(HTTPClientError) -> ClientResponse {
        let response = try client.send(
            method, target, headers: headers, body: body, timeoutMilliseconds: timeoutMilliseconds)
        conformance.check(endpoint, method, target, response, sourceLocation: sourceLocation)
        return response
    }

    @discardableResult
    func json(
        _ method: String, _ target: String, _ body: JSON? = nil, headers: HTTPHeaders = [:],
        timeoutMilliseconds: Int? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) throws(HTTPClientError) -> ClientResponse {
        let response = try client.json(method, target, body, headers: headers, timeoutMilliseconds: timeoutMilliseconds)
        conformance.check(endpoint, method, target, response, sourceLocation: sourceLocation)
        return response
    }

    func openStream(_ method: String, _ target: String, headers: HTTPHeaders = [:]) throws(HTTPClientError)
        -> HTTPStream
    {
        try client.openStream(method, target, headers: headers)
    }

    func reset() { client.reset() }
}
