"""The byte reader every handshake parser uses, `ParseError`, and the small helpers (u16 vectors,
warnings, printable text)."""

from __future__ import annotations

import struct


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
