import CanonicalJSON
import CertificateAuthority
import Foundation
import Hummingbird
import NIOCore
import OpenSSLKit

/// The CA's public endpoints: what relying parties fetch to validate Notarium certificates, at
/// the URLs every certificate names (docs/pki.md).
///
/// - `GET /ca/crl`: the issuing CA's CRL, DER, `application/pkix-crl`
/// - `GET /ca/root.crl`: the root's CRL (it lists the issuing CA if that is ever revoked)
/// - `GET /ca/certs`: issuing CA then root, PEM (`application/pem-certificate-chain`)
/// - `GET /ca/root`, `GET /ca/issuing`: one certificate, DER (`application/pkix-cert`)
/// - `POST /ocsp` (`application/ocsp-request`) and `GET /ocsp/{base64 request}` (RFC 6960
///   Appendix A): always an `application/ocsp-response`, with HTTP 200 even for
///   `malformedRequest` and `unauthorized`, because OCSP clients read the status from the
///   response, not from HTTP.
struct CARoutes {
    let authority: CertificateAuthority

    func register(on router: AppRouter) {
        router.get("/ca/crl") { _, _ -> Response in
            Self.der(authority.currentCRL.der, type: "application/pkix-crl", maxAge: 300)
        }
        router.get("/ca/root.crl") { _, _ -> Response in
            guard let crl = try authority.store.currentRootCRL() else {
                throw ProblemDetails(status: .notFound, type: "not-found", detail: "the root CA has no CRL")
            }
            return Self.der(crl.der, type: "application/pkix-crl", maxAge: 3600)
        }
        router.get("/ca/certs") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "application/pem-certificate-chain", .cacheControl: "public, max-age=3600"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: authority.hierarchy.chainPEM)))
        }
        router.get("/ca/root") { _, _ -> Response in
            Self.der(authority.hierarchy.root.derBytes, type: "application/pkix-cert", maxAge: 86_400)
        }
        router.get("/ca/issuing") { _, _ -> Response in
            Self.der(authority.hierarchy.issuing.derBytes, type: "application/pkix-cert", maxAge: 86_400)
        }
        router.post("/ocsp") { request, _ -> Response in
            let body: ByteBuffer
            do {
                body = try await request.body.collect(upTo: OCSPRequest.maximumBytes)
            } catch {
                return Self.ocsp(OCSPResponseSigner.errorResponse(.malformedRequest))
            }
            return Self.ocsp(authority.ocspResponse(for: Array(buffer: body)).response)
        }
        router.get("/ocsp/**") { request, _ -> Response in
            // The request is base64 (with '/' and '+') then URL-encoded: take the raw path.
            let path = request.uri.path
            let encoded = path.dropFirst("/ocsp/".count)
            guard let decoded = String(encoded).removingPercentEncoding, let bytes = Base64.decode(decoded) else {
                return Self.ocsp(OCSPResponseSigner.errorResponse(.malformedRequest))
            }
            return Self.ocsp(authority.ocspResponse(for: bytes).response)
        }
    }

    static func der(_ bytes: [UInt8], type: String, maxAge: Int) -> Response {
        Response(
            status: .ok, headers: [.contentType: type, .cacheControl: "public, max-age=\(maxAge)"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func ocsp(_ bytes: [UInt8]) -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/ocsp-response", .cacheControl: "no-cache"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
