import Foundation
import KonnectCore
import KonnectHTTP
import Synchronization
import Testing

@testable import KonnectNodes

private let now = SimTime(iso8601: "2026-03-04T05:06:07Z")!

private func introspection(organization: String) -> Introspection {
    Introspection(
        user: .init(id: "u-\(organization)", email: "\(organization)@example.com", fullName: "Ana"),
        organization: .init(
            id: organization, name: "Acme", state: .active, plan: .plus, ownerID: "u-\(organization)", homeGeo: "eu"),
        roles: [], tokenKind: .session, now: now, gatewayLicense: .null, meshLicense: .null)
}

/// The fake's answer to an ask: `kses_<org>` is a session of organization `<org>`; `kses_gone` is refused.
private func answers(_ request: HTTPRequest) -> HTTPResponse {
    guard let json = try? JSONParser.parse(request.body), let asked = try? IntrospectionRequest(json: json) else {
        return HTTPResponse(status: 400)
    }
    return HTTPResponse.json(
        IntrospectionAnswers(
            answers: asked.tokens.map { token in
                token == "kses_gone"
                    ? .refused(
                        APIError(
                            status: 401, title: "Unauthenticated", detail: "The token is invalid, expired or revoked",
                            extra: JSONObject([("reason", "token_invalid")])))
                    : .introspection(introspection(organization: String(token.dropFirst(5))))
            }
        ).json)
}

/// Tokens of each ask the fake received, in order.
private func askedTokens(_ bodies: [[UInt8]]) -> [[String]] {
    bodies.compactMap { body in
        (try? JSONParser.parse(body)).flatMap { try? IntrospectionRequest(json: $0) }?.tokens
    }
}

/// T5: requests waiting at the same time share one round trip to the auth node, each still answered by
/// an ask sent after it arrived, with its own token's answer.
@Suite(.serialized, .timeLimit(.minutes(1))) struct IntrospectionBatcherTests {
    /// Starts `tokens.count` introspections on their own threads; returns their results when all are back.
    final class Requests: Sendable {
        private let results = Mutex<[Int: Result<Introspection, APIError>]>([:])

        func start(_ batcher: IntrospectionBatcher, _ tokens: [String], from first: Int = 0) {
            for (offset, token) in tokens.enumerated() {
                spawnThread(name: "request") { [self] in
                    let result = batcher.introspect(token)
                    results.withLock { $0[first + offset] = result }
                }
            }
        }

        func all(_ count: Int) -> [Result<Introspection, APIError>]? {
            guard FakeAuthNode.eventually({ results.withLock { $0.count } == count }) else { return nil }
            return results.withLock { results in (0..<count).map { results[$0]! } }
        }
    }

    @Test("T5: requests arriving during an ask form the next one, each token once, each answered with its own")
    func waitingRequestsShareTheNextAsk() throws {
        let auth = try FakeAuthNode()
        let gate = DispatchSemaphore(value: 0)
        let bodies = Mutex<[[UInt8]]>([])
        auth.answer { request in
            let first = bodies.withLock { bodies in
                bodies.append(request.body)
                return bodies.count == 1
            }
            if first { gate.wait() }
            return answers(request)
        }
        let batcher = IntrospectionBatcher(
            client: HTTPClient(endpoint: .unix(auth.socket), timeoutMilliseconds: 10_000), budgetMilliseconds: 10_000)
        let requests = Requests()
        requests.start(batcher, ["kses_o1"])
        #expect(FakeAuthNode.eventually { bodies.withLock { $0.count } == 1 })
        let waiting = ["kses_o2", "kses_o1", "kses_gone", "kses_o2", "kses_o3", "kses_o1"]
        requests.start(batcher, waiting, from: 1)
        #expect(FakeAuthNode.eventually { batcher.waitingRequests == waiting.count })
        gate.signal()

        let results = try #require(requests.all(1 + waiting.count))
        for (token, result) in zip(["kses_o1"] + waiting, results) {
            switch result {
            case .success(let answer): #expect(answer.organization.id == String(token.dropFirst(5)), "\(token)")
            case .failure(let error):
                #expect(token == "kses_gone")
                #expect(error.status == 401)
                #expect(error.extra["reason"] == "token_invalid")
            }
        }
        let asks = askedTokens(bodies.withLock { $0 })
        #expect(asks.count == 2)
        #expect(asks.first == ["kses_o1"])
        #expect(asks.last?.count == 4)
        #expect(Set(asks.last ?? []) == ["kses_o1", "kses_o2", "kses_o3", "kses_gone"])
        // With nobody waiting, the next request sends its own ask again.
        #expect(try batcher.introspect("kses_o4").get().organization.id == "o4")
        #expect(askedTokens(bodies.withLock { $0 }).last == ["kses_o4"])
    }

    @Test(
        "T5: a failed round trip, or answers this geo does not understand, fail every request of the ask with the 503",
        arguments: ["500", "miscounted", "unreachable"])
    func aFailedAskFailsEveryRequestInIt(failure: String) throws {
        let auth = try FakeAuthNode()
        let gate = DispatchSemaphore(value: 0)
        let asks = Mutex(0)
        auth.answer { request in
            let first = asks.withLock { asks in
                asks += 1
                return asks == 1
            }
            if first {
                gate.wait()
                return answers(request)
            }
            switch failure {
            case "500": return HTTPResponse(status: 500)
            case "miscounted":
                return HTTPResponse.json(
                    IntrospectionAnswers(answers: [.introspection(introspection(organization: "o1"))]).json)
            default:
                // The auth node stops answering: the ask runs out of the budget.
                usleep(1_500_000)
                return answers(request)
            }
        }
        let batcher = IntrospectionBatcher(
            client: HTTPClient(endpoint: .unix(auth.socket), timeoutMilliseconds: 10_000),
            budgetMilliseconds: failure == "unreachable" ? 800 : 10_000)
        let requests = Requests()
        requests.start(batcher, ["kses_o1"])
        #expect(FakeAuthNode.eventually { asks.withLock { $0 } == 1 })
        let waiting = ["kses_o1", "kses_o2", "kses_o3"]
        requests.start(batcher, waiting, from: 1)
        #expect(FakeAuthNode.eventually { batcher.waitingRequests == waiting.count })
        gate.signal()

        let results = try #require(requests.all(1 + waiting.count))
        #expect((try? results[0].get())?.organization.id == "o1")
        for result in results.dropFirst() {
            guard case .failure(let error) = result else {
                Issue.record("a request of the failed ask succeeded")
                continue
            }
            #expect(error.status == 503)
            #expect(error.extra["reason"] == "auth_node_unavailable")
            if failure == "miscounted" { #expect(error.detail.contains("does not understand")) }
        }
    }
}
