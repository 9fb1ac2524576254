//! The pipeline: packets -> TCP connections -> TLS flows, certificates and events
//! (port of `inspector/engines/python.py`).
//!
//! `Analyzer` is sans-I/O: `packet(ts, linktype, data)` for each packet from any source, then
//! `finish()` returns an `Analysis`. The per-packet loop is the hot path: an Ethernet/IPv4/TCP
//! fast path (else `LinkDecoder`), then one hash lookup of the 4-tuple. Packets of connections
//! already judged (handshake over, or not TLS) are skipped after that lookup unless they open a
//! new connection on the same 4-tuple (SYN); only packets of connections whose handshake is in
//! progress go on to TCP reassembly and TLS parsing. No allocation per skipped packet. State is
//! bounded: at most `Limits::max_flows` connections in flight (the oldest is evicted and still
//! reported), and at most `Limits::max_tombstones` finished 4-tuples remembered.
//! `analyze_reader` drives a `CaptureReader` through it, as `inspector.api._run` does.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::sync::Arc;

use crate::capture::{CaptureError, CaptureReader};
use crate::flow::{build_flow, ConnState, ConnWarning, Connection, EventRecord, FlowRecord, Limits,
                  DEFAULT_TLS_PORTS};
use crate::ip::{ip_to_string, FragLimits};
use crate::link::LinkDecoder;
use crate::tcp::{TCP_ACK, TCP_RST, TCP_SYN};
use crate::tls::decrypt::{parse_keylog, KeyLog};
use crate::tls::session::Side;

/// A distinct certificate: its DER crosses to Python once, with the flows that sent it.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct CertSeen {
    pub der: Vec<u8>,
    /// SHA-256 of the DER, lower-case hex.
    pub sha256: String,
    pub flow_ids: Vec<u64>,
    /// "server"/"server_chain"/"client"/"client_chain", in the order first seen.
    pub roles: Vec<&'static str>,
}

/// Counters, kept in the order each was first incremented (as Python's `Counter`).
#[derive(Clone, Debug, Default)]
pub struct Stats {
    entries: Vec<(String, u64)>,
    /// The clock (see [`crate::parallel`]) when each entry was first incremented: what lets
    /// the threads' counters merge in one thread's order. Not part of equality.
    pub(crate) first: Vec<u64>,
    pub(crate) clock: u64,
}

impl PartialEq for Stats {
    fn eq(&self, other: &Stats) -> bool {
        self.entries == other.entries
    }
}

impl Stats {
    pub fn add(&mut self, key: &str, n: u64) {
        if let Some(e) = self.entries.iter_mut().find(|(k, _)| k == key) {
            e.1 += n;
        } else {
            self.entries.push((key.to_string(), n));
            self.first.push(self.clock);
        }
    }

    /// (key, value, clock first incremented), in order.
    pub(crate) fn entries_with_clock(&self) -> impl Iterator<Item = (&str, u64, u64)> {
        self.entries.iter().zip(self.first.iter()).map(|((k, v), c)| (k.as_str(), *v, *c))
    }

    pub fn get(&self, key: &str) -> u64 {
        self.entries.iter().find(|(k, _)| k == key).map_or(0, |e| e.1)
    }

    /// Sets a counter (kept in place when it exists).
    pub fn set(&mut self, key: &str, n: u64) {
        if let Some(e) = self.entries.iter_mut().find(|(k, _)| k == key) {
            e.1 = n;
        } else {
            self.entries.push((key.to_string(), n));
            self.first.push(self.clock);
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, u64)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), *v))
    }
}

/// What one capture yielded: rows for the three tables plus counters.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Analysis {
    pub flows: Vec<FlowRecord>,
    /// Distinct certificates in the order first seen.
    pub certificates: Vec<CertSeen>,
    pub events: Vec<EventRecord>,
    /// The ladder's arrows, each flow's in the order seen, flows in id order (empty in streaming
    /// mode, as the Python engine's `Analysis.messages`).
    pub messages: Vec<MessageRecord>,
    pub stats: Stats,
    /// "code: detail" lines, as the Python engine's `capture_warnings`.
    pub capture_warnings: Vec<String>,
    pub first_ts: Option<f64>,
    pub last_ts: Option<f64>,
    pub frames: u64,
    /// "pcap", "pcapng" (with ".gz" when compressed), as the reader names it.
    pub format: String,
    pub bytes_read: u64,
}

/// One `messages` row (Python's `MessageRecord`): a handshake message, ChangeCipherSpec, alert,
/// application data record or TCP event of a flow, with its sender.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct MessageRecord {
    pub flow_id: u64,
    pub frame: u64,
    pub ts: f64,
    /// `"client"` or `"server"`.
    pub sender: &'static str,
    pub kind: &'static str,
    pub name: String,
}

/// The one error type of the engine: the capture cannot be read at all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EngineError {
    /// Not a capture, broken before the first packet, or an I/O error opening it. The message is
    /// the Python engine's `CaptureError` reason; `offset` the byte where reading stopped.
    Capture { reason: String, offset: Option<u64> },
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineError::Capture { reason, offset: Some(o) } => write!(f, "{reason} at byte {o}"),
            EngineError::Capture { reason, offset: None } => write!(f, "{reason}"),
        }
    }
}

impl std::error::Error for EngineError {}

/// Lower-case hex SHA-256 of `der`: the key linking flows to certificates.
pub fn sha256_hex(der: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(der))
}

