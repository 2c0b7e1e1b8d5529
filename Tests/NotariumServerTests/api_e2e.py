#!/usr/bin/env python3
"""The API as an ODR platform's integration uses it: Python `requests` over mutual TLS.

Run by APITests with a live notariumd. Arguments: API_URL DATA_DIR NOTARIUM_BINARY WORK_DIR.
Every step asserts what it expects; the first failure exits non-zero with the reason.
"""
import base64
import hashlib
import json
import os
import socket
import ssl
import subprocess
import sys
import time
import urllib.parse

import requests

api, data, notarium, work = sys.argv[1:5]
operator_dir = os.path.join(data, "clients", "operator")
ca = os.path.join(operator_dir, "ca.pem")
operator = (os.path.join(operator_dir, "client.crt"), os.path.join(operator_dir, "client.key"))
PROBLEM = "application/problem+json"


def path(name):
    return os.path.join(work, name)


def check(condition, message):
    if not condition:
        print("FAILED:", message, file=sys.stderr)
        sys.exit(1)


def problem(response, status, type_):
    check(response.status_code == status, f"expected {status} {type_}, got {response.status_code}: {response.text[:400]}")
    check(response.headers.get("content-type", "").startswith(PROBLEM), f"{type_}: content type {response.headers.get('content-type')}")
    body = response.json()
    check(body["type"] == "urn:notarium:problem:" + type_, f"expected type {type_}, got {body}")
    check(body["status"] == status and body["detail"], f"problem members: {body}")
    return body


def still_serving():
    response = requests.get(api + "/healthz", verify=ca, timeout=10)
    check(response.status_code == 200, f"the server stopped serving: {response.status_code}")


def get(url, cert, **kwargs):
    return requests.get(api + url, cert=cert, verify=ca, timeout=30, **kwargs)


def post(url, cert, body=None, key=None, headers=None, data_=None):
    all_headers = {"Content-Type": "application/json"}
    if key:
        all_headers["Idempotency-Key"] = key
    all_headers.update(headers or {})
    payload = data_ if data_ is not None else json.dumps(body)
    return requests.post(api + url, cert=cert, verify=ca, timeout=60, headers=all_headers, data=payload)


def openssl(*args):
    result = subprocess.run(["openssl", *args], capture_output=True, text=True)
    check(result.returncode == 0, f"openssl {' '.join(args)}: {result.stderr}")
    return result.stdout


def new_key_and_csr(name, subject):
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", path(name + ".key"), "-subj", subject, "-out", path(name + ".csr"))
    return open(path(name + ".csr")).read()


def next_entry_absent(seq):
    """The ledger has no entry `seq` (nothing was appended beyond what the test knows)."""
    response = get(f"/v1/entries/{seq}", operator)
    problem(response, 404, "not-found")


# --- Identity: no certificate, the operator, registration of a clerk and an auditor -------------

problem(requests.get(api + "/v1/whoami", verify=ca, timeout=10), 401, "client-certificate-required")
me = get("/v1/whoami", operator).json()
check(me["role"] == "operator" and me["name"] == "operator", f"operator whoami: {me}")

