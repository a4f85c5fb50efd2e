import KonnectCluster
import KonnectCore

/// What a parsed scenario can be checked for before anything runs: every `$reference` names a value an
/// earlier step captured, and every node name is `auth`, one of the cluster's geos, or an upstream,
/// data plane or zone an earlier step started (and every link exists). Run by
/// `ScenarioParser.parseAndCheck`, so `scenario check` and `scenario run` both refuse such a file with `file:line:column`.
struct ScenarioCheck {
    let file: String
    /// Values set so far: captures, `set`, started nodes, `start`, `sent`, and `$last`.
    private var defined: Set<String> = ["last"]
    private var geos: [String] = []
    /// Started nodes by name, with the geo data planes and zones connect to.
    private var nodes: [String: (kind: String, geo: String?)] = [:]

    init(file: String) { self.file = file }

    /// Checks the steps in order; `text` is the file as written, for columns.
    static func check(_ scenario: Scenario, text: String) throws(ScenarioParseError) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        var check = ScenarioCheck(file: scenario.file)
        for step in scenario.steps {
            let line = step.line >= 1 && step.line <= lines.count ? String(lines[step.line - 1]) : step.text
            try check.visit(step, line: line)
        }
    }

    private mutating func visit(_ step: ScenarioStep, line: String) throws(ScenarioParseError) {
        func refs(_ values: ScenarioValue?...) throws(ScenarioParseError) {
            for value in values { if let value { try reference(value, step, line) } }
        }
        func node(_ name: String, _ allowed: Set<String>, as what: String) throws(ScenarioParseError) {
            try requireNode(name, allowed, what, step, line)
        }
        let servers: Set<String> = ["auth", "geo"]
        switch step.action {
        case .cluster(let geos, _, _):
            self.geos = geos
            defined.insert("start")
        case .signup(let email, let organization, _, let geo, let password, let capture):
            try refs(email, organization, password)
            try requireGeo(geo, step, line)
            define(capture)
        case .login(let email, let organization, let password, let capture):
            try refs(email, organization, password)
            define(capture)
        case .request(let target, _, let path, let body, let token, let capture, _):
            try node(target, servers, as: "auth or a geo")
            try refs(path, body, token)
            define(capture)
        case .support(_, let path, let body, let capture, _):
            try refs(path, body)
            define(capture)
        case .proxy(let dataPlane, _, let path, let body, let headers, let capture, _):
            try node(dataPlane, ["dp"], as: "a data plane")
            try refs(path, body, headers)
            define(capture)
        case .send(_, let dataPlane, _, let path, _):
            try node(dataPlane, ["dp"], as: "a data plane")
            try refs(path)
            defined.insert("sent")
        case .expect(let subject, _, _, let value, _):
            try expectation(subject, step, line)
            try refs(value)
        case .upstreamStart(let name):
            try start(name, kind: "upstream", geo: nil, step, line)
        case .upstreamStop(let name):
            try node(name, ["upstream"], as: "an upstream")
        case .dataPlaneStart(let name, let geo, let controlPlane, let organization):
            try requireGeo(geo, step, line)
            try refs(controlPlane, organization)
            try start(name, kind: "dp", geo: geo, step, line)
        case .dataPlaneStop(let name):
            try node(name, ["dp"], as: "a data plane")
        case .zoneStart(let name, let geo, let mesh, let organization):
            try requireGeo(geo, step, line)
            try refs(mesh, organization)
            try start(name, kind: "zone", geo: geo, step, line)
        case .zoneStop(let name), .workload(let name, _, _):
            try node(name, ["zone"], as: "a zone")
        case .advance, .clockSet, .healAll, .settle, .wait, .chaos, .check, .knownBug:
            break
        case .deactivate(let token), .deleteAccount(let token):
            try refs(token)
        case .supportDeactivate(let organization), .supportReactivate(let organization):
            try refs(organization)
        case .supportUnlock(let email):
            try refs(email)
        case .kill(let name), .restart(let name), .pause(let name), .resume(let name), .isolate(let name),
            .rejoin(let name):
            try node(name, ["auth", "geo", "upstream", "dp", "zone"], as: "a node")
        case .partition(let from, let to), .heal(let from, let to), .latency(let from, let to, _, _),
            .drop(let from, let to, _):
            try link(from, to, step, line)
        case .set(let name, let value):
            try refs(value)
            defined.insert(name)
        }
    }

    private mutating func define(_ capture: String?) {
        if let capture { defined.insert(capture) }
    }

    private mutating func start(_ name: String, kind: String, geo: String?, _ step: ScenarioStep, _ line: String)
        throws(ScenarioParseError)
    {
        if name == "auth" || ClusterConfiguration.knownGeos.contains(name) {
            throw error(step, line, name, "'\(name)' names one of the cluster's own nodes; choose another name")
        }
        if let existing = nodes[name], existing.kind != kind {
            throw error(step, line, name, "'\(name)' is already a \(existing.kind) started earlier")
        }
        nodes[name] = (kind, geo)
        defined.insert(name)
    }

    private func kind(of name: String) -> String? {
        if name == "auth" { return "auth" }
        if geos.contains(name) { return "geo" }
        return nodes[name]?.kind
    }

    private func requireGeo(_ geo: String, _ step: ScenarioStep, _ line: String) throws(ScenarioParseError) {
        guard geos.contains(geo) else {
            throw error(
                step, line, geo, "unknown geo '\(geo)'; this scenario's cluster runs \(geos.joined(separator: ", "))")
        }
    }

    private func requireNode(
        _ name: String, _ allowed: Set<String>, _ what: String, _ step: ScenarioStep, _ line: String
    ) throws(ScenarioParseError) {
        guard let kind = kind(of: name) else {
            if ClusterConfiguration.knownGeos.contains(name) {
                throw error(
                    step, line, name,
                    "geo '\(name)' is not in this scenario's cluster (geos \(geos.joined(separator: ", ")))")
            }
            throw error(step, line, name, "unknown node '\(name)'; \(known)")
        }
        guard allowed.contains(kind) else {
            let article = ["auth": "the auth node", "geo": "a geo", "upstream": "an upstream", "dp": "a data plane"]
            throw error(step, line, name, "'\(name)' is \(article[kind] ?? "a \(kind)"), expected \(what)")
        }
    }

    private var known: String {
        let started = nodes.keys.sorted()
        return "known here: auth, geos \(geos.joined(separator: ", "))"
            + (started.isEmpty
                ? " (no upstream, data plane or zone started yet)" : ", \(started.joined(separator: ", "))")
    }

    /// Links are named by the connecting node: a geo to auth, a data plane or zone to its geo.
    private func link(_ from: String, _ to: String, _ step: ScenarioStep, _ line: String) throws(ScenarioParseError) {
        try requireNode(from, ["geo", "dp", "zone"], "a geo, data plane or zone (the connecting side)", step, line)
        try requireNode(to, ["auth", "geo"], "auth or a geo", step, line)
        let target = kind(of: from) == "geo" ? "auth" : nodes[from]?.geo
        guard target == to else {
            throw error(
                step, line, to, "there is no link \(from) -> \(to); \(from) connects to \(target ?? "nothing")")
        }
    }

    private func expectation(_ subject: ExpectSubject, _ step: ScenarioStep, _ line: String)
        throws(ScenarioParseError)
    {
        switch subject {
        case .lastResponse, .faults: break
        case .variable(let name): try reference(.reference(name: name, path: ""), step, line)
        case .dataPlane(let name): try requireNode(name, ["dp"], "a data plane", step, line)
        case .zone(let name): try requireNode(name, ["zone"], "a zone", step, line)
        case .node(let name): try requireNode(name, ["auth", "geo", "upstream", "dp", "zone"], "a node", step, line)
        case .geo(let name): try requireNode(name, ["geo"], "a geo", step, line)
        case .organization(let value), .plan(let value), .usage(let value, _), .invoices(let value),
            .email(let value):
            try reference(value, step, line)
        case .api(let node, let path, let token):
            try requireNode(node, ["auth", "geo"], "auth or a geo", step, line)
            try reference(path, step, line)
            if let token { try reference(token, step, line) }
        }
    }

    private func reference(_ value: ScenarioValue, _ step: ScenarioStep, _ line: String) throws(ScenarioParseError) {
        let names: [String]
        switch value {
        case .literal: return
        case .reference(let name, _): names = [name]
        case .template(let text): names = Templates.references(text).map(\.1)
        }
        for name in names where !defined.contains(name) {
            let set = defined.subtracting(["last"]).sorted().map { "$" + $0 }
            throw error(
                step, line, "$" + name,
                "$\(name) is not set by an earlier step; capture it with 'as $\(name)' or 'set $\(name) = ...' first"
                    + (set.isEmpty ? "" : " (set so far: \(set.joined(separator: ", ")))"))
        }
    }

    /// The error at the first place `word` appears in the line.
    private func error(_ step: ScenarioStep, _ line: String, _ word: String, _ message: String) -> ScenarioParseError {
        let characters = Array(line)
        let target = Array(word)
        var column = 1
        if !target.isEmpty, characters.count >= target.count {
            for start in 0...(characters.count - target.count)
            where characters[start..<(start + target.count)].elementsEqual(target) {
                column = start + 1
                break
            }
        }
        return ScenarioParseError(file: file, line: step.line, column: column, message: message)
    }
}
