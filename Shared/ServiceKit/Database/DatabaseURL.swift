import Foundation
import PostgresNIO

/// A parsed `postgres://user:password@host:port/database?sslmode=disable` URL.
public struct DatabaseURL: Sendable {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    /// A directory holding the server's Unix socket (`?host=/path`), used instead of TCP when set.
    public var socketDirectory: String?

    public init(_ text: String) throws {
        guard let components = URLComponents(string: text), let scheme = components.scheme,
            ["postgres", "postgresql"].contains(scheme), let user = components.user, !user.isEmpty
        else {
            throw ConfigurationError(key: "database.url", reason: "must look like postgres://user:password@host:port/database")
        }
        self.user = user.removingPercentEncoding ?? user
        self.password = components.password.map { $0.removingPercentEncoding ?? $0 }
        self.host = components.host ?? "127.0.0.1"
        self.port = components.port ?? 5432
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        self.database = path.isEmpty ? self.user : path
        self.socketDirectory = components.queryItems?.first { $0.name == "host" }?.value
    }

    /// The same server, another database.
    public func with(database: String) -> DatabaseURL {
        var copy = self
        copy.database = database
        return copy
    }

    public var urlString: String {
        let credentials = self.password.map { "\(self.user):\($0)" } ?? self.user
        let socket = self.socketDirectory.map { "?host=\($0)" } ?? ""
        return "postgres://\(credentials)@\(self.host):\(self.port)/\(self.database)\(socket)"
    }

    /// Server-side limits sent in every connection's startup message, so a runaway statement or a transaction left
    /// open by a stuck caller cannot hold a connection (and its locks) indefinitely. Requests give up at the gateway
    /// after 30 s, so a statement running for a minute has no one waiting for it; migrations that need longer (a big
    /// `CREATE INDEX`) can `SET LOCAL statement_timeout = 0` in their transaction.
    public static let defaultStatementTimeout: Duration = .seconds(60)
    public static let defaultIdleInTransactionTimeout: Duration = .seconds(60)
    /// How long opening a socket to the server may take before the attempt fails (PostgresNIO's default is 10 s).
    public static let defaultConnectTimeout: Duration = .seconds(5)

    public func clientConfiguration(
        maxConnections: Int = 20, connectTimeout: Duration = Self.defaultConnectTimeout,
        statementTimeout: Duration? = Self.defaultStatementTimeout, idleInTransactionTimeout: Duration? = Self.defaultIdleInTransactionTimeout
    ) -> PostgresClient.Configuration {
        var configuration: PostgresClient.Configuration
        if let socket = self.socketDirectory {
            configuration = .init(
                unixSocketPath: "\(socket)/.s.PGSQL.\(self.port)", username: self.user, password: self.password,
                database: self.database)
        } else {
            configuration = .init(
                host: self.host, port: self.port, username: self.user, password: self.password, database: self.database,
                tls: .disable)
        }
        configuration.options.maximumConnections = maxConnections
        configuration.options.minimumConnections = 0
        configuration.options.connectTimeout = connectTimeout
        var parameters: [(String, String)] = []
        if let statementTimeout { parameters.append(("statement_timeout", Self.milliseconds(statementTimeout))) }
        if let idleInTransactionTimeout {
            parameters.append(("idle_in_transaction_session_timeout", Self.milliseconds(idleInTransactionTimeout)))
        }
        configuration.options.additionalStartupParameters = parameters
        return configuration
    }

    /// A duration as PostgreSQL's integer milliseconds setting (`0` would mean "no limit", so at least 1).
    static func milliseconds(_ duration: Duration) -> String {
        String(max(1, duration.milliseconds))
    }
}
