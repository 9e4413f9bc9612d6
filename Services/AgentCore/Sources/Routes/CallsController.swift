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

    func addRoutes(to router: Router<AppRequestContext>) {
        router.on(CRMAPI.listCalls, use: self.list)
        router.on(CRMAPI.getCall, use: self.get)
        router.on(CRMAPI.callTranscript, use: self.transcript)
        router.on(CRMAPI.addDisposition, use: self.dispose)
        router.on(CRMAPI.getVoiceSettings, use: self.settings)
        router.on(CRMAPI.rotateVoiceSecret, use: self.rotate)
        router.on(CRMAPI.voiceWebhook, use: self.webhook)
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
        guard status == nil || ["in-progress", "completed", "failed", "no-answer", "busy"].contains(status!) else {
            throw APIError.badRequest("invalid_status", "status is in-progress, completed, failed, no-answer or busy.")
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
}
