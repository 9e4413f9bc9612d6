import Foundation
import Hummingbird
import Logging
import Models
import PostgresNIO
import ServiceKit

/// `POST /v1/vouchers`, `POST /v1/vouchers/bulk`, `GET /v1/vouchers`, `GET /v1/vouchers/{id}`, `…/{id}/events`,
/// `POST /v1/vouchers/{id}/transitions`, `GET /v1/vouchers/code-space`, and the signed image links.
struct VouchersController: Sendable {
    let service: VouchersService
    var store: VouchersStore { self.service.store }
    var environment: ServiceEnvironment { self.service.environment }

    func addRoutes(to router: Router<AppRequestContext>) {
        router.group("v1/vouchers").add(middleware: RequireRoles(VouchersService.managers))
            .post(use: self.create).post("{id}/transitions", use: self.transition)
        router.group("v1/vouchers").add(middleware: RequireRoles(VouchersService.managers.union([.service])))
            .post("bulk", use: self.bulk)
        router.group("v1/vouchers").add(middleware: RequireRoles(VouchersService.readers.union([.stationOperator, .service])))
            .get(use: self.list).get("code-space", use: self.codeSpace).get("{id}", use: self.get).get("{id}/events", use: self.events)
        router.get("v1/voucher-images/{id}/{kind}", use: self.image)
    }

    /// The amount in the voucher's currency: given, or the tenant's own.
    func money(_ amount: String, currency: String?, tenant: TenantID, context: AppRequestContext) async throws -> Money {
        let code: String
        if let currency { code = currency } else { code = try await self.service.tenantCurrency(tenant, requestID: context.requestID) }
        guard let resolved = Currency(code: code) else { throw APIError.unprocessable("unknown_currency", "Unknown currency \(code).") }
        let money: Money
        do { money = try Money(decimal: amount, currency: resolved) } catch { throw APIError.unprocessable("invalid_amount", error.description) }
        guard money.minorUnits > 0 else { throw APIError.unprocessable("invalid_amount", "The amount must be positive.") }
        return money
    }

    func scope(_ text: String?, tenant: TenantID, context: AppRequestContext) async throws -> UUID? {
        guard let text else { return nil }
        guard let id = UUID(uuidString: text), try await self.store.station(id, tenant: tenant, logger: context.logger) != nil else {
            throw APIError.unprocessable("unknown_station", "stationScope is not a station of this tenant.")
        }
        return id
    }

    static func phone(_ text: String) throws -> PhoneNumber {
        do { return try PhoneNumber(parsing: text) } catch { throw APIError.unprocessable("invalid_msisdn", error.description) }
    }

    static func uuid(_ text: String?, _ field: String) throws -> UUID? {
        guard let text else { return nil }
        guard let id = UUID(uuidString: text) else { throw APIError.unprocessable("invalid_\(field)", "\(field) must be a UUID.") }
        return id
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let tenant = try caller.requireTenant()
        let body = try await request.decodeJSON(CreateVoucher.self, context: context)
        let money = try await self.money(body.amount, currency: body.currency, tenant: tenant, context: context)
        let msisdn = try Self.phone(body.msisdn)
        let scope = try await self.scope(body.stationScope, tenant: tenant, context: context)
        let campaign = try Self.uuid(body.campaignId, "campaignId")
        if let expires = body.expiresAt, expires <= Date() { throw APIError.unprocessable("invalid_expiry", "expiresAt must be in the future.") }
        let expiresAt = body.expiresAt ?? self.service.defaultExpiry.map { Date().addingTimeInterval($0) }
        return try await self.environment.idempotency.run(request, context: context, postgres: self.store.postgres) { connection in
            try await VouchersStore.setActor(connection, actor: caller.subject, logger: context.logger)
            let (voucher, _) = try await self.store.insert(
                tenant: tenant, amount: money, msisdn: msisdn, stationScope: scope, campaign: campaign, recipientKey: nil, expiresAt: expiresAt,
                createdBy: caller.subject, metadata: body.metadata ?? .object([:]), on: connection, requestID: context.requestID, logger: context.logger)
            try await self.environment.jobs.enqueue(
                VouchersService.renderJob, payload: ["voucherId": voucher.id], on: connection, requestID: context.requestID, logger: context.logger)
            return JSONResponse(.created, self.service.withLinks(voucher))
        }
    }

