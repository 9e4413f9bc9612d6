import Foundation
import Models
import PostgresNIO
import ServiceKit
import TestSupport
import Testing

@Suite struct PlatformTests {
    @Test func allSixServicesStartMigrateAndVerifyTokens() async throws {
        try await TestPlatform.with { platform in
            let tenant = try await platform.createTenant()
            let token = try await TestKeys.token(subject: "e2e-user", tenant: tenant, roles: [.tenantAdmin])
            for service in ServiceName.allCases {
                let ready = try await TestHTTP.get("\(platform.url(service))/readyz")
                #expect(ready.status == 200, "\(service)")
                #expect(try await TestHTTP.get("\(platform.url(service))/healthz").status == 200)
                let whoami = try await TestHTTP.get("\(platform.url(service))/v1/\(service.rawValue)/whoami", token: token)
                #expect(whoami.status == 200, "\(service)")
                let identity = try whoami.json(CallerIdentity.self)
                #expect(identity.subject == "e2e-user")
                #expect(identity.tenantId == tenant.description)
                #expect(identity.service == service.rawValue)
                #expect(try await TestHTTP.get("\(platform.url(service))/v1/\(service.rawValue)/whoami").status == 401)
                #expect(try await TestHTTP.get("\(platform.url(service))/metrics").text.contains("http_requests_total"))
            }
        }
    }

    @Test func servicesFindRotatedKeysInTheGatewayJWKS() async throws {
        try await TestPlatform.with { platform in
            let jwks = try await TestHTTP.get("\(platform.url(.gateway))/.well-known/jwks.json").json(JWKSDocument.self)
            #expect(Set(jwks.keys.map(\.kid)) == [TestKeys.gateway.kid, TestKeys.gatewayPrevious.kid, ServiceTokens.kid])
            #expect(jwks.keys.allSatisfy { $0.kty == "OKP" && $0.crv == "Ed25519" })
            // signed by the previous key, which the services were not configured with: they fetch the JWKS
            let older = try await TokenIssuer(keys: [TestKeys.gatewayPrevious], audience: "sokoni", issuer: "sokoni-gateway")
                .issue(subject: "before-rotation", tenantID: try await platform.createTenant(), roles: [.agent])
            let response = try await TestHTTP.get("\(platform.url(.calendarBooking))/v1/calendar-booking/whoami", token: older)
            #expect(response.status == 200)
            // a key the gateway never published stays refused
            let rogue = try await TokenIssuer(keys: [SigningKey(kid: "rogue")], audience: "sokoni", issuer: "sokoni-gateway")
                .issue(subject: "x", tenantID: nil, roles: [.superAdmin])
            #expect(try await TestHTTP.get("\(platform.url(.vouchers))/v1/vouchers/whoami", token: rogue).status == 401)
        }
    }

    @Test func aServiceTokenIsAcceptedByEveryOtherService() async throws {
        try await TestPlatform.with { platform in
            let tokens = try await ServiceTokens(service: .messaging, seed: TestKeys.service.seed, audience: "sokoni", issuer: "sokoni-gateway")
            let tenant = try await platform.createTenant()
            let token = try await tokens.token(tenant: tenant)
            let response = try await TestHTTP.get("\(platform.url(.vouchers))/v1/vouchers/whoami", token: token)
            let identity = try response.json(CallerIdentity.self)
            #expect(identity.roles == [.service])
            #expect(identity.subject == "service:messaging")
            #expect(identity.tenantId == tenant.description)
        }
    }
}
