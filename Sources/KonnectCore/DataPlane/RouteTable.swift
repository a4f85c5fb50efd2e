/// A request as the router sees it.
public struct ProxyRequestInfo: Sendable {
    public var method: String
    /// The path without the query, still percent-encoded.
    public var path: String
    /// The Host header's host part, lower-cased, without the port.
    public var host: String?
    public var headers: [(name: String, value: String)]

    public init(method: String, path: String, host: String?, headers: [(name: String, value: String)] = []) {
        self.method = method
        self.path = path
        self.host = host
        self.headers = headers
    }
}

/// Where a matched request goes.
public struct RouteMatch: Sendable, Hashable {
    public var routeID: String
    public var serviceID: String?
    public var upstream: ServiceTarget?
    /// The path to send upstream (after strip_path and the service path), without the query.
    public var upstreamPath: String
    public var preserveHost: Bool
}

/// A service's upstream, from its protocol, host, port and path.
public struct ServiceTarget: Sendable, Hashable {
    public var protocolName: String
    public var host: String
    public var port: Int
    /// The Host header for the upstream: the host, with the port unless it is 80.
    public var authority: String
    public var path: String?
    public var connectTimeoutMilliseconds: Int
    public var readTimeoutMilliseconds: Int
    public var writeTimeoutMilliseconds: Int
    public var retries: Int
    public var enabled: Bool
}

/// Kong's router for HTTP routes (C3), built once per configuration: a route matches when every
/// attribute it sets matches (methods, hosts, headers, paths); among matches, the one with more
/// attributes wins, then the longest path, then `regex_priority`, then the oldest.
public struct RouteTable: Sendable {
    /// A route as matching needs it; a class, so that looking at one while matching copies nothing.
    final class CompiledRoute: Sendable {
        let id: String
        let serviceID: String?
        let methods: Set<String>?
        let hosts: [String]?
        let headers: [(name: String, values: Set<String>)]?
        let prefixes: [String]?
        let regexes: [String]?
        let stripPath: Bool
        let preserveHost: Bool
        let regexPriority: Int64
        let createdAt: Int64

        init(
            id: String, serviceID: String?, methods: Set<String>?, hosts: [String]?,
            headers: [(name: String, values: Set<String>)]?, prefixes: [String]?, regexes: [String]?,
            stripPath: Bool, preserveHost: Bool, regexPriority: Int64, createdAt: Int64
        ) {
            self.id = id
            self.serviceID = serviceID
            self.methods = methods
            self.hosts = hosts
            self.headers = headers
            self.prefixes = prefixes
            self.regexes = regexes
            self.stripPath = stripPath
            self.preserveHost = preserveHost
            self.regexPriority = regexPriority
            self.createdAt = createdAt
        }
    }

    /// By id; matching breaks ties on the smaller id, as when routes were scanned sorted by id.
    private var routes: [String: CompiledRoute] = [:]
    private var services: [String: ServiceTarget] = [:]

    public init(config: DeclarativeConfig) {
        for service in config.services { upsert(service, in: "services") }
        for route in config.routes { upsert(route, in: "routes") }
    }

    /// The table of a configuration's routes and services (items of other collections are ignored).
    public init(content: ConfigurationContent) {
        for collection in ["services", "routes"] {
            for item in content.items(of: collection) {
                guard let json = try? JSONParser.parse(item.bytes) else { continue }
                upsert(json, in: collection)
            }
        }
    }

    /// Updates the table for a delta: a route or service changes at the cost of that one entry.
    public mutating func apply(_ delta: ConfigurationDelta) {
        for id in delta.deletes {
            switch id.collection {
            case "services": services[id.key] = nil
            case "routes": routes[id.key] = nil
            default: break
            }
        }
        for item in delta.upserts where item.collection == "services" || item.collection == "routes" {
            // Remove first: an item whose new body no longer compiles (no host, no HTTP protocol) leaves the table.
            if item.collection == "services" { services[item.key] = nil } else { routes[item.key] = nil }
            guard let json = try? JSONParser.parse(item.bytes) else { continue }
            upsert(json, in: item.collection)
        }
    }