/// A fixed analysis exercising every column kind (set, empty, missing), for the bindings' tests:
/// flow 1 failed with a client certificate `der`, flow 2 with every optional column missing.
pub fn sample_analysis(der: Vec<u8>) -> Analysis {
    let fp = sha256_hex(&der);
    let failed = FlowRecord {
        flow_id: 1,
        ts_start: 1_700_000_000.25,
        ts_end: 1_700_000_000.5,
        first_frame: 1,
        last_frame: 9,
        client_ip: "10.10.1.20".into(),
        client_port: 51002,
        server_ip: "2001:db8::5".into(),
        server_port: 5061,
        ip_version: 6,
        tls_version: Some("TLS 1.2".into()),
        client_max_version: Some("TLS 1.2".into()),
        cipher: Some("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384".into()),
        cipher_id: Some(0xc030),
        sni: Some("cucm1.example.lab".into()),
        alpn: None,
        server_chain_sha256: vec![],
        client_chain_sha256: vec![fp.clone()],
        client_cert_requested: true,
        requested_ca_names: vec!["CN=CAPF-0badc0de,OU=TAC,O=Cisco".into()],
        alerts: vec!["server:fatal:unknown_ca".into()],
        outcome: "failed".into(),
        outcome_detail: Some("server sent fatal unknown_ca after the client's Certificate".into()),
        certs_visible: false,
        decrypted: false,
        resumed: false,
        dh_bits: Some(2048),
        kx_group: Some("secp256r1".into()),
        history: "CsiKr".into(),
        ja3: Some("0123456789abcdef0123456789abcdef".into()),
        ja3s: None,
        ja4: Some("t12d1312h2_8b80da21ef18_77989cba1f4a".into()),
        starttls: None,
        packets: 9,
        warnings: vec!["midstream".into()],
        transport: "tcp".into(),
        protocol: "TLS".into(),
        ..FlowRecord::default()
    };
    let bare = FlowRecord {
        flow_id: 2,
        ts_start: 1_700_000_001.0,
        ts_end: 1_700_000_001.0,
        first_frame: 10,
        last_frame: 10,
        client_ip: "192.0.2.1".into(),
        client_port: 40000,
        server_ip: "192.0.2.2".into(),
        server_port: 443,
        ip_version: 4,
        outcome: "incomplete".into(),
        outcome_detail: Some("the capture ends before the handshake does".into()),
        history: String::new(),
        packets: 1,
        transport: "tcp".into(),
        protocol: "TLS".into(),
        ..FlowRecord::default()
    };
    let mut stats = Stats::default();
    stats.add("tcp_connections", 2);
    stats.add("frames", 10);
    Analysis {
        flows: vec![failed, bare],
        certificates: vec![CertSeen { der, sha256: fp, flow_ids: vec![1], roles: vec!["client"] }],
        messages: vec![
            MessageRecord { flow_id: 1, frame: 1, ts: 1_700_000_000.25, sender: "client", kind: "handshake",
                            name: "ClientHello".into() },
            MessageRecord { flow_id: 1, frame: 8, ts: 1_700_000_000.5, sender: "server", kind: "alert",
                            name: "fatal unknown_ca".into() },
        ],
        events: vec![
            EventRecord {
                flow_id: Some(1),
                frame: Some(8),
                ts: Some(1_700_000_000.5),
                kind: "alert",
                sender: Some("server"),
                code: "unknown_ca".into(),
                detail: "fatal unknown_ca after the peer's Certificate".into(),
            },
            EventRecord {
                flow_id: None,
                frame: None,
                ts: None,
                kind: "warning",
                sender: None,
                code: "capture_truncated".into(),
                detail: "reading stopped: record cut short".into(),
            },
        ],
        stats,
        capture_warnings: vec!["capture_truncated: reading stopped: record cut short".into()],
        first_ts: Some(1_700_000_000.25),
        last_ts: Some(1_700_000_001.0),
        frames: 10,
        format: "pcapng".into(),
        bytes_read: 4096,
    }
}

// ---- the connection table ------------------------------------------------------------------

/// A 4-tuple as the wire has it: source address, destination address, source and destination
/// port (12 bytes for IPv4, 36 for IPv6).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Key {
    V4([u8; 12]),
    V6([u8; 36]),
}

impl Key {
    #[inline]
    fn new(src: &[u8], dst: &[u8], ports: &[u8]) -> Key {
        if src.len() == 4 && dst.len() == 4 {
            let mut b = [0u8; 12];
            b[..4].copy_from_slice(src);
            b[4..8].copy_from_slice(dst);
            b[8..12].copy_from_slice(&ports[..4]);
            Key::V4(b)
        } else {
            let mut b = [0u8; 36];
            let (s, d) = (src.len().min(16), dst.len().min(16));
            b[..s].copy_from_slice(&src[..s]);
            b[16..16 + d].copy_from_slice(&dst[..d]);
            b[32..36].copy_from_slice(&ports[..4]);
            Key::V6(b)
        }
    }
}

/// A remembered finished 4-tuple, small in the queue (IPv6 keys are boxed: they are rare).
#[derive(Debug)]
enum Tombstone {
    V4([u8; 12]),
    V6(Box<[u8; 36]>),
}

impl Tombstone {
    fn key(&self) -> Key {
        match self {
            Tombstone::V4(b) => Key::V4(*b),
            Tombstone::V6(b) => Key::V6(**b),
        }
    }
}

impl From<Key> for Tombstone {
    fn from(k: Key) -> Tombstone {
        match k {
            Key::V4(b) => Tombstone::V4(b),
            Key::V6(b) => Tombstone::V6(Box::new(b)),
        }
    }
}

/// The connection table: 4-tuple -> slot, one map per address family so that an IPv4 entry
/// (the common case, up to a million tombstones) takes 16 bytes plus the map's overhead.
#[derive(Default)]
struct ConnMap {
    v4: HashMap<[u8; 12], u32, TableHasher>,
    v6: HashMap<[u8; 36], u32, TableHasher>,
}

const DONE: u32 = u32::MAX;

impl ConnMap {
    #[inline]
    fn get(&self, k: &Key) -> Option<Slot> {
        let v = match k {
            Key::V4(b) => self.v4.get(b),
            Key::V6(b) => self.v6.get(b),
        };
        v.map(|&v| if v == DONE { Slot::Done } else { Slot::Conn(v as usize) })
    }

    fn insert(&mut self, k: Key, slot: Slot) {
        let v = match slot {
            Slot::Done => DONE,
            Slot::Conn(id) => id as u32,
        };
        match k {
            Key::V4(b) => self.v4.insert(b, v),
            Key::V6(b) => self.v6.insert(b, v),
        };
    }

    fn remove(&mut self, k: &Key) {
        match k {
            Key::V4(b) => self.v4.remove(b),
            Key::V6(b) => self.v6.remove(b),
        };
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.v4.len() + self.v6.len()
    }
}

/// The tables' hasher: std's keyed SipHash. The keys come from the capture, which may be hostile:
/// an unkeyed fast hash (FxHash) lets a crafted capture collide every 4-tuple (quadratic time);
/// SipHash costs ~20 ns a lookup, ~40 ms a GB.
pub type TableHasher = std::collections::hash_map::RandomState;

/// What the table holds for a 4-tuple: a connection in flight, or a judged one (tombstone).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Slot {
    Conn(usize),
    Done,
}

struct Entry {
    conn: Box<Connection>,
    key_a: Key,
    order: u64,
}

/// Flow/event detail texts of the connection-level warnings.
fn tcp_detail(code: &str) -> &str {
    match code {
        "midstream" => "the capture starts in the middle of this connection (no SYN seen)",
        "content_gap" => "bytes are missing from the capture (a TCP gap); parsing resumed where it could",
        "overlap_different_data" => "overlapping TCP segments carry different bytes; the first copy was used",
        "evicted_flow_table_full" => "the flow table was full; this flow was reported before its end",
        "evicted_memory_budget" => "the flows in flight buffered more than Limits.max_buffered_bytes; this flow, \
                                    holding the most, was reported before its end",
        other => other,
    }
}

/// The analysis of one capture in progress.
pub struct Analyzer {
    tls_ports: Vec<u16>,
    limits: Limits,
    keylog: Option<Arc<KeyLog>>,
    decoder: LinkDecoder,
    state: Table,
    /// DTLS, QUIC, RADIUS and EAPOL flows (issue 10).
    pub(crate) udp: crate::udp::UdpFlows,
    /// A TCP packet came out of a tunnel (its encapsulation is noted): threads fall back to one.
    pub(crate) tunneled_tcp: bool,
    /// Streaming order (as the Python engine's `on_flow` mode): flow ids follow the order flows
    /// end, and each flow's events stay in the order emitted.
    pub stream: bool,
    /// The `--keylog` file, as the capture warnings report it (see [`KeylogReport`]).
    pub keylog_report: Option<KeylogReport>,
}

