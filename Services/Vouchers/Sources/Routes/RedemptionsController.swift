import Foundation
import Hummingbird
import Logging
import Models
import PostgresNIO
import ServiceKit

/// `POST /v1/redemptions {code}|{qr}` by a station operator (the station is the one in their token), and
/// `GET /v1/redemptions?mine`. One conditional UPDATE decides, so of any number of concurrent attempts on one
/// code exactly one wins; the losers are told why.
struct RedemptionsController: Sendable {
    let service: VouchersService
    var store: VouchersStore { self.service.store }

    func addRoutes(to router: Router<AppRequestContext>) {
        router.group("v1/redemptions").add(middleware: RequireRoles(.stationOperator)).post(use: self.redeem)
        router.group("v1/redemptions").add(middleware: RequireRoles(VouchersService.readers.union([.stationOperator]))).get(use: self.list)
    }

    @Sendable func redeem(_ request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let tenant = try caller.requireTenant()
        guard let station = caller.stationID?.rawValue else {
            throw APIError.forbidden("no_station", "Your account is not bound to a station.")
        }
        let guards = ["redeem-operator:\(caller.subject)", "redeem-station:\(station)"]
        let body = try await request.decodeJSON(RedeemRequest.self, context: context)
        let code: String
        if let qr = body.qr {
            // a scanned QR is checked before anything is looked up
            guard let verified = self.service.qrPayload.verify(qr) else {
                try await self.service.redemptionFailures.check(
                    guards, code: "too_many_attempts", message: "Too many failed redemptions; wait before trying again.", logger: context.logger)
                try await self.recordFailure(guards, logger: context.logger)
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
            return try await self.service.environment.idempotency.run(
                request, context: context, postgres: self.store.postgres, singleStatement: true
            ) { connection in
                // one call decides (vouchers.redeem): the guessing lock, the conditional UPDATE, audit row and notice job
                let call = RedeemCall(
                    tenant: tenant.rawValue, code: code, station: station, actor: caller.subject, requestID: context.requestID, guards: guards)
                var rows = try await connection.execute(call, logger: context.logger).makeAsyncIterator()
                guard let (outcome, retryAfter, id, amountMinor, currency, msisdn, redeemedAt) = try await rows.next() else {
                    throw APIError(.internalServerError, code: "internal_error", message: "An internal error occurred.")
                }
                guard outcome == "redeemed", let id, let amountMinor, let currency, let msisdn, let redeemedAt else {
                    throw Self.refusal(outcome, retryAfter: retryAfter)
                }
                let money = Money(minorUnits: amountMinor, currency: Currency(code: currency) ?? .RWF)
                return JSONResponse(.ok, Redemption(
                    voucherId: id.uuidString.lowercased(), amount: money.decimalString, currency: currency,
                    maskedMsisdn: PhoneNumber.masked(e164: msisdn), redeemedAt: redeemedAt,
                    stationId: station.uuidString.lowercased(), code: code))
            }
        } catch {
            let apiError = APIError.from(error)
            if apiError.code == "unknown_code" || apiError.code == "wrong_station" {
                try await self.recordFailure(guards, logger: context.logger)
            }
            if apiError.code == "wrong_station" {
                try await self.service.policyBlocked(code: code, tenant: tenant, station: station, actor: caller.subject, logger: context.logger)
            }
            throw apiError
        }
    }

    func recordFailure(_ keys: [String], logger: Logger) async throws {
        for key in keys {
            try await self.service.redemptionFailures.recordFailure(
                key, limit: key.hasPrefix("redeem-station") ? self.service.maxFailuresPerStation : self.service.maxFailuresPerOperator, logger: logger)
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

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<Redemption>> {
        let caller = try context.requireCaller()
        let tenant = try caller.requireTenant()
        var station = try VouchersController.uuid(request.uri.queryParameters["stationId"].map(String.init), "stationId")
        if caller.roles == [.stationOperator] || request.uri.queryParameters["mine"] != nil {
            station = caller.stationID?.rawValue ?? UUID()
        }
        let limit = min(max(Int(request.uri.queryParameters["limit"] ?? "") ?? 50, 1), 200)
        let rows = try await self.store.postgres.query(
            """
            SELECT \(unescaped: VouchersStore.voucherColumns) FROM vouchers.vouchers
            WHERE tenant_id = \(tenant.rawValue) AND status = 'redeemed' AND (\(station)::uuid IS NULL OR redeemed_station_id = \(station))
            ORDER BY redeemed_at DESC LIMIT \(limit)
            """, logger: context.logger
        ).all(as: VouchersStore.VoucherRow.self)
        let items = rows.map(VouchersStore.voucher).map {
            Redemption(
                voucherId: $0.id, amount: $0.amount, currency: $0.currency, maskedMsisdn: PhoneNumber.masked(e164: $0.msisdn),
                redeemedAt: $0.redeemedAt ?? Date(), stationId: $0.redeemedStationId ?? "", code: $0.code)
        }
        return JSONResponse(.ok, Page(items: items, nextCursor: nil))
    }
}

/// `vouchers.redeem(…)` as a prepared statement: each pooled connection parses and plans it once. As an unnamed
/// statement it was parsed and planned on every call; pgbench running this call did 8–67% more per second prepared
/// (five paired runs).
struct RedeemCall: PostgresPreparedStatement {
    static let sql = """
        SELECT outcome, retry_after, voucher_id, amount_minor, currency, msisdn, redeemed_at
        FROM vouchers.redeem($1, $2, $3, $4, $5, $6)
        """
    typealias Row = (String, Int?, UUID?, Int64?, String?, String?, Date?)
    /// The default name is `String(reflecting:)` of the type, worked out again on every call.
    static let name = "vouchers.redeem"

    var tenant: UUID
    var code: String
    var station: UUID
    var actor: String
    var requestID: String
    var guards: [String]

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 6)
        bindings.append(self.tenant)
        bindings.append(self.code)
        bindings.append(self.station)
        bindings.append(self.actor)
        bindings.append(self.requestID)
        bindings.append(self.guards)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}

/// The job `vouchers.redeem` enqueues for the customer's notice.
struct RedeemedNotice: Codable, Sendable {
    var voucherId: String
    var tenantId: String
    var msisdn: String
    var code: String
    var amountMinor: Int64
    var currency: String
    var stationId: String

    var amount: String { Money(minorUnits: self.amountMinor, currency: Currency(code: self.currency) ?? .RWF).decimalString }
}
