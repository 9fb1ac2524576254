"""The pipeline: packets -> TCP connections -> TLS flows, certificates and events.

`Analyzer` is sans-I/O: `feed(packets)` takes ``(ts, linktype, data, orig_len)`` tuples from any
source and `finish()` returns an `Analysis`.  The per-packet loop is the hot path: it decodes the
link and IP headers (`LinkDecoder`), then looks the 4-tuple up in one dict.  Packets of
connections already judged (handshake over, or not TLS) are skipped after that lookup unless they
open a new connection on the same 4-tuple (SYN); only packets of connections whose handshake is
in progress go on to TCP reassembly and TLS parsing.  State is bounded: at most
``Limits.max_flows`` connections in flight (the oldest is evicted and still reported), and at most
``Limits.max_tombstones`` finished 4-tuples remembered.
"""

from __future__ import annotations

import gc
import struct
from dataclasses import replace
from sys import intern
from collections import Counter, deque
from itertools import chain
from typing import Callable, Iterable

from ..sources.capture import Packet
from ..x509 import CertInfo, parse_certificate_cached
from ..flows import DEFAULT_TLS_PORTS, Connection, build_flow
from ..model import Alert, Analysis, CertSeen, EventRecord, FlowRecord, Limits, MessageRecord
from ..link import FRAGMENT_WARNINGS, LinkDecoder, ip_to_str
from ..tcp import TCP_ACK, TCP_RST, TCP_SYN, missed_detail
from ..tls.decrypt import KeyLog

_SEQ = struct.Struct("!I")
_PORTS = struct.Struct("!HH")


class _Done:
    """Sentinel stored in the connection table for 4-tuples whose connection is judged."""

    __slots__ = ()


_DONE = _Done()


