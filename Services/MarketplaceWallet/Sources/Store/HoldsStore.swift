import Foundation
import Logging
import Models
import PostgresNIO
import ServiceKit

/// Two-phase transfers (the ledger's other half; TigerBeetle's pending transfers): a hold reserves what its legs
/// take from their debit accounts, and is then posted as one transaction, voided, or expired by the sweeper. A hold's
/// row is locked before its accounts, and its accounts in id order, as every posting locks them.
extension LedgerStore {
    static let holdColumns =
        "id, type, reference, currency, legs::text, status, expires_at, transaction_id, reason, metadata::text, created_by, created_at, resolved_at"
    typealias HoldRow = (UUID, String, String, String, String, String, Date, UUID?, String?, String, String, Date, Date?)

    static func hold(_ row: HoldRow) throws -> HoldDTO {
        guard let currency = Currency(code: row.3) else { throw CorruptRow("hold \(row.0) has currency \(row.3)") }
        let legs = try JSONDecoder.sokoni.decode([Leg].self, from: Data(row.4.utf8))
        return HoldDTO(
            id: WalletHoldID(row.0), type: try CorruptRow.known(row.1), reference: row.2, currency: currency,
            legs: legs.map { LegDTO(from: $0.from, to: $0.to, amount: Money(minorUnits: $0.amount, currency: currency)) },
            amount: Money(minorUnits: legs.reduce(0) { $0 + $1.amount }, currency: currency), status: try CorruptRow.known(row.5), expiresAt: row.6,
            transactionId: row.7.map { WalletTransactionID($0) }, reason: row.8,
            metadata: try JSONDecoder.sokoni.decode([String: JSONValue].self, from: Data(row.9.utf8)), createdBy: row.10, createdAt: row.11,
            resolvedAt: row.12)
    }

    /// Reserves once per reference: the hold, and whether it was made before (a replay).
    func createHold(_ posting: Posting, timeoutSeconds: Int, requestID: String, logger: Logger) async throws -> (HoldDTO, replayed: Bool) {
        try await self.transaction(logger: logger) { connection in
            try await self.createHold(posting, timeoutSeconds: timeoutSeconds, on: connection, logger: logger)
        }
    }

    /// Reserves on an open transaction (a purchase's hold is made with the purchase).
    func createHold(_ posting: Posting, timeoutSeconds: Int, on connection: PostgresConnection, logger: Logger) async throws -> (HoldDTO, replayed: Bool) {
        let fingerprint = sha256Hex(Data("\(posting.fingerprint)/\(timeoutSeconds)".utf8))
        if let first = try await self.replayHold(posting.reference, tenant: posting.tenant, fingerprint: fingerprint, on: connection, logger: logger) {
            return (first, true)
        }
        let accounts = try await self.lock(posting.accounts, tenant: posting.tenant, on: connection, logger: logger)
        // a retry that waited for the locks while its first attempt committed replays it (see `post`)
        if let first = try await self.replayHold(posting.reference, tenant: posting.tenant, fingerprint: fingerprint, on: connection, logger: logger) {
            return (first, true)
        }
        try Self.check(posting, accounts: accounts, released: [:], reserving: true)
        let id = WalletHoldID()
        let legs = String(decoding: try JSONEncoder.hashing.encode(posting.legs), as: UTF8.self)
        let metadata = String(decoding: try JSONEncoder.hashing.encode(posting.metadata), as: UTF8.self)
        let inserted = try await connection.query(
            """
            INSERT INTO wallet.holds (id, tenant_id, type, reference, request_hash, currency, legs, expires_at, reason, metadata, created_by)
            VALUES (\(id.rawValue), \(posting.tenant.rawValue), \(posting.type.rawValue), \(posting.reference), \(fingerprint), \(posting.currency.code),
                    \(legs)::jsonb, now() + make_interval(secs => \(Double(timeoutSeconds))), \(posting.reason), \(metadata)::jsonb, \(posting.actor))
            ON CONFLICT ON CONSTRAINT holds_reference_key DO NOTHING RETURNING id
            """, logger: logger
        ).first(as: UUID.self)
        guard inserted != nil else {
            guard
                let first = try await self.replayHold(posting.reference, tenant: posting.tenant, fingerprint: fingerprint, on: connection, logger: logger)
            else { throw APIError.conflict("reference_in_use", "A hold with this reference is being made; retry.") }
            return (first, true)
        }
        try await Self.changeHeld(by: posting.debits, on: connection, logger: logger)
        guard let hold = try await self.hold(id, tenant: posting.tenant, on: connection, logger: logger) else { throw CorruptRow("hold \(id) vanished") }
        return (hold, false)
    }

