"""Certificate and CertificateRequest messages (the certificates stay DER: `inspector.x509` reads
them)."""

from __future__ import annotations

from dataclasses import dataclass

from ..constants import ExtensionType
from .extensions import _first_of_each, _malformed, _parse_u16_list16, _read_extensions
from .reader import _as_bytes, _Reader, _tls12_or_later, _u16_vector, _warn, ParseError


# --------------------------------------------------------------------------------------------
# Certificate


@dataclass(frozen=True, slots=True)
class Certificate:
    certs: tuple[bytes, ...]
    context: bytes | None
    warnings: tuple[str, ...]


def parse_certificate(body: bytes, *, tls13: bool, max_certs: int = 32) -> Certificate:
    """Parse a Certificate body into the DER of each entry, in order.

    Lying list/entry lengths keep the entries that fit (``certificate_invalid_length``); empty
    entries are skipped (``zero_length_certificate``); at most ``max_certs`` are kept
    (``too_many_certificates``).  Raises ParseError only when the list length (or, for TLS 1.3,
    the request context) itself is missing.
    """
    buf = _as_bytes(body)
    ws: list[str] = []
    r = _Reader(buf)
    context = r.vec8("certificate_request_context") if tls13 else None
    n = r.u24("certificate_list length")
    if n != r.left():
        _warn(ws, "certificate_invalid_length")
    lr = _Reader(buf, r.pos, r.pos + min(n, r.left()))
    certs: list[bytes] = []
    empties = 0
    while lr.left():
        if lr.left() < 3:
            _warn(ws, "certificate_invalid_length")
            break
        clen = lr.u24("cert_data length")
        if clen > lr.left():
            _warn(ws, "certificate_invalid_length")
            break
        start = lr.pos
        lr.pos += clen
        stop = False
        if tls13:  # each entry also carries 2-byte-length extensions
            if lr.left() < 2:
                _warn(ws, "certificate_invalid_length")
                stop = True
            else:
                elen = lr.u16("certificate extensions length")
                if elen > lr.left():
                    _warn(ws, "certificate_invalid_length")
                    stop = True
                else:
                    lr.pos += elen
        if clen == 0:
            _warn(ws, "zero_length_certificate")
            empties += 1
            if empties > max_certs:  # bound the work on a body full of empty entries
                _warn(ws, "too_many_certificates")
                break
        elif len(certs) >= max_certs:
            _warn(ws, "too_many_certificates")
            break
        else:
            certs.append(buf[start : start + clen])
        if stop:
            break
    return Certificate(certs=tuple(certs), context=context, warnings=tuple(ws))


# --------------------------------------------------------------------------------------------
# CertificateRequest


@dataclass(frozen=True, slots=True)
class CertificateRequest:
    cert_types: tuple[int, ...]
    signature_algorithms: tuple[int, ...]
    ca_names: tuple[bytes, ...]
    context: bytes | None
    warnings: tuple[str, ...]


def _parse_ca_names(r: _Reader, ws: list[str]) -> tuple[bytes, ...]:
    """A 2-byte-length list of 2-byte-length DER names; lying lengths keep the names that fit.
    Consumes the rest of ``r``."""
    n = r.u16("certificate_authorities length")
    left = r.left()
    if n != left:
        _warn(ws, "ca_names_invalid_length")
    lr = _Reader(r.buf, r.pos, r.pos + min(n, left))
    r.pos = r.end
    names: list[bytes] = []
    while lr.left():
        if lr.left() < 2:
            _warn(ws, "ca_names_invalid_length")
            break
        dlen = lr.u16("distinguished name length")
        if dlen > lr.left():
            _warn(ws, "ca_names_invalid_length")
            break
        names.append(lr.take(dlen, "distinguished name"))
    return tuple(names)


def parse_certificate_request(body: bytes, *, tls13: bool, version: int) -> CertificateRequest:
    """Parse a CertificateRequest body.

    ``version`` is the negotiated version; the TLS <= 1.2 form carries signature algorithms only
    from TLS 1.2 / DTLS 1.2 on.  ``ca_names`` are the DER-encoded names as sent (see
    `ca_name_to_str`).
    """
    buf = _as_bytes(body)
    ws: list[str] = []
    r = _Reader(buf)
    if tls13:
        context = r.vec8("certificate_request_context")
        exts = _read_extensions(r, ws, required=True)
        seen = _first_of_each(exts, ws)
        sigalgs: tuple[int, ...] = ()
        data = seen.get(ExtensionType.signature_algorithms)
        if data is not None:
            try:
                sigalgs = _parse_u16_list16(data, "supported_signature_algorithms")
            except ParseError:
                _malformed(ws, ExtensionType.signature_algorithms)
        ca_names: tuple[bytes, ...] = ()
        data = seen.get(ExtensionType.certificate_authorities)
        if data is not None:
            try:
                ca_names = _parse_ca_names(_Reader(data), ws)
            except ParseError:
                _malformed(ws, ExtensionType.certificate_authorities)
        return CertificateRequest((), sigalgs, ca_names, context, tuple(ws))

    cert_types = tuple(r.vec8("certificate_types"))
    sigalgs = ()
    if _tls12_or_later(version):
        sigalgs = _u16_vector(r.vec16("supported_signature_algorithms"), "signature algorithms")
    ca_names = _parse_ca_names(r, ws)
    return CertificateRequest(cert_types, sigalgs, ca_names, None, tuple(ws))
