import KonnectCore
import KonnectScenario
import KonnectStorage

#if canImport(Glibc)
    import Glibc
#endif

/// `--report DIR`: `report.html` (the scenario report's timeline with every offending event marked, the
/// verdict of each invariant, the offending events with their requests and answers, and the schedule),
/// `verdicts.json` and `history.jsonl`.
public enum ChaosReport {
    public static func write(_ run: ChaosRunResult, to directory: String) throws {
        makeDirectories(directory)
        try AtomicFile.write(HistoryFile.text(run.history), to: directory + "/history.jsonl")
        try AtomicFile.write(verdictsJSON(run).prettyText + "\n", to: directory + "/verdicts.json")
        try AtomicFile.write(html(run), to: directory + "/report.html")
        let needs =
            run.topology == .unix
            ? "" : "# Needs --topology \(run.topology.rawValue) (chaos --replay and scenario run).\n"
        try AtomicFile.write(needs + run.lines.joined(separator: "\n") + "\n", to: directory + "/schedule.scenario")
    }

    static func verdictsJSON(_ run: ChaosRunResult) -> JSON {
        [
            "seed": .int(Int64(bitPattern: run.seed)), "passed": .bool(run.passed),
            "verdicts": .array(
                (run.outcome?.details ?? []).map { verdict in
                    [
                        "invariant": .string(verdict.invariant), "passed": .bool(verdict.passed),
                        "notes": .strings(verdict.notes),
                        "violations": .array(
                            verdict.violations.map {
                                ["message": .string($0.message), "events": .array($0.events.map { .int($0) })]
                            }),
                    ]
                }),
        ]
    }

    public static func html(_ run: ChaosRunResult) -> String {
        let escape = TimelineChart.escape
        let verdicts = run.outcome?.details ?? []
        var page = ScenarioReport.head(
            title: "konnect-sim chaos, seed \(run.seed)",
            heading:
                "konnect-sim chaos, seed \(run.seed): <span class=\"\(run.passed ? "pass" : "fail")\">\(run.passed ? "invariants held" : "invariants broken")</span>"
        )
        page += "<style>li code{word-break:break-all}</style>"
        page +=
            "<p>\(run.lines.count) scenario lines, \(run.faultCount) fault steps, \(run.history.count) history events, \(Double(run.result.durationMilliseconds) / 1000) s. Files: <a href=\"history.jsonl\">history.jsonl</a>, <a href=\"verdicts.json\">verdicts.json</a>, <a href=\"schedule.scenario\">schedule.scenario</a>.</p>"
        if run.outcome == nil { page += "<p class=\"fail\">\(escape(run.summary))</p>" }
        page += "<table><tr><th>invariant</th><th>verdict</th><th>notes</th></tr>"
        for verdict in verdicts {
            page +=
                "<tr><td><a href=\"#\(verdict.invariant)\">\(verdict.invariant)</a></td><td class=\"\(verdict.passed ? "pass" : "fail")\">\(verdict.passed ? "held" : "\(verdict.violations.count) violations")</td><td>\(escape(verdict.notes.joined(separator: "; ")))</td></tr>"
        }
        page +=
            "</table>\n<h2>Timeline</h2><p>The run's lanes and markers as in the scenario report; the red markers (\"failed expectation\") are the offending events, each named after the invariants it breaks.</p>"
        // The run's timeline, with each offending event marked where it happened.
        var marked = run.result
        var offending: [Int: [String]] = [:]
        for verdict in verdicts {
            for violation in verdict.violations {
                for index in violation.events { offending[index, default: []].append(verdict.invariant) }
            }
        }
        for (index, invariants) in offending.sorted(by: { $0.key < $1.key }) where index < run.history.count {
            let event = run.history[index]
            marked.timeline.append(
                TimelineEvent(
                    at: event.start, kind: .failure, subject: "#\(index)", state: "offending",
                    detail: "\(Set(invariants).sorted().joined(separator: ", ")): \(event.summary)"))
        }
        marked.timeline.sort { $0.at < $1.at }
        page += ScenarioReport.timeline(marked)
        for verdict in verdicts where !verdict.passed {
            page += "<h2 id=\"\(verdict.invariant)\" class=\"fail\">\(verdict.invariant): broken</h2><ol>"
            for violation in verdict.violations.prefix(50) {
                page += "<li>\(escape(violation.message))<ul>"
                for index in violation.events where index < run.history.count {
                    page += "<li>\(eventHTML(run.history[index]))</li>"
                }
                page += "</ul></li>"
            }
            page += "</ol>"
        }
        page += "<h2>Schedule</h2><pre style=\"font-size:12px\">"
        for (number, line) in run.lines.enumerated() {
            page += "\(String(number + 1).leftPadded(4))  \(escape(line))\n"
        }
        page += "</pre></body></html>\n"
        return page
    }

    /// One event: its summary, time, calendar and line, with the request body and the answer.
    static func eventHTML(_ event: HistoryEvent) -> String {
        let escape = TimelineChart.escape
        var text =
            "<code>\(escape(event.summary))</code> at \(Double(event.start) / 1000) s, line \(event.line), calendar \(event.calendar?.iso8601 ?? "unknown")"
        if case .call(_, _, _, _, let body?) = event.action {
            text += "<br>request: <code>\(escape(String(body.text.prefix(400))))</code>"
        }
        if let body = event.outcome.body {
            text += "<br>answer: <code>\(escape(String(body.text.prefix(400))))</code>"
        }
        if case .observation(_, _, let details) = event.action {
            text += "<br>seen: <code>\(escape(String(details.text.prefix(400))))</code>"
        }
        return text
    }
}

/// `mkdir -p`.
func makeDirectories(_ path: String) {
    var partial = path.hasPrefix("/") ? "" : "."
    for component in path.split(separator: "/") {
        partial += "/" + component
        mkdir(partial, 0o755)
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
