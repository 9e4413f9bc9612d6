/// An 8-bit-per-channel image in memory, row-major, that the drawing code paints and PNGEncoder writes.
struct Bitmap {
    enum Format {
        case gray, rgb

        var channels: Int { self == .gray ? 1 : 3 }
    }

    struct Color: Equatable {
        var red: UInt8, green: UInt8, blue: UInt8

        static let black = Color(red: 0, green: 0, blue: 0)
        static let white = Color(red: 255, green: 255, blue: 255)

        /// Rec. 601 luma, for painting a colour into a grayscale bitmap.
        var gray: UInt8 {
            let r = 299 * Int(red)
            let g = 587 * Int(green)
            let b = 114 * Int(blue)
            return UInt8((r + g + b) / 1000)
        }
    }

    let width: Int
    let height: Int
    let format: Format
    private(set) var pixels: [UInt8]

    init(width: Int, height: Int, format: Format, background: Color = .white) {
        self.width = width
        self.height = height
        self.format = format
        switch format {
        case .gray:
            pixels = [UInt8](repeating: background.gray, count: width * height)
        case .rgb:
            pixels = [UInt8](unsafeUninitializedCapacity: width * height * 3) { buffer, count in
                for index in stride(from: 0, to: buffer.count, by: 3) {
                    buffer[index] = background.red
                    buffer[index + 1] = background.green
                    buffer[index + 2] = background.blue
                }
                count = buffer.count
            }
        }
    }

    /// Fills a rectangle, clipped to the image, so callers can draw near edges without checking.
    mutating func fill(x: Int, y: Int, width w: Int, height h: Int, color: Color) {
        let left = max(x, 0)
        let right = min(x + w, width)
        let top = max(y, 0)
        let bottom = min(y + h, height)
        guard left < right, top < bottom else { return }
        for row in top..<bottom {
            switch format {
            case .gray:
                let start = row * width
                for column in left..<right { pixels[start + column] = color.gray }
            case .rgb:
                for column in left..<right {
                    let index = (row * width + column) * 3
                    pixels[index] = color.red
                    pixels[index + 1] = color.green
                    pixels[index + 2] = color.blue
                }
            }
        }
    }

    /// Paints a QR symbol with its quiet zone, `scale` pixels per module, its top-left corner at (x, y).
    mutating func draw(_ code: QRCode, x: Int, y: Int, scale: Int) {
        let quiet = QRCode.quietZone
        let side = (code.width + 2 * quiet) * scale
        fill(x: x, y: y, width: side, height: side, color: .white)
        for row in 0..<code.width {
            for column in 0..<code.width where code.isDark(x: column, y: row) {
                fill(
                    x: x + (column + quiet) * scale, y: y + (row + quiet) * scale,
                    width: scale, height: scale, color: .black)
            }
        }
    }
}
