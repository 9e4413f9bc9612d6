import Contracts
import Foundation
import Hummingbird
import Models
import ServiceKit

/// `/v1/campaigns`: drafts, their targets (CSV streamed in, or JSON), the moves of the machine
/// (schedule/start/pause/resume/cancel), progress and the results as CSV. Sending is the dispatcher's.
struct CampaignsController: Sendable {
    let campaigns: CampaignsStore
    let templates: TemplatesStore
    let channels: ChannelsStore
    /// The opt-out list's keyed hash, to mark opted-out numbers at import.
    let policy: PolicyStore

    func addRoutes(to router: Router<AppRequestContext>) {
        router.on(MessagingAPI.listCampaigns, use: self.list)
        router.on(MessagingAPI.createCampaign, use: self.create)
        router.on(MessagingAPI.getCampaign, use: self.get)
        router.on(MessagingAPI.updateCampaign, use: self.update)
        router.on(MessagingAPI.importTargets, use: self.importTargets)
        router.on(MessagingAPI.listTargets, use: self.targets)
        router.on(MessagingAPI.scheduleCampaign, use: self.schedule)
        router.on(MessagingAPI.startCampaign) { request, context in try await self.move(.start, request, context) }
        router.on(MessagingAPI.pauseCampaign) { request, context in try await self.move(.pause, request, context) }
        router.on(MessagingAPI.resumeCampaign) { request, context in try await self.move(.resume, request, context) }
        router.on(MessagingAPI.cancelCampaign) { request, context in try await self.move(.cancel, request, context) }
        router.on(MessagingAPI.campaignProgress, use: self.progress)
        router.on(MessagingAPI.exportCampaign, use: self.export)
    }

    static func check(name: String?, metadata: CampaignMetadata?, voucher: CampaignVoucher?, validUntil: Date?, now: Date) throws {
        try TextRules.check(name, field: "name", length: 1...200)
        if let problem = metadata?.problem { throw APIError.unprocessable("invalid_metadata", problem) }
        if let voucher {
            let parts = voucher.amount.split(separator: ".", omittingEmptySubsequences: false)
            guard (1...2).contains(parts.count), parts.allSatisfy({ !$0.isEmpty && $0.count <= 15 && TextRules.isASCIIDigits($0) }),
                voucher.amount.first != "0" || voucher.amount.hasPrefix("0.")
            else { throw APIError.unprocessable("invalid_amount", "voucher.amount is a positive decimal such as 5000 or 12.50.") }
            if let currency = voucher.currency, currency.count != 3 || !currency.allSatisfy({ $0.isASCII && $0.isUppercase }) {
                throw APIError.unprocessable("invalid_currency", "voucher.currency is an ISO code such as RWF.")
            }
            if let expiry = voucher.expiresAt, expiry <= now {
                throw APIError.unprocessable("invalid_expiry", "voucher.expiresAt is in the future.")
            }
        }
        if let validUntil, validUntil <= now { throw APIError.unprocessable("invalid_validity", "validUntil is in the future.") }
    }

