import Contracts
import Foundation
import Hummingbird
import Models
import ServiceKit

/// `GET/PUT /v1/calendar/settings` (which reminders appointments get, whether bookings are confirmed) and
/// `GET /v1/appointments/{id}/reminders` (what an appointment is owed or was sent).
struct RemindersController: Sendable {
    let reminders: RemindersStore
    let appointments: AppointmentsStore

    func addRoutes(to router: Router<AppRequestContext>) {
        router.on(CalendarAPI.getSettings, use: self.getSettings)
        router.on(CalendarAPI.putSettings, use: self.putSettings)
        router.on(CalendarAPI.appointmentReminders, use: self.list)
    }

    @Sendable func getSettings(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<RemindersStore.Settings> {
        let (_, tenant) = try context.requireTenantCaller()
        return JSONResponse(.ok, try await self.reminders.settings(tenant: tenant, logger: context.logger))
    }

    struct SettingsBody: Decodable {
        var reminderOffsets: [Int]?
        var sendConfirmation: Bool?
        /// E.164; an empty string clears it.
        var alertPhone: String?
    }

    @Sendable func putSettings(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<RemindersStore.Settings> {
        let (caller, tenant) = try context.requireTenantCaller()
        let body = try await request.decodeJSON(SettingsBody.self, context: context)
        var settings = try await self.reminders.settings(tenant: tenant, logger: context.logger)
        if let offsets = body.reminderOffsets {
            guard offsets.count <= 5, offsets.allSatisfy({ (1...20_160).contains($0) }), Set(offsets).count == offsets.count else {
                throw APIError.unprocessable(
                    "invalid_reminderOffsets", "reminderOffsets lists up to 5 different times before the start, in minutes (1 to 20160: two weeks).")
            }
            settings.reminderOffsets = offsets.sorted(by: >)
        }
        if let confirm = body.sendConfirmation { settings.sendConfirmation = confirm }
        if let phone = body.alertPhone {
            if phone.isEmpty {
                settings.alertPhone = nil
            } else {
                guard let number = try? PhoneNumber(parsing: phone), phone.hasPrefix("+") else {
                    throw APIError.unprocessable("invalid_alertPhone", "alertPhone is a phone number in E.164 form (+254712345678), or empty to clear it.")
                }
                settings.alertPhone = number.e164
            }
        }
        return JSONResponse(
            .ok,
            try await self.reminders.putSettings(
                settings, tenant: tenant, actor: caller.subject, requestID: context.requestID, logger: context.logger))
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<ReminderDTO>> {
        let (_, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter("id", as: AppointmentID.self)
        guard try await self.appointments.appointment(id, tenant: tenant, logger: context.logger) != nil else { throw AppointmentsController.notFound }
        return JSONResponse(.ok, Page(items: try await self.reminders.reminders(appointment: id, tenant: tenant, logger: context.logger), nextCursor: nil))
    }
}
