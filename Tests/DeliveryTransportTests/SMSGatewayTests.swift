import DeliveryTransport
import Foundation
import NotariumTestKit
import Testing

/// The SMS adapter against the project's own gateway on loopback (sms_gateway.py): no real SMS
/// gateway is reachable from here, so this checks our side of the documented protocol, and the
/// gateway's refusals as a real one gives them.
@Suite("SMS gateway adapter against a gateway on loopback")
struct SMSGatewayTests {
    typealias Gateway = SMSGatewayProcess

    @Test("a notice is taken: the gateway's id comes back, the gateway holds the text, and the same reference again is the same message")
    func taken() async throws {
        let gateway = try Gateway(token: "t0ken")
        let settings = SMSGateway(url: gateway.url, token: "t0ken", sender: "CIETAC")
        let text = "【CIETAC】案件 ODR-2026-0042 的文书已向您送达，请点击查阅：https://odr.example.org/n/1"
        let first = try await SMSClient.send(to: "+8613800138001", text: text, reference: "SVC-1|sms|notice", callbackURL: "https://notarium.example.org/delivery/sms/reports", via: settings)
        #expect(first.status == "accepted" && !first.gatewayID.isEmpty)
        let again = try await SMSClient.send(to: "+8613800138001", text: text, reference: "SVC-1|sms|notice", callbackURL: nil, via: settings)
        #expect(again.gatewayID == first.gatewayID, "a resend is the same message")
        let held = try gateway.messages()
        #expect(held.count == 1)
        #expect(held.first?["text"] as? String == text && held.first?["from"] as? String == "CIETAC" && held.first?["to"] as? String == "+8613800138001")
        #expect(held.first?["callbackUrl"] as? String == "https://notarium.example.org/delivery/sms/reports")
    }

    @Test("refusals by name: a number the gateway refuses is the recipient's; a wrong token, a busy gateway, no gateway and a bad URL are not")
    func refusals() async throws {
        let gateway = try Gateway(token: "t0ken")
        let settings = SMSGateway(url: gateway.url, token: "t0ken", sender: "CIETAC", timeoutSeconds: 5)
        func error(to number: String, via gateway: SMSGateway) async -> SMSError? {
            await caught(SMSError.self) { _ = try await SMSClient.send(to: number, text: "x", reference: "r-\(number)", callbackURL: nil, via: gateway) }
        }
        let unallocated = await error(to: "+8613800138000", via: settings)
        #expect(unallocated?.code == .rejected && unallocated?.status == 400 && unallocated?.isRecipientFailure == true && unallocated?.gatewayErrorCode == "unallocated", "\(String(describing: unallocated))")
        let invalid = await error(to: "12345", via: settings)
        #expect(invalid?.code == .rejected && invalid?.gatewayErrorCode == "invalid-number")
        var wrongToken = settings
        wrongToken.token = "other"
        let unauthorized = await error(to: "+8613800138001", via: wrongToken)
        #expect(unauthorized?.code == .unauthorized && unauthorized?.status == 401 && unauthorized?.isRecipientFailure == false)
        let busy = await error(to: "+8613800138009", via: settings)
        #expect(busy?.code == .gatewayError && busy?.status == 503 && busy?.isRecipientFailure == false)
        var nowhere = settings
        nowhere.url = "http://127.0.0.1:9/messages"
        #expect(await error(to: "+8613800138001", via: nowhere)?.code == .connectFailed)
        var notHTTP = settings
        notHTTP.url = "ftp://127.0.0.1/messages"
        #expect(await error(to: "+8613800138001", via: notHTTP)?.code == .invalidGatewayURL)
        #expect(try gateway.messages().isEmpty, "nothing refused was taken")
    }
}
