import KonnectCore

/// Parses scenario files: one step per line, `#` comments, `$name` captures. The whole file is parsed
/// before anything runs; the first error names file:line:column and what was expected.
public enum ScenarioParser {
    /// Parses and checks a file (`ScenarioCheck`): what `scenario check` and `scenario run` do.
    public static func parseAndCheck(_ text: String, file: String) throws(ScenarioParseError) -> Scenario {
        let scenario = try parse(text, file: file)
        try ScenarioCheck.check(scenario, text: text)
        return scenario
    }

    /// Parses a file's syntax only.
    public static func parse(_ text: String, file: String) throws(ScenarioParseError) -> Scenario {
        var steps: [ScenarioStep] = []
        var summary: [String] = []
        var seenStep = false
        let name = String(file.split(separator: "/").last ?? Substring(file)).replacingSuffix(".scenario")
        for (offset, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = offset + 1
            let line = String(raw)
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            if trimmed.hasPrefix("#") {
                if !seenStep { summary.append(String(trimmed.dropFirst()).trimmingLeadingSpace) }
                continue
            }
            guard let step = try step(line, file: file, line: lineNumber) else { continue }
            seenStep = true
            steps.append(step)
        }
        if steps.isEmpty {
            throw ScenarioParseError(file: file, line: 1, column: 1, message: "expected at least one step")
        }
        if case .cluster = steps[0].action {
        } else {
            steps.insert(
                ScenarioStep(
                    line: 0, text: "cluster (default)",
                    action: .cluster(geos: ["us", "eu", "au"], start: .defaultStart, rateCard: nil)), at: 0)
        }
        for step in steps.dropFirst() {
            if case .cluster = step.action {
                throw ScenarioParseError(
                    file: file, line: step.line, column: 1, message: "'cluster' must be the first step")
            }
        }
        return Scenario(
            name: name, file: file, steps: steps, summary: summary.joined(separator: " ").trimmingLeadingSpace)
    }

    /// Parses one line: a step, or nil for a blank or comment line.
    public static func step(_ line: String, file: String, line lineNumber: Int) throws(ScenarioParseError)
        -> ScenarioStep?
    {
        let tokens = try Tokenizer.tokens(line, file: file, lineNumber: lineNumber)
        guard !tokens.isEmpty else { return nil }
        var cursor = Cursor(tokens: tokens, file: file, line: lineNumber, lineLength: line.count)
        let action = try parseStep(&cursor)
        try cursor.expectEnd()
        return ScenarioStep(line: lineNumber, text: line.trimmingLeadingSpace, action: action)
    }

