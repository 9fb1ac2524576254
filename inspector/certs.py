"""Certificate summaries and classification (sans-I/O).

Everything X.509 is done by ``cryptography``: one ``x509.load_der_x509_certificate``
per DER, then each property is read under its own guard, because cryptography
parses lazily and a single bad part (one extension, a name, the key) raises only
when that property is touched.  :func:`parse_certificate` never raises.

The only byte-level code here is DER *framing* (tag/length walking), used to

* recover per-extension when ``cert.extensions`` refuses the whole set (one
  malformed or duplicated extension): each extension is spliced alone into a
  copy of the certificate and that copy is handed back to cryptography;
* read the key size of a public key type cryptography cannot load.

Error codes (``CertInfo.errors``), each ``"<code>: <detail>"`` (detail may be empty):

==========================  ==================================================
``cert_parse_error``        the DER does not decode as a certificate at all
``bad_version``             version field unreadable
``bad_serial``              serial unreadable
``nonpositive_serial``      serial is zero or negative (RFC 5280 violation)
``bad_subject``             the subject name does not parse
``bad_issuer``              the issuer name does not parse
``bad_validity``            notBefore/notAfter unreadable
``bad_public_key``          key present but cryptography rejects it
``bad_signature_algorithm`` signature algorithm unreadable
``bad_extensions``          the extension set as a whole was refused (the
                            per-extension codes below then say which)
``bad_extension``           ``<oid>: <msg>`` one extension could not be read
``duplicate_extension``     ``<oid>`` extension appears twice (first kept)
``non_der_extension``       ``<oid>`` extension had an explicitly encoded
                            DEFAULT (``critical FALSE``, BasicConstraints
                            ``cA FALSE``); read after removing it (when
                            cryptography refuses the whole certificate for
                            it, a normalised copy is parsed; fingerprints,
                            ``der`` and the self-signature check still use
                            the original bytes)
``signature_unverifiable``  a self-issued cert whose own signature could not be
                            checked (``self_signed`` then falls back to SKI/AKI)
``parse_warning``           cryptography emitted a warning while parsing
``bad_der_framing``         the DER framing needed for a fallback is unreadable
==========================  ==================================================
"""

from __future__ import annotations

import hashlib
import threading
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from typing import Iterable, Literal

from ._lazy import lazy_import
from .domain import CAPF_ISSUER_CN, CISCO_ORGS, KNOWN_CAS, MIC_ISSUERS
from .model import validity

_ASYM = "cryptography.hazmat.primitives.asymmetric."
#: cryptography, imported when the first certificate is parsed (a capture without any never does)
_load_cryptography = lazy_import(globals(), {
    "x509": ("cryptography.x509", None),
    "InvalidSignature": ("cryptography.exceptions", "InvalidSignature"),
    "UnsupportedAlgorithm": ("cryptography.exceptions", "UnsupportedAlgorithm"),
    **{m: (_ASYM + m, None) for m in ("dsa", "ec", "ed448", "ed25519", "padding", "rsa", "x448", "x25519")},
    "ExtensionOID": ("cryptography.x509.oid", "ExtensionOID"),
    "NameOID": ("cryptography.x509.oid", "NameOID"),
})

__all__ = [
    "CertInfo",
    "parse_certificate",
    "parse_certificate_cached",
    "parse_chain",
    "clear_cache",
    "cache_size",
    "client_cert_kind",
    "capf_id",
    "known_ca_note",
    "short_name",
    "validity_at",
    "CAPF_ISSUER_CN",
    "MIC_ISSUERS",
    "CISCO_ORGS",
    "KNOWN_CAS",
]

# ---------------------------------------------------------------------------
# Classification table (the ONE place issuer patterns live).  See
# /work/shared/domain/DOMAIN.md.
# ---------------------------------------------------------------------------

# CAPF_ISSUER_CN, CISCO_ORGS, MIC_ISSUERS and KNOWN_CAS live in `inspector.domain`.

# ---------------------------------------------------------------------------
# CertInfo
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------

_MAX_DETAIL = 160


