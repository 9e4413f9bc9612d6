/// PNG images of vouchers: the bare QR code, and a card to send as a WhatsApp image message.
public enum VoucherImages {
    /// An 8-bit grayscale PNG of the QR code for `payload`: libqrencode (QR_ECLEVEL_M, 8-bit mode), `scale` pixels
    /// per module, a 4-module white quiet zone. Throws VoucherImageError on failure.
    public static func qrPNG(payload: String, scale: Int = 8) throws -> [UInt8] {
        guard (1...100).contains(scale) else { throw VoucherImageError("QR scale \(scale) is not in 1...100") }
        let symbol = try QRCode.encode(payload)
        let side = (symbol.width + 2 * QRCode.quietZone) * scale
        var image = Bitmap(width: side, height: side, format: .gray)
        image.draw(symbol, x: 0, y: 0, scale: scale)
        return try PNGEncoder.encode(image)
    }

    /// A voucher card sized for a WhatsApp image message (1080×1080, RGB or grayscale PNG): a title line, the QR code
    /// large in the middle, then the amount (e.g. "RWF 5,000"), the code (e.g. "K7M3Q"), and "Valid until 2026-12-31"
    /// when `expiresOn` is given. Text uses a built-in 5×7 bitmap font (A–Z, 0–9, space, `. , : - / + ? ! ' ( ) # %`;
    /// lowercase is drawn as capitals, typographic dashes and quotes as ASCII, anything else as "?"), so no font library
    /// is needed. Lines too wide shrink to fit, then are cut short with "..".
    public static func cardPNG(payload: String, title: String, amount: String, code: String, expiresOn: String?) throws -> [UInt8] {
        let card = VoucherCard(payload: payload, title: title, amount: amount, code: code, expiresOn: expiresOn)
        return try PNGEncoder.encode(card.render())
    }
}
