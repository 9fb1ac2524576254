"""Capture files -> packets.

Two sans-I/O parsers (`PcapParser`, `PcapngParser`) take chunks of bytes and return packets as
tuples ``(ts, linktype, data, orig_len)``; `CaptureReader` is the only code that opens a file.
It streams: the file is read in chunks, never whole, and gzip-compressed captures are decompressed
on the fly.  A file that is not a capture raises `CaptureError`; a file cut short ends the packet
stream with a warning (``capture_truncated``) after the last complete packet.
"""

from __future__ import annotations

import gzip
import os
import stat
import struct
import zlib
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import BinaryIO, Iterator

from ..errors import CaptureError

#: A packet as the capture stage hands it on: (timestamp in seconds since the epoch, link type,
#: captured bytes, original length on the wire).
Packet = tuple[float, int, bytes, int]

MAX_CAPLEN = 262144  # Wireshark's WTAP_MAX_PACKET_SIZE_STANDARD
MAX_TS = 9_223_372_035.0  # the last second pandas (datetime64[ns]) can hold, in 2262
MAX_BLOCK = 16 * 1024 * 1024 + 1024  # largest pcapng block we accept
CHUNK = 4 * 1024 * 1024
MAX_EMPTY_RECORDS = 1_000_000  # consecutive records without packet data before reading stops
GZIP_IN_CHUNK = 256 * 1024  # compressed bytes read at a time
MAX_GUNZIP_BYTES = 64 * 1024 ** 3  # decompressed bytes read from one .gz capture
MAX_GUNZIP_RATIO = 500  # decompressed : compressed, once past GUNZIP_RATIO_FLOOR
GUNZIP_RATIO_FLOOR = 256 * 1024 * 1024

PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", 1e-6),
    b"\xa1\xb2\xc3\xd4": (">", 1e-6),
    b"\x4d\x3c\xb2\xa1": ("<", 1e-9),
    b"\xa1\xb2\x3c\x4d": (">", 1e-9),
}
PCAPNG_SHB = b"\x0a\x0d\x0d\x0a"
GZIP_MAGIC = b"\x1f\x8b"


def sniff_format(fh: BinaryIO) -> tuple[str | None, bool, bytes]:
    """A capture file's kind from its first bytes: ("pcap" | "pcapng" | None, gzip-compressed,
    the first 4 bytes after decompression).  The one place the magic numbers are read for files
    (batch's discovery and the tshark engine ask here); a damaged gzip stream raises OSError or
    EOFError."""
    head = fh.read(4)
    compressed = head[:2] == GZIP_MAGIC
    if compressed:
        fh.seek(0)
        try:
            head = gzip.GzipFile(fileobj=fh).read(4)
        except zlib.error as e:  # a damaged deflate stream: zlib's own error, not an OSError
            raise OSError(f"damaged gzip stream: {e}") from None
    kind = "pcap" if head in PCAP_MAGICS else "pcapng" if head == PCAPNG_SHB else None
    return kind, compressed, head


@dataclass(slots=True)
class CaptureWarning:
    """Something odd in the file framing that did not stop reading."""

    code: str
    detail: str
    offset: int | None = None


def _bad_ts(parser: "PcapParser | PcapngParser", ts: float, where: int) -> float:
    """A timestamp no calendar can hold (year > 2262, or negative) becomes 0 (1970), warned once."""
    if not any(w.code == "timestamp_out_of_range" for w in parser.warnings):
        parser.warnings.append(CaptureWarning(
            "timestamp_out_of_range", f"a packet timestamp ({ts:.0f} s) is out of range; "
            "such timestamps are shown as 1970-01-01", where))
    return 0.0


def _describe_unknown(head: bytes) -> str:
    """A one-line guess at what a non-capture file is, for the error message."""
    if not head:
        return "empty file"
    guesses = {
        b"\xff\xd8\xff": "a JPEG image",
        b"\x89PNG": "a PNG image",
        b"%PDF": "a PDF document",
        b"PK\x03\x04": "a ZIP archive",
        b"\x28\xb5\x2f\xfd": "a zstd-compressed file (decompress it first)",
        b"BZh": "a bzip2-compressed file (decompress it first)",
        b"\xfd7zXZ": "an xz-compressed file (decompress it first)",
    }
    for magic, what in guesses.items():
        if head.startswith(magic):
            return what
    if all(32 <= b < 127 or b in b"\r\n\t" for b in head[:64]):
        return "a text file"
    return f"unknown magic 0x{head[:4].hex()}"


