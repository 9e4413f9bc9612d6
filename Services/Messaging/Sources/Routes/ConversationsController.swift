import Contracts
import Foundation
import Hummingbird
import Models
import ServiceKit

/// The inbox: `GET /v1/conversations`, a thread, escalate / hand back / close / mark read; contacts.
struct ConversationsController: Sendable {
    let conversations: ConversationsStore

    func addRoutes(to router: Router<AppRequestContext>) {
        router.on(MessagingAPI.listConversations, use: self.list)
        router.on(MessagingAPI.getConversation, use: self.get)
        router.on(MessagingAPI.conversationMessages, use: self.messages)
        router.on(MessagingAPI.updateConversation, use: self.update)
        router.on(MessagingAPI.listContacts, use: self.contacts)
        router.on(MessagingAPI.updateContact, use: self.updateContact)
    }

    static let notFound = APIError.notFound("conversation_not_found", "No such conversation.")

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<ConversationDTO>> {
        let (_, tenant) = try context.requireTenantCaller()
        let query = request.queryValues
        let page = try request.page(cursorValues: 2)
        let status = try query.string("status", maxLength: 40).map {
            guard let status = ConversationStatus(rawValue: $0) else {
                throw APIError.badRequest("invalid_status", "status is ai_active, human_escalated or closed.")
            }
            return status
        }
        let filter = ConversationsStore.ConversationFilter(
            status: status, channel: try query.id("channelId", as: ChannelID.self), search: try query.string("q", maxLength: 100))
        let cursor = try page.cursor.map { (try $0.int64(0), try $0.uuid(1)) }
        let items = try await self.conversations.conversations(tenant: tenant, filter, after: cursor, limit: page.limit, logger: context.logger)
        return JSONResponse(.ok, Page(items: items, nextCursor: page.next(items) { [String($0.lastMessageAt.micros), $0.id.description] }))
    }

    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<ConversationDTO> {
        let (_, tenant) = try context.requireTenantCaller()
        guard
            let conversation = try await self.conversations.conversation(
                try context.idParameter(as: ConversationID.self), tenant: tenant, logger: context.logger)
        else { throw Self.notFound }
        return JSONResponse(.ok, conversation)
    }

    /// In sequence order; `after` (a sequence number) resumes where a client stopped.
    @Sendable func messages(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<MessageDTO>> {
        let (_, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter(as: ConversationID.self)
        guard try await self.conversations.conversation(id, tenant: tenant, logger: context.logger) != nil else { throw Self.notFound }
        let query = request.queryValues
        let limit = try query.int("limit", range: 1...200) ?? 100
        let after = try query.int("after", range: 0...Int(Int32.max)) ?? 0
        let items = try await self.conversations.messages(conversation: id, tenant: tenant, after: after, limit: limit, logger: context.logger)
        return JSONResponse(.ok, Page(items: items, nextCursor: items.count == limit ? items.last.map { String($0.sequenceNo) } : nil))
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<ConversationDTO> {
        let (caller, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter(as: ConversationID.self)
        let body = try await request.decodeJSON(UpdateConversation.self, context: context)
        guard
            let conversation = try await self.conversations.update(
                id, tenant: tenant, body, actor: caller.subject, requestID: context.requestID, logger: context.logger)
        else { throw Self.notFound }
        return JSONResponse(.ok, conversation)
    }

    @Sendable func contacts(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<ContactDTO>> {
        let (_, tenant) = try context.requireTenantCaller()
        let page = try request.page(cursorValues: 2)
        let cursor = try page.cursor.map { ($0.string(0), try $0.uuid(1)) }
        let items = try await self.conversations.contacts(
            tenant: tenant, search: try request.queryValues.string("q", maxLength: 100), after: cursor, limit: page.limit, logger: context.logger)
        return JSONResponse(.ok, Page(items: items, nextCursor: page.next(items) { [$0.address, $0.id.description] }))
    }

    @Sendable func updateContact(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<ContactDTO> {
        let (caller, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter(as: ContactID.self)
        let body = try await request.decodeJSON(UpdateContact.self, context: context)
        try TextRules.check(body.name, field: "name", length: 1...200)
        try TextRules.check(body.notes, field: "notes", length: 0...4000)
        for tag in body.tags ?? [] { try TextRules.check(tag, field: "tags", length: 1...50) }
        guard (body.tags?.count ?? 0) <= 50 else { throw APIError.unprocessable("too_many_tags", "At most 50 tags.") }
        guard
            let contact = try await self.conversations.updateContact(
                id, tenant: tenant, body, actor: caller.subject, requestID: context.requestID, logger: context.logger)
        else { throw APIError.notFound("contact_not_found", "No such contact.") }
        return JSONResponse(.ok, contact)
    }
}
