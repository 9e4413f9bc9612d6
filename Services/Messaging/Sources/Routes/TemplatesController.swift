import Contracts
import Foundation
import Hummingbird
import Models
import ServiceKit

/// `GET/POST/PATCH /v1/templates`, their preview, and `POST /v1/templates/sync` (Meta's list and the number's tier).
/// A WhatsApp template is submitted to Meta and waits for its review; other channels' templates are approved when
/// written (no provider reviews them).
struct TemplatesController: Sendable {
    let templates: TemplatesStore
    let channels: ChannelsStore
    let meta: WhatsAppTemplates

    static let notFound = APIError.notFound("template_not_found", "No such template.")

    func addRoutes(to router: Router<AppRequestContext>) {
        router.on(MessagingAPI.listTemplates, use: self.list)
        router.on(MessagingAPI.createTemplate, use: self.create)
        router.on(MessagingAPI.syncTemplates, use: self.sync)
        router.on(MessagingAPI.getTemplate, use: self.get)
        router.on(MessagingAPI.updateTemplate, use: self.update)
        router.on(MessagingAPI.previewTemplate, use: self.preview)
    }

    static func check(header: TemplateHeader?, body: String?, footer: String?, buttons: [TemplateButton]?) throws {
        if let header {
            guard ["text", "image", "document"].contains(header.type) else {
                throw APIError.unprocessable("invalid_header", "header.type is text, image or document.")
            }
            if header.type == "text" {
                guard let text = header.text else { throw APIError.unprocessable("invalid_header", "A text header has text.") }
                try TextRules.check(text, field: "header.text", length: 1...60)
            } else if header.text != nil {
                throw APIError.unprocessable("invalid_header", "An image or document header takes its file at send time, not text.")
            }
        }
        if let body { try TextRules.check(body, field: "body", length: 1...1024) }
        try TextRules.check(footer, field: "footer", length: 1...60)
        guard (buttons ?? []).count <= 10 else { throw APIError.unprocessable("invalid_buttons", "At most 10 buttons.") }
        for button in buttons ?? [] {
            try TextRules.check(button.text, field: "buttons.text", length: 1...25)
            switch button.type {
            case "quick_reply":
                guard button.url == nil, button.phoneNumber == nil else {
                    throw APIError.unprocessable("invalid_buttons", "A quick reply button has text only.")
                }
            case "url":
                guard let link = button.url, link.count <= 2000, let url = URL(string: link), url.scheme == "https", url.host != nil else {
                    throw APIError.unprocessable("invalid_buttons", "A url button has an https url.")
                }
            case "phone_number":
                guard let phone = button.phoneNumber, (try? PhoneNumber(parsing: phone)) != nil else {
                    throw APIError.unprocessable("invalid_buttons", "A phone_number button has a phoneNumber in E.164.")
                }
            default:
                throw APIError.unprocessable("invalid_buttons", "A button's type is quick_reply, url or phone_number.")
            }
        }
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (caller, tenant) = try context.requireTenantCaller()
        let body = try await request.decodeJSON(NewTemplate.self, context: context)
        guard (1...512).contains(body.name.count), body.name.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") }) else {
            throw APIError.unprocessable("invalid_name", "name is lower-case letters, digits and _ (Meta's rule), such as march_promo.")
        }
        guard (2...15).contains(body.language.count), body.language.allSatisfy({ $0.isASCII && ($0.isLetter || $0 == "_") }) else {
            throw APIError.unprocessable("invalid_language", "language is a locale such as en, en_US or sw.")
        }
        try Self.check(header: body.header, body: body.body, footer: body.footer, buttons: body.buttons)
        let count = try TemplateText.variableCount(body.body)
        guard let channel = try await self.channels.find(body.channelId, tenant: tenant, logger: context.logger) else { throw ChannelsController.notFound }
        var status = TemplateStatus.approved
        var providerID: String?
        if channel.kind == .whatsapp {
            let created = try await self.submit(
                channel, name: body.name, language: body.language, category: body.category, header: body.header, body: body.body,
                footer: body.footer, buttons: body.buttons ?? [], context: context)
            providerID = created.id
            status = created.status
        }
        let template = try await self.templates.create(
            body, tenant: tenant, variableCount: count, status: status, providerID: providerID, actor: caller.subject, requestID: context.requestID,
            logger: context.logger)
        return try JSONResponse(.created, template).response(from: request, context: context)
    }

    /// Submits the template to Meta for review: Meta's id for it and the status it answered (`pending` unless it said).
    func submit(
        _ channel: StoredChannel, name: String, language: String, category: TemplateCategory, header: TemplateHeader?, body: String, footer: String?,
        buttons: [TemplateButton], context: AppRequestContext
    ) async throws -> (id: String?, status: TemplateStatus) {
        let (account, token) = try await self.account(channel, context: context)
        let created = try await Self.atMeta {
            try await self.meta.submit(
                WhatsAppTemplates.submission(
                    name: name, language: language, category: category, header: header, body: body, footer: footer, buttons: buttons),
                businessAccountID: account, token: token, logger: context.logger)
        }
        return (created.id, created.status.flatMap(TemplateStatus.init(meta:)) ?? .pending)
    }

    /// A call to Meta, its refusal a 422 with Meta's words and its silence a 502.
    static func atMeta<Result>(_ call: () async throws -> Result) async throws -> Result {
        do {
            return try await call()
        } catch let failure as WhatsAppTemplates.Failure {
            throw APIError.unprocessable("provider_refused", failure.description)
        } catch let error as ProviderUnreachable {
            throw APIError(.badGateway, code: "provider_unreachable", message: "Meta could not be reached: \(error.description)")
        }
    }

    /// The WhatsApp Business Account and token of a channel, for Meta's template calls.
    func account(_ channel: StoredChannel, context: AppRequestContext) async throws -> (String, String) {
        guard let account = channel.dto.config.businessAccountId,
            let token = try await self.channels.credentials(channel.id, logger: context.logger)?.accessToken
        else {
            throw APIError.unprocessable(
                "not_configured", "The WhatsApp channel needs its businessAccountId and access token for Meta's template calls.")
        }
        return (account, token)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<TemplateDTO>> {
        let (_, tenant) = try context.requireTenantCaller()
        let page = try request.page(cursorValues: 2)
        let query = request.queryValues
        let items = try await self.templates.list(
            tenant: tenant, channel: try query.id("channelId", as: ChannelID.self), status: try query.value("status", as: TemplateStatus.self),
            after: try page.cursor.map { (try $0.int64(0), try $0.uuid(1)) }, limit: page.limit, logger: context.logger)
        return JSONResponse(.ok, Page(items: items, nextCursor: page.next(items) { [String($0.createdAt.micros), $0.id.description] }))
    }

    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<TemplateDTO> {
        let (_, tenant) = try context.requireTenantCaller()
        guard let template = try await self.templates.find(try context.idParameter(as: TemplateID.self), tenant: tenant, logger: context.logger) else {
            throw Self.notFound
        }
        return JSONResponse(.ok, template)
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<TemplateDTO> {
        let (caller, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter(as: TemplateID.self)
        let body = try await request.decodeJSON(UpdateTemplate.self, context: context)
        try Self.check(header: body.header, body: body.body, footer: body.footer, buttons: body.buttons)
        guard let current = try await self.templates.find(id, tenant: tenant, logger: context.logger) else { throw Self.notFound }
        guard let channel = try await self.channels.find(current.channelId, tenant: tenant, logger: context.logger) else { throw Self.notFound }
        var changed = current
        if let category = body.category { changed.category = category }
        if let header = body.header { changed.header = header }
        if let text = body.body { changed.body = text }
        if let footer = body.footer { changed.footer = footer }
        if let buttons = body.buttons { changed.buttons = buttons }
        _ = try TemplateText.variableCount(changed.body)
        var status: TemplateStatus?
        if channel.kind == .whatsapp {
            // an edit is a new submission at Meta: reviewed again
            status = try await self.submit(
                channel, name: changed.name, language: changed.language, category: changed.category, header: changed.header, body: changed.body,
                footer: changed.footer, buttons: changed.buttons, context: context
            ).status
        }
        guard
            let template = try await self.templates.update(
                id, tenant: tenant, change: { $0 = changed }, status: status, actor: caller.subject, requestID: context.requestID, logger: context.logger)
        else { throw Self.notFound }
        return JSONResponse(.ok, template)
    }

    @Sendable func preview(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<TemplatePreviewResult> {
        let (_, tenant) = try context.requireTenantCaller()
        let body = try await request.decodeJSON(TemplatePreview.self, context: context)
        guard body.variables.count <= 100 else { throw APIError.unprocessable("too_many_variables", "At most 100 variables.") }
        for value in body.variables { try TextRules.check(value, field: "variables", length: 0...1024) }
        guard let template = try await self.templates.find(try context.idParameter(as: TemplateID.self), tenant: tenant, logger: context.logger) else {
            throw Self.notFound
        }
        do {
            return JSONResponse(
                .ok, TemplatePreviewResult(text: try TemplateText.render(template.body, variables: body.variables, count: template.variableCount)))
        } catch {
            throw APIError.unprocessable("missing_variable", "Variable {{\(error.number)}} has no value.")
        }
    }

    @Sendable func sync(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<TemplateSyncResult> {
        let (caller, tenant) = try context.requireTenantCaller()
        let body = try await request.decodeJSON(TemplateSync.self, context: context)
        guard let channel = try await self.channels.find(body.channelId, tenant: tenant, logger: context.logger) else { throw ChannelsController.notFound }
        guard channel.kind == .whatsapp else {
            throw APIError.unprocessable("not_whatsapp", "Templates are synced from Meta for WhatsApp channels only; other channels' templates live here.")
        }
        let (account, token) = try await self.account(channel, context: context)
        let (remotes, tier) = try await Self.atMeta {
            let remotes = try await self.meta.list(businessAccountID: account, token: token, logger: context.logger)
            // the tier is a bonus of the sync: a number Meta will not describe still syncs its templates
            var tier: String?
            if let number = channel.dto.config.phoneNumberId {
                tier = try? await self.meta.tier(phoneNumberID: number, token: token, logger: context.logger)
            }
            return (remotes, tier)
        }
        let known = tier.flatMap { MessagingTier.dailyLimit($0) != nil || $0 == "TIER_UNLIMITED" ? $0 : nil }
        return JSONResponse(
            .ok,
            try await self.templates.sync(remotes, channel: channel, tier: known, actor: caller.subject, requestID: context.requestID, logger: context.logger))
    }
}
