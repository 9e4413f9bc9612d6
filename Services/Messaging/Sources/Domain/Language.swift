import Foundation

// Languages of customer messages, and the opt-out words customers write in them.
//
// Why a word-list detector: customers write WhatsApp and SMS messages of one to forty words. Statistical detectors
// (character n-gram models, CLD, fastText) need more text than that to be reliable, most do not know Sheng at all and
// know Kinyarwanda poorly, and they would add a dependency or a model file to the service. Weighted marker words from
// real chats, with a few affix hints for words no list knows, get short texts right, are deterministic (the same text
// always gives the same answer, so tests and replays agree) and cost nothing at runtime.

/// The languages Sokoni's customers write in. Sheng is Nairobi's Swahili-English street slang.
public enum LanguageCode: String, Codable, Sendable, CaseIterable {
    case en, sw, sheng, rw, fr
}

public struct DetectedLanguage: Sendable, Equatable, Codable {
    public var language: LanguageCode
    /// 0…1: the winner's share of the evidence, shrunk toward 0.5 for very short texts.
    public var confidence: Double

    public init(language: LanguageCode, confidence: Double) {
        self.language = language
        self.confidence = confidence
    }
}

/// Detects the language of a short chat message from weighted marker words and affix hints.
public enum LanguageDetector {
    /// The language of `text`, or nil when nothing in it is evidence of a language (empty, numbers, emoji, links).
    public static func detect(_ text: String) -> DetectedLanguage? {
        let words = TextNormaliser.words(text)
        guard !words.isEmpty else { return nil }
        var scores = Scores()
        var shengStrong = 0.0
        var swahiliHits = 0
        var englishHits = 0
        for word in words {
            if let weights = Lexicon.weights[word] {
                for (language, weight) in weights { scores[language] += weight }
                if Lexicon.shengStrong.contains(word) { shengStrong += weights[.sheng] ?? 0 }
                if Lexicon.shengHalf.contains(word) {
                    shengStrong += 1
                    englishHits += 1
                }
                let english = weights[.en] ?? 0
                let swahili = weights[.sw] ?? 0
                if swahili > english && swahili >= 1 && (weights[.rw] ?? 0) < swahili { swahiliHits += 1 }
                if english > swahili && english >= 1 && !Lexicon.loanwords.contains(word) { englishHits += 1 }
            } else if Affixes.isShengVerb(word) {
                // Swahili verb grammar around an English root ("nimesend", "haiworki", "kubuy")
                scores[.sheng] += 2
                shengStrong += 2
            } else {
                for (language, weight) in Affixes.hints(word) { scores[language] += weight }
            }
        }
        // Sheng is Swahili grammar with its own words and English ones: a Sheng marker, or Swahili and English
        // mixed in one message, makes the Swahili (and English) evidence Sheng's.
        let mixed = swahiliHits >= 2 && englishHits >= 2 && scores[.sw] >= 0.4 * scores[.en]
        let bantuEnglish = scores[.sheng] + scores[.sw] + scores[.en]
        if (shengStrong >= 2 || mixed) && bantuEnglish > 1.5 * (scores[.rw] + scores[.fr]) {
            let fromSwahili = 0.8 * scores[.sw]
            let fromEnglish = 0.6 * scores[.en]
            scores[.sheng] += fromSwahili + fromEnglish
            scores[.sw] -= fromSwahili
            scores[.en] -= fromEnglish
        }
        guard let (language, best) = scores.best, best > 0 else { return nil }
        let share = best / scores.total
        // one or two words are thin evidence, however one-sided
        let certainty = min(1, Double(words.count + 1) / 6)
        let confidence = min(1, max(0, 0.5 + (share - 0.5) * certainty))
        return DetectedLanguage(language: language, confidence: confidence)
    }