    func replayHold(_ reference: String, tenant: TenantID, fingerprint: String, on connection: PostgresConnection, logger: Logger) async throws -> HoldDTO? {
        guard
            let (id, hash) = try await connection.query(
                "SELECT id, request_hash FROM wallet.holds WHERE tenant_id = \(tenant.rawValue) AND reference = \(reference)", logger: logger
            ).first(as: (UUID, String).self)
        else { return nil }
        guard hash == fingerprint else {
            throw APIError.conflict("reference_reused", "This reference (Idempotency-Key) was already used for a different hold.")
        }
        return try await self.hold(WalletHoldID(id), tenant: tenant, on: connection, logger: logger)
    }

    func hold(_ id: WalletHoldID, tenant: TenantID, on connection: PostgresConnection? = nil, lock: Bool = false, logger: Logger) async throws -> HoldDTO? {
        try await self.on(connection) { connection in
            try await connection.query(
                """
                SELECT \(unescaped: Self.holdColumns) FROM wallet.holds WHERE id = \(id.rawValue) AND tenant_id = \(tenant.rawValue)
                \(unescaped: lock ? "FOR UPDATE" : "")
                """, logger: logger
            ).first(as: HoldRow.self).map(Self.hold)
        }
    }

    func holds(tenant: TenantID, status: HoldStatus?, before: (Int64, UUID)?, limit: Int, logger: Logger) async throws -> [HoldDTO] {
        try await self.postgres.query(
            """
            SELECT \(unescaped: Self.holdColumns) FROM wallet.holds
            WHERE tenant_id = \(tenant.rawValue) AND (\(status?.rawValue)::text IS NULL OR status = \(status?.rawValue))
              AND (\(before == nil) OR (created_at, id) < ('epoch'::timestamptz + \(before?.0 ?? 0) * interval '1 microsecond', \(before?.1 ?? UUID())))
            ORDER BY created_at DESC, id DESC LIMIT \(limit)
            """, logger: logger
        ).all(as: HoldRow.self).map(Self.hold)
    }

    enum HoldOutcome: Sendable {
        case posted(HoldDTO, TransferDTO)
        /// Its time ran out before it was posted: now voided as expired, funds released.
        case expired(HoldDTO)
    }

    /// Posts a pending hold's legs as one transaction (nil: no such hold). Posting a posted hold again answers the
    /// same transaction; a voided or expired one is a 409.
    /// A purchase's hold (`type` purchase) is posted and voided only by its purchase, which changes with it.
    static let purchaseHold = APIError.conflict("purchase_hold", "This hold belongs to a purchase: complete or cancel the purchase instead.")

    func postHold(_ id: WalletHoldID, tenant: TenantID, actor: String, requestID: String, logger: Logger) async throws -> HoldOutcome? {
        try await self.transaction(logger: logger) { connection in
            guard try await self.hold(id, tenant: tenant, on: connection, logger: logger)?.type != .purchase else { throw Self.purchaseHold }
            return try await self.postHold(id, tenant: tenant, actor: actor, on: connection, requestID: requestID, logger: logger)
        }
    }

    /// Posts a hold on an open transaction (a purchase completes with its hold).
    func postHold(_ id: WalletHoldID, tenant: TenantID, actor: String, on connection: PostgresConnection, requestID: String?, logger: Logger)
        async throws -> HoldOutcome?
    {
        guard let hold = try await self.hold(id, tenant: tenant, on: connection, lock: true, logger: logger) else { return nil }
        switch hold.status {
        case .posted:
            guard let transaction = hold.transactionId, let transfer = try await self.transfer(transaction, tenant: tenant, on: connection, logger: logger)
            else { throw CorruptRow("hold \(id) posted without its transaction") }
            return .posted(hold, transfer)
        case .voided: throw APIError.conflict("hold_voided", "This hold was voided.")
        case .expired: throw APIError.conflict("hold_expired", "This hold expired before it was posted.")
        case .pending: break
        }
        let due = try await connection.query("SELECT \(hold.expiresAt) <= now()", logger: logger).first(as: Bool.self) ?? false
        if due {
            return .expired(try await self.release(hold, as: .expired, tenant: tenant, on: connection, logger: logger))
        }
        let legs = hold.legs.map { Leg(from: $0.from, to: $0.to, amount: $0.amount.minorUnits) }
        let posting = Posting(
            tenant: tenant, type: hold.type, reference: "hold/\(id)", currency: hold.currency, legs: legs, reason: hold.reason, metadata: hold.metadata,
            actor: actor)
        let (transfer, _) = try await self.post(
            posting, hold: id, reverses: nil, released: posting.debits, on: connection, requestID: requestID, logger: logger)
        guard transfer.holdId == id else { throw CorruptRow("the reference of hold \(id) names another transfer") }
        try await connection.query(
            "UPDATE wallet.holds SET status = 'posted', transaction_id = \(transfer.id.rawValue), resolved_at = now() WHERE id = \(id.rawValue)",
            logger: logger)
        guard let posted = try await self.hold(id, tenant: tenant, on: connection, logger: logger) else { throw CorruptRow("hold \(id) vanished") }
        return .posted(posted, transfer)
    }

