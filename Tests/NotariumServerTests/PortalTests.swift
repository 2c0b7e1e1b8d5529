import Foundation
import NotariumTestKit
import Testing

/// Electronic service from end to end through a live notariumd: the clerk uploads the document
/// and opens the service over mutual TLS; the notice goes through a real postfix to a Maildir;
/// the recipient follows its link in Debian's headless chromium, identifies with the code the
/// project's SMS gateway carried, downloads and acknowledges; the bundle verifies offline.
@Suite("Electronic service end to end: postfix, the SMS gateway, the portal in chromium, the bundle", .serialized)
struct PortalTests {
    /// A live appliance with postfix as its relay and the SMS gateway reporting back.
    final class Setup {
        let directory = TemporaryDirectory()
        let data: String
        let postfix: PostfixInstance
        let gateway: SMSGatewayProcess
        let appliance: RunningAppliance
        let clerk: String
        let ca: String
        static let reportSecret = "gateway-report-secret-0123456789"

        init() throws {
            data = directory.file("data")
            postfix = try PostfixInstance(directory)
            let bounces = postfix.maildir("bounces")
            try postfix.createMaildir("bounces")
            try "sms-t0ken\n".write(toFile: directory.file("sms-token"), atomically: true, encoding: .utf8)
            try Self.reportSecret.write(toFile: directory.file("sms-secret"), atomically: true, encoding: .utf8)
            ca = data + "/clients/operator/ca.pem"
            gateway = try SMSGatewayProcess(token: "sms-t0ken", reportSecret: Self.reportSecret, caFile: ca)
            appliance = try RunningAppliance(["--data", data], environment: cleanEnvironment([
                "NOTARIUM_LEDGER_CHECKPOINT_INTERVAL": "1", "NOTARIUM_DELIVERY_EMAIL_RELAY": "127.0.0.1:\(postfix.port)",
                "NOTARIUM_DELIVERY_EMAIL_SECURITY": "none", "NOTARIUM_DELIVERY_EMAIL_FROM": "notices@example.test",
                "NOTARIUM_DELIVERY_EMAIL_FROM_NAME": "CIETAC", "NOTARIUM_DELIVERY_EMAIL_ENVELOPE_FROM": "bounces@example.test",
                "NOTARIUM_DELIVERY_EMAIL_BOUNCE_MAILDIR": bounces, "NOTARIUM_DELIVERY_SMS_GATEWAY_URL": gateway.url,
                "NOTARIUM_DELIVERY_SMS_TOKEN_FILE": directory.file("sms-token"), "NOTARIUM_DELIVERY_SMS_REPORT_SECRET_FILE": directory.file("sms-secret"),
                "NOTARIUM_DELIVERY_SMS_SENDER": "CIETAC",
            ]))
            clerk = try DeliveryAPITests.registerClerk(appliance, data: data, in: directory)
        }

        deinit { appliance.stop() }

        func api(_ path: String, _ extra: [String] = []) throws -> (status: Int, headers: String, body: String) {
            try APITests.curlTLS(appliance.apiURL + path, operator: clerk, ca: ca, extra)
        }

        /// The portal as a browser without a certificate sees it (curl, trusting the appliance's CA).
        func portal(_ url: String, cookies: String, _ extra: [String] = []) throws -> (status: Int, headers: String, body: String) {
            let output = TemporaryDirectory()
            let result = try runProcess("/usr/bin/curl", ["-sS", "--cacert", ca, "-b", cookies, "-c", cookies, "-D", output.file("h"), "-o", output.file("b"), "-w", "%{http_code}"] + extra + [url])
            return (Int(result.standardOutput) ?? 0, (try? String(contentsOfFile: output.file("h"), encoding: .utf8)) ?? "", (try? String(contentsOfFile: output.file("b"), encoding: .utf8)) ?? "")
        }

        /// Uploads `bytes` as a document; returns the part that names it.
        func upload(_ bytes: [UInt8], name: String) throws -> [String: Any] {
            let file = directory.file(name.replacingOccurrences(of: "/", with: "_"))
            try Data(bytes).write(to: URL(fileURLWithPath: file))
            let sha256 = Self.sha256(file)
            let stored = try api("/v1/documents/" + sha256, ["-X", "PUT", "-H", "Content-Type: application/pdf", "--data-binary", "@" + file])
            #expect(stored.status == 201, "\(stored.status) \(stored.body)")
            let digest = Data(Self.hexBytes(sha256)).base64EncodedString()
            return ["name": name, "digests": [["algorithm": "sha-256", "value": digest]], "size": bytes.count, "mediaType": "application/pdf"]
        }