    /// A score per language, with a fixed order for ties (Swahili before Sheng: a lone "sawa" is Swahili).
    struct Scores {
        static let order: [LanguageCode] = [.en, .sw, .rw, .fr, .sheng]
        private var values: [LanguageCode: Double] = [:]

        subscript(language: LanguageCode) -> Double {
            get { self.values[language] ?? 0 }
            set { self.values[language] = newValue }
        }

        var total: Double { Self.order.reduce(0) { $0 + self[$1] } }

        var best: (LanguageCode, Double)? {
            var best: (LanguageCode, Double)?
            for language in Self.order where self[language] > (best?.1 ?? 0) { best = (language, self[language]) }
            return best
        }
    }
}

/// Lowercasing, diacritic folding and tokenising, shared by the detector and the keywords.
enum TextNormaliser {
    /// Lowercased, diacritics folded (é → e, ç → c), ligatures spelt out.
    static func fold(_ text: String) -> String {
        text.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil).lowercased()
            .replacingOccurrences(of: "œ", with: "oe").replacingOccurrences(of: "æ", with: "ae")
    }

    /// The words of a message: folded, without links, e-mail addresses and numbers, stretched letters squeezed
    /// ("poaaa" → "poa"), split at anything that is not a letter (so "s'il" is "s", "il").
    static func words(_ text: String) -> [String] {
        let chunks = Self.fold(text).split(whereSeparator: \.isWhitespace).filter { !Self.isLink($0) }
        var joined = chunks.joined(separator: " ")
        joined = joined.replacingOccurrences(of: "m-pesa", with: "mpesa").replacingOccurrences(of: "m pesa", with: "mpesa")
        // Sheng's plural "ma-" on English nouns ("ma-voucher") is one word
        joined = joined.replacingOccurrences(of: "(^|[^a-z])ma-([a-z])", with: "$1ma$2", options: .regularExpression)
        return joined.split { !$0.isLetter }.map { Self.squeezed(String($0)) }
    }

    /// "pleeease", "poaaa", "asanteee": a letter three times or more in a row is one letter.
    static func squeezed(_ word: String) -> String {
        var result = ""
        var run: [Character] = []
        for character in word {
            if let last = run.last, last != character {
                result.append(contentsOf: run.count >= 3 ? [last] : run)
                run.removeAll()
            }
            run.append(character)
        }
        if let last = run.last { result.append(contentsOf: run.count >= 3 ? [last] : run) }
        return result
    }

    static let topLevelDomains: Set<String> = [
        "com", "ke", "rw", "tz", "ug", "fr", "org", "net", "co", "io", "info", "app", "me", "ly", "biz", "africa", "gov", "edu",
    ]

    /// "https://…", "www.…", "sokoni.co.ke/offers", "name@example.com".
    static func isLink(_ chunk: Substring) -> Bool {
        if chunk.contains("://") || chunk.hasPrefix("www.") || chunk.contains("@") { return true }
        let host = chunk.split(separator: "/", maxSplits: 1).first ?? chunk
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, let last = labels.last else { return false }
        let tld = last.trimmingCharacters(in: .punctuationCharacters)
        return topLevelDomains.contains(tld) && labels.dropLast().allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" } }
    }
}

/// Marker words per language with weights: 3 for a word that names its language ("habari", "muraho", "bonjour"),
/// 2 for an ordinary frequent word, 1 or less for short words the languages share ("ni", "na", "la", "a").
enum Lexicon {
    static let english: [(Double, String)] = [
        (
            3,
            """
            the hello hi hey thanks thank please what how why where which would could should does doesn didn haven isn \
            aren wasn don won ain want need know tell much many thing anything something yesterday tomorrow morning \
            afternoon evening tonight received receive bought nearest refund weekend sunday monday saturday person \
            sorry working worked expired there their they them these those people cheers
            """
        ),
        (
            2,
            """
            is are was were be been am i you he she it we my your our this that who when do did have has had can will \
            shall may might not yes and or but for of to in at with from by about if so just still yet already any some \
            all get got like send sent buy pay paid price prices cost costs fuel petrol diesel today night good great \
            help problem order delivery deliver valid expire balance account number message again wait time now later \
            soon work open close talk list check pump discount cash money deal issue cool nice sure free again here \
            litres liters litre liter shillings receipt card phone call asap plz pls thx ll ve re
            """
        ),
        (1, "a an me no on t s m d"),
    ]