def _detail(exc: BaseException) -> str:
    msg = str(exc).replace("\n", " ").strip() or type(exc).__name__
    return msg if len(msg) <= _MAX_DETAIL else msg[: _MAX_DETAIL - 3] + "..."


def _oid_name(oid: x509.ObjectIdentifier) -> str:
    name = getattr(oid, "_name", None)
    if not name or name == "Unknown OID":
        return oid.dotted_string
    return name


def _format_serial(n: int) -> str:
    h = format(abs(n), "x")
    if len(h) % 2:
        h = "0" + h
    return ("-" + h) if n < 0 else h


def _last_attr(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    attrs = name.get_attributes_for_oid(oid)
    if not attrs:
        return None
    v = attrs[-1].value
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    return str(v)


# --- DER framing (tag/length only; the meaning is left to cryptography) -----


class _DerError(ValueError):
    pass


def _tlv(buf: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """Return (tag, content_start, content_end) of the TLV at ``pos``."""
    if pos + 2 > end:
        raise _DerError("short")
    tag = buf[pos]
    if tag & 0x1F == 0x1F:
        raise _DerError("multi-byte tag")
    first = buf[pos + 1]
    pos += 2
    if first < 0x80:
        length = first
    else:
        n = first & 0x7F
        if n == 0 or n > 4 or pos + n > end:
            raise _DerError("bad length")
        length = int.from_bytes(buf[pos : pos + n], "big")
        pos += n
    if pos + length > end:
        raise _DerError("short content")
    return tag, pos, pos + length


def _children(buf: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """Children of a constructed value: list of (tag, tlv_start, content_start, end)."""
    out = []
    pos = start
    while pos < end:
        tag, cs, ce = _tlv(buf, pos, end)
        out.append((tag, pos, cs, ce))
        pos = ce
    return out


def _enc_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def _wrap(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _enc_len(len(content)) + content


def _decode_oid(body: bytes) -> str:
    if not body:
        return "?"
    parts: list[int] = []
    v = 0
    for b in body:
        v = (v << 7) | (b & 0x7F)
        if not b & 0x80:
            parts.append(v)
            v = 0
    if not parts:
        return "?"
    first = parts[0]
    head = [0, first] if first < 40 else [1, first - 40] if first < 80 else [2, first - 80]
    return ".".join(str(p) for p in head + parts[1:])


@dataclass(slots=True)
class _Frame:
    """Framing of a certificate: enough to splice extensions / read SPKI."""

    der: bytes
    tbs_children: list[tuple[int, int, int, int]]
    after_tbs: bytes  # signatureAlgorithm TLV + signatureValue TLV (raw)

    @classmethod
    def of(cls, der: bytes) -> "_Frame":
        tag, cs, ce = _tlv(der, 0, len(der))
        if tag != 0x30:
            raise _DerError("not a SEQUENCE")
        kids = _children(der, cs, ce)
        if len(kids) < 3 or kids[0][0] != 0x30:
            raise _DerError("not a certificate")
        t_tag, t_start, t_cs, t_ce = kids[0]
        return cls(der, _children(der, t_cs, t_ce), der[t_ce:ce])

    def raw(self, child: tuple[int, int, int, int]) -> bytes:
        return self.der[child[1] : child[3]]

    def _core(self) -> list[tuple[int, int, int, int]]:
        # the fields after the optional [0] version
        kids = self.tbs_children
        return kids[1:] if kids and kids[0][0] == 0xA0 else kids

    def name_raw(self, which: Literal["issuer", "subject"]) -> bytes | None:
        core = self._core()  # serial, sigalg, issuer, validity, subject, spki
        idx = 2 if which == "issuer" else 4
        return self.raw(core[idx]) if len(core) > idx else None

    def spki_bits(self) -> int | None:
        core = self._core()
        if len(core) < 6:
            return None
        _, _, cs, ce = core[5]
        kids = _children(self.der, cs, ce)
        if len(kids) != 2 or kids[1][0] != 0x03:
            return None
        _, _, bcs, bce = kids[1]
        if bce <= bcs:
            return None
        return (bce - bcs - 1) * 8 - (self.der[bcs] & 7)

    def extensions_raw(self) -> list[bytes]:
        for tag, _s, cs, ce in self.tbs_children:
            if tag == 0xA3:
                seq_tag, scs, sce = _tlv(self.der, cs, ce)
                if seq_tag != 0x30:
                    raise _DerError("extensions not a SEQUENCE")
                return [self.der[s:e] for _t, s, _c, e in _children(self.der, scs, sce)]
        return []

    def with_extensions(self, exts: list[bytes]) -> bytes:
        parts = []
        for child in self.tbs_children:
            if child[0] == 0xA3:
                parts.append(_wrap(0xA3, _wrap(0x30, b"".join(exts))))
            else:
                parts.append(self.raw(child))
        tbs = _wrap(0x30, b"".join(parts))
        return _wrap(0x30, tbs + self.after_tbs)


def _ext_oid(ext_der: bytes) -> str:
    try:
        _t, cs, ce = _tlv(ext_der, 0, len(ext_der))
        tag, ocs, oce = _tlv(ext_der, cs, ce)
        if tag != 0x06:
            return "?"
        return _decode_oid(ext_der[ocs:oce])
    except _DerError:
        return "?"


_BOOL_FALSE = b"\x01\x01\x00"


def _strip_explicit_defaults(ext_der: bytes) -> bytes | None:
    """Remove DER-forbidden explicit DEFAULT FALSE booleans from one Extension:
    ``critical FALSE`` and BasicConstraints ``cA FALSE``.  Returns None when
    nothing was removed."""
    try:
        _t, cs, ce = _tlv(ext_der, 0, len(ext_der))
        kids = _children(ext_der, cs, ce)
    except _DerError:
        return None
    changed = False
    out = []
    for i, (tag, s, kcs, kce) in enumerate(kids):
        raw = ext_der[s:kce]
        if i == 1 and raw == _BOOL_FALSE:
            changed = True
            continue
        if tag == 0x04 and _ext_oid(ext_der) == ExtensionOID.BASIC_CONSTRAINTS.dotted_string:
            try:
                vt, vcs, vce = _tlv(ext_der, kcs, kce)
            except _DerError:
                vt = None
            if vt == 0x30 and ext_der[vcs : vcs + 3] == _BOOL_FALSE:
                raw = _wrap(0x04, _wrap(0x30, ext_der[vcs + 3 : vce]))
                changed = True
        out.append(raw)
    return _wrap(0x30, b"".join(out)) if changed else None


def _normalise_defaults(der: bytes) -> tuple[bytes, list[str], bytes] | None:
    """Strip explicit DEFAULT FALSE booleans from every extension.  Returns
    (fixed_der, oids_fixed, original_tbs) or None when there was nothing to fix
    (cryptography refuses such certificates at load time when the offender is
    an Extension's ``critical`` flag)."""
    try:
        frame = _Frame.of(der)
        raws = frame.extensions_raw()
    except (_DerError, IndexError):
        return None
    fixed_oids: list[str] = []
    out = []
    for raw in raws:
        fixed = _strip_explicit_defaults(raw)
        if fixed is not None:
            fixed_oids.append(_ext_oid(raw))
            out.append(fixed)
        else:
            out.append(raw)
    if not fixed_oids:
        return None
    _tag, cs, ce = _tlv(der, 0, len(der))
    _ttag, _tcs, t_ce = _tlv(der, cs, ce)
    return frame.with_extensions(out), fixed_oids, der[cs:t_ce]


# ---------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------

_RSASSA_PSS = "1.2.840.113549.1.1.10"

_KEY_OID_NAMES = {
    "1.2.840.113549.1.1.1": "RSA",
    "1.2.840.113549.1.1.10": "RSA-PSS",
    "1.2.840.10045.2.1": "EC",
    "1.2.840.10040.4.1": "DSA",
    "1.3.101.110": "X25519",
    "1.3.101.111": "X448",
    "1.3.101.112": "Ed25519",
    "1.3.101.113": "Ed448",
}

# bit sizes as OpenSSL's EVP_PKEY_get_bits reports them
_FIXED_KEY_BITS = (  # (module, class): looked up at use, cryptography being imported lazily
    ("ed25519", "Ed25519PublicKey", "Ed25519", 256),
    ("ed448", "Ed448PublicKey", "Ed448", 456),
    ("x25519", "X25519PublicKey", "X25519", 253),
    ("x448", "X448PublicKey", "X448", 448),
)


class _Parser:
    """Collects fields for one certificate; each step guarded separately."""

    def __init__(self, der: bytes, cert: x509.Certificate, tbs_override: bytes | None = None):
        self.der = der  # the DER `cert` was loaded from (possibly normalised)
        self.cert = cert
        self.tbs_override = tbs_override  # the original TBS when `der` was normalised
        self.errors: list[str] = []
        self._frame: _Frame | None | bool = False  # False = not computed yet

    def err(self, code: str, detail: str | BaseException = "") -> None:
        if isinstance(detail, BaseException):
            detail = _detail(detail)
        entry = f"{code}: {detail}" if detail else f"{code}:"
        if entry not in self.errors:
            self.errors.append(entry)

    @property
    def frame(self) -> _Frame | None:
        if self._frame is False:
            try:
                self._frame = _Frame.of(self.der)
            except (_DerError, IndexError) as exc:
                self.err("bad_der_framing", exc)
                self._frame = None
        return self._frame  # type: ignore[return-value]

    # -- names ---------------------------------------------------------------
    def name(self, which: Literal["subject", "issuer"]) -> tuple[x509.Name | None, str | None, str | None]:
        try:
            n = getattr(self.cert, which)
        except Exception as exc:
            self.err(f"bad_{which}", exc)
            return None, None, None
        try:
            s = n.rfc4514_string()
        except Exception as exc:
            self.err(f"bad_{which}", exc)
            s = None
        try:
            cn = _last_attr(n, NameOID.COMMON_NAME)
        except Exception as exc:
            self.err(f"bad_{which}", exc)
            cn = None
        return n, s, cn

    # -- key -----------------------------------------------------------------
    def key(self) -> tuple[str | None, int | None, str | None]:
        try:
            oid = self.cert.public_key_algorithm_oid
            oid_type = _KEY_OID_NAMES.get(oid.dotted_string) or _oid_name(oid)
        except Exception as exc:
            self.err("bad_public_key", exc)
            oid_type = None
        try:
            pk = self.cert.public_key()
        except Exception as exc:
            self.err("bad_public_key", exc)
            return oid_type, self._spki_bits(), None
        try:
            if isinstance(pk, rsa.RSAPublicKey):
                return "RSA", pk.key_size, None
            if isinstance(pk, ec.EllipticCurvePublicKey):
                return "EC", pk.curve.key_size, pk.curve.name
            if isinstance(pk, dsa.DSAPublicKey):
                return "DSA", pk.key_size, None
            for module, cls, label, bits in _FIXED_KEY_BITS:
                if isinstance(pk, getattr(globals()[module], cls)):
                    return label, bits, None
            raw = getattr(pk, "public_bytes_raw", None)
            if raw is not None:
                return oid_type, len(raw()) * 8, None
        except Exception as exc:
            self.err("bad_public_key", exc)
        return oid_type, self._spki_bits(), None

    def _spki_bits(self) -> int | None:
        """Bit length of subjectPublicKey, for key types cryptography lacks."""
        frame = self.frame
        if frame is None:
            return None
        try:
            return frame.spki_bits()
        except (_DerError, IndexError):
            return None

    # -- extensions ----------------------------------------------------------
    def extensions(self) -> list[x509.Extension]:
        try:
            return list(self.cert.extensions)
        except Exception as exc:
            self.err("bad_extensions", exc)
        return self._extensions_one_by_one()

    def _extensions_one_by_one(self) -> list[x509.Extension]:
        frame = self.frame
        if frame is None:
            return []
        try:
            raws = frame.extensions_raw()
        except (_DerError, IndexError) as exc:
            self.err("bad_extension", f"?: {_detail(exc)}")
            return []
        out: list[x509.Extension] = []
        seen: set[str] = set()
        for raw in raws:
            oid = _ext_oid(raw)
            if oid in seen:
                self.err("duplicate_extension", oid)
                continue
            seen.add(oid)
            ext, exc = self._load_single(frame, raw)
            if ext is None:
                fixed = _strip_explicit_defaults(raw)
                if fixed is not None:
                    ext, _exc2 = self._load_single(frame, fixed)
                    if ext is not None:
                        self.err("non_der_extension", oid)
            if ext is None:
                self.err("bad_extension", f"{oid}: {_detail(exc) if exc else 'unreadable'}")
            else:
                out.append(ext)
        return out

    @staticmethod
    def _load_single(frame: _Frame, raw: bytes) -> tuple[x509.Extension | None, BaseException | None]:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                c = x509.load_der_x509_certificate(frame.with_extensions([raw]))
                exts = list(c.extensions)
            return (exts[0] if len(exts) == 1 else None), None
        except Exception as exc:  # noqa: BLE001 - anything cryptography raises
            return None, exc

    # -- self-signature --------------------------------------------------------
    def verify_self(self) -> bool | None:
        """True/False when the signature could be checked, None when not."""
        cert = self.cert
        first: BaseException | str = "normalised certificate"
        if self.tbs_override is None:
            try:
                cert.verify_directly_issued_by(cert)
                return True
            except InvalidSignature:
                return False
            except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
                first = exc
        # cryptography's X.509 policy refuses legacy algorithms (SHA-1, MD5
        # signatures); the primitives still verify them.  Also used when the
        # DER had to be normalised: the signature covers the original TBS.
        try:
            verify_with_key(cert, cert.public_key(), self.tbs_override, first)
            return True
        except InvalidSignature:
            return False
        except Exception as exc:  # noqa: BLE001
            self.err("signature_unverifiable", exc)
            return None


def verify_with_key(cert: x509.Certificate, public_key, tbs: bytes | None = None,
                    first: BaseException | str = "unsupported signature") -> None:
    """Check ``cert``'s signature with an issuer's public key through cryptography's primitives.

    The one fallback for what ``verify_directly_issued_by`` refuses: cryptography 50's X.509
    layer rejects SHA-1 and MD5 signatures ("Unsupported signature algorithm") while its
    primitives still verify them, and real captures are full of SHA-1 chains.  Raises
    `InvalidSignature` when the signature is wrong, `UnsupportedAlgorithm` (or what the
    primitive raises) when it cannot be checked; returns None when it verifies."""
    _load_cryptography()
    pk = public_key
    params = cert.signature_algorithm_parameters
    h = cert.signature_hash_algorithm
    sig = cert.signature
    tbs = tbs if tbs is not None else cert.tbs_certificate_bytes
    # (signature_algorithm_parameters is None for the legacy ones)
    if isinstance(pk, rsa.RSAPublicKey) and h is not None:
        if params is None and cert.signature_algorithm_oid.dotted_string != _RSASSA_PSS:
            params = padding.PKCS1v15()
        if not isinstance(params, (padding.PKCS1v15, padding.PSS)):
            raise UnsupportedAlgorithm(_detail(first))
        pk.verify(sig, tbs, params, h)
    elif isinstance(pk, ec.EllipticCurvePublicKey) and h is not None:
        pk.verify(sig, tbs, params if isinstance(params, ec.ECDSA) else ec.ECDSA(h))
    elif isinstance(pk, dsa.DSAPublicKey) and h is not None:
        pk.verify(sig, tbs, h)
    elif isinstance(pk, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
        pk.verify(sig, tbs)
    else:
        raise UnsupportedAlgorithm(first if isinstance(first, str) else _detail(first))


def _parse(der: bytes, sha256: str) -> CertInfo:
    _load_cryptography()
    sha1 = hashlib.sha1(der).hexdigest()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                cert = x509.load_der_x509_certificate(der)
                info = _fields(der, sha256, sha1, cert, der)
            except Exception as exc:  # noqa: BLE001
                # last resort: a DER-forbidden explicit DEFAULT in an extension
                norm = _normalise_defaults(der) if "EncodedDefault" in str(exc) else None
                if norm is None:
                    raise
                fixed, oids, original_tbs = norm
                try:
                    cert = x509.load_der_x509_certificate(fixed)
                except Exception:  # noqa: BLE001
                    raise exc from None
                info = _fields(
                    der, sha256, sha1, cert, fixed, original_tbs,
                    pre_errors=[f"non_der_extension: {o}" for o in oids],
                )
    except Exception as exc:  # noqa: BLE001 - must never raise
        return _empty(der, sha256, sha1, (f"cert_parse_error: {_detail(exc)}",))
    extra = []
    for w in caught:
        msg = str(w.message)
        if "serial number" in msg and ("positive" in msg or "negative" in msg):
            code = f"nonpositive_serial: {info.serial}"
        else:
            code = f"parse_warning: {msg[:_MAX_DETAIL]}"
        if code not in info.errors and code not in extra:
            extra.append(code)
    if extra:
        info = _replace_errors(info, info.errors + tuple(extra))
    return info


def _replace_errors(info: CertInfo, errors: tuple[str, ...]) -> CertInfo:
    from dataclasses import replace

    return replace(info, errors=errors)


def _empty(der: bytes, sha256: str, sha1: str, errors: tuple[str, ...]) -> CertInfo:
    return CertInfo(
        sha256=sha256, sha1=sha1, der=der,
        subject=None, issuer=None, subject_cn=None, issuer_cn=None, serial=None,
        not_before=None, not_after=None, key_type=None, key_bits=None, curve=None,
        signature_algorithm=None, signature_hash=None, san_dns=(), san_ip=(),
        ski=None, aki=None, is_ca=None, path_length=None, key_usage=(),
        extended_key_usage=(), self_issued=False, self_signed=False, version=None,
        errors=errors,
    )


_KU_FLAGS = (
    "digital_signature", "content_commitment", "key_encipherment",
    "data_encipherment", "key_agreement", "key_cert_sign", "crl_sign",
)


def _fields(
    der: bytes,
    sha256: str,
    sha1: str,
    cert: x509.Certificate,
    loaded_der: bytes,
    tbs_override: bytes | None = None,
    pre_errors: list[str] | None = None,
) -> CertInfo:
    p = _Parser(loaded_der, cert, tbs_override)
    p.errors.extend(pre_errors or ())

    try:
        version: int | None = cert.version.value + 1
    except Exception as exc:
        p.err("bad_version", exc)
        version = None

    try:
        serial: str | None = _format_serial(cert.serial_number)
    except Exception as exc:
        p.err("bad_serial", exc)
        serial = None

    subj_name, subject, subject_cn = p.name("subject")
    iss_name, issuer, issuer_cn = p.name("issuer")

    try:
        not_before: datetime | None = cert.not_valid_before_utc
    except Exception as exc:
        p.err("bad_validity", exc)
        not_before = None
    try:
        not_after: datetime | None = cert.not_valid_after_utc
    except Exception as exc:
        p.err("bad_validity", exc)
        not_after = None

    key_type, key_bits, curve = p.key()

    signature_algorithm = None
    try:
        sig_oid = cert.signature_algorithm_oid
        name = getattr(sig_oid, "_name", None)
        if name and name != "Unknown OID":
            signature_algorithm = name
    except Exception as exc:
        p.err("bad_signature_algorithm", exc)
    try:
        h = cert.signature_hash_algorithm
        signature_hash = h.name if h is not None else None
    except Exception:  # UnsupportedAlgorithm for unknown algorithms: not an error
        signature_hash = None

    san_dns: tuple[str, ...] = ()
    san_ip: tuple[str, ...] = ()
    ski = aki = None
    is_ca = None
    path_length = None
    key_usage: tuple[str, ...] = ()
    eku: tuple[str, ...] = ()
    for ext in p.extensions():
        v = ext.value
        try:
            if isinstance(v, x509.SubjectAlternativeName):
                san_dns = tuple(v.get_values_for_type(x509.DNSName))
                san_ip = tuple(str(a) for a in v.get_values_for_type(x509.IPAddress))
            elif isinstance(v, x509.SubjectKeyIdentifier):
                ski = v.digest.hex()
            elif isinstance(v, x509.AuthorityKeyIdentifier):
                aki = v.key_identifier.hex() if v.key_identifier is not None else None
            elif isinstance(v, x509.BasicConstraints):
                is_ca = bool(v.ca)
                path_length = v.path_length
            elif isinstance(v, x509.KeyUsage):
                flags = [f for f in _KU_FLAGS if getattr(v, f)]
                if v.key_agreement:
                    if v.encipher_only:
                        flags.append("encipher_only")
                    if v.decipher_only:
                        flags.append("decipher_only")
                key_usage = tuple(flags)
            elif isinstance(v, x509.ExtendedKeyUsage):
                eku = tuple(_oid_name(o) for o in v)
        except Exception as exc:  # noqa: BLE001
            p.err("bad_extension", f"{ext.oid.dotted_string}: {_detail(exc)}")

    # self_issued: DER name equality (cryptography Name equality; raw bytes if
    # a name did not parse)
    self_issued = False
    try:
        if subj_name is not None and iss_name is not None:
            self_issued = subj_name == iss_name
        else:
            frame = p.frame
            if frame is not None:
                a, b = frame.name_raw("subject"), frame.name_raw("issuer")
                self_issued = a is not None and a == b
    except Exception as exc:  # noqa: BLE001
        p.err("bad_subject", exc)

    self_signed = False
    if self_issued and subj_name is not None:
        verdict = p.verify_self()
        if verdict is None:
            # algorithm unsupported: same key id (or no AKI at all, which RFC
            # 5280 allows only for self-signed certs) counts as self-signed
            self_signed = aki is None or (ski is not None and aki == ski)
        else:
            self_signed = verdict

    return CertInfo(
        sha256=sha256, sha1=sha1, der=der,
        subject=subject, issuer=issuer, subject_cn=subject_cn, issuer_cn=issuer_cn,
        serial=serial, not_before=not_before, not_after=not_after,
        key_type=key_type, key_bits=key_bits, curve=curve,
        signature_algorithm=signature_algorithm, signature_hash=signature_hash,
        san_dns=san_dns, san_ip=san_ip, ski=ski, aki=aki,
        is_ca=is_ca, path_length=path_length, key_usage=key_usage,
        extended_key_usage=eku, self_issued=self_issued, self_signed=self_signed,
        version=version, errors=tuple(p.errors),
    )


def _as_bytes(der: object) -> bytes:
    if isinstance(der, bytes):
        return der
    try:
        return bytes(der)  # bytearray, memoryview, ...
    except Exception:  # noqa: BLE001
        return b""


def parse_certificate(der: bytes) -> CertInfo:
    """Summarise one DER certificate.  Never raises."""
    der = _as_bytes(der)
    return _parse(der, hashlib.sha256(der).hexdigest())


# ---------------------------------------------------------------------------
# Cache
# ---------------------------------------------------------------------------

CACHE_MAX = 4096
_cache: "OrderedDict[str, CertInfo]" = OrderedDict()
_cache_lock = threading.Lock()


def parse_certificate_cached(der: bytes) -> CertInfo:
    """Like :func:`parse_certificate`, but parsed once per distinct DER (LRU
    keyed by SHA-256, at most ``CACHE_MAX`` entries)."""
    der = _as_bytes(der)
    key = hashlib.sha256(der).hexdigest()
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    info = _parse(der, key)
    with _cache_lock:
        _cache[key] = info
        _cache.move_to_end(key)
        while len(_cache) > CACHE_MAX:
            _cache.popitem(last=False)
    return info


def parse_chain(ders: Iterable[bytes]) -> tuple[CertInfo, ...]:
    """Summaries of a Certificate message's list, in order (cached)."""
    try:
        return tuple(parse_certificate_cached(d) for d in ders)
    except Exception:  # noqa: BLE001 - a broken iterable; keep what we can
        return ()


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


def cache_size() -> int:
    return len(_cache)


# ---------------------------------------------------------------------------
# Classification (pure functions)
# ---------------------------------------------------------------------------


def _norm_org(o: str) -> str:
    return " ".join(o.replace(",", " ").replace(".", " ").casefold().split())


@lru_cache(maxsize=4096)
def _orgs_of(rfc4514: str) -> tuple[str, ...] | None:
    """O= values of a name given as an RFC 4514 string (re-parsed by
    cryptography); None when it cannot be re-parsed."""
    try:
        name = x509.Name.from_rfc4514_string(rfc4514)
        return tuple(str(a.value) for a in name.get_attributes_for_oid(NameOID.ORGANIZATION_NAME))
    except Exception:  # noqa: BLE001
        return None


def _is_mic_issuer(cn: str | None, issuer: str | None) -> bool:
    if not cn:
        return False
    key = " ".join(cn.casefold().split())
    if key not in MIC_ISSUERS:
        return False
    org_required = MIC_ISSUERS[key]
    orgs = _orgs_of(issuer) if issuer else ()
    if orgs is None:  # issuer string not re-parseable: trust the CN only if O not required
        return not org_required
    if not orgs:
        return not org_required
    return any(_norm_org(o) in CISCO_ORGS for o in orgs)


def client_cert_kind(info: CertInfo) -> Literal["LSC", "MIC", "other"]:
    """LSC (issuer CN "CAPF-xxxxxxxx"), MIC (Cisco manufacturing CA), else other."""
    cn = info.issuer_cn
    if cn and CAPF_ISSUER_CN.match(cn.strip()):
        return "LSC"
    if _is_mic_issuer(cn, info.issuer):
        return "MIC"
    return "other"


def capf_id(info: CertInfo) -> str | None:
    """The issuing CAPF's CN ("CAPF-a6d4c572") for an LSC, else None."""
    cn = info.issuer_cn
    if cn and CAPF_ISSUER_CN.match(cn.strip()):
        return cn.strip()
    return None


def known_ca_note(info: CertInfo) -> str | None:
    """A note when the cert IS a well-known special CA (by SHA-1 fingerprint or
    subject CN), else "issued by <note>" when its issuer is one; None otherwise."""
    for ca in KNOWN_CAS:
        if info.sha1 in ca.sha1:
            return ca.note
    if info.subject_cn:
        for ca in KNOWN_CAS:
            if ca.cn.search(info.subject_cn.strip()):
                return ca.note
    if info.issuer_cn and not info.self_issued:
        for ca in KNOWN_CAS:
            if ca.cn.search(info.issuer_cn.strip()):
                return f"issued by {ca.note}"
    return None


def hostname_matches(pattern: str, host: str) -> bool:
    """RFC 6125 name matching: case-insensitive, trailing dot ignored; a wildcard only as the whole
    left-most label, matching exactly one label, and never directly under a top-level label."""
    p, h = pattern.lower().rstrip("."), host.lower().rstrip(".")
    if p == h:
        return True
    if p.startswith("*.") and "*" not in p[2:]:
        first, _, rest = h.partition(".")
        return bool(first) and rest == p[2:] and "." in rest
    return False


def short_name(info: CertInfo) -> str:
    """CN, else RFC 4514 subject, else first 16 hex chars of the SHA-256."""
    if info.subject_cn and info.subject_cn.strip():
        return info.subject_cn
    if info.subject:
        return info.subject
    return info.sha256[:16]


def validity_at(info: CertInfo, ts: datetime) -> Literal["valid", "expired", "not_yet_valid", "unknown"]:
    """Validity at ``ts`` (the capture time; naive datetimes are taken as UTC).
    Both bounds are inclusive (RFC 5280)."""
    if ts is not None and ts.tzinfo is None:
        ts = ts.replace(tzinfo=timezone.utc)
    return validity(info.not_before, info.not_after, ts)