class Gunzip:
    """A gzip stream (one or several members) read incrementally through `zlib`, never losing
    what was decoded: a stream cut short or damaged ends the data with ``problem`` set (the bytes
    decoded before the damage are returned first), and so does a stream that inflates past
    ``max_bytes`` or, once past ``ratio_floor`` decompressed bytes, past ``max_ratio`` times its
    compressed size (a decompression bomb).  ``problem`` is then a `CaptureWarning`.
    """

    def __init__(self, raw: BinaryIO, *, max_bytes: int = MAX_GUNZIP_BYTES, max_ratio: int = MAX_GUNZIP_RATIO,
                 ratio_floor: int = GUNZIP_RATIO_FLOOR) -> None:
        self.raw = raw
        self.max_bytes = max_bytes
        self.max_ratio = max_ratio
        self.ratio_floor = ratio_floor
        self.bytes_in = 0
        self.bytes_out = 0
        self.problem: CaptureWarning | None = None
        self._d = zlib.decompressobj(31)
        self._pending = b""  # compressed bytes not yet given to the decompressor
        self._in_member = False
        self._done = False
        self._surplus = b""  # decoded bytes beyond what the last read asked for

    def read(self, size: int) -> bytes:
        out: list[bytes] = []
        n = 0
        if self._surplus:
            out.append(self._surplus[:size])
            n = len(out[0])
            self._surplus = self._surplus[size:]
        while n < size and not self._done:
            data = self._d.unconsumed_tail or self._pending
            self._pending = b""
            if not data:
                data = self.raw.read(GZIP_IN_CHUNK)
                self.bytes_in += len(data)
                if not data:
                    self._done = True
                    if self._in_member:
                        self._stop("capture_truncated", "the gzip stream is cut short after "
                                   f"{self.bytes_out} decompressed bytes; the packets before the cut are kept")
                    break
            if not self._in_member:
                data = data.lstrip(b"\0")  # zero padding after the last member (tape, dd)
                if not data:
                    continue
                self._in_member = True
            saved = self._d.copy()
            try:
                piece = self._d.decompress(data, size - n)
            except zlib.error as e:
                piece = self._salvage(saved, data)
                self._stop("capture_truncated", f"the gzip stream is damaged after {self.bytes_out + len(piece)} "
                           f"decompressed bytes ({e}); the packets before the damage are kept")
            if piece:
                self.bytes_out += len(piece)
                if n + len(piece) > size:  # only a salvaged piece can be longer than asked
                    self._surplus = piece[size - n:]
                    piece = piece[:size - n]
                out.append(piece)
                n += len(piece)
            if self._done:
                break
            if self._d.eof:  # end of a member: another may follow (cat a.gz b.gz)
                self._pending = self._d.unused_data
                self._d = zlib.decompressobj(31)
                self._in_member = False
            if self.bytes_out > self.max_bytes:
                self._stop("decompression_limit", f"reading stopped after {self.bytes_out} decompressed bytes "
                           f"(the limit for a compressed capture is {self.max_bytes})")
            elif self.bytes_out > self.ratio_floor and self.bytes_out > self.max_ratio * max(1, self.bytes_in):
                self._stop("decompression_limit", f"reading stopped: {self.bytes_in} compressed bytes inflated "
                           f"to {self.bytes_out}, more than {self.max_ratio} times (a decompression bomb?)")
        return b"".join(out)

    def _salvage(self, d, data: bytes) -> bytes:
        """The output of ``data`` up to the point where it is damaged (zlib drops the output of a
        call that fails): fed again from the state before it, in small steps."""
        out = []
        got = 0
        step = 512
        i = 0
        while i < len(data):
            before = d.copy()
            try:
                piece = d.decompress(data[i:i + step], GZIP_IN_CHUNK * 4 - got)
            except zlib.error:
                if step == 1:
                    break
                d, step = before, 1  # the damage is in these bytes: find it byte by byte
                continue
            i += step
            out.append(piece)
            got += len(piece)
            if d.unconsumed_tail or got >= GZIP_IN_CHUNK * 4:
                break  # output bounded: a bomb's damaged tail is not inflated in full
        return b"".join(out)

    def _stop(self, code: str, detail: str) -> None:
        self._done = True
        self.problem = CaptureWarning(code, detail, self.bytes_out)

    def close(self) -> None:
        self.raw.close()


