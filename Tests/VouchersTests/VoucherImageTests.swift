import Foundation
import TestSupport
import Testing
import Vouchers

@Suite struct VoucherImageTests {
    /// A realistic voucher payload: prefix, five-character code, 43-character base64url signature.
    static let payload = "SOKONI1:K7M3Q:09g3Ni-LwPf1Uhyb8B50JqDfR8rB_vGf-VlJcvGr9m4"

    @Test func qrPNGDecodesToThePayload() throws {
        let png = try VoucherImages.qrPNG(payload: Self.payload)
        #expect(Array(png.prefix(8)) == Self.pngSignature)
        #expect(try Self.zbarDecode(png) == Self.payload)
    }

    @Test func smallScaleQRStillDecodes() throws {
        let png = try VoucherImages.qrPNG(payload: Self.payload, scale: 3)
        #expect(try Self.zbarDecode(png) == Self.payload)
    }

    @Test func cardIsASquarePNGWhoseQRDecodes() throws {
        let png = try VoucherImages.cardPNG(
            payload: Self.payload, title: "Sokoni Voucher", amount: "RWF 5,000", code: "K7M3Q", expiresOn: "2026-12-31"
        )
        #expect(Array(png.prefix(8)) == Self.pngSignature)
        #expect(Self.size(of: png) == [1080, 1080])
        #expect(try Self.zbarDecode(png) == Self.payload)
    }

    @Test func cardWithoutExpiryAndOddTextStillRenders() throws {
        let png = try VoucherImages.cardPNG(
            payload: Self.payload, title: String(repeating: "Duka la Mama Ngozi — ß ", count: 10),
            amount: "rwf 12,500.50", code: "k7m3q", expiresOn: nil
        )
        #expect(Self.size(of: png) == [1080, 1080])
        #expect(try Self.zbarDecode(png) == Self.payload)
    }

    /// Named cases so the test log shows "tooLong" rather than 8,000 characters.
    enum BadPayload: CaseIterable {
        case empty, tooLong, containsNUL

        var payload: String {
            switch self {
            case .empty: ""
            case .tooLong: String(repeating: "A", count: 8_000)
            case .containsNUL: "SOKONI1:\u{0}K7M3Q"
            }
        }
    }

    @Test(arguments: BadPayload.allCases)
    func badPayloadThrows(_ bad: BadPayload) {
        #expect(throws: VoucherImageError.self) { try VoucherImages.qrPNG(payload: bad.payload) }
        #expect(throws: VoucherImageError.self) {
            try VoucherImages.cardPNG(payload: bad.payload, title: "T", amount: "A", code: "C", expiresOn: nil)
        }
    }

    @Test(arguments: [0, -1, 1_000])
    func badScaleThrows(scale: Int) {
        #expect(throws: VoucherImageError.self) { try VoucherImages.qrPNG(payload: Self.payload, scale: scale) }
    }

    // MARK: - Helpers

    static let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// Width and height from the IHDR chunk, which always comes first: bytes 16..<20 and 20..<24, big-endian.
    static func size(of png: [UInt8]) -> [Int]? {
        guard png.count >= 24, Array(png[12..<16]) == Array("IHDR".utf8) else { return nil }
        func bigEndian(_ range: Range<Int>) -> Int { png[range].reduce(0) { $0 << 8 | Int($1) } }
        return [bigEndian(16..<20), bigEndian(20..<24)]
    }

    /// Reads the image back with zbar, the real decoder, so the test does not trust our own encoder.
    static func zbarDecode(_ png: [UInt8]) throws -> String {
        let path = NSTemporaryDirectory() + "sokoni-voucher-\(UUID().uuidString).png"
        try Data(png).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        // --nodbus: zbar otherwise tries the system bus and prints connection errors into the (merged) output.
        let output = try Shell.run("/usr/bin/zbarimg", ["-q", "--raw", "--nodbus", path])
        return output.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
