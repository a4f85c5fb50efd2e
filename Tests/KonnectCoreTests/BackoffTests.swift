import Testing

@testable import KonnectCore

/// Retries and reconnects (C2, D4, D6, B3): exponential backoff with seeded full jitter.
@Suite struct BackoffTests {
    static func delays(_ backoff: inout Backoff, _ count: Int) -> [Int] { (0..<count).map { _ in backoff.next() } }

    @Test(arguments: [UInt64(0), 1, 42, 0xDEAD_BEEF])
    func everyDelayIsWithinHalfItsCeilingAndTheCeiling(seed: UInt64) {
        var backoff = Backoff(baseMilliseconds: 100, maximumMilliseconds: 2000, seed: seed)
        for attempt in 0..<30 {
            let ceiling = min(2000, 100 << min(attempt, 20))
            let delay = backoff.next()
            #expect((ceiling / 2)...ceiling ~= delay, "attempt \(attempt): \(delay)")
        }
        #expect(backoff.attempts == 30)
    }

    @Test func delaysGrowUntilTheCapThenStayAtIt() {
        var backoff = Backoff(baseMilliseconds: 200, maximumMilliseconds: 3000, seed: 7)
        let delays = Self.delays(&backoff, 12)
        // Each ceiling doubles (200, 400, 800, 1600) until the cap: from the fifth on, within [1500, 3000].
        #expect(delays[3] >= 800)
        for delay in delays.dropFirst(4) { #expect((1500...3000).contains(delay)) }
        #expect(delays.max()! <= 3000)
    }

    @Test func manyAttemptsNeitherOverflowNorExceedTheCap() {
        var backoff = Backoff(baseMilliseconds: 100, maximumMilliseconds: 2000, seed: 3)
        for _ in 0..<200 { #expect(backoff.next() <= 2000) }
    }

    @Test func theSameSeedRetriesTheSameWay() {
        var first = Backoff(seed: 99)
        var second = Backoff(seed: 99)
        #expect(Self.delays(&first, 20) == Self.delays(&second, 20))
    }

    @Test func differentSeedsJitterDifferently() {
        var first = Backoff(baseMilliseconds: 1000, maximumMilliseconds: 60_000, seed: 1)
        var second = Backoff(baseMilliseconds: 1000, maximumMilliseconds: 60_000, seed: 2)
        #expect(Self.delays(&first, 10) != Self.delays(&second, 10))
    }

    @Test func resetStartsAgainFromTheBaseDelay() {
        var backoff = Backoff(baseMilliseconds: 100, maximumMilliseconds: 2000, seed: 5)
        _ = Self.delays(&backoff, 8)
        backoff.reset()
        #expect(backoff.attempts == 0)
        #expect((50...100).contains(backoff.next()))
        #expect((100...200).contains(backoff.next()))
    }

    @Test func theDefaultsAreAHundredMillisecondsToTwoSeconds() {
        let backoff = Backoff(seed: 0)
        #expect(backoff.baseMilliseconds == 100)
        #expect(backoff.maximumMilliseconds == 2000)
        #expect(backoff.attempts == 0)
    }
}
