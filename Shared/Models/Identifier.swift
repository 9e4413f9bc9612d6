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
