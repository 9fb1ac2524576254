//! The UDP and 802.1X flow tables (issue 10): DTLS associations, QUIC connections, RADIUS
//! conversations and EAPOL authentications, each ended by idle time (or the end of the capture)
//! and turned into a `FlowRecord` like the TCP ones: inner endpoints, `encapsulation`, chains
//! for the certificates table, alerts as events with their sender, an outcome and its sentence.
//!
//! The engine hands over every UDP packet the link decoder returns ([`UdpFlows::datagram`]) and
//! every Ethernet frame with ethertype 0x888E ([`UdpFlows::eapol`]); what is not analysed is
//! counted by reason (`udp_not_tls`, `quic_unconfirmed`, `radius_not_eap`...), and UDP traffic
//! to a port that usually carries (D)TLS but was not decoded becomes a capture warning.
//!
//! Bounds: each table holds at most `Limits::max_flows` entries (the least recently active is
//! ended and reported with `evicted_flow_table_full`); idle entries are swept every
//! [`SWEEP_EVERY`] seconds of capture time.
//!
//! Its parts: here the tables and what a packet does to them; `rows`: a finished entry -> its
//! flow row, chains and events ([`store`] puts them into the analysis tables).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::dtls::{record, DtlsAssociation, DtlsConfig};
use crate::eap::{parse_eapol, EapConfig, EapTlsConversation, RadiusTracker};
use crate::engine::{Stats, TableHasher};
use crate::flow::{EventRecord, FlowRecord, Limits};
use crate::ip::{ip_to_string, Decoded};
use crate::link::{is_capwap_dtls, CAPWAP_DTLS_HEADER};
use crate::quic::{looks_like_quic, QuicConnection};
use crate::tls::decrypt::KeyLog;
use crate::tls::session::Side;

mod rows;
#[cfg(test)]
mod tests;

pub use rows::store;
use rows::{dtls_flow, eap_flow, quic_flow};

/// An association silent this long (capture time) is ended.
pub const IDLE_TIMEOUT: f64 = 60.0;
/// Idle entries are looked for at most this often (capture time).
pub const SWEEP_EVERY: f64 = 10.0;
const RADIUS_PORTS: [u16; 3] = [1812, 1645, 3799];
const CAPWAP_PORTS: [u16; 2] = [5246, 5247];
/// Ports whose UDP traffic usually is (D)TLS or carries it: undecoded packets to them become a
/// capture warning naming what they look like.
const HINT_PORTS: [(u16, &str); 9] = [
    (443, "QUIC"),
    (4433, "DTLS or QUIC"),
    (5246, "CAPWAP control (DTLS)"),
    (5247, "CAPWAP data"),
    (2152, "GTP-U"),
    (4789, "VXLAN"),
    (6081, "Geneve"),
    (3478, "STUN/TURN (DTLS-SRTP media)"),
    (3544, "Teredo"),
];
/// Encapsulations remembered for TCP flows (to fill their `encapsulation`).
const MAX_TCP_ENCAP: usize = 100_000;
const MAX_HINT_KEYS: usize = 65_536;

/// A UDP 4-tuple, its lower endpoint first.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct UKey {
    lo: (Vec<u8>, u16),
    hi: (Vec<u8>, u16),
}

impl UKey {
    fn new(src: &[u8], sport: u16, dst: &[u8], dport: u16) -> UKey {
        let (a, b) = ((src.to_vec(), sport), (dst.to_vec(), dport));
        if a <= b { UKey { lo: a, hi: b } } else { UKey { lo: b, hi: a } }
    }
}

/// The endpoints of an entry: `a` sent its first packet.
#[derive(Clone, Debug)]
struct Ends {
    a: (Vec<u8>, u16),
    b: (Vec<u8>, u16),
    encap: Option<String>,
    packets: u64,
    last_ts: f64,
    first_frame: u64,
    last_frame: u64,
    evicted: bool,
    /// Packets of the 4-tuple counted for a capture warning before this entry began.
    hinted: u64,
}

