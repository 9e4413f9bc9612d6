import Contracts
import Foundation
import Hummingbird
import Models
import NIOCore
import ServiceKit
import TestSupport
import Testing

@testable import AgentCore

/// The marketplace tools over real HTTP: a scripted model on loopback (OpenAI's wire format) asks for each tool in
/// turn, agent-core runs it against marketplace-wallet, and the model's last answer is the tool's result.
@Suite struct MarketplaceToolsTests {
    /// A chat-completions server: a user message `tool:<name> <json>` makes it call that tool with those arguments;
    /// after the tool's answer it replies with that answer as its text.
    static var scriptedModel: Router<BasicRequestContext> {
        let router = Router()
        router.post("v1/chat/completions") { request, _ -> Response in
            let body = try JSONDecoder().decode(JSONValue.self, from: Data(buffer: try await request.body.collect(upTo: 1 << 20)))
            guard case .array(let messages)? = body["messages"], let last = messages.last else { return Response(status: .badRequest) }
            let json: String
            if last["role"] == .string("tool"), case .string(let result)? = last["content"] {
                let content = String(decoding: try JSONEncoder().encode(result), as: UTF8.self)
                json = CostsTests.FakeProvider.completion(model: "gpt-4o-mini", content: nil, prompt: 10, completion: 5, cached: 0)
                    .replacingOccurrences(of: #""content":null"#, with: #""content":\#(content)"#)
            } else if case .string(let text)? = last["content"], text.hasPrefix("tool:") {
                let parts = text.dropFirst(5).split(separator: " ", maxSplits: 1).map(String.init)
                let arguments = String(decoding: try JSONEncoder().encode(parts.count > 1 ? parts[1] : "{}"), as: UTF8.self)
                json = CostsTests.FakeProvider.completion(
                    model: "gpt-4o-mini", content: nil,
                    toolCalls: #"[{"id":"call_1","type":"function","function":{"name":"\#(parts[0])","arguments":\#(arguments)}}]"#, prompt: 10,
                    completion: 5, cached: 0)
            } else {
                json = CostsTests.FakeProvider.completion(model: "gpt-4o-mini", content: "Hello", prompt: 10, completion: 5, cached: 0)
            }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: json)))
        }
        return router
    }

    struct NewAgent: Encodable {
        var name = "Broker"
        var kind = "broker"
        var languages = ["en"]
        var tools: [String]
    }

    @Test func aCustomerSearchesAsksForQuotesAndAcceptsOneOfTheirOwn() async throws {
        try await TestUpstream.with(Self.scriptedModel) { url in
            try await TestServices.with([.gateway, .agentCore, .marketplaceWallet], settings: CostsTests.settings(url)) { platform in
                let tenant = try await platform.createTenant()
                let gateway = platform.url(.gateway)
                let admin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin])
                let created = try await TestHTTP.post(
                    "\(gateway)/v1/agents", token: admin,
                    json: NewAgent(tools: ["product_search", "create_intent", "list_quotes", "accept_quote", "handoff"]))
                #expect(created.status == 201, "\(created.text)")
                func post(_ path: String, _ json: String) async throws -> JSONValue {
                    let response = try await TestHTTP.request(.POST, "\(gateway)\(path)", token: admin, body: Data(json.utf8))
                    #expect([200, 201].contains(response.status), "\(path): \(response.text)")
                    return try response.json(JSONValue.self)
                }
                func say(_ text: String, from: String = "+250788123456") async throws -> JSONValue {
                    let answer = try await AgentRepliesTests.reply(platform, tenant: tenant, text: text, language: "en", from: from)
                    #expect(answer.status == 200)
                    let reply = try #require(answer.reply?.text)
                    return try JSONDecoder().decode(JSONValue.self, from: Data(reply.utf8))
                }
                let vendor = try await post("/v1/vendors", #"{"name":"Kigali Fuel","currency":"KES","categories":["fuel"],"region":"Kigali","rating":4.5}"#)
                guard case .string(let vendorID)? = vendor["id"] else {
                    Issue.record("no vendor")
                    return
                }
                _ = try await post("/v1/products", #"{"vendorId":"\#(vendorID)","name":"Diesel 20 L","price":"300.00","category":"fuel"}"#)

                // search: the product and its price
                let found = try await say(#"tool:product_search {"query":"diesel"}"#)
                guard case .array(let products)? = found["products"], let product = products.first else {
                    Issue.record("\(found)")
                    return
                }
                #expect(product["name"] == .string("Diesel 20 L") && product["price"] == .string("300.00 KES"))

                // an intent: the customer becomes a buyer with a wallet (found again next time)
                let intent = try await say(#"tool:create_intent {"description":"Diesel 20 L","category":"fuel","region":"Kigali"}"#)
                guard case .string(let intentID)? = intent["intentId"] else {
                    Issue.record("\(intent)")
                    return
                }
                #expect(intent["status"] == .string("pending"))
                _ = try await say(#"tool:create_intent {"description":"more diesel"}"#)
                let buyers = try await TestHTTP.get("\(gateway)/v1/buyers?phone=%2B250788123456", token: admin).json(Page<WalletAPI.BuyerView>.self)
                #expect(buyers.items.count == 1)
                let buyer = try #require(buyers.items.first)

                // a vendor quotes; the customer hears it ranked with its reasons
                let quote = try await post(
                    "/v1/quotes", #"{"intentId":"\#(intentID)","vendorId":"\#(vendorID)","price":"290.00","currency":"KES","etaMinutes":25}"#)
                guard case .string(let quoteID)? = quote["id"] else {
                    Issue.record("no quote")
                    return
                }
                let quotes = try await say(#"tool:list_quotes {"intentId":"\#(intentID)"}"#)
                guard case .array(let open)? = quotes["quotes"], let first = open.first else {
                    Issue.record("\(quotes)")
                    return
                }
                #expect(first["quoteId"] == .string(quoteID) && first["vendor"] == .string("Kigali Fuel") && first["price"] == .string("290.00 KES"))
                guard case .array(let reasons)? = first["reasons"] else {
                    Issue.record("no reasons")
                    return
                }
                #expect(reasons.contains(.string("sells fuel")) && reasons.contains(.string("in Kigali")))

                // nobody else reads or accepts this customer's quotes
                #expect(try await say(#"tool:list_quotes {"intentId":"\#(intentID)"}"#, from: "+250788999000")["error"] == .string("not_found"))
                #expect(try await say(#"tool:accept_quote {"quoteId":"\#(quoteID)"}"#, from: "+250788999000")["error"] == .string("not_found"))

                // accepting without the money: the customer is told why; topped up, the purchase is made at the quote's price
                #expect(try await say(#"tool:accept_quote {"quoteId":"\#(quoteID)"}"#)["error"] == .string("insufficient_funds"))
                let funding = try await post("/v1/wallet/accounts", #"{"ownerType":"platform","ownerId":"funding","currency":"KES","allowNegative":true}"#)
                guard case .string(let fundingID)? = funding["id"] else {
                    Issue.record("no funding")
                    return
                }
                let account = try await TestHTTP.get("\(gateway)/v1/wallet/accounts?ownerType=buyer&ownerId=\(buyer.id.uuidString.lowercased())", token: admin)
                    .json(Page<JSONValue>.self).items.first
                guard case .string(let accountID)? = account?["id"] else {
                    Issue.record("no buyer account")
                    return
                }
                let topUp = try await TestHTTP.request(
                    .POST, "\(gateway)/v1/wallet/transfers", token: admin, headers: ["Idempotency-Key": UUID().uuidString],
                    body: Data(#"{"type":"topup","currency":"KES","legs":[{"from":"\#(fundingID)","to":"\#(accountID)","amount":"500.00"}]}"#.utf8))
                #expect(topUp.status == 201, "\(topUp.text)")
                let bought = try await say(#"tool:accept_quote {"quoteId":"\#(quoteID)"}"#)
                #expect(bought["status"] == .string("pending") && bought["amount"] == .string("290.00 KES"), "\(bought)")
                guard case .string(let purchaseID)? = bought["purchaseId"] else {
                    Issue.record("\(bought)")
                    return
                }
                let purchase = try await TestHTTP.get("\(gateway)/v1/purchases/\(purchaseID)", token: admin).json(JSONValue.self)
                #expect(purchase["quoteId"] == .string(quoteID))
            }
        }
    }

    @Test func anAgentWithoutTheToolsCannotUseThem() async throws {
        try await TestUpstream.with(Self.scriptedModel) { url in
            try await TestServices.with([.gateway, .agentCore, .marketplaceWallet], settings: CostsTests.settings(url)) { platform in
                let tenant = try await platform.createTenant()
                let admin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin])
                let created = try await TestHTTP.post("\(platform.url(.gateway))/v1/agents", token: admin, json: NewAgent(tools: ["handoff"]))
                #expect(created.status == 201)
                let answer = try await AgentRepliesTests.reply(platform, tenant: tenant, text: #"tool:create_intent {"description":"x"}"#, language: "en")
                #expect(answer.reply?.text == #"{"error":"unknown tool"}"#)
                let buyers = try await TestHTTP.get("\(platform.url(.gateway))/v1/buyers", token: admin).json(Page<WalletAPI.BuyerView>.self)
                #expect(buyers.items.isEmpty)
            }
        }
    }
}
