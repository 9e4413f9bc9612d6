import Contracts
import Foundation
import Hummingbird
import Models
import PostgresNIO
import ServiceKit

/// `GET/POST /v1/appointments`, `GET/PATCH /v1/appointments/{id}` and the actions confirm, cancel, reschedule,
/// complete and no-show. A booking the exclusion constraint refuses (the slot is held or booked, perhaps by a request
/// that raced this one) is a 409 `slot_taken` that names the next free slots.
struct AppointmentsController: Sendable {
    let appointments: AppointmentsStore
    let agents: AgentsStore
    let slots: SlotFinder
    let idempotency: Idempotency

    func addRoutes(to router: Router<AppRequestContext>) {
        router.on(CalendarAPI.listAppointments, use: self.list)
        router.dailyCounts(CalendarAPI.daily) { tenant, from, to, context in
            try await self.appointments.daily(tenant: tenant, from: from, to: to, logger: context.logger)
        }
        router.on(CalendarAPI.createAppointment, use: self.create)
        router.on(CalendarAPI.getAppointment, use: self.get)
        router.on(CalendarAPI.updateAppointment, use: self.update)
        router.on(CalendarAPI.confirmAppointment) { request, context in try await self.act("confirm", request, context) }
        router.on(CalendarAPI.cancelAppointment) { request, context in try await self.act("cancel", request, context) }
        router.on(CalendarAPI.completeAppointment) { request, context in try await self.act("complete", request, context) }
        router.on(CalendarAPI.noShowAppointment) { request, context in try await self.act("no-show", request, context) }
        router.on(CalendarAPI.rescheduleAppointment, use: self.reschedule)
    }

