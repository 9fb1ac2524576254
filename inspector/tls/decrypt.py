"""TLS 1.3 record decryption from an NSS key log (SSLKEYLOGFILE), with `cryptography`.

Sans-I/O: `parse_keylog(text)` turns key log lines into a `KeyLog`; `RecordDecryptor` decrypts
the records of one direction under one traffic secret (RFC 8446 section 5.2/5.3 and 7.1:
HKDF-Expand-Label for key and IV, per-record nonce = IV xor sequence number, AAD = the record
header).  Used by `TLSSession` to reveal the encrypted handshake: Certificate, CertificateRequest,
Finished and alerts.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESCCM, AESGCM, ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

#: TLS 1.3 cipher suites: code -> (AEAD class, key length, hash, tag length)
TLS13_SUITES = {
    0x1301: (AESGCM, 16, hashes.SHA256, 16),
    0x1302: (AESGCM, 32, hashes.SHA384, 16),
    0x1303: (ChaCha20Poly1305, 32, hashes.SHA256, 16),
    0x1304: (AESCCM, 16, hashes.SHA256, 16),
    0x1305: (AESCCM, 16, hashes.SHA256, 8),
}
LABELS = ("CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
          "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0", "CLIENT_RANDOM",
          "CLIENT_EARLY_TRAFFIC_SECRET", "EXPORTER_SECRET")


@dataclass(slots=True)
class KeyLog:
    """client_random -> {label: secret}."""

    secrets: dict[bytes, dict[str, bytes]] = field(default_factory=dict)
    bad_lines: int = 0

    def get(self, client_random: bytes) -> dict[str, bytes] | None:
        return self.secrets.get(client_random)

    def __len__(self) -> int:
        return len(self.secrets)


def parse_keylog(text: str) -> KeyLog:
    """NSS key log format: ``LABEL <client_random hex> <secret hex>`` per line; ``#`` comments."""
    log = KeyLog()
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 3 or parts[0] not in LABELS:
            log.bad_lines += 1
            continue
        try:
            cr, secret = bytes.fromhex(parts[1]), bytes.fromhex(parts[2])
        except ValueError:
            log.bad_lines += 1
            continue
        if len(cr) != 32:
            log.bad_lines += 1
            continue
        log.secrets.setdefault(cr, {})[parts[0]] = secret
    return log


def hkdf_expand_label(secret: bytes, label: bytes, context: bytes, length: int,
                      hash_cls: type[hashes.HashAlgorithm]) -> bytes:
    full = b"tls13 " + label
    info = struct.pack("!H", length) + bytes([len(full)]) + full + bytes([len(context)]) + context
    return HKDFExpand(hash_cls(), length, info).derive(secret)


class RecordDecryptor:
    """One direction, one traffic secret. `decrypt` returns (inner content type, content)."""

    __slots__ = ("aead", "iv", "seq", "tag_len")

    def __init__(self, cipher_suite: int, secret: bytes) -> None:
        aead_cls, key_len, hash_cls, self.tag_len = TLS13_SUITES[cipher_suite]
        key = hkdf_expand_label(secret, b"key", b"", key_len, hash_cls)
        self.iv = hkdf_expand_label(secret, b"iv", b"", 12, hash_cls)
        self.aead = aead_cls(key, tag_length=self.tag_len) if aead_cls is AESCCM else aead_cls(key)
        self.seq = 0

    def decrypt(self, header: bytes, ciphertext: bytes) -> tuple[int, bytes] | None:
        nonce = bytes(a ^ b for a, b in zip(self.iv, self.seq.to_bytes(12, "big")))
        try:
            plain = self.aead.decrypt(nonce, ciphertext, header)
        except (InvalidTag, ValueError):
            return None
        self.seq += 1
        end = len(plain)
        while end > 0 and plain[end - 1] == 0:
            end -= 1
        if end == 0:
            return None
        return plain[end - 1], plain[:end - 1]
