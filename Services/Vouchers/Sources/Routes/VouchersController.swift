import Contracts
import Foundation
import Hummingbird
import Models
import ServiceKit

/// `POST /v1/vouchers`, `POST /v1/vouchers/bulk`, `GET /v1/vouchers`, `GET /v1/vouchers/{id}`, `…/{id}/events`,
/// `POST /v1/vouchers/{id}/transitions`, `GET /v1/vouchers/code-space`.
struct VouchersController: Sendable {
    let vouchers: VouchersStore
    let stations: StationsStore
    let idempotency: Idempotency
    let jobs: JobQueue
    let rules: VoucherRules
    let links: ImageLinks
    let tenants: Tenants

    func addRoutes(to router: Router<AppRequestContext>) {
        router.on(VouchersAPI.createVoucher, use: self.create)
        router.on(VouchersAPI.bulkIssue, use: self.bulk)
        router.on(VouchersAPI.validateBulk, use: self.validateBulk)
        router.on(VouchersAPI.transition, use: self.transition)
        router.on(VouchersAPI.listVouchers, use: self.list)
        router.on(VouchersAPI.codeSpace, use: self.codeSpace)
        router.on(VouchersAPI.getVoucher, use: self.get)
        router.on(VouchersAPI.voucherEvents, use: self.events)
    }

    /// The currency named, or the tenant's own.
    func currency(_ code: String?, tenant: TenantID, context: AppRequestContext) async throws -> Currency {
        var named = code
        if named == nil { named = try await self.tenants.tenant(tenant, logger: context.logger)?.currency }
        guard let code = named else { throw APIError.notFound("tenant_not_found", "No tenant has this id.") }
        guard let currency = Currency(code: code) else { throw APIError.unprocessable("unknown_currency", "Unknown currency \(code).") }
        return currency
    }

    /// A station scope must be a station of the tenant.
    func scope(_ text: String?, tenant: TenantID, context: AppRequestContext) async throws -> StationID? {
        guard let id = try BodyValues.id(text, field: "stationScope", as: StationID.self) else { return nil }
        guard try await self.stations.station(id, tenant: tenant, logger: context.logger) != nil else {
            throw APIError.unprocessable("unknown_station", "stationScope is not a station of this tenant.")
        }
        return id
    }

    static func metadata(_ value: JSONValue?) throws -> JSONValue {
        let metadata = value ?? .object([:])
        guard case .object = metadata else { throw APIError.unprocessable("invalid_metadata", "metadata must be a JSON object.") }
        guard let encoded = try? JSONEncoder.sokoni.encode(metadata), encoded.count <= 8192 else {
            throw APIError.unprocessable("invalid_metadata", "metadata may be at most 8 KB of JSON.")
        }
        return metadata
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (caller, tenant) = try context.requireTenantCaller()
        let body = try await request.decodeJSON(CreateVoucher.self, context: context)
        let money = try VoucherRules.money(body.amount, currency: try await self.currency(body.currency, tenant: tenant, context: context))
        let msisdn = try VoucherRules.phone(body.msisdn)
        let scope = try await self.scope(body.stationScope, tenant: tenant, context: context)
        let campaign = try BodyValues.id(body.campaignId, field: "campaignId", as: CampaignID.self)
        let expiresAt = try self.rules.expiry(body.expiresAt)
        let metadata = try Self.metadata(body.metadata)
        return try await self.idempotency.write(request, context: context, postgres: self.vouchers.postgres) { connection in
            try await VouchersStore.setActor(connection, actor: caller.subject, logger: context.logger)
            let (voucher, _) = try await self.vouchers.insert(
                tenant: tenant, amount: money, msisdn: msisdn, stationScope: scope, campaign: campaign, recipientKey: nil, expiresAt: expiresAt,
                createdBy: caller.subject, metadata: metadata, on: connection, requestID: context.requestID, logger: context.logger)
            try await self.jobs.enqueue(
                VoucherJobs.render, payload: VoucherJobs.Render(voucherId: VoucherID(voucher.id)!), on: connection, requestID: context.requestID,
                logger: context.logger)
            return JSONResponse(.created, self.links.adding(to: voucher))
        }
    }

    /// A bulk issue checked whole: the recipients ready to insert, or what is wrong with each bad one.
    struct CheckedBulk: Sendable {
        var campaign: CampaignID
        var currency: Currency
        var recipients: [VouchersStore.Recipient]
        var errors: [BulkRecipientError]
    }

