"""Frame a Conversation into TCP/IP packets on a chosen link layer.

Deterministic: timestamps step by fixed amounts (10 us inside a flight, 400 us between
flights, 5 ms before a retransmitted duplicate), and reordering/duplication draw from
``random.Random(seed)``.
"""

from __future__ import annotations

import ipaddress
import random
import struct
from dataclasses import dataclass
from typing import Iterable, Literal

from .handshake import Conversation

LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_LINUX_SLL = 113
LINKTYPE_LINUX_SLL2 = 276

Link = Literal["ether", "vlan", "qinq", "sll", "sll2", "raw", "null"]
LINKTYPES: dict[str, int] = {
    "ether": LINKTYPE_ETHERNET,
    "vlan": LINKTYPE_ETHERNET,
    "qinq": LINKTYPE_ETHERNET,
    "sll": LINKTYPE_LINUX_SLL,
    "sll2": LINKTYPE_LINUX_SLL2,
    "raw": LINKTYPE_RAW,
    "null": LINKTYPE_NULL,
}

VLAN_ID = 100
"""802.1Q VLAN of the ``vlan`` link, and the inner tag of ``qinq``."""
QINQ_OUTER_VLAN_ID = 200
CLIENT_MAC = bytes.fromhex("001122334455")
SERVER_MAC = bytes.fromhex("005056aabbcc")
BSD_AF_INET, BSD_AF_INET6 = 2, 24
"""Address families of the ``null`` link (24 is AF_INET6 on NetBSD/OpenBSD)."""
IPV6_PREFIX = ipaddress.IPv6Address("2001:db8::")
"""IPv4 addresses are mapped into this prefix (low 32 bits) when ``ipv6=True``."""

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
_IN_FLIGHT_US, _BETWEEN_FLIGHTS_US = 10, 400
_RETRANSMIT_US = 5000
"""Delay before a duplicated segment: longer than tshark's out-of-order window (3 ms or the SYN RTT)."""
_WINDOW = 64240


@dataclass(frozen=True)
class Packet:
    """One captured frame: timestamp (epoch seconds), link type and bytes from the link header on."""

    ts: float
    linktype: int
    data: bytes


@dataclass
class _Segment:
    from_client: bool
    flags: int
    seq: int
    ack: int
    payload: bytes = b""
    options: bytes = b""


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _ip(address: str, ipv6: bool) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    ip = ipaddress.ip_address(address)
    if ipv6 and ip.version == 4:
        return ipaddress.IPv6Address(int(IPV6_PREFIX) | int(ip))
    return ip


class _Framer:
    """Encodes segments of one connection into link-layer frames."""

    def __init__(self, client: tuple[str, int], server: tuple[str, int], link: Link, ipv6: bool):
        if link not in LINKTYPES:
            raise ValueError(f"unknown link {link!r}; choose one of {sorted(LINKTYPES)}")
        self.client_ip, self.server_ip = _ip(client[0], ipv6), _ip(server[0], ipv6)
        if self.client_ip.version != self.server_ip.version:
            raise ValueError("client and server addresses must be of the same IP version")
        self.client_port, self.server_port = client[1], server[1]
        self.link = link
        self.ip_id = {True: 0x1000, False: 0x5000}

    def frame(self, seg: _Segment) -> bytes:
        src, dst = (self.client_ip, self.server_ip) if seg.from_client else (self.server_ip, self.client_ip)
        sport, dport = (self.client_port, self.server_port) if seg.from_client else (self.server_port, self.client_port)
        offset = (20 + len(seg.options)) // 4 << 12
        tcp = struct.pack("!HHIIHHHH", sport, dport, seg.seq & 0xFFFFFFFF, seg.ack & 0xFFFFFFFF,
                          offset | seg.flags, _WINDOW, 0, 0) + seg.options + seg.payload
        ttl = 64 if seg.from_client else 62
        if src.version == 4:
            pseudo = src.packed + dst.packed + struct.pack("!BBH", 0, 6, len(tcp))
            ip_id = self.ip_id[seg.from_client]
            self.ip_id[seg.from_client] = (ip_id + 1) & 0xFFFF
            header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), ip_id, 0x4000, ttl, 6, 0,
                                 src.packed, dst.packed)
            header = header[:10] + struct.pack("!H", _checksum(header)) + header[12:]
        else:
            pseudo = src.packed + dst.packed + struct.pack("!I3xB", len(tcp), 6)
            header = struct.pack("!IHBB16s16s", 6 << 28, len(tcp), 6, ttl, src.packed, dst.packed)
        tcp = tcp[:16] + struct.pack("!H", _checksum(pseudo + tcp)) + tcp[18:]
        return self._link_header(seg.from_client, src.version) + header + tcp

    def _link_header(self, from_client: bool, version: int) -> bytes:
        ethertype = 0x0800 if version == 4 else 0x86DD
        src_mac, dst_mac = (CLIENT_MAC, SERVER_MAC) if from_client else (SERVER_MAC, CLIENT_MAC)
        # Linux cooked captures are taken on the server: client packets arrive (0), its own leave (4).
        pkttype = 0 if from_client else 4
        match self.link:
            case "ether":
                return dst_mac + src_mac + struct.pack("!H", ethertype)
            case "vlan":
                return dst_mac + src_mac + struct.pack("!HHH", 0x8100, VLAN_ID, ethertype)
            case "qinq":
                return dst_mac + src_mac + struct.pack("!HHHHH", 0x88A8, QINQ_OUTER_VLAN_ID, 0x8100, VLAN_ID, ethertype)
            case "sll":
                return struct.pack("!HHH8sH", pkttype, 1, 6, src_mac, ethertype)
            case "sll2":
                return struct.pack("!HHIHBB8s", ethertype, 0, 2, 1, pkttype, 6, src_mac)
            case "null":
                return struct.pack("<I", BSD_AF_INET if version == 4 else BSD_AF_INET6)
            case _:  # raw IP
                return b""


