import Contracts
import Crypto
import Foundation
import Logging
import Models
import ServiceClient

/// The booking tools a scheduling agent may use (calendar-booking answers them): find free slots, book one for the
/// customer, cancel or move the customer's own appointment. The customer is the conversation's contact, by phone
/// number: an appointment is booked for that number, and cancelled or moved only when it is that number's, so no chat
/// can touch someone else's booking. A booking's Idempotency-Key comes from the inbound message and the tool call, so
/// a retried reply books once. Each answer is JSON for the model.
extension Tools {
    struct FoundSlots: Encodable {
        struct Slot: Encodable {
            var agentId: String
            var agentName: String?
            var startsAt: Date
            var localStart: String
            var durationMinutes: Int
        }
        var slots: [Slot]
    }

    struct Booked: Encodable {
        var appointmentId: String
        var status: String
        var agentId: String
        var startsAt: Date
        var localStart: String
        var localEnd: String
        var title: String
    }

    struct Refused: Encodable {
        var error: String
        var nextSlots: [FoundSlots.Slot]
    }

    static let maxSlots = 6
    static let notTheirs = #"{"error":"not this customer's appointment"}"#

    /// The key a booking tool's call sends: the same inbound message (conversation, its last turn) and the same call
    /// (tool, arguments) give the same key.
    static func bookingKey(_ tool: String, arguments: [String: String], call: ToolCallContext) -> String {
        let last = call.request.messages.last
        let parts =
            [
                call.tenant.description, call.request.conversationId.description, last.map { ISO8601.format($0.at) } ?? "", last?.text ?? "",
                last?.payload ?? "", tool,
            ] + arguments.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        let digest = SHA256.hash(data: Data(parts.joined(separator: "\u{1F}").utf8))
        return "agent-\(tool)/" + digest.map { String(format: "%02x", $0) }.joined().prefix(40)
    }

    /// `whatsapp`, `sms`, `web`, `voice`, or `agent` for any other channel.
    static func bookingSource(_ channelKind: String) -> String {
        switch channelKind {
        case "whatsapp", "sms", "voice": channelKind
        case "webchat", "web": "web"
        default: "agent"
        }
    }

