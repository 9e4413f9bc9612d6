import Foundation
import Logging
import Models
import ServiceKit

/// A voucher's QR and card PNGs: from the blob store, or drawn now (by `Images/`) and kept.
struct VoucherImageStore: Sendable {
    let vouchers: VouchersStore
    let blobs: any BlobStore
    let qrPayload: QRPayload

    func image(_ id: VoucherID, card: Bool, logger: Logger) async throws -> [UInt8] {
        guard let (voucher, tenant) = try await self.vouchers.voucher(id, tenant: nil, logger: logger) else {
            throw APIError.notFound("image_not_found", "No such image.")
        }
        let key = "vouchers/\(tenant)/\(voucher.id)-\(card ? "card" : "qr").png"
        if let stored = try await self.blobs.get(key) { return stored.bytes }
        let payload = self.qrPayload.payload(code: voucher.code)
        let bytes: [UInt8]
        if card {
            let amount = "\(voucher.currency) \(Self.grouped(voucher.amount))"
            let expires = voucher.expiresAt.map { String(ISO8601.format($0).prefix(10)) }
            bytes = try VoucherImages.cardPNG(payload: payload, title: "SOKONI FUEL VOUCHER", amount: amount, code: voucher.code, expiresOn: expires)
        } else {
            bytes = try VoucherImages.qrPNG(payload: payload)
        }
        try await self.blobs.put(key, bytes: bytes, contentType: "image/png")
        return bytes
    }

    /// "5000" → "5,000"; "1234.50" → "1,234.50".
    static func grouped(_ decimal: String) -> String {
        let parts = decimal.split(separator: ".", maxSplits: 1)
        var whole = String(parts[0])
        var groups: [String] = []
        while whole.count > 3 {
            groups.insert(String(whole.suffix(3)), at: 0)
            whole.removeLast(3)
        }
        groups.insert(whole, at: 0)
        return groups.joined(separator: ",") + (parts.count > 1 ? "." + parts[1] : "")
    }
}
