import Models

/// The caller of a request, after the token was verified.
public struct Identity: Sendable, Equatable {
    /// The token subject: a user id, `apikey:<id>` or `service:<name>`.
    public var subject: String
    /// The tenant this request acts on: the token's own tenant, or for platform staff and services the one
    /// named in `X-Tenant-ID`. Never taken from a body or query.
    public var tenantID: TenantID?
    /// The tenant written in the token (nil for platform staff and services).
    public var tokenTenantID: TenantID?
    public var roles: Set<Role>
    public var stationID: StationID?
    /// The bearer token as received, forwarded on calls made on the caller's behalf.
    public var token: String

    public init(subject: String, tenantID: TenantID?, tokenTenantID: TenantID?, roles: Set<Role>, stationID: StationID?, token: String) {
        self.subject = subject
        self.tenantID = tenantID
        self.tokenTenantID = tokenTenantID
        self.roles = roles
        self.stationID = stationID
        self.token = token
    }

    public func has(anyOf roles: Set<Role>) -> Bool {
        !self.roles.isDisjoint(with: roles)
    }

    public var isPlatformStaff: Bool { self.tokenTenantID == nil && self.roles.contains(where: \.isPlatformStaff) }
    public var isService: Bool { self.roles.contains(.service) }

    /// The tenant to act on, or 400 when a platform caller named none.
    public func requireTenant() throws -> TenantID {
        guard let tenant = self.tenantID else {
            throw APIError.badRequest("tenant_required", "Name the tenant to act on in the X-Tenant-ID header.")
        }
        return tenant
    }

    /// Whether the caller is a station operator. Such a caller sees and does only what concerns their own station,
    /// whatever other roles the token also carries: the narrower permission wins (the gateway refuses to grant
    /// `station_operator` beside other roles, but a service never relies on that alone).
    public var isStationOperator: Bool { self.roles.contains(.stationOperator) }

    /// The station a station operator is bound to, or 403 `no_station`.
    public func requireOperatorStation() throws -> StationID {
        guard let station = self.stationID else {
            throw APIError.forbidden("no_station", "Your account is not bound to a station.")
        }
        return station
    }

    /// This identity as `GET /v1/<service>/whoami` answers it.
    public func callerIdentity(service: String) -> CallerIdentity {
        CallerIdentity(
            subject: self.subject, tenantId: self.tenantID?.description, tokenTenantId: self.tokenTenantID?.description,
            roles: self.roles.sorted { $0.rawValue < $1.rawValue }, stationId: self.stationID?.description, service: service)
    }
}
