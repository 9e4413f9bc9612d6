/// Why a voucher image could not be made: bad input (empty or oversized payload, impossible size) or a library failure.
public struct VoucherImageError: Error, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
