import KonnectCore
import KonnectStorage

extension String {
    /// The string without leading and trailing characters from `set`.
    func trimmingCharacters(in set: String) -> String {
        var slice = self[...]
        while let first = slice.first, set.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, set.contains(last) { slice = slice.dropLast() }
        return String(slice)
    }
}

extension Transaction {
    /// The first row, or `missing` thrown (a 404 when a concurrent delete won the race).
    func single(_ sql: String, _ arguments: SQLValue..., missing: @autoclosure () -> APIError) throws -> Row {
        guard let row = try query(sql, arguments: arguments).first else { throw missing() }
        return row
    }
}
