import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import Models
import NIOCore
import NIOFoundationCompat
import ServiceKit

/// `GET /openapi.json`: the platform's API as one OpenAPI document (the gateway's own, merged with each service's,
/// asked of the services over HTTP, every route reachable through the gateway), and `GET /docs`: a plain HTML
/// reference page drawn from it (no script from elsewhere, nothing to install).
struct APIDocsController: Sendable {
    let own: Data
    let upstreams: [ServiceName: URL]
    let client: HTTPClient

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("openapi.json") { _, context in
            Response(
                status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-cache"],
                body: .init(byteBuffer: ByteBuffer(bytes: try await self.merged(logger: context.logger))))
        }
        router.get("docs") { _, context in
            let document = try JSONSerialization.jsonObject(with: try await self.merged(logger: context.logger)) as? [String: Any] ?? [:]
            return Response(
                status: .ok,
                headers: [
                    .contentType: "text/html; charset=utf-8", .cacheControl: "no-cache",
                    .contentSecurityPolicy: "default-src 'none'; style-src 'unsafe-inline'",
                ],
                body: .init(byteBuffer: ByteBuffer(string: APIReferencePage.html(document))))
        }
    }

    /// The gateway's document with the paths and components of every service that answered; a service that did not
    /// is left out (and named in `x-missing-services`) rather than failing the whole document.
    func merged(logger: Logger) async throws -> Data {
        guard var document = try JSONSerialization.jsonObject(with: self.own) as? [String: Any] else {
            throw APIError(.internalServerError, code: "internal_error", message: "The gateway's OpenAPI document is not an object.")
        }
        let bodies = await withTaskGroup(of: (ServiceName, Data?).self) { group in
            for (service, url) in self.upstreams where service != .gateway {
                group.addTask {
                    let request = HTTPClientRequest(url: url.appendingPathComponent("openapi.json").absoluteString)
                    guard let response = try? await self.client.execute(request, timeout: .seconds(3)), response.status == .ok,
                        let body = try? await response.body.collect(upTo: 4 << 20)
                    else { return (service, nil) }
                    return (service, Data(buffer: body))
                }
            }
            return await group.reduce(into: [ServiceName: Data]()) { $0[$1.0] = $1.1 }
        }
        let parts = bodies.compactMapValues { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
        var paths = document["paths"] as? [String: Any] ?? [:]
        var components = document["components"] as? [String: Any] ?? [:]
        var missing: [String] = []
        for service in ServiceName.allCases where service != .gateway {
            guard let part = parts[service] else {
                missing.append(service.rawValue)
                continue
            }
            // the services' own health and document routes are not reachable through the gateway
            for (path, item) in part["paths"] as? [String: Any] ?? [:] where path.hasPrefix("/v1/") || path.hasPrefix("/webhooks/") {
                paths[path] = item
            }
            for (kind, entries) in part["components"] as? [String: Any] ?? [:] {
                var merged = components[kind] as? [String: Any] ?? [:]
                for (name, value) in entries as? [String: Any] ?? [:] where merged[name] == nil { merged[name] = value }
                components[kind] = merged
            }
        }
        document["paths"] = paths
        document["components"] = components
        if !missing.isEmpty { document["x-missing-services"] = missing.sorted() }
        return try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])
    }
}

/// The reference page: every operation with its method, path, summary, who may call it, parameters and answers.
enum APIReferencePage {
    static func anchor(_ tag: String) -> String {
        String(tag.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" })
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func html(_ document: [String: Any]) -> String {
        let info = document["info"] as? [String: Any] ?? [:]
        let paths = document["paths"] as? [String: Any] ?? [:]
        // operations grouped by their first tag (the resource), with a table of contents on top
        var sections: [String: String] = [:]
        for path in paths.keys.sorted() {
            guard let item = paths[path] as? [String: Any] else { continue }
            for method in ["get", "post", "put", "patch", "delete", "head"] {
                guard let operation = item[method] as? [String: Any] else { continue }
                let tag = (operation["tags"] as? [String])?.first ?? "other"
                let summary = operation["summary"] as? String ?? ""
                let description = operation["description"] as? String ?? ""
                let parameters = (operation["parameters"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
                let answers = (operation["responses"] as? [String: Any] ?? [:]).keys.sorted()
                sections[tag, default: ""] += """
                    <section><h3><code>\(method.uppercased()) \(escape(path))</code></h3><p>\(escape(summary))</p>
                    <p>\(escape(description))</p>
                    \(parameters.isEmpty ? "" : "<p>Parameters: <code>\(escape(parameters.joined(separator: ", ")))</code></p>")
                    <p>Answers: \(escape(answers.joined(separator: ", ")))</p></section>

                    """
            }
        }
        let tags = sections.keys.sorted()
        let contents = tags.map { "<li><a href=\"#\(anchor($0))\">\(escape($0))</a></li>" }.joined()
        let body = tags.map { "<h2 id=\"\(anchor($0))\">\(escape($0))</h2>\n\(sections[$0]!)" }.joined()
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(info["title"] as? String ?? "Sokoni API"))</title>
            <style>body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#111}
            code{background:#f2f2f2;padding:0 .2rem}section{border-top:1px solid #ccc;padding:.5rem 0}h3{margin:.2rem 0}</style>
            </head><body><h1>Sokoni API</h1>
            <p>The machine-readable document is at <a href="/openapi.json">/openapi.json</a>. Errors are
            <code>{"error":{"code":"…","message":"…"}}</code>. Send <code>Authorization: Bearer &lt;token&gt;</code> or
            <code>X-API-Key</code>.</p>
            <nav aria-label="Resources"><ul>\(contents)</ul></nav>
            \(body)</body></html>
            """
    }
}
