import Contracts
import Foundation
import Hummingbird
import Models
import ServiceKit

/// `GET/PUT /v1/messaging/settings` and the opt-out list (`GET/POST/DELETE /v1/opt-outs`, CSV with
/// `Accept: text/csv`; `PUT /v1/messaging/consent` the CRM's changes of a lead's opt-in).
struct SettingsController: Sendable {
    let policy: PolicyStore

    func addRoutes(to router: Router<AppRequestContext>) {
        router.on(MessagingAPI.getSettings, use: self.get)
        router.on(MessagingAPI.putSettings, use: self.put)
        router.on(MessagingAPI.listOptOuts, use: self.optOuts)
        router.on(MessagingAPI.addOptOut, use: self.addOptOut)
        router.on(MessagingAPI.removeOptOut, use: self.removeOptOut)
        router.on(MessagingAPI.consent, use: self.consent)
    }

    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<MessagingSettings> {
        let (_, tenant) = try context.requireTenantCaller()
        return JSONResponse(.ok, try await self.policy.settings(tenant: tenant, logger: context.logger))
    }

    @Sendable func put(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<MessagingSettings> {
        let (caller, tenant) = try context.requireTenantCaller()
        let settings = try await request.decodeJSON(MessagingSettings.self, context: context)
        if let problem = settings.problem { throw APIError.unprocessable("invalid_settings", problem) }
        try await self.policy.saveSettings(settings, tenant: tenant, actor: caller.subject, requestID: context.requestID, logger: context.logger)
        return JSONResponse(.ok, settings)
    }

    struct NewOptOut: Codable, Sendable {
        var address: String
    }

    @Sendable func optOuts(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (_, tenant) = try context.requireTenantCaller()
        if request.headers[.accept]?.contains("text/csv") == true {
            // the whole list, for the tenant's own records: hashes and masked numbers, never a number in clear
            var csv = "hash,masked,source,language,created_at\r\n"
            var cursor: (Int64, String)?
            while true {
                let page = try await self.policy.optOuts(tenant: tenant, after: cursor, limit: 1000, logger: context.logger)
                for entry in page {
                    csv += "\(entry.hash),\(entry.masked),\(entry.source),\(entry.language ?? ""),\(entry.createdAt.formatted(.iso8601))\r\n"
                }
                guard page.count == 1000, let last = page.last else { break }
                cursor = (last.createdAt.micros, last.hash)
            }
            return Response(
                status: .ok,
                headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"opt-outs.csv\""],
                body: .init(byteBuffer: ByteBuffer(string: csv)))
        }
        let page = try request.page(cursorValues: 2)
        let cursor = try page.cursor.map { (try $0.int64(0), $0.string(1)) }
        let items = try await self.policy.optOuts(tenant: tenant, after: cursor, limit: page.limit, logger: context.logger)
        return try JSONResponse(.ok, Page(items: items, nextCursor: page.next(items) { [String($0.createdAt.micros), $0.hash] }))
            .response(from: request, context: context)
    }

    @Sendable func addOptOut(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (caller, tenant) = try context.requireTenantCaller()
        let body = try await request.decodeJSON(NewOptOut.self, context: context)
        let address = try Self.address(body.address)
        let added = try await self.policy.postgres.withTransaction(logger: context.logger) { connection in
            try await self.policy.optOut(
                tenant: tenant, address: address, source: "api", language: nil, actor: caller.subject, requestID: context.requestID, on: connection,
                logger: context.logger)
        }
        return try JSONResponse(added ? .created : .ok, ["masked": PolicyStore.masked(address), "hash": self.policy.hash(address).readableBytesView.hex])
            .response(from: request, context: context)
    }

    @Sendable func removeOptOut(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (caller, tenant) = try context.requireTenantCaller()
        guard let hash = context.parameters.get("hash"), hash.count == 64, hash.allSatisfy(\.isHexDigit) else {
            throw APIError.badRequest("invalid_hash", "The entry's hash is 64 hex digits.")
        }
        guard
            try await self.policy.removeOptOut(
                tenant: tenant, hash: hash.lowercased(), actor: caller.subject, requestID: context.requestID, logger: context.logger)
        else { throw APIError.notFound("opt_out_not_found", "No such entry on the opt-out list.") }
        return Response(status: .noContent)
    }

    /// An E.164 number, or another channel's address (an email, a chat id) as it is.
    static func address(_ text: String) throws -> String {
        if text.hasPrefix("+") {
            do { return try PhoneNumber(parsing: text).e164 } catch {
                throw APIError.unprocessable("invalid_address", "address must be an E.164 number such as +250788123456: \(error)")
            }
        }
        try TextRules.check(text, field: "address", length: 1...200)
        return text
    }

    /// The CRM's word (a person changed a lead's opt-in): the list follows it, and is not told back.
    @Sendable func consent(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<MessagingAPI.ConsentReceipt> {
        let (caller, tenant) = try context.requireTenantCaller()
        let body = try await request.decodeJSON(MessagingAPI.Consent.self, context: context)
        let address = try Self.address(body.address)
        let changed = try await self.policy.postgres.withTransaction(logger: context.logger) { connection in
            body.optedIn
                ? try await self.policy.optIn(
                    tenant: tenant, address: address, actor: caller.subject, requestID: context.requestID, fromCRM: true, on: connection,
                    logger: context.logger)
                : try await self.policy.optOut(
                    tenant: tenant, address: address, source: "crm", language: nil, actor: caller.subject, requestID: context.requestID, fromCRM: true,
                    on: connection, logger: context.logger)
        }
        return JSONResponse(.ok, MessagingAPI.ConsentReceipt(changed: changed))
    }
}
