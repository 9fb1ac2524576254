"""The second engine: Wireshark's dissectors (tshark, through pyshark) fill the same records.

`analyze_with_tshark(path, ports=...)` returns an `inspector.engines.python.Analysis` built only from what
tshark's TLS dissector reports, so that ``inspector.api.Capture(path, analysis, format=...,
bytes_read=...)`` gives the same ``flows``, ``certificates``, ``events`` and ``findings`` tables as
the native engine, and the two can be compared field by field (``tests/differential/test_engines.py``).
`analyze_file_tshark` is what `read_capture` runs for ``engine="tshark"``.

How it runs: one ``tshark`` (PDML, via ``pyshark.FileCapture``) per file with

- ``-o tcp.desegment_tcp_streams:TRUE -o tls.desegment_ssl_records:TRUE`` (plus
  ``tls.desegment_ssl_application_data`` and ``tcp.reassemble_out_of_order``, as the test oracle, tests/differential/oracle.py);
- ``-d tcp.port==P,tls`` for 443, 2443, 3804, 5061, 6972, 8443 and every extra port;
- the display filter `DISPLAY_FILTER`: handshake, alert, ChangeCipherSpec and SSLv2 packets, TCP
  SYN/FIN/RST and gaps, the first data segment of each direction (to see a STARTTLS prelude), and
  application-data records in the first 32 KiB of each direction (the TLS 1.3 outcome is judged
  from the sizes of the first encrypted records).  Only those packets are turned into PDML and
  parsed by Python, which is what makes pyshark slow (~8k packets/s);
- ``WIRESHARK_CONFIG_DIR`` pointing at an empty directory, so personal preferences cannot change
  the result.

pyshark flattens each protocol layer into ``name -> [fields]``; every field keeps its byte
position and size, so the record/message structure is rebuilt from them (`_records`): a
``tls.record`` owns the fields inside its byte range, a ``tls.handshake`` the fields inside its
own.  Everything that follows (roles, version, cipher, SNI, chains, alerts, outcome, history) is
computed from those tshark values only; certificate summaries go through
`inspector.x509.parse_certificate_cached` (the same DER -> same row), names of alerts and
versions from `inspector.tls.constants` (the Python engine's tables, so both engines spell them alike), cipher suite and group names from tshark's
own labels.

What tshark cannot tell is None: ``ja4`` (not in tshark 4.0), ``packets`` (only the filtered
packets are seen).  No key log support: ``decrypted`` is always False and `analyze_file_tshark`
refuses a key log (pyshark's flattened fields lose which data source, record or decrypted
plaintext, a position belongs to, so decrypted TLS 1.3 records cannot be rebuilt reliably).
``last_frame``/``ts_end`` are the packet where the handshake ended as far as the filtered packets
show (pure ACKs are never seen).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import shutil
import subprocess
import tempfile
import threading
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable

from ..tls.session import CERT_ALERTS, HISTORY_LETTERS, MESSAGE_NAMES
from ..x509 import client_cert_kind, parse_certificate_cached
from ..model import Alert, Analysis, CertSeen, EventRecord, FlowRecord
from ..errors import CaptureError, InspectError
from ..flows import DEFAULT_TLS_PORTS
from ..sources.capture import sniff_format
from ..interpret import TLS13_RECORDS_MAX, HandshakeFacts, choose_client, outcome, tls13_over
from ..tls.constants import alert_level_name, alert_name, version_name

__all__ = [
    "DISPLAY_FILTER",
    "ENGINES",
    "PREFERENCES",
    "TsharkEngineError",
    "analyze_file_tshark",
    "analyze_with_tshark",
    "find_tshark",
    "tshark_available",
]

#: engine names accepted by ``read_capture(..., engine=)`` and ``tlsinspect --engine``
ENGINES = ("native", "tshark")

DISPLAY_FILTER = (
    "tls.handshake or tls.handshake.type or tls.alert_message or tls.record.content_type == 21"
    " or tls.change_cipher_spec or tls.record.version == 0x0002"
    " or tcp.flags.syn == 1 or tcp.flags.fin == 1 or tcp.flags.reset == 1"
    " or tcp.analysis.lost_segment or (tcp.seq == 1 and tcp.len > 0)"
    " or ((tls.record.content_type == 23 or tls.record.opaque_type == 23) and tcp.seq < 32768)"
)

PREFERENCES = {
    "tcp.desegment_tcp_streams": "TRUE",
    "tls.desegment_ssl_records": "TRUE",
    "tls.desegment_ssl_application_data": "TRUE",
    "tcp.reassemble_out_of_order": "TRUE",
}

HRR_RANDOM = "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c"

# the same tables the native engine prints with
_LETTERS, _NAMES, _CERT_ALERTS = HISTORY_LETTERS, MESSAGE_NAMES, CERT_ALERTS
# tshark protocol names (frame.protocols) of STARTTLS carriers -> the native engine's names
_STARTTLS = {"smtp": "smtp", "imap": "imap", "pop": "pop3", "ftp": "ftp", "xmpp": "xmpp",
             "jabber": "xmpp", "ldap": "ldap", "pgsql": "postgresql", "mysql": "mysql"}
_CTRL_ESCAPES = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F)}

_ENV_LOCK = threading.Lock()


class TsharkEngineError(InspectError):
    """tshark or pyshark is missing, or tshark failed in a way that is not about the file."""


def find_tshark() -> str | None:
    """Path of the tshark binary (``$TSHARK``, then ``PATH``, then /usr/bin/tshark)."""
    env = os.environ.get("TSHARK")
    if env and os.access(env, os.X_OK):
        return env
    found = shutil.which("tshark")
    if found:
        return found
    return "/usr/bin/tshark" if os.access("/usr/bin/tshark", os.X_OK) else None


def tshark_available() -> bool:
    try:
        import pyshark  # noqa: F401
    except ImportError:
        return False
    return find_tshark() is not None


# ---------------------------------------------------------------------------------------------
# field helpers


def _int(f: Any) -> int | None:
    """A tshark integer field from its raw hex value (falls back to ``show``)."""
    raw = getattr(f, "raw_value", None)
    try:
        if raw:
            return int(raw, 16)
        show = getattr(f, "show", None)
        if show:
            return int(show, 0)
    except (TypeError, ValueError):
        pass
    return None


def _bytes(f: Any) -> bytes:
    raw = getattr(f, "raw_value", None) or ""
    try:
        return bytes.fromhex(raw)
    except ValueError:
        return b""


def _label(f: Any) -> str | None:
    """``"Cipher Suite: TLS_AES_128_GCM_SHA256 (0x1301)"`` -> ``"TLS_AES_128_GCM_SHA256"``;
    a value tshark has no name for (``"Unknown (0x6399)"``) -> ``"0x6399"``."""
    text = getattr(f, "showname", None) or ""
    if ": " in text:
        text = text.split(": ", 1)[1]
    if " (" in text:
        text = text.rsplit(" (", 1)[0]
    text = text.strip()
    if not text or text.lower().startswith("unknown") or text.lower() == "reserved":
        code = _int(f)
        return None if code is None else f"0x{code:04x}"
    return text


def _text(raw: bytes) -> str:
    s = raw.decode("ascii", "backslashreplace")
    if not (s.isprintable() and s.isascii()):
        s = s.translate(_CTRL_ESCAPES)
    return s


def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


class _Msg:
    __slots__ = ("start", "end", "fields")

    def __init__(self, start: int, end: int) -> None:
        self.start, self.end = start, end
        self.fields: dict[str, list[Any]] = {}

    def add(self, name: str, f: Any) -> None:
        self.fields.setdefault(name, []).append(f)

    def first(self, name: str) -> Any:
        v = self.fields.get(name)
        return v[0] if v else None

    def all(self, name: str) -> list[Any]:
        return self.fields.get(name, [])


class _Rec(_Msg):
    __slots__ = ("messages",)

    def __init__(self, start: int, end: int) -> None:
        super().__init__(start, end)
        self.messages: list[_Msg] = []


def _records(layer: Any) -> list[_Rec]:
    """Rebuild records and their handshake messages from a flattened pyshark TLS layer."""
    items = []
    for container in getattr(layer, "_all_fields", {}).values():
        for f in getattr(container, "all_fields", (container,)):
            try:
                pos, size = int(f.pos), int(f.size)
            except (TypeError, ValueError, AttributeError):
                continue
            items.append((pos, -size, len(items), f))
    items.sort(key=lambda t: (t[0], t[1], t[2]))
    recs: list[_Rec] = []
    rec: _Rec | None = None
    msg: _Msg | None = None
    msgs: list[_Msg] = []
    for pos, negsize, _i, f in items:
        name = f.name or ""
        end = pos - negsize
        if name == "tls.record":
            rec = _Rec(pos, end)
            recs.append(rec)
            msg = None
            continue
        if rec is None:  # fields before any record header (should not happen): a pseudo record
            rec = _Rec(pos, end)
            recs.append(rec)
        if name == "tls.handshake":
            msg = _Msg(pos, end)
            msgs.append(msg)
            rec.messages.append(msg)
            continue
        if name.startswith("tls.handshake.ja3"):
            # generated at the end of its hello, which may be the start of the next message
            hello = next((m for m in reversed(msgs)
                          if _int(m.first("tls.handshake.type")) in (1, 2)), None)
            if hello is not None:
                hello.add(name, f)
                continue
        if msg is not None and (pos < msg.end or (negsize == 0 and pos <= msg.end)) \
                and not name.startswith("tls.record."):
            msg.add(name, f)
        else:
            rec.add(name, f)
    return recs


# ---------------------------------------------------------------------------------------------
# one TCP stream


@dataclass(slots=True)
class _Event:
    frame: int
    ts: float
    sender: tuple[str, int]
    kind: str  # hs, enc_hs, ccs, alert, enc_alert, appdata, sslv2
    mtype: int | None = None
    msg: _Msg | None = None
    level: int | None = None
    desc: int | None = None
    length: int = 0


@dataclass(slots=True)
class _Stream:
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
    events: list[_Event] = field(default_factory=list)
    gap: bool = False
    malformed: bool = False
    prelude: dict[tuple[str, int], str] = field(default_factory=dict)  # sender -> protocol of
    # its first data segment when that is not TLS (what ran before STARTTLS)


def _endpoints(pkt: Any) -> tuple[Any, Any, int, list[Any]] | None:
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


def _addr(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return text


class _Collector:
    def __init__(self) -> None:
        self.streams: dict[int, _Stream] = {}
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
        found = _endpoints(pkt)
        if found is None:
            return
        ip_layer, tcp, ipv, tls_layers = found
        try:
            src = (_addr(ip_layer.get_field("src").show), int(tcp.get_field("srcport").show))
            dst = (_addr(ip_layer.get_field("dst").show), int(tcp.get_field("dstport").show))
            sid = int(tcp.get_field("stream").show)
        except (AttributeError, TypeError, ValueError):
            return
        flags = _int(tcp.get_field("flags")) or 0
        st = self.streams.get(sid)
        if st is None:
            a, b = (dst, src) if (flags & 0x12) == 0x12 else (src, dst)
            st = self.streams[sid] = _Stream(sid, frame, ts, a, b, ipv)
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
            for rec in _records(layer):
                self._record(st, frame, ts, src, rec)

    def _record(self, st: _Stream, frame: int, ts: float, src: tuple[str, int], rec: _Rec) -> None:
        version = _int(rec.first("tls.record.version"))
        ct = _int(rec.first("tls.record.content_type"))
        if ct is None:  # TLS 1.3 protected records: "Opaque Type"
            ct = _int(rec.first("tls.record.opaque_type"))
        length = _int(rec.first("tls.record.length")) or 0
        ev = st.events.append
        if version == 0x0002 or (ct is None and rec.first("tls.handshake.type") is not None
                                 and not rec.messages):
            mtype = _int(rec.first("tls.handshake.type"))
            ev(_Event(frame, ts, src, "sslv2", mtype=mtype, msg=rec, length=length))
            return
        if ct == 22:
            for m in rec.messages:
                mtype = _int(m.first("tls.handshake.type"))
                if mtype is None:
                    ev(_Event(frame, ts, src, "enc_hs", length=length))
                else:
                    ev(_Event(frame, ts, src, "hs", mtype=mtype, msg=m))
            if not rec.messages:
                ev(_Event(frame, ts, src, "enc_hs", length=length))
        elif ct == 20:
            ev(_Event(frame, ts, src, "ccs"))
        elif ct == 21:
            levels = [_int(f) for f in rec.all("tls.alert_message.level")]
            descs = [_int(f) for f in rec.all("tls.alert_message.desc")]
            if descs:
                for i, d in enumerate(descs):
                    ev(_Event(frame, ts, src, "alert", level=levels[i] if i < len(levels) else None,
                              desc=d))
            else:
                ev(_Event(frame, ts, src, "enc_alert", length=length))
        elif ct == 23:
            ev(_Event(frame, ts, src, "appdata", length=length))


# ---------------------------------------------------------------------------------------------
# a stream -> a FlowRecord (the native engine's semantics, from tshark's values)


@dataclass
class _Alert:
    frame: int
    ts: float
    side: str  # client/server
    level: str
    description: str
    code: int | None
    after: str | None


@dataclass
class _Built:
    record: FlowRecord
    chains: dict[str, list[bytes]]
    alerts: list[_Alert]
    warnings: list[tuple[str, str]]


def _roles(st: _Stream, tls_ports: frozenset[int]) -> tuple[tuple[str, int], tuple[str, int]]:
    """(client, server) endpoints (`inspector.interpret.choose_client`)."""
    hello_client = None
    for e in st.events:
        if e.kind == "hs" and e.mtype == 1 or e.kind == "sslv2" and e.mtype == 1:
            hello_client = e.sender
            break
        if e.kind == "hs" and e.mtype == 2 or e.kind == "sslv2" and e.mtype == 4:
            hello_client = st.b if e.sender == st.a else st.a
            break
    client = choose_client(st.a, st.b, hello_client=hello_client, syn_initiator=st.syn_initiator,
                           a_port=st.a[1], b_port=st.b[1], tls_ports=tls_ports)
    return client, (st.b if client == st.a else st.a)


def _dn_der(m: _Msg) -> list[bytes]:
    """The CertificateRequest's CA names, rebuilt as DER from tshark's RDN items."""
    names = []
    dnames = [f for f in m.all("tls.handshake.dname")]
    items = m.all("x509if.RDNSequence_item")
    for dn in dnames:
        try:
            start, end = int(dn.pos), int(dn.pos) + int(dn.size)
        except (TypeError, ValueError):
            continue
        body = b""
        for it in items:
            try:
                p = int(it.pos)
            except (TypeError, ValueError):
                continue
            if start <= p < end:
                raw = _bytes(it)
                body += b"\x31" + _der_len(len(raw)) + raw
        names.append(b"\x30" + _der_len(len(body)) + body)
    return names


def _ca_name(der: bytes) -> str:
    from ..tls.messages import ca_name_to_str

    try:
        return ca_name_to_str(der)
    except Exception:  # noqa: BLE001 - a name tshark could not dissect
        return "<unparsable name>"


def _build(st: _Stream, capture: str, tls_ports: frozenset[int]) -> _Built | None:
    if not any(e.kind in ("hs", "enc_hs", "ccs", "alert", "enc_alert", "sslv2") for e in st.events):
        return None
    client, server = _roles(st, tls_ports)
    role = {client: "client", server: "server"}

    def side_of(ep: tuple[str, int]) -> str:
        return role.get(ep, "client")

    ch: _Msg | None = None
    sh: _Msg | None = None
    hrr = False
    sslv2_hello = False
    sslv2_server: _Msg | None = None
    chains: dict[str, list[bytes]] = {}
    cert_request: _Msg | None = None
    ske: _Msg | None = None
    alerts: list[_Alert] = []
    history: list[str] = []
    ccs: dict[str, int] = {}
    finished: dict[str, int] = {}
    appdata = 0
    enc_order: list[tuple[str, int]] = []
    last_message: dict[str, str] = {}
    speaker: str | None = None
    flight_cert: dict[str, bool] = {}
    done_at: _Event | None = None
    duplicate_ch = False

    def tls13() -> bool:
        v = _selected_version(sh)
        return v is not None and (v == 0x0304 or (v >> 8) in (0x7F, 0xFB))

    def over() -> bool:
        if any(a.level == "fatal" for a in alerts) or sslv2_server is not None:
            return True
        if tls13():
            return tls13_over(enc_order)
        return len(finished) == 2 or (len(ccs) == 2 and appdata > 0)

    events = st.events
    for idx, e in enumerate(events):
        side = side_of(e.sender)
        upper = side == "client"
        if e.kind == "hs":
            mt = e.mtype
            letter = _LETTERS.get(mt, "z")
            if speaker != side:
                flight_cert[side] = False
                speaker = side
            last_message[side] = _NAMES.get(mt, f"handshake type {mt}")
            if mt == 1:
                if ch is None or hrr:
                    ch = e.msg
                else:
                    duplicate_ch = True
            elif mt == 2:
                rnd = e.msg.first("tls.handshake.random")
                if rnd is not None and (rnd.raw_value or "").lower() == HRR_RANDOM:
                    hrr = True
                    letter = "j"
                    last_message[side] = "HelloRetryRequest"
                else:
                    sh = e.msg
            elif mt == 11:
                flight_cert[side] = True
                if side not in chains:
                    chains[side] = [_bytes(f) for f in e.msg.all("tls.handshake.certificate")]
            elif mt == 13:
                cert_request = e.msg
            elif mt == 12 and sh is not None:
                ske = e.msg
            history.append(letter.upper() if upper else letter)
        elif e.kind == "sslv2":
            if e.mtype == 1:
                sslv2_hello = True
                if ch is None:
                    ch = e.msg
                history.append("C")
                last_message[side] = "ClientHello"
            elif e.mtype == 4:
                history.append("s")
                last_message[side] = "ServerHello (SSLv2)"
                sslv2_server = e.msg
                certs = [_bytes(f) for f in e.msg.all("tls.handshake.certificate")]
                if certs and certs[0]:
                    chains.setdefault(side, certs[:1])
        elif e.kind == "ccs":
            ccs.setdefault(side, e.frame)
            history.append("I" if upper else "i")
        elif e.kind == "enc_hs":
            if side in ccs and side not in finished:
                finished[side] = e.frame
                history.append("F" if upper else "f")
        elif e.kind == "alert":
            peer = "server" if side == "client" else "client"
            after = last_message.get(peer)
            if after and flight_cert.get(peer) and e.desc in _CERT_ALERTS:
                after = "Certificate"
            alerts.append(_Alert(e.frame, e.ts, side, "unknown" if e.level is None else alert_level_name(e.level),
                                 alert_name(e.desc), e.desc, after))
            history.append("L" if upper else "l")
        elif e.kind == "enc_alert":
            peer = "server" if side == "client" else "client"
            alerts.append(_Alert(e.frame, e.ts, side, "encrypted", "encrypted_alert", None,
                                 last_message.get(peer)))
            history.append("Q" if upper else "q")
        elif e.kind == "appdata":
            appdata += 1
            if sh is not None and tls13() and len(enc_order) < TLS13_RECORDS_MAX:
                enc_order.append((side, e.length))
        # like the native engine, judge "handshake over" after each segment, not each record
        nxt = events[idx + 1] if idx + 1 < len(events) else None
        if (nxt is None or (nxt.frame, nxt.sender) != (e.frame, e.sender)) and over():
            done_at = e
            break

    warnings: list[tuple[str, str]] = []
    if st.syn_initiator is None:
        warnings.append(("midstream", "the capture starts in the middle of this connection (no SYN seen)"))
    if st.gap:
        warnings.append(("content_gap", "tshark reports a lost TCP segment in this connection"))
    if st.malformed:
        warnings.append(("malformed_packet", "tshark marks a packet of this connection [Malformed Packet]"))
    if duplicate_ch:
        warnings.append(("duplicate_client_hello", "a second ClientHello on the same connection"))

    server_chain = [parse_certificate_cached(d) for d in chains.get("server", [])]
    client_chain = [parse_certificate_cached(d) for d in chains.get("client", [])]
    if any(ci.errors for ci in server_chain + client_chain):
        warnings.append(("cert_parse_error", "a certificate did not parse"))

    # version / cipher / kx
    version = _selected_version(sh)
    tls_version = (version_name(version) if version is not None else None) if sh is not None else ("SSL 2.0" if sslv2_server else None)
    cipher = cipher_id = None
    if sh is not None:
        cs = sh.first("tls.handshake.ciphersuite")
        cipher_id = _int(cs)
        cipher = _label(cs)
    elif sslv2_server is not None:
        specs = sslv2_server.all("tls.handshake.cipherspec")
        if specs:
            cipher_id = _int(specs[0])
            cipher = _label(specs[0])
            if cipher and cipher.startswith("SSL2_"):  # the SSLv2 spec's names: SSL_CK_*
                cipher = "SSL_CK_" + cipher[5:]
    client_max = None
    if ch is not None:
        offered = [v for v in (_int(f) for f in ch.all("tls.handshake.extensions.supported_version"))
                   if v is not None and (v & 0x0F0F) != 0x0A0A]
        legacy = _int(ch.first("tls.handshake.version"))
        if offered:
            client_max = version_name(max(offered))
        elif legacy is not None:
            client_max = version_name(legacy)
    sni = None
    if ch is not None and not sslv2_hello:
        f = ch.first("tls.handshake.extensions_server_name")
        if f is not None:
            sni = _text(_bytes(f)) if f.raw_value else (f.show or None)
    alpn = None
    if sh is not None:
        f = sh.first("tls.handshake.extensions_alpn_str")
        if f is not None:
            alpn = f.show
    kx_group = dh_bits = None
    if ske is not None:
        curve = ske.first("tls.handshake.server_named_curve")
        if curve is not None:
            kx_group = _label(curve)
        p = ske.first("tls.handshake.p")
        if p is not None:
            dh_bits = int.from_bytes(_bytes(p), "big").bit_length() or None
    if kx_group is None and sh is not None:
        g = sh.first("tls.handshake.extensions_key_share_group")
        if g is not None:
            kx_group = _label(g)
    resumed = False
    if sh is not None:
        if tls13():
            resumed = any(_int(f) == 41 for f in sh.all("tls.handshake.extension.type"))
        else:
            sid_sh = sh.first("tls.handshake.session_id")
            sid_ch = ch.first("tls.handshake.session_id") if ch is not None else None
            same = sid_sh is not None and sid_ch is not None and sid_sh.raw_value \
                and sid_sh.raw_value == sid_ch.raw_value
            abbreviated = "server" not in chains and "server" in ccs and (
                "client" not in ccs or ccs["server"] <= ccs["client"])
            resumed = bool(same) or abbreviated
    requested = [_ca_name(d) for d in _dn_der(cert_request)] if cert_request is not None else []

    outcome, detail = _outcome(st, client, ch, sh, sslv2_server, alerts, finished, ccs, appdata,
                               enc_order, tls13(), last_message, done_at)
    starttls = None
    if st.syn_initiator is not None:
        speakers = {e.sender for e in st.events if e.kind != "appdata"}
        for ep, proto in st.prelude.items():
            if ep in speakers:  # that side went on to speak TLS: a STARTTLS-style upgrade
                starttls = _STARTTLS.get(proto, "unknown")
                break
    ja3 = ja3s = None
    if ch is not None and not sslv2_hello:
        f = ch.first("tls.handshake.ja3")
        ja3 = f.show if f is not None else None
    if sh is not None:
        f = sh.first("tls.handshake.ja3s")
        ja3s = f.show if f is not None else None
    last_frame = done_at.frame if done_at is not None else st.last_frame
    ts_end = done_at.ts if done_at is not None else st.last_ts
    rec = FlowRecord(
        capture=capture, flow_id=0, ts_start=st.first_ts, ts_end=ts_end,
        first_frame=st.first_frame, last_frame=last_frame,
        client_ip=client[0], client_port=client[1], server_ip=server[0], server_port=server[1],
        ip_version=st.ip_version, tls_version=tls_version, client_max_version=client_max,
        cipher=cipher, cipher_id=cipher_id, sni=sni, alpn=alpn,
        server_subject=server_chain[0].subject if server_chain else None,
        server_issuer=server_chain[0].issuer if server_chain else None,
        server_chain_sha256=[ci.sha256 for ci in server_chain],
        client_subject=client_chain[0].subject if client_chain else None,
        client_issuer=client_chain[0].issuer if client_chain else None,
        client_chain_sha256=[ci.sha256 for ci in client_chain],
        client_cert_kind=client_cert_kind(client_chain[0]) if client_chain else None,
        client_cert_requested=cert_request is not None, requested_ca_names=requested,
        alerts=[str(Alert(a.side, a.level, a.description)) for a in alerts],
        outcome=outcome, outcome_detail=detail, certs_visible=bool(server_chain),
        decrypted=False, resumed=bool(resumed), dh_bits=dh_bits, kx_group=kx_group,
        history="".join(history), ja3=ja3, ja3s=ja3s, ja4=None, starttls=starttls,
        packets=None, warnings=[code for code, _ in warnings],
    )
    return _Built(rec, chains, alerts, warnings)


def _selected_version(sh: _Msg | None) -> int | None:
    if sh is None:
        return None
    sv = [_int(f) for f in sh.all("tls.handshake.extensions.supported_version")]
    sv = [v for v in sv if v is not None]
    if sv:
        return sv[-1]
    return _int(sh.first("tls.handshake.version"))


def _outcome(st, client, ch, sh, sslv2_server, alerts, finished, ccs, appdata, enc_order, is13,
             last_message, done_at) -> tuple[str, str | None]:
    """tshark's wire facts, by role, judged by `inspector.interpret.outcome` (as the Python
    engine's are)."""
    fatal = next((a for a in alerts if a.level == "fatal"), None)
    enc = next((a for a in alerts if a.level == "encrypted"), None)
    limit = done_at.frame if done_at is not None else None
    closes = [c for c in st.closes if limit is None or c[0] <= limit]
    close = None
    if closes:
        _f, _t, who_ep, how = closes[0]
        close = ("client" if who_ep == client else "server", how)
    facts = HandshakeFacts(
        fatal=(fatal.side, fatal.description, fatal.after) if fatal is not None else None,
        hellos_seen=not (ch is None and sh is None and sslv2_server is None),
        sslv2=sslv2_server is not None,
        tls13=is13,
        encrypted_records=tuple(enc_order) if is13 else (),
        finished_both=len(finished) == 2 or (len(ccs) == 2 and appdata > 0),
        encrypted_alert_by=enc.side if enc is not None else None,
        close=close,
        last_message={k: v for k, v in last_message.items() if v},
    )
    return outcome(facts)


