"""pcap and pcapng writers (struct-based, deterministic); ``.gz`` paths are gzip-compressed."""

from __future__ import annotations

import gzip
import io
import os
import struct
from typing import BinaryIO, Sequence

from .frames import Packet

SNAPLEN = 262144
_PCAPNG_SHB, _PCAPNG_IDB, _PCAPNG_SPB, _PCAPNG_EPB = 0x0A0D0D0A, 1, 3, 6
_USERAPPL = b"tlsinspect synth"

Destination = str | os.PathLike[str] | BinaryIO


def _split_ts(ts: float, per_second: int) -> tuple[int, int]:
    """Seconds and fraction (in 1/per_second units) of a timestamp."""
    seconds = int(ts)
    fraction = round((ts - seconds) * per_second)
    if fraction >= per_second:
        seconds, fraction = seconds + 1, fraction - per_second
    return seconds, fraction


def _emit(dest: Destination, data: bytes) -> None:
    if isinstance(dest, (str, os.PathLike)):
        path = os.fspath(dest)
        if path.endswith(".gz"):
            with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
                gz.write(data)
        else:
            with open(path, "wb") as fh:
                fh.write(data)
    else:
        dest.write(data)


def to_pcap_bytes(
    packets: Sequence[Packet],
    *,
    nanosecond: bool = False,
    big_endian: bool = False,
    snaplen: int = SNAPLEN,
    linktype: int | None = None,
) -> bytes:
    """Encode packets as a classic pcap file; all must share one link type.

    ``linktype`` is required for an empty list, and checked against the packets otherwise.
    """
    linktypes = {p.linktype for p in packets} | ({linktype} if linktype is not None else set())
    if len(linktypes) != 1:
        raise ValueError(f"pcap needs exactly one link type, got {sorted(linktypes) or 'none'}")
    e = ">" if big_endian else "<"
    magic = 0xA1B23C4D if nanosecond else 0xA1B2C3D4
    per_second = 10**9 if nanosecond else 10**6
    out = io.BytesIO()
    out.write(struct.pack(f"{e}IHHiIII", magic, 2, 4, 0, 0, snaplen, linktypes.pop()))
    for p in packets:
        seconds, fraction = _split_ts(p.ts, per_second)
        data = p.data[:snaplen]
        out.write(struct.pack(f"{e}IIII", seconds, fraction, len(data), len(p.data)))
        out.write(data)
    return out.getvalue()


def write_pcap(
    dest: Destination,
    packets: Sequence[Packet],
    *,
    nanosecond: bool = False,
    big_endian: bool = False,
    snaplen: int = SNAPLEN,
    linktype: int | None = None,
) -> None:
    """Write a pcap file to a path or binary file object (see ``to_pcap_bytes``)."""
    data = to_pcap_bytes(packets, nanosecond=nanosecond, big_endian=big_endian, snaplen=snaplen, linktype=linktype)
    _emit(dest, data)


def _options(e: str, options: Sequence[tuple[int, bytes]]) -> bytes:
    out = b"".join(
        struct.pack(f"{e}HH", code, len(value)) + value + b"\0" * (-len(value) % 4) for code, value in options
    )
    return out + struct.pack(f"{e}HH", 0, 0) if options else b""


def _block(e: str, block_type: int, body: bytes) -> bytes:
    length = 12 + len(body)
    return struct.pack(f"{e}II", block_type, length) + body + struct.pack(f"{e}I", length)


def to_pcapng_bytes(
    packets: Sequence[Packet],
    *,
    big_endian: bool = False,
    nanosecond: bool = False,
    simple: bool = False,
) -> bytes:
    """Encode packets as pcapng: one SHB, one IDB per link type (in order of first use), EPBs.

    ``nanosecond`` sets if_tsresol=9 (else 6, microseconds). ``simple`` writes the last
    packet of interface 0 as a Simple Packet Block (which carries no timestamp).
    """
    e = ">" if big_endian else "<"
    tsresol = 9 if nanosecond else 6
    per_second = 10**tsresol
    interfaces: dict[int, int] = {}
    for p in packets:
        interfaces.setdefault(p.linktype, len(interfaces))
    spb_index = max((i for i, p in enumerate(packets) if interfaces[p.linktype] == 0), default=-1) if simple else -1

    out = io.BytesIO()
    shb = struct.pack(f"{e}IHHq", 0x1A2B3C4D, 1, 0, -1) + _options(e, [(4, _USERAPPL)])
    out.write(_block(e, _PCAPNG_SHB, shb))
    for linktype, index in interfaces.items():
        options = [(2, f"synth{index}".encode()), (9, bytes([tsresol]))]
        out.write(_block(e, _PCAPNG_IDB, struct.pack(f"{e}HHI", linktype, 0, SNAPLEN) + _options(e, options)))
    for i, p in enumerate(packets):
        padded = p.data + b"\0" * (-len(p.data) % 4)
        if i == spb_index:
            out.write(_block(e, _PCAPNG_SPB, struct.pack(f"{e}I", len(p.data)) + padded))
            continue
        seconds, fraction = _split_ts(p.ts, per_second)
        units = seconds * per_second + fraction
        header = struct.pack(f"{e}IIIII", interfaces[p.linktype], units >> 32, units & 0xFFFFFFFF,
                             len(p.data), len(p.data))
        out.write(_block(e, _PCAPNG_EPB, header + padded))
    return out.getvalue()


def write_pcapng(
    dest: Destination,
    packets: Sequence[Packet],
    *,
    big_endian: bool = False,
    nanosecond: bool = False,
    simple: bool = False,
) -> None:
    """Write a pcapng file to a path or binary file object (see ``to_pcapng_bytes``)."""
    _emit(dest, to_pcapng_bytes(packets, big_endian=big_endian, nanosecond=nanosecond, simple=simple))


def write_capture(path: str | os.PathLike[str], packets: Sequence[Packet], *, big_endian: bool = False,
                  nanosecond: bool = False) -> None:
    """Write pcapng when the name ends in ``.pcapng`` (or ``.pcapng.gz``), else pcap."""
    if os.fspath(path).removesuffix(".gz").endswith(".pcapng"):
        write_pcapng(path, packets, big_endian=big_endian, nanosecond=nanosecond)
    else:
        write_pcap(path, packets, big_endian=big_endian, nanosecond=nanosecond)
