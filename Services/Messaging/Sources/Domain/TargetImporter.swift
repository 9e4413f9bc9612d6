import Foundation
import Models
import ServiceKit

/// The checks of a targets import, row by row, with no I/O: a bad number, a missing variable, a bad id or a number
/// seen earlier in the file is reported and not stored; the store then says which of the rest were already in the
/// campaign or are on the opt-out list (`settle`).
struct TargetImporter: Sendable {
    /// Variables each row must give (the template's, less those the platform fills: a voucher's code and amount).
    let needed: Int
    /// The number of the file's first variable in the template: 1, or 3 after a voucher's code and amount.
    let first: Int
    private(set) var report: ImportReport
    private var seen: Set<String> = []
    private var columns: Columns?
    static let maxProblems = 1000

    struct Columns: Sendable {
        var msisdn: Int
        var contact: Int?
        var lead: Int?
        var variables: [Int]
        var count: Int
    }

    init(needed: Int, first: Int, dryRun: Bool) {
        self.needed = needed
        self.first = first
        self.report = ImportReport(dryRun: dryRun, rows: 0, accepted: 0, optedOut: 0, rejected: 0, duplicates: 0, problems: [])
    }

    /// The header row: `msisdn` (or `phone`), optional `contact_id` and `lead_id`; every other column a variable, in order.
    mutating func header(_ fields: [String]) throws {
        let names = fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard let msisdn = names.firstIndex(where: { $0 == "msisdn" || $0 == "phone" }) else {
            throw APIError.unprocessable("invalid_csv", "The header has no msisdn (or phone) column; its columns: \(names.joined(separator: ", ")).")
        }
        let contact = names.firstIndex(of: "contact_id")
        let lead = names.firstIndex(of: "lead_id")
        let variables = names.indices.filter { $0 != msisdn && $0 != contact && $0 != lead }
        guard variables.count >= self.needed else {
            throw APIError.unprocessable(
                "missing_variable",
                "The template needs \(self.needed) variable column(s) after the number; the header has \(variables.count).")
        }
        self.columns = Columns(msisdn: msisdn, contact: contact, lead: lead, variables: variables, count: names.count)
    }

    /// One CSV data row.
    mutating func row(_ fields: [String]) -> TargetCandidate? {
        guard let columns = self.columns else { return nil }
        self.report.rows += 1
        let row = self.report.rows
        guard fields.count <= columns.count else {
            self.problem(row, nil, "invalid_row", "The row has \(fields.count) fields; the header names \(columns.count).")
            return nil
        }
        func field(_ index: Int?) -> String? {
            guard let index, index < fields.count else { return nil }
            let value = fields[index].trimmingCharacters(in: .whitespaces)
            return value.isEmpty ? nil : value
        }
        return self.candidate(
            row: row, msisdn: field(columns.msisdn) ?? "", contact: field(columns.contact), lead: field(columns.lead),
            variables: columns.variables.map { field($0) ?? "" })
    }

    /// One target of a JSON import.
    mutating func target(_ target: CampaignTargets.Target) -> TargetCandidate? {
        self.report.rows += 1
        return self.candidate(
            row: self.report.rows, msisdn: target.msisdn, contact: target.contactId, lead: target.leadId, variables: target.variables ?? [])
    }