    static let methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]

    static func parseStep(_ c: inout Cursor) throws(ScenarioParseError) -> StepAction {
        let first = try c.word("a step such as cluster, signup, login, GET/POST..., expect, advance, kill")
        if methods.contains(first) {
            let node = try c.word("a node name (auth or a geo)")
            let path = try c.template("a path such as /v2/control-planes")
            let body = try c.optionalBody()
            let token = try c.keyword("with") ? try c.value("a token such as $ana") : nil
            let capture = try c.capture()
            let status = try c.arrowStatus()
            return .request(
                node: node, method: first, path: path, body: body, token: token, capture: capture, status: status)
        }
        switch first {
        case "cluster":
            var geos = ["us", "eu", "au"]
            var start = SimTime.defaultStart
            var rateCard: String? = nil
            while !c.atEnd {
                let option = try c.word("geos, start or rate-card")
                switch option {
                case "geos":
                    let list = try c.word("a comma-separated list of geos such as us,eu")
                    geos = list.split(separator: ",").map(String.init)
                    for geo in geos where !["us", "eu", "au", "me", "in", "sg"].contains(geo) {
                        throw c.error("unknown geo '\(geo)'; expected us, eu, au, me, in or sg", back: 1)
                    }
                case "start":
                    let text = try c.word("a date such as 2026-01-01 or 2026-01-01T00:00:00Z")
                    guard let moment = SimTime(iso8601: text) else {
                        throw c.error("expected a date such as 2026-01-01T00:00:00Z, got '\(text)'", back: 1)
                    }
                    start = moment
                case "rate-card":
                    rateCard = try c.anyText("a rate card file path")
                default:
                    throw c.error("expected geos, start or rate-card, got '\(option)'", back: 1)
                }
            }
            return .cluster(geos: geos, start: start, rateCard: rateCard)
        case "signup":
            let email = try c.value("an email")
            var organization: ScenarioValue = .literal("Acme")
            var plan = "plus"
            var geo = "eu"
            var password: ScenarioValue? = nil
            while let option = c.peekWord, ["org", "plan", "geo", "password"].contains(option) {
                c.advance()
                switch option {
                case "org": organization = try c.value("an organization name")
                case "plan":
                    plan = try c.word("plus or enterprise")
                    guard ["plus", "enterprise"].contains(plan) else {
                        throw c.error("expected plus or enterprise, got '\(plan)'", back: 1)
                    }
                case "geo": geo = try c.word("a geo such as eu")
                default: password = try c.value("a password")
                }
            }
            return .signup(
                email: email, organization: organization, plan: plan, geo: geo, password: password,
                capture: try c.capture())
        case "login":
            let email = try c.value("an email")
            var organization: ScenarioValue? = nil
            var password: ScenarioValue? = nil
            while let option = c.peekWord, ["org", "password"].contains(option) {
                c.advance()
                if option == "org" {
                    organization = try c.value("an organization id such as $acme.organization.id")
                } else {
                    password = try c.value("a password")
                }
            }
            return .login(email: email, organization: organization, password: password, capture: try c.capture())
        case "support":
            let action = try c.word("deactivate, reactivate, unlock or an HTTP method")
            switch action {
            case "deactivate": return .supportDeactivate(organization: try c.value("an organization id"))
            case "reactivate": return .supportReactivate(organization: try c.value("an organization id"))
            case "unlock": return .supportUnlock(email: try c.value("an email"))
            default:
                guard methods.contains(action) else {
                    throw c.error("expected deactivate, reactivate, unlock or an HTTP method, got '\(action)'", back: 1)
                }
                let path = try c.template("a path such as /v3/support/organizations/$org")
                let body = try c.optionalBody()
                let capture = try c.capture()
                return .support(method: action, path: path, body: body, capture: capture, status: try c.arrowStatus())
            }
        case "request":
            let dataPlane = try c.word("a data plane name")
            let method = try c.word("an HTTP method")
            guard methods.contains(method) else {
                throw c.error("expected an HTTP method such as GET, got '\(method)'", back: 1)
            }
            let path = try c.template("a path such as /orders/42")
            let body = try c.optionalBody()
            let headers = try c.keyword("headers") ? try c.body("a JSON object of headers") : nil
            let capture = try c.capture()
            return .proxy(
                dataPlane: dataPlane, method: method, path: path, body: body, headers: headers, capture: capture,
                status: try c.arrowStatus())
        case "send":
            let count = try c.integer("a number of requests", range: 1...1_000_000)
            try c.expectKeyword("requests")
            try c.expectKeyword("to")
            let dataPlane = try c.word("a data plane name")
            var method = "GET"
            if let next = c.peekWord, methods.contains(next) {
                c.advance()
                method = next
            }
            let path = try c.template("a path such as /orders")
            return .send(count: count, dataPlane: dataPlane, method: method, path: path, status: try c.arrowStatus())
        case "expect":
            return try parseExpect(&c)
        case "upstream":
            let action = try c.word("start or stop")
            let name = try c.word("an upstream name")
            switch action {
            case "start": return .upstreamStart(name: name)
            case "stop": return .upstreamStop(name: name)
            default: throw c.error("expected start or stop, got '\(action)'", back: 2)
            }
        case "dp":
            let action = try c.word("start or stop")
            let name = try c.word("a data plane name")
            switch action {
            case "start":
                try c.expectKeyword("geo")
                let geo = try c.word("a geo")
                try c.expectKeyword("control-plane")
                let controlPlane = try c.value("a control plane name or id")
                let organization = try c.keyword("org") ? try c.value("an organization id") : nil
                return .dataPlaneStart(name: name, geo: geo, controlPlane: controlPlane, organization: organization)
            case "stop": return .dataPlaneStop(name: name)
            default: throw c.error("expected start or stop, got '\(action)'", back: 2)
            }
        case "zone":
            let action = try c.word("start, stop or workload")
            let name = try c.word("a zone name")
            switch action {
            case "start":
                try c.expectKeyword("geo")
                let geo = try c.word("a geo")
                try c.expectKeyword("mesh-cp")
                let mesh = try c.value("a Mesh global control plane name or id")
                let organization = try c.keyword("org") ? try c.value("an organization id") : nil
                return .zoneStart(name: name, geo: geo, meshControlPlane: mesh, organization: organization)
            case "stop": return .zoneStop(name: name)
            case "workload":
                let workload = try c.word("a workload name")
                try c.expectKeyword("mesh")
                return .workload(zone: name, name: workload, mesh: try c.word("a mesh name"))
            default: throw c.error("expected start, stop or workload, got '\(action)'", back: 2)
            }
        case "advance":
            let text = try c.word("a duration such as 31d")
            guard let duration = SimDuration(text: text) else {
                throw c.error("expected a duration such as 31d, 12h or 1d12h, got '\(text)'", back: 1)
            }
            return .advance(duration)
        case "clock":
            try c.expectKeyword("set")
            let text = try c.word("a date")
            guard let moment = SimTime(iso8601: text) else {
                throw c.error("expected a date such as 2026-03-01, got '\(text)'", back: 1)
            }
            return .clockSet(moment)
        case "deactivate":
            try c.expectKeyword("organization")
            try c.expectKeyword("with")
            return .deactivate(token: try c.value("an admin's token such as $ana"))
        case "delete":
            try c.expectKeyword("account")
            try c.expectKeyword("with")
            return .deleteAccount(token: try c.value("the user's token such as $ana"))
        case "kill": return .kill(try c.word("a node name"))
        case "restart": return .restart(try c.word("a node name"))
        case "pause": return .pause(try c.word("a node name"))
        case "resume": return .resume(try c.word("a node name"))
        case "isolate": return .isolate(try c.word("a node name"))
        case "rejoin": return .rejoin(try c.word("a node name"))
        case "partition":
            return .partition(from: try c.word("the connecting node"), to: try c.word("the node it connects to"))
        case "heal":
            let from = try c.word("the connecting node, or all")
            if from == "all" { return .healAll }
            return .heal(from: from, to: try c.word("the node it connects to"))
        case "latency":
            let from = try c.word("the connecting node")
            let to = try c.word("the node it connects to")
            let delay = try c.milliseconds("a delay such as 50ms")
            let jitter = try c.keyword("jitter") ? try c.milliseconds("a jitter such as 20ms") : 0
            return .latency(from: from, to: to, milliseconds: delay, jitterMilliseconds: jitter)
        case "drop":
            let from = try c.word("the connecting node")
            let to = try c.word("the node it connects to")
            let text = try c.word("a fraction from 0 to 1")
            guard let fraction = FaultFraction.partsPerMillion(text) else {
                throw c.error("expected \(FaultFraction.expected), got '\(text)'", back: 1)
            }
            return .drop(from: from, to: to, partsPerMillion: fraction)
        case "settle":
            return .settle
        case "wait":
            return .wait(milliseconds: try c.milliseconds("a duration such as 500ms or 2s"))
        case "set":
            let name = try c.variableName()
            try c.expectKeyword("=")
            return .set(name: name, value: try c.value("a value"))
        case "chaos":
            let timeout = try c.keyword("timeout") ? try c.milliseconds("a request timeout such as 2s") : 2000
            guard timeout > 0 else { throw c.error("expected a request timeout above 0 ms, got '0'", back: 1) }
            return .chaos(timeoutMilliseconds: timeout)
        case "known":
            try c.expectKeyword("bug")
            guard let token = c.peek, token.kind == .string, !token.text.isEmpty else {
                throw c.error("expected what the bug is as a quoted string")
            }
            c.advance()
            return .knownBug(token.text)
        case "check":
            var names: [String] = []
            while !c.atEnd, c.peekWord != "within" {
                let name = try c.word("an invariant: \(InvariantNames.all.joined(separator: ", "))")
                guard InvariantNames.all.contains(name) else {
                    throw c.error(
                        "unknown invariant '\(name)'; expected \(InvariantNames.all.joined(separator: ", "))", back: 1)
                }
                names.append(name)
            }
            return .check(names: names, withinMilliseconds: try c.within())
        default:
            throw c.error(
                "unknown step '\(first)'; expected cluster, signup, login, GET/POST/PUT/PATCH/DELETE, support, request, send, expect, upstream, dp, zone, advance, clock, deactivate, delete, kill, restart, pause, resume, isolate, rejoin, partition, heal, latency, drop, settle, wait, set, chaos, check or known bug",
                back: 1)
        }
    }

    static func parseExpect(_ c: inout Cursor) throws(ScenarioParseError) -> StepAction {
        let head = try c.word(
            "status, body, a $variable, dp, zone, node, org, plan, usage, invoices, email, geo, faults or GET")
        var subject: ExpectSubject
        var path = ""
        switch head {
        case "status":
            let code = try c.integer("an HTTP status", range: 100...599)
            return .expect(
                subject: .lastResponse, path: "status", comparison: .equal, value: .literal(.int(Int64(code))),
                withinMilliseconds: try c.within())
        case "body":
            subject = .lastResponse
            path = "body"
            if let next = c.peekWord, !isComparison(next) { path += "." + (try c.word("a JSON path")) }
        case "header":
            subject = .lastResponse
            path = "headers." + (try c.word("a header name")).lowercased()
        case "dp":
            subject = .dataPlane(try c.word("a data plane name"))
            path = try c.word("a field such as state, config.version or license.state")
        case "zone":
            subject = .zone(try c.word("a zone name"))
            path = try c.word("a field such as state or policies.version")
        case "node":
            let name = try c.word("a node name")
            let state = try c.word("up, down or paused")
            guard ["up", "down", "paused"].contains(state) else {
                throw c.error("expected up, down or paused, got '\(state)'", back: 1)
            }
            return .expect(
                subject: .node(name), path: "state", comparison: .equal, value: .literal(.string(state)),
                withinMilliseconds: try c.within())
        case "org":
            subject = .organization(try c.value("an organization id"))
            path = try c.word("a field such as state")
        case "plan":
            subject = .plan(try c.value("an organization id"))
            path = try c.word("a field such as credits.left")
        case "usage":
            let organization = try c.value("an organization id")
            try c.expectKeyword("cycle")
            let cycle = try c.word("current, previous or a cycle number")
            subject = .usage(organization, cycle: cycle)
            path = try c.word("a field such as periods.0.total")
        case "invoices":
            subject = .invoices(try c.value("an organization id"))
            path = try c.word("count, or a field such as data.0.total")
        case "email":
            let email = try c.value("an email")
            let state = try c.word("locked or unlocked")
            guard ["locked", "unlocked"].contains(state) else {
                throw c.error("expected locked or unlocked, got '\(state)'", back: 1)
            }
            return .expect(
                subject: .email(email), path: "locked", comparison: .equal, value: .literal(.bool(state == "locked")),
                withinMilliseconds: try c.within())
        case "geo":
            subject = .geo(try c.word("a geo"))
            path = try c.word("a field such as pending_usage_records")
        case "faults":
            subject = .faults
            path = try c.word("count, or a field such as faults.0.fault")
        case "GET":
            let node = try c.word("a node name (auth or a geo)")
            let target = try c.template("a path such as /v2/control-planes")
            let token = try c.keyword("with") ? try c.value("a token such as $ana") : nil
            subject = .api(node: node, path: target, token: token)
            path = try c.word("a field such as status or body.items.0.config_hash")
        default:
            guard head.hasPrefix("$") else {
                throw c.error(
                    "expected status, body, header, a $variable, dp, zone, node, org, plan, usage, invoices, email, geo or faults after expect, got '\(head)'",
                    back: 1)
            }
            let reference = String(head.dropFirst())
            let parts = reference.split(separator: ".", maxSplits: 1)
            subject = .variable(String(parts[0]))
            path = parts.count > 1 ? String(parts[1]) : ""
        }
        let comparisonText = c.peekWord
        var comparison = Comparison.equal
        if let comparisonText, let parsed = Comparison(rawValue: comparisonText) {
            c.advance()
            comparison = parsed
        }
        var value: ScenarioValue? = nil
        if comparison != .exists && comparison != .missing {
            value = try c.value("a value to compare with")
        }
        return .expect(
            subject: subject, path: path, comparison: comparison, value: value, withinMilliseconds: try c.within())
    }

    static func isComparison(_ word: String) -> Bool { Comparison(rawValue: word) != nil || word == "within" }
}

