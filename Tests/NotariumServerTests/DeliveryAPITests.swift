import Foundation
import NotariumTestKit
import Testing

/// A platform asks the appliance to serve: `POST /v1/services` with a delivery plan, over mutual
/// TLS with curl, to a live notariumd configured with a relay (aiosmtpd on loopback); the notice
/// arrives in the mailbox and the service's bundle shows it recorded.
@Suite("API: serving through the appliance (delivery plans)")
struct DeliveryAPITests {
    @Test("a service opened with a delivery plan is served by e-mail and recorded; a bad plan, or a plan with a provider's report, is refused and opens nothing")
    func serveThroughAPI() throws {
        let directory = TemporaryDirectory()
        let data = directory.file("data")
        let relay = try MailRelay(directory)
        let appliance = try RunningAppliance(["--data", data], environment: cleanEnvironment([
            "NOTARIUM_LEDGER_CHECKPOINT_INTERVAL": "0", "NOTARIUM_DELIVERY_EMAIL_RELAY": "127.0.0.1:\(relay.port)",
            "NOTARIUM_DELIVERY_EMAIL_SECURITY": "none", "NOTARIUM_DELIVERY_EMAIL_FROM": "notices@notarium.test",
            "NOTARIUM_DELIVERY_EMAIL_FROM_NAME": "CIETAC Notices",
        ]))
        defer { appliance.stop() }
        let operatorDirectory = data + "/clients/operator"
        let ca = operatorDirectory + "/ca.pem"

        let clerk = try Self.registerClerk(appliance, data: data, in: directory)

        let opening: [String: Any] = [
            "service": "SVC-API-1", "case": "ODR-2026-0042",
            "parts": [["name": "award", "digests": [["algorithm": "sha-256", "value": "JVu5Ujc2npYlwhUyN26bqkjmSkibGOvk6LJTXOpzLQM="]], "size": 91234, "mediaType": "application/pdf"]],
            "recipients": [["channel": "email", "address": "li.wei@example.test"], ["channel": "sms", "address": "+8613800138000"]],
            "rules": ["timeZone": "Asia/Shanghai", "calendar": ["id": "CN", "version": "2026.1", "weekend": [6, 7], "holidays": [String]()],
                      "confirmedChannels": [String](), "readReportPresumesService": false, "acceptanceWindowDays": 7],
            "delivery": ["languages": ["zh-Hans"], "channels": ["email", "sms"], "institution": "CIETAC", "link": "https://odr.example.org/cases/0042/notice"],
        ]
        func post(_ body: [String: Any], _ name: String) throws -> (status: Int, headers: String, body: String) {
            let file = try Self.json(body, to: directory.file(name + ".json"))
            return try APITests.curlTLS(appliance.apiURL + "/v1/services", operator: clerk, ca: ca, ["-H", "Content-Type: application/json", "--data-binary", "@" + file])
        }

        // Refused, nothing opened: a plan on a channel without a recipient; a plan with a provider's report.
        var badPlan = opening
        badPlan["service"] = "SVC-API-BAD"
        badPlan["delivery"] = ["languages": ["en"], "channels": ["postal-hybrid"], "institution": "CIETAC", "link": "https://odr.example.org/x"]
        let refused = try post(badPlan, "bad-plan")
        #expect(refused.status == 422 && refused.body.contains("invalid-delivery-plan"), "\(refused.status) \(refused.body)")
        var withReport = opening
        withReport["service"] = "SVC-API-BAD"
        withReport["rejection"] = "address-unknown"
        let schema = try post(withReport, "with-report")
        #expect(schema.status == 422 && schema.body.contains("schema-violation"), "\(schema.status) \(schema.body)")
        // Every other way a plan is refused, each by name, none opening anything.
        let plan = opening["delivery"] as? [String: Any] ?? [:]
        let variants: [(String, [String: Any], String)] = [
            ("provider with a plan", ["provider": ["kind": "smtp-reply", "report": "250 ok"]], "schema-violation"),
            ("eventTime with a plan", ["eventTime": "2026-12-07T10:00:00.000Z"], "schema-violation"),
            ("a channel twice", ["delivery": plan.merging(["channels": ["email", "email"]]) { $1 }], "invalid-delivery-plan"),
            ("no push channel", ["delivery": plan.merging(["channels": ["portal"]]) { $1 }], "invalid-delivery-plan"),
            ("no link without the portal", ["delivery": plan.filter { $0.key != "link" }], "schema-violation"),
            ("a link that is not https", ["delivery": plan.merging(["link": "http://odr.example.org/x"]) { $1 }], "schema-violation"),
            ("a reminder of 0 days", ["delivery": plan.merging(["reminders": [0]]) { $1 }], "schema-violation"),
            ("a reminder of 61 days", ["delivery": plan.merging(["reminders": [61]]) { $1 }], "schema-violation"),
            ("six reminders", ["delivery": plan.merging(["reminders": [1, 2, 3, 4, 5, 6]]) { $1 }], "schema-violation"),
            ("no language", ["delivery": plan.merging(["languages": [String]()]) { $1 }], "schema-violation"),
            ("an institution of 201 characters", ["delivery": plan.merging(["institution": String(repeating: "x", count: 201)]) { $1 }], "schema-violation"),
        ]
        for (name, change, type) in variants {
            let variant = opening.merging(change) { $1 }.merging(["service": "SVC-API-BAD"]) { $1 }
            let answer = try post(variant, "variant")
            #expect(answer.status == 422 && answer.body.contains(type), "\(name): \(answer.status) \(answer.body)")
        }
        let none = try APITests.curlTLS(appliance.apiURL + "/v1/services/SVC-API-BAD/bundle", operator: clerk, ca: ca, [])
        #expect(none.status == 404, "\(none.status) \(none.body)")

        // Served.
        let opened = try post(opening, "opening")
        #expect(opened.status == 201, "\(opened.status) \(opened.body)")
        let deadline = Date().addingTimeInterval(20)
        var events: [Any] = []
        while Date() < deadline {
            let bundle = try APITests.curlTLS(appliance.apiURL + "/v1/services/SVC-API-1/bundle", operator: clerk, ca: ca, [])
            events = ((try? JSONSerialization.jsonObject(with: Data(bundle.body.utf8))) as? [String: Any])?["records"] as? [Any] ?? []
            if events.count >= 2 { break }
            usleep(200_000)
        }
        #expect(events.count == 2, "the opening and its notice are recorded")
        #expect(relay.delivered() == 1)
        let mail = try relay.messages(for: "li.wei@example.test").first
        #expect(mail?["subject"] as? String == "送达通知：案件 ODR-2026-0042（CIETAC）")
        #expect((mail?["text"] as? String)?.contains("https://odr.example.org/cases/0042/notice") == true)
        #expect(mail?["from"] as? String == "CIETAC Notices <notices@notarium.test>")

        // A service whose identifier has '/' and ':' (opened without a plan): its bundle's file
        // name has neither, and a method the path does not have is 405 with Allow.
        var plain = opening
        plain["service"] = "ODR/2026/1:1"
        plain["delivery"] = nil
        #expect(try post(plain, "plain").status == 201)
        let exported = try APITests.curlTLS(appliance.apiURL + "/v1/services/ODR%2F2026%2F1%3A1/bundle", operator: clerk, ca: ca, [])
        #expect(exported.status == 200 && exported.headers.lowercased().contains("filename=\"service-odr_2026_1_1.bundle.json\""), "\(exported.headers)")
        let query = try APITests.curlTLS(appliance.apiURL + "/v1/services", operator: clerk, ca: ca, ["-X", "QUERY"])
        #expect(query.status == 405 && query.headers.lowercased().contains("allow: "), "\(query.status) \(query.headers)")

        // What the operator sees: one notice sent, nothing waiting.
        var metrics = ""
        let metricsDeadline = Date().addingTimeInterval(10)
        while Date() < metricsDeadline {
            metrics = try curl(appliance.baseURL + "/metrics").body
            if metrics.contains("notarium_delivery_outbox_pending 0") { break }
            usleep(200_000)
        }
        #expect(metrics.contains("notarium_delivery_notices_total{outcome=\"sent\"} 1"), "\(metrics)")
        #expect(metrics.contains("notarium_delivery_outbox_pending 0") && metrics.contains("notarium_delivery_outbox_overdue_seconds 0"), "\(metrics)")
    }

