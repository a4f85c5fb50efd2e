/// Where a node reaches a peer for node-to-node traffic (`--auth-url`, `--geo-url`):
/// `unix:PATH` (a Unix socket, one machine) or `https://IPv4:PORT` (TLS over TCP, any machine).
/// Node-to-node routes trust their caller, so they are never offered as plain TCP.
public enum NodeLink: Sendable, Hashable, CustomStringConvertible {
    case unix(path: String)
    case tls(host: String, port: Int)

    public var description: String {
        switch self {
        case .unix(let path): "unix:\(path)"
        case .tls(let host, let port): "https://\(host):\(port)"
        }
    }

    /// Parses a link URL, with an error that says what was wrong and what is accepted.
    public static func parse(_ text: String) -> Result<NodeLink, TopologyError> {
        let accepted = "use unix:/path/to/sock or https://IPv4:PORT"
        if text.hasPrefix("unix:") {
            let path = String(text.dropFirst(5))
            guard path.hasPrefix("/") else {
                return .failure(
                    TopologyError("invalid link URL '\(text)': the socket path must be absolute; \(accepted)"))
            }
            return .success(.unix(path: path))
        }
        if text.hasPrefix("http://") {
            return .failure(
                TopologyError(
                    "invalid link URL '\(text)': node-to-node links over TCP are TLS only (https://), because their routes trust the caller"
                ))
        }
        guard text.hasPrefix("https://") else {
            return .failure(TopologyError("invalid link URL '\(text)'; \(accepted)"))
        }
        var authority = Substring(text.dropFirst(8))
        if authority.hasSuffix("/") { authority = authority.dropLast() }
        switch ListenAddress.parse(String(authority)) {
        case .success(let address) where address.port > 0:
            return .success(.tls(host: address.host, port: address.port))
        case .success:
            return .failure(TopologyError("invalid link URL '\(text)': the port must be 1-65535"))
        case .failure(let error):
            return .failure(TopologyError("invalid link URL '\(text)': \(error.message)"))
        }
    }
}

/// An IPv4 address and port to listen on or connect to (`--listen 0.0.0.0:7443`); port 0 lets the kernel choose.
public struct ListenAddress: Sendable, Hashable, CustomStringConvertible {
    public let host: String
    public let port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public var description: String { "\(host):\(port)" }

    public static func parse(_ text: String) -> Result<ListenAddress, TopologyError> {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 else {
            return .failure(TopologyError("'\(text)' is not IPv4:PORT (for example 0.0.0.0:7443)"))
        }
        guard IPv4.parse(String(parts[0])) != nil else {
            return .failure(TopologyError("'\(parts[0])' is not an IPv4 address (for example 198.18.0.1)"))
        }
        guard let port = Int(parts[1]), (0...65535).contains(port) else {
            return .failure(TopologyError("'\(parts[1])' is not a port (0-65535)"))
        }
        return .success(ListenAddress(host: String(parts[0]), port: port))
    }
}

/// Dotted-quad IPv4 addresses as 32-bit values.
public enum IPv4 {
    public static func parse(_ text: String) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy({ $0.isASCII && $0.isNumber }),
                let octet = UInt32(part), octet <= 255
            else { return nil }
            value = value << 8 | octet
        }
        return value
    }

    public static func text(_ value: UInt32) -> String {
        "\(value >> 24).\(value >> 16 & 255).\(value >> 8 & 255).\(value & 255)"
    }
}
