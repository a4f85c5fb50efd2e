/// A span during which something billable existed: a Gateway service, or a published Dev Portal.
/// Geos report when it starts and ends (calendar time); the auth node keeps the spans (B3).
public struct UsageSpan: Sendable, Hashable {
    public var id: String
    public var name: String
    public var geo: String
    public var start: SimTime
    /// nil while it still exists.
    public var end: SimTime?
    /// Where the id is unique: a service's control plane (ids are unique per control plane only).
    public var scope: String

    public init(id: String, name: String, geo: String, start: SimTime, end: SimTime?, scope: String = "") {
        self.id = id
        self.name = name
        self.geo = geo
        self.start = start
        self.end = end
        self.scope = scope
    }
}

/// Proxied API calls recorded at one calendar moment.
public struct APICallRecord: Sendable, Hashable {
    public var at: SimTime
    public var count: Int64

    public init(at: SimTime, count: Int64) {
        self.at = at
        self.count = count
    }
}

/// The window of a cycle that is billed: normally the whole cycle, shorter when the organization was
/// deactivated (billing stops at once, D3) or reactivated during it.
public struct BillingWindow: Sendable, Hashable {
    public var cycle: BillingCycle
    public var from: SimTime
    public var to: SimTime

    public init(cycle: BillingCycle, from: SimTime? = nil, to: SimTime? = nil) {
        self.cycle = cycle
        self.from = max(cycle.start, from ?? cycle.start)
        self.to = min(cycle.end, to ?? cycle.end)
    }

    /// Day-slots of the cycle (0..<30) that overlap `[start, end)` inside the window.
    public func days(overlapping start: SimTime, _ end: SimTime?) -> ClosedRange<Int64>? {
        let lower = max(start, from)
        let upper = min(end ?? to, to)
        guard lower < upper else { return nil }
        let day = SimTime.secondsPerDay
        let first = (lower.seconds - cycle.start.seconds) / day
        let last = (upper.seconds - cycle.start.seconds + day - 1) / day - 1
        return first...max(first, last)
    }
}

/// The calendar moment API calls count at (B3): when they happened, as the geo that received the data
/// plane's report stamped it, so a calendar move never attributes earlier calls to a later cycle. Calls
/// that arrive after the cycle they happened in was invoiced (a geo or data plane that could not be
/// reached while the calendar moved) are late: they count when they arrive, in the cycle open then, so
/// they are billed once and never lost. A moment the auth node has not reached yet is not believed.
public enum UsageMoment {
    /// - Parameters:
    ///   - reported: when the calls happened, as reported (nil: unknown).
    ///   - arrived: the auth node's calendar moment as it records them.
    ///   - openSince: where the billing window open now starts (nil: the organization is not billed).
    public static func attributed(reported: SimTime?, arrived: SimTime, openSince: SimTime?) -> SimTime {
        guard let reported, reported < arrived else { return arrived }
        guard let openSince, reported >= openSince else { return arrived }
        return reported
    }
}
