import Foundation
import Logging
import Models

/// Settings every service reads. Keys (environment variable in brackets):
/// - `database.url` [`DATABASE_URL`], required: `postgres://user:password@host:port/database`.
/// - `database.maxConnections` [`DATABASE_MAX_CONNECTIONS`], default 20: the pool size of this process.
/// - `http.host` [`HTTP_HOST`], default `127.0.0.1`; `http.port` [`HTTP_PORT`], default the service's port (8080–8085).
/// - `http.maxBodySize` [`HTTP_MAX_BODY_SIZE`], bytes, default 1 MiB; larger bodies get 413.
/// - `http.requestTimeoutMs` [`HTTP_REQUEST_TIMEOUT_MS`] 30000: a request not answered by then gets 503 `timeout`
///   (0: none; streamed requests through the gateway have the upstream timeout instead).
/// - `log.level` [`LOG_LEVEL`], default `info`; `log.format` [`LOG_FORMAT`], `text` (default) or `json` (one JSON
///   object per line, `JSONLogHandler`).
/// - `migrations.directory` [`MIGRATIONS_DIRECTORY`], default the `Migrations` folder found above the working directory.
/// - `jwt.audience` [`JWT_AUDIENCE`], default `sokoni`; `jwt.issuer` [`JWT_ISSUER`], default `sokoni-gateway`.
/// - `jwt.jwksUrl` [`JWT_JWKS_URL`], default `<gateway URL>/.well-known/jwks.json`.
/// - `jwt.publicKeys` [`JWT_PUBLIC_KEYS`], optional: `kid:x,kid:x` Ed25519 public keys (base64url) trusted
///   without fetching the JWKS.
/// - `jwt.serviceKey` [`JWT_SERVICE_KEY`], required, secret: base64url Ed25519 seed for service-to-service tokens.
/// - `jwt.signingKeys` [`JWT_SIGNING_KEYS`], gateway only, secret: `kid:seed,kid:seed`, first one signs.
/// - `services.<name>.url` [`SERVICES_GATEWAY_URL`, `SERVICES_MESSAGING_URL`, `SERVICES_VOUCHERS_URL`,
///   `SERVICES_MARKETPLACE_WALLET_URL`, `SERVICES_AGENT_CORE_URL`, `SERVICES_CALENDAR_BOOKING_URL`],
///   default `http://127.0.0.1:<port>`.
/// - `jobs.workers` [`JOBS_WORKERS`], default 2; `jobs.pollIntervalMs` [`JOBS_POLL_INTERVAL_MS`], default 250;
///   `jobs.backoffBaseMs` [`JOBS_BACKOFF_BASE_MS`], default 1000; `jobs.visibilityTimeoutMs`
///   [`JOBS_VISIBILITY_TIMEOUT_MS`], default 300000: a job claimed by a process that died is claimed again after this.
public struct ServiceSettings: Sendable {
    public var service: ServiceName
    public var host: String
    public var port: Int
    public var databaseURL: String
    public var databaseMaxConnections: Int
    public var maxBodySize: Int
    public var requestTimeout: Duration
    public var logLevel: Logger.Level
    public var logFormat: LogFormat
    public var migrationsDirectory: URL
    public var audience: String
    public var issuer: String
    public var jwksURL: URL
    public var serviceKey: String
    /// Public keys trusted without asking the gateway (`jwt.publicKeys`).
    public var publicKeys: [PublicJWK]
    public var serviceURLs: [ServiceName: URL]
    public var jobWorkers: Int
    public var jobPollInterval: Duration
    public var jobBackoffBase: Duration
    public var jobVisibilityTimeout: Duration
    /// The raw settings, for keys only one service reads.
    public var settings: Settings

    public init(service: ServiceName, settings: Settings) throws {
        self.service = service
        self.settings = settings
        self.host = settings.string("http.host", default: "127.0.0.1")
        self.port = try settings.int("http.port", default: service.defaultPort, range: 0...65535)
        self.databaseURL = try settings.required("database.url", secret: true)
        _ = try DatabaseURL(self.databaseURL)
        self.databaseMaxConnections = try settings.int("database.maxConnections", default: 20, range: 1...500)
        self.maxBodySize = try settings.int("http.maxBodySize", default: 1 << 20, range: 1...(1 << 30))
        self.requestTimeout = .milliseconds(try settings.int("http.requestTimeoutMs", default: 30_000, range: 0...3_600_000))
        let level = settings.string("log.level", default: "info")
        guard let logLevel = Logger.Level(rawValue: level.lowercased()) else {
            throw ConfigurationError(key: "log.level", reason: "must be one of trace, debug, info, notice, warning, error, critical")
        }
        self.logLevel = logLevel
        let format = settings.string("log.format", default: "text")
        guard let logFormat = LogFormat(rawValue: format.lowercased()) else {
            throw ConfigurationError(key: "log.format", reason: "must be text or json")
        }
        self.logFormat = logFormat
        if let directory = settings.string("migrations.directory") {
            self.migrationsDirectory = URL(fileURLWithPath: directory)
        } else {
            guard let found = Self.findRepositoryFolder("Migrations") else {
                throw ConfigurationError(key: "migrations.directory", reason: "is not set and no Migrations folder was found")
            }
            self.migrationsDirectory = found
        }
        self.audience = settings.string("jwt.audience", default: "sokoni")
        self.issuer = settings.string("jwt.issuer", default: "sokoni-gateway")
        self.serviceKey = try settings.required("jwt.serviceKey", secret: true)
        self.publicKeys = try settings.string("jwt.publicKeys").map { try PublicJWK.parseList($0, key: "jwt.publicKeys") } ?? []
        var urls: [ServiceName: URL] = [:]
        for other in ServiceName.allCases {
            urls[other] = try settings.url(other.urlKey, default: "http://127.0.0.1:\(other.defaultPort)")
        }
        self.serviceURLs = urls
        self.jwksURL =
            try settings.url("jwt.jwksUrl")
            ?? urls[.gateway]!.appendingPathComponent(".well-known/jwks.json")
        self.jobWorkers = try settings.int("jobs.workers", default: 2, range: 0...64)
        self.jobPollInterval = .milliseconds(try settings.int("jobs.pollIntervalMs", default: 250, range: 1...60_000))
        self.jobBackoffBase = .milliseconds(try settings.int("jobs.backoffBaseMs", default: 1000, range: 1...3_600_000))
        self.jobVisibilityTimeout = .milliseconds(try settings.int("jobs.visibilityTimeoutMs", default: 300_000, range: 1000...86_400_000))
    }

    /// Walks up from the working directory, then from the executable and this source file, to a folder of the
    /// repository (`Migrations`, `Web`).
    public static func findRepositoryFolder(_ name: String) -> URL? {
        let starts = [
            URL(fileURLWithPath: FileManager.default.currentDirectoryPath),
            URL(fileURLWithPath: CommandLine.arguments.first ?? ".").deletingLastPathComponent(),
            URL(fileURLWithPath: #filePath).deletingLastPathComponent(),
        ]
        for start in starts {
            var directory = start.standardizedFileURL
            for _ in 0..<8 {
                let candidate = directory.appendingPathComponent(name)
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), isDirectory.boolValue {
                    return candidate
                }
                directory.deleteLastPathComponent()
            }
        }
        return nil
    }
}

/// How log lines are written: readable text, or one JSON object per line.
public enum LogFormat: String, Sendable {
    case text
    case json
}
