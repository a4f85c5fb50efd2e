import KonnectCore
import KonnectHTTP

/// The geo API's operations and schemas (geo node): control-planes-v2 and control-planes-config-v2 shapes
/// for control planes and core entities.
extension OpenAPIDocument {
    /// A geo operation: the caller is introspected at the auth node (503 when it cannot be asked).
    static func geoOp(
        _ method: String, _ path: String, _ summary: String, _ tag: String, query: [(String, JSON, String)] = [],
        request: JSON? = nil, requestOptional: Bool = false, success: [(Int, JSON?)], errors: [Int] = [],
        style: ErrorStyle = .problem
    ) -> Operation {
        Operation(
            method: method, path: path, summary: summary, tag: tag, security: .token, query: query, request: request,
            requestOptional: requestOptional, success: success, errors: errors, style: style, introspects: true)
    }

    static var geoOperations: [Operation] {
        let cp = "/v2/control-planes/{controlPlaneId}"
        let mesh = "/v0/mesh/control-planes/{meshControlPlaneId}"
        var operations =
            commonOperations + [
                geoOp(
                    "GET", "/v2/whoami", "Who the auth node says the caller is, and this geo's name.", "Identity",
                    success: [(200, ref("Whoami"))]),
                geoOp(
                    "GET", "/v2/control-planes", "The organization's control planes in this geo.", "Control Planes",
                    query: pageQuery + controlPlaneFilters, success: [(200, list(ref("ControlPlane")))],
                    errors: [400, 403]),
                geoOp(
                    "POST", "/v2/control-planes", "Create a control plane.", "Control Planes",
                    request: ref("CreateControlPlaneRequest"), success: [(201, ref("ControlPlane"))],
                    errors: [403, 409]),
                geoOp(
                    "GET", cp, "A control plane.", "Control Planes", success: [(200, ref("ControlPlane"))],
                    errors: [403]),
                geoOp(
                    "PATCH", cp, "Change a control plane.", "Control Planes", request: ref("UpdateControlPlaneRequest"),
                    success: [(200, ref("ControlPlane"))], errors: [403, 409]),
                geoOp(
                    "DELETE", cp, "Delete a control plane and its entities (a group's members stay).", "Control Planes",
                    success: [(204, nil)], errors: [403]),
                geoOp(
                    "GET", cp + "/group-memberships", "The members of a control plane group, in the order they joined.",
                    "Control Plane Groups",
                    query: [
                        ("page[size]", integer(min: 1, max: 1000), "Members per page (100)"),
                        ("page[after]", string, "The last member of the previous page"),
                    ], success: [(200, ref("ListGroupMemberships"))], errors: [400, 403]),
                geoOp(
                    "PUT", cp + "/group-memberships",
                    "Set a group's members: standard control planes of this organization in this geo, each in one group at most.",
                    "Control Plane Groups", request: ref("GroupMembership"), success: [(204, nil)], errors: [403]),
                geoOp(
                    "POST", cp + "/group-memberships/add", "Add members to a control plane group.",
                    "Control Plane Groups", request: ref("GroupMembership"), success: [(204, nil)], errors: [403]),
                geoOp(
                    "POST", cp + "/group-memberships/remove", "Remove members from a control plane group.",
                    "Control Plane Groups", request: ref("GroupMembership"), success: [(204, nil)], errors: [403]),
                geoOp(
                    "GET", cp + "/group-status",
                    "A group's state: CONFLICT while members' entities collide (its data planes then get no update).",
                    "Control Plane Groups", success: [(200, closed(["item": ref("GroupStatus")]))], errors: [400, 403]),
                geoOp(
                    "GET", cp + "/group-member-status", "Whether a control plane is a member of a group.",
                    "Control Plane Groups", success: [(200, ref("GroupMemberStatus"))], errors: [403]),
                geoOp(
                    "GET", cp + "/expected-config-hash", "The hash a synced data plane reports.", "DP Nodes",
                    success: [(200, ref("ExpectedConfigHash"))], errors: [403]),
                geoOp(
                    "GET", cp + "/expected-config-version", "The configuration version a synced data plane runs.",
                    "DP Nodes", success: [(200, ref("ExpectedConfigVersion"))], errors: [403]),
                geoOp(
                    "GET", cp + "/core-entities/config",
                    "The declarative configuration data planes receive (a group's: the union of its members').",
                    "Core Entities", success: [(200, ref("DeclarativeConfiguration"))], errors: [403],
                    style: .kong),
                geoOp(
                    "GET", cp + "/dp-client-certificates", "Pinned data-plane credentials.", "DP Certificates",
                    success: [(200, ref("DataPlaneClientCertificateList"))], errors: [403]),
                geoOp(
                    "POST", cp + "/dp-client-certificates", "Pin a credential (or have one issued) for data planes.",
                    "DP Certificates", request: ref("CreateDataPlaneClientCertificate"), requestOptional: true,
                    success: [(201, ref("DataPlaneClientCertificateItem"))], errors: [403]),
                geoOp(
                    "GET", cp + "/dp-client-certificates/{certificateId}", "A pinned credential.", "DP Certificates",
                    success: [(200, ref("DataPlaneClientCertificateItem"))], errors: [403, 404]),
                geoOp(
                    "DELETE", cp + "/dp-client-certificates/{certificateId}",
                    "Unpin a credential: its data planes are refused.", "DP Certificates", success: [(204, nil)],
                    errors: [403, 404]),
                geoOp(
                    "GET", cp + "/nodes", "Data-plane nodes of the control plane.", "DP Nodes",
                    success: [(200, ref("NodeList"))], errors: [403]),
                geoOp(
                    "GET", cp + "/nodes/{nodeId}", "A data-plane node.", "DP Nodes",
                    success: [(200, closed(["item": ref("Node")]))], errors: [403, 404]),
                geoOp(
                    "DELETE", cp + "/nodes/{nodeId}", "Remove a node record (not the process).", "DP Nodes",
                    success: [(204, nil)], errors: [403, 404]),
                geoOp(
                    "GET", "/v2/portals", "Dev Portals in this geo.", "Dev Portals", query: pageQuery,
                    success: [(200, list(ref("Portal")))], errors: [400, 403]),
                geoOp(
                    "POST", "/v2/portals", "Create a Dev Portal (published unless told otherwise).", "Dev Portals",
                    request: ref("CreatePortal"), success: [(201, ref("Portal"))], errors: [403, 409]),
                geoOp(
                    "GET", "/v2/portals/{portalId}", "A Dev Portal.", "Dev Portals", success: [(200, ref("Portal"))],
                    errors: [403]),
                geoOp(
                    "PATCH", "/v2/portals/{portalId}", "Change (publish, unpublish) a Dev Portal.", "Dev Portals",
                    request: ref("UpdatePortal"), success: [(200, ref("Portal"))], errors: [403, 409]),
                geoOp(
                    "DELETE", "/v2/portals/{portalId}", "Delete a Dev Portal.", "Dev Portals", success: [(204, nil)],
                    errors: [403]),
                geoOp(
                    "GET", "/v0/mesh/control-planes", "Mesh global control planes in this geo.", "Mesh",
                    query: pageQuery, success: [(200, list(ref("MeshControlPlane")))], errors: [400]),
                geoOp(
                    "POST", "/v0/mesh/control-planes", "Create a Mesh global control plane.", "Mesh",
                    request: ref("CreateMeshControlPlane"), success: [(201, ref("MeshControlPlane"))],
                    errors: [403, 409]),
                geoOp(
                    "GET", mesh, "A Mesh global control plane.", "Mesh", success: [(200, ref("MeshControlPlane"))],
                    errors: [403]),
                geoOp(
                    "PATCH", mesh, "Change a Mesh global control plane.", "Mesh",
                    request: ref("UpdateMeshControlPlane"),
                    success: [(200, ref("MeshControlPlane"))], errors: [403, 409]),
                geoOp(
                    "DELETE", mesh, "Delete a Mesh global control plane.", "Mesh", success: [(204, nil)], errors: [403]),
                geoOp(
                    "GET", mesh + "/api/meshes", "Meshes.", "Mesh", success: [(200, ref("MeshResourceList"))],
                    errors: [403]),
                geoOp(
                    "GET", mesh + "/api/meshes/{mesh}", "A mesh.", "Mesh", success: [(200, ref("MeshResource"))],
                    errors: [403, 404]),
                geoOp(
                    "PUT", mesh + "/api/meshes/{mesh}", "Create or replace a mesh.", "Mesh", request: ref("PutMesh"),
                    success: [(200, ref("MeshResource")), (201, ref("MeshResource"))], errors: [403, 404]),
                geoOp(
                    "DELETE", mesh + "/api/meshes/{mesh}", "Delete a mesh and its policies.", "Mesh",
                    success: [(204, nil)], errors: [403, 404]),
                geoOp(
                    "GET", mesh + "/api/meshes/{mesh}/{policyType}", "Policies of a type.", "Mesh",
                    success: [(200, ref("MeshResourceList"))], errors: [403, 404]),
                geoOp(
                    "GET", mesh + "/api/meshes/{mesh}/{policyType}/{name}", "A policy.", "Mesh",
                    success: [(200, ref("MeshResource"))], errors: [403, 404]),
                geoOp(
                    "PUT", mesh + "/api/meshes/{mesh}/{policyType}/{name}", "Create or replace a policy.", "Mesh",
                    request: ref("PutPolicy"), success: [(200, ref("MeshResource")), (201, ref("MeshResource"))],
                    errors: [403, 404]),
                geoOp(
                    "DELETE", mesh + "/api/meshes/{mesh}/{policyType}/{name}", "Delete a policy.", "Mesh",
                    success: [(204, nil)], errors: [403, 404]),
                geoOp(
                    "POST", mesh + "/api/tokens/zone", "A zone token (spat_) for one zone.", "Mesh",
                    request: body(["zone": string(min: 1, max: 64, pattern: "^[a-z0-9-]+$")], required: ["zone"]),
                    success: [(201, closed(["token": string, "zone": string]))], errors: [403]),
                geoOp(
                    "GET", mesh + "/api/zones", "Zones and their insight (connect and disconnect times).", "Mesh",
                    success: [
                        (200, closed(["total": integer, "items": array(ref("Zone")), "next": nullable(string)]))
                    ],
                    errors: [403]),
                geoOp(
                    "GET", mesh + "/api/zones/{zone}", "A zone.", "Mesh", success: [(200, ref("Zone"))],
                    errors: [403, 404]),
                Operation(
                    method: "GET", path: "/internal/v1/dp/sync",
                    summary: "A data plane's push stream: newline-delimited SyncMessages.", tag: "Internal",
                    security: .dataPlane, success: [(200, anyObject)], successMediaType: "application/x-ndjson",
                    errors: [400], unixOnly: true),
                op(
                    "POST", "/internal/v1/dp/ping", "A data plane's heartbeat with its config hash (DataPlanePing).",
                    "Internal", security: .dataPlane,
                    request: closed(["node_id": uuid, "config_hash": string(min: 1, max: 64), "state": string]),
                    success: 204, errors: [404], unixOnly: true),
                op(
                    "POST", "/internal/v1/dp/usage",
                    "Numbered API-call counts from a data plane, idempotent (DataPlaneUsageReport).", "Internal",
                    security: .dataPlane, request: anyObject,
                    response: closed(["accepted": boolean, "duplicate": boolean, "seq": integer]), errors: [404],
                    unixOnly: true),
                Operation(
                    method: "GET", path: "/internal/v1/zone/sync", summary: "A zone's push stream.", tag: "Internal",
                    security: .zone, success: [(200, anyObject)], successMediaType: "application/x-ndjson",
                    errors: [400, 403], unixOnly: true),
                op(
                    "POST", "/internal/v1/zone/ping", "A zone's heartbeat (ZonePing).", "Internal", security: .zone,
                    request: closed([
                        "config_hash": string(min: 1, max: 64), "workloads": integer(min: 0), "state": string,
                    ]),
                    success: 204, errors: [403], unixOnly: true),
                op(
                    "POST", "/internal/v1/operator/dp-credentials",
                    "Issue a data-plane credential for the operator (dp start).", "Internal", security: .socket,
                    request: body(
                        ["control_plane": string(max: 256), "organization_id": string(max: 64)],
                        required: ["control_plane"]),
                    success: 201, response: anyObject, errors: [404, 409], unixOnly: true),
                op(
                    "POST", "/internal/v1/operator/zone-tokens", "Issue a zone token for the operator (zone start).",
                    "Internal", security: .socket,
                    request: body(
                        [
                            "mesh_control_plane": string(max: 256), "organization_id": string(max: 64),
                            "zone": string(max: 64),
                        ],
                        required: ["mesh_control_plane", "zone"]),
                    success: 201, response: anyObject, errors: [404, 409], unixOnly: true),
                op(
                    "POST", "/internal/v1/operator/control-planes/{controlPlaneId}/decommission",
                    "Decommission one control plane.", "Internal", security: .socket,
                    response: closed(["id": uuid, "decommissioned": boolean]), unixOnly: true),
                op(
                    "POST", "/internal/v1/operator/control-planes/{controlPlaneId}/recommission",
                    "Recommission one control plane.", "Internal", security: .socket,
                    response: closed(["id": uuid, "decommissioned": boolean]), unixOnly: true),
                op(
                    "GET", "/internal/v1/operator/organization-objects",
                    "What the geo holds for each organization named by ?organization= (OrganizationObjectsReport, the console).",
                    "Internal", security: .socket,
                    query: [
                        (
                            "organization", uuid,
                            "An organization id; repeat for several (at most the contract's maximum)"
                        )
                    ],
                    response: anyObject, errors: [400], unixOnly: true),
                op(
                    "GET", "/internal/v1/status",
                    "Pending usage, event cursor, decommissioned organizations, configuration messages pushed and builds made.",
                    "Internal", security: .socket,
                    response: closed([
                        "geo": string, "pending_usage_records": integer, "events_cursor": integer,
                        "decommissioned_organizations": array(string),
                        "push": closed([
                            "full_messages": integer, "delta_messages": integer, "hash_messages": integer,
                            "configuration_bytes": integer,
                        ]),
                        "configuration_builds": integer,
                    ]), unixOnly: true),
            ]
        for scope in EntityScope.all {
            let item = scope.basePath + "/{\(scope.itemParameter)}"
            let schemaName = scope.kind.rawValue.prefix(1).uppercased() + scope.kind.rawValue.dropFirst()
            let schema = ref(schemaName)
            let name = scope.kind.displayName
            let under = scope.parent.map { " of a \($0.kind.displayName)" } ?? ""
            let parentErrors = scope.parent == nil ? [403] : [403, 404]
            operations += [
                geoOp(
                    "GET", scope.basePath, "List \(scope.kind.collection)\(under).", "Core Entities",
                    query: [
                        ("size", integer(min: 1, max: 1000), "Items per page (100)"),
                        ("offset", string, "Where the previous page ended"),
                        ("tags", string, "a,b: every tag; a/b: any of them"),
                        ("filter[name][eq]", string, "Exact name"),
                        ("filter[name][contains]", string, "Part of the name"),
                    ], success: [(200, entityList(schema))], errors: [400] + parentErrors, style: .kong),
                geoOp(
                    "POST", scope.basePath, "Create a \(name)\(under).", "Core Entities", request: schema,
                    success: [(201, schema)], errors: [403, 404, 409], style: .kong),
                geoOp(
                    "GET", item, "A \(name) by id or name.", "Core Entities", success: [(200, schema)],
                    errors: [403, 404], style: .kong),
                geoOp(
                    "PUT", item, "Replace a \(name) by id or name (200), or create it (201).", "Core Entities",
                    request: schema, success: [(200, schema), (201, schema)], errors: [403, 404, 409], style: .kong),
                geoOp(
                    "PATCH", item, "Change a \(name) (the fields given).", "Core Entities",
                    request: ref(schemaName + "Update"), success: [(200, schema)], errors: [403, 404, 409],
                    style: .kong),
                geoOp(
                    "DELETE", item, "Delete a \(name) (204 also when it did not exist).", "Core Entities",
                    success: [(204, nil)], errors: [400] + parentErrors,
                    style: .kong),
            ]
        }
        return operations
    }

