import Foundation
import Testing

@testable import Messaging

private typealias Sample = LanguageTests.Sample
private typealias Keyword = LanguageTests.Keyword

/// Messages as customers write them on WhatsApp and SMS: asking prices, paying, complaining, greeting.
private let sentences: [Sample] = [
    // English
    Sample(text: "Hi, how much is the voucher?", language: .en),
    Sample(text: "Hello, I want to buy a fuel voucher for 2000 shillings", language: .en),
    Sample(text: "Is the offer still valid today?", language: .en),
    Sample(text: "I paid but haven't received my code yet", language: .en),
    Sample(text: "Can you send me the price list please", language: .en),
    Sample(text: "Good morning, where is your nearest station?", language: .en),
    Sample(text: "Thanks, it worked!", language: .en),
    Sample(text: "My voucher expired yesterday, can I get a refund?", language: .en),
    Sample(text: "Do you deliver to Westlands?", language: .en),
    Sample(text: "I need to talk to a person", language: .en),
    Sample(text: "What time do you open on Sunday?", language: .en),
    Sample(text: "The code is not working at the pump", language: .en),
    Sample(text: "Please cancel my order", language: .en),
    Sample(text: "How do I check my balance?", language: .en),
    Sample(text: "ok thank you so much", language: .en),
    Sample(text: "Can I pay with M-Pesa?", language: .en),
    Sample(text: "hey, is there any discount for bulk orders?", language: .en),
    Sample(text: "When will my refund be processed?", language: .en),
    Sample(text: "I was charged twice for the same voucher", language: .en),
    Sample(text: "can i use this voucher at any shell station", language: .en),
    Sample(text: "Kindly assist, the pump attendant refused my code", language: .en),
    Sample(text: "Sorry, wrong number", language: .en, clear: false),
    Sample(text: "Do you have any offers this weekend?", language: .en),
    Sample(text: "Is diesel cheaper than petrol today?", language: .en),
    // Swahili
    Sample(text: "Habari, nataka kujua bei ya mafuta leo", language: .sw),
    Sample(text: "Asante sana kwa huduma yako", language: .sw),
    Sample(text: "Naomba kununua vocha ya shilingi elfu mbili", language: .sw),
    Sample(text: "Je, bado mna ofa ya wiki hii?", language: .sw),
    Sample(text: "Nimelipa lakini sijapata ujumbe wa kodi", language: .sw),
    Sample(text: "Kituo chenu kiko wapi hapa Nairobi?", language: .sw),
    Sample(text: "Tafadhali nitumie orodha ya bei", language: .sw),
    Sample(text: "Habari za asubuhi, mnafungua saa ngapi?", language: .sw),
    Sample(text: "Hapana, sitaki kununua leo", language: .sw),
    Sample(text: "Ndiyo, nataka lita kumi za petroli", language: .sw),
    Sample(text: "Samahani, vocha yangu imeisha muda wake", language: .sw),
    Sample(text: "Je, ninaweza kulipa kwa M-Pesa?", language: .sw),
    Sample(text: "Mimi ni mteja wenu wa zamani", language: .sw),
    Sample(text: "Nitakuja kesho asubuhi kuchukua mzigo wangu", language: .sw),
    Sample(text: "Bei ya dizeli ni shilingi ngapi kwa lita?", language: .sw),
    Sample(text: "Nashukuru, nimepokea ujumbe wenu", language: .sw),
    Sample(text: "Nimejaribu kulipa mara mbili lakini haikufanya kazi", language: .sw),
    Sample(text: "Sijaelewa, tafadhali nieleze tena", language: .sw),
    Sample(text: "Bei imepanda tena?", language: .sw, clear: false),
    Sample(text: "Mtu wa huduma kwa wateja tafadhali", language: .sw),
    Sample(text: "Naomba kujua kama mna vocha za elfu tano", language: .sw),
    Sample(text: "Bei ya petroli leo ni kiasi gani?", language: .sw),
    // Sheng
    Sample(text: "Niaje msee, hii offer bado iko fiti?", language: .sheng),
    Sample(text: "Sasa buda, ganji ya voucher ni ngapi?", language: .sheng),
    Sample(text: "Manze nimetuma doh lakini sijapata code", language: .sheng),
    Sample(text: "Mambo vipi, mnauza mafuta ya nduthi?", language: .sheng),
    Sample(text: "Poa sana, nitakam kesho kuchukua", language: .sheng),
    Sample(text: "Msee, hii form ya voucher iko aje?", language: .sheng),
    Sample(text: "Maze hii ni noma, code haiworki", language: .sheng),
    Sample(text: "Niaje, nataka kubuy voucher ya mathree yangu", language: .sheng),
    Sample(text: "Buda nimesend doh, nisort haraka", language: .sheng),
    Sample(text: "Hii deal ni fiti sana bana", language: .sheng),
    Sample(text: "Mbogi yetu inataka ma-voucher tano", language: .sheng),
    Sample(text: "Sema msee, mnaeza deliver kwa keja?", language: .sheng),
    Sample(text: "Form ni gani leo, kuna discount?", language: .sheng, clear: false),
    Sample(text: "Nimeitisha refund lakini hakuna kitu imeingia bro", language: .sheng, clear: false),
    Sample(text: "Niko na issue na hii app, inacrash kila time", language: .sheng, clear: false),
    Sample(text: "Uko rada? Voucher imeexpire", language: .sheng),
    Sample(text: "Sasa msee, hiyo ganji imefika?", language: .sheng),
    Sample(text: "Niko kwa stage, nduthi imeisha fuel", language: .sheng),
    Sample(text: "Noma sana, mnaeza nisaidia?", language: .sheng),
    Sample(text: "Mambo, niko na shida na account yangu", language: .sheng, clear: false),
    Sample(text: "Niaje, mnadeliver Rongai?", language: .sheng),
    Sample(text: "Hii voucher inaexpire lini bro?", language: .sheng),
    // Kinyarwanda
    Sample(text: "Muraho, ndashaka kumenya igiciro cya lisansi", language: .rw),
    Sample(text: "Murakoze cyane", language: .rw),
    Sample(text: "Amakuru? Ndashaka kugura voucher", language: .rw),
    Sample(text: "Ese mufite mazutu uyu munsi?", language: .rw),
    Sample(text: "Igiciro ni angahe?", language: .rw),
    Sample(text: "Nishyuye ariko sinabonye kode", language: .rw),
    Sample(text: "Mwiriwe, sitasiyo yanyu iri he?", language: .rw),
    Sample(text: "Yego, ndashaka litiro icumi", language: .rw),
    Sample(text: "Oya, ntabwo ndashaka kugura ubu", language: .rw),
    Sample(text: "Mwaramutse, mushobora kunyoherereza ibiciro?", language: .rw),
    Sample(text: "Ejo nzaza kugura lisansi", language: .rw),
    Sample(text: "Voucher yanjye ntabwo ikora", language: .rw),
    Sample(text: "Nshaka kwishyura na MoMo", language: .rw),
    Sample(text: "Ni ryari mufungura?", language: .rw, clear: false),
    Sample(text: "Mbese amafaranga yanjye yageze?", language: .rw),
    Sample(text: "Murakoze, ubutumwa nabubonye", language: .rw),
    Sample(text: "Mwiriwe neza, ese voucher iracyakora?", language: .rw),
    Sample(text: "Nagira ngo mumfashe kugura lisansi", language: .rw),
    Sample(text: "Nishyuye kabiri, mwansubiza amafaranga?", language: .rw),
    Sample(text: "Ni he nabona voucher?", language: .rw, clear: false),
    Sample(text: "Ntabwo nakiriye ubutumwa", language: .rw),
    Sample(text: "Ese voucher imara igihe kingana iki?", language: .rw),
    // French
    Sample(text: "Bonjour, je voudrais acheter un bon de carburant", language: .fr),
    Sample(text: "Merci beaucoup pour votre aide", language: .fr),
    Sample(text: "Combien coûte le litre d'essence aujourd'hui ?", language: .fr),
    Sample(text: "J'ai payé mais je n'ai pas reçu le code", language: .fr),
    Sample(text: "Est-ce que l'offre est encore valable ?", language: .fr),
    Sample(text: "Où se trouve votre station la plus proche ?", language: .fr),
    Sample(text: "Bonsoir, vous êtes ouverts le dimanche ?", language: .fr),
    Sample(text: "Oui, je veux dix litres de gasoil", language: .fr),
    Sample(text: "Non merci, pas aujourd'hui", language: .fr),
    Sample(text: "Pouvez-vous m'envoyer la liste des prix s'il vous plaît", language: .fr),
    Sample(text: "Mon bon a expiré hier, je peux être remboursé ?", language: .fr),
    Sample(text: "Je voudrais parler à quelqu'un", language: .fr),
    Sample(text: "Le code ne marche pas à la pompe", language: .fr),
    Sample(text: "Salut, c'est combien le bon de 5000 ?", language: .fr),
    Sample(text: "Est-ce que je peux payer avec Mobile Money ?", language: .fr),
    Sample(text: "D'accord, à demain", language: .fr, clear: false),
    Sample(text: "J'ai été débité deux fois", language: .fr),
    Sample(text: "Je n'arrive pas à utiliser mon code", language: .fr),
    Sample(text: "Bonjour, j'ai un problème avec ma commande", language: .fr),
    Sample(text: "Il y a une réduction pour les grosses commandes ?", language: .fr),
    Sample(text: "Quel est le prix du litre ?", language: .fr),
    Sample(text: "Où puis-je utiliser ce bon ?", language: .fr),
]

