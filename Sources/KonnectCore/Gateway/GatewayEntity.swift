/// The gateway entity kinds of a control plane (C1), with Kong's Admin API names.
public enum GatewayEntityKind: String, Sendable, CaseIterable {
    case service, route, consumer, plugin

    /// The collection name in paths and in the declarative configuration.
    public var collection: String {
        switch self {
        case .service: "services"
        case .route: "routes"
        case .consumer: "consumers"
        case .plugin: "plugins"
        }
    }

    /// The field whose value is unique per control plane and can stand for the id in paths.
    public var uniqueField: String {
        switch self {
        case .service, .route: "name"
        case .consumer: "username"
        case .plugin: "instance_name"
        }
    }

    public var displayName: String {
        switch self {
        case .service: "service"
        case .route: "route"
        case .consumer: "consumer"
        case .plugin: "plugin"
        }
    }
}

/// A reference from one entity to another (`route.service`, `plugin.consumer`...), as the request
/// gave it: an id, or a name the store resolves.
public struct EntityReference: Sendable, Hashable {
    public var kind: GatewayEntityKind
    public var field: String
    public var key: String
}

/// The outcome of validating an entity body: the normalized body (Kong's defaults filled in) and
/// the references the store must check and resolve.
public struct ValidatedEntity: Sendable {
    public var body: JSONObject
    public var references: [EntityReference]

    public var uniqueValue: String? { body[kind.uniqueField]?.stringValue }
    public let kind: GatewayEntityKind
}

/// Validation of Kong Admin API entities (C1): field names, types, defaults and rules as Kong defines
/// them, answering 400 with every offending field. Pure: the geo's store does the lookups.
public enum GatewayEntityValidator {
    public static let protocols = [
        "grpc", "grpcs", "http", "https", "tcp", "tls", "tls_passthrough", "udp", "ws", "wss",
    ]

    /// Validates a create or full replacement (`existing` is nil) or a partial update (`existing` is
    /// the stored body and `partial` is true). `id` and the timestamps are set by the caller.
    public static func validate(
        _ kind: GatewayEntityKind, _ input: JSON, existing: JSONObject? = nil, partial: Bool = false
    ) throws(APIError) -> ValidatedEntity {
        var reader = try ObjectReader(input)
        var body = partial ? (existing ?? JSONObject()) : JSONObject()
        var references: [EntityReference] = []
        // Accepted but ignored: the store owns them.
        _ = reader.raw("id")
        _ = reader.raw("created_at")
        _ = reader.raw("updated_at")
        switch kind {
        case .service: readService(&reader, &body, partial: partial)
        case .route: readRoute(&reader, &body, &references, partial: partial)
        case .consumer: readConsumer(&reader, &body, partial: partial)
        case .plugin: readPlugin(&reader, &body, &references, partial: partial)
        }
        if let tags = reader.stringArray("tags", maxItems: 64, maxLength: 128, validate: tagProblem) {
            body["tags"] = .strings(tags)
        } else if !partial {
            body["tags"] = .null
        }
        try reader.finish()
        return ValidatedEntity(body: body, references: references, kind: kind)
    }

    static func nameProblem(_ name: String) -> String? {
        name.unicodeScalars.allSatisfy({
            $0.properties.isAlphabetic || ("0"..."9").contains($0) || ".-_~".unicodeScalars.contains($0)
        })
            ? nil : "must only contain letters, digits, '.', '-', '_' or '~'"
    }

    static func tagProblem(_ tag: String) -> String? {
        tag.isEmpty || tag.contains(",") || tag.contains("/") ? "must be non-empty and contain no ',' or '/'" : nil
    }

    // MARK: Service

