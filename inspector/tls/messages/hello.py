"""ClientHello (TLS and the SSLv2-compatible form, RFC 5246 appendix E.2) and ServerHello."""

from __future__ import annotations

from dataclasses import dataclass

from ..constants import ExtensionType, HRR_RANDOM
from .extensions import _first_of_each, _malformed, _parse_alpn_list, _parse_client_key_share, _parse_server_names, _parse_u16_list16, _parse_u16_list8, _parse_u8_list8, _read_extensions
from .reader import _as_bytes, _Reader, _text, _U16, _u16s, _warn, ParseError


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