    /// Checks the request's own fields (a mistake there is thrown) and then every recipient, collecting each
    /// recipient's mistakes instead of stopping at the first, so a whole file can be corrected at once.
    func check(_ body: BulkIssue, tenant: TenantID, context: AppRequestContext) async throws -> CheckedBulk {
        guard (1...10_000).contains(body.recipients.count) else {
            throw APIError.unprocessable("too_many_recipients", "A bulk issue has 1 to 10,000 recipients.")
        }
        guard let campaign = try BodyValues.id(body.campaignId, field: "campaignId", as: CampaignID.self) else {
            throw APIError.unprocessable("invalid_campaignId", "campaignId is required.")
        }
        let base = try VoucherRules.money(body.amount, currency: try await self.currency(body.currency, tenant: tenant, context: context))
        let baseScope = try await self.scope(body.stationScope, tenant: tenant, context: context)
        let baseExpiry = try self.rules.expiry(body.expiresAt)
        // each station named once is looked up once
        var stations: [StationID: Bool] = [:]
        var seenKeys: Set<String> = []
        var errors: [BulkRecipientError] = []
        var recipients: [VouchersStore.Recipient] = []
        for (index, recipient) in body.recipients.enumerated() {
            func field<T>(_ name: String, _ check: () async throws -> T) async throws -> T? {
                do { return try await check() } catch let error as APIError where error.status.code < 500 {
                    errors.append(BulkRecipientError(index: index, field: name, code: error.code, message: error.message))
                    return nil
                }
            }
            let key = try await field("recipientKey") { () throws -> String in
                try TextRules.check(recipient.recipientKey, field: "recipientKey", length: 1...200)
                guard seenKeys.insert(recipient.recipientKey).inserted else {
                    throw APIError.unprocessable("duplicate_recipient", "This recipient key appears earlier in the list.")
                }
                return recipient.recipientKey
            }
            let msisdn = try await field("msisdn") { try VoucherRules.phone(recipient.msisdn) }
            let amount = try await field("amount") { try recipient.amount.map { try VoucherRules.money($0, currency: base.currency) } ?? base }
            let metadata = try await field("metadata") { try Self.metadata(recipient.metadata) }
            let expiresAt = try await field("expiresAt") { try recipient.expiresAt.map { try self.rules.expiry($0) } ?? baseExpiry }
            let scope = try await field("stationScope") { () async throws -> StationID? in
                guard let id = try BodyValues.id(recipient.stationScope, field: "stationScope", as: StationID.self) else { return baseScope }
                if stations[id] == nil { stations[id] = try await self.stations.station(id, tenant: tenant, logger: context.logger) != nil }
                guard stations[id] == true else { throw APIError.unprocessable("unknown_station", "stationScope is not a station of this tenant.") }
                return id
            }
            if let key, let msisdn, let amount, let metadata, let expiresAt, let scope {
                recipients.append(
                    VouchersStore.Recipient(key: key, msisdn: msisdn, amount: amount, stationScope: scope, expiresAt: expiresAt, metadata: metadata))
            }
        }
        return CheckedBulk(campaign: campaign, currency: base.currency, recipients: recipients, errors: errors)
    }

