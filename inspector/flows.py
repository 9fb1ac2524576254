"""TCP connections carrying TLS -> one `FlowRecord` each.

`Connection` holds one TCP connection in flight: a `StreamReassembler` and a `RecordReader` per
direction and the `TLSSession`.  It decides whether the connection carries TLS at all (content
detection), stops buffering once the handshake is over, and at the end becomes a `FlowRecord`
(`build_flow`), the row the user sees.  Certificates are summarised through `inspector.x509`.
"""

from __future__ import annotations

import sys

from typing import Callable

from .x509 import CertInfo, client_cert_kind
from .link import ip_to_str
from .model import Alert, EventRecord, FlowRecord, Limits, MessageRecord  # noqa: F401  (their old home)
from .interpret import HandshakeFacts, choose_client, outcome
from .tcp import TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, StreamReassembler
from .tls import fingerprint
from .domain import TLS_PORTS
from .tls import messages as m
from .tls.constants import cipher_name, group_name, version_name
from .tls.decrypt import KeyLog
from .tls.detect import classify_start, prelude_protocol
from .tls.records import RecordReader
from .tls.session import TLSSession

DEFAULT_TLS_PORTS = frozenset(TLS_PORTS)


def role_peer(side: str) -> str:
    return "b" if side == "a" else "a"