    private mutating func candidate(row: Int, msisdn text: String, contact: String?, lead: String?, variables: [String]) -> TargetCandidate? {
        guard let phone = try? PhoneNumber(parsing: text) else {
            self.problem(row, text.isEmpty ? nil : String(text.prefix(40)), "invalid_msisdn", "Not a phone number in E.164 (such as +250788123456).")
            return nil
        }
        let msisdn = phone.e164
        for (index, value) in variables.prefix(self.needed).enumerated() where value.trimmingCharacters(in: .whitespaces).isEmpty {
            self.problem(row, msisdn, "missing_variable", "Variable {{\(index + self.first)}} of the template has no value in this row.")
            return nil
        }
        if variables.count < self.needed {
            self.problem(row, msisdn, "missing_variable", "The row gives \(variables.count) variable(s); the template needs \(self.needed).")
            return nil
        }
        if let bad = variables.first(where: { $0.count > 1024 || TextRules.containsNUL($0) }) {
            self.problem(row, msisdn, "invalid_row", "A variable is longer than 1024 characters or holds a NUL byte (\(bad.prefix(20))…).")
            return nil
        }
        var contactID: UUID?
        var leadID: UUID?
        if let contact {
            guard let id = UUID(uuidString: contact) else {
                self.problem(row, msisdn, "invalid_id", "contact_id is not a UUID.")
                return nil
            }
            contactID = id
        }
        if let lead {
            guard let id = UUID(uuidString: lead) else {
                self.problem(row, msisdn, "invalid_id", "lead_id is not a UUID.")
                return nil
            }
            leadID = id
        }
        guard self.seen.insert(msisdn).inserted else {
            self.report.duplicates += 1
            self.problem(row, msisdn, "duplicate", "The number is earlier in the file.", rejected: false)
            return nil
        }
        return TargetCandidate(row: row, msisdn: msisdn, country: phone.country, contact: contactID, lead: leadID, variables: variables)
    }

    /// What the store found of a batch: numbers on the opt-out list (stored as `opted_out`) and numbers the
    /// campaign already had (not stored).
    mutating func settle(_ batch: [TargetCandidate], optedOut: Set<String>, duplicates: Set<String>) {
        for target in batch {
            if duplicates.contains(target.msisdn) {
                self.report.duplicates += 1
                self.problem(target.row, target.msisdn, "duplicate", "The campaign already has this number.", rejected: false)
            } else if optedOut.contains(target.msisdn) {
                self.report.optedOut += 1
                self.problem(target.row, target.msisdn, "opted_out", "The number is on the opt-out list: stored as opted_out, never sent.", rejected: false)
            } else {
                self.report.accepted += 1
            }
        }
    }

    private mutating func problem(_ row: Int, _ msisdn: String?, _ code: String, _ message: String, rejected: Bool = true) {
        if rejected { self.report.rejected += 1 }
        if self.report.problems.count < Self.maxProblems {
            self.report.problems.append(ImportProblem(row: row, msisdn: msisdn, code: code, message: message))
        }
    }
}

/// Meta's `message_template_status_update` webhook (a template approved, rejected, paused, disabled), beside the
/// `messages` changes the inbound processor reads.
struct TemplateStatusWebhook: Decodable, Sendable {
    var entry: [Entry]?

    struct Entry: Decodable, Sendable {
        var changes: [Change]?
    }

    struct Change: Decodable, Sendable {
        var field: String?
        var value: Value?
    }

    struct Value: Decodable, Sendable {
        var event: String?
        var messageTemplateId: String?
        var messageTemplateName: String?
        var messageTemplateLanguage: String?
        var reason: String?

        enum CodingKeys: String, CodingKey {
            case event, reason
            case messageTemplateId = "message_template_id"
            case messageTemplateName = "message_template_name"
            case messageTemplateLanguage = "message_template_language"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.event = try container.decodeIfPresent(String.self, forKey: .event)
            // Meta sends the id as a number; a string is taken too
            if let number = try? container.decodeIfPresent(Int64.self, forKey: .messageTemplateId) {
                self.messageTemplateId = String(number)
            } else {
                self.messageTemplateId = try? container.decodeIfPresent(String.self, forKey: .messageTemplateId)
            }
            self.messageTemplateName = try container.decodeIfPresent(String.self, forKey: .messageTemplateName)
            self.messageTemplateLanguage = try container.decodeIfPresent(String.self, forKey: .messageTemplateLanguage)
            self.reason = try container.decodeIfPresent(String.self, forKey: .reason)
        }
    }

    struct Update: Sendable, Equatable {
        var providerID: String?
        var name: String?
        var language: String?
        var status: TemplateStatus
        var reason: String?
    }

    var updates: [Update] {
        (self.entry ?? []).flatMap { $0.changes ?? [] }.compactMap { change in
            guard change.field == "message_template_status_update", let value = change.value,
                let status = value.event.flatMap(TemplateStatus.init(meta:))
            else { return nil }
            return Update(
                providerID: value.messageTemplateId, name: value.messageTemplateName, language: value.messageTemplateLanguage, status: status,
                reason: value.reason.flatMap { $0 == "NONE" ? nil : $0 })
        }
    }
}
