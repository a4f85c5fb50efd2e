import KonnectCluster
import KonnectCore
import KonnectStorage

#if canImport(Glibc)
    import Glibc
#endif

/// `report.json` (every step, result and timing) and `report.html`: per scenario, a timeline drawn as
/// inline SVG with one lane per node (up / down / paused), per data plane or zone (synced /
/// disconnected / orphaned) and per link (partitioned / slowed / dropping), plus calendar jumps,
/// faults and failed expectations. No JavaScript.
public enum ScenarioReport {
    public static func write(_ results: [ScenarioResult], to directory: String) throws {
        mkdir(directory, 0o755)
        let passed = results.filter(\.passed).count
        let json: JSON = [
            "passed": .int(passed), "failed": .int(results.count - passed), "scenarios": .array(results.map(\.json)),
        ]
        // Reports are meant to be shared: readable by others, unlike a cluster's run directory.
        try AtomicFile.write(json.prettyText + "\n", to: directory + "/report.json", mode: 0o644)
        try AtomicFile.write(html(results), to: directory + "/report.html", mode: 0o644)
    }

    static func escape(_ text: String) -> String { TimelineChart.escape(text) }

    public static func html(_ results: [ScenarioResult]) -> String {
        let passed = results.filter(\.passed).count
        var page = head(
            title: "konnect-sim scenarios",
            heading:
                "konnect-sim scenarios: <span class=\"pass\">\(passed) passed</span>, <span class=\"\(passed == results.count ? "pass" : "fail")\">\(results.count - passed) failed</span>"
        )
        page += "<ul>"
        for result in results {
            page +=
                "<li><a href=\"#\(escape(result.name))\" class=\"\(result.passed ? "pass" : "fail")\">\(result.passed ? "PASS" : "FAIL") \(escape(result.name))</a></li>"
        }
        page += "</ul>\n"
        for result in results { page += section(result) }
        page += "</body></html>\n"
        return page
    }

    /// A report page's head: styles, the heading and the timeline's legend (the chaos report's too).
    public static func head(title: String, heading: String) -> String {
        """
        <!DOCTYPE html><html><head><meta charset="utf-8"><title>\(escape(title))</title>
        <style>body{font-family:system-ui,sans-serif;margin:24px;color:#222}h2{margin-top:36px}.pass{color:#2e7d32}.fail{color:#c62828}
        table{border-collapse:collapse;font-size:13px}td,th{border-bottom:1px solid #eee;padding:3px 8px;text-align:left;vertical-align:top}
        .skipped{color:#999}code{background:#f4f4f4;padding:1px 3px}
        \(TimelineChart.css)</style></head><body>
        <h1>\(heading)</h1>
        """ + TimelineChart.legend(markers: [.calendar, .fault, .failure])
    }

    static func section(_ result: ScenarioResult) -> String {
        var text =
            "<h2 id=\"\(escape(result.name))\" class=\"\(result.passed ? "pass" : "fail")\">\(result.passed ? "PASS" : "FAIL") \(escape(result.name))</h2>"
        text +=
            "<p>\(escape(result.summary))</p><p><code>\(escape(result.file))</code>, seed \(result.seed), \(Double(result.durationMilliseconds) / 1000) s</p>"
        if let error = result.error { text += "<p class=\"fail\">\(escape(error))</p>" }
        if let bug = result.knownBug {
            text += "<p>Known bug (expected to fail until fixed): \(escape(bug))</p>"
        }
        text += timeline(result)
        text += "<table><tr><th>line</th><th>step</th><th>result</th><th>ms</th><th>calendar</th></tr>"
        for step in result.steps {
            text +=
                "<tr class=\"\(step.outcome == .skipped ? "skipped" : "")\"><td>\(step.line)</td><td><code>\(escape(step.text))</code>"
            if let message = step.message { text += "<br><span class=\"fail\">\(escape(message))</span>" }
            text +=
                "</td><td class=\"\(step.outcome == .failed ? "fail" : step.outcome == .passed ? "pass" : step.outcome == .tolerated ? "" : "skipped")\">\(step.outcome.rawValue)</td>"
            text += "<td>\(step.durationMilliseconds)</td><td>\(escape(step.calendar ?? ""))</td></tr>"
        }
        return text + "</table>\n"
    }

    /// The SVG timeline of one scenario, followed by the numbered list of its markers.
    public static func timeline(_ result: ScenarioResult) -> String {
        TimelineChart.svg(result.timeline, total: result.durationMilliseconds)
            + TimelineChart.markerList(result.timeline) { "\(Double($0.at) / 1000) s" }
    }
}
