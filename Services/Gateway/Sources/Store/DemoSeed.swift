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
        let database = try DatabaseURL(settings.databaseURL)
        let client = PostgresClient(configuration: database.clientConfiguration(maxConnections: 2), backgroundLogger: logger)
        let users: [DemoUser] = try await withThrowingTaskGroup(of: [DemoUser]?.self) { group in
            group.addTask { await client.run(); return nil }
            try await Migrator(schema: settings.service.schema, directory: settings.migrationsDirectory).migrate(client: client, logger: logger)
            let users = try await self.seed(client: client, password: password, cost: UInt8(try settings.settings.int("auth.bcryptCost", default: 12, range: 4...16)), logger: logger)
            group.cancelAll()
            return users
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(users), as: UTF8.self))
    }

    public static func seed(client: PostgresClient, password: String, cost: UInt8, logger: Logger) async throws -> [DemoUser] {
        let tenant = UUID(uuidString: "00000000-0000-4000-8000-000000000001")!
        try await client.query(
            """
            INSERT INTO identity.tenants (id, name, slug, countries, time_zone, currency, language, plan, status)
            VALUES (\(tenant), 'Demo Fuel & Shop', 'demo', '{RW,KE}', 'Africa/Kigali', 'RWF', 'en', 'pro', 'active')
            ON CONFLICT (id) DO NOTHING
            """, logger: logger)
        let hash = try await Passwords(cost: cost).hash(password)
        let station = UUID(uuidString: "00000000-0000-4000-8000-000000000501")!
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
                ON CONFLICT ((lower(email))) DO UPDATE SET email = EXCLUDED.email
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
