import KonnectCluster
import KonnectCore
import KonnectHTTP

/// Reads a `ConsoleState` from a run directory and its nodes' sockets: process states and health,
/// data-plane and zone status, `faults.json` and `faults.log`, the calendar, and the organizations
/// through the support API. Nodes that are down or paused are not asked (a paused node would hold
/// the console for its whole timeout); every call has a short timeout.
struct ConsoleReader: Sendable {
    let cluster: Cluster
    /// The most organizations read in detail.
    static let organizationLimit = 20

    func read() -> ConsoleState {
        let snapshot = cluster.snapshot()
        let authUp = snapshot.node("auth").map { $0.process == .running && $0.healthy == true } ?? false
        var state = ConsoleState(
            directory: cluster.directory, geos: cluster.configuration?.geos ?? [], cluster: snapshot,
            faultLog: cluster.faultLog.compactMap(FaultLogEntry.init(json:)))
        if authUp {
            state.calendar = cluster.calendarNow
            if let (read, total) = readOrganizations() {
                var organizations = read
                for geo in snapshot.nodes where geo.kind == .geo && geo.process == .running && geo.healthy == true {
                    for objects in readObjects(geo: geo.name, organizations.map(\.id)) {
                        guard let index = organizations.firstIndex(where: { $0.id == objects.organizationID }) else {
                            continue
                        }
                        organizations[index].objects[geo.name] = objects
                    }
                }
                state.organizations = organizations
                state.organizationCount = total
            }
        }
        return state
    }

    /// What a geo holds for each organization (its operator endpoint on the Unix socket); nothing when
    /// it does not answer, so its column says so.
    func readObjects(geo: String, _ organizations: [String]) -> [OrganizationObjects] {
        guard !organizations.isEmpty, let client = try? cluster.client(named: geo, timeoutMilliseconds: 2000) else {
            return []
        }
        let query = organizations.map { "organization=\($0)" }.joined(separator: "&")
        guard let response = try? client.send("GET", "/internal/v1/operator/organization-objects?\(query)"),
            response.isSuccess, let json = response.json,
            let report = try? OrganizationObjectsReport(json: json)
        else { return [] }
        return report.organizations
    }

    /// A support call with a short timeout; nil when it fails.
    func support(_ path: String) -> JSON? {
        guard let response = try? cluster.support("GET", path, timeoutMilliseconds: 2000), response.isSuccess else {
            return nil
        }
        return response.json
    }

    func readOrganizations() -> ([OrganizationSummary], Int)? {
        guard let list = support("/v3/support/organizations?page[size]=\(ConsoleReader.organizationLimit)"),
            let items = list["data"]?.arrayValue
        else { return nil }
        let total = Int(list["meta"]?["page"]?["total"]?.intValue ?? Int64(items.count))
        let organizations = items.compactMap { item -> OrganizationSummary? in
            guard let id = item["id"]?.stringValue else { return nil }
            let plan = support("/v3/support/organizations/\(id)/plan")
            let view = support("/v3/support/organizations/\(id)")
            let invoices = support("/v3/support/organizations/\(id)/invoices")?["data"]?.arrayValue ?? []
            return OrganizationSummary(
                id: id, name: item["name"]?.stringValue ?? id, homeGeo: item["home_geo"]?.stringValue,
                plan: item["plan"]?.stringValue ?? "plus",
                paymentMethod: plan?["payment_method_on_file"]?.boolValue ?? false,
                state: item["state"]?.stringValue ?? "active",
                trialEnd: plan?["trial"]?["end"]?.stringValue.flatMap(SimTime.init(iso8601:)),
                trialActive: plan?["trial"]?["active"]?.boolValue ?? false,
                creditsLeft: plan?["credits"]?["left"]?.stringValue,
                creditsGranted: plan?["credits"]?["granted"]?.stringValue,
                currency: plan?["credits"]?["currency"]?.stringValue ?? "USD",
                history: (view?["state_history"]?.arrayValue ?? []).compactMap(ConsoleReader.stateChange),
                invoices: invoices.compactMap(ConsoleReader.invoice))
        }
        return (organizations, total)
    }

    static func stateChange(_ json: JSON) -> StateChange? {
        guard let state = json["state"]?.stringValue.flatMap(OrganizationState.init(rawValue:)),
            let at = json["at"]?.stringValue.flatMap(SimTime.init(iso8601:))
        else { return nil }
        return StateChange(
            state: state, reason: json["reason"]?.stringValue ?? "", actor: json["actor"]?.stringValue ?? "", at: at)
    }

    static func invoice(_ json: JSON) -> InvoiceSummary? {
        guard let id = json["id"]?.stringValue,
            let issued = json["issued_at"]?.stringValue.flatMap(SimTime.init(iso8601:)),
            let start = json["period_start"]?.stringValue.flatMap(SimTime.init(iso8601:)),
            let end = json["period_end"]?.stringValue.flatMap(SimTime.init(iso8601:))
        else { return nil }
        return InvoiceSummary(
            id: id, issuedAt: issued, periodStart: start, periodEnd: end, total: json["total"]?.stringValue ?? "0.00",
            currency: json["currency"]?.stringValue ?? "USD")
    }
}