/// What the key log file's reader (Python's `api._read_keylog`) met: its warnings come after the
/// reader's capture warnings, then `keylog_unmatched` when none of its `entries` client randoms
/// was looked up by a TLS flow of the capture.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct KeylogReport {
    /// The file's name as the warnings give it.
    pub source: String,
    /// Client randoms with secrets (Python's `len(log)`).
    pub entries: usize,
    /// (code, detail): keylog_beside, keylog_truncated, keylog_empty, keylog_bad_lines...
    pub warnings: Vec<(String, String)>,
}

/// Capture warnings for what IPv4 reassembly dropped (Python's `link.FRAGMENT_WARNINGS`).
fn fragment_warning(reason: &str, n: u64, lim: &FragLimits) -> Option<String> {
    Some(match reason {
        "ip_fragment_table_full" => format!(
            "{n} fragmented IPv4 datagrams were dropped: more than {} were in progress at once (the oldest is evicted)",
            lim.max_datagrams
        ),
        "ip_fragment_expired" => format!(
            "{n} fragmented IPv4 datagrams never completed (a fragment missing after {} s of capture time, or at \
             the end of the capture)",
            lim.timeout
        ),
        "ip_fragment_too_large" => {
            format!("{n} IPv4 fragments were dropped: their datagram would exceed {} bytes", lim.max_bytes)
        }
        _ => return None,
    })
}

/// Everything but the link decoder (so a decoded packet, which borrows the decoder, can be
/// handed to it).
struct Table {
    map: ConnMap,
    slab: Vec<Option<Entry>>,
    free: Vec<usize>,
    active: BTreeMap<u64, usize>,
    opened: u64,
    tombstones: VecDeque<Tombstone>,
    flows: Vec<FlowRecord>,
    events: Vec<EventRecord>,
    messages: Vec<MessageRecord>,
    certs: Vec<CertSeen>,
    cert_index: HashMap<String, usize, TableHasher>,
    stats: Stats,
    emitted: u64,
    /// Emitted flows whose client random the key log held.
    keylog_hits: u64,
    frame: u64,
    first_ts: Option<f64>,
    last_ts: Option<f64>,
    /// Sum of `Connection::held` over the connections in flight.
    buffered: usize,
    /// Per certificate: the clock it was first seen, and each of its roles'.
    cert_clock: Vec<(u64, Vec<u64>)>,
    /// Remembered 4-tuples forgotten because the queue was full.
    tombstones_dropped: u64,
}

/// Clocks past every frame number: closing the flows in flight at the end (plus the
/// connection's first frame), the UDP flows, and the capture's end.
pub(crate) const CLOCK_FINISH_CLOSE: u64 = 1 << 62;
pub(crate) const CLOCK_FINISH_UDP: u64 = u64::MAX - 1;
pub(crate) const CLOCK_END: u64 = u64::MAX;

/// What the merge of several threads' analyses needs beyond an [`Analysis`].
#[derive(Debug, Default)]
pub(crate) struct MergeInfo {
    pub cert_clock: Vec<(u64, Vec<u64>)>,
    pub keylog_hits: u64,
    pub emitted: u64,
    pub tombstones_dropped: u64,
    pub tunneled_tcp: bool,
}

impl Analyzer {
    /// `ports`: TLS ports beyond `DEFAULT_TLS_PORTS`, decoded even mid-connection.
    pub fn new(ports: &[u16], limits: Limits, keylog: Option<Arc<KeyLog>>) -> Analyzer {
        let mut tls_ports: Vec<u16> = DEFAULT_TLS_PORTS.to_vec();
        for p in ports {
            if !tls_ports.contains(p) {
                tls_ports.push(*p);
            }
        }
        let frag = limits.frag;
        Analyzer {
            udp: crate::udp::UdpFlows::new(&limits, keylog.clone()),
            tls_ports,
            keylog_report: None,
            tunneled_tcp: false,
            limits,
            keylog,
            stream: false,
            decoder: { let mut d = LinkDecoder::with_limits(frag); (d.tunnels, d.udp) = (true, true); d },
            state: Table {
                map: ConnMap::default(),
                slab: Vec::new(),
                free: Vec::new(),
                active: BTreeMap::new(),
                opened: 0,
                tombstones: VecDeque::new(),
                flows: Vec::new(),
                events: Vec::new(),
                messages: Vec::new(),
                certs: Vec::new(),
                cert_index: HashMap::default(),
                stats: Stats::default(),
                emitted: 0,
                keylog_hits: 0,
                frame: 0,
                first_ts: None,
                last_ts: None,
                buffered: 0,
                cert_clock: Vec::new(),
                tombstones_dropped: 0,
            },
        }
    }

    /// The key log from now on, for the connections in flight too (a pcapng Decryption Secrets
    /// Block comes before the packets it decrypts, but it may follow their SYNs).
    pub fn set_keylog(&mut self, keylog: Arc<KeyLog>) {
        for e in self.state.slab.iter_mut().flatten() {
            e.conn.set_keylog(keylog.clone());
        }
        self.udp.set_keylog(keylog.clone());
        self.keylog = Some(keylog);
    }

    /// A limit was reached (a flow evicted, a remembered 4-tuple forgotten): a share of the
    /// packets on this thread no longer gives one thread's answers.
    pub(crate) fn limit_hit(&self) -> bool {
        let t = &self.state;
        t.tombstones_dropped > 0 || t.stats.get("flows_evicted") > 0 || t.stats.get("flows_evicted_memory") > 0
            || self.tunneled_tcp
    }

    /// Frames fed so far.
    pub fn frames(&self) -> u64 {
        self.state.frame
    }

    /// One packet numbered `frame` (1-based, as the whole capture numbers it): a thread given a
    /// share of the packets keeps the capture's frame numbers.
    pub(crate) fn packet_frame(&mut self, frame: u64, ts: f64, linktype: u32, data: &[u8], orig_len: usize) {
        self.state.frame = frame - 1;
        self.packet_len(ts, linktype, data, orig_len);
    }

    /// One packet: `data` is the frame as captured, of link type `linktype`.
    pub fn packet(&mut self, ts: f64, linktype: u32, data: &[u8]) {
        self.packet_len(ts, linktype, data, data.len());
    }