    /// Words Kenyans, Rwandans and English speakers all use: English evidence, but not English mixed into Swahili.
    static let loanwords: Set<String> = [
        "voucher", "vouchers", "offer", "offers", "ok", "okay", "sms", "mpesa", "code", "app", "link", "pin", "promo", "momo", "station",
        "airtel", "safaricom", "mtn", "bolt", "uber",
    ]

    static let swahili: [(Double, String)] = [
        (
            3,
            """
            habari asante tafadhali nataka unataka tunataka kununua ndiyo hapana samahani karibu karibuni naomba \
            nashukuru shukrani unaweza ninaweza tunaweza mnaweza naweza sijapata hatujapata nimepata nimepokea \
            nimelipa nimetuma nimeelewa ninahitaji nahitaji nilikuwa kujua ngapi gani wapi lini kwanini mafuta petroli \
            dizeli shilingi elfu vocha ujumbe huduma kituo chenu kiko mteja wateja kesho jana asubuhi mchana jioni \
            usiku lakini kwamba hivyo hizi huyu yule wale yangu yetu yenu zako zangu wangu wetu wenu changu chako \
            kwenu kwetu kwako kwangu mimi wewe yeye sisi nyinyi ninyi niko tuko hakuna sina hatuna hamna kulipa \
            kupata kutuma kuchukua kuleta kufika kusaidia nisaidie nitumie nipe nipatie sielewi sijui najua \
            mbili tatu nne tano sita saba nane tisa kumi ishirini kidogo zaidi haraka pole polepole rafiki ndugu \
            siku muda kazi malipo risiti nambari mzigo bidhaa duka sokoni zamani mpya nzuri vizuri mbaya ghali \
            rahisi bure punguzo ofa oda imeisha imekwisha haifanyi inafanya tafuta nimefika nitakuja ninakuja \
            mnafungua mnafunga mnauza mnaleta lita orodha kodi wiki mwezi mwaka leo ndio kabisa kweli sawasawa \
            tutaonana vipi acha sitisha ondoa jiondoe simamisha sitaki anza endelea
            """
        ),
        (
            2,
            """
            bei sana hii hapa pale huko yako yake iko ipo kiko kipo ziko uko yuko mko nina una ana tuna mna wana kuna \
            je nini nani tena bado pia sababu hiyo moja mia pesa saa simu namba bwana dada mama baba tu hata ili mpaka \
            hadi kama au katika kwenye mambo sawa sasa kwani sema si ama kitu hivi wako mtu watu
            """
        ),
        (1, "ni na wa ya za cha vya kwa"),
        (0.5, "la poa"),
    ]

    /// Words only Sheng has: one of them makes a message Sheng (with Swahili or English around it).
    static let shengStrongWords = """
        niaje niajeje manze msee wasee fiti mbogi doh dooh ganji nduthi maze buda budake dem noma fala rada mathree \
        ngori mzing mzinga chapaa mula keja mbao finje ocha shash zii nare beshte mresh msupa sonko mbesha mathe fathe \
        mzae mtoi kuomoka kudinya kubonga poa sahii saii mnaeza naeza unaeza tunaeza anaeza nitakam nikam kukam \
        tukam kuchill ndai kanjo fom ivo ivi mbuyu aki wueh sasawa mosmos
        """

    static let sheng: [(Double, String)] = [
        (3, shengStrongWords),
        (2, shengHalfWords),
        (1.5, "sema"),
        (1, "sasa sawa kwani ata si matatu"),
    ]

