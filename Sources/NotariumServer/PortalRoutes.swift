import CanonicalJSON
import Delivery
import Foundation
import HTTPTypes
import Hummingbird
import Ledger
import NIOCore
import OpenSSLKit
import Records

/// The recipient portal (docs/delivery.md §13) on the API's TLS listener, without a client
/// certificate: plain server-rendered HTML in the recipient's language, usable on a phone, no
/// script. Nothing of a case is shown before the recipient has identified with a one-time code
/// sent by the other channel; every step that proves something is the service's ledger event,
/// recorded before the page or the bytes go out. Also the SMS gateway's signed delivery reports,
/// and the clerk's upload of the documents to serve.
struct PortalRoutes {
    let api: APIServices
    let routes: APIRoutes

    static let cookie = "notarium_portal"
    static let formLimit = 8 * 1024
    static let reportLimit = 16 * 1024

    func register(on router: AppRouter) {
        let delivery = api.delivery
        router.get("/portal/:token") { request, context -> Response in
            let token = context.parameters.get("token") ?? ""
            if try delivery.portalSession(token: token, cookie: Self.sessionCookie(request)) != nil {
                return Self.redirect("/portal/\(token)/documents")
            }
            return try Self.entryPage(delivery, token: token, notice: nil)
        }
        router.post("/portal/:token/code") { request, context -> Response in
            let token = context.parameters.get("token") ?? ""
            _ = try await Self.form(request, api)
            switch try await delivery.sendPortalCode(token: token) {
            case .sent(let destination):
                return try Self.entryPage(delivery, token: token, notice: ("portal-code-sent", ["destination": destination]))
            case .notSent:
                return try Self.entryPage(delivery, token: token, notice: nil, status: .serviceUnavailable)
            case .invalid, .locked:
                return try Self.entryPage(delivery, token: token, notice: nil)
            }
        }
        router.post("/portal/:token/verify") { request, context -> Response in
            let token = context.parameters.get("token") ?? ""
            let fields = try await Self.form(request, api)
            // A request without a code is not an attempt: it is refused before the link is touched.
            guard let code = fields["code"], !code.isEmpty else {
                throw ProblemDetails(status: .badRequest, type: "missing-parameter", detail: "the form has no code")
            }
            let client = context.channel.remoteAddress?.ipAddress ?? "unknown"
            switch try await delivery.verifyPortalCode(token: token, code: code, client: client) {
            case .identified(let session):
                var response = Self.redirect("/portal/\(token)/documents")
                response.headers[.setCookie] = "\(Self.cookie)=\(session); Path=/portal/\(token); Max-Age=\(delivery.sessionLifetimeSeconds); Secure; HttpOnly; SameSite=Strict"
                return response
            case .wrong(let remaining):
                return try Self.entryPage(delivery, token: token, notice: ("portal-wrong-code", ["remaining": String(remaining)]), status: .unauthorized)
            case .invalid, .locked:
                return try Self.entryPage(delivery, token: token, notice: nil, status: .unauthorized)
            }
        }
        router.get("/portal/:token/documents") { request, context -> Response in
            let token = context.parameters.get("token") ?? ""
            guard let cookie = Self.sessionCookie(request), let session = try delivery.portalSession(token: token, cookie: cookie) else {
                return Self.redirect("/portal/\(token)")
            }
            return Self.documentsPage(delivery, token: token, session: session, form: delivery.formToken(cookie: cookie))
        }
        router.get("/portal/:token/documents/:part") { request, context -> Response in
            let token = context.parameters.get("token") ?? ""
            guard let session = try delivery.portalSession(token: token, cookie: Self.sessionCookie(request)) else {
                return Self.redirect("/portal/\(token)")
            }
            guard let index = Int(context.parameters.get("part") ?? ""), let (part, bytes) = try await delivery.handOver(session, part: index) else {
                throw ProblemDetails(status: .notFound, type: "not-found", detail: "no such document, or it is no longer held")
            }
            return Response(
                status: .ok,
                // The clerk's media type is served as given; the document is never rendered as
                // a page of this origin (nosniff, and a sandbox if a browser shows it anyway).
                headers: [.contentType: part.document.mediaType, .cacheControl: "no-store",
                          .contentDisposition: APIRoutes.attachment(Delivery.downloadName(part)),
                          HTTPField.Name("X-Content-Type-Options")!: "nosniff", HTTPField.Name("Content-Security-Policy")!: "sandbox; default-src 'none'"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        router.post("/portal/:token/answer") { request, context -> Response in
            let token = context.parameters.get("token") ?? ""
            let fields = try await Self.form(request, api)
            guard let cookie = Self.sessionCookie(request), let session = try delivery.portalSession(token: token, cookie: cookie) else {
                return Self.redirect("/portal/\(token)")
            }
            guard delivery.isValidFormToken(fields["form"] ?? "", cookie: cookie), let decision = fields["decision"], ["accept", "refuse"].contains(decision) else {
                throw ProblemDetails(status: .forbidden, type: "forbidden", detail: "the form is not this session's")
            }
            _ = try await delivery.answer(session, accept: decision == "accept", statement: fields["statement"])
            return Self.redirect("/portal/\(token)/documents")
        }
        // The SMS gateway's delivery reports: signed, not a client of the API.
        router.post("/delivery/sms/reports") { request, context -> Response in
            let body = try await RequestBody.collect(request, limit: Self.reportLimit, timeoutSeconds: api.settings.bodyTimeoutSeconds)
            let outcome = try await delivery.smsReport(body: body, signature: request.headers[HTTPField.Name("X-Notarium-Signature")!])
            let text: String = switch outcome {
            case .recorded(let seq): "recorded as entry \(seq)"
            case .alreadyRecorded: "already recorded"
            case .interim: "interim status; nothing to record"
            }
            return APIRoutes.json(.object(["outcome": .string(text)]))
        }
        // The documents a service through the portal will serve, uploaded first by the clerk.
        router.put("/v1/documents/:sha256") { request, context -> Response in
            _ = try await routes.authenticate(request, context, for: .recordService)
            let expected = (context.parameters.get("sha256") ?? "").lowercased()
            guard expected.count == 64, expected.allSatisfy(\.isHexDigit) else {
                throw ProblemDetails(status: .badRequest, type: "invalid-parameter", detail: "the path names a document by its SHA-256 in 64 hex digits")
            }
            let bytes = try await RequestBody.collect(request, limit: DocumentVault.maximumDocumentBytes, timeoutSeconds: api.settings.bodyTimeoutSeconds * 10)
            guard !bytes.isEmpty else { throw ProblemDetails(status: .badRequest, type: "empty-body", detail: "the body is empty: a document has at least one byte") }
            guard let vault = api.delivery.vault else { throw ProblemDetails(status: .serviceUnavailable, type: "unavailable", detail: "this appliance holds no documents") }
            guard DocumentVault.name(of: bytes) == expected else {
                throw ProblemDetails(status: .unprocessableContent, type: "digest-mismatch", detail: "the body's SHA-256 is \(DocumentVault.name(of: bytes)), not the \(expected) the path names; nothing stored")
            }
            let held = try vault.holds(expected)
            try vault.store(bytes, now: LedgerTime.nowMilliseconds())
            return APIRoutes.json(.object(["sha256": .string(expected), "size": .integer(Int64(bytes.count))]), status: held ? .ok : .created)
        }
    }

    // MARK: - Pages

    static func entryPage(_ delivery: Delivery, token: String, notice: (key: String, values: [String: String])?, status: HTTPResponse.Status = .ok) throws -> Response {
        let state = try delivery.portalLinkState(token: token)
        switch state {
        case .invalid:
            return page(delivery.templates, language: "en", title: "portal-title", status: .notFound) { t in
                "<p class=\"alert\">\(t("portal-invalid", [:]))</p>"
            }
        case .locked(let language):
            return page(delivery.templates, language: language, title: "portal-title", status: .forbidden) { t in
                "<p class=\"alert\">\(t("portal-locked", [:]))</p>"
            }
        case .active(let language, let destination, let codePending):
            return page(delivery.templates, language: language, title: "portal-title", status: status) { t in
                var html = ""
                if let notice { html += "<p class=\"\(notice.key == "portal-wrong-code" ? "alert" : "info")\">\(t(notice.key, notice.values))</p>" }
                html += "<p>\(t("portal-identify", ["destination": destination]))</p>"
                let sendCode = "<form method=\"post\" action=\"/portal/\(token)/code\"><button type=\"submit\" id=\"send-code\" class=\"\(codePending ? "secondary" : "")\">\(t("portal-send-code", [:]))</button></form>"
                // With a code on its way, entering it comes first; asking again is second.
                if !(codePending || notice != nil) { html += sendCode }
                if codePending || notice != nil {
                    html += """
                    <form method="post" action="/portal/\(token)/verify">
                    <label for="code">\(t("portal-code-label", [:]))</label>
                    <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required>
                    <button type="submit" id="verify">\(t("portal-verify", [:]))</button></form>
                    """
                    html += sendCode
                }
                return html
            }
        }
    }

    static func documentsPage(_ delivery: Delivery, token: String, session: PortalSession, form: String) -> Response {
        let shown: PortalCase
        do {
            shown = try delivery.portalCase(session)
        } catch {
            return page(delivery.templates, language: "en", title: "portal-title", status: .internalServerError) { t in "<p class=\"alert\">\(t("portal-documents-gone", [:]))</p>" }
        }
        return page(delivery.templates, language: shown.language, title: "portal-title") { t in
            var html = "<p>\(t("portal-documents-intro", ["institution": shown.institution, "case": shown.caseID]))</p><ul class=\"documents\">"
            for (index, part) in shown.parts.enumerated() {
                let digest = part.document.digests.first { $0.algorithm == .sha256 }.map { lowerHex($0.value) } ?? ""
                html += "<li><strong>\(escape(Delivery.downloadName(part)))</strong> <span class=\"meta\">\(part.document.size) bytes · SHA-256 \(digest.prefix(16))…</span> "
                html += shown.available[index]
                    ? "<a class=\"button\" id=\"download-\(index)\" href=\"/portal/\(token)/documents/\(index)\">\(t("portal-download", [:]))</a>"
                    : "<em>\(t("portal-documents-gone", [:]))</em>"
                html += "</li>"
            }
            html += "</ul>"
            if let answer = shown.answer {
                let key = answer.event == .consignmentAcceptance ? "portal-acknowledged" : "portal-refused"
                html += "<p class=\"info\" id=\"answer\">\(t(key, ["time": String(LedgerTime.format(milliseconds: answer.eventTime).prefix(19)).replacingOccurrences(of: "T", with: " ")]))</p>"
            } else {
                html += """
                <form method="post" action="/portal/\(token)/answer"><input type="hidden" name="form" value="\(form)">
                <input type="hidden" name="decision" value="accept"><button type="submit" id="acknowledge">\(t("portal-acknowledge", [:]))</button></form>
                <form method="post" action="/portal/\(token)/answer" class="refuse"><input type="hidden" name="form" value="\(form)">
                <input type="hidden" name="decision" value="refuse"><label for="statement">\(t("portal-refuse-reason", [:]))</label>
                <textarea id="statement" name="statement" maxlength="1000" rows="3"></textarea>
                <button type="submit" id="refuse" class="secondary">\(t("portal-refuse", [:]))</button></form>
                """
            }
            return html
        }
    }

    /// A whole page: the texts come from the notice files (escaped), nothing else is the case's.
    static func page(_ templates: NoticeTemplates, language: String, title: String, status: HTTPResponse.Status = .ok,
                     _ body: ((String, [String: String]) -> String) -> String) -> Response {
        let t: (String, [String: String]) -> String = { key, values in escape(templates.render(key, language: language, values: values)) }
        let html = """
        <!DOCTYPE html>
        <html lang="\(escape(language))"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="referrer" content="no-referrer">
        <title>\(t(title, [:]))</title>
        <style>
        body{font-family:system-ui,"Noto Sans","Noto Sans CJK SC",sans-serif;margin:0;padding:1rem;max-width:40rem;margin:auto;line-height:1.5;color:#1a1a1a}
        h1{font-size:1.4rem}button,a.button{display:inline-block;font-size:1rem;padding:.6rem 1rem;margin:.4rem 0;border:0;border-radius:.3rem;background:#12467a;color:#fff;text-decoration:none}
        button.secondary{background:#5a6470}button#refuse{background:#7a1212}input,textarea{font-size:1.2rem;padding:.4rem;width:100%;box-sizing:border-box;margin:.3rem 0}
        .alert{background:#fde8e8;padding:.6rem;border-radius:.3rem}.info{background:#e8f1fd;padding:.6rem;border-radius:.3rem}
        ul.documents{padding-left:1.2rem}.meta{color:#555;font-size:.85rem;word-break:break-all}form.refuse{margin-top:1.5rem}
        </style></head><body><h1>\(t(title, [:]))</h1>
        \(body(t))
        </body></html>
        """
        return Response(
            status: status,
            headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                      HTTPField.Name("Content-Security-Policy")!: "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
                      HTTPField.Name("X-Content-Type-Options")!: "nosniff"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
    }

    static func sessionCookie(_ request: Request) -> String? {
        for field in request.headers[values: .cookie] {
            for pair in field.split(separator: ";") {
                let parts = pair.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0] == cookie { return String(parts[1]) }
            }
        }
        return nil
    }

    /// An `application/x-www-form-urlencoded` body.
    static func form(_ request: Request, _ api: APIServices) async throws -> [String: String] {
        try RequestBody.require("application/x-www-form-urlencoded", request)
        let bytes = try await RequestBody.collect(request, limit: formLimit, timeoutSeconds: api.settings.bodyTimeoutSeconds)
        var fields: [String: String] = [:]
        for pair in String(decoding: bytes, as: UTF8.self).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            if parts.count == 2 { fields[parts[0]] = parts[1] }
        }
        return fields
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}
