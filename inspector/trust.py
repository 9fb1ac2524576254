"""Trust: validate a certificate chain the way the peer did, at the capture's time.

Sans-I/O except the explicit loaders (`load_trust`, `builtin_trust_set`).  X.509 work is done by
``cryptography``: every signature is checked with ``Certificate.verify_directly_issued_by`` and,
when the chain reaches a certificate of the given trust store, cryptography's own RFC 5280
verifier (``x509.verification.PolicyBuilder``) is run as well and its verdict recorded.  What is
written here is the *path choice* (the way OpenSSL chooses it: names plus AKI/SKI, trusted store
first) and the order in which problems are reported (OpenSSL's order, so the first problem is the
one the peer's alert was about):

1. trust: the path ends in the store (``ok``), at a name-only anchor (``ok_by_name:<CN>``), at an
   untrusted self-signed leaf (``self_signed``) or elsewhere (``unknown_issuer:<issuer>``);
2. chain extensions, leaf first: CA flag and keyCertSign (``not_a_ca:<CN>``), extended key usage
   (``wrong_purpose:<CN>``), path length (``path_length_exceeded``);
3. the name the client asked for (``name_mismatch``), server chains only;
4. from the anchor down to the leaf: each signature (``bad_signature:<CN>``), then validity at the
   capture time (``expired:<CN>``, ``not_yet_valid:<CN>``).

Other statuses: ``no_certificate`` (empty chain), ``unparseable:<sha256[:16]>`` (the leaf's DER does
not decode).  `Validation.problems` lists every problem found, the status first.

Trust stores hold certificates (``Anchor.der``) and, for sets known only by name (the Cisco
manufacturing CAs), name-only anchors: a chain that ends at such a name is ``ok_by_name:<CN>``,
because no signature could be checked against it.
"""

from __future__ import annotations

import bisect
import hashlib
import io
import ipaddress
import os
import re
import stat
import tarfile
import warnings
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path, PureWindowsPath
from typing import Any, Callable, Iterable, Iterator, Literal, Mapping, Sequence, TypeVar

from ._lazy import lazy_import

#: cryptography, imported when the first certificate or trust store is read (a capture without
#: certificates is judged without it)
_load_cryptography = lazy_import(globals(), {
    "x509": ("cryptography.x509", None),
    "InvalidSignature": ("cryptography.exceptions", "InvalidSignature"),
    "UnsupportedAlgorithm": ("cryptography.exceptions", "UnsupportedAlgorithm"),
    "serialization": ("cryptography.hazmat.primitives.serialization", None),
    "pkcs7": ("cryptography.hazmat.primitives.serialization.pkcs7", None),
    "ExtendedKeyUsageOID": ("cryptography.x509.oid", "ExtendedKeyUsageOID"),
    "NameOID": ("cryptography.x509.oid", "NameOID"),
    "PolicyBuilder": ("cryptography.x509.verification", "PolicyBuilder"),
    "Store": ("cryptography.x509.verification", "Store"),
    "VerificationError": ("cryptography.x509.verification", "VerificationError"),
})

from .certs import CISCO_ORGS, MIC_ISSUERS, hostname_matches, verify_with_key
from .errors import InspectError
from .model import FlowRecord

__all__ = [
    "Anchor",
    "BUILTIN_TRUST_SETS",
    "TrustError",
    "TrustStore",
    "Validation",
    "builtin_trust_set",
    "flow_validation_columns",
    "flow_validations",
    "load_trust",
    "trust_store_hint",
    "validate_chain",
    "validate_client_chain_against_request",
    "validate_flow",
    "with_validation_columns",
]

Purpose = Literal["server", "client"]

MAX_DEPTH = 16
"""Longest path built (certificates, leaf included)."""
MAX_FILE_BYTES = 16 * 1024 * 1024
"""Largest single trust file (PEM bundle, DER, archive) read."""
MAX_MEMBER_BYTES = 4 * 1024 * 1024
"""Largest archive member read."""
MAX_ARCHIVE_BYTES = 64 * 1024 * 1024
"""Most bytes read out of one archive, all members together (decompression bombs stop here)."""
MAX_ENTRIES = 10_000
"""Most files (directory) or members (archive) looked at."""