    static let kinyarwanda: [(Double, String)] = [
        (
            3,
            """
            muraho mwiriwe mwaramutse mwaramukanye amakuru murakoze urakoze turakoze cyane yego oya ndashaka nshaka \
            ndifuza nifuza ndagira nagira kugura amafaranga amafranga igiciro ibiciro angahe ese mbese ntabwo \
            sinabonye ndabona nabonye mfite mufite dufite ufite afite ntafite nimero ubutumwa kohereza nohereze \
            mwohereze kunyoherereza mwanyoherereza mushobora nshobora ushobora dushobora lisansi esanse mazutu \
            sitasiyo imodoka yanjye yawe yanyu yacu wanjye wawe wanyu bwanjye cyanjye ryanjye byanjye njye wowe \
            mwebwe twebwe ryari gute kuki none noneho nonaha vuba ejo kandi cyangwa ariko niba rero kubera kugeza \
            neza meza byiza nabi mwiza rwose ndakumva ndumva sinumva sinzi simbizi ndabizi mbabarira mumbabarire \
            ihangane tegereza ntegereje ndategereje kwishyura nishyuye nishyura yishyuye byarangiye birakora \
            ntibikora ikora ntikora yageze ryageze byageze yaje yaraje nzaza nzagaruka umunsi icyumweru ukwezi \
            isaha litiro icumi ibihumbi igihumbi magana bitanu bibiri bitatu rimwe kabiri nyamuneka mufungura \
            mufunga ikarita telefoni umukozi abakozi serivisi ibicuruzwa igicuruzwa kubona nabubonye nakiriye \
            narabonye nabibonye kumenya ndabaza mwambwira mwamfasha amasaha iminsi cya bya rya twa hehe kode \
            bite ndaho turaho twese buri nabona nabone hagarika kuvamo sinshaka \
            tangira komeza reka
            """
        ),
        (2, "iki uyu iyi ibi aba aho hano ubu iri biri uri ndi turi muri kuri nde munsi iyo uwo hari nta ayo"),
        (1, "mu ku se he"),
        (0.5, "ni na wa ya kwa saa"),
    ]

    static let french: [(Double, String)] = [
        (
            3,
            """
            bonjour bonsoir salut merci beaucoup voudrais voulez veux vouloir pouvez peux pourriez puis combien coute \
            prix acheter achat payer paye paiement carburant essence gasoil gazole recu envoyer envoye envoyez \
            aujourd hui demain hier maintenant encore toujours deja valable valide expire commande livraison livrer \
            madame monsieur excusez desole accord journee soiree rien quelqu quelque chose aide aider probleme marche \
            fonctionne remboursement rembourse ouvert ouverts ouvre ferme dimanche lundi samedi proche trouve parler \
            pompe liste plait svp stp offre etes avez avons sont suis je vous nous est les une des pour avec dans chez \
            mais donc quoi quel quelle quand comment pourquoi oui pas tres bien votre vos notre moi toi ca etre avoir \
            faire fait peut litre litres francs solde compte numero recevoir parce aussi arret arreter arrete \
            desabonner desinscrire demarrer reprendre
            """
        ),
        (2, "tu il elle ils le du au aux ce cette ces c qu qui que ou non ne n plus mon ma mes ton ta lui va bon bons sur sans par et"),
        (1.5, "la de"),
        (1, "j l d s y en se m t a on me"),
    ]

    static let weights: [String: [LanguageCode: Double]] = {
        var weights: [String: [LanguageCode: Double]] = [:]
        func add(_ tiers: [(Double, String)], _ language: LanguageCode) {
            for (weight, list) in tiers {
                for word in set(list) {
                    weights[word, default: [:]][language] = max(weights[word]?[language] ?? 0, weight)
                }
            }
        }
        add(english, .en)
        add(swahili, .sw)
        add(sheng, .sheng)
        add(kinyarwanda, .rw)
        add(french, .fr)
        for word in loanwords where weights[word]?[.en] == nil { weights[word, default: [:]][.en] = 0.5 }
        return weights
    }()

