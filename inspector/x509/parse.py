"""Certificate summaries (sans-I/O): `parse_certificate` turns one DER into a `CertInfo`.

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
import warnings
from datetime import datetime
from typing import Literal

from .._lazy import lazy_import
from .der import _DerError, _ext_oid, _Frame, _normalise_defaults, _strip_explicit_defaults
from .info import _MAX_DETAIL, CertInfo, _detail
from .signature import verify_with_key

_ASYM = "cryptography.hazmat.primitives.asymmetric."
#: cryptography, imported when the first certificate is parsed (a capture without any never does)
_load_cryptography = lazy_import(globals(), {
    "x509": ("cryptography.x509", None),
    "InvalidSignature": ("cryptography.exceptions", "InvalidSignature"),
    "UnsupportedAlgorithm": ("cryptography.exceptions", "UnsupportedAlgorithm"),
    **{m: (_ASYM + m, None) for m in ("dsa", "ec", "ed448", "ed25519", "padding", "rsa", "x448", "x25519")},
    "NameOID": ("cryptography.x509.oid", "NameOID"),
})

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
