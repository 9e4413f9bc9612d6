import Contracts
import Foundation
import Models
import PostgresNIO
import ServiceKit
import TestSupport
import Testing

@testable import MarketplaceWallet

/// Insurance quotes through the gateway over real HTTP, on a real PostgreSQL: real uploads (a PDF and a PNG) kept in
/// the blob store, files that are not what they claim refused with nothing kept, the review's state machine (also
/// in the database), the customer told through messaging's sandbox, signed download links, roles and tenants.
@Suite struct InsuranceTests {
    /// A one-page PDF (PDF 1.4, one line of Helvetica), as a real file.
    static let pdf = Array(
        Data(
            base64Encoded:
                "JVBERi0xLjQKMSAwIG9iago8PCAvVHlwZSAvQ2F0YWxvZyAvUGFnZXMgMiAwIFIgPj4KZW5kb2JqCjIgMCBvYmoKPDwgL1R5cGUgL1BhZ2VzIC9LaWRzIFszIDAgUl0gL0NvdW50IDEgPj4KZW5kb2JqCjMgMCBvYmoKPDwgL1R5cGUgL1BhZ2UgL1BhcmVudCAyIDAgUiAvTWVkaWFCb3ggWzAgMCAyMDAgMTAwXSAvQ29udGVudHMgNCAwIFIgL1Jlc291cmNlcyA8PCAvRm9udCA8PCAvRjEgNSAwIFIgPj4gPj4gPj4KZW5kb2JqCjQgMCBvYmoKPDwgL0xlbmd0aCAzNyA+PgpzdHJlYW0KQlQgL0YxIDEyIFRmIDIwIDUwIFRkIChJRCBjYXJkKSBUaiBFVAplbmRzdHJlYW0KZW5kb2JqCjUgMCBvYmoKPDwgL1R5cGUgL0ZvbnQgL1N1YnR5cGUgL1R5cGUxIC9CYXNlRm9udCAvSGVsdmV0aWNhID4+CmVuZG9iagp4cmVmCjAgNgowMDAwMDAwMDAwIDY1NTM1IGYgCjAwMDAwMDAwMDkgMDAwMDAgbiAKMDAwMDAwMDA1OCAwMDAwMCBuIAowMDAwMDAwMTE1IDAwMDAwIG4gCjAwMDAwMDAyNDEgMDAwMDAgbiAKMDAwMDAwMDMyOCAwMDAwMCBuIAp0cmFpbGVyCjw8IC9TaXplIDYgL1Jvb3QgMSAwIFIgPj4Kc3RhcnR4cmVmCjM5OAolJUVPRgo="
        )!)
    /// A 1×1 RGBA PNG (signature, IHDR, IDAT, IEND with their CRCs).
    static let png = Array(
        Data(base64Encoded: "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP438DwHwAGgAJ/EEwb4QAAAABJRU5ErkJggg==")!)
    static let html = Array("<!doctype html><html><body><script>alert(1)</script></body></html>".utf8)

    /// A PDF padded with a comment to `size` bytes.
    static func paddedPDF(_ size: Int) -> [UInt8] {
        let header = Array("%PDF-1.4\n%".utf8)
        let rest = Array(Self.pdf.dropFirst("%PDF-1.4\n".utf8.count))
        return header + [UInt8](repeating: UInt8(ascii: "x"), count: size - header.count - rest.count - 1) + [0x0A] + rest
    }

    struct Desk {
        let gateway: String
        let tenant: TenantID
        let admin: String
        let agent: String
        let postgres: PostgresClient
        let platform: TestPlatform

        func post(_ path: String, _ json: String, token: String? = nil, headers: [String: String] = [:]) async throws -> TestResponse {
            try await TestHTTP.request(.POST, "\(self.gateway)\(path)", token: token ?? self.admin, headers: headers, body: Data(json.utf8))
        }

        func get(_ path: String, token: String? = nil, headers: [String: String] = [:]) async throws -> TestResponse {
            try await TestHTTP.get("\(self.gateway)\(path)", token: token ?? self.admin, headers: headers)
        }