    /// Sheng words English or Swahili also have ("form" is Sheng's plan, "mambo vipi" its greeting): half a marker each,
    /// and a foreign word in Swahili grammar.
    static let shengHalfWords = "aje form bro bana mambo vipi"

    static let shengStrong: Set<String> = Self.set(shengStrongWords)
    static let shengHalf: Set<String> = Self.set(shengHalfWords)

    static func set(_ list: String) -> Set<String> {
        Set(list.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\\" }).map(String.init))
    }
}

/// Hints for words no list knows, from how the languages build words.
enum Affixes {
    /// English roots Sheng puts Swahili grammar around.
    static let shengRoots: Set<String> = [
        "buy", "send", "receive", "call", "text", "check", "sort", "expire", "work", "crash", "download", "deliver", "book", "chill",
        "pay", "order", "cancel", "confirm", "update", "try", "use", "reply", "join", "transfer", "withdraw", "topup", "sell", "test",
        "refund", "reverse", "block", "login", "register", "install", "charge", "share", "post", "like", "follow", "pick", "drop",
        "load", "redeem", "claim", "scan", "print", "fuel", "miss", "wait", "enjoy", "sign", "move", "change", "fix", "help", "tap",
        "voucher", "offer", "deal", "code", "form", "app", "phone", "shoe", "car", "bike", "song", "plan",
    ]

    /// Swahili verb prefixes: negative, subject, tense and object markers, in that order ("ha-i-", "ni-me-", "ni-ta-ku-").
    static let verbPrefixes: Set<String> = {
        let negatives = ["", "ha", "si"]
        let subjects = ["", "ni", "u", "a", "tu", "m", "mu", "wa", "i", "ki", "li", "zi", "ku", "ya", "n"]
        let tenses = ["", "na", "ta", "li", "me", "sha", "mesha", "ja", "ki", "ka", "nge"]
        let objects = ["", "ni", "ku", "m", "tu", "wa", "ki", "i", "mu", "ji", "li"]
        var prefixes: Set<String> = []
        for negative in negatives {
            for subject in subjects {
                for tense in tenses {
                    for object in objects {
                        let prefix = negative + subject + tense + object
                        // a bare object or tense marker is not a verb ("me", "ta"): a subject or "ku" must lead
                        if !prefix.isEmpty && (!subject.isEmpty || !negative.isEmpty) { prefixes.insert(prefix) }
                    }
                }
            }
        }
        prefixes.insert("ma")  // Sheng's plural on English nouns: "mavoucher", "maoffer"
        return prefixes
    }()

    /// "nimesend", "haiworki", "kubuy", "imeexpire", "inacrash", "nitakucall", "mavouchers".
    static func isShengVerb(_ word: String) -> Bool {
        guard word.count >= 5 else { return false }
        let characters = Array(word)
        for split in 1...min(8, characters.count - 3) {
            let prefix = String(characters[..<split])
            guard verbPrefixes.contains(prefix) else { continue }
            let root = String(characters[split...])
            if shengRoots.contains(root) { return true }
            // Swahili endings on the English root: "worki", "sendi", "vouchers", "crashing"
            for ending in ["i", "a", "e", "s", "ing", "ia", "iwa", "ika"] where root.hasSuffix(ending) {
                if shengRoots.contains(String(root.dropLast(ending.count))) { return true }
            }
        }
        return false
    }

