import KonnectCore

/// The `sort` of `GET /v2/control-planes` (control-planes-v2's `SortQuery`): comma-separated attributes,
/// each ascending unless followed by ` desc` (` asc` is allowed). Kong supports `created_at`; `name` and
/// `updated_at` are accepted too. Ties keep the oldest first.
struct ControlPlaneOrder {
    enum Attribute: String, CaseIterable {
        case createdAt = "created_at"
        case name
        case updatedAt = "updated_at"
    }

    var terms: [(attribute: Attribute, descending: Bool)] = []

    init(_ text: String?) throws(APIError) {
        guard let text else { return }
        for raw in text.split(separator: ",", omittingEmptySubsequences: false) {
            let words = raw.split(separator: " ", omittingEmptySubsequences: true)
            guard (1...2).contains(words.count), let attribute = Attribute(rawValue: String(words[0])),
                words.count == 1 || ["asc", "desc"].contains(words[1].lowercased())
            else {
                throw APIError.invalid(
                    field: "sort", rule: "invalid",
                    reason:
                        "must be attributes from \(Attribute.allCases.map(\.rawValue).joined(separator: ", ")), each optionally followed by ' asc' or ' desc', separated by commas; got \"\(raw.prefix(64))\""
                )
            }
            terms.append((attribute, words.count == 2 && words[1].lowercased() == "desc"))
        }
    }

    func sorted(_ controlPlanes: [ControlPlane]) -> [ControlPlane] {
        guard !terms.isEmpty else { return controlPlanes }
        return controlPlanes.enumerated().sorted { lhs, rhs in
            for (attribute, descending) in terms {
                let order = compare(lhs.element, rhs.element, attribute)
                if order != 0 { return descending ? order > 0 : order < 0 }
            }
            return lhs.offset < rhs.offset
        }.map(\.element)
    }

    private func compare(_ lhs: ControlPlane, _ rhs: ControlPlane, _ attribute: Attribute) -> Int {
        switch attribute {
        case .createdAt: lhs.createdAt == rhs.createdAt ? 0 : (lhs.createdAt < rhs.createdAt ? -1 : 1)
        case .updatedAt: lhs.updatedAt == rhs.updatedAt ? 0 : (lhs.updatedAt < rhs.updatedAt ? -1 : 1)
        case .name: lhs.name == rhs.name ? 0 : (lhs.name < rhs.name ? -1 : 1)
        }
    }
}