# ---------------------------------------------------------------------------------------------
# the file


def _format(path: Path) -> tuple[str, int]:
    """("pcap"|"pcapng"[+".gz"], file size); CaptureError when the file is not a capture."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            try:
                fmt, compressed, head = sniff_format(fh)
            except (OSError, EOFError) as e:
                raise CaptureError(f"the gzip stream is damaged: {e}", 0) from None
    except IsADirectoryError:
        raise CaptureError(f"{path} is a directory, not a capture file") from None
    except OSError as e:
        raise CaptureError(f"cannot open {path}: {e.strerror or e}") from None
    if fmt is not None:
        pass
    elif not head:
        raise CaptureError("not a pcap or pcapng capture: empty file", 0)
    else:
        raise CaptureError(f"not a pcap or pcapng capture: unknown magic 0x{head.hex()}", 0)
    return fmt + (".gz" if compressed else ""), size


def _tshark_errors(exe: str, path: Path, env: dict[str, str]) -> tuple[int, list[str]]:
    """Run tshark plainly over the file (no dissection output) to learn what it thinks is wrong."""
    try:
        proc = subprocess.run([exe, "-n", "-r", str(path), "-T", "fields", "-e", "frame.number"],
                              capture_output=True, timeout=600, env=env, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        return -1, [str(e)]
    lines = [ln.strip() for ln in proc.stderr.decode("utf-8", "replace").splitlines()
             if ln.strip() and "could be dangerous" not in ln and "Running as user" not in ln]
    return proc.returncode, lines


def _cut_short(path: Path) -> str | None:
    """Why the capture file ends early (a packet cut short, a broken block), or None."""
    from ..sources.capture import CaptureReader
    reader = CaptureReader(Path(path))
    try:
        for _ in reader.batches():
            pass
    except CaptureError as e:
        return str(e)
    except Exception:  # noqa: BLE001 - only a hint for the warning; tshark's verdict stands
        return None
    cut = [w.detail for w in reader.warnings if w.code == "capture_truncated"]
    return cut[0] if cut else None


def _capinfos(path: Path, env: dict[str, str]) -> tuple[int, float | None, float | None] | None:
    exe = os.path.join(os.path.dirname(find_tshark() or "/usr/bin/tshark"), "capinfos")
    try:
        proc = subprocess.run([exe, "-M", "-T", "-r", "-c", "-a", "-e", "-S", str(path)],
                              capture_output=True, timeout=120, env=env, check=False)
        cols = proc.stdout.decode("utf-8", "replace").strip().split("\t")
        n = int(cols[1])

        def t(s: str) -> float | None:
            try:
                return float(s)
            except ValueError:
                return None
        return n, t(cols[2]), t(cols[3])
    except (OSError, subprocess.TimeoutExpired, ValueError, IndexError):
        return None


class _ReapedElsewhere(logging.Filter):
    """Drops asyncio's "Unknown child process pid N, will report returncode 255" for our tshark.

    Rarely (a loaded machine, first call in a process) tshark's exit is collected by another
    waitpid before asyncio's child watcher gets to it; every packet has been read by then, so
    the message is noise on the CLI's stderr."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Unknown child process pid")


