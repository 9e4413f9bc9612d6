import Contracts
import Foundation
import Hummingbird
import Models
import ServiceKit

/// The CRM's leads: one per tenant and phone (`POST /v1/leads` of a known phone answers that lead, filled in: 200),
/// merges, assignment, pipeline moves with their reason, the timeline and notes, extractions whose scores are
/// computed here, the pipeline's figures and its stages. An `agent` sees and works only the leads assigned to them.
struct LeadsController: Sendable {
    let leads: LeadsStore

    func addRoutes(to router: Router<AppRequestContext>) {
        router.on(CRMAPI.listLeads, use: self.list)
        router.on(CRMAPI.createLead, use: self.create)
        router.on(CRMAPI.getLead, use: self.get)
        router.on(CRMAPI.updateLead, use: self.update)
        router.on(CRMAPI.mergeLeads, use: self.merge)
        router.on(CRMAPI.assignLead, use: self.assign)
        router.on(CRMAPI.moveLead, use: self.move)
        router.on(CRMAPI.leadActivity, use: self.activity)
        router.on(CRMAPI.addNote, use: self.addNote)
        router.on(CRMAPI.recordExtraction, use: self.recordExtraction)
        router.on(CRMAPI.listExtractions, use: self.extractions)
        router.on(CRMAPI.pipeline, use: self.pipeline)
        router.on(CRMAPI.getStages, use: self.getStages)
        router.on(CRMAPI.putStages, use: self.putStages)
        router.on(CRMAPI.getAssignment, use: self.getAssignment)
        router.on(CRMAPI.putAssignment, use: self.putAssignment)
    }

    // MARK: input

    static func phone(_ text: String?) throws -> String {
        guard let text, text.hasPrefix("+"), let phone = try? PhoneNumber(parsing: text) else {
            throw APIError.unprocessable("invalid_phone", "phone is required, in E.164 form (+254712345678).")
        }
        return phone.e164
    }

    static func email(_ text: String?) throws -> String? {
        guard let text else { return nil }
        guard text.count <= 254, text.range(of: #"^[^@\s]+@[^@\s]+\.[^@\s]+$"#, options: .regularExpression) != nil else {
            throw APIError.unprocessable("invalid_email", "email is an address such as amina@example.com.")
        }
        return text.lowercased()
    }

    static func tags(_ tags: [String]?) throws -> [String]? {
        guard let tags else { return nil }
        guard tags.count <= 30 else { throw APIError.unprocessable("invalid_tags", "At most 30 tags.") }
        for tag in tags { try TextRules.check(tag, field: "tags", length: 1...40) }
        return tags
    }

    static func locale(_ text: String?) throws -> String? {
        guard let text else { return nil }
        guard text.range(of: "^[a-z]{2,3}(-[A-Z]{2})?$", options: .regularExpression) != nil else {
            throw APIError.unprocessable("invalid_locale", "locale is a language code such as sw or fr-RW.")
        }
        return text
    }

    static func region(_ text: String?) throws -> String? {
        guard let text else { return nil }
        let region = text.trimmingCharacters(in: .whitespaces)
        try TextRules.check(region, field: "region", length: 1...100)
        return region
    }

    static func deal(_ money: Money?) throws -> Money? {
        guard let money else { return nil }
        guard money.minorUnits >= 0 else { throw APIError.unprocessable("invalid_dealValue", "dealValue is not negative.") }
        return money
    }

    static func metadata(_ value: [String: JSONValue]?) throws -> [String: JSONValue]? {
        guard let value else { return nil }
        guard value.count <= 50, (try JSONEncoder.canonical.encode(value)).count <= 8_192 else {
            throw APIError.unprocessable("invalid_metadata", "metadata is an object of at most 50 keys and 8 KB.")
        }
        return value
    }

