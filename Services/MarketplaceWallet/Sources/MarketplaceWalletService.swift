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
/// - `wallet.holdSweepIntervalMs` [`WALLET_HOLD_SWEEP_INTERVAL_MS`], default 5000: how often expired holds are voided and expired intents closed.
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
    let sweepInterval: Duration
    let invariantInterval: Duration
    let insurance: InsuranceController

    public init(environment: ServiceEnvironment) async throws {
        self.environment = environment
        let settings = environment.settings.settings
        self.ledger = LedgerStore(postgres: environment.postgres, audit: environment.audit)
        self.vendors = VendorsStore(postgres: environment.postgres, audit: environment.audit)
        self.purchases = PurchasesStore(postgres: environment.postgres, audit: environment.audit, ledger: self.ledger)
        self.sweepInterval = .milliseconds(try settings.int("wallet.holdSweepIntervalMs", default: 5_000, range: 10...86_400_000))
        self.invariantInterval = .milliseconds(try settings.int("wallet.invariantIntervalMs", default: 300_000, range: 100...86_400_000))
        self.insurance = try Self.insuranceController(environment)
    }

    public func addRoutes(to router: Router<AppRequestContext>) {
        AccountsController(ledger: self.ledger).addRoutes(to: router)
        TransfersController(ledger: self.ledger).addRoutes(to: router)
        StatementsController(ledger: self.ledger).addRoutes(to: router)
        CatalogueController(vendors: self.vendors).addRoutes(to: router)
        PurchasesController(purchases: self.purchases).addRoutes(to: router)
        self.insurance.addRoutes(to: router)
    }

    public func registerJobs(_ registry: inout JobRegistry) {
        InsuranceJobs.register(&registry, environment: self.environment)
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
            IntentSweeper(purchases: self.purchases, interval: self.sweepInterval, logger: self.environment.logger),
            InvariantWatch(ledger: self.ledger, metrics: self.environment.metrics, interval: self.invariantInterval, logger: self.environment.logger),
        ]
    }
}
