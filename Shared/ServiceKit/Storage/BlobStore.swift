import Crypto
import Foundation

/// Where generated files (voucher images, campaign media) live. Files on disk by default; the protocol is small
/// enough for an S3-compatible store.
public protocol BlobStore: Sendable {
    func put(_ key: String, bytes: [UInt8], contentType: String) async throws
    /// The bytes and content type, or nil when there is no such blob.
    func get(_ key: String) async throws -> (bytes: [UInt8], contentType: String)?
}

/// Blobs as files under a directory (`BLOBS_DIRECTORY`, `.local/blobs` in the local runner).
public struct FileBlobStore: BlobStore {
    public let directory: URL

    public init(directory: URL) throws {
        self.directory = directory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    /// Keys are `[A-Za-z0-9._/-]`, never `..`: a key cannot leave the directory.
    func url(_ key: String) throws -> URL {
        guard !key.isEmpty, !key.contains(".."), !key.hasPrefix("/"),
            key.unicodeScalars.allSatisfy({ CharacterSet.alphanumerics.contains($0) || "._/-".unicodeScalars.contains($0) })
        else { throw APIError.badRequest("invalid_blob_key", "Invalid blob key.") }
        return self.directory.appendingPathComponent(key)
    }

    public func put(_ key: String, bytes: [UInt8], contentType: String) async throws {
        let url = try self.url(key)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        // write then rename, so a reader never sees half a file
        let temporary = url.appendingPathExtension("tmp-\(UUID().uuidString.prefix(8))")
        try Data(bytes).write(to: temporary)
        guard rename(temporary.path, url.path) == 0 else {
            try? FileManager.default.removeItem(at: temporary)
            throw BlobStoreError(description: "could not store \(key): errno \(errno)")
        }
        try Data(contentType.utf8).write(to: url.appendingPathExtension("type"))
    }

    public func get(_ key: String) async throws -> (bytes: [UInt8], contentType: String)? {
        let url = try self.url(key)
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        let type = FileManager.default.contents(atPath: url.appendingPathExtension("type").path).map { String(decoding: $0, as: UTF8.self) }
        return (Array(data), type ?? "application/octet-stream")
    }
}

public struct BlobStoreError: Error, CustomStringConvertible {
    public let description: String
}

/// Expiring links to blobs: `…/<key>?expires=<unix seconds>&sig=<HMAC-SHA256(secret, key:expires)>`.
public struct SignedURLs: Sendable {
    let key: SymmetricKey

    public init(secret: String) {
        self.key = SymmetricKey(data: Data(("blob-urls:" + secret).utf8))
    }

    public func signature(path: String, expires: Int) -> String {
        Base64URL.encode(Data(HMAC<SHA256>.authenticationCode(for: Data("\(path):\(expires)".utf8), using: self.key)))
    }

    public func query(path: String, lifetime: Duration, now: Date = Date()) -> String {
        let expires = Int(now.timeIntervalSince1970) + Int(lifetime.components.seconds)
        return "expires=\(expires)&sig=\(self.signature(path: path, expires: expires))"
    }

    /// 403 for a wrong signature, 410 for an expired link.
    public func verify(path: String, expires: String?, signature: String?, now: Date = Date()) throws {
        guard let expires, let seconds = Int(expires), let signature,
            let given = Base64URL.decode(signature),
            HMAC<SHA256>.isValidAuthenticationCode(given, authenticating: Data("\(path):\(seconds)".utf8), using: self.key)
        else { throw APIError.forbidden("invalid_signature", "This link is not valid.") }
        guard seconds > Int(now.timeIntervalSince1970) else { throw APIError(.gone, code: "link_expired", message: "This link has expired.") }
    }
}
