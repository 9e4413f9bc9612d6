import Foundation
import Hummingbird
import ServiceKit
import ServiceLifecycle

/// The calendar-booking service: calendars of people and bookable resources with their availability in their own
/// time zones, and appointments the database refuses to double-book. This type only assembles: each controller gets
/// the stores it uses.
///
/// Its own settings, besides ServiceKit's:
/// - `calendar.holdSweepIntervalMs` [`CALENDAR_HOLD_SWEEP_INTERVAL_MS`], default 5000: how often holds whose time ran
///   out are expired.
public struct CalendarBookingService: ServiceModule {
    public static let name = ServiceName.calendarBooking
    public static var openAPIDocument: Data? {
        Bundle.module.url(forResource: "openapi", withExtension: "json").flatMap { try? Data(contentsOf: $0) }
    }
    let environment: ServiceEnvironment
    let agents: AgentsStore
    let appointments: AppointmentsStore
    let sweepInterval: Duration

    public init(environment: ServiceEnvironment) async throws {
        self.environment = environment
        self.agents = AgentsStore(postgres: environment.postgres, audit: environment.audit)
        self.appointments = AppointmentsStore(postgres: environment.postgres, audit: environment.audit)
        self.sweepInterval = .milliseconds(
            try environment.settings.settings.int("calendar.holdSweepIntervalMs", default: 5_000, range: 10...86_400_000))
    }

    public func addRoutes(to router: Router<AppRequestContext>) {
        let slots = SlotFinder(agents: self.agents, appointments: self.appointments)
        AgentsController(agents: self.agents, idempotency: self.environment.idempotency).addRoutes(to: router)
        AvailabilityController(agents: self.agents, slots: slots).addRoutes(to: router)
        AppointmentsController(appointments: self.appointments, agents: self.agents, slots: slots, idempotency: self.environment.idempotency)
            .addRoutes(to: router)
    }

    public var backgroundServices: [any Service] {
        [HoldSweeper(appointments: self.appointments, interval: self.sweepInterval, logger: self.environment.logger)]
    }
}