    private static func readService(_ reader: inout ObjectReader, _ body: inout JSONObject, partial: Bool) {
        let url = reader.string("url", maxLength: 2048)
        if let url {
            for field in ["protocol", "host", "port", "path"] where reader.has(field) && reader.object[field] != .null {
                reader.fail(field, "invalid", "cannot be set together with url")
            }
            _ = ["protocol", "host", "port", "path"].map { reader.raw($0) }
            if let parsed = ServiceURL(url) {
                body["protocol"] = .string(parsed.scheme)
                body["host"] = .string(parsed.host)
                body["port"] = .int(parsed.port)
                body["path"] = .optional(parsed.path)
            } else {
                reader.fail("url", "invalid", "must be an absolute URL such as http://upstream.internal:8080/path")
            }
        } else {
            if let value = reader.string("protocol", nullable: false, allowed: protocols) {
                body["protocol"] = .string(value)
            } else if !partial {
                body["protocol"] = "http"
            }
            if let host = reader.string(
                "host", required: !partial, nullable: false, minLength: 1, maxLength: 256, validate: hostProblem)
            {
                body["host"] = .string(host)
            }
            if let port = reader.int("port", nullable: false, min: 0, max: 65535) {
                body["port"] = .int(port)
            } else if !partial {
                body["port"] = 80
            }
            if reader.has("path") {
                if let path = reader.string("path", maxLength: 1024, validate: pathProblem) {
                    body["path"] = .string(path)
                } else {
                    body["path"] = .null
                }
            } else if !partial {
                body["path"] = .null
            }
        }
        if reader.has("name") {
            body["name"] = .optional(reader.string("name", minLength: 1, maxLength: 128, validate: nameProblem))
        } else if !partial {
            body["name"] = .null
        }
        for (field, value) in [("retries", Int64(5))] {
            if let number = reader.int(field, nullable: false, min: 0, max: 32767) {
                body[field] = .int(number)
            } else if !partial {
                body[field] = .int(value)
            }
        }
        for field in ["connect_timeout", "write_timeout", "read_timeout"] {
            if let number = reader.int(field, nullable: false, min: 1, max: 2_147_483_646) {
                body[field] = .int(number)
            } else if !partial {
                body[field] = 60000
            }
        }
        if let enabled = reader.bool("enabled", nullable: false) {
            body["enabled"] = .bool(enabled)
        } else if !partial {
            body["enabled"] = true
        }
        if reader.has("tls_verify") { body["tls_verify"] = reader.bool("tls_verify").map(JSON.bool) ?? .null }
        if reader.has("tls_verify_depth") {
            body["tls_verify_depth"] = reader.int("tls_verify_depth", min: 0, max: 64).map(JSON.int) ?? .null
        }
        if reader.has("ca_certificates") {
            body["ca_certificates"] = reader.stringArray("ca_certificates").map(JSON.strings) ?? .null
        }
        if reader.has("client_certificate") {
            body["client_certificate"] = reader.object("client_certificate").map(JSON.object) ?? .null
        }
    }

    static func hostProblem(_ host: String) -> String? {
        host.contains(where: { $0 == "/" || $0 == " " || $0 == "?" || $0 == "#" })
            ? "must be a hostname or IP address without scheme, port or path"
            : KongHost.problem(host, wildcard: false, port: false)
    }

    static func pathProblem(_ path: String) -> String? {
        path.hasPrefix("/") && !path.contains(" ") && !path.contains("?") && !hasControlCharacters(path)
            ? nil : "must start with '/' and contain no spaces, '?' or control characters"
    }

    static func hasControlCharacters(_ text: String) -> Bool {
        text.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
    }

    // MARK: Route