    /// Voids a pending hold, releasing what it reserved (nil: no such hold). Voiding a voided or expired hold answers
    /// it as it is; a posted one is a 409 (reverse its transaction instead).
    func voidHold(_ id: WalletHoldID, tenant: TenantID, logger: Logger) async throws -> HoldDTO? {
        try await self.transaction(logger: logger) { connection in
            guard try await self.hold(id, tenant: tenant, on: connection, logger: logger)?.type != .purchase else { throw Self.purchaseHold }
            return try await self.voidHold(id, tenant: tenant, on: connection, logger: logger)
        }
    }

    /// Voids a hold on an open transaction (a purchase cancelled or failed releases its hold).
    func voidHold(_ id: WalletHoldID, tenant: TenantID, on connection: PostgresConnection, logger: Logger) async throws -> HoldDTO? {
        guard let hold = try await self.hold(id, tenant: tenant, on: connection, lock: true, logger: logger) else { return nil }
        switch hold.status {
        case .posted: throw APIError.conflict("hold_posted", "This hold was posted; reverse its transfer instead.")
        case .voided, .expired: return hold
        case .pending: return try await self.release(hold, as: .voided, tenant: tenant, on: connection, logger: logger)
        }
    }

    /// Frees what a locked pending hold reserved and closes it as `status`.
    func release(_ hold: HoldDTO, as status: HoldStatus, tenant: TenantID, on connection: PostgresConnection, logger: Logger) async throws
        -> HoldDTO
    {
        let reserved = hold.legs.reduce(into: [WalletAccountID: Int64]()) { $0[$1.from, default: 0] += $1.amount.minorUnits }
        _ = try await self.lock(Set(reserved.keys), tenant: tenant, on: connection, logger: logger)
        try await Self.changeHeld(by: reserved.mapValues { -$0 }, on: connection, logger: logger)
        try await connection.query(
            "UPDATE wallet.holds SET status = \(status.rawValue), resolved_at = now() WHERE id = \(hold.id.rawValue)", logger: logger)
        guard let released = try await self.hold(hold.id, tenant: tenant, on: connection, logger: logger) else { throw CorruptRow("hold vanished") }
        return released
    }

    /// Expires up to `limit` holds whose time ran out, one database transaction each (so that two sweepers lock
    /// accounts hold by hold, in id order, and never deadlock). Answers how many it expired.
    func expireDueHolds(limit: Int, logger: Logger) async throws -> Int {
        var expired = 0
        while expired < limit {
            let done = try await self.transaction(logger: logger) { connection -> Bool in
                guard
                    let (id, tenant) = try await connection.query(
                        """
                        SELECT id, tenant_id FROM wallet.holds WHERE status = 'pending' AND expires_at <= now()
                        ORDER BY expires_at LIMIT 1 FOR UPDATE SKIP LOCKED
                        """, logger: logger
                    ).first(as: (UUID, UUID).self),
                    let hold = try await self.hold(WalletHoldID(id), tenant: TenantID(tenant), on: connection, logger: logger)
                else { return false }
                _ = try await self.release(hold, as: .expired, tenant: TenantID(tenant), on: connection, logger: logger)
                // a purchase waiting on this hold fails with it: nothing was posted, nothing stays reserved
                try await connection.query(
                    """
                    UPDATE wallet.purchases SET status = 'failed', failure_reason = 'The payment hold expired before the purchase was completed.',
                        resolved_at = now()
                    WHERE hold_id = \(id) AND status = 'pending'
                    """, logger: logger)
                return true
            }
            guard done else { break }
            expired += 1
        }
        return expired
    }
}
