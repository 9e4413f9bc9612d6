import Foundation
import Logging
import Models
import PostgresNIO
import ServiceKit

/// Postings taken together (see `PostingBatcher`): one database transaction locks every account of the batch in id
/// order (the one order every posting uses), looks every reference up, checks each posting in turn on the balances
/// the ones before it left, and inserts the accepted ones' transactions and entries with one statement each. A
/// posting the checks refuse is answered on its own and the others go on; anything the batch as a whole cannot do
/// (a rule of the database the checks did not foresee, a reference another request took meanwhile, contention) is
/// rolled back and each posting is then posted alone, answering for itself. A retried posting still finds its first
/// result by its reference, whichever way either was posted.
extension LedgerStore {
    func postBatch(_ items: [(posting: Posting, requestID: String)], logger: Logger) async -> [PostingBatcher.Outcome] {
        guard items.count > 1 else {
            return [await Self.outcome { try await self.postAlone(items[0].posting, requestID: items[0].requestID, logger: logger) }]
        }
        do {
            let outcomes = try await self.postgres.withTransaction(logger: logger) { connection in
                try await self.postTogether(items, on: connection, logger: logger)
            }
            self.metrics?.registry.makeCounter(name: "wallet_posting_batches_total").increment()
            self.metrics?.registry.makeCounter(name: "wallet_postings_batched_total").increment(by: Int64(items.count))
            return outcomes
        } catch {
            logger.debug("posting batch rolled back, posting one by one", metadata: ["error": "\(String(reflecting: error))", "size": "\(items.count)"])
            var outcomes: [PostingBatcher.Outcome] = []
            for item in items {
                outcomes.append(await Self.outcome { try await self.postAlone(item.posting, requestID: item.requestID, logger: logger) })
            }
            return outcomes
        }
    }

    static func outcome(_ body: () async throws -> (TransferDTO, replayed: Bool)) async -> PostingBatcher.Outcome {
        do { return .success(try await body()) } catch { return .failure(error) }
    }

    private struct Accepted {
        var index: Int
        var id: WalletTransactionID
        var posting: Posting
        var fingerprint: String
        var metadata: String
    }