    private static func readRoute(
        _ reader: inout ObjectReader, _ body: inout JSONObject, _ references: inout [EntityReference], partial: Bool
    ) {
        if reader.has("name") {
            body["name"] = .optional(reader.string("name", minLength: 1, maxLength: 128, validate: nameProblem))
        } else if !partial {
            body["name"] = .null
        }
        func optionalList(_ field: String, validate: ((String) -> String?)?) {
            if reader.has(field) {
                body[field] =
                    reader.stringArray(field, maxItems: 256, maxLength: 1024, validate: validate).map(JSON.strings)
                    ?? .null
            } else if !partial {
                body[field] = .null
            }
        }
        optionalList("paths") { path in
            (path.hasPrefix("/") || path.hasPrefix("~/")) && !path.contains(" ") && !hasControlCharacters(path)
                ? nil : "must start with '/' (or '~/' for a regex) and contain no spaces or control characters"
        }
        optionalList("hosts") { host in KongHost.problem(host, wildcard: true, port: true) }
        optionalList("methods") { method in
            !method.isEmpty && method.allSatisfy({ $0.isASCII && $0.isUppercase })
                ? nil : "must be an upper-case HTTP method such as GET"
        }
        optionalList("snis") { sni in KongHost.problem(sni, wildcard: true, port: false) }
        if reader.has("protocols") {
            if let list = reader.stringArray(
                "protocols", maxItems: 10,
                validate: { protocols.contains($0) ? nil : "must be one of \(protocols.joined(separator: ", "))" })
            {
                if list.isEmpty {
                    reader.fail("protocols", "min_items", "must have at least one protocol", minimum: 1)
                } else {
                    body["protocols"] = .strings(list)
                }
            }
        } else if !partial {
            body["protocols"] = .strings(["http", "https"])
        }
        if reader.has("headers") {
            if let headers = reader.object("headers") {
                var valid = true
                for (name, value) in headers {
                    if name.lowercased() == "host" {
                        reader.fail("headers", "invalid", "must not contain Host (use hosts)")
                        valid = false
                    }
                    if let problem = KongHeader.nameProblem(name) {
                        reader.fail("headers", "invalid", problem)
                        valid = false
                    }
                    guard let items = value.arrayValue, !items.isEmpty, items.allSatisfy({ $0.stringValue != nil })
                    else {
                        reader.fail("headers", "invalid", "each header must map to a non-empty array of strings")
                        valid = false
                        break
                    }
                    for item in items.compactMap(\.stringValue) {
                        if let problem = KongHeader.valueProblem(item) {
                            reader.fail("headers.\(name.prefix(64))", "invalid", problem)
                            valid = false
                        }
                    }
                }
                if valid { body["headers"] = .object(headers) }
            } else {
                body["headers"] = .null
            }
        } else if !partial {
            body["headers"] = .null
        }
        let defaults: [(String, JSON)] = [
            ("strip_path", true), ("preserve_host", false), ("request_buffering", true), ("response_buffering", true),
        ]
        for (field, value) in defaults {
            if let flag = reader.bool(field, nullable: false) {
                body[field] = .bool(flag)
            } else if !partial {
                body[field] = value
            }
        }
        if let priority = reader.int("regex_priority", nullable: false, min: -2_147_483_648, max: 2_147_483_647) {
            body["regex_priority"] = .int(priority)
        } else if !partial {
            body["regex_priority"] = 0
        }
        if let code = reader.int("https_redirect_status_code", nullable: false) {
            if [301, 302, 307, 308, 426].contains(code) {
                body["https_redirect_status_code"] = .int(code)
            } else {
                reader.fail(
                    "https_redirect_status_code", "enum", "must be one of 301, 302, 307, 308, 426",
                    choices: ["301", "302", "307", "308", "426"])
            }
        } else if !partial {
            body["https_redirect_status_code"] = 426
        }
        if let handling = reader.string("path_handling", nullable: false, allowed: ["v0", "v1"]) {
            body["path_handling"] = .string(handling)
        } else if !partial {
            body["path_handling"] = "v0"
        }
        for field in ["sources", "destinations"] {
            if reader.has(field) { body[field] = reader.raw(field) } else if !partial { body[field] = .null }
        }
        readReference(&reader, &body, &references, field: "service", kind: .service, partial: partial)
        // Kong: an HTTP route must match on something.
        let matchers = ["paths", "hosts", "methods", "headers", "snis"]
        if !matchers.contains(where: { body[$0].map { $0 != .null && $0 != .array([]) } ?? false }) {
            reader.fail("paths", "required", "a route needs at least one of paths, hosts, methods, headers or snis")
        }
    }

    private static func readReference(
        _ reader: inout ObjectReader, _ body: inout JSONObject, _ references: inout [EntityReference], field: String,
        kind: GatewayEntityKind, partial: Bool
    ) {
        guard reader.has(field) else {
            if !partial { body[field] = .null }
            return
        }
        guard let raw = reader.raw(field), raw != .null else {
            body[field] = .null
            return
        }
        guard case .object(let object) = raw else {
            reader.fail(field, "is_object", "must be an object such as {\"id\": \"...\"}")
            return
        }
        let key = object["id"]?.stringValue ?? object["name"]?.stringValue ?? object["username"]?.stringValue
        guard let key, !key.isEmpty, object.count == 1 else {
            reader.fail(field, "invalid", "must be {\"id\": \"...\"} (or {\"name\": \"...\"})")
            return
        }
        references.append(EntityReference(kind: kind, field: field, key: key))
        body[field] = ["id": .string(key)]
    }

