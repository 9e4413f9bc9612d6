import Foundation
import Models

/// The kinds of channel a tenant can connect.
public enum ChannelKind: String, Codable, Sendable, CaseIterable {
    case whatsapp, instagram, sms, telegram, email, webchat, sandbox

    /// Whether the provider allows free-form messages only within 24 hours of the customer's last message
    /// (WhatsApp and Instagram; outside it, only an approved template).
    var hasCustomerServiceWindow: Bool { self == .whatsapp || self == .instagram }

    /// Whether contacts on it are phone numbers in E.164.
    var usesPhoneNumbers: Bool { self == .whatsapp || self == .sms || self == .sandbox }

    /// The secrets the channel cannot work without.
    var requiredSecrets: [String] {
        switch self {
        case .whatsapp, .instagram: ["accessToken", "appSecret", "verifyToken"]
        case .sms: ["authToken"]
        case .telegram: ["botToken", "secretToken"]
        case .email: ["apiKey"]
        case .webchat, .sandbox: []
        }
    }
}

/// Channel settings that are not secret. Which apply depends on the kind.
public struct ChannelConfig: Codable, Sendable, Equatable {
    /// WhatsApp: the Cloud API phone number id (webhooks name it in `metadata.phone_number_id`).
    public var phoneNumberId: String?
    public var businessAccountId: String?
    /// Instagram: the page or Instagram account id messages are sent as.
    public var pageId: String?
    /// SMS (Twilio): the account and the sender, a number or a messaging service.
    public var accountSid: String?
    public var fromNumber: String?
    public var messagingServiceSid: String?
    /// Telegram: the bot's username, for display.
    public var botUsername: String?
    /// Email: the sender address and the API (`sendgrid` or `mailgun`).
    public var fromEmail: String?
    public var mailProvider: String?
    /// Email through Mailgun: the sending domain (`mg.shop.example`); the fromEmail's domain when absent.
    public var mailDomain: String?
    /// Web chat: the sites that may embed the widget (`https://shop.example`).
    public var allowedOrigins: [String]?
    /// Web chat: ask the visitor to verify a phone number before the first message.
    public var verifyPhone: Bool?

    public init() {}

    /// What the provider calls this channel, for finding it from an inbound webhook.
    func address(for kind: ChannelKind) -> String? {
        switch kind {
        case .whatsapp: self.phoneNumberId
        case .instagram: self.pageId
        case .sms: self.fromNumber ?? self.messagingServiceSid
        case .telegram: self.botUsername
        case .email: self.fromEmail
        case .webchat, .sandbox: nil
        }
    }
}

/// Channel secrets: written through the API, sealed at rest, never read back (only their hints).
public struct ChannelSecrets: Codable, Sendable, Equatable {
    public var accessToken: String?
    public var appSecret: String?
    public var verifyToken: String?
    public var authToken: String?
    public var botToken: String?
    public var secretToken: String?
    public var apiKey: String?
    /// Email: what checks the provider's event webhook, SendGrid's verification key (the signed event webhook's
    /// base64 public key) or Mailgun's HTTP webhook signing key. Without it the webhook refuses every event.
    public var webhookKey: String?

    public init() {}

    static var fields: [(name: String, path: WritableKeyPath<ChannelSecrets, String?>)] {
        [
            ("accessToken", \.accessToken), ("appSecret", \.appSecret), ("verifyToken", \.verifyToken), ("authToken", \.authToken),
            ("botToken", \.botToken), ("secretToken", \.secretToken), ("apiKey", \.apiKey), ("webhookKey", \.webhookKey),
        ]
    }

    subscript(name: String) -> String? {
        Self.fields.first { $0.name == name }.flatMap { self[keyPath: $0.path] }
    }

    /// These, with every field `other` sets replacing this one's.
    func merged(with other: ChannelSecrets) -> ChannelSecrets {
        var merged = self
        for field in Self.fields where other[keyPath: field.path] != nil { merged[keyPath: field.path] = other[keyPath: field.path] }
        return merged
    }

    var isEmpty: Bool { Self.fields.allSatisfy { self[keyPath: $0.path] == nil } }

