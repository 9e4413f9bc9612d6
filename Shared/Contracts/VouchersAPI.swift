import Foundation
import Models

/// The vouchers service's public API (who may call what), and the views other services read from it.
public enum VouchersAPI {
    static func endpoint(_ method: String, _ path: String, _ access: Endpoint.Access) -> Endpoint {
        Endpoint(method, path, access, service: .vouchers)
    }

    static let stationReaders = Roles.readers.union([.stationOperator, .service])

    public static let createStation = endpoint("POST", "/v1/stations", .roles(Roles.managers))
    public static let updateStation = endpoint("PATCH", "/v1/stations/{id}", .roles(Roles.managers))
    public static let listStations = endpoint("GET", "/v1/stations", .roles(Roles.readers.union([.stationOperator])))
    /// Services read a station too: the gateway checks a station exists before binding an operator to it.
    public static let getStation = endpoint("GET", "/v1/stations/{id}", .roles(stationReaders))

    public static let createVoucher = endpoint("POST", "/v1/vouchers", .roles(Roles.managers))
    public static let bulkIssue = endpoint("POST", "/v1/vouchers/bulk", .roles(Roles.managers.union([.service])))
    public static let validateBulk = endpoint("POST", "/v1/vouchers/bulk/validate", .roles(Roles.managers.union([.service])))
    public static let transition = endpoint("POST", "/v1/vouchers/{id}/transitions", .roles(Roles.managers))
    /// Sends the voucher to its number as an image of its card, through messaging; `issued → sent` when messaging
    /// reports it sent (`deliveryReport`).
    public static let send = endpoint("POST", "/v1/vouchers/{id}/send", .roles(Roles.managers))
    /// Messaging's reports on the messages the vouchers service asked for (service to service).
    public static let deliveryReport = endpoint("POST", "/v1/vouchers/delivery-reports", .roles([.service]))
    public static let listVouchers = endpoint("GET", "/v1/vouchers", .roles(Roles.readers.union([.stationOperator, .service])))
    public static let codeSpace = endpoint("GET", "/v1/vouchers/code-space", .roles(Roles.readers.union([.stationOperator, .service])))
    public static let getVoucher = endpoint("GET", "/v1/vouchers/{id}", .roles(Roles.readers.union([.stationOperator, .service])))
    public static let voucherEvents = endpoint("GET", "/v1/vouchers/{id}/events", .roles(Roles.readers.union([.stationOperator, .service])))
    /// Image links are public: their signature is the permission.
    public static let image = endpoint("GET", "/v1/voucher-images/{id}/{kind}", .public)

    public static let redeem = endpoint("POST", "/v1/redemptions", .roles([.stationOperator]))
    public static let listRedemptions = endpoint("GET", "/v1/redemptions", .roles(Roles.readers.union([.stationOperator])))
    public static let metrics = endpoint("GET", "/v1/voucher-metrics", .roles(Roles.readers))

    /// Per UTC day: vouchers `issued` and `redeemed` (`DailyCounts`).
    public static let daily = endpoint("GET", "/v1/vouchers/daily", .roles(DailyCounts.readers))

    public static let all: [Endpoint] = [
        daily, createStation, updateStation, listStations, getStation, createVoucher, bulkIssue, validateBulk, transition, listVouchers, codeSpace,
        getVoucher, voucherEvents, image, redeem, listRedemptions, metrics, send, deliveryReport,
    ]

    /// `POST /v1/vouchers/bulk`: one voucher per recipient key of a campaign, idempotent per key (a campaign's
    /// dispatcher asks again after a crash and gets the same vouchers).
    public struct BulkIssue: Codable, Sendable {
        public var campaignId: String
        public var amount: String
        public var currency: String?
        public var stationScope: String?
        public var expiresAt: Date?
        public var recipients: [BulkRecipient]
        public init(
            campaignId: String, amount: String, currency: String? = nil, stationScope: String? = nil, expiresAt: Date? = nil, recipients: [BulkRecipient]
        ) {
            self.campaignId = campaignId
            self.amount = amount
            self.currency = currency
            self.stationScope = stationScope
            self.expiresAt = expiresAt
            self.recipients = recipients
        }
    }

    public struct BulkRecipient: Codable, Sendable {
        /// Unique per campaign: the same key never gets a second voucher.
        public var recipientKey: String
        public var msisdn: String
        public var amount: String?
        /// This recipient's own station scope and expiry, instead of the bulk issue's.
        public var stationScope: String?
        public var expiresAt: Date?
        public var metadata: JSONValue?
        public init(
            recipientKey: String, msisdn: String, amount: String? = nil, stationScope: String? = nil, expiresAt: Date? = nil, metadata: JSONValue? = nil
        ) {
            self.recipientKey = recipientKey
            self.msisdn = msisdn
            self.amount = amount
            self.stationScope = stationScope
            self.expiresAt = expiresAt
            self.metadata = metadata
        }
    }

    /// What a bulk issue answers, as a caller needs it (the vouchers service's answer has more).
    public struct BulkIssued: Codable, Sendable {
        public var created: Int
        public var existing: Int
        public var vouchers: [Issued]

        public struct Issued: Codable, Sendable, Equatable {
            public var id: String
            public var code: String
            public var amount: String
            public var currency: String
            public var recipientKey: String?
            /// The signed link of the voucher's card image (what a WhatsApp template's image header shows).
            public var cardURL: String?
        }
    }

    /// What an agent may tell a customer of their own voucher.
    public struct VoucherView: Codable, Sendable, Equatable {
        public var id: String
        public var code: String
        public var status: String
        public var amount: String
        public var currency: String
        public var expiresAt: Date?
    }

    /// What another service needs to know of a station: that it exists in the tenant, and whether it is active.
    public struct Station: Codable, Sendable, Equatable {
        public var id: StationID
        public var name: String
        public var status: String

        public init(id: StationID, name: String, status: String) {
            self.id = id
            self.name = name
            self.status = status
        }
    }
}
