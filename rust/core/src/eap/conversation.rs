//! One EAP authentication, and the RADIUS tracker that finds them on a NAS/server pair.
//!
//! Sides: the peer (supplicant, EAP Responses) is `Side::A`, the authenticator (or the RADIUS
//! server behind it, EAP Requests) is `Side::B`; the TLS session finds its client from the
//! ClientHello as over TCP.

use std::collections::HashMap;

use super::packet::{
    method_name, parse_eap, parse_tls_part, tls_based, EAP_FAILURE, EAP_REQUEST, EAP_RESPONSE, EAP_SUCCESS, TYPE_IDENTITY,
    TYPE_NAK,
};
use super::radius::{self, parse_radius, ACCESS_ACCEPT, ACCESS_CHALLENGE, ACCESS_REJECT, ACCESS_REQUEST};
use crate::tls::messages::text;
use crate::tls::records::RecordReader;
use crate::tls::session::{SessionAnomaly, Side, TLSSession};
use crate::tls::summary::HandshakeSummary;

/// Bounds.
#[derive(Clone, Debug)]
pub struct EapConfig {
    /// Largest reassembled EAP-TLS message (a TLS flight).
    pub max_message: usize,
    /// Largest TLS handshake message (the record reader's limit).
    pub max_handshake: usize,
    pub max_records: u64,
    pub max_certs: usize,
}

impl Default for EapConfig {
    fn default() -> Self {
        EapConfig { max_message: 256 * 1024, max_handshake: 256 * 1024, max_records: 10_000, max_certs: 32 }
    }
}

pub const MAX_ANOMALIES: usize = 64;
/// Identity strings are cut at this many bytes.
pub const MAX_IDENTITY: usize = 256;

#[derive(Clone, Debug, Default)]
struct Fragments {
    buf: Vec<u8>,
    expected: Option<u32>,
    active: bool,
    /// Too large: drop until the last fragment.
    dropping: bool,
}

/// The state of one EAP authentication.
#[derive(Clone, Debug)]
pub struct EapTlsConversation {
    pub config: EapConfig,
    pub session: TLSSession,
    readers: [RecordReader; 2],
    frags: [Fragments; 2],
    /// (EAP id, hash of the packet) of the last packet of each side, to drop retransmissions.
    last: [Option<(u8, u64)>; 2],
    /// The TLS-based method (13, 21, 25, 43), once a Request or Response used one.
    pub method: Option<u8>,
    pub method_version: Option<u8>,
    /// The peer's EAP-Response/Identity.
    pub identity: Option<String>,
    /// Methods a Nak asked for instead.
    pub nak: Vec<u8>,
    /// EAP-Success (true) or EAP-Failure (false), from EAPOL or inside RADIUS.
    pub eap_result: Option<bool>,
    /// The last RADIUS Access-Accept / Access-Reject / Access-Challenge code seen.
    pub radius_result: Option<u8>,
    pub radius_packets: u64,
    /// EAP-TLS fragments per side, retransmitted EAP packets dropped.
    pub fragments: [u64; 2],
    pub retransmissions: u64,
    pub eap_packets: u64,
    pub anomalies: Vec<SessionAnomaly>,
    pub first_frame: u64,
    pub last_frame: u64,
    pub first_ts: f64,
    pub last_ts: f64,
    started: bool,
}

/// What a flow row needs, from [`EapTlsConversation::flow`].
#[derive(Clone, Debug, PartialEq)]
pub struct EapTlsFlow {
    pub first_frame: u64,
    pub last_frame: u64,
    pub first_ts: f64,
    pub last_ts: f64,
    /// "EAP-TLS", "PEAP", "EAP-TTLS", "EAP-FAST"; `None` when no TLS-based method ran.
    pub method: Option<String>,
    pub method_version: Option<u8>,
    pub identity: Option<String>,
    pub nak: Vec<String>,
    /// The inner TLS handshake's facts (`client_side`: the peer, A, unless the ClientHello said
    /// otherwise).
    pub handshake: HandshakeSummary,
    /// "success" (EAP-Success or Access-Accept), "failure" (EAP-Failure or Access-Reject),
    /// `None` when neither was seen.
    pub outcome: Option<&'static str>,
    /// "Access-Accept", "Access-Reject", "Access-Challenge" (the last RADIUS answer).
    pub radius: Option<String>,
    pub eap_packets: u64,
    pub fragments: u64,
    pub retransmissions: u64,
    pub anomalies: Vec<(String, String)>,
}

