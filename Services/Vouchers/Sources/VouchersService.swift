import Foundation
import Hummingbird
import Logging
import Models
import NIOConcurrencyHelpers
import PostgresNIO
import ServiceClient
import ServiceKit
import ServiceLifecycle

/// The vouchers service: stations, vouchers with signed QR codes and card images, a state machine the database
/// enforces, race-free redemption at the right station, expiry, events, audit and metrics.
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
    public static let name = ServiceName.vouchers
    static let renderJob = "voucher.render"
    static let notifyJob = "voucher.notify_redeemed"
    /// Who manages stations and vouchers.
    static let managers: Set<Role> = [.superAdmin, .support, .dataOps, .tenantAdmin]
    /// Who may read them.
    static let readers: Set<Role> = managers.union([.readonly])

    let environment: ServiceEnvironment
    let store: VouchersStore
    let qrPayload: QRPayload
    let signedURLs: SignedURLs
    let blobs: any BlobStore
    let publicURL: String
    let defaultExpiry: TimeInterval?
    let imageLinkLifetime: Duration
    let sweepInterval: Duration
    let redemptionFailures: FailureThrottle
    let maxFailuresPerOperator: Int
    let maxFailuresPerStation: Int
    let currencies = NIOLockedValueBox<[TenantID: (code: String, fetched: ContinuousClock.Instant)]>([:])

    public init(environment: ServiceEnvironment) async throws {
        self.environment = environment
        let settings = environment.settings.settings
        let secret = try settings.required("vouchers.qrSecret", secret: true)
        self.store = VouchersStore(postgres: environment.postgres, audit: environment.audit)
        self.qrPayload = QRPayload(secret: secret)
        self.signedURLs = SignedURLs(secret: secret)
        let directory = settings.string("blobs.directory") ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(".local/blobs").path
        self.blobs = try FileBlobStore(directory: URL(fileURLWithPath: directory))
        var publicURL = settings.string("vouchers.publicUrl") ?? environment.settings.serviceURLs[.gateway]!.absoluteString
        if publicURL.hasSuffix("/") { publicURL.removeLast() }
        self.publicURL = publicURL
        let days = try settings.int("vouchers.defaultExpiryDays", default: 30, range: 0...3650)
        self.defaultExpiry = days == 0 ? nil : TimeInterval(days * 86_400)
        self.imageLinkLifetime = .seconds(3600 * (try settings.int("vouchers.imageLinkHours", default: 168, range: 1...8760)))
        self.sweepInterval = .milliseconds(try settings.int("vouchers.sweepIntervalMs", default: 60_000, range: 10...86_400_000))
        self.redemptionFailures = FailureThrottle(
            postgres: environment.postgres, schema: "vouchers", window: .seconds(900),
            lockout: .seconds(try settings.int("vouchers.lockoutSeconds", default: 600, range: 1...86_400)))
        self.maxFailuresPerOperator = try settings.int("vouchers.maxFailuresPerOperator", default: 10, range: 1...10_000)
        self.maxFailuresPerStation = try settings.int("vouchers.maxFailuresPerStation", default: 30, range: 1...100_000)
    }

    public func addRoutes(to router: Router<AppRequestContext>) {
        StationsController(store: self.store, environment: self.environment).addRoutes(to: router)
        VouchersController(service: self).addRoutes(to: router)
        RedemptionsController(service: self).addRoutes(to: router)
        MetricsController(store: self.store).addRoutes(to: router)
    }

    public var backgroundServices: [any Service] {
        [ExpirySweeper(postgres: self.environment.postgres, interval: self.sweepInterval, logger: self.environment.logger)]
    }

    public func registerJobs(_ registry: inout JobRegistry) {
        registry.register(Self.renderJob, as: [String: String].self) { payload, _, logger in
            guard let id = payload["voucherId"].flatMap(UUID.init(uuidString:)) else { return }
            _ = try await self.image(id, card: false, logger: logger)
            _ = try await self.image(id, card: true, logger: logger)
        }
        // tell the customer; messaging's endpoint may not exist yet, so this retries (up to ~2 days) until it does
        registry.register(Self.notifyJob, as: RedeemedNotice.self) { notice, job, _ in
            let context = try await self.environment.serviceCallContext(tenant: TenantID(notice.tenantId), requestID: job.requestID)
            let _: JSONValue = try await self.environment.client(.messaging).post(
                "/v1/messaging/notifications",
                body: [
                    "kind": "voucher_redeemed", "msisdn": notice.msisdn, "voucherId": notice.voucherId, "code": notice.code,
                    "amount": notice.amount, "currency": notice.currency, "stationId": notice.stationId,
                ], idempotencyKey: "voucher-redeemed-\(notice.voucherId)", context: context)
        }
    }


    /// Adds the signed links to the QR and card images.
    func withLinks(_ voucher: VoucherDTO) -> VoucherDTO {
        var voucher = voucher
        for kind in ["qr", "card"] {
            let path = "/v1/voucher-images/\(voucher.id)/\(kind).png"
            let url = "\(self.publicURL)\(path)?\(self.signedURLs.query(path: path, lifetime: self.imageLinkLifetime))"
            if kind == "qr" { voucher.qrURL = url } else { voucher.cardURL = url }
        }
        return voucher
    }

    /// The tenant's currency, asked of the gateway (with a service token) and kept for ten minutes.
    func tenantCurrency(_ tenant: TenantID, requestID: String) async throws -> String {
        if let cached = self.currencies.withLockedValue({ $0[tenant] }), ContinuousClock.now - cached.fetched < .seconds(600) {
            return cached.code
        }
        struct TenantView: Decodable { var currency: String }
        let context = try await self.environment.serviceCallContext(tenant: nil, requestID: requestID)
        let view: TenantView = try await self.environment.client(.gateway).get("/v1/gateway/tenants/\(tenant)", context: context)
        self.currencies.withLockedValue { $0[tenant] = (view.currency, .now) }
        return view.currency
    }

    /// A hand-made transition (sent, void) in one transaction with its audit row; the trigger adds the event.
    func transition(_ id: UUID, tenant: TenantID, to status: VoucherStatus, actor: String, reason: String?, requestID: String?, logger: Logger) async throws -> VoucherDTO {
        do {
            return try await self.store.postgres.withTransaction(logger: logger) { connection in
                guard let (before, _) = try await self.store.voucher(id, tenant: tenant, on: connection, logger: logger) else {
                    throw APIError.notFound("voucher_not_found", "No such voucher.")
                }
                // the trigger checks only changes of status: asking for the status it already has is refused here
                guard before.status != status else {
                    throw APIError.conflict("illegal_transition", "The voucher is already \(status.rawValue).")
                }
                try await VouchersStore.setActor(connection, actor: actor, context: .object(reason.map { ["reason": .string($0)] } ?? [:]), logger: logger)
                try await connection.query(
                    "UPDATE vouchers.vouchers SET status = \(status.rawValue) WHERE id = \(id) AND tenant_id = \(tenant.rawValue)", logger: logger)
                let after = try await self.store.voucher(id, tenant: tenant, on: connection, logger: logger)!.0
                try await self.store.audit.record(
                    on: connection, tenantID: tenant, actor: actor, action: "voucher.\(status.rawValue)", table: "vouchers", targetID: after.id,
                    before: before, after: after, requestID: requestID, logger: logger)
                return after
            }
        } catch let error as PostgresTransactionError {
            if let psql = error.closureError as? PSQLError, psql.isCheckViolation {
                throw APIError.conflict("illegal_transition", psql.serverMessage ?? "This transition is not allowed.")
            }
            throw error
        }
    }

    /// Records a refused redemption at the wrong station as a `policy_blocked` event, in a transaction of its own
    /// (the redemption itself rolled back).
    func policyBlocked(code: String, tenant: TenantID, station: UUID, actor: String, logger: Logger) async throws {
        try await self.store.postgres.query(
            """
            INSERT INTO vouchers.voucher_events (voucher_id, tenant_id, event_type, actor, station_id, context)
            SELECT id, tenant_id, 'policy_blocked', \(actor), \(station), '{"reason":"wrong_station"}'::jsonb
            FROM vouchers.vouchers WHERE tenant_id = \(tenant.rawValue) AND code = \(code)
            """, logger: logger)
    }

    /// The QR or card PNG: from the blob store, or drawn now and kept.
    func image(_ id: UUID, card: Bool, logger: Logger) async throws -> [UInt8] {
        guard let (voucher, tenant) = try await self.store.voucher(id, tenant: nil, logger: logger) else {
            throw APIError.notFound("image_not_found", "No such image.")
        }
        let key = "vouchers/\(tenant)/\(voucher.id)-\(card ? "card" : "qr").png"
        if let stored = try await self.blobs.get(key) { return stored.bytes }
        let payload = self.qrPayload.payload(code: voucher.code)
        let bytes: [UInt8]
        if card {
            let amount = "\(voucher.currency) \(Self.grouped(voucher.amount))"
            let expires = voucher.expiresAt.map { String(ISO8601.format($0).prefix(10)) }
            bytes = try VoucherImages.cardPNG(payload: payload, title: "SOKONI FUEL VOUCHER", amount: amount, code: voucher.code, expiresOn: expires)
        } else {
            bytes = try VoucherImages.qrPNG(payload: payload)
        }
        try await self.blobs.put(key, bytes: bytes, contentType: "image/png")
        return bytes
    }

    /// "5000" → "5,000"; "1234.50" → "1,234.50".
    static func grouped(_ decimal: String) -> String {
        let parts = decimal.split(separator: ".", maxSplits: 1)
        var whole = String(parts[0])
        var groups: [String] = []
        while whole.count > 3 {
            groups.insert(String(whole.suffix(3)), at: 0)
            whole.removeLast(3)
        }
        groups.insert(whole, at: 0)
        return groups.joined(separator: ",") + (parts.count > 1 ? "." + parts[1] : "")
    }
}
