import Contracts
import Foundation
import Models
import PostgresNIO
import ServiceKit
import TestSupport
import Testing

@testable import AgentCore

/// The tenant's default agent moves in one step: making another agent the default takes it from the old one, and
/// concurrent requests naming different agents all succeed, one after the other, leaving exactly one default.
@Suite(.serialized) struct DefaultAgentTests {
    struct NewAgentBody: Encodable {
        var name: String
        var kind = "support"
        var isDefault: Bool?
    }

    @Test func theDefaultMovesAtomicallyEvenUnderConcurrentRequests() async throws {
        try await TestServices.with([.gateway, .agentCore]) { platform in
            let gateway = platform.url(.gateway)
            let tenant = try await platform.createTenant()
            let admin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin])
            let first = try await TestHTTP.post("\(gateway)/v1/agents", token: admin, json: NewAgentBody(name: "First", isDefault: true))
            #expect(first.status == 201, "\(first.text)")
            // a second default at creation takes it from the first
            let second = try await TestHTTP.post("\(gateway)/v1/agents", token: admin, json: NewAgentBody(name: "Second", isDefault: true))
            #expect(second.status == 201, "\(second.text)")
            func defaults() async throws -> [AgentDTO] {
                try await TestHTTP.get("\(gateway)/v1/agents", token: admin).json(Page<AgentDTO>.self).items.filter(\.isDefault)
            }
            #expect(try await defaults().map(\.name) == ["Second"])
            var ids = [try first.json(AgentDTO.self).id, try second.json(AgentDTO.self).id]
            for index in 0..<4 {
                ids.append(try await TestHTTP.post("\(gateway)/v1/agents", token: admin, json: NewAgentBody(name: "Agent \(index)")).json(AgentDTO.self).id)
            }
            // twelve requests at once, each making one of six agents the default
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<12 {
                    let id = ids[index % ids.count]
                    group.addTask {
                        try await TestHTTP.request(.PATCH, "\(gateway)/v1/agents/\(id)", token: admin, body: Data(#"{"isDefault":true}"#.utf8)).status
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses == Array(repeating: 200, count: 12), "\(statuses)")
            #expect(try await defaults().count == 1)
            // every move is in the audit log
            let moves = try await platform.environment(.agentCore).postgres.query(
                "SELECT count(*)::int FROM agent.audit_log WHERE action = 'agent.default_moved' AND tenant_id = \(tenant.rawValue)", logger: TestLog.quiet
            ).first(as: Int.self)
            #expect((moves ?? 0) >= 1)
            // another tenant's default is its own
            let other = try await TestKeys.token(tenant: try await platform.createTenant(), roles: [.tenantAdmin])
            #expect(try await TestHTTP.post("\(gateway)/v1/agents", token: other, json: NewAgentBody(name: "Theirs", isDefault: true)).status == 201)
            #expect(try await defaults().count == 1)
        }
    }
}
