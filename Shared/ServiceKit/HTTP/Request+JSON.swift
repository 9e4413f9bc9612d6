import Foundation
import Hummingbird
import Models
import NIOCore
import NIOFoundationCompat

extension Request {
    /// Decodes a JSON body; bad JSON is a 400 `invalid_json` naming the field, and a NUL anywhere in it a 422
    /// `invalid_text` (no string the platform stores may hold one).
    public func decodeJSON<T: Decodable>(_ type: T.Type, context: some RequestContext) async throws -> T {
        guard let value = try await self.decodeJSON(type, context: context, orIfEmpty: nil) else {
            throw APIError.badRequest("invalid_json", "The request body is empty.")
        }
        return value
    }

    /// Decodes a JSON body as `decodeJSON` does, or answers `empty` when there is no body (an action whose fields are
    /// all optional, such as a cancellation with an optional reason).
    public func decodeJSON<T: Decodable>(_ type: T.Type, context: some RequestContext, orIfEmpty empty: T?) async throws -> T? {
        var request = self
        let buffer = try await request.collectBody(upTo: context.maxUploadSize)
        guard buffer.readableBytes > 0 else { return empty }
        let value: T
        do {
            value = try JSONDecoder.sokoni.decode(T.self, from: Data(buffer: buffer))
        } catch let error as DecodingError {
            throw APIError.badRequest("invalid_json", APIError.describe(error))
        }
        if TextRules.jsonContainsNUL(buffer.readableBytesView) {
            throw APIError.unprocessable("invalid_text", "Text fields must not contain NUL characters.")
        }
        return value
    }
}
