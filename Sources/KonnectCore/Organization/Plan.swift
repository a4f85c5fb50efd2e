/// The two plans (P1).
public enum PlanKind: String, Sendable, CaseIterable {
    case plus, enterprise

    public var displayName: String { self == .plus ? "Konnect Plus" : "Konnect Enterprise" }
}

/// The three licenses every organization receives at creation (P3). Nobody creates or uploads one.
public enum LicenseProduct: String, Sendable, CaseIterable {
    case gatewayEnterprise = "kong-gateway-enterprise"
    case ingressController = "kong-ingress-controller"
    case mesh = "kong-mesh"

    public var displayName: String {
        switch self {
        case .gatewayEnterprise: "Kong Gateway Enterprise"
        case .ingressController: "Kong Ingress Controller"
        case .mesh: "Kong Mesh"
        }
    }
}

/// What a plan includes, as `GET /v3/organizations/me/plan` shows it.
public enum PlanTerms {
    public static func subscriptions(_ plan: PlanKind) -> [String] {
        ["API Gateway", "Mesh Manager", "Dev Portal", "Service Catalog", "Analytics"]
    }

    public static func support(_ plan: PlanKind) -> String { plan == .enterprise ? "24x7x365" : "community" }
    public static func professionalServices(_ plan: PlanKind) -> Bool { plan == .enterprise }
}
