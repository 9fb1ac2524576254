"""Sans-I/O parsers for TLS handshake messages.

Every ``parse_*`` function takes the handshake message *body* (the bytes after the 4-byte handshake
header; for `parse_alert` the alert record fragment, for `parse_sslv2_client_hello` the whole SSLv2
record) and returns a frozen dataclass.  Input that cannot be made sense of raises `ParseError`
(``reason``, ``offset`` into the given bytes); nothing else escapes for malformed input.  Anomalies
that still leave a usable result (a lying list length, a duplicate extension, a malformed optional
extension) are reported in the result's ``warnings`` tuple as stable snake_case codes instead:

=================================  =============================================================
``extension_overrun``              extension block or one extension claims more bytes than exist
``trailing_data``                  bytes after the last field the message defines
``duplicate_extension``            the same extension type twice (the first one is interpreted)
``malformed_<extension>``          an extension body that does not parse (e.g. malformed_alpn)
``many_server_names``              SNI carries more than one host_name (the first is kept)
``invalid_server_name``            empty, non-ASCII or control characters in the SNI host name
``session_id_too_long``            session_id longer than 32 bytes
``cipher_suites_odd_length``       cipher_suites vector of odd length (last byte dropped)
``no_cipher_suites`` / ``no_compression_methods``
``pre_shared_key_not_last``        ClientHello pre_shared_key is not the last extension
``downgrade_sentinel_tls12`` / ``downgrade_sentinel_tls11``   ServerHello.random ends in DOWNGRD
``certificate_invalid_length``     certificate list or entry length lies (fitting entries kept)
``zero_length_certificate``        an empty certificate entry (skipped)
``too_many_certificates``          more than ``max_certs`` entries (the first ones kept)
``ca_names_invalid_length``        certificate_authorities list or entry length lies
``cipher_specs_invalid_length``    SSLv2 cipher_specs length not a multiple of 3
``sslv2_challenge_length``         SSLv2 challenge outside 16..32 bytes
=================================  =============================================================
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from cryptography import x509

from .ciphers import cipher_kx
from .constants import (
    HRR_RANDOM,
    ExtensionType,
    alert_level_name,
    alert_name,
    extension_name,
)

__all__ = [
    "TLSParseError",
    "ParseError",
    "ClientHello",
    "ServerHello",
    "Certificate",
    "CertificateRequest",
    "ServerKeyExchange",
    "Alert",
    "NewSessionTicket",
    "parse_client_hello",
    "parse_sslv2_client_hello",
    "parse_server_hello",
    "parse_certificate",
    "parse_certificate_request",
    "parse_server_key_exchange",
    "parse_alert",
    "parse_new_session_ticket",
    "ca_name_to_str",
]


class TLSParseError(Exception):
    """Base class for TLS parsing errors."""


class ParseError(TLSParseError):
    """Malformed input: ``reason`` says what, ``offset`` where (index into the bytes given)."""

    def __init__(self, reason: str, offset: int) -> None:
        super().__init__(f"{reason} at offset {offset}")
        self.reason = reason
        self.offset = offset

    def __reduce__(self):  # keep it picklable despite the two-argument constructor
        return (type(self), (self.reason, self.offset))


# --------------------------------------------------------------------------------------------
# Reader


_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")


class _Reader:
    """Bounds-checked cursor over ``buf[pos:end]``; every read past ``end`` raises ParseError."""

    __slots__ = ("buf", "pos", "end")

    def __init__(self, buf: bytes, pos: int = 0, end: int | None = None) -> None:
        self.buf = buf
        self.pos = pos
        self.end = len(buf) if end is None else end

    def left(self) -> int:
        return self.end - self.pos

    def _need(self, n: int, what: str) -> None:
        if n > self.end - self.pos:
            raise ParseError(
                f"truncated {what}: need {n} bytes, {self.end - self.pos} left", self.pos
            )

    def u8(self, what: str) -> int:
        self._need(1, what)
        v = self.buf[self.pos]
        self.pos += 1
        return v

    def u16(self, what: str) -> int:
        self._need(2, what)
        v = _U16.unpack_from(self.buf, self.pos)[0]
        self.pos += 2
        return v

    def u24(self, what: str) -> int:
        self._need(3, what)
        p = self.pos
        v = int.from_bytes(self.buf[p : p + 3], "big")
        self.pos = p + 3
        return v

    def u32(self, what: str) -> int:
        self._need(4, what)
        v = _U32.unpack_from(self.buf, self.pos)[0]
        self.pos += 4
        return v

    def take(self, n: int, what: str) -> bytes:
        self._need(n, what)
        p = self.pos
        self.pos = p + n
        return self.buf[p : p + n]

    def skip(self, n: int, what: str) -> None:
        self._need(n, what)
        self.pos += n

    def vec8(self, what: str) -> bytes:
        return self.take(self.u8(what + " length"), what)

    def vec16(self, what: str) -> bytes:
        return self.take(self.u16(what + " length"), what)

    def vec24(self, what: str) -> bytes:
        return self.take(self.u24(what + " length"), what)

    def sub16(self, what: str) -> _Reader:
        """A reader over the next 2-byte-length-prefixed vector (no copy)."""
        n = self.u16(what + " length")
        self._need(n, what)
        r = _Reader(self.buf, self.pos, self.pos + n)
        self.pos += n
        return r

    def expect_end(self, what: str) -> None:
        if self.pos != self.end:
            raise ParseError(f"{self.end - self.pos} trailing bytes after {what}", self.pos)


def _as_bytes(data: bytes | bytearray | memoryview) -> bytes:
    return data if type(data) is bytes else bytes(data)


def _u16s(data: bytes) -> tuple[int, ...]:
    """Big-endian u16 array; the caller checks the length is even."""
    n = len(data) >> 1
    return struct.unpack(f">{n}H", data[: n * 2]) if n else ()


def _u16_vector(data: bytes, what: str) -> tuple[int, ...]:
    if len(data) & 1:
        raise ParseError(f"odd length {what}", len(data) - 1)
    return _u16s(data)


def _warn(ws: list[str], code: str) -> None:
    if code not in ws:
        ws.append(code)


# C0 controls and DEL are escaped like backslashreplace escapes non-ASCII: nothing a terminal
# would interpret reaches a report.
_CTRL_ESCAPES = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F)}


def _text(raw: bytes) -> tuple[str, bool]:
    """Wire text (host names, ALPN ids) -> (printable str, was it clean printable ASCII)."""
    s = raw.decode("ascii", "backslashreplace")
    clean = s.isprintable() and s.isascii() and len(s) == len(raw)
    if not clean:
        s = s.translate(_CTRL_ESCAPES)
    return s, clean


def _tls12_or_later(version: int) -> bool:
    """True for TLS >= 1.2 and DTLS >= 1.2 (DTLS versions count down from 0xfeff)."""
    if 0xFE00 <= version <= 0xFEFF:
        return version <= 0xFEFD
    return version >= 0x0303


# --------------------------------------------------------------------------------------------
# Extensions


_EXT_HEADER = struct.Struct(">HH")


def _read_extensions(
    r: _Reader, ws: list[str], *, required: bool = False
) -> tuple[tuple[int, bytes], ...]:
    """Read the 2-byte-length extensions block that ends a hello-like message.

    A missing block is fine unless ``required``; an overrun keeps the extensions that fit.
    Consumes the rest of ``r``.
    """
    left = r.left()
    if left == 0:
        if required:
            raise ParseError("missing extensions", r.pos)
        return ()
    if left < 2:
        _warn(ws, "extension_overrun")
        r.pos = r.end
        return ()
    n = r.u16("extensions length")
    left -= 2
    if n > left:
        _warn(ws, "extension_overrun")
        n = left
    elif n < left:
        _warn(ws, "trailing_data")
    buf, pos = r.buf, r.pos
    end = pos + n
    r.pos = r.end
    exts: list[tuple[int, bytes]] = []
    unpack = _EXT_HEADER.unpack_from
    while pos < end:
        if end - pos < 4:
            _warn(ws, "extension_overrun")
            break
        etype, elen = unpack(buf, pos)
        pos += 4
        if elen > end - pos:
            _warn(ws, "extension_overrun")
            break
        exts.append((etype, buf[pos:pos + elen]))
        pos += elen
    return tuple(exts)


def _first_of_each(exts: tuple[tuple[int, bytes], ...], ws: list[str]) -> dict[int, bytes]:
    seen: dict[int, bytes] = {}
    for etype, data in exts:
        if etype in seen:
            _warn(ws, "duplicate_extension")
        else:
            seen[etype] = data
    return seen


def _malformed(ws: list[str], etype: int) -> None:
    _warn(ws, f"malformed_{extension_name(etype)}")


def _parse_server_names(data: bytes, ws: list[str]) -> tuple[str | None, int]:
    """(first host_name, number of host_names).  A malformed tail after at least one host_name
    keeps what was read (and warns); with none, ParseError."""
    first: str | None = None
    count = 0
    try:
        r = _Reader(data)
        lr = r.sub16("server_name_list")
        r.expect_end("server_name_list")
        while lr.left():
            name_type = lr.u8("server name type")
            name = lr.vec16("server name")
            if name_type != 0:  # only host_name (0) is defined
                continue
            count += 1
            if first is None:
                first, clean = _text(name)
                if not clean or not name:
                    _warn(ws, "invalid_server_name")
    except ParseError:
        if count == 0:
            raise
        _malformed(ws, ExtensionType.server_name)
    if count == 0:
        raise ParseError("no host_name in server_name", 0)
    return first, count


def _parse_alpn_list(data: bytes, ws: list[str], etype: int) -> tuple[str, ...]:
    """Protocol names; a malformed tail keeps the names before it (and warns)."""
    out: list[str] = []
    try:
        r = _Reader(data)
        lr = r.sub16("protocol_name_list")
        r.expect_end("protocol_name_list")
        while lr.left():
            proto = lr.vec8("protocol name")
            if not proto:
                _malformed(ws, etype)
            out.append(_text(proto)[0])
    except ParseError:
        if not out:
            raise
        _malformed(ws, etype)
    return tuple(out)


def _list_body(data: bytes, width: int, what: str) -> bytes:
    """The body of a vector with a ``width``-byte length that must fill ``data`` exactly."""
    if len(data) < width:
        raise ParseError(f"truncated {what} length: need {width} bytes, {len(data)} left", 0)
    n = int.from_bytes(data[:width], "big")
    if n > len(data) - width:
        raise ParseError(f"truncated {what}: need {n} bytes, {len(data) - width} left", width)
    if n < len(data) - width:
        raise ParseError(f"{len(data) - width - n} trailing bytes after {what}", width + n)
    return data[width:]


def _parse_u16_list16(data: bytes, what: str) -> tuple[int, ...]:
    return _u16_vector(_list_body(data, 2, what), what)


def _parse_u16_list8(data: bytes, what: str) -> tuple[int, ...]:
    return _u16_vector(_list_body(data, 1, what), what)


def _parse_u8_list8(data: bytes, what: str) -> tuple[int, ...]:
    return tuple(_list_body(data, 1, what))


def _parse_client_key_share(data: bytes, ws: list[str]) -> tuple[int, ...]:
    """Groups of the client's key shares; a malformed tail keeps the shares before it."""
    groups: list[int] = []
    try:
        r = _Reader(data)
        lr = r.sub16("client_shares")
        r.expect_end("client_shares")
        while lr.left():
            group = lr.u16("key share group")
            lr.vec16("key_exchange")
            groups.append(group)
    except ParseError:
        _malformed(ws, ExtensionType.key_share)
    return tuple(groups)


