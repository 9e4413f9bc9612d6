import CPNG

/// Writes 8-bit grayscale or RGB pixels as a PNG in memory with libpng.
///
/// libpng reports errors by longjmp, which Swift frames cannot survive, and setjmp cannot be called from Swift.
/// So every input is checked here first: with valid dimensions and a write callback that cannot fail, libpng's
/// only remaining error is running out of memory, which the error callback turns into a clear trap.
enum PNGEncoder {
    /// libpng's default user limit on either side, in pixels.
    static let maximumSide = 1_000_000
    /// Refuse images whose pixels alone would take more than this.
    static let maximumPixelBytes = 256 << 20

    static func encode(_ image: Bitmap) throws -> [UInt8] {
        let channels = image.format.channels
        guard image.width > 0, image.height > 0, image.width <= maximumSide, image.height <= maximumSide else {
            throw VoucherImageError("PNG size \(image.width)×\(image.height) is out of range")
        }
        let (rowBytes, overflow) = image.width.multipliedReportingOverflow(by: channels)
        guard !overflow, rowBytes.multipliedReportingOverflow(by: image.height).partialValue <= maximumPixelBytes,
              image.pixels.count == rowBytes * image.height
        else {
            throw VoucherImageError("PNG pixel buffer does not match \(image.width)×\(image.height)×\(channels)")
        }

        var png = png_create_write_struct(png_get_libpng_ver(nil), nil, { _, message in
            fatalError("libpng: \(message.map { String(cString: $0) } ?? "unknown error")")
        }, { _, _ in
            // Warnings would otherwise go to stderr; none matter for a freshly written image.
        })
        guard png != nil else { throw VoucherImageError("libpng could not allocate a write struct") }
        var info = png_create_info_struct(png)
        defer { png_destroy_write_struct(&png, &info) }
        guard info != nil else { throw VoucherImageError("libpng could not allocate an info struct") }

        let sink = PNGSink()
        // A rough guess that avoids most regrowth; PNGs of flat artwork compress far below this.
        sink.bytes.reserveCapacity(min(rowBytes * image.height / 8 + 1024, 1 << 20))
        withExtendedLifetime(sink) {
            png_set_write_fn(png, Unmanaged.passUnretained(sink).toOpaque(), { png, data, length in
                guard let context = png_get_io_ptr(png), let data else { return }
                let sink = Unmanaged<PNGSink>.fromOpaque(context).takeUnretainedValue()
                sink.bytes.append(contentsOf: UnsafeBufferPointer(start: data, count: length))
            }, { _ in
                // Nothing to flush in memory; passing nil would make libpng fflush the context as a FILE*.
            })
            png_set_IHDR(
                png, info, UInt32(image.width), UInt32(image.height), 8, image.format.pngColorType,
                PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_BASE, PNG_FILTER_TYPE_BASE
            )
            png_write_info(png, info)
            image.pixels.withUnsafeBufferPointer { pixels in
                for row in 0..<image.height {
                    png_write_row(png, pixels.baseAddress! + row * rowBytes)
                }
            }
            png_write_end(png, info)
        }
        return sink.bytes
    }
}

/// The buffer libpng's write callback appends to, reached through the io pointer.
private final class PNGSink {
    var bytes: [UInt8] = []
}

extension Bitmap.Format {
    var pngColorType: Int32 {
        switch self {
        case .gray: PNG_COLOR_TYPE_GRAY
        case .rgb: PNG_COLOR_MASK_COLOR
        }
    }
}
