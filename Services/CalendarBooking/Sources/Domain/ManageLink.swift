import Foundation
import Models
import ServiceKit

/// The link a reminder carries so its customer can confirm, cancel or move the appointment without an account:
/// `<appointment id>.<expiry, unix seconds>.<HMAC-SHA256 of both>` under a key only calendar-booking holds. Whoever
/// holds the link may act on that one appointment until it expires (at the appointment's start); a changed byte,
/// another appointment's id or a later expiry does not verify (403), an expired link is 410.
struct ManageLink: Sendable {
    let signer: SignedURLs

    init(secret: String) {
        self.signer = SignedURLs(secret: "calendar-manage:" + secret)
    }

    func token(_ appointment: AppointmentID, expires: Date) -> String {
        let seconds = Int(expires.timeIntervalSince1970.rounded(.down))
        return "\(appointment).\(seconds).\(self.signer.signature(path: Self.path(appointment), expires: seconds))"
    }

    /// The appointment a token names, when it verifies and has not expired.
    func verify(_ token: String, now: Date = Date()) throws -> AppointmentID {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard token.count <= 200, parts.count == 3, let appointment = AppointmentID(parts[0]) else {
            throw APIError.forbidden("invalid_signature", "This link is not valid.")
        }
        try self.signer.verify(path: Self.path(appointment), expires: parts[1], signature: parts[2], now: now)
        return appointment
    }

    static func path(_ appointment: AppointmentID) -> String { "appointments/\(appointment)" }
}
