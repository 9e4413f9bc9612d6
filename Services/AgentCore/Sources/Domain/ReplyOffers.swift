// Domain: the choices the offline responder offers with a greeting or when it has no answer, and reading the one
// a customer tapped. No I/O (docs/CONTRIBUTING.md).
import Contracts
import Foundation

enum ReplyOffers {
    static let handoffID = "handoff"
    static let faqPrefix = "faq:"

    /// "Talk to a person", in the customer's language (the words the hand-off intent also hears when typed).
    static func handoffTitle(_ language: String) -> String {
        switch language {
        case "sw": "Ongea na mtu"
        case "rw": "Vugana n'umuntu"
        case "fr": "Parler à une personne"
        default: "Talk to a person"
        }
    }

    /// Up to three of the tenant's most used FAQs in the customer's language (any language when none is in it),
    /// and a person when the agent may hand over.
    static func offer(faqs: [FaqDTO], language: String, tools: Set<ToolName>) -> [AgentAPI.Reply.Option] {
        let inLanguage = faqs.filter { $0.language == language }
        let ranked = (inLanguage.isEmpty ? faqs : inLanguage).sorted {
            ($0.usageCount, -$0.displayOrder) > ($1.usageCount, -$1.displayOrder)
        }
        var options = ranked.prefix(3).map { AgentAPI.Reply.Option(id: Self.faqPrefix + $0.id.uuidString.lowercased(), title: String($0.question.prefix(100))) }
        if tools.contains(.handoff) { options.append(.init(id: Self.handoffID, title: Self.handoffTitle(language))) }
        return options
    }

    /// What a tapped option asks for: a person, or one FAQ (by its index in `faqs`); nil when nothing was tapped or
    /// the option is not one of these.
    static func chosen(_ payload: String?, faqs: [FaqDTO], tools: Set<ToolName>) -> OfflineResponder.Plan? {
        guard let payload else { return nil }
        if payload == Self.handoffID, tools.contains(.handoff) { return .handoff(reason: "asked_for_person") }
        guard payload.hasPrefix(Self.faqPrefix), let id = UUID(uuidString: String(payload.dropFirst(Self.faqPrefix.count))),
            let index = faqs.firstIndex(where: { $0.id == id })
        else { return nil }
        return .faq(index: index)
    }
}
