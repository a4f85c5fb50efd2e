import KonnectCore

/// The seeded schedule of a chaos run, as scenario lines: a workload of organizations doing what users
/// do, interleaved with a nemesis injecting faults and repairing them.
///
/// Everything it writes depends on the seed alone, never on answers: it keeps its own model of what it
/// asked for (organizations, control planes, data planes, faults in force) and refers to answers only
/// through captures (`$o1c1.id`), so the same seed always writes the same lines and any prefix or subset
/// of them is still a scenario that runs. Steps whose captures are missing fail and are recorded, which a
/// chaos run tolerates.
public struct ChaosWorkload: Sendable {
    struct Service {
        var variable: String
        var routePath: String
        var routeVariable: String
        var deleted = false
    }

    struct ControlPlane {
        var variable: String
        var geo: String
        var services: [Service] = []
        var deleted = false
    }

    struct Organization {
        var number: Int
        var geo: String
        var plan: String
        var controlPlanes: [ControlPlane] = []
        /// Members who joined (their number); each has a token `$oNuM`.
        var members: [Int] = []
        var invites = 0
        var portals = 0
        var teams = 0
        var deactivated = false

        var variable: String { "o\(number)" }
        var token: String { "$t\(number)" }
        /// The owner's email: their own, or an earlier owner's who opened another organization (A2).
        var email: String
        var id: String { "$o\(number).organization.id" }
    }

    struct DataPlane {
        var name: String
        var organization: Int
        var controlPlane: Int
        var geo: String
    }

    struct Fault {
        var repair: String
        var stepsLeft: Int
        /// The node or link it holds.
        var target: String
    }

    public let seed: UInt64
    public let geos: [String]
    public let rates: FaultRates
    var random: SeededRandom
    var organizations: [Organization] = []
    var dataPlanes: [DataPlane] = []
    var faults: [Fault] = []
    var counter = 0

    static let maximumOrganizations = 8
    static let maximumDataPlanes = 6
    static let maximumFaults = 3

    public init(seed: UInt64, geos: [String] = ["us", "eu", "au"], rates: FaultRates = .standard) {
        self.seed = seed
        self.geos = geos
        self.rates = rates
        random = SeededRandom(seed: seed ^ 0x6368_616F_7321)
    }

    // MARK: - Random choices

    mutating func below(_ count: Int) -> Int { count <= 1 ? 0 : Int(random.next() % UInt64(count)) }
    mutating func chance(_ probability: Double) -> Bool {
        Double(random.next() % 1_000_000) < probability * 1_000_000
    }
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
    mutating func between(_ low: Int, _ high: Int) -> Int { low + below(high - low + 1) }
    mutating func nextNumber() -> Int {
        counter += 1
        return counter
    }

    /// Picks a key by weight; the weights must not all be zero.
    mutating func weighted<K>(_ choices: [(K, Int)]) -> K {
        let total = choices.reduce(0) { $0 + max(0, $1.1) }
        var ticket = below(total)
        for (key, weight) in choices where weight > 0 {
            if ticket < weight { return key }
            ticket -= weight
        }
        return choices[0].0
    }

    // MARK: - The schedule

    /// The cluster, the chaos mode, an upstream, and three organizations with a control plane, a
    /// service, a route and a data plane each.
    public mutating func setup() -> [String] {
        var lines = [
            "cluster geos \(geos.joined(separator: ",")) start 2026-01-01",
            "chaos timeout 3s",
            "upstream start up1",
        ]
        for _ in 0..<3 {
            lines += signup()
            let organization = organizations.count - 1
            lines += createControlPlane(organization, geo: organizations[organization].geo)
            lines += createService(organization, controlPlane: 0)
            lines += startDataPlane(organization, controlPlane: 0)
        }
        return lines
    }

