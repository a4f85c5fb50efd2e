import KonnectCore

/// What a step did, as the history records it.
public enum HistoryAction: Sendable, Equatable {
    /// A call on a node's public API; the support credential is written as the token `support`.
    case call(node: String, method: String, path: String, token: String?, body: JSON?)
    /// One request through a data plane's proxy.
    case proxy(dataPlane: String, method: String, path: String)
    /// A fault or its repair: `kill eu`, `restart dp1`, `partition eu->auth`, `heal *`.
    case fault(String, target: String)
    /// A node started or stopped by a step (`start`/`stop`), with what it was started for (a data
    /// plane's geo, control plane and organization).
    case node(String, kind: String, name: String, details: JSON)
    /// Waiting for usage to be delivered. `clean`: it was, and every data plane and geo was running,
    /// so every call answered before this point has been recorded by the auth node.
    case settle(clean: Bool)
    /// A sampled state: a node's process (`up`, `down`, `paused`) or a data plane's sync state.
    case observation(subject: String, state: String, details: JSON)
    /// A named point in the run, such as the start of a `check` step's final observations.
    case mark(String)
}

/// How it ended.
public enum HistoryOutcome: Sendable, Equatable {
    /// An HTTP answer: the node decided.
    case response(status: Int, body: JSON)
    /// A fault, node start, settle or mark that happened.
    case done
    /// Nothing was delivered (the connection was refused, the node was not running): no effect.
    case refused(String)
    /// No answer (a timeout, a reset connection): the effect may or may not have happened.
    case unknown(String)

    public var status: Int? {
        if case .response(let status, _) = self { return status }
        return nil
    }

    public var body: JSON? {
        if case .response(_, let body) = self { return body }
        return nil
    }

    public var isSuccess: Bool {
        switch self {
        case .response(let status, _): (200..<300).contains(status)
        case .done: true
        case .refused, .unknown: false
        }
    }
}

/// One event of a run's history: when it started and ended (milliseconds since the run started), the
/// calendar as the runner knew it when the event started, and the scenario line that caused it.
public struct HistoryEvent: Sendable, Equatable {
    public var index: Int
    public var line: Int
    public var start: Int
    public var end: Int
    public var calendar: SimTime?
    public var action: HistoryAction
    public var outcome: HistoryOutcome

    public init(
        index: Int, line: Int, start: Int, end: Int, calendar: SimTime?, action: HistoryAction,
        outcome: HistoryOutcome
    ) {
        self.index = index
        self.line = line
        self.start = start
        self.end = end
        self.calendar = calendar
        self.action = action
        self.outcome = outcome
    }

    /// One JSON line of `history.jsonl`.
    public var json: JSON {
        var object = JSONObject([
            ("i", .int(index)), ("line", .int(line)), ("start_ms", .int(start)), ("end_ms", .int(end)),
            ("calendar", .optional(calendar?.iso8601)),
        ])
        switch action {
        case .call(let node, let method, let path, let token, let body):
            object["kind"] = "call"
            object["node"] = .string(node)
            object["method"] = .string(method)
            object["path"] = .string(path)
            object["token"] = .optional(token)
            object["body"] = body ?? .null
        case .proxy(let dataPlane, let method, let path):
            object["kind"] = "proxy"
            object["dp"] = .string(dataPlane)
            object["method"] = .string(method)
            object["path"] = .string(path)
        case .fault(let fault, let target):
            object["kind"] = "fault"
            object["fault"] = .string(fault)
            object["target"] = .string(target)
        case .node(let action, let kind, let name, let details):
            object["kind"] = "node"
            object["action"] = .string(action)
            object["node_kind"] = .string(kind)
            object["name"] = .string(name)
            object["details"] = details
        case .settle(let clean):
            object["kind"] = "settle"
            object["clean"] = .bool(clean)
        case .observation(let subject, let state, let details):
            object["kind"] = "observation"
            object["subject"] = .string(subject)
            object["state"] = .string(state)
            object["details"] = details
        case .mark(let name):
            object["kind"] = "mark"
            object["name"] = .string(name)
        }
        switch outcome {
        case .response(let status, let body):
            object["status"] = .int(status)
            object["response"] = body
        case .done:
            object["outcome"] = "done"
        case .refused(let why):
            object["outcome"] = "refused"
            object["error"] = .string(why)
        case .unknown(let why):
            object["outcome"] = "unknown"
            object["error"] = .string(why)
        }
        return .object(object)
    }

    /// Reads a line written by `json`.
    public init?(json: JSON) {
        guard let index = json["i"]?.intValue, let line = json["line"]?.intValue,
            let start = json["start_ms"]?.intValue, let end = json["end_ms"]?.intValue,
            let kind = json["kind"]?.stringValue
        else { return nil }
        let text = { (key: String) in json[key]?.stringValue ?? "" }
        let action: HistoryAction
        switch kind {
        case "call":
            let body = json["body"].flatMap { $0 == .null ? nil : $0 }
            action = .call(
                node: text("node"), method: text("method"), path: text("path"), token: json["token"]?.stringValue,
                body: body)
        case "proxy": action = .proxy(dataPlane: text("dp"), method: text("method"), path: text("path"))
        case "fault": action = .fault(text("fault"), target: text("target"))
        case "node":
            action = .node(
                text("action"), kind: text("node_kind"), name: text("name"), details: json["details"] ?? .null)
        case "settle": action = .settle(clean: json["clean"]?.boolValue ?? false)
        case "observation":
            action = .observation(subject: text("subject"), state: text("state"), details: json["details"] ?? .null)
        case "mark": action = .mark(text("name"))
        default: return nil
        }
        let outcome: HistoryOutcome
        if let status = json["status"]?.intValue {
            outcome = .response(status: Int(status), body: json["response"] ?? .null)
        } else {
            switch text("outcome") {
            case "done": outcome = .done
            case "refused": outcome = .refused(text("error"))
            case "unknown": outcome = .unknown(text("error"))
            default: return nil
            }
        }
        self.init(
            index: Int(index), line: Int(line), start: Int(start), end: Int(end),
            calendar: json["calendar"]?.stringValue.flatMap(SimTime.init(iso8601:)), action: action, outcome: outcome)
    }
}

/// The history as JSON lines (`history.jsonl`), and back.
public enum HistoryFile {
    public static func text(_ events: [HistoryEvent]) -> String {
        events.map { $0.json.text + "\n" }.joined()
    }

    public static func events(_ text: String) -> [HistoryEvent] {
        text.split(separator: "\n").compactMap { line in
            (try? JSONParser.parse(Array(line.utf8))).flatMap(HistoryEvent.init(json:))
        }
    }
}