def _flood(parser: "PcapParser | PcapngParser", where: int) -> None:
    parser.flooded = True
    parser.warnings.append(CaptureWarning(
        "empty_record_flood", f"more than {parser.max_empty_records} consecutive records carry no packet "
        "data; reading stopped there", where))


class PcapParser:
    """Classic libpcap format, either byte order, micro- or nanosecond timestamps."""

    format = "pcap"

    def __init__(self, header: bytes) -> None:
        if len(header) < 24:
            raise CaptureError("pcap file header cut short", 0)
        order, self.scale = PCAP_MAGICS[header[:4]]
        (_magic, self.version_major, self.version_minor, _zone, _sigfigs, self.snaplen,
         linktype) = struct.unpack(order + "IHHiIII", header[:24])
        self.linktype = linktype & 0x0FFFFFFF  # upper bits: FCS length flags
        self._rec = struct.Struct(order + "IIII")
        self._buf = b""
        self.offset = 24  # file offset of the start of self._buf
        self.warnings: list[CaptureWarning] = []
        self._warned_snaplen = False
        self.skipped = 0
        self.error: CaptureError | None = None  # set when framing broke; packets before it stand
        self.max_empty_records = MAX_EMPTY_RECORDS
        self._empty = 0  # consecutive records without packet data
        self.flooded = False  # set when more than max_empty_records came in a row: stop reading

    def feed(self, chunk: bytes) -> list[Packet]:
        if self.flooded:
            return []
        buf = self._buf + chunk if self._buf else chunk
        n = len(buf)
        off = 0
        out: list[Packet] = []
        append = out.append
        unpack = self._rec.unpack_from
        scale = self.scale
        lt = self.linktype
        while off + 16 <= n:
            sec, frac, incl, orig = unpack(buf, off)
            if incl > MAX_CAPLEN:
                self.error = CaptureError(
                    f"packet record claims {incl} captured bytes, bigger than the maximum of "
                    f"{MAX_CAPLEN} (corrupt file?)", self.offset + off)
                break
            end = off + 16 + incl
            if end > n:
                break
            if incl == 0:
                self.skipped += 1
                self._empty += 1
                if self._empty > self.max_empty_records:
                    _flood(self, self.offset + off)
                    off = end
                    break
            else:
                self._empty = 0
                if incl > self.snaplen and not self._warned_snaplen and self.snaplen:
                    self._warned_snaplen = True
                    self.warnings.append(CaptureWarning(
                        "caplen_over_snaplen",
                        f"a packet has {incl} captured bytes, more than the snaplen {self.snaplen}",
                        self.offset + off))
                ts = sec + frac * scale
                if ts > MAX_TS:
                    ts = self._bad_ts(ts, self.offset + off)
                append((ts, lt, buf[off + 16:end], orig))
            off = end
        self._buf = buf[off:]
        self.offset += off
        return out

    def close(self) -> None:
        if self._buf and not self.flooded:
            self.warnings.append(CaptureWarning(
                "capture_truncated",
                f"the capture is cut short in the middle of a packet ({len(self._buf)} bytes left over)",
                self.offset))
            self._buf = b""

    def _bad_ts(self, ts: float, where: int) -> float:
        return _bad_ts(self, ts, where)


@dataclass(slots=True)
class _Interface:
    linktype: int
    snaplen: int
    unit: float = 1e-6
    offset: float = 0.0