fn fnv(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &x| (h ^ u64::from(x)).wrapping_mul(0x0100_0000_01b3))
}

impl EapTlsConversation {
    pub fn new(config: EapConfig) -> Self {
        let r = || RecordReader::new(config.max_handshake, config.max_records);
        EapTlsConversation {
            session: TLSSession::new(None, config.max_certs),
            readers: [r(), r()],
            config,
            frags: Default::default(),
            last: [None, None],
            method: None,
            method_version: None,
            identity: None,
            nak: Vec::new(),
            eap_result: None,
            radius_result: None,
            radius_packets: 0,
            fragments: [0; 2],
            retransmissions: 0,
            eap_packets: 0,
            anomalies: Vec::new(),
            first_frame: 0,
            last_frame: 0,
            first_ts: 0.0,
            last_ts: 0.0,
            started: false,
        }
    }

    fn anomaly(&mut self, frame: u64, ts: f64, side: Option<Side>, code: &str, detail: String) {
        if self.anomalies.len() < MAX_ANOMALIES {
            self.anomalies.push(SessionAnomaly { frame, ts, side, code: code.to_owned(), detail });
        }
    }

    fn seen(&mut self, frame: u64, ts: f64) {
        if !self.started {
            self.started = true;
            self.first_frame = frame;
            self.first_ts = ts;
        }
        self.last_frame = frame;
        self.last_ts = ts;
    }

    /// Feed one EAP packet (an EAPOL EAP-Packet's body, or a RADIUS packet's EAP-Message).
    pub fn feed_eap(&mut self, eap: &[u8], frame: u64, ts: f64) {
        self.seen(frame, ts);
        let p = match parse_eap(eap) {
            Ok(p) => p,
            Err(why) => return self.anomaly(frame, ts, None, super::packet::BAD_EAP, why.to_owned()),
        };
        self.eap_packets += 1;
        let side = match p.code {
            EAP_REQUEST => Side::B,
            EAP_RESPONSE => Side::A,
            EAP_SUCCESS => {
                self.eap_result = Some(true);
                return;
            }
            EAP_FAILURE => {
                self.eap_result = Some(false);
                return;
            }
            _ => return,
        };
        let i = side as usize;
        let key = (p.id, fnv(p.raw));
        if self.last[i] == Some(key) {
            self.retransmissions += 1;
            return;
        }
        self.last[i] = Some(key);
        let Some(method) = p.method else { return };
        match method {
            TYPE_IDENTITY if side == Side::A => {
                let raw = &p.data[..p.data.len().min(MAX_IDENTITY)];
                self.identity = Some(text(raw).0);
            }
            TYPE_NAK if side == Side::A => {
                self.nak = p.data.iter().copied().take(16).collect();
            }
            m if tls_based(m) => self.tls(side, m, p.data, frame, ts),
            _ => {}
        }
    }

    fn tls(&mut self, side: Side, method: u8, data: &[u8], frame: u64, ts: f64) {
        let part = match parse_tls_part(data) {
            Ok(t) => t,
            Err(why) => return self.anomaly(frame, ts, Some(side), "bad_eap_tls", why.to_owned()),
        };
        match self.method {
            None => self.method = Some(method),
            Some(m) if m != method => {
                return self.anomaly(frame, ts, Some(side), "eap_method_changed", format!("{} after {}", method_name(method), method_name(m)));
            }
            _ => {}
        }
        if self.method_version.is_none() && method != super::packet::TYPE_TLS {
            self.method_version = Some(part.method_version);
        }
        if part.data.is_empty() {
            // EAP-TLS Start, or the ACK of a fragment
            return;
        }
        let i = side as usize;
        self.fragments[i] += 1;
        let max = self.config.max_message;
        let f = &mut self.frags[i];
        if let Some(l) = part.tls_length {
            if f.active && !f.buf.is_empty() {
                let left = f.buf.len();
                *f = Fragments::default();
                self.anomaly(frame, ts, Some(side), "eap_tls_fragment_restart", format!("a new message began with {left} bytes of the last one pending"));
            }
            let f = &mut self.frags[i];
            f.expected = Some(l);
            f.active = true;
            if l as usize > max {
                f.dropping = true;
                self.anomaly(frame, ts, Some(side), "eap_tls_message_too_large", format!("TLS Message Length {l} (limit {max})"));
            }
        }
        let f = &mut self.frags[i];
        f.active = true;
        if !f.dropping {
            if f.buf.len() + part.data.len() > max {
                f.dropping = true;
                f.buf = Vec::new();
                self.anomaly(frame, ts, Some(side), "eap_tls_message_too_large", format!("fragments pass {max} bytes"));
            } else {
                f.buf.extend_from_slice(part.data);
            }
        }
        if part.more() {
            return;
        }
        let f = std::mem::take(&mut self.frags[i]);
        if f.dropping {
            self.readers[i].stop();
            return;
        }
        if let Some(l) = f.expected {
            if l as usize != f.buf.len() {
                self.anomaly(frame, ts, Some(side), "eap_tls_length_mismatch", format!("TLS Message Length {l}, fragments carried {}", f.buf.len()));
            }
        }
        let events = self.readers[i].feed(&f.buf, frame, false);
        self.session.feed(side, events, ts);
    }

