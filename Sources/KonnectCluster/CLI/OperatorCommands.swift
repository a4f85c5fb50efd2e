import KonnectCore
import KonnectHTTP

/// `clock`, `billing` and `support`: the operator's and Kong Support's actions, through the auth
/// node's socket with the support credential.
enum OperatorCommands {
    static func checked(_ response: ClientResponse) throws -> JSON { try Cluster.checked(response) }

    static func clock(_ command: ParsedCommand) throws {
        func cluster() throws -> Cluster { try command.existingCluster() }
        switch command.path[1] {
        case "show":
            let body = try checked(try cluster().support("GET", "/v3/simulator/clock"))
            print(body["now"]?.stringValue ?? "")
        case "advance":
            printAdvance(
                try Cluster(directory: command.directory).advanceCalendar(by: command.arguments[0]),
                json: command.flag("json"))
        default:
            printAdvance(
                try Cluster(directory: command.directory).setCalendar(to: command.arguments[0]),
                json: command.flag("json"))
        }
    }

    static func printAdvance(_ body: JSON, json: Bool) {
        if json {
            print(body.prettyText)
            return
        }
        var summary: [String] = []
        for (kind, count) in body["by_kind"]?.objectValue ?? JSONObject() where (count.intValue ?? 0) > 0 {
            summary.append("\(count.intValue ?? 0) \(kind)")
        }
        print(
            "calendar: \(body["previous"]?.stringValue ?? "") -> \(body["now"]?.stringValue ?? "")\(summary.isEmpty ? "" : " (" + summary.joined(separator: ", ") + ")")"
        )
        let unsettled = body["usage_settlement"]?["unsettled"]?.arrayValue ?? []
        if !unsettled.isEmpty {
            print("usage not delivered before the move:")
            for entry in unsettled { print("  \(entry["reason"]?.stringValue ?? "")") }
        }
        let purges = body["purges_pending"]
        if let organizations = purges?["organizations"]?.arrayValue, !organizations.isEmpty {
            print(
                "still deleting until \((purges?["geos"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", ")) confirm the purge: \(organizations.compactMap(\.stringValue).joined(separator: ", "))"
            )
        }
    }

    static func organization(_ command: ParsedCommand) throws -> String {
        let id = try command.required("org")
        guard id.count == 36 else {
            throw UsageError("invalid value '\(id)' for --org; expected an organization id (a UUID)")
        }
        return id
    }

    static func support(_ command: ParsedCommand) throws {
        let cluster = try command.existingCluster()
        switch command.path[1] {
        case "unlock-email":
            let email = command.arguments[0]
            _ = try checked(try cluster.support("DELETE", "/v3/support/email-locks/\(PercentEncoding.encode(email))"))
            print("unlocked \(email): it can be used for a new account")
        case "show":
            let body = try checked(try cluster.support("GET", "/v3/support/organizations/\(try organization(command))"))
            printOrganization(body, json: command.flag("json"))
        default:
            let action = command.path[1]
            let body = try checked(
                try cluster.support("POST", "/v3/support/organizations/\(try organization(command))/\(action)"))
            printOrganization(body, json: command.flag("json"))
        }
    }

    static func printOrganization(_ body: JSON, json: Bool) {
        if json {
            print(body.prettyText)
            return
        }
        print(
            "organization \(body["id"]?.stringValue ?? "") \"\(body["name"]?.stringValue ?? "")\": \(body["state"]?.stringValue ?? "")"
        )
        print(
            "owner \(body["owner_email"]?.stringValue ?? "")\(body["email_locked"]?.boolValue == true ? " (email locked)" : "")"
        )
        print(
            "licenses: "
                + (body["licenses"]?.arrayValue ?? []).map {
                    "\($0["name"]?.stringValue ?? "") \($0["state"]?.stringValue ?? "")"
                }.joined(separator: ", "))
        print(
            "subscriptions: "
                + (body["subscriptions"]?.arrayValue ?? []).map {
                    "\($0["name"]?.stringValue ?? "") \($0["state"]?.stringValue ?? "")"
                }.joined(separator: ", "))
        print("history:")
        for change in body["state_history"]?.arrayValue ?? [] {
            print(
                "  \(change["at"]?.stringValue ?? "")  \(change["state"]?.stringValue ?? "")  \(change["reason"]?.stringValue ?? "")  by \(change["actor"]?.stringValue ?? "")"
            )
        }
    }

    /// `billing show`: the Billing and Usage view, per cycle.
    static func billing(_ command: ParsedCommand) throws {
        let org = try organization(command)
        let which = command.option("cycle") ?? "all"
        guard ["all", "current", "previous"].contains(which) || Int(which).map({ $0 >= 0 }) == true else {
            throw UsageError("invalid value '\(which)' for --cycle; expected current, previous, a cycle number or all")
        }
        let cluster = try command.existingCluster()
        var views: [JSON] = []
        if which == "all" {
            let current = try checked(
                try cluster.support("GET", "/v3/support/organizations/\(org)/billing/usage?cycle=current"))
            let last = current["cycle"]?.intValue ?? 0
            for index in 0...max(0, last) {
                views.append(
                    try checked(
                        try cluster.support("GET", "/v3/support/organizations/\(org)/billing/usage?cycle=\(index)")))
            }
        } else {
            views.append(
                try checked(try cluster.support("GET", "/v3/support/organizations/\(org)/billing/usage?cycle=\(which)"))
            )
        }
        if command.flag("json") {
            print(JSON.array(views).prettyText)
            return
        }
        print(BillingRendering.render(views), terminator: "")
    }
}
