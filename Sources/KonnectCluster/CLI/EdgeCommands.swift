import KonnectCore
import KonnectHTTP
import KonnectNodes

/// `dp`, `upstream` and `zone`: processes at the edge of the cluster.
enum EdgeCommands {
    static func dataPlane(_ command: ParsedCommand) throws {
        switch command.path[1] {
        case "start":
            let name = try command.required("name")
            let geo = try command.required("geo")
            let controlPlane = try command.required("control-plane")
            let port = try command.integer("port", range: 0...65535) ?? 0
            let cluster = try command.existingCluster()
            let started = try cluster.startDataPlane(
                name: name, geo: geo, controlPlane: controlPlane, organizationID: command.option("org"), port: port)
            let descriptor = started.descriptor
            let how = started.wasRunning ? "already running, " : ""
            print(
                "data plane \(name) \(how)proxying on \(descriptor.url) (socket \(descriptor.socket), log \(NodeFiles.log(cluster.nodeDirectory(.dataPlane, name))))"
            )
        case "stop":
            let cluster = try command.existingCluster()
            let record = try cluster.requireRecord(command.arguments[0], kind: .dataPlane)
            print(
                cluster.stop(record)
                    ? "stopped data plane \(record.name)" : "data plane \(record.name) was already stopped")
        default:
            let until = command.option("until")
            if let until, !["synced", "disconnected", "orphaned"].contains(until) {
                throw UsageError("invalid value '\(until)' for --until; expected synced, disconnected or orphaned")
            }
            let timeoutText = command.option("timeout") ?? "10s"
            guard let timeout = WallDuration.milliseconds(timeoutText) else {
                throw UsageError("invalid value '\(timeoutText)' for --timeout; expected \(WallDuration.expected)")
            }
            let cluster = try command.existingCluster()
            let record = try cluster.requireRecord(command.arguments[0], kind: .dataPlane)
            var status = try cluster.nodeStatus(record.name)
            if let until {
                let deadline = Monotonic.now + timeout
                while status["state"]?.stringValue != until {
                    guard Monotonic.now < deadline else {
                        throw ProcessError(
                            "data plane \(record.name) is still \(status["state"]?.stringValue ?? "unknown") after \(timeoutText) (waited for \(until))"
                        )
                    }
                    sleepMilliseconds(50)
                    status = try cluster.nodeStatus(record.name)
                }
            }
            if command.flag("json") {
                print(status.prettyText)
                return
            }
            print(renderDataPlaneStatus(status, name: record.name), terminator: "")
        }
    }

    /// `dp status` as text; a stopped data plane shows what its disk cache would serve at the next start.
    static func renderDataPlaneStatus(_ status: JSON, name: String) -> String {
        let state = status["state"]?.stringValue ?? ""
        let stopped = state == "down"
        var text = "data plane \(name): \(stopped ? "stopped" : state)\n"
        if let reason = status["orphaned_reason"]?.stringValue { text += "  orphaned: \(reason)\n" }
        if let error = status["last_error"]?.stringValue { text += "  last error: \(error)\n" }
        let config = status["config"]
        let version = config?["version"]?.intValue.map(String.init)
        let hash = config?["hash"]?.stringValue ?? "-"
        if stopped {
            text +=
                version.map { "  disk cache: config version \($0) hash \(hash) (served at the next start)\n" }
                ?? "  disk cache: empty (it waits for its control plane at the next start)\n"
        } else {
            text += "  config version \(version ?? "-") hash \(hash)\n"
        }
        let license = status["license"]
        text +=
            "  license: \(license?["product_subscription"]?.stringValue ?? "none") (\(license?["state"]?.stringValue ?? "-"))\n"
        if stopped {
            text += "  last sync: \(status["last_sync"]?.stringValue ?? "never")\n"
        } else {
            text +=
                "  last sync: \(status["last_sync"]?.stringValue ?? "never")  proxy: \(status["proxy_url"]?.stringValue ?? "-")\n"
        }
        if let unreported = status["unreported_usage"]?.intValue, unreported > 0 {
            text += "  usage not reported yet: \(unreported)\(stopped ? " (kept on disk until it runs again)" : "")\n"
        }
        return text
    }

