import KonnectCore
import KonnectHTTP
import KonnectNodes

/// `dp`, `upstream` and `zone`: processes at the edge of the cluster.
enum EdgeCommands {
    static func dataPlane(_ command: ParsedCommand) throws {
        let cluster = Cluster(directory: command.directory)
        switch command.path[1] {
        case "start":
            let name = try command.required("name")
            let descriptor = try cluster.startDataPlane(
                name: name, geo: try command.required("geo"), controlPlane: try command.required("control-plane"),
                organizationID: command.option("org"), port: try command.integer("port", range: 0...65535) ?? 0)
            print(
                "data plane \(name) proxying on \(descriptor.url) (socket \(descriptor.socket), log \(NodeFiles.log(cluster.nodeDirectory(.dataPlane, name))))"
            )
        case "stop":
            let record = try cluster.requireRecord(command.arguments[0])
            guard record.kind == .dataPlane else {
                throw UsageError("'\(record.name)' is a \(record.kind.role), not a data plane")
            }
            cluster.stop(record)
            print("stopped data plane \(record.name)")
        default:
            let status = try cluster.nodeStatus(command.arguments[0])
            if command.flag("json") {
                print(status.prettyText)
                return
            }
            print(
                "data plane \(status["name"]?.stringValue ?? command.arguments[0]): \(status["state"]?.stringValue ?? "")"
            )
            if let reason = status["orphaned_reason"]?.stringValue { print("  orphaned: \(reason)") }
            if let error = status["last_error"]?.stringValue { print("  last error: \(error)") }
            print(
                "  config version \(status["config"]?["version"]?.intValue.map(String.init) ?? "-") hash \(status["config"]?["hash"]?.stringValue ?? "-")"
            )
            print(
                "  license: \(status["license"]?["product_subscription"]?.stringValue ?? "none") (\(status["license"]?["state"]?.stringValue ?? "-"))"
            )
            print(
                "  last sync: \(status["last_sync"]?.stringValue ?? "never")  proxy: \(status["proxy_url"]?.stringValue ?? "-")"
            )
        }
    }

    static func upstream(_ command: ParsedCommand) throws {
        let cluster = Cluster(directory: command.directory)
        if command.path[1] == "start" {
            let name = command.option("name") ?? "upstream"
            let descriptor = try cluster.startUpstream(
                name: name, port: try command.integer("port", range: 0...65535) ?? 0)
            print("upstream \(name) echoing on \(descriptor.url)")
        } else {
            let record = try cluster.requireRecord(command.arguments[0])
            guard record.kind == .upstream else {
                throw UsageError("'\(record.name)' is a \(record.kind.role), not an upstream")
            }
            cluster.stop(record)
            print("stopped upstream \(record.name)")
        }
    }

    static func zone(_ command: ParsedCommand) throws {
        let cluster = Cluster(directory: command.directory)
        switch command.path[1] {
        case "start":
            let name = try command.required("name")
            let descriptor = try cluster.startZone(
                name: name, geo: try command.required("geo"), meshControlPlane: try command.required("mesh-cp"),
                organizationID: command.option("org"))
            print("zone \(name) serving its workloads on \(descriptor.url)")
        case "stop":
            let record = try cluster.requireRecord(command.arguments[0])
            guard record.kind == .zone else {
                throw UsageError("'\(record.name)' is a \(record.kind.role), not a zone")
            }
            cluster.stop(record)
            print("stopped zone \(record.name)")
        case "policies":
            let record = try cluster.requireRecord(command.arguments[0])
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
            let status = try cluster.nodeStatus(command.arguments[0])
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
    static func run(_ command: ParsedCommand, directory: String) throws {
        switch command.path.last {
        case "dp":
            let credentialFile = try command.required("credential-file")
            guard let bytes = readWholeFile(credentialFile) else {
                throw UsageError("cannot read --credential-file \(credentialFile)")
            }
            let credential = String(decoding: bytes, as: UTF8.self).trimmingWhitespace
            try NodeMain.runDataPlane(
                DataPlaneConfiguration(
                    directory: directory, name: try command.required("name"), geo: try command.required("geo"),
                    geoSocket: try command.required("geo-socket"), credential: credential,
                    controlPlaneID: try command.required("control-plane"),
                    proxyPort: try command.integer("port", range: 0...65535) ?? 0, faultsFile: command.option("faults"),
                    seed: try command.seed()))
        case "upstream":
            try NodeMain.runUpstream(
                directory: directory, name: try command.required("name"),
                port: try command.integer("port", range: 0...65535) ?? 0)
        default:
            let tokenFile = try command.required("token-file")
            guard let bytes = readWholeFile(tokenFile) else {
                throw UsageError("cannot read --token-file \(tokenFile)")
            }
            try NodeMain.runZone(
                ZoneConfiguration(
                    directory: directory, name: try command.required("name"), geo: try command.required("geo"),
                    geoSocket: try command.required("geo-socket"),
                    token: String(decoding: bytes, as: UTF8.self).trimmingWhitespace,
                    meshControlPlaneID: try command.required("mesh-cp"), faultsFile: command.option("faults"),
                    seed: try command.seed()))
        }
    }
}