_REAPED_FILTER = _ReapedElsewhere()


def _collect_into(box: dict[str, Any], pyshark: Any, path: Path, tls_ports: frozenset[int],
                  exe: str, confdir: str) -> None:
    """Run pyshark over the file (in a thread with no event loop): ``box["col"]``, ``["failed"]``."""
    col = box["col"] = _Collector()
    cap = None
    loop = None
    try:
        with _ENV_LOCK:  # pyshark starts tshark with this process's environment
            saved = {k: os.environ.get(k) for k in ("WIRESHARK_CONFIG_DIR", "LC_ALL")}
            os.environ.update(WIRESHARK_CONFIG_DIR=confdir, LC_ALL="C")
            try:
                cap = pyshark.FileCapture(
                    str(path), keep_packets=False, display_filter=DISPLAY_FILTER,
                    decode_as={f"tcp.port=={p}": "tls" for p in sorted(tls_ports)},
                    override_prefs=dict(PREFERENCES), tshark_path=exe)
                loop = getattr(cap, "eventloop", None)
                it = iter(cap)
                first = next(it, None)
            finally:
                for k, v in saved.items():
                    if v is None:
                        os.environ.pop(k, None)
                    else:
                        os.environ[k] = v
        if first is not None:
            col.safe_packet(first)
            for pkt in it:
                col.safe_packet(pkt)
    except BaseException as e:  # noqa: BLE001 - pyshark raises its own and asyncio's errors
        box["failed"] = e
    finally:
        if cap is not None:
            procs = list(getattr(cap, "_running_processes", ()))
            try:
                cap.close()
            except Exception:  # noqa: BLE001
                pass
            # pyshark waits only 1 s for tshark to be reaped; on a busy machine that is too short,
            # and a process not reaped when the loop closes is later reaped by an unrelated
            # subprocess call ("Unknown child process pid ..." from asyncio)
            for proc in procs:
                if proc.returncode is None and loop is not None and not loop.is_closed():
                    try:
                        loop.run_until_complete(asyncio.wait_for(proc.wait(), 30))
                    except Exception:  # noqa: BLE001
                        pass
            # pyshark's __del__ would close again, on a loop that may be gone by then
            cap.close = lambda: None
        if loop is not None and not loop.is_running():
            try:
                loop.close()
            except Exception:  # noqa: BLE001
                pass