/// Walks the tokens of one line.
struct Cursor {
    let tokens: [Token]
    let file: String
    let line: Int
    let lineLength: Int
    var index = 0

    var atEnd: Bool { index >= tokens.count }
    var peek: Token? { atEnd ? nil : tokens[index] }
    var peekWord: String? { peek?.kind == .word ? peek?.text : nil }
    mutating func advance() { index += 1 }

    func error(_ message: String, back: Int = 0) -> ScenarioParseError {
        let position = index - back
        let column = position < tokens.count && position >= 0 ? tokens[position].column : lineLength + 1
        return ScenarioParseError(file: file, line: line, column: column, message: message)
    }

    mutating func word(_ expected: String) throws(ScenarioParseError) -> String {
        guard let token = peek else { throw error("expected \(expected)") }
        guard token.kind == .word else {
            throw error("expected \(expected), got \(token.kind == .string ? "a quoted string" : "JSON")")
        }
        index += 1
        return token.text
    }

    mutating func anyText(_ expected: String) throws(ScenarioParseError) -> String {
        guard let token = peek, token.kind != .json else { throw error("expected \(expected)") }
        index += 1
        return token.text
    }

    mutating func keyword(_ word: String) throws(ScenarioParseError) -> Bool {
        guard peekWord == word else { return false }
        index += 1
        return true
    }

