import KonnectCore
import KonnectScenario

/// What a history says about a run, in the domain's words: which organizations signed up, whose each
/// token is, what was created where, which data plane serves whom, which faults were in force when,
/// and what the final observations of a `check` step saw. Built once from the events; every checker
/// reads it.
public struct RunFacts {
    public struct Organization: Equatable {
        public var id: String
        public var ownerID: String
        public var ownerEmail: String
        public var geo: String
        public var createdAt: SimTime?
        /// The signup's event.
        public var event: Int
    }

    /// A session or personal access token, and for whom it was issued.
    public struct Token: Equatable {
        public var organization: String
        public var user: String
        /// The event that issued it.
        public var event: Int
    }

    /// A geo object some organization's acknowledged create made.
    public struct Object: Equatable {
        var kind: ObjectPath.Kind
        public var id: String
        public var name: String?
        public var organization: String
        public var geo: String
        public var controlPlane: String?
        /// The acknowledged create.
        public var event: Int

        public var path: String { ObjectPath.itemPath(kind, id: id, controlPlane: controlPlane) }
        public var kindName: String { kind == .controlPlane ? "control plane" : String(kind.rawValue.dropLast()) }
    }

    public struct DataPlane: Equatable {
        public var name: String
        public var geo: String
        public var controlPlane: String
        public var organization: String?
    }

    public let events: [HistoryEvent]
    public private(set) var organizations: [String: Organization] = [:]
    public private(set) var tokens: [String: Token] = [:]
    public private(set) var objects: [String: Object] = [:]
    public private(set) var dataPlanes: [String: DataPlane] = [:]
    /// Upstream path prefixes of services, by organization (`/u/o1/cp1/s1`), from every create attempt.
    public private(set) var upstreamPaths: [String: Set<String>] = [:]
    /// Where the final observations start (after the `check` step healed and settled), and where its
    /// reads of acknowledged writes start; nil when the history has none.
    public private(set) var finalStart: Int?
    public private(set) var readsStart: Int?
    public let conditions: Conditions

    public init(_ events: [HistoryEvent]) {
        self.events = events
        conditions = Conditions(events)
        for event in events {
            if case .mark(let name) = event.action {
                if name == "final", finalStart == nil { finalStart = event.index }
                if name == "reads", readsStart == nil { readsStart = event.index }
            }
            learn(event)
        }
    }

    /// Events of the run proper: before the final observations.
    public var runEvents: ArraySlice<HistoryEvent> { events[..<(finalStart ?? events.count)] }

    /// Events between the final mark and the reads.
    public var finalObservations: ArraySlice<HistoryEvent> {
        guard let finalStart else { return [] }
        return events[finalStart..<(readsStart ?? events.count)]
    }

    public var reads: ArraySlice<HistoryEvent> {
        guard let readsStart else { return [] }
        return events[readsStart...]
    }

    /// The organization a call acted for: its token's, or the one support named in the path.
    public func organization(of event: HistoryEvent) -> String? {
        guard case .call(_, _, let path, let token, _) = event.action else { return nil }
        if token == "support" { return RunFacts.supportOrganization(path) }
        return token.flatMap { tokens[$0]?.organization }
    }

    static func supportOrganization(_ path: String) -> String? {
        let parts = path.split(separator: "?").first?.split(separator: "/").map(String.init) ?? []
        guard parts.count >= 4, parts[0] == "v3", parts[1] == "support", parts[2] == "organizations" else {
            return nil
        }
        return parts[3]
    }

    /// The id of an object named by a path key: the key if it is a known id, else the object of that
    /// kind and name in that control plane.
    func objectID(_ target: ObjectPath) -> String? {
        guard let key = target.key else { return nil }
        if objects[key] != nil { return key }
        return objects.values.first {
            $0.kind == target.kind && $0.name == key && $0.controlPlane == target.controlPlane
        }?.id
    }

    private mutating func learn(_ event: HistoryEvent) {
        switch event.action {
        case .call(let node, let method, let path, let token, let body):
            learnCall(event, node: node, method: method, path: path, token: token, body: body)
        case .node("start", "dp", let name, let details):
            let controlPlane = details["control_plane"]?.stringValue ?? ""
            dataPlanes[name] = DataPlane(
                name: name, geo: details["geo"]?.stringValue ?? "", controlPlane: controlPlane,
                organization: objects[controlPlane]?.organization ?? details["organization_id"]?.stringValue)
        default:
            break
        }
    }

