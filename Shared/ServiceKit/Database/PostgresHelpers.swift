import PostgresNIO

extension PSQLError {
    /// The server's SQLSTATE, when the error came from the server.
    public var sqlState: String? {
        self.serverInfo?[.sqlState]
    }

    public var isUniqueViolation: Bool { self.sqlState == "23505" }
    public var isExclusionViolation: Bool { self.sqlState == "23P01" }
    public var isCheckViolation: Bool { self.sqlState == "23514" }
    public var isForeignKeyViolation: Bool { self.sqlState == "23503" }
    /// `raise_exception` from a trigger (SQLSTATE P0001).
    public var isRaisedException: Bool { self.sqlState == "P0001" }
    public var serverMessage: String? { self.serverInfo?[.message] }
    public var constraintName: String? { self.serverInfo?[.constraintName] }
}

extension PostgresRowSequence {
    /// The first row decoded, or nil when there is none.
    public func first<each Column: PostgresDecodable>(as type: (repeat each Column).Type) async throws -> (repeat each Column)? {
        for try await row in self.decode(type) {
            return row
        }
        return nil
    }

    /// All rows decoded.
    public func all<each Column: PostgresDecodable>(as type: (repeat each Column).Type) async throws -> [(repeat each Column)] {
        var rows: [(repeat each Column)] = []
        for try await row in self.decode(type) {
            rows.append(row)
        }
        return rows
    }
}