# --------------------------------------------------------------------------------------------
# ClientHello


@dataclass(frozen=True, slots=True)
class ClientHello:
    legacy_version: int
    random: bytes
    session_id: bytes
    cipher_suites: tuple[int, ...]
    compression_methods: tuple[int, ...]
    extensions: tuple[tuple[int, bytes], ...]
    sni: str | None
    sni_count: int
    alpn: tuple[str, ...]
    supported_versions: tuple[int, ...]
    supported_groups: tuple[int, ...]
    ec_point_formats: tuple[int, ...]
    signature_algorithms: tuple[int, ...]
    key_share_groups: tuple[int, ...]
    session_ticket: bool
    psk: bool
    early_data: bool
    ech: bool
    warnings: tuple[str, ...]


def parse_client_hello(body: bytes) -> ClientHello:
    """Parse a ClientHello body.  Raises ParseError only if the fixed fields (up to and including
    compression_methods) are truncated; extension problems become warnings."""
    buf = _as_bytes(body)
    ws: list[str] = []
    r = _Reader(buf)
    legacy_version = r.u16("legacy_version")
    random = r.take(32, "random")
    session_id = r.vec8("session_id")
    if len(session_id) > 32:
        _warn(ws, "session_id_too_long")
    cs_raw = r.vec16("cipher_suites")
    if len(cs_raw) & 1:
        _warn(ws, "cipher_suites_odd_length")
    cipher_suites = _u16s(cs_raw)
    if not cipher_suites:
        _warn(ws, "no_cipher_suites")
    compression_methods = tuple(r.vec8("compression_methods"))
    if not compression_methods:
        _warn(ws, "no_compression_methods")
    extensions = _read_extensions(r, ws)
    return _client_hello_from_extensions(
        legacy_version, random, session_id, cipher_suites, compression_methods, extensions, ws
    )