    private func postTogether(_ items: [(posting: Posting, requestID: String)], on connection: PostgresConnection, logger: Logger) async throws
        -> [PostingBatcher.Outcome]
    {
        let postings = items.map(\.posting)
        let fingerprints = postings.map(\.fingerprint)
        // every account, locked in id order: the balances below are the ones the entries will move
        let ids = Set(postings.flatMap(\.accounts)).map(\.rawValue)
        let lockedRows = try await connection.query(
            """
            SELECT id, tenant_id, currency, status, allow_negative, balance, held FROM wallet.accounts
            WHERE id = ANY(\(ids)) ORDER BY id FOR UPDATE
            """, logger: logger
        ).all(as: (UUID, UUID, String, String, Bool, Int64, Int64).self)
        var accounts: [WalletAccountID: (tenant: TenantID, locked: Locked)] = [:]
        for row in lockedRows {
            let id = WalletAccountID(row.0)
            accounts[id] = (
                TenantID(row.1), Locked(id: id, currency: row.2, status: try CorruptRow.known(row.3), allowNegative: row.4, balance: row.5, held: row.6)
            )
        }
        // every reference, after the locks (as alone: a retry that waited for them is its first attempt's replay)
        let known = try await connection.query(
            """
            SELECT t.tenant_id, t.reference, t.id, t.request_hash FROM wallet.transactions t
            JOIN unnest(\(postings.map(\.tenant.rawValue)), \(postings.map(\.reference))) AS r(tenant_id, reference)
              ON t.tenant_id = r.tenant_id AND t.reference = r.reference
            """, logger: logger
        ).all(as: (UUID, String, UUID, String).self)
        struct Key: Hashable {
            var tenant: UUID
            var reference: String
        }
        let posted = Dictionary(known.map { (Key(tenant: $0.0, reference: $0.1), (id: $0.2, hash: $0.3)) }, uniquingKeysWith: { first, _ in first })

        // each posting in turn, on the balances the accepted ones before it leave
        var outcomes: [PostingBatcher.Outcome?] = Array(repeating: nil, count: items.count)
        var replays: [(index: Int, id: WalletTransactionID, tenant: TenantID)] = []
        var accepted: [Accepted] = []
        var acceptedByKey: [Key: Int] = [:]  // into `accepted`
        for (index, posting) in postings.enumerated() {
            let key = Key(tenant: posting.tenant.rawValue, reference: posting.reference)
            let reused = APIError.conflict("reference_reused", "This reference (Idempotency-Key) was already used for a different transfer.")
            if let first = posted[key] {
                if first.hash == fingerprints[index] {
                    replays.append((index, WalletTransactionID(first.id), posting.tenant))
                } else {
                    outcomes[index] = .failure(reused)
                }
                continue
            }
            if let earlier = acceptedByKey[key] {
                // the same reference twice in one batch (a retry that came while its first attempt waited): the
                // first one's result, once it is posted
                if accepted[earlier].fingerprint == fingerprints[index] {
                    replays.append((index, accepted[earlier].id, posting.tenant))
                } else {
                    outcomes[index] = .failure(reused)
                }
                continue
            }
            do {
                var mine: [WalletAccountID: Locked] = [:]
                for id in posting.accounts.sorted(by: { $0.rawValue.uuidString < $1.rawValue.uuidString }) {
                    guard let account = accounts[id], account.tenant == posting.tenant else {
                        throw APIError.unprocessable("unknown_account", "Account \(id) does not exist in this tenant.")
                    }
                    mine[id] = account.locked
                }
                try Self.check(posting, accounts: mine, released: [:])
            } catch {
                outcomes[index] = .failure(error)
                continue
            }
            for leg in posting.legs {
                accounts[leg.from]!.locked.balance -= leg.amount
                accounts[leg.to]!.locked.balance += leg.amount
            }
            let metadata = String(decoding: try JSONEncoder.hashing.encode(posting.metadata), as: UTF8.self)
            acceptedByKey[key] = accepted.count
            accepted.append(Accepted(index: index, id: WalletTransactionID(), posting: posting, fingerprint: fingerprints[index], metadata: metadata))
        }

        var createdAt: [UUID: Date] = [:]
        var entries: [UUID: [EntryDTO]] = [:]
        if !accepted.isEmpty {
            // one statement for the transactions; a reference taken since the lookup (by a request for another
            // transfer) makes the row missing, and the batch is posted one by one instead
            let inserted = try await connection.query(
                """
                INSERT INTO wallet.transactions (id, tenant_id, type, reference, request_hash, reason, metadata, created_by)
                SELECT id, tenant_id, type, reference, request_hash, nullif(reason, ''), metadata::jsonb, created_by
                FROM unnest(\(accepted.map(\.id.rawValue)), \(accepted.map(\.posting.tenant.rawValue)), \(accepted.map(\.posting.type.rawValue)),
                            \(accepted.map(\.posting.reference)), \(accepted.map(\.fingerprint)), \(accepted.map { $0.posting.reason ?? "" }),
                            \(accepted.map(\.metadata)), \(accepted.map(\.posting.actor)))
                     AS r(id, tenant_id, type, reference, request_hash, reason, metadata, created_by)
                ON CONFLICT ON CONSTRAINT transactions_reference_key DO NOTHING RETURNING id, created_at
                """, logger: logger
            ).all(as: (UUID, Date).self)
            guard inserted.count == accepted.count else { throw BatchInterrupted() }
            createdAt = Dictionary(inserted.map { ($0.0, $0.1) }, uniquingKeysWith: { first, _ in first })
            // one statement for the entries, posting after posting in the order checked, each one's credits before
            // its debits (as alone: no balance dips below where the checks saw it end)
            var rows: [(transaction: UUID, tenant: UUID, currency: String, account: UUID, direction: String, amount: Int64)] = []
            for posting in accepted {
                let ordered = posting.posting.entries.filter { $0.direction == .credit } + posting.posting.entries.filter { $0.direction == .debit }
                for entry in ordered {
                    rows.append(
                        (
                            posting.id.rawValue, posting.posting.tenant.rawValue, posting.posting.currency.code, entry.account.rawValue,
                            entry.direction.rawValue,
                            entry.amount
                        ))
                }
            }
            let posted = try await connection.query(
                """
                INSERT INTO wallet.entries (transaction_id, account_id, tenant_id, currency, direction, amount)
                SELECT e.transaction_id, e.account, e.tenant_id, e.currency, e.direction, e.amount
                FROM unnest(\(rows.map(\.transaction)), \(rows.map(\.account)), \(rows.map(\.tenant)), \(rows.map(\.currency)),
                            \(rows.map(\.direction)), \(rows.map(\.amount)))
                     WITH ORDINALITY AS e(transaction_id, account, tenant_id, currency, direction, amount, n)
                ORDER BY e.n
                RETURNING \(unescaped: Self.entryColumns)
                """, logger: logger
            ).all(as: EntryRow.self)
            for row in posted.sorted(by: { $0.0 < $1.0 }) { entries[row.1, default: []].append(try Self.entry(row)) }
            for posting in accepted {
                try await self.auditPosting(posting.posting, id: posting.id, on: connection, requestID: items[posting.index].requestID, logger: logger)
            }
        }

        // the answers: the accepted as posted, the replays as first posted
        var answered: [WalletTransactionID: TransferDTO] = [:]
        for posting in accepted {
            guard let created = createdAt[posting.id.rawValue] else { throw CorruptRow("transaction \(posting.id) vanished") }
            let row: TransferRow = (
                posting.id.rawValue, posting.posting.type.rawValue, posting.posting.reference, posting.posting.reason, posting.metadata, nil, nil,
                posting.posting.actor, created, nil
            )
            let transfer = try Self.transfer(row, entries: entries[posting.id.rawValue] ?? [])
            answered[posting.id] = transfer
            outcomes[posting.index] = .success((transfer, false))
        }
        for replay in replays {
            if let transfer = answered[replay.id] {
                outcomes[replay.index] = .success((transfer, true))
            } else {
                guard let transfer = try await self.transfer(replay.id, tenant: replay.tenant, on: connection, logger: logger) else {
                    throw CorruptRow("transaction \(replay.id) vanished")
                }
                outcomes[replay.index] = .success((transfer, true))
            }
        }
        return try outcomes.map { outcome in
            guard let outcome else { throw CorruptRow("a posting of the batch was left unanswered") }
            return outcome
        }
    }

    /// A reference of the batch was taken by another request since it was looked up.
    struct BatchInterrupted: Error {}
}