class Connection:
    """One TCP connection in flight. ``a`` sent the first packet seen (or the SYN)."""

    __slots__ = ("key_a", "a_ip", "b_ip", "a_port", "b_port", "ip_version", "first_ts", "last_ts",
                 "first_frame", "last_frame", "syn", "reasm", "readers", "session", "state",
                 "closed_by", "close_kind", "close_frame", "packets", "warnings", "evicted",
                 "isn_a", "snaplen", "held")

    def __init__(self, key_a: bytes, a_ip: bytes, b_ip: bytes, a_port: int, b_port: int,
                 frame: int, ts: float, limits: Limits, keylog: KeyLog | None = None) -> None:
        self.key_a = key_a
        self.a_ip, self.b_ip, self.a_port, self.b_port = a_ip, b_ip, a_port, b_port
        self.ip_version = 4 if len(a_ip) == 4 else 6
        self.first_ts = self.last_ts = ts
        self.first_frame = self.last_frame = frame
        self.syn: dict[str, bool] = {}
        self.reasm = {"a": StreamReassembler(limits.max_pending_bytes),
                      "b": StreamReassembler(limits.max_pending_bytes)}
        self.readers = {"a": RecordReader(limits.max_handshake_bytes),
                        "b": RecordReader(limits.max_handshake_bytes)}
        self.session = TLSSession(keylog=keylog, max_certs=limits.max_certs)
        if keylog is not None:
            for r in self.readers.values():
                r.keep_payload = True
        self.state = "new"  # new -> tls -> done ; new -> not_tls
        self.closed_by: str | None = None
        self.close_kind: str | None = None  # "rst" or "fin"
        self.close_frame: int | None = None
        self.packets = 0
        self.warnings: list[str] = []
        self.evicted = False
        self.isn_a: int | None = None
        self.snaplen = 0  # longest captured frame among this flow's packets that the snaplen cut
        self.held = 0  # bytes this flow buffers, as last counted by the engine (`buffered`)

    @property
    def is_tls(self) -> bool:
        s = self.session
        return bool(s.started) and (s.client_hello is not None or s.server_hello is not None
                                    or bool(s.history) or bool(s.alerts) or self.partial_hello() is not None)

    def buffered(self) -> int:
        """Bytes this connection holds: partial records and messages, data above holes, and the
        retransmission window of each direction."""
        n = 0
        for r in self.readers.values():
            n += len(r.buf) + len(r.hs)
        for t in self.reasm.values():
            n += t.pending_bytes + len(t._recent)
        return n

    def partial_hello(self) -> tuple[str, int, int | None] | None:
        """(``"ClientHello"``/``"ServerHello"``, bytes seen, bytes announced or None) for a hello
        the capture holds only the start of (the connection ended, or the capture did, first)."""
        for side in ("a", "b"):
            r = self.readers[side]
            hs, b = r.hs, r.buf
            rest = len(b) - 5 if len(b) > 5 and b[0] == 22 else 0  # the next record, begun
            if hs and hs[0] in (1, 2):
                mtype, seen = hs[0], len(hs) + rest
                need = ((hs[1] << 16) | (hs[2] << 8) | hs[3]) + 4 if len(hs) >= 4 else None
            elif rest and b[5] in (1, 2) and b[1] == 3:
                mtype, seen = b[5], rest
                need = ((b[6] << 16) | (b[7] << 8) | b[8]) + 4 if len(b) >= 9 else None
            else:
                continue
            if (mtype == 1 and self.session.client_hello is None) or (mtype == 2 and self.session.server_hello is None):
                return ("ClientHello" if mtype == 1 else "ServerHello"), seen, need
        return None

    def packet(self, side: str, seq: int, flags: int, payload: bytes, frame: int, ts: float,
               tls_ports: frozenset[int], ack: int | None = None) -> None:
        """Feed one TCP segment; updates ``state``.  ``ack``: the segment's acknowledgment number
        (the SYN-ACK's tells the initiator's ISN; with the ACK flag, it tells what the peer got)."""
        self.packets += 1
        self.last_ts = ts
        self.last_frame = frame
        if flags & TCP_SYN:
            self.syn[side] = True
            if flags & TCP_ACK and ack is not None:  # the SYN-ACK tells the initiator's ISN even if its SYN was lost
                peer = self.reasm["b" if side == "a" else "a"]
                if peer.base is None:
                    peer.base = ack
        if flags & (TCP_RST | TCP_FIN) and self.closed_by is None:
            self.closed_by = side
            self.close_kind = "rst" if flags & TCP_RST else "fin"
            self.close_frame = frame
            self.session._log(side, "tcp", "RST" if flags & TCP_RST else "FIN", frame, ts)
        if self.state == "done" or self.state == "not_tls":
            return
        reasm = self.reasm[side]
        pending = reasm.pending_bytes
        chunks = reasm.segment(seq, payload, bool(flags & TCP_SYN))
        if flags & TCP_FIN:
            reasm.fin((seq + len(payload) + bool(flags & TCP_SYN)) % (1 << 32))
        if flags & TCP_ACK and ack is not None:
            self.reasm["b" if side == "a" else "a"].acked_to(ack)
        if not chunks:
            if payload and reasm.pending_bytes == pending and self.session.started:
                # nothing delivered, nothing new stored: bytes already seen (a retransmission)
                self.session._log(side, "tcp", "retransmission", frame, ts)
            if flags & (TCP_RST | TCP_FIN):
                self._flush(frame, ts)
            return
        if self.state == "new":
            verdict = classify_start(chunks[0][0], self.a_port, self.b_port, tls_ports,
                                     midstream=self.reasm[side].midstream)
            if verdict == "not_tls":
                self.state = "not_tls"
                self._release()
                return
            self.state = "tls"
            if verdict == "midstream":
                for r in self.readers.values():
                    r.state = "resync"
        self._deliver(side, chunks, frame, ts)
        if flags & (TCP_RST | TCP_FIN):
            self._flush(frame, ts)

    def _deliver(self, side: str, chunks: list[tuple[bytes, bool]], frame: int, ts: float) -> None:
        reader = self.readers[side]
        session = self.session
        for data, gap in chunks:
            events = reader.feed(data, frame, gap)
            if events:
                was = bool(session.started)
                session.feed(side, events, ts)
                if not was and session.started:
                    other = self.readers["b" if side == "a" else "a"]
                    other.peer_tls = True
        if session.handshake_over:
            self.state = "done"
            self._release()
        elif reader.stopped and self.readers["b" if side == "a" else "a"].stopped:
            self.state = "done" if self.is_tls else "not_tls"
            self._release()
        elif reader.stopped and not session.started and reader.state == "stopped":
            # no TLS in this direction within the prelude limit and the peer has none either
            if not self.readers["b" if side == "a" else "a"].state == "records":
                self.state = "not_tls"
                self._release()

    def _flush(self, frame: int, ts: float) -> None:
        for side in ("a", "b"):
            chunks = self.reasm[side].flush()
            if chunks and self.state == "tls":
                self._deliver(side, chunks, frame, ts)

    def finish(self) -> None:
        """End of capture or eviction: deliver what waits above holes."""
        if self.state == "tls":
            self._flush(self.last_frame, self.last_ts)

    def _release(self) -> None:
        for r in self.reasm.values():
            r.release()
        for r in self.readers.values():
            r.stop()

    def tcp_anomalies(self) -> list[str]:
        out = []
        for side in ("a", "b"):
            for code in self.reasm[side].anomalies:
                if code not in out:
                    out.append(code)
        if self.missed("a") or self.missed("b"):
            out.append("capture_missed_bytes")
        return out

    def missed(self, side: str) -> int:
        """Bytes ``side`` sent that its peer acknowledged and the capture does not hold."""
        return self.reasm[side].missed()


