"""Certificates as a validation run sees them: names as comparable keys, and each DER parsed once
into a `_Node` (subject, issuer, keys, extensions, validity), each property under its own guard."""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, TypeVar

from .._lazy import lazy_import

#: cryptography, imported when the first certificate is read (a capture without certificates never does)
_load_cryptography = lazy_import(globals(), {
    "x509": ("cryptography.x509", None),
    "serialization": ("cryptography.hazmat.primitives.serialization", None),
    "NameOID": ("cryptography.x509.oid", "NameOID"),
})

NameKey = tuple


def _canon_value(v: object) -> str:
    if isinstance(v, bytes):
        return v.hex()
    return " ".join(str(v).casefold().split())


def _name_key(name: x509.Name) -> NameKey:
    """Canonical form of a Name (OpenSSL-like: case and inner spaces ignored, RDN order kept)."""
    return tuple(tuple(sorted((a.oid.dotted_string, _canon_value(a.value)) for a in rdn)) for rdn in name.rdns)


def _name_key_of_string(rfc4514: str) -> NameKey:
    try:
        return _name_key(x509.Name.from_rfc4514_string(rfc4514))
    except Exception:  # noqa: BLE001 - not re-parseable: compare the text itself
        return (("raw", _canon_value(rfc4514)),)


def _attr(name: x509.Name | None, oid: x509.ObjectIdentifier) -> list[str]:
    if name is None:
        return []
    try:
        return [str(a.value) for a in name.get_attributes_for_oid(oid)]
    except Exception:  # noqa: BLE001
        return []


def _rfc4514(name: x509.Name | None) -> str | None:
    if name is None:
        return None
    try:
        return name.rfc4514_string()
    except Exception:  # noqa: BLE001
        return None


def _label_of_name(name: x509.Name | None) -> str:
    """CN (last, most specific), else the RFC 4514 string, else "?"."""
    cns = _attr(name, NameOID.COMMON_NAME)
    if cns and cns[-1].strip():
        return cns[-1]
    return _rfc4514(name) or "?"


def _label_of_string(rfc4514: str) -> str:
    try:
        return _label_of_name(x509.Name.from_rfc4514_string(rfc4514))
    except Exception:  # noqa: BLE001
        return rfc4514


def _norm_org(o: str) -> str:
    return " ".join(o.replace(",", " ").replace(".", " ").casefold().split())


T = TypeVar("T")


def _guard(fn: Callable[[], T], default: T) -> T:
    """cryptography parses lazily: one bad part raises only when touched."""
    try:
        return fn()
    except Exception:  # noqa: BLE001
        return default


def _ext(cert: x509.Certificate, cls: type) -> Any:
    try:
        return cert.extensions.get_extension_for_class(cls).value
    except x509.ExtensionNotFound:
        return None


@dataclass(eq=False)
class _Node:
    der: bytes
    sha256: str
    cert: x509.Certificate | None
    subject: x509.Name | None = None
    issuer: x509.Name | None = None
    subject_key: NameKey | None = None
    issuer_key: NameKey | None = None
    ski: bytes | None = None
    aki: bytes | None = None
    basic: x509.BasicConstraints | None = None
    key_usage: x509.KeyUsage | None = None
    eku: tuple[x509.ObjectIdentifier, ...] | None = None
    not_before: datetime | None = None
    not_after: datetime | None = None
    version: int | None = None
    spki: bytes | None = None
    label: str = ""

    @property
    def self_issued(self) -> bool:
        """Subject == issuer and, when both key ids are there, AKI == SKI (OpenSSL's check_issued)."""
        if self.subject_key is None or self.subject_key != self.issuer_key:
            return False
        return not (self.aki and self.ski and self.aki != self.ski)

    def could_issue(self, child: "_Node") -> bool:
        """Could this certificate have issued ``child``: names match, and key ids when both exist."""
        if self.subject_key is None or self.subject_key != child.issuer_key:
            return False
        return not (child.aki and self.ski and child.aki != self.ski)


def _der_of(c: object) -> bytes:
    if isinstance(c, x509.Certificate):
        return c.public_bytes(serialization.Encoding.DER)
    if isinstance(c, (bytes, bytearray, memoryview)):
        return bytes(c)
    der = getattr(c, "der", None)
    if der is None and hasattr(c, "info"):
        der = getattr(c.info, "der", None)
    if isinstance(der, (bytes, bytearray, memoryview)):
        return bytes(der)
    raise TypeError(f"not a certificate (DER bytes, x509.Certificate, CertInfo or CertSeen): {type(c).__name__}")


def _load_der(der: bytes) -> x509.Certificate:
    """``x509.load_der_x509_certificate`` without its deprecation warnings (e.g. a zero serial in a
    CA bundle): the certificate is judged, not the parser's future."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return x509.load_der_x509_certificate(der)


def _node(der: bytes, cache: dict[str, _Node] | None = None) -> _Node:
    sha = hashlib.sha256(der).hexdigest()
    if cache is not None and sha in cache:
        return cache[sha]
    try:
        cert = _load_der(der)
    except Exception:  # noqa: BLE001
        cert = None
    n = _Node(der=der, sha256=sha, cert=cert, label=sha[:16])
    if cert is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _fill(n, cert)
    if cache is not None:
        cache[sha] = n
    return n


def _fill(n: _Node, cert: x509.Certificate) -> None:
    """Read every property under its own guard (cryptography parses lazily)."""
    n.subject = _guard(lambda: cert.subject, None)
    n.issuer = _guard(lambda: cert.issuer, None)
    n.subject_key = _guard(lambda: _name_key(n.subject), None) if n.subject is not None else None
    n.issuer_key = _guard(lambda: _name_key(n.issuer), None) if n.issuer is not None else None
    ski = _guard(lambda: _ext(cert, x509.SubjectKeyIdentifier), None)
    n.ski = ski.digest if ski is not None else None
    aki = _guard(lambda: _ext(cert, x509.AuthorityKeyIdentifier), None)
    n.aki = aki.key_identifier if aki is not None else None
    n.basic = _guard(lambda: _ext(cert, x509.BasicConstraints), None)
    n.key_usage = _guard(lambda: _ext(cert, x509.KeyUsage), None)
    eku = _guard(lambda: _ext(cert, x509.ExtendedKeyUsage), None)
    n.eku = tuple(eku) if eku is not None else None
    n.not_before = _guard(lambda: cert.not_valid_before_utc, None)
    n.not_after = _guard(lambda: cert.not_valid_after_utc, None)
    n.version = _guard(lambda: cert.version.value + 1, None)
    n.spki = _guard(lambda: cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo), None)
    if n.subject is not None:
        n.label = _label_of_name(n.subject)


def _key_cert_sign(ku: x509.KeyUsage | None) -> bool | None:
    return None if ku is None else bool(ku.key_cert_sign)
