import Contracts
import Crypto
import Foundation
import Logging
import Models
import NIOCore
import PostgresNIO
import ServiceKit

/// All SQL on opt-outs, settings and the shared send counters: what the one send policy reads.
struct PolicyStore: Sendable {
    let postgres: PostgresClient
    let audit: AuditLog
    /// The key of the opt-out list's hashes: the list never holds a number in clear.
    let optOutKey: SymmetricKey
    /// Each change of the list is told to the CRM (the lead's opt-in follows), unless the CRM made it.
    let crm: CRMEvents

    // MARK: opt-outs

    /// The keyed hash of the address's canonical form: one mechanism for every channel.
    func hash(_ address: String) -> ByteBuffer {
        ByteBuffer(bytes: Array(HMAC<SHA256>.authenticationCode(for: Data(Self.canonical(address).utf8), using: self.optOutKey)))
    }

    /// The form of an address the list keys: an email address lower-cased (`EmailAddress`), so the customer who
    /// writes `Aline@Shop.example` and the bounce that reports `aline@shop.example` are one entry; anything else
    /// (E.164, a chat id, an Instagram id) as it is.
    static func canonical(_ address: String) -> String {
        guard address.contains("@") else { return address }
        return EmailAddress.canonical(address) ?? address.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }

    static func masked(_ address: String) -> String {
        if address.hasPrefix("+") { return PhoneNumber.masked(e164: address) }
        let address = Self.canonical(address)
        if let at = address.firstIndex(of: "@") { return String(address[..<at].prefix(2)) + "••••" + address[at...] }
        return String(address.prefix(2)) + "••••"
    }

    func isOptedOut(tenant: TenantID, address: String, on connection: PostgresConnection? = nil, logger: Logger) async throws -> Bool {
        let query: PostgresQuery =
            "SELECT 1 FROM messaging.opt_outs WHERE tenant_id = \(tenant.rawValue) AND address_hash = \(self.hash(address))"
        let rows = if let connection { try await connection.query(query, logger: logger) } else { try await self.postgres.query(query, logger: logger) }
        return try await rows.first(as: Int.self) != nil
    }

