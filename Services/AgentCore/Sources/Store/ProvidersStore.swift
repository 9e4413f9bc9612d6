import Foundation
import Logging
import Models
import NIOCore
import PostgresNIO
import ServiceKit

/// A tenant's own LLM providers and monthly cap. API keys are sealed here on the way in (AES-256-GCM, the key id
/// stored beside them) and opened only for the reply path; what leaves this store for a person is a hint.
struct ProvidersStore: Sendable {
    let postgres: PostgresClient
    let audit: AuditLog
    let secrets: SecretBox

    typealias Row = (String, String, String, String?, ByteBuffer?, String?, String?)

    /// What the console shows: the cap and the providers with key hints, never the keys.
    func config(tenant: TenantID, logger: Logger) async throws -> ProvidersConfigDTO {
        let settings = try await self.postgres.query(
            "SELECT monthly_cap_micros, updated_at FROM agent.tenant_llm_settings WHERE tenant_id = \(tenant.rawValue)", logger: logger
        ).first(as: (Int64?, Date).self)
        let providers = try await self.rows(tenant: tenant, on: nil, logger: logger).map(Self.dto)
        return ProvidersConfigDTO(configured: !providers.isEmpty, monthlyCapMicros: settings?.0, providers: providers, updatedAt: settings?.1)
    }

    static func dto(_ row: Row) -> ProviderDTO {
        ProviderDTO(name: row.0, baseUrl: row.1, model: row.2, cheapModel: row.3, hasApiKey: row.4 != nil, apiKeyHint: row.4 == nil ? nil : row.6)
    }

    func rows(tenant: TenantID, on connection: PostgresConnection?, logger: Logger) async throws -> [Row] {
        let query: PostgresQuery = """
            SELECT name, base_url, model, cheap_model, api_key, api_key_key_id, api_key_hint FROM agent.tenant_providers
            WHERE tenant_id = \(tenant.rawValue) ORDER BY position
            """
        let rows = if let connection { try await connection.query(query, logger: logger) } else { try await self.postgres.query(query, logger: logger) }
        return try await rows.all(as: Row.self)
    }

    /// Replaces the tenant's providers and cap. A provider sent without `apiKey` keeps the key the provider of the
    /// same name had; `clearApiKey` removes it.
    func put(_ body: PutProviders, tenant: TenantID, actor: String, requestID: String, logger: Logger) async throws -> ProvidersConfigDTO {
        try await self.postgres.withTransaction(logger: logger) { connection in
            let before = try await connection.query(
                "SELECT monthly_cap_micros FROM agent.tenant_llm_settings WHERE tenant_id = \(tenant.rawValue) FOR UPDATE", logger: logger
            ).first(as: Int64?.self)
            let old = try await self.rows(tenant: tenant, on: connection, logger: logger)
            try await connection.query(
                """
                INSERT INTO agent.tenant_llm_settings (tenant_id, monthly_cap_micros, updated_by) VALUES (\(tenant.rawValue), \(body.monthlyCapMicros), \(actor))
                ON CONFLICT (tenant_id) DO UPDATE SET monthly_cap_micros = EXCLUDED.monthly_cap_micros, updated_by = EXCLUDED.updated_by, updated_at = now()
                """, logger: logger)
            try await connection.query("DELETE FROM agent.tenant_providers WHERE tenant_id = \(tenant.rawValue)", logger: logger)
            for (position, provider) in body.providers.enumerated() {
                let kept = old.first { $0.0 == provider.name }
                var sealed: ByteBuffer? = kept?.4
                var keyID = kept?.5
                var hint = kept?.6
                if provider.clearApiKey == true {
                    (sealed, keyID, hint) = (nil, nil, nil)
                }
                if let key = provider.apiKey {
                    let box = try self.secrets.seal(Array(key.utf8))
                    (sealed, keyID, hint) = (ByteBuffer(bytes: box.bytes), box.keyID, ProviderRules.hint(key))
                }
                try await connection.query(
                    """
                    INSERT INTO agent.tenant_providers (tenant_id, position, name, base_url, model, cheap_model, api_key, api_key_key_id, api_key_hint)
                    VALUES (\(tenant.rawValue), \(position), \(provider.name), \(provider.baseUrl), \(provider.model), \(provider.cheapModel),
                            \(sealed), \(keyID), \(hint))
                    """, logger: logger)
            }
            let after = try await self.rows(tenant: tenant, on: connection, logger: logger).map(Self.dto)
            struct Audited: Encodable {
                var monthlyCapMicros: Int64?
                var providers: [ProviderDTO]
            }
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "llm_providers.updated", table: "tenant_providers", targetID: tenant.description,
                before: before.map { _ in Audited(monthlyCapMicros: before ?? nil, providers: old.map(Self.dto)) },
                after: Audited(monthlyCapMicros: body.monthlyCapMicros, providers: after), requestID: requestID, logger: logger)
            return ProvidersConfigDTO(configured: !after.isEmpty, monthlyCapMicros: body.monthlyCapMicros, providers: after, updatedAt: Date())
        }
    }

    /// The tenant's providers with their keys opened, in fallback order: only for the reply path.
    func specs(tenant: TenantID, logger: Logger) async throws -> [ProviderSpec] {
        try await self.rows(tenant: tenant, on: nil, logger: logger).map { row in
            var key: String?
            if var bytes = row.4, let keyID = row.5 {
                let sealed = SecretBox.Sealed(bytes: bytes.readBytes(length: bytes.readableBytes) ?? [], keyID: keyID)
                key = String(decoding: try self.secrets.open(sealed), as: UTF8.self)
            }
            return ProviderSpec(name: row.0, baseURL: row.1, apiKey: key, model: row.2, cheapModel: row.3)
        }
    }
}