    static let kinyarwandaClusters = ["cy", "shy", "jy", "pf", "nyw", "mbw", "mby", "byo", "bya", "bye", "ryo", "rya", "rye"]
    static let kinyarwandaPrefixes = [
        "nda", "ndi", "ntu", "nti", "nka", "nke", "nko", "nku", "nsh", "nza", "nzi", "sinz", "mwa", "mura", "tura", "bara", "ura",
        "ama", "ubu", "uru", "igi", "ibi", "umu", "imi", "aba", "gu", "twa", "bwa", "yara", "bara",
    ]
    static let kinyarwandaEndings = ["ye", "ze", "ga", "mo", "ho", "we"]
    static let swahiliVerbStarts = [
        "nina", "nita", "nili", "nime", "una", "uta", "uli", "ume", "ana", "ata", "ali", "ame", "tuna", "tuta", "tuli", "tume", "mna",
        "mta", "mli", "mme", "wana", "wata", "wali", "wame", "ina", "ita", "ili", "ime", "kina", "kime", "sija", "hatu", "hawa", "haku",
        "hai", "sita", "hata", "ku",
    ]
    static let frenchEndings = ["eux", "eau", "eaux", "aux", "ais", "ait", "aient", "ez", "oir", "eur", "euse", "ique", "ette", "ment", "ees", "ons"]
    static let englishEndings = ["ing", "ed", "tion", "ly", "ght", "ck", "ss", "ness", "ful", "less", "th", "sh", "ay", "ow", "ey"]
    static let vowels: Set<Character> = ["a", "e", "i", "o", "u"]

    /// Small weights: a hint must never outvote a marker word.
    static func hints(_ word: String) -> [(LanguageCode, Double)] {
        // the hints know Latin spelling only: "Привет" is no language here
        guard word.count >= 3, let last = word.last, word.allSatisfy({ $0.isASCII }) else { return [] }
        var hints: [(LanguageCode, Double)] = []
        let endsInVowel = vowels.contains(last)
        var rw = 0.0
        if kinyarwandaClusters.contains(where: word.contains) { rw += 0.6 }
        if word.contains("rw") { rw += 0.3 }
        if word.count >= 5 && kinyarwandaPrefixes.contains(where: word.hasPrefix) { rw += 0.4 }
        if endsInVowel && word.count >= 5 && kinyarwandaEndings.contains(where: word.hasSuffix) { rw += 0.3 }
        // Bantu words end in vowels; Kinyarwanda has no "ch", "dh", "gh" or "th"
        if !endsInVowel || ["ch", "dh", "gh", "th"].contains(where: word.contains) { rw = 0 }
        if rw > 0 { hints.append((.rw, min(1, rw))) }

        var sw = 0.0
        if "aiou".contains(last) && ["ch", "dh", "gh", "th"].contains(where: word.contains) { sw += 0.5 }
        if endsInVowel && word.count >= 6 && swahiliVerbStarts.contains(where: word.hasPrefix) { sw += 0.4 }
        if endsInVowel && (word.hasSuffix("isha") || word.hasSuffix("esha") || word.hasSuffix("ishwa") || word.hasSuffix("eni")) { sw += 0.2 }
        if kinyarwandaClusters.contains(where: word.contains) { sw = 0 }
        if sw > 0 { hints.append((.sw, min(1, sw))) }

        var fr = 0.0
        if word.count >= 4 && frenchEndings.contains(where: word.hasSuffix) { fr += 0.4 }
        if word.contains("qu") || word.contains("oi") || word.contains("eau") { fr += 0.2 }
        if fr > 0 { hints.append((.fr, min(0.6, fr))) }

        var en = 0.0
        if word.count >= 4 && englishEndings.contains(where: word.hasSuffix) { en += 0.4 }
        if word.hasPrefix("wh") || word.hasPrefix("th") { en += 0.3 }
        if word.contains("ee") || word.contains("oo") { en += 0.2 }
        if !endsInVowel && en == 0 && fr == 0 { en += 0.15 }
        if en > 0 { hints.append((.en, min(0.6, en))) }
        return hints
    }
}

/// Opt-out and opt-in keywords in the languages customers write. A message is one only when the whole message is the
/// keyword ("STOP!", "Acha.", "opt out"), so "please don't stop sending" is not an opt-out.
public enum OptOutKeywords {
    public enum Intent: Sendable, Equatable {
        case optOut, optIn
    }

