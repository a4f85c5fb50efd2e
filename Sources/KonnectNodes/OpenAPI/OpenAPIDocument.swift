import KonnectCore

/// The OpenAPI 3 documents the nodes serve at `GET /openapi.json`: every route of the auth node (the
/// global API) and of a geo node (the geo API), including the node-to-node routes served only on the
/// Unix socket (marked `x-unix-socket-only`). A test checks that each router's routes and its document
/// list the same operations.
public enum OpenAPIDocument {
    /// One operation.
    struct Operation {
        var method: String
        var path: String
        var summary: String
        var tag: String
        var request: JSON?
        var success: Int
        var response: JSON?
        var unixOnly = false
        var errors: [Int] = [400, 401, 403, 404]
    }

    static func ref(_ name: String) -> JSON { ["$ref": .string("#/components/schemas/\(name)")] }
    static func list(_ item: JSON) -> JSON {
        ["type": "object", "properties": ["data": ["type": "array", "items": item], "meta": ref("PageMeta")]]
    }
    static let object: JSON = ["type": "object"]

    public static var auth: JSON { document(title: "konnect-sim global API (auth node)", operations: authOperations) }
    public static var geo: JSON { document(title: "konnect-sim geo API (geo node)", operations: geoOperations) }

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

    static func document(title: String, operations: [Operation]) -> JSON {
        var paths = JSONObject()
        for operation in operations {
            var item = paths[operation.path]?.objectValue ?? JSONObject()
            var body = JSONObject([("summary", .string(operation.summary)), ("tags", .strings([operation.tag]))])
            body["operationId"] = .string(operationID(operation))
            let parameters = operation.path.split(separator: "/").filter { $0.hasPrefix("{") }.map { segment -> JSON in
                [
                    "name": .string(String(segment.dropFirst().dropLast())), "in": "path", "required": true,
                    "schema": ["type": "string"],
                ]
            }
            if !parameters.isEmpty { body["parameters"] = .array(parameters) }
            if let request = operation.request {
                body["requestBody"] = ["required": true, "content": ["application/json": ["schema": request]]]
            }
            var responses = JSONObject()
            var success = JSONObject([("description", .string(operation.success == 204 ? "No Content" : "Success"))])
            if let response = operation.response { success["content"] = ["application/json": ["schema": response]] }
            responses[String(operation.success)] = .object(success)
            for code in operation.errors {
                responses[String(code)] = [
                    "description": .string(APIError.defaultTitle(code)),
                    "content": ["application/problem+json": ["schema": ref("Problem")]],
                ]
            }
            if !operation.unixOnly && operation.tag != "Health" {
                responses["503"] = [
                    "description": "Service Unavailable (for geo routes: the auth node cannot be reached)",
                    "content": ["application/problem+json": ["schema": ref("Problem")]],
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
                "description":
                    "Shapes follow Kong Konnect's public OpenAPI specifications where they cover the same thing.",
            ],
            "components": [
                "schemas": .object(schemas), "securitySchemes": ["bearer": ["type": "http", "scheme": "bearer"]],
            ],
            "security": [["bearer": []]],
            "paths": .object(paths),
        ]
    }

    static func operationID(_ operation: Operation) -> String {
        let words = operation.path.split(separator: "/").map {
            $0.hasPrefix("{") ? "by-" + $0.dropFirst().dropLast() : String($0)
        }
        return ([operation.method.lowercased()] + words).joined(separator: "-")
    }

    static let schemas: JSONObject = [
        "Problem": [
            "type": "object", "required": ["status", "title", "instance", "detail"],
            "properties": [
                "status": ["type": "integer"], "title": ["type": "string"], "type": ["type": "string"],
                "instance": ["type": "string"],
                "detail": ["type": "string"],
                "invalid_parameters": ["type": "array", "items": ref("InvalidParameter")],
                "reason": ["type": "string"],
            ],
        ],
        "InvalidParameter": [
            "type": "object", "required": ["field", "reason"],
            "properties": ["field": ["type": "string"], "rule": ["type": "string"], "reason": ["type": "string"]],
        ],
        "KongError": [
            "type": "object",
            "properties": ["message": ["type": "string"], "status": ["type": "integer"], "fields": ["type": "object"]],
        ],
        "PageMeta": [
            "type": "object",
            "properties": [
                "page": [
                    "type": "object",
                    "properties": [
                        "number": ["type": "integer"], "size": ["type": "integer"], "total": ["type": "integer"],
                    ],
                ]
            ],
        ],
        "Signup": [
            "type": "object", "additionalProperties": false,
            "required": ["email", "password", "full_name", "organization_name", "geo"],
            "properties": [
                "email": ["type": "string", "format": "email", "maxLength": 250],
                "password": ["type": "string", "minLength": 12],
                "full_name": ["type": "string", "maxLength": 250],
                "organization_name": ["type": "string", "maxLength": 250],
                "plan": ["type": "string", "enum": ["plus", "enterprise"]],
                "geo": ["type": "string", "enum": ["us", "eu", "au", "me", "in", "sg"]],
            ],
        ],
        "Authenticate": [
            "type": "object", "additionalProperties": false, "required": ["email", "password"],
            "properties": [
                "email": ["type": "string"], "password": ["type": "string"],
                "organization_id": ["type": "string", "format": "uuid"],
            ],
        ],
        "AccessToken": [
            "type": "object",
            "properties": [
                "access_token": ["type": "string"], "token_type": ["type": "string"], "expires_in": ["type": "integer"],
                "organization_id": ["type": "string", "format": "uuid"],
            ],
        ],
        "User": [
            "type": "object",
            "properties": [
                "id": ["type": "string", "format": "uuid"], "email": ["type": "string"],
                "full_name": ["type": "string"],
                "preferred_name": ["type": "string"], "active": ["type": "boolean"],
                "created_at": ["type": "string", "format": "date-time"],
                "updated_at": ["type": "string", "format": "date-time"],
            ],
        ],
        "Organization": [
            "type": "object",
            "properties": [
                "id": ["type": "string", "format": "uuid"], "name": ["type": "string"], "owner_id": ["type": "string"],
                "state": ["type": "string", "enum": ["active", "inactive", "deleting", "deleted"]],
                "retention_period_days": ["type": "integer"],
                "plan": ["type": "string"], "home_geo": ["type": "string"],
                "created_at": ["type": "string", "format": "date-time"],
            ],
        ],
        "License": [
            "type": "object",
            "properties": [
                "id": ["type": "string"], "product": ["type": "string"], "name": ["type": "string"],
                "state": ["type": "string", "enum": ["active", "ended"]],
                "created_at": ["type": "string", "format": "date-time"],
                "ended_at": ["type": "string", "format": "date-time", "nullable": true],
            ],
        ],
        "PersonalAccessToken": [
            "type": "object",
            "properties": [
                "id": ["type": "string"], "name": ["type": "string"],
                "state": ["type": "string", "enum": ["ACTIVE", "REVOKED", "EXPIRED"]],
                "konnect_token": ["type": "string"],
                "expires_at": ["type": "string", "format": "date-time", "nullable": true],
            ],
        ],
        "Team": [
            "type": "object",
            "properties": [
                "id": ["type": "string"], "name": ["type": "string"], "description": ["type": "string"],
                "labels": ["type": "object"],
            ],
        ],
        "AssignedRole": [
            "type": "object",
            "properties": [
                "id": ["type": "string"], "role_name": ["type": "string"], "entity_id": ["type": "string"],
                "entity_type_name": ["type": "string"],
                "entity_region": ["type": "string", "enum": ["us", "eu", "au", "me", "in", "sg", "*"]],
            ],
        ],
        "Plan": [
            "type": "object",
            "properties": [
                "plan": ["type": "string"], "free": ["type": "boolean"], "paid": ["type": "boolean"],
                "trial": ["type": "object"], "credits": ["type": "object"],
                "subscriptions": ["type": "array", "items": ["type": "object"]],
            ],
        ],
        "Invoice": [
            "type": "object",
            "properties": [
                "id": ["type": "string"], "cycle": ["type": "integer"], "period_start": ["type": "string"],
                "period_end": ["type": "string"],
                "lines": ["type": "array", "items": ["type": "object"]], "subtotal": ["type": "string"],
                "credits_applied": ["type": "string"],
                "total": ["type": "string"], "billing": ["type": "string", "enum": ["rate_card", "contract"]],
            ],
        ],
        "Usage": [
            "type": "object",
            "properties": [
                "cycle": ["type": "integer"], "status": ["type": "string"],
                "periods": ["type": "array", "items": ref("Invoice")],
            ],
        ],
        "SupportOrganization": [
            "type": "object",
            "properties": [
                "state": ["type": "string"], "state_history": ["type": "array", "items": ["type": "object"]],
                "licenses": ["type": "array", "items": ref("License")], "email_locked": ["type": "boolean"],
            ],
        ],
        "Clock": ["type": "object", "properties": ["now": ["type": "string", "format": "date-time"]]],
        "ControlPlane": [
            "type": "object",
            "properties": [
                "id": ["type": "string", "format": "uuid"], "name": ["type": "string"],
                "description": ["type": "string"], "labels": ["type": "object"],
                "config": [
                    "type": "object",
                    "properties": [
                        "control_plane_endpoint": ["type": "string"], "telemetry_endpoint": ["type": "string"],
                        "cluster_type": [
                            "type": "string",
                            "enum": [
                                "CLUSTER_TYPE_CONTROL_PLANE", "CLUSTER_TYPE_K8S_INGRESS_CONTROLLER",
                                "CLUSTER_TYPE_CONTROL_PLANE_GROUP", "CLUSTER_TYPE_SERVERLESS",
                            ],
                        ],
                        "auth_type": ["type": "string", "enum": ["pinned_client_certs", "pki_client_certs"]],
                        "cloud_gateway": ["type": "boolean"],
                        "proxy_urls": ["type": "array", "items": ["type": "object"]],
                    ],
                ],
                "created_at": ["type": "string", "format": "date-time"],
                "updated_at": ["type": "string", "format": "date-time"],
            ],
        ],
        "CreateControlPlane": [
            "type": "object", "additionalProperties": false, "required": ["name"],
            "properties": [
                "name": ["type": "string", "minLength": 2, "maxLength": 256],
                "description": ["type": "string", "maxLength": 2048], "cluster_type": ["type": "string"],
                "auth_type": ["type": "string"], "cloud_gateway": ["type": "boolean"],
                "proxy_urls": ["type": "array", "maxItems": 5, "items": ["type": "object"]],
                "labels": ["type": "object"],
            ],
        ],
        "Service": [
            "type": "object", "additionalProperties": false,
            "properties": [
                "id": ["type": "string"], "name": ["type": "string"], "url": ["type": "string", "writeOnly": true],
                "protocol": ["type": "string", "default": "http"], "host": ["type": "string"],
                "port": ["type": "integer", "default": 80],
                "path": ["type": "string"], "retries": ["type": "integer", "default": 5],
                "connect_timeout": ["type": "integer", "default": 60000],
                "write_timeout": ["type": "integer", "default": 60000],
                "read_timeout": ["type": "integer", "default": 60000],
                "enabled": ["type": "boolean", "default": true],
                "tags": ["type": "array", "items": ["type": "string"]],
            ],
        ],
        "Route": [
            "type": "object", "additionalProperties": false,
            "properties": [
                "id": ["type": "string"], "name": ["type": "string"],
                "paths": ["type": "array", "items": ["type": "string"]],
                "hosts": ["type": "array", "items": ["type": "string"]],
                "methods": ["type": "array", "items": ["type": "string"]],
                "protocols": ["type": "array", "items": ["type": "string"]],
                "strip_path": ["type": "boolean", "default": true],
                "preserve_host": ["type": "boolean", "default": false],
                "service": ["type": "object", "properties": ["id": ["type": "string"]]],
                "tags": ["type": "array", "items": ["type": "string"]],
            ],
        ],
        "Consumer": [
            "type": "object", "additionalProperties": false,
            "properties": [
                "id": ["type": "string"], "username": ["type": "string"], "custom_id": ["type": "string"],
                "tags": ["type": "array", "items": ["type": "string"]],
            ],
        ],
        "Plugin": [
            "type": "object", "additionalProperties": false, "required": ["name"],
            "properties": [
                "id": ["type": "string"], "name": ["type": "string"], "instance_name": ["type": "string"],
                "config": ["type": "object"],
                "enabled": ["type": "boolean"], "service": ["type": "object"], "route": ["type": "object"],
                "consumer": ["type": "object"],
            ],
        ],
        "EntityList": [
            "type": "object",
            "properties": [
                "data": ["type": "array", "items": ["type": "object"]], "next": ["type": "string", "nullable": true],
                "offset": ["type": "string"],
            ],
        ],
        "Portal": [
            "type": "object",
            "properties": [
                "id": ["type": "string"], "name": ["type": "string"], "description": ["type": "string"],
                "published": ["type": "boolean"],
            ],
        ],
        "Node": [
            "type": "object",
            "properties": [
                "id": ["type": "string"], "version": ["type": "string"], "hostname": ["type": "string"],
                "last_ping": ["type": "integer"],
                "type": ["type": "string"], "config_hash": ["type": "string"],
                "compatibility_status": ["type": "object"],
            ],
        ],
        "DataPlaneCertificate": [
            "type": "object",
            "properties": [
                "id": ["type": "string"], "cert": ["type": "string"], "title": ["type": "string"],
                "created_at": ["type": "integer"],
            ],
        ],
        "MeshControlPlane": [
            "type": "object",
            "properties": [
                "id": ["type": "string"], "name": ["type": "string"], "description": ["type": "string"],
                "labels": ["type": "object"], "created_at": ["type": "string"],
            ],
        ],
        "MeshResource": [
            "type": "object", "required": ["type", "name"],
            "properties": [
                "type": ["type": "string"], "name": ["type": "string"], "mesh": ["type": "string"],
                "spec": ["type": "object"],
            ],
        ],
        "Zone": [
            "type": "object",
            "properties": [
                "name": ["type": "string"], "state": ["type": "string", "enum": ["online", "offline"]],
                "zoneInsight": ["type": "object"],
            ],
        ],
    ]
}
