import Contracts
import Foundation
import Logging
import Models
import ServiceClient
import ServiceKit

/// The usage credit a reply spends, kept by marketplace-wallet: reserved before a model is called (once per inbound
/// message, so a retried job is charged once), settled when the model was asked, released when it was not. A
/// tenant out of credits gets the offline responder; the wallet raises the alert.
///
/// When the wallet cannot be reached the reply goes ahead unmetered (logged, and counted in
/// `agent_credit_checks_unavailable_total`): a customer waiting on WhatsApp should not lose the AI to another
/// service's outage; a reservation the wallet never settles is released by its own sweeper.
struct UsageCredits: Sendable {
    let wallet: @Sendable () -> WalletClient
    let callContext: @Sendable (TenantID, String?) async throws -> CallContext
    let metrics: ServiceMetrics?

    enum Decision: Sendable, Equatable {
        /// Reserved under this reference: settle or release it after the reply.
        case reserved(String)
        /// None left: the offline responder answers.
        case exhausted
        /// The wallet did not answer: the reply goes ahead unmetered.
        case unavailable
    }

    /// The wallet's reference for a reply key: the key itself when it is a plain one, else its hash.
    static func reference(_ key: String) -> String {
        let plain = (1...255).contains(key.count) && key.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7F && $0 != "/" }
        return plain ? key : "sha256:" + sha256Hex(Data(key.utf8))
    }

    func reserve(tenant: TenantID, key: String, requestID: String?, logger: Logger) async -> Decision {
        let reference = Self.reference(key)
        do {
            let context = try await self.callContext(tenant, requestID)
            _ = try await self.wallet().reserveCredits(.init(reference: reference), context: context)
            return .reserved(reference)
        } catch ServiceClientError.api(409, let code, _) where code == "credits_exhausted" {
            logger.notice("out of usage credits: the offline responder answers", metadata: ["tenant": "\(tenant)"])
            return .exhausted
        } catch is CancellationError {
            return .unavailable
        } catch {
            logger.warning("usage credits could not be checked: the reply goes ahead unmetered", metadata: ["error": "\(error)"])
            self.metrics?.registry.makeCounter(name: "agent_credit_checks_unavailable_total").increment()
            return .unavailable
        }
    }

    /// Settles (`used`) or releases a reservation; a failure is logged (the wallet's sweeper releases it in time).
    func finish(_ decision: Decision, used: Bool, tenant: TenantID, requestID: String?, logger: Logger) async {
        guard case .reserved(let reference) = decision else { return }
        do {
            let context = try await self.callContext(tenant, requestID)
            let wallet = self.wallet()
            _ = try await used ? wallet.settleCredits(reference: reference, context: context) : wallet.releaseCredits(reference: reference, context: context)
        } catch {
            logger.warning("usage credit not \(used ? "settled" : "released")", metadata: ["error": "\(error)", "credit.reference": "\(reference)"])
        }
    }
}
