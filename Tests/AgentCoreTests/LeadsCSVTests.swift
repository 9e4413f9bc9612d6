import Contracts
import Foundation
import Models
import NIOHTTP1
import PostgresNIO
import ServiceKit
import TestSupport
import Testing

@testable import AgentCore

/// Leads in and out as CSV: every row reported (created, merged into the phone's lead, or failed with the reason,
/// each row on its own), a dry run writes nothing, malformed files are refused whole with the line, and the export
/// carries what the list's filters select, safe to open in a spreadsheet.
@Suite struct LeadsCSVTests {
    static func upload(_ desk: LeadsTests.Desk, _ csv: String, query: String = "", token: String? = nil, contentType: String = "text/csv") async throws
        -> TestResponse
    {
        try await TestHTTP.request(
            .POST, "\(desk.gateway)/v1/leads/import\(query)", token: token ?? desk.admin, headers: ["Content-Type": contentType], body: Data(csv.utf8))
    }

    @Test func everyRowIsReportedAndTheGoodOnesAreImportedOnce() async throws {
        try await LeadsTests.with { desk in
            let existing = try await desk.lead("+254712001004", #","name":"Already here""#)
            let csv = """
                \u{FEFF}Phone,Name,Email,Company,Tags,Stage,opt_in,deal_value,deal_currency,Colour\r
                +254712001001,Amina,amina@example.com,"Acme, Ltd",vip;rent,qualified,true,1500.00,KES,red\r
                0712,Bad Phone,,,,,,,,\r
                +254712001002,Bad Mail,not-an-email,,,,,,,\r
                +254712001003,Nowhere,,,,atlantis,,,,\r
                +254712001004,,,"Filled in",,,,,,\r
                +254712001001,Again,,,late,,,,,\r
                +254712001005,Too,many,fields,,,,,,,,extra\r
                +254712001006,"=HYPERLINK(""x"")",,,,,no,,,\r

                """
            let dry = try await Self.upload(desk, csv, query: "?dryRun=true")
            #expect(dry.status == 200, "\(dry.text)")
            let checked = try dry.json(LeadsCSVController.ImportReport.self)
            #expect(checked.dryRun && checked.rows == 8 && checked.results.filter { $0.status == "valid" }.count == 4, "\(checked.results)")
            #expect(try await desk.count("SELECT count(*)::int FROM agent.leads") == 1)

            let answer = try await Self.upload(desk, csv)
            #expect(answer.status == 200, "\(answer.text)")
            let report = try answer.json(LeadsCSVController.ImportReport.self)
            #expect(report.rows == 8 && report.created == 2 && report.merged == 2 && report.failed == 4, "\(report)")
            #expect(report.ignoredColumns == ["colour"])
            #expect(report.results.map(\.line) == [2, 3, 4, 5, 6, 7, 8, 9])
            #expect(report.results.map(\.status) == ["created", "failed", "failed", "failed", "merged", "merged", "failed", "created"])
            #expect(
                report.results.compactMap(\.error?.code) == ["invalid_phone", "invalid_email", "unknown_stage", "invalid_row"], "\(report.results)")
            #expect(report.results[4].leadId == existing.id)
            let amina = try await desk.send(.GET, "/v1/leads/\(try #require(report.results[0].leadId))").json(LeadDTO.self)
            #expect(amina.company == "Acme, Ltd" && amina.tags == ["late", "rent", "vip"] && amina.stage == "qualified" && amina.source == .import)
            #expect(amina.dealValue == Money(minorUnits: 150_000, currency: .KES) && amina.email == "amina@example.com")
            #expect(try await desk.send(.GET, "/v1/leads/\(existing.id)").json(LeadDTO.self).company == "Filled in")
            #expect(try await desk.count("SELECT count(*)::int FROM agent.leads") == 3)
            // imported again: every good row is the same lead, nothing new
            let again = try await Self.upload(desk, csv).json(LeadsCSVController.ImportReport.self)
            #expect(again.created == 0 && again.merged == 4)
            #expect(try await desk.count("SELECT count(*)::int FROM agent.leads") == 3)

            // the export: what the filters select, a formula defused, a comma quoted
            let export = try await desk.send(.GET, "/v1/leads/export")
            #expect(export.status == 200 && export.headers["Content-Type"].first?.hasPrefix("text/csv") == true, "\(export.text)")
            let lines = export.text.split(separator: "\r\n").map(String.init)
            #expect(lines.count == 4 && lines[0].hasPrefix("id,phone,phones,name,email,company,status,score,stage"), "\(lines)")
            #expect(lines.contains { $0.contains(#""'=HYPERLINK(""x"")""#) && $0.contains(",false,") }, "\(lines)")
            #expect(lines.contains { $0.contains(#""Acme, Ltd""#) && $0.contains("late;rent;vip") && $0.contains("1500.00,KES") })
            let qualified = try await desk.send(.GET, "/v1/leads/export?stage=qualified").text.split(separator: "\r\n")
            #expect(qualified.count == 2)
        }
    }

