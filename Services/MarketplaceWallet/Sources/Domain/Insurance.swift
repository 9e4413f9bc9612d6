import Foundation
import Models
import ServiceKit

enum InsuranceQuoteTag {}
enum InsuranceDocumentTag {}
typealias InsuranceQuoteID = Identifier<InsuranceQuoteTag>
typealias InsuranceDocumentID = Identifier<InsuranceDocumentTag>

/// Seed 000's states: `pending → approved` or `pending → needs_changes → pending` (the database's trigger holds it).
enum InsuranceQuoteStatus: String, Codable, Sendable, CaseIterable {
    case pending, approved
    case needsChanges = "needs_changes"
}

/// What a reviewer decides about a pending quote.
enum InsuranceDecision: String, Codable, Sendable, CaseIterable {
    case approve
    case needsChanges = "needs_changes"

    var status: InsuranceQuoteStatus { self == .approve ? .approved : .needsChanges }
}

struct InsuranceQuoteDTO: Codable, Sendable, Equatable {
    var id: InsuranceQuoteID
    var buyerId: BuyerID?
    var customerPhone: String?
    var customerName: String?
    var insurer: String
    var coverType: String
    /// nil until priced (by its creator, or by the reviewer who approves it).
    var premium: Money?
    var currency: Currency
    var status: InsuranceQuoteStatus
    var reviewerComment: String?
    var reviewedBy: String?
    var reviewedAt: Date?
    var approvedAt: Date?
    var resubmittedAt: Date?
    var metadata: [String: JSONValue]
    var createdBy: String
    var createdAt: Date
    var updatedAt: Date
    /// The quote's documents, oldest first, each with a signed download link (on a single quote only).
    var documents: [InsuranceDocumentDTO]?
}

struct InsuranceDocumentDTO: Codable, Sendable, Equatable {
    var id: InsuranceDocumentID
    var quoteId: InsuranceQuoteID
    var fileName: String
    /// The type read from the bytes.
    var contentType: String
    var sizeBytes: Int64
    var sha256: String
    var uploadedBy: String
    var uploadedAt: Date
    /// A link that opens the document without a token until it expires.
    var downloadUrl: String?
}

struct InsuranceQuoteBody: Decodable, Sendable {
    var buyerId: String?
    var customerPhone: String?
    var customerName: String?
    var insurer: String?
    var coverType: String?
    var premium: String?
    var currency: String?
    var metadata: [String: JSONValue]?
}

struct InsuranceReviewBody: Decodable, Sendable {
    var decision: String?
    var comment: String?
    /// The premium the insurer priced, in the quote's currency (required to approve a quote that has none).
    var premium: String?
}

/// The document types a reviewer's browser opens inline, recognised by their first bytes (never by the name or the
/// client's `Content-Type`).
enum InsuranceDocumentType: String, Sendable, CaseIterable {
    case pdf = "application/pdf"
    case png = "image/png"
    case jpeg = "image/jpeg"
    case webp = "image/webp"

    static let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// The type the bytes are, or nil: `%PDF-` … `%%EOF` (a truncated PDF is refused), PNG's signature followed by its
    /// IHDR chunk, JPEG's SOI marker, RIFF … WEBP.
    static func sniff(_ bytes: [UInt8]) -> InsuranceDocumentType? {
        if bytes.starts(with: Array("%PDF-".utf8)) {
            let tail = bytes.suffix(1024)
            return Self.contains(tail, Array("%%EOF".utf8)) ? .pdf : nil
        }
        if bytes.count >= 24, bytes.starts(with: Self.pngSignature), Array(bytes[12..<16]) == Array("IHDR".utf8) { return .png }
        if bytes.count >= 4, bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        if bytes.count >= 16, bytes.starts(with: Array("RIFF".utf8)), Array(bytes[8..<12]) == Array("WEBP".utf8) { return .webp }
        return nil
    }

    static func contains(_ haystack: ArraySlice<UInt8>, _ needle: [UInt8]) -> Bool {
        guard haystack.count >= needle.count else { return false }
        var index = haystack.startIndex
        while index <= haystack.endIndex - needle.count {
            if haystack[index..<(index + needle.count)].elementsEqual(needle) { return true }
            index += 1
        }
        return false
    }

    /// The type a client's `Content-Type` names, when it names one of ours (`image/jpg` is a common misspelling).
    init?(claimed: String) {
        switch claimed {
        case "image/jpg", "image/pjpeg": self = .jpeg
        default: self.init(rawValue: claimed)
        }
    }
}

