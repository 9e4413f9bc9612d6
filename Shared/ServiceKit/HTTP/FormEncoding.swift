import Foundation

/// `application/x-www-form-urlencoded`, as Twilio and Mailgun read and write it.
public enum FormEncoding {
    /// RFC 3986's unreserved characters, ASCII only (`CharacterSet.alphanumerics` would leave "é" unescaped).
    static let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    public static func encode(_ pairs: [(String, String)]) -> String {
        pairs.map { "\(escape($0.0))=\(escape($0.1))" }.joined(separator: "&")
    }

    public static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: Self.allowed) ?? ""
    }

    /// Decodes a body: `+` is a space, `%XX` a byte of UTF-8. A repeated key keeps its last value; a pair without
    /// `=` has an empty value.
    public static func decode(_ body: String) -> [String: String] {
        var form: [String: String] = [:]
        for pair in body.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = unescape(parts[0])
            guard !key.isEmpty else { continue }
            form[key] = parts.count > 1 ? unescape(parts[1]) : ""
        }
        return form
    }

    private static func unescape(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}