def _client_hello_from_extensions(
    legacy_version: int,
    random: bytes,
    session_id: bytes,
    cipher_suites: tuple[int, ...],
    compression_methods: tuple[int, ...],
    extensions: tuple[tuple[int, bytes], ...],
    ws: list[str],
) -> ClientHello:
    seen = _first_of_each(extensions, ws)
    if ExtensionType.pre_shared_key in seen and extensions[-1][0] != ExtensionType.pre_shared_key:
        _warn(ws, "pre_shared_key_not_last")

    def field(etype: int, parse, default, *args):
        data = get(etype)
        if data is None:
            return default
        try:
            return parse(data, *args)
        except ParseError:
            _malformed(ws, etype)
            return default

    get = seen.get
    sni_ext = get(0)
    if sni_ext is not None and len(sni_ext) >= 5 and sni_ext[2] == 0 \
            and (sni_ext[0] << 8 | sni_ext[1]) == len(sni_ext) - 2 \
            and (sni_ext[3] << 8 | sni_ext[4]) == len(sni_ext) - 5 and len(sni_ext) > 5:
        # the usual case: one host_name filling the extension
        sni, clean = _text(sni_ext[5:])
        sni_count = 1
        if not clean:
            _warn(ws, "invalid_server_name")
    else:
        sni, sni_count = field(0, _parse_server_names, (None, 0), ws)
    if sni_count > 1:
        _warn(ws, "many_server_names")
    return ClientHello(
        legacy_version=legacy_version,
        random=random,
        session_id=session_id,
        cipher_suites=cipher_suites,
        compression_methods=compression_methods,
        extensions=extensions,
        sni=sni,
        sni_count=sni_count,
        alpn=field(16, _parse_alpn_list, (), ws, 16),
        supported_versions=field(43, _parse_u16_list8, (), "versions"),
        supported_groups=field(10, _parse_u16_list16, (), "named_group_list"),
        ec_point_formats=field(11, _parse_u8_list8, (), "ec_point_format_list"),
        signature_algorithms=field(13, _parse_u16_list16, (), "supported_signature_algorithms"),
        key_share_groups=field(51, _parse_client_key_share, (), ws),
        session_ticket=bool(get(35)),
        psk=41 in seen,
        early_data=42 in seen,
        ech=0xFE0D in seen,
        warnings=tuple(ws),
    )


