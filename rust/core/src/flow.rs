//! TCP connections carrying TLS -> one `FlowRecord` each (port of `inspector/flows.py`).
//!
//! The records hold every column the Python engine fills except those derived from X.509
//! (subjects, issuers, `client_cert_kind`): Python fills those from the DER of the distinct
//! certificates (`engine::CertSeen`). `requested_ca_names` are formatted here
//! (`tls::messages::ca_name_to_str`, RFC 4514 as `cryptography` writes it): a CA name whose OID
//! makes `cryptography` panic is "undecodable" here instead of a crash.

/// Ports decoded as TLS even when the capture starts mid-connection.
pub const DEFAULT_TLS_PORTS: [u16; 6] = [443, 2443, 3804, 5061, 6972, 8443];

/// Resource limits; hitting one is a warning on the flow, never a failure.
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    /// Handshakes in flight before the oldest is evicted.
    pub max_flows: usize,
    /// Largest handshake message accepted.
    pub max_handshake_bytes: usize,
    /// Out-of-order bytes kept above a hole, per direction.
    pub max_pending_bytes: usize,
    /// Certificates parsed per chain.
    pub max_certs: usize,
    /// Finished connections remembered (to skip their packets).
    pub max_tombstones: usize,
    /// IPv4 reassembly bounds (Python's `max_frag_datagrams`, `max_frag_bytes`, `frag_timeout`).
    pub frag: FragLimits,
    /// Handshake bytes buffered by all flows in flight (over it the flow holding the most is
    /// evicted: `evicted_memory_budget`).
    pub max_buffered_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_flows: 20_000,
            max_handshake_bytes: 1024 * 1024,
            max_pending_bytes: 256 * 1024,
            max_certs: 32,
            max_tombstones: 500_000,
            frag: FragLimits::default(),
            max_buffered_bytes: 512 * 1024 * 1024,
        }
    }
}

/// One TLS connection, as the `flows` row (the X.509-derived columns are filled by Python).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct FlowRecord {
    pub flow_id: u64,
    pub ts_start: f64,
    pub ts_end: f64,
    pub first_frame: u64,
    pub last_frame: u64,
    pub client_ip: String,
    pub client_port: u16,
    pub server_ip: String,
    pub server_port: u16,
    pub ip_version: u8,
    pub tls_version: Option<String>,
    pub client_max_version: Option<String>,
    pub cipher: Option<String>,
    /// u32: an SSLv2 cipher kind has three bytes.
    pub cipher_id: Option<u32>,
    pub sni: Option<String>,
    pub alpn: Option<String>,
    pub server_chain_sha256: Vec<String>,
    pub client_chain_sha256: Vec<String>,
    pub client_cert_requested: bool,
    /// The CertificateRequest's CA names, RFC 4514.
    pub requested_ca_names: Vec<String>,
    pub alerts: Vec<String>,
    pub outcome: String,
    pub outcome_detail: Option<String>,
    pub certs_visible: bool,
    pub decrypted: bool,
    pub resumed: bool,
    pub dh_bits: Option<u32>,
    pub kx_group: Option<String>,
    pub history: String,
    pub ja3: Option<String>,
    pub ja3s: Option<String>,
    pub ja4: Option<String>,
    pub starttls: Option<String>,
    pub packets: u64,
    /// Anomaly codes; Python appends `cert_parse_error` when a chain's DER does not decode.
    pub warnings: Vec<String>,
    /// "tcp", "udp" or "eap" (802.1X EAPOL; EAP inside RADIUS is "udp").
    pub transport: String,
    /// "TLS", "DTLS", "QUIC", "EAP-TLS", "PEAP", "EAP-TTLS", "EAP-FAST".
    pub protocol: String,
    /// The tunnels crossed, outermost first ("gre", "erspan2>vxlan"); `None` when none.
    pub encapsulation: Option<String>,
    /// QUIC rows: "QUIC v1", "QUIC v2", "QUIC draft-29", "Google QUIC Q050".
    pub quic_version: Option<String>,
    /// DTLS rows: the `use_srtp` profile the server selected (e.g. "SRTP_AES128_CM_HMAC_SHA1_80").
    pub srtp_profile: Option<String>,
}