        func upload(
            _ quote: InsuranceQuoteID, _ bytes: [UInt8], type: String?, name: String? = "file", token: String? = nil, headers: [String: String] = [:]
        ) async throws -> TestResponse {
            var headers = headers
            headers["Content-Type"] = type ?? "application/octet-stream"
            let query = name.map { "?filename=\($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0)" } ?? ""
            return try await TestHTTP.request(
                .POST, "\(self.gateway)/v1/insurance-quotes/\(quote)/documents\(query)", token: token ?? self.agent, headers: headers, body: Data(bytes))
        }

        func quote(_ json: String, token: String? = nil) async throws -> InsuranceQuoteDTO {
            let response = try await self.post("/v1/insurance-quotes", json, token: token ?? self.agent)
            #expect(response.status == 201, "\(response.status) \(response.text)")
            return try response.json(InsuranceQuoteDTO.self)
        }

        func detail(_ quote: InsuranceQuoteID, token: String? = nil) async throws -> InsuranceQuoteDTO {
            try await self.get("/v1/insurance-quotes/\(quote)", token: token).json(InsuranceQuoteDTO.self)
        }

        func review(_ quote: InsuranceQuoteID, _ json: String, token: String? = nil) async throws -> TestResponse {
            try await self.post("/v1/insurance-quotes/\(quote)/review", json, token: token)
        }

        func count(_ sql: String) async throws -> Int {
            try await self.postgres.query(PostgresQuery(unsafeSQL: sql), logger: TestLog.quiet).first(as: Int.self) ?? 0
        }

        /// What messaging's sandbox sent for the tenant.
        func outbox() async throws -> [Outbound] {
            try await self.get("/v1/sandbox/outbox").json(Page<Outbound>.self).items
        }
    }

    struct Outbound: Codable, Sendable {
        var to: String
        var body: String?
    }