    /// `POST /v1/vouchers/bulk/validate`: what `POST /v1/vouchers/bulk` would refuse, row by row; issues nothing.
    @Sendable func validateBulk(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<BulkValidation> {
        let (_, tenant) = try context.requireTenantCaller()
        let body = try await request.decodeJSON(BulkIssue.self, context: context)
        let checked = try await self.check(body, tenant: tenant, context: context)
        return JSONResponse(.ok, BulkValidation(valid: checked.errors.isEmpty, count: body.recipients.count, errors: checked.errors))
    }

    /// Up to 10,000 recipients of a campaign; one voucher per recipient key, so a retry issues nothing twice. One bad
    /// recipient refuses the whole request: nothing is issued until the list is right.
    @Sendable func bulk(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (caller, tenant) = try context.requireTenantCaller()
        let body = try await request.decodeJSON(BulkIssue.self, context: context)
        let checked = try await self.check(body, tenant: tenant, context: context)
        if let first = checked.errors.first {
            throw APIError.unprocessable(
                "invalid_recipients",
                "\(checked.errors.count) problem(s) in the recipients; nothing was issued. The first: recipient \(first.index) "
                    + "(\(first.field)): \(first.message) POST /v1/vouchers/bulk/validate lists them all.")
        }
        let campaign = checked.campaign
        return try await self.idempotency.write(request, context: context, postgres: self.vouchers.postgres) { connection in
            try await VouchersStore.setActor(
                connection, actor: caller.subject, context: .object(["campaignId": .string(campaign.description)]), logger: context.logger)
            let (vouchers, created) = try await self.vouchers.insertMany(
                tenant: tenant, recipients: checked.recipients, currency: checked.currency, campaign: campaign, createdBy: caller.subject,
                on: connection, requestID: context.requestID, logger: context.logger)
            try await self.jobs.enqueueMany(
                VoucherJobs.render, payloads: created.map { VoucherJobs.Render(voucherId: VoucherID($0.id)!) }, on: connection,
                requestID: context.requestID, logger: context.logger)
            return JSONResponse(
                .ok, BulkIssueResult(created: created.count, existing: vouchers.count - created.count, vouchers: vouchers.map { self.links.adding(to: $0) }))
        }
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<VoucherDTO>> {
        let (caller, tenant) = try context.requireTenantCaller()
        let query = request.queryValues
        var filter = VouchersStore.ListFilter(
            status: try query.value("status", as: VoucherStatus.self), station: try query.id("stationId", as: StationID.self),
            campaign: try query.id("campaignId", as: CampaignID.self), code: try query.string("code", maxLength: 10)?.uppercased(),
            msisdn: try query.string("msisdn", maxLength: 20).map { text in
                guard let phone = try? PhoneNumber(parsing: text) else { throw APIError.badRequest("invalid_msisdn", "msisdn is an E.164 number.") }
                return phone.e164
            })
        // a station operator lists what was redeemed at their own station, nothing else: vouchers merely scoped to it
        // are live codes they could redeem themselves
        if caller.isStationOperator {
            filter.station = caller.stationID ?? StationID()
            filter.onlyRedeemedHere = true
        }
        let page = try request.page(maximum: 500, cursorValues: 2)
        let after = try page.cursor.map { (issuedAtMicros: try $0.int64(0), id: try $0.uuid(1)) }
        let items = try await self.vouchers.list(tenant: tenant, filter, after: after, limit: page.limit, logger: context.logger)
        return JSONResponse(
            .ok, Page(items: items.map { self.links.adding(to: $0) }, nextCursor: page.next(items) { [String($0.issuedAt.micros), $0.id] }))
    }

    /// The voucher in the caller's tenant; a station operator sees only what was redeemed at their station.
    func visibleVoucher(_ context: AppRequestContext) async throws -> VoucherDTO {
        let (caller, tenant) = try context.requireTenantCaller()
        guard let (voucher, _) = try await self.vouchers.voucher(try context.idParameter(as: VoucherID.self), tenant: tenant, logger: context.logger),
            !caller.isStationOperator || (caller.stationID != nil && voucher.redeemedStationId == caller.stationID?.description)
        else { throw APIError.notFound("voucher_not_found", "No such voucher.") }
        return voucher
    }

    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<VoucherDTO> {
        JSONResponse(.ok, self.links.adding(to: try await self.visibleVoucher(context)))
    }

    @Sendable func events(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<VoucherEventDTO>> {
        let voucher = try await self.visibleVoucher(context)
        return JSONResponse(.ok, Page(items: try await self.vouchers.events(VoucherID(voucher.id)!, logger: context.logger), nextCursor: nil))
    }

    /// `sent` or `void` by hand; the database refuses any move its state machine does not allow (409).
    @Sendable func transition(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<VoucherDTO> {
        let (caller, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter(as: VoucherID.self)
        let body = try await request.decodeJSON(Transition.self, context: context)
        try TextRules.check(body.reason, field: "reason", length: 1...500)
        guard
            let updated = try await self.vouchers.transition(
                id, tenant: tenant, to: body.to, actor: caller.subject, reason: body.reason, requestID: context.requestID, logger: context.logger)
        else { throw APIError.notFound("voucher_not_found", "No such voucher.") }
        return JSONResponse(.ok, self.links.adding(to: updated))
    }

    /// How full the code space is: the tenant's own share for tenant users, the whole platform for platform staff.
    @Sendable func codeSpace(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<CodeSpace> {
        let (caller, tenant) = try context.requireTenantCaller()
        let used =
            caller.isPlatformStaff
            ? try await self.vouchers.codesUsed(logger: context.logger) : try await self.vouchers.codesUsed(tenant: tenant, logger: context.logger)
        return JSONResponse(.ok, CodeSpace(used: used, capacity: VoucherCode.capacity, fractionUsed: Double(used) / Double(VoucherCode.capacity)))
    }
}