/// An alert or a warning, as an `events` row.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct EventRecord {
    pub flow_id: Option<u64>,
    pub frame: Option<u64>,
    pub ts: Option<f64>,
    /// "alert" or "warning"
    pub kind: &'static str,
    /// "client"/"server" for alerts; the side a warning concerns, if any.
    pub sender: Option<&'static str>,
    pub code: String,
    pub detail: String,
}

// ---- one TCP connection in flight ---------------------------------------------------------------

use std::sync::Arc;

use crate::ip::{ip_to_string, FragLimits};
use crate::tcp::{StreamReassembler, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN};
use crate::tls::decrypt::KeyLog;
use crate::tls::detect::{classify_start, prelude_protocol, StartKind};
use crate::tls::fingerprint;
use crate::tls::messages::ca_name_to_str;
use crate::tls::names::{cipher_name, group_name, version_name};
use crate::tls::records::{RecordReader, State as ReaderState, DEFAULT_MAX_RECORDS};
use crate::tls::session::{Side, TLSSession};
use crate::tls::summary::HandshakeSummary;

/// Where a connection is: `New -> Tls -> Done`, or `New -> NotTls`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnState {
    New,
    Tls,
    Done,
    NotTls,
}

/// How the connection was closed first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseKind {
    Rst,
    Fin,
}

/// The smallest alert record: a 5-byte header and 2 bytes (level, description).
pub const ALERT_RECORD_MIN: u64 = 7;

/// A connection-level warning (beside the TCP and TLS anomalies).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnWarning {
    EvictedFlowTableFull,
    EvictedMemoryBudget,
}

impl ConnWarning {
    pub fn code(self) -> &'static str {
        match self {
            ConnWarning::EvictedFlowTableFull => "evicted_flow_table_full",
            ConnWarning::EvictedMemoryBudget => "evicted_memory_budget",
        }
    }
}

#[inline]
fn idx(side: Side) -> usize {
    match side {
        Side::A => 0,
        Side::B => 1,
    }
}

#[inline]
fn other(side: Side) -> Side {
    match side {
        Side::A => Side::B,
        Side::B => Side::A,
    }
}

/// One TCP connection in flight. `a` sent the first packet seen (or the SYN).
#[derive(Debug)]
pub struct Connection {
    pub a_ip: Vec<u8>,
    pub b_ip: Vec<u8>,
    pub a_port: u16,
    pub b_port: u16,
    pub ip_version: u8,
    pub first_ts: f64,
    pub last_ts: f64,
    pub first_frame: u64,
    pub last_frame: u64,
    pub syn: [bool; 2],
    pub reasm: [StreamReassembler; 2],
    pub readers: [RecordReader; 2],
    pub session: TLSSession,
    pub state: ConnState,
    pub closed_by: Option<Side>,
    pub close_kind: Option<CloseKind>,
    pub close_frame: Option<u64>,
    pub packets: u64,
    pub warnings: Vec<ConnWarning>,
    pub evicted: bool,
    pub isn_a: Option<u32>,
    /// The longest captured frame among this flow's packets that the snaplen cut (0: none cut).
    pub snaplen: usize,
    /// Bytes this flow buffers, as last counted by the engine (`buffered`).
    pub held: usize,
}

