import HTTPTypes

extension HTTPField.Name {
    public static let requestID = HTTPField.Name("X-Request-ID")!
    public static let tenantID = HTTPField.Name("X-Tenant-ID")!
    /// The browser's `Origin` of a WebSocket the gateway relays (the relay's own connection has another).
    public static let forwardedOrigin = HTTPField.Name("X-Forwarded-Origin")!
    public static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    public static let idempotentReplayed = HTTPField.Name("Idempotent-Replayed")!
}
