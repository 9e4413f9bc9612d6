import Foundation
import Models

/// agent-core's CRM half (who may call what): leads, one per tenant and phone, with an explainable score, the
/// pipeline and its stages, and the extractions conversations yield. The tenant's admins and platform staff see every
/// lead; an `agent` sees and works only the leads assigned to them.
public enum CRMAPI {
    static func endpoint(_ method: String, _ path: String, _ access: Endpoint.Access) -> Endpoint {
        Endpoint(method, path, access, service: .agentCore)
    }

    static let readers = Roles.readers.union([.agent, .service])
    /// Who works leads: the tenant's admins, support staff, the agents (their own), and services.
    static let workers: Set<Role> = [.superAdmin, .support, .tenantAdmin, .agent, .service]
    /// Who shapes the pipeline and merges records.
    static let managers: Set<Role> = [.superAdmin, .support, .tenantAdmin, .service]

    public static let listLeads = endpoint("GET", "/v1/leads", .roles(readers))
    /// Creates a lead, or answers the lead the phone already has (merged: 200).
    public static let createLead = endpoint("POST", "/v1/leads", .roles(workers))
    public static let getLead = endpoint("GET", "/v1/leads/{id}", .roles(readers))
    public static let updateLead = endpoint("PATCH", "/v1/leads/{id}", .roles(workers))
    public static let mergeLeads = endpoint("POST", "/v1/leads/merge", .roles(managers))
    /// A CSV of leads (`text/csv`, up to 2,000 rows): each row created or merged into the lead of its phone, with a
    /// report row by row (`dryRun=true` checks only).
    public static let importLeads = endpoint("POST", "/v1/leads/import", .roles(managers)).allowingBodies(upTo: 2 << 20)
    /// The leads the list's filters select, as CSV.
    public static let exportLeads = endpoint("GET", "/v1/leads/export", .roles(readers))
    public static let assignLead = endpoint("PUT", "/v1/leads/{id}/assign", .roles(managers))
    public static let moveLead = endpoint("PUT", "/v1/leads/{id}/stage", .roles(workers))
    public static let leadActivity = endpoint("GET", "/v1/leads/{id}/activity", .roles(readers))
    public static let addNote = endpoint("POST", "/v1/leads/{id}/notes", .roles(workers))
    /// Features a conversation revealed (the extraction job, a person, the agent's tool): the scores follow in code.
    public static let recordExtraction = endpoint("POST", "/v1/leads/{id}/extractions", .roles(workers))
    public static let listExtractions = endpoint("GET", "/v1/extractions", .roles(readers))
    public static let pipeline = endpoint("GET", "/v1/pipeline", .roles(readers))
    public static let getStages = endpoint("GET", "/v1/pipeline/stages", .roles(readers))
    public static let putStages = endpoint("PUT", "/v1/pipeline/stages", .roles(managers))
    /// The rules that move leads by themselves (score thresholds, inactivity, events).
    public static let getRules = endpoint("GET", "/v1/pipeline/rules", .roles(readers))
    public static let putRules = endpoint("PUT", "/v1/pipeline/rules", .roles(managers))
    /// Every move between stages, a person's or a rule's, after a cursor: what other services act on.
    public static let stageMoves = endpoint("GET", "/v1/pipeline/moves", .roles(managers))

    /// Who new leads go to: the people on duty in turn, narrowed by language or tags.
    public static let getAssignment = endpoint("GET", "/v1/assignment", .roles(readers))
    public static let putAssignment = endpoint("PUT", "/v1/assignment", .roles(managers))

    /// Voice calls (ingested from the provider's end-of-call report), their transcripts and dispositions.
    public static let listCalls = endpoint("GET", "/v1/calls", .roles(readers))
    public static let getCall = endpoint("GET", "/v1/calls/{id}", .roles(readers))
    public static let callTranscript = endpoint("GET", "/v1/calls/{id}/transcript", .roles(readers))
    public static let addDisposition = endpoint("POST", "/v1/calls/{id}/dispositions", .roles(workers))
    /// An outbound call to a lead, through the tenant's Twilio account (or the sandbox, which places none).
    public static let requestCall = endpoint("POST", "/v1/calls", .roles(workers))
    /// The tenant's Twilio account for calls (its auth token is never shown again).
    public static let putTwilio = endpoint("PUT", "/v1/voice/twilio", .roles([.superAdmin, .tenantAdmin]))
    /// Twilio's call status callbacks (public: the `X-Twilio-Signature` is checked).
    public static let twilioWebhook = endpoint("POST", "/webhooks/voice/twilio/{publicId}", .public)
    /// The voice provider's webhook URL and secret (the secret shown once, when made).
    public static let getVoiceSettings = endpoint("GET", "/v1/voice/settings", .roles(managers))
    public static let rotateVoiceSecret = endpoint("POST", "/v1/voice/settings", .roles([.superAdmin, .tenantAdmin]))
    /// Vapi's server-URL messages (public: the HMAC signature is checked); a transcript can be long.
    public static let voiceWebhook = endpoint("POST", "/webhooks/voice/vapi/{publicId}", .public).allowingBodies(upTo: 4 << 20)

    /// Each day's figures across the services (JSON, or CSV), computed from their rows.
    public static let dailyAnalytics = endpoint("GET", "/v1/analytics/daily", .roles(Roles.readers.union([.service])))
    /// Leads that converted, with totals kept current from the other services' events.
    public static let listCustomers = endpoint("GET", "/v1/customers", .roles(readers))
    /// What the other services tell the CRM about a customer (their jobs, service to service).
    public static let recordEvents = endpoint("POST", "/v1/crm/events", .roles([.service]))

