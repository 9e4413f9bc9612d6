import Contracts
import Foundation
import Models
import ServiceKit
import TestSupport
import Testing

@testable import AgentCore
@testable import CalendarBooking
@testable import Gateway
@testable import MarketplaceWallet
@testable import Messaging
@testable import Vouchers

/// The declarations every service and the gateway share agree with what runs: routes, documents and roles.
@Suite struct ContractTests {
    /// `METHOD /path` of every route a service's router registered (the gateway's catch-all proxy routes aside).
    static func routes<Module: ServiceModule>(_ module: Module.Type) async throws -> Set<String> {
        let database = try await TestPostgres.createDatabase(prefix: "routes")
        // run and stop it: a built service owns clients that must be shut down
        let routes = try await TestServices.with(Module.self, settings: TestSettings.settings(for: Module.name, database: database)) {
            $0.service.routes
        }
        return Set(routes.filter { !$0.contains("**") })
    }

    /// `METHOD /path` of every operation an OpenAPI document describes.
    static func documented(_ data: Data?) throws -> Set<String> {
        let bytes = try #require(data)
        let document = try #require(try JSONSerialization.jsonObject(with: bytes) as? [String: Any])
        let paths = try #require(document["paths"] as? [String: Any])
        var operations: Set<String> = []
        for (path, item) in paths {
            for method in (item as? [String: Any] ?? [:]).keys where ["get", "post", "put", "patch", "delete", "head"].contains(method) {
                operations.insert("\(method.uppercased()) \(path)")
            }
        }
        return operations
    }

    static func check(_ routes: Set<String>, against documented: Set<String>, _ service: String) {
        #expect(routes.subtracting(documented).isEmpty, "\(service) routes missing from its OpenAPI document: \(routes.subtracting(documented).sorted())")
        #expect(documented.subtracting(routes).isEmpty, "\(service) documents routes it does not have: \(documented.subtracting(routes).sorted())")
    }

    @Test func everyRouteIsDocumentedAndEveryDocumentedRouteExists() async throws {
        Self.check(try await Self.routes(GatewayService.self), against: try Self.documented(GatewayService.ownOpenAPIDocument), "gateway")
        Self.check(try await Self.routes(VouchersService.self), against: try Self.documented(VouchersService.openAPIDocument), "vouchers")
        Self.check(try await Self.routes(MessagingService.self), against: try Self.documented(MessagingService.openAPIDocument), "messaging")
        Self.check(
            try await Self.routes(MarketplaceWalletService.self), against: try Self.documented(MarketplaceWalletService.openAPIDocument),
            "marketplace-wallet")
        Self.check(try await Self.routes(AgentCoreService.self), against: try Self.documented(AgentCoreService.openAPIDocument), "agent-core")
        Self.check(
            try await Self.routes(CalendarBookingService.self), against: try Self.documented(CalendarBookingService.openAPIDocument),
            "calendar-booking")
    }

    /// The routes a service registers are exactly the endpoints it declares in `Shared/Contracts` (besides the
    /// common ones every service has), and the gateway lets through exactly what those declarations allow.
    @Test func theGatewayAndTheServicesAgreeOnWhoMayCallWhat() async throws {
        for (service, declared, registered) in [
            (ServiceName.vouchers, VouchersAPI.all, try await Self.routes(VouchersService.self)),
            (.messaging, MessagingAPI.all, try await Self.routes(MessagingService.self)),
            (.calendarBooking, CalendarAPI.all, try await Self.routes(CalendarBookingService.self)),
        ] {
            let common = Set(["GET /healthz", "GET /readyz", "GET /metrics", "GET /openapi.json"] + ServiceAPI.all(service).map(\.description))
            let declared = Set(declared.map(\.description))
            let registered = registered.subtracting(common)
            #expect(
                registered == declared,
                "\(service): registered but undeclared: \(registered.subtracting(declared)); declared but unregistered: \(declared.subtracting(registered))")
        }