    // MARK: Consumer

    private static func readConsumer(_ reader: inout ObjectReader, _ body: inout JSONObject, partial: Bool) {
        if reader.has("username") {
            body["username"] = .optional(reader.string("username", minLength: 1, maxLength: 128))
        } else if !partial {
            body["username"] = .null
        }
        if reader.has("custom_id") {
            body["custom_id"] = .optional(reader.string("custom_id", minLength: 1, maxLength: 128))
        } else if !partial {
            body["custom_id"] = .null
        }
        if (body["username"] ?? .null) == .null && (body["custom_id"] ?? .null) == .null {
            reader.fail("username", "required", "a consumer needs a username or a custom_id")
        }
    }

    // MARK: Plugin

    private static func readPlugin(
        _ reader: inout ObjectReader, _ body: inout JSONObject, _ references: inout [EntityReference], partial: Bool
    ) {
        if let name = reader.string(
            "name", required: !partial, nullable: false, minLength: 1, maxLength: 128, validate: KongPlugins.problem)
        {
            body["name"] = .string(name)
        }
        if reader.has("instance_name") {
            body["instance_name"] = .optional(
                reader.string("instance_name", minLength: 1, maxLength: 128, validate: nameProblem))
        } else if !partial {
            body["instance_name"] = .null
        }
        if reader.has("config") {
            body["config"] = reader.object("config").map(JSON.object) ?? .object(JSONObject())
        } else if !partial {
            body["config"] = .object(JSONObject())
        }
        if let enabled = reader.bool("enabled", nullable: false) {
            body["enabled"] = .bool(enabled)
        } else if !partial {
            body["enabled"] = true
        }
        if reader.has("protocols") {
            body["protocols"] =
                reader.stringArray(
                    "protocols", maxItems: 10,
                    validate: { protocols.contains($0) ? nil : "must be one of \(protocols.joined(separator: ", "))" }
                ).map(JSON.strings) ?? .null
        } else if !partial {
            body["protocols"] = .strings(["grpc", "grpcs", "http", "https"])
        }
        readReference(&reader, &body, &references, field: "service", kind: .service, partial: partial)
        readReference(&reader, &body, &references, field: "route", kind: .route, partial: partial)
        readReference(&reader, &body, &references, field: "consumer", kind: .consumer, partial: partial)
        for field in ["consumer_group", "ordering", "partials", "condition"] {
            if reader.has(field) { body[field] = reader.raw(field) }
        }
    }
}

/// `http://host:port/path` split the way Kong splits a service `url`.
public struct ServiceURL: Sendable, Hashable {
    public var scheme: String
    public var host: String
    public var port: Int64
    public var path: String?

    public init?(_ text: String) {
        let parts = text.split(separator: "://", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        let scheme = String(parts[0]).lowercased()
        guard GatewayEntityValidator.protocols.contains(scheme) else { return nil }
        var rest = parts[1]
        var path: String? = nil
        if let slash = rest.firstIndex(of: "/") {
            path = String(rest[slash...])
            rest = rest[..<slash]
        }
        var host = String(rest)
        var port: Int64 = scheme == "https" || scheme == "wss" || scheme == "grpcs" || scheme == "tls" ? 443 : 80
        if let colon = host.lastIndex(of: ":") {
            guard let value = Int64(host[host.index(after: colon)...]), (0...65535).contains(value) else { return nil }
            port = value
            host = String(host[..<colon])
        }
        guard !host.isEmpty, GatewayEntityValidator.hostProblem(host) == nil else { return nil }
        if let candidate = path, GatewayEntityValidator.pathProblem(candidate) != nil { return nil }
        self.scheme = scheme
        self.host = host
        self.port = port
        self.path = path
    }
}
