import Contracts
import Foundation
import Hummingbird
import Models
import ServiceKit

/// Leads in and out as CSV: `POST /v1/leads/import` (a `text/csv` body, each row created or merged into the lead of
/// its phone in its own transaction, the answer reporting every row; `dryRun=true` checks without writing) and
/// `GET /v1/leads/export` (the leads the list's filters select; an `agent` exports their own).
struct LeadsCSVController: Sendable {
    let leads: LeadsStore

    func addRoutes(to router: Router<AppRequestContext>) {
        router.on(CRMAPI.importLeads, use: self.importCSV)
        router.on(CRMAPI.exportLeads, use: self.exportCSV)
    }

    static let maxRows = 2_000
    /// The columns an import reads (any order, case-insensitive; others are reported as ignored).
    static let columns = ["phone", "name", "email", "company", "tags", "stage", "locale", "region", "opt_in", "deal_value", "deal_currency"]

    struct RowResult: Codable, Sendable, Equatable {
        /// The CSV line the row starts on.
        var line: Int
        var phone: String?
        /// `created`, `merged` (the phone's lead, filled in), `valid` (a dry run) or `failed`.
        var status: String
        var leadId: LeadID?
        var error: APIErrorBody.Detail?
    }

    struct ImportReport: Codable, Sendable, Equatable {
        var rows: Int
        var created: Int
        var merged: Int
        var failed: Int
        var dryRun: Bool
        var ignoredColumns: [String]
        var results: [RowResult]
    }

    @Sendable func importCSV(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<ImportReport> {
        let (caller, tenant) = try context.requireTenantCaller()
        let dryRun = try request.queryValues.bool("dryRun") ?? false
        guard request.headers[.contentType]?.lowercased().hasPrefix("text/csv") == true else {
            throw APIError(.unsupportedMediaType, code: "unsupported_media_type", message: "Send the leads as text/csv.")
        }
        let body = try await request.body.collect(upTo: 2 << 20)
        guard let text = String(validating: body.readableBytesView, as: UTF8.self) else {
            throw APIError.unprocessable("invalid_csv", "The CSV is not UTF-8 text.")
        }
        let records: [(line: Int, fields: [String])]
        do { records = try CSVReader.records(text) } catch {
            throw APIError.unprocessable("invalid_csv", "The CSV is malformed at line \(error.line): \(error.reason).")
        }
        guard let header = records.first else { throw APIError.unprocessable("invalid_csv", "The CSV is empty: a header row names the columns.") }
        let names = header.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased().replacingOccurrences(of: "optin", with: "opt_in") }
        guard let phoneColumn = names.firstIndex(of: "phone") else {
            throw APIError.unprocessable("invalid_csv", "The header has no phone column (columns: \(Self.columns.joined(separator: ", "))).")
        }
        let rows = records.dropFirst()
        guard rows.count <= Self.maxRows else {
            throw APIError.unprocessable("too_many_rows", "At most \(Self.maxRows) rows at a time; this file has \(rows.count).")
        }
        var report = ImportReport(
            rows: rows.count, created: 0, merged: 0, failed: 0, dryRun: dryRun,
            ignoredColumns: names.filter { !Self.columns.contains($0) && !$0.isEmpty }, results: [])
        let stages = Set(try await self.leads.stages(tenant: tenant, logger: context.logger).map(\.key))
        for row in rows {
            var fields: [String: String] = [:]
            for (index, name) in names.enumerated() where index < row.fields.count && Self.columns.contains(name) {
                let value = row.fields[index].trimmingCharacters(in: .whitespaces)
                if !value.isEmpty { fields[name] = value }
            }
            let phone = phoneColumn < row.fields.count ? row.fields[phoneColumn] : nil
            do {
                guard row.fields.count <= names.count else {
                    throw APIError.unprocessable("invalid_row", "The row has \(row.fields.count) fields; the header names \(names.count).")
                }
                let new = try Self.lead(fields, stages: stages, visibility: .of(caller), caller: caller)
                if dryRun {
                    report.results.append(RowResult(line: row.line, phone: new.phone, status: "valid"))
                    continue
                }
                let (lead, created) = try await self.leads.create(
                    new, tenant: tenant, actor: caller.subject, requestID: context.requestID, logger: context.logger)
                if created { report.created += 1 } else { report.merged += 1 }
                report.results.append(RowResult(line: row.line, phone: lead.phone, status: created ? "created" : "merged", leadId: lead.id))
            } catch let error as APIError where error.status.code < 500 {
                report.failed += 1
                report.results.append(
                    RowResult(line: row.line, phone: phone, status: "failed", error: .init(code: error.code, message: error.message)))
            }
        }
        return JSONResponse(.ok, report)
    }

