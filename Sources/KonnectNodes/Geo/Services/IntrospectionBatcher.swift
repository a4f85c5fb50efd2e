@preconcurrency import Dispatch
import KonnectCore
import KonnectHTTP
import Synchronization

/// Sends the auth node the tokens of the requests waiting to be authenticated, many in one round trip
/// (`IntrospectionBatches` decides which share an ask; this shell sends it and wakes the requests).
///
/// A request that finds no ask in flight sends its own at once; those that arrive meanwhile block until
/// the ask in flight finishes, then the first of them sends theirs. Each ask must answer within what is
/// left of its oldest request's budget, so no request waits longer than the budget in all (T5).
final class IntrospectionBatcher: Sendable {
    private let client: HTTPClient
    private let budgetMilliseconds: Int
    private let state = Mutex(State())

    private struct State {
        var batches = IntrospectionBatches()
        var nextTicket = 0
        /// Requests blocked until they are answered or told to send the next ask.
        var waiting: [Int: Waiter] = [:]
    }

    init(client: HTTPClient, budgetMilliseconds: Int) {
        self.client = client
        self.budgetMilliseconds = budgetMilliseconds
    }

    /// Requests waiting for the next ask (not those of the ask in flight).
    var waitingRequests: Int { state.withLock { $0.batches.waitingRequests } }

    /// The auth node's answer for `token`, asked after this call began: who is calling, or the error the
    /// request gets (401 refused, 503 unreachable or not understood).
    func introspect(_ token: String) -> Result<Introspection, APIError> {
        let waiter = Waiter()
        let (ticket, arrival) = state.withLock { state in
            let ticket = state.nextTicket
            state.nextTicket &+= 1
            let arrival = state.batches.onArrival(ticket: ticket, token: token, now: Monotonic.now)
            if arrival == .wait { state.waiting[ticket] = waiter }
            return (ticket, arrival)
        }
        let batch: IntrospectionBatches.Batch
        switch arrival {
        case .send(let own):
            batch = own
        case .wait:
            switch waiter.wait() {
            case .answered(let answer): return answer
            case .send(let next): batch = next
            }
        }
        let answers = batch.answers(ask(batch.tokens, since: batch.since)).map { member in
            (ticket: member.ticket, answer: member.answer.flatMap { $0 })
        }
        let (next, followers) = state.withLock { state in
            let next = state.batches.onAskFinished().map { next in
                (next, state.waiting.removeValue(forKey: next.leader))
            }
            let followers = answers.compactMap { member in
                state.waiting.removeValue(forKey: member.ticket).map { ($0, member.answer) }
            }
            return (next, followers)
        }
        // The next ask leaves before this one's requests wake up.
        if let (batch, leader) = next { leader?.wake(.send(batch)) }
        for (follower, answer) in followers { follower.wake(.answered(answer)) }
        return answers.first { $0.ticket == ticket }!.answer
    }

    /// One round trip for `tokens`: an answer per token, or why none came (which fails them all).
    private func ask(_ tokens: [String], since: Int) -> Result<[Result<Introspection, APIError>], APIError> {
        let remaining = since + budgetMilliseconds - Monotonic.now
        guard remaining > 0 else {
            return .failure(Authenticator.unavailable("it did not answer within \(budgetMilliseconds) ms"))
        }
        let response: ClientResponse
        do {
            response = try client.json(
                "POST", "/internal/v1/introspect", IntrospectionRequest(tokens: tokens).json,
                timeoutMilliseconds: remaining)
        } catch {
            return .failure(Authenticator.unavailable(error.description))
        }
        guard response.status == 200 else {
            return .failure(Authenticator.unavailable("it answered \(response.status)"))
        }
        let answers: IntrospectionAnswers
        do {
            answers = try IntrospectionAnswers(json: response.json ?? .null)
        } catch {
            Log.error("the auth node sent introspection answers this geo does not understand: \(error)")
            return .failure(Authenticator.unexpectedAnswer(error))
        }
        guard answers.answers.count == tokens.count else {
            let error = ContractError(
                message: "introspection answers",
                problems: [
                    InvalidParameter(
                        field: "answers", rule: "invalid",
                        reason: "has \(answers.answers.count) answers for \(tokens.count) tokens")
                ])
            Log.error("the auth node sent introspection answers this geo does not understand: \(error)")
            return .failure(Authenticator.unexpectedAnswer(error))
        }
        return .success(
            answers.answers.map { answer in
                switch answer {
                case .introspection(let introspection):
                    return .success(introspection)
                case .refused(let problem) where problem.status == 400 || problem.status == 401:
                    return .failure(Authenticator.unauthenticated(problem))
                case .refused(let problem):
                    return .failure(Authenticator.unavailable("it answered \(problem.status)"))
                }
            })
    }
}

/// A request blocked in `IntrospectionBatcher.introspect`. The semaphore orders the hand-over: the
/// waking thread stores the outcome before it signals, the request reads it after it wakes.
private final class Waiter: @unchecked Sendable {
    enum Outcome {
        case answered(Result<Introspection, APIError>)
        case send(IntrospectionBatches.Batch)
    }

    private var outcome: Outcome?
    private let wakeUp = DispatchSemaphore(value: 0)

    func wait() -> Outcome {
        wakeUp.wait()
        return outcome!
    }

    func wake(_ outcome: Outcome) {
        self.outcome = outcome
        wakeUp.signal()
    }
}
