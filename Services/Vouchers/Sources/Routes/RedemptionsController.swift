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
        try await self.service.redemptionFailures.check(
            guards, code: "too_many_attempts", message: "Too many failed redemptions; wait before trying again.", logger: context.logger)
        let body = try await request.decodeJSON(RedeemRequest.self, context: context)
        let code: String
        if let qr = body.qr {
            // a scanned QR is checked before anything is looked up
            guard let verified = self.service.qrPayload.verify(qr) else {
                try await self.recordFailure(guards, logger: context.logger)
                throw APIError.unprocessable("bad_signature", "This QR code was not issued by Sokoni.")
            }
            code = verified
        } else if let typed = body.code, let normalized = VoucherCode.normalize(typed) {
            code = normalized
        } else {
            throw APIError.badRequest("code_required", "Send the voucher's code or its scanned QR.")
        }
        do {
            return try await self.service.environment.idempotency.run(request, context: context, postgres: self.store.postgres) { connection in
                try await VouchersStore.setActor(connection, actor: caller.subject, station: station, logger: context.logger)
                // the one statement that decides; `previous` is the status it replaced, for the audit row
                guard let result = try await connection.query(
                    """
                    WITH target AS (
                        SELECT v.id, v.status AS previous FROM vouchers.vouchers v
                        WHERE v.tenant_id = \(tenant.rawValue) AND v.code = \(code) AND v.status IN ('issued', 'sent')
                          AND (v.expires_at IS NULL OR v.expires_at > now())
                          AND (v.station_scope IS NULL OR v.station_scope = \(station))
                          AND EXISTS (SELECT 1 FROM vouchers.stations s WHERE s.id = \(station) AND s.tenant_id = \(tenant.rawValue) AND s.status = 'active')
                        FOR UPDATE OF v)
                    UPDATE vouchers.vouchers v SET status = 'redeemed', redeemed_at = now(), redeemed_station_id = \(station)
                    FROM target WHERE v.id = target.id
                    RETURNING target.previous, v.id
                    """, logger: context.logger
                ).first(as: (String, UUID).self) else {
                    throw try await self.whyNot(code: code, tenant: tenant, station: station, connection: connection, logger: context.logger)
                }
                let voucher = try await self.store.voucher(result.1, tenant: tenant, on: connection, logger: context.logger)!.0
                try await self.store.audit.record(
                    on: connection, tenantID: tenant, actor: caller.subject, action: "voucher.redeem", table: "vouchers", targetID: voucher.id,
                    before: ["status": result.0, "redeemedStationId": nil],
                    after: ["status": "redeemed", "redeemedStationId": station.uuidString.lowercased()],
                    requestID: context.requestID, logger: context.logger)
                try await self.service.environment.jobs.enqueue(
                    VouchersService.notifyJob, payload: RedeemedNotice(voucherId: voucher.id, tenantId: tenant.description, msisdn: voucher.msisdn, code: voucher.code,
                                                                      amount: voucher.amount, currency: voucher.currency, stationId: station.uuidString.lowercased()),
                    on: connection, maxAttempts: 60, requestID: context.requestID, logger: context.logger)
                let phone = (try? PhoneNumber(parsing: voucher.msisdn))?.masked ?? voucher.msisdn
                return JSONResponse(.ok, Redemption(
                    voucherId: voucher.id, amount: voucher.amount, currency: voucher.currency, maskedMsisdn: phone, redeemedAt: voucher.redeemedAt ?? Date(),
                    stationId: station.uuidString.lowercased(), code: voucher.code))
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

    /// Says why the conditional update matched nothing.
    func whyNot(code: String, tenant: TenantID, station: UUID, connection: PostgresConnection, logger: Logger) async throws -> APIError {
        guard let (status, expired, scope) = try await connection.query(
            """
            SELECT status, expires_at IS NOT NULL AND expires_at <= now(), station_scope FROM vouchers.vouchers
            WHERE tenant_id = \(tenant.rawValue) AND code = \(code)
            """, logger: logger
        ).first(as: (String, Bool, UUID?).self) else {
            return APIError.notFound("unknown_code", "No voucher has this code.")
        }
        switch status {
        case "redeemed": return APIError.conflict("already_redeemed", "This voucher was already redeemed.")
        case "void": return APIError.conflict("void", "This voucher was cancelled.")
        case "expired": return APIError.conflict("expired", "This voucher has expired.")
        default: break
        }
        if expired { return APIError.conflict("expired", "This voucher has expired.") }
        let active = try await connection.query(
            "SELECT status = 'active' FROM vouchers.stations WHERE id = \(station) AND tenant_id = \(tenant.rawValue)", logger: logger
        ).first(as: Bool.self)
        if active != true { return APIError.forbidden("station_inactive", "This station cannot redeem vouchers.") }
        if let scope, scope != station { return APIError.forbidden("wrong_station", "This voucher is only valid at another station.") }
        return APIError.conflict("not_redeemable", "This voucher cannot be redeemed now.")
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
                voucherId: $0.id, amount: $0.amount, currency: $0.currency, maskedMsisdn: (try? PhoneNumber(parsing: $0.msisdn))?.masked ?? $0.msisdn,
                redeemedAt: $0.redeemedAt ?? Date(), stationId: $0.redeemedStationId ?? "", code: $0.code)
        }
        return JSONResponse(.ok, Page(items: items, nextCursor: nil))
    }
}

struct RedeemedNotice: Codable, Sendable {
    var voucherId: String
    var tenantId: String
    var msisdn: String
    var code: String
    var amount: String
    var currency: String
    var stationId: String
}
