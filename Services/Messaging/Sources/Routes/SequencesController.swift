import Contracts
import Foundation
import Hummingbird
import Models
import ServiceClient
import ServiceKit

/// `/v1/sequences`: the steps editor's API, and who is enrolled (with each step's log). Running them is the
/// `SequenceRunner`'s.
struct SequencesController: Sendable {
    let sequences: SequencesStore
    let templates: TemplatesStore
    let channels: ChannelsStore
    let leads: @Sendable () -> LeadsClient
    let callContext: @Sendable (TenantID, String?) async throws -> CallContext
    let runner: SequenceRunner

    func addRoutes(to router: Router<AppRequestContext>) {
        router.on(MessagingAPI.listSequences, use: self.list)
        router.on(MessagingAPI.createSequence, use: self.create)
        router.on(MessagingAPI.getSequence, use: self.get)
        router.on(MessagingAPI.updateSequence, use: self.update)
        router.on(MessagingAPI.listEnrollments, use: self.enrollments)
        router.on(MessagingAPI.enroll, use: self.enroll)
    }

    /// Each message step's template exists on the sequence's channel.
    func checkTemplates(_ steps: [SequenceStep], channel: ChannelID, tenant: TenantID, context: AppRequestContext) async throws {
        for (index, step) in steps.enumerated() {
            if let id = step.templateId {
                guard let template = try await self.templates.find(id, tenant: tenant, logger: context.logger), template.channelId == channel else {
                    throw APIError.unprocessable("template_not_found", "steps[\(index)].templateId names no template of the sequence's channel.")
                }
            }
        }
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (caller, tenant) = try context.requireTenantCaller()
        let body = try await request.decodeJSON(NewSequence.self, context: context)
        if let problem = body.problem { throw APIError.unprocessable("invalid_sequence", problem) }
        guard let channel = try await self.channels.find(body.channelId, tenant: tenant, logger: context.logger) else { throw ChannelsController.notFound }
        try await self.checkTemplates(body.steps, channel: channel.id, tenant: tenant, context: context)
        let sequence = try await self.sequences.create(body, tenant: tenant, actor: caller.subject, requestID: context.requestID, logger: context.logger)
        return try JSONResponse(.created, sequence).response(from: request, context: context)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<SequenceDTO>> {
        let (_, tenant) = try context.requireTenantCaller()
        let page = try request.page(cursorValues: 2)
        let items = try await self.sequences.list(
            tenant: tenant, after: try page.cursor.map { (try $0.int64(0), try $0.uuid(1)) }, limit: page.limit, logger: context.logger)
        return JSONResponse(.ok, Page(items: items, nextCursor: page.next(items) { [String($0.createdAt.micros), $0.id.description] }))
    }

    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<SequenceDTO> {
        let (_, tenant) = try context.requireTenantCaller()
        guard let sequence = try await self.sequences.find(try context.uuidParameter(), tenant: tenant, logger: context.logger) else {
            throw SequencesStore.notFound
        }
        return JSONResponse(.ok, sequence)
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<SequenceDTO> {
        let (caller, tenant) = try context.requireTenantCaller()
        let id = try context.uuidParameter()
        let body = try await request.decodeJSON(UpdateSequence.self, context: context)
        if let name = body.name, let problem = TextRulesProblem.length(name, "name", 1...200) { throw APIError.unprocessable("invalid_sequence", problem) }
        guard let current = try await self.sequences.find(id, tenant: tenant, logger: context.logger) else { throw SequencesStore.notFound }
        if let steps = body.steps {
            guard (1...20).contains(steps.count) else { throw APIError.unprocessable("invalid_sequence", "A sequence has 1 to 20 steps.") }
            for (index, step) in steps.enumerated() {
                if let problem = step.problem(index) { throw APIError.unprocessable("invalid_sequence", problem) }
            }
            try await self.checkTemplates(steps, channel: current.channelId, tenant: tenant, context: context)
        }
        return JSONResponse(
            .ok, try await self.sequences.update(id, tenant: tenant, change: body, actor: caller.subject, requestID: context.requestID, logger: context.logger))
    }

    @Sendable func enrollments(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<EnrollmentDTO>> {
        let (_, tenant) = try context.requireTenantCaller()
        let id = try context.uuidParameter()
        guard try await self.sequences.find(id, tenant: tenant, logger: context.logger) != nil else { throw SequencesStore.notFound }
        let page = try request.page(cursorValues: 1)
        let items = try await self.sequences.enrollments(id, tenant: tenant, after: try page.cursor?.int64(0), limit: page.limit, logger: context.logger)
        return JSONResponse(.ok, Page(items: items, nextCursor: page.next(items) { [String($0.id)] }))
    }

    /// A lead entered by hand: agent-core says who it is (its number, its consent).
    @Sendable func enroll(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (caller, tenant) = try context.requireTenantCaller()
        let id = try context.uuidParameter()
        let body = try await request.decodeJSON(NewEnrollment.self, context: context)
        guard let sequence = try await self.sequences.find(id, tenant: tenant, logger: context.logger) else { throw SequencesStore.notFound }
        guard sequence.status == .active else { throw APIError.conflict("sequence_paused", "The sequence is paused: resume it to enrol leads.") }
        let lead: CRMAPI.LeadSummary?
        do {
            lead = try await self.leads().lead(body.leadId, context: try await self.callContext(tenant, context.requestID))
        } catch {
            throw APIError(.badGateway, code: "crm_unavailable", message: "agent-core could not say who the lead is: \(error)")
        }
        guard let lead else { throw APIError.unprocessable("lead_not_found", "No such lead in this tenant.") }
        let entered = try await self.runner.enrol(
            lead, in: id, tenant: tenant, firstDelay: sequence.steps[0].delayMinutes, by: "manual:\(caller.subject)")
        if !entered {
            let enrolled = try await self.sequences.isEnrolled(lead.id, in: id, logger: context.logger)
            guard enrolled else { throw APIError.conflict("opted_out", "The lead opted out of messages (or has no usable number): not enrolled.") }
        }
        return try JSONResponse(entered ? .created : .ok, ["enrolled": entered ? "new" : "already"]).response(from: request, context: context)
    }
}