        func open(_ service: String, parts: [[String: Any]], recipients: [[String: String]], channels: [String], reminders: [Int] = []) throws -> (status: Int, body: String) {
            let body: [String: Any] = [
                "service": service, "case": "ODR-2026-0077", "parts": parts, "recipients": recipients,
                "rules": ["timeZone": "Asia/Shanghai", "calendar": ["id": "CN", "version": "2026.1", "weekend": [6, 7], "holidays": [String]()],
                          "confirmedChannels": [String](), "readReportPresumesService": false, "acceptanceWindowDays": 7],
                "delivery": ["languages": ["zh-Hans"], "channels": channels, "institution": "CIETAC", "reminders": reminders],
            ]
            let file = try DeliveryAPITests.json(body, to: directory.file(service + ".json"))
            let answer = try api("/v1/services", ["-H", "Content-Type: application/json", "--data-binary", "@" + file])
            return (answer.status, answer.body)
        }

        /// The service's recorded events (their names), once at least `count` are there.
        func events(_ service: String, atLeast count: Int, timeout: Double = 60) throws -> [[String: Any]] {
            let deadline = Date().addingTimeInterval(timeout)
            var records: [[String: Any]] = []
            repeat {
                let bundle = try api("/v1/services/\(service)/bundle")
                let entries = ((try? JSONSerialization.jsonObject(with: Data(bundle.body.utf8))) as? [String: Any])?["records"] as? [[String: Any]] ?? []
                // Each record's entry is the ledger entry's canonical JSON, in base64; its body is the event.
                records = entries.compactMap { record in
                    (record["entry"] as? String).flatMap { Data(base64Encoded: $0) }
                        .flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }?["body"] as? [String: Any]
                }
                if records.count >= count { break }
                usleep(250_000)
            } while Date() < deadline
            return records
        }

        static func sha256(_ file: String) -> String {
            (try? runProcess("/usr/bin/sha256sum", [file]).standardOutput.split(separator: " ").first.map(String.init)) ?? ""
        }

