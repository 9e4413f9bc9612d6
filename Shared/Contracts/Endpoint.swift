import Models

/// One operation of a service's public API: its method, its path as the router writes it (`/v1/stations/{id}`),
/// and who may call it. The owning service registers its route from this declaration and the gateway derives its
/// route table from the same declarations, so the two cannot disagree.
public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
    public enum Access: Sendable, Hashable {
        /// No token needed; the service checks something else (a signed link, a provider signature).
        case `public`
        /// A verified caller holding one of the roles.
        case roles(Set<Role>)
    }

    public let method: String
    public let path: String
    public let access: Access
    /// The service that answers it.
    public let service: ServiceName
    /// A body limit above the service's `HTTP_MAX_BODY_SIZE` for this endpoint alone (uploads); nil: the service's.
    /// The gateway and the service both apply it, so an upload is not refused on the way.
    public private(set) var maxBodySize: Int?

    public init(_ method: String, _ path: String, _ access: Access, service: ServiceName) {
        self.method = method
        self.path = path
        self.access = access
        self.service = service
    }

    /// The same endpoint taking bodies of up to `bytes`.
    public func allowingBodies(upTo bytes: Int) -> Endpoint {
        var endpoint = self
        endpoint.maxBodySize = bytes
        return endpoint
    }

    /// Whether a request's method and path are this endpoint's (`{name}` matches one non-empty segment,
    /// `{name}.ics` one that ends in `.ics` after something).
    public func matches(method: String, path: String) -> Bool {
        method == self.method && self.matches(path: path)
    }

    /// Whether a path is this endpoint's, whatever the method.
    public func matches(path: String) -> Bool {
        let template = self.path.split(separator: "/", omittingEmptySubsequences: false)
        let given = path.split(separator: "/", omittingEmptySubsequences: false)
        guard template.count == given.count else { return false }
        return zip(template, given).allSatisfy { pattern, segment in
            guard pattern.hasPrefix("{"), let close = pattern.firstIndex(of: "}") else { return pattern == segment }
            let suffix = pattern[pattern.index(after: close)...]
            return segment.count > suffix.count && segment.hasSuffix(suffix)
        }
    }

    /// The body allowance of the endpoint among `endpoints` that a request is for, if that endpoint declares one.
    public static func bodyAllowance(in endpoints: [Endpoint], method: String, path: String) -> Int? {
        endpoints.first { $0.maxBodySize != nil && $0.matches(method: method, path: path) }?.maxBodySize
    }

    /// Whether a caller with `roles` may call it (anyone may call a public endpoint).
    public func allows(_ roles: Set<Role>) -> Bool {
        switch self.access {
        case .public: true
        case .roles(let allowed): !allowed.isDisjoint(with: roles)
        }
    }

    public var isPublic: Bool { self.access == .public }

    /// Reads are GET and HEAD; everything else writes.
    public var isRead: Bool { self.method == "GET" || self.method == "HEAD" }

    /// The first two path segments (`/v1/stations`): the prefix the gateway routes on.
    public var prefix: String {
        "/" + self.path.split(separator: "/").prefix(2).joined(separator: "/")
    }

    public var description: String { "\(self.method) \(self.path)" }
}

/// Who is who, in the sets the endpoint declarations use.
public enum Roles {
    /// Platform staff who manage a tenant's resources, and the tenant's own admin.
    public static let managers: Set<Role> = [.superAdmin, .support, .dataOps, .tenantAdmin]
    /// Managers and the read-only staff.
    public static let readers: Set<Role> = managers.union([.readonly])
    /// Anyone with a token: every role a person or another service can hold.
    public static let signedIn: Set<Role> = Set(Role.allCases)
}