# --------------------------------------------------------------------------------------------
# SSLv2-compatible ClientHello (RFC 5246 appendix E.2, SSL 2.0 CLIENT-HELLO)


def parse_sslv2_client_hello(record: bytes) -> ClientHello:
    """Parse an SSLv2-format CLIENT-HELLO record (2-byte header included) into a ClientHello.

    Cipher specs whose first byte is 0 are TLS cipher suites and are kept (in order); SSLv2-only
    kinds are dropped.  ``random`` is the challenge right-aligned in 32 zero bytes, as TLS defines.
    Bytes after the record are ignored.
    """
    buf = _as_bytes(record)
    if len(buf) < 2:
        raise ParseError("truncated SSLv2 record header", 0)
    if not buf[0] & 0x80:
        raise ParseError("not a 2-byte SSLv2 record header", 0)
    length = ((buf[0] & 0x7F) << 8) | buf[1]
    if 2 + length > len(buf):
        raise ParseError(f"truncated SSLv2 record: header says {length} bytes", len(buf))
    ws: list[str] = []
    r = _Reader(buf, 2, 2 + length)
    msg_type = r.u8("msg_type")
    if msg_type != 1:
        raise ParseError(f"SSLv2 message type {msg_type} is not CLIENT-HELLO", 2)
    version = r.u16("version")
    cs_len = r.u16("cipher_specs length")
    sid_len = r.u16("session_id length")
    ch_len = r.u16("challenge length")
    specs = r.take(cs_len, "cipher_specs")
    session_id = r.take(sid_len, "session_id")
    challenge = r.take(ch_len, "challenge")
    if r.left():
        _warn(ws, "trailing_data")
    if cs_len % 3:
        _warn(ws, "cipher_specs_invalid_length")
    if not 16 <= ch_len <= 32:
        _warn(ws, "sslv2_challenge_length")
    if sid_len > 32:
        _warn(ws, "session_id_too_long")
    suites = tuple(
        (specs[i + 1] << 8) | specs[i + 2]
        for i in range(0, cs_len - cs_len % 3, 3)
        if specs[i] == 0
    )
    if not suites:
        _warn(ws, "no_cipher_suites")
    random = challenge[-32:].rjust(32, b"\x00")
    return _client_hello_from_extensions(version, random, session_id, suites, (0,), (), ws)


