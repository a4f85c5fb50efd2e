/// Something that falls due on the calendar (B1). At one moment, kinds run in this order: the cycle
/// closes (and may use credits) before the trial ends, before inactivity is judged, before retention.
public enum DueEventKind: Int, Sendable, Comparable, CaseIterable {
    case cycleEnd = 0
    case trialEnd = 1
    case inactivity = 2
    case retentionEnd = 3

    public static func < (lhs: DueEventKind, rhs: DueEventKind) -> Bool { lhs.rawValue < rhs.rawValue }

    public var name: String {
        switch self {
        case .cycleEnd: "cycle_end"
        case .trialEnd: "trial_end"
        case .inactivity: "inactivity"
        case .retentionEnd: "retention_end"
        }
    }
}

/// One due event of one organization.
public struct DueEvent: Sendable, Hashable, Comparable {
    public var at: SimTime
    public var kind: DueEventKind
    public var organizationID: String

    public init(at: SimTime, kind: DueEventKind, organizationID: String) {
        self.at = at
        self.kind = kind
        self.organizationID = organizationID
    }

    /// Date order, then kind, then organization id: a total order, so runs are repeatable.
    public static func < (lhs: DueEvent, rhs: DueEvent) -> Bool {
        (lhs.at, lhs.kind.rawValue, lhs.organizationID) < (rhs.at, rhs.kind.rawValue, rhs.organizationID)
    }
}

/// What the calendar needs to know about one organization to say what falls due next.
public struct OrganizationSchedule: Sendable, Hashable {
    public var organizationID: String
    public var createdAt: SimTime
    public var state: OrganizationState
    public var plan: PlanKind
    public var hasPaymentMethod: Bool
    /// The next cycle whose end has not been processed.
    public var nextCycleIndex: Int64
    public var trialEndsAt: SimTime?
    public var trialClosed: Bool
    public var lastLoginAt: SimTime?
    public var lastAPICallAt: SimTime?
    public var deletionDueAt: SimTime?
    /// When the organization last became free (payment method removed); nil: since creation.
    public var freeSince: SimTime?
    /// Nothing falls due before this moment (the calendar's current moment): something due "in the past",
    /// for example an organization that is inactive the moment it becomes free, happens now (B1).
    public var notBefore: SimTime?

    public init(
        organizationID: String, createdAt: SimTime, state: OrganizationState, plan: PlanKind, hasPaymentMethod: Bool,
        nextCycleIndex: Int64, trialEndsAt: SimTime?, trialClosed: Bool, lastLoginAt: SimTime?, lastAPICallAt: SimTime?,
        deletionDueAt: SimTime?, freeSince: SimTime? = nil, notBefore: SimTime? = nil
    ) {
        self.freeSince = freeSince
        self.notBefore = notBefore
        self.organizationID = organizationID
        self.createdAt = createdAt
        self.state = state
        self.plan = plan
        self.hasPaymentMethod = hasPaymentMethod
        self.nextCycleIndex = nextCycleIndex
        self.trialEndsAt = trialEndsAt
        self.trialClosed = trialClosed
        self.lastLoginAt = lastLoginAt
        self.lastAPICallAt = lastAPICallAt
        self.deletionDueAt = deletionDueAt
    }

    /// A free organization: Plus without a payment method (P2).
    public var isFree: Bool { plan == .plus && !hasPaymentMethod }

    /// The earliest event that falls due, whatever the moment.
    public var nextEvent: DueEvent? {
        var candidates: [DueEvent] = []
        switch state {
        case .active:
            candidates.append(
                DueEvent(
                    at: BillingCycle(index: nextCycleIndex, createdAt: createdAt).end, kind: .cycleEnd,
                    organizationID: organizationID))
            if let trialEndsAt, !trialClosed {
                candidates.append(DueEvent(at: trialEndsAt, kind: .trialEnd, organizationID: organizationID))
            }
            if let due = InactivityRule.dueAt(
                isFree: isFree, state: state, createdAt: createdAt, lastLoginAt: lastLoginAt,
                lastAPICallAt: lastAPICallAt, freeSince: freeSince)
            {
                candidates.append(DueEvent(at: due, kind: .inactivity, organizationID: organizationID))
            }
        case .inactive:
            if let trialEndsAt, !trialClosed {
                candidates.append(DueEvent(at: trialEndsAt, kind: .trialEnd, organizationID: organizationID))
            }
            if let deletionDueAt {
                candidates.append(DueEvent(at: deletionDueAt, kind: .retentionEnd, organizationID: organizationID))
            }
        case .deleting, .deleted:
            break
        }
        guard let notBefore else { return candidates.min() }
        return candidates.map { event in
            var clamped = event
            clamped.at = max(event.at, notBefore)
            return clamped
        }.min()
    }
}

/// A binary min-heap of due events: advancing the calendar costs the events that fall due, not the days.
public struct DueEventQueue: Sendable {
    private var heap: [DueEvent] = []

    public init() {}
    public var isEmpty: Bool { heap.isEmpty }
    public var count: Int { heap.count }
    public var first: DueEvent? { heap.first }

    public mutating func push(_ event: DueEvent) {
        heap.append(event)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child] < heap[parent] else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    public mutating func pop() -> DueEvent? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let top = heap.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < heap.count, heap[left] < heap[smallest] { smallest = left }
            if right < heap.count, heap[right] < heap[smallest] { smallest = right }
            if smallest == parent { break }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
        return top
    }
}