class PcapngParser:
    """pcapng: SHB, IDB, EPB, SPB and the obsolete PB; other blocks are skipped by length.

    Several sections (SHBs) and a change of byte order between sections are handled; each section
    has its own interfaces, each with its own link type and timestamp resolution.
    """

    format = "pcapng"

    def __init__(self) -> None:
        self._buf = b""
        self.offset = 0
        self.order = "<"
        self.interfaces: list[_Interface] = []
        self.warnings: list[CaptureWarning] = []
        self._warned: set[str] = set()
        self.skipped = 0
        self._seen_shb = False
        self.error: CaptureError | None = None
        self.max_empty_records = MAX_EMPTY_RECORDS
        self._empty = 0  # consecutive blocks without packet data
        self.flooded = False

    def _warn_once(self, code: str, detail: str, offset: int) -> None:
        if code not in self._warned:
            self._warned.add(code)
            self.warnings.append(CaptureWarning(code, detail, offset))

    def feed(self, chunk: bytes) -> list[Packet]:
        out: list[Packet] = []
        if self.flooded:
            return out
        try:
            self._feed(chunk, out)
        except CaptureError as e:
            self.error = e
        return out

    def _feed(self, chunk: bytes, out: list[Packet]) -> None:
        buf = self._buf + chunk if self._buf else chunk
        n = len(buf)
        off = 0
        while off + 12 <= n:
            if buf[off:off + 4] == PCAPNG_SHB:
                bom = buf[off + 8:off + 12]
                if bom == b"\x4d\x3c\x2b\x1a":
                    self.order = "<"
                elif bom == b"\x1a\x2b\x3c\x4d":
                    self.order = ">"
                else:
                    raise CaptureError("pcapng section header with a bad byte-order magic",
                                       self.offset + off)
            elif not self._seen_shb:
                raise CaptureError("pcapng file does not start with a section header block",
                                   self.offset + off)
            btype, blen = struct.unpack_from(self.order + "II", buf, off)
            if blen < 12 or blen % 4:
                raise CaptureError(f"pcapng block length {blen} is invalid (type {btype:#x})",
                                   self.offset + off)
            if blen > MAX_BLOCK:
                raise CaptureError(f"pcapng block length {blen} is implausibly large",
                                   self.offset + off)
            if off + blen > n:
                break
            (trailer,) = struct.unpack_from(self.order + "I", buf, off + blen - 4)
            if trailer != blen:
                raise CaptureError(
                    f"pcapng block length {blen} does not match its trailer {trailer}",
                    self.offset + off)
            body = buf[off + 8:off + blen - 4]
            try:
                pkt = self._block(btype, body, self.offset + off)
            except (struct.error, IndexError):
                raise CaptureError(f"pcapng block of type {btype:#x} is malformed",
                                   self.offset + off) from None
            off += blen
            if pkt is not None:
                out.append(pkt)
                self._empty = 0
            else:
                self._empty += 1
                if self._empty > self.max_empty_records:
                    _flood(self, self.offset + off - blen)
                    break
        self._buf = buf[off:]
        self.offset += off

    def _block(self, btype: int, body: bytes, where: int) -> Packet | None:
        o = self.order
        if btype == 0x0A0D0D0A:
            self._seen_shb = True
            self.interfaces = []
            return None
        if btype == 1:  # Interface Description Block
            if len(body) < 8:
                raise CaptureError("pcapng interface description block too short", where)
            linktype, _res, snaplen = struct.unpack_from(o + "HHI", body, 0)
            iface = _Interface(linktype, snaplen)
            self._idb_options(iface, body[8:])
            self.interfaces.append(iface)
            return None
        if btype == 6 or btype == 2:  # Enhanced Packet Block, obsolete Packet Block
            if len(body) < 20:
                self.skipped += 1
                self._warn_once("bad_packet_block", "a packet block is too short", where)
                return None
            if btype == 6:
                if_id, hi, lo, caplen, origlen = struct.unpack_from(o + "IIIII", body, 0)
            else:
                if_id, _drops, hi, lo, caplen, origlen = struct.unpack_from(o + "HHIIII", body, 0)
            if if_id >= len(self.interfaces):
                self.skipped += 1
                self._warn_once("packet_without_interface",
                                f"a packet names interface {if_id}, which was never described",
                                where)
                return None
            if caplen > len(body) - 20:
                self.skipped += 1
                self._warn_once("caplen_over_block",
                                "a packet's captured length runs past its block", where)
                return None
            iface = self.interfaces[if_id]
            if caplen == 0:
                self.skipped += 1
                return None
            ts = ((hi << 32) | lo) * iface.unit + iface.offset
            if not 0.0 <= ts <= MAX_TS:
                ts = _bad_ts(self, ts, where)
            return (ts, iface.linktype, body[20:20 + caplen], origlen)
        if btype == 3:  # Simple Packet Block: interface 0, no timestamp
            if not self.interfaces or len(body) < 4:
                self.skipped += 1
                self._warn_once("packet_without_interface",
                                "a simple packet block comes before any interface", where)
                return None
            (origlen,) = struct.unpack_from(o + "I", body, 0)
            iface = self.interfaces[0]
            caplen = min(origlen, len(body) - 4)
            if iface.snaplen:
                caplen = min(caplen, iface.snaplen)
            if caplen <= 0:
                self.skipped += 1
                return None
            return (0.0, iface.linktype, body[4:4 + caplen], origlen)
        return None  # name resolution, statistics, custom, decryption secrets...: skipped

    def _idb_options(self, iface: _Interface, opts: bytes) -> None:
        o = self.order
        i = 0
        while i + 4 <= len(opts):
            code, length = struct.unpack_from(o + "HH", opts, i)
            val = opts[i + 4:i + 4 + length]
            if code == 0:
                break
            if code == 9 and length >= 1:  # if_tsresol
                r = val[0]
                iface.unit = 2.0 ** -(r & 0x7F) if r & 0x80 else 10.0 ** -r
            elif code == 14 and length >= 8:  # if_tsoffset, seconds
                (iface.offset,) = struct.unpack_from(o + "q", val, 0)
            i += 4 + ((length + 3) & ~3)

    def close(self) -> None:
        if self._buf and not self.flooded:
            self.warnings.append(CaptureWarning(
                "capture_truncated",
                f"the capture is cut short in the middle of a block ({len(self._buf)} bytes left over)",
                self.offset))
            self._buf = b""


