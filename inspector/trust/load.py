"""Loading trust stores: PEM/DER files, PKCS#7 bundles, directories and tar/zip exports (hostile
members skipped, sizes capped), and the built-in sets (``mozilla``, ``cisco-mic``).  The only I/O
of `inspector.trust`."""

from __future__ import annotations

import io
import os
import re
import stat
import tarfile
import zipfile
from pathlib import Path, PureWindowsPath
from typing import Sequence

from .._lazy import lazy_import
from ..domain import CISCO_MIC_CA_NAMES, CISCO_ORGS, MIC_ISSUERS
from .nodes import _load_der, _node, _rfc4514
from .store import Anchor, TrustError, TrustStore, _dedupe

#: cryptography, imported when the first certificate is read
_load_cryptography = lazy_import(globals(), {
    "serialization": ("cryptography.hazmat.primitives.serialization", None),
    "pkcs7": ("cryptography.hazmat.primitives.serialization.pkcs7", None),
})

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
