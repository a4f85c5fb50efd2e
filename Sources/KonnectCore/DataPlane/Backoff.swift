/// Exponential backoff with full jitter for reconnects and retries: the n-th delay is uniform in
/// `[base * 2^n / 2, base * 2^n]`, capped at `maximum`. Seeded, so a seeded run retries the same way.
public struct Backoff: Sendable {
    public let baseMilliseconds: Int
    public let maximumMilliseconds: Int
    public private(set) var attempts = 0
    private var random: SeededRandom

    public init(baseMilliseconds: Int = 100, maximumMilliseconds: Int = 2000, seed: UInt64) {
        self.baseMilliseconds = baseMilliseconds
        self.maximumMilliseconds = maximumMilliseconds
        random = SeededRandom(seed: seed)
    }

    /// The next delay in milliseconds.
    public mutating func next() -> Int {
        let ceiling = min(maximumMilliseconds, baseMilliseconds << min(attempts, 20))
        attempts += 1
        let floor = ceiling / 2
        return floor + Int(random.next() % UInt64(max(1, ceiling - floor + 1)))
    }

    /// After a success: start again from the base delay.
    public mutating func reset() { attempts = 0 }
}