    static func minutes(_ text: String?) -> Int? {
        text.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }.flatMap { (5...1440).contains($0) ? $0 : nil }
    }

    /// The start of a `yyyy-MM-dd` day in the zone.
    static func day(_ text: String, in zone: TimeZone) -> Date? {
        let parts = text.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3 else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        return calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2]))
    }

    func findSlots(_ arguments: [String: String], call: ToolCallContext) async -> String {
        guard let calendar = self.calendar else { return Self.unavailable }
        do {
            let context = try await self.callContext(call.tenant, call.requestID)
            var agents = try await calendar().agents(context: context).filter(\.active)
            if let name = arguments["agentName"]?.trimmingCharacters(in: .whitespaces), !name.isEmpty {
                agents = agents.filter { $0.name.localizedCaseInsensitiveContains(name) }
                guard !agents.isEmpty else { return #"{"error":"no_such_agent","slots":[]}"# }
            }
            let serviceType = arguments["serviceType"].map { String($0.prefix(60)) }.flatMap { $0.isEmpty ? nil : $0 }
            let now = Date()
            var found: [FoundSlots.Slot] = []
            for agent in agents.prefix(10) {
                let duration = Self.minutes(arguments["durationMinutes"]) ?? serviceType.flatMap { agent.serviceDurations[$0] } ?? 30
                var from: Date?
                var to: Date?
                if let date = arguments["date"] {
                    guard let start = Self.day(date, in: TimeZone(identifier: agent.timeZone) ?? .gmt) else {
                        return #"{"error":"date must be yyyy-MM-dd"}"#
                    }
                    let end = start.addingTimeInterval(24 * 3600)
                    guard end > now else { continue }
                    (from, to) = (max(start, now), end)
                }
                let view = try await calendar().slots(agentId: agent.id, from: from, to: to, duration: duration, context: context)
                found += view.slots.prefix(Self.maxSlots).map {
                    .init(
                        agentId: agent.id.description, agentName: agent.name, startsAt: $0.startsAt, localStart: $0.localStart,
                        durationMinutes: view.durationMinutes)
                }
            }
            return Self.json(FoundSlots(slots: Array(found.sorted { $0.startsAt < $1.startsAt }.prefix(Self.maxSlots))))
        } catch {
            call.logger.warning("finding slots failed", metadata: ["error": "\(error)"])
            return Self.unavailable
        }
    }

    /// The agent's next free slots from `after`, for a refused booking or move.
    func nextSlots(_ agent: CalendarAgentID, after: Date, duration: Int?, serviceType: String?, context: CallContext) async -> [FoundSlots.Slot] {
        guard let calendar = self.calendar,
            let view = try? await calendar().slots(
                agentId: agent, from: max(after, Date()), duration: duration ?? (serviceType == nil ? 30 : nil), serviceType: serviceType,
                context: context)
        else { return [] }
        return view.slots.prefix(Self.maxSlots).map {
            .init(agentId: agent.description, startsAt: $0.startsAt, localStart: $0.localStart, durationMinutes: view.durationMinutes)
        }
    }

    static func booked(_ appointment: CalendarAPI.AppointmentView) -> String {
        Self.json(
            Booked(
                appointmentId: appointment.id.description, status: appointment.status, agentId: appointment.agentId.description,
                startsAt: appointment.startsAt, localStart: appointment.localStart, localEnd: appointment.localEnd, title: appointment.title))
    }

    func bookAppointment(_ arguments: [String: String], call: ToolCallContext) async -> String {
        guard let calendar = self.calendar else { return Self.unavailable }
        guard let phone = try? PhoneNumber(parsing: call.request.contact.address) else {
            return #"{"error":"the customer has no phone number to book with"}"#
        }
        guard let agent = arguments["agentId"].flatMap(CalendarAgentID.init) else { return #"{"error":"agentId is required: one find_slots answered"}"# }
        guard let start = arguments["startsAt"].flatMap(ISO8601.parse) else { return #"{"error":"startsAt is required: one find_slots answered"}"# }
        let serviceType = arguments["serviceType"].map { String($0.prefix(60)) }.flatMap { $0.isEmpty ? nil : $0 }
        let duration = Self.minutes(arguments["durationMinutes"]) ?? (serviceType == nil ? 30 : nil)
        let hold = arguments["hold"]?.lowercased() == "true"
        let title = arguments["title"].map { String($0.prefix(200)) }.flatMap { $0.isEmpty ? nil : $0 }
        do {
            let context = try await self.callContext(call.tenant, call.requestID)
            do {
                let appointment = try await calendar().book(
                    .init(
                        agentId: agent.description, startsAt: start, durationMinutes: duration, serviceType: serviceType, title: title,
                        status: hold ? "pending" : "scheduled", contactName: call.request.contact.name.map { String($0.prefix(200)) },
                        contactPhone: phone.e164, source: Self.bookingSource(call.request.channelKind),
                        conversationId: call.request.conversationId.description),
                    idempotencyKey: Self.bookingKey(ToolName.bookAppointment.rawValue, arguments: arguments, call: call), context: context)
                return Self.booked(appointment)
            } catch ServiceClientError.api(409, let code, _) where code == "slot_taken" || code == "outside_availability" {
                // a retried reply: calendar-booking checks the slot before the Idempotency-Key, so the booking this
                // conversation already made for this customer at this time is the answer
                if code == "slot_taken",
                    let own = try await calendar().appointments(
                        agentId: agent, from: start.addingTimeInterval(-1), to: start.addingTimeInterval(1), context: context
                    ).first(where: {
                        abs($0.startsAt.timeIntervalSince(start)) < 1 && $0.contactPhone == phone.e164
                            && $0.conversationId == call.request.conversationId && ["pending", "scheduled", "confirmed"].contains($0.status)
                    })
                {
                    return Self.booked(own)
                }
                // the customer hears the next free times instead
                let next = await self.nextSlots(agent, after: start, duration: duration, serviceType: serviceType, context: context)
                return Self.json(Refused(error: code, nextSlots: next))
            }
        } catch ServiceClientError.api(let status, let code, _) where status < 500 {
            return #"{"error":"\#(code)"}"#
        } catch {
            call.logger.warning("booking failed", metadata: ["error": "\(error)"])
            return Self.unavailable
        }
    }

    /// The appointment when it is booked for the conversation's contact; an error answer otherwise.
    func ownAppointment(_ arguments: [String: String], call: ToolCallContext, context: CallContext) async throws -> Result<
        CalendarAPI.AppointmentView, OwnError
    > {
        guard let calendar = self.calendar else { return .failure(OwnError(answer: Self.unavailable)) }
        guard let id = arguments["appointmentId"].flatMap(AppointmentID.init) else {
            return .failure(OwnError(answer: #"{"error":"appointmentId is required"}"#))
        }
        guard let phone = try? PhoneNumber(parsing: call.request.contact.address) else { return .failure(OwnError(answer: Self.notTheirs)) }
        guard let appointment = try await calendar().appointment(id, context: context) else {
            return .failure(OwnError(answer: #"{"error":"not_found"}"#))
        }
        guard appointment.contactPhone == phone.e164 else { return .failure(OwnError(answer: Self.notTheirs)) }
        return .success(appointment)
    }

    struct OwnError: Error {
        var answer: String
    }

    func cancelAppointment(_ arguments: [String: String], call: ToolCallContext) async -> String {
        guard let calendar = self.calendar else { return Self.unavailable }
        do {
            let context = try await self.callContext(call.tenant, call.requestID)
            let appointment: CalendarAPI.AppointmentView
            switch try await self.ownAppointment(arguments, call: call, context: context) {
            case .success(let own): appointment = own
            case .failure(let refusal): return refusal.answer
            }
            if appointment.status == "cancelled" { return Self.booked(appointment) }
            let reason = arguments["reason"].map { String($0.prefix(500)) }.flatMap { $0.isEmpty ? nil : $0 }
            return Self.booked(
                try await calendar().cancel(
                    appointment.id, reason: reason, idempotencyKey: Self.bookingKey(ToolName.cancelAppointment.rawValue, arguments: arguments, call: call),
                    context: context))
        } catch ServiceClientError.api(let status, let code, _) where status < 500 {
            return #"{"error":"\#(code)"}"#
        } catch {
            call.logger.warning("cancelling an appointment failed", metadata: ["error": "\(error)"])
            return Self.unavailable
        }
    }

    func rescheduleAppointment(_ arguments: [String: String], call: ToolCallContext) async -> String {
        guard let calendar = self.calendar else { return Self.unavailable }
        guard let start = arguments["startsAt"].flatMap(ISO8601.parse) else { return #"{"error":"startsAt is required: one find_slots answered"}"# }
        do {
            let context = try await self.callContext(call.tenant, call.requestID)
            let appointment: CalendarAPI.AppointmentView
            switch try await self.ownAppointment(arguments, call: call, context: context) {
            case .success(let own): appointment = own
            case .failure(let refusal): return refusal.answer
            }
            if appointment.startsAt == start { return Self.booked(appointment) }
            do {
                return Self.booked(
                    try await calendar().reschedule(
                        appointment.id, to: start,
                        idempotencyKey: Self.bookingKey(ToolName.rescheduleAppointment.rawValue, arguments: arguments, call: call), context: context))
            } catch ServiceClientError.api(409, let code, _) where code == "slot_taken" {
                let minutes = Int((appointment.endsAt.timeIntervalSince(appointment.startsAt) / 60).rounded())
                let next = await self.nextSlots(appointment.agentId, after: start, duration: minutes, serviceType: nil, context: context)
                return Self.json(Refused(error: code, nextSlots: next))
            }
        } catch ServiceClientError.api(let status, let code, _) where status < 500 {
            return #"{"error":"\#(code)"}"#
        } catch {
            call.logger.warning("rescheduling an appointment failed", metadata: ["error": "\(error)"])
            return Self.unavailable
        }
    }
}
