import AsyncHTTPClient
import Foundation
import Logging
import Models
import NIOCore
import NIOHTTP1
import ServiceKit

/// Meta's template management on the Graph API: `POST /{waba-id}/message_templates` submits a template for review,
/// `GET /{waba-id}/message_templates` lists them with their review status (paged by `paging.cursors.after`), and
/// `GET /{phone-number-id}?fields=messaging_limit_tier` tells the number's daily limit of new customers.
struct WhatsAppTemplates: Sendable {
    let http: HTTPClient
    let baseURL: String

    /// A template as the Graph API lists it.
    struct Remote: Codable, Sendable, Equatable {
        var id: String?
        var name: String
        var language: String
        var status: String?
        var category: String?
        var rejectedReason: String?
        var components: [Component]?

        enum CodingKeys: String, CodingKey {
            case id, name, language, status, category, components
            case rejectedReason = "rejected_reason"
        }

        struct Component: Codable, Sendable, Equatable {
            var type: String
            var format: String?
            var text: String?
            var buttons: [Button]?
        }

        struct Button: Codable, Sendable, Equatable {
            var type: String
            var text: String?
            var url: String?
            var phoneNumber: String?

            enum CodingKeys: String, CodingKey {
                case type, text, url
                case phoneNumber = "phone_number"
            }
        }

        /// Ours, or nil when Meta's template has no body we can send (a carousel, an unknown shape).
        var template: (category: TemplateCategory, header: TemplateHeader?, body: String, footer: String?, buttons: [TemplateButton])? {
            let components = self.components ?? []
            guard let body = components.first(where: { $0.type.uppercased() == "BODY" })?.text, (1...1024).contains(body.count) else { return nil }
            let header = components.first { $0.type.uppercased() == "HEADER" }.flatMap { component -> TemplateHeader? in
                switch component.format?.uppercased() {
                case "TEXT": TemplateHeader(type: "text", text: component.text)
                case "IMAGE": TemplateHeader(type: "image")
                case "DOCUMENT": TemplateHeader(type: "document")
                default: nil
                }
            }
            let footer = components.first { $0.type.uppercased() == "FOOTER" }?.text
            let buttons = (components.first { $0.type.uppercased() == "BUTTONS" }?.buttons ?? []).compactMap { button -> TemplateButton? in
                guard let text = button.text else { return nil }
                switch button.type.uppercased() {
                case "QUICK_REPLY": return TemplateButton(type: "quick_reply", text: text)
                case "URL": return TemplateButton(type: "url", text: text, url: button.url)
                case "PHONE_NUMBER": return TemplateButton(type: "phone_number", text: text, phoneNumber: button.phoneNumber)
                default: return nil
                }
            }
            let category = TemplateCategory(rawValue: (self.category ?? "marketing").lowercased()) ?? .marketing
            return (category, header, body, footer.map { String($0.prefix(60)) }, buttons)
        }
    }

    struct Listing: Codable, Sendable {
        var data: [Remote]?
        var paging: Paging?

        struct Paging: Codable, Sendable {
            var cursors: Cursors?
            var next: String?
        }

        struct Cursors: Codable, Sendable {
            var after: String?
        }
    }

    struct Created: Codable, Sendable {
        var id: String?
        var status: String?
    }

    struct Failure: Error, CustomStringConvertible {
        var status: Int
        var message: String
        var description: String { "Meta answered \(self.status): \(self.message)" }
    }

    /// The body Meta wants for a new template: its components in Meta's capitals.
    static func submission(
        name: String, language: String, category: TemplateCategory, header: TemplateHeader?, body: String, footer: String?, buttons: [TemplateButton]
    )
        -> [String: JSONValue]
    {
        var components: [JSONValue] = []
        if let header {
            var value: [String: JSONValue] = ["type": .string("HEADER"), "format": .string(header.type.uppercased())]
            if let text = header.text { value["text"] = .string(text) }
            components.append(.object(value))
        }
        var bodyComponent: [String: JSONValue] = ["type": .string("BODY"), "text": .string(body)]
        let count = (try? TemplateText.variableCount(body)) ?? 0
        if count > 0 {
            // Meta reviews a template with variables only with sample values
            bodyComponent["example"] = .object(["body_text": .array([.array((1...count).map { .string("sample \($0)") })])])
        }
        components.append(.object(bodyComponent))
        if let footer { components.append(.object(["type": .string("FOOTER"), "text": .string(footer)])) }
        if !buttons.isEmpty {
            components.append(
                .object([
                    "type": .string("BUTTONS"),
                    "buttons": .array(
                        buttons.map { button in
                            var value: [String: JSONValue] = ["type": .string(button.type.uppercased()), "text": .string(button.text)]
                            if let url = button.url { value["url"] = .string(url) }
                            if let phone = button.phoneNumber { value["phone_number"] = .string(phone) }
                            return .object(value)
                        }),
                ]))
        }
        return [
            "name": .string(name), "language": .string(language), "category": .string(category.rawValue.uppercased()),
            "components": .array(components),
        ]
    }

    func submit(_ submission: [String: JSONValue], businessAccountID: String, token: String, logger: Logger) async throws -> Created {
        var request = HTTPClientRequest(url: "\(self.baseURL)/\(businessAccountID)/message_templates")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: try JSONEncoder.sokoni.encode(submission)))
        let (status, body) = try await self.http.call(request, logger: logger)
        guard (200..<300).contains(status), let created = try? JSONDecoder().decode(Created.self, from: body) else {
            throw Self.failure(status: status, body: body)
        }
        return created
    }

    /// Every template of the account, following Meta's pages (at most 50 pages of 100).
    func list(businessAccountID: String, token: String, logger: Logger) async throws -> [Remote] {
        var templates: [Remote] = []
        var after: String?
        for _ in 0..<50 {
            var url = "\(self.baseURL)/\(businessAccountID)/message_templates?fields=id,name,language,status,category,components,rejected_reason&limit=100"
            if let after { url += "&after=\(after.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? after)" }
            var request = HTTPClientRequest(url: url)
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
            let (status, body) = try await self.http.call(request, logger: logger)
            guard (200..<300).contains(status), let page = try? JSONDecoder().decode(Listing.self, from: body) else {
                throw Self.failure(status: status, body: body)
            }
            templates += page.data ?? []
            guard page.paging?.next != nil, let next = page.paging?.cursors?.after else { break }
            after = next
        }
        return templates
    }

    /// The number's messaging tier (`TIER_1K`), or nil when Meta does not say.
    func tier(phoneNumberID: String, token: String, logger: Logger) async throws -> String? {
        var request = HTTPClientRequest(url: "\(self.baseURL)/\(phoneNumberID)?fields=messaging_limit_tier")
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        let (status, body) = try await self.http.call(request, logger: logger)
        guard (200..<300).contains(status) else { throw Self.failure(status: status, body: body) }
        struct Number: Decodable {
            var messagingLimitTier: String?
            enum CodingKeys: String, CodingKey { case messagingLimitTier = "messaging_limit_tier" }
        }
        return (try? JSONDecoder().decode(Number.self, from: body))?.messagingLimitTier
    }

    static func failure(status: Int, body: ByteBuffer) -> Failure {
        let message = (try? JSONDecoder().decode(GraphErrorBody.self, from: body)).flatMap { $0.error.errorUserMsg ?? $0.error.message }
        return Failure(status: status, message: message ?? String(buffer: body).prefix(300).description)
    }
}
