// Domain: the built-in offline responder, no I/O (docs/CONTRIBUTING.md).
//
// A rule-based stand-in for a language model, so the platform answers customers on one machine with nothing
// outside: it recognises a few intents (a person asked for, a voucher's status, a greeting), answers from the
// tenant's FAQs by keyword and word overlap, and says so plainly when it has no answer. It never invents facts:
// what it says comes from an FAQ, a tool's answer, or a fixed phrase in the customer's language.
import Foundation

enum OfflineResponder {
    /// What to do with the customer's last message.
    enum Plan: Equatable {
        case handoff(reason: String)
        case voucherStatus(code: String)
        case faq(index: Int)
        /// A passage of the knowledge base (no FAQ matched well).
        case knowledge(index: Int)
        case greeting
        case noAnswer
    }

    /// The customer's language as the responder speaks it: Sheng as Swahili; one the agent was not given (a short
    /// message is easily taken for another language) or none, the agent's first.
    static func language(_ detected: String?, agentLanguages: [String]) -> String {
        let spoken = agentLanguages.map { $0 == "sheng" ? "sw" : $0 }.filter { ["en", "sw", "rw", "fr"].contains($0) }
        let heard = detected == "sheng" ? "sw" : detected
        if let heard, ["en", "sw", "rw", "fr"].contains(heard), spoken.isEmpty || spoken.contains(heard) { return heard }
        return spoken.first ?? "en"
    }

    static let handoffWords: Set<String> = [
        "person", "human", "someone", "operator", "representative", "mtu", "binadamu", "mhudumu", "umuntu", "umukozi", "personne", "humain",
        "conseiller", "agent",
    ]
    static let voucherWords: Set<String> = ["voucher", "vouchers", "vocha", "kodi", "code", "bon", "coupon", "itike", "tike", "kupon"]
    static let greetingWords: Set<String> = [
        "hello", "hi", "hey", "habari", "jambo", "mambo", "sasa", "niaje", "muraho", "mwaramutse", "mwiriwe", "bonjour", "salut", "bonsoir",
    ]

    /// Lower-cased words, letters and digits only (accents kept: "arrêt").
    static func words(_ text: String) -> [String] {
        text.lowercased().split { !($0.isLetter || $0.isNumber) }.map(String.init)
    }