class Analyzer:
    def __init__(self, capture: str = "", *, ports: Iterable[int] = (),
                 limits: Limits | None = None, keylog: KeyLog | None = None,
                 on_flow: Callable[[FlowRecord, list[EventRecord]], None] | None = None) -> None:
        """``on_flow``: streaming mode.  Each flow is handed over as it ends, with its events, and
        not kept: memory then depends on the flows in flight, not on the capture's length.  Flow
        ids number flows in the order they end (the default mode numbers them by start time)."""
        self.keylog_read = keylog  # for its warnings; an empty key log decrypts nothing
        self.keylog = keylog if keylog is not None and len(keylog) else None
        self.on_flow = on_flow
        self.emitted = 0
        self.capture = capture
        self.tls_ports = DEFAULT_TLS_PORTS | frozenset(ports)
        self.limits = limits or Limits()
        self.decoder = LinkDecoder(max_datagrams=self.limits.max_frag_datagrams,
                                   max_bytes=self.limits.max_frag_bytes, timeout=self.limits.frag_timeout)
        self.table: dict[bytes, Connection | _Done] = {}
        self.active: dict[bytes, Connection] = {}  # key_a -> connection, oldest first
        self.tombstones: deque[bytes] = deque()
        self.buffered = 0  # sum of Connection.held over the flows in flight
        self.flows: list[FlowRecord] = []
        self.events: list[EventRecord] = []
        self.messages: list[MessageRecord] = []
        self.certs: dict[str, CertSeen] = {}
        self.stats: Counter = Counter()
        self.frame = 0
        self.first_ts: float | None = None
        self.last_ts: float | None = None

    # ---- the hot loop -----------------------------------------------------------------------
    def feed(self, packets: Iterable[Packet]) -> None:
        decode = self.decoder.decode
        table = self.table
        get = table.get
        tls_ports = self.tls_ports
        done = _DONE
        frame = self.frame
        unpack_seq = _SEQ.unpack_from
        stats = self.stats
        ts = None
        it = iter(packets)
        first = next(it, None)
        if first is None:
            return
        if self.first_ts is None:
            self.first_ts = first[0]
        # Connections and rows are many small objects with no reference cycles: collecting the
        # youngest generation every 700 allocations costs ~25% on captures of many short flows.
        thresholds = gc.get_threshold()
        gc.set_threshold(max(thresholds[0], 20_000), *thresholds[1:])
        try:
            for ts, lt, data, olen in chain((first,), it):
                frame += 1
                # Fast path: Ethernet II, IPv4 without options or fragmentation, TCP.  The 4-tuple
                # is one slice (addresses and ports are contiguous), so a packet of a judged
                # connection costs a few index operations and one dict lookup.  Everything else
                # (VLAN, IPv6, SLL, fragments...) goes through the general decoder.
                if lt == 1 and len(data) >= 54 and data[12] == 8 and data[13] == 0 \
                        and data[14] == 0x45 and not (data[20] & 0x3F or data[21]):
                    if data[23] != 6:
                        continue
                    key = data[26:38]
                    c = get(key)
                    flags = data[47]
                    if c is done:
                        if not flags & TCP_SYN or flags & TCP_ACK:
                            continue
                        c = None  # a new connection reuses a finished 4-tuple
                    end = 14 + ((data[16] << 8) | data[17])
                    cut = end > len(data)  # the IP datagram is longer than what was captured
                    if cut or end == 14:  # cut by the snaplen; 0 = not filled in (TSO)
                        end = len(data)
                    elif end < 54:
                        stats["truncated_tcp"] += 1
                        continue
                    src = data[26:30]
                    dst = data[30:34]
                    buf = data
                    t = 34
                else:
                    d = decode(lt, data, ts)
                    if d is None:
                        continue
                    src, dst, buf, t, end = d
                    cut = self.decoder.cut
                    if t + 20 > end:
                        stats["truncated_tcp"] += 1
                        continue
                    key = src + dst + buf[t:t + 4]
                    c = get(key)
                    flags = buf[t + 13]
                    if c is done:
                        if not flags & TCP_SYN or flags & TCP_ACK:
                            continue
                        c = None
                doff = (buf[t + 12] >> 4) * 4
                cut = cut and olen > len(data)  # the snaplen cut this packet (not just its padding or FCS)
                if doff < 20 or t + doff > end:
                    if not (cut and doff >= 20):
                        stats["bad_tcp_header_length"] += 1
                        continue
                    payload = b""  # the snaplen cut the TCP options: seq and flags still count
                else:
                    payload = buf[t + doff:end]
                    cut = cut and bool(payload)
                if c is None:
                    if flags & TCP_RST or not (payload or flags & TCP_SYN):
                        continue
                    c = self._open(key, src, dst, buf, t, flags, frame, ts)
                elif flags & TCP_SYN and not flags & TCP_ACK and key == c.key_a \
                        and c.isn_a is not None and unpack_seq(buf, t + 4)[0] != c.isn_a:
                    self._close(c)  # port reuse: a new SYN with a new ISN
                    c = self._open(key, src, dst, buf, t, flags, frame, ts)
                if cut and len(data) > c.snaplen:
                    c.snaplen = len(data)
                side = "a" if key == c.key_a else "b"
                c.packet(side, unpack_seq(buf, t + 4)[0], flags, payload, frame, ts, tls_ports,
                         unpack_seq(buf, t + 8)[0])
                if payload:  # the bytes buffered by all flows in flight stay within the budget
                    held = c.buffered()
                    self.buffered += held - c.held
                    c.held = held
                    if self.buffered > self.limits.max_buffered_bytes:
                        self._shed()
                if c.state == "done" or c.state == "not_tls":
                    self._close(c)
        finally:
            gc.set_threshold(*thresholds)
            if ts is not None:
                self.last_ts = ts
            self.frame = frame

    def _open(self, key: bytes, src: bytes, dst: bytes, buf: bytes, t: int, flags: int,
              frame: int, ts: float) -> Connection:
        sport, dport = _PORTS.unpack_from(buf, t)
        rkey = dst + src + buf[t + 2:t + 4] + buf[t:t + 2]
        if flags & TCP_SYN and flags & TCP_ACK:  # first packet seen is the responder's
            c = Connection(rkey, dst, src, dport, sport, frame, ts, self.limits, self.keylog)
        else:
            c = Connection(key, src, dst, sport, dport, frame, ts, self.limits, self.keylog)
            if flags & TCP_SYN:
                c.isn_a = _SEQ.unpack_from(buf, t + 4)[0]
        self.table[key] = c
        self.table[rkey] = c
        self.active[c.key_a] = c
        self.stats["tcp_connections"] += 1
        if len(self.active) > self.limits.max_flows:
            oldest = next(iter(self.active.values()))
            oldest.evicted = True
            oldest.warnings.append("evicted_flow_table_full")
            self.stats["flows_evicted"] += 1
            self._close(oldest)
        return c

    def _shed(self) -> None:
        """Over the buffered-bytes budget: evict the flows holding the most (still reported)."""
        while self.buffered > self.limits.max_buffered_bytes and self.active:
            big = max(self.active.values(), key=lambda x: x.held)
            if not big.held:
                break
            big.evicted = "memory"
            big.warnings.append("evicted_memory_budget")
            self.stats["flows_evicted_memory"] += 1
            self._close(big)

    def _close(self, c: Connection) -> None:
        """The connection is judged: emit its row (if TLS) and remember its 4-tuple as done."""
        if self.active.pop(c.key_a, None) is None:
            return
        self.buffered -= c.held
        c.held = 0
        c.finish()
        self._emit(c)
        a_port, b_port = struct.pack("!H", c.a_port), struct.pack("!H", c.b_port)
        for k in (c.a_ip + c.b_ip + a_port + b_port, c.b_ip + c.a_ip + b_port + a_port):
            if self.table.get(k) is c:
                self.table[k] = _DONE
                self.tombstones.append(k)
        while len(self.tombstones) > 2 * self.limits.max_tombstones:
            k = self.tombstones.popleft()
            if self.table.get(k) is _DONE:
                del self.table[k]

    def _emit(self, c: Connection) -> None:
        cut_tls = c.snaplen and c.state != "not_tls" and (c.session.started or c.a_port in self.tls_ports or c.b_port in self.tls_ports)
        if not c.is_tls and not cut_tls:
            kind = "not_tls" if c.state == "not_tls" or not c.session.started else "tls_without_handshake"
            self.stats[kind] += 1
            on_tls_port = c.a_port in self.tls_ports or c.b_port in self.tls_ports
            if on_tls_port and c.state == "not_tls" and self.stats[f"{kind}_reported"] < 1000:
                self.stats[f"{kind}_reported"] += 1
                a, b = ip_to_str(c.a_ip), ip_to_str(c.b_ip)
                self.events.append(EventRecord(
                    self.capture, None, c.first_frame, c.first_ts, "warning", None, "not_tls",
                    f"{a}:{c.a_port} -> {b}:{c.b_port} uses a TLS port but carries no TLS"))
            return
        self.emitted += 1
        flow_id = self.emitted
        rec = build_flow(c, flow_id, self.capture, parse_certificate_cached, self.tls_ports)
        events = self.events if self.on_flow is None else []
        if self.on_flow is None:
            self.flows.append(rec)
        for role, fps in (("server", rec.server_chain_sha256), ("client", rec.client_chain_sha256)):
            for pos, fp in enumerate(fps):
                seen = self.certs.get(fp)
                if seen is None:
                    seen = self.certs[fp] = CertSeen(parse_certificate_cached(
                        c.session.chains[_side_of(c, rec, role)][pos]))
                if not seen.flow_ids or seen.flow_ids[-1] != flow_id:  # ids only grow
                    seen.flow_ids.append(flow_id)
                label = role if pos == 0 else f"{role}_chain"
                if label not in seen.roles:
                    seen.roles.append(label)
        s = c.session
        client_side = s.client_side or ("a" if rec.client_port == c.a_port and rec.client_ip else "b")
        for a in s.alerts:
            who = "client" if a.side == client_side else "server"
            events.append(Alert(who, a.level, a.description, a.frame, a.ts).event(self.capture, flow_id, a.after))
        for an in s.anomalies:
            who = None if an.side is None else ("client" if an.side == client_side else "server")
            events.append(EventRecord(self.capture, flow_id, an.frame, an.ts, "warning", who,
                                      an.code, an.detail))
        if self.on_flow is None:
            msgs = self.messages
            for ms in s.messages:
                msgs.append(MessageRecord(self.capture, flow_id, ms.frame, ms.ts,
                                          "client" if ms.side == client_side else "server", ms.kind,
                                          intern(ms.name)))  # alert names are built per alert
        for code in c.tcp_anomalies() + c.warnings:
            if code == "capture_missed_bytes":  # one event per direction, sent by the side missed
                server_side = "b" if client_side == "a" else "a"
                for side, who, way in ((client_side, "client", "client->server"),
                                       (server_side, "server", "server->client")):
                    if c.missed(side):
                        events.append(EventRecord(self.capture, flow_id, None, None, "warning", who, code,
                                                  missed_detail(way, c.missed(side))))
                continue
            detail = _TCP_DETAILS.get(code, code)
            if code == "snaplen_truncated":
                detail = detail.format(snaplen=c.snaplen)
            events.append(EventRecord(self.capture, flow_id, None, None, "warning", None, code, detail))
        if self.on_flow is not None:
            self.on_flow(rec, events)

    # ---- the end ----------------------------------------------------------------------------
    def finish(self, capture_warnings: Iterable[tuple[str, str]] = ()) -> Analysis:
        for c in list(self.active.values()):
            self._close(c)
        self.table.clear()  # the remembered 4-tuples are of no use once the capture has ended
        self.tombstones.clear()
        if self.on_flow is None:  # number flows by start time
            self.flows.sort(key=lambda f: (f.ts_start, f.first_frame))
            renumber = {f.flow_id: i + 1 for i, f in enumerate(self.flows)}
            self.flows = [replace(f, flow_id=renumber[f.flow_id]) for f in self.flows]
            self.events = [e if e.flow_id is None else replace(e, flow_id=renumber[e.flow_id]) for e in self.events]
            self.messages = [replace(ms, flow_id=renumber[ms.flow_id]) for ms in self.messages]
            self.messages.sort(key=lambda ms: ms.flow_id)  # stable: each flow's stay in order
            for seen in self.certs.values():
                seen.flow_ids = sorted(renumber[i] for i in seen.flow_ids)
        self.events.sort(key=lambda e: (e.flow_id or 0, e.frame or 0))
        if self.keylog_read is not None:
            log = self.keylog_read
            kw = list(log.warnings)
            if len(log) and not log.hits and self.emitted:
                kw.append(("keylog_unmatched", f"the key log {log.source} holds secrets for {len(log)} connections, "
                           "none of them a TLS flow of this capture: nothing was decrypted"))
            capture_warnings = chain(capture_warnings, kw)
        warnings = []
        for code, detail in capture_warnings:
            warnings.append(f"{code}: {detail}")
            self.events.append(EventRecord(self.capture, None, None, None, "warning", None, code, detail))
        self.decoder.finish()
        for reason, n in sorted(self.decoder.skipped.items()):
            self.stats[f"skipped_{reason}"] += n
            if reason in FRAGMENT_WARNINGS:
                lim = self.limits
                detail = FRAGMENT_WARNINGS[reason].format(n=n, limit=lim.max_frag_datagrams,
                                                          timeout=lim.frag_timeout, max_bytes=lim.max_frag_bytes)
                warnings.append(f"{reason}: {detail}")
                self.events.append(EventRecord(self.capture, None, None, None, "warning", None, reason, detail))
            if reason.startswith("unsupported_linktype_"):
                lt = reason.rsplit("_", 1)[1]
                detail = f"link type {lt} is not supported: {n} packets skipped"
                warnings.append(f"unsupported_linktype: {detail}")
                self.events.append(EventRecord(self.capture, None, None, None, "warning", None,
                                               "unsupported_linktype", detail))
        self.stats["frames"] = self.frame
        return Analysis(self.capture, self.flows, self.certs, self.events, self.stats, warnings,
                        self.first_ts, self.last_ts, self.messages)


def _side_of(c: Connection, rec: FlowRecord, role: str) -> str:
    client = c.session.client_side
    if client is None:
        client = "a" if (rec.client_port == c.a_port and rec.server_port == c.b_port) else "b"
    server = "b" if client == "a" else "a"
    return client if role == "client" else server


_TCP_DETAILS = {
    "midstream": "the capture starts in the middle of this connection (no SYN seen)",
    "content_gap": "bytes are missing from the capture (a TCP gap); parsing resumed where it could",
    "overlap_different_data": "overlapping TCP segments carry different bytes; the first copy was used",
    "evicted_flow_table_full": "the flow table was full; this flow was reported before its end",
    "evicted_memory_budget": "the flows in flight buffered more than Limits.max_buffered_bytes; this flow, "
                             "holding the most, was reported before its end",
    "snaplen_truncated": "the capture kept only the first {snaplen} bytes of this flow's handshake packets "
                         "(snaplen {snaplen}): the handshake cannot be read in full; capture with -s 0",
}
