"""DER framing (tag/length walking only; the meaning is left to cryptography).

Used by `inspector.x509.parse` to recover per-extension when ``cert.extensions`` refuses the whole
set (each extension is spliced alone into a copy of the certificate), to remove explicitly encoded
DEFAULTs, and to read the key size of a public key type cryptography cannot load.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: BasicConstraints (ExtensionOID.BASIC_CONSTRAINTS), dotted: this module imports no cryptography
_BASIC_CONSTRAINTS_OID = "2.5.29.19"

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


def der_wrap(tag: int, content: bytes) -> bytes:
    """One DER value: ``tag``, the definite length of ``content``, ``content``."""
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
                parts.append(der_wrap(0xA3, der_wrap(0x30, b"".join(exts))))
            else:
                parts.append(self.raw(child))
        tbs = der_wrap(0x30, b"".join(parts))
        return der_wrap(0x30, tbs + self.after_tbs)


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
        if tag == 0x04 and _ext_oid(ext_der) == _BASIC_CONSTRAINTS_OID:
            try:
                vt, vcs, vce = _tlv(ext_der, kcs, kce)
            except _DerError:
                vt = None
            if vt == 0x30 and ext_der[vcs : vcs + 3] == _BOOL_FALSE:
                raw = der_wrap(0x04, der_wrap(0x30, ext_der[vcs + 3 : vce]))
                changed = True
        out.append(raw)
    return der_wrap(0x30, b"".join(out)) if changed else None


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