impl Connection {
    #[allow(clippy::too_many_arguments)]
    pub fn new(a_ip: &[u8], b_ip: &[u8], a_port: u16, b_port: u16, frame: u64, ts: f64,
               limits: &Limits, keylog: Option<Arc<KeyLog>>) -> Connection {
        let keep = keylog.is_some();
        let mut readers = [
            RecordReader::new(limits.max_handshake_bytes, DEFAULT_MAX_RECORDS),
            RecordReader::new(limits.max_handshake_bytes, DEFAULT_MAX_RECORDS),
        ];
        if keep {
            for r in readers.iter_mut() {
                r.keep_payload = true;
            }
        }
        Connection {
            a_ip: a_ip.to_vec(),
            b_ip: b_ip.to_vec(),
            a_port,
            b_port,
            ip_version: if a_ip.len() == 4 { 4 } else { 6 },
            first_ts: ts,
            last_ts: ts,
            first_frame: frame,
            last_frame: frame,
            syn: [false; 2],
            reasm: [
                StreamReassembler::new(limits.max_pending_bytes),
                StreamReassembler::new(limits.max_pending_bytes),
            ],
            readers,
            session: TLSSession::new(keylog, limits.max_certs),
            state: ConnState::New,
            closed_by: None,
            close_kind: None,
            close_frame: None,
            packets: 0,
            warnings: Vec::new(),
            evicted: false,
            isn_a: None,
            snaplen: 0,
            held: 0,
        }
    }

    /// Decrypt with this key log from now on (records already parsed stay as they were).
    pub fn set_keylog(&mut self, keylog: Arc<KeyLog>) {
        for r in self.readers.iter_mut() {
            r.keep_payload = true;
        }
        self.session.keylog = Some(keylog);
    }

    /// Judged: the handshake is over, or the connection carries no TLS.
    #[inline]
    pub fn judged(&self) -> bool {
        matches!(self.state, ConnState::Done | ConnState::NotTls)
    }

    pub fn is_tls(&self) -> bool {
        let s = &self.session;
        session_started(s)
            && (s.client_hello.is_some() || s.server_hello.is_some() || !s.history.is_empty()
                || !s.alerts.is_empty() || self.partial_hello().is_some())
    }

    /// Bytes this connection holds: partial records and messages, data above holes, and the
    /// retransmission window of each direction.
    pub fn buffered(&self) -> usize {
        self.readers.iter().map(|r| r.buffered()).sum::<usize>() + self.reasm.iter().map(|t| t.held()).sum::<usize>()
    }

    /// ("ClientHello"/"ServerHello", bytes seen, bytes announced) for a hello the capture holds
    /// only the start of (the connection ended, or the capture did, first), as
    /// `inspector.flows.Connection.partial_hello`.
    pub fn partial_hello(&self) -> Option<(&'static str, usize, Option<usize>)> {
        for r in &self.readers {
            let (hs, b) = r.pending();
            let rest = if b.len() > 5 && b[0] == 22 { b.len() - 5 } else { 0 }; // the next record, begun
            let len24 = |x: &[u8]| ((usize::from(x[0]) << 16) | (usize::from(x[1]) << 8) | usize::from(x[2])) + 4;
            let (mtype, seen, need) = if !hs.is_empty() && (hs[0] == 1 || hs[0] == 2) {
                (hs[0], hs.len() + rest, if hs.len() >= 4 { Some(len24(&hs[1..4])) } else { None })
            } else if rest > 0 && (b[5] == 1 || b[5] == 2) && b[1] == 3 {
                (b[5], rest, if b.len() >= 9 { Some(len24(&b[6..9])) } else { None })
            } else {
                continue;
            };
            if (mtype == 1 && self.session.client_hello.is_none()) || (mtype == 2 && self.session.server_hello.is_none()) {
                return Some((if mtype == 1 { "ClientHello" } else { "ServerHello" }, seen, need));
            }
        }
        None
    }

