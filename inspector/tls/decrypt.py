"""TLS 1.3 record decryption from an NSS key log (SSLKEYLOGFILE), with `cryptography`.

Sans-I/O: `KeyLogParser` (streaming) and `parse_keylog(text)` turn key log lines into a `KeyLog`; `RecordDecryptor` decrypts
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


MAX_KEYLOG_LINE = 1024  # longer lines are not key log lines (the longest valid one is ~230 bytes)
_LABEL_SET = frozenset(LABELS)


_LABEL_INDEX = {label: i for i, label in enumerate(LABELS)}


@dataclass(slots=True)
class KeyLog:
    """client_random -> {label: secret} (`get`), and what reading it met (``warnings``: (code,
    detail)).  Stored compactly, a flat tuple ``(label index, secret, ...)`` per client random
    (~270 bytes for a CLIENT_RANDOM line of 176): a key log costs about 1.6 times its valid lines."""

    secrets: dict[bytes, tuple] = field(default_factory=dict)
    bad_lines: int = 0
    lines: int = 0  # key log lines kept
    hits: int = 0  # lookups that found a secret (0 at the end: the key log matched no flow)
    source: str = ""
    warnings: list[tuple[str, str]] = field(default_factory=list)

    def get(self, client_random: bytes) -> dict[str, bytes] | None:
        found = self.secrets.get(client_random)
        if found is None:
            return None
        self.hits += 1
        return {LABELS[found[i]]: found[i + 1] for i in range(0, len(found), 2)}

    def add(self, client_random: bytes, label: str, secret: bytes) -> None:
        idx = _LABEL_INDEX[label]
        old = self.secrets.get(client_random)
        if old is None:
            self.secrets[client_random] = (idx, secret)
            return
        kept = tuple(x for i in range(0, len(old), 2) if old[i] != idx for x in old[i:i + 2])
        self.secrets[client_random] = kept + (idx, secret)  # the last line for a label wins

    def __len__(self) -> int:
        return len(self.secrets)


class KeyLogParser:
    """Sans-I/O, streaming: `feed` chunks of bytes, then `close` for the `KeyLog`.

    Memory is the secrets kept, never the file: a partial line is carried over only up to
    `MAX_KEYLOG_LINE` bytes (a longer run without a newline is junk, dropped as it comes), and
    comments, blank and bad lines cost nothing.
    """

    def __init__(self, source: str = "") -> None:
        self.log = KeyLog(source=source)
        self._carry = b""
        self._junk = False  # inside an over-long line: skip to the next newline

    def skip_partial_line(self) -> None:
        """The next bytes start mid-line (reading from an offset): drop them up to a newline."""
        self._carry = b""
        self._junk = True

    def feed(self, chunk: bytes) -> None:
        start = 0
        n = len(chunk)
        while start < n:
            nl = chunk.find(b"\n", start)
            if nl < 0:
                if not self._junk:
                    if len(self._carry) + n - start > MAX_KEYLOG_LINE:
                        self._junk = True
                        self._carry = b""
                        self.log.bad_lines += 1
                    else:
                        self._carry += chunk[start:]
                return
            if self._junk:
                self._junk = False
            elif self._carry or nl - start <= MAX_KEYLOG_LINE:
                line = self._carry + chunk[start:nl]
                self._carry = b""
                if len(line) <= MAX_KEYLOG_LINE:
                    self._line(line)
                else:
                    self.log.bad_lines += 1
            else:
                self.log.bad_lines += 1
            start = nl + 1

    def _line(self, raw: bytes) -> None:
        line = raw.strip()
        if not line or line.startswith(b"#"):
            return
        parts = line.split()
        log = self.log
        if len(parts) != 3:
            log.bad_lines += 1
            return
        label = parts[0].decode("ascii", "replace")
        if label not in _LABEL_SET:
            log.bad_lines += 1
            return
        try:
            cr, secret = bytes.fromhex(parts[1].decode("ascii")), bytes.fromhex(parts[2].decode("ascii"))
        except (ValueError, UnicodeDecodeError):
            log.bad_lines += 1
            return
        if len(cr) != 32 or not secret:
            log.bad_lines += 1
            return
        log.add(cr, label, secret)
        log.lines += 1

    def close(self) -> KeyLog:
        if self._carry and not self._junk:
            self._line(self._carry)
        self._carry = b""
        return self.log


def parse_keylog(text: str | bytes) -> KeyLog:
    """NSS key log format: ``LABEL <client_random hex> <secret hex>`` per line; ``#`` comments."""
    p = KeyLogParser()
    p.feed(text.encode("ascii", "replace") if isinstance(text, str) else text)
    return p.close()


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


