#!/usr/bin/env python3
"""An SMS gateway of the project's own on loopback, for the delivery tests: no real gateway is
reachable here. It speaks the adapter of docs/delivery.md section 11 and sends nothing anywhere.

Usage: sms_gateway.py TOKEN   (prints "listening PORT")
- POST /messages with "Authorization: Bearer TOKEN" and {"to","from","text","reference"[,"callbackUrl"]}:
  202 {"id","status":"accepted"}; the same reference again gets the same id (one message);
  401 for another token; 400 {"error":"invalid-number"} for a "to" that is not E.164;
  400 {"error":"unallocated"} for a number ending in 0; 503 for a number ending in 9.
- GET /messages: every message taken, as JSON, for the test to read (the code it carried).
"""
import json
import re
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

token = sys.argv[1]
messages = []
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
            self.answer(200, messages)

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
                messages.append(dict(message, id=by_reference[reference]))
            self.answer(202, {"id": by_reference[reference], "status": "accepted"})


server = ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
print("listening", server.server_address[1], flush=True)
server.serve_forever()
