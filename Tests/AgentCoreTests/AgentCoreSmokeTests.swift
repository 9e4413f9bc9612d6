import Foundation
import ServiceKit
import TestSupport
import Testing

@testable import AgentCore

/// agent-core starts, migrates its schema and answers who the caller is.
struct AgentCoreSmokeTests {
    @Test func startsAndMigrates() async throws {
        try await TestServices.with([.gateway, .agentCore]) { platform in
            let token = try await TestKeys.token(tenant: try await platform.createTenant(), roles: [.tenantAdmin])
            let whoami = try await TestHTTP.get("\(platform.url(.agentCore))/v1/agent-core/whoami", token: token)
            #expect(whoami.status == 200, "\(whoami.text)")
        }
    }
}
