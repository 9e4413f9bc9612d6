import Contracts
import Foundation
import Testing

@testable import AgentCore

/// How much of a conversation the model is shown.
@Suite struct HistoryBudgetTests {
    func turn(_ sender: String, _ text: String?) -> AgentAPI.ReplyRequest.Turn {
        .init(sender: sender, text: text, kind: "text", language: nil, at: Date())
    }

    @Test func theNewestTurnsThatFitAreKeptOldestFirst() {
        let turns = (0..<40).map { turn($0 % 2 == 0 ? "user" : "agent", "message \($0) " + String(repeating: "x", count: 289)) } + [turn("user", nil)]
        // 100 tokens each: a budget of 1,000 keeps the last ten, in order, and skips turns without words
        let kept = HistoryBudget.fit(turns, tokens: 1000)
        #expect(kept.count == 10)
        #expect(kept.first?.text.hasPrefix("message 30 ") == true && kept.last?.text.hasPrefix("message 39 ") == true)
        #expect(HistoryBudget.fit(turns, tokens: 100_000).count == 40)
        // one message longer than the budget: its end, cut to the budget, alone
        let long = HistoryBudget.fit([turn("user", "early"), turn("user", String(repeating: "y", count: 9000) + " the question?")], tokens: 1000)
        #expect(long.count == 1 && long[0].text.count == 3000 && long[0].text.hasSuffix("the question?"))
        #expect(HistoryBudget.fit([], tokens: 1000).isEmpty)
    }
}
