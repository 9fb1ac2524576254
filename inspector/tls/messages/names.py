"""Distinguished names as sent in a CertificateRequest, formatted like cryptography's
``x509.Name.rfc4514_string()`` (`ca_name_to_str`, which never raises)."""

from __future__ import annotations

from cryptography import x509

from .reader import _as_bytes


# --------------------------------------------------------------------------------------------
# Distinguished names


# ASCII-only string types often carry UTF-8 or Latin-1 in the wild (and cryptography itself writes
# UTF-8 into IA5String): decode those leniently, UTF-8 first, Latin-1 as the last resort.
_LENIENT = ("utf-8", "latin-1")
_STRING_DECODERS: dict[int, tuple[str, ...]] = {
    0x0C: ("utf-8",),  # UTF8String
    0x12: _LENIENT,  # NumericString
    0x13: _LENIENT,  # PrintableString
    0x14: ("latin-1",),  # T61String (treated as Latin-1, like most decoders do)
    0x16: _LENIENT,  # IA5String
    0x1A: _LENIENT,  # VisibleString
    0x1C: ("utf-32-be",),  # UniversalString
    0x1E: ("utf-16-be",),  # BMPString
}


class _DerError(Exception):
    pass


def _der_tlv(buf: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """One DER TLV at ``pos``: (tag, content start, content end)."""
    if end - pos < 2:
        raise _DerError
    tag = buf[pos]
    if tag & 0x1F == 0x1F:  # high-tag-number form never appears in a Name
        raise _DerError
    n = buf[pos + 1]
    pos += 2
    if n & 0x80:
        k = n & 0x7F
        if k == 0 or k > 3 or end - pos < k:  # indefinite length is not DER; names are < 64 KiB
            raise _DerError
        n = int.from_bytes(buf[pos : pos + k], "big")
        pos += k
    if end - pos < n:
        raise _DerError
    return tag, pos, pos + n


def _oid_dotted(raw: bytes) -> str:
    if not raw or len(raw) > 64 or raw[-1] & 0x80:
        raise _DerError
    arcs: list[int] = []
    v = 0
    for b in raw:
        v = (v << 7) | (b & 0x7F)
        if not b & 0x80:
            arcs.append(v)
            v = 0
    if any(a >> 128 for a in arcs):  # cryptography's OID type holds 128-bit arcs: larger ones panic it
        raise _DerError
    first = arcs[0]
    head = [0, first] if first < 40 else [1, first - 40] if first < 80 else [2, first - 80]
    return ".".join(map(str, head + arcs[1:]))


def _escape_rfc4514(val: str) -> str:
    # Same rules as cryptography's RFC 4514 formatter, for attributes it refuses to build.
    if not val:
        return ""
    for ch in ("\\", '"', "+", ",", ";", "<", ">"):
        val = val.replace(ch, "\\" + ch)
    val = val.replace("\0", "\\00")
    if val[0] == "#" or (val[0] == " " and len(val) > 1):
        val = "\\" + val
    if val[-1] == " ":
        val = val[:-1] + "\\ "
    return val


def _attribute_str(dotted: str, tag: int, value: bytes, tlv: bytes) -> str:
    oid = x509.ObjectIdentifier(dotted)
    text: str | None = None
    for encoding in _STRING_DECODERS.get(tag, ()):
        try:
            text = value.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if text is not None:
        try:
            return x509.NameAttribute(oid, text).rfc4514_string()
        except ValueError:  # a length cryptography refuses (C not 2 chars, CN over 64 ...)
            pass
    # "xx" satisfies every length limit cryptography enforces; we only want the short name.
    label = x509.NameAttribute(oid, "xx").rfc4514_attribute_name
    if text is not None:
        return f"{label}={_escape_rfc4514(text)}"
    # Not a string we can decode: RFC 4514 2.4, "#" + hex of the BER encoding of the value.
    return f"{label}=#{tlv.hex()}"


def ca_name_to_str(der_name: bytes) -> str:
    """A DER-encoded X.501 Name (as in CertificateRequest) -> RFC 4514 string, formatted the way
    ``cryptography``'s ``x509.Name.rfc4514_string()`` formats it.  Never raises: undecodable input
    gives ``"<undecodable name: 3082…>"``."""
    try:
        buf = _as_bytes(der_name)
        tag, pos, end = _der_tlv(buf, 0, len(buf))
        if tag != 0x30 or end != len(buf):
            raise _DerError
        rdns: list[str] = []
        while pos < end:  # RDNSequence: SEQUENCE OF SET OF AttributeTypeAndValue
            tag, spos, send = _der_tlv(buf, pos, end)
            if tag != 0x31:
                raise _DerError
            pos = send
            attrs: list[str] = []
            while spos < send:
                tag, apos, aend = _der_tlv(buf, spos, send)
                if tag != 0x30:
                    raise _DerError
                spos = aend
                tag, opos, oend = _der_tlv(buf, apos, aend)
                if tag != 0x06:
                    raise _DerError
                vstart = oend
                vtag, vpos, vend = _der_tlv(buf, vstart, aend)
                if vend != aend:
                    raise _DerError
                oid = _oid_dotted(buf[opos:oend])
                attrs.append(_attribute_str(oid, vtag, buf[vpos:vend], buf[vstart:vend]))
            rdns.append("+".join(attrs))
        return ",".join(reversed(rdns))
    except Exception:  # noqa: BLE001 - contract: never raises on garbage
        try:
            raw = bytes(der_name)
        except Exception:  # noqa: BLE001
            return "<undecodable name>"
        more = "…" if len(raw) > 32 else ""
        return f"<undecodable name: {raw[:32].hex()}{more}>"
