import KonnectCluster
import KonnectCore
import KonnectHTTP

#if canImport(Glibc)
    import Glibc
#endif

/// `expect` steps: observe something, compare, and say exactly what was expected and what was seen.
extension ScenarioRunner {
    func expect(
        _ subject: ExpectSubject, _ path: String, _ comparison: Comparison, _ value: ScenarioValue?,
        withinMilliseconds: Int?
    ) throws {
        let expected = try value.map(resolve)
        let deadline = Monotonic.now + (withinMilliseconds ?? 0)
        while true {
            var seen: JSON? = nil
            var observationError: String? = nil
            do {
                let document = try observe(subject)
                seen = path.isEmpty ? document : document.value(atPath: path)
            } catch {
                observationError = "\(error)"
            }
            if observationError == nil, ScenarioRunner.holds(seen, comparison, expected) { return }
            if Monotonic.now >= deadline {
                let subjectText = describe(subject) + (path.isEmpty ? "" : " \(path)")
                let wanted = "\(comparison.rawValue)\(expected.map { " \($0.text)" } ?? "")"
                let within = withinMilliseconds.map { " within \($0) ms" } ?? ""
                if let observationError {
                    throw StepFailure(
                        message:
                            "expected \(subjectText) \(wanted)\(within), but it could not be observed: \(observationError)"
                    )
                }
                throw StepFailure(
                    message:
                        "expected \(subjectText) \(wanted)\(within), but it was \(seen.map { String($0.text.prefix(400)) } ?? "absent")"
                )
            }
            usleep(50_000)
        }
    }

    func describe(_ subject: ExpectSubject) -> String {
        switch subject {
        case .lastResponse: "the last response"
        case .variable(let name): "$\(name)"
        case .dataPlane(let name): "data plane \(name)"
        case .zone(let name): "zone \(name)"
        case .node(let name): "node \(name)"
        case .organization: "the organization"
        case .plan: "the plan"
        case .usage(_, let cycle): "usage of cycle \(cycle)"
        case .invoices: "the invoices"
        case .email(let email): "email \((try? stringValue(email)) ?? "")"
        case .geo(let name): "geo \(name)"
        case .faults: "the fault log"
        case .api(let node, let path, _): "GET \(node) \((try? text(path)) ?? "")"
        }
    }

    /// The document an expectation looks into.
    func observe(_ subject: ExpectSubject) throws -> JSON {
        let cluster = try requireCluster()
        func support(_ path: String) throws -> JSON {
            let response = try supportCall("GET", path)
            guard response.status == 200, let body = response.json else {
                throw StepFailure(message: "GET \(path) answered \(response.status): \(response.text.prefix(300))")
            }
            return body
        }
        switch subject {
        case .lastResponse:
            return last
        case .variable(let name):
            return try lookup(name, "")
        case .dataPlane(let name), .zone(let name):
            return try cluster.nodeStatus(name)
        case .node(let name):
            let record = try cluster.requireRecord(name)
            let (_, state) = cluster.processState(record)
            return ["state": .string(state == .running ? "up" : state.rawValue)]
        case .organization(let value):
            return try support("/v3/support/organizations/\(try stringValue(value))")
        case .plan(let value):
            return try support("/v3/support/organizations/\(try stringValue(value))/plan")
        case .usage(let value, let cycle):
            return try support("/v3/support/organizations/\(try stringValue(value))/billing/usage?cycle=\(cycle)")
        case .invoices(let value):
            let body = try support("/v3/support/organizations/\(try stringValue(value))/invoices")
            return ["count": .int(body["data"]?.arrayValue?.count ?? 0), "data": body["data"] ?? []]
        case .email(let value):
            let email = try stringValue(value).lowercased()
            let body = try support("/v3/support/email-locks")
            let locked = (body["data"]?.arrayValue ?? []).contains { $0["email"]?.stringValue?.lowercased() == email }
            return ["locked": .bool(locked)]
        case .geo(let name):
            let response = try cluster.client(named: name, timeoutMilliseconds: 2000).send("GET", "/internal/v1/status")
            guard let body = response.json else { throw StepFailure(message: "geo \(name) did not answer its status") }
            return body
        case .faults:
            let log = cluster.faultLog
            return ["count": .int(log.count), "faults": .array(log)]
        case .api(let node, let path, let token):
            let response = try call(node, "GET", try text(path), body: nil, token: try token.map(tokenText))
            return ["status": .int(response.status), "body": response.json ?? .string(response.text)]
        }
    }

    /// Whether `seen` compares with `expected` as asked. Numbers compare numerically, also when one side
    /// is a decimal string (`"105.00"`).
    static func holds(_ seen: JSON?, _ comparison: Comparison, _ expected: JSON?) -> Bool {
        switch comparison {
        case .exists: return seen != nil && seen != .null
        case .missing: return seen == nil || seen == .null
        case .equal: return seen.map { equal($0, expected ?? .null) } ?? (expected == .null)
        case .notEqual: return !(seen.map { equal($0, expected ?? .null) } ?? (expected == .null))
        case .contains:
            guard let seen, let expected else { return false }
            switch seen {
            case .string(let text): return text.contains(expected.stringValue ?? expected.text)
            case .array(let items): return items.contains { equal($0, expected) }
            case .object(let object): return expected.stringValue.map { object.contains($0) } ?? false
            default: return false
            }
        case .greater, .greaterOrEqual, .less, .lessOrEqual:
            guard let left = seen.flatMap(number), let right = expected.flatMap(number) else { return false }
            switch comparison {
            case .greater: return left > right
            case .greaterOrEqual: return left >= right
            case .less: return left < right
            default: return left <= right
            }
        }
    }

    static func equal(_ a: JSON, _ b: JSON) -> Bool {
        if a == b { return true }
        if let left = number(a), let right = number(b) { return left == right }
        if let left = a.stringValue, let right = b.stringValue { return left == right }
        if case .bool(let flag) = a, let text = b.stringValue { return String(flag) == text }
        return false
    }

    /// A comparable number in hundredths (money) units: integers, doubles and decimal strings.
    static func number(_ value: JSON) -> Int64? {
        switch value {
        case .int(let number): return number.multipliedReportingOverflow(by: 100).overflow ? nil : number * 100
        case .double(let number): return number.isFinite && abs(number) < 9e15 ? Int64((number * 100).rounded()) : nil
        case .string(let text):
            if let integer = Int64(text) {
                return integer.multipliedReportingOverflow(by: 100).overflow ? nil : integer * 100
            }
            let negative = text.hasPrefix("-")
            guard let money = Money(decimal: negative ? String(text.dropFirst()) : text) else { return nil }
            return negative ? -money.cents : money.cents
        default: return nil
        }
    }
}
