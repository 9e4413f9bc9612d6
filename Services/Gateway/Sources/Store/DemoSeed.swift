import Contracts
import Foundation
import Logging
import Models
import PostgresNIO
import ServiceKit

/// `gateway seed-demo`: migrates, then creates (once; running it again changes nothing) a demo tenant and one user
/// per kind of role, all with the password in `DEMO_PASSWORD`, and prints them as JSON
/// (`[{email, password, roles, tenantId}]`) for `.local/demo.json`.
public enum DemoSeed {
    public struct DemoUser: Codable, Sendable {
        public var email: String
        public var password: String
        public var roles: [Role]
        public var tenantId: String?
    }

    static func run(settings: ServiceSettings, logger: Logger) async throws {
        let password = try settings.settings.required("demo.password", secret: true)
        try Passwords(cost: 4).validate(password)
        let cost = UInt8(try settings.settings.int("auth.bcryptCost", default: 12, range: 4...16))
        let users = try await ServiceMain.withMigratedClient(settings: settings, logger: logger) { client in
            try await self.seed(client: client, password: password, cost: cost, logger: logger)
        }
        print(String(decoding: try JSONEncoder.sokoni.encode(users), as: UTF8.self))
    }

    public static func seed(client: PostgresClient, password: String, cost: UInt8, logger: Logger) async throws -> [DemoUser] {
        let tenant = DemoData.tenant.rawValue
        try await client.query(
            """
            INSERT INTO identity.tenants (id, name, slug, countries, time_zone, currency, language, plan, status)
            VALUES (\(tenant), 'Demo Fuel & Shop', 'demo', '{RW,KE}', 'Africa/Kigali', 'RWF', 'en', 'pro', 'active')
            ON CONFLICT (id) DO NOTHING
            """, logger: logger)
        let hash = try await Passwords(cost: cost).hash(password)
        let station = DemoData.station.rawValue
        let people: [(String, [Role], UUID?, UUID?)] = [
            ("admin@sokoni.local", [.superAdmin], nil, nil),
            ("support@sokoni.local", [.support], nil, nil),
            ("dataops@sokoni.local", [.dataOps], nil, nil),
            ("readonly@sokoni.local", [.readonly], nil, nil),
            ("owner@demo.sokoni.local", [.tenantAdmin], tenant, nil),
            ("agent@demo.sokoni.local", [.agent], tenant, nil),
            ("station@demo.sokoni.local", [.stationOperator], tenant, station),
        ]
        var seeded: [DemoUser] = []
        for (email, roles, tenantID, stationID) in people {
            let id = try await client.query(
                """
                INSERT INTO identity.users (id, tenant_id, email, password_hash, name, station_id)
                VALUES (\(UUID()), \(tenantID), \(email), \(hash), \(email.split(separator: "@")[0].capitalized), \(stationID))
                ON CONFLICT ((coalesce(tenant_id, '00000000-0000-0000-0000-000000000000'::uuid)), (lower(email))) DO UPDATE SET email = EXCLUDED.email
                RETURNING id
                """, logger: logger
            ).first(as: UUID.self)!
            for role in roles {
                try await client.query(
                    "INSERT INTO identity.user_roles (user_id, role, granted_by) VALUES (\(id), \(role.rawValue), 'seed-demo') ON CONFLICT DO NOTHING",
                    logger: logger)
            }
            seeded.append(DemoUser(email: email, password: password, roles: roles, tenantId: tenantID?.uuidString.lowercased()))
        }
        return seeded
    }
}
