import Foundation
import Models

/// marketplace-wallet's billing API: the tenant's subscription (plans `lite`, `pro`, `enterprise`) paid by M-Pesa
/// Express (Daraja STK push), and Daraja's callback. Starting a payment moves money, so only the tenant's admins
/// and platform super admins may; whoever reads the tenant's books reads its subscription.
public enum WalletBillingAPI {
    static func endpoint(_ method: String, _ path: String, _ access: Endpoint.Access) -> Endpoint {
        Endpoint(method, path, access, service: .marketplaceWallet)
    }

    /// Who pays for the tenant's plan.
    static let payers: Set<Role> = [.superAdmin, .tenantAdmin]
    static let readers = Roles.readers.union([.service])

    /// The tenant's subscription and its payments, newest first.
    public static let getSubscription = endpoint("GET", "/v1/subscriptions", .roles(readers))
    /// `{plan, phone}`: an STK push to the phone for the plan's price (`Idempotency-Key` honoured). The subscription
    /// activates only when the payment is confirmed by an STK query.
    public static let startSubscription = endpoint("POST", "/v1/subscriptions", .roles(payers))
    /// How the tenant can pay: M-Pesa (KES) and, for tenants billed in EUR (Malta), the Revolut payment link.
    public static let paymentOptions = endpoint("GET", "/v1/subscriptions/payment-options", .roles(readers))
    /// Asks Daraja now how a pending payment ended (STK query) and settles it when it has.
    public static let queryPayment = endpoint("POST", "/v1/subscriptions/payments/{id}/query", .roles(payers))
    /// Sandbox only (no Daraja credentials configured): ends a payment as a phone would, with the callback.
    public static let simulatePayment = endpoint("POST", "/v1/subscriptions/payments/{id}/simulate", .roles(payers))
    /// Daraja's STK callback. Public: Daraja signs nothing, so only the secret path is accepted, and what a callback
    /// claims is confirmed by an STK query before anything is activated.
    public static let mpesaCallback = endpoint("POST", "/webhooks/mpesa/{secret}", .public)

    public static let all: [Endpoint] = [getSubscription, startSubscription, paymentOptions, queryPayment, simulatePayment, mpesaCallback]
}
