import KonnectCluster
import KonnectCore

/// Everything the console shows, read at one moment from the run directory and the nodes' sockets.
/// A value: the view is computed from it by pure functions, and two equal states draw the same page.
public struct ConsoleState: Sendable, Equatable {
    /// The run directory.
    public var directory: String
    /// The cluster's geos, from `cluster.json`.
    public var geos: [String]
    public var cluster: ClusterSnapshot
    /// The calendar's moment; nil when the auth node does not answer.
    public var calendar: SimTime?
    /// The organizations as the auth node knows them; nil when it does not answer.
    public var organizations: [OrganizationSummary]?
    /// How many organizations exist (more than `organizations` holds when the list is cut).
    public var organizationCount: Int
    /// `faults.log`, oldest first.
    public var faultLog: [FaultLogEntry]

    public init(
        directory: String, geos: [String], cluster: ClusterSnapshot, calendar: SimTime? = nil,
        organizations: [OrganizationSummary]? = nil, organizationCount: Int? = nil, faultLog: [FaultLogEntry] = []
    ) {
        self.directory = directory
        self.geos = geos
        self.cluster = cluster
        self.calendar = calendar
        self.organizations = organizations
        self.organizationCount = organizationCount ?? organizations?.count ?? 0
        self.faultLog = faultLog
    }
}

/// One organization: what the auth node keeps (home geo, plan, state, trial, credits, history,
/// invoices) and what each geo holds for it.
public struct OrganizationSummary: Sendable, Equatable {
    public var id: String
    public var name: String
    public var homeGeo: String?
    /// plus or enterprise.
    public var plan: String
    /// Whether a payment method is on file (a Plus organization without one is free, P2).
    public var paymentMethod: Bool
    /// active, inactive, deleting, deleted.
    public var state: String
    public var trialEnd: SimTime?
    public var trialActive: Bool
    /// Credits left and granted, as decimal text in `currency` (nil for Enterprise).
    public var creditsLeft: String?
    public var creditsGranted: String?
    public var currency: String
    public var history: [StateChange]
    public var invoices: [InvoiceSummary]
    /// What each geo holds for it (what a token of it gets from that geo), by geo code; a geo that did
    /// not answer is missing.
    public var objects: [String: OrganizationObjects]

    public init(
        id: String, name: String, homeGeo: String?, plan: String, paymentMethod: Bool = false, state: String,
        trialEnd: SimTime? = nil, trialActive: Bool = false, creditsLeft: String? = nil,
        creditsGranted: String? = nil, currency: String = "USD", history: [StateChange] = [],
        invoices: [InvoiceSummary] = [], objects: [String: OrganizationObjects] = [:]
    ) {
        self.id = id
        self.name = name
        self.homeGeo = homeGeo
        self.plan = plan
        self.paymentMethod = paymentMethod
        self.state = state
        self.trialEnd = trialEnd
        self.trialActive = trialActive
        self.creditsLeft = creditsLeft
        self.creditsGranted = creditsGranted
        self.currency = currency
        self.history = history
        self.invoices = invoices
        self.objects = objects
    }
}

/// An invoice as the calendar panel lists it.
public struct InvoiceSummary: Sendable, Equatable {
    public var id: String
    public var issuedAt: SimTime
    public var periodStart: SimTime
    public var periodEnd: SimTime
    public var total: String
    public var currency: String

    public init(
        id: String, issuedAt: SimTime, periodStart: SimTime, periodEnd: SimTime, total: String, currency: String
    ) {
        self.id = id
        self.issuedAt = issuedAt
        self.periodStart = periodStart
        self.periodEnd = periodEnd
        self.total = total
        self.currency = currency
    }
}

/// One line of `faults.log`.
public struct FaultLogEntry: Sendable, Equatable {
    /// Wall-clock time in milliseconds since 1970 (to the second for entries older than `wall_ms`).
    public var wallMilliseconds: Int?
    public var calendarTime: SimTime?
    /// kill, restart, pause, resume, partition, heal, latency, drop.
    public var fault: String
    /// The node or link (`*` for every link).
    public var subject: String
    /// Latency and drop amounts.
    public var detail: String

    public init(wallMilliseconds: Int?, calendarTime: SimTime?, fault: String, subject: String, detail: String = "") {
        self.wallMilliseconds = wallMilliseconds
        self.calendarTime = calendarTime
        self.fault = fault
        self.subject = subject
        self.detail = detail
    }

    /// Reads a line of `faults.log` as `Cluster.recordFault` writes it.
    public init?(json: JSON) {
        guard let fault = json["fault"]?.stringValue else { return nil }
        var detail: [String] = []
        if let latency = json["latency_ms"]?.intValue {
            detail.append("\(latency)ms+\(json["jitter_ms"]?.intValue ?? 0)ms")
        }
        if let drop = json["drop_ppm"]?.intValue { detail.append("\(Double(drop) / 10_000)%") }
        self.init(
            wallMilliseconds: json["wall_ms"]?.intValue.map { Int($0) }
                ?? json["wall_time"]?.stringValue.flatMap(SimTime.init(iso8601:)).map { Int($0.seconds) * 1000 },
            calendarTime: json["calendar_time"]?.stringValue.flatMap(SimTime.init(iso8601:)), fault: fault,
            subject: json["node"]?.stringValue ?? json["link"]?.stringValue ?? "",
            detail: detail.joined(separator: " "))
    }

    /// `kill eu`, `latency eu->auth 300ms+0ms`.
    public var text: String { [fault, subject, detail].filter { !$0.isEmpty }.joined(separator: " ") }
}