clients = {}
for name, role in [("odr-platform", "clerk"), ("court-auditor", "auditor")]:
    csr = new_key_and_csr(name, f"/CN={name}")
    response = post("/v1/clients", operator, {"name": name, "role": role, "csr": csr}, key=f"register-{name}")
    check(response.status_code == 201, f"register {name}: {response.status_code} {response.text}")
    registered = response.json()
    open(path(name + ".crt"), "w").write(registered["certificate"])
    clients[name] = (path(name + ".crt"), path(name + ".key"))
    der = base64.b64decode("".join(registered["certificate"].strip().splitlines()[1:-1]))
    check(registered["certificateSha256"] == hashlib.sha256(der).hexdigest(), "registration names the certificate's SHA-256")
    check(registered["role"] == role, f"role {registered}")
    # The same registration retried with its key: the same certificate, nothing new issued.
    again = post("/v1/clients", operator, {"name": name, "role": role, "csr": csr}, key=f"register-{name}")
    check(again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true", f"replayed registration: {again.status_code} {again.headers}")
    check(again.json()["serial"] == registered["serial"], "a replayed registration returns the first certificate")
clerk, auditor = clients["odr-platform"], clients["court-auditor"]
clerk_sha256 = json.loads(json.dumps(get("/v1/whoami", clerk).json()))["certificateSha256"]
check(get("/v1/whoami", auditor).json()["role"] == "auditor", "auditor whoami")
problem(post("/v1/clients", clerk, {"name": "x", "role": "operator", "csr": "x"}), 403, "forbidden")
problem(get("/v1/clients", auditor), 403, "forbidden")
problem(get("/metrics", clerk), 403, "forbidden")
check(get("/metrics", operator).status_code == 200, "the operator reads metrics")
listed = get("/v1/clients", operator).json()["clients"]
check(sorted(c["name"] for c in listed) == ["court-auditor", "odr-platform", "operator"], f"client list {listed}")

# --- A party's signing certificate, a document and its CMS signature ------------------------------

signer_csr = new_key_and_csr("party", "/CN=Party A/O=Example Trading Ltd")
response = post("/v1/certificates", operator, {"profile": "signer", "csr": signer_csr})
check(response.status_code == 201, f"signer certificate: {response.status_code} {response.text}")
open(path("party.crt"), "w").write(response.json()["certificate"])
problem(post("/v1/certificates", operator, {"profile": "tls-server", "csr": signer_csr}), 422, "schema-violation")
# The same request under a key issues one certificate, however often it is retried.
signer_again = post("/v1/certificates", operator, {"profile": "signer", "csr": signer_csr}, key="signer-1")
check(signer_again.status_code == 201, f"signer under a key: {signer_again.status_code} {signer_again.text}")
replayed_signer = post("/v1/certificates", operator, {"profile": "signer", "csr": signer_csr}, key="signer-1")
check(replayed_signer.headers.get("Idempotent-Replayed") == "true" and replayed_signer.json()["serial"] == signer_again.json()["serial"],
      f"replayed signer certificate: {replayed_signer.text[:300]}")
# A certificate of this CA that is not a registered client's (the party's own) is not let in,
# and one from another CA does not even complete the handshake.
problem(get("/v1/whoami", (path("party.crt"), path("party.key"))), 401, "unknown-client")
openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "30", "-keyout", path("stranger.key"),
        "-subj", "/CN=stranger", "-addext", "extendedKeyUsage=clientAuth", "-out", path("stranger.crt"))
try:
    stranger = get("/v1/whoami", (path("stranger.crt"), path("stranger.key")))
    check(False, f"a certificate from another CA was let in: {stranger.status_code} {stranger.text}")
except requests.exceptions.SSLError:
    pass
except requests.exceptions.ConnectionError:
    pass
still_serving()

document = b"Exhibit C-7: the bill of lading, as received on 2026-11-20.\n" * 50
open(path("exhibit.pdf"), "wb").write(document)
openssl("cms", "-sign", "-binary", "-cades", "-md", "sha256", "-in", path("exhibit.pdf"), "-signer", path("party.crt"),
        "-inkey", path("party.key"), "-outform", "DER", "-out", path("exhibit.p7s"))
cert_der = base64.b64decode("".join(open(path("party.crt")).read().strip().splitlines()[1:-1]))
signature = base64.b64encode(open(path("exhibit.p7s"), "rb").read()).decode()
deposit = {
    "case": "ODR-2026-0042",
    "document": {"digests": [{"algorithm": "sha-256", "value": base64.b64encode(hashlib.sha256(document).digest()).decode()}],
                 "size": len(document), "mediaType": "application/pdf"},
    "submitter": {"certificate": base64.b64encode(cert_der).decode(), "signature": signature},
    "description": "bill of lading",
}

# --- Denials and bad input change nothing ---------------------------------------------------------

