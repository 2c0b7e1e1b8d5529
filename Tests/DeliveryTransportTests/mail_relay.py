#!/usr/bin/env python3
"""A mail relay on loopback for the delivery tests: aiosmtpd, a real SMTP server Notarium did
not write, delivering what it accepts to one Maildir per recipient under ROOT.

Usage: mail_relay.py ROOT [--tls starttls|implicit|none] [--cert CRT --key KEY]
                          [--auth USER:PASSWORD] [--stall] [--slow SECONDS]
Prints "listening PORT" once it takes connections, then "accepted QUEUE-ID MESSAGE-ID" for every
message it accepts. It runs until killed.

- starttls: STARTTLS is offered and required before MAIL (and before AUTH).
- implicit: TLS from the first byte (port 465 style).
- A recipient whose local part is "reject" is refused at RCPT with 550 5.1.1.
- --stall: accepts connections and never answers (for the client's timeout).
- --slow S: waits S seconds between delivering a message and answering 250.
"""
import argparse
import asyncio
import mailbox
import os
import secrets
import socket
import ssl
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword, SMTP

parser = argparse.ArgumentParser()
parser.add_argument("root")
parser.add_argument("--tls", default="none", choices=["starttls", "implicit", "none"])
parser.add_argument("--cert")
parser.add_argument("--key")
parser.add_argument("--auth")
parser.add_argument("--stall", action="store_true")
parser.add_argument("--slow", type=float, default=0.0)
options = parser.parse_args()

if options.stall:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    print("listening", listener.getsockname()[1], flush=True)
    held = []
    while True:
        connection, _ = listener.accept()
        held.append(connection)


class Relay:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.split("@")[0] == "reject":
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown in virtual mailbox table"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        queue_id = secrets.token_hex(5).upper()
        for recipient in envelope.rcpt_tos:
            box = mailbox.Maildir(os.path.join(options.root, recipient), create=True)
            box.add(envelope.original_content)
        message_id = ""
        for line in envelope.original_content.split(b"\r\n"):
            if line.lower().startswith(b"message-id:"):
                message_id = line.split(b":", 1)[1].strip().decode()
                break
        print("accepted", queue_id, message_id, flush=True)
        # --slow: the message is in the mailbox and the client has no answer yet (the window
        # a crash of the client between the wire and its own record falls into).
        if options.slow:
            await asyncio.sleep(options.slow)
        return f"250 2.0.0 Ok: queued as {queue_id}"


def authenticator(server, session, envelope, mechanism, auth_data):
    user, password = options.auth.split(":", 1)
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == user.encode() and auth_data.password == password.encode()
    # handled=False: aiosmtpd answers 535 itself (with True it would wait for us to answer).
    return AuthResult(success=ok, handled=False)


os.makedirs(options.root, exist_ok=True)
context = None
if options.tls != "none":
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(options.cert, options.key)

# Find a free port first: the controller wants one.
probe = socket.socket()
probe.bind(("127.0.0.1", 0))
port = probe.getsockname()[1]
probe.close()

arguments = dict(hostname="127.0.0.1", port=port, server_hostname="relay.test", ready_timeout=10)
if options.auth:
    # With implicit TLS aiosmtpd does not count the connection as TLS for auth_require_tls;
    # it is TLS from the first byte, so nothing is sent in clear either way.
    arguments.update(authenticator=authenticator, auth_required=True, auth_require_tls=options.tls == "starttls")
if options.tls == "starttls":
    arguments.update(tls_context=context, require_starttls=True)
elif options.tls == "implicit":
    arguments.update(ssl_context=context)
controller = Controller(Relay(), **arguments)
controller.start()
print("listening", port, flush=True)
while True:
    time.sleep(3600)
