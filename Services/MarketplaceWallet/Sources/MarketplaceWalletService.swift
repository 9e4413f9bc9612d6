import Contracts
import Foundation
import Hummingbird
import Logging
import ServiceKit
import ServiceLifecycle

/// The marketplace-wallet service: a double-entry ledger (accounts, postings at most once per reference, two-phase
/// holds, reversals, statements, invariants the database holds) and the marketplace on it (vendors, buyers, products,
/// commission schedules, intents → ranked quotes → purchases settled through holds). This type only assembles: each controller gets the
/// store it uses.
///
/// Its own settings, besides ServiceKit's:
/// - `wallet.holdSweepIntervalMs` [`WALLET_HOLD_SWEEP_INTERVAL_MS`], default 5000: how often expired holds are voided, expired intents closed
///   and credit reservations whose reply never came released.
/// - `wallet.creditsInitialGrant` [`WALLET_CREDITS_INITIAL_GRANT`], default 1000: the usage credits a tenant starts with.
/// - `wallet.creditsLowThreshold` [`WALLET_CREDITS_LOW_THRESHOLD`], default 50: below this many available, a `low` alert.
/// - `wallet.invariantIntervalMs` [`WALLET_INVARIANT_INTERVAL_MS`], default 300000: how often the whole ledger is checked.
/// - `blobs.directory` [`BLOBS_DIRECTORY`], default `.local/blobs`: where insurance documents are kept (under `docs/`).
/// - `wallet.publicUrl` [`WALLET_PUBLIC_URL`], default the gateway URL: the base of document links;
///   `wallet.documentLinkSeconds` [`WALLET_DOCUMENT_LINK_SECONDS`], default 900: how long they work;
///   `wallet.documentLinkSecret` [`WALLET_DOCUMENT_LINK_SECRET`], default derived from the service key: what signs them.
public struct MarketplaceWalletService: ServiceModule {
    public static let name = ServiceName.marketplaceWallet
    public static var openAPIDocument: Data? {
        Bundle.module.url(forResource: "openapi", withExtension: "json").flatMap { try? Data(contentsOf: $0) }
    }
    let environment: ServiceEnvironment
    let ledger: LedgerStore
    let vendors: VendorsStore
    let purchases: PurchasesStore
    let credits: CreditsStore
    let sweepInterval: Duration
    let invariantInterval: Duration
    let billing: PaymentConfirmation
    let insurance: InsuranceController

    /// `marketplace-wallet seed-demo`: migrates, then gives the demo tenant its books and market (run by
    /// `./Deploy/local`; running it again changes nothing).
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
        self.ledger = LedgerStore(postgres: environment.postgres, audit: environment.audit, metrics: environment.metrics)
        self.vendors = VendorsStore(postgres: environment.postgres, audit: environment.audit)
        self.purchases = PurchasesStore(postgres: environment.postgres, audit: environment.audit, ledger: self.ledger, crm: environment.crmEvents)
        self.credits = CreditsStore(
            postgres: environment.postgres, audit: environment.audit,
            initialGrant: Int64(try settings.int("wallet.creditsInitialGrant", default: 1_000, range: 0...1_000_000_000)),
            lowThreshold: Int64(try settings.int("wallet.creditsLowThreshold", default: 50, range: 0...1_000_000_000)))
        self.sweepInterval = .milliseconds(try settings.int("wallet.holdSweepIntervalMs", default: 5_000, range: 10...86_400_000))
        self.invariantInterval = .milliseconds(try settings.int("wallet.invariantIntervalMs", default: 300_000, range: 100...86_400_000))
        self.billing = try PaymentConfirmation.from(environment)
        self.insurance = try Self.insuranceController(environment)
    }

    public func addRoutes(to router: Router<AppRequestContext>) {
        AccountsController(ledger: self.ledger, idempotency: self.environment.idempotency).addRoutes(to: router)
        TransfersController(ledger: self.ledger).addRoutes(to: router)
        StatementsController(ledger: self.ledger).addRoutes(to: router)
        CatalogueController(vendors: self.vendors, idempotency: self.environment.idempotency).addRoutes(to: router)
        PurchasesController(purchases: self.purchases, idempotency: self.environment.idempotency).addRoutes(to: router)
        CreditsController(credits: self.credits).addRoutes(to: router)
        SubscriptionsController(confirmation: self.billing, idempotency: self.environment.idempotency) { [tenants = self.environment.tenants] in
            try await tenants.tenant($0, logger: $1)?.currency
        }.addRoutes(to: router)
        self.insurance.addRoutes(to: router)
    }

    public func registerJobs(_ registry: inout JobRegistry) {
        InsuranceJobs.register(&registry, environment: self.environment)
        CRMEvents.register(&registry, environment: self.environment)
        SubscriptionJobs.register(&registry, confirmation: self.billing, environment: self.environment)
    }

    /// An insurance document's upload may be larger than other bodies.
    public static func bodyAllowance(_ request: Request) -> Int? {
        Endpoint.bodyAllowance(in: WalletInsuranceAPI.all, method: request.method.rawValue, path: request.uri.path)
    }

    static func insuranceController(_ environment: ServiceEnvironment) throws -> InsuranceController {
        let settings = environment.settings.settings
        let directory =
            settings.string("blobs.directory") ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(".local/blobs").path
        var publicURL = settings.string("wallet.publicUrl") ?? environment.settings.serviceURLs[.gateway]!.absoluteString
        if publicURL.hasSuffix("/") { publicURL.removeLast() }
        let secret = settings.string("wallet.documentLinkSecret", secret: true) ?? DocumentLinks.defaultSecret(serviceKey: environment.settings.serviceKey)
        let links = DocumentLinks(
            signer: SignedURLs(secret: secret), baseURL: publicURL,
            lifetime: .seconds(try settings.int("wallet.documentLinkSeconds", default: 900, range: 1...604_800)))
        return InsuranceController(
            insurance: InsuranceStore(postgres: environment.postgres, audit: environment.audit, jobs: environment.jobs),
            blobs: try FileBlobStore(directory: URL(fileURLWithPath: directory)), links: links, idempotency: environment.idempotency)
    }

    public var backgroundServices: [any Service] {
        [
            HoldSweeper(ledger: self.ledger, interval: self.sweepInterval, logger: self.environment.logger),
            ExpirySweeper(purchases: self.purchases, credits: self.credits, interval: self.sweepInterval, logger: self.environment.logger),
            SubscriptionSweeper(confirmation: self.billing, logger: self.environment.logger),
            InvariantWatch(ledger: self.ledger, metrics: self.environment.metrics, interval: self.invariantInterval, logger: self.environment.logger),
        ]
    }
}