    public static let all: [Endpoint] = [
        dailyAnalytics, listCustomers, recordEvents, importLeads, exportLeads, listLeads, createLead, getLead, updateLead, mergeLeads, assignLead, moveLead,
        leadActivity, addNote,
        recordExtraction,
        listExtractions, pipeline,
        getStages, putStages, getRules, putRules, stageMoves, getAssignment, putAssignment, listCalls, getCall, callTranscript, addDisposition,
        getVoiceSettings, rotateVoiceSecret,
        voiceWebhook, requestCall, putTwilio, twilioWebhook,
    ]

    /// What another service tells the CRM about a customer, by phone: queued in the transaction that made it happen
    /// (ServiceKit's `CRMEvents`) and posted by a job until agent-core takes it. `id` is the sender's own: an event
    /// delivered twice is recorded once.
    /// One move of a lead between stages (`GET /v1/pipeline/moves`): what sequences entered by a stage change read.
    public struct StageMove: Codable, Sendable, Equatable {
        /// The timeline row's id: the feed's cursor.
        public var id: Int64
        public var leadId: LeadID
        public var from: String
        public var to: String
        public var reason: String
        /// Made by a rule (`rule` its id), not a person.
        public var automatic: Bool
        public var rule: String?
        public var actor: String
        public var at: Date

        public init(
            id: Int64, leadId: LeadID, from: String, to: String, reason: String, automatic: Bool, rule: String?, actor: String, at: Date
        ) {
            self.id = id
            self.leadId = leadId
            self.from = from
            self.to = to
            self.reason = reason
            self.automatic = automatic
            self.rule = rule
            self.actor = actor
            self.at = at
        }
    }

    public struct StageMoves: Codable, Sendable, Equatable {
        public var items: [StageMove]
        /// Where the next read starts (`after`): the last move's id, or the one given when there were none.
        public var next: Int64

        public init(items: [StageMove], next: Int64) {
            self.items = items
            self.next = next
        }
    }

    /// A lead as another service needs it (agent-core answers more).
    public struct LeadSummary: Codable, Sendable, Equatable {
        public var id: LeadID
        public var phone: String
        public var name: String?
        public var stage: String
        public var score: Int
        public var optIn: Bool
        public var lastContactAt: Date?
    }

    /// `PUT /v1/leads/{id}/stage`.
    public struct StageChange: Codable, Sendable, Equatable {
        public var stage: String?
        public var reason: String?

        public init(stage: String?, reason: String? = nil) {
            self.stage = stage
            self.reason = reason
        }
    }

    /// `POST /v1/calls`: call the lead; `purpose` is what the call says (up to 500 characters).
    public struct CallRequest: Codable, Sendable, Equatable {
        public var leadId: LeadID?
        public var purpose: String?

        public init(leadId: LeadID?, purpose: String? = nil) {
            self.leadId = leadId
            self.purpose = purpose
        }
    }

    public struct Event: Codable, Sendable, Equatable {
        public enum Kind: String, Codable, Sendable, CaseIterable {
            /// The customer wrote (messaging): last contact, replies, the timeline.
            case messageReceived = "message_received"
            /// A person closed the conversation at messaging: its features are read (an extraction).
            case conversationClosed = "conversation_closed"
            /// Consent changed at messaging (a STOP or START keyword, a provider's refusal, the opt-out list).
            case optedOut = "opted_out"
            case optedIn = "opted_in"
            /// calendar-booking: an appointment booked for good, cancelled, held or missed.
            case appointmentBooked = "appointment_booked"
            case appointmentCancelled = "appointment_cancelled"
            case appointmentCompleted = "appointment_completed"
            case appointmentMissed = "appointment_missed"
            /// marketplace-wallet: a purchase completed (the amount spent).
            case purchase
        }

        public var id: String
        public var source: ServiceName
        public var kind: Kind
        /// E.164: leads are one per tenant and phone.
        public var phone: String
        public var at: Date
        public var name: String?
        public var channelKind: String?
        public var conversationId: ConversationID?
        public var appointmentId: AppointmentID?
        /// What it was about, in a few words (an appointment's title, a product).
        public var title: String?
        /// A purchase's amount, as a decimal string in `currency`.
        public var amount: String?
        public var currency: String?

        public init(
            id: String, source: ServiceName, kind: Kind, phone: String, at: Date, name: String? = nil, channelKind: String? = nil,
            conversationId: ConversationID? = nil, appointmentId: AppointmentID? = nil, title: String? = nil, amount: String? = nil,
            currency: String? = nil
        ) {
            self.id = id
            self.source = source
            self.kind = kind
            self.phone = phone
            self.at = at
            self.name = name
            self.channelKind = channelKind
            self.conversationId = conversationId
            self.appointmentId = appointmentId
            self.title = title
            self.amount = amount
            self.currency = currency
        }
    }

    public struct Events: Codable, Sendable, Equatable {
        public var events: [Event]

        public init(events: [Event]) {
            self.events = events
        }
    }

    public struct EventsReceipt: Codable, Sendable, Equatable {
        public var recorded: Int
        /// Delivered before: nothing changed.
        public var duplicates: Int

        public init(recorded: Int, duplicates: Int) {
            self.recorded = recorded
            self.duplicates = duplicates
        }
    }
}
