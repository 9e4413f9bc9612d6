import Foundation
import Logging
import Models
import PostgresNIO
import ServiceKit

/// Who may see which leads: everyone who reads the tenant sees all; an `agent` only those assigned to them.
enum LeadVisibility: Sendable, Equatable {
    case all
    case assignedTo(UUID?)

    static func of(_ caller: Identity) -> LeadVisibility {
        let seesAll: Set<Role> = [.superAdmin, .support, .dataOps, .readonly, .tenantAdmin, .service]
        return caller.roles.isDisjoint(with: seesAll) ? .assignedTo(UUID(uuidString: caller.subject)) : .all
    }

    /// `(all, assignee)` for SQL: `(all OR assignee_id = assignee)`.
    var sql: (Bool, UUID) {
        switch self {
        case .all: (true, UUID())
        case .assignedTo(let id): (false, id ?? UUID())
        }
    }
}

/// All SQL of leads: one per tenant and phone (a second create of a phone answers the first lead, filled in), merges
/// that move phones and history to the survivor, the timeline, the stages of the tenant's pipeline, and extractions
/// whose scores are computed in code (`Domain/Leads.swift`) in the transaction that stores them. Every change writes
/// its timeline row and its audit row.
struct LeadsStore: Sendable {
    let postgres: PostgresClient
    let audit: AuditLog

    /// Where a person's change of a lead's opt-in goes to messaging (`crm.consent`).
    var jobs = JobQueue(schema: "agent")

    static let notFound = APIError.notFound("lead_not_found", "No such lead.")

    /// Tells messaging's opt-out list what a person decided (`PUT /v1/messaging/consent`, per phone).
    static let consentJob = "crm.consent"

    struct Consent: Codable, Sendable {
        var tenantId: TenantID
        var phones: [String]
        var optedIn: Bool
    }

    static let columns = """
        id, phone, name, email, company, status, score, score_components::text, stage, stage_entered_at, assignee_id, treatment, next_action_at, tags,
        opt_in, locale, region, last_contact_at, source, replies, bookings, clicks, metadata::text, deal_value, deal_currency, created_at, updated_at,
        (SELECT array_agg(p.phone ORDER BY p.phone) FROM agent.lead_phones p WHERE p.lead_id = leads.id)
        """

    static func lead(_ row: PostgresRow) throws -> LeadDTO {
        let r = row.makeRandomAccess()
        var deal: Money? = nil
        if let value = try r["deal_value"].decode(Int64?.self), let code = try r["deal_currency"].decode(String?.self) {
            guard let currency = Currency(code: code) else { throw CorruptRow("a lead's currency is unknown: \(code)") }
            deal = Money(minorUnits: value, currency: currency)
        }
        return LeadDTO(
            id: LeadID(try r["id"].decode(UUID.self)), phone: try r["phone"].decode(String.self), phones: try r["array_agg"].decode([String]?.self) ?? [],
            name: try r["name"].decode(String?.self), email: try r["email"].decode(String?.self), company: try r["company"].decode(String?.self),
            status: try CorruptRow.known(try r["status"].decode(String.self)), score: try r["score"].decode(Int.self),
            scoreComponents: try CorruptRow.decode(Scoring.Components.self, try r["score_components"].decode(String.self)),
            stage: try r["stage"].decode(String.self), stageEnteredAt: try r["stage_entered_at"].decode(Date.self),
            assigneeId: try r["assignee_id"].decode(UUID?.self).map { UserID(rawValue: $0) },
            treatment: try CorruptRow.known(try r["treatment"].decode(String.self)),
            nextActionAt: try r["next_action_at"].decode(Date?.self), tags: try r["tags"].decode([String].self), optIn: try r["opt_in"].decode(Bool.self),
            locale: try r["locale"].decode(String?.self), region: try r["region"].decode(String?.self),
            lastContactAt: try r["last_contact_at"].decode(Date?.self),
            source: try CorruptRow.known(try r["source"].decode(String.self)), replies: try r["replies"].decode(Int.self),
            bookings: try r["bookings"].decode(Int.self), clicks: try r["clicks"].decode(Int.self),
            metadata: try CorruptRow.decode([String: JSONValue].self, try r["metadata"].decode(String.self)), dealValue: deal,
            createdAt: try r["created_at"].decode(Date.self), updatedAt: try r["updated_at"].decode(Date.self))
    }

    // MARK: stages

    func stages(tenant: TenantID, on connection: PostgresConnection? = nil, logger: Logger) async throws -> [PipelineStage] {
        let query: PostgresQuery = "SELECT key, name, kind FROM agent.pipeline_stages WHERE tenant_id = \(tenant.rawValue) ORDER BY position"
        let rows =
            if let connection {
                try await connection.query(query, logger: logger).all(as: (String, String, String).self)
            } else {
                try await self.postgres.query(query, logger: logger).all(as: (String, String, String).self)
            }
        guard !rows.isEmpty else { return PipelineStage.defaults }
        return try rows.map { PipelineStage(key: $0.0, name: $0.1, kind: try CorruptRow.known($0.2)) }
    }

