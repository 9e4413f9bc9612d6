import Contracts
import Models
import ServiceKit

/// One prefix of the public API and the service behind it, with the roles the gateway lets through per method
/// (GET/HEAD read, anything else writes). Each service checks again for its own resources.
struct GatewayRoute: Sendable {
    var prefix: String
    var service: ServiceName
    /// Public routes pass without a token; the service verifies them (provider webhook signatures).
    var isPublic = false
    var read: Set<Role> = []
    var write: Set<Role> = []

    func allows(_ roles: Set<Role>, method: String) -> Bool {
        !roles.isDisjoint(with: method == "GET" || method == "HEAD" ? self.read : self.write)
    }
}

/// The whole routing table of the gateway, in one place.
enum RouteTable {
    static let everyone = Set(Role.allCases).subtracting([.service])

    /// The prefixes of services that declare their endpoints in `Shared/Contracts`: per prefix, reads let through
    /// the roles of any read endpoint under it, writes those of any write endpoint, so the gateway never refuses what
    /// the service allows nor lets through a role no endpoint there accepts.
    static func derived(from endpoints: [Endpoint]) -> [GatewayRoute] {
        var order: [String] = []
        var routes: [String: GatewayRoute] = [:]
        for endpoint in endpoints {
            var route =
                routes[endpoint.prefix]
                ?? {
                    order.append(endpoint.prefix)
                    return GatewayRoute(prefix: endpoint.prefix, service: endpoint.service, isPublic: true)
                }()
            if case .roles(let roles) = endpoint.access {
                route.isPublic = false
                if endpoint.isRead { route.read.formUnion(roles) } else { route.write.formUnion(roles) }
            }
            routes[endpoint.prefix] = route
        }
        return order.map { routes[$0]! }
    }

    /// Endpoints declared in `Shared/Contracts`, by service.
    static let declared: [Endpoint] =
        VouchersAPI.all + MessagingAPI.all + AgentAPI.all + WalletAPI.all + WalletInsuranceAPI.all + WalletBillingAPI.all
        + CalendarAPI.all + CRMAPI.all

    /// Each service's whoami and audit whose prefix a declared endpoint also has (`/v1/messaging/settings`): that
    /// derived prefix shadows the catch-all for the service's extras, so they join its roles.
    static let serviceExtrasUnderDeclaredPrefixes: [Endpoint] = {
        let prefixes = Set(declared.map(\.prefix))
        return ServiceName.allCases.filter { $0 != .gateway }.flatMap(ServiceAPI.all).filter { prefixes.contains($0.prefix) }
    }()

    /// Every endpoint with its roles, the gateway's own included: what `GET /v1/auth/me` says a caller may call.
    static let allEndpoints: [Endpoint] = GatewayAPI.own + declared + MessagingAPI.sockets + ServiceName.allCases.flatMap(ServiceAPI.all)

    static let routes: [GatewayRoute] =
        derived(from: declared + serviceExtrasUnderDeclaredPrefixes) + [
            // provider webhooks: public, messaging verifies the signatures
            GatewayRoute(prefix: "/webhooks", service: .messaging, isPublic: true)
        ]
        // each service's own extras under /v1/<service>/…: any signed-in user; the service decides
        + ServiceName.allCases.filter { $0 != .gateway }.map {
            GatewayRoute(prefix: "/v1/\($0.rawValue)", service: $0, read: everyone, write: everyone)
        }

    /// Declared public endpoints (signed links, secret feed URLs) under prefixes whose other endpoints need a token.
    static let publicUnderPrivatePrefixes: [Endpoint] = {
        let publicPrefixes = Set(routes.filter(\.isPublic).map(\.prefix))
        return declared.filter { $0.isPublic && !publicPrefixes.contains($0.prefix) }
    }()

    /// A public endpoint's own path first (its service checks what the link carries), else the longest prefix that
    /// matches whole path segments.
    static func match(_ path: String) -> GatewayRoute? {
        if let endpoint = self.publicUnderPrivatePrefixes.first(where: { $0.matches(path: path) }) {
            return GatewayRoute(prefix: endpoint.path, service: endpoint.service, isPublic: true)
        }
        return self.routes.filter { path == $0.prefix || path.hasPrefix($0.prefix + "/") }.max { $0.prefix.count < $1.prefix.count }
    }
}