# --------------------------------------------------------------------------------------------
# ServerHello


@dataclass(frozen=True, slots=True)
class ServerHello:
    legacy_version: int
    random: bytes
    session_id: bytes
    cipher_suite: int
    compression_method: int
    extensions: tuple[tuple[int, bytes], ...]
    selected_version: int
    is_hello_retry_request: bool
    alpn: str | None
    key_share_group: int | None
    extended_master_secret: bool
    session_ticket_ext: bool
    warnings: tuple[str, ...]


_DOWNGRADE_TLS12 = b"DOWNGRD\x01"
_DOWNGRADE_TLS11 = b"DOWNGRD\x00"


def parse_server_hello(body: bytes) -> ServerHello:
    """Parse a ServerHello (or HelloRetryRequest) body."""
    buf = _as_bytes(body)
    ws: list[str] = []
    r = _Reader(buf)
    legacy_version = r.u16("legacy_version")
    random = r.take(32, "random")
    if 0x7F00 <= legacy_version < 0x7F16:
        # TLS 1.3 drafts before 22: version, random, cipher_suite, extensions (no session_id,
        # no compression), and the version field is the negotiated one.
        session_id, compression_method = b"", 0
        cipher_suite = r.u16("cipher_suite")
    else:
        session_id = r.vec8("session_id")
        if len(session_id) > 32:
            _warn(ws, "session_id_too_long")
        cipher_suite = r.u16("cipher_suite")
        compression_method = r.u8("compression_method")
    extensions = _read_extensions(r, ws)
    seen = _first_of_each(extensions, ws)

    selected_version = legacy_version
    data = seen.get(ExtensionType.supported_versions)
    if data is not None:
        if len(data) == 2:
            selected_version = _U16.unpack(data)[0]
        else:
            _malformed(ws, ExtensionType.supported_versions)

    alpn: str | None = None
    data = seen.get(ExtensionType.alpn)
    if data is not None:
        try:
            protos = _parse_alpn_list(data, ws, ExtensionType.alpn)
            if len(protos) != 1:
                _malformed(ws, ExtensionType.alpn)
            alpn = protos[0] if protos else None
        except ParseError:
            _malformed(ws, ExtensionType.alpn)

    key_share_group: int | None = None
    data = seen.get(ExtensionType.key_share)
    if data is None and 0x7F00 <= selected_version < 0x7F17:
        data = seen.get(40)  # key_share was extension 40 until TLS 1.3 draft 23
    if data is not None:
        # ServerHello: KeyShareEntry (group + key_exchange); HelloRetryRequest: just the group.
        if len(data) >= 2:
            key_share_group = _U16.unpack_from(data)[0]
        if len(data) != 2 and (len(data) < 4 or _U16.unpack_from(data, 2)[0] != len(data) - 4):
            _malformed(ws, ExtensionType.key_share)

    tail = random[24:]
    if tail == _DOWNGRADE_TLS12:
        _warn(ws, "downgrade_sentinel_tls12")
    elif tail == _DOWNGRADE_TLS11:
        _warn(ws, "downgrade_sentinel_tls11")

    return ServerHello(
        legacy_version=legacy_version,
        random=random,
        session_id=session_id,
        cipher_suite=cipher_suite,
        compression_method=compression_method,
        extensions=extensions,
        selected_version=selected_version,
        is_hello_retry_request=random == HRR_RANDOM,
        alpn=alpn,
        key_share_group=key_share_group,
        extended_master_secret=ExtensionType.extended_master_secret in seen,
        session_ticket_ext=ExtensionType.session_ticket in seen,
        warnings=tuple(ws),
    )


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


