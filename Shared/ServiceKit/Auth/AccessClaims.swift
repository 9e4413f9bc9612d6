import Foundation
import JWTKit
import Models

/// The claims of a Sokoni access token: `sub`, `tid`, `roles`, `stn`, `aud`, `iss`, `exp`, `nbf`, `iat`, `jti`.
public struct AccessClaims: JWTPayload, Equatable {
    public var sub: SubjectClaim
    public var tid: String?
    public var roles: [Role]
    public var stn: String?
    public var aud: AudienceClaim
    public var iss: IssuerClaim
    public var exp: ExpirationClaim
    public var nbf: NotBeforeClaim?
    public var iat: IssuedAtClaim
    public var jti: IDClaim

    public init(
        subject: String, tenantID: String?, roles: [Role], stationID: String?, audience: String, issuer: String,
        issuedAt: Date = Date(), expiresAt: Date, notBefore: Date? = nil, id: String = UUID().uuidString
    ) {
        self.sub = SubjectClaim(value: subject)
        self.tid = tenantID
        self.roles = roles
        self.stn = stationID
        self.aud = AudienceClaim(value: [audience])
        self.iss = IssuerClaim(value: issuer)
        self.exp = ExpirationClaim(value: expiresAt)
        self.nbf = notBefore.map { NotBeforeClaim(value: $0) }
        self.iat = IssuedAtClaim(value: issuedAt)
        self.jti = IDClaim(value: id)
    }

    public func verify(using algorithm: some JWTAlgorithm) async throws {
        try self.exp.verifyNotExpired()
        try self.nbf?.verifyNotBefore()
    }
}
