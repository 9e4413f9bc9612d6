import Foundation
import Logging
import Synchronization

/// M-Pesa with nothing outside: what the platform uses when no Daraja credentials are configured (`./Deploy/local`).
/// A push is accepted at once with `ws_CO_SANDBOX_…` ids and no phone rings; how it ends is set through the API
/// (`POST /v1/subscriptions/payments/{id}/simulate`), after which a query answers that result. Payments made here are
/// marked sandbox. Its memory is this process's: a prompt it forgot (a restart) answers 1037, as an expired one does.
final class MpesaSandbox: MpesaExpress {
    struct Checkout: Sendable {
        var amount: Int64
        var phone: String
        var result: (code: Int, description: String)?
    }

    let checkouts = Mutex<[String: Checkout]>([:])

    var sandbox: MpesaSandbox? { self }

    func push(_ request: STKPushRequest, logger: Logger) async throws -> STKPushAccepted {
        let id = UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(20)
        let checkout = "ws_CO_SANDBOX_\(id)"
        self.checkouts.withLock { $0[checkout] = Checkout(amount: request.amount, phone: request.phone) }
        return STKPushAccepted(
            merchantRequestID: "SANDBOX-\(id.prefix(8))", checkoutRequestID: checkout, responseDescription: "Success. Request accepted for processing",
            customerMessage: "Sandbox: no phone rings; settle this payment through the API.")
    }

    func query(checkoutRequestID: String, logger: Logger) async throws -> STKQueryOutcome {
        guard let checkout = self.checkouts.withLock({ $0[checkoutRequestID] }) else {
            return .result(code: 1037, description: "DS timeout user cannot be reached")
        }
        guard let result = checkout.result else { return .processing }
        return .result(code: result.code, description: result.description)
    }

    /// Ends a sandbox checkout as the phone would have: answers the callback Daraja would send (with a `SBX…`
    /// receipt on success), or nil for a checkout this sandbox does not know.
    func settle(checkoutRequestID: String, resultCode: Int) -> STKCallback? {
        let description = Self.descriptions[resultCode] ?? "Sandbox result \(resultCode)"
        guard
            let checkout = self.checkouts.withLock({ checkouts -> Checkout? in
                checkouts[checkoutRequestID]?.result = (resultCode, description)
                return checkouts[checkoutRequestID]
            })
        else { return nil }
        var callback = STKCallback(
            merchantRequestID: "SANDBOX", checkoutRequestID: checkoutRequestID, resultCode: resultCode, resultDescription: description)
        if resultCode == 0 {
            callback.amount = Double(checkout.amount)
            callback.receiptNumber = "SBX" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(7).uppercased()
            callback.transactionDate = Mpesa.timestamp(Date())
            callback.phoneNumber = checkout.phone
        }
        return callback
    }

    /// Daraja's wording of the common results.
    static let descriptions: [Int: String] = [
        0: "The service request is processed successfully.", 1: "The balance is insufficient for the transaction.",
        1032: "Request cancelled by user", 1037: "DS timeout user cannot be reached", 2001: "The initiator information is invalid.",
    ]
}