# --------------------------------------------------------------------------------------------
# ServerKeyExchange


@dataclass(frozen=True, slots=True)
class ServerKeyExchange:
    kx: str
    dh_p_bits: int | None
    dh_g: int | None
    curve: int | None
    signature_algorithm: int | None


_DH_KX = frozenset({"DHE", "DH_anon", "DHE_PSK"})
_ECDH_KX = frozenset({"ECDHE", "ECDH_anon", "ECDHE_PSK"})


def _read_signature(r: _Reader, tls12: bool) -> int | None:
    alg = r.u16("signature algorithm") if tls12 else None
    r.vec16("signature")
    return alg


def parse_server_key_exchange(body: bytes, *, cipher_suite: int, version: int) -> ServerKeyExchange:
    """Parse a ServerKeyExchange body for the negotiated ``cipher_suite`` and ``version``.

    DHE/DH_anon/DHE_PSK: ``dh_p_bits`` (bit length of p) and ``dh_g``.  ECDHE/ECDH_anon/ECDHE_PSK:
    ``curve`` (named group; explicit curves report 0xff01 / 0xff02 and stop there).  Signed key
    exchanges report ``signature_algorithm`` from TLS 1.2 on (None before: implicit MD5+SHA1).
    Other key exchanges return just ``kx``.
    """
    buf = _as_bytes(body)
    kx = cipher_kx(cipher_suite)
    r = _Reader(buf)
    tls12 = _tls12_or_later(version)
    if kx in _DH_KX:
        if kx == "DHE_PSK":
            r.vec16("psk_identity_hint")
        p_off = r.pos
        p = r.vec16("dh_p")
        if not p:
            raise ParseError("empty dh_p", p_off)
        g = r.vec16("dh_g")
        r.vec16("dh_Ys")
        sigalg = _read_signature(r, tls12) if kx == "DHE" else None
        return ServerKeyExchange(
            kx=kx,
            dh_p_bits=int.from_bytes(p, "big").bit_length(),
            dh_g=int.from_bytes(g, "big"),
            curve=None,
            signature_algorithm=sigalg,
        )
    if kx in _ECDH_KX:
        if kx == "ECDHE_PSK":
            r.vec16("psk_identity_hint")
        ct_off = r.pos
        curve_type = r.u8("curve_type")
        if curve_type in (1, 2):  # explicit_prime / explicit_char2: not worth decoding
            return ServerKeyExchange(kx, None, None, 0xFF00 | curve_type, None)
        if curve_type != 3:
            raise ParseError(f"unknown ECCurveType {curve_type}", ct_off)
        curve = r.u16("named_curve")
        r.vec8("ec_point")
        sigalg = _read_signature(r, tls12) if kx == "ECDHE" else None
        return ServerKeyExchange(kx, None, None, curve, sigalg)
    return ServerKeyExchange(kx, None, None, None, None)


# --------------------------------------------------------------------------------------------
# Alert


@dataclass(frozen=True, slots=True)
class Alert:
    level: int
    description: int

    @property
    def level_name(self) -> str:
        return alert_level_name(self.level)

    @property
    def description_name(self) -> str:
        return alert_name(self.description)


def parse_alert(record_fragment: bytes) -> list[Alert]:
    """All 2-byte alerts in a (plaintext) alert record fragment; an odd byte count is a
    ParseError.  An empty fragment gives an empty list."""
    buf = _as_bytes(record_fragment)
    if len(buf) & 1:
        raise ParseError("alert fragment of odd length", len(buf) - 1)
    return [Alert(buf[i], buf[i + 1]) for i in range(0, len(buf), 2)]


# --------------------------------------------------------------------------------------------
# NewSessionTicket


@dataclass(frozen=True, slots=True)
class NewSessionTicket:
    lifetime: int
    ticket_len: int


def parse_new_session_ticket(body: bytes, *, tls13: bool) -> NewSessionTicket:
    """``lifetime`` (TLS 1.2: ticket_lifetime_hint) in seconds and the ticket's length."""
    r = _Reader(_as_bytes(body))
    lifetime = r.u32("ticket_lifetime")
    if tls13:
        r.u32("ticket_age_add")
        r.vec8("ticket_nonce")
    ticket = r.vec16("ticket")
    if tls13:
        r.vec16("extensions")
    return NewSessionTicket(lifetime=lifetime, ticket_len=len(ticket))


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