# ---- TLS 1.2 (AEAD suites) -------------------------------------------------------------------

def tls12_prf(secret: bytes, label: bytes, seed: bytes, length: int,
              hash_cls: type[hashes.HashAlgorithm]) -> bytes:
    """RFC 5246 section 5: P_hash(secret, label + seed) with HMAC."""
    from cryptography.hazmat.primitives import hmac

    def mac(data: bytes) -> bytes:
        h = hmac.HMAC(secret, hash_cls())
        h.update(data)
        return h.finalize()

    seed = label + seed
    out, a = b"", seed
    while len(out) < length:
        a = mac(a)
        out += mac(a + seed)
    return out[:length]


def tls12_aead(cipher_name: str) -> tuple[type, int, int, type[hashes.HashAlgorithm]] | None:
    """(AEAD class, key length, fixed IV length, PRF hash) for a TLS 1.2 AEAD suite, else None."""
    prf_hash = hashes.SHA384 if cipher_name.endswith("SHA384") else hashes.SHA256
    if "_AES_128_GCM_" in cipher_name:
        return AESGCM, 16, 4, prf_hash
    if "_AES_256_GCM_" in cipher_name:
        return AESGCM, 32, 4, prf_hash
    if "_CHACHA20_POLY1305_" in cipher_name:
        return ChaCha20Poly1305, 32, 12, prf_hash
    return None


class Tls12Decryptor:
    """One direction of a TLS 1.2 AEAD connection, from the master secret (RFC 5288, RFC 7905).

    ``seq`` counts this side's records since its ChangeCipherSpec; the caller advances it with
    `skip` for records it does not decrypt (Finished, application data).
    """

    __slots__ = ("aead", "iv", "chacha", "seq", "version")

    def __init__(self, cipher_name: str, master_secret: bytes, client_random: bytes,
                 server_random: bytes, *, client_side: bool, version: int = 0x0303) -> None:
        spec = tls12_aead(cipher_name)
        if spec is None:
            raise ValueError(f"{cipher_name} is not a TLS 1.2 AEAD suite")
        aead_cls, key_len, iv_len, prf_hash = spec
        block = tls12_prf(master_secret, b"key expansion", server_random + client_random,
                          2 * key_len + 2 * iv_len, prf_hash)
        ck, sk = block[:key_len], block[key_len:2 * key_len]
        civ, siv = block[2 * key_len:2 * key_len + iv_len], block[2 * key_len + iv_len:]
        self.aead = aead_cls(ck if client_side else sk)
        self.iv = civ if client_side else siv
        self.chacha = aead_cls is ChaCha20Poly1305
        self.seq = 0
        self.version = version

    def skip(self) -> None:
        self.seq += 1

    def decrypt(self, content_type: int, payload: bytes) -> bytes | None:
        """The plaintext of one record's payload, or None (and the sequence number advances)."""
        seq = self.seq
        self.seq += 1
        if self.chacha:
            nonce = bytes(a ^ b for a, b in zip(self.iv, seq.to_bytes(12, "big")))
            ct = payload
        else:
            if len(payload) < 8 + 16:
                return None
            nonce, ct = self.iv + payload[:8], payload[8:]
        if len(ct) < 16:
            return None
        aad = struct.pack("!QBHH", seq, content_type, self.version, len(ct) - 16)
        try:
            return self.aead.decrypt(nonce, ct, aad)
        except (InvalidTag, ValueError):
            return None