    @Test func malformedFilesAreRefusedWholeAndOnlyManagersImport() async throws {
        try await LeadsTests.with { desk in
            for (csv, code) in [
                ("phone,name\n+254712001101,\"Open quote\n", "invalid_csv"),
                ("", "invalid_csv"),
                ("name,email\nAmina,a@example.com\n", "invalid_csv"),
                ("phone\n" + (0...2_000).map { "+2547120\(String(format: "%05d", $0))" }.joined(separator: "\n"), "too_many_rows"),
            ] {
                let refused = try await Self.upload(desk, csv)
                #expect(refused.status == 422 && refused.errorCode == code, "\(csv.prefix(40)): \(refused.text)")
            }
            let bytes = try await TestHTTP.request(
                .POST, "\(desk.gateway)/v1/leads/import", token: desk.admin, headers: ["Content-Type": "text/csv"],
                body: Data([0x70, 0x68, 0x6F, 0x6E, 0x65, 0x0A, 0xFF, 0xFE, 0x0A]))
            #expect(bytes.status == 422 && bytes.errorCode == "invalid_csv", "\(bytes.text)")
            let nul = try await Self.upload(desk, "phone\n+2547120\u{0}1\n")
            #expect(nul.status == 422 && nul.errorCode == "invalid_csv", "\(nul.text)")
            let json = try await Self.upload(desk, #"{"phone":"+254712001103"}"#, contentType: "application/json")
            #expect(json.status == 415, "\(json.text)")
            #expect(try await desk.count("SELECT count(*)::int FROM agent.leads") == 0)

            let agent = try await TestKeys.token(subject: UUID().uuidString.lowercased(), tenant: desk.tenant, roles: [.agent])
            #expect(try await Self.upload(desk, "phone\n+254712001104\n", token: agent).status == 403)
            let readonly = try await TestKeys.token(tenant: desk.tenant, roles: [.readonly])
            #expect(try await Self.upload(desk, "phone\n+254712001104\n", token: readonly).status == 403)
            // an agent exports only their own leads; another tenant exports none of these
            _ = try await Self.upload(desk, "phone\n+254712001105\n+254712001106\n")
            #expect(try await desk.send(.GET, "/v1/leads/export", token: agent).text.split(separator: "\r\n").count == 1)
            #expect(try await desk.send(.GET, "/v1/leads/export", token: readonly).text.split(separator: "\r\n").count == 3)
            let other = try await desk.platform.createTenant()
            let otherAdmin = try await TestKeys.token(tenant: other, roles: [.tenantAdmin])
            #expect(try await desk.send(.GET, "/v1/leads/export", token: otherAdmin).text.split(separator: "\r\n").count == 1)
        }
    }

    @Test func theReaderFollowsRFC4180() throws {
        let records = try CSVReader.records("a,\"b, c\",\"d \"\"e\"\"\"\r\n\r\n\"multi\nline\",x\nlast")
        #expect(records.map(\.line) == [1, 3, 5])
        #expect(records.map(\.fields) == [["a", "b, c", #"d "e""#], ["multi\nline", "x"], ["last"]])
        #expect(throws: CSVReader.Malformed(line: 2, reason: "a quote left open")) { try CSVReader.records("a\n\"open\n") }
        #expect(throws: CSVReader.Malformed(line: 1, reason: "text after a closing quote")) { try CSVReader.records("\"a\"b\n") }
        // a quote inside a field that did not start with one is kept as it is (as spreadsheets read it)
        #expect(try CSVReader.records("Amina \"Mimi\" Njeri,x").map(\.fields) == [[#"Amina "Mimi" Njeri"#, "x"]])
    }
}