impl Ends {
    fn new(src: &[u8], sport: u16, dst: &[u8], dport: u16, encap: Option<&str>, ts: f64) -> Ends {
        Ends { a: (src.to_vec(), sport), b: (dst.to_vec(), dport), encap: encap.map(str::to_owned),
               packets: 0, last_ts: ts, first_frame: 0, last_frame: 0, evicted: false, hinted: 0 }
    }

    fn side(&self, src: &[u8], sport: u16) -> Side {
        if self.a.0 == src && self.a.1 == sport { Side::A } else { Side::B }
    }

    fn end(&self, side: Side) -> &(Vec<u8>, u16) {
        if side == Side::A { &self.a } else { &self.b }
    }
}

/// A flow ready for the tables: the row (flow id 0), the DER chains, its events (flow id 0).
#[derive(Debug)]
pub struct UdpFlow {
    pub rec: FlowRecord,
    pub server_chain: Vec<Vec<u8>>,
    pub client_chain: Vec<Vec<u8>>,
    pub events: Vec<EventRecord>,
}

/// All UDP and EAPOL state of one capture.
pub struct UdpFlows {
    max: usize,
    keylog: Option<Arc<KeyLog>>,
    dtls: HashMap<UKey, (Ends, DtlsAssociation), TableHasher>,
    quic: HashMap<UKey, (Ends, QuicConnection), TableHasher>,
    radius: HashMap<UKey, (Ends, RadiusTracker), TableHasher>,
    /// EAPOL by supplicant MAC.
    eapol: HashMap<[u8; 6], (Ends, EapTlsConversation), TableHasher>,
    tcp_encap: HashMap<(String, u16, String, u16), String, TableHasher>,
    /// UDP packets not analysed on a (D)TLS-carrying port, by 4-tuple (a 4-tuple that becomes
    /// DTLS or QUIC later, e.g. after a STUN binding, is dropped from it).
    hints: HashMap<UKey, (u16, u64), TableHasher>,
    /// Hints beyond `MAX_HINT_KEYS` 4-tuples, by port.
    hint_overflow: BTreeMap<u16, u64>,
    done: Vec<UdpFlow>,
    last_sweep: f64,
}

fn evict_oldest<K: Clone + Eq + std::hash::Hash, V>(map: &mut HashMap<K, (Ends, V), TableHasher>) -> Option<(Ends, V)> {
    let k = map.iter().min_by(|a, b| a.1 .0.last_ts.total_cmp(&b.1 .0.last_ts)).map(|(k, _)| k.clone())?;
    map.remove(&k).map(|(mut e, v)| {
        e.evicted = true;
        (e, v)
    })
}

impl UdpFlows {
    pub fn new(limits: &Limits, keylog: Option<Arc<KeyLog>>) -> UdpFlows {
        UdpFlows {
            max: limits.max_flows.max(1),
            keylog,
            dtls: HashMap::default(),
            quic: HashMap::default(),
            radius: HashMap::default(),
            eapol: HashMap::default(),
            tcp_encap: HashMap::default(),
            hints: HashMap::default(),
            hint_overflow: BTreeMap::new(),
            done: Vec::new(),
            last_sweep: f64::NEG_INFINITY,
        }
    }

    pub fn set_keylog(&mut self, keylog: Arc<KeyLog>) {
        self.keylog = Some(keylog);
    }

    /// Remember the tunnel path of a TCP packet, to fill its flow's `encapsulation` at the end.
    pub fn note_tcp(&mut self, d: &Decoded<'_>) {
        let Some(enc) = d.encapsulation else { return };
        if d.l4 + 4 > d.buf.len() || self.tcp_encap.len() >= MAX_TCP_ENCAP {
            return;
        }
        let sp = u16::from_be_bytes([d.buf[d.l4], d.buf[d.l4 + 1]]);
        let dp = u16::from_be_bytes([d.buf[d.l4 + 2], d.buf[d.l4 + 3]]);
        let (s, t) = ((ip_to_string(d.src), sp), (ip_to_string(d.dst), dp));
        let k = if s <= t { (s.0, s.1, t.0, t.1) } else { (t.0, t.1, s.0, s.1) };
        self.tcp_encap.entry(k).or_insert_with(|| enc.to_owned());
    }