    mutating func expectKeyword(_ word: String) throws(ScenarioParseError) {
        guard try keyword(word) else { throw error("expected '\(word)'\(peek.map { ", got '\($0.text)'" } ?? "")") }
    }

    mutating func expectEnd() throws(ScenarioParseError) {
        guard let token = peek else { return }
        throw error("unexpected '\(token.text)' at the end of the step")
    }

    mutating func integer(_ expected: String, range: ClosedRange<Int>) throws(ScenarioParseError) -> Int {
        let text = try word(expected)
        guard let value = Int(text), range.contains(value) else {
            throw error("expected \(expected), got '\(text)'", back: 1)
        }
        return value
    }

    mutating func milliseconds(_ expected: String) throws(ScenarioParseError) -> Int {
        let text = try word(expected)
        guard let value = WallDuration.milliseconds(text) else {
            throw error("expected \(expected), got '\(text)' (durations are 50ms, 2s or 1m, at most 10m)", back: 1)
        }
        return value
    }

    mutating func variableName() throws(ScenarioParseError) -> String {
        let text = try word("a name such as $cp")
        guard text.hasPrefix("$"), text.count > 1,
            text.dropFirst().allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" })
        else {
            throw error("expected a name such as $cp, got '\(text)'", back: 1)
        }
        return String(text.dropFirst())
    }

