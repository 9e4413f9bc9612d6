/// The one error shape every Sokoni endpoint answers with: `{"error":{"code":"…","message":"…"}}`.
public struct APIErrorBody: Codable, Sendable, Equatable {
    public struct Detail: Codable, Sendable, Equatable {
        /// Stable, machine-readable code such as `invalid_json` or `already_redeemed`.
        public var code: String
        /// Human-readable explanation; never contains internal details.
        public var message: String

        public init(code: String, message: String) {
            self.code = code
            self.message = message
        }
    }

    public var error: Detail

    public init(code: String, message: String) {
        self.error = Detail(code: code, message: message)
    }
}