    /// One packet whose original length on the wire was `orig_len` (more than `data.len()`
    /// when the snaplen cut it).
    pub fn packet_len(&mut self, ts: f64, linktype: u32, data: &[u8], orig_len: usize) {
        let t = &mut self.state;
        t.frame += 1;
        if t.first_ts.is_none() {
            t.first_ts = Some(ts);
        }
        t.last_ts = Some(ts);
        let frame = t.frame;
        t.stats.clock = frame;
        let ctx = Ctx { tls_ports: &self.tls_ports, limits: &self.limits, keylog: &self.keylog, stream: self.stream };
        // Fast path: Ethernet II, IPv4 without options or fragmentation, TCP. A packet of a judged
        // connection costs a few index operations and one hash lookup.
        if linktype == 1 && data.len() >= 54 && data[12] == 8 && data[13] == 0 && data[14] == 0x45
            && data[20] & 0x3F == 0 && data[21] == 0 && data[23] == 6
        {
            let key = Key::new(&data[26..30], &data[30..34], &data[34..38]);
            let slot = t.map.get(&key);
            let flags = data[47];
            let slot = match slot {
                Some(Slot::Done) => {
                    if flags & TCP_SYN == 0 || flags & TCP_ACK != 0 {
                        return;
                    }
                    None // a new connection reuses a finished 4-tuple
                }
                other => other,
            };
            let mut end = 14 + ((usize::from(data[16]) << 8) | usize::from(data[17]));
            // the snaplen cut this packet: the IP datagram runs past the bytes captured (not
            // just its padding or FCS)
            let cut = end > data.len() && orig_len > data.len();
            if end > data.len() || end == 14 {
                end = data.len(); // cut by the snaplen; 0 = not filled in (TSO)
            } else if end < 54 {
                t.stats.add("truncated_tcp", 1);
                return;
            }
            t.tcp(&ctx, key, slot, &data[26..30], &data[30..34], data, 34, end, flags, frame, ts, cut);
            return;
        }
        if self.udp.eapol(linktype, data, frame, ts, &mut t.stats) {
            return;
        }
        let d = match self.decoder.decode_at(ts, linktype, data) {
            Some(d) => d,
            None => return,
        };
        if d.proto == 17 {
            return self.udp.datagram(&d, frame, ts, &mut t.stats);
        }
        self.tunneled_tcp |= d.encapsulation.is_some();
        self.udp.note_tcp(&d);
        let (buf, l4, end) = (d.buf, d.l4, d.end);
        if l4 + 20 > end || end > buf.len() {
            t.stats.add("truncated_tcp", 1);
            return;
        }
        let key = Key::new(d.src, d.dst, &buf[l4..l4 + 4]);
        let flags = buf[l4 + 13];
        let slot = match t.map.get(&key) {
            Some(Slot::Done) => {
                if flags & TCP_SYN == 0 || flags & TCP_ACK != 0 {
                    return;
                }
                None
            }
            other => other,
        };
        t.tcp(&ctx, key, slot, d.src, d.dst, buf, l4, end, flags, frame, ts, false);
    }

    /// The end of the capture: every connection still in flight is judged and reported, flows
    /// are numbered by start time. `capture_warnings` are the reader's (code, detail).
    pub fn finish(self, capture_warnings: &[(String, String)]) -> Analysis {
        self.finish_parts(capture_warnings).0
    }

    /// [`Analyzer::finish`], with what a merge of threads needs.
    pub(crate) fn finish_parts(mut self, capture_warnings: &[(String, String)]) -> (Analysis, MergeInfo) {
        let ctx = Ctx { tls_ports: &self.tls_ports, limits: &self.limits, keylog: &self.keylog, stream: self.stream };
        let t = &mut self.state;
        let ids: Vec<usize> = t.active.values().copied().collect();
        for id in ids {
            t.stats.clock = CLOCK_FINISH_CLOSE + t.slab[id].as_ref().map_or(0, |e| e.conn.first_frame);
            t.close(&ctx, id);
        }
        t.stats.clock = CLOCK_FINISH_UDP;
        let (udp_flows, udp_warnings) = self.udp.finish(&mut t.stats);
        for u in udp_flows {
            t.emitted += 1;
            t.keylog_hits += u64::from(u.rec.decrypted); // QUIC flows whose Handshake the key log opened
            crate::udp::store(u, t.emitted, &mut t.flows, &mut t.events, &mut t.certs, &mut t.cert_index);
        }
        for i in 0..t.certs.len() {
            t.note_cert_clock(i);
        }
        self.udp.fill_tcp_encapsulation(&mut t.flows);
        t.map = ConnMap::default(); // the remembered 4-tuples are of no use once the capture has ended
        t.tombstones.clear();
        if self.stream {
            // streaming order (inspector.engines.python.Analyzer with on_flow): flows numbered as they
            // ended, each flow's events in the order emitted, capture-level events first
            let (mut flowless, flow_events): (Vec<EventRecord>, Vec<EventRecord>) =
                std::mem::take(&mut t.events).into_iter().partition(|e| e.flow_id.is_none());
            flowless.sort_by_key(|e| e.frame.unwrap_or(0));
            t.events = flowless;
            t.events.extend(flow_events);
        } else {
            t.number_by_start_time();
        }
        let mut capture_warnings = capture_warnings.to_vec();
        capture_warnings.extend(udp_warnings);
        self.finish_capture(&capture_warnings)
    }

    fn finish_capture(mut self, capture_warnings: &[(String, String)]) -> (Analysis, MergeInfo) {
        let t = &mut self.state;
        t.stats.clock = CLOCK_END;
        let mut warnings = Vec::new();
        let mut all: Vec<(String, String)> = capture_warnings.to_vec();
        if let Some(log) = &self.keylog_report {
            all.extend(log.warnings.iter().cloned());
            if log.entries > 0 && t.keylog_hits == 0 && t.emitted > 0 {
                all.push(("keylog_unmatched".into(), format!(
                    "the key log {} holds secrets for {} connections, none of them a TLS flow of this capture: \
                     nothing was decrypted", log.source, log.entries)));
            }
        }
        for (code, detail) in &all {
            warnings.push(format!("{code}: {detail}"));
            t.events.push(EventRecord { kind: "warning", code: code.clone(), detail: detail.clone(),
                                        ..EventRecord::default() });
        }
        self.decoder.finish();
        for (reason, n) in &self.decoder.skipped {
            t.stats.add(&format!("skipped_{reason}"), *n);
            if let Some(detail) = fragment_warning(reason, *n, &self.limits.frag) {
                warnings.push(format!("{reason}: {detail}"));
                t.events.push(EventRecord { kind: "warning", code: reason.clone(), detail, ..EventRecord::default() });
            }
            if let Some(lt) = reason.strip_prefix("unsupported_linktype_") {
                let detail = format!("link type {lt} is not supported: {n} packets skipped");
                warnings.push(format!("unsupported_linktype: {detail}"));
                t.events.push(EventRecord { kind: "warning", code: "unsupported_linktype".into(),
                                            detail, ..EventRecord::default() });
            }
        }
        t.stats.set("frames", t.frame);
        let info = MergeInfo {
            cert_clock: std::mem::take(&mut t.cert_clock),
            keylog_hits: t.keylog_hits,
            emitted: t.emitted,
            tombstones_dropped: t.tombstones_dropped,
            tunneled_tcp: self.tunneled_tcp,
        };
        (Analysis {
            flows: std::mem::take(&mut t.flows),
            certificates: std::mem::take(&mut t.certs),
            events: std::mem::take(&mut t.events),
            messages: std::mem::take(&mut t.messages),
            stats: std::mem::take(&mut t.stats),
            capture_warnings: warnings,
            first_ts: t.first_ts,
            last_ts: t.last_ts,
            frames: t.frame,
            format: String::new(),
            bytes_read: 0,
        }, info)
    }
}