    static let controlPlaneFilters: [(String, JSON, String)] = [
        ("filter[id][eq]", uuid, "The control plane with this id"),
        ("filter[id][oeq]", string, "Any of these comma-separated ids"),
        ("filter[name][eq]", string, "Exact name"), ("filter[name][neq]", string, "Any other name"),
        ("filter[name][contains]", string, "Part of the name"),
        ("filter[cluster_type][eq]", string, "This cluster type"),
        ("filter[cluster_type][neq]", string, "Any other cluster type"),
        ("filter[cluster_type][oeq]", string, "Any of these comma-separated cluster types"),
        ("filter[cloud_gateway]", boolean, "true or false"),
        ("labels", string, "key:value,existCheck: every term must match"),
        ("sort", string, "created_at, name or updated_at, each optionally followed by ' desc', comma-separated"),
    ]

    /// Kong's list shape for core entities.
    static func entityList(_ item: JSON) -> JSON {
        closed(["data": array(item), "next": nullable(string), "offset": string], required: ["data", "next"])
    }

    /// The core entities and, for PATCH, the same without required fields.
    static var geoSchemas: JSONObject {
        var schemas = geoSchemasWithoutUpdates
        for name in ["Service", "Route", "Consumer", "Plugin"] {
            var partial = schemas[name] ?? anyObject
            partial["required"] = nil
            schemas[name + "Update"] = partial
        }
        return schemas
    }

