import Contracts
import Foundation
import Logging
import Models
import PostgresNIO
import ServiceKit

/// `agent-core seed-demo`: the demo tenant's agent, as a draft (a live one would answer every demo customer, which
/// a fresh platform has not asked for; "Try it" talks to it, "Go live" makes it answer), and FAQs in the
/// languages the offline responder speaks. Fixed ids, so running it again changes nothing.
enum DemoSeed {
    static let agent = UUID(uuidString: "00000000-0000-4000-8000-000000000a01")!

    static let faqs: [(id: String, category: String, question: String, answer: String, keywords: [String], language: String)] = [
        (
            "00000000-0000-4000-8000-000000000f01", "Stations", "What are your opening hours?",
            "Our stations are open every day from 6am to 10pm.", ["open", "hours", "time", "close"], "en"
        ),
        (
            "00000000-0000-4000-8000-000000000f02", "Stations", "Mnafungua saa ngapi?",
            "Vituo vyetu vinafunguliwa kila siku kuanzia saa 12 asubuhi hadi saa 4 usiku.", ["saa", "fungua", "mnafungua", "funga"], "sw"
        ),
        (
            "00000000-0000-4000-8000-000000000f03", "Vouchers", "How do I use a fuel voucher?",
            "Show the voucher's QR code or tell its code to the attendant at any of our stations before you pay.",
            ["voucher", "use", "redeem", "qr"], "en"
        ),
        (
            "00000000-0000-4000-8000-000000000f04", "Vouchers", "Nakoresha nte voucher?",
            "Erekana QR code ya voucher cyangwa ubwire umukozi wa sitasiyo kode yayo mbere yo kwishyura.", ["voucher", "koresha", "nakoresha", "kode"],
            "rw"
        ),
        (
            "00000000-0000-4000-8000-000000000f05", "Stations", "Quelles sont vos heures d'ouverture ?",
            "Nos stations sont ouvertes tous les jours de 6 h à 22 h.", ["heures", "ouverture", "ouvert", "horaires"], "fr"
        ),
    ]

    static func run(postgres: PostgresClient, logger: Logger) async throws {
        try await postgres.withTransaction(logger: logger) { connection in
            try await connection.query(
                """
                INSERT INTO agent.agents (id, tenant_id, name, kind, product, languages, tone, status)
                VALUES (\(Self.agent), \(DemoData.tenant.rawValue), 'Demo helper', 'support', 'Fuel vouchers', '{en,sw,rw,fr}', 'rafiki', 'draft')
                ON CONFLICT (id) DO NOTHING
                """, logger: logger)
            for (order, faq) in Self.faqs.enumerated() {
                try await connection.query(
                    """
                    INSERT INTO agent.faqs (id, tenant_id, category, question, answer, keywords, language, display_order)
                    VALUES (\(UUID(uuidString: faq.id)!), \(DemoData.tenant.rawValue), \(faq.category), \(faq.question), \(faq.answer), \(faq.keywords),
                            \(faq.language), \(order))
                    ON CONFLICT (id) DO NOTHING
                    """, logger: logger)
            }
        }
    }
}