def analyze_with_tshark(path: str | os.PathLike, *, ports: Iterable[int] = (),
                        capture: str | None = None) -> Analysis:
    """tshark's view of ``path`` as an `Analysis` (the native engine's records and semantics).

    Raises `CaptureError` for a file that is not a capture or that tshark cannot read at all, and
    `TsharkEngineError` when tshark or pyshark is missing.  A file tshark reads only in part gives
    the flows so far and a ``capture_truncated`` warning.
    """
    try:
        import pyshark
    except ImportError as e:  # pragma: no cover - pyshark is a dependency
        raise TsharkEngineError(f"the tshark engine needs pyshark: {e}") from None
    exe = find_tshark()
    if exe is None:
        raise TsharkEngineError("the tshark engine needs tshark (Wireshark's command-line tool)")
    path = Path(path)
    _format(path)  # raises CaptureError for a non-capture before tshark is started
    tls_ports = DEFAULT_TLS_PORTS | frozenset(int(p) for p in ports)
    name = capture if capture is not None else path.name
    warnings: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="tlsinspect-tshark-") as confdir:
        env = dict(os.environ, WIRESHARK_CONFIG_DIR=confdir, LC_ALL="C")
        # pyshark drives tshark through an asyncio loop of its own; in a thread of our own it
        # works even where the caller's thread already runs a loop (Jupyter)
        box: dict[str, Any] = {}
        worker = threading.Thread(target=_collect_into, name="tlsinspect-pyshark", daemon=True,
                                  args=(box, pyshark, path, tls_ports, exe, confdir))
        aio_log = logging.getLogger("asyncio")
        aio_log.addFilter(_REAPED_FILTER)
        try:
            worker.start()
            worker.join()
        finally:
            aio_log.removeFilter(_REAPED_FILTER)
        col: _Collector = box.get("col") or _Collector()
        failed: BaseException | None = box.get("failed")
        info = _capinfos(path, env)
        if failed is not None or info is None:
            rc, errors = _tshark_errors(exe, path, env)
            if rc != 0 or failed is not None:
                text = " | ".join(errors) or f"{type(failed).__name__}: {failed}"
                partial = any(m in text for m in ("cut short in the middle of a packet",
                                                  "appears to be damaged or corrupt"))
                if not partial and not col.streams and (info is None or info[0] == 0):
                    raise CaptureError(f"tshark cannot read the file: {text}")
                warnings.append(("capture_truncated", f"tshark stopped reading: {text}"))
        elif not any(code == "capture_truncated" for code, _ in warnings):
            # pyshark does not always surface tshark's "cut short" error (it depends on when its
            # reader task ends): our own reader tells a cut file deterministically
            cut = _cut_short(path)
            if cut is not None:
                warnings.append(("capture_truncated", f"tshark stopped reading: {cut}"))
    for err in col.errors:
        warnings.append(("tshark_engine_error", f"a packet tshark dissected could not be read: {err}"))
    frames = info[0] if info is not None else col.frames
    first_ts = info[1] if info is not None and info[1] is not None else col.first_ts
    last_ts = info[2] if info is not None and info[2] is not None else col.last_ts
    return _analysis(name, col, tls_ports, warnings, frames, first_ts, last_ts)


