import Testing

@testable import KonnectCore

/// Issue 15: failed logins are throttled per email and per client, with growing lockouts, reset on success.
@Suite struct LoginThrottleTests {
    let policy = LoginThrottle.Policy(failures: 3, window: 100, firstLockout: 10, longest: 40)

    func throttle(capacity: Int = 100) -> LoginThrottle {
        LoginThrottle(
            emailPolicy: policy,
            clientPolicy: LoginThrottle.Policy(failures: 5, window: 100, firstLockout: 20, longest: 80),
            capacity: capacity)
    }

    @Test func anEmailIsRefusedAfterItsFailuresForLongerEachTime() {
        var throttle = throttle()
        for second in Int64(0)..<2 {
            throttle.recordFailure(email: "a", client: "c\(second)", now: second)
            #expect(throttle.check(email: "a", client: "x", now: second) == .allowed)
        }
        throttle.recordFailure(email: "a", client: "c2", now: 2)
        #expect(throttle.check(email: "a", client: "x", now: 2) == .refused(retryAfter: 10))
        #expect(throttle.check(email: "a", client: "x", now: 11) == .refused(retryAfter: 1))
        #expect(throttle.check(email: "b", client: "x", now: 2) == .allowed, "another email is not refused")
        #expect(throttle.check(email: "a", client: "x", now: 12) == .allowed)
        // One more failure after the lockout: twice as long, then capped at `longest`.
        throttle.recordFailure(email: "a", client: "c3", now: 12)
        #expect(throttle.check(email: "a", client: "x", now: 12) == .refused(retryAfter: 20))
        throttle.recordFailure(email: "a", client: "c4", now: 32)
        #expect(throttle.check(email: "a", client: "x", now: 32) == .refused(retryAfter: 40))
        throttle.recordFailure(email: "a", client: "c5", now: 72)
        #expect(throttle.check(email: "a", client: "x", now: 72) == .refused(retryAfter: 40))
    }

    @Test func aSuccessResetsItsEmailAndClient() {
        var throttle = throttle()
        throttle.recordFailure(email: "a", client: "c", now: 0)
        throttle.recordFailure(email: "a", client: "c", now: 1)
        throttle.recordSuccess(email: "a", client: "c")
        throttle.recordFailure(email: "a", client: "c", now: 2)
        throttle.recordFailure(email: "a", client: "c", now: 3)
        #expect(throttle.check(email: "a", client: "c", now: 3) == .allowed)
        throttle.recordFailure(email: "a", client: "c", now: 4)
        #expect(throttle.check(email: "a", client: "c", now: 4) == .refused(retryAfter: 10))
    }

    @Test func failuresOlderThanTheWindowAreForgotten() {
        var throttle = throttle()
        throttle.recordFailure(email: "a", client: "c", now: 0)
        throttle.recordFailure(email: "a", client: "c", now: 50)
        throttle.recordFailure(email: "a", client: "c", now: 100)
        #expect(throttle.check(email: "a", client: "c", now: 100) == .allowed, "the window restarted at 100")
    }

    @Test func aClientIsRefusedAfterItsFailuresWhateverTheEmails() {
        var throttle = throttle()
        for index in 0..<5 { throttle.recordFailure(email: "e\(index)", client: "c", now: 0) }
        #expect(throttle.check(email: "new", client: "c", now: 0) == .refused(retryAfter: 20))
        #expect(throttle.check(email: "new", client: "other", now: 0) == .allowed)
    }

    @Test func theLongerOfTwoRefusalsIsTheAnswer() {
        var throttle = throttle()
        for _ in 0..<5 { throttle.recordFailure(email: "a", client: "c", now: 0) }
        // Email: locked 3 times (10, 20, 40 → 40 s); client: once (20 s).
        #expect(throttle.check(email: "a", client: "c", now: 0) == .refused(retryAfter: 40))
    }

    @Test func theNumberOfTrackedKeysIsBounded() {
        var throttle = throttle(capacity: 10)
        for index in 0..<100 { throttle.recordFailure(email: "e\(index)", client: "c\(index)", now: Int64(index)) }
        #expect(throttle.trackedKeys.emails <= 10)
        #expect(throttle.trackedKeys.clients <= 10)
        // The most recent keys are the ones kept.
        throttle.recordFailure(email: "e99", client: "c", now: 100)
        throttle.recordFailure(email: "e99", client: "c", now: 100)
        #expect(throttle.check(email: "e99", client: "z", now: 100) == .refused(retryAfter: 10))
    }

    @Test func theDefaultsAreTheDocumentedOnes() {
        #expect(LoginThrottle.Policy.perEmail == .init(failures: 5, window: 900, firstLockout: 30, longest: 900))
        #expect(LoginThrottle.Policy.perClient == .init(failures: 50, window: 900, firstLockout: 60, longest: 900))
    }
}