    /// An Ethernet frame: `true` if it is EAPOL (0x888E, after VLAN tags) and was taken.
    pub fn eapol(&mut self, linktype: u32, data: &[u8], frame: u64, ts: f64, stats: &mut Stats) -> bool {
        if linktype != 1 || data.len() < 14 {
            return false;
        }
        let mut off = 12;
        while off + 4 <= data.len() && matches!(u16::from_be_bytes([data[off], data[off + 1]]), 0x8100 | 0x88A8) {
            off += 4;
        }
        if off + 2 > data.len() || data[off..off + 2] != [0x88, 0x8E] {
            return false;
        }
        let Some(p) = parse_eapol(&data[off + 2..]) else {
            stats.add("eapol_truncated", 1);
            return true;
        };
        if p.packet_type != 0 {
            stats.add("eapol_not_eap", 1); // Start, Logoff, Key...
            return true;
        }
        self.sweep(ts, stats);
        let (dst, src): ([u8; 6], [u8; 6]) = (data[0..6].try_into().unwrap_or([0; 6]), data[6..12].try_into().unwrap_or([0; 6]));
        // EAP code 1 (Request), 3 (Success), 4 (Failure) come from the authenticator
        let from_auth = matches!(p.body.first(), Some(1 | 3 | 4));
        let (supp, auth) = if from_auth { (dst, src) } else { (src, dst) };
        // one authentication per supplicant: the authenticator may answer from its own address
        // while the supplicant writes to the PAE group address (01:80:c2:00:00:03)
        let key = supp;
        if !self.eapol.contains_key(&key) {
            if self.eapol.len() >= self.max {
                if let Some((e, c)) = evict_oldest(&mut self.eapol) {
                    self.done.push(eap_flow(&e, &c.flow(), "eap"));
                }
            }
            let ends = Ends { a: (supp.to_vec(), 0), b: (auth.to_vec(), 0), encap: None, packets: 0, last_ts: ts,
                              first_frame: frame, last_frame: frame, evicted: false, hinted: 0 };
            self.eapol.insert(key, (ends, EapTlsConversation::new(EapConfig::default())));
        }
        if let Some((e, c)) = self.eapol.get_mut(&key) {
            e.packets += 1;
            e.last_ts = ts;
            if auth[0] & 1 == 0 && (e.b.0 != auth || e.b.0[0] & 1 == 1) {
                e.b.0 = auth.to_vec();
            }
            c.feed_eap(p.body, frame, ts);
        }
        true
    }