def _analysis(name: str, col: _Collector, tls_ports: frozenset[int],
              capture_warnings: list[tuple[str, str]], frames: int,
              first_ts: float | None, last_ts: float | None) -> Analysis:
    built = [b for b in (_build(st, name, tls_ports) for st in col.streams.values()) if b is not None]
    built.sort(key=lambda b: (b.record.ts_start, b.record.first_frame))
    flows: list[FlowRecord] = []
    events: list[EventRecord] = []
    certs: dict[str, CertSeen] = {}
    stats: Counter = Counter()
    for i, b in enumerate(built, 1):
        rec = replace(b.record, flow_id=i)
        flows.append(rec)
        for role_name in ("server", "client"):
            for pos, der in enumerate(b.chains.get(role_name, [])):
                info = parse_certificate_cached(der)
                seen = certs.get(info.sha256)
                if seen is None:
                    seen = certs[info.sha256] = CertSeen(info)
                if i not in seen.flow_ids:
                    seen.flow_ids.append(i)
                label = role_name if pos == 0 else f"{role_name}_chain"
                if label not in seen.roles:
                    seen.roles.append(label)
        for a in b.alerts:
            events.append(Alert(a.side, a.level, a.description, a.frame, a.ts).event(name, i, a.after))
        for code, detail in b.warnings:
            events.append(EventRecord(name, i, None, None, "warning", None, code, detail))
    events.sort(key=lambda e: (e.flow_id or 0, e.frame or 0))
    warnings = []
    for code, detail in capture_warnings:
        warnings.append(f"{code}: {detail}")
        events.append(EventRecord(name, None, None, None, "warning", None, code, detail))
    stats["frames"] = frames
    stats["tcp_connections"] = len(col.streams)
    stats["tls_flows"] = len(flows)
    return Analysis(name, flows, certs, events, stats, warnings, first_ts, last_ts)


