#!/usr/bin/env python3
"""Opens a Notarium sealed key file following docs/sealed-key-format.md only.

usage: open_sealed_key.py FILE PASSPHRASE  -> prints the secret in hex; exit 1 on a wrong secret.
Independent of Notarium's Swift code: PyNaCl for Argon2id and XChaCha20-Poly1305, and Python's
hashlib BLAKE2b for libsodium's crypto_kdf_derive_from_key.
"""
import hashlib
import struct
import sys

import nacl.bindings as b
import nacl.exceptions

path, passphrase = sys.argv[1], sys.argv[2].encode()
data = open(path, "rb").read()
assert data[:8] == b"NTRMSEAL", "bad magic"
version, kdf, aead, ops, mem_kib = struct.unpack(">HBBII", data[8:20])
assert (version, kdf, aead) == (1, 1, 1), (version, kdf, aead)
salt, nonce, check = data[20:36], data[36:60], data[60:76]
(label_len,) = struct.unpack(">H", data[76:78])
offset = 78 + label_len
(ct_len,) = struct.unpack(">I", data[offset:offset + 4])
header = data[:offset + 4]
ciphertext = data[offset + 4:]
assert len(ciphertext) == ct_len, "length"

master = b.crypto_pwhash_alg(32, passphrase, salt, ops, mem_kib * 1024, b.crypto_pwhash_ALG_ARGON2ID13)


def kdf_subkey(length, subkey_id, context, key):
    # libsodium crypto_kdf_derive_from_key: BLAKE2b keyed with the master key, salt = subkey id
    # as 8 little-endian bytes padded to 16, personalization = context padded to 16.
    salt16 = struct.pack("<Q", subkey_id) + bytes(8)
    person16 = context + bytes(16 - len(context))
    return hashlib.blake2b(b"", digest_size=length, key=key, salt=salt16, person=person16).digest()


if kdf_subkey(16, 2, b"NTRMSEAL", master) != check:
    print("wrong secret", file=sys.stderr)
    sys.exit(1)
key = kdf_subkey(32, 1, b"NTRMSEAL", master)
try:
    plain = b.crypto_aead_xchacha20poly1305_ietf_decrypt(ciphertext, header, nonce, key)
except nacl.exceptions.CryptoError:
    print("tampered", file=sys.stderr)
    sys.exit(2)
print(plain.hex())