    /// The next step: a repair that is due, a new fault, or a user's operation.
    public mutating func next() -> [String] {
        for index in faults.indices { faults[index].stepsLeft -= 1 }
        if let due = faults.firstIndex(where: { $0.stepsLeft <= 0 }) {
            return [faults.remove(at: due).repair]
        }
        let kinds = FaultRates.Kind.allCases.map { ($0, rates.weights[$0] ?? 0) }
        if faults.count < ChaosWorkload.maximumFaults, kinds.contains(where: { $0.1 > 0 }), chance(rates.rate) {
            if let fault = inject(weighted(kinds)) { return [fault] }
        }
        return operation()
    }

    // MARK: - Faults

    var busyTargets: Set<String> { Set(faults.map(\.target)) }

    /// Nodes that can be killed or paused: the auth node, geos, data planes and the upstream, not already
    /// held by a fault.
    var nodes: [String] {
        (["auth"] + geos + dataPlanes.map(\.name) + ["up1"]).filter { !busyTargets.contains($0) }
    }

    var links: [(String, String)] {
        (geos.map { ($0, "auth") } + dataPlanes.map { ($0.name, $0.geo) }).filter {
            !busyTargets.contains(LinkFault.linkName(from: $0.0, to: $0.1))
        }
    }

    mutating func inject(_ kind: FaultRates.Kind) -> String? {
        switch kind {
        case .kill, .pause:
            let candidates = nodes
            guard !candidates.isEmpty else { return nil }
            let node = pick(candidates)
            let kill = kind == .kill
            faults.append(
                Fault(
                    repair: kill ? "restart \(node)" : "resume \(node)",
                    stepsLeft: kill ? between(2, 15) : between(1, 5), target: node))
            return kill ? "kill \(node)" : "pause \(node)"
        case .isolate:
            // The auth node, a geo or a data plane (the upstream stands for the world outside).
            let candidates = nodes.filter { $0 != "up1" }
            guard !candidates.isEmpty else { return nil }
            let node = pick(candidates)
            faults.append(Fault(repair: "rejoin \(node)", stepsLeft: between(2, 12), target: node))
            return "isolate \(node)"
        case .partition, .slow, .drop:
            let candidates = links
            guard !candidates.isEmpty else { return nil }
            let (from, to) = pick(candidates)
            faults.append(
                Fault(
                    repair: "heal \(from) \(to)", stepsLeft: kind == .partition ? between(2, 15) : between(3, 20),
                    target: LinkFault.linkName(from: from, to: to)))
            switch kind {
            case .partition: return "partition \(from) \(to)"
            case .slow: return "latency \(from) \(to) \(between(2, 20) * 10)ms jitter \(between(0, 5) * 10)ms"
            default: return "drop \(from) \(to) 0.\(between(1, 5))"
            }
        }
    }

    /// Whether a node is held down or paused by a fault (a data plane cannot join a geo that is).
    func isHeld(_ node: String) -> Bool { busyTargets.contains(node) }

    // MARK: - Operations

    enum Operation: CaseIterable {
        case traffic, login, read, crossRead, createControlPlane, createService, updateService, updateControlPlane
        case deleteRoute, deleteControlPlane, portal, invite, memberLogin, team, paymentMethod, calendar
        case deactivate, reactivate, support, signup, secondOrganization, startDataPlane
    }

    static let weights: [(Operation, Int)] = [
        (.traffic, 32), (.login, 4), (.read, 6), (.crossRead, 3), (.createControlPlane, 2), (.createService, 4),
        (.updateService, 4), (.updateControlPlane, 2), (.deleteRoute, 2), (.deleteControlPlane, 1), (.portal, 3),
        (.invite, 3), (.memberLogin, 2), (.team, 2), (.paymentMethod, 3), (.calendar, 2), (.deactivate, 3),
        (.reactivate, 3), (.support, 2), (.signup, 2), (.secondOrganization, 1), (.startDataPlane, 1),
    ]

    mutating func operation() -> [String] {
        while true {
            if let lines = attempt(weighted(ChaosWorkload.weights)) { return lines }
        }
    }

