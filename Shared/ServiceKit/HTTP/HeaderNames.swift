import HTTPTypes

extension HTTPField.Name {
    public static let requestID = HTTPField.Name("X-Request-ID")!
    public static let tenantID = HTTPField.Name("X-Tenant-ID")!
    public static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    public static let idempotentReplayed = HTTPField.Name("Idempotent-Replayed")!
}
