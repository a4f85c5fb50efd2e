import KonnectCluster
import KonnectCore

/// What a click on the console asks for: each is one of the CLI's commands, carried out by the same
/// `Cluster` operation (so it lands in `faults.json` and `faults.log` exactly as the CLI's would).
public enum ConsoleAction: Sendable, Equatable {
    case kill(node: String)
    case restart(node: String)
    case pause(node: String)
    case resume(node: String)
    case partition(from: String, to: String)
    case heal(from: String, to: String)
    case healAll
    case slow(from: String, to: String, delayMilliseconds: Int)
    case drop(from: String, to: String, partsPerMillion: Int)
    case advanceCalendar(by: String)
    case setCalendar(to: String)

    /// The `action` names the page sends.
    public static let names = [
        "kill", "restart", "pause", "resume", "partition", "heal", "heal-all", "slow", "drop", "advance",
        "set-clock",
    ]

    /// Reads an action from the page's JSON body: `{"action": "kill", "node": "eu"}`,
    /// `{"action": "slow", "link": "eu->auth", "latency_ms": 300}`, `{"action": "drop", "link": ...,
    /// "percent": 25}`, `{"action": "advance", "by": "30d"}`, `{"action": "set-clock", "date":
    /// "2026-03-01"}`. A 400 names every field at fault.
    public init(json: JSON) throws(APIError) {
        var reader = try ObjectReader(json)
        let name = reader.string("action", required: true, nullable: false, allowed: ConsoleAction.names)
        var action: ConsoleAction?
        func node(_ reader: inout ObjectReader) -> String? {
            reader.string("node", required: true, nullable: false, minLength: 1, maxLength: 64)
        }
        func link(_ reader: inout ObjectReader) -> (from: String, to: String)? {
            guard let text = reader.string("link", required: true, nullable: false, maxLength: 130) else { return nil }
            let parts = text.split(separator: "->", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                reader.fail("link", "invalid", "must name a link as from->to, such as eu->auth, got \"\(text)\"")
                return nil
            }
            return (parts[0], parts[1])
        }
        switch name {
        case "kill": action = node(&reader).map { .kill(node: $0) }
        case "restart": action = node(&reader).map { .restart(node: $0) }
        case "pause": action = node(&reader).map { .pause(node: $0) }
        case "resume": action = node(&reader).map { .resume(node: $0) }
        case "partition": action = link(&reader).map { .partition(from: $0.from, to: $0.to) }
        case "heal": action = link(&reader).map { .heal(from: $0.from, to: $0.to) }
        case "heal-all": action = .healAll
        case "slow":
            let ends = link(&reader)
            let delay = reader.int("latency_ms", required: true, nullable: false, min: 1, max: 600_000)
            if let ends, let delay { action = .slow(from: ends.from, to: ends.to, delayMilliseconds: Int(delay)) }
        case "drop":
            let ends = link(&reader)
            let percent = reader.int("percent", required: true, nullable: false, min: 1, max: 100)
            if let ends, let percent {
                action = .drop(from: ends.from, to: ends.to, partsPerMillion: Int(percent) * 10_000)
            }
        case "advance":
            action = reader.string(
                "by", required: true, nullable: false, maxLength: 32,
                validate: { SimDuration(text: $0) == nil ? "must be a duration such as 1d or 30d, got \"\($0)\"" : nil }
            ).map { .advanceCalendar(by: $0) }
        case "set-clock":
            action = reader.string(
                "date", required: true, nullable: false, maxLength: 64,
                validate: {
                    ConsoleAction.moment($0) == nil
                        ? "must be a date (2026-03-01) or an RFC 3339 date-time, got \"\($0)\"" : nil
                }
            ).flatMap { ConsoleAction.moment($0) }.map { .setCalendar(to: $0.iso8601) }
        default: break
        }
        try reader.finish()
        guard let action else { throw APIError.badRequest("The action could not be read") }
        self = action
    }

    /// A date input's `2026-03-01` (midnight UTC) or a full RFC 3339 date-time.
    static func moment(_ text: String) -> SimTime? {
        SimTime(iso8601: text) ?? SimTime(iso8601: text + "T00:00:00Z")
    }

    /// What was done, in the CLI's words.
    public var done: String {
        switch self {
        case .kill(let node): "killed \(node) (SIGKILL)"
        case .restart(let node): "restarted \(node)"
        case .pause(let node): "paused \(node) (SIGSTOP)"
        case .resume(let node): "resumed \(node) (SIGCONT)"
        case .partition(let from, let to): "partitioned \(from) -> \(to)"
        case .heal(let from, let to): "healed \(from) -> \(to)"
        case .healAll: "healed every link"
        case .slow(let from, let to, let delay): "added \(delay) ms to \(from) -> \(to)"
        case .drop(let from, let to, let ppm): "dropping \(Double(ppm) / 10_000)% of requests on \(from) -> \(to)"
        case .advanceCalendar(let by): "moved the calendar forward by \(by)"
        case .setCalendar(let date): "moved the calendar to \(date)"
        }
    }
}

extension Cluster {
    /// Carries out a console action through the same operation as the CLI command; a calendar move
    /// returns the auth node's report of the move.
    @discardableResult
    public func perform(_ action: ConsoleAction) throws -> JSON? {
        switch action {
        case .kill(let node): try kill(node)
        case .restart(let node): try restart(node)
        case .pause(let node): try pause(node)
        case .resume(let node): try resume(node)
        case .partition(let from, let to): try partition(from: from, to: to)
        case .heal(let from, let to): try heal(from: from, to: to)
        case .healAll: try healAll()
        case .slow(let from, let to, let delay):
            try slow(from: from, to: to, delayMilliseconds: delay, jitterMilliseconds: 0)
        case .drop(let from, let to, let ppm): try drop(from: from, to: to, partsPerMillion: ppm)
        case .advanceCalendar(let by): return try advanceCalendar(by: by)
        case .setCalendar(let date): return try setCalendar(to: date)
        }
        return nil
    }
}
