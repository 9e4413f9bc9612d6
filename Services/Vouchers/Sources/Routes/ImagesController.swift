import Contracts
import Hummingbird
import Models
import ServiceKit

/// `GET /v1/voucher-images/{id}/qr.png|card.png?expires=&sig=`: public, the signature is the permission.
struct ImagesController: Sendable {
    let images: VoucherImageStore
    let signer: SignedURLs

    func addRoutes(to router: Router<AppRequestContext>) {
        router.on(VouchersAPI.image, use: self.image)
    }

    @Sendable func image(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let text = context.parameters.get("id"), let id = VoucherID(text), let kind = context.parameters.get("kind"),
            ["qr.png", "card.png"].contains(kind)
        else { throw APIError.notFound("image_not_found", "No such image.") }
        let query = request.queryValues
        try self.signer.verify(
            path: request.uri.path, expires: try query.string("expires", maxLength: 20), signature: try query.string("sig", maxLength: 100))
        let bytes = try await self.images.image(id, card: kind == "card.png", logger: context.logger)
        return Response(
            status: .ok, headers: [.contentType: "image/png", .cacheControl: "private, max-age=3600"],
            body: .init(byteBuffer: .init(bytes: bytes)))
    }
}
