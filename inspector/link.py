"""Link and IP layers: a captured frame -> where its TCP header is.

`LinkDecoder.decode(linktype, data, ts)` returns ``(src, dst, buf, tcp_off, end)`` for a TCP packet —
the IP addresses as raw bytes (4 or 16), the buffer holding the IP datagram (the frame itself, or a
reassembled datagram for IPv4 fragments), the offset of the TCP header and the end of the IP
payload — or ``None`` for anything that is not TCP, counting why in ``skipped``.  It never raises
on malformed frames: a frame too short or inconsistent for its headers is counted and skipped.
"""

from __future__ import annotations

import socket
from array import array
from bisect import bisect_left, bisect_right
from collections import Counter, OrderedDict

# Link types (tcpdump.org/linktypes.html).
DLT_NULL = 0
DLT_EN10MB = 1
DLT_RAW = 101
DLT_RAW_12 = 12  # OpenBSD's DLT_RAW value, as libpcap maps it
DLT_RAW_14 = 14
DLT_LOOP = 108
DLT_LINUX_SLL = 113
DLT_IPV4 = 228
DLT_IPV6 = 229
DLT_LINUX_SLL2 = 276

LINKTYPE_NAMES = {
    DLT_NULL: "BSD loopback", DLT_EN10MB: "Ethernet", DLT_RAW: "raw IP", DLT_RAW_12: "raw IP",
    DLT_RAW_14: "raw IP", DLT_LOOP: "OpenBSD loopback", DLT_LINUX_SLL: "Linux cooked (SLL)",
    DLT_IPV4: "raw IPv4", DLT_IPV6: "raw IPv6", DLT_LINUX_SLL2: "Linux cooked v2 (SLL2)",
}
SUPPORTED_LINKTYPES = frozenset(LINKTYPE_NAMES)

ETH_IPV4 = 0x0800
ETH_IPV6 = 0x86DD
ETH_VLAN_TAGS = (0x8100, 0x88A8, 0x9100, 0x9200)
ETH_MPLS = (0x8847, 0x8848)
ETH_PPPOE_SESSION = 0x8864

IPPROTO_TCP = 6
IPPROTO_IPIP = 4
IPPROTO_IPV6 = 41
IPV6_EXT_HEADERS = frozenset((0, 43, 60, 51, 135, 139, 140, 253, 254))
IPV6_FRAGMENT = 44
MAX_IPV6_EXT = 16
MAX_TUNNEL_DEPTH = 4

# IPv4 fragment reassembly bounds (the defaults of `Limits.max_frag_datagrams` & co.).
MAX_FRAG_DATAGRAMS = 1024  # datagrams in progress; the oldest is evicted
MAX_FRAG_BYTES = 65535  # bytes per reassembled datagram, IP header included
FRAG_TIMEOUT = 30.0  # seconds of capture time from a datagram's first fragment

#: The ``LinkDecoder.skipped`` reasons (and capture warnings) of fragment reassembly.
FRAGMENT_WARNINGS = {
    "ip_fragment_table_full": "{n} fragmented IPv4 datagrams were dropped: more than {limit} were in "
                              "progress at once (the oldest is evicted)",
    "ip_fragment_expired": "{n} fragmented IPv4 datagrams never completed (a fragment missing after "
                           "{timeout:g} s of capture time, or at the end of the capture)",
    "ip_fragment_too_large": "{n} IPv4 fragments were dropped: their datagram would exceed {max_bytes} "
                             "bytes",
}

Decoded = tuple[bytes, bytes, bytes, int, int]


class _Datagram:
    """One IPv4 datagram being reassembled."""

    __slots__ = ("first_ts", "buf", "cover", "total", "header", "dead")

    def __init__(self, ts: float) -> None:
        self.first_ts = ts
        self.buf = bytearray()
        self.cover = array("I")  # covered intervals, flattened: s0, e0, s1, e1, ... (s0 < e0 < s1 ...)
        self.total: int | None = None  # payload length, once the last fragment (MF=0) is seen
        self.header: bytes | None = None  # the first fragment's IP header
        self.dead = False  # over the size bound: its fragments are dropped

    def add(self, data: bytes, base: int, s: int, e: int) -> None:
        """Copy the holes of [s, e) from ``data[base + s:base + e]``; merge the intervals touched."""
        cover = self.cover
        buf = self.buf
        if e > len(buf):
            buf.extend(bytes(e - len(buf)))
        i = bisect_left(cover, s)
        lo = i - 1 if i & 1 else i  # odd: s lies in (or at the end of) interval (i-1)//2
        j = bisect_right(cover, e)
        hi = j + 1 if j & 1 else j  # odd: e lies inside interval (j-1)//2
        mv = memoryview(data)
        cur = s
        for k in range(lo, hi, 2):
            a, b = cover[k], cover[k + 1]
            if a > cur:
                buf[cur:a] = mv[base + cur:base + a]
            if b > cur:
                cur = b
        if cur < e:
            buf[cur:e] = mv[base + cur:base + e]
        new_s = cover[lo] if lo < hi and cover[lo] < s else s
        new_e = cover[hi - 1] if lo < hi and cover[hi - 1] > e else e
        cover[lo:hi] = array("I", (new_s, new_e))


