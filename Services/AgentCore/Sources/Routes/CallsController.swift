import Contracts
import Foundation
import HTTPTypes
import Hummingbird
import Models
import ServiceKit

/// Voice calls: the provider's end-of-call report (`POST /webhooks/voice/vapi/{publicId}`, public: its HMAC
/// signature with the tenant's secret is checked, a report delivered twice is one call), the webhook's settings, the
/// calls with their transcripts, and dispositions. An `agent` sees the calls of their own leads.
struct CallsController: Sendable {
    let calls: CallsStore
    let leads: LeadsStore
    let twilio: TwilioVoice
    /// The gateway's public URL: Twilio's status callbacks are signed over it.
    let publicURL: String

    func addRoutes(to router: Router<AppRequestContext>) {
        router.on(CRMAPI.listCalls, use: self.list)
        router.on(CRMAPI.getCall, use: self.get)
        router.on(CRMAPI.callTranscript, use: self.transcript)
        router.on(CRMAPI.addDisposition, use: self.dispose)
        router.on(CRMAPI.getVoiceSettings, use: self.settings)
        router.on(CRMAPI.rotateVoiceSecret, use: self.rotate)
        router.on(CRMAPI.voiceWebhook, use: self.webhook)
        router.on(CRMAPI.requestCall, use: self.request)
        router.on(CRMAPI.putTwilio, use: self.putTwilio)
        router.on(CRMAPI.twilioWebhook, use: self.twilioWebhook)
    }

    static let refused = APIError.unauthorized("invalid_signature", "The report's signature does not verify.")

    /// 200 whatever the report says once it verifies (the provider does not retry); 401 when it does not.
    @Sendable func webhook(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let publicID = context.parameters.get("publicId"), publicID.count <= 80,
            let (tenant, secret) = try await self.calls.webhook(publicID: publicID, logger: context.logger)
        else { throw Self.refused }
        let body = try await request.body.collect(upTo: 4 << 20)
        let bytes = Array(buffer: body)
        guard
            VoiceReport.verify(
                body: bytes, signature: request.headers[HTTPField.Name("X-Signature")!], timestamp: request.headers[HTTPField.Name("X-Timestamp")!],
                secret: secret)
        else { throw Self.refused }
        guard let report = try VoiceReport.parse(Data(bytes)) else {
            return try JSONResponse(.ok, ["received": "ignored"]).response(from: request, context: context)
        }
        let (call, created) = try await self.calls.ingest(report, provider: "vapi", tenant: tenant, logger: context.logger)
        return try JSONResponse(.ok, ["received": created ? "recorded" : "duplicate", "callId": call.id.description])
            .response(from: request, context: context)
    }

