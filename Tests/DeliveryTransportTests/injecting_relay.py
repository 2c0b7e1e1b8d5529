#!/usr/bin/env python3
"""A hostile "relay" for the STARTTLS injection test (CVE-2011-0411): it offers STARTTLS and
answers it with its 220 and, in the same segment, a plaintext reply that a careless client
would read as if it had come over TLS. Prints "listening PORT"; serves connections until killed.
"""
import socket

listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", 0))
listener.listen(4)
print("listening", listener.getsockname()[1], flush=True)
while True:
    connection, _ = listener.accept()
    with connection:
        reader = connection.makefile("rb")
        connection.sendall(b"220 relay.test ESMTP\r\n")
        for line in reader:
            command = line.strip().upper()
            if command.startswith(b"EHLO"):
                connection.sendall(b"250-relay.test\r\n250 STARTTLS\r\n")
            elif command == b"STARTTLS":
                connection.sendall(b"220 2.0.0 Ready to start TLS\r\n250 2.0.0 Ok: queued as INJECTED\r\n")
            else:
                break
