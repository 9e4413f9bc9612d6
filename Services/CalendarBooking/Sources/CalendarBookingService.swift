import Contracts
import Foundation
import Hummingbird
import Logging
import ServiceKit
import ServiceLifecycle

/// The calendar-booking service: calendars of people and bookable resources with their availability in their own
/// time zones, and appointments the database refuses to double-book. This type only assembles: each controller gets
/// the stores it uses.
///
/// Its own settings, besides ServiceKit's:
/// - `calendar.holdSweepIntervalMs` [`CALENDAR_HOLD_SWEEP_INTERVAL_MS`], default 5000: how often holds whose time ran
///   out are expired.
/// - `calendar.reminderIntervalMs` [`CALENDAR_REMINDER_INTERVAL_MS`], default 5000: how often due reminders are sent.
/// - `calendar.reminderRetryBaseMs` [`CALENDAR_REMINDER_RETRY_BASE_MS`], default 5000: the first wait after messaging
///   could not take a reminder (doubled on each later try, up to an hour).
/// - `calendar.publicUrl` [`CALENDAR_PUBLIC_URL`], default the gateway URL: the base of the agents' feed URLs.
public struct CalendarBookingService: ServiceModule {
    public static let name = ServiceName.calendarBooking
    public static var openAPIDocument: Data? {
        Bundle.module.url(forResource: "openapi", withExtension: "json").flatMap { try? Data(contentsOf: $0) }
    }
    let environment: ServiceEnvironment
    let agents: AgentsStore
    let appointments: AppointmentsStore
    let reminders: RemindersStore
    let reminderInterval: Duration
    let reminderRetryBase: Duration
    let sweepInterval: Duration
    let publicURL: String

    /// `calendar-booking seed-demo`: migrates, then gives the demo tenant its calendars (run by `./Deploy/local`;
    /// running it again changes nothing).
    public static func runCommand(_ name: String, arguments: [String], settings: ServiceSettings, logger: Logger) async throws -> Bool {
        guard name == "seed-demo" else { return false }
        try await ServiceMain.withMigratedClient(settings: settings, logger: logger) { postgres in
            try await DemoSeed.run(postgres: postgres, logger: logger)
        }
        return true
    }

    public init(environment: ServiceEnvironment) async throws {
        self.environment = environment
        self.agents = AgentsStore(postgres: environment.postgres, audit: environment.audit)
        self.reminders = RemindersStore(postgres: environment.postgres, audit: environment.audit)
        self.appointments = AppointmentsStore(postgres: environment.postgres, audit: environment.audit, reminders: self.reminders)
        self.reminderInterval = .milliseconds(
            try environment.settings.settings.int("calendar.reminderIntervalMs", default: 5_000, range: 10...86_400_000))
        self.reminderRetryBase = .milliseconds(
            try environment.settings.settings.int("calendar.reminderRetryBaseMs", default: 5_000, range: 10...3_600_000))
        self.sweepInterval = .milliseconds(
            try environment.settings.settings.int("calendar.holdSweepIntervalMs", default: 5_000, range: 10...86_400_000))
        var publicURL = environment.settings.settings.string("calendar.publicUrl") ?? environment.settings.serviceURLs[.gateway]!.absoluteString
        while publicURL.hasSuffix("/") { publicURL.removeLast() }
        self.publicURL = publicURL
    }

    public func addRoutes(to router: Router<AppRequestContext>) {
        let slots = SlotFinder(agents: self.agents, appointments: self.appointments)
        AgentsController(agents: self.agents, idempotency: self.environment.idempotency).addRoutes(to: router)
        AvailabilityController(agents: self.agents, slots: slots, idempotency: self.environment.idempotency).addRoutes(to: router)
        AppointmentsController(appointments: self.appointments, agents: self.agents, slots: slots, idempotency: self.environment.idempotency)
            .addRoutes(to: router)
        FeedsController(agents: self.agents, appointments: self.appointments, publicURL: self.publicURL).addRoutes(to: router)
        RemindersController(reminders: self.reminders, appointments: self.appointments).addRoutes(to: router)
    }

    public var backgroundServices: [any Service] {
        [
            HoldSweeper(appointments: self.appointments, interval: self.sweepInterval, logger: self.environment.logger),
            ReminderSender(
                reminders: self.reminders, messaging: { [environment] in MessagingClient(environment.client(.messaging)) },
                callContext: { [environment] tenant, requestID in try await environment.serviceCallContext(tenant: tenant, requestID: requestID) },
                interval: self.reminderInterval, retryBase: self.reminderRetryBase, logger: self.environment.logger),
        ]
    }
}
