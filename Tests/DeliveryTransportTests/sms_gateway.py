#!/usr/bin/env python3
"""An SMS gateway of the project's own on loopback, for the delivery tests: no real gateway is
reachable here. It speaks the adapter of docs/delivery.md section 11 and sends nothing anywhere.

Usage: sms_gateway.py [--slow SECONDS] TOKEN [REPORT_SECRET CA_FILE]   (prints "listening PORT")
- POST /messages with "Authorization: Bearer TOKEN" and {"to","from","text","reference"[,"callbackUrl"]}:
  202 {"id","status":"accepted"}; the same reference again gets the same id (one message);
  401 for another token; 400 {"error":"invalid-number"} for a "to" that is not E.164;
  400 {"error":"unallocated"} for a number ending in 0; 503 for a number ending in 9.
- GET /messages: every message taken, as JSON, for the test to read (the code it carried), each
  with "attempts": how many times it was posted (a resend with the same reference is counted,
  not sent again).
- --slow SECONDS: take each message, then wait that long before answering (a sender killed in
  that wait has had its message taken without learning its id: the kill -9 test).
- With REPORT_SECRET: for a message with a callbackUrl, a delivery report is POSTed there half a
  second later, {"id","reference","status","at"[,"error"]}, with X-Notarium-Signature:
  sha256=<HMAC-SHA-256 of the body under REPORT_SECRET>, over https trusting CA_FILE: status
  "delivered", or "failed" with error "absent-subscriber" for a number ending in 8. The
  callback's answers are kept in GET /reports.
"""
import datetime
import hashlib
import hmac
import ssl
import time
import urllib.request
import json
import re
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

arguments = sys.argv[1:]
slow = 0.0
if arguments[:1] == ["--slow"]:
    slow, arguments = float(arguments[1]), arguments[2:]
token = arguments[0]
report_secret = arguments[1].encode() if len(arguments) > 1 else None
ca_file = arguments[2] if len(arguments) > 2 else None
messages = []
reports = []
by_reference = {}
lock = threading.Lock()


class Gateway(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        with lock:
            self.answer(200, reports if self.path == "/reports" else messages)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        if self.headers.get("Authorization") != "Bearer " + token:
            return self.answer(401, {"error": "unauthorized"})
        try:
            message = json.loads(body)
            to, text, reference = message["to"], message["text"], message["reference"]
        except Exception:
            return self.answer(400, {"error": "malformed"})
        if not re.fullmatch(r"\+[0-9]{7,15}", to):
            return self.answer(400, {"error": "invalid-number"})
        if to.endswith("0"):
            return self.answer(400, {"error": "unallocated"})
        if to.endswith("9"):
            return self.answer(503, {"error": "busy"})
        with lock:
            if reference not in by_reference:
                by_reference[reference] = str(uuid.uuid4())
                messages.append(dict(message, id=by_reference[reference], attempts=1))
                if report_secret and message.get("callbackUrl"):
                    threading.Timer(0.5, report, (message, by_reference[reference])).start()
            else:
                next(m for m in messages if m["reference"] == reference)["attempts"] += 1
            gateway_id = by_reference[reference]
        print("taken", reference, flush=True)
        if slow:
            time.sleep(slow)
        self.answer(202, {"id": gateway_id, "status": "accepted"})


def report(message, gateway_id):
    """Posts the signed delivery report of one message to its callback."""
    body = {"id": gateway_id, "reference": message["reference"],
            "at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")}
    if message["to"].endswith("8"):
        body.update(status="failed", error="absent-subscriber")
    else:
        body["status"] = "delivered"
    data = json.dumps(body).encode()
    signature = "sha256=" + hmac.new(report_secret, data, hashlib.sha256).hexdigest()
    request = urllib.request.Request(message["callbackUrl"], data=data, method="POST", headers={
        "Content-Type": "application/json", "X-Notarium-Signature": signature})
    context = ssl.create_default_context(cafile=ca_file) if ca_file else None
    # As real gateways do: a report not taken (not known yet, no connection) is posted again.
    for attempt in range(10):
        try:
            with urllib.request.urlopen(request, context=context, timeout=30) as answer:
                outcome = (answer.status, answer.read().decode())
        except urllib.error.HTTPError as error:
            outcome = (error.code, error.read().decode())
        except Exception as error:
            outcome = (0, repr(error))
        if outcome[0] not in (0, 404, 503):
            break
        time.sleep(1)
    with lock:
        reports.append({"id": gateway_id, "status": outcome[0], "answer": outcome[1]})


server = ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
print("listening", server.server_address[1], flush=True)
server.serve_forever()
