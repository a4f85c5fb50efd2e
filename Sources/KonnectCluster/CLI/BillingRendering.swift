import KonnectCore

/// `billing show` as text: the Billing and Usage view per cycle (B4): usage with what is included,
/// charges, credits, total and what happens to the total; then the trial credits granted, used, left
/// and expired.
enum BillingRendering {
    static func render(_ views: [JSON]) -> String {
        var text = ""
        for view in views {
            let currency = view["currency"]?.stringValue ?? "USD"
            text +=
                "Cycle \(view["cycle"]?.intValue ?? 0): \(view["cycle_start"]?.stringValue ?? "") to \(view["cycle_end"]?.stringValue ?? "") (\(view["status"]?.stringValue ?? ""))\n"
            let periods = view["periods"]?.arrayValue ?? []
            if periods.isEmpty { text += "  not billed (the organization was deactivated)\n" }
            for period in periods {
                text += renderPeriod(period, included: view["included"] ?? .null, currency: currency)
            }
            text += "\n"
        }
        if let credits = views.last?["credits"], credits != .null {
            text += renderCredits(credits)
        }
        return text
    }

    static func renderPeriod(_ period: JSON, included: JSON, currency: String) -> String {
        let open = period["status"]?.stringValue == "open"
        var text =
            open
            ? "  So far, \(period["period_start"]?.stringValue ?? "") to \(period["period_end"]?.stringValue ?? ""):\n"
            : "  Invoice \(period["id"]?.stringValue ?? ""), \(period["period_start"]?.stringValue ?? "") to \(period["period_end"]?.stringValue ?? ""), issued \(period["issued_at"]?.stringValue ?? ""):\n"
        let lines = period["lines"]?.arrayValue ?? []
        let usage = period["usage"]
        var rows: [[String]] = []
        let services = lines.filter { $0["kind"]?.stringValue == "service" }
        if services.isEmpty { rows.append(["Gateway services", "none", amount(.zero, currency)]) }
        for line in services {
            rows.append([
                line["description"]?.stringValue ?? "Gateway service",
                count(line["quantity"]?.intValue ?? 0, "service-day"), amount(line["amount"], currency),
            ])
        }
        let portalsIncluded = included["portals"]?.intValue ?? 0
        let portalLine = lines.first { $0["kind"]?.stringValue == "dev_portals" }
        let portalDays = usage?["portal_days"]?.intValue ?? 0
        let extraPortalDays = portalLine?["quantity"]?.intValue ?? 0
        rows.append([
            "Dev Portals",
            "\(count(portalDays, "portal-day")) (\(count(portalsIncluded, "portal")) included at a time; \(count(extraPortalDays, "extra portal-day")))",
            amount(portalLine?["amount"] ?? .string("0.00"), currency),
        ])
        let callLine = lines.first { $0["kind"]?.stringValue == "api_calls" }
        let calls = usage?["api_calls"]?.intValue ?? 0
        let billable = callLine?["billable_calls"]?.intValue ?? 0
        rows.append([
            "API calls",
            "\(count(calls, "call")) (\(grouped(included["api_calls"]?.intValue ?? 0)) included; \(grouped(billable)) billable)",
            amount(callLine?["amount"] ?? .string("0.00"), currency),
        ])
        let contract = period["billing"]?.stringValue == "contract"
        rows.append(["Subtotal", "", amount(period["subtotal"], currency)])
        let credits = Money(decimal: period["credits_applied"]?.stringValue ?? "0") ?? .zero
        rows.append([
            "Credits applied", "",
            credits > .zero ? "-" + amount(.string(credits.description), currency) : amount(.zero, currency),
        ])
        rows.append([open ? "Total so far" : "Total", "", amount(period["total"], currency)])
        text += table(rows)
        if contract { text += "    (Enterprise: usage recorded, billed by contract)\n" }
        if let detail = period["payment"]?["detail"]?.stringValue { text += "    Payment: \(detail)\n" }
        return text
    }

    static func renderCredits(_ credits: JSON) -> String {
        let currency = credits["currency"]?.stringValue ?? "USD"
        func money(_ key: String) -> String { credits[key]?.stringValue ?? "0.00" }
        let expiry = credits["expires_at"]?.stringValue.map { " (they expire when the trial ends, \($0))" } ?? ""
        return
            "Trial credits: \(money("granted")) \(currency) granted, \(money("used")) used, \(money("left")) left, \(money("expired")) expired\(expiry)\n"
    }

    /// `1 call`, `2 calls`, `1 service-day`, `1,000,000 calls`.
    static func count(_ value: Int64, _ singular: String) -> String {
        "\(grouped(value)) \(value == 1 ? singular : singular + "s")"
    }

    static func grouped(_ value: Int64) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { out += "," }
            out.append(digit)
        }
        return (value < 0 ? "-" : "") + out
    }

    /// An amount as the view holds it (`"105.00"`), never `-0.00`.
    static func amount(_ value: JSON?, _ currency: String) -> String {
        let money = Money(decimal: value?.stringValue ?? "0") ?? .zero
        return "\(money.description) \(currency)"
    }

    static func amount(_ value: Money, _ currency: String) -> String { "\(value.description) \(currency)" }

    /// Item, usage and a right-aligned amount, indented under the period.
    static func table(_ rows: [[String]]) -> String {
        let header = ["ITEM", "USAGE", "AMOUNT"]
        let itemWidth = ([header] + rows).map { $0[0].count }.max() ?? 0
        let usageWidth = ([header] + rows).map { $0[1].count }.max() ?? 0
        let amountWidth = ([header] + rows).map { $0[2].count }.max() ?? 0
        func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: width - text.count) }
        func right(_ text: String, _ width: Int) -> String { String(repeating: " ", count: width - text.count) + text }
        return ([header] + rows).map {
            "    " + pad($0[0], itemWidth) + "  " + pad($0[1], usageWidth) + "  " + right($0[2], amountWidth)
        }.joined(separator: "\n") + "\n"
    }
}
