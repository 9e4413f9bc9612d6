#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// A typed UUID, so a tenant id cannot be passed where a voucher id is expected.
/// Encodes as the bare UUID string.
public struct Identifier<Tag>: Hashable, Sendable, Codable, CustomStringConvertible, RawRepresentable {
    public var rawValue: UUID

    public init(rawValue: UUID) { self.rawValue = rawValue }
    public init(_ uuid: UUID = UUID()) { self.rawValue = uuid }
    public init?(_ string: String) {
        guard let uuid = UUID(uuidString: string) else { return nil }
        self.rawValue = uuid
    }

    public var description: String { self.rawValue.uuidString.lowercased() }

    public init(from decoder: any Decoder) throws {
        self.rawValue = try decoder.singleValueContainer().decode(UUID.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(self.description)
    }
}

public enum TenantTag {}
public enum UserTag {}
public enum StationTag {}

public typealias TenantID = Identifier<TenantTag>
public typealias UserID = Identifier<UserTag>
public typealias StationID = Identifier<StationTag>
public enum VoucherTag {}
public enum CampaignTag {}
public typealias VoucherID = Identifier<VoucherTag>
/// A campaign's id (campaigns belong to messaging; vouchers keep the id they were issued under).
public typealias CampaignID = Identifier<CampaignTag>

public enum ChannelTag {}
public enum ContactTag {}
public enum ConversationTag {}
public enum MessageTag {}
public enum AgentTag {}
/// A messaging channel: one WhatsApp number, SMS sender, Telegram bot, web-chat widget or sandbox of a tenant.
public typealias ChannelID = Identifier<ChannelTag>
public typealias ContactID = Identifier<ContactTag>
public typealias ConversationID = Identifier<ConversationTag>
public typealias MessageID = Identifier<MessageTag>
public enum TemplateTag {}
public enum SequenceTag {}
/// A multi-step sequence of messaging (seed 003's campaigns with steps).
public typealias SequenceID = Identifier<SequenceTag>
/// A message template of a channel (WhatsApp's, reviewed by Meta; the text of a campaign on other channels).
public typealias TemplateID = Identifier<TemplateTag>
/// An agent of agent-core (messaging binds one to each channel).
public typealias AgentID = Identifier<AgentTag>

public enum WalletAccountTag {}
public enum WalletTransactionTag {}
public enum WalletHoldTag {}
/// A ledger account of marketplace-wallet (a vendor's, a buyer's, the platform's funding or commission account).
public typealias WalletAccountID = Identifier<WalletAccountTag>
/// A ledger transaction: balanced entries posted together.
public typealias WalletTransactionID = Identifier<WalletTransactionTag>
/// A two-phase transfer: funds reserved, then posted or voided.
public typealias WalletHoldID = Identifier<WalletHoldTag>

public enum CalendarAgentTag {}
public enum AppointmentTag {}
public enum CalendarBlockTag {}
/// A calendar of calendar-booking: a person who takes appointments or a resource that is booked (a van).
public typealias CalendarAgentID = Identifier<CalendarAgentTag>
/// An appointment booked with a calendar agent.
public typealias AppointmentID = Identifier<AppointmentTag>
/// Time off (or other unavailability) of a calendar agent.
public typealias CalendarBlockID = Identifier<CalendarBlockTag>

public enum LeadTag {}
public enum ExtractionTag {}
/// A lead: one per tenant and phone (agent-core's CRM).
public typealias LeadID = Identifier<LeadTag>
public typealias ExtractionID = Identifier<ExtractionTag>
public enum StageRuleTag {}
/// A rule of a tenant's pipeline that moves leads by itself.
public typealias StageRuleID = Identifier<StageRuleTag>
public enum CalendarConnectionTag {}
/// A Google Calendar connected to a calendar agent.
public typealias CalendarConnectionID = Identifier<CalendarConnectionTag>
public enum CallTag {}
/// A voice call (agent-core's CRM).
public typealias CallID = Identifier<CallTag>