    /// Feed one TCP segment; updates `state`. `ack` matters only on a SYN-ACK.
    #[allow(clippy::too_many_arguments)]
    pub fn packet(&mut self, side: Side, seq: u32, flags: u8, payload: &[u8], frame: u64, ts: f64,
                  tls_ports: &[u16], ack: u32) {
        self.packets += 1;
        self.last_ts = ts;
        self.last_frame = frame;
        let closing = flags & (TCP_RST | TCP_FIN) != 0;
        if flags & TCP_SYN != 0 {
            self.syn[idx(side)] = true;
            if flags & TCP_ACK != 0 {
                // the SYN-ACK tells the initiator's ISN even if its SYN was lost
                let peer = &mut self.reasm[idx(other(side))];
                if peer.base.is_none() {
                    peer.base = Some(ack);
                }
            }
        }
        if closing && self.closed_by.is_none() {
            self.closed_by = Some(side);
            self.close_kind = Some(if flags & TCP_RST != 0 { CloseKind::Rst } else { CloseKind::Fin });
            self.close_frame = Some(frame);
            self.session.log(side, "tcp", if flags & TCP_RST != 0 { "RST" } else { "FIN" }, frame, ts);
        }
        if self.judged() {
            return;
        }
        let pending = self.reasm[idx(side)].pending_bytes;
        let chunks = self.reasm[idx(side)].segment(seq, payload, flags & TCP_SYN != 0);
        if flags & TCP_FIN != 0 {
            let at = seq.wrapping_add(payload.len() as u32).wrapping_add(u32::from(flags & TCP_SYN != 0));
            self.reasm[idx(side)].fin(at);
        }
        if flags & TCP_ACK != 0 {
            self.reasm[idx(other(side))].acked_to(ack);
        }
        if chunks.is_empty() {
            if !payload.is_empty() && self.reasm[idx(side)].pending_bytes == pending
                && !self.session.started.is_empty()
            {
                // nothing delivered, nothing new stored: bytes already seen (a retransmission)
                self.session.log(side, "tcp", "retransmission", frame, ts);
            }
            if closing {
                self.flush(frame, ts);
            }
            return;
        }
        if self.state == ConnState::New {
            let verdict = classify_start(&chunks[0].data, self.a_port, self.b_port, tls_ports,
                                         self.reasm[idx(side)].midstream);
            if verdict == StartKind::NotTls {
                self.state = ConnState::NotTls;
                self.release();
                return;
            }
            self.state = ConnState::Tls;
            if verdict == StartKind::Midstream {
                for r in self.readers.iter_mut() {
                    r.state = ReaderState::Resync;
                }
            }
        }
        self.deliver(side, chunks, frame, ts);
        if closing {
            self.flush(frame, ts);
        }
    }

    fn deliver(&mut self, side: Side, chunks: Vec<crate::tcp::Chunk>, frame: u64, ts: f64) {
        let i = idx(side);
        let o = idx(other(side));
        let mut events = Vec::new();
        for c in chunks {
            events.clear();
            self.readers[i].feed_into(&c.data, frame, c.gap_before, &mut events);
            if !events.is_empty() {
                let was = session_started(&self.session);
                self.session.feed(side, events.drain(..), ts);
                if !was && session_started(&self.session) {
                    self.readers[o].peer_tls = true;
                }
            }
        }
        if self.session.handshake_over() {
            self.state = ConnState::Done;
            self.release();
        } else if self.readers[i].stopped() && self.readers[o].stopped() {
            self.state = if self.is_tls() { ConnState::Done } else { ConnState::NotTls };
            self.release();
        } else if self.readers[i].stopped() && !session_started(&self.session)
            && self.readers[o].state != ReaderState::Records
        {
            // no TLS in this direction within the prelude limit and the peer has none either
            self.state = ConnState::NotTls;
            self.release();
        }
    }

    fn flush(&mut self, frame: u64, ts: f64) {
        for side in [Side::A, Side::B] {
            let chunks = self.reasm[idx(side)].flush();
            if !chunks.is_empty() && self.state == ConnState::Tls {
                self.deliver(side, chunks, frame, ts);
            }
        }
    }

    /// End of capture or eviction: deliver what waits above holes.
    pub fn finish(&mut self) {
        if self.state == ConnState::Tls {
            let (frame, ts) = (self.last_frame, self.last_ts);
            self.flush(frame, ts);
        }
    }

