"""Client and server fingerprints from the hellos: JA3, JA3S (Salesforce) and JA4 (FoxIO, BSD-3).

Pure functions over the parsed `ClientHello` / `ServerHello`.  GREASE values are ignored
everywhere, as both specifications require.  JA4S and JA4X are deliberately absent (their licence
restricts use).
"""

from __future__ import annotations

import hashlib

from .constants import GREASE
from .messages import ClientHello, ServerHello

JA4_VERSIONS = {0x0304: "13", 0x0303: "12", 0x0302: "11", 0x0301: "10", 0x0300: "s3",
                0x0200: "s2", 0x0002: "s2", 0x0100: "s1"}


def _dash(values) -> str:
    return "-".join([str(v) for v in values if v not in GREASE])


def ja3_string(ch: ClientHello) -> str:
    return ",".join((str(ch.legacy_version), _dash(ch.cipher_suites), _dash(t for t, _ in ch.extensions),
                     _dash(ch.supported_groups), _dash(ch.ec_point_formats)))


def ja3(ch: ClientHello) -> str:
    return hashlib.md5(ja3_string(ch).encode()).hexdigest()


def ja3s_string(sh: ServerHello) -> str:
    return ",".join((str(sh.legacy_version), str(sh.cipher_suite), _dash(t for t, _ in sh.extensions)))


def ja3s(sh: ServerHello) -> str:
    return hashlib.md5(ja3s_string(sh).encode()).hexdigest()


def _h12(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12] if text else "000000000000"


def _alpn_chars(alpn: str | None) -> str:
    if not alpn:
        return "00"
    first, last = alpn[0], alpn[-1]
    if first.isascii() and first.isalnum() and last.isascii() and last.isalnum():
        return first + last
    raw = alpn.encode("utf-8", "surrogateescape")
    return f"{raw[0]:02x}"[0] + f"{raw[-1]:02x}"[-1]


def ja4_parts(ch: ClientHello, transport: str = "t") -> tuple[str, str, str]:
    """(JA4_a, sorted cipher list, sorted extension list [+ "_" + signature algorithms])."""
    versions = [v for v in ch.supported_versions if v not in GREASE]
    version = JA4_VERSIONS.get(max(versions) if versions else ch.legacy_version, "00")
    ciphers = [c for c in ch.cipher_suites if c not in GREASE]
    exts = [t for t, _ in ch.extensions if t not in GREASE]
    sni = "d" if 0 in exts else "i"
    alpn = _alpn_chars(ch.alpn[0] if ch.alpn else None)
    a = f"{transport}{version}{sni}{min(len(ciphers), 99):02d}{min(len(exts), 99):02d}{alpn}"
    b = ",".join(sorted([f"{c:04x}" for c in ciphers]))
    c = ",".join(sorted([f"{t:04x}" for t in exts if t != 0x0000 and t != 0x0010]))
    sigs = [s for s in ch.signature_algorithms if s not in GREASE]
    if sigs and c:
        c += "_" + ",".join(f"{s:04x}" for s in sigs)
    return a, b, c


def ja4(ch: ClientHello, transport: str = "t") -> str:
    a, b, c = ja4_parts(ch, transport)
    return f"{a}_{_h12(b)}_{_h12(c)}"


def ja4_r(ch: ClientHello, transport: str = "t") -> str:
    return "_".join(ja4_parts(ch, transport))


_CACHE: dict[tuple, tuple[str, str]] = {}


def client_fingerprints(ch: ClientHello) -> tuple[str, str]:
    """(JA3, JA4) of a ClientHello, cached by the fields they hash: the hellos of one client
    software differ only in random, session id, key shares and SNI, so a capture of many phones
    computes each fingerprint once.  The cache is bounded (cleared past 4096 distinct hellos)."""
    key = (ch.legacy_version, ch.cipher_suites, tuple([t for t, _ in ch.extensions]),
           ch.supported_groups, ch.ec_point_formats, ch.signature_algorithms, ch.alpn[:1],
           ch.supported_versions)
    hit = _CACHE.get(key)
    if hit is None:
        if len(_CACHE) >= 4096:
            _CACHE.clear()
        hit = _CACHE[key] = (ja3(ch), ja4(ch))
    return hit
