import KonnectCore
import KonnectStorage

/// A row that does not hold what its table's schema says (a NOT NULL column came back empty): the
/// store and the schema disagree, which is a bug to report, never a value to default.
struct StoredRowError: Error, CustomStringConvertible {
    var column: String
    var expected: String

    var description: String { "column \(column) does not hold \(expected); the database and this version disagree" }
}

extension Row {
    /// A NOT NULL text column.
    func text(_ column: String) throws(StoredRowError) -> String {
        guard let value = string(column) else { throw StoredRowError(column: column, expected: "text") }
        return value
    }

    /// A NOT NULL integer column.
    func integer(_ column: String) throws(StoredRowError) -> Int64 {
        guard let value = int(column) else { throw StoredRowError(column: column, expected: "an integer") }
        return value
    }

    /// A NOT NULL calendar moment (SimTime seconds).
    func moment(_ column: String) throws(StoredRowError) -> SimTime { SimTime(seconds: try integer(column)) }

    /// A NOT NULL JSON column.
    func document(_ column: String) throws -> JSON { try JSONParser.parse(try text(column)) }
}

/// Runs a statement that may break a UNIQUE constraint; such a violation becomes `conflict` (a 409
/// naming what is taken), any other failure stays what it was.
@discardableResult
func unique<T>(or conflict: @autoclosure () -> any Error, _ statement: () throws -> T) throws -> T {
    do {
        return try statement()
    } catch let error as DatabaseError where error.isConstraintViolation {
        throw conflict()
    }
}
