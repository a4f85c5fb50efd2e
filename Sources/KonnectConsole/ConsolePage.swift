import KonnectCluster
import KonnectCore
import KonnectScenario

/// Turns the view into the page's HTML: one fragment per live section (what the event stream sends)
/// and the page around them. Every text from the cluster is escaped; colours come from the scenario
/// report's palette; there is no inline script or style (the console's CSP forbids both).
public enum ConsolePage {
    /// The sections the page replaces when they change, in page order.
    public static let sectionIDs = ["topology", "calendar", "faults", "organizations", "timeline"]

    static func escape(_ text: String) -> String { TimelineChart.escape(text) }

    /// Every live section's HTML by id.
    public static func sections(_ view: ConsoleView, timeline: String) -> [String: String] {
        [
            "topology": topology(view.topology), "calendar": calendar(view.calendar),
            "faults": faults(view.nodes, view.links), "organizations": organizations(view.organizations),
            "timeline": timeline,
        ]
    }

    // MARK: - Topology

    public static func topology(_ view: TopologyView) -> String {
        var svg =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"topology\" width=\"\(view.width)\" height=\"\(view.height)\" viewBox=\"0 0 \(view.width) \(view.height)\" font-family=\"sans-serif\" font-size=\"12\" role=\"img\" aria-label=\"cluster topology\">"
        for edge in view.edges {
            svg +=
                "<g class=\"link\" data-link=\"\(escape(edge.link))\" data-condition=\"\(edge.condition.rawValue)\"><title>\(escape(edge.link)): \(escape(edge.label.isEmpty ? "healthy" : edge.label))</title>"
            svg +=
                "<line x1=\"\(edge.x1)\" y1=\"\(edge.y1)\" x2=\"\(edge.x2)\" y2=\"\(edge.y2)\" stroke=\"\(edge.color)\" stroke-width=\"3\"\(edge.condition == .partitioned ? " stroke-dasharray=\"7 5\"" : "")/>"
            if !edge.label.isEmpty {
                svg +=
                    "<text x=\"\((edge.x1 + edge.x2) / 2 + 4)\" y=\"\((edge.y1 + edge.y2) / 2)\" font-size=\"11\" fill=\"#333\" stroke=\"#fff\" stroke-width=\"3\" paint-order=\"stroke\">\(escape(edge.label))</text>"
            }
            svg += "</g>"
        }
        for box in view.boxes {
            var attributes =
                "class=\"node\" data-node=\"\(escape(box.name))\" data-kind=\"\(box.kind.rawValue)\" data-state=\"\(escape(box.state))\""
            if let sync = box.sync { attributes += " data-sync=\"\(escape(sync))\"" }
            if let version = box.syncVersion { attributes += " data-version=\"\(version)\"" }
            svg += "<g \(attributes)><title>\(escape(box.name)): \(escape(box.caption))"
            if let reason = box.orphanedReason { svg += ", orphaned: \(escape(reason))" }
            svg += "</title>"
            svg +=
                "<rect x=\"\(box.x)\" y=\"\(box.y)\" width=\"\(box.width)\" height=\"\(box.height)\" rx=\"6\" fill=\"#fff\" stroke=\"\(box.color)\" stroke-width=\"3\"/>"
            svg += "<circle cx=\"\(box.x + 12)\" cy=\"\(box.y + 13)\" r=\"5\" fill=\"\(box.color)\"/>"
            svg +=
                "<text x=\"\(box.x + 22)\" y=\"\(box.y + 17)\" font-weight=\"bold\">\(escape(box.kind == .geo ? "geo \(box.name)" : box.name))</text>"
            svg +=
                "<text x=\"\(box.x + 8)\" y=\"\(box.y + 32)\" font-size=\"10\" fill=\"#555\">\(escape(box.caption))</text>"
            if let sync = box.sync, let color = box.syncColor {
                svg +=
                    "<rect x=\"\(box.x + 8)\" y=\"\(box.y + 38)\" width=\"\(box.width - 16)\" height=\"15\" rx=\"7\" fill=\"\(color)\"/>"
                svg +=
                    "<text x=\"\(box.centerX)\" y=\"\(box.y + 49)\" font-size=\"10\" fill=\"#fff\" text-anchor=\"middle\">\(escape(sync))</text>"
            }
            if let version = box.version {
                svg +=
                    "<text x=\"\(box.centerX)\" y=\"\(box.y + 66)\" font-size=\"10\" fill=\"#333\" text-anchor=\"middle\">\(escape(version))</text>"
            }
            svg += "</g>"
        }
        return svg + "</svg>"
    }

    // MARK: - Faults

    static func button(_ action: String, _ label: String, enabled: Bool = true, _ attributes: String) -> String {
        "<button type=\"button\" data-action=\"\(action)\" \(attributes)\(enabled ? "" : " disabled")>\(label)</button>"
    }

    public static func faults(_ nodes: [NodeControls], _ links: [LinkControls]) -> String {
        var html =
            "<table class=\"controls-table\"><thead><tr><th>node</th><th>role</th><th>state</th><th></th></tr></thead><tbody>"
        for node in nodes {
            let target = "data-node=\"\(escape(node.name))\""
            html +=
                "<tr \(target)><td>\(escape(node.name))</td><td>\(escape(node.role))</td><td>\(TimelineChart.swatch(node.color)) \(escape(node.state))</td><td>"
            html += button("kill", "kill", enabled: node.canKill, target)
            html += button("restart", "restart", target)
            html += button("pause", "pause", enabled: node.canPause, target)
            html += button("resume", "resume", enabled: node.canResume, target)
            html += "</td></tr>"
        }
        html += "</tbody></table>"
        guard !links.isEmpty else { return html }
        html +=
            "<table class=\"controls-table\"><thead><tr><th>link</th><th>condition</th><th></th></tr></thead><tbody>"
        for link in links {
            let target = "data-link=\"\(escape(link.link))\""
            html +=
                "<tr \(target)><td>\(escape(link.link.replacingArrow))</td><td>\(TimelineChart.swatch(link.color)) \(escape(link.summary))</td><td>"
            html += button("partition", "partition", enabled: link.condition != .partitioned, target)
            html += button("slow", "slow", target)
            html += button("drop", "drop", target)
            html += button("heal", "heal", enabled: link.condition != .healthy, target)
            html += "</td></tr>"
        }
        return html + "</tbody></table>"
    }

    // MARK: - Calendar

    public static func calendar(_ view: CalendarView) -> String {
        var html =
            "<p class=\"now\" data-now=\"\(escape(view.now ?? ""))\">\(escape(view.now ?? "the auth node does not answer"))</p>"
        guard let move = view.lastMove else {
            return html + "<p class=\"muted\">No calendar move seen since the console started.</p>"
        }
        html +=
            "<h3>Last move</h3><p>\(escape(move.from)) → \(escape(move.to)) \(move.madeHere ? "(from this console)" : "(seen: made by another client, such as the CLI)")</p>"
        var items: [String] = []
        let due = move.due.filter { $0.count > 0 }
        if !due.isEmpty {
            items.append(
                "fell due: "
                    + due.map { "\($0.count) \($0.kind.replacingOccurrences("_", " "))" }.joined(separator: ", "))
        }
        items += move.invoices.map { "invoice: \($0)" }
        items += move.changes.map { "state: \($0)" }
        if items.isEmpty { return html + "<p class=\"muted\">Nothing fell due.</p>" }
        return html + "<ul class=\"due\">" + items.map { "<li>\(escape($0))</li>" }.joined() + "</ul>"
    }

    // MARK: - Organizations

    public static func organizations(_ view: OrganizationsView) -> String {
        guard view.available else {
            return "<p class=\"muted\">The auth node does not answer: organizations cannot be read.</p>"
        }
        guard !view.rows.isEmpty else {
            return
                "<p class=\"muted\">No organizations yet: sign one up (<code>POST /v3/signup</code> on the auth node's URL).</p>"
        }
        var html =
            "<p class=\"note\">Each geo column is what a token of the organization gets from that geo's API: lists are scoped to the organization in the geo's own database, so objects live only in the geo they were created in, and asked for by id in any other geo they answer 404 (T3).</p>"
        html +=
            "<table class=\"orgs\"><thead><tr><th>organization</th><th>home geo</th><th>plan</th><th>state</th><th>trial</th><th>credits</th>"
        for geo in view.geos { html += "<th>geo \(escape(geo))</th>" }
        html += "</tr></thead><tbody>"
        for row in view.rows {
            html +=
                "<tr data-org=\"\(escape(row.id))\"><td><b>\(escape(row.name))</b><br><code>\(escape(String(row.id.prefix(8))))</code></td><td>\(escape(row.homeGeo))</td><td>\(escape(row.plan))</td><td class=\"org-\(escape(row.state))\">\(escape(row.state))</td><td>\(escape(row.trial))</td><td>\(escape(row.credits))</td>"
            for cell in row.cells {
                html +=
                    "<td class=\"geo\(cell.isHome ? " home" : "")\" data-geo=\"\(escape(cell.geo))\">\(geoCell(cell, home: row.homeGeo))</td>"
            }
            html += "</tr>"
        }
        html += "</tbody></table>"
        if view.total > view.rows.count {
            html += "<p class=\"muted\">Showing \(view.rows.count) of \(view.total) organizations.</p>"
        }
        return html
    }

    static func geoCell(_ cell: OrganizationsView.Cell, home: String) -> String {
        guard let objects = cell.objects else { return "<span class=\"muted\">no answer from this geo</span>" }
        guard !objects.isEmpty else {
            return "<span class=\"muted\">empty lists; ids from other geos answer 404</span>"
        }
        var lines: [String] = []
        let planes = objects.controlPlanes.map { plane in
            "\(plane.name) v\(plane.configVersion)"
        }
        lines.append(
            "\(objects.controlPlanes.count) control plane\(objects.controlPlanes.count == 1 ? "" : "s")\(planes.isEmpty ? "" : ": " + planes.joined(separator: ", "))"
        )
        lines.append(
            "\(objects.entities) entities · \(objects.portals) Dev Portal\(objects.portals == 1 ? "" : "s") · \(objects.meshControlPlanes) Mesh · \(objects.dataPlanes) data plane\(objects.dataPlanes == 1 ? "" : "s") · \(objects.zones) zone\(objects.zones == 1 ? "" : "s")"
        )
        return lines.map(escape).joined(separator: "<br>")
    }

    // MARK: - Timeline

    /// The chart of the window and the list of its markers, newest first; times are UTC wall clock.
    public static func timeline(_ timeline: ConsoleTimeline, now: Int, window: Int = 10 * 60 * 1000) -> String {
        let (events, start) = timeline.window(now: now, milliseconds: window)
        guard !events.isEmpty else { return "<p class=\"muted\">Nothing observed yet.</p>" }
        return TimelineChart.svg(
            events, total: now - start, width: 820, startLabel: clockTime(start), endLabel: clockTime(now))
            + TimelineChart.markerList(events, newestFirst: true) { clockTime($0.at + start) }
    }

    /// `14:03:22 UTC` for wall-clock milliseconds.
    static func clockTime(_ milliseconds: Int) -> String {
        let text = SimTime(seconds: Int64(milliseconds / 1000)).iso8601
        guard let t = text.firstIndex(of: "T") else { return text }
        return text[text.index(after: t)...].dropLast() + " UTC"
    }
}

extension String {
    var replacingArrow: String { replacingOccurrences("->", " → ") }

    func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