    /// The template, checked to belong to the campaign's channel.
    func template(_ id: TemplateID, channel: ChannelID, tenant: TenantID, context: AppRequestContext) async throws -> TemplateDTO {
        guard let template = try await self.templates.find(id, tenant: tenant, logger: context.logger) else {
            throw APIError.unprocessable("template_not_found", "No such template in this tenant.")
        }
        guard template.channelId == channel else {
            throw APIError.unprocessable("template_channel", "The template belongs to another channel than the campaign's.")
        }
        return template
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (caller, tenant) = try context.requireTenantCaller()
        let body = try await request.decodeJSON(NewCampaign.self, context: context)
        try Self.check(name: body.name, metadata: body.metadata, voucher: body.voucher, validUntil: body.validUntil, now: Date())
        switch (body.type, body.voucher) {
        case (.voucher, nil): throw APIError.unprocessable("voucher_required", "A voucher campaign says what voucher each target gets (voucher.amount).")
        case (.promo, .some): throw APIError.unprocessable("voucher_not_allowed", "Only a voucher campaign issues vouchers.")
        default: break
        }
        guard let channel = try await self.channels.find(body.channelId, tenant: tenant, logger: context.logger) else { throw ChannelsController.notFound }
        guard channel.kind.usesPhoneNumbers || channel.kind == .sandbox else {
            throw APIError.unprocessable("unsupported_channel", "Campaigns go to phone numbers: WhatsApp, SMS or the sandbox.")
        }
        _ = try await self.template(body.templateId, channel: channel.id, tenant: tenant, context: context)
        let campaign = try await self.campaigns.create(body, tenant: tenant, actor: caller.subject, requestID: context.requestID, logger: context.logger)
        return try JSONResponse(.created, campaign).response(from: request, context: context)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<CampaignDTO>> {
        let (_, tenant) = try context.requireTenantCaller()
        let page = try request.page(cursorValues: 2)
        let items = try await self.campaigns.list(
            tenant: tenant, status: try request.queryValues.value("status", as: CampaignStatus.self),
            after: try page.cursor.map { (try $0.int64(0), try $0.uuid(1)) }, limit: page.limit, logger: context.logger)
        return JSONResponse(.ok, Page(items: items, nextCursor: page.next(items) { [String($0.createdAt.micros), $0.id.description] }))
    }

    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<CampaignDTO> {
        let (_, tenant) = try context.requireTenantCaller()
        guard let campaign = try await self.campaigns.find(try context.idParameter(as: CampaignID.self), tenant: tenant, logger: context.logger) else {
            throw CampaignsStore.notFound
        }
        return JSONResponse(.ok, campaign)
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<CampaignDTO> {
        let (caller, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter(as: CampaignID.self)
        let body = try await request.decodeJSON(UpdateCampaign.self, context: context)
        try Self.check(name: body.name, metadata: body.metadata, voucher: body.voucher, validUntil: body.validUntil, now: Date())
        let campaign = try await self.campaigns.update(id, tenant: tenant, actor: caller.subject, requestID: context.requestID, logger: context.logger) {
            campaign in
            if let name = body.name { campaign.name = name }
            if let template = body.templateId {
                campaign.templateId = try await self.template(template, channel: campaign.channelId, tenant: tenant, context: context).id
            }
            if let validUntil = body.validUntil { campaign.validUntil = validUntil }
            if let metadata = body.metadata { campaign.metadata = metadata }
            if let voucher = body.voucher {
                guard campaign.type == .voucher else { throw APIError.unprocessable("voucher_not_allowed", "Only a voucher campaign issues vouchers.") }
                campaign.voucher = voucher
            }
        }
        return JSONResponse(.ok, campaign)
    }

    @Sendable func schedule(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<CampaignDTO> {
        let body = try await request.decodeJSON(CampaignSchedule.self, context: context)
        guard body.startAt > Date().addingTimeInterval(-60) else { throw APIError.unprocessable("invalid_start", "startAt is now or later.") }
        return try await self.move(.schedule, request, context, startAt: body.startAt)
    }

    /// A move of the machine: refused moves are 409 `invalid_transition`; a start (or schedule) needs targets and an
    /// approved template on an active channel.
    func move(_ action: CampaignStatus.Action, _ request: Request, _ context: AppRequestContext, startAt: Date? = nil) async throws
        -> JSONResponse<CampaignDTO>
    {
        let (caller, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter(as: CampaignID.self)
        let campaign = try await self.campaigns.transition(
            id, tenant: tenant, action: action, startAt: startAt, actor: caller.subject, requestID: context.requestID, logger: context.logger
        ) { campaign, waiting in
            guard action == .start || action == .schedule || action == .resume else { return }
            if action != .resume, waiting == 0 { throw APIError.unprocessable("no_targets", "The campaign has no target to send to: import some first.") }
            let template = try await self.template(campaign.templateId, channel: campaign.channelId, tenant: tenant, context: context)
            guard template.status == .approved else {
                throw APIError.unprocessable(
                    "template_not_approved", "The template \(template.name) is \(template.status.rawValue) at Meta; a campaign sends approved templates only.")
            }
            guard let channel = try await self.channels.find(campaign.channelId, tenant: tenant, logger: context.logger), channel.dto.status == .active else {
                throw APIError.unprocessable("channel_disabled", "The campaign's channel is disabled.")
            }
        }
        return JSONResponse(.ok, try await self.campaigns.find(campaign.id, tenant: tenant, logger: context.logger) ?? campaign)
    }

    @Sendable func progress(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<CampaignProgress> {
        let (_, tenant) = try context.requireTenantCaller()
        guard let progress = try await self.campaigns.progress(try context.idParameter(as: CampaignID.self), tenant: tenant, logger: context.logger) else {
            throw CampaignsStore.notFound
        }
        return JSONResponse(.ok, progress)
    }

    @Sendable func targets(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<TargetDTO>> {
        let (_, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter(as: CampaignID.self)
        guard try await self.campaigns.status(of: id, tenant: tenant, logger: context.logger) != nil else { throw CampaignsStore.notFound }
        let page = try request.page(cursorValues: 1)
        let items = try await self.campaigns.targets(
            id, tenant: tenant, status: try request.queryValues.value("status", as: TargetStatus.self), after: try page.cursor?.int64(0),
            limit: page.limit, logger: context.logger)
        return JSONResponse(.ok, Page(items: items, nextCursor: page.next(items) { [String($0.id)] }))
    }

    @Sendable func export(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (_, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter(as: CampaignID.self)
        guard try await self.campaigns.status(of: id, tenant: tenant, logger: context.logger) != nil else { throw CampaignsStore.notFound }
        let rows = try await self.campaigns.exportRows(id, tenant: tenant, logger: context.logger)
        return Request.csv(CSVField.document(rows), filename: "campaign-\(id).csv")
    }

    static let batchSize = 1000
    static let maxJSONTargets = 10_000

    /// Targets from a CSV (streamed: parsed as it arrives, stored in batches of 1,000, in one transaction) or JSON.
    /// `?dryRun=true` answers the same report and stores nothing.
    @Sendable func importTargets(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<ImportReport> {
        let (caller, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter(as: CampaignID.self)
        let dryRun = try request.queryValues.bool("dryRun") ?? false
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        let csv = contentType.hasPrefix("text/csv")
        guard csv || contentType.hasPrefix("application/json") else {
            throw APIError(.unsupportedMediaType, code: "unsupported_media_type", message: "Send the targets as text/csv or application/json.")
        }
        guard let campaign = try await self.campaigns.find(id, tenant: tenant, logger: context.logger) else { throw CampaignsStore.notFound }
        let template = try await self.template(campaign.templateId, channel: campaign.channelId, tenant: tenant, context: context)
        // a voucher campaign fills {{1}} and {{2}} itself (the code, the amount)
        let filled = campaign.type == .voucher ? min(2, template.variableCount) : 0
        var importer = TargetImporter(needed: template.variableCount - filled, first: filled + 1, dryRun: dryRun)
        let policy = self.policy
        let report = try await self.campaigns.importing(id, tenant: tenant, actor: caller.subject, requestID: context.requestID, logger: context.logger) {
            session in
            var batch: [TargetCandidate] = []
            func flush() async throws {
                guard !batch.isEmpty else { return }
                let hashes = batch.map { policy.hash($0.msisdn).readableBytesView.hex }
                let listed = try await session.optedOut(hashes: hashes)
                let optedOut = Set(zip(batch, hashes).filter { listed.contains($0.1) }.map(\.0.msisdn))
                let duplicates: Set<String>
                if dryRun {
                    duplicates = try await session.existing(batch.map(\.msisdn))
                } else {
                    let stored = try await session.insert(batch, optedOut: optedOut)
                    duplicates = Set(batch.map(\.msisdn)).subtracting(stored)
                }
                importer.settle(batch, optedOut: optedOut, duplicates: duplicates)
                batch.removeAll(keepingCapacity: true)
            }
            if csv {
                var stream = CSVStream()
                var sawHeader = false
                func take(_ records: [CSVStream.Record]) async throws {
                    for record in records {
                        if !sawHeader {
                            try importer.header(record.fields)
                            sawHeader = true
                        } else if let target = importer.row(record.fields) {
                            batch.append(target)
                            if batch.count >= Self.batchSize { try await flush() }
                        }
                    }
                }
                do {
                    for try await buffer in request.body {
                        try await take(try stream.feed(buffer.readableBytesView))
                    }
                    try await take(try stream.finish())
                } catch let error as CSVReader.Malformed {
                    throw APIError.unprocessable("invalid_csv", "The CSV is malformed at line \(error.line): \(error.reason). Nothing was imported.")
                }
                guard sawHeader else { throw APIError.unprocessable("invalid_csv", "The CSV is empty: a header row names the columns.") }
            } else {
                let body = try await request.decodeJSON(CampaignTargets.self, context: context)
                guard body.targets.count <= Self.maxJSONTargets else {
                    throw APIError.unprocessable("too_many_targets", "At most \(Self.maxJSONTargets) targets per JSON request; send a CSV for more.")
                }
                for target in body.targets {
                    if let candidate = importer.target(target) {
                        batch.append(candidate)
                        if batch.count >= Self.batchSize { try await flush() }
                    }
                }
            }
            try await flush()
            return importer.report
        }
        return JSONResponse(.ok, report)
    }
}
