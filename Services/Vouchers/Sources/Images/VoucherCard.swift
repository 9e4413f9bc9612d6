/// Lays out the square voucher card: a coloured title band, the QR code, then amount, code and expiry.
struct VoucherCard {
    /// WhatsApp shows square images uncropped; 1080 is its largest display size.
    static let side = 1080
    static let margin = 60
    static let bandHeight = 150
    /// The square the QR code (with its quiet zone) is fitted into.
    static let codeTop = 165
    static let codeBox = 620

    static let brand = Bitmap.Color(red: 0x0B, green: 0x5D, blue: 0x3B)
    static let ink = Bitmap.Color(red: 0x11, green: 0x11, blue: 0x11)
    static let muted = Bitmap.Color(red: 0x55, green: 0x55, blue: 0x55)

    let payload: String
    let title: String
    let amount: String
    let code: String
    let expiresOn: String?

    func render() throws -> Bitmap {
        let symbol = try QRCode.encode(payload)
        let modules = symbol.width + 2 * QRCode.quietZone
        // Whole pixels per module keep the modules crisp; a version-40 symbol still gets 3 pixels.
        let scale = Self.codeBox / modules
        guard scale >= 1 else { throw VoucherImageError("QR code with \(symbol.width) modules does not fit the card") }

        var card = Bitmap(width: Self.side, height: Self.side, format: .rgb)
        card.fill(x: 0, y: 0, width: Self.side, height: Self.bandHeight, color: Self.brand)
        drawLine(title, into: &card, top: 0, height: Self.bandHeight, preferredScale: 8, color: .white)

        let qrSide = modules * scale
        card.draw(symbol, x: (Self.side - qrSide) / 2, y: Self.codeTop + (Self.codeBox - qrSide) / 2, scale: scale)

        drawLine(amount, into: &card, top: 790, height: 90, preferredScale: 10, color: Self.ink)
        drawLine(code, into: &card, top: 885, height: 80, preferredScale: 9, color: Self.brand)
        if let expiresOn {
            drawLine("Valid until \(expiresOn)", into: &card, top: 975, height: 60, preferredScale: 5, color: Self.muted)
        }
        return card
    }

    /// Draws one centred line, shrinking it to fit the width and cutting it short with ".." as a last resort.
    private func drawLine(
        _ text: String, into card: inout Bitmap, top: Int, height: Int, preferredScale: Int,
        color: Bitmap.Color
    ) {
        let room = Self.side - 2 * Self.margin
        let minimumScale = 2
        var text = text
        if BitmapFont.width(of: text, scale: minimumScale) > room {
            while !text.isEmpty, BitmapFont.width(of: text + "..", scale: minimumScale) > room { text.removeLast() }
            text += ".."
        }
        let unitWidth = max(BitmapFont.width(of: text, scale: 1), 1)
        let scale = max(minimumScale, min(preferredScale, room / unitWidth, height / BitmapFont.glyphHeight))
        let x = (Self.side - BitmapFont.width(of: text, scale: scale)) / 2
        let y = top + (height - BitmapFont.glyphHeight * scale) / 2
        BitmapFont.draw(text, into: &card, x: x, y: y, scale: scale, color: color)
    }
}