class LinkDecoder:
    """Stateful only for IPv4 fragment reassembly, bounded by the three limits below (the
    `Limits.max_frag_datagrams`, `max_frag_bytes` and `frag_timeout` options)."""

    def __init__(self, *, max_datagrams: int = MAX_FRAG_DATAGRAMS, max_bytes: int = MAX_FRAG_BYTES,
                 timeout: float = FRAG_TIMEOUT) -> None:
        self.skipped: Counter[str] = Counter()
        self.max_datagrams = max(1, max_datagrams)
        self.max_bytes = max_bytes
        self.timeout = timeout
        self._frags: OrderedDict[tuple, _Datagram] = OrderedDict()
        self._ts = 0.0
        self.cut = False  # the last datagram decoded was longer than the captured bytes (snaplen)

    def decode(self, linktype: int, data: bytes, ts: float = 0.0) -> Decoded | None:
        self._ts = ts
        self.cut = False
        n = len(data)
        if linktype == DLT_EN10MB:
            if n < 14:
                self.skipped["short_frame"] += 1
                return None
            et = (data[12] << 8) | data[13]
            off = 14
            tags = 0
            while et in ETH_VLAN_TAGS and tags < 4:
                if off + 4 > n:
                    self.skipped["short_frame"] += 1
                    return None
                et = (data[off + 2] << 8) | data[off + 3]
                off += 4
                tags += 1
        elif linktype == DLT_LINUX_SLL:
            if n < 16:
                self.skipped["short_frame"] += 1
                return None
            et = (data[14] << 8) | data[15]
            off = 16
        elif linktype == DLT_LINUX_SLL2:
            if n < 20:
                self.skipped["short_frame"] += 1
                return None
            et = (data[0] << 8) | data[1]
            off = 20
        elif linktype in (DLT_RAW, DLT_RAW_12, DLT_RAW_14, DLT_IPV4, DLT_IPV6):
            return self._ip(data, 0, 0)
        elif linktype == DLT_NULL or linktype == DLT_LOOP:
            if n < 4:
                self.skipped["short_frame"] += 1
                return None
            return self._ip(data, 4, 0)  # the AF value varies by OS; the IP version nibble does not
        else:
            self.skipped[f"unsupported_linktype_{linktype}"] += 1
            return None
        return self._ether_payload(data, off, et)

    def _ether_payload(self, data: bytes, off: int, et: int) -> Decoded | None:
        if et == ETH_IPV4 or et == ETH_IPV6:
            return self._ip(data, off, 0)
        if et in ETH_MPLS:
            labels = 0
            while off + 4 <= len(data) and labels < 8:
                bottom = data[off + 2] & 1
                off += 4
                labels += 1
                if bottom:
                    return self._ip(data, off, 0)
            self.skipped["bad_mpls"] += 1
            return None
        if et == ETH_PPPOE_SESSION:
            if off + 8 > len(data):
                self.skipped["short_frame"] += 1
                return None
            proto = (data[off + 6] << 8) | data[off + 7]
            if proto in (0x0021, 0x0057):
                # the PPPoE length (PPP protocol + payload) ends the datagram: Ethernet padding after
                # it must not be read as TCP data
                end = off + 6 + ((data[off + 4] << 8) | data[off + 5])
                return self._ip(data[:end] if end < len(data) else data, off + 8, 0)
        self.skipped["not_ip"] += 1
        return None

    def _ip(self, data: bytes, off: int, depth: int) -> Decoded | None:
        if off >= len(data):
            self.skipped["short_frame"] += 1
            return None
        v = data[off] >> 4
        if v == 4:
            return self._ipv4(data, off, depth)
        if v == 6:
            return self._ipv6(data, off, depth)
        self.skipped["not_ip"] += 1
        return None

    def _ipv4(self, data: bytes, off: int, depth: int) -> Decoded | None:
        n = len(data)
        if off + 20 > n:
            self.skipped["truncated_ip"] += 1
            return None
        ihl = (data[off] & 15) * 4
        total = (data[off + 2] << 8) | data[off + 3]
        if ihl < 20:
            self.skipped["ipv4_bad_ihl"] += 1
            return None
        if total < ihl:
            if total == 0:  # TSO/LRO captures: length not filled in
                total = n - off
            else:
                self.skipped["ipv4_bad_total_length"] += 1
                return None
        end = off + total
        if end > n:
            end = n  # snaplen cut: keep what was captured
            self.cut = True
        if off + ihl > end:
            self.skipped["truncated_ip"] += 1
            return None
        proto = data[off + 9]
        frag = ((data[off + 6] & 0x3F) << 8) | data[off + 7]
        if frag:
            return self._fragment(data, off, ihl, end, depth)
        if proto == IPPROTO_TCP:
            return data[off + 12:off + 16], data[off + 16:off + 20], data, off + ihl, end
        if (proto == IPPROTO_IPIP or proto == IPPROTO_IPV6) and depth < MAX_TUNNEL_DEPTH:
            return self._ip(data[:end], off + ihl, depth + 1)
        self.skipped["not_tcp"] += 1
        return None

    def _fragment(self, data: bytes, off: int, ihl: int, end: int, depth: int) -> Decoded | None:
        """Reassemble IPv4 fragments: linear in the fragments received, first copy wins on overlap.

        Each datagram in progress is a `_Datagram`: a buffer that grows to the highest offset seen
        (at most ``max_bytes``) and a flat sorted array of the covered intervals.  A fragment fills
        only the holes it covers, so each byte is copied once; the intervals it touches merge into
        one.  Bounds: ``max_datagrams`` in progress (the oldest is evicted:
        ``ip_fragment_table_full``), ``max_bytes`` per datagram (``ip_fragment_too_large``), and
        ``timeout`` seconds of capture time from a datagram's first fragment
        (``ip_fragment_expired``, also for datagrams still incomplete at `finish`).
        """
        more = data[off + 6] & 0x20
        foff = (((data[off + 6] & 0x1F) << 8) | data[off + 7]) * 8
        key = (data[off + 12:off + 20], data[off + 4:off + 6], data[off + 9])
        frags = self._frags
        ts = self._ts
        while frags:  # expire from the oldest (first fragments arrive in capture order)
            oldest = next(iter(frags.values()))
            if ts - oldest.first_ts <= self.timeout:
                break
            self._drop(frags.popitem(last=False)[1], "ip_fragment_expired")
        st = frags.get(key)
        if st is None:
            if len(frags) >= self.max_datagrams:
                self._drop(frags.popitem(last=False)[1], "ip_fragment_table_full")
            st = frags[key] = _Datagram(ts)
        if st.dead:
            self.skipped["ip_fragment_too_large"] += 1
            return None
        stop = foff + (end - off - ihl)
        if ihl + stop > self.max_bytes:
            st.dead = True  # later fragments of the same datagram are dropped, not restarted
            st.buf = bytearray()
            st.cover = array("I")
            self.skipped["ip_fragment_too_large"] += 1
            return None
        if foff == 0 and st.header is None:
            st.header = data[off:off + ihl]
        if not more and st.total is None:
            st.total = stop
        total = st.total
        if total is not None and stop > total:
            stop = total  # bytes past the last fragment's end are not part of the datagram
        if stop > foff:
            st.add(data, off + ihl - foff, foff, stop)
        cover = st.cover
        if total is None or st.header is None or len(cover) != 2 or cover[0] != 0 or cover[1] < total:
            return None
        del frags[key]
        header = bytearray(st.header)
        header[6] = header[7] = 0
        header[2:4] = (len(header) + total).to_bytes(2, "big")
        datagram = bytes(header) + bytes(memoryview(st.buf)[:total])
        return self._ipv4(datagram, 0, depth)

    def _drop(self, st: "_Datagram", reason: str) -> None:
        if not st.dead:
            self.skipped[reason] += 1

    def finish(self) -> None:
        """The capture has ended: datagrams still incomplete count as ``ip_fragment_expired``."""
        for st in self._frags.values():
            self._drop(st, "ip_fragment_expired")
        self._frags.clear()

    def _ipv6(self, data: bytes, off: int, depth: int) -> Decoded | None:
        n = len(data)
        if off + 40 > n:
            self.skipped["truncated_ip"] += 1
            return None
        plen = (data[off + 4] << 8) | data[off + 5]
        end = off + 40 + plen if plen else n
        if end > n:
            end = n
            self.cut = True
        nh = data[off + 6]
        p = off + 40
        hops = 0
        while nh in IPV6_EXT_HEADERS or nh == IPV6_FRAGMENT:
            hops += 1
            if hops > MAX_IPV6_EXT or p + 8 > end:
                self.skipped["ipv6_bad_extension_headers"] += 1
                return None
            if nh == IPV6_FRAGMENT:
                fo = ((data[p + 2] << 8) | data[p + 3])
                if fo & 0xFFF9:  # offset != 0 or more-fragments set: a real fragment
                    self.skipped["ipv6_fragment"] += 1
                    return None
                nh = data[p]
                p += 8
            elif nh == 51:  # AH: length in 4-octet units, minus 2
                nxt, ln = data[p], (data[p + 1] + 2) * 4
                nh = nxt
                p += ln
            else:
                nxt, ln = data[p], (data[p + 1] + 1) * 8
                nh = nxt
                p += ln
        if p > end:
            self.skipped["ipv6_bad_extension_headers"] += 1
            return None
        if nh == IPPROTO_TCP:
            return data[off + 8:off + 24], data[off + 24:off + 40], data, p, end
        if (nh == IPPROTO_IPIP or nh == IPPROTO_IPV6) and depth < MAX_TUNNEL_DEPTH:
            return self._ip(data[:end], p, depth + 1)
        self.skipped["not_tcp"] += 1
        return None


def ip_to_str(raw: bytes) -> str:
    """Text form of a 4- or 16-byte address (IPv6 compressed per RFC 5952)."""
    return socket.inet_ntop(socket.AF_INET if len(raw) == 4 else socket.AF_INET6, raw)
