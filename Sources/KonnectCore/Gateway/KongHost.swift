/// Kong's rules for host names in entities (`kong/db/schema/typedefs.lua`): a service's `host`, a route's
/// `hosts` (with one optional `*` as the leftmost or rightmost label, and an optional `:port`) and `snis`.
public enum KongHost {
    /// Why `text` is not a host Kong accepts, or nil.
    public static func problem(_ text: String, wildcard: Bool, port allowsPort: Bool) -> String? {
        guard !text.isEmpty else { return "must not be empty" }
        guard text.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            return "invalid hostname: must hold only printable ASCII, no spaces or control characters"
        }
        var host = Substring(text)
        // A port: after the last ':' of a name or IPv4 address, after ']' of a bracketed IPv6 address.
        let portColon: Substring.Index? =
            if host.hasPrefix("["), let close = host.firstIndex(of: "]") {
                host.index(after: close) < host.endIndex && host[host.index(after: close)] == ":"
                    ? host.index(after: close) : nil
            } else if let colon = host.lastIndex(of: ":"), host.firstIndex(of: ":") == colon {
                colon
            } else {
                nil
            }
        if let colon = portColon {
            guard allowsPort else { return "must not have a port: \(text.prefix(128))" }
            guard let port = Int(host[host.index(after: colon)...]), (1...65535).contains(port) else {
                return "invalid port number in \(text.prefix(128))"
            }
            host = host[..<colon]
        }
        let stars = host.filter { $0 == "*" }.count
        if stars > 0 {
            guard wildcard else { return "invalid hostname: \(text.prefix(128)) (no wildcard allowed here)" }
            guard stars == 1 else { return "only one wildcard must be specified" }
            guard host.hasPrefix("*.") || host.hasSuffix(".*") else {
                return "wildcard must be leftmost or rightmost character"
            }
            host = host.hasPrefix("*.") ? host.dropFirst(2) : host.dropLast(2)
        }
        if host.hasPrefix("[") && host.hasSuffix("]") || host.contains(":") {
            return isIPv6(host.hasPrefix("[") ? host.dropFirst().dropLast() : host)
                ? nil : "invalid hostname: \(text.prefix(128))"
        }
        guard host.utf8.count <= 253 else { return "invalid hostname: longer than 253 characters" }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        for label in labels {
            guard !label.isEmpty, label.utf8.count <= 63,
                label.utf8.allSatisfy({ isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }),
                !label.hasPrefix("-"), !label.hasSuffix("-")
            else { return "invalid hostname: \(text.prefix(128))" }
        }
        return nil
    }

    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122)
    }

    static func isIPv6(_ text: Substring) -> Bool {
        guard text.contains(":"), text.utf8.count <= 45 else { return false }
        return text.utf8.allSatisfy {
            ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 70) || ($0 >= 97 && $0 <= 102) || $0 == UInt8(ascii: ":")
                || $0 == UInt8(ascii: ".")
        }
    }
}

/// Kong's rules for a route's `headers`: names are HTTP tokens (RFC 9110), values hold no control
/// characters (a CR or LF would forge headers on the data plane).
public enum KongHeader {
    static let tokenSymbols = Set("!#$%&'*+-.^_`|~".utf8)

    public static func nameProblem(_ name: String) -> String? {
        guard !name.isEmpty,
            name.utf8.allSatisfy({ KongHost.isAlphanumeric($0) || tokenSymbols.contains($0) })
        else {
            return
                "invalid header name \"\(name.prefix(64))\": must be an HTTP token (letters, digits, !#$%&'*+-.^_`|~)"
        }
        return nil
    }

    public static func valueProblem(_ value: String) -> String? {
        value.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\t" || $0.value == 0x7F })
            ? "must not contain control characters such as CR or LF" : nil
    }
}
