import Models

/// What messaging answers other services.
public enum MessagingAPI {
    /// `POST /v1/messaging/notifications`: tell a customer something (a redeemed voucher, a reminder). Idempotent
    /// by the caller's `Idempotency-Key`.
    public static let notify = Endpoint("POST", "/v1/messaging/notifications", .roles([.service]), service: .messaging)

    public struct Notification: Codable, Sendable, Equatable {
        /// `voucher_redeemed`, …
        public var kind: String
        public var msisdn: String
        public var voucherId: String?
        public var code: String?
        public var amount: String?
        public var currency: String?
        public var stationId: String?

        public init(
            kind: String, msisdn: String, voucherId: String? = nil, code: String? = nil, amount: String? = nil, currency: String? = nil,
            stationId: String? = nil
        ) {
            self.kind = kind
            self.msisdn = msisdn
            self.voucherId = voucherId
            self.code = code
            self.amount = amount
            self.currency = currency
            self.stationId = stationId
        }
    }

    /// Messaging's receipt.
    public struct Receipt: Codable, Sendable, Equatable {
        public var id: String?
        public var status: String?
    }
}
