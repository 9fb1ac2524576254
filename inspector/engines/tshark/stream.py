"""tshark's packets -> one TCP stream's wire events (`Collector`): handshake messages,
ChangeCipherSpec, alerts, encrypted records with their sizes, SYN/FIN/RST, gaps and what ran
before TLS.  No verdict is made here."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from .pdml import Msg, Record, as_int, records_of


@dataclass(slots=True)
class WireEvent:
    frame: int
    ts: float
    sender: tuple[str, int]
    kind: str  # hs, enc_hs, ccs, alert, enc_alert, appdata, sslv2
    mtype: int | None = None
    msg: Msg | None = None
    level: int | None = None
    desc: int | None = None
    length: int = 0


@dataclass(slots=True)
class Stream:
    sid: int
    first_frame: int
    first_ts: float
    a: tuple[str, int]  # the initiator when a SYN was seen, else the first packet's sender
    b: tuple[str, int]
    ip_version: int
    last_frame: int = 0
    last_ts: float = 0.0
    syn_initiator: tuple[str, int] | None = None
    closes: list[tuple[int, float, tuple[str, int], str]] = field(default_factory=list)
    events: list[WireEvent] = field(default_factory=list)
    gap: bool = False
    malformed: bool = False
    prelude: dict[tuple[str, int], str] = field(default_factory=dict)  # sender -> protocol of
    # its first data segment when that is not TLS (what ran before STARTTLS)


def endpoints_of(pkt: Any) -> tuple[Any, Any, int, list[Any]] | None:
    """(innermost IP layer, its TCP layer, IP version, TLS layers after it)"""
    layers = list(pkt.layers)
    tcp_i = None
    for i, layer in enumerate(layers):
        if layer.layer_name == "tcp":
            tcp_i = i
    if tcp_i is None:
        return None
    ip_layer = None
    for layer in layers[:tcp_i]:
        if layer.layer_name in ("ip", "ipv6"):
            ip_layer = layer
    if ip_layer is None:
        return None
    tls = [layer for layer in layers[tcp_i + 1:] if layer.layer_name == "tls"]
    return ip_layer, layers[tcp_i], (6 if ip_layer.layer_name == "ipv6" else 4), tls


def address(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return text


class Collector:
    def __init__(self) -> None:
        self.streams: dict[int, Stream] = {}
        self.frames = 0
        self.first_ts: float | None = None
        self.last_ts: float | None = None
        self.errors: list[str] = []  # packets this module failed to read (a bug here, not tshark)

    def safe_packet(self, pkt: Any) -> None:
        try:
            self.packet(pkt)
        except Exception as e:  # noqa: BLE001 - reported as a capture warning, never a crash
            if len(self.errors) < 10:
                self.errors.append(f"frame {getattr(pkt, 'number', '?')}: {type(e).__name__}: {e}")

    def packet(self, pkt: Any) -> None:
        frame = int(pkt.number)
        ts = float(pkt.sniff_timestamp)
        self.frames = max(self.frames, frame)
        if self.first_ts is None:
            self.first_ts = ts
        self.last_ts = ts
        found = endpoints_of(pkt)
        if found is None:
            return
        ip_layer, tcp, ipv, tls_layers = found
        try:
            src = (address(ip_layer.get_field("src").show), int(tcp.get_field("srcport").show))
            dst = (address(ip_layer.get_field("dst").show), int(tcp.get_field("dstport").show))
            sid = int(tcp.get_field("stream").show)
        except (AttributeError, TypeError, ValueError):
            return
        flags = as_int(tcp.get_field("flags")) or 0
        st = self.streams.get(sid)
        if st is None:
            a, b = (dst, src) if (flags & 0x12) == 0x12 else (src, dst)
            st = self.streams[sid] = Stream(sid, frame, ts, a, b, ipv)
        st.last_frame, st.last_ts = frame, ts
        if flags & 0x02:
            if st.syn_initiator is None:
                st.syn_initiator = dst if flags & 0x10 else src
        if flags & 0x04 or flags & 0x01:
            st.closes.append((frame, ts, src, "rst" if flags & 0x04 else "fin"))
        if tcp.get_field("analysis_lost_segment") is not None:
            st.gap = True
        if not tls_layers and src not in st.prelude:
            # the first data segment of a direction (relative seq 1) that is not TLS: what ran
            # before TLS (STARTTLS); no layer above TCP means a segment of a reassembled PDU
            seq, tcp_len = tcp.get_field("seq"), tcp.get_field("len")
            if seq is not None and seq.show == "1" and tcp_len is not None and tcp_len.show != "0":
                above = [layer.layer_name for layer in pkt.layers[pkt.layers.index(tcp) + 1:]
                         if not layer.layer_name.startswith("_ws")]
                if above:
                    st.prelude[src] = above[0].lower()
        if any(layer.layer_name == "_ws.malformed" for layer in pkt.layers):
            st.malformed = True
        for layer in tls_layers:
            for rec in records_of(layer):
                self._record(st, frame, ts, src, rec)

    def _record(self, st: Stream, frame: int, ts: float, src: tuple[str, int], rec: Record) -> None:
        version = as_int(rec.first("tls.record.version"))
        ct = as_int(rec.first("tls.record.content_type"))
        if ct is None:  # TLS 1.3 protected records: "Opaque Type"
            ct = as_int(rec.first("tls.record.opaque_type"))
        length = as_int(rec.first("tls.record.length")) or 0
        ev = st.events.append
        if version == 0x0002 or (ct is None and rec.first("tls.handshake.type") is not None
                                 and not rec.messages):
            mtype = as_int(rec.first("tls.handshake.type"))
            ev(WireEvent(frame, ts, src, "sslv2", mtype=mtype, msg=rec, length=length))
            return
        if ct == 22:
            for m in rec.messages:
                mtype = as_int(m.first("tls.handshake.type"))
                if mtype is None:
                    ev(WireEvent(frame, ts, src, "enc_hs", length=length))
                else:
                    ev(WireEvent(frame, ts, src, "hs", mtype=mtype, msg=m))
            if not rec.messages:
                ev(WireEvent(frame, ts, src, "enc_hs", length=length))
        elif ct == 20:
            ev(WireEvent(frame, ts, src, "ccs"))
        elif ct == 21:
            levels = [as_int(f) for f in rec.all("tls.alert_message.level")]
            descs = [as_int(f) for f in rec.all("tls.alert_message.desc")]
            if descs:
                for i, d in enumerate(descs):
                    ev(WireEvent(frame, ts, src, "alert", level=levels[i] if i < len(levels) else None,
                              desc=d))
            else:
                ev(WireEvent(frame, ts, src, "enc_alert", length=length))
        elif ct == 23:
            ev(WireEvent(frame, ts, src, "appdata", length=length))