    static func upstream(_ command: ParsedCommand) throws {
        if command.path[1] == "start" {
            let name = command.option("name") ?? "upstream"
            let port = try command.integer("port", range: 0...65535) ?? 0
            let descriptor = try command.existingCluster().startUpstream(name: name, port: port)
            print("upstream \(name) echoing on \(descriptor.url)")
        } else {
            let cluster = try command.existingCluster()
            let record = try cluster.requireRecord(command.arguments[0], kind: .upstream)
            print(
                cluster.stop(record) ? "stopped upstream \(record.name)" : "upstream \(record.name) was already stopped"
            )
        }
    }

    static func zone(_ command: ParsedCommand) throws {
        switch command.path[1] {
        case "start":
            let name = try command.required("name")
            let geo = try command.required("geo")
            let mesh = try command.required("mesh-cp")
            let cluster = try command.existingCluster()
            let started = try cluster.startZone(
                name: name, geo: geo, meshControlPlane: mesh, organizationID: command.option("org"))
            print(
                "zone \(name) \(started.wasRunning ? "already running, " : "")serving its workloads on \(started.descriptor.url)"
            )
        case "stop":
            let cluster = try command.existingCluster()
            let record = try cluster.requireRecord(command.arguments[0], kind: .zone)
            print(cluster.stop(record) ? "stopped zone \(record.name)" : "zone \(record.name) was already stopped")
        case "policies":
            let cluster = try command.existingCluster()
            let record = try cluster.requireRecord(command.arguments[0], kind: .zone)
            let response = try cluster.client(record).send("GET", "/policies")
            guard let body = response.json else { throw ProcessError("zone \(record.name) did not answer") }
            if command.flag("json") {
                print(body.prettyText)
                return
            }
            print("zone \(record.name): policies version \(body["version"]?.intValue.map(String.init) ?? "-")")
            for policy in body["policies"]?.arrayValue ?? [] {
                print(
                    "  \(policy["type"]?.stringValue ?? "") \(policy["mesh"]?.stringValue ?? "")/\(policy["name"]?.stringValue ?? "")"
                )
            }
        default:
            let cluster = try command.existingCluster()
            let record = try cluster.requireRecord(command.arguments[0], kind: .zone)
            let status = try cluster.nodeStatus(record.name)
            print(
                command.flag("json")
                    ? status.prettyText
                    : "zone \(command.arguments[0]): \(status["state"]?.stringValue ?? "")  policies v\(status["policies"]?["version"]?.intValue.map(String.init) ?? "-")"
            )
        }
    }
}

/// `konnect-sim node dp|upstream|zone`.
enum NodeCommandsEdge {
    static func run(_ command: ParsedCommand, directory: String, network: NodeNetwork) throws {
        switch command.path.last {
        case "dp":
            let geoLink = try command.link("geo-url")
            var credential: String?
            if let credentialFile = command.option("credential-file") {
                guard let bytes = readWholeFile(credentialFile) else {
                    throw UsageError("cannot read --credential-file \(credentialFile)")
                }
                credential = String(decoding: bytes, as: UTF8.self).trimmingWhitespace
            } else if case .unix = geoLink {
                throw UsageError(
                    "missing --credential-file: over a Unix socket a data plane presents its credential (over TLS, its certificate)"
                )
            }
            try NodeMain.runDataPlane(
                DataPlaneConfiguration(
                    directory: directory, name: try command.required("name"), geo: try command.required("geo"),
                    geoLink: geoLink, network: network, credential: credential,
                    controlPlaneID: try command.required("control-plane"),
                    proxyPort: try command.integer("port", range: 0...65535) ?? 0, faultsFile: command.option("faults"),
                    seed: try command.seed()))
        case "upstream":
            try NodeMain.runUpstream(
                directory: directory, name: try command.required("name"),
                port: try command.integer("port", range: 0...65535) ?? 0, network: network)
        default:
            let tokenFile = try command.required("token-file")
            guard let bytes = readWholeFile(tokenFile) else {
                throw UsageError("cannot read --token-file \(tokenFile)")
            }
            try NodeMain.runZone(
                ZoneConfiguration(
                    directory: directory, name: try command.required("name"), geo: try command.required("geo"),
                    geoLink: try command.link("geo-url"), network: network,
                    token: String(decoding: bytes, as: UTF8.self).trimmingWhitespace,
                    meshControlPlaneID: try command.required("mesh-cp"), faultsFile: command.option("faults"),
                    seed: try command.seed()))
        }
    }
}