def analyze_file_tshark(path: str | os.PathLike, *, ports: Iterable[int] = (),
                        keylog: str | os.PathLike | None = None) -> tuple[Analysis, str, int]:
    """What `inspector.read_capture` with ``engine="tshark"`` needs: (the `Analysis` of tshark's
    view, the file's format, its size in bytes); `inspector.api` makes the `Capture` of them.

    Raises `InspectError` when given a ``keylog`` (the native engine decrypts; this one does not).
    """
    if keylog is not None:
        raise InspectError("the tshark engine does not decrypt: use the native engine with a key log")
    path = Path(path)
    fmt, size = _format(path)
    return analyze_with_tshark(path, ports=ports), fmt, size


if __name__ == "__main__":  # python -m inspector.engines.tshark FILE...
    import sys

    for arg in sys.argv[1:]:
        an = analyze_with_tshark(arg)
        for fl in an.flows:
            print(f"{arg} #{fl.flow_id} {fl.client_ip}:{fl.client_port} -> {fl.server_ip}:{fl.server_port} "
                  f"{fl.tls_version} {fl.cipher} sni={fl.sni} chain={len(fl.server_chain_sha256)} "
                  f"alerts={fl.alerts} {fl.outcome}: {fl.outcome_detail} [{fl.history}]")
