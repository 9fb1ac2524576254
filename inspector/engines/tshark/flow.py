"""One stream's wire events -> a `FlowRecord` and its events (`build_flow`), every stream -> an
`Analysis` (`analysis_of`).  The native engine's semantics, from tshark's values: roles and the
outcome are `inspector.interpret`'s, the history letters and message names
`inspector.tls.session`'s, alert and version names `inspector.tls.constants`'."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace

from ...interpret import TLS13_RECORDS_MAX, HandshakeFacts, choose_client, outcome, tls12_over, tls13_over
from ...model import Alert, Analysis, CertSeen, EventRecord, FlowRecord
from ...tls.constants import alert_level_name, alert_name, version_name
from ...tls.session import CERT_ALERTS, HISTORY_LETTERS, MESSAGE_NAMES
from ...x509 import client_cert_kind, parse_certificate_cached
from ...x509.der import der_wrap
from .pdml import Msg, as_bytes, as_int, label_of, text_of
from .stream import Collector, Stream, WireEvent

HRR_RANDOM = "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c"

# the same tables the native engine prints with
_LETTERS, _NAMES, _CERT_ALERTS = HISTORY_LETTERS, MESSAGE_NAMES, CERT_ALERTS
# tshark protocol names (frame.protocols) of STARTTLS carriers -> the native engine's names
_STARTTLS = {"smtp": "smtp", "imap": "imap", "pop": "pop3", "ftp": "ftp", "xmpp": "xmpp",
             "jabber": "xmpp", "ldap": "ldap", "pgsql": "postgresql", "mysql": "mysql"}
_CTRL_ESCAPES = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F)}


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


def _roles(st: Stream, tls_ports: frozenset[int]) -> tuple[tuple[str, int], tuple[str, int]]:
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


def _dn_der(m: Msg) -> list[bytes]:
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
                raw = as_bytes(it)
                body += der_wrap(0x31, raw)  # SET OF one AttributeTypeAndValue
        names.append(der_wrap(0x30, body))  # the Name's SEQUENCE
    return names


def _ca_name(der: bytes) -> str:
    from ...tls.messages import ca_name_to_str

    try:
        return ca_name_to_str(der)
    except Exception:  # noqa: BLE001 - a name tshark could not dissect
        return "<unparsable name>"


def build_flow(st: Stream, capture: str, tls_ports: frozenset[int]) -> _Built | None:
    if not any(e.kind in ("hs", "enc_hs", "ccs", "alert", "enc_alert", "sslv2") for e in st.events):
        return None
    client, server = _roles(st, tls_ports)
    role = {client: "client", server: "server"}

    def side_of(ep: tuple[str, int]) -> str:
        return role.get(ep, "client")

    ch: Msg | None = None
    sh: Msg | None = None
    hrr = False
    sslv2_hello = False
    sslv2_server: Msg | None = None
    chains: dict[str, list[bytes]] = {}
    cert_request: Msg | None = None
    ske: Msg | None = None
    alerts: list[_Alert] = []
    history: list[str] = []
    ccs: dict[str, int] = {}
    first_ccs: str | None = None
    finished: dict[str, int] = {}
    server_after_client_finished = 0  # server records (alerts, application data) after the client's Finished
    appdata = 0
    enc_order: list[tuple[str, int]] = []
    last_message: dict[str, str] = {}
    speaker: str | None = None
    flight_cert: dict[str, bool] = {}
    done_at: WireEvent | None = None
    duplicate_ch = False

    def tls13() -> bool:
        v = _selected_version(sh)
        return v is not None and (v == 0x0304 or (v >> 8) in (0x7F, 0xFB))

    def over() -> bool:
        if any(a.level == "fatal" for a in alerts) or sslv2_server is not None:
            return True
        if tls13():
            return tls13_over(enc_order)
        return tls12_over(finished=len(finished), ccs=len(ccs), client_ccs_first=first_ccs == "client",
                          server_after_client_finished=server_after_client_finished, appdata=appdata)

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
                    chains[side] = [as_bytes(f) for f in e.msg.all("tls.handshake.certificate")]
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
                certs = [as_bytes(f) for f in e.msg.all("tls.handshake.certificate")]
                if certs and certs[0]:
                    chains.setdefault(side, certs[:1])
        elif e.kind == "ccs":
            ccs.setdefault(side, e.frame)
            first_ccs = first_ccs or side
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
        if side == "server" and "client" in finished and e.kind in ("alert", "enc_alert", "appdata"):
            server_after_client_finished += 1
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
        cipher_id = as_int(cs)
        cipher = label_of(cs)
    elif sslv2_server is not None:
        specs = sslv2_server.all("tls.handshake.cipherspec")
        if specs:
            cipher_id = as_int(specs[0])
            cipher = label_of(specs[0])
            if cipher and cipher.startswith("SSL2_"):  # the SSLv2 spec's names: SSL_CK_*
                cipher = "SSL_CK_" + cipher[5:]
    client_max = None
    if ch is not None:
        offered = [v for v in (as_int(f) for f in ch.all("tls.handshake.extensions.supported_version"))
                   if v is not None and (v & 0x0F0F) != 0x0A0A]
        legacy = as_int(ch.first("tls.handshake.version"))
        if offered:
            client_max = version_name(max(offered))
        elif legacy is not None:
            client_max = version_name(legacy)
    sni = None
    if ch is not None and not sslv2_hello:
        f = ch.first("tls.handshake.extensions_server_name")
        if f is not None:
            sni = text_of(as_bytes(f)) if f.raw_value else (f.show or None)
    alpn = None
    if sh is not None:
        f = sh.first("tls.handshake.extensions_alpn_str")
        if f is not None:
            alpn = f.show
    kx_group = dh_bits = None
    if ske is not None:
        curve = ske.first("tls.handshake.server_named_curve")
        if curve is not None:
            kx_group = label_of(curve)
        p = ske.first("tls.handshake.p")
        if p is not None:
            dh_bits = int.from_bytes(as_bytes(p), "big").bit_length() or None
    if kx_group is None and sh is not None:
        g = sh.first("tls.handshake.extensions_key_share_group")
        if g is not None:
            kx_group = label_of(g)
    resumed = False
    if sh is not None:
        if tls13():
            resumed = any(as_int(f) == 41 for f in sh.all("tls.handshake.extension.type"))
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


def _selected_version(sh: Msg | None) -> int | None:
    if sh is None:
        return None
    sv = [as_int(f) for f in sh.all("tls.handshake.extensions.supported_version")]
    sv = [v for v in sv if v is not None]
    if sv:
        return sv[-1]
    return as_int(sh.first("tls.handshake.version"))


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


def analysis_of(name: str, col: Collector, tls_ports: frozenset[int],
              capture_warnings: list[tuple[str, str]], frames: int,
              first_ts: float | None, last_ts: float | None) -> Analysis:
    built = [b for b in (build_flow(st, name, tls_ports) for st in col.streams.values()) if b is not None]
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
