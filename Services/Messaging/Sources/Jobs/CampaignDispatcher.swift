import Contracts
import Foundation
import Logging
import Models
import ServiceClient
import ServiceKit
import ServiceLifecycle

/// Hands running campaigns' targets to the one outbox, a few at a time, on every replica at once without two
/// replicas ever working one campaign together (the campaign row is locked `SKIP LOCKED` for each pass).
///
/// Each pass, per running campaign: starts scheduled campaigns whose time came, expires targets past the validity
/// window, issues the vouchers of a voucher campaign a batch ahead, then claims as many targets as the campaign's rate
/// allows (a token bucket kept on the campaign row, so the rate holds across passes and replicas), skipping numbers in
/// quiet hours in their own country, and within WhatsApp's daily tier. The targets and their messages are written in
/// one transaction, a batch in a few statements: after a crash a target is either handed over (the outbox sends it) or
/// still waiting.
///
/// The outbox is never handed more than about two seconds of the campaign's rate: a pause then stops the sends
/// within a second instead of after a backlog drains.
struct CampaignDispatcher: Service {
    let campaigns: CampaignsStore
    let templates: TemplatesStore
    let channels: ChannelsStore
    let policy: PolicyStore
    let outbox: OutboxStore
    let vouchers: @Sendable () -> VouchersClient
    let callContext: @Sendable (TenantID, String?) async throws -> CallContext
    let interval: Duration
    let logger: Logger
    let now: @Sendable () -> Date

    /// At most this many targets per campaign per pass (a campaign without a rate of its own).
    static let maxPerPass = 500
    static let voucherBatch = 100

    func run() async throws {
        await PeriodicWork.run("campaign dispatch", every: self.interval, logger: self.logger) {
            try await self.pass()
        }
    }

    func pass() async throws {
        let now = self.now()
        try await self.campaigns.startDue(now: now, logger: self.logger)
        try await self.campaigns.expireUnsent(now: now, logger: self.logger)
        for campaign in try await self.campaigns.running(logger: self.logger) {
            do {
                try await self.work(campaign, now: now)
            } catch {
                // one campaign's trouble (vouchers down, a bad template) does not hold up the others
                self.logger.error("campaign pass failed", metadata: ["campaign.id": "\(campaign.id)", "error": "\(String(reflecting: error))"])
            }
        }
    }

    func work(_ campaign: CampaignsStore.Running, now: Date) async throws {
        guard let channel = try await self.channels.find(campaign.channel, logger: self.logger),
            let template = try await self.templates.find(campaign.template, tenant: campaign.tenant, logger: self.logger)
        else { throw CorruptRow("campaign \(campaign.id) names a missing channel or template") }
        let settings = try await self.policy.settings(tenant: campaign.tenant, logger: self.logger)
        if campaign.type == .voucher { try await self.issueVouchers(campaign) }
        let reference = CampaignRef(id: campaign.id, metadata: campaign.metadata, validUntil: campaign.validUntil)
        let quiet = CampaignRef.quietCountries(reference.quietHours(over: settings.quietHours), now: now)
        let tier = channel.kind == .whatsapp ? try await self.channels.messagingTier(channel.id, logger: self.logger) : nil
        let handled = try await self.campaigns.pass(campaign.id, logger: self.logger) { pass -> Int in
            let perSecond = campaign.metadata.perMinute.map { Double($0) / 60 }
            var credit = Double(Self.maxPerPass)
            if let perSecond {
                let elapsed = pass.creditAt.map { max(0, now.timeIntervalSince($0)) } ?? 0
                // at most a second's worth saved up: a campaign that waited does not burst
                credit = min(pass.credit + perSecond * elapsed, max(1, perSecond))
            }
            let window = max(20, Int(((perSecond ?? 500) * 2).rounded(.up)))
            let room = max(0, window - (try await pass.outstanding()))
            var claimed = try await pass.claim(
                limit: min(Int(credit.rounded(.down)), room, Self.maxPerPass), quietCountries: quiet, needVoucher: campaign.type == .voucher)
            var waiting: String?
            if let tier, let limit = MessagingTier.dailyLimit(tier), !claimed.isEmpty {
                let hashes = claimed.map { self.policy.hash($0.msisdn).readableBytesView.hex }
                let known = try await pass.messagedToday(channel: channel.id, hashes: hashes)
                var room = limit - (try await pass.tierCount(channel: channel.id, adding: []))
                var kept: [CampaignsStore.Claimed] = []
                var added: [String] = []
                for (target, hash) in zip(claimed, hashes) {
                    if known.contains(hash) {
                        kept.append(target)
                    } else if room > 0 {
                        room -= 1
                        kept.append(target)
                        added.append(hash)
                    }
                }
                if kept.count < claimed.count {
                    waiting = "WhatsApp's messaging tier \(tier) is reached (\(limit) customers a day on this number): the rest go out from 00:00 UTC."
                }
                claimed = kept
                _ = try await pass.tierCount(channel: channel.id, adding: added)
            }
            var sends: [(Int64, OutboxStore.Queued)] = []
            var failed: [(Int64, String, String)] = []
            for target in claimed {
                switch self.message(for: target, campaign: campaign, reference: reference, template: template, channel: channel) {
                case .success(let queued): sends.append((target.id, queued))
                case .failure(let problem): failed.append((target.id, problem.code, problem.message))
                }
            }
            let messages = try await self.outbox.queueMany(sends.map(\.1), on: pass.connection, logger: self.logger)
            try await pass.handedOver(Array(zip(sends.map(\.0), messages)))
            try await pass.failed(failed)
            if claimed.isEmpty, waiting == nil, !quiet.isEmpty, room > 0, try await pass.anyWaiting() {
                waiting = "Quiet hours for recipients in \(quiet.joined(separator: ", ")): they get it when the night ends there."
            }
            try await pass.save(credit: max(0, credit - Double(claimed.count)), at: now, waitingReason: waiting)
            return claimed.count
        }
        if handled == 0 { _ = try await self.campaigns.finishIfDone(campaign.id, logger: self.logger) }
    }

