import Contracts
import Foundation
import Logging
import Models
import PostgresNIO
import ServiceKit

/// What the other services tell the CRM (`POST /v1/crm/events`), each event recorded once per sender's id on the
/// lead of its phone (made when the phone is new): a message moves the last contact and the replies; a consent
/// change sets the opt-in (and is not told back); an appointment counts toward behaviour; a purchase makes the lead
/// a customer and adds to what they spent. And the customers: converted leads with those totals.
struct EventsStore: Sendable {
    let postgres: PostgresClient
    let audit: AuditLog
    let leads: LeadsStore
    let jobs: JobQueue
    /// The customer's messages since the last extraction that make the next one.
    var extractAfterMessages = 5

    /// A conversation's messages make one timeline row a day, counted, not a row each.
    static let messageRowSpan: TimeInterval = 86_400

    /// Records the event; false when it was recorded before (nothing changes).
    func record(_ event: CRMAPI.Event, tenant: TenantID, actor: String, requestID: String, logger: Logger) async throws -> Bool {
        let source: LeadSource =
            switch event.source {
            case .messaging: event.channelKind.flatMap(LeadSource.init(rawValue:)) ?? .manual
            default: .web
            }
        let lead = try await self.leads.lead(
            phone: event.phone,
            orCreate: .init(phone: event.phone, name: event.name.map { String($0.prefix(200)) }, source: source, optIn: event.kind != .optedOut),
            tenant: tenant, actor: actor, requestID: requestID, logger: logger)
        return try await self.postgres.withTransaction(logger: logger) { connection in
            guard
                try await connection.query(
                    """
                    INSERT INTO agent.crm_events (tenant_id, source, event_id, lead_id, kind, at)
                    VALUES (\(tenant.rawValue), \(event.source.rawValue), \(event.id), \(lead.id.rawValue), \(event.kind.rawValue), \(event.at))
                    ON CONFLICT DO NOTHING RETURNING 1
                    """, logger: logger
                ).first(as: Int.self) != nil
            else { return false }
            try await self.apply(event, to: lead.id, tenant: tenant, actor: actor, on: connection, logger: logger)
            // the tenant's rules on this event (booked → agendado, say)
            try await self.leads.automate(lead.id, event: event.kind, tenant: tenant, requestID: requestID, on: connection, logger: logger)
            return true
        }
    }

    private func apply(_ event: CRMAPI.Event, to id: LeadID, tenant: TenantID, actor: String, on connection: PostgresConnection, logger: Logger) async throws {
        let lead = id.rawValue
        let what = event.title.map { "“\($0.prefix(120))”" } ?? "an appointment"
        switch event.kind {
        case .messageReceived:
            try await connection.query(
                "UPDATE agent.leads SET replies = replies + 1, messages_received = messages_received + 1 WHERE id = \(lead)", logger: logger)
            _ = try await self.leads.contacted(
                id, at: event.at, kind: "message", summary: nil, data: [:], tenant: tenant, actor: actor, on: connection, logger: logger)
            try await self.countMessage(event, lead: lead, tenant: tenant, actor: actor, on: connection, logger: logger)
            try await self.extractIfDue(event, lead: id, tenant: tenant, on: connection, logger: logger)
        case .conversationClosed:
            if let conversation = event.conversationId {
                try await self.jobs.enqueue(
                    Extractions.job, payload: Extractions.Payload(tenantId: tenant, leadId: id, conversationId: conversation, trigger: "closed"),
                    on: connection, logger: logger)
            }
        case .optedOut, .optedIn:
            let optIn = event.kind == .optedIn
            let changed =
                try await connection.query(
                    "UPDATE agent.leads SET opt_in = \(optIn), updated_at = now() WHERE id = \(lead) AND opt_in <> \(optIn) RETURNING 1", logger: logger
                ).first(as: Int.self) != nil
            if changed {
                try await self.leads.note(
                    lead, tenant: tenant, kind: optIn ? "opt_in" : "opt_out",
                    summary: optIn ? "Opted back in to messages (at messaging)." : "Opted out of messages (at messaging): nothing more is sent.",
                    data: ["source": .string(event.source.rawValue)], actor: actor, on: connection, logger: logger)
            }
        case .appointmentBooked:
            try await connection.query("UPDATE agent.leads SET bookings = bookings + 1 WHERE id = \(lead)", logger: logger)
            _ = try await self.leads.contacted(
                id, at: event.at, kind: "appointment", summary: "Booked \(what).", data: Self.appointmentData(event), tenant: tenant, actor: actor,
                on: connection, logger: logger)
        case .appointmentCancelled:
            try await connection.query("UPDATE agent.leads SET bookings = greatest(bookings - 1, 0) WHERE id = \(lead)", logger: logger)
            _ = try await self.leads.contacted(
                id, at: event.at, kind: "appointment", summary: "Cancelled \(what).", data: Self.appointmentData(event), tenant: tenant, actor: actor,
                on: connection, logger: logger)
        case .appointmentCompleted, .appointmentMissed:
            try await self.leads.note(
                lead, tenant: tenant, kind: "appointment",
                summary: event.kind == .appointmentCompleted ? "Kept \(what)." : "Missed \(what) (no-show).", data: Self.appointmentData(event),
                actor: actor, on: connection, logger: logger)
        case .purchase:
            guard let code = event.currency, let currency = Currency(code: code), let text = event.amount,
                let amount = try? Money(decimal: text, currency: currency), amount.minorUnits > 0
            else { throw APIError.unprocessable("invalid_amount", "A purchase has a positive amount and its currency.") }
            try await self.purchase(amount, event: event, lead: id, tenant: tenant, actor: actor, on: connection, logger: logger)
        }
    }

