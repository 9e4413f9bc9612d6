import Foundation

/// The languages Sokoni's customers write in.
public enum LanguageCode: String, Codable, Sendable, CaseIterable {
    case en, sw, sheng, rw, fr
}

public struct DetectedLanguage: Sendable, Equatable, Codable {
    public var language: LanguageCode
    /// 0…1: the winner's share of the evidence, lower for short texts.
    public var confidence: Double
}

/// A word-list detector for short chat messages. Statistical detectors need more text than a WhatsApp message
/// has and do not know Sheng or Kinyarwanda; marker words do, deterministically and without dependencies.
public enum LanguageDetector {
    static let markers: [LanguageCode: Set<String>] = [
        .en: [
            "the", "is", "are", "you", "i", "what", "how", "much", "price", "please", "want", "buy", "hello", "hi", "thanks", "thank", "and", "for",
            "my", "this", "that", "can", "do", "does", "where", "when", "yes", "no", "voucher", "fuel", "today", "tomorrow", "have", "need", "with",
            "of", "to", "it", "me", "good", "morning", "evening", "send", "help", "still", "valid", "order", "deliver", "will", "be", "your",
        ],
        .sw: [
            "habari", "asante", "sana", "nataka", "kununua", "bei", "gani", "ni", "na", "wa", "ya", "kwa", "hii", "hapa", "leo", "kesho",
            "tafadhali", "ndiyo", "hapana", "mimi", "wewe", "yako", "yangu", "niko", "nina", "unaweza", "karibu", "je", "nini", "wapi", "lini",
            "ngapi", "kiasi", "mafuta", "pesa", "shilingi", "nitumie", "naomba", "kujua", "bado", "sijapata", "nimepata", "asubuhi", "jioni",
            "mchana", "rafiki", "samahani", "tena", "kwenye", "kituo", "hivi", "sasa", "hiyo", "huduma", "ninahitaji", "tuna", "zako",
        ],
        .sheng: [
            "niaje", "poa", "manze", "msee", "fiti", "mbogi", "doh", "ganji", "nduthi", "maze", "mambo", "vipi", "buda", "dem", "noma", "fala", "rada",
            "mathree", "ngori", "mzing", "sasa", "bana", "wasee", "form", "mtu", "kwani", "mnaeza", "naeza", "iko", "ndio", "mzae", "kuna", "sawa",
            "uko", "bro", "sema", "chapaa", "mula", "keja", "mbao", "finje", "ocha", "shash", "zii", "hao", "nare",
        ],
        .rw: [
            "muraho", "amakuru", "murakoze", "cyane", "yego", "oya", "ndashaka", "kugura", "amafaranga", "iki", "uyu", "ubu", "ejo", "mwiriwe",
            "mwaramutse", "nde", "ese", "ntabwo", "nshaka", "igiciro", "angahe", "kumenya", "cya", "lisansi", "mwebwe", "njye", "wowe", "neza",
            "mbese", "rwose", "nimero", "kohereza", "ndabona", "sinabonye", "ryo", "byo", "kuri", "muri", "iyi", "aha", "none", "mfite", "turi",
        ],
        .fr: [
            "bonjour", "merci", "je", "vous", "le", "la", "les", "est", "pour", "avec", "une", "des", "combien", "prix", "voudrais", "acheter", "oui",
            "non", "plait", "mon", "ma", "votre", "bonsoir", "aujourd", "hui", "demain", "carburant", "bon", "suis", "pas", "que", "quoi", "ou",
            "quand", "comment", "encore", "valable", "envoyer", "besoin", "j", "c", "d", "l", "qu", "salut", "du", "au", "et", "mais",
        ],
    ]

    /// Words shared by several languages count less: "sasa" is Swahili and Sheng, "no" is English and more.
    static let weights: [String: Double] = {
        var counts: [String: Int] = [:]
        for words in markers.values { for word in words { counts[word, default: 0] += 1 } }
        return counts.mapValues { 1 / Double($0) }
    }()

