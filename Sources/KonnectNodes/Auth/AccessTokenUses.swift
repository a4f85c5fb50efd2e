import KonnectCore
import KonnectStorage

/// When personal access tokens were last used (A3). Resolving a token is a read, so the moment is
/// recorded in memory by token id and written behind, coalesced, in one write: every second, before
/// the calendar moves (so a move reads it), before a token is listed, and at shutdown.
typealias AccessTokenUses = WriteBehind<String, SimTime>

extension WriteBehind<String, SimTime> {
    static func accessTokenUses(database: Database, tokens: AccessTokenStore) -> AccessTokenUses {
        AccessTokenUses(
            name: "access token last use", database: database, interval: .seconds(1),
            log: { Log.warning($0) }, persist: { transaction, uses in try tokens.recordUse(transaction, uses) })
    }
}