    /// Every `extractAfterMessages` messages of the customer since the lead's last extraction, the conversation is read.
    private func extractIfDue(_ event: CRMAPI.Event, lead: LeadID, tenant: TenantID, on connection: PostgresConnection, logger: Logger) async throws {
        guard let conversation = event.conversationId else { return }
        let since =
            try await connection.query(
                """
                SELECT count(*)::int FROM agent.crm_events
                WHERE lead_id = \(lead.rawValue) AND kind = 'message_received'
                  AND recorded_at > coalesce((SELECT max(created_at) FROM agent.extractions WHERE lead_id = \(lead.rawValue)), '-infinity')
                """, logger: logger
            ).first(as: Int.self) ?? 0
        guard since > 0, since % self.extractAfterMessages == 0 else { return }
        let total =
            try await connection.query("SELECT messages_received FROM agent.leads WHERE id = \(lead.rawValue)", logger: logger).first(as: Int.self) ?? since
        try await self.jobs.enqueue(
            Extractions.job, payload: Extractions.Payload(tenantId: tenant, leadId: lead, conversationId: conversation, trigger: "messages:\(total)"),
            on: connection, logger: logger)
    }

    static func appointmentData(_ event: CRMAPI.Event) -> [String: JSONValue] {
        var data: [String: JSONValue] = [:]
        if let id = event.appointmentId { data["appointmentId"] = .string(id.description) }
        return data
    }

    /// One row per conversation and day: the day's first message adds it, the others count in it.
    private func countMessage(_ event: CRMAPI.Event, lead: UUID, tenant: TenantID, actor: String, on connection: PostgresConnection, logger: Logger)
        async throws
    {
        let conversation = event.conversationId?.description ?? ""
        let channel = event.channelKind ?? "a channel"
        let counted = try await connection.query(
            """
            UPDATE agent.lead_activity SET
                data = jsonb_set(data, '{count}', to_jsonb((data->>'count')::int + 1)),
                summary = ((data->>'count')::int + 1) || ' messages on ' || \(channel) || '.'
            WHERE id = (SELECT id FROM agent.lead_activity
                        WHERE lead_id = \(lead) AND kind = 'message' AND data->>'conversationId' = \(conversation)
                          AND created_at > now() - make_interval(secs => \(Self.messageRowSpan))
                        ORDER BY id DESC LIMIT 1)
            RETURNING 1
            """, logger: logger
        ).first(as: Int.self)
        guard counted == nil else { return }
        try await self.leads.note(
            lead, tenant: tenant, kind: "message", summary: "1 message on \(channel).",
            data: ["conversationId": .string(conversation), "channel": .string(channel), "count": .number(1)], actor: actor, on: connection,
            logger: logger)
    }

