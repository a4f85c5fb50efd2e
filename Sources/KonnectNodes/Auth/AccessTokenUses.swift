import KonnectCore
import Synchronization

/// When personal access tokens were last used (A3). Resolving a token is a read, so the moment is kept
/// in memory and written behind, coalesced per token, in one write: before the calendar moves, before
/// a token list is read, and at shutdown.
final class AccessTokenUses: Sendable {
    private let pending = Mutex<[String: SimTime]>([:])
    private let db: AuthDatabase
    private let tokens: AccessTokenStore

    init(db: AuthDatabase, tokens: AccessTokenStore) {
        self.db = db
        self.tokens = tokens
    }

    func record(_ tokenID: String, at moment: SimTime) {
        pending.withLock { uses in
            if uses[tokenID].map({ $0 < moment }) ?? true { uses[tokenID] = moment }
        }
    }

    /// Writes every recorded use; what could not be written is kept for the next flush.
    func flush() throws {
        let uses = pending.withLock { uses in
            defer { uses = [:] }
            return uses
        }
        guard !uses.isEmpty else { return }
        do {
            try db.write { work in try tokens.recordUse(work, uses) }
        } catch {
            for (id, moment) in uses { record(id, at: moment) }
            throw error
        }
    }
}