    // MARK: leads

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<LeadDTO>> {
        let (caller, tenant) = try context.requireTenantCaller()
        let page = try request.page(maximum: 200, cursorValues: 2)
        let after = try page.cursor.map { (micros: try $0.int64(0), id: try $0.uuid(1)) }
        let query = request.queryValues
        let filter = LeadsStore.Filter(
            stage: try query.string("stage", maxLength: 40), status: try query.value("status", as: LeadStatus.self),
            assignee: try query.uuid("assigneeId"), tag: try query.string("tag", maxLength: 40), search: try query.string("q", maxLength: 100),
            minScore: try query.int("minScore", range: 0...100), inactiveDays: try query.int("inactiveDays", range: 1...3650))
        let items = try await self.leads.leads(
            tenant: tenant, visibility: .of(caller), filter: filter, after: after, limit: page.limit, logger: context.logger)
        return JSONResponse(.ok, Page(items: items, nextCursor: page.next(items) { [String($0.createdAt.micros), $0.id.description] }))
    }

    struct CreateBody: Decodable {
        var phone: String?
        var name: String?
        var email: String?
        var company: String?
        var source: String?
        var tags: [String]?
        var locale: String?
        var region: String?
        var stage: String?
        var assigneeId: UUID?
        var treatment: String?
        var nextActionAt: Date?
        var optIn: Bool?
        var metadata: [String: JSONValue]?
        var dealValue: Money?
    }

