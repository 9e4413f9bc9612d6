import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Models
import NIOCore
import ServiceKit
import TestSupport
import Testing

/// How the gateway serves the web apps (in-process: no socket needed) and how a web client's session works.
@Suite struct WebAppTests {
    /// A small web root of its own, so the test does not depend on the apps' contents.
    static func webRoot() throws -> URL {
        let root = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("sokoni-web-\(UUID().uuidString)")
        let files = [
            "index.html": "<!doctype html><a href=\"/admin/\">admin</a>",
            "admin/index.html":
                "<!doctype html><script type=\"module\" src=\"/assets/admin/app.js\"></script><link rel=\"stylesheet\" href=\"/assets/admin/a.css\">",
            "admin/app.js": "import './views/x.js';",
            "admin/a.css": "body{}",
            "admin/views/x.js": "export const x = 1;",
            "admin/.secret.js": "hidden",
            "admin/notes.md": "not served",
            "station/index.html": "<!doctype html><link rel=\"manifest\" href=\"/station/manifest.webmanifest\">",
            "station/sw.js": "self.addEventListener('fetch', () => {});",
            "station/manifest.webmanifest": #"{"icons":[{"src":"/assets/station/icon.png"}]}"#,
            "station/icon.png": "\u{89}PNG",
        ]
        for (path, text) in files {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
        return root
    }

    @Test func appsAreServedWithSecurityHeadersAndVersionedAssets() async throws {
        let root = try Self.webRoot()
        try await TestServices.router(GatewayService.self, overrides: ["GATEWAY_WEB_DIRECTORY": root.path]) { client, _ in
            let page = try await client.execute(uri: "/admin/", method: .get)
            #expect(page.status == .ok)
            #expect(page.headers[.contentType] == "text/html; charset=utf-8")
            #expect(page.headers[.cacheControl] == "no-cache")
            let csp = try #require(page.headers[.contentSecurityPolicy])
            #expect(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"))
            // a voice provider's recordings play (media over https), nothing else comes from elsewhere
            #expect(csp.contains("media-src 'self' blob: https:;") && csp.contains("connect-src 'self';"))
            #expect(page.headers[.xContentTypeOptions] == "nosniff")
            #expect(page.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer")
            #expect(page.headers[HTTPField.Name("Permissions-Policy")!]?.contains("camera=(self)") == true)
            // the HTML's asset links carry the version of the whole tree
            let html = String(buffer: page.body)
            let version = try #require(html.firstMatch(of: /\/assets\/([0-9a-f]{12})\/admin\/app\.js/)?.1)
            #expect(html.contains("/assets/\(version)/admin/a.css"))
            let script = try await client.execute(uri: "/assets/\(version)/admin/app.js", method: .get)
            #expect(script.status == .ok)
            #expect(script.headers[.contentType] == "text/javascript; charset=utf-8")
            #expect(script.headers[.cacheControl] == "public, max-age=31536000, immutable")
            // a module imported relatively inherits the version
            #expect(try await client.execute(uri: "/assets/\(version)/admin/views/x.js", method: .get).status == .ok)
            // unversioned, or from an older deployment's page: the current file, not cached for long
            let plain = try await client.execute(uri: "/assets/admin/app.js", method: .get)
            #expect(plain.status == .ok && plain.headers[.cacheControl] == "no-cache")
            let stale = try await client.execute(uri: "/assets/0123456789ab/admin/app.js", method: .get)
            #expect(stale.status == .ok && stale.headers[.cacheControl] == "no-cache")
            // revalidation by ETag
            let etag = try #require(plain.headers[.eTag])
            #expect(try await client.execute(uri: "/assets/admin/app.js", method: .get, headers: [.ifNoneMatch: etag]).status == .notModified)
            // the slash form is the app's address
            let bare = try await client.execute(uri: "/admin", method: .get)
            #expect(bare.status == .permanentRedirect && bare.headers[.location] == "/admin/")
            // the service worker may control /station/; the manifest's icon links are versioned too
            let worker = try await client.execute(uri: "/station/sw.js", method: .get)
            #expect(worker.status == .ok && worker.headers[HTTPField.Name("Service-Worker-Allowed")!] == "/station/")
            let manifest = try await client.execute(uri: "/station/manifest.webmanifest", method: .get)
            #expect(manifest.headers[.contentType] == "application/manifest+json")
            #expect(String(buffer: manifest.body).contains("/assets/\(version)/station/icon.png"))
            // nothing outside the tree, no hidden files, no unknown types
            for path in [
                "/assets/../Package.swift", "/assets/%2e%2e/Package.swift", "/assets/admin/.secret.js", "/assets/admin/notes.md", "/assets/admin/none.js",
            ] {
                let refused = try await client.execute(uri: path, method: .get)
                #expect(refused.status == .notFound, "\(path)")
                #expect(refused.headers[.contentType]?.hasPrefix("application/json") == true)
            }
        }
    }

    @Test func aChangedFileChangesTheVersionOnlyWhenReloading() async throws {
        let root = try Self.webRoot()
        for reload in [false, true] {
            try await TestServices.router(
                GatewayService.self, overrides: ["GATEWAY_WEB_DIRECTORY": root.path, "GATEWAY_WEB_RELOAD": String(reload)]
            ) { client, _ in
                let before = String(buffer: try await client.execute(uri: "/admin/", method: .get).body)
                try Data("export const x = \"\(UUID().uuidString)\";".utf8).write(to: root.appendingPathComponent("admin/views/x.js"))
                let after = String(buffer: try await client.execute(uri: "/admin/", method: .get).body)
                #expect((before != after) == reload, "reload \(reload)")
            }
        }
    }
}

/// A web client's session: the refresh token only ever in an HttpOnly cookie.
@Suite struct WebSessionTests {
    static let web: HTTPFields = [HTTPField.Name("X-Sokoni-Client")!: "web", .contentType: "application/json"]