problem(post("/v1/evidence", None, deposit), 401, "client-certificate-required")
problem(post("/v1/evidence", auditor, deposit), 403, "forbidden")
problem(post("/v1/evidence", clerk, data_="{}", headers={"Content-Type": "text/plain"}), 415, "unsupported-media-type")
problem(post("/v1/evidence", clerk, data_="{\"case\": "), 400, "malformed-json")
problem(post("/v1/evidence", clerk, data_="[1, 2"), 400, "malformed-json")
bad_base64 = json.loads(json.dumps(deposit))
bad_base64["submitter"]["signature"] = "not base64!"
problem(post("/v1/evidence", clerk, bad_base64), 400, "malformed-base64")
missing = {k: v for k, v in deposit.items() if k != "case"}
problem(post("/v1/evidence", clerk, missing), 422, "schema-violation")
unknown_member = dict(deposit, colour="blue")
problem(post("/v1/evidence", clerk, unknown_member), 422, "schema-violation")
other_document = json.loads(json.dumps(deposit))
other_document["document"]["digests"][0]["value"] = base64.b64encode(hashlib.sha256(b"another").digest()).decode()
problem(post("/v1/evidence", clerk, other_document), 422, "digest-mismatch")
garbage_cms = json.loads(json.dumps(deposit))
garbage_cms["submitter"]["signature"] = base64.b64encode(b"\x30\x03\x02\x01\x01").decode()
problem(post("/v1/evidence", clerk, garbage_cms), 422, "bad-signature")
problem(post("/v1/clients", operator, data_="x" * (200 * 1024)), 413, "body-too-large")
problem(get("/v1/entries/999999", clerk), 404, "not-found")
problem(get("/v1/entries/abc", clerk), 400, "invalid-parameter")
problem(post("/v1/evidence", clerk, deposit, key="k" * 256), 400, "invalid-idempotency-key")
still_serving()

# --- Deposit, once per key ------------------------------------------------------------------------

response = post("/v1/evidence", clerk, deposit, key="deposit-1")
check(response.status_code == 201, f"deposit: {response.status_code} {response.text}")
receipt = response.json()
seq = receipt["seq"]
check(response.headers.get("Location") == f"/v1/entries/{seq}", f"Location {response.headers.get('Location')}")
again = post("/v1/evidence", clerk, deposit, key="deposit-1")
check(again.status_code == 201 and again.json() == receipt and again.headers.get("Idempotent-Replayed") == "true", f"replay: {again.text}")
problem(post("/v1/evidence", clerk, dict(deposit, description="changed"), key="deposit-1"), 422, "idempotency-key-reused")
# Keys are the client's own: the same key from another clerk would be another request (not tried
# here: one clerk), and the auditor's denial above appended nothing.
next_entry_absent(seq + 1)

# The ledger names the client that asked.
entry = get(f"/v1/entries/{seq}", auditor).json()
body = json.loads(base64.b64decode(entry["entry"]))["body"]
check(body["requestedBy"] == {"clientCertificateSha256": clerk_sha256}, f"requestedBy {body.get('requestedBy')}")
check(entry["type"] == "evidence" and entry["leafHash"] == receipt["leafHash"], f"entry {entry['type']}")

# Hash-for-me: the bytes are hashed, not kept.
by_content = {k: v for k, v in deposit.items() if k != "document"}
by_content["content"] = base64.b64encode(document).decode()
by_content["mediaType"] = "application/pdf"
response = post("/v1/evidence", clerk, by_content, key="deposit-2")
check(response.status_code == 201 and response.json()["seq"] == seq + 1, f"deposit by content: {response.status_code} {response.text}")
both = dict(by_content, document=deposit["document"])
del both["mediaType"]
problem(post("/v1/evidence", clerk, both), 422, "schema-violation")

# --- A retry after a cut connection never makes a second entry ------------------------------------

