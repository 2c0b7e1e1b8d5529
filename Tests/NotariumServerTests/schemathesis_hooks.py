"""Schemathesis hooks for the Notarium contract test (loaded through SCHEMATHESIS_HOOKS).

The RFC 3161 endpoint takes `application/timestamp-query` (DER), for which schemathesis has no
serializer of its own: the generated body is sent as the bytes it is, so that the TSA's answers
to arbitrary bytes are checked against the contract like every other operation's.
"""
import schemathesis


@schemathesis.serializer("application/timestamp-query", "application/ocsp-request")
def der_bytes(context, value):
    if value is None:
        return None
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8")