    @Sendable func settings(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<CallsStore.Settings> {
        let (_, tenant) = try context.requireTenantCaller()
        guard let settings = try await self.calls.settings(tenant: tenant, logger: context.logger) else {
            throw APIError.notFound("voice_not_set_up", "No voice webhook yet: POST /v1/voice/settings makes one.")
        }
        return JSONResponse(.ok, settings)
    }

    @Sendable func rotate(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<CallsStore.Settings> {
        let (caller, tenant) = try context.requireTenantCaller()
        return JSONResponse(.created, try await self.calls.rotate(tenant: tenant, actor: caller.subject, requestID: context.requestID, logger: context.logger))
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<CallDTO>> {
        let (caller, tenant) = try context.requireTenantCaller()
        let page = try request.page(maximum: 200, cursorValues: 2)
        let after = try page.cursor.map { (micros: try $0.int64(0), id: try $0.uuid(1)) }
        let query = request.queryValues
        let status = try query.string("status", maxLength: 20)
        guard status == nil || TwilioCalls.rank[status!] != nil else {
            throw APIError.badRequest("invalid_status", "status is queued, ringing, in-progress, completed, failed, no-answer, busy or canceled.")
        }
        let sentiment = try query.string("sentiment", maxLength: 20)
        guard sentiment == nil || ["positive", "neutral", "negative"].contains(sentiment!) else {
            throw APIError.badRequest("invalid_sentiment", "sentiment is positive, neutral or negative.")
        }
        let filter = CallsStore.Filter(
            status: status, sentiment: sentiment, lead: try query.id("leadId", as: LeadID.self), from: try query.instant("from"), to: try query.instant("to"))
        let items = try await self.calls.calls(
            tenant: tenant, visibility: .of(caller), filter: filter, after: after, limit: page.limit, logger: context.logger)
        return JSONResponse(.ok, Page(items: items, nextCursor: page.next(items) { [String($0.createdAt.micros), $0.id.description] }))
    }

    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<CallDTO> {
        let (caller, tenant) = try context.requireTenantCaller()
        return JSONResponse(.ok, try await self.calls.call(try context.uuidParameter(), tenant: tenant, visibility: .of(caller), logger: context.logger))
    }

    struct Transcript: Codable, Sendable, Equatable {
        var callId: CallID
        var lines: [CallDTO.Line]
    }

    @Sendable func transcript(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Transcript> {
        let (caller, tenant) = try context.requireTenantCaller()
        let id = try context.uuidParameter()
        return JSONResponse(
            .ok, Transcript(callId: CallID(id), lines: try await self.calls.transcript(id, tenant: tenant, visibility: .of(caller), logger: context.logger)))
    }

    struct DispositionBody: Decodable {
        var code: String?
        var notes: String?
    }

    @Sendable func dispose(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<CallDTO> {
        let (caller, tenant) = try context.requireTenantCaller()
        let id = try context.uuidParameter()
        let body = try await request.decodeJSON(DispositionBody.self, context: context)
        guard let code = body.code, code.range(of: "^[a-z][a-z0-9_]{0,39}$", options: .regularExpression) != nil else {
            throw APIError.unprocessable("invalid_code", "code is a disposition code: lower-case letters, digits and _ (interested, call_back, wrong_number…).")
        }
        try TextRules.check(body.notes, field: "notes", length: 1...2000)
        return JSONResponse(
            .created,
            try await self.calls.addDisposition(
                id, code: code, notes: body.notes, tenant: tenant, visibility: .of(caller), actor: caller.subject, requestID: context.requestID,
                logger: context.logger))
    }

    // MARK: outbound calls and Twilio

    struct TwilioBody: Decodable {
        var accountSid: String?
        var authToken: String?
        var fromNumber: String?
    }

    /// Sets the tenant's Twilio account (all three given), or removes it (all three null).
    @Sendable func putTwilio(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<CallsStore.Settings> {
        let (caller, tenant) = try context.requireTenantCaller()
        let body = try await request.decodeJSON(TwilioBody.self, context: context)
        let account: CallsStore.TwilioAccount?
        switch (body.accountSid, body.authToken, body.fromNumber) {
        case (nil, nil, nil): account = nil
        case (let sid?, let token?, let from?):
            guard sid.range(of: "^AC[0-9a-fA-F]{32}$", options: .regularExpression) != nil else {
                throw APIError.unprocessable("invalid_accountSid", "accountSid is Twilio's account SID: AC and 32 hex digits.")
            }
            guard token.range(of: "^[0-9a-zA-Z]{16,64}$", options: .regularExpression) != nil else {
                throw APIError.unprocessable("invalid_authToken", "authToken is the account's auth token (letters and digits).")
            }
            account = .init(accountSid: sid, authToken: token, from: try LeadsController.phone(from))
        default:
            throw APIError.unprocessable("invalid_twilio", "Give accountSid, authToken and fromNumber together, or all three null to remove them.")
        }
        return JSONResponse(
            .ok, try await self.calls.setTwilio(account, tenant: tenant, actor: caller.subject, requestID: context.requestID, logger: context.logger))
    }

    /// 201 with the call, `queued` once the provider took it, `failed` with the provider's reason when it did not;
    /// a lead who opted out is not called (409).
    @Sendable func request(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (caller, tenant) = try context.requireTenantCaller()
        let body = try await request.decodeJSON(CRMAPI.CallRequest.self, context: context)
        guard let leadID = body.leadId else { throw APIError.unprocessable("invalid_leadId", "leadId names the lead to call.") }
        try TextRules.check(body.purpose, field: "purpose", length: 1...500)
        let lead = try await self.leads.lead(leadID, tenant: tenant, visibility: .of(caller), logger: context.logger)
        guard lead.optIn else { throw APIError.conflict("opted_out", "This lead opted out: they are not called.") }
        let account = try await self.calls.twilio(tenant: tenant, logger: context.logger)
        let call = try await self.calls.request(
            lead: lead, provider: account == nil ? "sandbox" : "twilio", purpose: body.purpose, tenant: tenant, actor: caller.subject,
            requestID: context.requestID, logger: context.logger)
        guard let account, let publicID = try await self.calls.publicID(tenant: tenant, logger: context.logger) else {
            // the sandbox places no call: the request is recorded, as a provider would have queued it
            return try JSONResponse(.created, call).response(from: request, context: context)
        }
        let outcome = await self.twilio.place(
            account: account, to: lead.phone, twiml: TwilioCalls.twiml(purpose: body.purpose, language: lead.locale),
            statusCallback: "\(self.publicURL)/webhooks/voice/twilio/\(publicID)", logger: context.logger)
        let placed: CallDTO
        switch outcome {
        case .placed(let sid): placed = try await self.calls.placed(call.id, providerCallID: sid, failure: nil, tenant: tenant, logger: context.logger)
        case .refused(let reason): placed = try await self.calls.placed(call.id, providerCallID: nil, failure: reason, tenant: tenant, logger: context.logger)
        }
        return try JSONResponse(.created, placed).response(from: request, context: context)
    }

    static let twilioRefused = APIError.unauthorized("invalid_signature", "The callback's signature does not verify.")

    /// Twilio's status callback: 204 once its signature verifies (an unknown status is acknowledged and ignored).
    @Sendable func twilioWebhook(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let publicID = context.parameters.get("publicId"), publicID.count <= 80,
            let (tenant, authToken) = try await self.calls.twilioWebhook(publicID: publicID, logger: context.logger)
        else { throw Self.twilioRefused }
        let body = try await request.body.collect(upTo: 64 << 10)
        let form = FormEncoding.decode(String(buffer: body))
        let url = self.publicURL + request.uri.path + (request.uri.query.map { "?\($0)" } ?? "")
        guard TwilioSignature.isValid(url: url, params: form, header: request.headers[HTTPField.Name("X-Twilio-Signature")!], authToken: authToken)
        else { throw Self.twilioRefused }
        if let callback = TwilioCalls.Callback(form: form) {
            try await self.calls.apply(callback, tenant: tenant, logger: context.logger)
        }
        return Response(status: .noContent)
    }
}