    fn release(&mut self) {
        for r in self.reasm.iter_mut() {
            r.release();
        }
        for r in self.readers.iter_mut() {
            r.stop();
        }
    }

    /// TCP anomaly codes of both directions, each once, in order.
    pub fn tcp_anomalies(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for r in &self.reasm {
            for a in &r.anomalies {
                if !out.contains(&a.code()) {
                    out.push(a.code());
                }
            }
        }
        if self.missed(Side::A) > 0 || self.missed(Side::B) > 0 {
            out.push("capture_missed_bytes");
        }
        out
    }

    /// Bytes `side` sent that its peer acknowledged and the capture does not hold.
    pub fn missed(&self, side: Side) -> u64 {
        self.reasm[idx(side)].missed()
    }
}

// ---- what the row needs from the session (the one place that knows its layout) --------------

#[inline]
fn session_started(s: &TLSSession) -> bool {
    !s.started.is_empty()
}

// ---- building the row ----------------------------------------------------------------------------

/// (client side, server side), as `inspector.flows._roles` decides (its branches kept one by one).
#[allow(clippy::if_same_then_else)]
pub fn roles(conn: &Connection, tls_ports: &[u16]) -> (Side, Side) {
    let s = &conn.session;
    let c = if let Some(c) = s.client_side {
        c
    } else if conn.syn[0] || conn.syn[1] {
        Side::A // the side that sent the first packet with SYN is the initiator by construction
    } else if tls_ports.contains(&conn.b_port) && !tls_ports.contains(&conn.a_port) {
        Side::A
    } else if tls_ports.contains(&conn.a_port) && !tls_ports.contains(&conn.b_port) {
        Side::B
    } else if conn.a_port >= conn.b_port {
        Side::A
    } else {
        Side::B
    };
    (c, other(c))
}

fn role_name(side: Side, client: Side) -> &'static str {
    if side == client {
        "client"
    } else {
        "server"
    }
}

fn peer_of(who: &str) -> &'static str {
    if who == "client" {
        "server"
    } else {
        "client"
    }
}

/// (outcome, detail), as `inspector.flows._outcome`.
pub fn outcome(conn: &Connection, client: Side) -> (&'static str, Option<String>) {
    let s = &conn.session;
    if let Some(fatal) = s.fatal_alert() {
        let who = role_name(fatal.side, client);
        let after = match &fatal.after {
            Some(a) if !a.is_empty() => format!(" after the {}'s {}", peer_of(who), a),
            _ => String::new(),
        };
        return ("failed", Some(format!("{who} sent fatal {}{after}", fatal.description)));
    }
    if s.client_hello.is_none() && s.server_hello.is_none() {
        if let Some((name, seen, need)) = conn.partial_hello() {
            let of = need.map(|n| format!(" of the {n}")).unwrap_or_default();
            let how = match (conn.close_kind, conn.closed_by) {
                (Some(kind), Some(by)) => format!("; then the {} {} the connection", role_name(by, client),
                                                  if kind == CloseKind::Rst { "reset" } else { "closed" }),
                _ => String::new(),
            };
            return ("incomplete", Some(format!("only {seen}{of} bytes of the {name} were seen{how}")));
        }
        return ("incomplete", Some("the hellos are not in the capture (it starts mid-connection)".into()));
    }
    if s.sslv2_server.is_some() {
        return ("established",
                Some("SSL 2.0 (obsolete and insecure); its handshake is encrypted after the ServerHello".into()));
    }
    if s.is_tls13() && s.tls13_finished() {
        return ("established", None);
    }
    if s.is_tls13() {
        if let Some(v) = tls13_outcome(s, client) {
            return v;
        }
    } else if s.finished.len() == 2 || (s.ccs.len() == 2 && s.appdata.values().sum::<u64>() > 0) {
        return ("established", None);
    } else if let Some(enc) = s.alerts.iter().find(|a| a.level == "encrypted") {
        return ("failed", Some(format!("{} sent an encrypted alert during the handshake",
                                       role_name(enc.side, client))));
    }
    if let (Some(_), Some(by)) = (conn.close_kind, conn.closed_by) {
        let who = role_name(by, client);
        let last = s.last_message.get(other(by));
        let after = match last {
            Some(l) if !l.is_empty() => format!(" after the {}'s {}", peer_of(who), l),
            _ => String::new(),
        };
        let how = if conn.close_kind == Some(CloseKind::Rst) { "reset" } else { "closed" };
        let missed: Vec<String> = [client, other(client)]
            .into_iter()
            .filter(|&side| conn.missed(side) >= ALERT_RECORD_MIN)
            .map(|side| format!("{} bytes from the {}", conn.missed(side), role_name(side, client)))
            .collect();
        if !missed.is_empty() {
            // the alert may have been among the bytes the capture missed
            return ("reset", Some(format!("{who} {how} the connection{after}; no alert in the capture, which \
                                           missed {}", missed.join(" and "))));
        }
        return ("reset", Some(format!("{who} {how} the connection{after} without an alert")));
    }
    if conn.evicted {
        let why = if conn.warnings.contains(&ConnWarning::EvictedMemoryBudget) {
            "memory budget for buffered handshakes reached"
        } else {
            "flow table full"
        };
        return ("incomplete", Some(format!("flow evicted before the handshake ended ({why})")));
    }
    ("incomplete", Some("the capture ends before the handshake does".into()))
}