def parser_for(head: bytes) -> PcapParser | PcapngParser:
    """Pick the parser from the first bytes of the (decompressed) file; raise if none fits."""
    if head[:4] in PCAP_MAGICS:
        return PcapParser(head[:24])
    if head[:4] == PCAPNG_SHB:
        return PcapngParser()
    raise CaptureError(f"not a pcap or pcapng capture: {_describe_unknown(head)}", 0)


def is_pipe(path: str | os.PathLike) -> bool:
    """A FIFO: what stdin, ``-``, ``/dev/stdin`` and ``<(...)`` are when a pipe feeds them."""
    try:
        return stat.S_ISFIFO(os.stat(path).st_mode)
    except OSError:
        return False


class _Stream:
    """A pipe or stream: ``read(n)`` returns what one read gives (not n bytes, which would wait
    for n; a header of up to 64 bytes is read whole), and the first bytes can be looked at
    (``head``) and are read again."""

    def __init__(self, raw) -> None:
        self.raw = raw
        self.pending = b""
        self._read1 = getattr(raw, "read1", raw.read)

    def head(self, n: int) -> bytes:
        while len(self.pending) < n:
            more = self._read1(n - len(self.pending))
            if not more:
                break
            self.pending += more
        return self.pending[:n]

    def read(self, n: int = -1) -> bytes:
        if 0 < n <= 64:  # a header: exactly n bytes unless the stream ends
            out = self.head(n)
            self.pending = self.pending[len(out):]
            return out
        if self.pending:
            out, self.pending = self.pending, b""
            return out
        return self._read1(n if n and n > 0 else CHUNK)

    def close(self) -> None:
        self.raw.close()