    static func words(_ text: String) -> [String] {
        let folded = text.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil)
        return folded.split { !$0.isLetter }.map(String.init)
    }

    public static func detect(_ text: String) -> DetectedLanguage? {
        let words = Self.words(text)
        guard !words.isEmpty else { return nil }
        var scores: [LanguageCode: Double] = [:]
        for word in words {
            for (language, list) in Self.markers where list.contains(word) { scores[language, default: 0] += Self.weights[word] ?? 1 }
            // Kinyarwanda's consonant clusters and Swahili's verb shapes, for words no list knows
            if word.count > 4 {
                if word.contains("cy") || word.contains("rw") || word.hasPrefix("nda") || word.hasPrefix("mwa") || word.hasPrefix("ku") && word.hasSuffix("ra")
                {
                    scores[.rw, default: 0] += 0.3
                }
                if (word.hasPrefix("nina") || word.hasPrefix("nita") || word.hasPrefix("nili") || word.hasPrefix("tuna") || word.hasPrefix("una"))
                    && !word.contains("cy")
                {
                    scores[.sw, default: 0] += 0.3
                }
            }
        }
        // Sheng is Swahili grammar with its own words: its markers decide between the two
        if let sheng = scores[.sheng], let swahili = scores[.sw], sheng >= 1 { scores[.sheng] = sheng + swahili * 0.5 }
        guard let (language, best) = scores.max(by: { $0.value < $1.value || ($0.value == $1.value && $0.key.rawValue > $1.key.rawValue) }),
            best > 0
        else { return nil }
        let total = scores.values.reduce(0, +)
        let share = best / total
        // one or two words are thin evidence
        let certainty = min(1, Double(words.count) / 4)
        return DetectedLanguage(language: language, confidence: 0.5 + (share - 0.5) * certainty)
    }
}

/// Opt-out and opt-in words in the languages customers write. A message is one only when it is nothing but the
/// word ("STOP!", "acha"), so "don't stop sending" is not an opt-out.
public enum OptOutKeywords {
    public enum Intent: Sendable, Equatable {
        case optOut, optIn
    }

    static let optOut: [(String, LanguageCode)] = [
        ("stop", .en), ("stopall", .en), ("unsubscribe", .en), ("cancel", .en), ("end", .en), ("quit", .en), ("optout", .en), ("opt out", .en),
        ("acha", .sw), ("sitisha", .sw), ("ondoa", .sw), ("jiondoe", .sw), ("simamisha", .sw), ("sitaki", .sw),
        ("hagarika", .rw), ("reka", .rw), ("kuvamo", .rw), ("sinshaka", .rw),
        ("arret", .fr), ("arreter", .fr), ("desabonner", .fr), ("desinscrire", .fr), ("desabonnement", .fr),
    ]
    static let optIn: [(String, LanguageCode)] = [
        ("start", .en), ("unstop", .en), ("subscribe", .en), ("anza", .sw), ("endelea", .sw), ("tangira", .rw), ("komeza", .rw),
        ("demarrer", .fr), ("reprendre", .fr),
    ]

    static func normalised(_ text: String) -> String {
        let folded = text.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil)
        let trimmed = folded.trimmingCharacters(in: .whitespacesAndNewlines.union(.punctuationCharacters))
        return trimmed.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    public static func intent(of text: String, extra: [String] = [], extraOptIn: [String] = []) -> (intent: Intent, language: LanguageCode)? {
        let word = Self.normalised(text)
        guard !word.isEmpty, word.count <= 40 else { return nil }
        if let hit = Self.optOut.first(where: { $0.0 == word }) { return (.optOut, hit.1) }
        if let hit = Self.optIn.first(where: { $0.0 == word }) { return (.optIn, hit.1) }
        if extra.map(Self.normalised).contains(word) { return (.optOut, LanguageDetector.detect(text)?.language ?? .en) }
        if extraOptIn.map(Self.normalised).contains(word) { return (.optIn, LanguageDetector.detect(text)?.language ?? .en) }
        return nil
    }
}

/// The confirmation a contact gets, in their language.
public enum OptOutReplies {
    public static func confirmation(_ intent: OptOutKeywords.Intent, language: LanguageCode) -> String {
        switch (intent, language) {
        case (.optOut, .en): "You will no longer receive messages from us. Reply START to subscribe again."
        case (.optOut, .sw), (.optOut, .sheng): "Hutapokea tena ujumbe kutoka kwetu. Jibu ANZA kujiunga tena."
        case (.optOut, .rw): "Ntuzongera kwakira ubutumwa bwacu. Subiza TANGIRA kugira ngo wongere kubwakira."
        case (.optOut, .fr): "Vous ne recevrez plus nos messages. Répondez DEMARRER pour vous réabonner."
        case (.optIn, .en): "You are subscribed again. Reply STOP to stop."
        case (.optIn, .sw), (.optIn, .sheng): "Umejiunga tena. Jibu ACHA kusitisha."
        case (.optIn, .rw): "Wongeye kwiyandikisha. Subiza HAGARIKA kugira ngo uhagarike."
        case (.optIn, .fr): "Vous êtes de nouveau abonné. Répondez ARRET pour arrêter."
        }
    }
}
