import CQRencode
import Glibc

/// A QR symbol as a square of modules, copied out of libqrencode so no C memory outlives `encode`.
struct QRCode {
    /// Modules per side, without the quiet zone.
    let width: Int
    /// Row-major, `true` = dark.
    let modules: [Bool]

    /// The quiet zone the QR specification asks for, in modules, on every side.
    static let quietZone = 4

    /// Largest 8-bit payload at error-correction level M (version 40).
    static let maximumBytes = 2331

    /// Encodes `payload` in 8-bit mode at level M.
    static func encode(_ payload: String) throws -> QRCode {
        let bytes = payload.utf8.count
        guard bytes > 0 else { throw VoucherImageError("QR payload is empty") }
        // QRcode_encodeString reads a C string, so a NUL would silently cut the payload short.
        guard !payload.utf8.contains(0) else { throw VoucherImageError("QR payload contains a NUL byte") }
        guard bytes <= maximumBytes else {
            throw VoucherImageError("QR payload is \(bytes) bytes; at most \(maximumBytes) fit at level M")
        }
        guard let symbol = QRcode_encodeString(payload, 0, QR_ECLEVEL_M, QR_MODE_8, 1) else {
            let reason = errno == ERANGE ? "payload too long" : "error \(errno)"
            throw VoucherImageError("libqrencode could not encode a \(bytes)-byte payload: \(reason)")
        }
        defer { QRcode_free(symbol) }
        let width = Int(symbol.pointee.width)
        guard width > 0, let data = symbol.pointee.data else {
            throw VoucherImageError("libqrencode returned an empty symbol")
        }
        let modules = UnsafeBufferPointer(start: data, count: width * width).map { $0 & 1 == 1 }
        return QRCode(width: width, modules: modules)
    }

    func isDark(x: Int, y: Int) -> Bool {
        modules[y * width + x]
    }
}
