/// Which of a geo's waiting API requests share one introspection ask at the auth node (T5), in the
/// manner of a group commit.
///
/// When no ask is in flight, the first request to arrive sends one at once, for its token alone. Requests
/// arriving while an ask is in flight wait; when it finishes, the first of them sends the next ask for all
/// of them (up to `maximumRequests`), each distinct token once. Every request is answered by an ask sent
/// after it arrived, so every request is still authenticated by the auth node as it stands then: nothing
/// is remembered from one ask to the next.
///
/// Time is passed in (monotonic milliseconds): a batch carries the arrival of its oldest request, from
/// which the shell takes what is left of the requests' time budget.
public struct IntrospectionBatches: Sendable {
    /// One ask: its distinct tokens and the requests it answers.
    public struct Batch: Sendable, Equatable {
        public struct Member: Sendable, Equatable {
            public var ticket: Int
            /// The index of this request's token in `tokens`.
            public var token: Int

            public init(ticket: Int, token: Int) {
                self.ticket = ticket
                self.token = token
            }
        }

        /// Each token once, in the order the requests arrived.
        public var tokens: [String]
        /// The requests answered by this ask, in arrival order; the first sends it.
        public var members: [Member]
        /// When the oldest member arrived.
        public var since: Int

        /// The request that sends this ask.
        public var leader: Int { members[0].ticket }

        public init(tokens: [String], members: [Member], since: Int) {
            self.tokens = tokens
            self.members = members
            self.since = since
        }

        /// Every member's answer: its token's answer when the ask answered every token, the ask's failure
        /// otherwise (a failed round trip fails every request in the batch).
        public func answers<Answer, Failure: Error>(_ outcome: Result<[Answer], Failure>) -> [(
            ticket: Int, answer: Result<Answer, Failure>
        )] {
            switch outcome {
            case .success(let answers):
                precondition(
                    answers.count == tokens.count, "\(answers.count) answers for \(tokens.count) tokens in one batch")
                return members.map { ($0.ticket, .success(answers[$0.token])) }
            case .failure(let failure):
                return members.map { ($0.ticket, .failure(failure)) }
            }
        }
    }

    /// What a request that arrives does.
    public enum Arrival: Sendable, Equatable {
        /// No ask is in flight: send this one (the request is its only member) now.
        case send(Batch)
        /// An ask is in flight: wait to be answered, or to be told to send the next one.
        case wait
    }

    /// The most requests one ask answers (and so the most tokens it carries).
    public let maximumRequests: Int
    /// Whether an ask is in flight (from a `.send` until `onAskFinished` finds nobody waiting).
    public private(set) var isAsking = false
    private var waiting: [(ticket: Int, token: String, since: Int)] = []

    public init(maximumRequests: Int = IntrospectionRequest.maximumTokens) {
        precondition(maximumRequests > 0, "a batch must answer at least one request")
        self.maximumRequests = maximumRequests
    }

    /// Requests waiting for the next ask (not those of the ask in flight).
    public var waitingRequests: Int { waiting.count }

    public mutating func onArrival(ticket: Int, token: String, now: Int) -> Arrival {
        guard !isAsking else {
            waiting.append((ticket, token, now))
            return .wait
        }
        isAsking = true
        return .send(Batch(tokens: [token], members: [.init(ticket: ticket, token: 0)], since: now))
    }

    /// The ask in flight was answered or failed (the shell answers its members with `Batch.answers`).
    /// Returns the next ask, whose leader the shell wakes to send it, or nil when nobody waits.
    public mutating func onAskFinished() -> Batch? {
        precondition(isAsking, "an ask finished while none was in flight")
        guard !waiting.isEmpty else {
            isAsking = false
            return nil
        }
        let taken = waiting.prefix(maximumRequests)
        waiting.removeFirst(taken.count)
        var tokens: [String] = []
        var positions: [String: Int] = [:]
        var members: [Batch.Member] = []
        for request in taken {
            let position: Int
            if let known = positions[request.token] {
                position = known
            } else {
                position = tokens.count
                positions[request.token] = position
                tokens.append(request.token)
            }
            members.append(.init(ticket: request.ticket, token: position))
        }
        return Batch(tokens: tokens, members: members, since: taken[taken.startIndex].since)
    }
}
