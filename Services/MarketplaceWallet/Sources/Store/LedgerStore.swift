import Foundation
import Logging
import Models
import PostgresNIO
import ServiceKit

/// All SQL of the ledger: accounts, postings, holds, statements and the invariant check. Every posting runs in one
/// database transaction that locks its accounts in id order (two postings over the same accounts queue, never
/// deadlock), checks status and funds on the locked rows, and inserts the transaction and its entries; the
/// database's own rules (migration 0002) hold even if this code had a bug. A retried posting with the same reference
/// gets the first one back; contention (a serialization failure or deadlock PostgreSQL reports) is retried here.
struct LedgerStore: Sendable {
    let postgres: PostgresClient
    let audit: AuditLog
    /// Where the batches are counted (`wallet_posting_batches_total`, `wallet_postings_batched_total`).
    let metrics: ServiceMetrics?
    /// Plain transfers go through it, to be posted together with those that come meanwhile; nil: each alone.
    let batcher: PostingBatcher?

    init(postgres: PostgresClient, audit: AuditLog, metrics: ServiceMetrics? = nil, batching: Bool = true) {
        self.postgres = postgres
        self.audit = audit
        self.metrics = metrics
        if batching {
            let alone = LedgerStore(postgres: postgres, audit: audit, metrics: metrics, batching: false)
            self.batcher = PostingBatcher { items, logger in await alone.postBatch(items.map { ($0.posting, $0.requestID) }, logger: logger) }
        } else {
            self.batcher = nil
        }
    }

    static let errors = ConstraintErrors(
        [
            "accounts_no_overdraft": .conflict("insufficient_funds", "An account would go below zero."),
            "accounts_owner_key": .conflict("account_exists", "This owner already has an account in this currency."),
            "accounts_closed_empty": .conflict("account_not_empty", "Only an empty account with nothing held can be closed."),
            "transactions_reverses_key": .conflict("already_reversed", "This transfer was already reversed."),
        ],
        byState: [
            "WL001": .conflict("append_only", "Ledger entries are never changed; post a reversal."),
            "WL002": .conflict("account_not_active", "A frozen or closed account takes no postings."),
            "WL003": .unprocessable("unbalanced", "The transfer's entries do not balance."),
        ])

    // MARK: accounts

    static let accountColumns = "id, owner_type, owner_id, name, currency, status, allow_negative, balance, held, created_at, updated_at"
    typealias AccountRow = (UUID, String, String, String?, String, String, Bool, Int64, Int64, Date, Date)

    static func account(_ row: AccountRow) throws -> AccountDTO {
        guard let currency = Currency(code: row.4) else { throw CorruptRow("account \(row.0) has currency \(row.4)") }
        return AccountDTO(
            id: WalletAccountID(row.0), ownerType: try CorruptRow.known(row.1), ownerId: row.2, name: row.3, currency: currency,
            status: try CorruptRow.known(row.5), allowNegative: row.6, balance: Money(minorUnits: row.7, currency: currency),
            held: Money(minorUnits: row.8, currency: currency), available: Money(minorUnits: row.7 - row.8, currency: currency),
            createdAt: row.9, updatedAt: row.10, recentEntries: nil)
    }