    /// A row's lead, checked as `POST /v1/leads` checks one.
    static func lead(_ fields: [String: String], stages: Set<String>, visibility: LeadVisibility, caller: Identity) throws -> LeadsStore.NewLead {
        if let name = fields["name"] { try TextRules.check(name, field: "name", length: 1...200) }
        if let company = fields["company"] { try TextRules.check(company, field: "company", length: 1...200) }
        var new = LeadsStore.NewLead(
            phone: try LeadsController.phone(fields["phone"]), name: fields["name"], email: try LeadsController.email(fields["email"]),
            company: fields["company"], source: .import)
        new.tags =
            try LeadsController.tags(
                fields["tags"].map {
                    $0.split(whereSeparator: { $0 == ";" || $0 == "|" }).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                })
            ?? []
        new.locale = try LeadsController.locale(fields["locale"])
        new.region = try LeadsController.region(fields["region"])
        if let stage = fields["stage"] {
            guard stages.contains(stage) else { throw APIError.unprocessable("unknown_stage", "No stage \(stage) in this pipeline.") }
            new.stage = stage
        }
        if let text = fields["opt_in"] {
            switch text.lowercased() {
            case "true", "yes", "1": new.optIn = true
            case "false", "no", "0": new.optIn = false
            default: throw APIError.unprocessable("invalid_opt_in", "opt_in is true or false.")
            }
        }
        switch (fields["deal_value"], fields["deal_currency"]) {
        case (nil, nil): break
        case (let value?, let code?):
            guard let currency = Currency(code: code.uppercased()), let money = try? Money(decimal: value, currency: currency) else {
                throw APIError.unprocessable("invalid_dealValue", "deal_value is a decimal amount in deal_currency's digits (1500.00 KES).")
            }
            new.dealValue = try LeadsController.deal(money)
        default: throw APIError.unprocessable("invalid_dealValue", "deal_value and deal_currency come together.")
        }
        // an agent's import is theirs (they see only their leads)
        if case .assignedTo(let me) = visibility { new.assignee = me }
        return new
    }

    static let exportHeader = [
        "id", "phone", "phones", "name", "email", "company", "status", "score", "stage", "stage_entered_at", "assignee_id", "treatment",
        "next_action_at", "tags", "opt_in", "locale", "region", "last_contact_at", "source", "deal_value", "deal_currency", "created_at",
    ]

    @Sendable func exportCSV(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (caller, tenant) = try context.requireTenantCaller()
        let query = request.queryValues
        let filter = LeadsStore.Filter(
            stage: try query.string("stage", maxLength: 40), status: try query.value("status", as: LeadStatus.self),
            assignee: try query.uuid("assigneeId"), tag: try query.string("tag", maxLength: 40), search: try query.string("q", maxLength: 100))
        var rows = [Self.exportHeader]
        var after: (micros: Int64, id: UUID)? = nil
        // page by page, up to 50,000 leads (a larger export narrows its filters)
        while rows.count <= 50_000 {
            let page = try await self.leads.leads(
                tenant: tenant, visibility: .of(caller), filter: filter, after: after, limit: 1_000, logger: context.logger)
            rows += page.map { lead in
                [
                    lead.id.description, lead.phone, lead.phones.joined(separator: ";"), lead.name ?? "", lead.email ?? "", lead.company ?? "",
                    lead.status.rawValue, "\(lead.score)", lead.stage, ISO8601.format(lead.stageEnteredAt), lead.assigneeId?.description ?? "",
                    lead.treatment.rawValue, lead.nextActionAt.map(ISO8601.format) ?? "", lead.tags.joined(separator: ";"), lead.optIn ? "true" : "false",
                    lead.locale ?? "", lead.region ?? "", lead.lastContactAt.map(ISO8601.format) ?? "", lead.source.rawValue,
                    lead.dealValue?.decimalString ?? "",
                    lead.dealValue?.currency.code ?? "", ISO8601.format(lead.createdAt),
                ]
            }
            guard page.count == 1_000, let last = page.last else { break }
            after = (last.createdAt.micros, last.id.rawValue)
        }
        return Request.csv(CSVField.document(rows), filename: "leads-\(Day(Date())).csv")
    }
}