    static let notFound = APIError.notFound("appointment_not_found", "No such appointment.")
    /// How long a `pending` hold lasts unless the booking says (minutes).
    static let defaultHoldMinutes = 10

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<AppointmentDTO>> {
        let (_, tenant) = try context.requireTenantCaller()
        let page = try request.page(maximum: 200, cursorValues: 2)
        let after = try page.cursor.map { cursor in
            let micros = try cursor.int64(0)
            // a start between 2000 and 2100, as every appointment's: anything else was not made by this list
            guard (946_684_800_000_000...4_102_444_800_000_000).contains(micros) else {
                throw APIError.badRequest("invalid_cursor", "The cursor is not one this list gave.")
            }
            return (micros: micros, id: try cursor.uuid(1))
        }
        let query = request.queryValues
        let filter = AppointmentsStore.Filter(
            agent: try query.id("agentId", as: CalendarAgentID.self), status: try query.value("status", as: AppointmentStatus.self),
            source: try query.value("source", as: AppointmentSource.self), serviceType: try query.string("serviceType", maxLength: 60),
            from: try AppointmentRules.bounded(try query.instant("from"), "from"), to: try AppointmentRules.bounded(try query.instant("to"), "to"))
        let items = try await self.appointments.appointments(tenant: tenant, filter: filter, after: after, limit: page.limit, logger: context.logger)
        return JSONResponse(.ok, Page(items: items, nextCursor: page.next(items) { [String($0.startsAt.micros), $0.id.description] }))
    }

    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<AppointmentDTO> {
        let (_, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter("id", as: AppointmentID.self)
        guard let appointment = try await self.appointments.appointment(id, tenant: tenant, logger: context.logger) else { throw Self.notFound }
        return JSONResponse(.ok, appointment)
    }

    struct PaymentBody: Decodable {
        var amount: Money?
        var status: String?
    }

    struct CreateBody: Decodable {
        var agentId: String?
        var leadId: String?
        var contactId: String?
        var contactName: String?
        var contactPhone: String?
        var contactEmail: String?
        var type: String?
        var serviceType: String?
        var title: String?
        var notes: String?
        var status: String?
        var holdMinutes: Int?
        var startsAt: Date?
        var endsAt: Date?
        var durationMinutes: Int?
        var timeZone: String?
        var location: String?
        var meetingUrl: String?
        var participants: [Participant]?
        var source: String?
        var conversationId: String?
        var payment: PaymentBody?
        var metadata: [String: JSONValue]?
    }

    /// A booking the schedule does not offer, found inside the idempotent write.
    struct Refused: Error {
        var error: APIError
    }

    /// A 409 `slot_taken` (or `outside_availability`) with the agent's next free slots of the same length.
    struct SlotRefusal: Encodable {
        var error: APIErrorBody.Detail
        var nextSlots: [SlotDTO]
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (caller, tenant) = try context.requireTenantCaller()
        let body = try await request.decodeJSON(CreateBody.self, context: context)
        guard let agentText = body.agentId, let agentID = CalendarAgentID(agentText) else {
            throw APIError.unprocessable("invalid_agentId", "agentId is required: a calendar agent's id.")
        }
        guard let agent = try await self.agents.agent(agentID, tenant: tenant, logger: context.logger) else {
            throw APIError.unprocessable("unknown_agent", "No such calendar agent in this tenant.")
        }
        guard agent.active else { throw APIError.conflict("agent_inactive", "This calendar agent takes no appointments now.") }
        let source = try body.source.map { try TextRules.known($0, AppointmentSource.self, "source") } ?? .manual
        let serviceType = try Self.serviceType(body.serviceType)
        guard let start = body.startsAt else { throw APIError.unprocessable("invalid_startsAt", "startsAt is required (an ISO 8601 instant).") }
        let duration = try body.durationMinutes.map { minutes in
            guard (5...1440).contains(minutes) else { throw APIError.unprocessable("invalid_durationMinutes", "durationMinutes is 5 to 1440.") }
            return minutes
        }
        let end =
            body.endsAt ?? duration.map { start.addingTimeInterval(Double($0) * 60) }
            ?? serviceType.flatMap { agent.serviceDurations[$0] }.map { start.addingTimeInterval(Double($0) * 60) }
        let (startsAt, endsAt) = try AppointmentRules.interval(start: start, end: end)
        let status = try body.status.map { try TextRules.known($0, AppointmentStatus.self, "status") } ?? .scheduled
        guard [.pending, .scheduled, .confirmed].contains(status) else {
            throw APIError.unprocessable("invalid_status", "A new appointment is pending (a hold), scheduled or confirmed.")
        }
        let holdMinutes = try body.holdMinutes.map { minutes in
            guard (1...1440).contains(minutes) else { throw APIError.unprocessable("invalid_holdMinutes", "holdMinutes is 1 to 1440.") }
            return minutes
        }
        guard holdMinutes == nil || status == .pending else {
            throw APIError.unprocessable("invalid_holdMinutes", "holdMinutes is for a pending appointment (a hold).")
        }
        let zone = try body.timeZone.map { try AppointmentRules.zoneIdentifier($0, field: "timeZone") } ?? agent.timeZone
        let title = body.title ?? serviceType ?? "Appointment"
        try TextRules.check(title, field: "title", length: 1...200)
        try TextRules.check(body.notes, field: "notes", length: 0...2000)
        let contact = try Self.contact(name: body.contactName, phone: body.contactPhone, email: body.contactEmail)
        try TextRules.check(body.location, field: "location", length: 0...500)
        let meetingURL = try Self.meetingURL(body.meetingUrl)
        let participants = try Self.participants(body.participants)
        let payment = try Self.payment(body.payment)
        let schedule = try await self.slots.schedule(agentID, tenant: tenant, logger: context.logger)
        let minutes = Int((endsAt.timeIntervalSince(startsAt) / 60).rounded())
        let leadID = try Self.uuid(body.leadId, "leadId")
        let contactID = try Self.uuid(body.contactId, "contactId").map { ContactID(rawValue: $0) }
        let conversationID = try Self.uuid(body.conversationId, "conversationId").map { ConversationID(rawValue: $0) }
        let type = try body.type.map { try TextRules.known($0, AppointmentType.self, "type") } ?? .other
        let metadata = try AppointmentRules.metadata(body.metadata)
        let holdExpiresAt: Date? = status == .pending ? Date().addingTimeInterval(Double(holdMinutes ?? Self.defaultHoldMinutes) * 60) : nil
        var new = AppointmentsStore.NewAppointment(
            agent: agentID, type: type, title: title, status: status, start: startsAt, end: endsAt, timeZone: zone, source: source)
        new.leadId = leadID
        new.contactId = contactID
        (new.contactName, new.contactPhone, new.contactEmail) = (contact.name, contact.phone, contact.email)
        new.serviceType = serviceType
        new.notes = body.notes
        new.holdExpiresAt = holdExpiresAt
        new.bufferBefore = schedule?.bufferBeforeMinutes ?? 0
        new.bufferAfter = schedule?.bufferAfterMinutes ?? 0
        new.location = body.location
        new.meetingUrl = meetingURL
        new.participants = participants
        new.conversationId = conversationID
        new.payment = payment
        new.metadata = metadata
        do {
            return try await self.idempotency.write(request, context: context, postgres: self.appointments.postgres) { connection in
                // a customer or an agent books what the schedule offers; staff booking by hand may book any free time
                // (checked here, after the Idempotency-Key: a retry of a booking that went through gets its answer)
                if source != .manual {
                    let asked = DateInterval(start: startsAt, end: endsAt)
                    let offered = try await self.slots.slots(
                        agent: agentID, tenant: tenant, from: startsAt, to: endsAt, durationMinutes: minutes, on: connection, logger: context.logger)
                    if !offered.contains(asked) {
                        // a time the schedule offers but someone holds is taken; any other was never offered
                        let scheduled = try await self.slots.slots(
                            agent: agentID, tenant: tenant, from: startsAt, to: endsAt, durationMinutes: minutes, countingBooked: false,
                            on: connection, logger: context.logger)
                        throw Refused(
                            error: scheduled.contains(asked)
                                ? AppointmentsStore.slotTaken
                                : APIError.conflict("outside_availability", "The agent does not offer this time; book one of its free slots."))
                    }
                }
                return JSONResponse(
                    .created,
                    try await self.appointments.book(
                        new, tenant: tenant, actor: caller.subject, requestID: context.requestID, on: connection, logger: context.logger))
            }
        } catch {
            // the refusal arrives wrapped in the transaction's error
            let answer =
                ((error as? PostgresTransactionError)?.closureError as? Refused)?.error ?? (error as? Refused)?.error ?? APIError.from(error)
            guard answer.code == AppointmentsStore.slotTaken.code || answer.code == "outside_availability" else { throw error }
            return try await self.refusal(
                answer, agent: agentID, tenant: tenant, after: startsAt, minutes: minutes, zone: zone, request: request, context: context)
        }
    }

    func refusal(
        _ error: APIError, agent: CalendarAgentID, tenant: TenantID, after: Date, minutes: Int, zone: String, request: Request,
        context: AppRequestContext
    ) async throws -> Response {
        let next = try await self.slots.next(agent: agent, tenant: tenant, after: after, durationMinutes: minutes, logger: context.logger)
        let shown = TimeZone(identifier: zone) ?? .gmt
        let body = SlotRefusal(error: .init(code: error.code, message: error.message), nextSlots: next.map { SlotDTO($0, in: shown) })
        return try JSONResponse(error.status, body).response(from: request, context: context)
    }

    /// A field set to `null` is cleared; one left out is kept.
    struct UpdateBody: Decodable {
        var title: String?
        var notes: String??
        var contactName: String??
        var contactPhone: String??
        var contactEmail: String??
        var location: String??
        var meetingUrl: String??
        var participants: [Participant]?
        var paymentStatus: String?
        var metadata: [String: JSONValue]?

        enum CodingKeys: String, CodingKey {
            case title, notes, contactName, contactPhone, contactEmail, location, meetingUrl, participants, paymentStatus, metadata
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            func clearable(_ key: CodingKeys) throws -> String?? { try container.decodeClearable(String.self, forKey: key) }
            self.title = try container.decodeIfPresent(String.self, forKey: .title)
            self.notes = try clearable(.notes)
            self.contactName = try clearable(.contactName)
            self.contactPhone = try clearable(.contactPhone)
            self.contactEmail = try clearable(.contactEmail)
            self.location = try clearable(.location)
            self.meetingUrl = try clearable(.meetingUrl)
            self.participants = try container.decodeIfPresent([Participant].self, forKey: .participants)
            self.paymentStatus = try container.decodeIfPresent(String.self, forKey: .paymentStatus)
            self.metadata = try container.decodeIfPresent([String: JSONValue].self, forKey: .metadata)
        }
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<AppointmentDTO> {
        let (caller, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter("id", as: AppointmentID.self)
        let body = try await request.decodeJSON(UpdateBody.self, context: context)
        var change = AppointmentsStore.Change()
        if let title = body.title {
            try TextRules.check(title, field: "title", length: 1...200)
            change.title = title
        }
        if let notes = body.notes {
            try TextRules.check(notes, field: "notes", length: 0...2000)
            change.setNotes = true
            change.notes = notes
        }
        // the contact's fields given are checked now and set below; those left out keep their value
        let contactGiven = body.contactName != nil || body.contactPhone != nil || body.contactEmail != nil
        let contact = try Self.contact(name: body.contactName ?? nil, phone: body.contactPhone ?? nil, email: body.contactEmail ?? nil)
        if let location = body.location {
            try TextRules.check(location, field: "location", length: 0...500)
            change.setLocation = true
            change.location = location
        }
        if let url = body.meetingUrl {
            change.setMeetingUrl = true
            change.meetingUrl = try Self.meetingURL(url)
        }
        if let participants = body.participants { change.participants = try Self.participants(participants) }
        if let status = body.paymentStatus { change.paymentStatus = try TextRules.known(status, PaymentStatus.self, "paymentStatus") }
        if let metadata = body.metadata { change.metadata = try AppointmentRules.metadata(metadata) }
        let planned = change
        guard
            let appointment = try await self.appointments.change(
                id, tenant: tenant, action: "updated", actor: caller.subject, requestID: context.requestID, logger: context.logger,
                { before in
                    if planned.paymentStatus != nil && before.payment == nil {
                        throw APIError.unprocessable("no_payment", "This appointment has no payment to update.")
                    }
                    var change = planned
                    if contactGiven {
                        change.setContact = true
                        change.contactName = body.contactName == nil ? before.contactName : contact.name
                        change.contactPhone = body.contactPhone == nil ? before.contactPhone : contact.phone
                        change.contactEmail = body.contactEmail == nil ? before.contactEmail : contact.email
                    }
                    return change
                })
        else { throw Self.notFound }
        return JSONResponse(.ok, appointment)
    }

    struct ActionBody: Decodable {
        var reason: String?
    }

    func act(_ action: String, _ request: Request, _ context: AppRequestContext) async throws -> JSONResponse<AppointmentDTO> {
        let (caller, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter("id", as: AppointmentID.self)
        let body = try await request.decodeJSON(ActionBody.self, context: context, orIfEmpty: ActionBody()) ?? ActionBody()
        return JSONResponse(.ok, try await self.transition(action, id: id, tenant: tenant, reason: body.reason, actor: caller.subject, context: context))
    }

    /// Confirms, cancels, completes or marks a no-show, as the rules allow (also for a customer's signed link).
    func transition(_ action: String, id: AppointmentID, tenant: TenantID, reason: String?, actor: String, context: AppRequestContext) async throws
        -> AppointmentDTO
    {
        try TextRules.check(reason, field: "reason", length: 1...500)
        let now = Date()
        guard
            let appointment = try await self.appointments.change(
                id, tenant: tenant, action: Self.auditName(action), actor: actor, requestID: context.requestID, logger: context.logger,
                { before in
                    var change = AppointmentsStore.Change()
                    change.status = try AppointmentRules.check(action, from: before.status, startsAt: before.startsAt, now: now)
                    if change.status == .cancelled { change.cancellationReason = reason }
                    return change
                })
        else { throw Self.notFound }
        return appointment
    }

    static func auditName(_ action: String) -> String {
        ["confirm": "confirmed", "cancel": "cancelled", "complete": "completed", "no-show": "no_show"][action] ?? action
    }

    struct RescheduleBody: Decodable {
        var startsAt: Date?
        var endsAt: Date?
        var timeZone: String?
        var reason: String?
    }

    /// Moves an appointment to a free time: the old times join its history; a taken time is 409 with the next free slots.
    @Sendable func reschedule(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (caller, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter("id", as: AppointmentID.self)
        let body = try await request.decodeJSON(RescheduleBody.self, context: context)
        return try await self.move(id, tenant: tenant, body, actor: caller.subject, offeredOnly: false, request: request, context: context)
    }

    /// Moves an appointment; `offeredOnly` (a customer's signed link): only to a slot the schedule offers, as a
    /// customer's booking.
    func move(
        _ id: AppointmentID, tenant: TenantID, _ body: RescheduleBody, actor: String, offeredOnly: Bool, request: Request, context: AppRequestContext
    ) async throws -> Response {
        try TextRules.check(body.reason, field: "reason", length: 1...500)
        guard let current = try await self.appointments.appointment(id, tenant: tenant, logger: context.logger) else { throw Self.notFound }
        let length = current.endsAt.timeIntervalSince(current.startsAt)
        let (start, end) = try AppointmentRules.interval(start: body.startsAt, end: body.endsAt ?? body.startsAt?.addingTimeInterval(length))
        let zone = try body.timeZone.map { try AppointmentRules.zoneIdentifier($0, field: "timeZone") }
        let schedule = try await self.slots.schedule(current.agentId, tenant: tenant, logger: context.logger)
        let minutes = Int((end.timeIntervalSince(start) / 60).rounded())
        let now = Date()
        do {
            if offeredOnly {
                let asked = DateInterval(start: start, end: end)
                // its own time does not count against it (a move by a few minutes within its own slot)
                let offered = try await self.slots.slots(
                    agent: current.agentId, tenant: tenant, from: start, to: end, durationMinutes: minutes, ignoring: id, logger: context.logger)
                if !offered.contains(asked) {
                    // a time the schedule offers but someone holds is taken; any other was never offered
                    let scheduled = try await self.slots.slots(
                        agent: current.agentId, tenant: tenant, from: start, to: end, durationMinutes: minutes, countingBooked: false,
                        logger: context.logger)
                    throw scheduled.contains(asked)
                        ? AppointmentsStore.slotTaken
                        : APIError.conflict("outside_availability", "The agent does not offer this time; pick one of its free slots.")
                }
            }
            guard
                let moved = try await self.appointments.change(
                    id, tenant: tenant, action: "rescheduled", actor: actor, requestID: context.requestID, logger: context.logger,
                    { before in
                        var change = AppointmentsStore.Change()
                        change.status = try AppointmentRules.check("reschedule", from: before.status, startsAt: before.startsAt, now: now)
                        change.start = start
                        change.end = end
                        change.bufferBefore = schedule?.bufferBeforeMinutes
                        change.bufferAfter = schedule?.bufferAfterMinutes
                        change.timeZone = zone
                        change.reschedules =
                            before.reschedules + [Reschedule(startsAt: before.startsAt, endsAt: before.endsAt, at: now, by: actor, reason: body.reason)]
                        return change
                    })
            else { throw Self.notFound }
            return try JSONResponse(.ok, moved).response(from: request, context: context)
        } catch {
            let answer = APIError.from(error)
            guard answer.code == AppointmentsStore.slotTaken.code || answer.code == "outside_availability" else { throw error }
            return try await self.refusal(
                answer, agent: current.agentId, tenant: tenant, after: start, minutes: Int((length / 60).rounded()), zone: zone ?? current.timeZone,
                request: request, context: context)
        }
    }

    // MARK: input

    static func uuid(_ text: String?, _ field: String) throws -> UUID? {
        guard let text else { return nil }
        guard let id = UUID(uuidString: text) else { throw APIError.unprocessable("invalid_\(field)", "\(field) must be a UUID.") }
        return id
    }

    static func serviceType(_ text: String?) throws -> String? {
        try TextRules.check(text, field: "serviceType", length: 1...60)
        return text
    }

    static func contact(name: String?, phone: String?, email: String?) throws -> (name: String?, phone: String?, email: String?) {
        try TextRules.check(name, field: "contactName", length: 1...200)
        let e164 = try phone.map { text in
            do { return try PhoneNumber(parsing: text).e164 } catch {
                throw APIError.unprocessable("invalid_contactPhone", "contactPhone must be a phone number in international form, such as +254712345678.")
            }
        }
        try TextRules.check(email, field: "contactEmail", length: 3...254)
        if let email, !email.contains("@") || email.contains(where: \.isWhitespace) {
            throw APIError.unprocessable("invalid_contactEmail", "contactEmail must be an address such as client@example.com.")
        }
        return (name, e164, email)
    }

    static func meetingURL(_ text: String?) throws -> String? {
        guard let text else { return nil }
        guard TextRules.length(text) <= 2000, let url = URL(string: text), url.scheme == "https" || url.scheme == "http", url.host != nil else {
            throw APIError.unprocessable("invalid_meetingUrl", "meetingUrl must be an http(s) URL.")
        }
        return text
    }

    static func participants(_ list: [Participant]?) throws -> [Participant] {
        guard let list else { return [] }
        guard list.count <= 50 else { throw APIError.unprocessable("invalid_participants", "At most 50 participants.") }
        return try list.map { participant in
            let checked = try Self.contact(name: participant.name, phone: participant.phone, email: participant.email)
            return Participant(name: checked.name, email: checked.email, phone: checked.phone)
        }
    }

    static func payment(_ body: PaymentBody?) throws -> AppointmentDTO.Payment? {
        guard let body else { return nil }
        guard let amount = body.amount, amount.minorUnits >= 0 else {
            throw APIError.unprocessable("invalid_payment", "payment.amount is required: {\"amount\":\"10.00\",\"currency\":\"KES\"}, not negative.")
        }
        return .init(amount: amount, status: try body.status.map { try TextRules.known($0, PaymentStatus.self, "paymentStatus") } ?? .pending)
    }
}

/// A free slot, as instants and in the asker's zone.
struct SlotDTO: Codable, Sendable, Equatable {
    var startsAt: Date
    var endsAt: Date
    var localStart: String
    var localEnd: String

    init(_ interval: DateInterval, in zone: TimeZone) {
        self.startsAt = interval.start
        self.endsAt = interval.end
        self.localStart = Availability.local(interval.start, in: zone)
        self.localEnd = Availability.local(interval.end, in: zone)
    }
}