    /// 201 with a new lead; 200 with the lead the phone already had, filled in with what it lacked.
    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<LeadDTO> {
        let (caller, tenant) = try context.requireTenantCaller()
        let body = try await request.decodeJSON(CreateBody.self, context: context)
        try TextRules.check(body.name, field: "name", length: 1...200)
        try TextRules.check(body.company, field: "company", length: 1...200)
        var new = LeadsStore.NewLead(
            phone: try Self.phone(body.phone), name: body.name, email: try Self.email(body.email), company: body.company,
            source: try body.source.map { try TextRules.known($0, LeadSource.self, "source") } ?? .manual)
        new.tags = try Self.tags(body.tags) ?? []
        new.locale = try Self.locale(body.locale)
        new.region = try Self.region(body.region)
        new.stage = body.stage
        // an agent's own new lead is theirs (they see only their leads)
        if case .assignedTo(let me) = LeadVisibility.of(caller) { new.assignee = body.assigneeId ?? me } else { new.assignee = body.assigneeId }
        new.treatment = try body.treatment.map { try TextRules.known($0, LeadTreatment.self, "treatment") }
        new.nextActionAt = body.nextActionAt
        new.optIn = body.optIn
        new.metadata = try Self.metadata(body.metadata) ?? [:]
        new.dealValue = try Self.deal(body.dealValue)
        let (lead, created) = try await self.leads.create(new, tenant: tenant, actor: caller.subject, requestID: context.requestID, logger: context.logger)
        return JSONResponse(created ? .created : .ok, lead)
    }

    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<LeadDTO> {
        let (caller, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter("id", as: LeadID.self)
        return JSONResponse(.ok, try await self.leads.lead(id, tenant: tenant, visibility: .of(caller), logger: context.logger))
    }

    /// A field set to `null` is cleared; one left out is kept.
    struct UpdateBody: Decodable {
        var name: String??
        var email: String??
        var company: String??
        var treatment: String?
        var nextActionAt: Date??
        var tags: [String]?
        var optIn: Bool?
        var locale: String??
        var region: String??
        var metadata: [String: JSONValue]?
        var dealValue: Money??
        var status: String?

        enum CodingKeys: String, CodingKey {
            case name, email, company, treatment, nextActionAt, tags, optIn, locale, region, metadata, dealValue, status
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.name = try container.decodeClearable(String.self, forKey: .name)
            self.email = try container.decodeClearable(String.self, forKey: .email)
            self.company = try container.decodeClearable(String.self, forKey: .company)
            self.treatment = try container.decodeIfPresent(String.self, forKey: .treatment)
            self.nextActionAt = try container.decodeClearable(Date.self, forKey: .nextActionAt)
            self.tags = try container.decodeIfPresent([String].self, forKey: .tags)
            self.optIn = try container.decodeIfPresent(Bool.self, forKey: .optIn)
            self.locale = try container.decodeClearable(String.self, forKey: .locale)
            self.region = try container.decodeClearable(String.self, forKey: .region)
            self.metadata = try container.decodeIfPresent([String: JSONValue].self, forKey: .metadata)
            self.dealValue = try container.decodeClearable(Money.self, forKey: .dealValue)
            self.status = try container.decodeIfPresent(String.self, forKey: .status)
        }
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<LeadDTO> {
        let (caller, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter("id", as: LeadID.self)
        let body = try await request.decodeJSON(UpdateBody.self, context: context)
        var change = LeadsStore.Change()
        if let name = body.name {
            try TextRules.check(name, field: "name", length: 1...200)
            change.name = .some(name)
        }
        if let email = body.email { change.email = .some(try Self.email(email)) }
        if let company = body.company {
            try TextRules.check(company, field: "company", length: 1...200)
            change.company = .some(company)
        }
        change.treatment = try body.treatment.map { try TextRules.known($0, LeadTreatment.self, "treatment") }
        change.nextActionAt = body.nextActionAt
        change.tags = try Self.tags(body.tags)
        change.optIn = body.optIn
        if let locale = body.locale { change.locale = .some(try Self.locale(locale)) }
        if let region = body.region { change.region = .some(try Self.region(region)) }
        change.metadata = try Self.metadata(body.metadata)
        if let deal = body.dealValue { change.dealValue = .some(try Self.deal(deal)) }
        if let status = body.status {
            let value = try TextRules.known(status, LeadStatus.self, "status")
            guard [.converted, .lost].contains(value) else {
                throw APIError.unprocessable("invalid_status", "Only converted or lost are set by hand; hot, warm and cold follow from the score.")
            }
            change.status = value
        }
        return JSONResponse(
            .ok,
            try await self.leads.update(
                id, change, tenant: tenant, visibility: .of(caller), actor: caller.subject, requestID: context.requestID, logger: context.logger))
    }

    struct MergeBody: Decodable {
        var survivorId: String?
        var otherId: String?
    }

    @Sendable func merge(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<LeadDTO> {
        let (caller, tenant) = try context.requireTenantCaller()
        let body = try await request.decodeJSON(MergeBody.self, context: context)
        guard let survivor = body.survivorId.flatMap(LeadID.init), let other = body.otherId.flatMap(LeadID.init) else {
            throw APIError.unprocessable("invalid_merge", "survivorId and otherId are two leads' ids.")
        }
        return JSONResponse(
            .ok,
            try await self.leads.merge(
                survivor: survivor, other: other, tenant: tenant, actor: caller.subject, requestID: context.requestID, logger: context.logger))
    }

    struct AssignBody: Decodable {
        var assigneeId: UUID?
        var reason: String?
    }

    @Sendable func assign(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<LeadDTO> {
        let (caller, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter("id", as: LeadID.self)
        let body = try await request.decodeJSON(AssignBody.self, context: context)
        try TextRules.check(body.reason, field: "reason", length: 1...300)
        return JSONResponse(
            .ok,
            try await self.leads.assign(
                id, to: body.assigneeId, tenant: tenant, actor: caller.subject, reason: body.reason ?? "by hand", requestID: context.requestID,
                logger: context.logger))
    }

    @Sendable func move(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<LeadDTO> {
        let (caller, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter("id", as: LeadID.self)
        let body = try await request.decodeJSON(CRMAPI.StageChange.self, context: context)
        guard let stage = body.stage, !stage.isEmpty, stage.count <= 40 else { throw APIError.unprocessable("invalid_stage", "stage is a stage's key.") }
        try TextRules.check(body.reason, field: "reason", length: 1...300)
        return JSONResponse(
            .ok,
            try await self.leads.move(
                id, to: stage, reason: body.reason ?? "moved by hand", tenant: tenant, visibility: .of(caller), actor: caller.subject,
                requestID: context.requestID, logger: context.logger))
    }

    @Sendable func activity(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<LeadActivityDTO>> {
        let (caller, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter("id", as: LeadID.self)
        let lead = try await self.leads.lead(id, tenant: tenant, visibility: .of(caller), logger: context.logger)
        let page = try request.page(maximum: 200, cursorValues: 1)
        let before = try page.cursor.map { try $0.int64(0) }
        let items = try await self.leads.activity(lead.id, tenant: tenant, before: before, limit: page.limit, logger: context.logger)
        return JSONResponse(.ok, Page(items: items, nextCursor: page.next(items) { [String($0.id)] }))
    }

    struct NoteBody: Decodable {
        var text: String?
    }

    @Sendable func addNote(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<LeadActivityDTO> {
        let (caller, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter("id", as: LeadID.self)
        let body = try await request.decodeJSON(NoteBody.self, context: context)
        guard let text = body.text else { throw APIError.unprocessable("invalid_text", "text is required.") }
        try TextRules.check(text, field: "text", length: 1...1000)
        return JSONResponse(
            .created, try await self.leads.addNote(id, text: text, tenant: tenant, visibility: .of(caller), actor: caller.subject, logger: context.logger))
    }

    // MARK: extractions

    struct ExtractionBody: Decodable {
        var intent: Int?
        var urgency: Int?
        var budget: Int?
        var fit: Int?
        var engagement: Int?
        var name: String?
        var email: String?
        var company: String?
        var flags: [String: Bool]?
        var conversationId: UUID?
        var source: String?
    }

    struct Recorded: Codable, Sendable, Equatable {
        var extraction: ExtractionDTO
        var lead: LeadDTO
    }

    @Sendable func recordExtraction(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Recorded> {
        let (caller, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter("id", as: LeadID.self)
        let body = try await request.decodeJSON(ExtractionBody.self, context: context)
        guard let intent = body.intent, let urgency = body.urgency, let budget = body.budget, let fit = body.fit, let engagement = body.engagement else {
            throw APIError.unprocessable("invalid_features", "intent, urgency, budget, fit and engagement are required, each 1 to 3.")
        }
        try TextRules.check(body.name, field: "name", length: 1...200)
        try TextRules.check(body.company, field: "company", length: 1...200)
        guard (body.flags?.count ?? 0) <= 20, body.flags?.keys.allSatisfy({ (1...40).contains($0.count) }) ?? true else {
            throw APIError.unprocessable("invalid_flags", "flags are up to 20 named booleans (the calls to action the conversation showed).")
        }
        let source = body.source ?? "person"
        guard ["llm", "rules", "person", "agent"].contains(source) else {
            throw APIError.unprocessable("invalid_source", "source is llm, rules, person or agent.")
        }
        let new = LeadsStore.NewExtraction(
            features: .init(intent: intent, urgency: urgency, budget: budget, fit: fit, engagement: engagement), name: body.name,
            email: try Self.email(body.email), company: body.company, flags: body.flags ?? [:],
            conversation: body.conversationId.map { ConversationID(rawValue: $0) }, source: source)
        let (extraction, lead) = try await self.leads.recordExtraction(
            new, lead: id, tenant: tenant, visibility: .of(caller), actor: caller.subject, requestID: context.requestID, logger: context.logger)
        return JSONResponse(.created, Recorded(extraction: extraction, lead: lead))
    }

    @Sendable func extractions(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<ExtractionDTO>> {
        let (caller, tenant) = try context.requireTenantCaller()
        let query = request.queryValues
        let items = try await self.leads.extractions(
            tenant: tenant, lead: try query.id("leadId", as: LeadID.self), visibility: .of(caller), latestOnly: try query.bool("latest") ?? false,
            limit: try query.int("limit", range: 1...500) ?? 100, logger: context.logger)
        return JSONResponse(.ok, Page(items: items, nextCursor: nil))
    }

    // MARK: the pipeline

    struct PipelineView: Codable, Sendable, Equatable {
        var stages: [LeadsStore.StageFigures]
    }

    @Sendable func pipeline(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<PipelineView> {
        let (caller, tenant) = try context.requireTenantCaller()
        return JSONResponse(.ok, PipelineView(stages: try await self.leads.pipeline(tenant: tenant, visibility: .of(caller), logger: context.logger)))
    }

    struct StagesView: Codable, Sendable, Equatable {
        var stages: [PipelineStage]
        /// Pipelines a tenant may start from (`PUT {"preset": "real_estate"}`).
        var presets: [String]
    }

    @Sendable func getStages(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<StagesView> {
        let (_, tenant) = try context.requireTenantCaller()
        return JSONResponse(
            .ok, StagesView(stages: try await self.leads.stages(tenant: tenant, logger: context.logger), presets: PipelineStage.presets.keys.sorted()))
    }

    struct StagesBody: Decodable {
        var stages: [PipelineStage]?
        var preset: String?
    }

    @Sendable func putStages(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<StagesView> {
        let (caller, tenant) = try context.requireTenantCaller()
        let body = try await request.decodeJSON(StagesBody.self, context: context)
        let stages: [PipelineStage]
        switch (body.stages, body.preset) {
        case (let given?, nil): stages = given
        case (nil, let name?):
            guard let preset = PipelineStage.presets[name] else {
                throw APIError.unprocessable("unknown_preset", "preset is one of \(PipelineStage.presets.keys.sorted().joined(separator: ", ")).")
            }
            stages = preset
        default: throw APIError.unprocessable("invalid_stages", "Give stages or a preset, not both.")
        }
        try PipelineStage.check(stages)
        let saved = try await self.leads.putStages(stages, tenant: tenant, actor: caller.subject, requestID: context.requestID, logger: context.logger)
        return JSONResponse(.ok, StagesView(stages: saved, presets: PipelineStage.presets.keys.sorted()))
    }

    // MARK: assignment

    struct AssignmentView: Codable, Sendable, Equatable {
        /// In turn, in this order; a new lead without an assignee goes to the next one on duty its language and
        /// tags allow.
        var members: [LeadsStore.Member]
    }

    @Sendable func getAssignment(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<AssignmentView> {
        let (_, tenant) = try context.requireTenantCaller()
        return JSONResponse(.ok, AssignmentView(members: try await self.leads.members(tenant: tenant, logger: context.logger)))
    }

    @Sendable func putAssignment(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<AssignmentView> {
        let (caller, tenant) = try context.requireTenantCaller()
        let body = try await request.decodeJSON(AssignmentView.self, context: context)
        guard body.members.count <= 200, Set(body.members.map(\.userId)).count == body.members.count else {
            throw APIError.unprocessable("invalid_members", "Up to 200 members, each once.")
        }
        for member in body.members {
            guard member.languages.count <= 10, member.languages.allSatisfy({ $0.range(of: "^[a-z]{2,3}$", options: .regularExpression) != nil }) else {
                throw APIError.unprocessable("invalid_members", "languages are up to 10 language codes (sw, fr, en…).")
            }
            _ = try Self.tags(member.tags)
            guard member.regions.count <= 30 else { throw APIError.unprocessable("invalid_members", "regions are up to 30 names.") }
            for region in member.regions { _ = try Self.region(region) }
        }
        return JSONResponse(
            .ok,
            AssignmentView(
                members: try await self.leads.putMembers(
                    body.members, tenant: tenant, actor: caller.subject, requestID: context.requestID, logger: context.logger)))
    }

}