    /// A voucher code in the message: five letters and digits written in capitals, or any five when the customer
    /// speaks of a voucher.
    static func voucherCode(in text: String) -> String? {
        let tokens = text.split { !($0.isLetter || $0.isNumber) }.map(String.init)
        let mentionsVoucher = tokens.contains { Self.voucherWords.contains($0.lowercased()) }
        return tokens.first { token in
            token.count == 5 && token.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) })
                && ((token == token.uppercased() && token.contains(where: \.isNumber)) || (mentionsVoucher && token.uppercased() == token))
        }?.uppercased()
    }

    struct FaqEntry: Equatable {
        var question: String
        var keywords: [String]
        var language: String
    }

    /// The best FAQ for the message: keyword hits count twice, question words once, the customer's language a
    /// little; nothing under two points (one shared word is not an answer).
    static func bestFaq(_ text: String, faqs: [FaqEntry], language: String) -> Int? {
        let said = Set(Self.words(text))
        var best: (index: Int, score: Double)?
        for (index, faq) in faqs.enumerated() {
            let keywordHits = faq.keywords.filter { keyword in
                let parts = Self.words(keyword)
                return !parts.isEmpty && parts.allSatisfy(said.contains)
            }.count
            let questionHits = Set(Self.words(faq.question)).filter { $0.count > 3 }.intersection(said).count
            var score = Double(keywordHits * 2 + questionHits)
            if faq.language == language { score += 0.5 }
            if score >= 2, score > (best?.score ?? 0) { best = (index, score) }
        }
        return best?.index
    }

    /// A knowledge passage as the search scored it.
    struct Passage: Equatable {
        var ftsRank: Double?
        var vectorScore: Double
    }

    /// The best passage worth answering with: the text search found it and its embedding is not far off, or its
    /// embedding alone is close. Passages come best first.
    static func bestPassage(_ passages: [Passage]) -> Int? {
        passages.firstIndex { ($0.ftsRank != nil && $0.vectorScore >= 0.2) || $0.vectorScore >= 0.45 }
    }

    /// A passage as an answer: its first sentences, up to about 600 characters.
    static func passageText(_ content: String) -> String {
        let text = content.trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.count > 600 else { return text }
        let head = text.prefix(600)
        if let end = head.lastIndex(where: { ".!?".contains($0) }), head.distance(from: head.startIndex, to: end) > 200 {
            return String(head[...end])
        }
        return String(head) + "…"
    }

    static func plan(
        _ text: String, faqs: [FaqEntry], language: String, extraHandoffWords: [String], tools: Set<ToolName>, knowledge: [Passage] = []
    ) -> Plan {
        let said = Set(Self.words(text))
        let handoff = Self.handoffWords.union(extraHandoffWords.map { $0.lowercased() })
        if !said.isDisjoint(with: handoff) || text.lowercased().contains("talk to a person") { return .handoff(reason: "asked_for_person") }
        if tools.contains(.voucherStatus), let code = Self.voucherCode(in: text) { return .voucherStatus(code: code) }
        if let index = Self.bestFaq(text, faqs: faqs, language: language) { return .faq(index: index) }
        if !said.isDisjoint(with: Self.greetingWords), said.count <= 4 { return .greeting }
        if let index = Self.bestPassage(knowledge) { return .knowledge(index: index) }
        return .noAnswer
    }

    // MARK: words, per language

    static func handoffText(_ language: String) -> String {
        switch language {
        case "sw": "Sawa, ninakuunganisha na mhudumu. Atakujibu hivi punde."
        case "rw": "Yego, ngiye kuguhuza n'umukozi wacu. Arakusubiza vuba."
        case "fr": "D'accord, je vous mets en relation avec une personne. Elle vous répond très vite."
        default: "Sure, I'm connecting you with a person. They will answer you shortly."
        }
    }

    static func greetingText(_ language: String, agent: String) -> String {
        switch language {
        case "sw": "Habari! Mimi ni \(agent). Nikusaidie vipi leo?"
        case "rw": "Muraho! Ndi \(agent). Nagufasha iki uyu munsi?"
        case "fr": "Bonjour ! Je suis \(agent). Comment puis-je vous aider aujourd'hui ?"
        default: "Hello! I'm \(agent). How can I help you today?"
        }
    }

    static func noAnswerText(_ language: String) -> String {
        switch language {
        case "sw": "Samahani, sijaelewa vizuri. Unaweza kueleza zaidi, au uandike \"mtu\" kuongea na mhudumu."
        case "rw": "Mbabarira, sinabyumvise neza. Wasobanura kurushaho, cyangwa wandike \"umuntu\" kugira ngo uvugane n'umukozi."
        case "fr": "Pardon, je n'ai pas bien compris. Pouvez-vous préciser, ou écrire « personne » pour parler à quelqu'un ?"
        default: "Sorry, I didn't quite get that. Could you say more, or write \"person\" to talk to someone?"
        }
    }

    /// A voucher's status in words: `issued`/`sent` usable (until when), `redeemed`, `expired`, `void`, or none found.
    static func voucherText(_ status: String?, code: String, amount: String?, expires: Date?, language: String) -> String {
        let day = expires.map { Self.day($0) }
        switch (status, language) {
        case ("issued", "sw"), ("sent", "sw"):
            return "Vocha \(code)\(amount.map { " ya \($0)" } ?? "") ni halali\(day.map { " hadi \($0)" } ?? ""). Ionyeshe kituoni."
        case ("issued", "rw"), ("sent", "rw"):
            return "Voucher \(code)\(amount.map { " ya \($0)" } ?? "") iracyakora\(day.map { " kugeza \($0)" } ?? ""). Yerekane kuri sitasiyo."
        case ("issued", "fr"), ("sent", "fr"):
            return "Le bon \(code)\(amount.map { " de \($0)" } ?? "") est valable\(day.map { " jusqu'au \($0)" } ?? ""). Présentez-le à la station."
        case ("issued", _), ("sent", _):
            return "Voucher \(code)\(amount.map { " for \($0)" } ?? "") is valid\(day.map { " until \($0)" } ?? ""). Show it at the station."
        case ("redeemed", "sw"): return "Vocha \(code) imeshatumika."
        case ("redeemed", "rw"): return "Voucher \(code) yamaze gukoreshwa."
        case ("redeemed", "fr"): return "Le bon \(code) a déjà été utilisé."
        case ("redeemed", _): return "Voucher \(code) has already been used."
        case ("expired", "sw"), ("void", "sw"): return "Vocha \(code) haitumiki tena."
        case ("expired", "rw"), ("void", "rw"): return "Voucher \(code) ntigikora."
        case ("expired", "fr"), ("void", "fr"): return "Le bon \(code) n'est plus valable."
        case ("expired", _), ("void", _): return "Voucher \(code) is no longer valid."
        case (_, "sw"): return "Sikupata vocha \(code) kwa namba yako."
        case (_, "rw"): return "Sinabonye voucher \(code) kuri nimero yawe."
        case (_, "fr"): return "Je ne trouve pas de bon \(code) pour votre numéro."
        default: return "I couldn't find voucher \(code) for your number."
        }
    }

    static func voucherUnavailableText(_ language: String) -> String {
        switch language {
        case "sw": "Siwezi kuangalia vocha sasa hivi. Jaribu tena baadaye kidogo."
        case "rw": "Ntabwo nshobora kureba voucher ubu. Ongera ugerageze nyuma gato."
        case "fr": "Je ne peux pas vérifier les bons pour le moment. Réessayez un peu plus tard."
        default: "I can't check vouchers right now. Please try again a little later."
        }
    }

    static func day(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        return formatter.string(from: date)
    }
}
