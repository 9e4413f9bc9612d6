import Contracts
import Foundation
import Hummingbird
import Logging
import Models
import ServiceKit

/// `POST /v1/redemptions {code}|{qr}` by a station operator (the station is the one in their token), and
/// `GET /v1/redemptions?mine`. One conditional UPDATE decides, so of any number of concurrent attempts on one
/// code exactly one wins; the losers are told why.
struct RedemptionsController: Sendable {
    let vouchers: VouchersStore
    let idempotency: Idempotency
    let qrPayload: QRPayload
    let guesses: RedemptionGuesses

    func addRoutes(to router: Router<AppRequestContext>) {
        router.on(VouchersAPI.redeem, use: self.redeem)
        router.on(VouchersAPI.listRedemptions, use: self.list)
    }

    @Sendable func redeem(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (caller, tenant) = try context.requireTenantCaller()
        let station = try caller.requireOperatorStation()
        let guards = self.guesses.keys(tenant: tenant, station: station, operator: caller.subject)
        let body = try await request.decodeJSON(RedeemRequest.self, context: context)
        let code: String
        if let qr = body.qr {
            // a scanned QR is checked before anything is looked up
            guard let verified = self.qrPayload.verify(qr) else {
                try await self.guesses.check(guards, logger: context.logger)
                try await self.guesses.recordFailure(guards, logger: context.logger)
                throw APIError.unprocessable("bad_signature", "This QR code was not issued by Sokoni.")
            }
            code = verified
        } else if let typed = body.code {
            guard let normalized = VoucherCode.normalize(typed) else {
                throw APIError.unprocessable(
                    "invalid_code", "A voucher code is \(VoucherCode.length) characters from \(String(VoucherCode.alphabet)); this is not one.")
            }
            code = normalized
        } else {
            throw APIError.badRequest("code_required", "Send the voucher's code or its scanned QR.")
        }
        do {
            return try await self.idempotency.write(request, context: context, postgres: self.vouchers.postgres, singleStatement: true) { connection in
                let call = RedeemCall(
                    tenant: tenant, code: code, station: station, actor: caller.subject, requestID: context.requestID, guards: guards.all)
                let (outcome, retryAfter, id, amountMinor, currency, msisdn, redeemedAt) = try await self.vouchers.redeem(
                    call, on: connection, logger: context.logger)
                guard outcome == "redeemed", let id, let amountMinor, let currency, let msisdn, let redeemedAt else {
                    throw Self.refusal(outcome, retryAfter: retryAfter)
                }
                guard let known = Currency(code: currency) else { throw CorruptRow("voucher \(id) in \(currency)") }
                return JSONResponse(
                    .ok,
                    Redemption(
                        voucherId: id.uuidString.lowercased(), amount: Money(minorUnits: amountMinor, currency: known).decimalString,
                        currency: currency, maskedMsisdn: PhoneNumber.masked(e164: msisdn), redeemedAt: redeemedAt,
                        stationId: station.description, code: code))
            }
        } catch {
            let apiError = APIError.from(error)
            if apiError.code == "unknown_code" || apiError.code == "wrong_station" {
                try await self.guesses.recordFailure(guards, logger: context.logger)
            }
            if apiError.code == "wrong_station" {
                try await self.vouchers.recordPolicyBlocked(code: code, tenant: tenant, station: station, actor: caller.subject, logger: context.logger)
            }
            // off the hot path: a cashier facing a used voucher needs to know when and where it was used
            if apiError.code == "already_redeemed",
                let (at, name) = try await self.vouchers.redeemedWhereAndWhen(code: code, tenant: tenant, logger: context.logger)
            {
                throw APIError.conflict("already_redeemed", Self.alreadyRedeemed(at: at, station: name))
            }
            throw apiError
        }
    }

    /// The answer for each way `vouchers.redeem` can refuse.
    static func refusal(_ outcome: String, retryAfter: Int?) -> APIError {
        switch outcome {
        case "locked":
            return .tooManyRequests("too_many_attempts", "Too many failed redemptions; wait before trying again.", retryAfterSeconds: retryAfter ?? 60)
        case "unknown_code": return .notFound("unknown_code", "No voucher has this code.")
        case "already_redeemed": return .conflict("already_redeemed", "This voucher was already redeemed.")
        case "void": return .conflict("void", "This voucher was cancelled.")
        case "expired": return .conflict("expired", "This voucher has expired.")
        case "station_inactive": return .forbidden("station_inactive", "This station cannot redeem vouchers.")
        case "wrong_station": return .forbidden("wrong_station", "This voucher is only valid at another station.")
        default: return .conflict("not_redeemable", "This voucher cannot be redeemed now.")
        }
    }

    /// "This voucher was already redeemed on 2026-12-02 at 10:26 UTC at Kigali Central."
    static func alreadyRedeemed(at date: Date, station: String) -> String {
        let day = date.formatted(Date.ISO8601FormatStyle(timeZone: .gmt).year().month().day())
        let time = date.formatted(Date.ISO8601FormatStyle(timeZone: .gmt).time(includingFractionalSeconds: false)).prefix(5)
        return "This voucher was already redeemed on \(day) at \(time) UTC" + (station.isEmpty ? "." : " at \(station).")
    }

    /// Newest first, redeemed at or after `since` if given; a station operator (or anyone with `?mine`) sees their
    /// own station's.
    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<Redemption>> {
        let (caller, tenant) = try context.requireTenantCaller()
        let query = request.queryValues
        var station = try query.id("stationId", as: StationID.self)
        if caller.isStationOperator || query.has("mine") {
            station = caller.stationID ?? StationID()
        }
        let page = try request.page(cursorValues: 2)
        let after = try page.cursor.map { (redeemedAtMicros: try $0.int64(0), id: try $0.uuid(1)) }
        let items = try await self.vouchers.redemptions(
            tenant: tenant, station: station, since: try query.instant("since"), after: after, limit: page.limit, logger: context.logger)
        return JSONResponse(.ok, Page(items: items, nextCursor: page.next(items) { [String($0.redeemedAt.micros), $0.voucherId] }))
    }
}

/// Guessing protection on redemption: failures are counted per operator and per station (keys carry the tenant, so
/// nobody outside a tenant can lock its stations), and at the limit both are locked for a while.
struct RedemptionGuesses: Sendable {
    let failures: FailureThrottle
    let maxPerOperator: Int
    let maxPerStation: Int

    struct Keys: Sendable {
        var station: String
        var operatorKey: String
        var all: [String] { [self.operatorKey, self.station] }
    }

    func keys(tenant: TenantID, station: StationID, operator subject: String) -> Keys {
        Keys(station: "redeem-station:\(tenant):\(station)", operatorKey: "redeem-operator:\(tenant):\(subject)")
    }

    func check(_ keys: Keys, logger: Logger) async throws {
        try await self.failures.check(
            keys.all, code: "too_many_attempts", message: "Too many failed redemptions; wait before trying again.", logger: logger)
    }

    func recordFailure(_ keys: Keys, logger: Logger) async throws {
        try await self.failures.recordFailure(keys.operatorKey, limit: self.maxPerOperator, logger: logger)
        try await self.failures.recordFailure(keys.station, limit: self.maxPerStation, logger: logger)
    }
}