    /// Feed one RADIUS packet's facts: its code and its concatenated EAP-Message (may be empty).
    pub fn feed_radius(&mut self, code: u8, eap: &[u8], frame: u64, ts: f64) {
        self.seen(frame, ts);
        self.radius_packets += 1;
        if matches!(code, ACCESS_ACCEPT | ACCESS_REJECT | ACCESS_CHALLENGE) {
            self.radius_result = Some(code);
        }
        if !eap.is_empty() {
            self.feed_eap(eap, frame, ts);
        }
    }

    pub fn flow(&self) -> EapTlsFlow {
        let s = &self.session;
        let outcome = match (self.radius_result, self.eap_result) {
            (Some(ACCESS_ACCEPT), _) | (None | Some(ACCESS_CHALLENGE), Some(true)) => Some("success"),
            (Some(ACCESS_REJECT), _) | (None | Some(ACCESS_CHALLENGE), Some(false)) => Some("failure"),
            _ => None,
        };
        let mut anomalies: Vec<(String, String)> = self.anomalies.iter().map(|a| (a.code.clone(), a.detail.clone())).collect();
        anomalies.extend(s.anomalies.iter().map(|a| (a.code.clone(), a.detail.clone())));
        EapTlsFlow {
            first_frame: self.first_frame,
            last_frame: self.last_frame,
            first_ts: self.first_ts,
            last_ts: self.last_ts,
            method: self.method.map(method_name),
            method_version: self.method_version,
            identity: self.identity.clone(),
            nak: self.nak.iter().map(|&t| method_name(t)).collect(),
            handshake: HandshakeSummary::from_session(s, s.client_side.unwrap_or(Side::A)),
            outcome,
            radius: self.radius_result.map(radius::code_name),
            eap_packets: self.eap_packets,
            fragments: self.fragments.iter().sum(),
            retransmissions: self.retransmissions,
            anomalies,
        }
    }
}

/// The authentications on one RADIUS client (NAS) / server pair. A conversation is found by
/// the State attribute the server gave in its last Access-Challenge (echoed by the next
/// Access-Request), else it is new; answers are matched to requests by RADIUS identifier. An
/// Access-Accept or Access-Reject ends it ([`RadiusTracker::take_finished`]); so does idle time
/// ([`RadiusTracker::expire`]). At most `max_conversations` are open at once.
#[derive(Debug)]
pub struct RadiusTracker {
    pub config: EapConfig,
    pub max_conversations: usize,
    open: HashMap<u64, EapTlsConversation>,
    next_id: u64,
    by_state: HashMap<Vec<u8>, u64>,
    /// conversation -> the State it was last given (replaced by the next Challenge's).
    state_of: HashMap<u64, Vec<u8>>,
    /// RADIUS identifier -> conversation of the pending Access-Request.
    pending: HashMap<u8, u64>,
    /// (RADIUS identifier, conversation) of the last Accept/Reject: a retransmitted answer.
    ended: HashMap<u8, u64>,
    finished: Vec<EapTlsFlow>,
    /// Packets not parsed as RADIUS, answers to no known request, conversations refused.
    pub bad_packets: u64,
    pub unmatched: u64,
    pub refused: u64,
    /// Accounting and other non-access packets.
    pub other: u64,
}