        for endpoint in RouteTable.declared {
            let concrete = endpoint.path.replacingOccurrences(of: "{id}", with: UUID().uuidString).replacingOccurrences(of: "{kind}", with: "qr.png")
                .replacingOccurrences(of: "{channel}", with: "ch_0123456789abcdefghijklmn").replacingOccurrences(
                    of: "{hash}", with: String(repeating: "ab", count: 32))
            let route = try #require(RouteTable.match(concrete), "no gateway route for \(endpoint)")
            #expect(route.service == endpoint.service)
            #expect(route.isPublic == endpoint.isPublic, "\(endpoint)")
            for role in Role.allCases where !endpoint.isPublic {
                // the gateway never refuses a role the service accepts …
                if endpoint.allows([role]) { #expect(route.allows([role], method: endpoint.method), "\(endpoint) as \(role)") }
            }
        }
        // … nor lets through, per prefix and kind of method, a role no endpoint there accepts (a public endpoint under
        // the prefix, such as a secret feed URL, is let through by its own path, checked above)
        for route in RouteTable.derived(from: RouteTable.declared) where !route.isPublic {
            let under = RouteTable.declared.filter { $0.prefix == route.prefix && !$0.isPublic }
            for role in Role.allCases {
                #expect(route.read.contains(role) == under.contains { $0.isRead && $0.allows([role]) }, "GET \(route.prefix) as \(role)")
                #expect(route.write.contains(role) == under.contains { !$0.isRead && $0.allows([role]) }, "write \(route.prefix) as \(role)")
            }
        }
    }

    /// The gateway's `/openapi.json` is the whole platform (asked of each service over HTTP) and `/docs` shows it.
    @Test func theGatewayServesThePlatformsDocumentAndItsReferencePage() async throws {
        try await TestPlatform.with { platform in
            let merged = try await TestHTTP.get("\(platform.url(.gateway))/openapi.json")
            #expect(merged.status == 200)
            let operations = try Self.documented(merged.body)
            var expected = try Self.documented(GatewayService.ownOpenAPIDocument)
            for document in [
                VouchersService.openAPIDocument, MessagingService.openAPIDocument, MarketplaceWalletService.openAPIDocument,
                AgentCoreService.openAPIDocument, CalendarBookingService.openAPIDocument,
            ] {
                // what the gateway forwards; each service's health and document routes are its own
                expected.formUnion(try Self.documented(document).filter { $0.contains(" /v1/") || $0.contains(" /webhooks/") })
            }
            #expect(operations == expected, "missing: \(expected.subtracting(operations).sorted()); extra: \(operations.subtracting(expected).sorted())")
            #expect(!merged.text.contains("x-missing-services"))
            let page = try await TestHTTP.get("\(platform.url(.gateway))/docs")
            #expect(page.status == 200)
            #expect(page.headers.first(name: "Content-Type")?.hasPrefix("text/html") == true)
            #expect(page.headers.first(name: "Content-Security-Policy")?.contains("default-src 'none'") == true)
            #expect(page.text.contains("POST /v1/redemptions"))
            #expect(page.text.contains("GET /v1/stations/{id}"))
            // grouped by resource, with a table of contents
            #expect(page.text.contains(##"<a href="#stations">Stations</a>"##))
            #expect(page.text.contains(#"<h2 id="redemptions">Redemptions</h2>"#))
        }
    }

    /// Controllers hold no SQL: every statement of a service lives in its `Store/`.
    @Test func routesHoldNoSQL() throws {
        let services = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Services")
        let pattern = try Regex(#"(?i)\b(SELECT\s|INSERT\s+INTO|UPDATE\s+\w+\.\w+|DELETE\s+FROM|\.query\()"#)
        var checked = 0
        for service in try FileManager.default.contentsOfDirectory(atPath: services.path) {
            let routes = services.appendingPathComponent(service).appendingPathComponent("Sources/Routes")
            for file in (try? FileManager.default.contentsOfDirectory(atPath: routes.path)) ?? [] where file.hasSuffix(".swift") {
                let text = try String(contentsOf: routes.appendingPathComponent(file), encoding: .utf8)
                #expect(text.firstMatch(of: pattern) == nil, "SQL in Services/\(service)/Sources/Routes/\(file)")
                checked += 1
            }
        }
        #expect(checked >= 10)
    }
}