    /// One UDP packet from the link decoder (`d.proto == 17`).
    pub fn datagram(&mut self, d: &Decoded<'_>, frame: u64, ts: f64, stats: &mut Stats) {
        let (buf, l4, end) = (d.buf, d.l4, d.end.min(d.buf.len()));
        if l4 + 8 > end {
            stats.add("truncated_udp", 1);
            return;
        }
        let sport = u16::from_be_bytes([buf[l4], buf[l4 + 1]]);
        let dport = u16::from_be_bytes([buf[l4 + 2], buf[l4 + 3]]);
        let ulen = usize::from(u16::from_be_bytes([buf[l4 + 4], buf[l4 + 5]]));
        let pend = if ulen >= 8 && l4 + ulen <= end { l4 + ulen } else { end };
        let mut payload = &buf[l4 + 8..pend];
        self.sweep(ts, stats);
        let key = UKey::new(d.src, sport, d.dst, dport);
        let enc = d.encapsulation;
        if RADIUS_PORTS.contains(&sport) || RADIUS_PORTS.contains(&dport) {
            if !self.radius.contains_key(&key) {
                if self.radius.len() >= self.max {
                    if let Some((e, mut r)) = evict_oldest(&mut self.radius) {
                        for f in r.finish() {
                            self.done.push(eap_flow(&e, &f, "udp"));
                        }
                    }
                }
                // the NAS (RADIUS client) sends to the well-known port
                let ends = if RADIUS_PORTS.contains(&dport) {
                    Ends::new(d.src, sport, d.dst, dport, enc, ts)
                } else {
                    Ends::new(d.dst, dport, d.src, sport, enc, ts)
                };
                self.radius.insert(key.clone(), (ends, RadiusTracker::new(EapConfig::default(), 256)));
            }
            if let Some((e, r)) = self.radius.get_mut(&key) {
                e.packets += 1;
                e.last_ts = ts;
                r.feed(payload, frame, ts);
                for f in r.take_finished() {
                    self.done.push(eap_flow(e, &f, "udp"));
                }
            }
            return;
        }
        // CAPWAP: the link decoder found the 4-byte CAPWAP DTLS header (preamble type 1) before
        // the DTLS records, and named the path "capwap"
        if (CAPWAP_PORTS.contains(&sport) || CAPWAP_PORTS.contains(&dport))
            && enc.is_some_and(|e| e.ends_with("capwap"))
            && is_capwap_dtls(payload)
        {
            payload = &payload[CAPWAP_DTLS_HEADER..];
        }
        if let Some((e, q)) = self.quic.get_mut(&key) {
            let side = e.side(d.src, sport);
            if !q.is_new_connection(side, payload) {
                e.packets += 1;
                e.last_ts = ts;
                e.last_frame = frame;
                q.on_datagram(side, payload, frame, ts);
                return;
            }
            if let Some((e, q)) = self.quic.remove(&key) {
                self.end_quic(e, q, stats);
            }
        }
        // an idle association, or a new handshake after one that is over, ends the old one
        if self.dtls.get(&key).is_some_and(|(_, a)| a.idle(ts) || (a.over() && record::starts_handshake(payload))) {
            if let Some((e, a)) = self.dtls.remove(&key) {
                self.done.push(dtls_flow(&e, &a.flow()));
            }
        }
        if let Some((e, a)) = self.dtls.get_mut(&key) {
            e.packets += 1;
            e.last_ts = ts;
            let side = e.side(d.src, sport);
            a.feed(side, payload, frame, ts);
            return;
        }
        if record::looks_like_dtls(payload) {
            if self.dtls.len() >= self.max {
                if let Some((e, a)) = evict_oldest(&mut self.dtls) {
                    self.done.push(dtls_flow(&e, &a.flow()));
                }
            }
            let mut ends = Ends::new(d.src, sport, d.dst, dport, enc, ts);
            ends.packets = 1;
            let mut a = DtlsAssociation::new(DtlsConfig { idle_timeout: IDLE_TIMEOUT, ..DtlsConfig::default() });
            a.feed(Side::A, payload, frame, ts);
            self.hints.remove(&key);
            self.dtls.insert(key, (ends, a));
            return;
        }
        if looks_like_quic(payload) {
            if self.quic.len() >= self.max {
                if let Some((e, q)) = evict_oldest(&mut self.quic) {
                    self.end_quic(e, q, stats);
                }
            }
            let mut ends = Ends::new(d.src, sport, d.dst, dport, enc, ts);
            ends.packets = 1;
            (ends.first_frame, ends.last_frame) = (frame, frame);
            let mut q = QuicConnection::new(self.keylog.clone());
            q.on_datagram(Side::A, payload, frame, ts);
            ends.hinted = self.hints.remove(&key).map_or(0, |h| h.1);
            self.quic.insert(key, (ends, q));
            return;
        }
        stats.add("udp_not_tls", 1);
        for (p, _) in HINT_PORTS {
            if sport == p || dport == p {
                if let Some(h) = self.hints.get_mut(&key) {
                    h.1 += 1;
                } else if self.hints.len() < MAX_HINT_KEYS {
                    self.hints.insert(key, (p, 1));
                } else {
                    *self.hint_overflow.entry(p).or_insert(0) += 1;
                }
                break;
            }
        }
    }

    fn end_quic(&mut self, e: Ends, q: QuicConnection, stats: &mut Stats) {
        if q.confirmed() {
            self.done.push(quic_flow(&e, &q));
        } else {
            stats.add("udp_not_tls", e.packets);
            stats.add("quic_unconfirmed", e.packets);
            if let Some(&(p, _)) = HINT_PORTS.iter().find(|h| h.0 == e.a.1 || h.0 == e.b.1) {
                *self.hint_overflow.entry(p).or_insert(0) += e.packets + e.hinted;
            }
        }
    }