    func createAccount(
        tenant: TenantID, ownerType: OwnerType, ownerID: String, currency: Currency, name: String?, allowNegative: Bool, actor: String,
        requestID: String, on connection: PostgresConnection, logger: Logger
    ) async throws -> AccountDTO {
        try await Self.errors.map {
            let row = try await connection.query(
                """
                INSERT INTO wallet.accounts (id, tenant_id, owner_type, owner_id, currency, name, allow_negative)
                VALUES (\(UUID()), \(tenant.rawValue), \(ownerType.rawValue), \(ownerID), \(currency.code), \(name), \(allowNegative))
                RETURNING \(unescaped: Self.accountColumns)
                """, logger: logger
            ).first(as: AccountRow.self)!
            let account = try Self.account(row)
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "account.create", table: "accounts", targetID: account.id.description,
                before: nil as AccountDTO?, after: account, requestID: requestID, logger: logger)
            return account
        }
    }

    func account(_ id: WalletAccountID, tenant: TenantID, logger: Logger) async throws -> AccountDTO? {
        try await self.postgres.query(
            "SELECT \(unescaped: Self.accountColumns) FROM wallet.accounts WHERE id = \(id.rawValue) AND tenant_id = \(tenant.rawValue)", logger: logger
        ).first(as: AccountRow.self).map(Self.account)
    }

    /// A page of accounts, by owner type, then id.
    func accounts(
        tenant: TenantID, ownerType: OwnerType?, currency: Currency?, status: AccountStatus?, ownerID: String?, after: (String, UUID)?, limit: Int,
        logger: Logger
    ) async throws -> [AccountDTO] {
        try await self.postgres.query(
            """
            SELECT \(unescaped: Self.accountColumns) FROM wallet.accounts
            WHERE tenant_id = \(tenant.rawValue) AND (\(ownerType?.rawValue)::text IS NULL OR owner_type = \(ownerType?.rawValue))
              AND (\(currency?.code)::text IS NULL OR currency = \(currency?.code)) AND (\(status?.rawValue)::text IS NULL OR status = \(status?.rawValue))
              AND (\(ownerID)::text IS NULL OR owner_id = \(ownerID))
              AND (owner_type, id) > (\(after?.0 ?? ""), \(after?.1 ?? UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))))
            ORDER BY owner_type, id LIMIT \(limit)
            """, logger: logger
        ).all(as: AccountRow.self).map(Self.account)
    }

    /// Freezes, unfreezes or closes an account (nil: no such account). A closed account stays closed.
    func setStatus(_ id: WalletAccountID, tenant: TenantID, status: AccountStatus, reason: String?, actor: String, requestID: String, logger: Logger)
        async throws -> AccountDTO?
    {
        try await Self.errors.map {
            try await self.postgres.withTransaction(logger: logger) { connection in
                guard
                    let before = try await connection.query(
                        "SELECT \(unescaped: Self.accountColumns) FROM wallet.accounts WHERE id = \(id.rawValue) AND tenant_id = \(tenant.rawValue) FOR UPDATE",
                        logger: logger
                    ).first(as: AccountRow.self).map(Self.account)
                else { return nil }
                guard before.status != status else { return before }
                guard before.status != .closed else { throw APIError.conflict("account_closed", "A closed account stays closed.") }
                let row = try await connection.query(
                    """
                    UPDATE wallet.accounts SET status = \(status.rawValue), updated_at = now() WHERE id = \(id.rawValue)
                    RETURNING \(unescaped: Self.accountColumns)
                    """, logger: logger
                ).first(as: AccountRow.self)!
                let after = try Self.account(row)
                try await self.audit.record(
                    on: connection, tenantID: tenant, actor: actor,
                    action: "account.\(status == .active ? "unfreeze" : status == .frozen ? "freeze" : "close")",
                    table: "accounts", targetID: id.description, before: StatusAudit(status: before.status, reason: nil),
                    after: StatusAudit(status: status, reason: reason), requestID: requestID, logger: logger)
                return after
            }
        }
    }

    struct StatusAudit: Encodable {
        var status: AccountStatus
        var reason: String?
    }

    // MARK: postings

    /// Posts once per reference: the transfer, and whether it was posted before (a replay). Under load, together
    /// with the transfers that came meanwhile (`LedgerStore+Batch`); the answer is the same either way.
    func post(_ posting: Posting, requestID: String, logger: Logger) async throws -> (TransferDTO, replayed: Bool) {
        guard let batcher = self.batcher else { return try await self.postAlone(posting, requestID: requestID, logger: logger) }
        return try await batcher.submit(posting, requestID: requestID, logger: logger)
    }

    /// Posts in a database transaction of its own.
    func postAlone(_ posting: Posting, requestID: String, logger: Logger) async throws -> (TransferDTO, replayed: Bool) {
        try await self.transaction(logger: logger) { connection in
            try await self.post(posting, hold: nil, reverses: nil, on: connection, requestID: requestID, logger: logger)
        }
    }

    /// One database transaction, retried when PostgreSQL reports contention (never the caller's problem); a refusal
    /// by the database, also one at commit, is answered as its API error.
    func transaction<Result: Sendable>(logger: Logger, _ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await self.postgres.withTransaction(logger: logger) { connection in try await body(connection) }
            } catch {
                let psql = Self.psql(error)
                if let state = psql?.sqlState, state == "40001" || state == "40P01", attempt < 8 {
                    logger.debug("ledger contention, retrying", metadata: ["sqlstate": .string(state), "attempt": "\(attempt)"])
                    try await Task.sleep(for: .milliseconds(Int.random(in: 1...(5 * attempt))))
                    continue
                }
                if let psql, let mapped = Self.errors.apiError(for: psql) { throw mapped }
                // a refusal of the code's own comes out as it went in, so that callers can act on it (a purchase
                // whose completion the ledger refused is compensated)
                if let refusal = (error as? PostgresTransactionError)?.closureError as? APIError { throw refusal }
                throw error
            }
        }
    }

    /// The server's refusal inside `error`: a statement's, or the commit's (the balance check is deferred to it).
    static func psql(_ error: any Error) -> PSQLError? {
        if let error = error as? PSQLError { return error }
        if let error = error as? PostgresTransactionError {
            return (error.closureError ?? error.commitError ?? error.beginError).flatMap { $0 as? PSQLError }
        }
        return nil
    }

    struct Locked: Sendable {
        var id: WalletAccountID
        var currency: String
        var status: AccountStatus
        var allowNegative: Bool
        var balance: Int64
        var held: Int64
    }

    /// Locks the accounts in id order (the one order every posting uses) and answers them as they are now.
    func lock(_ ids: Set<WalletAccountID>, tenant: TenantID, on connection: PostgresConnection, logger: Logger) async throws
        -> [WalletAccountID: Locked]
    {
        let rows = try await connection.query(
            """
            SELECT id, currency, status, allow_negative, balance, held FROM wallet.accounts
            WHERE tenant_id = \(tenant.rawValue) AND id = ANY(\(ids.map(\.rawValue))) ORDER BY id FOR UPDATE
            """, logger: logger
        ).all(as: (UUID, String, String, Bool, Int64, Int64).self)
        var locked: [WalletAccountID: Locked] = [:]
        for row in rows {
            locked[WalletAccountID(row.0)] = Locked(
                id: WalletAccountID(row.0), currency: row.1, status: try CorruptRow.known(row.2), allowNegative: row.3, balance: row.4, held: row.5)
        }
        for id in ids.sorted(by: { $0.rawValue.uuidString < $1.rawValue.uuidString }) where locked[id] == nil {
            throw APIError.unprocessable("unknown_account", "Account \(id) does not exist in this tenant.")
        }
        return locked
    }

    /// The checks on locked accounts: right currency, active, and enough available for what each account gives
    /// net (`released`: what a hold being posted frees on each).
    /// `reserving`: for a hold, which credits nothing until it is posted, so each account must cover all it gives.
    static func check(_ posting: Posting, accounts: [WalletAccountID: Locked], released: [WalletAccountID: Int64], reserving: Bool = false) throws {
        var net: [WalletAccountID: Int64] = [:]
        for leg in posting.legs {
            net[leg.from, default: 0] -= leg.amount
            net[leg.to, default: 0] += reserving ? 0 : leg.amount
        }
        for id in net.keys.sorted(by: { $0.rawValue.uuidString < $1.rawValue.uuidString }) {
            let account = accounts[id]!
            guard account.currency == posting.currency.code else {
                throw APIError.unprocessable("currency_mismatch", "Account \(id) holds \(account.currency), not \(posting.currency.code).")
            }
            switch account.status {
            case .active: break
            case .frozen: throw APIError.conflict("account_frozen", "Account \(id) is frozen.")
            case .closed: throw APIError.conflict("account_closed", "Account \(id) is closed.")
            }
            let change = net[id]!
            let available = account.balance - (account.held - (released[id] ?? 0))
            if change < 0 && !account.allowNegative && available + change < 0 {
                let money = Money(minorUnits: max(available, 0), currency: posting.currency)
                throw APIError.conflict("insufficient_funds", "Account \(id) has \(money.decimalString) \(money.currency.code) available.")
            }
        }
    }

    /// Posts on an open transaction: the first result for a known reference, else a new transaction.
    func post(
        _ posting: Posting, hold: WalletHoldID?, reverses: WalletTransactionID?, released: [WalletAccountID: Int64] = [:],
        on connection: PostgresConnection, requestID: String?, logger: Logger
    ) async throws -> (TransferDTO, replayed: Bool) {
        let fingerprint = posting.fingerprint
        let accounts = try await self.lock(posting.accounts, tenant: posting.tenant, on: connection, logger: logger)
        // the reference is looked up once the accounts are locked: a retry that waited for the locks while its first
        // attempt committed is that attempt's replay, never a new posting judged on the balances the first one left
        // (it would be told "insufficient funds" for money it moved); one lookup, not one before and one after
        if let first = try await self.replay(posting.reference, tenant: posting.tenant, fingerprint: fingerprint, on: connection, logger: logger) {
            return (first, true)
        }
        try Self.check(posting, accounts: accounts, released: released)
        let id = WalletTransactionID()
        let metadata = String(decoding: try JSONEncoder.hashing.encode(posting.metadata), as: UTF8.self)
        let inserted = try await connection.query(
            """
            INSERT INTO wallet.transactions (id, tenant_id, type, reference, request_hash, reverses, hold_id, reason, metadata, created_by)
            VALUES (\(id.rawValue), \(posting.tenant.rawValue), \(posting.type.rawValue), \(posting.reference), \(fingerprint),
                    \(reverses?.rawValue), \(hold?.rawValue), \(posting.reason), \(metadata)::jsonb, \(posting.actor))
            ON CONFLICT ON CONSTRAINT transactions_reference_key DO NOTHING RETURNING created_at
            """, logger: logger
        ).first(as: Date.self)
        guard inserted != nil else {
            // a posting with this reference committed while this one waited for the account locks: that is the result
            guard let first = try await self.replay(posting.reference, tenant: posting.tenant, fingerprint: fingerprint, on: connection, logger: logger)
            else { throw APIError.conflict("reference_in_use", "A transfer with this reference is being posted; retry.") }
            return (first, true)
        }
        // what the hold being posted reserved is freed as its legs are posted (the hold row is locked by the caller)
        try await Self.changeHeld(by: released.mapValues { -$0 }, on: connection, logger: logger)
        // credits before debits: each account's balance only rises, then falls to where it ends, so the no-overdraft
        // constraint (checked row by row) sees no dip that the whole posting does not make
        let entries = posting.entries.filter { $0.direction == .credit } + posting.entries.filter { $0.direction == .debit }
        // the rows as posted (the insert trigger's balance_after included) answer the transfer: no second read
        let rows = try await connection.query(
            """
            INSERT INTO wallet.entries (transaction_id, account_id, tenant_id, currency, direction, amount)
            SELECT \(id.rawValue), e.account, \(posting.tenant.rawValue), \(posting.currency.code), e.direction, e.amount
            FROM unnest(\(entries.map(\.account.rawValue)), \(entries.map(\.direction.rawValue)), \(entries.map(\.amount)))
                 WITH ORDINALITY AS e(account, direction, amount, n)
            ORDER BY e.n
            RETURNING \(unescaped: Self.entryColumns)
            """, logger: logger
        ).all(as: EntryRow.self)
        try await self.auditPosting(posting, id: id, on: connection, requestID: requestID, logger: logger)
        // what `transfer(_:tenant:)` would read back: the row as inserted (nothing reverses it yet), its entries by id
        guard let createdAt = inserted else { throw CorruptRow("transaction \(id) vanished") }
        let row: TransferRow = (
            id.rawValue, posting.type.rawValue, posting.reference, posting.reason, metadata, reverses?.rawValue, hold?.rawValue, posting.actor,
            createdAt, nil
        )
        return (try Self.transfer(row, entries: try rows.sorted { $0.0 < $1.0 }.map(Self.entry)), false)
    }

    /// Adjustments and reversals are people's decisions, so each has an audit row; the other types are the
    /// marketplace's and the callers' own records.
    func auditPosting(_ posting: Posting, id: WalletTransactionID, on connection: PostgresConnection, requestID: String?, logger: Logger) async throws {
        guard posting.type == .adjustment || posting.type == .reversal else { return }
        try await self.audit.record(
            on: connection, tenantID: posting.tenant, actor: posting.actor, action: "transfer.\(posting.type.rawValue)", table: "transactions",
            targetID: id.description, before: nil as Posting.CanonicalPosting?,
            after: Posting.CanonicalPosting(
                type: posting.type.rawValue, currency: posting.currency.code, legs: posting.legs, reason: posting.reason, metadata: posting.metadata),
            requestID: requestID, logger: logger)
    }

    /// The transaction posted under `reference`, when its request was this one; another request is a 409.
    func replay(_ reference: String, tenant: TenantID, fingerprint: String, on connection: PostgresConnection, logger: Logger) async throws -> TransferDTO? {
        guard
            let (id, hash) = try await connection.query(
                "SELECT id, request_hash FROM wallet.transactions WHERE tenant_id = \(tenant.rawValue) AND reference = \(reference)", logger: logger
            ).first(as: (UUID, String).self)
        else { return nil }
        guard hash == fingerprint else {
            throw APIError.conflict("reference_reused", "This reference (Idempotency-Key) was already used for a different transfer.")
        }
        return try await self.transfer(WalletTransactionID(id), tenant: tenant, on: connection, logger: logger)
    }

    static let transferColumns = """
        t.id, t.type, t.reference, t.reason, t.metadata::text, t.reverses, t.hold_id, t.created_by, t.created_at,
        (SELECT r.id FROM wallet.transactions r WHERE r.reverses = t.id)
        """
    typealias TransferRow = (UUID, String, String, String?, String, UUID?, UUID?, String, Date, UUID?)
    static let entryColumns = "id, transaction_id, account_id, currency, direction, amount, balance_after, created_at"
    typealias EntryRow = (Int64, UUID, UUID, String, String, Int64, Int64, Date)

    static func entry(_ row: EntryRow) throws -> EntryDTO {
        guard let currency = Currency(code: row.3) else { throw CorruptRow("entry \(row.0) has currency \(row.3)") }
        return EntryDTO(
            id: row.0, transactionId: WalletTransactionID(row.1), accountId: WalletAccountID(row.2), direction: try CorruptRow.known(row.4),
            amount: Money(minorUnits: row.5, currency: currency), balanceAfter: Money(minorUnits: row.6, currency: currency), createdAt: row.7)
    }

    static func transfer(_ row: TransferRow, entries: [EntryDTO]) throws -> TransferDTO {
        guard let currency = entries.first?.amount.currency else { throw CorruptRow("transaction \(row.0) has no entries") }
        let metadata = try JSONDecoder.sokoni.decode([String: JSONValue].self, from: Data(row.4.utf8))
        // each account's balance after the transaction: its last entry's
        var balances: [WalletAccountID: Money] = [:]
        for entry in entries { balances[entry.accountId] = entry.balanceAfter }
        let sorted: [TransferDTO.Balance] = balances.sorted { $0.key.description < $1.key.description }.map {
            TransferDTO.Balance(accountId: $0.key, balance: $0.value)
        }
        let type: TransactionType = try CorruptRow.known(row.1)
        let reverses: WalletTransactionID? = row.5.map { WalletTransactionID($0) }
        let reversedBy: WalletTransactionID? = row.9.map { WalletTransactionID($0) }
        let hold: WalletHoldID? = row.6.map { WalletHoldID($0) }
        return TransferDTO(
            id: WalletTransactionID(row.0), type: type, reference: row.2, currency: currency, reason: row.3, metadata: metadata, reverses: reverses,
            reversedBy: reversedBy, holdId: hold, createdBy: row.7, createdAt: row.8, entries: entries, balances: sorted)
    }

    func transfer(_ id: WalletTransactionID, tenant: TenantID, on connection: PostgresConnection? = nil, logger: Logger) async throws -> TransferDTO? {
        try await self.on(connection) { connection in
            guard
                let row = try await connection.query(
                    "SELECT \(unescaped: Self.transferColumns) FROM wallet.transactions t WHERE t.id = \(id.rawValue) AND t.tenant_id = \(tenant.rawValue)",
                    logger: logger
                ).first(as: TransferRow.self)
            else { return nil }
            let entries = try await connection.query(
                "SELECT \(unescaped: Self.entryColumns) FROM wallet.entries WHERE transaction_id = \(id.rawValue) ORDER BY id", logger: logger
            ).all(as: EntryRow.self).map(Self.entry)
            return try Self.transfer(row, entries: entries)
        }
    }

    /// A page of transfers, newest first; `account`: only those touching it.
    func transfers(tenant: TenantID, account: WalletAccountID?, type: TransactionType?, before: (Int64, UUID)?, limit: Int, logger: Logger)
        async throws -> [TransferDTO]
    {
        try await self.postgres.withConnection { connection in
            let rows = try await connection.query(
                """
                SELECT \(unescaped: Self.transferColumns) FROM wallet.transactions t
                WHERE t.tenant_id = \(tenant.rawValue) AND (\(type?.rawValue)::text IS NULL OR t.type = \(type?.rawValue))
                  AND (\(account?.rawValue)::uuid IS NULL OR EXISTS (
                      SELECT 1 FROM wallet.entries e WHERE e.transaction_id = t.id AND e.account_id = \(account?.rawValue)))
                  AND (\(before == nil) OR (t.created_at, t.id) < ('epoch'::timestamptz + \(before?.0 ?? 0) * interval '1 microsecond', \(before?.1 ?? UUID())))
                ORDER BY t.created_at DESC, t.id DESC LIMIT \(limit)
                """, logger: logger
            ).all(as: TransferRow.self)
            let ids = rows.map(\.0)
            let entries = try await connection.query(
                "SELECT \(unescaped: Self.entryColumns) FROM wallet.entries WHERE transaction_id = ANY(\(ids)) ORDER BY id", logger: logger
            ).all(as: EntryRow.self).map(Self.entry)
            let byTransaction = Dictionary(grouping: entries, by: \.transactionId)
            return try rows.map { try Self.transfer($0, entries: byTransaction[WalletTransactionID($0.0)] ?? []) }
        }
    }

    /// Reverses a transfer: the same legs the other way, linked to it; at most once (a second is a 409).
    func reverse(
        _ id: WalletTransactionID, tenant: TenantID, reference: String, reason: String?, actor: String, requestID: String, logger: Logger
    ) async throws -> (TransferDTO, replayed: Bool)? {
        try await self.transaction(logger: logger) { connection in
            guard let original = try await self.transfer(id, tenant: tenant, on: connection, logger: logger) else { return nil }
            guard original.type != .reversal else {
                throw APIError.unprocessable("reversal_of_reversal", "A reversal is not reversed; post a new transfer instead.")
            }
            // reversed already: the same request gets the reversal again, any other a 409 (before any funds check)
            if let reversal = original.reversedBy {
                guard let first = try await self.transfer(reversal, tenant: tenant, on: connection, logger: logger), first.reference == reference else {
                    throw APIError.conflict("already_reversed", "This transfer was already reversed.")
                }
                return (first, true)
            }
            // the money goes back: each debit paired with a credit of the same amount (every leg made one of each)
            var credits = original.entries.filter { $0.direction == .credit }
            var reversed: [Leg] = []
            for debit in original.entries where debit.direction == .debit {
                guard let index = credits.firstIndex(where: { $0.amount == debit.amount }) else { throw CorruptRow("transaction \(id) does not pair") }
                reversed.append(Leg(from: credits[index].accountId, to: debit.accountId, amount: debit.amount.minorUnits))
                credits.remove(at: index)
            }
            let posting = Posting(
                tenant: tenant, type: .reversal, reference: reference, currency: original.currency, legs: reversed, reason: reason,
                metadata: ["reverses": .string(id.description)], actor: actor)
            return try await self.post(posting, hold: nil, reverses: id, on: connection, requestID: requestID, logger: logger)
        }
    }

    /// Adds `changes` to the accounts' `held` (the accounts are locked by the caller).
    static func changeHeld(by changes: [WalletAccountID: Int64], on connection: PostgresConnection, logger: Logger) async throws {
        guard !changes.isEmpty else { return }
        let ids = changes.keys.map(\.rawValue)
        try await connection.query(
            """
            UPDATE wallet.accounts a SET held = a.held + r.amount, updated_at = now()
            FROM unnest(\(ids), \(ids.map { changes[WalletAccountID($0)]! })) AS r(id, amount) WHERE a.id = r.id
            """, logger: logger)
    }

    /// Runs `body` on `connection`, or on a pooled connection when there is none.
    func on<Result: Sendable>(_ connection: PostgresConnection?, _ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        if let connection { return try await body(connection) }
        return try await self.postgres.withConnection(body)
    }

    // MARK: entries and statements

    func recentEntries(_ account: WalletAccountID, limit: Int, logger: Logger) async throws -> [EntryDTO] {
        try await self.postgres.query(
            "SELECT \(unescaped: Self.entryColumns) FROM wallet.entries WHERE account_id = \(account.rawValue) ORDER BY id DESC LIMIT \(limit)",
            logger: logger
        ).all(as: EntryRow.self).map(Self.entry)
    }

    static let maxStatementLines = 10_000

    /// An account's entries in `[from, to)` with the balance before and after (nil: no such account). An account's
    /// entries are in id order, the order their postings took its lock (their `created_at` is stamped under it).
    func statement(_ id: WalletAccountID, tenant: TenantID, from: Date, to: Date, logger: Logger) async throws -> StatementDTO? {
        try await self.postgres.withTransaction(logger: logger) { connection -> StatementDTO? in
            // one snapshot for the opening balance and the lines
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
            guard
                let account = try await connection.query(
                    "SELECT \(unescaped: Self.accountColumns) FROM wallet.accounts WHERE id = \(id.rawValue) AND tenant_id = \(tenant.rawValue)",
                    logger: logger
                ).first(as: AccountRow.self).map(Self.account)
            else { return nil }
            let currency = account.currency
            let opening =
                try await connection.query(
                    """
                    SELECT balance_after FROM wallet.entries WHERE account_id = \(id.rawValue) AND created_at < \(from)
                    ORDER BY id DESC LIMIT 1
                    """, logger: logger
                ).first(as: Int64.self) ?? Int64(0)
            let rows = try await connection.query(
                """
                SELECT e.id, e.created_at, e.transaction_id, t.type, t.reference, t.reason, e.direction, e.amount, e.balance_after
                FROM wallet.entries e JOIN wallet.transactions t ON t.id = e.transaction_id
                WHERE e.account_id = \(id.rawValue) AND e.created_at >= \(from) AND e.created_at < \(to)
                ORDER BY e.id LIMIT \(Self.maxStatementLines + 1)
                """, logger: logger
            ).all(as: (Int64, Date, UUID, String, String, String?, String, Int64, Int64).self)
            guard rows.count <= Self.maxStatementLines else {
                throw APIError.unprocessable("statement_too_long", "More than \(Self.maxStatementLines) entries: ask for a shorter period.")
            }
            var debits: Int64 = 0
            var credits: Int64 = 0
            let lines = try rows.map { row in
                let direction: EntryDirection = try CorruptRow.known(row.6)
                // 10,000 lines of the largest amounts would pass Int64: such a period is asked for in parts
                let (total, overflow) = (direction == .debit ? debits : credits).addingReportingOverflow(row.7)
                guard !overflow else { throw APIError.unprocessable("statement_too_large", "The period's totals are too large: ask for a shorter one.") }
                if direction == .debit { debits = total } else { credits = total }
                return StatementDTO.Line(
                    entryId: row.0, at: row.1, transactionId: WalletTransactionID(row.2), type: try CorruptRow.known(row.3), reference: row.4,
                    reason: row.5, direction: direction, amount: Money(minorUnits: row.7, currency: currency),
                    balanceAfter: Money(minorUnits: row.8, currency: currency))
            }
            return StatementDTO(
                account: account, from: from, to: to, openingBalance: Money(minorUnits: opening, currency: currency),
                closingBalance: Money(minorUnits: rows.last?.8 ?? opening, currency: currency), totalDebits: Money(minorUnits: debits, currency: currency),
                totalCredits: Money(minorUnits: credits, currency: currency), lines: lines)
        }
    }

    // MARK: invariants

    /// Checks the ledger in one snapshot: of one tenant, or (nil) of the whole platform.
    func invariants(tenant: TenantID?, logger: Logger) async throws -> InvariantReport {
        try await self.postgres.withTransaction(logger: logger) { connection -> InvariantReport in
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
            let scope = tenant?.rawValue
            let sums = try await connection.query(
                """
                SELECT currency, count(*)::int, sum(balance)::int8 FROM wallet.accounts
                WHERE \(scope)::uuid IS NULL OR tenant_id = \(scope) GROUP BY currency ORDER BY currency
                """, logger: logger
            ).all(as: (String, Int, Int64).self)
            let transactions =
                try await connection.query(
                    "SELECT count(*)::int FROM wallet.transactions WHERE \(scope)::uuid IS NULL OR tenant_id = \(scope)", logger: logger
                ).first(as: Int.self) ?? 0
            let unbalanced = try await connection.query(
                """
                SELECT DISTINCT transaction_id FROM (
                    SELECT transaction_id FROM wallet.entries WHERE \(scope)::uuid IS NULL OR tenant_id = \(scope)
                    GROUP BY transaction_id, currency HAVING sum(CASE direction WHEN 'credit' THEN amount ELSE -amount END) <> 0) u
                LIMIT 20
                """, logger: logger
            ).all(as: UUID.self)
            let empty = try await connection.query(
                """
                SELECT t.id FROM wallet.transactions t
                WHERE (\(scope)::uuid IS NULL OR t.tenant_id = \(scope)) AND NOT EXISTS (SELECT 1 FROM wallet.entries e WHERE e.transaction_id = t.id)
                LIMIT 20
                """, logger: logger
            ).all(as: UUID.self)
            let mismatched = try await connection.query(
                """
                SELECT a.id FROM wallet.accounts a
                LEFT JOIN (SELECT account_id, sum(CASE direction WHEN 'credit' THEN amount ELSE -amount END) AS total
                           FROM wallet.entries GROUP BY account_id) e ON e.account_id = a.id
                WHERE (\(scope)::uuid IS NULL OR a.tenant_id = \(scope)) AND a.balance <> coalesce(e.total, 0)
                LIMIT 20
                """, logger: logger
            ).all(as: UUID.self)
            let heldMismatched = try await connection.query(
                """
                SELECT a.id FROM wallet.accounts a
                LEFT JOIN (SELECT (l->>'from')::uuid AS account_id, sum((l->>'amount')::int8) AS total
                           FROM wallet.holds h, jsonb_array_elements(h.legs) l WHERE h.status = 'pending' GROUP BY 1) p ON p.account_id = a.id
                WHERE (\(scope)::uuid IS NULL OR a.tenant_id = \(scope)) AND a.held <> coalesce(p.total, 0)
                LIMIT 20
                """, logger: logger
            ).all(as: UUID.self)
            let overdrawn = try await connection.query(
                """
                SELECT id FROM wallet.accounts
                WHERE (\(scope)::uuid IS NULL OR tenant_id = \(scope)) AND NOT allow_negative AND balance - held < 0 LIMIT 20
                """, logger: logger
            ).all(as: UUID.self)
            let currencies = sums.map { InvariantReport.CurrencySum(currency: $0.0, accounts: $0.1, sum: $0.2) }
            let holds =
                currencies.allSatisfy { $0.sum == 0 } && unbalanced.isEmpty && empty.isEmpty && mismatched.isEmpty && heldMismatched.isEmpty
                && overdrawn.isEmpty
            return InvariantReport(
                holds: holds, checkedAt: Date(), tenantId: tenant, accounts: sums.reduce(0) { $0 + $1.1 }, transactions: transactions,
                currencies: currencies, unbalancedTransactions: unbalanced.map { WalletTransactionID($0) },
                transactionsWithoutEntries: empty.map { WalletTransactionID($0) }, balanceMismatches: mismatched.map { WalletAccountID($0) },
                heldMismatches: heldMismatched.map { WalletAccountID($0) }, overdrawnAccounts: overdrawn.map { WalletAccountID($0) })
        }
    }
}