    static var geoSchemasWithoutUpdates: JSONObject {
        let proxyURL = closed([
            "host": string(min: 1, max: 120), "port": integer(min: 1, max: 65535), "protocol": string(min: 1, max: 32),
        ])
        let clusterType = enumeration(ControlPlaneTypes.clusterTypes)
        let authType = enumeration(ControlPlaneTypes.authTypes)
        let tags = nullable(array(string))
        let reference = nullable(closed(["id": string], required: ["id"]))
        let timestamp = nullable(integer)
        let protocols = nullable(array(enumeration(GatewayEntityValidator.protocols)))
        return [
            "Whoami": closed([
                "geo": string, "user": anyObject, "organization": anyObject, "roles": array(anyObject),
                "token_kind": string, "calendar_now": dateTime,
            ]),
            "ControlPlane": closed(
                [
                    "id": uuid, "name": string, "description": string, "labels": ref("Labels"),
                    "config": closed([
                        "control_plane_endpoint": string, "telemetry_endpoint": string, "cluster_type": clusterType,
                        "auth_type": authType, "cloud_gateway": boolean, "proxy_urls": array(proxyURL, max: 5),
                    ]),
                    "created_at": dateTime, "updated_at": dateTime,
                ], required: ["id", "name", "config", "created_at", "updated_at", "description", "labels"]),
            "CreateControlPlaneRequest": body(
                [
                    "name": string(min: 2, max: 256), "description": string(max: 2048), "cluster_type": clusterType,
                    "auth_type": authType, "cloud_gateway": boolean, "proxy_urls": array(proxyURL, max: 5),
                    "labels": ref("Labels"),
                ], required: ["name"]),
            "UpdateControlPlaneRequest": body([
                "name": string(min: 2, max: 256), "description": string(max: 2048), "auth_type": authType,
                "proxy_urls": array(proxyURL, max: 5), "labels": ref("Labels"),
            ]),
            "GroupMembership": body(
                ["members": array(closed(["id": uuid]), max: ControlPlaneGroup.maximumMembers)],
                required: ["members"]),
            "ListGroupMemberships": closed([
                "meta": closed([
                    "page": closed(
                        ["next": nullable(string), "size": integer, "total": integer], required: ["next", "size"])
                ]),
                "data": array(ref("ControlPlane")),
            ]),
            "GroupStatus": closed(
                [
                    "id": uuid, "created_at": dateTime, "updated_at": dateTime,
                    "conflicts": array(ref("GroupConflict"), max: 256),
                    "state": enumeration(["OK", "CONFLICT", "UNKNOWN"]),
                ], required: ["id", "created_at", "updated_at", "state"]),
            "GroupConflict": closed([
                "cluster_id": uuid, "description": string,
                "resource": closed(["id": string, "type": enumeration(GatewayEntityKind.allCases.map(\.rawValue))]),
            ]),
            "GroupMemberStatus": closed(["is_member": boolean]),
            "ExpectedConfigHash": closed(["expected_hash": string, "created_at": integer, "updated_at": integer]),
            "ExpectedConfigVersion": closed(["expected_config_version": string, "created_at": integer]),
            "DeclarativeConfiguration": closed(["version": integer, "hash": string, "config": anyObject]),
            "DataPlaneClientCertificate": closed(
                [
                    "id": string, "created_at": integer, "updated_at": integer, "cert": string,
                    "title": nullable(string), "cert_fingerprint": string,
                ], required: ["id", "created_at", "updated_at", "cert"]),
            "DataPlaneClientCertificateItem": closed(["item": ref("DataPlaneClientCertificate")]),
            "DataPlaneClientCertificateList": closed([
                "items": array(ref("DataPlaneClientCertificate")), "page": closed(["total_count": integer]),
            ]),
            "CreateDataPlaneClientCertificate": body([
                "cert": [
                    "type": "string", "minLength": 16, "maxLength": 16384,
                    "description": "Pinned as the credential; without it the geo issues a kdp_ secret, shown once",
                ],
                "title": nullable(string(max: 255)),
            ]),
            "Node": closed([
                "id": string, "version": string, "hostname": string, "last_ping": integer, "type": string,
                "created_at": integer, "updated_at": integer, "config_hash": string,
                "compatibility_status": closed(["state": string, "issues": array(anyObject)]),
            ]),
            "NodeList": closed(["items": array(ref("Node")), "page": closed(["total_count": integer])]),
            "Portal": closed([
                "id": uuid, "name": string, "description": string, "published": boolean, "geo": string,
                "created_at": dateTime, "updated_at": dateTime,
            ]),
            "CreatePortal": body(
                ["name": string(min: 1, max: 255), "description": string(max: 2048), "published": boolean],
                required: ["name"]),
            "UpdatePortal": body([
                "name": string(min: 1, max: 255), "description": string(max: 2048), "published": boolean,
            ]),
            "MeshControlPlane": closed([
                "id": uuid, "name": string, "description": string, "labels": ref("Labels"),
                "features": array(anyObject),
                "geo": string, "created_at": dateTime, "updated_at": dateTime,
            ]),
            "CreateMeshControlPlane": body(
                ["name": string(min: 1, max: 100), "description": string(max: 2048), "labels": ref("Labels")],
                required: ["name"]),
            "UpdateMeshControlPlane": body([
                "name": string(min: 1, max: 100), "description": string(max: 2048), "labels": ref("Labels"),
            ]),
            "MeshResource": [
                "type": "object", "required": ["type", "name", "creationTime", "modificationTime"],
                "description": "A Kuma resource: a Mesh, or a policy with its mesh and spec.",
                "properties": [
                    "type": string, "name": string, "mesh": string, "spec": anyObject, "labels": anyObject,
                    "creationTime": dateTime, "modificationTime": dateTime,
                ],
            ],
            "MeshResourceList": closed([
                "total": integer, "items": array(ref("MeshResource")), "next": nullable(string),
            ]),
            "PutMesh": [
                "type": "object", "required": ["type", "name"],
                "description": "A Mesh (type Mesh, name as in the path); other Kuma fields are kept as given.",
                "properties": ["type": enumeration(["Mesh"]), "name": string, "labels": anyObject],
            ],
            "PutPolicy": body(
                [
                    "type": enumeration(["MeshTrafficPermission", "MeshTimeout", "MeshRetry"]), "name": string,
                    "mesh": string, "spec": anyObject, "labels": anyObject,
                ], required: ["type", "name", "spec"]),
            "Zone": closed([
                "name": string, "enabled": boolean, "state": enumeration(["online", "offline"]), "workloads": integer,
                "config_hash": string,
                "zoneInsight": closed([
                    "subscriptions": array(
                        closed(["connectTime": nullable(dateTime), "disconnectTime": nullable(dateTime)])),
                    "version": closed(["kumaCp": closed(["version": string])]),
                ]),
            ]),
            // Kong's core entities (control-planes-config-v2): every field nullable, timestamps in seconds.
            "Service": closed(
                [
                    "id": nullable(string(min: 1)), "name": nullable(string),
                    "url": [
                        "type": "string", "writeOnly": true,
                        "description": "Sets protocol, host, port and path at once",
                    ],
                    "protocol": nullable(enumeration(GatewayEntityValidator.protocols)), "host": string,
                    "port": nullable(integer(min: 0, max: 65535)), "path": nullable(string),
                    "retries": nullable(integer(min: 0, max: 32767)),
                    "connect_timeout": nullable(integer(min: 1, max: 2_147_483_646)),
                    "write_timeout": nullable(integer(min: 1, max: 2_147_483_646)),
                    "read_timeout": nullable(integer(min: 1, max: 2_147_483_646)), "enabled": nullable(boolean),
                    "tls_verify": nullable(boolean), "tls_verify_depth": nullable(integer(min: 0, max: 64)),
                    "ca_certificates": nullable(array(string)), "client_certificate": reference, "tags": tags,
                    "created_at": timestamp, "updated_at": timestamp,
                ], required: ["host"]),
            "Route": closed(
                [
                    "id": nullable(string), "name": nullable(string), "paths": nullable(array(string)),
                    "hosts": nullable(array(string)), "methods": nullable(array(string)),
                    "headers": nullable(["type": "object", "additionalProperties": array(string)]),
                    "snis": nullable(array(string)), "protocols": protocols, "strip_path": nullable(boolean),
                    "preserve_host": nullable(boolean), "request_buffering": nullable(boolean),
                    "response_buffering": nullable(boolean), "regex_priority": nullable(integer),
                    "https_redirect_status_code": nullable(["type": "integer", "enum": [301, 302, 307, 308, 426]]),
                    "path_handling": nullable(enumeration(["v0", "v1"])),
                    "sources": nullable(array(anyObject)), "destinations": nullable(array(anyObject)),
                    "service": reference, "tags": tags, "created_at": timestamp, "updated_at": timestamp,
                ], required: []),
            "Consumer": closed(
                [
                    "id": nullable(string), "username": nullable(string), "custom_id": nullable(string), "tags": tags,
                    "created_at": timestamp, "updated_at": timestamp,
                ], required: []),
            "Plugin": closed(
                [
                    "id": nullable(string(min: 1)),
                    "name": [
                        "type": "string", "minLength": 1,
                        "enum": .strings(KongPlugins.bundled),
                        "description": .string("A plugin bundled with Kong Gateway \(KongPlugins.gatewayVersion)"),
                    ],
                    "instance_name": nullable(string), "config": nullable(["type": "object"]),
                    "enabled": nullable(boolean), "protocols": protocols, "service": reference, "route": reference,
                    "consumer": reference, "consumer_group": reference,
                    "ordering": nullable(anyObject), "partials": nullable(array(anyObject)),
                    "condition": nullable(string(max: 1024)), "tags": tags, "created_at": timestamp,
                    "updated_at": timestamp,
                ], required: ["name"]),
        ]
    }
}
