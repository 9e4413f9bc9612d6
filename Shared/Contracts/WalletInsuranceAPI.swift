import Models

/// marketplace-wallet's insurance quotes (seed 000 `insurance_quotes`): a customer's request for cover with their
/// documents, reviewed by the tenant's admins or platform support. Agents open quotes and upload documents for their
/// customers; everyone who reads the tenant's books reads them.
public enum WalletInsuranceAPI {
    static func endpoint(_ method: String, _ path: String, _ access: Endpoint.Access) -> Endpoint {
        Endpoint(method, path, access, service: .marketplaceWallet)
    }

    /// Who decides: platform admins and support, and the tenant's admins.
    public static let reviewers: Set<Role> = [.superAdmin, .support, .tenantAdmin]
    /// Who opens quotes, uploads documents and resubmits: the reviewers, the tenant's agents, and other services
    /// (agent-core's tools, for a customer in a conversation).
    public static let writers: Set<Role> = reviewers.union([.agent, .service])
    /// Who reads quotes and their documents.
    public static let readers: Set<Role> = Roles.readers.union([.agent, .service])

    /// The largest document accepted: 10 MiB (the service's and the gateway's body limit for the upload alone).
    public static let maxDocumentSize = 10 << 20

    /// A new quote, `pending`.
    public static let create = endpoint("POST", "/v1/insurance-quotes", .roles(writers))
    /// The review queue: `?status=` (pending unless told), oldest first, paged.
    public static let list = endpoint("GET", "/v1/insurance-quotes", .roles(readers))
    /// A quote with its documents, each with a signed, expiring download link.
    public static let get = endpoint("GET", "/v1/insurance-quotes/{id}", .roles(readers))
    /// A document as the raw body (PDF, PNG, JPEG or WebP, by its bytes) with `?filename=`.
    public static let uploadDocument = endpoint("POST", "/v1/insurance-quotes/{id}/documents", .roles(writers))
        .allowingBodies(upTo: maxDocumentSize)
    /// A document's bytes, for a signed-in reader.
    public static let downloadDocument = endpoint("GET", "/v1/insurance-quotes/{id}/documents/{docId}", .roles(readers))
    /// A document's bytes by a signed link (`?expires=&sig=`): public, the signature is the permission.
    public static let signedDocument = endpoint("GET", "/v1/insurance-documents/{tenantId}/{docId}", .public)
    /// `pending → approved` or `pending → needs_changes` (with a comment); the customer is told through messaging.
    public static let review = endpoint("POST", "/v1/insurance-quotes/{id}/review", .roles(reviewers))
    /// `needs_changes → pending`, after new documents were uploaded.
    public static let resubmit = endpoint("POST", "/v1/insurance-quotes/{id}/resubmit", .roles(writers))

    public static let all: [Endpoint] = [create, list, get, uploadDocument, downloadDocument, signedDocument, review, resubmit]
}
