#!/usr/bin/env python3
"""Opens a document as the vault stores it (docs/delivery.md section 12), following the document,
not our Swift: PyNaCl's XChaCha20-Poly1305-IETF, and hashlib's BLAKE2b for libsodium's
crypto_kdf_derive_from_key (subkey 1, context NTRMDOCS, of the delivery key).

Usage: open_vault_value.py DELIVERY-KEY-HEX NAME VALUE-FILE   (prints the plaintext's SHA-256)
Exits 1 when the value does not open under that key and name.
"""
import hashlib
import struct
import sys

import nacl.bindings as b
import nacl.exceptions

master = bytes.fromhex(sys.argv[1])
name = sys.argv[2].encode()
value = open(sys.argv[3], "rb").read()
# crypto_kdf: BLAKE2b keyed with the master key, salt = the subkey id as 8 little-endian bytes
# padded to 16, personalization = the context padded to 16.
key = hashlib.blake2b(b"", digest_size=32, key=master, salt=struct.pack("<Q", 1) + bytes(8), person=b"NTRMDOCS" + bytes(8)).digest()
nonce, sealed = value[:24], value[24:]
try:
    plain = b.crypto_aead_xchacha20poly1305_ietf_decrypt(sealed, name, nonce, key)
except nacl.exceptions.CryptoError:
    print("does not open", file=sys.stderr)
    sys.exit(1)
print(hashlib.sha256(plain).hexdigest())