    /// The lines of one operation, or nil when it does not apply now (and another is drawn).
    mutating func attempt(_ operation: Operation) -> [String]? {
        let index = below(organizations.count)
        let organization = organizations[index]
        switch operation {
        case .traffic:
            guard !dataPlanes.isEmpty else { return nil }
            let dataPlane = pick(dataPlanes)
            let path = trafficPath(dataPlane)
            if chance(0.5) { return ["request \(dataPlane.name) GET \(path)/x\(between(1, 99))"] }
            return ["send \(between(2, 8)) requests to \(dataPlane.name) \(path)"]
        case .login:
            return ["login \(organization.email) org \(organization.id) as \(organization.token)"]
        case .read:
            let controlPlane = liveControlPlane(organization)?.1 ?? organization.controlPlanes[0]
            switch below(3) {
            case 0: return ["GET \(controlPlane.geo) /v2/control-planes with \(organization.token)"]
            case 1:
                return [
                    "GET \(controlPlane.geo) /v2/control-planes/$\(controlPlane.variable).id with \(organization.token)"
                ]
            default:
                return [
                    "GET \(controlPlane.geo) /v2/control-planes/$\(controlPlane.variable).id/core-entities/services with \(organization.token)"
                ]
            }
        case .crossRead:
            // Another organization's control plane, or one's own from another geo: must be 404 (T3).
            let other = organizations[below(organizations.count)]
            guard geos.count > 1 || other.number != organization.number else { return nil }
            let controlPlane = pick(other.controlPlanes)
            let geo =
                other.number == organization.number ? pick(geos.filter { $0 != controlPlane.geo }) : controlPlane.geo
            return ["GET \(geo) /v2/control-planes/$\(controlPlane.variable).id with \(organization.token)"]
        case .createControlPlane:
            guard organization.controlPlanes.count < 4 else { return nil }
            let geo = chance(0.7) ? organization.geo : pick(geos)
            var lines = createControlPlane(index, geo: geo)
            lines += createService(index, controlPlane: organizations[index].controlPlanes.count - 1)
            return lines
        case .createService:
            guard let (cp, _) = liveControlPlane(organization), organization.controlPlanes[cp].services.count < 4 else {
                return nil
            }
            return createService(index, controlPlane: cp)
        case .updateService:
            guard let controlPlane = liveControlPlane(organization)?.1,
                let service = controlPlane.services.first(where: { !$0.deleted })
            else { return nil }
            let body = chance(0.5) ? "{\"retries\":\(between(0, 9))}" : "{\"tags\":[\"t\(nextNumber())\"]}"
            return [
                "PATCH \(controlPlane.geo) /v2/control-planes/$\(controlPlane.variable).id/core-entities/services/$\(service.variable).id \(body) with \(organization.token)"
            ]
        case .updateControlPlane:
            guard let (_, controlPlane) = liveControlPlane(organization) else { return nil }
            return [
                "PATCH \(controlPlane.geo) /v2/control-planes/$\(controlPlane.variable).id {\"description\":\"d\(nextNumber())\"} with \(organization.token)"
            ]
        case .deleteRoute:
            guard let (cp, controlPlane) = liveControlPlane(organization),
                let service = controlPlane.services.firstIndex(where: { !$0.deleted })
            else { return nil }
            organizations[index].controlPlanes[cp].services[service].deleted = true
            let route = controlPlane.services[service].routeVariable
            return [
                "DELETE \(controlPlane.geo) /v2/control-planes/$\(controlPlane.variable).id/core-entities/routes/$\(route).id with \(organization.token)"
            ]
        case .deleteControlPlane:
            // Any live control plane but the organization's last, also one a data plane serves.
            let live = organization.controlPlanes.indices.filter { !organization.controlPlanes[$0].deleted }
            guard live.count > 1 else { return nil }
            let cp = pick(live)
            organizations[index].controlPlanes[cp].deleted = true
            let controlPlane = organization.controlPlanes[cp]
            return [
                "DELETE \(controlPlane.geo) /v2/control-planes/$\(controlPlane.variable).id with \(organization.token)"
            ]
        case .portal:
            if organization.portals == 0 || chance(0.4) {
                organizations[index].portals += 1
                let number = organizations[index].portals
                return [
                    "POST \(organization.geo) /v2/portals {\"name\":\"o\(organization.number)-portal\(number)\"} with \(organization.token) as $\(organization.variable)p\(number)"
                ]
            }
            return [
                "PATCH \(organization.geo) /v2/portals/$\(organization.variable)p\(between(1, organization.portals)).id {\"published\":\(chance(0.5))} with \(organization.token)"
            ]
        case .invite:
            organizations[index].invites += 1
            let member = organizations[index].invites
            let email = "o\(organization.number)-member\(member)@chaos.test"
            let name = "\(organization.variable)i\(member)"
            organizations[index].members.append(member)
            let (role, entity) = pick([
                ("Admin", "Organization"), ("Admin", "Control Planes"), ("Viewer", "Control Planes"),
                ("Admin", "Billing"),
            ])
            return [
                "POST auth /v3/invites {\"email\":\"\(email)\"} with \(organization.token) as $\(name)",
                "POST auth /v3/invites/accept {\"invite_token\":\"$\(name).invite_token\",\"password\":\"Correct-Horse-42!\",\"full_name\":\"Member \(member)\"} as $\(organization.variable)m\(member)",
                "POST auth /v3/users/$\(organization.variable)m\(member).user.id/assigned-roles {\"role_name\":\"\(role)\",\"entity_type_name\":\"\(entity)\"} with \(organization.token)",
            ]
        case .memberLogin:
            guard !organization.members.isEmpty else { return nil }
            let member = pick(organization.members)
            return [
                "login o\(organization.number)-member\(member)@chaos.test org \(organization.id) as $\(organization.variable)u\(member)"
            ]
        case .team:
            organizations[index].teams += 1
            return [
                "POST auth /v3/teams {\"name\":\"team\(organizations[index].teams)\"} with \(organization.token) as $\(organization.variable)team\(organizations[index].teams)"
            ]
        case .paymentMethod:
            if chance(0.6) {
                return [
                    "PUT auth /v3/organizations/me/payment-method {\"token\":\"pm_\(nextNumber())\"} with \(organization.token)"
                ]
            }
            return ["DELETE auth /v3/organizations/me/payment-method with \(organization.token)"]
        case .calendar:
            return ["advance \(weighted([("6h", 3), ("1d", 3), ("3d", 1), ("31d", 1)]))"]
        case .deactivate:
            guard !organization.deactivated else { return nil }
            organizations[index].deactivated = true
            if let member = organization.members.first, chance(0.3) {
                return ["deactivate organization with $\(organization.variable)u\(member)"]
            }
            return [
                weighted([
                    ("deactivate organization with \(organization.token)", 3),
                    ("support deactivate \(organization.id)", 3), ("delete account with \(organization.token)", 1),
                ])
            ]
        case .reactivate:
            // Also now and then for an organization the calendar may have deactivated (inactivity).
            guard organization.deactivated || chance(0.2) else { return nil }
            organizations[index].deactivated = false
            return [
                "support reactivate \(organization.id)",
                "login \(organization.email) org \(organization.id) as \(organization.token)",
            ]
        case .support:
            if chance(0.7) { return ["support GET /v3/support/organizations/\(organization.id)"] }
            return ["support unlock \(organization.email)"]
        case .signup, .secondOrganization:
            guard organizations.count < ChaosWorkload.maximumOrganizations else { return nil }
            // An owner who signs up again opens another organization (409 while their email is locked).
            var lines = signup(email: operation == .secondOrganization ? organization.email : nil)
            let created = organizations.count - 1
            lines += createControlPlane(created, geo: organizations[created].geo)
            lines += createService(created, controlPlane: 0)
            return lines
        case .startDataPlane:
            guard dataPlanes.count < ChaosWorkload.maximumDataPlanes,
                let (cp, controlPlane) = liveControlPlane(organization), !isHeld(controlPlane.geo),
                !dataPlanes.contains(where: { $0.organization == index && $0.controlPlane == cp })
            else { return nil }
            return startDataPlane(index, controlPlane: cp)
        }
    }

