/// One billing cycle: the `index`-th 30-day increment from the organization's creation (B2).
public struct BillingCycle: Sendable, Hashable {
    public var index: Int64
    public var start: SimTime
    public var end: SimTime

    public static let length = SimDuration.days(RateCard.cycleDays)

    public init(index: Int64, createdAt: SimTime) {
        self.index = index
        start = createdAt + BillingCycle.length * index
        end = start + BillingCycle.length
    }

    /// The cycle containing `moment` (the first cycle for moments before creation).
    public init(containing moment: SimTime, createdAt: SimTime) {
        let elapsed = max(0, moment.seconds - createdAt.seconds)
        self.init(index: elapsed / BillingCycle.length.seconds, createdAt: createdAt)
    }

    public func contains(_ moment: SimTime) -> Bool { start <= moment && moment < end }

    /// The start of day-slot `k` (0..<30), the unit of proration.
    public func dayStart(_ day: Int64) -> SimTime { start + SimDuration.days(day) }
}