    /// Up to 10,000 recipients of a campaign; one voucher per recipient key, so a retry issues nothing twice.
    @Sendable func bulk(_ request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let tenant = try caller.requireTenant()
        let body = try await request.decodeJSON(BulkIssue.self, context: context)
        guard (1...10_000).contains(body.recipients.count) else {
            throw APIError.unprocessable("too_many_recipients", "A bulk issue has 1 to 10,000 recipients.")
        }
        guard Set(body.recipients.map(\.recipientKey)).count == body.recipients.count, body.recipients.allSatisfy({ !$0.recipientKey.isEmpty }) else {
            throw APIError.unprocessable("duplicate_recipient", "Recipient keys must be present and unique.")
        }
        guard let campaign = try Self.uuid(body.campaignId, "campaignId") else { throw APIError.unprocessable("invalid_campaignId", "campaignId is required.") }
        let base = try await self.money(body.amount, currency: body.currency, tenant: tenant, context: context)
        if let expires = body.expiresAt, expires <= Date() { throw APIError.unprocessable("invalid_expiry", "expiresAt must be in the future.") }
        // validate everything before writing anything
        let recipients = try body.recipients.map { recipient in
            let amount = try recipient.amount.map { text in
                do { return try Money(decimal: text, currency: base.currency) } catch {
                    throw APIError.unprocessable("invalid_amount", "Recipient \(recipient.recipientKey): \((error as? MoneyError)?.description ?? "\(error)")")
                }
            }
            return (recipient, try Self.phone(recipient.msisdn), amount ?? base)
        }
        if let bad = recipients.first(where: { $0.2.minorUnits <= 0 }) {
            throw APIError.unprocessable("invalid_amount", "Recipient \(bad.0.recipientKey) has no positive amount.")
        }
        let scope = try await self.scope(body.stationScope, tenant: tenant, context: context)
        let expiresAt = body.expiresAt ?? self.service.defaultExpiry.map { Date().addingTimeInterval($0) }
        return try await self.environment.idempotency.run(request, context: context, postgres: self.store.postgres) { connection in
            try await VouchersStore.setActor(connection, actor: caller.subject, context: .object(["campaignId": .string(body.campaignId)]), logger: context.logger)
            let (vouchers, created) = try await self.store.insertMany(
                tenant: tenant, recipients: recipients.map { VouchersStore.Recipient(key: $0.0.recipientKey, msisdn: $0.1, amount: $0.2, metadata: $0.0.metadata ?? .object([:])) },
                currency: base.currency, stationScope: scope, campaign: campaign, expiresAt: expiresAt, createdBy: caller.subject, on: connection,
                requestID: context.requestID, logger: context.logger)
            try await self.environment.jobs.enqueueMany(
                VouchersService.renderJob, payloads: created.map { ["voucherId": $0.id] }, on: connection, requestID: context.requestID,
                logger: context.logger)
            return JSONResponse(.ok, BulkIssueResult(created: created.count, existing: vouchers.count - created.count, vouchers: vouchers.map(self.service.withLinks)))
        }
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<VoucherDTO>> {
        let caller = try context.requireCaller()
        let tenant = try caller.requireTenant()
        let query = request.uri.queryParameters
        let status = try query["status"].map { text -> String in
            guard VoucherStatus(rawValue: String(text)) != nil else { throw APIError.badRequest("invalid_status", "Unknown status \(text).") }
            return String(text)
        }
        var station = try Self.uuid(query["stationId"].map(String.init), "stationId")
        // a station operator lists what was redeemed at their own station, nothing else: vouchers merely scoped to
        // it are live codes they could redeem themselves
        let onlyRedeemedHere = caller.roles == [.stationOperator]
        if onlyRedeemedHere { station = caller.stationID?.rawValue ?? UUID() }
        let campaign = try Self.uuid(query["campaignId"].map(String.init), "campaignId")
        let limit = min(max(Int(query["limit"] ?? "") ?? 50, 1), 500)
        var after: (Int64, UUID)?
        if let cursor = query["cursor"] {
            let parts = cursor.split(separator: "_")
            guard parts.count == 2, let micros = Int64(parts[0]), let id = UUID(uuidString: String(parts[1])) else {
                throw APIError.badRequest("invalid_cursor", "The cursor is not one this API gave out.")
            }
            after = (micros, id)
        }
        let rows = try await self.store.postgres.query(
            """
            SELECT \(unescaped: VouchersStore.voucherColumns) FROM vouchers.vouchers
            WHERE tenant_id = \(tenant.rawValue) AND (\(status)::text IS NULL OR status = \(status))
              AND (\(station)::uuid IS NULL OR redeemed_station_id = \(station) OR (NOT \(onlyRedeemedHere) AND station_scope = \(station)))
              AND (\(campaign)::uuid IS NULL OR campaign_id = \(campaign))
              AND (\(after?.0)::int8 IS NULL OR ((extract(epoch FROM issued_at) * 1000000)::int8, id) > (\(after?.0), \(after?.1)))
            ORDER BY issued_at, id LIMIT \(limit)
            """, logger: context.logger
        ).all(as: VouchersStore.VoucherRow.self)
        let items = rows.map { self.service.withLinks(VouchersStore.voucher($0)) }
        let next = rows.count == limit ? rows.last.map { "\(Int64(($0.9.timeIntervalSince1970 * 1e6).rounded()))_\($0.0.uuidString.lowercased())" } : nil
        return JSONResponse(.ok, Page(items: items, nextCursor: next))
    }

    func visibleVoucher(_ context: AppRequestContext) async throws -> (VoucherDTO, TenantID) {
        let caller = try context.requireCaller()
        guard let found = try await self.store.voucher(try context.uuidParameter(), tenant: try caller.requireTenant(), logger: context.logger) else {
            throw APIError.notFound("voucher_not_found", "No such voucher.")
        }
        if caller.roles == [.stationOperator], found.0.redeemedStationId != caller.stationID?.description {
            throw APIError.notFound("voucher_not_found", "No such voucher.")
        }
        return found
    }

    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<VoucherDTO> {
        JSONResponse(.ok, self.service.withLinks(try await self.visibleVoucher(context).0))
    }

    @Sendable func events(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<VoucherEventDTO>> {
        _ = try await self.visibleVoucher(context)
        let rows = try await self.store.postgres.query(
            """
            SELECT id, event_type, actor, station_id, context::text, created_at FROM vouchers.voucher_events
            WHERE voucher_id = \(try context.uuidParameter()) ORDER BY created_at, id
            """, logger: context.logger
        ).all(as: (Int64, String, String?, UUID?, String, Date).self)
        let items = rows.map {
            VoucherEventDTO(
                id: $0.0, eventType: $0.1, actor: $0.2, stationId: $0.3?.uuidString.lowercased(),
                context: (try? JSONDecoder.sokoni.decode(JSONValue.self, from: Data($0.4.utf8))) ?? .object([:]), createdAt: $0.5)
        }
        return JSONResponse(.ok, Page(items: items, nextCursor: nil))
    }

    /// `sent` or `void` by hand; the database refuses any move its state machine does not allow (409).
    @Sendable func transition(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<VoucherDTO> {
        let caller = try context.requireCaller()
        let tenant = try caller.requireTenant()
        let id = try context.uuidParameter()
        let body = try await request.decodeJSON(Transition.self, context: context)
        guard [.sent, .void].contains(body.to) else {
            throw APIError.unprocessable("invalid_transition", "Only sent and void are set by hand; redemption and expiry have their own paths.")
        }
        let updated = try await self.service.transition(
            id, tenant: tenant, to: body.to, actor: caller.subject, reason: body.reason, requestID: context.requestID, logger: context.logger)
        return JSONResponse(.ok, self.service.withLinks(updated))
    }

    @Sendable func codeSpace(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<CodeSpace> {
        let used = try await self.store.postgres.query("SELECT count(*)::int FROM vouchers.vouchers", logger: context.logger).first(as: Int.self) ?? 0
        return JSONResponse(.ok, CodeSpace(used: used, capacity: VoucherCode.capacity, fractionUsed: Double(used) / Double(VoucherCode.capacity)))
    }

    /// `GET /v1/voucher-images/{id}/qr.png|card.png?expires=&sig=`: public, the signature is the permission.
    @Sendable func image(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let idText = context.parameters.get("id"), let id = UUID(uuidString: idText), let kind = context.parameters.get("kind"),
            ["qr.png", "card.png"].contains(kind)
        else { throw APIError.notFound("image_not_found", "No such image.") }
        try self.service.signedURLs.verify(
            path: request.uri.path, expires: request.uri.queryParameters["expires"].map(String.init),
            signature: request.uri.queryParameters["sig"].map(String.init))
        let bytes = try await self.service.image(id, card: kind == "card.png", logger: context.logger)
        return Response(
            status: .ok, headers: [.contentType: "image/png", .cacheControl: "private, max-age=3600"],
            body: .init(byteBuffer: .init(bytes: bytes)))
    }
}
