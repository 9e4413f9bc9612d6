import Foundation
import Testing

@testable import Messaging

/// The providers' sample payloads, kept in Fixtures/ next to this file.
private func fixture(_ name: String) throws -> Data {
    try Data(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)"))
}

private func fixtureForm(_ name: String) throws -> [String: String] {
    TwilioForm.decode(formURLEncoded: String(decoding: try fixture(name), as: UTF8.self))
}

private let receivedAt = Date(timeIntervalSince1970: 1_800_000_000)
private let phoneNumberId = "106540352242922"
private let repliedTo = "wamid.HBgLMTQxMjU1NTA4MjkVAgASGBQzQUNCNjk5RDUwNUZGMUZEM0VBRAA="

@Suite struct WhatsAppWebhookTests {
    private func batch() throws -> [InboundEvent] {
        try JSONDecoder().decode(WhatsAppWebhook.self, from: fixture("whatsapp-batch.json"))
            .events(channelPhoneNumberId: phoneNumberId, receivedAt: receivedAt)
    }

    @Test func readsEveryMessageOfEveryEntryAndChangeInOrder() throws {
        let events = try batch()
        #expect(events.count == 16)
        #expect(events.allSatisfy { $0.channelAddress == phoneNumberId })
        let kinds = events.compactMap(\.message).map(\.kind)
        #expect(
            kinds == [
                "text", "button", "list_reply", "button", "location", "image", "reaction", "document", "audio", "video", "sticker", "contacts",
                "unsupported",
            ]
        )
    }

    @Test func everyMessageTypeIsNormalised() throws {
        let messages = try batch().compactMap(\.message)
        try #require(messages.count == 13)
        let sheena = { (id: String, seconds: TimeInterval, kind: String) in
            InboundMessage(
                providerMessageId: id, from: "+16505551234", profileName: "Sheena Nelson", timestamp: Date(timeIntervalSince1970: seconds), kind: kind
            )
        }
        let wanjiru = { (id: String, seconds: TimeInterval, kind: String) in
            InboundMessage(
                providerMessageId: id, from: "+254712345678", profileName: "Wanjiru Kamau", timestamp: Date(timeIntervalSince1970: seconds), kind: kind
            )
        }

        var text = sheena("wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=", 1_749_416_383, "text")
        text.text = "Does it come in another color?"
        #expect(messages[0] == text)

        var button = sheena("wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUQ0N0VFMDA2MTQ0RkJFNkNDNAA=", 1_750_275_992, "button")
        button.text = "Cancel"
        button.payload = "cancel-button"
        button.replyTo = repliedTo
        #expect(messages[1] == button)

        var list = sheena("wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUZCQjU2Q0Y2QTE1RkU0NTAA", 1_750_276_010, "list_reply")
        list.text = "Express Shipping"
        list.payload = "priority-express"
        list.replyTo = repliedTo
        #expect(messages[2] == list)

        var templateButton = sheena("wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQjc0RkYzMjM5NzM1QjE1MjcA", 1_750_276_105, "button")
        templateButton.text = "Unsubscribe from Promos"
        templateButton.payload = "Unsubscribe from Promos"
        templateButton.replyTo = "wamid.HBgLMTQxMjU1NTA4MjkVAgASGBQzQkE1MjU3MjgxRjQ0MUNGMTgA"
        #expect(messages[3] == templateButton)

        var location = wanjiru("wamid.HBgMMjU0NzEyMzQ1Njc4FQIAEhgUM0E5QTJGMUQ2QjM4QzYwNUQ3QTEA", 1_750_277_001, "location")
        location.location = InboundLocation(latitude: -1.2833, longitude: 36.8167, name: "City Market", address: "Kenyatta Avenue, Nairobi")
        #expect(messages[4] == location)

        var image = wanjiru("wamid.HBgMMjU0NzEyMzQ1Njc4FQIAEhgUM0FCNDVFMjE2QjVEMzA3RjE5MUIA", 1_750_277_060, "image")
        image.text = "This is a caption"
        image.media = MediaRef(
            id: "2754859441498128", mimeType: "image/jpeg", sha256: "81d3bd8a8db4868c9520ed47186e8b7c5789e61ff79f7f834be6950b808a90d3"
        )
        #expect(messages[5] == image)

        var reaction = wanjiru("wamid.HBgMMjU0NzEyMzQ1Njc4FQIAEhgUM0FBREY4NDQxMzQ3RTg1NzFDMTAA", 1_739_321_024, "reaction")
        reaction.text = "\u{1F44D}"
        reaction.payload = repliedTo
        #expect(messages[6] == reaction)

        var document = wanjiru("wamid.HBgMMjU0NzEyMzQ1Njc4FQIAEhgUM0FDMzA1QjE2OEQ0OUY3NjVGNjQA", 1_750_277_120, "document")
        document.text = "Invoice for May"
        document.media = MediaRef(
            id: "1003383421387256", mimeType: "application/pdf",
            sha256: "3b2f1f0e4a5d6c7b8a9e0d1c2b3a4f5e6d7c8b9a0f1e2d3c4b5a69788796a5b4", filename: "invoice-may.pdf"
        )
        #expect(messages[7] == document)

        var audio = wanjiru("wamid.HBgMMjU0NzEyMzQ1Njc4FQIAEhgUM0FEMkNGOTg5QjE4OUQ3MkQ4QjIA", 1_750_277_180, "audio")
        audio.media = MediaRef(
            id: "1148512536822150", mimeType: "audio/ogg; codecs=opus", sha256: "5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f70819aab"
        )
        #expect(messages[8] == audio)

        var video = wanjiru("wamid.HBgMMjU0NzEyMzQ1Njc4FQIAEhgUM0FFOTFBMjMyNDU2Nzg5QUJDREUA", 1_750_277_240, "video")
        video.text = "Unboxing"
        video.media = MediaRef(
            id: "1289361925436581", mimeType: "video/mp4", sha256: "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"
        )
        #expect(messages[9] == video)

        var sticker = wanjiru("wamid.HBgMMjU0NzEyMzQ1Njc4FQIAEhgUM0FGNzY1NDMyMTBGRURDQkE5ODcA", 1_750_277_300, "sticker")
        sticker.media = MediaRef(
            id: "1394850341289761", mimeType: "image/webp", sha256: "f1e2d3c4b5a69788796a5b4c3d2e1f0f1e2d3c4b5a69788796a5b4c3d2e1f0a9"
        )
        #expect(messages[10] == sticker)

        var contacts = wanjiru("wamid.HBgMMjU0NzEyMzQ1Njc4FQIAEhgUM0IwMTIzNDU2Nzg5QUJDREVGMDEA", 1_750_277_360, "contacts")
        contacts.text = "Achieng Otieno"
        contacts.payload = "+254 722 000 111"
        #expect(messages[11] == contacts)

        #expect(messages[12] == wanjiru("wamid.HBgMMjU0NzEyMzQ1Njc4FQIAEhgUM0IxMjM0NTY3ODlBQkNERUYwMTIA", 1_750_277_420, "unsupported"))
    }

    @Test func statusesCarryTheirTimeRecipientAndError() throws {
        let statuses = try batch().compactMap(\.status)
        let delivered = "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3MUE0NTc4RDdCRjc2QjQ4MzAA"
        #expect(
            statuses == [
                StatusUpdate(
                    providerMessageId: delivered, status: .sent, timestamp: Date(timeIntervalSince1970: 1_750_263_773), recipient: "+16505551234"
                ),
                StatusUpdate(
                    providerMessageId: delivered, status: .delivered, timestamp: Date(timeIntervalSince1970: 1_750_263_774), recipient: "+16505551234"
                ),
                StatusUpdate(
                    providerMessageId: "wamid.HBgMMjU0NzEyMzQ1Njc4FQIAERgSOUUxNDQ5QjY3MUY0QzUyRjFEAA==", status: .failed,
                    timestamp: Date(timeIntervalSince1970: 1_750_263_780), errorCode: "131047",
                    errorReason: "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
                    recipient: "+254712345678"
                ),
            ]
        )
        let failure = SendFailure.whatsApp(code: Int(statuses[2].errorCode ?? "") ?? 0, message: statuses[2].errorReason)
        #expect(!failure.isTransient && failure.code == "131047")
    }

    @Test func changesForAnotherNumberOrFieldAndOtherObjectsAreSkipped() throws {
        let hook = try JSONDecoder().decode(WhatsAppWebhook.self, from: fixture("whatsapp-batch.json"))
        #expect(hook.events(channelPhoneNumberId: "999999999999999", receivedAt: receivedAt).isEmpty)
        #expect(hook.events(channelPhoneNumberId: nil, receivedAt: receivedAt).count == 16)
        var other = hook
        other.object = "page"
        #expect(other.events(channelPhoneNumberId: nil, receivedAt: receivedAt).isEmpty)
        // the fixture's template status change decodes but gives nothing
        #expect(hook.entry?.first?.changes?.last?.field == "message_template_status_update")
    }

    @Test func oddMessagesDoNotBreakTheBatch() throws {
        let json = #"""
            {"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{
              "metadata":{"phone_number_id":"106540352242922"},
              "messages":[
                {"from":"16505551234","type":"text","text":{"body":"no id"}},
                {"from":"16505551234","id":"wamid.A","type":"reaction","reaction":{"message_id":"wamid.B"}},
                {"from":"+16505551234","id":"wamid.C","type":"text","text":{"body":"no time"},"new_field":{"x":1}},
                {"from":"16505551234","id":"wamid.D","timestamp":"1750000000","type":"interactive","interactive":{"type":"nfm_reply"}}
              ],
              "statuses":[{"id":"wamid.E","status":"deleted","timestamp":"1750000000"},{"status":"read"}]}}]}]}
            """#
        let events = try JSONDecoder().decode(WhatsAppWebhook.self, from: Data(json.utf8)).events(channelPhoneNumberId: nil, receivedAt: receivedAt)
        let messages = events.compactMap(\.message)
        #expect(events.count == 3)
        #expect(messages.map(\.providerMessageId) == ["wamid.A", "wamid.C", "wamid.D"])
        #expect(messages[0].kind == "reaction" && messages[0].text == nil && messages[0].payload == "wamid.B")
        #expect(messages[0].profileName == nil)
        #expect(messages[1].from == "+16505551234" && messages[1].timestamp == receivedAt)
        #expect(messages[2].kind == "unsupported")
    }

    @Test func sendResponseAndErrorBody() throws {
        let sent = try JSONDecoder().decode(WhatsAppSendResponse.self, from: fixture("whatsapp-send-ok.json"))
        #expect(sent.messagingProduct == "whatsapp")
        #expect(sent.messageId == "wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA")
        #expect(sent.contacts == [WhatsAppSendResponse.Contact(input: "+16505551234", waId: "16505551234")])

        let body = try JSONDecoder().decode(GraphErrorBody.self, from: fixture("whatsapp-error-131047.json"))
        #expect(body.error.code == 131047)
        #expect(body.error.type == "OAuthException")
        #expect(body.error.errorSubcode == nil)
        #expect(body.error.errorData?.messagingProduct == "whatsapp")
        #expect(body.error.fbtraceId == "AwpYbZ7lD6qb2Ev8K9bhkw3")
        let failure = body.failure(httpStatus: 400)
        #expect(!failure.isTransient && !failure.impliesOptOut && failure.code == "131047")
        #expect(failure.reason.contains("24 hours"))

        let unknown = try JSONDecoder().decode(GraphErrorBody.self, from: Data(#"{"error":{"message":"Oops","code":999999}}"#.utf8))
        #expect(unknown.failure(httpStatus: 503) == .transient(code: "999999", reason: "Oops"))
        #expect(unknown.failure(httpStatus: 400) == .permanent(code: "999999", reason: "Oops"))
    }
}

@Suite struct TwilioPayloadTests {
    @Test func inboundMediaMessage() throws {
        let events = TwilioForm.events(form: try fixtureForm("twilio-inbound.txt"), receivedAt: receivedAt)
        let media = MediaRef(
            url: "https://api.twilio.com/2010-04-01/Accounts/AC3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d8c/Messages/MM1f8a3e2c7b6d5e4f3a2b1c0d9e8f7a6b/Media/"
                + "ME0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d",
            mimeType: "image/jpeg"
        )
        let expected = InboundMessage(
            providerMessageId: "MM1f8a3e2c7b6d5e4f3a2b1c0d9e8f7a6b", from: "+14155552671", timestamp: receivedAt, kind: "image",
            text: "Is this the right size?", media: media
        )
        #expect(events == [InboundEvent(.message(expected), channelAddress: "+15005550006")])
    }

    @Test func inboundTextLocationButtonAndWhatsAppSender() {
        let text = TwilioForm.events(form: ["MessageSid": "SM1", "From": "+254712345678", "To": "+15005550006", "Body": "Habari", "NumMedia": "0"])
        #expect(text.first?.message?.kind == "text")
        #expect(text.first?.message?.text == "Habari")

        let whatsApp = TwilioForm.events(form: [
            "MessageSid": "SM2", "From": "whatsapp:+254712345678", "To": "whatsapp:+14155238886", "Body": "", "NumMedia": "0",
            "ProfileName": "Wanjiru", "Latitude": "-1.2833", "Longitude": "36.8167", "Label": "City Market", "OriginalRepliedMessageSid": "SM0",
        ])
        let location = whatsApp.first?.message
        #expect(location?.from == "+254712345678" && location?.profileName == "Wanjiru" && location?.replyTo == "SM0")
        #expect(location?.kind == "location" && location?.text == nil)
        #expect(location?.location == InboundLocation(latitude: -1.2833, longitude: 36.8167, name: "City Market"))
        #expect(whatsApp.first?.channelAddress == "+14155238886")

        let button = TwilioForm.events(form: [
            "MessageSid": "SM3", "From": "whatsapp:+254712345678", "Body": "Yes", "ButtonText": "Yes", "ButtonPayload": "confirm", "NumMedia": "0",
        ])
        #expect(button.first?.message?.kind == "button" && button.first?.message?.payload == "confirm")
    }

    @Test func statusCallback() throws {
        let events = TwilioForm.events(form: try fixtureForm("twilio-status.txt"), receivedAt: receivedAt)
        let expected = StatusUpdate(
            providerMessageId: "SM5f6e7d8c9b0a1f2e3d4c5b6a7f8e9d0c", status: .failed, timestamp: receivedAt, errorCode: "30003",
            errorReason: SendFailure.twilio(code: 30003, message: nil).reason, recipient: "+14155552671"
        )
        #expect(events == [InboundEvent(.status(expected), channelAddress: "+15005550006")])
    }

    @Test func statusNamesPriceAndCarrierTime() {
        let names: [String: DeliveryStatus] = [
            "queued": .pending, "accepted": .pending, "sending": .pending, "sent": .sent, "delivered": .delivered, "read": .read,
            "undelivered": .failed, "failed": .failed,
        ]
        for (name, status) in names {
            let events = TwilioForm.events(form: ["MessageSid": "SM1", "MessageStatus": name], receivedAt: receivedAt)
            #expect(events.first?.status?.status == status, "\(name)")
        }
        #expect(TwilioForm.events(form: ["MessageSid": "SM1", "MessageStatus": "mystery"]).isEmpty)
        #expect(TwilioForm.events(form: ["MessageSid": "SM1", "MessageStatus": "delivered", "Body": "x"]).first?.status != nil)
        #expect(TwilioForm.events(form: ["MessageSid": "SM1"]).isEmpty)

        let priced = TwilioForm.events(
            form: ["MessageSid": "SM1", "MessageStatus": "delivered", "Price": "-0.00750", "PriceUnit": "USD", "RawDlrDoneDate": "2309261547"]
        )
        #expect(priced.first?.status?.price == Decimal(string: "0.0075"))
        #expect(priced.first?.status?.priceCurrency == "USD")
        #expect(priced.first?.status?.timestamp == ISO8601DateFormatter().date(from: "2023-09-26T15:47:00Z"))
        #expect(TwilioForm.price("abc") == nil && TwilioForm.price("1.2.3") == nil && TwilioForm.price("") == nil && TwilioForm.price(nil) == nil)
        #expect(TwilioForm.price("0.04") == Decimal(string: "0.04"))
    }

    @Test func formDecoding() {
        #expect(
            TwilioForm.decode(formURLEncoded: "Body=Hi+there%21&From=%2B254712345678&Empty=&Bare&=x") == [
                "Body": "Hi there!", "From": "+254712345678", "Empty": "", "Bare": "",
            ])
        #expect(TwilioForm.decode(formURLEncoded: "Body=%F0%9F%91%8D") == ["Body": "\u{1F44D}"])
    }

    @Test func sendResponseAndErrorBody() throws {
        let json = #"""
            {"sid":"SM5f6e7d8c9b0a1f2e3d4c5b6a7f8e9d0c","account_sid":"AC3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d8c","status":"queued","error_code":null,
             "error_message":null,"price":null,"price_unit":"USD","to":"+14155552671","from":"+15005550006","body":"Hello","num_segments":"1",
             "num_media":"0","direction":"outbound-api","date_created":"Thu, 24 Aug 2023 05:01:45 +0000","uri":"/2010-04-01/Accounts/AC/Messages/SM.json",
             "subresource_uris":{"media":"/media.json"}}
            """#
        let resource = try JSONDecoder().decode(TwilioMessageResource.self, from: Data(json.utf8))
        #expect(resource.sid == "SM5f6e7d8c9b0a1f2e3d4c5b6a7f8e9d0c" && resource.deliveryStatus == .pending)
        #expect(resource.failure == nil && resource.priceAmount == nil && resource.numSegments == "1")
        var failed = resource
        failed.status = "failed"
        failed.errorCode = 30007
        failed.price = "-0.00790"
        #expect(failed.deliveryStatus == .failed && failed.failure?.code == "30007" && failed.priceAmount == Decimal(string: "0.0079"))

        let body = try JSONDecoder().decode(TwilioErrorBody.self, from: fixture("twilio-error-21211.json"))
        #expect(body.code == 21211 && body.status == 400 && body.moreInfo == "https://www.twilio.com/docs/errors/21211")
        #expect(body.message == "The 'To' number +1555 is not a valid phone number.")
        #expect(body.failure() == .permanent(code: "21211", reason: "Invalid 'To' phone number"))
        let unknown = TwilioErrorBody(code: 29999, message: "Down", moreInfo: nil, status: 503)
        #expect(unknown.failure() == .transient(code: "29999", reason: "Down"))
    }
}

@Suite struct TelegramPayloadTests {
    @Test func textUpdate() throws {
        let update = try JSONDecoder().decode(TelegramUpdate.self, from: fixture("telegram-update.json"))
        #expect(update.updateId == 10000)
        #expect(update.message?.from?.languageCode == "en" && update.message?.from?.username == "Testusername")
        #expect(update.message?.chat.type == "private")
        let expected = InboundMessage(
            providerMessageId: "1111111:1365", from: "1111111", profileName: "Test Firstname Test Lastname",
            timestamp: Date(timeIntervalSince1970: 1_441_645_532), kind: "text", text: "/start"
        )
        #expect(update.events() == [InboundEvent(.message(expected))])
    }

    private func events(_ json: String) throws -> [InboundEvent] {
        try JSONDecoder().decode(TelegramUpdate.self, from: Data(json.utf8)).events(receivedAt: receivedAt)
    }

    @Test func photoLocationContactReplyAndButton() throws {
        let head = #""update_id":2,"message":{"message_id":7,"date":1700000000,"chat":{"id":42,"type":"private"},"from":{"id":42,"first_name":"Amani"},"#
        let photo = try events(
            "{" + head + #""caption":"Shoes","photo":[{"file_id":"small","file_unique_id":"s","width":90,"height":90},"#
                + #"{"file_id":"large","file_unique_id":"l","width":800,"height":800}],"#
                + #""reply_to_message":{"message_id":5,"date":1,"chat":{"id":42,"type":"private"}}}}"#
        ).first?.message
        #expect(photo?.kind == "image" && photo?.media == MediaRef(id: "large") && photo?.text == "Shoes" && photo?.replyTo == "42:5")
        #expect(photo?.profileName == "Amani" && photo?.from == "42")

        let location = try events("{" + head + #""location":{"latitude":-1.95,"longitude":30.06}}}"#).first?.message
        #expect(location?.kind == "location" && location?.location == InboundLocation(latitude: -1.95, longitude: 30.06))

        let contact = try events("{" + head + #""contact":{"phone_number":"+250788000111","first_name":"Jean","last_name":"Mugabo"}}}"#).first?.message
        #expect(contact?.kind == "contacts" && contact?.text == "Jean Mugabo" && contact?.payload == "+250788000111")

        let document = try events("{" + head + #""document":{"file_id":"doc","file_name":"a.pdf","mime_type":"application/pdf"}}}"#).first?.message
        #expect(document?.kind == "document" && document?.media == MediaRef(id: "doc", mimeType: "application/pdf", filename: "a.pdf"))

        let press = try events(
            #"{"update_id":3,"callback_query":{"id":"4382bfdwdsb323b2d9","from":{"id":42,"first_name":"Amani","last_name":"K"},"#
                + #""message":{"message_id":9,"date":1700000000,"chat":{"id":42,"type":"private"},"text":"Pick one"},"data":"size-42"}}"#
        )
        #expect(
            press == [
                InboundEvent(
                    .message(
                        InboundMessage(
                            providerMessageId: "4382bfdwdsb323b2d9", from: "42", profileName: "Amani K", timestamp: receivedAt, kind: "button",
                            payload: "size-42", replyTo: "42:9"
                        )
                    )
                )
            ]
        )

        #expect(try events(#"{"update_id":4,"edited_message":{"message_id":7,"date":1,"chat":{"id":42,"type":"private"},"text":"x"}}"#).isEmpty)
    }

    @Test func responses() throws {
        let ok = try JSONDecoder().decode(
            TelegramResponse<TelegramMessage>.self,
            from: Data(#"{"ok":true,"result":{"message_id":1366,"chat":{"id":1111111,"type":"private"},"date":1441645600,"text":"Karibu"}}"#.utf8)
        )
        #expect(ok.ok && ok.failure == nil && ok.result?.providerMessageId == "1111111:1366")

        let blocked = try JSONDecoder().decode(
            TelegramResponse<TelegramMessage>.self, from: Data(#"{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}"#.utf8)
        )
        #expect(blocked.result == nil && blocked.failure?.impliesOptOut == true && blocked.failure?.isTransient == false)

        let limited = try JSONDecoder().decode(
            TelegramResponse<TelegramMessage>.self,
            from: Data(#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 5","parameters":{"retry_after":5}}"#.utf8)
        )
        #expect(limited.parameters?.retryAfter == 5)
        #expect(limited.failure == .transient(code: "429", reason: "Too Many Requests: retry after 5"))
    }
}

@Suite struct DeliveryStatusTests {
    @Test func everyOrderedPairFollowsTheLattice() {
        // rows: current status, columns: incoming status, in the order pending, sent, delivered, read, failed
        let order: [DeliveryStatus] = [.pending, .sent, .delivered, .read, .failed]
        let expected: [DeliveryStatus: [DeliveryStatus]] = [
            .pending: [.pending, .sent, .delivered, .read, .failed],
            .sent: [.sent, .sent, .delivered, .read, .failed],
            .delivered: [.delivered, .delivered, .delivered, .read, .delivered],
            .read: [.read, .read, .read, .read, .read],
            .failed: [.failed, .failed, .delivered, .read, .failed],
        ]
        #expect(Set(order) == Set(DeliveryStatus.allCases))
        for current in order {
            for (column, incoming) in order.enumerated() {
                #expect(DeliveryStatus.advance(from: current, to: incoming) == expected[current]?[column], "\(current) then \(incoming)")
            }
        }
    }

    @Test func theOrderOfArrivalDoesNotMatter() {
        for first in DeliveryStatus.allCases {
            for second in DeliveryStatus.allCases {
                #expect(DeliveryStatus.advance(from: first, to: second) == DeliveryStatus.advance(from: second, to: first))
                for third in DeliveryStatus.allCases {
                    let left = DeliveryStatus.advance(from: DeliveryStatus.advance(from: first, to: second), to: third)
                    let right = DeliveryStatus.advance(from: first, to: DeliveryStatus.advance(from: second, to: third))
                    #expect(left == right)
                }
            }
        }
        #expect(DeliveryStatus.allCases.map(\.rank).count == Set(DeliveryStatus.allCases.map(\.rank)).count)
        #expect(DeliveryStatus.pending.rank < DeliveryStatus.sent.rank && DeliveryStatus.delivered.rank < DeliveryStatus.read.rank)
    }
}

@Suite struct SendFailureTests {
    @Test func whatsAppCodes() {
        let cases: [(code: Int, transient: Bool, optOut: Bool)] = [
            (131026, false, false), (131047, false, false), (131049, false, false), (131050, false, true), (131056, true, false),
            (130429, true, false), (131031, false, false), (131048, true, false), (131000, true, false), (131016, true, false),
            (132000, false, false), (132001, false, false), (190, false, false), (4, true, false), (80007, true, false),
        ]
        for item in cases {
            let failure = SendFailure.whatsApp(code: item.code, message: "provider text")
            #expect(failure.code == String(item.code))
            #expect(failure.isTransient == item.transient, "\(item.code)")
            #expect(failure.impliesOptOut == item.optOut, "\(item.code)")
            #expect(failure.reason != "provider text" && !failure.reason.isEmpty, "\(item.code) has its own readable reason")
        }
        #expect(SendFailure.whatsApp(code: 131047, message: nil).reason.contains("24 hours"))
        #expect(SendFailure.whatsApp(code: 131026, message: nil).reason.contains("not a WhatsApp user"))
        #expect(SendFailure.whatsApp(code: 131050, message: nil).reason.contains("marketing"))
    }

    @Test func twilioCodes() {
        let cases: [(code: Int, transient: Bool, optOut: Bool)] = [
            (21610, false, true), (21211, false, false), (21614, false, false), (30003, true, false), (30005, false, false),
            (30006, false, false), (30007, false, false), (30008, true, false), (20429, true, false), (14107, true, false),
        ]
        for item in cases {
            let failure = SendFailure.twilio(code: item.code, message: "provider text")
            #expect(failure.code == String(item.code))
            #expect(failure.isTransient == item.transient, "\(item.code)")
            #expect(failure.impliesOptOut == item.optOut, "\(item.code)")
            #expect(failure.reason != "provider text" && !failure.reason.isEmpty, "\(item.code)")
        }
        #expect(SendFailure.twilio(code: 21610, message: nil).reason.contains("STOP"))
    }

    @Test func telegramCodes() {
        #expect(SendFailure.telegram(errorCode: 403, description: "Forbidden: bot was blocked by the user").impliesOptOut)
        #expect(!SendFailure.telegram(errorCode: 403, description: nil).isTransient)
        let notFound = SendFailure.telegram(errorCode: 400, description: "Bad Request: chat not found")
        #expect(notFound == .permanent(code: "400", reason: "Bad Request: chat not found"))
        #expect(!SendFailure.telegram(errorCode: 400, description: nil).impliesOptOut)
        #expect(SendFailure.telegram(errorCode: 429, description: nil).isTransient)
        for status in [500, 502, 503, 504] {
            #expect(SendFailure.telegram(errorCode: status, description: nil).isTransient, "\(status)")
        }
        #expect(!SendFailure.telegram(errorCode: 404, description: "Not Found").isTransient)
    }

    @Test func unknownCodesFollowTheHTTPStatus() {
        #expect(SendFailure.whatsApp(code: 135000, message: "Generic user error", httpStatus: 500) == .transient(code: "135000", reason: "Generic user error"))
        #expect(SendFailure.whatsApp(code: 135000, message: nil, httpStatus: 429).isTransient)
        #expect(SendFailure.whatsApp(code: 135000, message: nil, httpStatus: 400) == .permanent(code: "135000", reason: "WhatsApp error 135000"))
        #expect(!SendFailure.whatsApp(code: 135000, message: nil).isTransient)
        #expect(SendFailure.twilio(code: 29999, message: nil, httpStatus: 502).isTransient)
        #expect(!SendFailure.twilio(code: 29999, message: "", httpStatus: 404).isTransient)
        #expect(SendFailure.twilio(code: 29999, message: "", httpStatus: 404).reason == "Twilio error 29999")
        #expect(!SendFailure.whatsApp(code: 135000, message: nil, httpStatus: 500).impliesOptOut)
    }
}

@Suite struct WebhookSignatureTests {
    private let metaBody = Array(#"{"object":"whatsapp_business_account","entry":[]}"#.utf8)
    // HMAC-SHA256("meta-app-secret", body), computed independently (Python's hmac module)
    private let metaHeader = "sha256=ee9f05f989bc0aa2693d85691a477f8b8403933cde7959a1c5c6be7ea85e8d3d"

    @Test func metaSignature() throws {
        #expect(WebhookSignatures.metaSignature(body: metaBody, appSecret: "meta-app-secret") == metaHeader)
        #expect(WebhookSignatures.metaValid(body: metaBody, header: metaHeader, appSecret: "meta-app-secret"))
        let upperHex = "sha256=" + metaHeader.dropFirst("sha256=".count).uppercased()
        #expect(WebhookSignatures.metaValid(body: metaBody, header: upperHex, appSecret: "meta-app-secret"))
        #expect(!WebhookSignatures.metaValid(body: metaBody, header: nil, appSecret: "meta-app-secret"))
        #expect(!WebhookSignatures.metaValid(body: metaBody, header: "", appSecret: "meta-app-secret"))
        #expect(!WebhookSignatures.metaValid(body: metaBody, header: String(metaHeader.dropFirst("sha256=".count)), appSecret: "meta-app-secret"))
        #expect(!WebhookSignatures.metaValid(body: metaBody, header: "sha256=" + String(repeating: "0", count: 64), appSecret: "meta-app-secret"))
        #expect(!WebhookSignatures.metaValid(body: metaBody, header: String(metaHeader.dropLast()) + "e", appSecret: "meta-app-secret"))
        #expect(!WebhookSignatures.metaValid(body: metaBody, header: metaHeader, appSecret: "another-secret"))
        #expect(!WebhookSignatures.metaValid(body: metaBody, header: metaHeader, appSecret: ""))
        #expect(!WebhookSignatures.metaValid(body: metaBody + [0x0a], header: metaHeader, appSecret: "meta-app-secret"))

        // the same JSON re-serialised is other bytes, and fails: the signature must be checked over the raw body
        let raw = Array(try fixture("whatsapp-batch.json"))
        let header = WebhookSignatures.metaSignature(body: raw, appSecret: "meta-app-secret")
        #expect(WebhookSignatures.metaValid(body: raw, header: header, appSecret: "meta-app-secret"))
        let reserialised = Array(try JSONSerialization.data(withJSONObject: try JSONSerialization.jsonObject(with: Data(raw)), options: [.sortedKeys]))
        #expect(reserialised != raw)
        #expect(!WebhookSignatures.metaValid(body: reserialised, header: header, appSecret: "meta-app-secret"))
    }

    // Twilio's documented example: auth token 12345, this URL and these parameters sign as RSOYDt4T1cUTdK1PDd93/VVr8B8=
    private let twilioURL = "https://mycompany.com/myapp.php?foo=1&bar=2"
    private let twilioParams = [
        "CallSid": "CA1234567890ABCDE", "Caller": "+14158675309", "Digits": "1234", "From": "+14158675309", "To": "+18005551212",
    ]

    @Test func twilioSignature() {
        let header = "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        #expect(WebhookSignatures.twilioSignature(url: twilioURL, params: twilioParams, authToken: "12345") == header)
        #expect(WebhookSignatures.twilioValid(url: twilioURL, params: twilioParams, header: header, authToken: "12345"))
        #expect(!WebhookSignatures.twilioValid(url: twilioURL, params: twilioParams, header: nil, authToken: "12345"))
        #expect(!WebhookSignatures.twilioValid(url: twilioURL, params: twilioParams, header: "", authToken: "12345"))
        #expect(!WebhookSignatures.twilioValid(url: twilioURL, params: twilioParams, header: "RSOYDt4T1cUTdK1PDd93/VVr8B8", authToken: "12345"))
        #expect(!WebhookSignatures.twilioValid(url: twilioURL, params: twilioParams, header: "AAAYDt4T1cUTdK1PDd93/VVr8B8=", authToken: "12345"))
        #expect(!WebhookSignatures.twilioValid(url: twilioURL, params: twilioParams, header: header, authToken: "54321"))
        #expect(!WebhookSignatures.twilioValid(url: twilioURL, params: twilioParams, header: header, authToken: ""))
        #expect(!WebhookSignatures.twilioValid(url: "https://mycompany.com/myapp.php?foo=1&bar=3", params: twilioParams, header: header, authToken: "12345"))
        var changed = twilioParams
        changed["Digits"] = "1235"
        #expect(!WebhookSignatures.twilioValid(url: twilioURL, params: changed, header: header, authToken: "12345"))
        changed = twilioParams
        changed["Extra"] = ""
        #expect(!WebhookSignatures.twilioValid(url: twilioURL, params: changed, header: header, authToken: "12345"))
    }

    @Test func twilioSignsTheDecodedFormOfTheFixtures() throws {
        let url = "https://sokoni.example/v1/messaging/webhooks/twilio"
        let form = try fixtureForm("twilio-inbound.txt")
        let header = WebhookSignatures.twilioSignature(url: url, params: form, authToken: "twilio-token")
        #expect(WebhookSignatures.twilioValid(url: url, params: form, header: header, authToken: "twilio-token"))
        var tampered = form
        tampered["Body"] = "Is this the right size?!"
        #expect(!WebhookSignatures.twilioValid(url: url, params: tampered, header: header, authToken: "twilio-token"))
    }

    @Test func telegramSecretToken() {
        #expect(WebhookSignatures.telegramValid(header: "s3cr3t-Token_1", secretToken: "s3cr3t-Token_1"))
        #expect(!WebhookSignatures.telegramValid(header: "s3cr3t-Token_2", secretToken: "s3cr3t-Token_1"))
        #expect(!WebhookSignatures.telegramValid(header: "s3cr3t-Token_1x", secretToken: "s3cr3t-Token_1"))
        #expect(!WebhookSignatures.telegramValid(header: nil, secretToken: "s3cr3t-Token_1"))
        #expect(!WebhookSignatures.telegramValid(header: "", secretToken: ""))
    }

    @Test func constantTimeComparison() {
        #expect(WebhookSignatures.constantTimeEqual([], []))
        #expect(WebhookSignatures.constantTimeEqual([1, 2, 3], [1, 2, 3]))
        #expect(!WebhookSignatures.constantTimeEqual([1, 2, 3], [1, 2, 4]))
        #expect(!WebhookSignatures.constantTimeEqual([0, 2, 3], [1, 2, 3]))
        #expect(!WebhookSignatures.constantTimeEqual([1, 2], [1, 2, 3]))
    }
}
