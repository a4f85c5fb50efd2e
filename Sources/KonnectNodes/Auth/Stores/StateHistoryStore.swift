import KonnectCore
import KonnectStorage

/// Every state change of every organization, with reason and actor (`state_history`, A5).
struct StateHistoryStore {
    func append(_ work: UnitOfWork, organizationID: String, _ change: StateChange) throws {
        try work.tx.execute(
            "INSERT INTO state_history(org_id, state, reason, actor, at) VALUES (?, ?, ?, ?, ?)", .text(organizationID),
            .text(change.state.rawValue), .text(change.reason), .text(change.actor), .time(change.at))
    }

    /// The organization's history, oldest first.
    func history(_ db: Transaction, organizationID: String) throws -> [StateChange] {
        try db.query(
            "SELECT state, reason, actor, at FROM state_history WHERE org_id = ? ORDER BY seq", .text(organizationID)
        )
        .map {
            StateChange(
                state: OrganizationState(rawValue: $0.string("state") ?? "") ?? .active,
                reason: $0.string("reason") ?? "", actor: $0.string("actor") ?? "",
                at: $0.time("at") ?? SimTime(seconds: 0))
        }
    }
}
