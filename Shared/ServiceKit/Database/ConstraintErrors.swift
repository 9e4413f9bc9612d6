import PostgresNIO

/// What a store answers when PostgreSQL refuses a write: each store names the constraints it expects to be hit
/// (`"stations_engencode_key": .conflict("engencode_taken", …)`) or, for refusals without a constraint (a trigger's
/// `RAISE … USING ERRCODE`), the SQLSTATE; any other integrity or data error becomes a generic 409/422 with a stable
/// code. Nothing the database refuses is a 500.
public struct ConstraintErrors: Sendable {
    public var byConstraint: [String: APIError]
    public var byState: [String: APIError]

    public init(_ byConstraint: [String: APIError] = [:], byState: [String: APIError] = [:]) {
        self.byConstraint = byConstraint
        self.byState = byState
    }

    /// Runs `body`; a refused write (also one wrapped in a transaction error) is thrown as its `APIError`.
    public func map<Result>(_ body: () async throws -> Result) async throws -> Result {
        do {
            return try await body()
        } catch {
            if let apiError = self.apiError(for: error) { throw apiError }
            throw error
        }
    }

    /// The API error for a refused write, or nil when `error` is not one.
    public func apiError(for error: any Error) -> APIError? {
        let psql: PSQLError
        switch error {
        case let error as PSQLError: psql = error
        case let error as PostgresTransactionError:
            guard let inner = error.closureError as? PSQLError else { return nil }
            psql = inner
        default: return nil
        }
        if let name = psql.constraintName, let mapped = self.byConstraint[name] { return mapped }
        if let state = psql.sqlState, let mapped = self.byState[state] { return mapped }
        return Self.generic(psql)
    }

    /// The answer for SQLSTATE classes 22 (data exception) and 23 (integrity constraint violation).
    public static func generic(_ error: PSQLError) -> APIError? {
        guard let state = error.sqlState else { return nil }
        switch state {
        case "23505", "23P01":
            return .conflict("conflict", "This conflicts with an existing record.")
        case "23503":
            return .unprocessable("unknown_reference", "A referenced record does not exist.")
        case _ where state.hasPrefix("23"):
            return .unprocessable("constraint_violated", "The record breaks a rule of its table.")
        case _ where state.hasPrefix("22"):
            return .unprocessable("invalid_value", "A value is out of range or malformed.")
        default:
            return nil
        }
    }
}