    private mutating func learnCall(
        _ event: HistoryEvent, node: String, method: String, path: String, token: String?, body: JSON?
    ) {
        let response = event.outcome.body
        let status = event.outcome.status
        if node == "auth" {
            let route = path.split(separator: "?").first.map(String.init) ?? path
            switch (method, route) {
            case ("POST", "/v3/signup"):
                guard status == 201, let response, let id = response["organization"]?["id"]?.stringValue else {
                    return
                }
                organizations[id] = Organization(
                    id: id, ownerID: response["user"]?["id"]?.stringValue ?? "",
                    ownerEmail: body?["email"]?.stringValue ?? response["user"]?["email"]?.stringValue ?? "",
                    geo: response["organization"]?["home_geo"]?.stringValue ?? body?["geo"]?.stringValue ?? "",
                    createdAt: response["organization"]?["created_at"]?.stringValue.flatMap(SimTime.init(iso8601:)),
                    event: event.index)
            case ("POST", "/v3/authenticate"):
                guard status == 200, let response, let value = response["access_token"]?.stringValue,
                    let organization = response["organization_id"]?.stringValue
                else { return }
                tokens[value] = Token(
                    organization: organization, user: response["user_id"]?.stringValue ?? "", event: event.index)
            default:
                // A personal access token works for the organization of the token that made it.
                if method == "POST", route.hasSuffix("/access-tokens"), status == 201, let token,
                    let owner = tokens[token], let value = response?["konnect_token"]?.stringValue
                {
                    tokens[value] = Token(organization: owner.organization, user: owner.user, event: event.index)
                }
            }
            return
        }
        guard method == "POST", let target = ObjectPath.parse(path), target.key == nil,
            let organization = token.flatMap({ tokens[$0]?.organization })
        else { return }
        if target.kind == .service, let url = body?["url"]?.stringValue, let prefix = RunFacts.urlPath(url) {
            upstreamPaths[organization, default: []].insert(prefix)
        }
        guard status == 201, let response, let id = response["id"]?.stringValue else { return }
        objects[id] = Object(
            kind: target.kind, id: id, name: response["name"]?.stringValue, organization: organization, geo: node,
            controlPlane: target.kind == .controlPlane ? id : target.controlPlane, event: event.index)
    }

    /// The path of an `http://host:port/path` URL.
    static func urlPath(_ url: String) -> String? {
        guard let scheme = url.range(of: "://") else { return nil }
        let rest = url[scheme.upperBound...]
        guard let slash = rest.firstIndex(of: "/") else { return "/" }
        return String(rest[slash...])
    }

    // MARK: - Final observations

    /// Support's view of each organization as the final observations read it.
    public var finalOrganizationViews: [String: (view: JSON, event: Int)] {
        var views: [String: (JSON, Int)] = [:]
        for event in finalObservations {
            guard case .call("auth", "GET", let path, "support", _) = event.action, event.outcome.status == 200,
                let body = event.outcome.body, let id = RunFacts.supportOrganization(path),
                path == "/v3/support/organizations/\(id)"
            else { continue }
            views[id] = (body, event.index)
        }
        return views
    }

    /// The calendar's moment when the final observations were made.
    public var finalCalendar: SimTime? {
        finalObservations.last { $0.calendar != nil }?.calendar
    }

    /// The calendar moves (event indices) during which, as the final state history says, the organization
    /// stopped being active (inactivity, retention): the first event whose calendar reached the change's
    /// moment, and the last move before it. A change a request made maps to a move at or before it.
    public func movesDeactivating(_ organization: String) -> [Int] {
        guard let view = finalOrganizationViews[organization]?.view else { return [] }
        var moves: [Int] = []
        for change in (view["state_history"]?.arrayValue ?? []).dropFirst() {
            guard change["state"]?.stringValue != "active",
                let at = change["at"]?.stringValue.flatMap(SimTime.init(iso8601:)),
                let after = events.first(where: { ($0.calendar ?? SimTime(seconds: .min)) >= at })
            else { continue }
            let move = events[..<after.index].last { event in
                if case .call("auth", let method, let path, _, _) = event.action {
                    return method != "GET" && path.hasPrefix("/v3/simulator/clock")
                }
                return false
            }
            moves.append(move?.index ?? 0)
        }
        return moves.sorted()
    }

    /// A geo's internal status as the final observations recorded it.
    public var finalGeoStatus: [String: (status: JSON, event: Int)] {
        var statuses: [String: (JSON, Int)] = [:]
        for event in finalObservations {
            guard case .observation(let subject, "status", let details) = event.action, subject.hasPrefix("geo ")
            else { continue }
            statuses[String(subject.dropFirst(4))] = (details, event.index)
        }
        return statuses
    }
}