url = urllib.parse.urlsplit(api)
context = ssl.create_default_context(cafile=ca)
context.load_cert_chain(*clerk)
cut_body = json.dumps(dict(deposit, description="sent, then the connection was cut")).encode()
for attempt, cut_after in enumerate([len(cut_body) // 2, len(cut_body)]):
    with socket.create_connection((url.hostname, url.port)) as raw, context.wrap_socket(raw, server_hostname="localhost") as tls:
        head = (f"POST /v1/evidence HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(cut_body)}\r\nIdempotency-Key: cut-{attempt}\r\n\r\n").encode()
        tls.sendall(head + cut_body[:cut_after])
    # The client timed out (here: hung up) and retries with the same key, backing off while the
    # first request is still being handled (409), as the Idempotency-Key draft expects.
    for _ in range(100):
        retry = post("/v1/evidence", clerk, None, key=f"cut-{attempt}", data_=cut_body)
        if retry.status_code != 409:
            break
        check(retry.json()["type"].endswith("idempotency-key-in-progress"), f"409 type {retry.text}")
        time.sleep(0.1)
    check(retry.status_code == 201, f"retry after cut {attempt}: {retry.status_code} {retry.text}")
    replay = post("/v1/evidence", clerk, None, key=f"cut-{attempt}", data_=cut_body)
    check(replay.json()["seq"] == retry.json()["seq"], "a second retry names the same entry")
last_seq = retry.json()["seq"]

# A client that stalls mid-body is answered 408 once api.body-timeout-seconds (2 s in this test)
# has passed, and holds nothing: the next request is served and nothing was appended.
with socket.create_connection((url.hostname, url.port)) as raw, context.wrap_socket(raw, server_hostname="localhost") as tls:
    tls.sendall((f"POST /v1/evidence HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                 f"Content-Length: {len(cut_body)}\r\n\r\n").encode() + cut_body[:10])
    tls.settimeout(30)
    answer = b""
    while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
        chunk = tls.recv(4096)
        if not chunk:
            break
        answer += chunk
check(answer.startswith(b"HTTP/1.1 408"), f"a stalled body: {answer[:200]!r}")
check(b"urn:notarium:problem:body-timeout" in answer, f"408 type: {answer[-300:]!r}")
check(last_seq == seq + 3, f"two cut requests made exactly two entries: {last_seq} vs {seq}")
next_entry_absent(last_seq + 1)
still_serving()

# --- Bundle and trust file, verified offline by `notarium verify` ---------------------------------

response = get(f"/v1/entries/{seq}/bundle", auditor)
check(response.status_code == 200, f"bundle: {response.status_code} {response.text[:300]}")
open(path("evidence.bundle"), "wb").write(response.content)
response = get("/v1/trust", clerk)
check(response.status_code == 200, f"trust: {response.status_code}")
open(path("trust.json"), "wb").write(response.content)
verified = subprocess.run([notarium, "verify", path("evidence.bundle"), "--trust", path("trust.json"), "--document", path("exhibit.pdf")],
                          capture_output=True, text=True)
check(verified.returncode == 0, f"notarium verify: {verified.returncode} {verified.stdout} {verified.stderr}")
here = os.path.dirname(os.path.abspath(__file__))
schemas = subprocess.run([sys.executable, os.path.join(here, "..", "VerificationTests", "check_schemas.py"), path("evidence.bundle"), path("trust.json"),
                          os.path.join(here, "..", "..", "docs", "schemas")], capture_output=True, text=True)
check(schemas.returncode == 0, f"the API's bundle against docs/schemas: {schemas.stdout} {schemas.stderr}")
tampered = subprocess.run([notarium, "verify", path("evidence.bundle"), "--trust", path("trust.json"), "--document", path("party.crt")],
                          capture_output=True, text=True)
check(tampered.returncode == 1, f"verify with another document must fail: {tampered.returncode}")
problem(get("/v1/entries/0/bundle", auditor), 404, "not-found")  # entry 0 is the CA's, not evidence
problem(get("/v1/services/nope/bundle", auditor), 404, "not-found")
problem(get("/v1/awards/nope/bundle", auditor), 404, "not-found")

# --- A service and an award, as a platform records them -------------------------------------------


def receipt_of(response, what):
    check(response.status_code == 201, f"{what}: {response.status_code} {response.text[:400]}")
    return response.json()


def body_of(seq):
    return json.loads(base64.b64decode(get(f"/v1/entries/{seq}", auditor).json()["entry"]))["body"]


def verify_offline(bundle_url, name):
    response = get(bundle_url, auditor)
    check(response.status_code == 200, f"{name} bundle: {response.status_code} {response.text[:300]}")
    open(path(name + ".bundle"), "wb").write(response.content)
    result = subprocess.run([notarium, "verify", path(name + ".bundle"), "--trust", path("trust.json")], capture_output=True, text=True)
    check(result.returncode == 0, f"notarium verify {name}: {result.returncode} {result.stdout} {result.stderr}")


notice = b"Notice of arbitration ODR-2026-0042.\n"
notice_part = {"name": "notice", "digests": [{"algorithm": "sha-256", "value": base64.b64encode(hashlib.sha256(notice).digest()).decode()}],
               "size": len(notice), "mediaType": "text/plain"}
rules = {"timeZone": "Asia/Shanghai", "calendar": {"id": "CN", "version": "2026.1", "weekend": [6, 7], "holidays": ["2026-12-31"]},
         "confirmedChannels": ["portal"], "readReportPresumesService": True, "acceptanceWindowDays": 14}
service_id = "ODR/2026/SVC-1"  # a '/' in an identifier travels as %2F in a path
service_path = "/v1/services/" + urllib.parse.quote(service_id, safe="")
opening = {"service": service_id, "case": "ODR-2026-0042", "parts": [notice_part],
           "recipients": [{"channel": "email", "address": "respondent@example.org"}, {"channel": "portal", "address": "acct-0042"}],
           "rules": rules}
problem(post("/v1/services", auditor, opening), 403, "forbidden")
problem(post("/v1/services", clerk, dict(opening, rules=dict(rules, timeZone="Mars/Olympus"))), 422, "schema-violation")
problem(post("/v1/services", clerk, dict(opening, recipients=[{"channel": "email", "address": "not-an-address"}])), 422, "invalid-record")
problem(post("/v1/services", clerk, dict(opening, requestedBy={"clientCertificateSha256": "00" * 32})), 422, "schema-violation")
opened = receipt_of(post("/v1/services", clerk, opening, key="open-svc-1"), "open a service")
check(opened["seq"] == last_seq + 1 and opened["service"] == service_id, f"service receipt {opened}")
check(opened["bundle"] == service_path + "/bundle", f"the receipt links the service's bundle: {opened['bundle']}")
replayed = post("/v1/services", clerk, opening, key="open-svc-1")
check(replayed.headers.get("Idempotent-Replayed") == "true" and replayed.json() == opened, f"replayed opening: {replayed.text[:300]}")
problem(post("/v1/services", clerk, opening), 409, "conflict")
opened_body = body_of(opened["seq"])
check(opened_body["requestedBy"] == {"clientCertificateSha256": clerk_sha256}, f"the service names the clerk: {opened_body.get('requestedBy')}")
check("respondent@example.org" not in json.dumps(opened_body), "the ledger holds commitments, not addresses")

problem(post(service_path + "/events", auditor, {"event": "ContentConsignment", "channel": "portal"}), 403, "forbidden")
problem(post(service_path + "/events", clerk, {"event": "ContentTeleportation", "channel": "portal"}), 422, "schema-violation")
problem(post(service_path + "/events", clerk, {"event": "ContentConsignment", "channel": "sms"}), 422, "invalid-record")
problem(post(service_path + "/events", clerk, {"event": "ServiceDeemedEffective", "channel": "portal"}), 422, "service-rule")
problem(post("/v1/services/no-such-service/events", clerk, {"event": "ContentConsignment", "channel": "portal"}), 404, "not-found")
consigned = receipt_of(post(service_path + "/events", clerk, {"event": "ContentConsignment", "channel": "portal",
                                                              "provider": {"kind": "portal-log", "report": "stored in the case file"}},
                            key="consign-svc-1"), "ContentConsignment")
check(consigned["seq"] == opened["seq"] + 1, f"refused events appended nothing: {consigned['seq']} after {opened['seq']}")
again = post(service_path + "/events", clerk, {"event": "ContentConsignment", "channel": "portal",
                                              "provider": {"kind": "portal-log", "report": "stored in the case file"}}, key="consign-svc-1")
check(again.json() == consigned and again.headers.get("Idempotent-Replayed") == "true", "a replayed event is not recorded twice")
deemed = receipt_of(post(service_path + "/events", clerk, {"event": "ServiceDeemedEffective", "channel": "portal"}), "ServiceDeemedEffective")
effective = body_of(deemed["seq"])["effective"]
check(effective["basis"] == "arrival-at-confirmed-address", f"the appliance computed the effective service: {effective}")
listed_405 = requests.get(api + "/v1/services", cert=clerk, verify=ca, timeout=10)
problem(listed_405, 405, "method-not-allowed")
check(listed_405.headers.get("Allow") == "POST", f"Allow: {listed_405.headers.get('Allow')}")
verify_offline(service_path + "/bundle", "service")

# An award with one arbitrator and the institution's seal, each signing the authentic version (the
# seal's certificate is one more entry, before the award).
seal_csr = new_key_and_csr("seal", "/CN=Example Arbitration Commission/O=Example Arbitration Commission")
response = post("/v1/certificates", operator, {"profile": "signer", "csr": seal_csr})
check(response.status_code == 201, f"seal certificate: {response.status_code} {response.text}")
open(path("seal.crt"), "w").write(response.json()["certificate"])
award_text = b"Final award in ODR-2026-0042. The respondent shall pay.\n"
open(path("award.txt"), "wb").write(award_text)


def award_signature(signer, role):
    openssl("cms", "-sign", "-binary", "-cades", "-md", "sha256", "-in", path("award.txt"), "-signer", path(signer + ".crt"),
            "-inkey", path(signer + ".key"), "-outform", "DER", "-out", path(signer + "-award.p7s"))
    der = base64.b64decode("".join(open(path(signer + ".crt")).read().strip().splitlines()[1:-1]))
    return {"role": role, "language": "en", "certificate": base64.b64encode(der).decode(),
            "signature": base64.b64encode(open(path(signer + "-award.p7s"), "rb").read()).decode()}


award = {"award": "ODR-2026-0042/A1", "case": "ODR-2026-0042", "issued": "2026-11-23", "seat": "Beijing, China", "arbitrators": 1,
         "versions": [{"language": "en", "authentic": True, "digests": [{"algorithm": "sha-256", "value": base64.b64encode(hashlib.sha256(award_text).digest()).decode()}],
                       "size": len(award_text), "mediaType": "text/plain"}],
         "signatures": [award_signature("party", "presiding-arbitrator"), award_signature("seal", "institution-seal")]}
problem(post("/v1/awards", auditor, award), 403, "forbidden")
problem(post("/v1/awards", clerk, dict(award, arbitrators=3)), 422, "invalid-record")
problem(post("/v1/awards", clerk, dict(award, event="urn:notarium:event:AwardIssued")), 422, "schema-violation")
wrong_signature = json.loads(json.dumps(award))
wrong_signature["signatures"][0]["signature"] = signature  # the exhibit's signature, not the award's
problem(post("/v1/awards", clerk, wrong_signature), 422, "digest-mismatch")
registered_award = receipt_of(post("/v1/awards", clerk, award, key="award-1"), "register the award")
check(registered_award["seq"] == deemed["seq"] + 2 and registered_award["award"] == award["award"], f"award receipt {registered_award}")
check(registered_award["bundle"] == "/v1/awards/" + urllib.parse.quote(award["award"], safe="") + "/bundle", f"award bundle link {registered_award['bundle']}")
check(post("/v1/awards", clerk, award, key="award-1").json() == registered_award, "a replayed award is registered once")
problem(post("/v1/awards", clerk, award), 409, "conflict")
check(body_of(registered_award["seq"])["requestedBy"] == {"clientCertificateSha256": clerk_sha256}, "the award names the clerk")
verify_offline(registered_award["bundle"], "award")
last_seq = registered_award["seq"]
next_entry_absent(last_seq + 1)
still_serving()

# --- Revocation locks the clerk out at once ---------------------------------------------------------

serial = next(c for c in get("/v1/clients", operator).json()["clients"] if c["name"] == "odr-platform")["serial"]
problem(post(f"/v1/certificates/{serial}/revocation", operator, {"reason": "no-such-reason"}), 422, "schema-violation")
problem(post("/v1/certificates/00112233/revocation", operator, {"reason": "superseded"}), 404, "not-found")
revoked = post(f"/v1/certificates/{serial}/revocation", operator, {"reason": "affiliationChanged"})
check(revoked.status_code == 200 and revoked.json()["status"] == "revoked", f"revocation: {revoked.status_code} {revoked.text}")
check(post(f"/v1/certificates/{serial}/revocation", operator, {"reason": "affiliationChanged"}).json() == revoked.json(), "a repeated revocation answers the same")
operator_sha256 = get("/v1/whoami", operator).json()["certificateSha256"]
revocation_entry = json.loads(base64.b64decode(get(f"/v1/entries/{last_seq + 1}", operator).json()["entry"]))
check(revocation_entry["type"] == "certificate-revoked" and revocation_entry["body"]["requestedBy"] == {"clientCertificateSha256": operator_sha256},
      f"the revocation names who asked: {revocation_entry}")
tsa_pem = requests.get(api + "/tsa/certs", verify=ca, timeout=10).text
with open(path("tsa.pem"), "w") as handle:
    handle.write(tsa_pem)
tsa_serial = openssl("x509", "-noout", "-serial", "-in", path("tsa.pem")).strip().split("=")[1]
problem(post(f"/v1/certificates/{tsa_serial}/revocation", operator, {"reason": "superseded"}), 422, "revocation-refused")
problem(post(f"/v1/certificates/{serial}/revocation", operator, {"reason": "keyCompromise"}), 409, "already-revoked")
problem(get("/v1/whoami", clerk), 401, "client-revoked")
problem(post("/v1/evidence", clerk, deposit, key="after-revocation"), 401, "client-revoked")
next_entry_absent(last_seq + 2)  # +1 is the certificate-revoked entry; the refused TSA revocation added none
still_serving()
print("api e2e: all checks passed")
