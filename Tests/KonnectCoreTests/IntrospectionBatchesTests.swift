import Testing

@testable import KonnectCore

/// T5: which waiting requests share an introspection ask, and what each request gets from it.
@Suite struct IntrospectionBatchesTests {
    typealias Batch = IntrospectionBatches.Batch

    @Test("T5: the first request with no ask in flight sends its own at once; later ones wait")
    func theFirstArrivalSendsAtOnce() {
        var batches = IntrospectionBatches()
        #expect(
            batches.onArrival(ticket: 1, token: "a", now: 10)
                == .send(Batch(tokens: ["a"], members: [.init(ticket: 1, token: 0)], since: 10)))
        #expect(batches.isAsking)
        #expect(batches.onArrival(ticket: 2, token: "b", now: 11) == .wait)
        #expect(batches.onArrival(ticket: 3, token: "a", now: 12) == .wait)
        #expect(batches.waitingRequests == 2)
    }

    @Test("T5: requests that arrived during an ask form the next one, led by the first, each token once")
    func theNextAskCarriesEveryWaitingRequestWithIdenticalTokensOnce() {
        var batches = IntrospectionBatches()
        _ = batches.onArrival(ticket: 1, token: "a", now: 10)
        for (ticket, token) in [(2, "b"), (3, "a"), (4, "b"), (5, "c")] {
            #expect(batches.onArrival(ticket: ticket, token: token, now: 10 + ticket) == .wait)
        }
        let next = batches.onAskFinished()
        #expect(
            next
                == Batch(
                    tokens: ["b", "a", "c"],
                    members: [
                        .init(ticket: 2, token: 0), .init(ticket: 3, token: 1), .init(ticket: 4, token: 0),
                        .init(ticket: 5, token: 2),
                    ], since: 12))
        #expect(next?.leader == 2)
        #expect(batches.isAsking)
        #expect(batches.waitingRequests == 0)
        // Nobody arrived during the second ask: the next request sends at once again.
        #expect(batches.onAskFinished() == nil)
        #expect(!batches.isAsking)
        #expect(batches.onArrival(ticket: 6, token: "a", now: 30) != .wait)
    }

    @Test("T5: an ask answers at most maximumRequests requests; the rest go in the next, in arrival order")
    func asksAreBounded() {
        var batches = IntrospectionBatches(maximumRequests: 3)
        _ = batches.onArrival(ticket: 0, token: "t0", now: 0)
        for ticket in 1...7 { _ = batches.onArrival(ticket: ticket, token: "t\(ticket)", now: ticket) }
        let second = batches.onAskFinished()
        #expect(second?.members.map(\.ticket) == [1, 2, 3])
        #expect(second?.tokens == ["t1", "t2", "t3"])
        #expect(batches.onArrival(ticket: 8, token: "t1", now: 8) == .wait)
        let third = batches.onAskFinished()
        #expect(third?.members.map(\.ticket) == [4, 5, 6])
        #expect(third?.since == 4)
        let fourth = batches.onAskFinished()
        #expect(fourth?.members.map(\.ticket) == [7, 8])
        #expect(fourth?.tokens == ["t7", "t1"])
        #expect(batches.onAskFinished() == nil)
        #expect(IntrospectionBatches().maximumRequests == IntrospectionRequest.maximumTokens)
    }

    struct Unreachable: Error, Equatable {}

    @Test("T5: each request gets its own token's answer; a failed round trip fails every request in the batch")
    func answersFanOut() {
        let batch = Batch(
            tokens: ["a", "b"],
            members: [.init(ticket: 7, token: 0), .init(ticket: 8, token: 1), .init(ticket: 9, token: 0)], since: 0)
        let answered = batch.answers(Result<[String], Unreachable>.success(["who a is", "b refused"]))
        #expect(answered.map(\.ticket) == [7, 8, 9])
        #expect(answered.map { try? $0.answer.get() } == ["who a is", "b refused", "who a is"])
        let failed = batch.answers(Result<[String], Unreachable>.failure(Unreachable()))
        #expect(failed.map(\.ticket) == [7, 8, 9])
        #expect(failed.allSatisfy { $0.answer == .failure(Unreachable()) })
    }
}
