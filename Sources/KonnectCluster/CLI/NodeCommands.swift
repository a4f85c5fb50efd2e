import KonnectCore
import KonnectHTTP
import KonnectNodes

/// `konnect-sim node <role>`: the node processes themselves.
enum NodeCommands {
    static func run(_ command: ParsedCommand) throws {
        let directory = Cluster.absolute(try command.required("dir"))
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
                    supportTokenFile: command.option("support-token-file")))
        case "geo":
            let name = try command.required("name")
            guard ClusterConfiguration.knownGeos.contains(name) else {
                throw UsageError(
                    "invalid value '\(name)' for --name; valid geos: \(ClusterConfiguration.knownGeos.joined(separator: ", "))"
                )
            }
            try NodeMain.runGeo(
                GeoConfiguration(
                    directory: directory, name: name, authSocket: try command.required("auth-socket"),
                    faultsFile: command.option("faults"),
                    seed: try command.seed()))
        default:
            try NodeCommandsEdge.run(command, directory: directory)
        }
    }
}
