import Foundation
import Models

/// The features a conversation reveals, read by rules when no language model is configured (the offline
/// responder's counterpart for extractions): words of buying, hurry and money in English, Swahili, French and
/// Kinyarwanda, the customer's own name and email, and how much they wrote. Each feature is 1 to 3, like the
/// model's, and the scores follow from them in code (`Scoring`).
enum FeatureRules {
    struct Found: Sendable, Equatable {
        var features: Scoring.Features
        var name: String?
        var email: String?
        var flags: [String: Bool]
        /// What a model read (the rules find none).
        var company: String? = nil
    }

    static let buying = [
        "buy", "purchase", "order", "want", "need", "interested", "price", "cost", "how much", "book", "rent", "nataka", "ningependa", "nunua",
        "bei", "ngapi", "kukodi", "acheter", "je veux", "commander", "prix", "combien", "louer", "intéressé", "ndashaka", "kugura", "igiciro",
        "angahe", "gukodesha",
    ]
    static let hurry = [
        "today", "now", "urgent", "asap", "tomorrow", "this week", "immediately", "quickly", "leo", "sasa", "haraka", "kesho", "wiki hii",
        "aujourd'hui", "maintenant", "demain", "vite", "cette semaine", "uyu munsi", "ubu", "vuba", "ejo", "iki cyumweru",
    ]
    static let money = [
        "budget", "afford", "pay", "cash", "loan", "mortgage", "pesa", "lipa", "mkopo", "payer", "prêt", "argent", "kwishyura", "amafaranga", "inguzanyo",
    ]
    static let currencies = ["kes", "ksh", "kshs", "rwf", "frw", "usd", "eur", "tzs", "ugx", "$", "€", "shillings", "bob"]
    static let details = [
        "where", "location", "address", "available", "size", "bedroom", "litre", "liter", "model", "when", "wapi", "iko", "vyumba", "lini",
        "où", "adresse", "disponible", "chambre", "quand", "hehe", "aderesi", "ryari", "ibyumba",
    ]
    static let callMe = ["call me", "phone me", "nipigie", "unipigie", "appelez-moi", "appelle-moi", "mpigire", "umpamagare"]
    static let visit = ["visit", "viewing", "see it", "come and see", "kuona", "kutembelea", "visiter", "voir", "gusura", "kureba"]
    static let namePhrases = [
        "my name is ", "i am ", "i'm ", "this is ", "naitwa ", "jina langu ni ", "mimi ni ", "je m'appelle ", "je suis ", "nitwa ", "izina ryanjye ni ",
    ]

    /// The features of what the customer wrote (their messages only, oldest first).
    static func extract(_ messages: [String]) -> Found {
        let text = messages.joined(separator: "\n").lowercased()
        func hits(_ words: [String]) -> Int { words.filter { text.contains($0) }.count }
        func level(_ count: Int) -> Int { count == 0 ? 1 : (count == 1 ? 2 : 3) }
        let intent = level(hits(Self.buying))
        let urgency = level(hits(Self.hurry))
        let amount = text.range(of: #"\d[\d,. ]{2,}"#, options: .regularExpression) != nil
        let budget = amount && hits(Self.currencies) > 0 ? 3 : ((amount || hits(Self.money) > 0) ? 2 : 1)
        let fit = intent == 1 ? 1 : (hits(Self.details) > 0 ? 3 : 2)
        let words = text.split(whereSeparator: \.isWhitespace).count
        let engagement = messages.count >= 6 || words >= 80 ? 3 : (messages.count >= 3 || words >= 25 ? 2 : 1)
        return Found(
            features: Scoring.Features(intent: intent, urgency: urgency, budget: budget, fit: fit, engagement: engagement),
            name: Self.name(in: messages), email: Self.email(in: text),
            flags: [
                "wantsCall": hits(Self.callMe) > 0, "wantsVisit": hits(Self.visit) > 0,
                "askedPrice": hits(["price", "how much", "bei", "ngapi", "prix", "combien", "igiciro", "angahe"]) > 0,
            ])
    }

    /// "My name is Amina Njeri" → "Amina Njeri": up to three capitalised words after a phrase that introduces one.
    static func name(in messages: [String]) -> String? {
        for message in messages {
            for phrase in Self.namePhrases {
                guard let range = message.range(of: phrase, options: [.caseInsensitive, .diacriticInsensitive]) else { continue }
                let words = message[range.upperBound...].split(whereSeparator: { $0.isWhitespace || $0 == "," || $0 == "." || $0 == "!" }).prefix(3)
                let name = words.prefix { $0.first?.isUppercase == true && $0.allSatisfy(\.isLetter) }
                if !name.isEmpty { return name.joined(separator: " ") }
            }
        }
        return nil
    }

    static func email(in text: String) -> String? {
        text.range(of: #"[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}"#, options: .regularExpression).map { String(text[$0]) }
    }
}