# ---- building the row -------------------------------------------------------------------------

def _roles(conn: Connection, tls_ports: frozenset[int]) -> tuple[str, str]:
    """(client side, server side) among "a"/"b" (`inspector.interpret.choose_client`)."""
    c = choose_client("a", "b", hello_client=conn.session.client_side,
                      syn_initiator="a" if (conn.syn.get("a") or conn.syn.get("b")) else None,
                      a_port=conn.a_port, b_port=conn.b_port, tls_ports=tls_ports)
    return c, ("b" if c == "a" else "a")


def _prelude_name(session: TLSSession, server_port: int) -> str | None:
    return prelude_protocol(session.prelude.values(), server_port) if session.prelude else None


def _outcome(conn: Connection, client: str) -> tuple[str, str | None]:
    """The connection's wire facts, by role, judged by `inspector.interpret.outcome`."""
    s = conn.session
    server = role_peer(client)
    role = {client: "client", server: "server"}
    fatal = s.fatal_alert()
    enc = next((a for a in s.alerts if a.level == "encrypted"), None)
    closed = conn.close_kind is not None and conn.closed_by is not None
    facts = HandshakeFacts(
        fatal=(role[fatal.side], fatal.description, fatal.after) if fatal is not None else None,
        hellos_seen=s.client_hello is not None or s.server_hello is not None,
        partial_hello=conn.partial_hello() if s.client_hello is None and s.server_hello is None else None,
        sslv2=s.sslv2_server is not None,
        tls13=s.is_tls13,
        tls13_finished=s.is_tls13 and s.tls13_finished,
        encrypted_records=tuple((role[side], n) for side, n in s.encrypted_order) if s.is_tls13 else (),
        finished_both=len(s.finished) == 2 or (len(s.ccs) == 2 and sum(s.appdata.values()) > 0),
        encrypted_alert_by=role[enc.side] if enc is not None else None,
        close=(role[conn.closed_by], "rst" if conn.close_kind == "rst" else "fin") if closed else None,
        last_message={role[side]: msg for side, msg in s.last_message.items() if side in role and msg},
        missed={"client": conn.missed(client), "server": conn.missed(server)},
        evicted=conn.evicted or None,
    )
    return outcome(facts)


