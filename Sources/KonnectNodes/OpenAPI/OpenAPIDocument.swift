import KonnectCore
import KonnectHTTP

/// The OpenAPI 3 documents the nodes serve at `GET /openapi.json`, one per listener: on loopback TCP the
/// public API only, on the Unix socket and the TLS link also the node-to-node routes (`/internal/...`). Every operation
/// declares its own security, its path parameters with their formats, a request body with its
/// properties and `required` list, and each status it answers with the media type and schema of that
/// answer. `OpenAPICoverageTests` checks that each router and its documents list the same operations;
/// the process tests check every response they receive against the served document.
public enum OpenAPIDocument {
    /// Who may call an operation.
    enum Security {
        /// Anyone (health, signup, login, the calendar's moment).
        case none
        /// A session token (`POST /v3/authenticate`) or a personal access token (`kpat_`).
        case token
        /// The support credential of the run directory (`support.token`).
        case support
        /// Whoever can open the node's Unix socket (mode 0600), or presents a node certificate of the
        /// cluster's CA on its TLS link: node-to-node and operator routes.
        case socket
        /// A data plane's credential (`kdp_...` or a pinned certificate).
        case dataPlane
        /// A Mesh zone's token (`spat_...`).
        case zone
    }

    /// One operation.
    struct Operation {
        var method: String
        var path: String
        var summary: String
        var tag: String
        var security: Security = .token
        /// Query parameters (name, schema, description).
        var query: [(String, JSON, String)] = []
        var request: JSON?
        /// A body that may be left out (`{}` is assumed).
        var requestOptional = false
        /// Success statuses and their schemas (nil: no content).
        var success: [(Int, JSON?)]
        var successMediaType = "application/json"
        /// Error statuses besides those every operation of its kind answers (see `errorStatuses`).
        var errors: [Int] = []
        var style: ErrorStyle = .problem
        var unixOnly = false
        /// The node asks the auth node about the caller (geo routes): 503 when it cannot.
        var introspects = false
    }

    static func ref(_ name: String) -> JSON { ["$ref": .string("#/components/schemas/\(name)")] }

    /// The global API (auth node). `geos` are the geos the cluster runs (what signup accepts).
    public static func auth(geos: [String], listener: ListenerKind) -> JSON {
        document(
            title: "konnect-sim global API (auth node)", operations: authOperations, listener: listener,
            schemas: sharedSchemas.merging(authSchemas(geos: geos)))
    }

    /// The geo API (geo node).
    public static func geo(listener: ListenerKind) -> JSON {
        document(
            title: "konnect-sim geo API (geo node)", operations: geoOperations, listener: listener,
            schemas: sharedSchemas.merging(geoSchemas))
    }

    /// (method, path) of every operation in a document, for the route-coverage test.
    public static func operations(_ document: JSON) -> Set<String> {
        var found: Set<String> = []
        for (path, item) in document["paths"]?.objectValue ?? [:] {
            for (method, _) in item.objectValue ?? [:] where method != "parameters" {
                found.insert("\(method.uppercased()) \(path)")
            }
        }
        return found
    }

    /// The statuses an operation answers besides its successes: what its security, body and path
    /// parameters imply, plus its own.
    static func errorStatuses(_ operation: Operation) -> [Int] {
        var statuses = Set(operation.errors)
        if operation.request != nil { statuses.formUnion([400, 415]) }
        // A path id that must be a UUID: 400 when it is not one, 404 when there is no such object.
        if pathParameters(operation.path).contains(where: {
            parameterSchema($0, path: operation.path)["format"] == "uuid"
        }
        ) {
            statuses.formUnion([400, 404])
        }
        switch operation.security {
        case .token, .support, .dataPlane, .zone: statuses.insert(401)
        case .none, .socket: break
        }
        if operation.security == .support { statuses.insert(403) }
        if operation.introspects { statuses.insert(503) }
        return statuses.sorted()
    }

    /// The names of a path's `{parameters}`, in order.
    public static func pathParameters(_ path: String) -> [String] {
        path.split(separator: "/").filter { $0.hasPrefix("{") }.map { String($0.dropFirst().dropLast()) }
    }

    /// Path parameters: UUIDs where the node answers 400 for anything else, names where it takes names.
    static func parameterSchema(_ name: String, path: String) -> JSON {
        let uuid: JSON = ["type": "string", "format": "uuid"]
        switch name {
        case "userId" where path.contains("/access-tokens"):
            return [
                "type": "string", "description": "The caller's own user id (UUID), or `me`",
                "pattern": .string(
                    "^(me|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$"),
            ]
        case "userId", "teamId", "roleId", "tokenId", "inviteId", "orgId", "controlPlaneId", "portalId",
            "meshControlPlaneId":
            return uuid
        case "email": return ["type": "string", "format": "email"]
        case "policyType":
            return ["type": "string", "enum": ["meshtrafficpermissions", "meshtimeouts", "meshretries"]]
        case "mesh", "name", "zone":
            return ["type": "string", "pattern": "^[a-z0-9-]{1,100}$"]
        case "serviceId", "routeId", "consumerId", "pluginId":
            return ["type": "string", "description": "The entity's id (UUID) or its unique name"]
        default: return ["type": "string"]
        }
    }

    static func securityRequirement(_ security: Security) -> JSON {
        switch security {
        case .none, .socket: []
        case .token: [["personalAccessToken": []], ["konnectAccessToken": []]]
        case .support: [["supportCredential": []]]
        case .dataPlane: [["dataPlaneCredential": []]]
        case .zone: [["zoneToken": []]]
        }
    }