/// The rules an insurance request's input must meet.
enum InsuranceRules {
    static let maxCommentLength = 1000

    /// The uploaded bytes' type, checked against what the client said: 422 for an empty body, 415 for bytes that are
    /// none of the accepted types or are not the type the client named (an HTML page sent as `application/pdf`).
    /// `application/octet-stream` (or no type) leaves the naming to the bytes.
    static func documentType(_ bytes: [UInt8], claimed header: String?) throws -> InsuranceDocumentType {
        guard !bytes.isEmpty else { throw APIError.unprocessable("empty_document", "The document is empty: send the file's bytes as the body.") }
        let accepted = "PDF, PNG, JPEG or WebP"
        guard let sniffed = InsuranceDocumentType.sniff(bytes) else {
            throw APIError(
                .unsupportedMediaType, code: "unsupported_document_type",
                message: "The file is not a \(accepted) document (its contents were checked, not its name or Content-Type).")
        }
        let claimed = header?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        if !claimed.isEmpty, claimed != "application/octet-stream", InsuranceDocumentType(claimed: claimed) != sniffed {
            throw APIError(
                .unsupportedMediaType, code: "document_type_mismatch",
                message: "The file was sent as \(claimed) but its contents are \(sniffed.rawValue); send a \(accepted) file as what it is.")
        }
        return sniffed
    }

    /// A file name as the customer named it: 1 to 255 characters, no path, no control characters.
    static func fileName(_ text: String?) throws -> String {
        guard let text, !text.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw APIError.badRequest("filename_required", "Name the file with ?filename= (e.g. ?filename=id-card.pdf).")
        }
        guard TextRules.length(text) <= 255, !text.contains("/"), !text.contains("\\"), text != ".", text != "..",
            !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else {
            throw APIError.unprocessable("invalid_filename", "filename is 1 to 255 characters without a path or control characters.")
        }
        return text
    }

    static func text(_ text: String?, field: String, length: ClosedRange<Int> = 1...200) throws -> String {
        guard let text, !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw APIError.unprocessable("invalid_\(field)", "\(field) is required.")
        }
        try TextRules.check(text, field: field, length: length)
        return text
    }

    /// The reviewer's comment: required when asking for changes (the customer is told what to change).
    static func comment(_ text: String?, decision: InsuranceDecision) throws -> String? {
        try TextRules.check(text, field: "comment", length: 1...Self.maxCommentLength)
        let blank = text?.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ?? true
        if decision == .needsChanges && blank {
            throw APIError.unprocessable("comment_required", "Asking for changes needs a comment: it tells the customer what to change.")
        }
        return blank ? nil : text
    }

    /// Whether a reviewer may decide now: only a pending quote is reviewed (a quote that needs changes is resubmitted
    /// first; an approved one is final).
    static func checkReview(of status: InsuranceQuoteStatus) throws {
        switch status {
        case .pending: return
        case .needsChanges:
            throw APIError.conflict(
                "illegal_transition", "This quote needs changes: it is reviewed again once the customer resubmitted it with new documents.")
        case .approved: throw APIError.conflict("illegal_transition", "This quote is approved; a decision is final.")
        }
    }

    static func checkResubmit(of status: InsuranceQuoteStatus) throws {
        guard status == .needsChanges else {
            throw APIError.conflict("illegal_transition", "Only a quote that needs changes is resubmitted; this one is \(status.rawValue).")
        }
    }
}

/// Signed, expiring links to insurance documents: `<base>/v1/insurance-documents/<tenant>/<document>?expires=&sig=`.
/// The path names the tenant, so the document is looked up within it like every other read.
struct DocumentLinks: Sendable {
    let signer: SignedURLs
    /// Where the links point (the gateway's public address).
    let baseURL: String
    let lifetime: Duration

    /// The signing secret when none is configured: derived from the service key, which every replica has.
    static func defaultSecret(serviceKey: String) -> String { "wallet-insurance-documents:" + serviceKey }

    static func path(tenant: TenantID, document: InsuranceDocumentID) -> String { "/v1/insurance-documents/\(tenant)/\(document)" }

    func url(tenant: TenantID, document: InsuranceDocumentID, now: Date = Date()) -> String {
        let path = Self.path(tenant: tenant, document: document)
        return "\(self.baseURL)\(path)?\(self.signer.query(path: path, lifetime: self.lifetime, now: now))"
    }
}