    /// Adds the address to the list; true when it was not on it. Audited: who, from where (a keyword, the provider,
    /// the API, the CRM). A change is told to the CRM, unless the CRM made it.
    @discardableResult
    func optOut(
        tenant: TenantID, address: String, source: String, language: String?, actor: String, requestID: String?, fromCRM: Bool = false,
        on connection: PostgresConnection, logger: Logger
    ) async throws -> Bool {
        let added =
            try await connection.query(
                """
                INSERT INTO messaging.opt_outs (tenant_id, address_hash, masked, source, language)
                VALUES (\(tenant.rawValue), \(self.hash(address)), \(Self.masked(address)), \(source), \(language))
                ON CONFLICT DO NOTHING RETURNING 1
                """, logger: logger
            ).first(as: Int.self) != nil
        if added {
            // out of every sequence at once (an opt-out in any form: a keyword, the provider, a person, the CRM)
            try await SequencesStore.exit(tenant: tenant, phone: address, reason: "opted_out", on: connection, logger: logger)
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "opt_out.add", table: "opt_outs", targetID: Self.masked(address),
                before: nil as String?,
                after: ["source": source], requestID: requestID, logger: logger)
            if !fromCRM { try await self.tellCRM(.optedOut, tenant: tenant, address: address, requestID: requestID, on: connection, logger: logger) }
        }
        return added
    }

    @discardableResult
    func optIn(
        tenant: TenantID, address: String, actor: String, requestID: String?, fromCRM: Bool = false, on connection: PostgresConnection, logger: Logger
    ) async throws -> Bool {
        let removed =
            try await connection.query(
                "DELETE FROM messaging.opt_outs WHERE tenant_id = \(tenant.rawValue) AND address_hash = \(self.hash(address)) RETURNING 1", logger: logger
            ).first(as: Int.self) != nil
        if removed {
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "opt_out.remove", table: "opt_outs", targetID: Self.masked(address),
                before: ["optedOut": "true"], after: nil as String?, requestID: requestID, logger: logger)
            if !fromCRM { try await self.tellCRM(.optedIn, tenant: tenant, address: address, requestID: requestID, on: connection, logger: logger) }
        }
        return removed
    }

    private func tellCRM(
        _ kind: CRMAPI.Event.Kind, tenant: TenantID, address: String, requestID: String?, on connection: PostgresConnection, logger: Logger
    ) async throws {
        try await self.crm.enqueue(
            CRMAPI.Event(id: "consent-\(UUID().uuidString.lowercased())", source: .messaging, kind: kind, phone: address, at: Date()), tenant: tenant,
            requestID: requestID, on: connection, logger: logger)
    }

    struct OptOutEntry: Codable, Sendable, Equatable {
        /// The keyed hash, hex: the stable id of an entry (and what a tenant exports).
        var hash: String
        var masked: String
        var source: String
        var language: String?
        var createdAt: Date
    }

    func optOuts(tenant: TenantID, after cursor: (Int64, String)?, limit: Int, logger: Logger) async throws -> [OptOutEntry] {
        try await self.postgres.query(
            """
            SELECT encode(address_hash, 'hex'), masked, source, language, created_at FROM messaging.opt_outs
            WHERE tenant_id = \(tenant.rawValue) AND (\(cursor?.0)::bigint IS NULL
                   OR (created_at, encode(address_hash, 'hex')) > (timestamptz 'epoch' + \(cursor?.0) * interval '1 microsecond', \(cursor?.1)))
            ORDER BY created_at, address_hash LIMIT \(limit)
            """, logger: logger
        ).all(as: (String, String, String, String?, Date).self).map {
            OptOutEntry(hash: $0.0, masked: $0.1, source: $0.2, language: $0.3, createdAt: $0.4)
        }
    }

    /// Removes by the entry's hash (the list shows no number to remove by).
    func removeOptOut(tenant: TenantID, hash: String, actor: String, requestID: String, logger: Logger) async throws -> Bool {
        try await self.postgres.withTransaction(logger: logger) { connection in
            guard
                let masked = try await connection.query(
                    "DELETE FROM messaging.opt_outs WHERE tenant_id = \(tenant.rawValue) AND address_hash = decode(\(hash), 'hex') RETURNING masked",
                    logger: logger
                ).first(as: String.self)
            else { return false }
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "opt_out.remove", table: "opt_outs", targetID: masked,
                before: ["optedOut": "true"], after: nil as String?, requestID: requestID, logger: logger)
            // the list holds no number; the contact whose number hashes to the entry names the lead to tell
            let phones = try await connection.query(
                "SELECT address FROM messaging.contacts WHERE tenant_id = \(tenant.rawValue) AND address LIKE '+%'", logger: logger
            ).all(as: String.self)
            if let phone = phones.first(where: { self.hash($0).readableBytesView.hex == hash.lowercased() }) {
                try await self.tellCRM(.optedIn, tenant: tenant, address: phone, requestID: requestID, on: connection, logger: logger)
            }
            return true
        }
    }

    // MARK: settings

    /// The tenant's settings over the platform defaults (a part the tenant never set is the default's).
    func settings(tenant: TenantID, logger: Logger) async throws -> MessagingSettings {
        try Self.settings(
            document: try await self.postgres.query(
                "SELECT document::text FROM messaging.settings WHERE tenant_id = \(tenant.rawValue)", logger: logger
            ).first(as: String.self))
    }

    /// A stored settings document (nil: the tenant never saved any) as the settings: for every query that reads one.
    static func settings(document: String?) throws -> MessagingSettings {
        guard let document else { return .defaults }
        return try JSONDecoder.sokoni.decode(MessagingSettings.self, from: Data(document.utf8))
    }

    func saveSettings(_ settings: MessagingSettings, tenant: TenantID, actor: String, requestID: String, logger: Logger) async throws {
        let before = try await self.settings(tenant: tenant, logger: logger)
        let text = String(decoding: try JSONEncoder.sokoni.encode(settings), as: UTF8.self)
        try await self.postgres.withTransaction(logger: logger) { connection in
            try await connection.query(
                """
                INSERT INTO messaging.settings (tenant_id, document) VALUES (\(tenant.rawValue), \(text)::jsonb)
                ON CONFLICT (tenant_id) DO UPDATE SET document = EXCLUDED.document, updated_at = now()
                """, logger: logger)
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "settings.update", table: "settings", targetID: tenant.description, before: before,
                after: settings, requestID: requestID, logger: logger)
        }
    }

    // MARK: throttle

    /// Takes one send from each bucket (a fixed window per key), all or none, in the database every replica
    /// shares, in one statement (`messaging.take_send`, so the channel's counter row is held for no round trip). Nil
    /// when allowed; otherwise when the full bucket's window ends.
    func takeSend(_ buckets: [(key: String, limit: Int, window: TimeInterval)], now: Date, logger: Logger) async throws -> Date? {
        try await self.postgres.query(
            """
            SELECT messaging.take_send(\(buckets.map(\.key))::text[], \(buckets.map(\.window))::float8[], \(buckets.map(\.limit))::int[], \(now))
            """, logger: logger
        ).first(as: Date?.self) ?? nil
    }

    /// Drops windows that ended an hour ago or more.
    func sweepCounters(logger: Logger) async throws {
        try await self.postgres.query("DELETE FROM messaging.send_counters WHERE window_start < now() - interval '2 hours'", logger: logger)
    }
}