    /// A path to send through a data plane: mostly one of its control plane's routes (perhaps deleted),
    /// sometimes another organization's (must not be served), sometimes nothing.
    mutating func trafficPath(_ dataPlane: DataPlane) -> String {
        let own = organizations[dataPlane.organization].controlPlanes[dataPlane.controlPlane].services
        if !own.isEmpty, chance(0.85) { return pick(own).routePath }
        let others = organizations.flatMap { $0.controlPlanes.flatMap(\.services) }.map(\.routePath)
        if !others.isEmpty, chance(0.7) { return pick(others) }
        return "/nothing"
    }

    func liveControlPlane(_ organization: Organization) -> (Int, ControlPlane)? {
        guard let index = organization.controlPlanes.indices.first(where: { !organization.controlPlanes[$0].deleted })
        else { return nil }
        return (index, organization.controlPlanes[index])
    }

    mutating func signup(email: String? = nil) -> [String] {
        let number = organizations.count + 1
        let organization = Organization(
            number: number, geo: geos[(number - 1 + below(geos.count)) % geos.count],
            plan: chance(0.25) ? "enterprise" : "plus", email: email ?? "owner\(number)@chaos.test")
        organizations.append(organization)
        return [
            "signup \(organization.email) org org\(number) plan \(organization.plan) geo \(organization.geo) as $\(organization.variable)",
            "login \(organization.email) org \(organization.id) as \(organization.token)",
        ]
    }

