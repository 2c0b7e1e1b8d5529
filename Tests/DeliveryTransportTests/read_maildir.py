#!/usr/bin/env python3
"""Reads every message in a Maildir as a recipient's mail program would, with Python's own
`email` package (not Notarium's code), and prints them as JSON: the decoded headers, the text,
and each attachment's file name, media type, size and SHA-256.

Usage: read_maildir.py MAILDIR
"""
import hashlib
import json
import mailbox
import sys
from email import policy
from email.parser import BytesParser

messages = []
box = mailbox.Maildir(sys.argv[1], factory=None, create=False)
for key in sorted(box.keys()):
    with box.get_file(key) as handle:
        raw = handle.read()
    message = BytesParser(policy=policy.default).parsebytes(raw)
    body = message.get_body(preferencelist=("plain",))
    attachments = []
    for part in message.iter_attachments():
        content = part.get_payload(decode=True)
        attachments.append({
            "filename": part.get_filename(),
            "mediaType": part.get_content_type(),
            "size": len(content),
            "sha256": hashlib.sha256(content).hexdigest(),
        })
    defects = [type(defect).__name__ for part in message.walk() for defect in part.defects]
    messages.append({
        "from": str(message["From"]),
        "to": str(message["To"]),
        "subject": str(message["Subject"]),
        "date": str(message["Date"]),
        "messageID": str(message["Message-ID"]),
        "language": message.get("Content-Language"),
        "autoSubmitted": message.get("Auto-Submitted"),
        "text": body.get_content() if body is not None else None,
        "attachments": attachments,
        "defects": defects,
        # Maildir files hold LF line ends (Python's mailbox writes them so).
        "longestLine": max(len(line.rstrip(b"\r")) for line in raw.split(b"\n")),
    })
print(json.dumps(messages, ensure_ascii=False))