    fn sweep(&mut self, ts: f64, stats: &mut Stats) {
        if ts - self.last_sweep < SWEEP_EVERY {
            return;
        }
        self.last_sweep = ts;
        let idle = |e: &Ends| ts - e.last_ts > IDLE_TIMEOUT;
        let keys: Vec<UKey> = self.dtls.iter().filter(|(_, v)| idle(&v.0)).map(|(k, _)| k.clone()).collect();
        for k in keys {
            if let Some((e, a)) = self.dtls.remove(&k) {
                self.done.push(dtls_flow(&e, &a.flow()));
            }
        }
        let keys: Vec<UKey> = self.quic.iter().filter(|(_, v)| idle(&v.0)).map(|(k, _)| k.clone()).collect();
        let mut ended = Vec::new();
        for k in keys {
            if let Some(v) = self.quic.remove(&k) {
                ended.push(v);
            }
        }
        for (e, q) in ended {
            self.end_quic(e, q, stats);
        }
        for (e, r) in self.radius.values_mut() {
            for f in r.expire(ts, IDLE_TIMEOUT) {
                self.done.push(eap_flow(e, &f, "udp"));
            }
        }
        let keys: Vec<[u8; 6]> = self.eapol.iter().filter(|(_, v)| idle(&v.0)).map(|(k, _)| *k).collect();
        for k in keys {
            if let Some((e, c)) = self.eapol.remove(&k) {
                self.done.push(eap_flow(&e, &c.flow(), "eap"));
            }
        }
    }
}

impl UdpFlows {
    /// The end of the capture: every entry ended; the flows (in order of first frame), with the
    /// capture warnings for undecoded traffic on (D)TLS-carrying ports.
    pub fn finish(&mut self, stats: &mut Stats) -> (Vec<UdpFlow>, Vec<(String, String)>) {
        for (_, (e, a)) in std::mem::take(&mut self.dtls) {
            self.done.push(dtls_flow(&e, &a.flow()));
        }
        for (_, (e, q)) in std::mem::take(&mut self.quic) {
            self.end_quic(e, q, stats);
        }
        for (_, (e, mut r)) in std::mem::take(&mut self.radius) {
            let n = r.bad_packets + r.other;
            if n > 0 {
                stats.add("radius_not_eap", n);
            }
            for f in r.finish() {
                self.done.push(eap_flow(&e, &f, "udp"));
            }
        }
        for (_, (e, c)) in std::mem::take(&mut self.eapol) {
            self.done.push(eap_flow(&e, &c.flow(), "eap"));
        }
        let mut out = std::mem::take(&mut self.done);
        out.sort_by_key(|u| u.rec.first_frame);
        let mut warnings = Vec::new();
        let mut by_port = std::mem::take(&mut self.hint_overflow);
        for (_, (port, n)) in std::mem::take(&mut self.hints) {
            *by_port.entry(port).or_insert(0) += n;
        }
        for (port, n) in by_port {
            let name = HINT_PORTS.iter().find(|h| h.0 == port).map(|h| h.1).unwrap_or("TLS");
            warnings.push(("udp_not_decoded".to_string(),
                           format!("{n} UDP packets to port {port} look like {name}; not decoded")));
        }
        (out, warnings)
    }

    /// Fill the `encapsulation` of the TCP flows that crossed a tunnel.
    pub fn fill_tcp_encapsulation(&mut self, flows: &mut [FlowRecord]) {
        if self.tcp_encap.is_empty() {
            return;
        }
        for f in flows.iter_mut().filter(|f| f.transport == "tcp" && f.encapsulation.is_none()) {
            let (s, t) = ((f.client_ip.clone(), f.client_port), (f.server_ip.clone(), f.server_port));
            let k = if s <= t { (s.0, s.1, t.0, t.1) } else { (t.0, t.1, s.0, s.1) };
            f.encapsulation = self.tcp_encap.get(&k).cloned();
        }
        self.tcp_encap.clear();
    }
}