    mutating func createControlPlane(_ index: Int, geo: String) -> [String] {
        let organization = organizations[index]
        let number = organization.controlPlanes.count + 1
        let variable = "\(organization.variable)c\(number)"
        organizations[index].controlPlanes.append(ControlPlane(variable: variable, geo: geo))
        return [
            "POST \(geo) /v2/control-planes {\"name\":\"\(variable)\"} with \(organization.token) as $\(variable)"
        ]
    }

    mutating func createService(_ index: Int, controlPlane cp: Int) -> [String] {
        let organization = organizations[index]
        let controlPlane = organization.controlPlanes[cp]
        let number = controlPlane.services.count + 1
        let service = "\(controlPlane.variable)s\(number)"
        let route = "\(controlPlane.variable)r\(number)"
        let path = "/\(organization.variable)/c\(cp + 1)/s\(number)"
        organizations[index].controlPlanes[cp].services.append(
            Service(variable: service, routePath: path, routeVariable: route))
        let base = "\(controlPlane.geo) /v2/control-planes/$\(controlPlane.variable).id/core-entities"
        return [
            "POST \(base)/services {\"name\":\"\(service)\",\"url\":\"$up1.url/u\(path)\"} with \(organization.token) as $\(service)",
            "POST \(base)/routes {\"name\":\"\(route)\",\"paths\":[\"\(path)\"],\"service\":{\"id\":\"$\(service).id\"}} with \(organization.token) as $\(route)",
        ]
    }

    mutating func startDataPlane(_ index: Int, controlPlane cp: Int) -> [String] {
        let controlPlane = organizations[index].controlPlanes[cp]
        let name = "dp\(dataPlanes.count + 1)"
        dataPlanes.append(DataPlane(name: name, organization: index, controlPlane: cp, geo: controlPlane.geo))
        return [
            "dp start \(name) geo \(controlPlane.geo) control-plane $\(controlPlane.variable).id org \(organizations[index].id)"
        ]
    }
}
