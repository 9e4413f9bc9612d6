import Foundation
import HummingbirdBcrypt
import NIOPosix
import ServiceKit

/// Password rules and hashing. bcrypt runs on NIO's thread pool, never on the async executor: at cost 12 one hash
/// takes a quarter of a second.
public struct Passwords: Sendable {
    public let cost: UInt8
    public static let minimumLength = 10

    /// A hash of nothing in particular at the same cost, verified against when the email is unknown so both
    /// answers take as long.
    let decoyHash: String

    public init(cost: UInt8) {
        self.cost = cost
        self.decoyHash = Bcrypt.hash("sokoni-decoy-password", cost: cost)
    }

    public func validate(_ password: String) throws {
        // bcrypt stops at the first NUL and after 72 bytes: anything past either would be silently ignored, so
        // "Abcdefgh\u{0}ijk" would also accept "Abcdefgh"
        guard !password.utf8.contains(0) else {
            throw APIError.unprocessable("weak_password", "Passwords must not contain NUL characters.")
        }
        guard password.count >= Self.minimumLength else {
            throw APIError.unprocessable("weak_password", "Passwords need at least \(Self.minimumLength) characters.")
        }
        guard password.utf8.count <= 72 else {
            throw APIError.unprocessable("weak_password", "Passwords can be at most 72 bytes long.")
        }
        let lowered = password.lowercased()
        if Self.common.contains(lowered) || Set(lowered).count <= 2 {
            throw APIError.unprocessable("weak_password", "This password is too common; choose another.")
        }
    }

    public func hash(_ password: String) async throws -> String {
        let cost = self.cost
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    /// Checks a password; with no hash (unknown user) it still spends the time of one check.
    public func verify(_ password: String, hash: String?) async throws -> Bool {
        let target = hash ?? self.decoyHash
        let matches = try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: target) }
        return hash != nil && matches
    }

    /// The most common passwords of public breach lists (length 10 and over, since shorter ones fail anyway),
    /// plus Sokoni's own obvious ones.
    static let common: Set<String> = [
        "1234567890", "0123456789", "0987654321", "1111111111", "0000000000", "1234512345", "1q2w3e4r5t", "qwertyuiop",
        "password12", "password123", "password1234", "passw0rd123", "iloveyou12", "qwerty1234", "qwerty12345",
        "1qaz2wsx3edc", "asdfghjkl1", "abcd123456", "abc1234567", "a1b2c3d4e5", "zxcvbnm123", "123456789a", "12345678910",
        "987654321a", "1234567890a", "princess12", "football12", "baseball12", "superman12", "trustno123", "welcome123",
        "letmein123", "monkey1234", "dragon1234", "sunshine12", "starwars12", "whatever12", "administrator", "admin12345",
        "administrator1", "changeme123", "changeme12", "myPassword1".lowercased(), "computer12", "michael123",
        "jennifer12", "password!1", "p@ssw0rd123", "p@ssword123", "qwertyuiop1", "asdfghjkl;", "1q2w3e4r5t6y",
        "zaq12wsxcde3", "11223344556", "1122334455", "12341234123", "987654321", "sokoni1234", "sokoni12345",
        "sokonisokoni", "mpesa12345", "kigali1234", "nairobi123", "rwanda1234", "kenya12345", "uganda1234",
        "tanzania12", "password2024", "password2025", "password2026", "summer2025", "winter2025", "spring2026",
    ]
}