    static func with(_ services: [ServiceName] = [.gateway, .marketplaceWallet], _ body: (Desk) async throws -> Void) async throws {
        try await TestServices.with(services) { platform in
            let tenant = try await platform.createTenant()
            if services.contains(.messaging) {
                // the customer is told each decision: quiet hours would hold it at night in Kigali
                try await TestMessaging.quietHoursOff(
                    gateway: platform.url(.gateway), token: try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin]))
            }
            try await body(
                Desk(
                    gateway: platform.url(.gateway), tenant: tenant, admin: try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin]),
                    agent: try await TestKeys.token(tenant: tenant, roles: [.agent]), postgres: platform.environment(.marketplaceWallet).postgres,
                    platform: platform))
        }
    }

    @Test func aQuoteIsReviewedOnItsDocumentsAndTheCustomerIsToldEachDecision() async throws {
        try await Self.with([.gateway, .marketplaceWallet, .messaging]) { desk in
            // an agent opens a quote for a buyer: the buyer's phone and name are the customer's
            let buyer = try await desk.post("/v1/buyers", #"{"name":"Amina","phone":"+250788123456","currency":"RWF"}"#, token: desk.agent)
            #expect(buyer.status == 201, "\(buyer.text)")
            let buyerID = try buyer.json(BuyerDTO.self).id
            let quote = try await desk.quote(
                #"{"buyerId":"\#(buyerID)","insurer":"Radiant","coverType":"motor","currency":"RWF","metadata":{"plate":"RAB 123 C"}}"#)
            #expect(quote.status == .pending && quote.customerPhone == "+250788123456" && quote.customerName == "Amina")
            #expect(quote.premium == nil && quote.metadata["plate"] == .string("RAB 123 C"))

            // two real documents; the type comes from the bytes
            let pdf = try await desk.upload(quote.id, Self.pdf, type: "application/pdf", name: "carte grise.pdf")
            #expect(pdf.status == 201, "\(pdf.text)")
            let png = try await desk.upload(quote.id, Self.png, type: nil, name: "id.png")
            #expect(png.status == 201, "\(png.text)")
            let pngDocument = try png.json(InsuranceDocumentDTO.self)
            #expect(pngDocument.contentType == "image/png" && pngDocument.sizeBytes == Int64(Self.png.count))
            #expect(pngDocument.sha256 == sha256Hex(Self.png))

            // the quote with its documents, each opening by its signed link without a token, and by a reader's token
            let detail = try await desk.detail(quote.id)
            let documents = try #require(detail.documents)
            #expect(documents.map(\.fileName) == ["carte grise.pdf", "id.png"])
            for (document, bytes) in zip(documents, [Self.pdf, Self.png]) {
                let link = try #require(document.downloadUrl)
                #expect(link.hasPrefix(desk.gateway + "/v1/insurance-documents/\(desk.tenant)/\(document.id)?expires="))
                let opened = try await TestHTTP.get(link)
                #expect(opened.status == 200 && Array(opened.body) == bytes, "\(opened.status) \(opened.text.prefix(200))")
                #expect(opened.headers.first(name: "Content-Type") == document.contentType)
                #expect(opened.headers.first(name: "X-Content-Type-Options") == "nosniff")
                let read = try await desk.get("/v1/insurance-quotes/\(quote.id)/documents/\(document.id)", token: desk.agent)
                #expect(read.status == 200 && Array(read.body) == bytes)
            }
            #expect(try await desk.count("SELECT count(*)::int FROM wallet.insurance_documents") == 2)

            // the review queue
            let queue = try await desk.get("/v1/insurance-quotes?status=pending").json(Page<InsuranceQuoteDTO>.self).items
            #expect(queue.map(\.id) == [quote.id])
            #expect(try await desk.get("/v1/insurance-quotes?status=approved").json(Page<InsuranceQuoteDTO>.self).items.isEmpty)

            // asking for changes needs a comment; then the customer is told what to change
            let silent = try await desk.review(quote.id, #"{"decision":"needs_changes"}"#)
            #expect(silent.status == 422 && silent.errorCode == "comment_required", "\(silent.text)")
            let blank = try await desk.review(quote.id, #"{"decision":"needs_changes","comment":"  "}"#)
            #expect(blank.status == 422 && blank.errorCode == "comment_required")
            let asked = try await desk.review(quote.id, #"{"decision":"needs_changes","comment":"The logbook photo is unreadable"}"#)
            #expect(asked.status == 200, "\(asked.text)")
            let needsChanges = try asked.json(InsuranceQuoteDTO.self)
            #expect(needsChanges.status == .needsChanges && needsChanges.reviewerComment == "The logbook photo is unreadable")
            #expect(needsChanges.reviewedBy != nil && needsChanges.reviewedAt != nil && needsChanges.approvedAt == nil)

            // a quote that needs changes is not approved directly, nor resubmitted without new documents
            let direct = try await desk.review(quote.id, #"{"decision":"approve","premium":"85000"}"#)
            #expect(direct.status == 409 && direct.errorCode == "illegal_transition", "\(direct.text)")
            let empty = try await desk.post("/v1/insurance-quotes/\(quote.id)/resubmit", "", token: desk.agent)
            #expect(empty.status == 409 && empty.errorCode == "new_documents_required", "\(empty.text)")
            // the database refuses it too, whatever the code does
            await #expect(throws: (any Error).self) {
                try await desk.postgres.query(
                    "UPDATE wallet.insurance_quotes SET status = 'approved', premium_minor = 1, reviewed_by = 'x' WHERE id = \(quote.id.rawValue)",
                    logger: TestLog.quiet)
            }

            // new documents, resubmitted, approved at the insurer's premium
            let again = try await desk.upload(quote.id, Self.paddedPDF(4096), type: "application/pdf", name: "logbook.pdf")
            #expect(again.status == 201, "\(again.text)")
            let resubmitted = try await desk.post("/v1/insurance-quotes/\(quote.id)/resubmit", "", token: desk.agent)
            #expect(resubmitted.status == 200, "\(resubmitted.text)")
            #expect(try resubmitted.json(InsuranceQuoteDTO.self).status == .pending)
            let noPremium = try await desk.review(quote.id, #"{"decision":"approve"}"#)
            #expect(noPremium.status == 422 && noPremium.errorCode == "premium_required")
            let badPremium = try await desk.review(quote.id, #"{"decision":"approve","premium":"85000.5"}"#)
            #expect(badPremium.status == 422 && badPremium.errorCode == "invalid_amount", "RWF has no minor unit: \(badPremium.text)")
            let approved = try await desk.review(quote.id, #"{"decision":"approve","premium":"85000","comment":"Welcome aboard"}"#)
            #expect(approved.status == 200, "\(approved.text)")
            let final = try approved.json(InsuranceQuoteDTO.self)
            let premium = try Money(decimal: "85000", currency: .RWF)
            #expect(final.status == .approved && final.premium == premium && final.approvedAt != nil)

            // approved is final: no decision, no resubmission, no more documents (and nothing kept of the refused one)
            #expect(try await desk.review(quote.id, #"{"decision":"needs_changes","comment":"again"}"#).errorCode == "illegal_transition")
            #expect(try await desk.post("/v1/insurance-quotes/\(quote.id)/resubmit", "").errorCode == "illegal_transition")
            let late = try await desk.upload(quote.id, Self.paddedPDF(2048), type: "application/pdf", name: "late.pdf")
            #expect(late.status == 409 && late.errorCode == "quote_approved")
            #expect(try await desk.count("SELECT count(*)::int FROM wallet.insurance_documents") == 3)
            await #expect(throws: (any Error).self) {
                try await desk.postgres.query(
                    "UPDATE wallet.insurance_quotes SET status = 'pending' WHERE id = \(quote.id.rawValue)", logger: TestLog.quiet)
            }
            await #expect(throws: (any Error).self) {
                try await desk.postgres.query("DELETE FROM wallet.insurance_documents", logger: TestLog.quiet)
            }

            // every write has its audit row: create, 3 uploads, needs_changes, resubmit, approve
            let actions = try await desk.postgres.query(
                "SELECT action FROM wallet.audit_log WHERE target_table IN ('insurance_quotes', 'insurance_documents') ORDER BY id",
                logger: TestLog.quiet
            ).all(as: String.self)
            #expect(
                actions == [
                    "insurance_quote.create", "insurance_document.upload", "insurance_document.upload", "insurance_quote.needs_changes",
                    "insurance_document.upload", "insurance_quote.resubmit", "insurance_quote.approve",
                ])

            // the customer heard both decisions, once each, on the buyer's number
            let told = try await TestWait.until {
                try await desk.outbox().filter { $0.to == "+250788123456" }.count >= 2
            }
            #expect(told, "both notices reached messaging")
            let bodies = try await desk.outbox().filter { $0.to == "+250788123456" }.compactMap(\.body).sorted()
            #expect(bodies.count == 2, "\(bodies)")
            #expect(bodies.contains { $0.contains("needs changes") && $0.contains("The logbook photo is unreadable") && $0.contains("Radiant") })
            #expect(bodies.contains { $0.contains("approved") && $0.contains("85000 RWF") && $0.contains("motor") })
            #expect(
                try await desk.count("SELECT count(*)::int FROM wallet.jobs WHERE kind = 'insurance.notify_decision' AND status = 'done'") == 2)
        }
    }

    @Test func filesThatAreNotWhatTheyClaimOrTooLargeAreRefusedAndNothingIsKept() async throws {
        try await Self.with { desk in
            let quote = try await desk.quote(
                #"{"customerPhone":"+254712345678","customerName":"Otieno","insurer":"Jubilee","coverType":"health","currency":"KES"}"#)
            let refused: [(TestResponse, Int, String)] = [
                // an HTML page sent as a PDF, a PNG sent as a PDF, a PDF cut short, an HTML page as what it is
                (try await desk.upload(quote.id, Self.html, type: "application/pdf", name: "claim.pdf"), 415, "unsupported_document_type"),
                (try await desk.upload(quote.id, Self.png, type: "application/pdf", name: "claim.pdf"), 415, "document_type_mismatch"),
                (try await desk.upload(quote.id, Array(Self.pdf.prefix(200)), type: "application/pdf", name: "cut.pdf"), 415, "unsupported_document_type"),
                (try await desk.upload(quote.id, Self.html, type: "text/html", name: "page.html"), 415, "unsupported_document_type"),
                (try await desk.upload(quote.id, Array("just text".utf8), type: nil, name: "a.txt"), 415, "unsupported_document_type"),
                (try await desk.upload(quote.id, [], type: "application/pdf", name: "empty.pdf"), 422, "empty_document"),
                // no name, a path for a name
                (try await desk.upload(quote.id, Self.pdf, type: "application/pdf", name: nil), 400, "filename_required"),
                (try await desk.upload(quote.id, Self.pdf, type: "application/pdf", name: "../../etc/passwd"), 422, "invalid_filename"),
                // over 10 MiB
                (try await desk.upload(quote.id, Self.paddedPDF(10 << 20 + 1), type: "application/pdf", name: "big.pdf"), 413, "payload_too_large"),
                // a quote that does not exist
                (try await desk.upload(InsuranceQuoteID(), Self.pdf, type: "application/pdf", name: "a.pdf"), 404, "insurance_quote_not_found"),
            ]
            for (response, status, code) in refused {
                #expect(response.status == status && response.errorCode == code, "\(status) \(code): \(response.status) \(response.text.prefix(300))")
            }
            #expect(try await desk.count("SELECT count(*)::int FROM wallet.insurance_documents") == 0)
            #expect(try await desk.count("SELECT count(*)::int FROM wallet.audit_log WHERE target_table = 'insurance_documents'") == 0)
            let blobs = URL(fileURLWithPath: desk.platform.environment(.marketplaceWallet).settings.settings.string("blobs.directory")!)
                .appendingPathComponent("docs/\(desk.tenant)")
            #expect(!FileManager.default.fileExists(atPath: blobs.path), "nothing was kept")

            // a large document passes through the gateway and the service (their 1 MiB limit is for everything else)
            let large = try await desk.upload(quote.id, Self.paddedPDF(3 << 20), type: "application/pdf", name: "scan.pdf")
            #expect(large.status == 201, "\(large.status) \(large.text.prefix(300))")
            #expect(try FileManager.default.contentsOfDirectory(atPath: blobs.path).filter { !$0.hasSuffix(".type") }.count == 1)
            let bulky = try await desk.post(
                "/v1/insurance-quotes",
                #"{"customerPhone":"+254712345678","insurer":"x","coverType":"y","currency":"KES","metadata":{"a":"\#(String(repeating: "x", count: 2 << 20))"}}"#
            )
            #expect(bulky.status == 413 && bulky.errorCode == "payload_too_large")
        }
    }

    @Test func aQuoteNeedsACustomerAndSaneInput() async throws {
        try await Self.with { desk in
            let refused: [(String, Int, String)] = [
                (#"{"insurer":"Radiant","coverType":"motor","currency":"RWF"}"#, 422, "customer_required"),
                (#"{"customerPhone":"0788","insurer":"Radiant","coverType":"motor","currency":"RWF"}"#, 422, "invalid_phone"),
                (#"{"buyerId":"\#(UUID())","insurer":"Radiant","coverType":"motor","currency":"RWF"}"#, 422, "unknown_buyer"),
                (#"{"customerPhone":"+250788000001","coverType":"motor","currency":"RWF"}"#, 422, "invalid_insurer"),
                (#"{"customerPhone":"+250788000001","insurer":"Radiant","currency":"RWF"}"#, 422, "invalid_coverType"),
                (#"{"customerPhone":"+250788000001","insurer":"Radiant","coverType":"motor","currency":"XXX"}"#, 422, "invalid_currency"),
                (#"{"customerPhone":"+250788000001","insurer":"Radiant","coverType":"motor","currency":"KES","premium":"-1"}"#, 422, "invalid_amount"),
                (#"{"buyerId":"nope","insurer":"Radiant","coverType":"motor","currency":"RWF"}"#, 422, "invalid_buyerId"),
            ]
            for (json, status, code) in refused {
                let response = try await desk.post("/v1/insurance-quotes", json, token: desk.agent)
                #expect(response.status == status && response.errorCode == code, "\(json): \(response.status) \(response.text)")
            }
            #expect(try await desk.count("SELECT count(*)::int FROM wallet.insurance_quotes") == 0)
            // a retried create (same Idempotency-Key) is the first one
            let json = #"{"customerPhone":"+250788000001","insurer":"Radiant","coverType":"motor","currency":"KES","premium":"1200.50"}"#
            let first = try await desk.post("/v1/insurance-quotes", json, token: desk.agent, headers: ["Idempotency-Key": "q-1"])
            let second = try await desk.post("/v1/insurance-quotes", json, token: desk.agent, headers: ["Idempotency-Key": "q-1"])
            #expect(first.status == 201 && second.status == 201 && first.body == second.body, "\(second.status)")
            let premium = try Money(decimal: "1200.50", currency: .KES)
            #expect(try first.json(InsuranceQuoteDTO.self).premium == premium)
            #expect(try await desk.count("SELECT count(*)::int FROM wallet.insurance_quotes") == 1)
            // the queue pages oldest first
            for name in ["Second", "Third"] {
                _ = try await desk.quote(
                    #"{"customerPhone":"+250788000001","customerName":"\#(name)","insurer":"Radiant","coverType":"motor","currency":"KES"}"#)
            }
            let page = try await desk.get("/v1/insurance-quotes?status=pending&limit=2").json(Page<InsuranceQuoteDTO>.self)
            let cursor = try #require(page.nextCursor)
            let rest = try await desk.get("/v1/insurance-quotes?status=pending&limit=2&cursor=\(cursor)").json(Page<InsuranceQuoteDTO>.self)
            #expect(page.items.map(\.customerName) == [nil, "Second"] && rest.items.map(\.customerName) == ["Third"] && rest.nextCursor == nil)
            #expect(try await desk.get("/v1/insurance-quotes?status=maybe").status == 400)
            // an unknown decision, an unknown quote
            let quote = try first.json(InsuranceQuoteDTO.self)
            #expect(try await desk.review(quote.id, #"{"decision":"maybe"}"#).errorCode == "invalid_decision")
            #expect(try await desk.review(InsuranceQuoteID(), #"{"decision":"approve"}"#).status == 404)
            // approving needs the customer's documents
            let bare = try await desk.review(quote.id, #"{"decision":"approve"}"#)
            #expect(bare.status == 409 && bare.errorCode == "documents_required", "\(bare.text)")
        }
    }

    @Test func downloadLinksExpireAndForgedOnesAreRefused() async throws {
        try await Self.with { desk in
            let quote = try await desk.quote(#"{"customerPhone":"+250788000002","insurer":"Sanlam","coverType":"life","currency":"RWF"}"#)
            let first = try await desk.upload(quote.id, Self.pdf, type: "application/pdf", name: "a.pdf").json(InsuranceDocumentDTO.self)
            let second = try await desk.upload(quote.id, Self.png, type: "image/png", name: "b.png").json(InsuranceDocumentDTO.self)
            let link = try #require(first.downloadUrl)
            #expect(try await TestHTTP.get(link).status == 200)

            let components = try #require(URLComponents(string: link))
            let expires = try #require(components.queryItems?.first { $0.name == "expires" }?.value)
            let sig = try #require(components.queryItems?.first { $0.name == "sig" }?.value)
            let base = desk.gateway + "/v1/insurance-documents"
            // one character changed, the first (the last of base64url carries bits a lenient decoder may drop)
            let changed = (sig.first == "A" ? "B" : "A") + sig.dropFirst()
            let forged: [(String, Int, String)] = [
                ("\(base)/\(desk.tenant)/\(first.id)?expires=\(expires)&sig=\(changed)", 403, "invalid_signature"),
                // the signature of one document does not open another, nor the same id in another tenant
                ("\(base)/\(desk.tenant)/\(second.id)?expires=\(expires)&sig=\(sig)", 403, "invalid_signature"),
                ("\(base)/\(TenantID())/\(first.id)?expires=\(expires)&sig=\(sig)", 403, "invalid_signature"),
                // a later expiry under the old signature
                ("\(base)/\(desk.tenant)/\(first.id)?expires=\(Int(expires)! + 3600)&sig=\(sig)", 403, "invalid_signature"),
                ("\(base)/\(desk.tenant)/\(first.id)", 403, "invalid_signature"),
            ]
            for (url, status, code) in forged {
                let response = try await TestHTTP.get(url)
                #expect(response.status == status && response.errorCode == code, "\(url): \(response.status) \(response.text)")
            }
            // a link signed an hour ago with a 15-minute lifetime has expired
            let settings = desk.platform.environment(.marketplaceWallet).settings
            let old = DocumentLinks(
                signer: SignedURLs(secret: DocumentLinks.defaultSecret(serviceKey: settings.serviceKey)), baseURL: desk.gateway, lifetime: .seconds(900)
            ).url(tenant: desk.tenant, document: first.id, now: Date().addingTimeInterval(-3600))
            let expired = try await TestHTTP.get(old)
            #expect(expired.status == 410 && expired.errorCode == "link_expired", "\(expired.status) \(expired.text)")
            // the same signer, now: it opens (so the refusal above was the expiry alone)
            let fresh = DocumentLinks(
                signer: SignedURLs(secret: DocumentLinks.defaultSecret(serviceKey: settings.serviceKey)), baseURL: desk.gateway, lifetime: .seconds(900)
            ).url(tenant: desk.tenant, document: first.id)
            #expect(try await TestHTTP.get(fresh).status == 200)
        }
    }

    @Test func twoReviewersAtOnceMakeOneDecision() async throws {
        // messaging runs, so the one notice is delivered and the shutdown has no job in flight to wait for
        try await Self.with([.gateway, .marketplaceWallet, .messaging]) { desk in
            let quote = try await desk.quote(#"{"customerPhone":"+250788000005","insurer":"Britam","coverType":"motor","currency":"RWF"}"#)
            #expect(try await desk.upload(quote.id, Self.pdf, type: "application/pdf", name: "a.pdf").status == 201)
            let bodies = Array(
                repeating: [#"{"decision":"approve","premium":"5000"}"#, #"{"decision":"needs_changes","comment":"Sign page 2"}"#], count: 5
            ).flatMap { $0 }
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for body in bodies { group.addTask { try await desk.review(quote.id, body).status } }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 200 }.count == 1 && statuses.filter { $0 == 409 }.count == bodies.count - 1, "\(statuses)")
            // one decision, one audit row, one notice
            #expect(
                try await desk.count(
                    "SELECT count(*)::int FROM wallet.audit_log WHERE action IN ('insurance_quote.approve', 'insurance_quote.needs_changes')") == 1)
            #expect(try await desk.count("SELECT count(*)::int FROM wallet.jobs WHERE kind = 'insurance.notify_decision'") == 1)
            #expect(try await TestWait.until { try await desk.outbox().filter { $0.to == "+250788000005" }.count == 1 })
        }
    }

    @Test func documentTypesAreReadFromTheBytesAndUploadsAloneTakeLargeBodies() {
        #expect(InsuranceDocumentType.sniff(Self.pdf) == .pdf)
        #expect(InsuranceDocumentType.sniff(Self.png) == .png)
        #expect(InsuranceDocumentType.sniff([0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10] + Array("JFIF".utf8)) == .jpeg)
        #expect(InsuranceDocumentType.sniff(Array("RIFF".utf8) + [0x24, 0, 0, 0] + Array("WEBPVP8 ".utf8)) == .webp)
        #expect(InsuranceDocumentType.sniff(Array("RIFF".utf8) + [0x24, 0, 0, 0] + Array("WAVEfmt ".utf8)) == nil)
        #expect(InsuranceDocumentType.sniff(Array(Self.png.prefix(8))) == nil)
        #expect(InsuranceDocumentType.sniff(Self.html) == nil)
        #expect(InsuranceDocumentType.sniff([]) == nil)
        let all = WalletInsuranceAPI.all
        #expect(Endpoint.bodyAllowance(in: all, method: "POST", path: "/v1/insurance-quotes/\(UUID())/documents") == 10 << 20)
        #expect(Endpoint.bodyAllowance(in: all, method: "GET", path: "/v1/insurance-quotes/\(UUID())/documents") == nil)
        #expect(Endpoint.bodyAllowance(in: all, method: "POST", path: "/v1/insurance-quotes//documents") == nil)
        #expect(Endpoint.bodyAllowance(in: all, method: "POST", path: "/v1/insurance-quotes/\(UUID())/review") == nil)
        #expect(Endpoint.bodyAllowance(in: all, method: "POST", path: "/v1/insurance-quotes") == nil)
    }

    @Test func rolesAndTenants() async throws {
        try await Self.with { desk in
            let quote = try await desk.quote(#"{"customerPhone":"+250788000003","insurer":"Prime","coverType":"travel","currency":"RWF"}"#)
            let document = try await desk.upload(quote.id, Self.png, type: "image/png", name: "passport.png").json(InsuranceDocumentDTO.self)
            let readers: Set<Role> = [.superAdmin, .support, .dataOps, .readonly, .tenantAdmin, .agent, .service]
            let writers: Set<Role> = [.superAdmin, .support, .tenantAdmin, .agent, .service]
            let reviewers: Set<Role> = [.superAdmin, .support, .tenantAdmin]
            for role in Role.allCases {
                let staff = role.isPlatformStaff
                let token = try await TestKeys.token(tenant: staff ? nil : desk.tenant, roles: [role])
                let headers = staff || role == .service ? ["X-Tenant-ID": desk.tenant.description] : [:]
                for path in [
                    "/v1/insurance-quotes", "/v1/insurance-quotes/\(quote.id)", "/v1/insurance-quotes/\(quote.id)/documents/\(document.id)",
                ] {
                    let read = try await desk.get(path, token: token, headers: headers)
                    #expect(read.status == (readers.contains(role) ? 200 : 403), "\(role) GET \(path): \(read.status)")
                }
                let created = try await desk.post(
                    "/v1/insurance-quotes", #"{"customerPhone":"+250788000004","insurer":"By \#(role)","coverType":"travel","currency":"RWF"}"#,
                    token: token, headers: headers)
                #expect(created.status == (writers.contains(role) ? 201 : 403), "\(role) create: \(created.status) \(created.text)")
                let uploaded = try await desk.upload(quote.id, Self.pdf, type: "application/pdf", name: "\(role).pdf", token: token, headers: headers)
                #expect(uploaded.status == (writers.contains(role) ? 201 : 403), "\(role) upload: \(uploaded.status) \(uploaded.text)")
                // an invalid decision: a reviewer gets past the role check to the 422, anyone else is stopped at 403
                let reviewWithTenant = try await desk.post(
                    "/v1/insurance-quotes/\(quote.id)/review", #"{"decision":"needs_changes"}"#, token: token, headers: headers)
                #expect(
                    reviewWithTenant.status == (reviewers.contains(role) ? 422 : 403), "\(role) review: \(reviewWithTenant.status)")
                let resubmit = try await desk.post("/v1/insurance-quotes/\(quote.id)/resubmit", "", token: token, headers: headers)
                #expect(resubmit.status == (writers.contains(role) ? 409 : 403), "\(role) resubmit: \(resubmit.status)")
            }
            // no token: 401
            #expect(try await TestHTTP.get("\(desk.gateway)/v1/insurance-quotes").status == 401)

            // another tenant sees none of it and can use none of it
            let other = try await desk.platform.createTenant()
            let otherAdmin = try await TestKeys.token(tenant: other, roles: [.tenantAdmin])
            #expect(try await desk.get("/v1/insurance-quotes", token: otherAdmin).json(Page<InsuranceQuoteDTO>.self).items.isEmpty)
            #expect(try await desk.get("/v1/insurance-quotes/\(quote.id)", token: otherAdmin).status == 404)
            #expect(try await desk.get("/v1/insurance-quotes/\(quote.id)/documents/\(document.id)", token: otherAdmin).status == 404)
            #expect(try await desk.review(quote.id, #"{"decision":"approve","premium":"100"}"#, token: otherAdmin).status == 404)
            #expect(try await desk.post("/v1/insurance-quotes/\(quote.id)/resubmit", "", token: otherAdmin).status == 404)
            let theirs = try await desk.upload(quote.id, Self.pdf, type: "application/pdf", name: "x.pdf", token: otherAdmin)
            #expect(theirs.status == 404, "\(theirs.text)")
            let staff = try await TestKeys.token(tenant: nil, roles: [.support])
            let elsewhere = try await desk.get("/v1/insurance-quotes/\(quote.id)", token: staff, headers: ["X-Tenant-ID": other.description])
            #expect(elsewhere.status == 404)
            #expect(try await desk.count("SELECT count(*)::int FROM wallet.insurance_documents WHERE tenant_id <> '\(desk.tenant)'") == 0)
        }
    }
}
