/// Who is calling, as a service sees it after verifying the token (`GET /v1/<service>/whoami`).
public struct CallerIdentity: Codable, Sendable, Equatable {
    /// The token subject: a user id, `apikey:<id>` or `service:<name>`.
    public var subject: String
    /// The tenant the request acts on: the token's tenant, or for platform staff the one named in `X-Tenant-ID`.
    public var tenantId: String?
    /// The tenant written in the token itself (absent for platform staff and services).
    public var tokenTenantId: String?
    public var roles: [Role]
    public var stationId: String?
    /// The service that answered.
    public var service: String

    public init(
        subject: String, tenantId: String?, tokenTenantId: String?, roles: [Role], stationId: String?, service: String
    ) {
        self.subject = subject
        self.tenantId = tenantId
        self.tokenTenantId = tokenTenantId
        self.roles = roles
        self.stationId = stationId
        self.service = service
    }
}