    struct Problem: Error {
        var code: String
        var message: String
    }

    /// The send for one target: the template with its variables (a voucher campaign's first two are the code and the
    /// amount), as a WhatsApp template on WhatsApp and as rendered text elsewhere.
    func message(
        for target: CampaignsStore.Claimed, campaign: CampaignsStore.Running, reference: CampaignRef, template: TemplateDTO, channel: StoredChannel
    ) -> Result<OutboxStore.Queued, Problem> {
        var variables = target.variables
        var callback: JSONValue?
        var card: String?
        if campaign.type == .voucher, let voucher = campaign.voucher {
            guard let code = target.voucherCode, let id = target.voucherID else {
                return .failure(Problem(code: "voucher_missing", message: "The target has no voucher."))
            }
            variables = [code, [voucher.amount, voucher.currency].compactMap { $0 }.joined(separator: " ")] + variables
            callback = .object(["service": .string(ServiceName.vouchers.rawValue), "reference": .string(id.description)])
            card = target.voucherCard
        }
        let text: String
        do {
            text = try TemplateText.render(template.body, variables: variables, count: template.variableCount)
        } catch {
            return .failure(Problem(code: "missing_variable", message: "Variable {{\(error.number)}} of the template has no value for this target."))
        }
        let used = Array(variables.prefix(template.variableCount))
        var ref: TemplateRef?
        var media: MediaAttachment?
        if channel.kind == .whatsapp {
            ref = TemplateRef(
                name: template.name, language: template.language, variables: used.isEmpty ? nil : used,
                headerImageUrl: template.header?.type == "image" ? card : nil)
        } else if let card {
            media = MediaAttachment(type: "image", url: card, caption: text)
        }
        return .success(
            OutboxStore.Queued(
                tenant: campaign.tenant, channel: channel, to: target.msisdn, sender: .system, text: text, template: ref, media: media,
                requestedBy: "campaign:\(campaign.id)", callback: callback, campaign: reference))
    }

    /// A batch of vouchers ahead of the sends: vouchers' bulk issue, one per target (recipient key = the target's
    /// id, so asking again after a crash gets the same vouchers).
    func issueVouchers(_ campaign: CampaignsStore.Running) async throws {
        guard let voucher = campaign.voucher else { return }
        let targets = try await self.campaigns.needingVouchers(campaign.id, limit: Self.voucherBatch, ahead: Self.voucherBatch, logger: self.logger)
        guard !targets.isEmpty else { return }
        let issue = VouchersAPI.BulkIssue(
            campaignId: campaign.id.description, amount: voucher.amount, currency: voucher.currency, stationScope: voucher.stationScope?.description,
            expiresAt: voucher.expiresAt, recipients: targets.map { VouchersAPI.BulkRecipient(recipientKey: "target-\($0.0)", msisdn: $0.1) })
        let issued = try await self.vouchers().bulkIssue(
            issue, idempotencyKey: "campaign-\(campaign.id)-vouchers-\(targets.first!.0)-\(targets.last!.0)-\(targets.count)",
            context: try await self.callContext(campaign.tenant, nil))
        let byKey = Dictionary(issued.vouchers.compactMap { voucher in voucher.recipientKey.map { ($0, voucher) } }) { first, _ in first }
        try await self.campaigns.vouchersIssued(
            targets.compactMap { target in
                guard let voucher = byKey["target-\(target.0)"], let id = VoucherID(voucher.id) else { return nil }
                return (target.0, id, voucher.code, voucher.cardURL)
            }, logger: self.logger)
    }
}