impl RadiusTracker {
    pub fn new(config: EapConfig, max_conversations: usize) -> Self {
        RadiusTracker {
            config,
            max_conversations,
            open: HashMap::new(),
            next_id: 0,
            by_state: HashMap::new(),
            state_of: HashMap::new(),
            pending: HashMap::new(),
            ended: HashMap::new(),
            finished: Vec::new(),
            bad_packets: 0,
            unmatched: 0,
            refused: 0,
            other: 0,
        }
    }

    /// Conversations open now.
    pub fn len(&self) -> usize {
        self.open.len()
    }

    pub fn is_empty(&self) -> bool {
        self.open.is_empty()
    }

    fn forget(&mut self, conv: u64) {
        if let Some(state) = self.state_of.remove(&conv) {
            self.by_state.remove(&state);
        }
        self.pending.retain(|_, c| *c != conv);
    }

    /// Feed one RADIUS datagram (either direction: the code says which).
    pub fn feed(&mut self, datagram: &[u8], frame: u64, ts: f64) {
        let Some(p) = parse_radius(datagram) else {
            self.bad_packets += 1;
            return;
        };
        let conv = match p.code {
            ACCESS_REQUEST => {
                let known = p.attr(radius::ATTR_STATE).and_then(|s| self.by_state.get(s).copied());
                let conv = match known.filter(|c| self.open.contains_key(c)) {
                    Some(c) => c,
                    None => {
                        if self.open.len() >= self.max_conversations {
                            self.refused += 1;
                            return;
                        }
                        self.next_id += 1;
                        self.open.insert(self.next_id, EapTlsConversation::new(self.config.clone()));
                        self.next_id
                    }
                };
                self.pending.insert(p.id, conv);
                conv
            }
            ACCESS_ACCEPT | ACCESS_REJECT | ACCESS_CHALLENGE => {
                let Some(&conv) = self.pending.get(&p.id) else {
                    if self.ended.contains_key(&p.id) {
                        return; // the answer that ended a conversation, sent again
                    }
                    self.unmatched += 1;
                    return;
                };
                if let Some(state) = p.attr(radius::ATTR_STATE).filter(|_| p.code == ACCESS_CHALLENGE) {
                    // one State per conversation: the new one replaces the last
                    if let Some(old) = self.state_of.insert(conv, state.to_vec()) {
                        if self.by_state.get(&old) == Some(&conv) {
                            self.by_state.remove(&old);
                        }
                    }
                    self.by_state.insert(state.to_vec(), conv);
                }
                conv
            }
            _ => {
                self.other += 1;
                return;
            }
        };
        let Some(c) = self.open.get_mut(&conv) else { return };
        if p.truncated {
            c.anomaly(frame, ts, None, "radius_bad_attribute", "an attribute runs past the packet".to_owned());
        }
        c.feed_radius(p.code, &p.eap, frame, ts);
        if matches!(p.code, ACCESS_ACCEPT | ACCESS_REJECT) {
            if let Some(c) = self.open.remove(&conv) {
                self.finished.push(c.flow());
            }
            self.forget(conv);
            if self.ended.len() >= 256 {
                self.ended.clear();
            }
            self.ended.insert(p.id, conv);
        }
    }

    /// The conversations ended by Access-Accept / Access-Reject since the last call, in order.
    pub fn take_finished(&mut self) -> Vec<EapTlsFlow> {
        std::mem::take(&mut self.finished)
    }

    /// End the conversations silent for more than `idle` seconds at `ts` (with the finished
    /// ones), in order of first frame.
    pub fn expire(&mut self, ts: f64, idle: f64) -> Vec<EapTlsFlow> {
        let old: Vec<u64> = self.open.iter().filter(|(_, c)| ts - c.last_ts > idle).map(|(k, _)| *k).collect();
        let mut out = self.take_finished();
        for k in old {
            if let Some(c) = self.open.remove(&k) {
                out.push(c.flow());
            }
            self.forget(k);
        }
        out.sort_by_key(|f| f.first_frame);
        out
    }

    /// Every conversation, finished or not, in order of first frame.
    pub fn finish(&mut self) -> Vec<EapTlsFlow> {
        self.by_state.clear();
        self.state_of.clear();
        self.pending.clear();
        let mut out = self.take_finished();
        out.extend(self.open.drain().map(|(_, c)| c.flow()));
        out.sort_by_key(|f| f.first_frame);
        out
    }
}