    /// Adds or replaces a service or route given as Kong's entity JSON.
    mutating func upsert(_ entity: JSON, in collection: String) {
        if collection == "services" {
            let service = entity
            guard let id = service["id"]?.stringValue, let host = service["host"]?.stringValue else { return }
            let port = Int(service["port"]?.intValue ?? 80)
            services[id] = ServiceTarget(
                protocolName: service["protocol"]?.stringValue ?? "http", host: host, port: port,
                authority: port == 80 ? host : "\(host):\(port)",
                path: service["path"]?.stringValue,
                connectTimeoutMilliseconds: Int(service["connect_timeout"]?.intValue ?? 60000),
                readTimeoutMilliseconds: Int(service["read_timeout"]?.intValue ?? 60000),
                writeTimeoutMilliseconds: Int(service["write_timeout"]?.intValue ?? 60000),
                retries: Int(service["retries"]?.intValue ?? 5),
                enabled: service["enabled"]?.boolValue ?? true)
            return
        }
        let route = entity
        guard let id = route["id"]?.stringValue else { return }
        let protocols = route["protocols"]?.arrayValue?.compactMap(\.stringValue) ?? ["http", "https"]
        guard protocols.contains("http") || protocols.contains("https") else { return }
        let paths = route["paths"]?.arrayValue?.compactMap(\.stringValue)
        var headers: [(String, Set<String>)]? = nil
        if let object = route["headers"]?.objectValue {
            headers = object.map {
                ($0.key.lowercased(), Set(($0.value.arrayValue ?? []).compactMap { $0.stringValue?.lowercased() }))
            }
        }
        routes[id] = CompiledRoute(
            id: id, serviceID: route["service"]?["id"]?.stringValue,
            methods: route["methods"]?.arrayValue.map { Set($0.compactMap(\.stringValue)) },
            hosts: route["hosts"]?.arrayValue?.compactMap { $0.stringValue?.lowercased() },
            headers: headers,
            prefixes: paths.map { $0.filter { !$0.hasPrefix("~") } }.flatMap { $0.isEmpty ? nil : $0 },
            regexes: paths.map { $0.filter { $0.hasPrefix("~") }.map { String($0.dropFirst()) } }.flatMap {
                $0.isEmpty ? nil : $0
            },
            stripPath: route["strip_path"]?.boolValue ?? true,
            preserveHost: route["preserve_host"]?.boolValue ?? false,
            regexPriority: route["regex_priority"]?.intValue ?? 0, createdAt: route["created_at"]?.intValue ?? 0)
    }

    /// How many routes and services the table holds.
    public var routeCount: Int { routes.count }
    public var serviceCount: Int { services.count }

    public var isEmpty: Bool { routes.isEmpty }

    /// The best route for a request, or nil (Kong answers 404 "no Route matched with those values").
    public func match(_ request: ProxyRequestInfo) -> RouteMatch? {
        var best: (route: CompiledRoute, score: (Int, Int, Int64, Int64), matched: String?)? = nil
        for route in routes.values {
            var attributes = 0
            if let methods = route.methods {
                // HEAD goes wherever GET does (RFC 9110 9.3.2).
                guard methods.contains(request.method) || (request.method == "HEAD" && methods.contains("GET")) else {
                    continue
                }
                attributes += 1
            }
            if let hosts = route.hosts {
                guard let host = request.host, hosts.contains(where: { RouteTable.hostMatches($0, host) }) else {
                    continue
                }
                attributes += 1
            }
            if let headers = route.headers {
                let ok = headers.allSatisfy { header in
                    request.headers.contains {
                        $0.name.lowercased() == header.name && header.values.contains($0.value.lowercased())
                    }
                }
                guard ok else { continue }
                attributes += 1
            }
            var matchedPrefix: String? = nil
            var pathLength = 0
            if route.prefixes != nil || route.regexes != nil {
                // The longest matching prefix (the first of equal length), without building a list.
                var longest: (prefix: String, length: Int)? = nil
                for prefix in route.prefixes ?? [] where RouteTable.pathHasPrefix(request.path, prefix) {
                    let length = prefix.count
                    if longest == nil || length > longest!.length { longest = (prefix, length) }
                }
                if let (prefix, length) = longest {
                    matchedPrefix = prefix
                    pathLength = length
                } else if let regex = (route.regexes ?? []).first(where: { RouteTable.regexMatches($0, request.path) })
                {
                    matchedPrefix = RouteTable.regexMatchedPrefix(regex, request.path)
                    pathLength = 0
                } else {
                    continue
                }
                attributes += 1
            }
            let score = (attributes, pathLength, route.regexPriority, -route.createdAt)
            if let current = best, score < current.score || (score == current.score && route.id > current.route.id) {
                continue
            }
            best = (route, score, matchedPrefix)
        }
        guard let (route, _, matched) = best else { return nil }
        let target = route.serviceID.flatMap { services[$0] }
        var remainder = request.path
        if route.stripPath, let matched {
            remainder = String(request.path.dropFirst(matched.count))
        }
        return RouteMatch(
            routeID: route.id, serviceID: route.serviceID, upstream: target,
            upstreamPath: RouteTable.join(servicePath: target?.path, remainder), preserveHost: route.preserveHost)
    }

    /// Kong's prefix rule: `/orders` matches `/orders`, `/orders/42` and `/ordersX` (a plain prefix).
    static func pathHasPrefix(_ path: String, _ prefix: String) -> Bool {
        path.hasPrefix(prefix)
    }

    static func regexMatches(_ pattern: String, _ path: String) -> Bool {
        regexMatchedPrefix(pattern, path) != nil
    }

    static func regexMatchedPrefix(_ pattern: String, _ path: String) -> String? {
        guard let regex = try? Regex(pattern), let match = path.prefixMatch(of: regex) else { return nil }
        return String(path[match.range])
    }

    static func hostMatches(_ pattern: String, _ host: String) -> Bool {
        if pattern.hasPrefix("*.") { return host.hasSuffix(String(pattern.dropFirst(1))) }
        if pattern.hasSuffix(".*") { return host.hasPrefix(String(pattern.dropLast(1))) }
        return pattern == host
    }

    /// Joins the service path and what is left of the request path (Kong's `path_handling v0`).
    public static func join(servicePath: String?, _ remainder: String) -> String {
        let base = servicePath ?? "/"
        if remainder.isEmpty { return base }
        let rest = remainder.hasPrefix("/") ? remainder : "/" + remainder
        if base == "/" { return rest }
        if base.hasSuffix("/") { return base + rest.dropFirst() }
        return base + rest
    }
}
