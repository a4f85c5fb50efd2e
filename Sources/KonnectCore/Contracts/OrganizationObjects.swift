/// What one geo holds for one organization, as the geo's operator endpoint reports it to the console
/// (`GET /internal/v1/operator/organization-objects?organization=ID&...`, Unix socket only): what a token
/// of that organization gets from this geo's lists, which are scoped by organization in the geo's own
/// database (T3). An organization with nothing in the geo has empty lists and zero counts.
public struct OrganizationObjects: Sendable, Hashable {
    /// A control plane with the configuration version and hash its data planes are pushed (C1).
    public struct ControlPlane: Sendable, Hashable {
        public var id: String
        public var name: String
        public var configVersion: Int64
        public var configHash: String

        public init(id: String, name: String, configVersion: Int64, configHash: String) {
            self.id = id
            self.name = name
            self.configVersion = configVersion
            self.configHash = configHash
        }

        public var json: JSON {
            [
                "id": .string(id), "name": .string(name), "config_version": .int(configVersion),
                "config_hash": .string(configHash),
            ]
        }
    }

    public var organizationID: String
    public var controlPlanes: [ControlPlane]
    /// Gateway entities (services, routes, consumers, plugins...) over all its control planes.
    public var entities: Int
    public var portals: Int
    public var meshControlPlanes: Int
    /// Data-plane nodes registered with its control planes.
    public var dataPlanes: Int
    /// Zones connected to its Mesh control planes.
    public var zones: Int

    public init(
        organizationID: String, controlPlanes: [ControlPlane] = [], entities: Int = 0, portals: Int = 0,
        meshControlPlanes: Int = 0, dataPlanes: Int = 0, zones: Int = 0
    ) {
        self.organizationID = organizationID
        self.controlPlanes = controlPlanes
        self.entities = entities
        self.portals = portals
        self.meshControlPlanes = meshControlPlanes
        self.dataPlanes = dataPlanes
        self.zones = zones
    }

    /// Whether a token of the organization gets only empty lists from this geo.
    public var isEmpty: Bool {
        controlPlanes.isEmpty && entities == 0 && portals == 0 && meshControlPlanes == 0 && dataPlanes == 0
            && zones == 0
    }

    public var json: JSON {
        [
            "organization_id": .string(organizationID), "control_planes": .array(controlPlanes.map(\.json)),
            "entities": .int(entities), "portals": .int(portals), "mesh_control_planes": .int(meshControlPlanes),
            "data_planes": .int(dataPlanes), "zones": .int(zones),
        ]
    }

    public init(json: JSON) throws(ContractError) {
        self = try decodeContract("organization objects", json) { reader in try OrganizationObjects(&reader) }
    }

    /// Reads one entry (also inside a report, where `reader` has a prefix).
    init?(_ reader: inout ObjectReader) throws {
        let organization = reader.text("organization_id", maxLength: 64)
        var counts: [Int] = []
        for key in ["entities", "portals", "mesh_control_planes", "data_planes", "zones"] {
            if let count = reader.int(key, required: true, nullable: false, min: 0, max: Int64(Int32.max)) {
                counts.append(Int(count))
            }
        }
        guard let items = reader.any("control_planes") else { return nil }
        guard case .array(let array) = items else {
            reader.fail("control_planes", "is_array", "must be an array")
            return nil
        }
        var controlPlanes: [ControlPlane] = []
        for (position, item) in array.enumerated() {
            var entry = try ObjectReader(item, prefix: "control_planes[\(position)]")
            let id = entry.text("id", maxLength: 64)
            let name = entry.text("name", maxLength: 256)
            let version = entry.int("config_version", required: true, nullable: false, min: 0)
            let hash = entry.string("config_hash", required: true, nullable: false, maxLength: 64)
            reader.absorb(entry, strict: false)
            if let id, let name, let version, let hash {
                controlPlanes.append(ControlPlane(id: id, name: name, configVersion: version, configHash: hash))
            }
        }
        guard let organization, counts.count == 5, controlPlanes.count == array.count else { return nil }
        self.init(
            organizationID: organization, controlPlanes: controlPlanes, entities: counts[0], portals: counts[1],
            meshControlPlanes: counts[2], dataPlanes: counts[3], zones: counts[4])
    }
}

/// A geo's answer to the operator's question: which geo, and what it holds for each organization asked.
public struct OrganizationObjectsReport: Sendable, Hashable {
    public var geo: String
    public var organizations: [OrganizationObjects]

    /// The most organizations one question may name.
    public static let maximumOrganizations = 100

    public init(geo: String, organizations: [OrganizationObjects]) {
        self.geo = geo
        self.organizations = organizations
    }

    public var json: JSON { ["geo": .string(geo), "organizations": .array(organizations.map(\.json))] }

    public init(json: JSON) throws(ContractError) {
        self = try decodeContract("organization objects report", json) { reader in
            let geo = reader.text("geo", maxLength: 16)
            guard let items = reader.any("organizations") else { return nil }
            guard case .array(let array) = items, array.count <= OrganizationObjectsReport.maximumOrganizations else {
                reader.fail(
                    "organizations", "is_array",
                    "must be an array of at most \(OrganizationObjectsReport.maximumOrganizations) entries")
                return nil
            }
            var organizations: [OrganizationObjects] = []
            for (position, item) in array.enumerated() {
                var entry = try ObjectReader(item, prefix: "organizations[\(position)]")
                let objects = try OrganizationObjects(&entry)
                reader.absorb(entry, strict: false)
                if let objects { organizations.append(objects) }
            }
            guard let geo, organizations.count == array.count else { return nil }
            return OrganizationObjectsReport(geo: geo, organizations: organizations)
        }
    }
}
