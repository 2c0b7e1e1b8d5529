#!/usr/bin/env python3
"""An independent RFC 3161 client for the TSA tests: Trail of Bits' rfc3161-client (PyPI),
whose Rust DER parser is strict. It builds the request, posts it to the TSA over HTTP, parses
the reply and verifies it against the root (chain, signature, ESSCertIDv2, nonce, imprint).

usage: rfc3161_client_check.py URL ROOT_PEM TSA_AND_ISSUING_PEM sha256|sha512 nonce|no-nonce
prints "VERIFIED <genTime> <serial>" and exits 0, or prints the failure and exits 1.
"""
import sys
import urllib.request

from cryptography import x509
from rfc3161_client import HashAlgorithm, TimestampRequestBuilder, VerifierBuilder, decode_timestamp_response


def main() -> int:
    url, root_file, chain_file, hash_name, nonce = sys.argv[1:6]
    message = b"a document the court will ask about\n"
    request = (
        TimestampRequestBuilder()
        .data(message)
        .hash_algorithm(HashAlgorithm.SHA256 if hash_name == "sha256" else HashAlgorithm.SHA512)
        .nonce(nonce=nonce == "nonce")
        .cert_request(cert_request=True)
        .build()
    )
    posted = urllib.request.Request(url, data=request.as_bytes(), headers={"Content-Type": "application/timestamp-query"})
    with urllib.request.urlopen(posted, timeout=30) as reply:
        if reply.headers.get("Content-Type") != "application/timestamp-reply":
            print(f"wrong content type {reply.headers.get('Content-Type')}")
            return 1
        body = reply.read()
    response = decode_timestamp_response(body)
    with open(root_file, "rb") as f:
        root = x509.load_pem_x509_certificate(f.read())
    with open(chain_file, "rb") as f:
        tsa, issuing = x509.load_pem_x509_certificates(f.read())[:2]
    verifier = (
        VerifierBuilder.from_request(request)
        .tsa_certificate(tsa)
        .add_intermediate_certificate(issuing)
        .add_root_certificate(root)
        .build()
    )
    verifier.verify_message(response, message)
    info = response.tst_info
    print(f"VERIFIED {info.gen_time.isoformat()} {info.serial_number}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as error:  # the failure is the test's output
        print(f"FAILED {type(error).__name__}: {error}")
        sys.exit(1)
