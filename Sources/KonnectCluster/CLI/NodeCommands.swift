import KonnectCore
import KonnectHTTP
import KonnectNodes

/// `konnect-sim node <role>`: the node processes themselves.
enum NodeCommands {
    static func run(_ command: ParsedCommand) throws {
        let directory = Cluster.absolute(try command.required("dir"))
        // On a host of its own nobody made the directory before (`up` does on one machine).
        NodeFiles.makePrivateDirectory(directory)
        // First, before any thread exists: every thread the node starts inherits its host's namespace.
        if let namespace = command.option("netns") { try NetworkNamespace.enterForGood(namespace) }
        let network = try command.nodeNetwork()
        switch command.path.last {
        case "auth":
            let geos: [String]
            switch ClusterConfiguration.parseGeos(command.option("geos") ?? "us,eu,au") {
            case .success(let value): geos = value
            case .failure(let error): throw error
            }
            let startText = command.option("start") ?? SimTime.defaultStart.iso8601
            guard let start = SimTime(iso8601: startText) else {
                throw UsageError("invalid value '\(startText)' for --start")
            }
            var rateCard = RateCard.standard
            if let path = command.option("rate-card") {
                guard let bytes = readWholeFile(path) else {
                    throw UsageError("cannot read the rate card file '\(path)'")
                }
                rateCard = try RateCard(json: try JSONParser.parse(bytes))
            }
            try NodeMain.runAuth(
                AuthConfiguration(
                    directory: directory, geos: geos, start: start, rateCard: rateCard, seed: try command.seed(),
                    supportTokenFile: command.option("support-token-file"), network: network))
        case "geo":
            let name = try command.required("name")
            guard ClusterConfiguration.knownGeos.contains(name) else {
                throw UsageError(
                    "invalid value '\(name)' for --name; valid geos: \(ClusterConfiguration.knownGeos.joined(separator: ", "))"
                )
            }
            try NodeMain.runGeo(
                GeoConfiguration(
                    directory: directory, name: name, auth: try command.link("auth-url"), network: network,
                    faultsFile: command.option("faults"),
                    seed: try command.seed()))
        default:
            try NodeCommandsEdge.run(command, directory: directory, network: network)
        }
    }
}

extension ParsedCommand {
    /// `--host`, `--listen` and `--tls` of a node command.
    func nodeNetwork() throws -> NodeNetwork {
        var network = NodeNetwork()
        if let host = option("host") {
            guard IPv4.parse(host) != nil else {
                throw UsageError(
                    "invalid value '\(host)' for --host; expected the IPv4 address to serve on, such as 198.18.0.11")
            }
            network.host = host
        }
        network.tlsDirectory = option("tls").map(Cluster.absolute)
        if path.last == "auth" || path.last == "geo" { network.port = try integer("port", range: 0...65535) ?? 0 }
        if let text = option("listen") {
            switch ListenAddress.parse(text) {
            case .success(let address): network.listen = address
            case .failure(let error): throw UsageError("invalid value '\(text)' for --listen: \(error.message)")
            }
            guard network.tlsDirectory != nil else {
                throw UsageError(
                    "--listen serves node-to-node routes over TLS and needs --tls DIR (with \(NodeNetwork.authorityFile), \(NodeNetwork.certificateFile), \(NodeNetwork.keyFile))"
                )
            }
        }
        return network
    }

    /// A peer's link URL (`--auth-url`, `--geo-url`): `unix:PATH` or `https://IPv4:PORT` (which needs --tls).
    func link(_ name: String) throws -> NodeLink {
        let text = try required(name)
        switch NodeLink.parse(text) {
        case .failure(let error): throw UsageError("--\(name): \(error.message)")
        case .success(let link):
            if case .tls = link, option("tls") == nil {
                throw UsageError("--\(name) \(text) is a TLS link and needs --tls DIR with this node's certificate")
            }
            return link
        }
    }
}