    /// `••••` and the last four characters of each secret that is set (nothing of a short one), so a person can
    /// tell which one is configured without seeing it.
    var hints: [String: String] {
        var hints: [String: String] = [:]
        for field in Self.fields {
            guard let value = self[keyPath: field.path] else { continue }
            hints[field.name] = value.count < 12 ? "••••" : "••••" + value.suffix(4)
        }
        return hints
    }
}

public enum ChannelStatus: String, Codable, Sendable {
    case active, disabled
}

/// A channel as the API shows it: secrets only as hints.
public struct ChannelDTO: Codable, Sendable, Equatable {
    public var id: ChannelID
    public var kind: ChannelKind
    public var name: String
    public var publicId: String
    public var agentId: AgentID?
    public var config: ChannelConfig
    public var secretHints: [String: String]
    public var status: ChannelStatus
    /// Where the provider sends events (paste it into Meta's, Twilio's or Telegram's console); absent for sandbox.
    public var webhookUrl: String?
    public var createdAt: Date
    public var updatedAt: Date
}

public struct CreateChannel: Codable, Sendable {
    public var kind: ChannelKind
    public var name: String
    public var agentId: AgentID?
    public var config: ChannelConfig?
    public var secrets: ChannelSecrets?
}

public struct UpdateChannel: Codable, Sendable {
    public var name: String?
    public var config: ChannelConfig?
    /// Replaces only the secrets it names.
    public var secrets: ChannelSecrets?
    public var status: ChannelStatus?
}

/// `PUT /v1/channels/{id}/agent`: binds another agent (or none); the channel's open conversations are archived.
public struct BindAgent: Codable, Sendable {
    public var agentId: AgentID?
    public var reason: String?
}

public struct BindAgentResult: Codable, Sendable, Equatable {
    public var channel: ChannelDTO
    /// How many open conversations the relink closed.
    public var archivedConversations: Int
}

/// The rules a channel's settings must meet before it is stored; the problem names the field.
enum ChannelRules {
    static func problem(kind: ChannelKind, config: ChannelConfig, secrets: ChannelSecrets) -> String? {
        for name in kind.requiredSecrets where (secrets[name] ?? "").isEmpty { return "secrets.\(name) is required for \(kind.rawValue)" }
        switch kind {
        case .whatsapp where config.phoneNumberId == nil: return "config.phoneNumberId is required for whatsapp"
        case .instagram where config.pageId == nil: return "config.pageId is required for instagram"
        case .sms where config.accountSid == nil: return "config.accountSid is required for sms"
        case .sms where config.fromNumber == nil && config.messagingServiceSid == nil: return "config.fromNumber or config.messagingServiceSid is required"
        case .email where config.fromEmail == nil: return "config.fromEmail is required for email"
        case .email where !["sendgrid", "mailgun"].contains(config.mailProvider ?? "sendgrid"): return "config.mailProvider is sendgrid or mailgun"
        case .email where EmailAddress.canonical(config.fromEmail ?? "") == nil: return "config.fromEmail is not an email address"
        case .email where config.mailDomain.map(EmailAddress.isDomain) == false: return "config.mailDomain is not a domain such as mg.shop.example"
        case .email where (config.mailProvider ?? "sendgrid") == "sendgrid" && secrets.webhookKey.map({ WebhookSignatures.sendGridKey($0) == nil }) == true:
            return "secrets.webhookKey is not SendGrid's verification key (the base64 public key of the signed event webhook)"
        default: break
        }
        if let from = config.fromNumber, (try? PhoneNumber(parsing: from)) == nil { return "config.fromNumber is not an E.164 number" }
        for origin in config.allowedOrigins ?? [] {
            guard let url = URL(string: origin), ["https", "http"].contains(url.scheme ?? ""), url.host != nil, url.path.isEmpty,
                url.query == nil
            else { return "config.allowedOrigins: \(origin) is not an origin such as https://shop.example" }
        }
        return nil
    }
}

/// `ch_` and 24 random base-62 characters: the channel's id in URLs a provider or a web page sees.
enum PublicChannelID {
    static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")

    static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        return "ch_" + String((0..<24).map { _ in Self.alphabet[Int(generator.next(upperBound: UInt64(Self.alphabet.count)))] })
    }

    static func isValid(_ text: Substring) -> Bool {
        text.hasPrefix("ch_") && (23...43).contains(text.count) && text.dropFirst(3).allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }
    }
}
