#!/usr/bin/env python3
"""Reads a delivery status notification (RFC 3464) with Python's own `email` package, not
Notarium's parser, and prints what the tests compare: the per-message fields, each recipient
block's fields, and the returned message's Message-ID.

Usage: read_dsn.py FILE
"""
import json
import sys
from email import message_from_binary_file, policy

with open(sys.argv[1], "rb") as handle:
    report = message_from_binary_file(handle, policy=policy.compat32)
result = {"contentType": report.get_content_type(), "reportType": report.get_param("report-type")}
for part in report.walk():
    if part.get_content_type() == "message/delivery-status":
        blocks = part.get_payload()
        result["perMessage"] = {key.lower(): value for key, value in blocks[0].items()}
        result["recipients"] = [{key.lower(): value for key, value in block.items()} for block in blocks[1:]]
    elif part.get_content_type() in ("text/rfc822-headers", "message/rfc822"):
        payload = part.get_payload()
        if isinstance(payload, list):
            payload = payload[0].as_string()
        for line in payload.splitlines():
            if line.lower().startswith("message-id:"):
                result["originalMessageID"] = line.split(":", 1)[1].strip().strip("<>")
print(json.dumps(result))
