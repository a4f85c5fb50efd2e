/// The timeline drawing shared by `report.html` and the console: the palette of node, sync and link
/// states, an inline SVG with one lane per node, data plane or zone and link, numbered markers for
/// faults, calendar moves, lifecycle changes, configuration pushes and failures, and their list.
/// Pure text in, text out; no JavaScript and no inline styles (the console's CSP forbids them).
public enum TimelineChart {
    /// Lane colours by state: node (up, down, paused), sync (synced, disconnected, orphaned) and link
    /// (healthy, partitioned, slowed, dropping).
    public static let colors: [String: String] = [
        "up": "#2e7d32", "down": "#c62828", "paused": "#f9a825", "synced": "#43a047", "disconnected": "#fb8c00",
        "orphaned": "#6a1b9a", "healthy": "#cfd8dc", "partitioned": "#c62828", "slowed": "#fdd835",
        "dropping": "#ef6c00",
    ]

    /// Any other state (an unresponsive node, a state the palette does not know).
    public static let otherColor = "#90a4ae"

    public static func color(_ state: String) -> String { colors[state] ?? otherColor }

    /// Marker colours by kind.
    public static func markerColor(_ kind: TimelineEvent.Kind) -> String {
        switch kind {
        case .calendar: "#1565c0"
        case .fault: "#000"
        case .lifecycle: "#8e24aa"
        case .config: "#00897b"
        case .failure, .node, .sync, .link: "#d50000"
        }
    }

    static let markerNames: [(TimelineEvent.Kind, String)] = [
        (.calendar, "calendar jump"), (.fault, "fault"), (.lifecycle, "lifecycle change"),
        (.config, "configuration pushed"), (.failure, "failed expectation"),
    ]

    /// The chart's style sheet: legend, marker list and marker colours.
    public static var css: String {
        var text =
            ".legend span{display:inline-block;margin-right:14px;font-size:12px}.legend .swatch{margin-right:4px;vertical-align:middle}.markers{font-size:12px;columns:2}"
        for (kind, _) in markerNames { text += ".marker-\(kind.rawValue){color:\(markerColor(kind))}" }
        return text + "\n"
    }

    public static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    /// A small colour square, as SVG so that no inline style is needed.
    public static func swatch(_ color: String) -> String {
        "<svg class=\"swatch\" width=\"12\" height=\"12\" aria-hidden=\"true\"><rect width=\"12\" height=\"12\" fill=\"\(color)\"/></svg>"
    }

    /// The legend: every state colour, then the marker kinds given.
    public static func legend(markers: [TimelineEvent.Kind]) -> String {
        var text = "<div class=\"legend\">"
        for (state, color) in colors.sorted(by: { $0.key < $1.key }) {
            text += "<span>\(swatch(color))\(state)</span>"
        }
        for (kind, name) in markerNames where markers.contains(kind) {
            text += "<span>\(swatch(markerColor(kind)))\(name)</span>"
        }
        return text + "</div>\n"
    }

    static func isMarker(_ kind: TimelineEvent.Kind) -> Bool {
        kind != .node && kind != .sync && kind != .link
    }

    /// The lanes and numbered markers of `events` over `0...total` milliseconds, `width` pixels wide
    /// for the time axis, with `startLabel` and `endLabel` under it.
    public static func svg(
        _ events: [TimelineEvent], total: Int, width: Double = 900, startLabel: String = "0 s",
        endLabel: String? = nil
    ) -> String {
        let laneKinds: [TimelineEvent.Kind] = [.node, .sync, .link]
        var lanes: [(kind: TimelineEvent.Kind, subject: String)] = []
        for kind in laneKinds {
            for event in events
            where event.kind == kind && !lanes.contains(where: { $0.kind == kind && $0.subject == event.subject }) {
                lanes.append((kind, event.subject))
            }
        }
        let markers = events.filter { isMarker($0.kind) }
        let total = max(1, total)
        let left = 150.0
        let laneHeight = 18.0
        let top = 50.0
        let bottom = top + Double(lanes.count) * (laneHeight + 4)
        let height = bottom + 20
        func x(_ at: Int) -> Double { left + width * Double(min(max(at, 0), total)) / Double(total) }
        var svg =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"timeline\" width=\"\(Int(left + width + 20))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(left + width + 20)) \(Int(height))\" font-size=\"11\" font-family=\"sans-serif\">"
        for (index, lane) in lanes.enumerated() {
            let y = top + Double(index) * (laneHeight + 4)
            let label = lane.kind == .sync ? "\(lane.subject) sync" : lane.subject
            svg += "<text x=\"4\" y=\"\(y + 13)\">\(escape(label))</text>"
            let laneEvents = events.filter { $0.kind == lane.kind && $0.subject == lane.subject }
            for (position, event) in laneEvents.enumerated() {
                let end = position + 1 < laneEvents.count ? laneEvents[position + 1].at : total
                svg +=
                    "<rect x=\"\(x(event.at))\" y=\"\(y)\" width=\"\(max(1, x(end) - x(event.at)))\" height=\"\(laneHeight)\" fill=\"\(color(event.state))\"><title>\(escape(lane.subject)): \(escape(event.state)) \(escape(event.detail)) at \(event.at) ms</title></rect>"
            }
        }
        // Markers: a numbered flag on one of three rows (so close ones do not overlap) and a line down.
        for (number, event) in markers.enumerated() {
            let position = x(event.at)
            let row = Double(number % 3)
            let stroke = markerColor(event.kind)
            svg +=
                "<line x1=\"\(position)\" y1=\"\(8 + row * 13)\" x2=\"\(position)\" y2=\"\(bottom)\" stroke=\"\(stroke)\" stroke-width=\"\(event.kind == .failure ? 2 : 1)\" stroke-dasharray=\"\(event.kind == .calendar ? "4 2" : "none")\"><title>\(escape(event.detail))</title></line>"
            svg +=
                "<text x=\"\(position + 2)\" y=\"\(17 + row * 13)\" fill=\"\(stroke)\" font-weight=\"bold\">\(number + 1)</text>"
        }
        svg +=
            "<text x=\"\(left)\" y=\"\(bottom + 14)\" fill=\"#666\">\(escape(startLabel))</text><text x=\"\(left + width)\" y=\"\(bottom + 14)\" fill=\"#666\" text-anchor=\"end\">\(escape(endLabel ?? "\(Double(total) / 1000) s"))</text>"
        return svg + "</svg>\n"
    }

    /// The markers of `events`, numbered as on the chart, each with its `time` and kind; the newest
    /// first when asked (the numbers still match the chart's).
    public static func markerList(
        _ events: [TimelineEvent], newestFirst: Bool = false, time: (TimelineEvent) -> String
    ) -> String {
        let markers = events.filter { isMarker($0.kind) }
        guard !markers.isEmpty else { return "" }
        var list = newestFirst ? "<ol class=\"markers\" reversed>" : "<ol class=\"markers\">"
        for event in newestFirst ? markers.reversed() : markers {
            let kind = markerNames.first { $0.0 == event.kind }?.1 ?? event.kind.rawValue
            list +=
                "<li class=\"marker-\(event.kind.rawValue)\">\(escape(time(event))), \(escape(kind)): \(escape(event.detail))</li>"
        }
        return list + "</ol>\n"
    }
}