    /// Replaces the pipeline; a stage that still holds leads cannot be removed (409 `stage_in_use`).
    func putStages(_ stages: [PipelineStage], tenant: TenantID, actor: String, requestID: String, logger: Logger) async throws -> [PipelineStage] {
        try await self.postgres.withTransaction(logger: logger) { connection in
            // one writer of a tenant's pipeline at a time, and no lead moves into a stage being removed meanwhile
            try await connection.query("SELECT pg_advisory_xact_lock(hashtext('pipeline:' || \(tenant.description)))", logger: logger)
            let before = try await self.stages(tenant: tenant, on: connection, logger: logger)
            let kept = stages.map(\.key)
            let orphaned = try await connection.query(
                """
                SELECT stage, count(*)::int FROM agent.leads
                WHERE tenant_id = \(tenant.rawValue) AND merged_into IS NULL AND NOT (stage = ANY(\(kept))) GROUP BY stage ORDER BY stage
                """, logger: logger
            ).all(as: (String, Int).self)
            if let (stage, count) = orphaned.first {
                throw APIError.conflict("stage_in_use", "\(count) lead(s) are in stage \(stage): move them before removing it.")
            }
            if let rule = try await self.rules(tenant: tenant, on: connection, logger: logger).first(where: {
                !kept.contains($0.toStage) || $0.fromStages.contains { !kept.contains($0) }
            }) {
                throw APIError.conflict("stage_in_use", "The rule “\(rule.name)” names a stage being removed: change the rule first.")
            }
            try await connection.query("DELETE FROM agent.pipeline_stages WHERE tenant_id = \(tenant.rawValue)", logger: logger)
            try await connection.query(
                """
                INSERT INTO agent.pipeline_stages (tenant_id, key, name, position, kind)
                SELECT \(tenant.rawValue), k, n, p - 1, c
                FROM unnest(\(stages.map(\.key))::text[], \(stages.map(\.name))::text[], \(stages.map(\.kind.rawValue))::text[]) WITH ORDINALITY AS s(k, n, c, p)
                """, logger: logger)
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "pipeline.stages_set", table: "pipeline_stages", targetID: tenant.description,
                before: before, after: stages, requestID: requestID, logger: logger)
            return stages
        }
    }

    // MARK: creating and merging

    struct NewLead: Sendable {
        var phone: String
        var name: String?
        var email: String?
        var company: String?
        var source: LeadSource
        var tags: [String] = []
        var locale: String?
        var region: String?
        var stage: String?
        var assignee: UUID?
        var treatment: LeadTreatment?
        var nextActionAt: Date?
        var optIn: Bool?
        var metadata: [String: JSONValue] = [:]
        var dealValue: Money?
    }

    /// Creates the lead, or (the phone is known) fills the existing one in: its missing name, email and company,
    /// its tags. `created` says which. Two creates of one phone at once give one lead: the loser of the race on the
    /// phone's key tries again and finds the winner's.
    func create(_ new: NewLead, tenant: TenantID, actor: String, requestID: String, logger: Logger) async throws -> (lead: LeadDTO, created: Bool) {
        for attempt in 1...3 {
            do {
                return try await self.postgres.withTransaction(logger: logger) { connection in
                    try await self.create(new, tenant: tenant, actor: actor, requestID: requestID, on: connection, logger: logger)
                }
            } catch let error as PostgresTransactionError where attempt < 3 {
                guard let sql = error.closureError as? PSQLError ?? error.commitError as? PSQLError, sql.serverInfo?[.sqlState] == "23505" else {
                    throw error
                }
            } catch let error as PSQLError where attempt < 3 && error.serverInfo?[.sqlState] == "23505" {
                continue
            }
        }
        throw APIError.conflict("lead_contended", "This phone's lead is being created by another request; try again.")
    }

    private func create(_ new: NewLead, tenant: TenantID, actor: String, requestID: String, on connection: PostgresConnection, logger: Logger)
        async throws -> (lead: LeadDTO, created: Bool)
    {
        if let existing = try await connection.query(
            "SELECT lead_id FROM agent.lead_phones WHERE tenant_id = \(tenant.rawValue) AND phone = \(new.phone) FOR UPDATE", logger: logger
        ).first(as: UUID.self) {
            let before = try await self.lead(LeadID(existing), tenant: tenant, on: connection, lock: true, logger: logger)
            let row = try await connection.query(
                """
                UPDATE agent.leads SET name = coalesce(name, \(new.name)), email = coalesce(email, \(new.email)),
                    company = coalesce(company, \(new.company)),
                    tags = (SELECT (coalesce(array_agg(DISTINCT t ORDER BY t), '{}'))[1:30] FROM unnest(tags || \(new.tags)::text[]) AS t),
                    updated_at = now()
                WHERE id = \(existing) RETURNING \(unescaped: Self.columns)
                """, logger: logger
            ).collect().first
            guard let row else { throw CorruptRow("a lead's phone points to no lead") }
            let after = try Self.lead(row)
            try await self.note(
                existing, tenant: tenant, kind: "merged", summary: "The same phone came in again (\(new.source.rawValue)): merged into this lead.",
                data: ["source": .string(new.source.rawValue)], actor: actor, on: connection, logger: logger)
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "lead.merged_duplicate", table: "leads", targetID: after.id.description,
                before: before, after: after, requestID: requestID, logger: logger)
            return (after, false)
        }
        let stages = try await self.stages(tenant: tenant, on: connection, logger: logger)
        let stage = new.stage ?? stages.first { $0.kind == .open }!.key
        var new = new
        // no one named: the next person on duty, in turn
        var turn: String? = nil
        if new.assignee == nil,
            let (member, reason) = try await self.nextInTurn(
                tenant: tenant, locale: new.locale, region: new.region, tags: new.tags, on: connection, logger: logger)
        {
            new.assignee = member
            turn = reason
        }
        guard stages.contains(where: { $0.key == stage }) else { throw APIError.unprocessable("unknown_stage", "No stage \(stage) in this pipeline.") }
        let id = UUID()
        let metadata = try JSONEncoder.canonical.encodeString(new.metadata)
        let row = try await connection.query(
            """
            INSERT INTO agent.leads (id, tenant_id, phone, name, email, company, stage, assignee_id, treatment, next_action_at, tags, opt_in, locale, region, source,
                metadata, deal_value, deal_currency)
            VALUES (\(id), \(tenant.rawValue), \(new.phone), \(new.name), \(new.email), \(new.company), \(stage), \(new.assignee),
                \(new.treatment?.rawValue ?? LeadTreatment.automatedChat.rawValue), \(new.nextActionAt), \(Array(Set(new.tags)).sorted()), \(new.optIn ?? true),
                \(new.locale), \(new.region), \(new.source.rawValue), \(metadata)::jsonb, \(new.dealValue?.minorUnits), \(new.dealValue?.currency.code))
            RETURNING \(unescaped: Self.columns)
            """, logger: logger
        ).collect().first
        guard let row else { throw CorruptRow("the lead insert returned no row") }
        // the phone's key: a concurrent create of the same phone fails here and tries again
        try await connection.query(
            "INSERT INTO agent.lead_phones (tenant_id, phone, lead_id) VALUES (\(tenant.rawValue), \(new.phone), \(id))", logger: logger)
        let lead = try Self.lead(row)
        try await self.note(
            id, tenant: tenant, kind: "created", summary: "Came in through \(new.source.rawValue), in stage \(stage).", data: [:], actor: actor,
            on: connection, logger: logger)
        if let turn, let member = new.assignee {
            try await self.note(
                id, tenant: tenant, kind: "assigned", summary: "Assigned to \(member.uuidString.lowercased()) (\(turn)).",
                data: ["to": .string(member.uuidString.lowercased())], actor: "assignment", on: connection, logger: logger)
        }
        try await self.audit.record(
            on: connection, tenantID: tenant, actor: actor, action: "lead.created", table: "leads", targetID: lead.id.description,
            before: nil as LeadDTO?, after: lead, requestID: requestID, logger: logger)
        return (lead, true)
    }

    /// The lead a phone belongs to, made (as `new` says) only when the phone is new: a known customer's call or
    /// message finds their lead without a `merged` row in its timeline.
    func lead(phone: String, orCreate new: NewLead, tenant: TenantID, actor: String, requestID: String, logger: Logger) async throws -> LeadDTO {
        if let id = try await self.postgres.query(
            "SELECT lead_id FROM agent.lead_phones WHERE tenant_id = \(tenant.rawValue) AND phone = \(phone)", logger: logger
        ).first(as: UUID.self) {
            return try await self.lead(LeadID(id), tenant: tenant, logger: logger)
        }
        return try await self.create(new, tenant: tenant, actor: actor, requestID: requestID, logger: logger).lead
    }

    /// Merges `other` into `survivor`: its phones, timeline and extractions move, missing fields are filled, and
    /// `other` stays as a pointer to the survivor.
    func merge(survivor: LeadID, other: LeadID, tenant: TenantID, actor: String, requestID: String, logger: Logger) async throws -> LeadDTO {
        guard survivor != other else { throw APIError.unprocessable("invalid_merge", "A lead cannot be merged into itself.") }
        return try await self.postgres.withTransaction(logger: logger) { connection in
            // both rows locked in id order: two merges of the same pair at once cannot deadlock
            let locked = try await connection.query(
                """
                SELECT id FROM agent.leads WHERE id = ANY(\([survivor.rawValue, other.rawValue])) AND tenant_id = \(tenant.rawValue)
                  AND merged_into IS NULL ORDER BY id FOR UPDATE
                """, logger: logger
            ).all(as: UUID.self)
            guard locked.count == 2 else { throw Self.notFound }
            let kept = try await self.lead(survivor, tenant: tenant, on: connection, logger: logger)
            let gone = try await self.lead(other, tenant: tenant, on: connection, logger: logger)
            try await connection.query("UPDATE agent.lead_phones SET lead_id = \(survivor.rawValue) WHERE lead_id = \(other.rawValue)", logger: logger)
            try await connection.query("UPDATE agent.lead_activity SET lead_id = \(survivor.rawValue) WHERE lead_id = \(other.rawValue)", logger: logger)
            // the newer of the two latest extractions stays the latest
            try await connection.query(
                """
                UPDATE agent.extractions SET is_latest = false
                WHERE lead_id IN (\(survivor.rawValue), \(other.rawValue)) AND is_latest AND id <> (
                    SELECT id FROM agent.extractions WHERE lead_id IN (\(survivor.rawValue), \(other.rawValue)) AND is_latest
                    ORDER BY created_at DESC LIMIT 1)
                """, logger: logger)
            try await connection.query("UPDATE agent.extractions SET lead_id = \(survivor.rawValue) WHERE lead_id = \(other.rawValue)", logger: logger)
            let row = try await connection.query(
                """
                UPDATE agent.leads AS s SET name = coalesce(s.name, o.name), email = coalesce(s.email, o.email), company = coalesce(s.company, o.company),
                    tags = (SELECT (coalesce(array_agg(DISTINCT t ORDER BY t), '{}'))[1:30] FROM unnest(s.tags || o.tags) AS t),
                    replies = s.replies + o.replies, bookings = s.bookings + o.bookings, clicks = s.clicks + o.clicks,
                    last_contact_at = greatest(s.last_contact_at, o.last_contact_at), opt_in = s.opt_in AND o.opt_in, updated_at = now()
                FROM agent.leads AS o WHERE s.id = \(survivor.rawValue) AND o.id = \(other.rawValue)
                RETURNING s.id
                """, logger: logger
            ).first(as: UUID.self)
            guard row != nil else { throw Self.notFound }
            try await connection.query(
                "UPDATE agent.leads SET merged_into = \(survivor.rawValue), updated_at = now() WHERE id = \(other.rawValue)", logger: logger)
            try await self.note(
                survivor.rawValue, tenant: tenant, kind: "merged",
                summary: "Merged with the lead of \(PhoneNumber.masked(e164: gone.phone)): its phones, timeline and extractions are here now.",
                data: ["merged": .string(other.description)], actor: actor, on: connection, logger: logger)
            let after = try await self.lead(survivor, tenant: tenant, on: connection, logger: logger)
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "lead.merged", table: "leads", targetID: survivor.description,
                before: ["survivor": kept, "other": gone], after: after, requestID: requestID, logger: logger)
            return after
        }
    }

    // MARK: assignment

    struct Member: Codable, Sendable, Equatable {
        var userId: UUID
        var onDuty: Bool
        /// The lead's language (its locale's) must be one of these; empty: any.
        var languages: [String]
        /// The lead must carry one of these tags; empty: any.
        var tags: [String]
        /// The lead's region must be one of these; empty: any.
        var regions: [String] = []

        enum CodingKeys: String, CodingKey { case userId, onDuty, languages, tags, regions }

        init(userId: UUID, onDuty: Bool, languages: [String], tags: [String], regions: [String] = []) {
            self.userId = userId
            self.onDuty = onDuty
            self.languages = languages
            self.tags = tags
            self.regions = regions
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.userId = try container.decode(UUID.self, forKey: .userId)
            self.onDuty = try container.decode(Bool.self, forKey: .onDuty)
            self.languages = try container.decode([String].self, forKey: .languages)
            self.tags = try container.decode([String].self, forKey: .tags)
            self.regions = try container.decodeIfPresent([String].self, forKey: .regions) ?? []
        }
    }

    func members(tenant: TenantID, logger: Logger) async throws -> [Member] {
        try await self.postgres.query(
            "SELECT user_id, on_duty, languages, tags, regions FROM agent.assignment_members WHERE tenant_id = \(tenant.rawValue) ORDER BY position",
            logger: logger
        ).all(as: (UUID, Bool, [String], [String], [String]).self).map {
            Member(userId: $0.0, onDuty: $0.1, languages: $0.2, tags: $0.3, regions: $0.4)
        }
    }

    func putMembers(_ members: [Member], tenant: TenantID, actor: String, requestID: String, logger: Logger) async throws -> [Member] {
        try await self.postgres.withTransaction(logger: logger) { connection in
            let before = try await connection.query(
                "SELECT user_id FROM agent.assignment_members WHERE tenant_id = \(tenant.rawValue) ORDER BY position", logger: logger
            ).all(as: UUID.self)
            try await connection.query("DELETE FROM agent.assignment_members WHERE tenant_id = \(tenant.rawValue)", logger: logger)
            for (position, member) in members.enumerated() {
                try await connection.query(
                    """
                    INSERT INTO agent.assignment_members (tenant_id, user_id, on_duty, languages, tags, regions, position)
                    VALUES (\(tenant.rawValue), \(member.userId), \(member.onDuty), \(member.languages), \(member.tags), \(member.regions), \(position))
                    """, logger: logger)
            }
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "assignment.members_set", table: "assignment_members", targetID: tenant.description,
                before: before, after: members, requestID: requestID, logger: logger)
            return members
        }
    }

    /// The next person on duty, in turn, among those the lead's language, region and tags allow; nil when nobody is. The
    /// turn is a counter moved under its row lock, so leads arriving at once are shared out evenly.
    func nextInTurn(tenant: TenantID, locale: String?, region: String?, tags: [String], on connection: PostgresConnection, logger: Logger) async throws
        -> (UUID, String)?
    {
        let language = locale.map { String($0.prefix { $0 != "-" }) } ?? ""
        let eligible = try await connection.query(
            """
            SELECT user_id FROM agent.assignment_members
            WHERE tenant_id = \(tenant.rawValue) AND on_duty AND (cardinality(languages) = 0 OR \(language) = ANY(languages))
              AND (cardinality(tags) = 0 OR tags && \(tags)::text[])
              AND (cardinality(regions) = 0 OR lower(\(region ?? "")) = ANY(SELECT lower(r) FROM unnest(regions) AS r))
            ORDER BY position
            """, logger: logger
        ).all(as: UUID.self)
        guard !eligible.isEmpty else { return nil }
        let turn =
            try await connection.query(
                """
                INSERT INTO agent.assignment_turns (tenant_id, turn) VALUES (\(tenant.rawValue), 1)
                ON CONFLICT (tenant_id) DO UPDATE SET turn = agent.assignment_turns.turn + 1 RETURNING turn
                """, logger: logger
            ).first(as: Int64.self) ?? Int64(1)
        return (eligible[Int((turn - 1) % Int64(eligible.count))], "in turn among \(eligible.count) on duty")
    }

    // MARK: reading

    /// A lead, found by its id or by the id of a lead merged into it.
    func lead(_ id: LeadID, tenant: TenantID, visibility: LeadVisibility = .all, on connection: PostgresConnection? = nil, lock: Bool = false, logger: Logger)
        async throws -> LeadDTO
    {
        let (all, assignee) = visibility.sql
        let query: PostgresQuery = """
            SELECT \(unescaped: Self.columns) FROM agent.leads
            WHERE tenant_id = \(tenant.rawValue) AND merged_into IS NULL AND (\(all) OR assignee_id = \(assignee))
              AND id = coalesce((SELECT merged_into FROM agent.leads WHERE id = \(id.rawValue) AND tenant_id = \(tenant.rawValue)), \(id.rawValue))
            \(unescaped: lock ? "FOR UPDATE" : "")
            """
        let row =
            if let connection {
                try await connection.query(query, logger: logger).collect().first
            } else {
                try await self.postgres.query(query, logger: logger).collect().first
            }
        guard let row else { throw Self.notFound }
        return try Self.lead(row)
    }

    struct Filter: Sendable {
        var stage: String?
        var status: LeadStatus?
        var assignee: UUID?
        var tag: String?
        /// In the name, email, company or phone.
        var search: String?
        /// A score of at least this (a sequence entered by lead score).
        var minScore: Int? = nil
        /// No contact for at least this many days, or never (a sequence entered by inactivity).
        var inactiveDays: Int? = nil
    }

    /// Newest first; `after` is the last (created, id) of the page before.
    func leads(tenant: TenantID, visibility: LeadVisibility, filter: Filter, after: (micros: Int64, id: UUID)?, limit: Int, logger: Logger) async throws
        -> [LeadDTO]
    {
        let (all, assignee) = visibility.sql
        let pattern = LikePattern.containing(filter.search)
        return try await self.postgres.query(
            """
            SELECT \(unescaped: Self.columns) FROM agent.leads
            WHERE tenant_id = \(tenant.rawValue) AND merged_into IS NULL AND (\(all) OR assignee_id = \(assignee))
              AND (\(filter.stage)::text IS NULL OR stage = \(filter.stage))
              AND (\(filter.status?.rawValue)::text IS NULL OR status = \(filter.status?.rawValue))
              AND (\(filter.assignee)::uuid IS NULL OR assignee_id = \(filter.assignee))
              AND (\(filter.tag)::text IS NULL OR \(filter.tag) = ANY(tags))
              AND (\(filter.minScore)::int IS NULL OR score >= \(filter.minScore))
              AND (\(filter.inactiveDays)::int IS NULL
                   OR coalesce(last_contact_at, created_at) <= now() - make_interval(days => \(filter.inactiveDays ?? 0)::int))
              AND (\(pattern)::text IS NULL OR name ILIKE \(pattern) OR email ILIKE \(pattern) OR company ILIKE \(pattern)
                   OR EXISTS (SELECT 1 FROM agent.lead_phones p WHERE p.lead_id = leads.id AND p.phone LIKE \(pattern)))
              AND (\(after == nil) OR (created_at, id) < ('epoch'::timestamptz + \(after?.micros ?? 0) * interval '1 microsecond', \(after?.id ?? UUID())))
            ORDER BY created_at DESC, id DESC LIMIT \(limit)
            """, logger: logger
        ).collect().map(Self.lead)
    }

    // MARK: changing

    struct Change: Sendable {
        var name: String??
        var email: String??
        var company: String??
        var treatment: LeadTreatment?
        var nextActionAt: Date??
        var tags: [String]?
        var optIn: Bool?
        var locale: String??
        var region: String??
        var metadata: [String: JSONValue]?
        var dealValue: Money??
        /// `converted` or `lost` by hand (hot, warm and cold follow from the score).
        var status: LeadStatus?
    }

    func update(_ id: LeadID, _ change: Change, tenant: TenantID, visibility: LeadVisibility, actor: String, requestID: String, logger: Logger) async throws
        -> LeadDTO
    {
        try await self.postgres.withTransaction(logger: logger) { connection in
            let before = try await self.lead(id, tenant: tenant, visibility: visibility, on: connection, lock: true, logger: logger)
            let metadata = try change.metadata.map { try JSONEncoder.canonical.encodeString($0) }
            let row = try await connection.query(
                """
                UPDATE agent.leads SET
                    name = CASE WHEN \(change.name != nil) THEN \(change.name ?? nil) ELSE name END,
                    email = CASE WHEN \(change.email != nil) THEN \(change.email ?? nil) ELSE email END,
                    company = CASE WHEN \(change.company != nil) THEN \(change.company ?? nil) ELSE company END,
                    treatment = coalesce(\(change.treatment?.rawValue), treatment),
                    next_action_at = CASE WHEN \(change.nextActionAt != nil) THEN \(change.nextActionAt ?? nil) ELSE next_action_at END,
                    tags = coalesce(\(change.tags.map { Array(Set($0)).sorted() })::text[], tags),
                    opt_in = coalesce(\(change.optIn), opt_in),
                    locale = CASE WHEN \(change.locale != nil) THEN \(change.locale ?? nil) ELSE locale END,
                    region = CASE WHEN \(change.region != nil) THEN \(change.region ?? nil) ELSE region END,
                    metadata = coalesce(\(metadata)::jsonb, metadata),
                    deal_value = CASE WHEN \(change.dealValue != nil) THEN \((change.dealValue ?? nil)?.minorUnits) ELSE deal_value END,
                    deal_currency = CASE WHEN \(change.dealValue != nil) THEN \((change.dealValue ?? nil)?.currency.code) ELSE deal_currency END,
                    status = coalesce(\(change.status?.rawValue), status),
                    updated_at = now()
                WHERE id = \(before.id.rawValue) RETURNING \(unescaped: Self.columns)
                """, logger: logger
            ).collect().first
            guard let row else { throw Self.notFound }
            let after = try Self.lead(row)
            let changed = LeadDTO.changedFields(before, after)
            if before.optIn != after.optIn {
                // one opt-out list: messaging's follows the person's change, for every phone of the lead
                try await self.jobs.enqueue(
                    Self.consentJob, payload: Consent(tenantId: tenant, phones: after.phones, optedIn: after.optIn), on: connection, requestID: requestID,
                    logger: logger)
            }
            if !changed.isEmpty {
                try await self.note(
                    before.id.rawValue, tenant: tenant, kind: changed == ["optIn"] && !after.optIn ? "opt_out" : "updated",
                    summary: "Changed: \(changed.joined(separator: ", ")).", data: ["fields": .array(changed.map { .string($0) })], actor: actor,
                    on: connection, logger: logger)
            }
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "lead.updated", table: "leads", targetID: after.id.description, before: before,
                after: after, requestID: requestID, logger: logger)
            return after
        }
    }

    /// Assigns the lead (nil: unassigned); a no-op assignment writes nothing.
    func assign(_ id: LeadID, to assignee: UUID?, tenant: TenantID, actor: String, reason: String, requestID: String, logger: Logger) async throws -> LeadDTO {
        try await self.postgres.withTransaction(logger: logger) { connection in
            let before = try await self.lead(id, tenant: tenant, on: connection, lock: true, logger: logger)
            guard before.assigneeId?.rawValue != assignee else { return before }
            let row = try await connection.query(
                "UPDATE agent.leads SET assignee_id = \(assignee), updated_at = now() WHERE id = \(before.id.rawValue) RETURNING \(unescaped: Self.columns)",
                logger: logger
            ).collect().first
            guard let row else { throw Self.notFound }
            let after = try Self.lead(row)
            try await self.note(
                before.id.rawValue, tenant: tenant, kind: "assigned",
                summary: assignee.map { "Assigned to \($0.uuidString.lowercased()) (\(reason))." } ?? "Unassigned (\(reason)).",
                data: [
                    "from": before.assigneeId.map { .string($0.description) } ?? .null,
                    "to": assignee.map { .string($0.uuidString.lowercased()) } ?? .null,
                ],
                actor: actor, on: connection, logger: logger)
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "lead.assigned", table: "leads", targetID: after.id.description, before: before,
                after: after, requestID: requestID, logger: logger)
            return after
        }
    }

    /// Moves the lead to a stage of the tenant's pipeline, saying why; a won stage converts it, a lost one loses it.
    func move(_ id: LeadID, to stage: String, reason: String, tenant: TenantID, visibility: LeadVisibility, actor: String, requestID: String, logger: Logger)
        async throws -> LeadDTO
    {
        try await self.postgres.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock_shared(hashtext('pipeline:' || \(tenant.description)))", logger: logger)
            let before = try await self.lead(id, tenant: tenant, visibility: visibility, on: connection, lock: true, logger: logger)
            let stages = try await self.stages(tenant: tenant, on: connection, logger: logger)
            guard let target = stages.first(where: { $0.key == stage }) else {
                throw APIError.unprocessable("unknown_stage", "No stage \(stage) in this pipeline: \(stages.map(\.key).joined(separator: ", ")).")
            }
            guard before.stage != stage else { return before }
            return try await self.place(
                before, in: target, reason: reason, data: [:], tenant: tenant, actor: actor, requestID: requestID, on: connection, logger: logger)
        }
    }

    /// Puts the lead in `target` (a person's move or a rule's), in the caller's transaction: a won stage converts, a
    /// lost one loses; the timeline says why (`data` adds to what it records) and the audit row keeps both.
    func place(
        _ before: LeadDTO, in target: PipelineStage, reason: String, data: [String: JSONValue], tenant: TenantID, actor: String, requestID: String?,
        on connection: PostgresConnection, logger: Logger
    ) async throws -> LeadDTO {
        let stage = target.key
        // reopened, the lead is as warm as its latest extraction says
        let row = try await connection.query(
            """
            UPDATE agent.leads SET stage = \(stage), stage_entered_at = now(), updated_at = now(),
                status = CASE \(target.kind.rawValue) WHEN 'won' THEN 'converted' WHEN 'lost' THEN 'lost'
                    ELSE CASE WHEN status IN ('converted', 'lost')
                        THEN coalesce((SELECT temperature FROM agent.extractions WHERE lead_id = \(before.id.rawValue) AND is_latest), 'cold')
                        ELSE status END END
            WHERE id = \(before.id.rawValue) RETURNING \(unescaped: Self.columns)
            """, logger: logger
        ).collect().first
        guard let row else { throw Self.notFound }
        let after = try Self.lead(row)
        try await self.note(
            before.id.rawValue, tenant: tenant, kind: "stage_changed", summary: "Moved from \(before.stage) to \(stage): \(reason).",
            data: data.merging(["from": .string(before.stage), "to": .string(stage), "reason": .string(reason)]) { $1 }, actor: actor,
            on: connection, logger: logger)
        try await self.audit.record(
            on: connection, tenantID: tenant, actor: actor, action: "lead.stage_changed", table: "leads", targetID: after.id.description, before: before,
            after: after, requestID: requestID, logger: logger)
        return after
    }

    // MARK: the timeline

    func note(
        _ lead: UUID, tenant: TenantID, kind: String, summary: String, data: [String: JSONValue], actor: String, on connection: PostgresConnection,
        logger: Logger
    ) async throws {
        let json = try JSONEncoder.canonical.encodeString(data)
        try await connection.query(
            """
            INSERT INTO agent.lead_activity (tenant_id, lead_id, kind, summary, data, actor)
            VALUES (\(tenant.rawValue), \(lead), \(kind), \(String(summary.prefix(1000))), \(json)::jsonb, \(actor))
            """, logger: logger)
    }

    /// A note a person adds to the timeline.
    func addNote(_ id: LeadID, text: String, tenant: TenantID, visibility: LeadVisibility, actor: String, logger: Logger) async throws -> LeadActivityDTO {
        try await self.postgres.withTransaction(logger: logger) { connection in
            let lead = try await self.lead(id, tenant: tenant, visibility: visibility, on: connection, logger: logger)
            try await self.note(lead.id.rawValue, tenant: tenant, kind: "note", summary: text, data: [:], actor: actor, on: connection, logger: logger)
            return try await self.activity(lead.id, tenant: tenant, before: nil, limit: 1, on: connection, logger: logger)[0]
        }
    }

    func activity(_ id: LeadID, tenant: TenantID, before: Int64?, limit: Int, on connection: PostgresConnection? = nil, logger: Logger) async throws
        -> [LeadActivityDTO]
    {
        let query: PostgresQuery = """
            SELECT id, kind, summary, data::text, actor, created_at FROM agent.lead_activity
            WHERE lead_id = \(id.rawValue) AND tenant_id = \(tenant.rawValue) AND (\(before)::bigint IS NULL OR id < \(before))
            ORDER BY id DESC LIMIT \(limit)
            """
        let rows =
            if let connection {
                try await connection.query(query, logger: logger).all(as: (Int64, String, String, String, String, Date).self)
            } else {
                try await self.postgres.query(query, logger: logger).all(as: (Int64, String, String, String, String, Date).self)
            }
        return try rows.map {
            LeadActivityDTO(id: $0.0, kind: $0.1, summary: $0.2, data: try CorruptRow.decode([String: JSONValue].self, $0.3), actor: $0.4, createdAt: $0.5)
        }
    }

    /// The lead was in touch (a call, a message): its last contact moves, the event joins its timeline (when it has
    /// a summary), and the score's engagement and behaviour parts follow (the change explained). Answers how far the
    /// score moved.
    func contacted(
        _ id: LeadID, at moment: Date, kind: String, summary: String?, data: [String: JSONValue], tenant: TenantID, actor: String,
        on connection: PostgresConnection, now: Date = Date(), logger: Logger
    ) async throws -> Int {
        let before = try await self.lead(id, tenant: tenant, on: connection, lock: true, logger: logger)
        let latest = try await connection.query(
            "SELECT total FROM agent.extractions WHERE lead_id = \(before.id.rawValue) AND is_latest", logger: logger
        ).first(as: Int16.self)
        let contact = max(before.lastContactAt ?? moment, moment)
        let components = Scoring.components(
            latestTotal: latest.map(Int.init), replies: before.replies, clicks: before.clicks, bookings: before.bookings, lastContact: contact, now: now)
        try await connection.query(
            """
            UPDATE agent.leads SET last_contact_at = \(contact), score = \(components.score),
                score_components = \(try JSONEncoder.canonical.encodeString(components))::jsonb, updated_at = now()
            WHERE id = \(before.id.rawValue)
            """, logger: logger)
        if let summary {
            try await self.note(before.id.rawValue, tenant: tenant, kind: kind, summary: summary, data: data, actor: actor, on: connection, logger: logger)
        }
        if before.scoreComponents != components {
            try await self.note(
                before.id.rawValue, tenant: tenant, kind: "score_changed",
                summary: Scoring.explain(from: before.scoreComponents, to: components, because: "\(kind) on \(ISO8601.format(moment))"),
                data: ["from": .number(Double(before.score)), "to": .number(Double(components.score))], actor: actor, on: connection, logger: logger)
            try await self.automate(before.id, event: nil, tenant: tenant, requestID: nil, on: connection, logger: logger)
        }
        return components.score - before.score
    }

    // MARK: extractions and the score

    struct NewExtraction: Sendable {
        var features: Scoring.Features
        var name: String?
        var email: String?
        var company: String?
        var flags: [String: Bool] = [:]
        var conversation: ConversationID?
        var source: String
        /// What made the extraction job read the conversation (`messages:10`, `closed`): one extraction each.
        var trigger: String? = nil
    }

    /// Whether the conversation's extraction for `trigger` was recorded already (a retried job records it once).
    func extracted(lead: LeadID, conversation: ConversationID, trigger: String, logger: Logger) async throws -> Bool {
        try await self.postgres.query(
            """
            SELECT 1 FROM agent.extractions e JOIN agent.leads l ON l.id = \(lead.rawValue)
            WHERE e.lead_id = coalesce(l.merged_into, l.id) AND e.conversation_id = \(conversation.rawValue) AND e.found->>'trigger' = \(trigger)
            """, logger: logger
        ).first(as: Int.self) != nil
    }

    /// Stores what a conversation revealed and moves the lead's score and temperature as the code computes them
    /// from it; both changes are explained in the timeline.
    func recordExtraction(
        _ new: NewExtraction, lead id: LeadID, tenant: TenantID, visibility: LeadVisibility, actor: String, requestID: String, now: Date = Date(),
        logger: Logger
    )
        async throws -> (ExtractionDTO, LeadDTO)
    {
        let features = try new.features.checked()
        return try await self.postgres.withTransaction(logger: logger) { connection in
            let before = try await self.lead(id, tenant: tenant, visibility: visibility, on: connection, lock: true, logger: logger)
            try await connection.query(
                "UPDATE agent.extractions SET is_latest = false WHERE lead_id = \(before.id.rawValue) AND is_latest", logger: logger)
            var found: [String: JSONValue] = ["flags": .object(new.flags.mapValues { .bool($0) })]
            if let trigger = new.trigger { found["trigger"] = .string(trigger) }
            if let name = new.name { found["name"] = .string(name) }
            if let email = new.email { found["email"] = .string(email) }
            if let company = new.company { found["company"] = .string(company) }
            let temperature = Scoring.temperature(features.total)
            let extraction = ExtractionDTO(
                id: ExtractionID(), leadId: before.id, conversationId: new.conversation, features: features, total: features.total,
                temperature: temperature, found: found, reasoning: Scoring.reasoning(features),
                notification: Scoring.notification(name: before.name ?? new.name, phone: before.phone, features: features), source: new.source,
                isLatest: true, createdAt: now)
            try await connection.query(
                """
                INSERT INTO agent.extractions (id, tenant_id, lead_id, conversation_id, intent, urgency, budget, fit, engagement, total, temperature, found,
                    reasoning, notification, source, created_at)
                VALUES (\(extraction.id.rawValue), \(tenant.rawValue), \(before.id.rawValue), \(new.conversation?.rawValue), \(features.intent),
                    \(features.urgency), \(features.budget), \(features.fit), \(features.engagement), \(features.total), \(temperature.rawValue),
                    \(try JSONEncoder.canonical.encodeString(found))::jsonb, \(extraction.reasoning), \(extraction.notification), \(new.source), \(now))
                """, logger: logger)
            let components = Scoring.components(
                latestTotal: features.total, replies: before.replies, clicks: before.clicks, bookings: before.bookings, lastContact: before.lastContactAt,
                now: now)
            let status = temperature.leadStatus
            let row = try await connection.query(
                """
                UPDATE agent.leads SET score = \(components.score), score_components = \(try JSONEncoder.canonical.encodeString(components))::jsonb,
                    status = CASE WHEN status IN ('converted', 'lost') THEN status ELSE \(status.rawValue) END,
                    name = coalesce(name, \(new.name)), email = coalesce(email, \(new.email)), company = coalesce(company, \(new.company)),
                    updated_at = now()
                WHERE id = \(before.id.rawValue) RETURNING \(unescaped: Self.columns)
                """, logger: logger
            ).collect().first
            guard let row else { throw Self.notFound }
            let after = try Self.lead(row)
            try await self.note(
                before.id.rawValue, tenant: tenant, kind: "extraction", summary: extraction.reasoning,
                data: ["extraction": .string(extraction.id.description), "total": .number(Double(features.total))], actor: actor, on: connection,
                logger: logger)
            if before.scoreComponents != components {
                try await self.note(
                    before.id.rawValue, tenant: tenant, kind: "score_changed",
                    summary: Scoring.explain(from: before.scoreComponents, to: components, because: "extraction \(features.total)/15, \(temperature.rawValue)"),
                    data: ["from": .number(Double(before.score)), "to": .number(Double(components.score))], actor: actor, on: connection, logger: logger)
            }
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "lead.extraction", table: "extractions", targetID: extraction.id.description,
                before: before, after: after, requestID: requestID, logger: logger)
            // the tenant's score rules may move it now
            let moved = try await self.automate(before.id, event: nil, tenant: tenant, requestID: requestID, on: connection, logger: logger)
            return (extraction, moved)
        }
    }

    func extractions(tenant: TenantID, lead: LeadID?, visibility: LeadVisibility, latestOnly: Bool, limit: Int, logger: Logger) async throws -> [ExtractionDTO]
    {
        let (all, assignee) = visibility.sql
        return try await self.postgres.query(
            """
            SELECT e.id, e.lead_id, e.conversation_id, e.intent, e.urgency, e.budget, e.fit, e.engagement, e.temperature, e.found::text, e.reasoning,
                e.notification, e.source, e.is_latest, e.created_at
            FROM agent.extractions e JOIN agent.leads l ON l.id = e.lead_id
            WHERE e.tenant_id = \(tenant.rawValue) AND (\(lead?.rawValue)::uuid IS NULL OR e.lead_id = \(lead?.rawValue))
              AND (\(all) OR l.assignee_id = \(assignee)) AND (NOT \(latestOnly) OR e.is_latest)
            ORDER BY e.created_at DESC, e.id LIMIT \(limit)
            """, logger: logger
        ).all(as: (UUID, UUID, UUID?, Int16, Int16, Int16, Int16, Int16, String, String, String, String, String, Bool, Date).self).map {
            let features = Scoring.Features(intent: Int($0.3), urgency: Int($0.4), budget: Int($0.5), fit: Int($0.6), engagement: Int($0.7))
            return ExtractionDTO(
                id: ExtractionID($0.0), leadId: LeadID($0.1), conversationId: $0.2.map { ConversationID(rawValue: $0) }, features: features,
                total: features.total, temperature: try CorruptRow.known($0.8), found: try CorruptRow.decode([String: JSONValue].self, $0.9),
                reasoning: $0.10, notification: $0.11, source: $0.12, isLatest: $0.13, createdAt: $0.14)
        }
    }

    // MARK: the pipeline

    struct StageFigures: Codable, Sendable, Equatable {
        var key: String
        var name: String
        var kind: PipelineStage.Kind
        var leads: Int
        /// The deals' worth in this stage, per currency (minor units).
        var value: [String: Int64]
        /// Of the leads that ever reached this stage, the share converted since.
        var conversion: Double
    }

    func pipeline(tenant: TenantID, visibility: LeadVisibility, logger: Logger) async throws -> [StageFigures] {
        let (all, assignee) = visibility.sql
        let stages = try await self.stages(tenant: tenant, logger: logger)
        let rows = try await self.postgres.query(
            """
            WITH visible AS (
                SELECT id, stage, status, deal_value, deal_currency FROM agent.leads
                WHERE tenant_id = \(tenant.rawValue) AND merged_into IS NULL AND (\(all) OR assignee_id = \(assignee))),
            reached AS (
                SELECT v.id, v.stage AS reached, v.status FROM visible v
                UNION
                SELECT v.id, a.data->>'from', v.status FROM visible v JOIN agent.lead_activity a ON a.lead_id = v.id AND a.kind = 'stage_changed'
                UNION
                SELECT v.id, a.data->>'to', v.status FROM visible v JOIN agent.lead_activity a ON a.lead_id = v.id AND a.kind = 'stage_changed')
            SELECT s.key,
                (SELECT count(*)::int FROM visible v WHERE v.stage = s.key),
                (SELECT coalesce(json_object_agg(c, total), '{}')::text FROM (
                    SELECT deal_currency AS c, sum(deal_value)::bigint AS total FROM visible v WHERE v.stage = s.key AND deal_value IS NOT NULL
                    GROUP BY deal_currency) t),
                (SELECT count(*)::int FROM reached r WHERE r.reached = s.key),
                (SELECT count(*)::int FROM reached r WHERE r.reached = s.key AND r.status = 'converted')
            FROM unnest(\(stages.map(\.key))::text[]) AS s(key)
            """, logger: logger
        ).all(as: (String, Int, String, Int, Int).self)
        return try zip(stages, rows).map { stage, row in
            StageFigures(
                key: stage.key, name: stage.name, kind: stage.kind, leads: row.1, value: try CorruptRow.decode([String: Int64].self, row.2),
                conversion: row.3 == 0 ? 0 : Double(row.4) / Double(row.3))
        }
    }
}