    /// Sheng speakers use the Swahili words; French speakers' "stop" is the English one.
    static let optOut: [String: LanguageCode] = [
        "stop": .en, "stopall": .en, "unsubscribe": .en, "cancel": .en, "end": .en, "quit": .en, "optout": .en, "opt out": .en,
        "acha": .sw, "sitisha": .sw, "ondoa": .sw, "jiondoe": .sw, "simamisha": .sw, "sitaki": .sw,
        "hagarika": .rw, "reka": .rw, "kuvamo": .rw, "sinshaka": .rw,
        "arret": .fr, "arreter": .fr, "arrete": .fr, "desabonner": .fr, "desinscrire": .fr,
    ]
    static let optIn: [String: LanguageCode] = [
        "start": .en, "unstop": .en, "subscribe": .en,
        "anza": .sw, "endelea": .sw,
        "tangira": .rw, "komeza": .rw,
        "demarrer": .fr, "reprendre": .fr,
    ]

    /// Trimmed, lowercased, diacritics folded, punctuation around it removed, hyphens and whitespace one space.
    static func normalised(_ text: String) -> String {
        let folded = TextNormaliser.fold(text).replacingOccurrences(of: "-", with: " ").replacingOccurrences(of: "_", with: " ")
        let trimmed = folded.trimmingCharacters(in: .whitespacesAndNewlines.union(.punctuationCharacters))
        return trimmed.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    /// The intent and the keyword's language when the whole message is an opt-out or opt-in keyword, else nil.
    /// `extra` and `extraOptIn` are the tenant's own keywords, normalised the same way; the built-in words come first,
    /// and a word in both of the tenant's lists opts out.
    public static func intent(of text: String, extra: [String] = [], extraOptIn: [String] = []) -> (intent: Intent, language: LanguageCode)? {
        let message = Self.normalised(text)
        guard !message.isEmpty, message.count <= 40 else { return nil }
        if let language = Self.optOut[message] { return (.optOut, language) }
        if let language = Self.optIn[message] { return (.optIn, language) }
        // a tenant's word is in whatever language it looks like; English when it looks like none
        if extra.contains(where: { Self.normalised($0) == message }) { return (.optOut, LanguageDetector.detect(message)?.language ?? .en) }
        if extraOptIn.contains(where: { Self.normalised($0) == message }) { return (.optIn, LanguageDetector.detect(message)?.language ?? .en) }
        return nil
    }
}

/// The confirmation a contact gets after an opt-out or opt-in, in their language; each names the keyword that undoes it.
public enum OptOutReplies {
    public static func confirmation(_ intent: OptOutKeywords.Intent, language: LanguageCode) -> String {
        switch (intent, language) {
        case (.optOut, .en): "You will no longer receive messages from us. Reply START to subscribe again."
        case (.optOut, .sw), (.optOut, .sheng): "Hutapokea tena ujumbe kutoka kwetu. Jibu ANZA kujiunga tena."
        case (.optOut, .rw): "Ntuzongera kwakira ubutumwa bwacu. Subiza TANGIRA kugira ngo wongere kubwakira."
        case (.optOut, .fr): "Vous ne recevrez plus de messages de notre part. Répondez DEMARRER pour vous réabonner."
        case (.optIn, .en): "You are subscribed again. Reply STOP to unsubscribe."
        case (.optIn, .sw), (.optIn, .sheng): "Umejiunga tena. Jibu ACHA kusitisha ujumbe."
        case (.optIn, .rw): "Wongeye kwiyandikisha. Subiza HAGARIKA kugira ngo uhagarike ubutumwa."
        case (.optIn, .fr): "Vous êtes de nouveau abonné. Répondez ARRET pour vous désabonner."
        }
    }
}