private let keywords: [Keyword] = [
    Keyword(word: "stop", intent: .optOut, language: .en),
    Keyword(word: "stopall", intent: .optOut, language: .en),
    Keyword(word: "unsubscribe", intent: .optOut, language: .en),
    Keyword(word: "cancel", intent: .optOut, language: .en),
    Keyword(word: "end", intent: .optOut, language: .en),
    Keyword(word: "quit", intent: .optOut, language: .en),
    Keyword(word: "optout", intent: .optOut, language: .en),
    Keyword(word: "opt out", intent: .optOut, language: .en),
    Keyword(word: "start", intent: .optIn, language: .en),
    Keyword(word: "unstop", intent: .optIn, language: .en),
    Keyword(word: "subscribe", intent: .optIn, language: .en),
    Keyword(word: "acha", intent: .optOut, language: .sw),
    Keyword(word: "sitisha", intent: .optOut, language: .sw),
    Keyword(word: "ondoa", intent: .optOut, language: .sw),
    Keyword(word: "jiondoe", intent: .optOut, language: .sw),
    Keyword(word: "simamisha", intent: .optOut, language: .sw),
    Keyword(word: "sitaki", intent: .optOut, language: .sw),
    Keyword(word: "anza", intent: .optIn, language: .sw),
    Keyword(word: "endelea", intent: .optIn, language: .sw),
    Keyword(word: "hagarika", intent: .optOut, language: .rw),
    Keyword(word: "reka", intent: .optOut, language: .rw),
    Keyword(word: "kuvamo", intent: .optOut, language: .rw),
    Keyword(word: "sinshaka", intent: .optOut, language: .rw),
    Keyword(word: "tangira", intent: .optIn, language: .rw),
    Keyword(word: "komeza", intent: .optIn, language: .rw),
    Keyword(word: "arrêt", intent: .optOut, language: .fr),
    Keyword(word: "arrêter", intent: .optOut, language: .fr),
    Keyword(word: "arrête", intent: .optOut, language: .fr),
    Keyword(word: "désabonner", intent: .optOut, language: .fr),
    Keyword(word: "désinscrire", intent: .optOut, language: .fr),
    Keyword(word: "démarrer", intent: .optIn, language: .fr),
    Keyword(word: "reprendre", intent: .optIn, language: .fr),
]