    /// Registers a platform as a clerk with the operator's credentials; returns the directory
    /// of its client.crt and client.key.
    static func registerClerk(_ appliance: RunningAppliance, data: String, in directory: TemporaryDirectory) throws -> String {
        let operatorDirectory = data + "/clients/operator"
        try FileManager.default.createDirectory(atPath: directory.file("clerk"), withIntermediateDirectories: true)
        #expect(try runProcess("/usr/bin/openssl", [
            "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", directory.file("clerk/client.key"),
            "-subj", "/CN=platform", "-out", directory.file("clerk.csr"),
        ]).status == 0)
        let registration = try Self.json(["name": "platform", "role": "clerk", "csr": try String(contentsOfFile: directory.file("clerk.csr"), encoding: .utf8)], to: directory.file("register.json"))
        let registered = try APITests.curlTLS(appliance.apiURL + "/v1/clients", operator: operatorDirectory, ca: operatorDirectory + "/ca.pem",
                                              ["-H", "Content-Type: application/json", "--data-binary", "@" + registration])
        try #require(registered.status == 201, "\(registered.body)")
        let certificate = try #require((try JSONSerialization.jsonObject(with: Data(registered.body.utf8)) as? [String: Any])?["certificate"] as? String)
        try certificate.write(toFile: directory.file("clerk/client.crt"), atomically: true, encoding: .utf8)
        return directory.file("clerk")
    }

    static func json(_ object: [String: Any], to path: String) throws -> String {
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
        return path
    }
}
