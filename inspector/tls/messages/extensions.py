"""Hello extensions: the extension block (overruns, duplicates) and the bodies read from it (SNI,
ALPN, u8/u16 lists, key shares)."""

from __future__ import annotations

import struct

from ..constants import ExtensionType, extension_name
from .reader import _Reader, _text, _u16_vector, _warn, ParseError


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