/// The intent and language of a message as "optOut sw", nil when it is no keyword.
private func parse(_ text: String, extra: [String] = [], extraOptIn: [String] = []) -> String? {
    OptOutKeywords.intent(of: text, extra: extra, extraOptIn: extraOptIn).map { "\($0.intent) \($0.language.rawValue)" }
}

@Suite struct LanguageTests {
    /// A customer message and the language it is written in. `clear` is false for the few a word-list detector may
    /// reasonably get wrong (Sheng told from Swahili only by its English words, two-word messages): those count toward
    /// the accuracy per language but are not asserted one by one.
    struct Sample: Sendable, CustomTestStringConvertible {
        let text: String
        let language: LanguageCode
        var clear = true

        var testDescription: String { "[\(self.language.rawValue)] \(self.text)" }
    }

    /// A message that is an opt-out or opt-in keyword, and what it means.
    struct Keyword: Sendable, CustomTestStringConvertible {
        let word: String
        let intent: OptOutKeywords.Intent
        let language: LanguageCode

        var testDescription: String { "\(self.word) (\(self.language.rawValue))" }
    }

    // MARK: detection

    @Test(arguments: sentences)
    func detectsTheLanguageOfACustomerMessage(_ sample: Sample) throws {
        let detected = try #require(LanguageDetector.detect(sample.text))
        #expect((0...1).contains(detected.confidence))
        if sample.clear { #expect(detected.language == sample.language) }
        // deterministic: the same text, the same answer
        #expect(LanguageDetector.detect(sample.text) == detected)
    }

    @Test(arguments: LanguageCode.allCases)
    func atLeastNineInTenMessagesOfEachLanguageAreRight(_ language: LanguageCode) {
        let samples = sentences.filter { $0.language == language }
        #expect(samples.count >= 12)
        let right = samples.filter { LanguageDetector.detect($0.text)?.language == language }.count
        let wrong = samples.filter { LanguageDetector.detect($0.text)?.language != language }.map(\.text)
        #expect(Double(right) / Double(samples.count) >= 0.9, "wrong: \(wrong)")
    }

    @Test(arguments: ["", "   ", "12345", "👍", "👍🙏😂", "+254 712 345 678", "?!", "https://sokoni.co.ke/offers", "www.example.com", "Привет"])
    func nothingToGoOnIsNoLanguage(_ text: String) {
        #expect(LanguageDetector.detect(text) == nil)
    }

    @Test func linksNumbersAndEmojiDoNotHideTheWords() {
        #expect(LanguageDetector.detect("Muraho 👋 https://sokoni.rw/x")?.language == .rw)
        #expect(LanguageDetector.detect("Habari, nataka vocha 2 za 500 🙏")?.language == .sw)
        #expect(LanguageDetector.detect("ASANTEEE SANA!!!")?.language == .sw)
    }

    @Test func oneWordIsALanguageButAnUncertainOne() throws {
        for (text, language) in [("Karibu!", LanguageCode.sw), ("Hello", .en), ("Muraho", .rw), ("Bonjour", .fr), ("Niaje", .sheng)] {
            let detected = try #require(LanguageDetector.detect(text))
            #expect(detected.language == language, "\(text)")
            #expect(detected.confidence > 0.5 && detected.confidence < 0.8, "\(text): \(detected.confidence)")
        }
        let long = try #require(LanguageDetector.detect("Muraho, ndashaka kumenya igiciro cya lisansi"))
        #expect(long.confidence > 0.9)
    }

    @Test func shengIsSwahiliWithItsOwnWordsOrEnglishOnes() {
        // pure Swahili stays Swahili, even with a loanword like "vocha"
        #expect(LanguageDetector.detect("Naomba kununua vocha ya shilingi elfu mbili")?.language == .sw)
        #expect(LanguageDetector.detect("Sawa")?.language == .sw)
        // a Sheng marker
        #expect(LanguageDetector.detect("Niaje msee, hii offer bado iko fiti?")?.language == .sheng)
        #expect(LanguageDetector.detect("Mambo vipi")?.language == .sheng)
        // Swahili verb grammar around English roots
        #expect(LanguageDetector.detect("Code haiworki, nimesend tena")?.language == .sheng)
        // Swahili grammar, English content words
        #expect(LanguageDetector.detect("Hi, nataka kununua fuel leo")?.language == .sheng)
        // English with one Swahili word stays English
        #expect(LanguageDetector.detect("Asante for the help")?.language == .en)
        #expect(LanguageDetector.detect("Thanks bro")?.language == .en)
    }

    @Test func aDetectedLanguageIsStoredAsItsCode() throws {
        let detected = DetectedLanguage(language: .sheng, confidence: 0.75)
        let json = try JSONEncoder().encode(detected)
        #expect(String(decoding: json, as: UTF8.self).contains("\"sheng\""))
        #expect(try JSONDecoder().decode(DetectedLanguage.self, from: json) == detected)
    }

    // MARK: opt-out and opt-in keywords

    @Test(arguments: keywords)
    func aKeywordAloneIsAnOptOutOrOptInWhateverItsCaseAndPunctuation(_ keyword: Keyword) throws {
        let variants = [
            keyword.word, keyword.word.uppercased(), keyword.word.capitalized, "\(keyword.word)!", "\(keyword.word.uppercased())!!!",
            "\(keyword.word).", "  \(keyword.word) \n", "\(keyword.word) ?", "\"\(keyword.word)\"",
        ]
        for text in variants {
            let found = try #require(OptOutKeywords.intent(of: text), "\(text)")
            #expect(found.intent == keyword.intent, "\(text)")
            #expect(found.language == keyword.language, "\(text)")
        }
    }

    @Test func diacriticsAndSpacingAreFolded() {
        #expect(parse("arret") == "optOut fr")
        #expect(parse("ARRÊTE !") == "optOut fr")
        #expect(parse("desabonner") == "optOut fr")
        #expect(parse("DÉMARRER") == "optIn fr")
        #expect(parse("OPT   OUT") == "optOut en")
        #expect(parse("opt-out") == "optOut en")
        #expect(parse("Opt\tOut.") == "optOut en")
    }

    @Test func startAndAnzaSubscribeAgain() {
        #expect(parse("START") == "optIn en")
        #expect(parse("Anza") == "optIn sw")
        #expect(parse("Tangira.") == "optIn rw")
        #expect(parse("démarrer") == "optIn fr")
    }

    @Test(arguments: [
        "please don't stop sending", "stop sending me this", "STOP it now", "Can I stop my order?", "I want to cancel my order",
        "start time?", "when does the offer end", "stop stop", "non-stop", "Acha nikuambie", "Nataka kuanza", "Reka ndebe",
        "Arrêtez de m'envoyer des messages", "Yes", "YES!", "ok", "hello", "", "   ", "!!!", "👍",
    ])
    func aMessageThatOnlyContainsAKeywordIsNotOne(_ text: String) {
        #expect(parse(text) == nil)
    }

    @Test func aTenantsOwnKeywordsCountTheSameWay() {
        let extra = ["Sitaki SMS", "PAUSE"]
        let extraOptIn = ["rudisha", "RESUME"]
        #expect(parse("sitaki sms!", extra: extra, extraOptIn: extraOptIn) == "optOut sw")
        #expect(parse("  Pause. ", extra: extra, extraOptIn: extraOptIn)?.hasPrefix("optOut") == true)
        #expect(parse("RUDISHA", extra: extra, extraOptIn: extraOptIn)?.hasPrefix("optIn") == true)
        #expect(parse("resume!", extra: extra, extraOptIn: extraOptIn)?.hasPrefix("optIn") == true)
        // only that tenant's: without the lists, and not inside a sentence
        #expect(parse("pause") == nil)
        #expect(parse("please pause", extra: extra, extraOptIn: extraOptIn) == nil)
        // the built-in words still work next to a tenant's, and a word in both of its lists opts out
        #expect(parse("STOP", extra: extra, extraOptIn: extraOptIn) == "optOut en")
        #expect(parse("hold", extra: ["hold"], extraOptIn: ["hold"])?.hasPrefix("optOut") == true)
    }

    // MARK: confirmations

    @Test func eachLanguageHasItsOwnConfirmationNamingTheWordThatUndoesIt() throws {
        for intent in [OptOutKeywords.Intent.optOut, .optIn] {
            var seen: Set<String> = []
            for language in LanguageCode.allCases {
                let reply = OptOutReplies.confirmation(intent, language: language)
                #expect(!reply.isEmpty)
                if language == .sheng {
                    #expect(reply == OptOutReplies.confirmation(intent, language: .sw))
                } else {
                    #expect(seen.insert(reply).inserted, "\(language) repeats another language's reply")
                }
                // the capitalised keyword in it ("Reply START …") is understood, and means the opposite
                let named = reply.split(separator: " ").map { $0.trimmingCharacters(in: .punctuationCharacters) }
                    .filter { $0.count > 2 && $0 == $0.uppercased() }
                let undo = try #require(named.first.flatMap { OptOutKeywords.intent(of: $0) }, "\(reply)")
                #expect(undo.intent == (intent == .optOut ? .optIn : .optOut), "\(reply)")
            }
            #expect(OptOutReplies.confirmation(intent, language: .sw) != OptOutReplies.confirmation(intent, language: .en))
        }
        #expect(OptOutReplies.confirmation(.optOut, language: .en) == "You will no longer receive messages from us. Reply START to subscribe again.")
        #expect(OptOutReplies.confirmation(.optOut, language: .sw) == "Hutapokea tena ujumbe kutoka kwetu. Jibu ANZA kujiunga tena.")
    }
}