    /// A tenant and its admin, made through the gateway's own API as a super admin.
    static func tenantAdmin(_ client: any TestClientProtocol) async throws -> (email: String, password: String) {
        let superAdmin: HTTPFields = [
            .authorization: "Bearer \(try await TestKeys.token(tenant: nil, roles: [.superAdmin]))", .contentType: "application/json",
        ]
        let slug = "web-\(UUID().uuidString.prefix(8).lowercased())"
        let tenant = try await client.execute(
            uri: "/v1/tenants", method: .post, headers: superAdmin, body: ByteBuffer(string: #"{"name":"Web","slug":"\#(slug)"}"#))
        #expect(tenant.status == .created)
        let id = try JSONDecoder.sokoni.decode(TenantDTO.self, from: Data(buffer: tenant.body)).id
        let email = "\(slug)@x.example"
        let user = try await client.execute(
            uri: "/v1/users", method: .post, headers: superAdmin,
            body: ByteBuffer(
                data: try JSONEncoder.sokoni.encode(CreateUser(email: email, password: "correct-horse-battery", tenantId: id, roles: [.tenantAdmin]))))
        #expect(user.status == .created, "\(String(buffer: user.body))")
        return (email, "correct-horse-battery")
    }

    static func cookie(_ response: HummingbirdTesting.TestResponse) throws -> (value: String, attributes: String) {
        let header = try #require(response.headers[.setCookie])
        let value = try #require(header.firstMatch(of: /^sokoni_refresh=([^;]*)/)?.1)
        return (String(value), header)
    }

    @Test func loginRefreshAndLogoutKeepTheRefreshTokenInACookie() async throws {
        try await TestServices.router(GatewayService.self, overrides: ["AUTH_SECURE_COOKIE": "true"]) { client, _ in
            let (email, password) = try await Self.tenantAdmin(client)
            let credentials = ByteBuffer(data: try JSONEncoder.sokoni.encode(LoginRequest(email: email, password: password)))
            let login = try await client.execute(uri: "/v1/auth/login", method: .post, headers: Self.web, body: credentials)
            #expect(login.status == .ok)
            let pair = try JSONDecoder.sokoni.decode(TokenPair.self, from: Data(buffer: login.body))
            #expect(pair.refreshToken == nil, "a web client never sees the refresh token")
            let (first, attributes) = try Self.cookie(login)
            #expect(first.hasPrefix("rt_"))
            for attribute in ["HttpOnly", "SameSite=Strict", "Path=/v1/auth", "Secure", "Max-Age=2592000"] {
                #expect(attributes.contains(attribute), "\(attributes) lacks \(attribute)")
            }
            #expect(login.headers[.cacheControl] == "no-store")
            // an API client still gets the token in the body and no cookie
            let api = try await client.execute(uri: "/v1/auth/login", method: .post, headers: [.contentType: "application/json"], body: credentials)
            #expect(try JSONDecoder.sokoni.decode(TokenPair.self, from: Data(buffer: api.body)).refreshToken != nil)
            #expect(api.headers[.setCookie] == nil)

            // refresh with the cookie rotates it
            var withCookie = Self.web
            withCookie[.cookie] = "sokoni_refresh=\(first)"
            let refreshed = try await client.execute(uri: "/v1/auth/refresh", method: .post, headers: withCookie)
            #expect(refreshed.status == .ok)
            let (second, _) = try Self.cookie(refreshed)
            #expect(second != first && second.hasPrefix("rt_"))
            let me = try await client.execute(
                uri: "/v1/auth/me", method: .get,
                headers: [.authorization: "Bearer \(try JSONDecoder.sokoni.decode(TokenPair.self, from: Data(buffer: refreshed.body)).accessToken)"])
            #expect(try JSONDecoder.sokoni.decode(Me.self, from: Data(buffer: me.body)).email == email)

            // without the web header the cookie is not read: a cross-site form post cannot use it
            let forged = try await client.execute(
                uri: "/v1/auth/refresh", method: .post, headers: [.cookie: "sokoni_refresh=\(second)", .contentType: "application/json"])
            #expect(forged.status == .badRequest)
            // no cookie at all: a clear 401
            let none = try await client.execute(uri: "/v1/auth/refresh", method: .post, headers: Self.web)
            #expect(none.status == .unauthorized)

            // logout ends the family and clears the cookie
            withCookie[.cookie] = "sokoni_refresh=\(second)"
            let logout = try await client.execute(uri: "/v1/auth/logout", method: .post, headers: withCookie)
            #expect(logout.status == .noContent)
            let cleared = try #require(logout.headers[.setCookie])
            #expect(cleared.hasPrefix("sokoni_refresh=;") && cleared.contains("Max-Age=0"))
            #expect(try await client.execute(uri: "/v1/auth/refresh", method: .post, headers: withCookie).status == .unauthorized)
            // signing out twice, or with no cookie, still answers 204
            #expect(try await client.execute(uri: "/v1/auth/logout", method: .post, headers: Self.web).status == .noContent)
        }
    }

    @Test func meSaysWhatEachRoleMayCall() async throws {
        try await TestServices.router(GatewayService.self) { client, _ in
            func allowed(_ roles: [Role], tenant: TenantID?) async throws -> Set<String> {
                let token = try await TestKeys.token(tenant: tenant, roles: roles)
                // a token for a tenant the gateway does not know is refused, so staff ask without one
                let me = try await client.execute(uri: "/v1/auth/me", method: .get, headers: [.authorization: "Bearer \(token)"])
                #expect(me.status == .ok, "\(roles): \(String(buffer: me.body))")
                return Set(try JSONDecoder.sokoni.decode(Me.self, from: Data(buffer: me.body)).allowed)
            }
            let superAdmin = try await allowed([.superAdmin], tenant: nil)
            #expect(superAdmin.isSuperset(of: ["POST /v1/tenants", "PATCH /v1/tenants/{id}", "POST /v1/vouchers", "GET /v1/gateway/audit"]))
            #expect(!superAdmin.contains("POST /v1/redemptions"))
            let readonly = try await allowed([.readonly], tenant: nil)
            #expect(readonly.contains("GET /v1/vouchers") && readonly.contains("GET /v1/vouchers/audit"))
            // a knowledge search and a template's preview are reads sent as POST (a body): they write nothing
            let reads = readonly.filter { !$0.hasPrefix("GET ") && $0 != "POST /v1/knowledge/search" && $0 != "POST /v1/templates/{id}/preview" }
            #expect(reads.isEmpty, "readonly may only read: \(reads)")
            let support = try await allowed([.support], tenant: nil)
            #expect(support.contains("POST /v1/vouchers") && !support.contains("POST /v1/users") && !support.contains("POST /v1/tenants"))
        }
    }
}