/// TLS 1.3 handshakes are encrypted after the ServerHello: judge by record sizes and order.
///
/// An encrypted alert is 2 bytes + content type + 16-byte AEAD tag = 19 bytes; Finished is at
/// least 4 + 32 + 17 = 53. Established when the server speaks again after the client's Finished.
pub fn tls13_outcome(s: &TLSSession, client: Side) -> Option<(&'static str, Option<String>)> {
    let seq = &s.encrypted_order;
    let first_client = seq.iter().position(|(side, _)| *side == client)?;
    let size = seq[first_client].1;
    if size <= 24 {
        return Some(("failed", Some(
            "client sent an encrypted alert (TLS 1.3: it likely rejected the server's certificate)".into())));
    }
    let later_server: Vec<usize> =
        seq[first_client + 1..].iter().filter(|(side, _)| *side != client).map(|(_, n)| *n).collect();
    if !later_server.is_empty() {
        if later_server[0] <= 24 && later_server.len() == 1 {
            return Some(("failed", Some("server sent an encrypted alert after the client's Finished \
                (TLS 1.3: likely rejected the client's certificate)".into())));
        }
        return Some(("established", None));
    }
    if seq[first_client + 1..].iter().any(|(side, _)| *side == client) {
        return Some(("established", None));
    }
    None
}

fn server_ccs_before_client(s: &TLSSession, client: Side) -> bool {
    let server = other(client);
    match (s.ccs.get(server), s.ccs.get(client)) {
        (Some(_), None) => true,
        (Some(sv), Some(c)) => sv <= c,
        _ => false,
    }
}

