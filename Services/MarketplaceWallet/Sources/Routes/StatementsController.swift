import Contracts
import Foundation
import Hummingbird
import Models
import NIOCore
import ServiceKit

/// `GET /v1/wallet/statements?accountId=&from=&to=` (JSON, or CSV with `format=csv` or `Accept: text/csv`): an
/// account's entries over a period with the running balance. `GET /v1/wallet/invariants`: the ledger checked now;
/// platform staff who name no tenant check the whole platform.
struct StatementsController: Sendable {
    let ledger: LedgerStore

    func addRoutes(to router: Router<AppRequestContext>) {
        router.on(WalletAPI.statement, use: self.statement)
        router.on(WalletAPI.invariants, use: self.invariants)
    }

    @Sendable func statement(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (_, tenant) = try context.requireTenantCaller()
        let query = request.queryValues
        guard let account = try query.id("accountId", as: WalletAccountID.self) else {
            throw APIError.badRequest("account_required", "Name the account: accountId.")
        }
        // days, or instants; to is exclusive and defaults to now, from to 30 days before it
        let to = try Self.instant(query, "to") ?? Date()
        let from = try Self.instant(query, "from") ?? to.addingTimeInterval(-30 * 86_400)
        guard from < to else { throw APIError.badRequest("invalid_period", "from must be before to.") }
        guard to.timeIntervalSince(from) <= 367 * 86_400 else { throw APIError.badRequest("invalid_period", "A statement covers at most 367 days.") }
        let format = try query.string("format", maxLength: 10)
        guard format == nil || format == "json" || format == "csv" else {
            throw APIError.badRequest("invalid_format", "The query parameter format is json or csv.")
        }
        guard let statement = try await self.ledger.statement(account, tenant: tenant, from: from, to: to, logger: context.logger) else {
            throw AccountsController.notFound
        }
        if format == "csv" || (format == nil && request.headers[.accept]?.contains("text/csv") == true) {
            return Response(
                status: .ok,
                headers: [
                    .contentType: "text/csv; charset=utf-8",
                    .contentDisposition: "attachment; filename=\"statement-\(account)-\(Self.day(from))-\(Self.day(to)).csv\"",
                ],
                body: .init(byteBuffer: ByteBuffer(string: StatementCSV.render(statement))))
        }
        return try JSONResponse(.ok, statement).response(from: request, context: context)
    }

    /// `YYYY-MM-DD` (the day's start, UTC) or an ISO 8601 instant.
    static func instant(_ query: QueryValues, _ name: String) throws -> Date? {
        guard let text = try query.string(name, maxLength: 40) else { return nil }
        if text.count == 10, let day = try query.day(name) {
            return Day.calendar.date(from: DateComponents(year: day.year, month: day.month, day: day.day))
        }
        return try query.instant(name)
    }

    static func day(_ date: Date) -> String { String(ISO8601DateFormatter().string(from: date).prefix(10)) }

    @Sendable func invariants(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<InvariantReport> {
        let caller = try context.requireCaller()
        let tenant = caller.isPlatformStaff || caller.isService ? caller.tenantID : try caller.requireTenant()
        return JSONResponse(.ok, try await self.ledger.invariants(tenant: tenant, logger: context.logger))
    }
}

/// A statement as CSV: a header, the opening balance, one row per entry with the running balance, the closing one.
enum StatementCSV {
    static func render(_ statement: StatementDTO) -> String {
        let formatter = ISO8601DateFormatter()
        var lines = ["at,transaction_id,type,reference,reason,debit,credit,balance,currency"]
        let currency = statement.account.currency.code
        lines.append("\(formatter.string(from: statement.from)),,opening,,,,,\(statement.openingBalance.decimalString),\(currency)")
        for line in statement.lines {
            let debit = line.direction == .debit ? line.amount.decimalString : ""
            let credit = line.direction == .credit ? line.amount.decimalString : ""
            lines.append(
                [
                    formatter.string(from: line.at), line.transactionId.description, line.type.rawValue, CSVField.escape(line.reference),
                    CSVField.escape(line.reason ?? ""), debit, credit, line.balanceAfter.decimalString, currency,
                ].joined(separator: ","))
        }
        lines.append(
            "\(formatter.string(from: statement.to)),,closing,,,\(statement.totalDebits.decimalString),\(statement.totalCredits.decimalString),"
                + "\(statement.closingBalance.decimalString),\(currency)")
        return lines.joined(separator: "\r\n") + "\r\n"
    }
}
