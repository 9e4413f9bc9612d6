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
