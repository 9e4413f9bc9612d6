// sokoni-bench: the load generator. Scenarios (gateway, vouchers, …) arrive with the issues that measure them;
// each prints a table and, as its last line, one JSON object with its figures and ratios against an anchor.
import Foundation

let scenarios: [String: () async throws -> Void] = [
    "gateway": GatewayBenchmark.run,
    "vouchers": VouchersBenchmark.run,
    "messaging-ingest": MessagingIngestBenchmark.run,
    "replies": RepliesBenchmark.run,
    "retrieval": RetrievalBenchmark.run,
    "ledger": LedgerBenchmark.run,
    "booking": BookingBenchmark.run,
    "campaign": CampaignBenchmark.run,
]
let name = CommandLine.arguments.dropFirst().first ?? ""
guard let scenario = scenarios[name] else {
    let known = scenarios.keys.sorted().joined(separator: ", ")
    FileHandle.standardError.write(Data("usage: sokoni-bench <scenario>; scenarios: \(known.isEmpty ? "none yet" : known)\n".utf8))
    exit(64)
}
do {
    try await scenario()
} catch {
    FileHandle.standardError.write(Data("sokoni-bench \(name): \(error)\n".utf8))
    exit(1)
}
