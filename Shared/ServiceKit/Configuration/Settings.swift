import Configuration
import Foundation

/// A configuration value that is missing or malformed. Start-up stops with its one-line description.
public struct ConfigurationError: Error, CustomStringConvertible {
    public let key: String
    public let reason: String

    public init(key: String, reason: String) {
        self.key = key
        self.reason = reason
    }

    public var description: String {
        "configuration error: \(Settings.environmentName(for: self.key)) (\(self.key)) \(self.reason)"
    }
}

/// Typed reads over swift-configuration. Keys are dotted (`database.url`); in the environment they are
/// upper-case with underscores (`DATABASE_URL`), camelCase split (`jwt.serviceKey` → `JWT_SERVICE_KEY`).
public struct Settings: Sendable {
    public let reader: ConfigReader

    public init(reader: ConfigReader) {
        self.reader = reader
    }

    /// Reads the process environment.
    public static func fromEnvironment() -> Settings {
        Settings(reader: ConfigReader(provider: EnvironmentVariablesProvider()))
    }

    /// Reads the given variables as if they were the environment (tests, the local runner).
    public static func fromEnvironment(_ variables: [String: String]) -> Settings {
        Settings(reader: ConfigReader(provider: EnvironmentVariablesProvider(environmentVariables: variables)))
    }

    public func string(_ key: String, secret: Bool = false) -> String? {
        guard let value = self.reader.string(forKey: ConfigKey(key), isSecret: secret) else { return nil }
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        return trimmed.isEmpty ? nil : trimmed
    }

    public func string(_ key: String, default defaultValue: String) -> String {
        self.string(key) ?? defaultValue
    }

    public func required(_ key: String, secret: Bool = false) throws -> String {
        guard let value = self.string(key, secret: secret) else {
            throw ConfigurationError(key: key, reason: "is required but not set")
        }
        return value
    }

    public func int(_ key: String, default defaultValue: Int, range: ClosedRange<Int> = Int.min...Int.max) throws -> Int {
        guard let text = self.string(key) else { return defaultValue }
        guard let value = Int(text), range.contains(value) else {
            throw ConfigurationError(key: key, reason: "must be an integer in \(range.lowerBound)...\(range.upperBound), got \"\(text)\"")
        }
        return value
    }

    public func bool(_ key: String, default defaultValue: Bool) throws -> Bool {
        guard let text = self.string(key)?.lowercased() else { return defaultValue }
        switch text {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw ConfigurationError(key: key, reason: "must be true or false, got \"\(text)\"")
        }
    }

    public func url(_ key: String, default defaultValue: String? = nil) throws -> URL? {
        guard let text = self.string(key) ?? defaultValue else { return nil }
        guard let url = URL(string: text), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
            throw ConfigurationError(key: key, reason: "must be an http(s) URL, got \"\(text)\"")
        }
        return url
    }

    /// `jwt.serviceKey` → `JWT_SERVICE_KEY`.
    public static func environmentName(for key: String) -> String {
        var name = ""
        for component in key.split(separator: ".") {
            if !name.isEmpty { name += "_" }
            var previousWasLower = false
            for character in component {
                if character.isUppercase && previousWasLower { name += "_" }
                previousWasLower = character.isLowercase || character.isNumber
                name += character == "-" ? "_" : character.uppercased()
            }
        }
        return name
    }
}
