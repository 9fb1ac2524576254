"""TLS record layer for one direction of a TCP stream: bytes in order -> record-level events.

`RecordReader.feed(data, frame, gap)` is sans-I/O.  It finds where TLS starts (at once, after an
SSLv2-compatible ClientHello, or after a plaintext prelude such as a STARTTLS exchange), splits
records of any fragmentation, reassembles handshake messages spanning records (and splits several
messages per record), and returns events.  Application data is skipped without being buffered,
so memory stays bounded by the largest handshake message allowed (``max_handshake``).
After this side's ChangeCipherSpec its handshake and alert records are encrypted and reported as
such.  Malformed records end parsing of the direction with an anomaly; a TCP gap triggers a resync
on the next plausible record header.
"""

from __future__ import annotations

from dataclasses import dataclass

CT_CHANGE_CIPHER_SPEC = 20
CT_ALERT = 21
CT_HANDSHAKE = 22
CT_APPLICATION_DATA = 23
CT_HEARTBEAT = 24
VALID_CONTENT_TYPES = frozenset((20, 21, 22, 23, 24))
MAX_RECORD = (1 << 14) + 2048  # ciphertext limit of RFC 5246 section 6.2.3
MAX_PRELUDE = 16 * 1024  # plaintext bytes scanned for a STARTTLS-style upgrade


@dataclass(frozen=True, slots=True)
class HandshakeMessage:
    frame: int
    msg_type: int
    body: bytes
    record_version: int


@dataclass(frozen=True, slots=True)
class EncryptedHandshake:
    """A handshake record after ChangeCipherSpec (e.g. Finished): content not readable."""

    frame: int
    length: int


@dataclass(frozen=True, slots=True)
class ChangeCipherSpec:
    frame: int


@dataclass(frozen=True, slots=True)
class AlertRecord:
    frame: int
    payload: bytes  # the record's plaintext (level, description pairs) or ciphertext
    encrypted: bool


@dataclass(frozen=True, slots=True)
class ApplicationData:
    frame: int
    length: int
    record: bytes = b""  # the whole record (header included), only when the reader keeps payloads


@dataclass(frozen=True, slots=True)
class SSLv2ClientHello:
    frame: int
    record: bytes  # the whole SSLv2 record, header included


@dataclass(frozen=True, slots=True)
class SSLv2ServerHello:
    frame: int
    record: bytes  # the whole SSLv2 record, header included


@dataclass(frozen=True, slots=True)
class Anomaly:
    frame: int
    code: str
    detail: str


@dataclass(frozen=True, slots=True)
class TLSStart:
    """TLS was found in this direction, after ``prelude_bytes`` bytes of something else."""

    frame: int
    prelude_bytes: int
    prelude_head: bytes  # the first bytes of the prelude (to name the protocol), capped


Event = (HandshakeMessage | EncryptedHandshake | ChangeCipherSpec | AlertRecord | ApplicationData
         | SSLv2ClientHello | SSLv2ServerHello | Anomaly | TLSStart)


def plausible_record_header(b: bytes | bytearray, i: int = 0) -> bool:
    """Does a TLS record header start at b[i]? (content type, version 3.x, sane length)"""
    if len(b) < i + 5:
        return False
    if b[i] not in VALID_CONTENT_TYPES or b[i + 1] != 3 or b[i + 2] > 4:
        return False
    ln = (b[i + 3] << 8) | b[i + 4]
    return 0 < ln <= MAX_RECORD


def is_sslv2_client_hello(b: bytes | bytearray) -> bool:
    """SSLv2-compatible ClientHello: 2-byte length with the top bit, type 1, version 2.0-3.3."""
    if len(b) < 5 or not b[0] & 0x80:
        return False
    ln = ((b[0] & 0x7F) << 8) | b[1]
    return b[2] == 1 and b[3] in (0, 3) and b[4] <= 4 and 9 <= ln <= 16384


def is_sslv2_server_hello(b: bytes | bytearray) -> bool:
    """SSLv2 SERVER-HELLO: 2-byte length with the top bit, type 4, server version 0x0002."""
    return len(b) >= 7 and bool(b[0] & 0x80) and b[2] == 4 and b[5] == 0 and b[6] == 2


