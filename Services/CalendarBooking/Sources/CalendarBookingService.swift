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
/// - `calendar.publicUrl` [`CALENDAR_PUBLIC_URL`], default the gateway URL: the base of the agents' feed URLs, of the
///   links in reminders (`/booking/#…`) and of Google's OAuth redirect.
/// - `calendar.secretKeys` [`CALENDAR_SECRET_KEYS`], secret, default derived from the service key: `id:base64` keys
///   that seal Google tokens at rest (the first seals; all open).
/// - `calendar.linkSecret` [`CALENDAR_LINK_SECRET`], secret, default derived from the service key: signs reminders'
///   links.
/// - `google.clientId` [`GOOGLE_CLIENT_ID`] and `google.clientSecret` [`GOOGLE_CLIENT_SECRET`]: the OAuth client;
///   without them Google Calendar cannot be connected. `google.authorizeUrl`, `google.tokenUrl`, `google.revokeUrl`,
///   `google.apiUrl` [`GOOGLE_…_URL`] point elsewhere than Google (a fake, in tests).
/// - `calendar.googleSyncIntervalMs` [`CALENDAR_GOOGLE_SYNC_INTERVAL_MS`], default 120000: how often each connected
///   calendar's busy times are synced; `calendar.googleSyncTickMs` [`CALENDAR_GOOGLE_SYNC_TICK_MS`], default 5000:
///   how often the syncer looks for calendars due.
public struct CalendarBookingService: ServiceModule {
    public static let name = ServiceName.calendarBooking
    public static var openAPIDocument: Data? {
        Bundle.module.url(forResource: "openapi", withExtension: "json").flatMap { try? Data(contentsOf: $0) }
    }
    let environment: ServiceEnvironment
    let agents: AgentsStore
    let appointments: AppointmentsStore
    let reminders: RemindersStore
    let connections: ConnectionsStore
    let google: GoogleCalendar?
    let links: ManageLink
    let syncEvery: Duration
    let syncTick: Duration
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
        let settings = environment.settings.settings
        let serviceKey = environment.settings.serviceKey
        let box = try SecretBox(
            configuration: settings.string("calendar.secretKeys", secret: true)
                ?? SecretBox.derivedConfiguration(serviceKey: serviceKey, purpose: "sokoni calendar-booking google tokens"),
            key: "CALENDAR_SECRET_KEYS")
        self.links = ManageLink(
            secret: settings.string("calendar.linkSecret", secret: true)
                ?? SecretBox.derivedConfiguration(serviceKey: serviceKey, purpose: "sokoni calendar-booking manage links"))
        self.agents = AgentsStore(postgres: environment.postgres, audit: environment.audit)
        self.reminders = RemindersStore(postgres: environment.postgres, audit: environment.audit)
        self.connections = ConnectionsStore(postgres: environment.postgres, audit: environment.audit, jobs: environment.jobs, box: box)
        self.appointments = AppointmentsStore(
            postgres: environment.postgres, audit: environment.audit, reminders: self.reminders, connections: self.connections, crm: environment.crmEvents)
        self.reminderInterval = .milliseconds(
            try environment.settings.settings.int("calendar.reminderIntervalMs", default: 5_000, range: 10...86_400_000))
        self.reminderRetryBase = .milliseconds(
            try environment.settings.settings.int("calendar.reminderRetryBaseMs", default: 5_000, range: 10...3_600_000))
        self.sweepInterval = .milliseconds(
            try environment.settings.settings.int("calendar.holdSweepIntervalMs", default: 5_000, range: 10...86_400_000))
        var publicURL = environment.settings.settings.string("calendar.publicUrl") ?? environment.settings.serviceURLs[.gateway]!.absoluteString
        while publicURL.hasSuffix("/") { publicURL.removeLast() }
        self.publicURL = publicURL
        if let clientID = settings.string("google.clientId"), let secret = settings.string("google.clientSecret", secret: true) {
            var google = GoogleCalendar.Configuration(
                clientID: clientID, clientSecret: secret, redirectURI: publicURL + CalendarAPI.googleCallback.path)
            for (key, path) in [
                ("google.authorizeUrl", \GoogleCalendar.Configuration.authorizeURL), ("google.tokenUrl", \.tokenURL),
                ("google.revokeUrl", \.revokeURL), ("google.apiUrl", \.apiURL),
            ] {
                if let url = try settings.url(key) { google[keyPath: path] = url.absoluteString }
            }
            self.google = GoogleCalendar(configuration: google, http: environment.httpClient)
        } else {
            self.google = nil
        }
        self.syncEvery = .milliseconds(try settings.int("calendar.googleSyncIntervalMs", default: 120_000, range: 10...86_400_000))
        self.syncTick = .milliseconds(try settings.int("calendar.googleSyncTickMs", default: 5_000, range: 10...3_600_000))
    }

    var googleSync: GoogleSync? {
        self.google.map { google in
            GoogleSync(
                connections: self.connections, appointments: self.appointments, agents: self.agents, reminders: self.reminders, google: google,
                messaging: { [environment] in MessagingClient(environment.client(.messaging)) },
                callContext: { [environment] tenant, requestID in try await environment.serviceCallContext(tenant: tenant, requestID: requestID) },
                every: self.syncEvery, tick: self.syncTick, logger: self.environment.logger)
        }
    }

    public func addRoutes(to router: Router<AppRequestContext>) {
        let slots = SlotFinder(agents: self.agents, appointments: self.appointments, connections: self.connections)
        AgentsController(agents: self.agents, idempotency: self.environment.idempotency).addRoutes(to: router)
        AvailabilityController(agents: self.agents, slots: slots, idempotency: self.environment.idempotency).addRoutes(to: router)
        let booking = AppointmentsController(
            appointments: self.appointments, agents: self.agents, slots: slots, idempotency: self.environment.idempotency)
        booking.addRoutes(to: router)
        ManageController(links: self.links, appointments: self.appointments, agents: self.agents, slots: slots, booking: booking).addRoutes(to: router)
        ConnectionsController(connections: self.connections, agents: self.agents, sync: self.googleSync, consoleURL: self.publicURL + "/admin/")
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
                links: self.links, publicURL: self.publicURL, interval: self.reminderInterval, retryBase: self.reminderRetryBase,
                logger: self.environment.logger),
        ] + (self.googleSync.map { [$0] } ?? [])
    }

    public func registerJobs(_ registry: inout JobRegistry) {
        CRMEvents.register(&registry, environment: self.environment)
        guard let sync = self.googleSync else { return }
        registry.register(ConnectionsStore.pushJob, as: ConnectionsStore.Push.self) { push, _, _ in try await sync.push(push) }
    }
}
