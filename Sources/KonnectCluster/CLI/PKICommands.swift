import KonnectCore
import KonnectHTTP
import KonnectNodes
import KonnectSecurity
import KonnectStorage

/// `konnect-sim pki init|issue`: a cluster's CA and its nodes' TLS directories by hand, for nodes on
/// separate machines (`up --topology netns` does the same by itself).
enum PKICommands {
    static func run(_ command: ParsedCommand) throws {
        switch command.path.last {
        case "init":
            let out = Cluster.absolute(try command.required("out"))
            if readWholeFile(out + "/ca.key") != nil {
                throw UsageError("\(out) already holds a CA (ca.key); choose another --out, or keep using it")
            }
            try TLSFiles.write(
                try CertificateAuthority.create(commonName: command.option("name") ?? "konnect-sim cluster CA"), to: out
            )
            print("created a CA in \(out): ca.crt (copy it to every host), ca.key (keep it here)")
        default:
            let caDirectory = Cluster.absolute(try command.required("ca"))
            let out = Cluster.absolute(try command.required("out"))
            let name = try command.required("name")
            let dataPlane = command.flag("data-plane")
            let selfSigned = command.flag("self-signed")
            if selfSigned && !dataPlane {
                throw UsageError("--self-signed is for a data plane's pinned certificate; add --data-plane")
            }
            guard let authorityPEM = readWholeFile(caDirectory + "/ca.crt") else {
                throw UsageError("cannot read \(caDirectory)/ca.crt (--ca: a directory made by `konnect-sim pki init`)")
            }
            var addresses: [String] = []
            for address in command.option("ip").map({ $0.split(separator: ",").map(String.init) }) ?? [] {
                guard IPv4.parse(address) != nil else {
                    throw UsageError("invalid value '\(address)' for --ip; expected IPv4 addresses such as 10.0.0.2")
                }
                addresses.append(address)
            }
            let unit = dataPlane ? NodeNetwork.dataPlaneUnit : NodeNetwork.nodeUnit
            let issued: IssuedCertificate
            if selfSigned {
                issued = try IssuedCertificate.selfSigned(commonName: name)
            } else {
                guard !addresses.isEmpty || dataPlane else {
                    throw UsageError("missing --ip: a node's certificate names the addresses it serves on")
                }
                guard let keyPEM = readWholeFile(caDirectory + "/ca.key") else {
                    throw UsageError("cannot read \(caDirectory)/ca.key: certificates are issued where the CA's key is")
                }
                let authority = try CertificateAuthority(
                    certificatePEM: String(decoding: authorityPEM, as: UTF8.self),
                    privateKeyPEM: String(decoding: keyPEM, as: UTF8.self))
                issued = try authority.issue(
                    commonName: name, organizationalUnit: unit, ipAddresses: addresses, dnsNames: [],
                    usage: .serverAndClient)
            }
            try TLSFiles.write(issued, authorityPEM: String(decoding: authorityPEM, as: UTF8.self), to: out)
            print(
                "issued \(selfSigned ? "a self-signed" : "a CA-signed") certificate for \(name) (\(unit)\(addresses.isEmpty ? "" : ", \(addresses.joined(separator: ", "))")) in \(out); fingerprint \(issued.fingerprint)"
            )
            if dataPlane {
                print(
                    "pin it for the control plane: POST /v2/control-planes/{id}/dp-client-certificates {\"cert\": <\(out)/\(NodeNetwork.certificateFile)>}"
                )
            }
        }
    }
}
