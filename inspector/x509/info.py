"""`CertInfo`: the summary of one certificate, and the detail text of its error codes (sans-I/O;
no cryptography import)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

@dataclass(frozen=True, slots=True)
class CertInfo:
    sha256: str                     # lowercase hex SHA-256 of the DER (hashlib)
    sha1: str
    der: bytes                      # raw bytes, always kept
    subject: str | None             # RFC 4514
    issuer: str | None
    subject_cn: str | None          # last CN in DER order (most specific)
    issuer_cn: str | None
    serial: str | None              # lowercase hex of |serial|, even length, "-" prefix if negative
    not_before: datetime | None     # tz-aware UTC
    not_after: datetime | None
    key_type: str | None            # "RSA", "EC", "DSA", "Ed25519", ..., else OID name
    key_bits: int | None
    curve: str | None               # EC only, e.g. "secp256r1"
    signature_algorithm: str | None  # e.g. "sha256WithRSAEncryption"; None if unknown
    signature_hash: str | None      # "sha256", "sha1", ...; None for EdDSA/ML-DSA/unknown
    san_dns: tuple[str, ...]
    san_ip: tuple[str, ...]
    ski: str | None                 # hex
    aki: str | None                 # hex keyIdentifier
    is_ca: bool | None              # None when BasicConstraints absent/unreadable
    path_length: int | None
    key_usage: tuple[str, ...]
    extended_key_usage: tuple[str, ...]
    self_issued: bool
    self_signed: bool
    version: int | None             # X.509 version as people say it: 1 or 3 (DER value + 1)
    errors: tuple[str, ...]


_MAX_DETAIL = 160


def _detail(exc: BaseException) -> str:
    msg = str(exc).replace("\n", " ").strip() or type(exc).__name__
    return msg if len(msg) <= _MAX_DETAIL else msg[: _MAX_DETAIL - 3] + "..."