    /// A purchase: the amount joins what the customer spent, and a lead not yet converted converts (moved to the
    /// pipeline's first won stage, the move explained).
    private func purchase(
        _ amount: Money, event: CRMAPI.Event, lead id: LeadID, tenant: TenantID, actor: String, on connection: PostgresConnection, logger: Logger
    ) async throws {
        let before = try await self.leads.lead(id, tenant: tenant, on: connection, lock: true, logger: logger)
        let won = try await self.leads.stages(tenant: tenant, on: connection, logger: logger).first { $0.kind == .won }
        let moves = before.status != .converted && won != nil && won?.key != before.stage
        try await connection.query(
            """
            UPDATE agent.leads SET
                spent = jsonb_set(spent, ARRAY[\(amount.currency.code)], to_jsonb(coalesce((spent->>\(amount.currency.code))::bigint, 0) + \(amount.minorUnits))),
                status = 'converted',
                stage = CASE WHEN \(moves) THEN \(won?.key ?? before.stage) ELSE stage END,
                stage_entered_at = CASE WHEN \(moves) THEN now() ELSE stage_entered_at END,
                updated_at = now()
            WHERE id = \(before.id.rawValue)
            """, logger: logger)
        let spent = "\(amount.decimalString) \(amount.currency.code)"
        try await self.leads.note(
            before.id.rawValue, tenant: tenant, kind: "purchase", summary: "Bought" + (event.title.map { " \($0.prefix(120))" } ?? "") + " for \(spent).",
            data: ["amount": .string(amount.decimalString), "currency": .string(amount.currency.code)], actor: actor, on: connection, logger: logger)
        if moves, let won {
            try await self.leads.note(
                before.id.rawValue, tenant: tenant, kind: "stage_changed", summary: "Moved from \(before.stage) to \(won.key): a purchase of \(spent).",
                data: ["from": .string(before.stage), "to": .string(won.key), "reason": .string("purchase"), "automatic": .bool(true)], actor: actor,
                on: connection, logger: logger)
        }
        let after = try await self.leads.lead(id, tenant: tenant, on: connection, logger: logger)
        try await self.audit.record(
            on: connection, tenantID: tenant, actor: actor, action: "lead.purchase", table: "leads", targetID: after.id.description, before: before,
            after: after, requestID: nil, logger: logger)
    }

    // MARK: customers

    struct Customer: Codable, Sendable, Equatable {
        struct Spent: Codable, Sendable, Equatable {
            var currency: String
            var amount: String
        }

        var leadId: LeadID
        var name: String?
        var phone: String
        var email: String?
        var company: String?
        var tags: [String]
        var assigneeId: UserID?
        var status: String
        var convertedAt: Date
        var lastContactAt: Date?
        var bookings: Int
        var calls: Int
        var messages: Int
        var spent: [Spent]
    }

    /// Converted leads, the latest first; `after` is the last (converted, id) of the page before.
    func customers(tenant: TenantID, visibility: LeadVisibility, search: String?, after: (micros: Int64, id: UUID)?, limit: Int, logger: Logger)
        async throws -> [Customer]
    {
        let (all, assignee) = visibility.sql
        let pattern = LikePattern.containing(search)
        let rows = try await self.postgres.query(
            """
            SELECT l.id, l.name, l.phone, l.email, l.company, l.tags, l.assignee_id, l.status, l.converted_at, l.last_contact_at, l.bookings,
                (SELECT count(*)::int FROM agent.calls c WHERE c.lead_id = l.id), l.messages_received, l.spent::text
            FROM agent.leads l
            WHERE l.tenant_id = \(tenant.rawValue) AND l.merged_into IS NULL AND l.converted_at IS NOT NULL
              AND (\(all) OR l.assignee_id = \(assignee))
              AND (\(pattern)::text IS NULL OR l.name ILIKE \(pattern) OR l.email ILIKE \(pattern) OR l.company ILIKE \(pattern)
                   OR EXISTS (SELECT 1 FROM agent.lead_phones p WHERE p.lead_id = l.id AND p.phone LIKE \(pattern)))
              AND (\(after == nil) OR (l.converted_at, l.id) < ('epoch'::timestamptz + \(after?.micros ?? 0) * interval '1 microsecond', \(after?.id ?? UUID())))
            ORDER BY l.converted_at DESC, l.id DESC LIMIT \(limit)
            """, logger: logger)
        var customers: [Customer] = []
        for try await row in rows.decode(
            (UUID, String?, String, String?, String?, [String], UUID?, String, Date, Date?, Int, Int, Int, String).self)
        {
            let spent = try CorruptRow.decode([String: Int64].self, row.13).sorted { $0.key < $1.key }.map { code, minor in
                guard let currency = Currency(code: code) else { throw CorruptRow("a customer spent in \(code)") }
                return Customer.Spent(currency: code, amount: Money(minorUnits: minor, currency: currency).decimalString)
            }
            customers.append(
                Customer(
                    leadId: LeadID(row.0), name: row.1, phone: row.2, email: row.3, company: row.4, tags: row.5, assigneeId: row.6.map { UserID(rawValue: $0) },
                    status: row.7, convertedAt: row.8, lastContactAt: row.9, bookings: row.10, calls: row.11, messages: row.12, spent: spent))
        }
        return customers
    }
}