@dataclass
class CaptureReader:
    """Streams the packets of one capture file (pcap, pcapng, either gzip-compressed).

    Usage: ``for ts, linktype, data, orig_len in reader.packets(): ...``; afterwards ``warnings``
    holds framing warnings (including ``capture_truncated``) and ``bytes_read`` the bytes consumed.
    """

    path: "Path | BinaryIO"  # a path, or a binary file object read as a stream
    chunk_size: int = CHUNK
    format: str = ""
    compressed: bool = False
    warnings: list[CaptureWarning] = field(default_factory=list)
    skipped_packets: int = 0
    bytes_read: int = 0
    max_gunzip_bytes: int = MAX_GUNZIP_BYTES
    max_gunzip_ratio: int = MAX_GUNZIP_RATIO
    gunzip_ratio_floor: int = GUNZIP_RATIO_FLOOR
    stopped_early: bool = False  # a decompression limit ended the data

    def _open(self) -> BinaryIO:
        """A binary file object (read as a stream), a regular file or a FIFO (a pipe, `-`,
        ``/dev/stdin``, process substitution: read as it comes, never rewound)."""
        if hasattr(self.path, "read"):
            f = self.path
        else:
            try:
                mode = os.stat(self.path).st_mode
            except OSError as e:
                raise CaptureError(f"cannot open {self.path}: {e.strerror or e}") from None
            if stat.S_ISDIR(mode):
                raise CaptureError(f"{self.path} is a directory, not a capture file")
            if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):
                raise CaptureError(f"{self.path} is not a regular file or a pipe (device or socket)")
            try:
                f = open(self.path, "rb", buffering=-1 if stat.S_ISREG(mode) else 0)
            except IsADirectoryError:
                raise CaptureError(f"{self.path} is a directory, not a capture file") from None
            except OSError as e:
                raise CaptureError(f"cannot open {self.path}: {e.strerror or e}") from None
        if not f.seekable():  # a stream: read as it comes (a pipe's bytes are handed on at once)
            f = _Stream(f)
            head = f.head(2)
        else:
            head = f.read(2)
            f.seek(0)
        if head == GZIP_MAGIC:
            self.compressed = True
            return Gunzip(f, max_bytes=self.max_gunzip_bytes, max_ratio=self.max_gunzip_ratio,  # type: ignore[return-value]
                          ratio_floor=self.gunzip_ratio_floor)
        return f

    def packets(self) -> Iterator[Packet]:
        """Every packet, one by one (iterates over `batches` at C speed)."""
        return chain.from_iterable(self.batches())

    def batches(self) -> Iterator[list[Packet]]:
        """The packets in lists, one list per chunk read."""
        f = self._open()
        try:
            yield from self._stream(f)
        finally:
            f.close()

    def _read(self, f: BinaryIO, size: int) -> tuple[bytes, bool]:
        """Read up to size bytes; a damaged gzip stream ends the data with a warning."""
        try:
            data = f.read(size)
        except OSError as e:
            raise CaptureError(f"read error on {self.path}: {e.strerror or e}") from None
        problem = getattr(f, "problem", None)  # a Gunzip stream that ended early keeps its data
        if problem is not None and not data:
            self.warnings.append(problem)
            self.stopped_early = problem.code != "capture_truncated"
            f.problem = None  # type: ignore[attr-defined]
            return b"", True
        return data, False

    def _stream(self, f: BinaryIO) -> Iterator[list[Packet]]:
        head, broken = self._read(f, 24)
        if len(head) < 24 and not head[:4] == PCAPNG_SHB:
            if head[:4] in PCAP_MAGICS:
                raise CaptureError("pcap file header cut short", len(head))
            raise CaptureError(f"not a pcap or pcapng capture: {_describe_unknown(head)}", 0)
        parser = parser_for(head)
        self.format = parser.format + (".gz" if self.compressed else "")
        self.bytes_read = len(head)
        pending = b"" if isinstance(parser, PcapParser) else head
        try:
            if pending:
                yield parser.feed(pending)
            while not broken and parser.error is None and not parser.flooded:
                chunk, broken = self._read(f, self.chunk_size)
                if not chunk:
                    break
                self.bytes_read += len(chunk)
                yield parser.feed(chunk)
            if parser.error is not None:
                raise parser.error
            if self.stopped_early:  # a limit stopped reading: the packet it cut is not "truncation"
                parser._buf = b""
            parser.close()
        finally:
            self.warnings.extend(parser.warnings)
            self.skipped_packets = parser.skipped