def find_hello(b: bytes | bytearray, start: int = 0) -> int:
    """Offset of the first TLS handshake record carrying a ClientHello/ServerHello, or -1."""
    i = b.find(b"\x16\x03", start)
    while i >= 0:
        if len(b) < i + 6:
            return -1
        if b[i + 2] <= 4 and b[i + 5] in (1, 2) and plausible_record_header(b, i):
            return i
        i = b.find(b"\x16\x03", i + 1)
    return -1


def _plaintext_hello(frag: bytes) -> bool:
    """A ClientHello/ServerHello record after CCS: TLS 1.3 middlebox compatibility mode sends CCS
    after a HelloRetryRequest, before the second hello.  An encrypted record passes this check
    with probability about 2**-24 (type byte and exact 3-byte length)."""
    return len(frag) >= 4 and frag[0] in (1, 2) and int.from_bytes(frag[1:4], "big") == len(frag) - 4


class RecordReader:
    """One direction of a TLS connection. States: detect -> records -> stopped."""

    __slots__ = ("state", "buf", "hs", "hs_version", "skip", "encrypted", "max_handshake",
                 "prelude_bytes", "prelude_head", "records", "ccs_frame", "bytes_in",
                 "max_records", "peer_tls", "started", "keep_payload")

    def __init__(self, max_handshake: int = 256 * 1024, *, max_records: int = 10_000) -> None:
        self.state = "detect"
        self.buf = bytearray()
        self.hs = bytearray()  # handshake bytes not yet forming a whole message
        self.hs_version = 0
        self.skip = 0  # bytes of the current (application data) record still to skip
        self.encrypted = False
        self.max_handshake = max_handshake
        self.prelude_bytes = 0
        self.prelude_head = b""
        self.records = 0
        self.max_records = max_records
        self.ccs_frame: int | None = None
        self.bytes_in = 0
        self.peer_tls = False  # set when the other direction has started TLS
        self.started = False  # a TLSStart was emitted
        self.keep_payload = False  # hand application-data records over whole (for decryption)

    @property
    def stopped(self) -> bool:
        return self.state == "stopped"

    def stop(self) -> None:
        self.state = "stopped"
        self.buf = bytearray()
        self.hs = bytearray()

    def feed(self, data: bytes, frame: int, gap: bool = False) -> list[Event]:
        if self.state == "stopped":
            return []
        self.bytes_in += len(data)
        out: list[Event] = []
        if gap:
            self.buf = bytearray()
            self.hs = bytearray()
            self.skip = 0
            if self.state == "records":
                self.state = "resync"
        if self.skip:
            if len(data) <= self.skip:
                self.skip -= len(data)
                return out
            data = data[self.skip:]
            self.skip = 0
        self.buf += data
        if self.state == "detect":
            self._detect(frame, out)
        if self.state == "resync":
            self._resync(frame, out)
        if self.state == "records":
            self._records(frame, out)
        return out

    def _detect(self, frame: int, out: list[Event]) -> None:
        b = self.buf
        # a record right at the start of the stream (once prelude bytes were dropped, the
        # buffer's start depends on how the stream was cut: only a hello ends a prelude)
        if self.prelude_bytes == 0 and plausible_record_header(b) and (b[0] == CT_HANDSHAKE or self.peer_tls):
            self.state = "records"
            self.started = True
            out.append(TLSStart(frame, self.prelude_bytes, self.prelude_head))
            return
        if self.peer_tls and self.prelude_bytes == 0 and is_sslv2_server_hello(b):
            self.state = "records"
            self.started = True
            out.append(TLSStart(frame, 0, b""))
            self._records(frame, out)
            return
        if self.prelude_bytes == 0 and is_sslv2_client_hello(b):
            ln = (((b[0] & 0x7F) << 8) | b[1]) + 2
            if len(b) < ln:
                return
            self.started = True
            out.append(TLSStart(frame, 0, b""))
            out.append(SSLv2ClientHello(frame, bytes(b[:ln])))
            del b[:ln]
            self.state = "records"
            return
        if len(b) < 6 and b[:1] == b"\x16":
            return  # could still become a record header
        i = find_hello(b)
        if i < 0:
            keep = 5  # a header may straddle chunks
            if not self.prelude_head:
                self.prelude_head = bytes(b[:64])
            if len(b) > keep:
                self.prelude_bytes += len(b) - keep
                del b[:len(b) - keep]
            if self.prelude_bytes > MAX_PRELUDE:
                self.stop()
            return
        if not self.prelude_head:
            self.prelude_head = bytes(b[:min(i, 64)])
        self.prelude_bytes += i
        del b[:i]
        self.state = "records"
        self.started = True
        out.append(TLSStart(frame, self.prelude_bytes, self.prelude_head))

    def _resync(self, frame: int, out: list[Event]) -> None:
        b = self.buf
        for i in range(min(len(b), 4096)):
            if plausible_record_header(b, i):
                # demand a second header right after the first when the bytes are there
                j = i + 5 + ((b[i + 3] << 8) | b[i + 4])
                if j + 5 <= len(b) and not plausible_record_header(b, j):
                    continue
                del b[:i]
                self.state = "records"
                if self.started:
                    out.append(Anomaly(frame, "tls_resync",
                                       f"parsing resumed after a gap, {i} bytes skipped"))
                else:  # a capture that starts mid-stream
                    self.started = True
                    out.append(TLSStart(frame, 0, b""))
                return
        if len(b) > 4096 + 5:
            del b[:len(b) - 5]

    def _records(self, frame: int, out: list[Event]) -> None:
        b = self.buf
        if self.records == 0 and self.peer_tls and is_sslv2_server_hello(b):
            ln = (((b[0] & 0x7F) << 8) | b[1]) + 2
            if len(b) >= ln:
                out.append(SSLv2ServerHello(frame, bytes(b[:ln])))
                self.stop()  # the rest of an SSLv2 connection is encrypted
            return
        pos = 0
        n = len(b)
        while n - pos >= 5:
            ct = b[pos]
            ver = (b[pos + 1] << 8) | b[pos + 2]
            ln = (b[pos + 3] << 8) | b[pos + 4]
            if ct not in VALID_CONTENT_TYPES or b[pos + 1] != 3:
                out.append(Anomaly(frame, "invalid_record",
                                   f"bytes {b[pos:pos + 5].hex()} are not a TLS record header"))
                self.stop()
                return
            if ln > MAX_RECORD or (ln == 0 and ct != CT_APPLICATION_DATA):
                out.append(Anomaly(frame, "invalid_record_length",
                                   f"record of type {ct} announces {ln} bytes"))
                self.stop()
                return
            self.records += 1
            if self.records > self.max_records:
                out.append(Anomaly(frame, "too_many_records",
                                   f"more than {self.max_records} records before the handshake ended"))
                self.stop()
                return
            if ct == CT_APPLICATION_DATA and self.keep_payload:
                if n - pos - 5 < ln:
                    self.records -= 1
                    break
                out.append(ApplicationData(frame, ln, bytes(b[pos:pos + 5 + ln])))
                pos += 5 + ln
                continue
            if ct == CT_APPLICATION_DATA or ct == CT_HEARTBEAT:
                out.append(ApplicationData(frame, ln))
                avail = n - pos - 5
                if avail < ln:
                    self.skip = ln - avail
                    pos = n
                    break
                pos += 5 + ln
                continue
            if n - pos - 5 < ln:
                self.records -= 1  # counted again when the rest arrives
                break
            frag = bytes(b[pos + 5:pos + 5 + ln])
            pos += 5 + ln
            if ct == CT_HANDSHAKE:
                if self.encrypted and not _plaintext_hello(frag):
                    out.append(EncryptedHandshake(frame, ln))
                elif not self._handshake(frag, ver, frame, out):
                    return
            elif ct == CT_CHANGE_CIPHER_SPEC:
                self.encrypted = True
                self.ccs_frame = frame
                out.append(ChangeCipherSpec(frame))
            else:  # alert: a 2-byte alert is plaintext even after CCS (NULL ciphers aside)
                out.append(AlertRecord(frame, frag, self.encrypted and ln != 2))
        del b[:pos]

    def _handshake(self, frag: bytes, ver: int, frame: int, out: list[Event]) -> bool:
        hs = self.hs
        hs += frag
        self.hs_version = ver
        while len(hs) >= 4:
            mlen = (hs[1] << 16) | (hs[2] << 8) | hs[3]
            if mlen > self.max_handshake:
                out.append(Anomaly(frame, "handshake_too_large",
                                   f"handshake message type {hs[0]} announces {mlen} bytes "
                                   f"(limit {self.max_handshake})"))
                self.stop()
                return False
            if len(hs) < 4 + mlen:
                break
            out.append(HandshakeMessage(frame, hs[0], bytes(hs[4:4 + mlen]), ver))
            del hs[:4 + mlen]
        return True