        static func hexBytes(_ hex: String) -> [UInt8] {
            var bytes: [UInt8] = []
            var index = hex.startIndex
            while index < hex.endIndex {
                let next = hex.index(index, offsetBy: 2)
                bytes.append(UInt8(hex[index..<next], radix: 16) ?? 0)
                index = next
            }
            return bytes
        }
    }

    /// The personal link in a notice's text: the portal's path and a 43-character token.
    static func link(in text: String, base: String) -> String? {
        guard let start = text.range(of: base + "/portal/") else { return nil }
        let token = text[start.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }
        return token.count == 43 ? base + "/portal/" + token : nil
    }

    static func name(_ record: [String: Any]) -> String {
        ((record["event"] as? String) ?? "").components(separatedBy: "/").last ?? ""
    }

    @Test("served by e-mail through postfix in Chinese; in chromium the recipient follows the link, identifies with the code from the SMS gateway, downloads and acknowledges; the bundle verifies offline as acknowledged, effective at the acknowledgement")
    func servedThroughThePortal() throws {
        let setup = try Setup()
        let document = Array("%PDF-1.4\n% 仲裁裁决书 — award of case ODR-2026-0077\n".utf8) + (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let part = try setup.upload(document, name: "award")
        let documentSHA256 = Setup.sha256(setup.directory.file("award"))
        let opened = try setup.open("SVC-PORTAL-1", parts: [part],
                                    recipients: [["channel": "email", "address": "ann@example.test"], ["channel": "sms", "address": "+8613800138001"], ["channel": "portal", "address": "party-ann"]],
                                    channels: ["email", "sms", "portal"])
        try #require(opened.status == 201, "\(opened.body)")

        // The notice, in Chinese, in ann's Maildir through postfix, carrying the personal link.
        let files = setup.postfix.newMessages("ann", atLeast: 1, timeout: 60)
        try #require(files.count == 1, "postfix log: \(setup.postfix.log)")
        let mail = try #require(try MailRelay.read(maildir: setup.postfix.maildir("ann")).first)
        #expect(mail["subject"] as? String == "送达通知：案件 ODR-2026-0077（CIETAC）")
        let text = mail["text"] as? String ?? ""
        let link = try #require(Self.link(in: text, base: setup.appliance.apiURL), "\(text)")
        #expect((mail["attachments"] as? [Any])?.isEmpty ?? true, "a link-only notice carries no document")

        // Before identification the link shows nothing of the case, and the documents redirect.
        let cookies = setup.directory.file("cookies")
        let entry = try setup.portal(link, cookies: cookies)
        #expect(entry.status == 200 && entry.body.contains("lang=\"zh-Hans\"") && !entry.body.contains("ODR-2026-0077") && !entry.body.contains("award"), "\(entry.body)")
        #expect(entry.body.contains("尾号为01"), "the code goes by SMS, the other channel: \(entry.body)")
        let early = try setup.portal(link + "/documents/0", cookies: cookies)
        #expect(early.status == 303 && !early.body.contains("PDF"), "\(early.status)")

        // The recipient, in a real browser.
        let shots = setup.directory.file("screenshots")
        try FileManager.default.createDirectory(atPath: shots, withIntermediateDirectories: true)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("portal_browser.py").path
        let browser = try runProcess("/usr/bin/env", ["python3", script, link, setup.gateway.url, "+8613800138001", "ODR-2026-0077", shots], timeout: 180)
        let outcome = (try? JSONSerialization.jsonObject(with: Data(browser.standardOutput.utf8)) as? [String: Any]) ?? [:]
        try #require(browser.status == 0, "\(browser.standardOutput) \(browser.standardError)")
        #expect(outcome["entryLanguage"] as? String == "zh-Hans")
        #expect((outcome["codeText"] as? String)?.contains("CIETAC") == true)
        #expect((outcome["documentsText"] as? String)?.contains("ODR-2026-0077") == true)
        let download = outcome["download"] as? [String: Any]
        #expect(download?["name"] as? String == "award.pdf")
        #expect(download?["sha256"] as? String == documentSHA256, "the bytes downloaded are the document served")
        #expect((outcome["answerText"] as? String)?.contains("签收") == true, "\(outcome)")
        if let keep = ProcessInfo.processInfo.environment["NOTARIUM_KEEP_SCREENSHOTS"] {
            for shot in outcome["screenshots"] as? [String] ?? [] { try? FileManager.default.copyItem(atPath: shot, toPath: keep + "/" + URL(fileURLWithPath: shot).lastPathComponent) }
        }

        // Every step is the service's event; the handover names the digest of the bytes served.
        let records = try setup.events("SVC-PORTAL-1", atLeast: 5)
        #expect(records.map(Self.name) == ["SubmissionAcceptance", "ConsignmentNotification", "ContentAccessTracking", "ContentHandover", "ConsignmentAcceptance"], "\(records.map(Self.name))")
        let handover = records.first { Self.name($0) == "ContentHandover" }
        #expect(((handover?["provider"] as? [String: Any])?["report"] as? String)?.contains(documentSHA256) == true)
        #expect((handover?["identification"] as? [String: Any])?["method"] as? String == "one-time-code")

        // The bundle verifies offline: acknowledged, effective at the acknowledgement.
        let trust = try setup.api("/v1/trust")
        try trust.body.write(toFile: setup.directory.file("trust.json"), atomically: true, encoding: .utf8)
        // The bytes as served (the checkpoint note is UTF-8; a text round trip would alter it).
        let saved = try runProcess("/usr/bin/curl", ["-sS", "--fail", "--cacert", setup.ca, "--cert", setup.clerk + "/client.crt", "--key", setup.clerk + "/client.key",
                                                     "-o", setup.directory.file("service.bundle.json"), setup.appliance.apiURL + "/v1/services/SVC-PORTAL-1/bundle"])
        #expect(saved.status == 0, "\(saved.standardError)")
        let verified = try runProcess(builtProduct("notarium"), ["verify", setup.directory.file("service.bundle.json"), "--trust", setup.directory.file("trust.json"), "--lang", "zh"])
        #expect(verified.status == 0, "\(verified.standardOutput) \(verified.standardError)")
        #expect(verified.standardOutput.contains("已证明的最高送达状态"), "\(verified.standardOutput)")
        let report = try runProcess(builtProduct("notarium"), ["verify", setup.directory.file("service.bundle.json"), "--trust", setup.directory.file("trust.json"), "--json"])
        #expect(report.standardOutput.contains("acknowledged") && report.standardOutput.contains("reply"), "\(report.standardOutput)")
    }

    @Test("a bounce through postfix (unknown mailbox): the failure recorded from its DSN, the SMS notice sent next, and the gateway's signed delivery report, posted over HTTPS, recorded as the SMS notice")
    func bounceFallsBackToSMS() throws {
        let setup = try Setup()
        let part = try setup.upload(Array("%PDF-1.4 the award".utf8), name: "award")
        let opened = try setup.open("SVC-BOUNCE", parts: [part],
                                    recipients: [["channel": "email", "address": "nobody@example.test"], ["channel": "sms", "address": "+8613800138005"], ["channel": "portal", "address": "party-x"]],
                                    channels: ["email", "sms", "portal"])
        try #require(opened.status == 201, "\(opened.body)")
        let records = try setup.events("SVC-BOUNCE", atLeast: 4, timeout: 90)
        #expect(records.map(Self.name) == ["SubmissionAcceptance", "ConsignmentNotification", "ConsignmentNotificationFailure", "ConsignmentNotification"],
                "\(records.map(Self.name)); postfix: \(setup.postfix.log.suffix(3000))")
        let failure = records.count > 2 ? records[2] : [:]
        #expect(failure["channel"] as? String == "email" && failure["reason"] as? String == "address-unknown")
        #expect((failure["provider"] as? [String: Any])?["kind"] as? String == "smtp-dsn")
        let sms = records.count > 3 ? records[3] : [:]
        #expect(sms["channel"] as? String == "sms" && (sms["provider"] as? [String: Any])?["kind"] as? String == "sms-report")
        let reports = try setup.gateway.reports()
        #expect(reports.count == 1 && (reports.first?["status"] as? Int) == 200 && (reports.first?["answer"] as? String)?.contains("recorded as entry") == true, "\(reports)")
        let text = try #require(try setup.gateway.messages().first?["text"] as? String)
        #expect(text.contains(setup.appliance.apiURL + "/portal/"), "the SMS carries the personal link: \(text)")
        // The e-mail address bounced: the code goes by SMS, the one channel that works.
        let link = try #require(Self.link(in: text, base: setup.appliance.apiURL))
        let entry = try setup.portal(link, cookies: setup.directory.file("cookies"))
        #expect(entry.status == 200 && entry.body.contains("尾号为05"), "\(entry.body)")
    }

    @Test("an identified session: its cookie's attributes, the page's and the download's headers; a GET with the session goes to the documents; no such part is 404; an answer with another form token is 403; a verify without a code, or not a form, is refused and not counted")
    func identifiedSession() throws {
        let setup = try Setup()
        let cookies = setup.directory.file("cookies")
        let part = try setup.upload(Array("%PDF-1.4 ann's copy".utf8), name: "order/1")
        let opened = try setup.open("SVC-SESSION", parts: [part],
                                    recipients: [["channel": "email", "address": "ann@example.test"], ["channel": "sms", "address": "+8613800138003"], ["channel": "portal", "address": "ann"]],
                                    channels: ["email", "sms", "portal"])
        try #require(opened.status == 201, "\(opened.body)")
        try #require(setup.postfix.newMessages("ann", atLeast: 1, timeout: 60).count == 1)
        let notice = try #require(try MailRelay.read(maildir: setup.postfix.maildir("ann")).first?["text"] as? String)
        let link = try #require(Self.link(in: notice, base: setup.appliance.apiURL))
        let path = String(link.dropFirst(setup.appliance.apiURL.count))

        #expect(try setup.portal(link + "/code", cookies: cookies, ["-X", "POST", "-d", ""]).status == 200)
        // Refused before the link is touched: no code, and a body that is not a form.
        let noCode = try setup.portal(link + "/verify", cookies: cookies, ["-d", "other=1"])
        #expect(noCode.status == 400 && noCode.body.contains("missing-parameter"), "\(noCode.status) \(noCode.body)")
        let notForm = try setup.portal(link + "/verify", cookies: cookies, ["-H", "Content-Type: application/json", "-d", "{\"code\":\"000000\"}"])
        #expect(notForm.status == 415, "\(notForm.status) \(notForm.body)")
        let wrong = try setup.portal(link + "/verify", cookies: cookies, ["-d", "code=000000"])
        #expect(wrong.status == 401 && wrong.body.contains("剩余尝试次数：2"), "the refusals above counted no attempt: \(wrong.body)")

        let text = try #require(try setup.gateway.messages().last { ($0["to"] as? String) == "+8613800138003" }?["text"] as? String)
        let code = try #require(text.split(whereSeparator: { !$0.isNumber }).first { $0.count == 6 }.map(String.init))
        let identified = try setup.portal(link + "/verify", cookies: cookies, ["-d", "code=" + code])
        #expect(identified.status == 303 && identified.headers.lowercased().contains("location: \(path.lowercased())/documents"), "\(identified.headers)")
        let cookie = identified.headers.split(separator: "\r\n").first { $0.lowercased().hasPrefix("set-cookie:") }.map(String.init) ?? ""
        for attribute in ["notarium_portal=", "Path=\(path)", "Max-Age=1800", "Secure", "HttpOnly", "SameSite=Strict"] {
            #expect(cookie.contains(attribute), "\(attribute) in \(cookie)")
        }

        let entry = try setup.portal(link, cookies: cookies)
        #expect(entry.status == 303, "with a session, the link goes to the documents")
        let page = try setup.portal(link + "/documents", cookies: cookies)
        #expect(page.status == 200 && page.body.contains("ODR-2026-0077"))
        for header in ["content-security-policy: default-src 'none'", "x-content-type-options: nosniff", "cache-control: no-store"] {
            #expect(page.headers.lowercased().contains(header), "\(header)")
        }
        #expect(page.body.contains("<meta name=\"referrer\" content=\"no-referrer\">"))
        let download = try setup.portal(link + "/documents/0", cookies: cookies)
        #expect(download.status == 200 && download.body == "%PDF-1.4 ann's copy")
        for header in ["content-disposition: attachment; filename=\"order_1.pdf\"", "x-content-type-options: nosniff", "content-security-policy: sandbox"] {
            #expect(download.headers.lowercased().contains(header), "\(header) in \(download.headers)")
        }
        #expect(try setup.portal(link + "/documents/99", cookies: cookies).status == 404)
        let foreign = try setup.portal(link + "/answer", cookies: cookies, ["-d", "decision=accept&form=00"])
        #expect(foreign.status == 403 && foreign.body.contains("forbidden"), "\(foreign.status) \(foreign.body)")
        let records = try setup.events("SVC-SESSION", atLeast: 4)
        #expect(records.map(Self.name) == ["SubmissionAcceptance", "ConsignmentNotification", "ContentAccessTracking", "ContentHandover"], "no answer recorded: \(records.map(Self.name))")
    }

    @Test("an upload acknowledged with 201 survives kill -9: after the restart the same bytes are 200 and a service through the portal opens on them")
    func uploadSurvivesKill() throws {
        let directory = TemporaryDirectory()
        let data = directory.file("data")
        let first = try RunningAppliance(["--data", data], environment: cleanEnvironment(["NOTARIUM_LEDGER_CHECKPOINT_INTERVAL": "0"]))
        let clerk = try DeliveryAPITests.registerClerk(first, data: data, in: directory)
        let ca = data + "/clients/operator/ca.pem"
        let file = directory.file("award.pdf")
        try Data("%PDF-1.4 durable".utf8).write(to: URL(fileURLWithPath: file))
        let sha256 = Setup.sha256(file)
        let put = ["-X", "PUT", "--data-binary", "@" + file]
        #expect(try APITests.curlTLS(first.apiURL + "/v1/documents/" + sha256, operator: clerk, ca: ca, put).status == 201)
        first.process.signal(SIGKILL)
        first.process.waitForExit()

        let second = try RunningAppliance(["--data", data], environment: cleanEnvironment(["NOTARIUM_LEDGER_CHECKPOINT_INTERVAL": "0"]))
        defer { second.stop() }
        #expect(try APITests.curlTLS(second.apiURL + "/v1/documents/" + sha256, operator: clerk, ca: ca, put).status == 200, "held across the kill")
        let opening: [String: Any] = [
            "service": "SVC-DURABLE", "case": "ODR-2026-0078",
            "parts": [["name": "award", "digests": [["algorithm": "sha-256", "value": Data(Setup.hexBytes(sha256)).base64EncodedString()]], "size": 16, "mediaType": "application/pdf"]],
            "recipients": [["channel": "email", "address": "ann@example.test"], ["channel": "portal", "address": "ann"]],
            "rules": ["timeZone": "UTC", "calendar": ["id": "x", "version": "1", "weekend": [6, 7], "holidays": [String]()], "confirmedChannels": [String](), "readReportPresumesService": false],
            "delivery": ["languages": ["en"], "channels": ["email", "portal"], "institution": "CIETAC"],
        ]
        let body = try DeliveryAPITests.json(opening, to: directory.file("opening.json"))
        let opened = try APITests.curlTLS(second.apiURL + "/v1/services", operator: clerk, ca: ca, ["-H", "Content-Type: application/json", "--data-binary", "@" + body])
        #expect(opened.status == 201, "\(opened.status) \(opened.body)")
    }

    @Test("the portal refuses what it must: an unknown link, wrong codes (counted, then void, then the link locked), a form from elsewhere; an upload whose digest is wrong, a service whose document is not held, an SMS report unsigned or of no message of ours")
    func refusals() throws {
        let setup = try Setup()
        let cookies = setup.directory.file("cookies")

        // Uploads and openings that must change nothing.
        let file = setup.directory.file("other.pdf")
        try Data("%PDF-1.4 another".utf8).write(to: URL(fileURLWithPath: file))
        let mismatch = try setup.api("/v1/documents/" + String(repeating: "ab", count: 32), ["-X", "PUT", "--data-binary", "@" + file])
        #expect(mismatch.status == 422 && mismatch.body.contains("digest-mismatch"), "\(mismatch.status) \(mismatch.body)")
        let notHex = try setup.api("/v1/documents/not-a-digest", ["-X", "PUT", "--data-binary", "@" + file])
        #expect(notHex.status == 400 && notHex.body.contains("invalid-parameter"), "\(notHex.status) \(notHex.body)")
        let empty = try setup.api("/v1/documents/" + Setup.sha256("/dev/null"), ["-X", "PUT", "--data-binary", ""])
        #expect(empty.status == 400 && empty.body.contains("empty-body"), "\(empty.status) \(empty.body)")
        let large = setup.directory.file("large.bin")
        try Data(count: 16 * 1024 * 1024 + 1).write(to: URL(fileURLWithPath: large))
        let tooLarge = try setup.api("/v1/documents/" + Setup.sha256(large), ["-X", "PUT", "--data-binary", "@" + large])
        #expect(tooLarge.status == 413 && tooLarge.body.contains("body-too-large"), "\(tooLarge.status) \(tooLarge.body)")
        let operatorDirectory = setup.data + "/clients/operator"
        let notClerk = try APITests.curlTLS(setup.appliance.apiURL + "/v1/documents/" + Setup.sha256(file), operator: operatorDirectory, ca: setup.ca, ["-X", "PUT", "--data-binary", "@" + file])
        #expect(notClerk.status == 403, "the operator does not record services: \(notClerk.status)")
        // None of them stored anything: a service naming that body's real digest is refused.
        let digest = Data(Setup.hexBytes(Setup.sha256(file))).base64EncodedString()
        let stored = try setup.open("SVC-NOT-STORED", parts: [["name": "other", "digests": [["algorithm": "sha-256", "value": digest]], "size": 16, "mediaType": "application/pdf"]],
                                    recipients: [["channel": "email", "address": "bo@example.test"], ["channel": "portal", "address": "bo"]], channels: ["email", "portal"])
        #expect(stored.status == 422 && stored.body.contains("document-missing"), "\(stored.status) \(stored.body)")
        let notHeld: [String: Any] = ["name": "missing", "digests": [["algorithm": "sha-256", "value": Data(repeating: 7, count: 32).base64EncodedString()]], "size": 10, "mediaType": "application/pdf"]
        let refused = try setup.open("SVC-NOT-HELD", parts: [notHeld], recipients: [["channel": "email", "address": "bo@example.test"], ["channel": "portal", "address": "bo"]], channels: ["email", "portal"])
        #expect(refused.status == 422 && refused.body.contains("document-missing"), "\(refused.status) \(refused.body)")
        #expect(try setup.api("/v1/services/SVC-NOT-HELD/bundle").status == 404)

        // A link nobody was given.
        let unknown = try setup.portal(setup.appliance.apiURL + "/portal/" + String(repeating: "A", count: 43), cookies: cookies)
        #expect(unknown.status == 404 && !unknown.body.contains("ODR"), "\(unknown.status)")

        // Served to bo by e-mail; the code goes by SMS to a number the gateway knows.
        let part = try setup.upload(Array("%PDF-1.4 bo's copy".utf8), name: "notice")
        let opened = try setup.open("SVC-PORTAL-2", parts: [part],
                                    recipients: [["channel": "email", "address": "bo@example.test"], ["channel": "sms", "address": "+8613800138002"], ["channel": "portal", "address": "bo"]],
                                    channels: ["email", "sms", "portal"])
        try #require(opened.status == 201, "\(opened.body)")
        try #require(setup.postfix.newMessages("bo", atLeast: 1, timeout: 60).count == 1)
        let text = try #require(try MailRelay.read(maildir: setup.postfix.maildir("bo")).first?["text"] as? String)
        let link = try #require(Self.link(in: text, base: setup.appliance.apiURL))

        // Three wrong entries void a code; five codes, each voided, lock the link.
        for round in 1...5 {
            let sent = try setup.portal(link + "/code", cookies: cookies, ["-X", "POST", "-d", ""])
            #expect(sent.status == 200, "round \(round): \(sent.status) \(sent.body)")
            for attempt in 1...3 {
                let wrong = try setup.portal(link + "/verify", cookies: cookies, ["-d", "code=000000"])
                if round == 5 && attempt == 3 {
                    #expect(wrong.status == 403 && wrong.body.contains("此链接已被锁定"), "\(wrong.body)")
                } else {
                    #expect(wrong.status == 401 && wrong.body.contains("剩余尝试次数：\(3 - attempt)"), "round \(round) attempt \(attempt): \(wrong.body)")
                }
            }
        }
        let codes = try setup.gateway.messages().filter { ($0["to"] as? String) == "+8613800138002" }
        let lastCode = try #require((codes.last?["text"] as? String)?.split(whereSeparator: { !$0.isNumber }).first { $0.count == 6 }.map(String.init))
        let locked = try setup.portal(link + "/verify", cookies: cookies, ["-d", "code=" + lastCode])
        #expect(locked.status == 403 && !locked.headers.lowercased().contains("set-cookie"), "even the right code opens nothing on a locked link")
        #expect(setup.appliance.process.standardOutput.contains("portal: a wrong one-time code") || setup.appliance.process.standardError.contains("portal: a wrong one-time code"),
                "every wrong code is logged")
        let records = try setup.events("SVC-PORTAL-2", atLeast: 2)
        #expect(!records.contains { Self.name($0) == "ContentAccessTracking" }, "nothing was opened")

        // A form from elsewhere, and an answer without a session.
        let foreign = try setup.portal(link + "/answer", cookies: cookies, ["-d", "decision=accept&form=00"])
        #expect(foreign.status == 303, "no session: back to the entry page")

        // SMS reports: unsigned, wrongly signed, of no message of ours.
        let report = #"{"id":"no-such-message","status":"delivered","at":"2026-12-07T10:00:00.000Z"}"#
        let reportFile = setup.directory.file("report.json")
        try report.write(toFile: reportFile, atomically: true, encoding: .utf8)
        let unsigned = try setup.portal(setup.appliance.apiURL + "/delivery/sms/reports", cookies: cookies, ["-H", "Content-Type: application/json", "--data-binary", "@" + reportFile])
        #expect(unsigned.status == 401 && unsigned.body.contains("invalid-report"), "\(unsigned.status) \(unsigned.body)")
        let forged = try setup.portal(setup.appliance.apiURL + "/delivery/sms/reports", cookies: cookies, ["-H", "X-Notarium-Signature: sha256=" + String(repeating: "0", count: 64), "--data-binary", "@" + reportFile])
        #expect(forged.status == 401, "\(forged.status) \(forged.body)")
        let mac = try runProcess("/usr/bin/openssl", ["dgst", "-sha256", "-hmac", Setup.reportSecret, "-r", reportFile]).standardOutput.split(separator: " ").first.map(String.init) ?? ""
        let stranger = try setup.portal(setup.appliance.apiURL + "/delivery/sms/reports", cookies: cookies, ["-H", "X-Notarium-Signature: sha256=" + mac, "--data-binary", "@" + reportFile])
        #expect(stranger.status == 404 && stranger.body.contains("unknown-message"), "\(stranger.status) \(stranger.body)")
    }
}
