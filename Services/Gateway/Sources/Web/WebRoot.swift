import Crypto
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import ServiceKit

/// The static web apps under `Web/` (admin console, Station app), held in memory. One version names the whole tree:
/// HTML refers to assets as `/assets/<path>` and is served with those links rewritten to `/assets/<version>/<path>`,
/// so an asset's URL changes whenever any file does and can be cached for a year, while HTML is never cached. Modules
/// import each other by relative paths and so inherit the version.
struct WebRoot: Sendable {
    struct File: Sendable {
        let body: ByteBuffer
        let contentType: String
        let etag: String
    }

    let files: [String: File]
    let version: String

    static let contentTypes: [String: String] = [
        "html": "text/html; charset=utf-8", "js": "text/javascript; charset=utf-8", "mjs": "text/javascript; charset=utf-8",
        "css": "text/css; charset=utf-8", "json": "application/json", "webmanifest": "application/manifest+json",
        "svg": "image/svg+xml", "png": "image/png", "ico": "image/x-icon", "txt": "text/plain; charset=utf-8",
    ]
    /// Files whose `"/assets/` links are rewritten to the versioned form.
    static let rewritten: Set<String> = ["html", "webmanifest"]

    /// Reads every file of a known type below `directory`; other files are not served.
    static func load(directory: URL) throws -> WebRoot {
        let root = directory.standardizedFileURL.resolvingSymlinksInPath()
        var raw: [String: (data: Data, type: String, ext: String)] = [:]
        let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey])
        while let url = enumerator?.nextObject() as? URL {
            let ext = url.pathExtension.lowercased()
            guard let type = Self.contentTypes[ext], (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true else { continue }
            let path = String(url.standardizedFileURL.resolvingSymlinksInPath().path.dropFirst(root.path.count + 1))
            guard !path.split(separator: "/").contains(where: { $0.hasPrefix(".") }) else { continue }
            raw[path] = (try Data(contentsOf: url), type, ext)
        }
        var digest = SHA256()
        for path in raw.keys.sorted() {
            digest.update(data: Data(path.utf8))
            digest.update(data: raw[path]!.data)
        }
        let version = String(digest.finalize().hex.prefix(12))
        var files: [String: File] = [:]
        for (path, file) in raw {
            var data = file.data
            if Self.rewritten.contains(file.ext) {
                data = Data(String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\"/assets/", with: "\"/assets/\(version)/").utf8)
            }
            let etag = "\"" + sha256Hex(data).prefix(16) + "\""
            files[path] = File(body: ByteBuffer(bytes: data), contentType: file.type, etag: etag)
        }
        return WebRoot(files: files, version: version)
    }
}

/// The web root as served: loaded once, or (for development) read again on every request so edits show on reload.
final class WebFiles: Sendable {
    let directory: URL
    let reload: Bool
    let loaded: NIOLockedValueBox<WebRoot>

    init(directory: URL, reload: Bool) throws {
        self.directory = directory
        self.reload = reload
        self.loaded = NIOLockedValueBox(try WebRoot.load(directory: directory))
    }

    var current: WebRoot {
        if self.reload, let fresh = try? WebRoot.load(directory: self.directory) {
            self.loaded.withLockedValue { $0 = fresh }
            return fresh
        }
        return self.loaded.withLockedValue { $0 }
    }
}