    mutating func capture() throws(ScenarioParseError) -> String? {
        guard try keyword("as") else { return nil }
        return try variableName()
    }

    mutating func arrowStatus() throws(ScenarioParseError) -> Int? {
        guard try keyword("->") else { return nil }
        return try integer("an HTTP status such as 201", range: 100...599)
    }

    mutating func within() throws(ScenarioParseError) -> Int? {
        guard try keyword("within") else { return nil }
        return try milliseconds("a duration such as 5s")
    }

    /// A value: quoted string, JSON, `$ref`, number, true/false/null, or a bare word (a string).
    mutating func value(_ expected: String) throws(ScenarioParseError) -> ScenarioValue {
        guard let token = peek else { throw error("expected \(expected)") }
        index += 1
        switch token.kind {
        case .string:
            return token.text.contains("$") ? .template(token.text) : .literal(.string(token.text))
        case .json:
            do {
                _ = try JSONParser.parse(Templates.placeholderJSON(token.text))
            } catch {
                throw ScenarioParseError(
                    file: file, line: line, column: token.column + error.offset,
                    message: "invalid JSON: \(error.reason)")
            }
            return .template(token.text)
        case .word:
            if token.text.hasPrefix("$") {
                let reference = String(token.text.dropFirst())
                let parts = reference.split(separator: ".", maxSplits: 1)
                guard let name = parts.first, !name.isEmpty else { throw error("expected a name after '$'", back: 1) }
                return .reference(name: String(name), path: parts.count > 1 ? String(parts[1]) : "")
            }
            if token.text.contains("$") { return .template(token.text) }
            switch token.text {
            case "true": return .literal(true)
            case "false": return .literal(false)
            case "null": return .literal(.null)
            default:
                if let number = Int64(token.text) { return .literal(.int(number)) }
                return .literal(.string(token.text))
            }
        }
    }

    mutating func template(_ expected: String) throws(ScenarioParseError) -> ScenarioValue {
        let text = try anyText(expected)
        return .template(text)
    }

    mutating func optionalBody() throws(ScenarioParseError) -> ScenarioValue? {
        guard peek?.kind == .json else { return nil }
        return try value("a JSON body")
    }

    mutating func body(_ expected: String) throws(ScenarioParseError) -> ScenarioValue {
        guard peek?.kind == .json else { throw error("expected \(expected)") }
        return try value(expected)
    }
}

extension String {
    func replacingSuffix(_ suffix: String) -> String { hasSuffix(suffix) ? String(dropLast(suffix.count)) : self }
}

extension StringProtocol {
    var trimmingLeadingSpace: String {
        var slice = self[...]
        while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" || last == "\r" { slice = slice.dropLast() }
        return String(slice)
    }
}
