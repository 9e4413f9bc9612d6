// Domain: how much of a conversation a model is shown, no I/O (docs/CONTRIBUTING.md).
import Contracts
import Foundation

/// The newest turns that fit a token budget, oldest first: a long conversation costs the same per reply as a short
/// one past the budget, and the customer's last message is always there (cut to the budget if it alone is longer).
/// Tokens are estimated at one per three characters, as the spend reservation does, which overestimates English and
/// Swahili a little: the budget is a ceiling, not a target.
enum HistoryBudget {
    static let defaultTokens = 3000

    struct Turn: Equatable {
        var sender: String
        var text: String
    }

    static func tokens(_ text: String) -> Int { (text.count + 2) / 3 }

    static func fit(_ turns: [AgentAPI.ReplyRequest.Turn], tokens budget: Int) -> [Turn] {
        let said = turns.compactMap { turn in turn.text.flatMap { $0.isEmpty ? nil : Turn(sender: turn.sender, text: $0) } }
        var kept: [Turn] = []
        var used = 0
        for turn in said.reversed() {
            let cost = Self.tokens(turn.text)
            if used + cost > budget {
                // the newest turn is kept whatever its length, cut to the budget
                if kept.isEmpty { kept.append(Turn(sender: turn.sender, text: String(turn.text.suffix(budget * 3)))) }
                break
            }
            kept.append(turn)
            used += cost
        }
        return kept.reversed()
    }
}
