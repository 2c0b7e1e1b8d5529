import DeliveryTransport
import Foundation
import NotariumTestKit
import Testing

/// RFC 3464 reports read by our parser and, for the same bytes, by Python's `email` package;
/// a live postfix on loopback makes a fresh one for a message our SMTP client sent.
@Suite("Delivery status notifications (RFC 3464)", .serialized)
struct DeliveryStatusReportTests {
    static let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let vector = here.appendingPathComponent("../../Vectors/delivery/postfix-dsn-5.1.1.eml").standardized.path

    /// Python's reading of a report, for comparison.
    static func pythonReading(_ path: String) throws -> [String: Any] {
        let result = try runProcess("/usr/bin/env", ["python3", here.appendingPathComponent("read_dsn.py").path, path])
        guard result.status == 0, let object = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any] else {
            throw ReadFailed(output: result.standardError)
        }
        return object
    }

    struct ReadFailed: Error { let output: String }

    static func expectAgreement(_ report: DeliveryStatusReport, _ python: [String: Any]) {
        let perMessage = python["perMessage"] as? [String: String] ?? [:]
        #expect(report.reportingMTA == perMessage["reporting-mta"])
        #expect(report.envelopeID == perMessage["original-envelope-id"])
        #expect(report.arrivalDate == perMessage["arrival-date"]?.trimmingCharacters(in: .whitespaces))
        let recipients = python["recipients"] as? [[String: String]] ?? []
        #expect(report.recipients.count == recipients.count)
        for (ours, theirs) in zip(report.recipients, recipients) {
            #expect("rfc822; " + ours.finalRecipient == theirs["final-recipient"])
            #expect(ours.action == theirs["action"])
            #expect(ours.status == theirs["status"])
            #expect(ours.diagnosticCode == theirs["diagnostic-code"])
        }
        #expect(report.originalMessageID == python["originalMessageID"] as? String)
    }

    @Test("postfix's report for an unknown user: the envelope id, the failed recipient with 5.1.1, the returned Message-ID, as Python's email reads them")
    func postfixVector() throws {
        let bytes = try readBytes(Self.vector)
        let report = try DeliveryStatusReport(message: bytes)
        #expect(report.envelopeID == "item-42")
        #expect(report.reportingMTA == "dns; relay.example.test")
        #expect(report.failures.count == 1)
        let failed = try #require(report.failures.first)
        #expect(failed.finalRecipient == "nobody-here@example.test")
        #expect(failed.originalRecipient == "nobody-here@example.test")
        #expect(failed.status == "5.1.1")
        #expect(failed.diagnosticCode == "X-Postfix; unknown user: \"nobody-here@example.test\"")
        #expect(report.originalMessageID == "n-1a2b3c@notarium.test")
        #expect(report.statusText.contains("Status: 5.1.1\r\n"))
        #expect(report.statusText.hasPrefix("Reporting-MTA: dns; relay.example.test\r\n"))
        Self.expectAgreement(report, try Self.pythonReading(Self.vector))
        // The envelope id is xtext (RFC 3461 §4): "+XX" is the byte 0xXX.
        let text = String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "Original-Envelope-Id: item-42", with: "Original-Envelope-Id: item+2B42+3Dx")
        #expect(try DeliveryStatusReport(message: Array(text.utf8)).envelopeID == "item+42=x")
        // RFC 6533's report of an internationalised message is read the same way.
        let global = String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "message/delivery-status", with: "message/global-delivery-status")
            .replacingOccurrences(of: "report-type=delivery-status", with: "report-type=global-delivery-status")
        #expect(try DeliveryStatusReport(message: Array(global.utf8)).failures.first?.status == "5.1.1")
    }

    @Test("what is not a report, or a broken one, is refused by name")
    func refusals() throws {
        let text = String(decoding: try readBytes(Self.vector), as: UTF8.self)
        func refused(_ variant: String) -> DeliveryStatusReport.ParseError? {
            caught(DeliveryStatusReport.ParseError.self) { _ = try DeliveryStatusReport(message: Array(variant.utf8)) }
        }
        let cases: [(String, String, (DeliveryStatusReport.ParseError) -> Bool)] = [
            ("an ordinary message", "From: a@b\nSubject: hi\n\nhello\n", { if case .notAReport = $0 { true } else { false } }),
            ("garbage", "\u{0}\u{1}\u{2}garbage", { if case .notAReport = $0 { true } else { false } }),
            ("another report type", text.replacingOccurrences(of: "report-type=delivery-status", with: "report-type=disposition-notification"), { if case .notAReport = $0 { true } else { false } }),
            ("no status part", text.replacingOccurrences(of: "Content-Type: message/delivery-status", with: "Content-Type: text/plain"), { if case .malformed = $0 { true } else { false } }),
            ("a recipient block without Status", text.replacingOccurrences(of: "Status: 5.1.1\n", with: ""), { if case .malformed = $0 { true } else { false } }),
            ("a Status that is not RFC 3463", text.replacingOccurrences(of: "Status: 5.1.1", with: "Status: failed"), { if case .malformed = $0 { true } else { false } }),
            ("no boundary", text.replacingOccurrences(of: "boundary=", with: "x-boundary="), { if case .malformed = $0 { true } else { false } }),
        ]
        for (name, variant, expected) in cases {
            let error = refused(variant)
            #expect(error.map(expected) == true, "\(name): \(String(describing: error))")
        }
        let tooLarge = caught(DeliveryStatusReport.ParseError.self) { _ = try DeliveryStatusReport(message: [UInt8](repeating: 0x41, count: DeliveryStatusReport.maximumBytes + 1)) }
        #expect(tooLarge == .tooLarge(DeliveryStatusReport.maximumBytes + 1))
    }

    @Test("live: our client hands postfix a message with ENVID; postfix delivers to a known user's Maildir and bounces an unknown one with a report we read")
    func livePostfix() async throws {
        let directory = TemporaryDirectory()
        let postfix = try PostfixInstance(directory)
        let relay = SMTPRelay(host: "127.0.0.1", port: postfix.port, security: .none, heloName: "notarium.test", timeoutSeconds: 30)
        func send(to recipient: String, id: String) async throws -> SMTPSubmission {
            let message = MailMessage(from: .init("notices@notarium.test", name: "Notarium"), to: [.init(recipient)], subject: "Notice of service",
                                      date: 1_796_000_000_000, messageID: "\(id)@notarium.test", language: "en", text: "A document has been served on you.")
            return try await SMTPClient.send(try message.rendered(boundary: "=_b_0123456789"),
                                             envelope: SMTPEnvelope(sender: "bounces@example.test", recipients: [recipient], envelopeID: id), via: relay)
        }
        let delivered = try await send(to: "ann@example.test", id: "item-1")
        #expect(delivered.deliveryStatusNotifications, "postfix offers DSN")
        #expect(delivered.reply.code == 250 && delivered.reply.queueID != nil, "\(delivered.reply)")
        let bounced = try await send(to: "nobody-here@example.test", id: "item-2")
        #expect(bounced.reply.code == 250, "postfix accepts first and bounces later")

        // Wait for the known user's message and the bounce to land in their Maildirs.
        let ann = postfix.newMessages("ann")
        let bounces = postfix.newMessages("bounces")
        try #require(ann.count == 1 && bounces.count == 1, "maillog: \(postfix.log)")
        let annText = String(decoding: try readBytes(ann[0]), as: UTF8.self)
        #expect(annText.contains("Message-ID: <item-1@notarium.test>"))

        let report = try DeliveryStatusReport(message: try readBytes(bounces[0]))
        #expect(report.envelopeID == "item-2")
        #expect(report.originalMessageID == "item-2@notarium.test")
        #expect(report.failures.map(\.finalRecipient) == ["nobody-here@example.test"])
        #expect(report.failures.first?.status == "5.1.1")
        Self.expectAgreement(report, try Self.pythonReading(bounces[0]))
    }
}