/// The read-only settings the table needs.
struct Ctx<'a> {
    tls_ports: &'a [u16],
    limits: &'a Limits,
    keylog: &'a Option<Arc<KeyLog>>,
    /// Streaming order: no messages table is kept (as the Python engine's `on_flow` mode).
    stream: bool,
}

#[inline]
fn be32(b: &[u8], i: usize) -> u32 {
    u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

impl Table {
    /// Certificate `i` and its roles so far get the current clock if they have none yet.
    fn note_cert_clock(&mut self, i: usize) {
        let clock = self.stats.clock;
        while self.cert_clock.len() <= i {
            self.cert_clock.push((clock, Vec::new()));
        }
        let roles = self.certs[i].roles.len();
        let rc = &mut self.cert_clock[i].1;
        while rc.len() < roles {
            rc.push(clock);
        }
    }

    /// Number flows by start time (then first frame), as the Python engine's default mode does;
    /// events then sort by flow and frame, capture-level events first.
    fn number_by_start_time(&mut self) {
        let t = self;
        t.flows.sort_by(|a, b| {
            a.ts_start.partial_cmp(&b.ts_start).unwrap_or(std::cmp::Ordering::Equal)
                .then(a.first_frame.cmp(&b.first_frame))
        });
        let mut renumber = vec![0u64; t.flows.len() + 1];
        for (i, f) in t.flows.iter_mut().enumerate() {
            renumber[f.flow_id as usize] = i as u64 + 1;
            f.flow_id = i as u64 + 1;
        }
        for e in t.events.iter_mut() {
            if let Some(id) = e.flow_id {
                e.flow_id = Some(renumber[id as usize]);
            }
        }
        for ms in t.messages.iter_mut() {
            ms.flow_id = renumber[ms.flow_id as usize];
        }
        t.messages.sort_by_key(|ms| ms.flow_id); // stable: each flow's stay in order
        for c in t.certs.iter_mut() {
            for id in c.flow_ids.iter_mut() {
                *id = renumber[*id as usize];
            }
            c.flow_ids.sort_unstable();
        }
        t.events.sort_by_key(|e| (e.flow_id.unwrap_or(0), e.frame.unwrap_or(0)));
    }

    /// A TCP segment whose header starts at `buf[t]` and whose IP payload ends at `end`.
    #[allow(clippy::too_many_arguments)]
    fn tcp(&mut self, ctx: &Ctx<'_>, key: Key, slot: Option<Slot>, src: &[u8], dst: &[u8],
           buf: &[u8], t: usize, end: usize, flags: u8, frame: u64, ts: f64, cut: bool) {
        let doff = usize::from(buf[t + 12] >> 4) * 4;
        let (payload, cut): (&[u8], bool) = if doff < 20 || t + doff > end {
            if !(cut && doff >= 20) {
                self.stats.add("bad_tcp_header_length", 1);
                return;
            }
            (&[], true) // the snaplen cut the TCP options: seq and flags still count
        } else {
            let p = &buf[t + doff..end];
            (p, cut && !p.is_empty())
        };
        let seq = be32(buf, t + 4);
        let id = match slot {
            None => {
                if flags & TCP_RST != 0 || (payload.is_empty() && flags & TCP_SYN == 0) {
                    return;
                }
                self.open(ctx, key, src, dst, buf, t, flags, seq, frame, ts)
            }
            Some(Slot::Conn(id)) => {
                let e = self.slab[id].as_ref().expect("table points at a live connection");
                if flags & TCP_SYN != 0 && flags & TCP_ACK == 0 && key == e.key_a
                    && e.conn.isn_a.is_some_and(|isn| isn != seq)
                {
                    self.close(ctx, id); // port reuse: a new SYN with a new ISN
                    self.open(ctx, key, src, dst, buf, t, flags, seq, frame, ts)
                } else {
                    id
                }
            }
            Some(Slot::Done) => unreachable!("handled by the caller"),
        };
        let e = self.slab[id].as_mut().expect("just opened or looked up");
        if cut && end > e.conn.snaplen {
            e.conn.snaplen = end;
        }
        let side = if key == e.key_a { Side::A } else { Side::B };
        let ack = be32(buf, t + 8);
        e.conn.packet(side, seq, flags, payload, frame, ts, ctx.tls_ports, ack);
        let judged = e.conn.judged();
        if !payload.is_empty() {
            // the bytes buffered by all flows in flight stay within the budget
            let held = e.conn.buffered();
            self.buffered = self.buffered + held - e.conn.held;
            e.conn.held = held;
            if self.buffered > ctx.limits.max_buffered_bytes {
                self.shed(ctx);
            }
        }
        if judged {
            self.close(ctx, id);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn open(&mut self, ctx: &Ctx<'_>, key: Key, src: &[u8], dst: &[u8], buf: &[u8], t: usize,
            flags: u8, seq: u32, frame: u64, ts: f64) -> usize {
        let sport = u16::from_be_bytes([buf[t], buf[t + 1]]);
        let dport = u16::from_be_bytes([buf[t + 2], buf[t + 3]]);
        let rports = [buf[t + 2], buf[t + 3], buf[t], buf[t + 1]];
        let rkey = Key::new(dst, src, &rports);
        let (conn, key_a) = if flags & TCP_SYN != 0 && flags & TCP_ACK != 0 {
            // the first packet seen is the responder's
            (Connection::new(dst, src, dport, sport, frame, ts, ctx.limits, ctx.keylog.clone()), rkey)
        } else {
            let mut c = Connection::new(src, dst, sport, dport, frame, ts, ctx.limits, ctx.keylog.clone());
            if flags & TCP_SYN != 0 {
                c.isn_a = Some(seq);
            }
            (c, key)
        };
        self.opened += 1;
        let entry = Entry { conn: Box::new(conn), key_a, order: self.opened };
        let id = match self.free.pop() {
            Some(id) => {
                self.slab[id] = Some(entry);
                id
            }
            None => {
                self.slab.push(Some(entry));
                self.slab.len() - 1
            }
        };
        self.map.insert(key, Slot::Conn(id));
        self.map.insert(rkey, Slot::Conn(id));
        self.active.insert(self.opened, id);
        self.stats.add("tcp_connections", 1);
        if self.active.len() > ctx.limits.max_flows {
            if let Some((_, &oldest)) = self.active.first_key_value() {
                if let Some(e) = self.slab[oldest].as_mut() {
                    e.conn.evicted = true;
                    e.conn.warnings.push(ConnWarning::EvictedFlowTableFull);
                }
                self.stats.add("flows_evicted", 1);
                self.close(ctx, oldest);
            }
        }
        id
    }

    /// Over the buffered-bytes budget: evict the flows holding the most (still reported).
    fn shed(&mut self, ctx: &Ctx<'_>) {
        while self.buffered > ctx.limits.max_buffered_bytes && !self.active.is_empty() {
            let big = self.active.values().copied().rev() // the first flow holding the most
                .max_by_key(|&id| self.slab[id].as_ref().map_or(0, |e| e.conn.held));
            let Some(big) = big else { break };
            let Some(e) = self.slab[big].as_mut() else { break };
            if e.conn.held == 0 {
                break;
            }
            e.conn.evicted = true;
            e.conn.warnings.push(ConnWarning::EvictedMemoryBudget);
            self.stats.add("flows_evicted_memory", 1);
            self.close(ctx, big);
        }
    }

    /// The connection is judged: emit its row (if TLS) and remember its 4-tuple as done.
    fn close(&mut self, ctx: &Ctx<'_>, id: usize) {
        let order = match self.slab[id].as_ref() {
            Some(e) => e.order,
            None => return,
        };
        if self.active.remove(&order).is_none() {
            return;
        }
        let mut e = self.slab[id].take().expect("checked above");
        self.free.push(id);
        self.buffered -= e.conn.held;
        e.conn.finish();
        self.emit(ctx, &e.conn);
        let c = &e.conn;
        let ab = [(c.a_port >> 8) as u8, c.a_port as u8, (c.b_port >> 8) as u8, c.b_port as u8];
        let ba = [ab[2], ab[3], ab[0], ab[1]];
        for k in [Key::new(&c.a_ip, &c.b_ip, &ab), Key::new(&c.b_ip, &c.a_ip, &ba)] {
            if self.map.get(&k) == Some(Slot::Conn(id)) {
                self.map.insert(k, Slot::Done);
                self.tombstones.push_back(Tombstone::from(k));
            }
        }
        while self.tombstones.len() > 2 * ctx.limits.max_tombstones {
            if let Some(t) = self.tombstones.pop_front() {
                self.tombstones_dropped += 1;
                let k = t.key();
                if self.map.get(&k) == Some(Slot::Done) {
                    self.map.remove(&k);
                }
            }
        }
    }

    fn emit(&mut self, ctx: &Ctx<'_>, c: &Connection) {
        let cut_tls = c.snaplen > 0 && c.state != ConnState::NotTls
            && (!c.session.started.is_empty() || ctx.tls_ports.contains(&c.a_port) || ctx.tls_ports.contains(&c.b_port));
        if !c.is_tls() && !cut_tls {
            let kind = if c.state == ConnState::NotTls || c.session.started.is_empty() {
                "not_tls"
            } else {
                "tls_without_handshake"
            };
            self.stats.add(kind, 1);
            let on_tls_port = ctx.tls_ports.contains(&c.a_port) || ctx.tls_ports.contains(&c.b_port);
            let reported = if kind == "not_tls" { "not_tls_reported" } else { "tls_without_handshake_reported" };
            if on_tls_port && c.state == ConnState::NotTls && self.stats.get(reported) < 1000 {
                self.stats.add(reported, 1);
                let (a, b) = (ip_to_string(&c.a_ip), ip_to_string(&c.b_ip));
                self.events.push(EventRecord {
                    flow_id: None,
                    frame: Some(c.first_frame),
                    ts: Some(c.first_ts),
                    kind: "warning",
                    sender: None,
                    code: "not_tls".into(),
                    detail: format!("{a}:{} -> {b}:{} uses a TLS port but carries no TLS", c.a_port, c.b_port),
                });
            }
            return;
        }
        self.emitted += 1;
        self.keylog_hits += u64::from(c.session.keylog_hit);
        let flow_id = self.emitted;
        let rec = build_flow(c, flow_id, ctx.tls_ports);
        let s = &c.session;
        // which side is which, as inspector.engines.python._emit and _side_of decide it
        let by_ports = if rec.client_port == c.a_port && rec.server_port == c.b_port { Side::A } else { Side::B };
        let client_for_certs = s.client_side.unwrap_or(by_ports);
        for (role, fps) in [("server", &rec.server_chain_sha256), ("client", &rec.client_chain_sha256)] {
            let side = if role == "client" {
                client_for_certs
            } else if client_for_certs == Side::A {
                Side::B
            } else {
                Side::A
            };
            for (pos, fp) in fps.iter().enumerate() {
                let i = match self.cert_index.get(fp) {
                    Some(&i) => i,
                    None => {
                        let der = s.chains.get(side).and_then(|ch| ch.get(pos)).cloned().unwrap_or_default();
                        self.certs.push(CertSeen { der, sha256: fp.clone(), flow_ids: Vec::new(), roles: Vec::new() });
                        self.cert_index.insert(fp.clone(), self.certs.len() - 1);
                        self.certs.len() - 1
                    }
                };
                let seen = &mut self.certs[i];
                if seen.flow_ids.last() != Some(&flow_id) {
                    seen.flow_ids.push(flow_id);
                }
                let label = match (role, pos) {
                    ("server", 0) => "server",
                    ("server", _) => "server_chain",
                    (_, 0) => "client",
                    _ => "client_chain",
                };
                if !seen.roles.contains(&label) {
                    seen.roles.push(label);
                }
                self.note_cert_clock(i);
            }
        }
        let by_port = if rec.client_port == c.a_port { Side::A } else { Side::B };
        let client_side = s.client_side.unwrap_or(by_port);
        let who = |side: Side| if side == client_side { "client" } else { "server" };
        for a in &s.alerts {
            let detail = match &a.after {
                Some(after) if !after.is_empty() => format!("{} {} after the peer's {after}", a.level, a.description),
                _ => format!("{} {}", a.level, a.description),
            };
            self.events.push(EventRecord {
                flow_id: Some(flow_id),
                frame: Some(a.frame),
                ts: Some(a.ts),
                kind: "alert",
                sender: Some(who(a.side)),
                code: a.description.to_string(),
                detail,
            });
        }
        for an in &s.anomalies {
            self.events.push(EventRecord {
                flow_id: Some(flow_id),
                frame: Some(an.frame),
                ts: Some(an.ts),
                kind: "warning",
                sender: an.side.map(who),
                code: an.code.to_string(),
                detail: an.detail.to_string(),
            });
        }
        if !ctx.stream {
            for ms in &s.messages {
                self.messages.push(MessageRecord { flow_id, frame: ms.frame, ts: ms.ts, sender: who(ms.side),
                                                   kind: ms.kind, name: ms.name.clone() });
            }
        }
        let codes = c.tcp_anomalies().into_iter().chain(c.warnings.iter().map(|w| w.code()));
        let cut = if c.snaplen > 0 { Some("snaplen_truncated") } else { None };
        for code in codes.chain(cut) {
            if code == "capture_missed_bytes" {
                // one event per direction, sent by the side whose bytes were missed
                let server_side = if client_side == Side::A { Side::B } else { Side::A };
                for (side, way) in [(client_side, "client->server"), (server_side, "server->client")] {
                    let n = c.missed(side);
                    if n > 0 {
                        self.events.push(EventRecord {
                            flow_id: Some(flow_id),
                            kind: "warning",
                            sender: Some(who(side)),
                            code: code.to_string(),
                            detail: crate::tcp::missed_detail(way, n),
                            ..EventRecord::default()
                        });
                    }
                }
                continue;
            }
            let detail = if code == "snaplen_truncated" {
                format!("the capture kept only the first {n} bytes of this flow's handshake packets \
                         (snaplen {n}): the handshake cannot be read in full; capture with -s 0", n = c.snaplen)
            } else {
                tcp_detail(code).to_string()
            };
            self.events.push(EventRecord {
                flow_id: Some(flow_id),
                kind: "warning",
                code: code.to_string(),
                detail,
                ..EventRecord::default()
            });
        }
        self.flows.push(rec);
    }
}

/// A capture through the engine, as `inspector.api._run` does it: a capture broken after some
/// packets keeps them, with a `capture_truncated` warning; broken before any is an error.
pub fn analyze_reader(reader: CaptureReader, ports: &[u16], limits: Limits,
                      keylog: Option<Arc<KeyLog>>, stream: bool) -> Result<Analysis, EngineError> {
    analyze_reader_with(reader, ports, limits, keylog, None, stream)
}

/// [`analyze_reader`], with the key log file's report (its warnings and `keylog_unmatched`).
pub fn analyze_reader_with(mut reader: CaptureReader, ports: &[u16], limits: Limits, keylog: Option<Arc<KeyLog>>,
                           keylog_report: Option<KeylogReport>, stream: bool) -> Result<Analysis, EngineError> {
    let keylog = keylog.filter(|k| !k.is_empty()); // an empty key log decrypts nothing (Python's Analyzer)
    let base = keylog.clone();
    let mut analyzer = Analyzer::new(ports, limits, keylog);
    analyzer.stream = stream;
    analyzer.keylog_report = keylog_report;
    let mut truncated: Option<CaptureError> = None;
    let mut dsb_seen = 0;
    loop {
        match reader.next_packet() {
            Ok(Some(p)) => analyzer.packet_len(p.ts, p.linktype, p.data, p.orig_len as usize),
            Ok(None) => break,
            Err(e) => {
                if analyzer.frames() == 0 {
                    return Err(EngineError::from(e));
                }
                truncated = Some(e);
                break;
            }
        }
        if reader.keylog.len() != dsb_seen {
            // pcapng Decryption Secrets Blocks: their key log on top of --keylog
            dsb_seen = reader.keylog.len();
            let mut merged = base.as_deref().cloned().unwrap_or_default();
            merged.merge(parse_keylog(&reader.keylog));
            analyzer.set_keylog(Arc::new(merged));
        }
    }
    let mut warnings: Vec<(String, String)> =
        reader.warnings.iter().map(|w| (w.code.clone(), w.detail.clone())).collect();
    if let Some(e) = truncated {
        warnings.push(("capture_truncated".into(), format!("reading stopped: {}", e.message)));
    }
    let mut a = analyzer.finish(&warnings);
    a.format = reader.format.clone();
    a.bytes_read = reader.bytes_read;
    Ok(a)
}

/// Opens a capture file as the Python engine does: a FIFO, device or socket given by path is
/// refused (`CaptureReader::open` would read it as a stream, and a FIFO with no writer blocks);
/// streams come in through `CaptureReader::from_read` instead.
pub fn open_file(path: &std::path::Path) -> Result<CaptureReader, EngineError> {
    if let Ok(meta) = std::fs::metadata(path) {
        if !meta.is_file() && !meta.is_dir() {
            return Err(EngineError::Capture {
                reason: format!("{} is not a regular file (FIFO, device or socket)", path.display()),
                offset: None,
            });
        }
    }
    Ok(CaptureReader::open(path)?)
}

impl From<CaptureError> for EngineError {
    /// The reader's message is the whole text ("REASON at byte N" when the offset is known).
    fn from(e: CaptureError) -> EngineError {
        let suffix = format!(" at byte {}", e.offset);
        match e.message.strip_suffix(&suffix) {
            Some(reason) => EngineError::Capture { reason: reason.to_string(), offset: Some(e.offset) },
            None => EngineError::Capture { reason: e.message, offset: None },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::path::PathBuf;

    fn sample(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../pcaps").join(name)
    }

    fn run(name: &str, limits: Limits) -> Analysis {
        analyze_reader(open_file(&sample(name)).unwrap(), &[], limits, None, false).unwrap()
    }

    /// Hands a byte stream over one byte per read call.
    struct OneByte(Vec<u8>, usize);
    impl std::io::Read for OneByte {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.1 >= self.0.len() || buf.is_empty() {
                return Ok(0);
            }
            buf[0] = self.0[self.1];
            self.1 += 1;
            Ok(1)
        }
    }

    #[test]
    fn lab_sample_gives_its_flows_and_the_rejected_lsc() {
        let a = run("cisco_lab_mix.pcapng", Limits::default());
        assert_eq!(a.frames, 139);
        assert_eq!(a.flows.len(), 11);
        assert_eq!(a.flows.iter().map(|f| f.flow_id).collect::<Vec<_>>(), (1..=11).collect::<Vec<_>>());
        let f = &a.flows[1];
        assert_eq!((f.client_ip.as_str(), f.client_port, f.server_port), ("10.10.1.20", 51002, 5061));
        assert_eq!(f.alerts, vec!["server:fatal:unknown_ca".to_string()]);
        assert_eq!(f.outcome_detail.as_deref(), Some("server sent fatal unknown_ca after the client's Certificate"));
        assert_eq!(f.history, "CsxkrnXGYIFl");
        // every certificate crosses once, linked to the flows that sent it
        let mut fps: Vec<&str> = a.certificates.iter().map(|c| c.sha256.as_str()).collect();
        fps.dedup();
        assert_eq!(fps.len(), a.certificates.len());
        for c in &a.certificates {
            assert_eq!(sha256_hex(&c.der), c.sha256);
            for id in &c.flow_ids {
                let flow = &a.flows[*id as usize - 1];
                assert!(flow.server_chain_sha256.contains(&c.sha256) || flow.client_chain_sha256.contains(&c.sha256));
            }
        }
        let alert = a.events.iter().find(|e| e.kind == "alert" && e.flow_id == Some(2)).unwrap();
        assert_eq!((alert.sender, alert.code.as_str()), (Some("server"), "unknown_ca"));
    }

    #[test]
    fn whole_and_byte_by_byte_reading_agree() {
        let whole = run("cisco_lab_mix.pcapng", Limits::default());
        let bytes = std::fs::read(sample("cisco_lab_mix.pcapng")).unwrap();
        let reader = CaptureReader::from_read(Box::new(OneByte(bytes, 0))).unwrap();
        let slow = analyze_reader(reader, &[], Limits::default(), None, false).unwrap();
        assert_eq!(slow.flows, whole.flows);
        assert_eq!(slow.events, whole.events);
        assert_eq!(slow.certificates, whole.certificates);
    }

    /// The same frames with an 802.1Q tag take the general decoder instead of the fast path.
    #[test]
    fn fast_path_and_general_decoder_agree() {
        let mut tagged_frames = 0;
        for name in ["cisco_lab_mix.pcapng", "lsc_rejected_unknown_ca.pcap", "ca_chain_8443.pcap", "tls13_443.pcap"] {
            let mut plain = Analyzer::new(&[], Limits::default(), None);
            let mut tagged = Analyzer::new(&[], Limits::default(), None);
            let mut r = open_file(&sample(name)).unwrap();
            while let Some(p) = r.next_packet().unwrap() {
                plain.packet(p.ts, p.linktype, p.data);
                if p.linktype == 1 && p.data.len() > 14 && p.data[12..14] == [8, 0] {
                    let mut v = p.data[..12].to_vec();
                    v.extend_from_slice(&[0x81, 0x00, 0x00, 0x0a]);
                    v.extend_from_slice(&p.data[12..]);
                    tagged.packet(p.ts, p.linktype, &v);
                    tagged_frames += 1;
                } else {
                    tagged.packet(p.ts, p.linktype, p.data);
                }
            }
            let (a, b) = (plain.finish(&[]), tagged.finish(&[]));
            assert!(!a.flows.is_empty(), "{name}");
            assert_eq!(a.flows, b.flows, "{name}");
            assert_eq!(a.events, b.events, "{name}");
        }
        assert!(tagged_frames > 30, "{tagged_frames} IPv4 frames on Ethernet");
    }

    #[test]
    fn a_full_flow_table_evicts_the_oldest_and_still_reports_it() {
        let a = run("cisco_lab_mix.pcapng", Limits { max_flows: 1, ..Limits::default() });
        assert!(a.stats.get("flows_evicted") > 0);
        let evicted: Vec<&FlowRecord> =
            a.flows.iter().filter(|f| f.warnings.iter().any(|w| w == "evicted_flow_table_full")).collect();
        assert!(!evicted.is_empty());
        assert!(a.events.iter().any(|e| e.code == "evicted_flow_table_full"
            && e.detail == "the flow table was full; this flow was reported before its end"));
    }

    /// Ethernet/IPv4/TCP frame from 10.0.0.1:40000 to 10.0.0.2:443.
    fn frame(flags: u8, seq: u32, reverse: bool) -> Vec<u8> {
        let mut f = vec![0u8; 54];
        f[12] = 8;
        f[14] = 0x45;
        f[17] = 40; // total length
        f[23] = 6;
        let (a, b) = ([10, 0, 0, 1], [10, 0, 0, 2]);
        let (src, dst, sp, dp) = if reverse { (b, a, 443u16, 40000u16) } else { (a, b, 40000, 443) };
        f[26..30].copy_from_slice(&src);
        f[30..34].copy_from_slice(&dst);
        f[34..36].copy_from_slice(&sp.to_be_bytes());
        f[36..38].copy_from_slice(&dp.to_be_bytes());
        f[38..42].copy_from_slice(&seq.to_be_bytes());
        f[46] = 0x50;
        f[47] = flags;
        f
    }

    #[test]
    fn a_new_syn_with_a_new_isn_is_port_reuse() {
        let mut an = Analyzer::new(&[], Limits::default(), None);
        an.packet(1.0, 1, &frame(TCP_SYN, 100, false));
        an.packet(1.1, 1, &frame(TCP_SYN, 100, false)); // retransmitted SYN: same connection
        an.packet(1.2, 1, &frame(TCP_SYN | TCP_ACK, 900, true));
        assert_eq!(an.state.stats.get("tcp_connections"), 1);
        an.packet(2.0, 1, &frame(TCP_SYN, 5000, false)); // the 4-tuple again, another ISN
        assert_eq!(an.state.stats.get("tcp_connections"), 2);
        let a = an.finish(&[]);
        assert_eq!(a.stats.get("not_tls"), 2);
        assert!(a.flows.is_empty());
    }

    #[test]
    fn packets_without_payload_or_syn_open_nothing_and_bad_headers_are_counted() {
        let mut an = Analyzer::new(&[], Limits::default(), None);
        an.packet(1.0, 1, &frame(TCP_ACK, 1, false));
        an.packet(1.0, 1, &frame(TCP_RST, 1, false));
        let mut bad = frame(TCP_SYN, 1, false);
        bad[46] = 0x40; // data offset 16 bytes
        an.packet(1.0, 1, &bad);
        let mut short = frame(TCP_SYN, 1, false);
        short[17] = 30; // IP total length shorter than the headers
        an.packet(1.0, 1, &short);
        let a = an.finish(&[]);
        assert_eq!(a.stats.get("tcp_connections"), 0);
        assert_eq!(a.stats.get("bad_tcp_header_length"), 1);
        assert_eq!(a.stats.get("truncated_tcp"), 1);
        assert_eq!(a.frames, 4);
    }

    #[test]
    fn tombstones_are_bounded() {
        let limits = Limits { max_tombstones: 2, ..Limits::default() };
        let mut an = Analyzer::new(&[], limits, None);
        for i in 0..50u16 {
            let mut f = frame(TCP_ACK | 0x08, 1, false);
            f[34..36].copy_from_slice(&(1000 + i).to_be_bytes());
            f[36..38].copy_from_slice(&8080u16.to_be_bytes()); // not a TLS port
            f[17] = 48;
            f.extend_from_slice(b"GET / HT"); // not TLS: judged at once
            an.packet(1.0, 1, &f);
        }
        assert_eq!(an.state.stats.get("not_tls"), 50);
        assert!(an.state.tombstones.len() <= 4);
        assert!(an.state.map.len() <= 4);
    }

    #[test]
    fn a_capture_cut_short_keeps_its_packets_with_a_warning() {
        let bytes = std::fs::read(sample("cisco_lab_mix.pcapng")).unwrap();
        let cut = bytes[..bytes.len() - 100].to_vec();
        let reader = CaptureReader::from_read(Box::new(std::io::Cursor::new(cut))).unwrap();
        let a = analyze_reader(reader, &[], Limits::default(), None, false).unwrap();
        assert!(a.frames > 100 && a.frames < 139);
        assert!(a.capture_warnings.iter().any(|w| w.starts_with("capture_truncated: ")), "{:?}", a.capture_warnings);
        let head = CaptureReader::from_read(Box::new(std::io::Cursor::new(b"\xd4\xc3\xb2\xa1\x02\x00".to_vec())));
        let err = match head {
            Err(e) => EngineError::from(e),
            Ok(r) => analyze_reader(r, &[], Limits::default(), None, false).unwrap_err(),
        };
        assert_eq!(err.to_string(), "pcap file header cut short at byte 6");
    }

    #[test]
    fn stats_keep_first_increment_order() {
        let mut s = Stats::default();
        s.add("tcp_connections", 1);
        s.add("not_tls", 1);
        s.add("tcp_connections", 2);
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![("tcp_connections", 3), ("not_tls", 1)]);
        assert_eq!(s.get("missing"), 0);
    }

    #[test]
    fn error_message_names_the_offset_as_python_does() {
        let e = EngineError::Capture { reason: "pcap file header cut short".into(), offset: Some(0) };
        assert_eq!(e.to_string(), "pcap file header cut short at byte 0");
    }
}