_ARCHIVE_SUFFIXES = (".tar", ".tgz", ".tar.gz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".zip")
_PEM_BLOCK = re.compile(
    rb"-----BEGIN ((?:X509 |TRUSTED )?CERTIFICATE|PKCS7)-----(.*?)-----END \1-----", re.S)


class TrustError(InspectError):
    """A trust store cannot be used (missing, unreadable, or holds no certificate)."""


# ---------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------
# Certificates, parsed once per validation run
# ---------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------
# Trust stores
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Anchor:
    """One trust anchor: a certificate (``der``), or only a name (``der`` is None).

    A name-only anchor matches an issuer by its full DN when ``subject`` is an RFC 4514 DN, or by
    CN (``cn``) plus, when ``orgs`` is set, an O= among ``orgs`` (required when ``org_required``).
    """

    subject: str
    source: str
    der: bytes | None = None
    sha256: str | None = None
    cn: str | None = None
    orgs: frozenset[str] | None = None
    org_required: bool = False

    @property
    def name_only(self) -> bool:
        return self.der is None

    def matches_name(self, name: x509.Name | None) -> bool:
        """Does a certificate name (an issuer, or a CA's subject) designate this anchor?"""
        if name is None:
            return False
        if self.cn is None:
            return _name_key(name) == _name_key_of_string(self.subject)
        cns = _attr(name, NameOID.COMMON_NAME)
        if not cns or _canon_value(cns[-1]) != _canon_value(self.cn):
            return False
        if self.orgs is None:
            return True
        orgs = [_norm_org(o) for o in _attr(name, NameOID.ORGANIZATION_NAME)]
        if not orgs:
            return not self.org_required
        return any(o in self.orgs for o in orgs)


@dataclass(frozen=True)
class TrustStore:
    """A named set of trust anchors, each with where it came from.

    ``skipped`` lists what a loader looked at and left out, one ``"<where>: <why>"`` each.
    """

    name: str
    anchors: tuple[Anchor, ...]
    skipped: tuple[str, ...] = ()

    @classmethod
    def from_certificates(cls, certs: Iterable[object], *, name: str = "custom",
                          source: str | None = None) -> "TrustStore":
        """A store from certificates (DER bytes, ``x509.Certificate``, ``CertInfo``...)."""
        anchors = []
        for i, c in enumerate(certs):
            der = _der_of(c)
            n = _node(der)
            anchors.append(Anchor(subject=_rfc4514(n.subject) or n.sha256, source=source or f"{name}#{i + 1}",
                                  der=der, sha256=n.sha256))
        return cls(name, _dedupe(anchors))

    @classmethod
    def from_names(cls, names: Iterable[str], *, name: str = "names", source: str | None = None) -> "TrustStore":
        """A store of name-only anchors: RFC 4514 DNs (``"CN=...,O=..."``), or bare CNs."""
        anchors = []
        for n in names:
            text = str(n)
            full_dn = "=" in text
            anchors.append(Anchor(subject=text, source=source or name, cn=None if full_dn else text))
        return cls(name, tuple(anchors))

    def __add__(self, other: "TrustStore") -> "TrustStore":
        return TrustStore(f"{self.name}+{other.name}", _dedupe(self.anchors + other.anchors),
                          self.skipped + other.skipped)

    def __len__(self) -> int:
        return len(self.anchors)

    def __iter__(self) -> Iterator[Anchor]:
        return iter(self.anchors)

    @property
    def certificate_anchors(self) -> tuple[Anchor, ...]:
        return tuple(a for a in self.anchors if not a.name_only)

    @property
    def name_anchors(self) -> tuple[Anchor, ...]:
        return tuple(a for a in self.anchors if a.name_only)

    @cached_property
    def certificates(self) -> list[x509.Certificate]:
        """The anchors that are certificates, loaded (undecodable ones are left out)."""
        return [n.cert for n in self._nodes if n.cert is not None]

    @cached_property
    def _nodes(self) -> list[_Node]:
        return [_node(a.der) for a in self.anchors if a.der is not None]

    @cached_property
    def _source_by_sha(self) -> dict[str, str]:
        return {a.sha256: a.source for a in self.anchors if a.sha256}

    @cached_property
    def _bounds(self) -> list[datetime]:
        """Every notBefore/notAfter of the anchors, sorted (validity can change only there)."""
        return sorted({t for n in self._nodes for t in (n.not_before, n.not_after) if t is not None})

    @cached_property
    def _crypto_store(self) -> Store | None:
        certs = self.certificates
        return Store(certs) if certs else None

    def _lookup(self, n: _Node) -> _Node | None:
        """The store's node for ``n`` itself: same DER, or same subject and public key."""
        for s in self._nodes:
            if s.sha256 == n.sha256:
                return s
        if n.spki is not None and n.subject_key is not None:
            for s in self._nodes:
                if s.spki == n.spki and s.subject_key == n.subject_key:
                    return s
        return None

    def source_of(self, sha256: str) -> str | None:
        return self._source_by_sha.get(sha256)

    def __getstate__(self) -> dict[str, object]:
        """Pickle the anchors only (batch workers), not the loaded certificates cached on first use."""
        return {k: self.__dict__[k] for k in ("name", "anchors", "skipped")}

    def describe(self) -> str:
        """One line: name, how many certificates and names, and how many files were skipped."""
        nc, nn = len(self.certificate_anchors), len(self.name_anchors)
        parts = [f"{nc} certificate{'s' if nc != 1 else ''}"]
        if nn:
            parts.append(f"{nn} name-only anchor{'s' if nn != 1 else ''}")
        if self.skipped:
            parts.append(f"{len(self.skipped)} skipped")
        return f"{self.name}: " + ", ".join(parts)


def _dedupe(anchors: Sequence[Anchor]) -> tuple[Anchor, ...]:
    seen: set[object] = set()
    out = []
    for a in anchors:
        key = a.sha256 if a.sha256 else ("name", a.subject.casefold(), a.orgs, a.org_required)
        if key not in seen:
            seen.add(key)
            out.append(a)
    return tuple(out)


# ---- loaders (the only I/O in this module) --------------------------------------------------


def _first_tlv(buf: bytes) -> bytes:
    """The first DER element of ``buf`` (an OpenSSL TRUSTED CERTIFICATE is cert + aux)."""
    if len(buf) < 2 or buf[0] != 0x30:
        return buf
    length = buf[1]
    pos = 2
    if length & 0x80:
        k = length & 0x7F
        if k == 0 or k > 4 or len(buf) < 2 + k:
            return buf
        length = int.from_bytes(buf[2:2 + k], "big")
        pos = 2 + k
    return buf[:pos + length]


def _decode_b64(body: bytes) -> bytes | None:
    import base64
    import binascii
    lines = [ln.strip() for ln in body.splitlines()]
    text = b"".join(ln for ln in lines if ln and b":" not in ln)  # drop RFC 1421 headers
    try:
        return base64.b64decode(text, validate=False)
    except (binascii.Error, ValueError):
        return None


def certificates_from_bytes(data: bytes, where: str) -> tuple[list[tuple[bytes, str]], list[str]]:
    """Certificates in one blob: PEM (any number of CERTIFICATE / PKCS7 blocks), DER, or PKCS#7.

    Returns ``([(der, source), ...], [skipped "<where>: <why>", ...])``; never raises.
    """
    found: list[tuple[bytes, str]] = []
    skipped: list[str] = []

    def take(der: bytes, src: str) -> None:
        try:
            _load_der(der)
        except Exception as e:  # noqa: BLE001
            skipped.append(f"{src}: not a decodable certificate ({str(e)[:80]})")
            return
        found.append((der, src))

    if b"-----BEGIN" in data:
        blocks = list(_PEM_BLOCK.finditer(data))
        for i, m in enumerate(blocks):
            src = f"{where}#{i + 1}" if len(blocks) > 1 else where
            der = _decode_b64(m.group(2))
            if der is None:
                skipped.append(f"{src}: bad base64")
                continue
            if m.group(1) == b"PKCS7":
                try:
                    for j, c in enumerate(pkcs7.load_der_pkcs7_certificates(der)):
                        take(c.public_bytes(serialization.Encoding.DER), f"{src}/{j + 1}")
                except Exception as e:  # noqa: BLE001
                    skipped.append(f"{src}: unreadable PKCS#7 ({str(e)[:80]})")
                continue
            take(_first_tlv(der) if m.group(1) == b"TRUSTED CERTIFICATE" else der, src)
        if not blocks:
            skipped.append(f"{where}: PEM without a CERTIFICATE block")
        return found, skipped
    try:
        _load_der(data)
        found.append((data, where))
        return found, skipped
    except Exception:  # noqa: BLE001
        pass
    try:
        certs = pkcs7.load_der_pkcs7_certificates(data)
        for j, c in enumerate(certs):
            found.append((c.public_bytes(serialization.Encoding.DER), f"{where}/{j + 1}"))
        return found, skipped
    except Exception:  # noqa: BLE001
        pass
    skipped.append(f"{where}: no certificate (neither PEM, DER nor PKCS#7)")
    return found, skipped


def _unsafe_member(name: str) -> str | None:
    """Why an archive member name must be ignored, or None when it is a plain relative path."""
    if not name or "\x00" in name:
        return "empty or NUL in name"
    if name.startswith(("/", "\\")) or PureWindowsPath(name).drive:
        return "absolute path"
    parts = re.split(r"[\\/]+", name)
    if any(p == ".." for p in parts):
        return "path traversal (..)"
    return None


def _is_archive(path: Path, head: bytes) -> str | None:
    lower = path.name.lower()
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")) or lower.endswith(".zip"):
        return "zip"
    if lower.endswith(_ARCHIVE_SUFFIXES) or head.startswith((b"\x1f\x8b", b"BZh", b"\xfd7zXZ")) \
            or head[257:262] == b"ustar":
        return "tar"
    return None


def _read_capped(path: Path, cap: int) -> bytes:
    with open(path, "rb") as fh:
        data = fh.read(cap + 1)
    if len(data) > cap:
        raise TrustError(f"{path}: larger than {cap // (1024 * 1024)} MiB, not read")
    return data


def _archive_members(data: bytes, kind: str, where: str) -> tuple[list[tuple[bytes, str]], list[str]]:
    """(bytes, "<archive>!<member>") for each safe regular member; skipped ones with why."""
    out: list[tuple[bytes, str]] = []
    skipped: list[str] = []
    total = 0
    if kind == "zip":
        try:
            zf = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, OSError, ValueError) as e:
            raise TrustError(f"{where}: not a readable zip archive ({e})") from None
        with zf:
            infos = zf.infolist()
            if len(infos) > MAX_ENTRIES:
                skipped.append(f"{where}: {len(infos) - MAX_ENTRIES} members past the first {MAX_ENTRIES} ignored")
            for info in infos[:MAX_ENTRIES]:
                src = f"{where}!{info.filename}"
                if info.is_dir():
                    continue
                why = _unsafe_member(info.filename)
                ftype = stat.S_IFMT(info.external_attr >> 16)  # 0 when the zip tool wrote no Unix type
                if why is None and ftype and ftype != stat.S_IFREG:
                    why = "not a regular file (link or device)"
                if why is None and info.file_size > MAX_MEMBER_BYTES:
                    why = f"larger than {MAX_MEMBER_BYTES} bytes"
                if why is None and total + info.file_size > MAX_ARCHIVE_BYTES:
                    skipped.append(f"{where}: stopped after {total} bytes (archive size cap)")
                    break
                if why is not None:
                    skipped.append(f"{src}: ignored, {why}")
                    continue
                try:
                    with zf.open(info) as fh:
                        body = fh.read(MAX_MEMBER_BYTES + 1)
                except (RuntimeError, zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as e:
                    skipped.append(f"{src}: unreadable ({str(e)[:80]})")
                    continue
                total += len(body)
                out.append((body, src))
        return out, skipped
    compressed = data.startswith((b"\x1f\x8b", b"BZh", b"\xfd7zXZ"))
    try:
        tf = tarfile.open(fileobj=io.BytesIO(data), mode="r:*")
    except (tarfile.TarError, OSError, EOFError) as e:
        raise TrustError(f"{where}: not a readable tar archive ({e})") from None
    with tf:
        count = 0
        while True:
            try:
                m = tf.next()
            except (tarfile.TarError, OSError, EOFError) as e:
                skipped.append(f"{where}: archive broken after {count} members ({str(e)[:80]})")
                break
            if m is None:
                break
            count += 1
            if count > MAX_ENTRIES:
                skipped.append(f"{where}: members past the first {MAX_ENTRIES} ignored")
                break
            src = f"{where}!{m.name}"
            if m.isdir():
                continue
            why = _unsafe_member(m.name)
            if why is None and not m.isreg():
                why = "not a regular file (link or device)"
            if why is None and m.size > MAX_MEMBER_BYTES:
                if compressed:  # skipping it would mean decompressing it: stop (decompression bomb guard)
                    skipped.append(f"{src}: larger than {MAX_MEMBER_BYTES} bytes; archive not read further")
                    break
                why = f"larger than {MAX_MEMBER_BYTES} bytes"
            if why is not None:
                skipped.append(f"{src}: ignored, {why}")
                continue
            if total + m.size > MAX_ARCHIVE_BYTES:
                skipped.append(f"{where}: stopped after {total} bytes (archive size cap)")
                break
            try:
                fh = tf.extractfile(m)
                body = fh.read(MAX_MEMBER_BYTES + 1) if fh is not None else b""
            except (tarfile.TarError, OSError, EOFError) as e:
                skipped.append(f"{src}: unreadable ({str(e)[:80]})")
                continue
            total += len(body)
            out.append((body, src))
    return out, skipped


def _load_file(path: Path, where: str) -> tuple[list[tuple[bytes, str]], list[str]]:
    data = _read_capped(path, MAX_FILE_BYTES)
    kind = _is_archive(path, data[:512])
    if kind is not None:
        members, skipped = _archive_members(data, kind, where)
        found: list[tuple[bytes, str]] = []
        for body, src in members:
            f, s = certificates_from_bytes(body, src)
            found += f
            skipped += s
        return found, skipped
    return certificates_from_bytes(data, where)


def load_trust(path: str | os.PathLike, *, name: str | None = None) -> TrustStore:
    """Load trust anchors from a PEM bundle, a DER (or PKCS#7) file, a directory of such files
    (recursive; ``.tar``/``.tgz``/``.zip`` files in it are opened too), or a CUCM/Expressway trust
    export (a .tar/.tgz/.zip of PEM/DER files).

    Archives are read in memory, never extracted: members with absolute names, ``..`` components,
    links or devices are ignored (listed in ``skipped``); members over `MAX_MEMBER_BYTES` and
    archives over `MAX_ARCHIVE_BYTES` in all are cut off.  Raises `TrustError` when the path
    cannot be read or holds no certificate.
    """
    p = Path(path)
    label = name or p.name or str(p)
    found: list[tuple[bytes, str]] = []
    skipped: list[str] = []
    try:
        if p.is_dir():
            files: list[Path] = []
            for root, dirs, names in os.walk(p, followlinks=False):
                dirs.sort()
                for n in sorted(names):
                    files.append(Path(root) / n)
            if len(files) > MAX_ENTRIES:
                skipped.append(f"{p}: {len(files) - MAX_ENTRIES} files past the first {MAX_ENTRIES} ignored")
            for f in files[:MAX_ENTRIES]:
                rel = f.relative_to(p).as_posix()
                if not f.is_file():
                    continue
                try:
                    fnd, skp = _load_file(f, rel)
                except TrustError as e:
                    skipped.append(f"{rel}: {e}")
                    continue
                found += fnd
                skipped += skp
        elif p.is_file():
            found, skipped = _load_file(p, p.name)
        elif p.exists():
            raise TrustError(f"trust store {p} is not a regular file or directory")
        else:
            raise TrustError(f"trust store {p} does not exist")
    except OSError as e:
        raise TrustError(f"cannot read trust store {p}: {e.strerror or e}") from None
    if not found:
        why = f" ({skipped[0]})" if skipped else ""
        raise TrustError(f"no certificate found in trust store {p}{why}")
    anchors = []
    for der, src in found:
        n = _node(der)
        anchors.append(Anchor(subject=_rfc4514(n.subject) or n.sha256, source=src, der=der, sha256=n.sha256))
    return TrustStore(label, _dedupe(anchors), tuple(skipped))


BUILTIN_TRUST_SETS = ("mozilla", "cisco-mic")

#: The Cisco manufacturing CAs that issue phone MICs, and their roots (DOMAIN.md).  Only the
#: names are known; `certs.MIC_ISSUERS` says which need an O=Cisco attribute to count.
CISCO_MIC_CA_NAMES = ("Cisco Manufacturing CA", "Cisco Manufacturing CA SHA2", "CAP-RTP-001", "CAP-RTP-002",
                      "ACT2 SUDI CA", "Cisco Root CA 2048", "Cisco Root CA M2")


def combined_store(paths: Sequence[str | os.PathLike] = (), sets: Sequence[str] = ()) -> TrustStore | None:
    """One store from trust files/directories/exports and built-in set names (None if none given)."""
    store: TrustStore | None = None
    for s in [load_trust(p) for p in paths] + [builtin_trust_set(n) for n in sets]:
        store = s if store is None else store + s
    return store


def builtin_trust_set(name: str) -> TrustStore:
    """A built-in trust set: ``"mozilla"`` (certifi's Mozilla CA bundle) or ``"cisco-mic"`` (the
    Cisco manufacturing CAs, by name only: no certificates are known, so a chain ending at one of
    them is ``ok_by_name:<CN>``, its last signature unchecked)."""
    if name == "mozilla":
        try:
            import certifi
        except ImportError:
            raise TrustError("the mozilla trust set needs the certifi package (pip install certifi)") from None
        store = load_trust(certifi.where(), name="mozilla")
        version = getattr(certifi, "__version__", "?")
        return TrustStore("mozilla", tuple(
            Anchor(a.subject, f"certifi {version} (Mozilla CA list): {a.source}", a.der, a.sha256)
            for a in store.anchors), store.skipped)
    if name == "cisco-mic":
        anchors = []
        for cn in CISCO_MIC_CA_NAMES:
            org_required = MIC_ISSUERS[cn.casefold()]
            anchors.append(Anchor(subject=cn, source="cisco-mic (name only, from the domain notes)", cn=cn,
                                  orgs=CISCO_ORGS, org_required=org_required))
        return TrustStore("cisco-mic", tuple(anchors))
    raise TrustError(f"unknown trust set {name!r} (choose from {', '.join(BUILTIN_TRUST_SETS)})")


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Validation:
    """How a chain fares against a trust store at one time.

    ``status``: ``ok``, ``ok_by_name:<CN>``, ``self_signed``, ``unknown_issuer:<issuer CN>``,
    ``expired:<CN>``, ``not_yet_valid:<CN>``, ``bad_signature:<CN>``, ``name_mismatch``,
    ``not_a_ca:<CN>``, ``path_length_exceeded``, ``wrong_purpose:<CN>``, ``no_certificate``,
    ``unparseable:<sha256 prefix>``.  ``path``: SHA-256 of each certificate from the leaf to the
    anchor as built (a name-only anchor has no certificate, so it is not in ``path``).
    ``anchor``: subject of the trust anchor reached, else None.  ``missing_issuer``: the name a
    trust store would have to hold (``"<RFC 4514> [AKI <hex>]"``), when the path is not anchored.
    ``problems``: every problem found, in the order above, the status first (``explain`` has a
    sentence for each).  ``verifier``:
    cryptography's RFC 5280 verifier's verdict (``"ok"``, ``"rejected: ..."``), None when not run.
    """

    status: str
    detail: str
    path: list[str] = field(default_factory=list)
    anchor: str | None = None
    missing_issuer: str | None = None
    problems: list[str] = field(default_factory=list)
    verifier: str | None = None
    at: datetime | None = None
    explain: dict[str, str] = field(default_factory=dict, compare=False)
    """One sentence per entry of ``problems``."""

    @property
    def ok(self) -> bool:
        """Trusted: ``ok``, or ``ok_by_name:`` (anchored by a name-only anchor)."""
        return self.status == "ok" or self.status.startswith("ok_by_name:")

    @property
    def code(self) -> str:
        """The status without its ``:<name>`` argument."""
        return self.status.split(":", 1)[0]


#: the ExtendedKeyUsageOID each purpose needs (looked up at use: cryptography is imported lazily)
_PURPOSE_OID = {"server": "SERVER_AUTH", "client": "CLIENT_AUTH"}


def _aware(at: Any) -> datetime:
    if hasattr(at, "to_pydatetime"):
        at = at.to_pydatetime()
    if isinstance(at, (int, float)):
        return datetime.fromtimestamp(float(at), tz=timezone.utc)
    if not isinstance(at, datetime):
        raise TypeError(f"at must be a datetime, not {type(at).__name__}")
    return at.replace(tzinfo=timezone.utc) if at.tzinfo is None else at.astimezone(timezone.utc)


def _fmt_time(t: datetime | None) -> str:
    return "?" if t is None else t.strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass
class _Built:
    path: list[_Node]
    anchor_kind: Literal["cert", "name", None] = None
    anchor_name: str | None = None  # display of the anchor
    anchor_source: str | None = None
    top_self_signed: bool = False
    missing: x509.Name | None = None
    missing_aki: bytes | None = None
    near_misses: list[_Node] = field(default_factory=list)
    loop: bool = False


class _Sig:
    """Signature checks, each done once: True, False, or None (unsupported key/algorithm)."""

    def __init__(self) -> None:
        self.cache: dict[tuple[str, str], tuple[bool | None, str]] = {}

    def check(self, child: _Node, parent: _Node) -> tuple[bool | None, str]:
        key = (child.sha256, parent.sha256)
        hit = self.cache.get(key)
        if hit is not None:
            return hit
        if child.cert is None or parent.cert is None:
            res: tuple[bool | None, str] = (None, "certificate not decodable")
        else:
            _load_cryptography()  # the except clauses below need the real classes
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    try:
                        child.cert.verify_directly_issued_by(parent.cert)
                    except (ValueError, TypeError, UnsupportedAlgorithm) as first:
                        # cryptography's X.509 layer refuses SHA-1/MD5 signatures; the
                        # primitives still check them (certs.verify_with_key)
                        verify_with_key(child.cert, parent.cert.public_key(), None, first)
                res = (True, "")
            except InvalidSignature:
                res = (False, "signature does not verify")
            except ValueError as e:
                res = (False, str(e)[:120])
            except (TypeError, UnsupportedAlgorithm) as e:
                res = (None, f"unsupported: {str(e)[:120]}")
        self.cache[key] = res
        return res


def _valid_at(n: _Node, at: datetime) -> bool:
    return n.not_before is not None and n.not_after is not None and n.not_before <= at <= n.not_after


def _build_path(chain: list[_Node], store: TrustStore | None, name_anchors: Sequence[Anchor],
                at: datetime, sig: _Sig) -> _Built:
    """Leaf to anchor, the way OpenSSL's build_chain goes (trusted store first), by names and
    AKI/SKI; among several candidate issuers prefer a key-id match, then a good signature, then
    one from the store, then one valid at ``at``."""
    b = _Built(path=[chain[0]])
    used = {chain[0].sha256}
    store_nodes = store._nodes if store is not None else []
    while True:
        cur = b.path[-1]
        depth = len(b.path) - 1
        if store is not None:
            hit = store._lookup(cur)
            if hit is not None:
                b.anchor_kind = "cert"
                b.anchor_name = _rfc4514(hit.subject) or hit.sha256
                b.anchor_source = store.source_of(hit.sha256)
                if hit.sha256 != cur.sha256:  # same name and key, other DER: the store's copy is the anchor
                    b.path[-1] = hit
                return b
        if depth >= 1:
            for a in name_anchors:
                if a.matches_name(cur.subject):
                    b.anchor_kind, b.anchor_name, b.anchor_source = "name", a.subject, a.source
                    return b
        if cur.self_issued:
            b.top_self_signed = True
            return b
        if len(b.path) >= MAX_DEPTH:
            b.loop = True
            b.missing, b.missing_aki = cur.issuer, cur.aki
            return b
        cands: list[tuple[_Node, bool]] = [(n, True) for n in store_nodes if n.could_issue(cur)]
        cands += [(n, False) for n in chain[1:] if n.sha256 not in used and n.could_issue(cur)]
        if cands:
            def rank(c: tuple[_Node, bool]) -> tuple[bool, bool, bool, bool]:
                n, in_store = c
                keyid = bool(cur.aki and n.ski and cur.aki == n.ski)
                return (not keyid, sig.check(cur, n)[0] is not True, not in_store, not _valid_at(n, at))
            best, in_store = min(cands, key=rank)
            b.path.append(best)
            used.add(best.sha256)
            if in_store:
                b.anchor_kind = "cert"
                b.anchor_name = _rfc4514(best.subject) or best.sha256
                b.anchor_source = store.source_of(best.sha256) if store is not None else None
                return b
            continue
        for a in name_anchors:
            if a.matches_name(cur.issuer):
                b.anchor_kind, b.anchor_name, b.anchor_source = "name", a.subject, a.source
                return b
        b.missing, b.missing_aki = cur.issuer, cur.aki
        pool = list(store_nodes) + [n for n in chain[1:] if n.sha256 not in used]
        b.near_misses = [n for n in pool if n.subject_key is not None and n.subject_key == cur.issuer_key]
        return b


def _is_ip(s: str) -> bool:
    try:
        ipaddress.ip_address(s)
        return True
    except ValueError:
        return False


def _name_check(leaf: _Node, hostname: str) -> tuple[bool, str]:
    """Does the leaf cover ``hostname`` (DNS or IP SANs; the CN only when no SAN of that kind)?"""
    cert = leaf.cert
    san = _guard(lambda: _ext(cert, x509.SubjectAlternativeName), None) if cert is not None else None
    dns = list(san.get_values_for_type(x509.DNSName)) if san is not None else []
    ips = [str(a) for a in san.get_values_for_type(x509.IPAddress)] if san is not None else []
    cns = _attr(leaf.subject, NameOID.COMMON_NAME)
    if _is_ip(hostname):
        want = ipaddress.ip_address(hostname)
        if any(ipaddress.ip_address(a) == want for a in ips):
            return True, f"{hostname} is in the SAN"
        if san is None and any(c.strip() == hostname for c in cns):
            return True, f"{hostname} is the CN (no SAN)"
        names = ", ".join(ips + dns) or ("CN " + ", ".join(cns) if cns else "none")
        return False, f"{hostname} is not among the certificate's addresses/names ({names})"
    if any(hostname_matches(d, hostname) for d in dns):
        return True, f"{hostname} is in the SAN"
    if not dns and any(hostname_matches(c, hostname) for c in cns):
        return True, f"{hostname} matches the CN (no DNS SAN)"
    names = ", ".join(dns) if dns else ("CN " + ", ".join(cns) if cns else "none")
    return False, f"{hostname} is not in the certificate's names ({names})"


def _subject_for(hostname: str | None, leaf: _Node) -> x509.verification.Subject | None:
    from cryptography.x509 import DNSName, IPAddress
    name = hostname
    if name is None and leaf.cert is not None:
        san = _guard(lambda: _ext(leaf.cert, x509.SubjectAlternativeName), None)
        if san is not None:
            vals = list(san.get_values_for_type(x509.DNSName))
            vals = vals or [str(a) for a in san.get_values_for_type(x509.IPAddress)]
            name = vals[0] if vals else None
    if not name:
        return None
    try:
        return IPAddress(ipaddress.ip_address(name)) if _is_ip(name) else DNSName(name.rstrip("."))
    except Exception:  # noqa: BLE001
        return None


def _crypto_verdict(store: TrustStore, chain: list[_Node], purpose: Purpose, hostname: str | None,
                    at: datetime) -> str | None:
    """cryptography's own RFC 5280 verifier over the chain as sent, or None when it cannot run."""
    cstore = store._crypto_store
    leaf = chain[0].cert
    if cstore is None or leaf is None:
        return None
    inters = [n.cert for n in chain[1:] if n.cert is not None]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _run_verifier(cstore, leaf, inters, chain[0], purpose, hostname, at)
    except VerificationError as e:
        return f"rejected: {' '.join(str(e).split())[:300]}"
    except Exception as e:  # noqa: BLE001 - e.g. an unsupported key type: record, never fail
        return f"error: {type(e).__name__}: {' '.join(str(e).split())[:200]}"


def _run_verifier(cstore: Store, leaf: x509.Certificate, inters: list[x509.Certificate], leaf_node: _Node,
                  purpose: Purpose, hostname: str | None, at: datetime) -> str | None:
    builder = PolicyBuilder().store(cstore).time(at)
    if purpose == "server":
        subject = _subject_for(hostname, leaf_node)
        if subject is None:
            return None
        builder.build_server_verifier(subject).verify(leaf, inters)
    else:
        builder.build_client_verifier().verify(leaf, inters)
    return "ok"


def _aki_text(name: x509.Name | None, aki: bytes | None) -> str | None:
    if name is None:
        return None
    text = _rfc4514(name) or "?"
    return f"{text} [AKI {aki.hex()}]" if aki else text


def _validate(chain: list[_Node], *, at: datetime, store: TrustStore | None, purpose: Purpose,
              hostname: str | None, extra_anchor_names: Sequence[str] = (), sig: _Sig | None = None
              ) -> Validation:
    if purpose not in _PURPOSE_OID:
        raise ValueError(f'purpose must be "server" or "client", not {purpose!r}')
    if not chain:
        return Validation("no_certificate", "No certificate was sent (or none was visible in the capture).",
                          at=at, problems=["no_certificate"])
    leaf = chain[0]
    if leaf.cert is None or leaf.subject_key is None:
        st = f"unparseable:{leaf.sha256[:16]}"
        return Validation(st, f"The leaf certificate ({leaf.sha256[:16]}...) does not decode; nothing was checked.",
                          path=[leaf.sha256], at=at, problems=[st])
    sig = sig or _Sig()
    name_anchors = list(store.name_anchors) if store is not None else []
    name_anchors += TrustStore.from_names(extra_anchor_names, name="extra").anchors
    b = _build_path(chain, store, name_anchors, at, sig)
    path = b.path
    problems: list[tuple[str, str]] = []
    store_txt = f"trust store '{store.name}'" if store is not None else "no trust store (none given)"

    # 1. trust
    if b.anchor_kind is None:
        top = path[-1]
        if b.top_self_signed and len(path) == 1:
            problems.append(("self_signed", f"'{leaf.label}' is self-signed and is not in {store_txt}; "
                             f"the peer accepts it only if it holds this very certificate."))
        elif b.top_self_signed:
            problems.append((f"unknown_issuer:{top.label}",
                             f"The chain ends at the self-signed CA '{top.label}', which is not in {store_txt}."))
        else:
            miss = _label_of_name(b.missing)
            why = (f"No certificate for the issuer '{_aki_text(b.missing, b.missing_aki)}' of '{top.label}' "
                   f"was sent or is in {store_txt}.")
            if b.loop:
                why = f"The path grew past {MAX_DEPTH} certificates without reaching an anchor."
            if b.near_misses:
                nm = b.near_misses[0]
                nm_ski = nm.ski.hex() if nm.ski else "-"
                want_aki = b.missing_aki.hex() if b.missing_aki else "-"
                why += (f" A CA with that name is there ({nm.sha256[:16]}..., SKI {nm_ski}) but it holds another "
                        f"key: the chain wants AKI {want_aki}.")
            problems.append((f"unknown_issuer:{miss}", why))

    # 2. chain extensions, leaf first (OpenSSL check_chain_extensions)
    want = getattr(ExtendedKeyUsageOID, _PURPOSE_OID[purpose])
    anchored_cert = b.anchor_kind == "cert"
    for i, n in enumerate(path):
        is_anchor = anchored_cert and i == len(path) - 1 and i > 0  # a pinned leaf is still checked
        if i >= 1:
            bc = n.basic
            ksign = _key_cert_sign(n.key_usage)
            if bc is not None and not bc.ca:
                problems.append((f"not_a_ca:{n.label}", f"'{n.label}' issued '{path[i - 1].label}' but its "
                                 f"basicConstraints say CA:FALSE."))
            elif bc is None and not (ksign or (n.version == 1 and n.self_issued)):
                problems.append((f"not_a_ca:{n.label}", f"'{n.label}' issued '{path[i - 1].label}' but has no "
                                 f"basicConstraints CA:TRUE."))
            elif ksign is False:
                problems.append((f"not_a_ca:{n.label}", f"'{n.label}' issued '{path[i - 1].label}' but its "
                                 f"keyUsage lacks keyCertSign."))
        if n.eku is not None and not is_anchor and want not in n.eku \
                and ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE not in n.eku:
            have = ", ".join(getattr(o, "_name", o.dotted_string) for o in n.eku) or "none"
            problems.append((f"wrong_purpose:{n.label}", f"'{n.label}' is used as a TLS {purpose} certificate but "
                             f"its extendedKeyUsage ({have}) lacks {purpose}Auth."))
        if i == 0 and n.key_usage is not None:
            ku = n.key_usage
            usable = ku.digital_signature or ku.key_agreement or (purpose == "server" and ku.key_encipherment)
            if not usable:
                problems.append((f"wrong_purpose:{n.label}", f"'{n.label}' keyUsage allows neither digitalSignature "
                                 f"nor key exchange, so it cannot authenticate a TLS {purpose}."))
        if i >= 1 and n.basic is not None and n.basic.path_length is not None:
            below = sum(1 for m in path[1:i] if not m.self_issued)
            if below > n.basic.path_length:
                problems.append(("path_length_exceeded", f"'{n.label}' allows {n.basic.path_length} CA(s) below it "
                                 f"(pathLenConstraint) but the path has {below}."))

    # 3. the name the client asked for
    if purpose == "server" and hostname:
        matched, why = _name_check(leaf, hostname)
        if not matched:
            problems.append(("name_mismatch", f"Name mismatch: {why}."))

    # 4. signatures and validity, from the anchor down to the leaf (OpenSSL internal_verify)
    unchecked = None
    for i in range(len(path) - 1, -1, -1):
        n = path[i]
        if i < len(path) - 1:
            ok, why = sig.check(n, path[i + 1])
            if ok is False:
                problems.append((f"bad_signature:{n.label}", f"The signature on '{n.label}' does not verify with "
                                 f"the key of '{path[i + 1].label}' ({why})."))
            elif ok is None:
                unchecked = f"the signature on '{n.label}' could not be checked ({why})"
        elif n.self_issued and not anchored_cert:
            ok, why = sig.check(n, n)
            if ok is False:
                problems.append((f"bad_signature:{n.label}", f"'{n.label}' names itself as issuer but its "
                                 f"self-signature does not verify ({why})."))
        if n.not_before is not None and at < n.not_before:
            problems.append((f"not_yet_valid:{n.label}", f"'{n.label}' is valid only from {_fmt_time(n.not_before)}, "
                             f"after the time judged ({_fmt_time(at)})."))
        elif n.not_after is not None and at > n.not_after:
            problems.append((f"expired:{n.label}", f"'{n.label}' expired on {_fmt_time(n.not_after)}, before the "
                             f"time judged ({_fmt_time(at)})."))

    # verdict
    if problems:
        status, detail = problems[0]
        others = [p for p, _ in problems[1:]]
        if others:
            detail += " Also: " + ", ".join(dict.fromkeys(others)) + "."
    elif b.anchor_kind == "name":
        name = b.anchor_name or "?"
        status = f"ok_by_name:{_label_of_string(name) if '=' in name else name}"
        detail = (f"The chain ends at '{name}', a name-only anchor ({b.anchor_source}): trusted by its name, "
                  f"as no certificate (no key) is known for it; everything else checks out at {_fmt_time(at)}.")
    else:
        status = "ok"
        detail = (f"{len(path)} certificate(s) lead to the trust anchor '{b.anchor_name}' ({b.anchor_source}); "
                  f"signatures, CA flags, purpose and validity check out at {_fmt_time(at)}.")
        if purpose == "server" and hostname:
            detail += f" {_name_check(leaf, hostname)[1]}."
    if unchecked:
        detail += f" Note: {unchecked}."
    statuses = [p for p, _ in problems] or [status]

    verdict = None
    if store is not None and anchored_cert:
        verdict = _crypto_verdict(store, chain, purpose, hostname, at)
        mine_ok = status == "ok"
        if verdict is not None and (verdict == "ok") != mine_ok:
            if mine_ok:
                why = verdict[len("rejected: "):] if verdict.startswith("rejected: ") else verdict
                detail += f" cryptography's RFC 5280 verifier is stricter and refuses it: {why}."
            else:
                detail += " cryptography's RFC 5280 verifier accepts the chain."

    missing = None
    if b.anchor_kind is None:
        if b.top_self_signed:
            missing = _aki_text(path[-1].subject, path[-1].ski)
            if missing and path[-1].ski:
                missing = missing.replace("[AKI", "[SKI")
        else:
            missing = _aki_text(b.missing, b.missing_aki)
    explain: dict[str, str] = {}
    for p, why in problems:
        explain.setdefault(p, why)
    if not problems:
        explain[status] = detail
    return Validation(status=status, detail=detail, path=[n.sha256 for n in path], anchor=b.anchor_name,
                      missing_issuer=missing, problems=list(dict.fromkeys(statuses)), verifier=verdict, at=at,
                      explain=explain)


def validate_chain(chain_ders: Sequence[object], *, at: datetime, store: TrustStore | None = None,
                   purpose: Purpose = "server", hostname: str | None = None,
                   extra_anchor_names: Sequence[str] = ()) -> Validation:
    """Validate a chain as sent (leaf first; DER bytes, ``x509.Certificate`` or ``CertInfo``) at
    ``at`` (the capture time; a naive datetime is UTC).

    The path is built from the leaf by names and AKI/SKI (two CAs can share a name), trusted store
    first, then the certificates the peer sent, then name-only anchors (those of ``store`` and
    ``extra_anchor_names``: RFC 4514 DNs or bare CNs).  Without a store, the best answer is
    ``self_signed`` or ``unknown_issuer:<top issuer>`` (other problems are in ``problems``).
    """
    return _validate([_node(_der_of(c)) for c in chain_ders], at=_aware(at), store=store, purpose=purpose,
                     hostname=hostname, extra_anchor_names=extra_anchor_names)


def _request_validation(chain: list[_Node], names: Sequence[str], at: datetime, sig: _Sig | None = None
                        ) -> Validation:
    names = [str(n) for n in names if n]
    v = _validate(chain, at=at, store=None, purpose="client", hostname=None, extra_anchor_names=names, sig=sig)
    if not names:
        return Validation(v.status, v.detail + " The server's CertificateRequest listed no CA names, so it "
                          "did not say which CAs it trusts.", v.path, v.anchor, v.missing_issuer, v.problems,
                          v.verifier, v.at, v.explain)
    if v.status.startswith("ok_by_name:"):
        detail = (f"The chain reaches '{v.anchor}', one of the {len(names)} CA names the server listed in its "
                  f"CertificateRequest (matched by name: that CA's certificate is not in the capture, so its "
                  f"signature is unchecked); everything else checks out at {_fmt_time(at)}.")
        return Validation("ok", detail, v.path, v.anchor, None, ["ok"], None, v.at, {"ok": detail})
    if v.code == "unknown_issuer" or v.code == "self_signed":
        return Validation(v.status, v.detail + f" None of the {len(names)} CA names the server listed in its "
                          f"CertificateRequest is on the chain's issuer path.", v.path, v.anchor,
                          v.missing_issuer, v.problems, None, v.at, v.explain)
    return v


def validate_client_chain_against_request(chain_ders: Sequence[object], requested_ca_names: Sequence[str],
                                          at: datetime) -> Validation:
    """Judge a client chain by the server's own statement of trust: the CA names it listed in its
    CertificateRequest.  ``ok`` when the chain's issuer path reaches one of those names (and
    nothing else is wrong); ``unknown_issuer:<top issuer>`` when it reaches none."""
    return _request_validation([_node(_der_of(c)) for c in chain_ders], requested_ca_names, _aware(at))


# ---------------------------------------------------------------------------
# Flows
# ---------------------------------------------------------------------------


def _get(rec: object, key: str, default: Any = None) -> Any:
    if type(rec) is FlowRecord:  # the common case, without typing.Mapping's slow isinstance
        return getattr(rec, key, default)
    if isinstance(rec, Mapping):
        return rec.get(key, default)
    return getattr(rec, key, default)


def _isna(v: Any) -> bool:
    """None, NaN, pd.NA or pd.NaT (without importing pandas: the CLI's plain outputs never do)."""
    if v is None:
        return True
    if isinstance(v, float):
        return v != v
    return type(v).__name__ in ("NAType", "NaTType")


def _chain_nodes(fps: Any, certs_by_sha: Mapping[str, object], cache: dict[str, _Node]) -> list[_Node]:
    if fps is None or _isna(fps):
        return []
    out = []
    for fp in list(fps):
        c = certs_by_sha.get(fp)
        if c is None:
            continue
        n = cache.get(fp)
        if n is None:
            n = _node(_der_of(c), cache)
        out.append(n)
    return out


def flow_hostname(flow_record: object) -> str | None:
    """The name the client asked for: its SNI; an IP-literal SNI as that address; else the server
    address (what the client connected to)."""
    sni = _get(flow_record, "sni")
    if sni is not None and not _isna(sni) and str(sni).strip():
        return str(sni).strip()
    ip = _get(flow_record, "server_ip")
    return None if ip is None or _isna(ip) else str(ip)


def validate_flow(flow_record: object, certs_by_sha: Mapping[str, object], *, store: TrustStore | None,
                  at: datetime | None = None, check_name: bool = True, _cache: dict[str, _Node] | None = None,
                  _sig: _Sig | None = None) -> tuple[Validation, Validation | None]:
    """Both chains of one flow (a `FlowRecord`, a flows DataFrame row, or a mapping).

    ``certs_by_sha``: SHA-256 -> DER bytes, `CertInfo` or `CertSeen` (``cap.analysis.certificates``).
    ``at`` defaults to the flow's start.  The server chain is checked against ``store`` with the
    flow's SNI (or the server address when the SNI is absent) as the name; ``check_name=False``
    skips that check (for clients that pin the certificate and ignore names, like phones that trust
    CUCM through their ITL).  The client chain
    (None when the client sent none) is checked against ``store`` when one is given, else
    against the CA names of the server's CertificateRequest.
    """
    cache = _cache if _cache is not None else {}
    sig = _sig or _Sig()
    when = _aware(at if at is not None else _get(flow_record, "ts_start"))
    server_chain = _chain_nodes(_get(flow_record, "server_chain_sha256"), certs_by_sha, cache)
    server = _validate(server_chain, at=when, store=store, purpose="server",
                       hostname=flow_hostname(flow_record) if check_name else None, sig=sig)
    if not server_chain:
        visible = _get(flow_record, "certs_visible")
        hidden = visible is not None and not _isna(visible) and not bool(visible)
        why = ("The server's Certificate was not visible (TLS 1.3 without a key log, or a resumed session)."
               if hidden else "The server sent no certificate in the capture.")
        server = Validation("no_certificate", why, at=when, problems=["no_certificate"])
    client_chain = _chain_nodes(_get(flow_record, "client_chain_sha256"), certs_by_sha, cache)
    client: Validation | None = None
    if client_chain:
        names = _get(flow_record, "requested_ca_names")
        names = [] if names is None or _isna(names) else list(names)
        if store is not None or not names:
            client = _validate(client_chain, at=when, store=store, purpose="client", hostname=None, sig=sig)
        else:
            client = _request_validation(client_chain, names, when, sig)
    return server, client


def flow_validations(analysis: object, store: TrustStore | None = None
                     ) -> dict[int, tuple[Validation, Validation | None]]:
    """`validate_flow` for every flow of an `Analysis` (``cap.analysis``), by flow_id."""
    certs = getattr(analysis, "certificates")
    cache: dict[str, _Node] = {}
    sig = _Sig()
    return {int(f.flow_id): validate_flow(f, certs, store=store, _cache=cache, _sig=sig)
            for f in getattr(analysis, "flows")}


def flow_validation_columns(analysis: object, store: TrustStore | None = None
                            ) -> dict[int, tuple[str, str | None]]:
    """flow_id -> (server_validation, client_validation) status strings, for the flows table.

    Flows with the same chains, name and CA list whose time falls between the same validity
    boundaries (of those certificates and the store's) get the same statuses: each such group is
    validated once, so a million flows to a few servers cost a few validations.
    """
    certs = getattr(analysis, "certificates")
    cache: dict[str, _Node] = {}
    sig = _Sig()
    memo: dict[tuple, tuple[str, str | None]] = {}
    store_bounds = store._bounds if store is not None else []
    out: dict[int, tuple[str, str | None]] = {}
    for f in getattr(analysis, "flows"):
        when = _aware(_get(f, "ts_start"))
        server_fps = tuple(_get(f, "server_chain_sha256") or ())
        client_fps = tuple(_get(f, "client_chain_sha256") or ())
        names = _get(f, "requested_ca_names")
        bounds = sorted({t for fp in server_fps + client_fps if fp in certs
                         for n in (cache.get(fp) or _node(_der_of(certs[fp]), cache),)
                         for t in (n.not_before, n.not_after) if t is not None})
        visible = _get(f, "certs_visible")
        key = (server_fps, client_fps, flow_hostname(f), tuple(names or ()),
               None if visible is None or _isna(visible) else bool(visible),
               bisect.bisect_left(bounds, when), bisect.bisect_right(bounds, when),
               bisect.bisect_left(store_bounds, when), bisect.bisect_right(store_bounds, when))
        hit = memo.get(key)
        if hit is None:
            sv, cv = validate_flow(f, certs, store=store, at=when, _cache=cache, _sig=sig)
            hit = memo[key] = (sv.status, cv.status if cv is not None else None)
        out[int(_get(f, "flow_id"))] = hit
    return out


def with_validation_columns(rows: list[dict[str, Any]], analysis: object, store: TrustStore | None = None
                            ) -> list[dict[str, Any]]:
    """Set ``server_validation`` / ``client_validation`` on flow rows (dicts with ``flow_id``) from
    `flow_validation_columns`; returns ``rows``."""
    checks = flow_validation_columns(analysis, store)
    for row in rows:
        row["server_validation"], row["client_validation"] = checks.get(row["flow_id"], (None, None))
    return rows


# ---------------------------------------------------------------------------
# Where a missing CA belongs (Cisco collaboration trust stores)
# ---------------------------------------------------------------------------

PHONE_PORTS = frozenset({5061, 2443, 3804})
TOMCAT_PORTS = frozenset({8443, 6972})


def trust_store_hint(server_port: int, side: Literal["server", "client"], *, rejected_by_peer: bool = False) -> str:
    """Which trust store must hold the CA (or self-signed certificate) of one side's chain.

    ``side`` is whose chain it is; ``rejected_by_peer``: the other side sent a fatal alert.
    """
    port = int(server_port)
    if side == "client":
        if port in PHONE_PORTS:
            return ("CallManager-trust on CUCM (phone client certificates: the CAPF for LSCs, the Cisco "
                    "Manufacturing CAs for MICs)")
        if port in TOMCAT_PORTS:
            return "tomcat-trust on CUCM (client certificates presented to Tomcat)"
        return "the server's trust store (the CAs it accepts client certificates from)"
    if port in TOMCAT_PORTS:
        if rejected_by_peer:
            return ("Expressway-C trusted CA list (Maintenance > Security > Trusted CA certificate), "
                    "the client that rejected it")
        return "tomcat-trust (of every CUCM/IM&P node that connects to this server)"
    if port in PHONE_PORTS:
        return "the phone's ITL/CTL (phones trust CUCM's CallManager certificate through them)"
    return "the client's trust store"
