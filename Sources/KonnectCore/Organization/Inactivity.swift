/// The inactivity rule (D2, P2): a free organization is deactivated once both hold: nobody logged into
/// it within the last 30 days, and it had no API calls in the current or the previous billing cycle.
public enum InactivityRule {
    public static let window = SimDuration.days(30)

    /// The first moment at which the organization is inactive if nothing else happens, or nil when the
    /// rule does not apply (paid Plus, Enterprise, or not active).
    ///
    /// - Parameters:
    ///   - lastLoginAt: the latest login into the organization; nil counts the creation as the last activity.
    ///   - lastAPICallAt: the latest proxied API call; nil if none ever.
    ///   - freeSince: when the organization last became free (its payment method removed); nil means since
    ///     its creation. Only a free organization is deactivated, so never before this moment.
    public static func dueAt(
        isFree: Bool, state: OrganizationState, createdAt: SimTime, lastLoginAt: SimTime?, lastAPICallAt: SimTime?,
        freeSince: SimTime? = nil
    ) -> SimTime? {
        guard isFree, state == .active else { return nil }
        let loginCondition = max(max(lastLoginAt ?? createdAt, createdAt) + window, freeSince ?? createdAt)
        var callCondition = createdAt
        if let lastAPICallAt {
            // A call in cycle k keeps the organization active through cycle k+1.
            let cycle = BillingCycle(containing: lastAPICallAt, createdAt: createdAt)
            callCondition = BillingCycle(index: cycle.index + 2, createdAt: createdAt).start
        }
        return max(loginCondition, callCondition)
    }

    /// Whether the organization is inactive at `moment` (the rule evaluated directly, for tests and views).
    public static func isInactive(
        at moment: SimTime, createdAt: SimTime, lastLoginAt: SimTime?, apiCallTimes: [SimTime]
    ) -> Bool {
        let lastActivity = max(lastLoginAt ?? createdAt, createdAt)
        guard moment - lastActivity >= window else { return false }
        let current = BillingCycle(containing: moment, createdAt: createdAt).index
        return !apiCallTimes.contains { call in
            call <= moment && BillingCycle(containing: call, createdAt: createdAt).index >= current - 1
        }
    }
}