def _shuffle_flight(flight: list[_Segment], rng: random.Random, reorder: bool, duplicate: bool
                    ) -> list[tuple[_Segment, int]]:
    """(segment, extra delay in us) in send order: one adjacent pair swapped, one segment resent after a timeout."""
    sent = [(seg, 0) for seg in flight]
    if reorder and len(sent) >= 2:
        i = rng.randrange(len(sent) - 1)
        sent[i], sent[i + 1] = sent[i + 1], sent[i]
    if duplicate and flight:
        sent.append((flight[rng.randrange(len(flight))], _RETRANSMIT_US))
    return sent


def tcp_packets(
    conv: Conversation,
    *,
    client: tuple[str, int] = ("10.10.1.20", 51000),
    server: tuple[str, int] = ("10.10.2.10", 5061),
    link: Link = "ether",
    ipv6: bool = False,
    mss: int = 1460,
    segment_size: int | None = None,
    reorder: bool = False,
    duplicate: bool = False,
    seed: int = 0,
    t0: float = 1700000000.0,
    isn_client: int = 1000,
    isn_server: int = 5000,
    syn: bool = True,
    close: Literal["fin", "rst"] | None = "fin",
    rst_by: Literal["client", "server"] = "client",
) -> list[Packet]:
    """Frame ``conv`` as one TCP connection from ``client`` to ``server``.

    Each chunk becomes one flight of segments of at most ``min(mss, segment_size)``
    payload bytes; the receiver ACKs a flight when it has nothing to send back.
    ``reorder`` swaps the send order of two adjacent segments per flight (sequence numbers
    are kept); ``duplicate`` resends one segment per flight 5 ms after it (tshark calls it a
    retransmission). ``syn=False`` starts mid-stream (no TCP handshake). Sequence numbers
    wrap at 2**32. IPv4 addresses map into 2001:db8::/96 when ``ipv6``.
    """
    framer = _Framer(client, server, link, ipv6)
    rng = random.Random(seed)
    size = min(mss, segment_size or mss)
    nxt = {True: isn_client, False: isn_server}
    flights: list[list[tuple[_Segment, int]]] = []

    if syn:
        syn_options = struct.pack("!BBHBBBB", 2, 4, mss, 1, 1, 4, 2)
        flights.append([(_Segment(True, SYN, isn_client, 0, options=syn_options), 0)])
        flights.append([(_Segment(False, SYN | ACK, isn_server, isn_client + 1, options=syn_options), 0)])
        nxt = {True: isn_client + 1, False: isn_server + 1}
        flights.append([(_Segment(True, ACK, nxt[True], nxt[False]), 0)])

    for i, (direction, data) in enumerate(conv.chunks):
        sender = direction == "c2s"
        flight = []
        for pos in range(0, len(data), size):
            payload = data[pos : pos + size]
            flags = ACK | (PSH if pos + size >= len(data) else 0)
            flight.append(_Segment(sender, flags, nxt[sender], nxt[not sender], payload))
            nxt[sender] += len(payload)
        flights.append(_shuffle_flight(flight, rng, reorder, duplicate))
        following = conv.chunks[i + 1][0] if i + 1 < len(conv.chunks) else None
        if following is None or following == direction:
            flights.append([(_Segment(not sender, ACK, nxt[not sender], nxt[sender]), 0)])

    if close == "fin":
        flights.append([(_Segment(True, FIN | ACK, nxt[True], nxt[False]), 0)])
        flights.append([(_Segment(False, FIN | ACK, nxt[False], nxt[True] + 1), 0)])
        flights.append([(_Segment(True, ACK, nxt[True] + 1, nxt[False] + 1), 0)])
    elif close == "rst":
        by_client = rst_by == "client"
        flights.append([(_Segment(by_client, RST | ACK, nxt[by_client], nxt[not by_client]), 0)])

    packets = []
    linktype = LINKTYPES[link]
    clock_us = 0
    for flight in flights:
        for seg, delay_us in flight:
            clock_us += delay_us
            packets.append(Packet(t0 + clock_us / 1e6, linktype, framer.frame(seg)))
            clock_us += _IN_FLIGHT_US
        clock_us += _BETWEEN_FLIGHTS_US - _IN_FLIGHT_US
    return packets


def merge(*packet_lists: Iterable[Packet]) -> list[Packet]:
    """Interleave packet lists by timestamp (stable: ties keep argument order)."""
    return sorted((p for packets in packet_lists for p in packets), key=lambda p: p.ts)