    static func document(title: String, operations: [Operation], listener: ListenerKind, schemas: JSONObject)
        -> JSON
    {
        var paths = JSONObject()
        for operation in operations where listener != .tcp || !operation.unixOnly {
            var item = paths[operation.path]?.objectValue ?? JSONObject()
            var body = JSONObject([("summary", .string(operation.summary)), ("tags", .strings([operation.tag]))])
            body["operationId"] = .string(operationID(operation))
            body["security"] = securityRequirement(operation.security)
            if operation.security == .socket {
                body["description"] = "Served on the node's Unix socket only; access is the socket's file mode (0600)."
            }
            var parameters: [JSON] = pathParameters(operation.path).map { name in
                [
                    "name": .string(name), "in": "path", "required": true,
                    "schema": parameterSchema(name, path: operation.path),
                ]
            }
            for (name, schema, description) in operation.query {
                parameters.append([
                    "name": .string(name), "in": "query", "required": false, "schema": schema,
                    "description": .string(description),
                ])
            }
            if !parameters.isEmpty { body["parameters"] = .array(parameters) }
            if let request = operation.request {
                body["requestBody"] = [
                    "required": .bool(!operation.requestOptional),
                    "content": ["application/json": ["schema": request]],
                ]
            }
            var responses = JSONObject()
            for (status, schema) in operation.success {
                var success = JSONObject([("description", .string(status == 204 ? "No Content" : "Success"))])
                if let schema {
                    success["content"] = .object(
                        JSONObject([(operation.successMediaType, JSON.object(["schema": schema]))]))
                }
                responses[String(status)] = .object(success)
            }
            for status in errorStatuses(operation) {
                let (mediaType, schema) = errorContent(status, style: operation.style)
                responses[String(status)] = [
                    "description": .string(errorDescription(status)),
                    "content": .object(JSONObject([(mediaType, JSON.object(["schema": schema]))])),
                ]
            }
            body["responses"] = .object(responses)
            if operation.unixOnly { body["x-unix-socket-only"] = true }
            item[operation.method.lowercased()] = .object(body)
            paths[operation.path] = .object(item)
        }
        return [
            "openapi": "3.0.3",
            "info": [
                "title": .string(title), "version": "1.0.0",
                "description": .string(
                    "Shapes follow Kong Konnect's public OpenAPI specifications where they cover the same thing "
                        + "(control-planes-v2 \(KongSpecs.controlPlanes), control-planes-config-v2 "
                        + "\(KongSpecs.controlPlanesConfig), identity-v3 \(KongSpecs.identity)). "
                        + (listener == .tcp
                            ? "This is the public TCP listener's document: the public API. "
                            : "This is the \(listener == .unix ? "Unix socket" : "TLS link")'s document: the public API and the node-to-node routes. ")
                        + "Besides the statuses each operation lists, the HTTP layer answers before any route runs: "
                        + "408 (request too slow), 413 (body over 1 MiB), 431 (head over 16 KiB), 400 (malformed "
                        + "HTTP), 404 (no such path) and 405 (another method), as problem documents."),
            ],
            "components": [
                "schemas": .object(schemas),
                "securitySchemes": [
                    "personalAccessToken": [
                        "type": "http", "scheme": "bearer", "bearerFormat": "kpat_...",
                        "description": "A personal access token (POST /v3/users/{userId}/access-tokens).",
                    ],
                    "konnectAccessToken": [
                        "type": "http", "scheme": "bearer", "bearerFormat": "kses_...",
                        "description": "A session token from POST /v3/authenticate (one calendar day).",
                    ],
                    "supportCredential": [
                        "type": "http", "scheme": "bearer",
                        "description": "Kong Support's credential: the run directory's support.token.",
                    ],
                    "dataPlaneCredential": [
                        "type": "http", "scheme": "bearer",
                        "description": "A data plane's credential (dp-client-certificates).",
                    ],
                    "zoneToken": [
                        "type": "http", "scheme": "bearer", "bearerFormat": "spat_...",
                        "description": "A Mesh zone's token (.../api/tokens/zone).",
                    ],
                ],
            ],
            "paths": .object(paths),
        ]
    }

    static func errorDescription(_ status: Int) -> String {
        switch status {
        case 415: "Unsupported Media Type: the body must be sent as application/json"
        case 429: "Too Many Requests: wait the Retry-After seconds"
        case 503: "Service Unavailable (geo routes: the auth node cannot be reached)"
        default: APIError.defaultTitle(status)
        }
    }

    /// Konnect's problem documents (`BadRequestError` for 400s), or Kong's `{message, status}` under
    /// `/core-entities`.
    static func errorContent(_ status: Int, style: ErrorStyle) -> (String, JSON) {
        switch style {
        case .kong: ("application/json", ref("KongError"))
        case .problem: ("application/problem+json", ref(status == 400 ? "BadRequestError" : "Problem"))
        }
    }

    static func operationID(_ operation: Operation) -> String {
        let words = operation.path.split(separator: "/").map {
            $0.hasPrefix("{") ? "by-" + $0.dropFirst().dropLast() : String($0)
        }
        return ([operation.method.lowercased()] + words).joined(separator: "-")
    }
}

/// The versions of Kong's specifications (`info.version`) whose shapes the APIs follow.
public enum KongSpecs {
    public static let controlPlanes = "2.0.2"
    public static let controlPlanesConfig = "3.15.0"
    public static let identity = "3.4.5"
    public static let organizations = "3.0.2"
}

extension JSONObject {
    func merging(_ other: JSONObject) -> JSONObject {
        var merged = self
        for (key, value) in other { merged[key] = value }
        return merged
    }
}