/// The `flows` row of a judged connection (X.509-derived columns are left to Python).
pub fn build_flow(conn: &Connection, flow_id: u64, tls_ports: &[u16]) -> FlowRecord {
    use crate::engine::sha256_hex;
    let s = &conn.session;
    let (c, sv) = roles(conn, tls_ports);
    let ip = |side: Side| if side == Side::A { &conn.a_ip } else { &conn.b_ip };
    let port = |side: Side| if side == Side::A { conn.a_port } else { conn.b_port };
    let ch = s.client_hello.as_ref();
    let sh = s.server_hello.as_ref();
    let h = HandshakeSummary::from_session(s, c);
    let server_chain: Vec<String> = h.server_chain.iter().map(|d| sha256_hex(d)).collect();
    let client_chain: Vec<String> = h.client_chain.iter().map(|d| sha256_hex(d)).collect();
    let (mut outcome, mut detail) = outcome(conn, c);
    let mut warnings: Vec<String> = conn.tcp_anomalies().into_iter().map(String::from).collect();
    warnings.extend(conn.warnings.iter().map(|w| w.code().to_string()));
    if conn.snaplen > 0 {
        warnings.push("snaplen_truncated".into());
        let cut = format!("the capture cut the packets at {n} bytes (snaplen {n})", n = conn.snaplen);
        if outcome == "established" || s.fatal_alert().is_some() { // evidence the cut kept
            detail = Some(match detail {
                Some(d) if !d.is_empty() => format!("{d}; {cut}"),
                _ => cut,
            });
        } else {
            let why = match &detail {
                Some(d) if !d.is_empty() && s.client_hello.is_some() => format!(" ({d})"),
                _ => String::new(),
            };
            outcome = "incomplete";
            detail = Some(format!("{cut}: the handshake cannot be read in full{why}"));
        }
    }
    for a in &s.anomalies {
        if !warnings.contains(&a.code) {
            warnings.push(a.code.to_string());
        }
    }
    let mut resumed = false;
    if let Some(sh) = sh {
        if s.is_tls13() {
            resumed = sh.extensions.iter().any(|e| e.0 == 41);
        } else {
            // abbreviated handshake: the server's CCS comes straight after its ServerHello
            resumed = (!sh.session_id.is_empty() && ch.is_some_and(|ch| sh.session_id == ch.session_id))
                || (!s.chains.contains_key(sv) && server_ccs_before_client(s, c));
        }
    }
    let kx = s.server_kx.as_ref();
    let kx_group = match kx.and_then(|k| k.curve) {
        Some(curve) => Some(group_name(curve)),
        None => h.group,
    };
    let client_max_version = ch.map(|ch| {
        let max = ch.supported_versions.iter().copied().max().unwrap_or(ch.legacy_version);
        version_name(u32::from(max))
    });
    let sslv2 = s.sslv2_server;
    let role = |side: Side| role_name(side, c);
    FlowRecord {
        flow_id,
        ts_start: conn.first_ts,
        ts_end: conn.last_ts,
        first_frame: conn.first_frame,
        last_frame: conn.last_frame,
        client_ip: ip_to_string(ip(c)),
        client_port: port(c),
        server_ip: ip_to_string(ip(sv)),
        server_port: port(sv),
        ip_version: conn.ip_version,
        tls_version: h.version.or_else(|| sslv2.map(|_| "SSL 2.0".to_string())),
        client_max_version,
        cipher: h.cipher.or_else(|| sslv2.map(|(kind, _)| cipher_name(kind))),
        cipher_id: h.cipher_id.or_else(|| sslv2.map(|(kind, _)| kind)),
        sni: h.sni,
        alpn: sh.and_then(|sh| sh.alpn.clone()),
        certs_visible: !server_chain.is_empty(),
        server_chain_sha256: server_chain,
        client_chain_sha256: client_chain,
        client_cert_requested: h.cert_request,
        requested_ca_names: h.cert_request_ca_names.iter().map(|n| ca_name_to_str(n)).collect(),
        alerts: h.alerts.iter().map(|a| format!("{}:{}:{}", role(a.side), a.level, a.description)).collect(),
        outcome: outcome.to_string(),
        outcome_detail: detail,
        decrypted: s.decrypted,
        resumed,
        dh_bits: kx.and_then(|k| k.dh_p_bits),
        kx_group,
        history: h.history,
        ja3: h.ja3,
        ja3s: sh.map(fingerprint::ja3s),
        ja4: h.ja4,
        starttls: if s.prelude.is_empty() {
            None
        } else {
            let heads: Vec<&[u8]> = s.prelude.values().map(|v| v.as_slice()).collect();
            Some(prelude_protocol(&heads, port(sv)).to_string())
        },
        packets: conn.packets,
        warnings,
        transport: "tcp".to_string(),
        protocol: "TLS".to_string(),
        ..FlowRecord::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn(a_port: u16, b_port: u16) -> Connection {
        Connection::new(&[10, 0, 0, 1], &[10, 0, 0, 2], a_port, b_port, 1, 0.0, &Limits::default(), None)
    }

    #[test]
    fn roles_follow_the_hello_then_syn_then_ports() {
        let ports: &[u16] = &DEFAULT_TLS_PORTS;
        // (a_port, b_port, syn, client_side from the hellos) -> client side
        let cases: &[(u16, u16, bool, Option<Side>, Side)] = &[
            (50000, 443, false, Some(Side::B), Side::B), // the ClientHello decides
            (443, 50000, true, None, Side::A),           // the SYN sender initiated
            (50000, 443, false, None, Side::A),          // only b's port is a TLS port
            (443, 50000, false, None, Side::B),          // only a's port is a TLS port
            (40000, 30000, false, None, Side::A),        // neither: the higher port is the client
            (30000, 40000, false, None, Side::B),
            (443, 8443, false, None, Side::B),           // both: the higher port again
        ];
        for &(ap, bp, syn, hello, want) in cases {
            let mut c = conn(ap, bp);
            c.syn[1] = syn;
            c.session.client_side = hello;
            assert_eq!(roles(&c, ports), (want, other(want)), "{ap} {bp} {syn} {hello:?}");
        }
    }

    #[test]
    fn tls13_outcome_by_record_sizes_and_order() {
        use Side::{A, B};
        // encrypted records after the ServerHello (side, size) -> outcome; the client is A
        let cases: &[(&[(Side, usize)], Option<&str>)] = &[
            (&[(B, 2000)], None),                                // the client has not spoken
            (&[(B, 2000), (A, 19)], Some("failed")),             // the client's alert
            (&[(B, 2000), (A, 80), (B, 19)], Some("failed")),    // the server's alert after Finished
            (&[(B, 2000), (A, 80), (B, 300)], Some("established")),
            (&[(B, 2000), (A, 80), (B, 19), (B, 40)], Some("established")),
            (&[(B, 2000), (A, 80), (A, 500)], Some("established")),
            (&[(B, 2000), (A, 80)], None),                       // wait for the server's verdict
        ];
        for (seq, want) in cases {
            let mut s = TLSSession::new(None, 32);
            s.encrypted_order = seq.to_vec();
            assert_eq!(tls13_outcome(&s, A).map(|(o, _)| o), *want, "{seq:?}");
        }
        let mut s = TLSSession::new(None, 32);
        s.encrypted_order = vec![(B, 2000), (A, 19)];
        assert_eq!(tls13_outcome(&s, A).and_then(|(_, d)| d).as_deref(),
                   Some("client sent an encrypted alert (TLS 1.3: it likely rejected the server's certificate)"));
    }

    #[test]
    fn outcome_without_hellos_close_or_eviction() {
        let mut c = conn(50000, 443);
        assert_eq!(outcome(&c, Side::A),
                   ("incomplete", Some("the hellos are not in the capture (it starts mid-connection)".into())));
        c.session.client_hello = Some(Default::default());
        assert_eq!(outcome(&c, Side::A).1.as_deref(), Some("the capture ends before the handshake does"));
        c.evicted = true;
        assert_eq!(outcome(&c, Side::A).1.as_deref(), Some("flow evicted before the handshake ended (flow table full)"));
        c.closed_by = Some(Side::B);
        c.close_kind = Some(CloseKind::Rst);
        c.session.last_message.insert(Side::A, "ClientHello".into());
        assert_eq!(outcome(&c, Side::A),
                   ("reset", Some("server reset the connection after the client's ClientHello without an alert".into())));
    }

    #[test]
    fn tcp_anomalies_are_listed_once_in_order() {
        let mut c = conn(50000, 443);
        c.reasm[0].segment(100, b"abc", false); // midstream on a
        c.reasm[1].segment(200, b"xyz", false); // midstream on b too
        assert_eq!(c.tcp_anomalies(), vec!["midstream"]);
    }
}