extension Scoring.Temperature {
    var leadStatus: LeadStatus {
        switch self {
        case .hot: .hot
        case .warm: .warm
        case .cold: .cold
        }
    }
}

/// A lead as the API shows it.
struct LeadDTO: Codable, Sendable, Equatable {
    var id: LeadID
    var phone: String
    /// Every phone of the lead (a merge brings the other lead's).
    var phones: [String]
    var name: String?
    var email: String?
    var company: String?
    var status: LeadStatus
    var score: Int
    var scoreComponents: Scoring.Components
    var stage: String
    var stageEnteredAt: Date
    var assigneeId: UserID?
    var treatment: LeadTreatment
    var nextActionAt: Date?
    var tags: [String]
    var optIn: Bool
    var locale: String?
    /// A city or area, as the tenant names them (assignment rules may cover regions).
    var region: String?
    var lastContactAt: Date?
    var source: LeadSource
    var replies: Int
    var bookings: Int
    var clicks: Int
    var metadata: [String: JSONValue]
    var dealValue: Money?
    var createdAt: Date
    var updatedAt: Date

    /// The names of the fields a person may change that differ.
    static func changedFields(_ a: LeadDTO, _ b: LeadDTO) -> [String] {
        var fields: [String] = []
        if a.name != b.name { fields.append("name") }
        if a.email != b.email { fields.append("email") }
        if a.company != b.company { fields.append("company") }
        if a.treatment != b.treatment { fields.append("treatment") }
        if a.nextActionAt != b.nextActionAt { fields.append("nextActionAt") }
        if a.tags != b.tags { fields.append("tags") }
        if a.optIn != b.optIn { fields.append("optIn") }
        if a.locale != b.locale { fields.append("locale") }
        if a.region != b.region { fields.append("region") }
        if a.metadata != b.metadata { fields.append("metadata") }
        if a.dealValue != b.dealValue { fields.append("dealValue") }
        if a.status != b.status { fields.append("status") }
        return fields
    }
}

struct LeadActivityDTO: Codable, Sendable, Equatable {
    var id: Int64
    var kind: String
    var summary: String
    var data: [String: JSONValue]
    var actor: String
    var createdAt: Date
}

struct ExtractionDTO: Codable, Sendable, Equatable {
    var id: ExtractionID
    var leadId: LeadID
    var conversationId: ConversationID?
    var features: Scoring.Features
    var total: Int
    var temperature: Scoring.Temperature
    var found: [String: JSONValue]
    var reasoning: String
    var notification: String
    var source: String
    var isLatest: Bool
    var createdAt: Date
}
