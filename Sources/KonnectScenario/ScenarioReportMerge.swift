import KonnectCluster
import KonnectCore
import KonnectHTTP

/// `scenario merge-reports DIR... --out DIR`: the `report.json` files of several runs (the shards of one
/// scenario set, run on different machines) as one `report.json` and `report.html`.
public enum ScenarioReportMerge {
    /// Reads each directory's `report.json`; errors name the file and what is wrong with it.
    public static func results(in directories: [String]) throws(UsageError) -> [ScenarioResult] {
        var results: [ScenarioResult] = []
        for directory in directories {
            let path = (directory.hasSuffix("/") ? String(directory.dropLast()) : directory) + "/report.json"
            guard let bytes = readWholeFile(path) else {
                throw UsageError("cannot read \(path): is \(directory) a directory 'scenario run --report' wrote?")
            }
            let report: JSON
            do {
                report = try JSONParser.parse(bytes)
            } catch {
                throw UsageError("\(path) is not JSON: \(error)")
            }
            guard let scenarios = report["scenarios"]?.arrayValue else {
                throw UsageError("\(path) has no 'scenarios' array: is it a scenario report?")
            }
            for (position, scenario) in scenarios.enumerated() {
                do {
                    results.append(try ScenarioResult(json: scenario))
                } catch {
                    throw UsageError("\(path): scenario \(position + 1): \(error)")
                }
            }
        }
        // One order whatever order the shards came in: by file, then name.
        return results.sorted { ($0.file, $0.name) < ($1.file, $1.name) }
    }

    /// `konnect-sim scenario merge-reports`.
    public static func command(_ command: ParsedCommand) throws {
        guard !command.arguments.isEmpty else {
            throw UsageError("name the report directories to merge, such as 'shard-1 shard-2'")
        }
        guard let out = command.option("out"), !out.isEmpty else {
            throw UsageError("missing --out DIR: where to write the merged report.json and report.html")
        }
        let results = try results(in: command.arguments)
        try ScenarioReport.write(results, to: out)
        let passed = results.filter(\.passed).count
        let known = results.filter { $0.knownBug != nil && !$0.passed }.count
        let failed = results.count - passed - known
        print(
            "merged \(command.arguments.count) report\(command.arguments.count == 1 ? "" : "s"): \(passed) passed, \(failed) failed\(known > 0 ? ", \(known) known bug\(known == 1 ? "" : "s")" : "")"
        )
        print("report: \(out)/report.html and \(out)/report.json")
    }
}

/// What a report's JSON must hold, said with the field and the value found.
public struct ReportFieldError: Error, CustomStringConvertible {
    public var description: String
}

extension JSON {
    fileprivate func required<T>(_ key: String, _ read: (JSON) -> T?) throws(ReportFieldError) -> T {
        guard let value = self[key] else { throw ReportFieldError(description: "missing field '\(key)'") }
        guard let read = read(value) else {
            throw ReportFieldError(description: "field '\(key)' has an unexpected value \(value.text.prefix(80))")
        }
        return read
    }

    fileprivate func optionalString(_ key: String) throws(ReportFieldError) -> String? {
        guard let value = self[key], value != .null else { return nil }
        guard let text = value.stringValue else {
            throw ReportFieldError(
                description: "field '\(key)' should be a string or null, not \(value.text.prefix(80))")
        }
        return text
    }
}

extension StepResult {
    /// Reads what `json` wrote.
    public init(json: JSON) throws(ReportFieldError) {
        let outcome = try json.required("outcome") { $0.stringValue }
        guard let known = Outcome(rawValue: outcome) else {
            throw ReportFieldError(description: "unknown step outcome '\(outcome)'")
        }
        self.init(
            line: Int(try json.required("line") { $0.intValue }), text: try json.required("step") { $0.stringValue },
            outcome: known, message: try json.optionalString("message"),
            startedAt: Int(try json.required("started_ms") { $0.intValue }),
            durationMilliseconds: Int(try json.required("duration_ms") { $0.intValue }),
            calendar: try json.optionalString("calendar"))
    }
}

extension TimelineEvent {
    /// Reads what `json` wrote.
    public init(json: JSON) throws(ReportFieldError) {
        let kind = try json.required("kind") { $0.stringValue }
        guard let known = Kind(rawValue: kind) else {
            throw ReportFieldError(description: "unknown timeline event kind '\(kind)'")
        }
        self.init(
            at: Int(try json.required("at_ms") { $0.intValue }), kind: known,
            subject: try json.required("subject") { $0.stringValue },
            state: try json.required("state") { $0.stringValue },
            detail: try json.required("detail") { $0.stringValue })
    }
}

extension ScenarioResult {
    /// Reads what `json` wrote (`passed` is recomputed from the steps and the error).
    public init(json: JSON) throws(ReportFieldError) {
        var steps: [StepResult] = []
        for step in try json.required("steps", { $0.arrayValue }) { steps.append(try StepResult(json: step)) }
        var timeline: [TimelineEvent] = []
        for event in try json.required("timeline", { $0.arrayValue }) {
            timeline.append(try TimelineEvent(json: event))
        }
        self.init(
            name: try json.required("name") { $0.stringValue }, file: try json.required("file") { $0.stringValue },
            summary: try json.required("summary") { $0.stringValue },
            seed: UInt64(bitPattern: try json.required("seed") { $0.intValue }), steps: steps, timeline: timeline,
            durationMilliseconds: Int(try json.required("duration_ms") { $0.intValue }),
            error: try json.optionalString("error"), knownBug: try json.optionalString("known_bug"))
    }
}
