import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ServiceKit

/// Serves the web apps: `/admin/`, `/station/`, `/booking/` (a reminder's link: the customer's page for one
/// appointment) (their `index.html`, never cached), the Station app's service worker
/// and manifest (which must live under `/station/` to control it), the web-chat widget at `/webchat/widget.js`, and `/assets/[<version>/]<path>` for everything
/// else, cached for a year when the version is the current one. Every answer carries the security headers.
struct WebController: Sendable {
    let files: WebFiles

    /// No inline script or style, nothing from another origin but media over https (a voice provider's call
    /// recordings play in the console); the camera only for this origin (QR scanning).
    static let securityHeaders: HTTPFields = [
        .contentSecurityPolicy:
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; media-src 'self' blob: https:; "
            + "worker-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
        .xContentTypeOptions: "nosniff",
        HTTPField.Name("Referrer-Policy")!: "no-referrer",
        HTTPField.Name("Permissions-Policy")!: "camera=(self), geolocation=(self), microphone=()",
        HTTPField.Name("X-Frame-Options")!: "DENY",
        HTTPField.Name("Cross-Origin-Opener-Policy")!: "same-origin",
    ]
    static let noCache = "no-cache"
    static let immutable = "public, max-age=31536000, immutable"

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("/") { request, _ in self.serve("index.html", cache: Self.noCache, request: request) }
        for app in ["admin", "station", "booking"] {
            // the router matches `/admin` and `/admin/` alike; the app lives at the slash form (the service worker's scope)
            router.get(RouterPath(app)) { request, _ in
                guard request.uri.path.hasSuffix("/") else {
                    return Response(status: .permanentRedirect, headers: [.location: "/\(app)/"])
                }
                return self.serve("\(app)/index.html", cache: Self.noCache, request: request)
            }
        }
        router.get("station/sw.js") { request, _ in
            var response = self.serve("station/sw.js", cache: Self.noCache, request: request)
            response.headers[HTTPField.Name("Service-Worker-Allowed")!] = "/station/"
            return response
        }
        router.get("station/manifest.webmanifest") { request, _ in
            self.serve("station/manifest.webmanifest", cache: Self.noCache, request: request)
        }
        // the web-chat widget, loaded by businesses' own sites: a stable address, revalidated every five minutes
        router.get("webchat/widget.js") { request, _ in
            self.serve("webchat/widget.js", cache: "public, max-age=300", request: request)
        }
        router.get("assets/**") { request, context in
            let parts = context.parameters.getCatchAll().map(String.init)
            let root = self.files.current
            if parts.count > 1, parts[0] == root.version {
                return self.serve(parts.dropFirst().joined(separator: "/"), cache: Self.immutable, request: request, root: root)
            }
            // an unversioned link, or a link of the previous deployment's HTML: the file as it is now, not cached
            let whole = parts.joined(separator: "/")
            let path = root.files[whole] == nil && parts.count > 1 ? parts.dropFirst().joined(separator: "/") : whole
            return self.serve(path, cache: Self.noCache, request: request, root: root)
        }
    }

    func serve(_ path: String, cache: String, request: Request, root: WebRoot? = nil) -> Response {
        guard let file = (root ?? self.files.current).files[path] else {
            var response = APIError.notFound("not_found", "No such file.").response()
            response.headers.append(contentsOf: Self.securityHeaders)
            return response
        }
        var headers = Self.securityHeaders
        headers[.cacheControl] = cache
        headers[.eTag] = file.etag
        if request.headers[.ifNoneMatch] == file.etag {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentType] = file.contentType
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: file.body))
    }
}