def build_flow(conn: Connection, flow_id: int, capture: str, cert_info: Callable[[bytes], CertInfo],
               tls_ports: frozenset[int]) -> FlowRecord:
    s = conn.session
    c, sv = _roles(conn, tls_ports)
    ip = {"a": conn.a_ip, "b": conn.b_ip}
    port = {"a": conn.a_port, "b": conn.b_port}
    ch, sh = s.client_hello, s.server_hello
    server_chain = [cert_info(d) for d in s.chains.get(sv, [])]
    client_chain = [cert_info(d) for d in s.chains.get(c, [])]
    role = {c: "client", sv: "server"}
    outcome, detail = _outcome(conn, c)
    warnings = conn.tcp_anomalies() + conn.warnings
    if conn.snaplen:
        if "snaplen_truncated" not in conn.warnings:
            conn.warnings.append("snaplen_truncated")
            warnings.append("snaplen_truncated")
        cut = f"the capture cut the packets at {conn.snaplen} bytes (snaplen {conn.snaplen})"
        if outcome == "established" or conn.session.fatal_alert() is not None:  # evidence the cut kept
            detail = f"{detail}; {cut}" if detail else cut
        else:
            outcome, detail = "incomplete", f"{cut}: the handshake cannot be read in full" + (
                f" ({detail})" if detail and conn.session.client_hello is not None else "")
    for a in s.anomalies:
        if a.code not in warnings:
            warnings.append(a.code)
    for ci in server_chain + client_chain:
        if ci.errors and "cert_parse_error" not in warnings:
            warnings.append("cert_parse_error")
    resumed = False
    if sh is not None:
        if s.is_tls13:
            resumed = any(t == 41 for t, _ in sh.extensions)
        else:
            # abbreviated handshake: the server's CCS comes straight after its ServerHello
            resumed = (bool(sh.session_id) and ch is not None and sh.session_id == ch.session_id) or (
                sv not in s.chains and _server_ccs_before_client(s, c))
    kx = s.server_kx
    kx_group = None
    if kx is not None and kx.curve is not None:
        kx_group = group_name(kx.curve)
    elif sh is not None and sh.key_share_group is not None:
        kx_group = group_name(sh.key_share_group)
    client_max = None
    if ch is not None:
        versions = list(ch.supported_versions) or [ch.legacy_version]
        client_max = version_name(max(versions))
    req = s.cert_request
    return FlowRecord(
        capture=capture,
        flow_id=flow_id,
        ts_start=conn.first_ts,
        ts_end=conn.last_ts,
        first_frame=conn.first_frame,
        last_frame=conn.last_frame,
        client_ip=ip_to_str(ip[c]),
        client_port=port[c],
        server_ip=ip_to_str(ip[sv]),
        server_port=port[sv],
        ip_version=conn.ip_version,
        tls_version=version_name(sh.selected_version) if sh is not None else (
            "SSL 2.0" if s.sslv2_server else None),
        client_max_version=client_max,
        cipher=cipher_name(sh.cipher_suite) if sh is not None else (
            cipher_name(s.sslv2_server[0]) if s.sslv2_server else None),
        cipher_id=sh.cipher_suite if sh is not None else (s.sslv2_server[0] if s.sslv2_server else None),
        sni=ch.sni if ch is not None else None,
        alpn=(sh.alpn if sh is not None else None),
        server_subject=server_chain[0].subject if server_chain else None,
        server_issuer=server_chain[0].issuer if server_chain else None,
        server_chain_sha256=tuple(ci.sha256 for ci in server_chain),
        client_subject=client_chain[0].subject if client_chain else None,
        client_issuer=client_chain[0].issuer if client_chain else None,
        client_chain_sha256=tuple(ci.sha256 for ci in client_chain),
        client_cert_kind=client_cert_kind(client_chain[0]) if client_chain else None,
        client_cert_requested=req is not None,
        requested_ca_names=tuple(m.ca_name_to_str(n) for n in req.ca_names) if req is not None else (),
        alerts=tuple(sys.intern(str(Alert(role[a.side], a.level, a.description))) for a in s.alerts),
        outcome=outcome,
        outcome_detail=detail,
        certs_visible=bool(server_chain),
        decrypted=s.decrypted,
        resumed=bool(resumed),
        dh_bits=kx.dh_p_bits if kx is not None else None,
        kx_group=kx_group,
        history=_history(s, c),
        ja3=s.ja3,
        ja3s=sys.intern(fingerprint.ja3s(sh)) if sh is not None else None,
        ja4=s.ja4,
        starttls=_prelude_name(s, port[sv]),
        packets=conn.packets,
        warnings=tuple(warnings),
    )


def _server_ccs_before_client(s: TLSSession, client: str) -> bool:
    server = "b" if client == "a" else "a"
    return server in s.ccs and (client not in s.ccs or s.ccs[server] <= s.ccs[client])


def _history(s: TLSSession, client: str) -> str:
    """Zeek-style history; letters were cased when the client side was already known."""
    return "".join(s.history)
