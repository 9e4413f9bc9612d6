import Contracts
import Foundation
import Models

public enum VoucherStatus: String, Codable, Sendable, CaseIterable {
    case issued, sent, redeemed, expired, void
}

public struct Location: Codable, Sendable, Equatable {
    public var latitude: Double
    public var longitude: Double
    public init(latitude: Double, longitude: Double) {
        self.latitude = latitude
        self.longitude = longitude
    }
}

public struct StationDTO: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var engencode: String
    public var ownerContact: String?
    public var location: Location?
    public var status: String
    public var distanceKm: Double?
    public var createdAt: Date
    public var updatedAt: Date
}

public struct CreateStation: Codable, Sendable {
    public var name: String
    public var engencode: String
    public var ownerContact: PhoneNumber?
    public var location: Location?
    public var status: String?
    public init(name: String, engencode: String, ownerContact: PhoneNumber? = nil, location: Location? = nil, status: String? = nil) {
        self.name = name
        self.engencode = engencode
        self.ownerContact = ownerContact
        self.location = location
        self.status = status
    }
}

public struct UpdateStation: Codable, Sendable {
    public var name: String?
    public var ownerContact: PhoneNumber?
    public var location: Location?
    public var status: String?
    public init(name: String? = nil, ownerContact: PhoneNumber? = nil, location: Location? = nil, status: String? = nil) {
        self.name = name
        self.ownerContact = ownerContact
        self.location = location
        self.status = status
    }
}

public struct VoucherDTO: Codable, Sendable, Equatable {
    public var id: String
    public var code: String
    public var status: VoucherStatus
    /// Decimal string in the currency's units ("5000" RWF, "12.50" KES).
    public var amount: String
    public var currency: String
    public var msisdn: String
    public var stationScope: String?
    public var campaignId: String?
    public var recipientKey: String?
    public var issuedAt: Date
    public var sentAt: Date?
    public var redeemedAt: Date?
    public var redeemedStationId: String?
    public var expiresAt: Date?
    public var createdBy: String
    public var metadata: JSONValue
    public var qrURL: String?
    public var cardURL: String?
}

public struct CreateVoucher: Codable, Sendable {
    public var amount: String
    public var currency: String?
    public var msisdn: String
    public var stationScope: String?
    public var campaignId: String?
    public var expiresAt: Date?
    public var metadata: JSONValue?
    public init(
        amount: String, currency: String? = nil, msisdn: String, stationScope: String? = nil, campaignId: String? = nil,
        expiresAt: Date? = nil, metadata: JSONValue? = nil
    ) {
        self.amount = amount
        self.currency = currency
        self.msisdn = msisdn
        self.stationScope = stationScope
        self.campaignId = campaignId
        self.expiresAt = expiresAt
        self.metadata = metadata
    }
}

public typealias BulkRecipient = VouchersAPI.BulkRecipient

/// What is wrong with one recipient of a bulk issue: `index` is its position in `recipients`.
public struct BulkRecipientError: Codable, Sendable, Equatable {
    public var index: Int
    public var field: String
    public var code: String
    public var message: String
}

/// `POST /v1/vouchers/bulk/validate`: every recipient checked as the bulk issue would, nothing issued.
public struct BulkValidation: Codable, Sendable, Equatable {
    public var valid: Bool
    public var count: Int
    public var errors: [BulkRecipientError]
}

public typealias BulkIssue = VouchersAPI.BulkIssue

public struct BulkIssueResult: Codable, Sendable {
    public var created: Int
    public var existing: Int
    public var vouchers: [VoucherDTO]
}

public struct Transition: Codable, Sendable {
    public var to: VoucherStatus
    public var reason: String?
    public init(to: VoucherStatus, reason: String? = nil) {
        self.to = to
        self.reason = reason
    }
}

public struct RedeemRequest: Codable, Sendable {
    public var code: String?
    public var qr: String?
    public init(code: String? = nil, qr: String? = nil) {
        self.code = code
        self.qr = qr
    }
}

public struct Redemption: Codable, Sendable, Equatable {
    public var voucherId: String
    public var amount: String
    public var currency: String
    public var maskedMsisdn: String
    public var redeemedAt: Date
    public var stationId: String
    public var code: String
}

public struct VoucherEventDTO: Codable, Sendable, Equatable {
    public var id: Int64
    public var eventType: String
    public var actor: String?
    public var stationId: String?
    public var context: JSONValue
    public var createdAt: Date
}

public struct CodeSpace: Codable, Sendable {
    public var used: Int
    public var capacity: Int
    public var fractionUsed: Double
}

public struct DailyMetrics: Codable, Sendable, Equatable {
    public var day: String
    public var issued: Int
    public var sent: Int
    public var redeemed: Int
    public var expired: Int
}

public struct StationActivity: Codable, Sendable, Equatable {
    public var stationId: String
    public var stationName: String
    public var redemptions: Int
    public var lastRedeemedAt: Date?
}

public struct VoucherMetrics: Codable, Sendable {
    public var from: String
    public var to: String
    public var days: [DailyMetrics]
    public var stations: [StationActivity]
}
