import Foundation
import Hummingbird
import Logging
import Models
import ServiceKit
import ServiceLifecycle

/// The vouchers service: stations, vouchers with signed QR codes and card images, a state machine the database
/// enforces, race-free redemption at the right station, expiry, events, audit and metrics. This type only
/// assembles: each controller gets the stores and collaborators it uses.
///
/// Its own settings, besides ServiceKit's:
/// - `vouchers.qrSecret` [`VOUCHERS_QR_SECRET`], required: the HMAC key of QR payloads and image links.
/// - `blobs.directory` [`BLOBS_DIRECTORY`], default `.local/blobs`: where images are kept.
/// - `vouchers.publicUrl` [`VOUCHERS_PUBLIC_URL`], default the gateway URL: the base of image links.
/// - `vouchers.defaultExpiryDays` [`VOUCHERS_DEFAULT_EXPIRY_DAYS`], default 30 (0: no expiry unless given).
/// - `vouchers.imageLinkHours` [`VOUCHERS_IMAGE_LINK_HOURS`], default 168: how long image links work.
/// - `vouchers.sweepIntervalMs` [`VOUCHERS_SWEEP_INTERVAL_MS`], default 60000: the expiry sweeper's period.
/// - `vouchers.maxFailuresPerOperator` (10), `vouchers.maxFailuresPerStation` (30), `vouchers.lockoutSeconds` (600):
///   guessing protection on redemption.
public struct VouchersService: ServiceModule {
    /// The QR signing secret is required; a test instance gets a fixed one.
    public static let testSettings = ["VOUCHERS_QR_SECRET": "test-qr-secret"]
    public static let name = ServiceName.vouchers
    public static var openAPIDocument: Data? {
        Bundle.module.url(forResource: "openapi", withExtension: "json").flatMap { try? Data(contentsOf: $0) }
    }

    let environment: ServiceEnvironment
    let stations: StationsStore
    let vouchers: VouchersStore
    let images: VoucherImageStore
    let links: ImageLinks
    let stationsController: StationsController
    let vouchersController: VouchersController
    let redemptionsController: RedemptionsController
    let imagesController: ImagesController
    let sweepInterval: Duration

    public init(environment: ServiceEnvironment) async throws {
        self.environment = environment
        let settings = environment.settings.settings
        let secret = try settings.required("vouchers.qrSecret", secret: true)
        let qrPayload = QRPayload(secret: secret)
        let signer = SignedURLs(secret: secret)
        let directory =
            settings.string("blobs.directory")
            ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(".local/blobs").path
        var publicURL = settings.string("vouchers.publicUrl") ?? environment.settings.serviceURLs[.gateway]!.absoluteString
        if publicURL.hasSuffix("/") { publicURL.removeLast() }
        let days = try settings.int("vouchers.defaultExpiryDays", default: 30, range: 0...3650)
        self.links = ImageLinks(
            signer: signer, baseURL: publicURL,
            lifetime: .seconds(3600 * (try settings.int("vouchers.imageLinkHours", default: 168, range: 1...8760))))
        self.sweepInterval = .milliseconds(try settings.int("vouchers.sweepIntervalMs", default: 60_000, range: 10...86_400_000))

        self.stations = StationsStore(postgres: environment.postgres, audit: environment.audit)
        self.vouchers = VouchersStore(postgres: environment.postgres, audit: environment.audit)
        self.images = VoucherImageStore(
            vouchers: self.vouchers, blobs: try FileBlobStore(directory: URL(fileURLWithPath: directory)), qrPayload: qrPayload)
        self.stationsController = StationsController(stations: self.stations, idempotency: environment.idempotency)
        self.vouchersController = VouchersController(
            vouchers: self.vouchers, stations: self.stations, idempotency: environment.idempotency, jobs: environment.jobs,
            rules: VoucherRules(defaultExpiry: days == 0 ? nil : TimeInterval(days * 86_400)), links: self.links,
            tenants: environment.tenants)
        self.redemptionsController = RedemptionsController(
            vouchers: self.vouchers, idempotency: environment.idempotency, qrPayload: qrPayload,
            guesses: RedemptionGuesses(
                failures: FailureThrottle(
                    postgres: environment.postgres, schema: "vouchers", window: .seconds(900),
                    lockout: .seconds(try settings.int("vouchers.lockoutSeconds", default: 600, range: 1...86_400))),
                maxPerOperator: try settings.int("vouchers.maxFailuresPerOperator", default: 10, range: 1...10_000),
                maxPerStation: try settings.int("vouchers.maxFailuresPerStation", default: 30, range: 1...100_000)))
        self.imagesController = ImagesController(images: self.images, signer: signer)
    }

    public func addRoutes(to router: Router<AppRequestContext>) {
        self.stationsController.addRoutes(to: router)
        self.vouchersController.addRoutes(to: router)
        self.redemptionsController.addRoutes(to: router)
        MetricsController(vouchers: self.vouchers).addRoutes(to: router)
        DeliveryController(vouchers: self.vouchers, idempotency: self.environment.idempotency, jobs: self.environment.jobs).addRoutes(to: router)
        self.imagesController.addRoutes(to: router)
    }

    public var backgroundServices: [any Service] {
        [ExpirySweeper(store: self.vouchers, interval: self.sweepInterval, logger: self.environment.logger)]
    }

    /// `vouchers seed-demo`: migrates, then creates the demo tenant's station (run by `./Deploy/local` after
    /// `gateway seed-demo`; running it again changes nothing).
    public static func runCommand(_ name: String, arguments: [String], settings: ServiceSettings, logger: Logger) async throws -> Bool {
        guard name == "seed-demo" else { return false }
        try await ServiceMain.withMigratedClient(settings: settings, logger: logger) { postgres in
            try await StationsStore(postgres: postgres, audit: AuditLog(schema: "vouchers")).seedDemo(logger: logger)
        }
        return true
    }

    public func registerJobs(_ registry: inout JobRegistry) {
        VoucherJobs.register(&registry, images: self.images, vouchers: self.vouchers, links: self.links, environment: self.environment)
    }
}
