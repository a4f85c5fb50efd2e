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
        try AtomicFile.write(json.prettyText + "\n", to: directory + "/report.json")
        try AtomicFile.write(html(results), to: directory + "/report.html")
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(character)
            }
        }
        return out
    }

    static let colors: [String: String] = [
        "up": "#2e7d32", "down": "#c62828", "paused": "#f9a825", "synced": "#43a047", "disconnected": "#fb8c00",
        "orphaned": "#6a1b9a", "healthy": "#cfd8dc", "partitioned": "#c62828", "slowed": "#fdd835",
        "dropping": "#ef6c00",
    ]

    public static func html(_ results: [ScenarioResult]) -> String {
        let passed = results.filter(\.passed).count
        var page = """
            <!DOCTYPE html><html><head><meta charset="utf-8"><title>konnect-sim scenarios</title>
            <style>body{font-family:system-ui,sans-serif;margin:24px;color:#222}h2{margin-top:36px}.pass{color:#2e7d32}.fail{color:#c62828}
            table{border-collapse:collapse;font-size:13px}td,th{border-bottom:1px solid #eee;padding:3px 8px;text-align:left;vertical-align:top}
            .skipped{color:#999}.legend span{display:inline-block;margin-right:14px;font-size:12px}.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:middle}
            code{background:#f4f4f4;padding:1px 3px}</style></head><body>
            <h1>konnect-sim scenarios: <span class="pass">\(passed) passed</span>, <span class="\(passed == results.count ? "pass" : "fail")">\(results.count - passed) failed</span></h1>
            <div class="legend">
            """
        for (state, color) in colors.sorted(by: { $0.key < $1.key }) {
            page += "<span><i style=\"background:\(color)\"></i>\(state)</span>"
        }
        page +=
            "<span><i style=\"background:#1565c0\"></i>calendar jump</span><span><i style=\"background:#000\"></i>fault</span><span><i style=\"background:#d50000\"></i>failed expectation</span></div>\n<ul>"
        for result in results {
            page +=
                "<li><a href=\"#\(escape(result.name))\" class=\"\(result.passed ? "pass" : "fail")\">\(result.passed ? "PASS" : "FAIL") \(escape(result.name))</a></li>"
        }
        page += "</ul>\n"
        for result in results { page += section(result) }
        page += "</body></html>\n"
        return page
    }

    static func section(_ result: ScenarioResult) -> String {
        var text =
            "<h2 id=\"\(escape(result.name))\" class=\"\(result.passed ? "pass" : "fail")\">\(result.passed ? "PASS" : "FAIL") \(escape(result.name))</h2>"
        text +=
            "<p>\(escape(result.summary))</p><p><code>\(escape(result.file))</code>, seed \(result.seed), \(Double(result.durationMilliseconds) / 1000) s</p>"
        if let error = result.error { text += "<p class=\"fail\">\(escape(error))</p>" }
        text += timeline(result)
        text += "<table><tr><th>line</th><th>step</th><th>result</th><th>ms</th><th>calendar</th></tr>"
        for step in result.steps {
            text +=
                "<tr class=\"\(step.outcome == .skipped ? "skipped" : "")\"><td>\(step.line)</td><td><code>\(escape(step.text))</code>"
            if let message = step.message { text += "<br><span class=\"fail\">\(escape(message))</span>" }
            text +=
                "</td><td class=\"\(step.outcome == .failed ? "fail" : step.outcome == .passed ? "pass" : "skipped")\">\(step.outcome.rawValue)</td>"
            text += "<td>\(step.durationMilliseconds)</td><td>\(escape(step.calendar ?? ""))</td></tr>"
        }
        return text + "</table>\n"
    }

    /// The SVG timeline of one scenario, followed by the numbered list of its markers.
    static func timeline(_ result: ScenarioResult) -> String {
        let laneKinds: [TimelineEvent.Kind] = [.node, .sync, .link]
        var lanes: [(kind: TimelineEvent.Kind, subject: String)] = []
        for kind in laneKinds {
            for event in result.timeline
            where event.kind == kind && !lanes.contains(where: { $0.kind == kind && $0.subject == event.subject }) {
                lanes.append((kind, event.subject))
            }
        }
        let markers = result.timeline.filter { $0.kind == .calendar || $0.kind == .fault || $0.kind == .failure }
        let total = max(1, result.durationMilliseconds)
        let left = 150.0
        let width = 900.0
        let laneHeight = 18.0
        let top = 50.0
        let bottom = top + Double(lanes.count) * (laneHeight + 4)
        let height = bottom + 20
        func x(_ at: Int) -> Double { left + width * Double(min(max(at, 0), total)) / Double(total) }
        func color(_ kind: TimelineEvent.Kind) -> String {
            kind == .calendar ? "#1565c0" : kind == .fault ? "#000" : "#d50000"
        }
        var svg =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(left + width + 20))\" height=\"\(Int(height))\" font-size=\"11\" font-family=\"sans-serif\">"
        for (index, lane) in lanes.enumerated() {
            let y = top + Double(index) * (laneHeight + 4)
            let label = lane.kind == .sync ? "\(lane.subject) sync" : lane.subject
            svg += "<text x=\"4\" y=\"\(y + 13)\">\(escape(label))</text>"
            let events = result.timeline.filter { $0.kind == lane.kind && $0.subject == lane.subject }
            for (position, event) in events.enumerated() {
                let end = position + 1 < events.count ? events[position + 1].at : total
                let fill = colors[event.state] ?? "#90a4ae"
                svg +=
                    "<rect x=\"\(x(event.at))\" y=\"\(y)\" width=\"\(max(1, x(end) - x(event.at)))\" height=\"\(laneHeight)\" fill=\"\(fill)\"><title>\(escape(lane.subject)): \(escape(event.state)) \(escape(event.detail)) at \(event.at) ms</title></rect>"
            }
        }
        // Markers: a numbered flag on one of three rows (so close ones do not overlap) and a line down.
        for (number, event) in markers.enumerated() {
            let position = x(event.at)
            let row = Double(number % 3)
            let stroke = color(event.kind)
            svg +=
                "<line x1=\"\(position)\" y1=\"\(8 + row * 13)\" x2=\"\(position)\" y2=\"\(bottom)\" stroke=\"\(stroke)\" stroke-width=\"\(event.kind == .failure ? 2 : 1)\" stroke-dasharray=\"\(event.kind == .calendar ? "4 2" : "none")\"><title>\(escape(event.detail))</title></line>"
            svg +=
                "<text x=\"\(position + 2)\" y=\"\(17 + row * 13)\" fill=\"\(stroke)\" font-weight=\"bold\">\(number + 1)</text>"
        }
        svg +=
            "<text x=\"\(left)\" y=\"\(bottom + 14)\" fill=\"#666\">0 s</text><text x=\"\(left + width - 30)\" y=\"\(bottom + 14)\" fill=\"#666\">\(Double(total) / 1000) s</text>"
        svg += "</svg>\n"
        guard !markers.isEmpty else { return svg }
        var list = "<ol style=\"font-size:12px;columns:2\">"
        for event in markers {
            let kind = event.kind == .calendar ? "calendar" : event.kind == .fault ? "fault" : "failed"
            list +=
                "<li style=\"color:\(color(event.kind))\">\(Double(event.at) / 1000) s, \(kind): \(escape(event.detail))</li>"
        }
        return svg + list + "</ol>\n"
    }
}
