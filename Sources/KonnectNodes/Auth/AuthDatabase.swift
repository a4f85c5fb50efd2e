import KonnectStorage

/// The auth node's only way to `auth.sqlite`. A read sees a committed snapshot. A write runs its body
/// in a `UnitOfWork`: the stores it calls record what they changed, and once the transaction has
/// committed (fsynced), the recorded effects are published, in one place, as wake-ups. Nothing is
/// published for a write that threw (its changes were rolled back).
struct AuthDatabase: Sendable {
    let database: Database
    let effects: AuthEffects

    func read<T>(_ body: (Transaction) throws -> T) throws -> T {
        try database.read(body)
    }

    @discardableResult
    func write<T>(_ body: (UnitOfWork) throws -> T) throws -> T {
        var recorded: [AuthEffect] = []
        let result = try database.write { transaction in
            let work = UnitOfWork(transaction)
            let result = try body(work)
            recorded = work.effects
            return result
        }
        effects.publish(recorded)
        return result
    }
}

/// One write transaction of the auth node, as the stores see it: the transaction to write in, and
/// the effects the stores recorded, published by `AuthDatabase.write` after the commit.
final class UnitOfWork {
    /// The write transaction; stores read through it too, to see what this unit already wrote.
    let tx: Transaction
    private(set) var effects: [AuthEffect] = []

    init(_ transaction: Transaction) { tx = transaction }

    /// Notes a change that others must hear about once it is durable.
    func record(_ effect: AuthEffect) { effects.append(effect) }
}
