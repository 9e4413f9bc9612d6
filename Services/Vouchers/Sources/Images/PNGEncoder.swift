import CPNG

/// Writes 8-bit grayscale or RGB pixels as a PNG in memory with libpng's simplified API
/// (`png_image_write_to_memory`): it catches libpng's own errors (longjmp, which Swift frames cannot survive) inside
/// C and answers them as a failed call with a message, so every failure here is a thrown error.
enum PNGEncoder {
    /// libpng's default user limit on either side, in pixels.
    static let maximumSide = 1_000_000
    /// Refuse images whose pixels alone would take more than this.
    static let maximumPixelBytes = 256 << 20

    static func encode(_ bitmap: Bitmap) throws -> [UInt8] {
        let channels = bitmap.format.channels
        guard bitmap.width > 0, bitmap.height > 0, bitmap.width <= maximumSide, bitmap.height <= maximumSide else {
            throw VoucherImageError("PNG size \(bitmap.width)×\(bitmap.height) is out of range")
        }
        let (rowBytes, overflow) = bitmap.width.multipliedReportingOverflow(by: channels)
        guard !overflow, rowBytes.multipliedReportingOverflow(by: bitmap.height).partialValue <= maximumPixelBytes,
            bitmap.pixels.count == rowBytes * bitmap.height
        else {
            throw VoucherImageError("PNG pixel buffer does not match \(bitmap.width)×\(bitmap.height)×\(channels)")
        }

        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(bitmap.width)
        image.height = UInt32(bitmap.height)
        image.format = bitmap.format.pngFormat
        defer { png_image_free(&image) }
        func failure(_ what: String) -> VoucherImageError {
            let message = withUnsafeBytes(of: image.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            return VoucherImageError("libpng could not \(what): \(message.isEmpty ? "unknown error" : message)")
        }
        return try bitmap.pixels.withUnsafeBufferPointer { pixels in
            // first the size the PNG needs, then the PNG itself into a buffer of that size
            var size = 0
            guard png_image_write_to_memory(&image, nil, &size, 0, pixels.baseAddress, Int32(rowBytes), nil) != 0 else {
                throw failure("size the image")
            }
            var bytes = [UInt8](repeating: 0, count: size)
            let written = bytes.withUnsafeMutableBytes { buffer in
                png_image_write_to_memory(&image, buffer.baseAddress, &size, 0, pixels.baseAddress, Int32(rowBytes), nil)
            }
            guard written != 0 else { throw failure("write the image") }
            return Array(bytes.prefix(size))
        }
    }
}

extension Bitmap.Format {
    var pngFormat: UInt32 {
        switch self {
        case .gray: UInt32(PNG_FORMAT_GRAY)
        case .rgb: UInt32(PNG_FORMAT_RGB)
        }
    }
}
