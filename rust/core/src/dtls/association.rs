//! One DTLS association (a UDP 5-tuple), and the table of them ended by idle time.
//!
//! [`DtlsAssociation::feed`] takes one datagram of one side. Datagrams are demultiplexed by
//! RFC 7983 (STUN and RTP/RTCP sharing the 5-tuple are counted, not parsed). DTLS records are
//! split; epoch-0 handshake fragments are reassembled (retransmissions dropped) and the whole
//! messages go to a [`TLSSession`] as TLS handshake messages, the ClientHello with its cookie
//! removed; records of epoch >= 1 are encrypted: handshake ones are the Finished, alerts are
//! "encrypted" alerts, the rest application data. Once the session says the handshake is over,
//! records are only counted. [`DtlsAssociation::flow`] is what a flow row needs.

use std::collections::HashMap;
use std::hash::Hash;

use super::handshake::{parse_hello_verify_request, strip_cookie, Out, Reassembler};
use super::record::{self, demux, Demux, Item, DTLS13};
use super::srtp::{parse_use_srtp, profile_name, USE_SRTP};
use crate::tls::fingerprint;
use crate::tls::messages;
use crate::tls::names::version_name;
use crate::tls::records::{AlertRecord, ApplicationData, ChangeCipherSpec, EncryptedHandshake, Event, HandshakeMessage, TLSStart};
use crate::tls::session::{SessionAnomaly, Side, TLSSession};
use crate::tls::summary::HandshakeSummary;

/// Bounds and the idle time that ends an association.
#[derive(Clone, Debug)]
pub struct DtlsConfig {
    /// Largest handshake message reassembled.
    pub max_message: usize,
    /// Records parsed before the handshake is over (then only counted).
    pub max_records: u64,
    /// Certificates kept per Certificate message.
    pub max_certs: usize,
    /// Seconds without a datagram after which the association is over (a new one may start).
    pub idle_timeout: f64,
}

impl Default for DtlsConfig {
    fn default() -> Self {
        DtlsConfig { max_message: 256 * 1024, max_records: 10_000, max_certs: 32, idle_timeout: 60.0 }
    }
}

/// The `connection_id` extension (RFC 9146).
pub const CONNECTION_ID: u16 = 54;

/// Anomalies kept per association (the session keeps its own, also bounded).
pub const MAX_ANOMALIES: usize = 64;
/// Alerts read after the handshake is over.
pub const MAX_ALERTS: usize = 64;

/// The state of one UDP 5-tuple carrying DTLS.
#[derive(Clone, Debug)]
pub struct DtlsAssociation {
    pub config: DtlsConfig,
    pub session: TLSSession,
    hs: [Reassembler; 2],
    /// The version of the first DTLS record seen.
    pub record_version: Option<u16>,
    /// HelloVerifyRequest: (frame, cookie length).
    pub hello_verify: Option<(u64, usize)>,
    /// Cookie length of the ClientHello that answered it.
    pub client_cookie_len: Option<usize>,
    pub ja4: Option<String>,
    pub srtp_offered: Vec<u16>,
    pub srtp_selected: Option<u16>,
    pub srtp_mki: Vec<u8>,
    /// RFC 9146 connection IDs each side asked to receive (`connection_id` extension, 54):
    /// index 0 = what A's hello asked for, so B's records carry it.
    pub cid: [Option<Vec<u8>>; 2],
    /// Records per side (index 0 = A), of epoch >= 1 per side, DTLS 1.3 unified-header records.
    pub records: [u64; 2],
    pub encrypted_records: [u64; 2],
    pub dtls13_records: u64,
    /// Handshake fragments dropped as retransmissions.
    pub retransmissions: u64,
    /// Highest epoch seen per side.
    pub max_epoch: [u16; 2],
    pub datagrams: [u64; 2],
    pub bytes: [u64; 2],
    /// Datagrams demultiplexed away (RFC 7983): STUN, RTP/RTCP, other.
    pub stun: u64,
    pub rtp: u64,
    pub other: u64,
    pub anomalies: Vec<SessionAnomaly>,
    pub first_frame: u64,
    pub last_frame: u64,
    pub first_ts: f64,
    pub last_ts: f64,
    started: bool,
    handshake_records: u64,
    /// A ClientHello after a HelloVerifyRequest replaces the first one.
    reset_hello: bool,
}

/// What a flow row needs, from [`DtlsAssociation::flow`].
#[derive(Clone, Debug, PartialEq)]
pub struct DtlsFlow {
    pub first_frame: u64,
    pub last_frame: u64,
    pub first_ts: f64,
    pub last_ts: f64,
    /// The handshake's facts. `client_side`: A when no ClientHello was seen; `version`: the
    /// ServerHello's, else the first record's ("DTLS 1.2"), `None` before any record; `ja4`:
    /// with the `d` (DTLS) transport letter and DTLS version codes ([`dtls_ja4`]).
    pub handshake: HandshakeSummary,
    pub srtp_offered: Vec<String>,
    pub srtp_profile: Option<String>,
    pub hello_verify: bool,
    pub cookie_len: Option<usize>,
    pub retransmissions: u64,
    pub records: u64,
    pub encrypted_records: u64,
    pub dtls13_records: u64,
    pub stun_datagrams: u64,
    pub rtp_datagrams: u64,
    /// One of `established` (both Finished, or encrypted data both ways), `alert` (a fatal
    /// alert), `hello_verify_only` (a HelloVerifyRequest not answered), `no_server_hello`,
    /// `dtls13` (DTLS 1.3: encrypted after the ServerHello), `incomplete`.
    pub outcome: &'static str,
    /// Record-layer, reassembly and session anomalies, (code, detail).
    pub anomalies: Vec<(String, String)>,
}

impl DtlsAssociation {
    pub fn new(config: DtlsConfig) -> Self {
        let m = config.max_message;
        let max_certs = config.max_certs;
        DtlsAssociation {
            config,
            session: TLSSession::new(None, max_certs),
            hs: [Reassembler::new(m), Reassembler::new(m)],
            record_version: None,
            hello_verify: None,
            client_cookie_len: None,
            ja4: None,
            srtp_offered: Vec::new(),
            srtp_selected: None,
            srtp_mki: Vec::new(),
            cid: [None, None],
            records: [0; 2],
            encrypted_records: [0; 2],
            dtls13_records: 0,
            retransmissions: 0,
            max_epoch: [0; 2],
            datagrams: [0; 2],
            bytes: [0; 2],
            stun: 0,
            rtp: 0,
            other: 0,
            anomalies: Vec::new(),
            first_frame: 0,
            last_frame: 0,
            first_ts: 0.0,
            last_ts: 0.0,
            started: false,
            handshake_records: 0,
            reset_hello: false,
        }
    }

    /// Is the handshake over (finished, or ended by a fatal alert)? A new ClientHello on the
    /// 5-tuple then starts a new association.
    pub fn over(&self) -> bool {
        self.session.handshake_over()
    }

    /// Has the association been silent for longer than the idle timeout at `ts`?
    pub fn idle(&self, ts: f64) -> bool {
        self.started && ts - self.last_ts > self.config.idle_timeout
    }

    fn anomaly(&mut self, frame: u64, ts: f64, side: Side, code: &str, detail: String) {
        if self.anomalies.len() < MAX_ANOMALIES {
            self.anomalies.push(SessionAnomaly { frame, ts, side: Some(side), code: code.to_owned(), detail });
        }
    }

    fn parsing(&self) -> bool {
        self.handshake_records < self.config.max_records && !self.session.handshake_over()
    }

    /// Feed one UDP datagram that `side` sent in `frame` at `ts`.
    pub fn feed(&mut self, side: Side, datagram: &[u8], frame: u64, ts: f64) {
        let i = side as usize;
        if !self.started {
            self.started = true;
            self.first_frame = frame;
            self.first_ts = ts;
        }
        self.last_frame = frame;
        self.last_ts = ts;
        self.datagrams[i] += 1;
        self.bytes[i] += datagram.len() as u64;
        match demux(datagram) {
            Demux::Dtls => {}
            Demux::Stun => return self.stun += 1,
            Demux::Rtp => return self.rtp += 1,
            _ => return self.other += 1,
        }
        // this side's records carry the CID its peer asked for
        let cid_len = self.cid[side.peer() as usize].as_ref().map(Vec::len);
        for item in record::split_with_cid(datagram, cid_len) {
            match item {
                Item::Record(r) => {
                    self.records[i] += 1;
                    self.max_epoch[i] = self.max_epoch[i].max(r.epoch);
                    if self.record_version.is_none() {
                        self.record_version = Some(r.version);
                    }
                    if r.epoch > 0 {
                        self.encrypted_records[i] += 1;
                    }
                    if !self.parsing() {
                        // after the handshake only alerts still matter (close_notify, a late
                        // fatal alert), up to MAX_ALERTS
                        if r.content_type == 21 && self.session.alerts.len() < MAX_ALERTS {
                            self.record(side, r, frame, ts);
                        }
                        continue;
                    }
                    self.handshake_records += 1;
                    if !self.session.started.contains_key(side) {
                        self.session.feed_event(side, Event::TLSStart(TLSStart { frame, prelude_bytes: 0, prelude_head: Vec::new() }), ts);
                    }
                    self.record(side, r, frame, ts);
                }
                Item::Unified(u) => {
                    self.records[i] += 1;
                    self.encrypted_records[i] += 1;
                    self.dtls13_records += 1;
                    if self.parsing() {
                        self.handshake_records += 1;
                        let length = u.length.unwrap_or(0);
                        self.session.feed_event(side, Event::ApplicationData(ApplicationData { frame, length, record: Vec::new() }), ts);
                    }
                }
                Item::Bad { code, offset, left } => {
                    self.anomaly(frame, ts, side, code, format!("{left} bytes at offset {offset} of a {}-byte datagram", datagram.len()));
                }
            }
        }
    }

    fn record(&mut self, side: Side, r: record::Record<'_>, frame: u64, ts: f64) {
        let encrypted = r.epoch > 0;
        match r.content_type {
            20 => self.session.feed_event(side, Event::ChangeCipherSpec(ChangeCipherSpec { frame }), ts),
            21 => {
                let ev = AlertRecord { frame, payload: r.fragment.to_vec(), encrypted };
                self.session.feed_event(side, Event::AlertRecord(ev), ts);
            }
            22 if encrypted => {
                let ev = EncryptedHandshake { frame, length: r.fragment.len() };
                self.session.feed_event(side, Event::EncryptedHandshake(ev), ts);
            }
            22 => {
                let mut out = Vec::new();
                self.hs[side as usize].push(r.fragment, &mut out);
                for o in out {
                    match o {
                        Out::Message(m) => self.message(side, m.msg_type, m.body, r.version, frame, ts),
                        Out::Retransmission { .. } => self.retransmissions += 1,
                        Out::Anomaly { code, detail } => self.anomaly(frame, ts, side, code, detail),
                    }
                }
            }
            _ => {
                let ev = ApplicationData { frame, length: r.fragment.len(), record: Vec::new() };
                self.session.feed_event(side, Event::ApplicationData(ev), ts);
            }
        }
    }

    fn message(&mut self, side: Side, msg_type: u8, body: Vec<u8>, record_version: u16, frame: u64, ts: f64) {
        let body = match msg_type {
            1 => match strip_cookie(&body) {
                Some((tls, cookie)) => {
                    if let Ok(ch) = messages::parse_client_hello(&tls) {
                        self.ja4 = Some(dtls_ja4(&ch));
                        self.connection_id(side, &ch.extensions);
                        if let Some((_, e)) = ch.extensions.iter().find(|(t, _)| *t == USE_SRTP) {
                            match parse_use_srtp(e) {
                                Some((profiles, _)) => self.srtp_offered = profiles,
                                None => self.anomaly(frame, ts, side, "malformed_use_srtp", "in the ClientHello".to_owned()),
                            }
                        }
                    }
                    if self.reset_hello {
                        // the ClientHello answering a HelloVerifyRequest replaces the first
                        self.session.client_hello = None;
                        self.reset_hello = false;
                        self.client_cookie_len = Some(cookie.len());
                    }
                    tls
                }
                None => {
                    self.anomaly(frame, ts, side, "bad_client_hello", "DTLS ClientHello too short to hold its cookie".to_owned());
                    body
                }
            },
            2 => {
                if let Ok(sh) = messages::parse_server_hello(&body) {
                    self.connection_id(side, &sh.extensions);
                    if let Some((_, e)) = sh.extensions.iter().find(|(t, _)| *t == USE_SRTP) {
                        match parse_use_srtp(e) {
                            Some((profiles, mki)) => {
                                self.srtp_selected = profiles.first().copied();
                                self.srtp_mki = mki;
                            }
                            None => self.anomaly(frame, ts, side, "malformed_use_srtp", "in the ServerHello".to_owned()),
                        }
                    }
                }
                body
            }
            3 => {
                match parse_hello_verify_request(&body) {
                    Some((_, cookie)) => {
                        self.hello_verify = Some((frame, cookie.len()));
                        self.reset_hello = true;
                    }
                    None => self.anomaly(frame, ts, side, "bad_hello_verify_request", "HelloVerifyRequest does not parse".to_owned()),
                }
                body
            }
            _ => body,
        };
        let msg = HandshakeMessage { frame, msg_type, body, record_version };
        self.session.feed_event(side, Event::HandshakeMessage(msg), ts);
        if msg_type == 2 {
            // DTLS 1.3 selects 0xfefc: the session's TLS 1.3 rules apply (encrypted from here)
            if self.session.server_hello.as_ref().is_some_and(|sh| sh.selected_version == DTLS13) {
                self.session.tls13 = true;
            }
        }
    }

    fn connection_id(&mut self, side: Side, exts: &[messages::Extension]) {
        if let Some((_, e)) = exts.iter().find(|(t, _)| *t == CONNECTION_ID) {
            if let Some((&n, cid)) = e.split_first() {
                if usize::from(n) == cid.len() {
                    self.cid[side as usize] = Some(cid.to_vec());
                }
            }
        }
    }

    /// The flow row's facts so far.
    pub fn flow(&self) -> DtlsFlow {
        let s = &self.session;
        let mut handshake = HandshakeSummary::from_session(s, s.client_side.unwrap_or(Side::A));
        if handshake.version.is_none() {
            handshake.version = self.record_version.map(|v| version_name(v.into()));
        }
        handshake.ja4.clone_from(&self.ja4);
        let fatal = handshake.fatal_alert().is_some();
        let both_encrypted = self.encrypted_records.iter().all(|&n| n > 0);
        let outcome = if fatal {
            "alert"
        } else if s.server_hello.as_ref().is_some_and(|sh| sh.selected_version == DTLS13) {
            "dtls13"
        } else if s.finished.len() == 2 || (s.server_hello.is_some() && both_encrypted) {
            "established"
        } else if self.hello_verify.is_some() && self.client_cookie_len.is_none() {
            "hello_verify_only"
        } else if s.server_hello.is_none() {
            "no_server_hello"
        } else {
            "incomplete"
        };
        let mut anomalies: Vec<(String, String)> =
            self.anomalies.iter().map(|a| (a.code.clone(), a.detail.clone())).collect();
        anomalies.extend(s.anomalies.iter().map(|a| (a.code.clone(), a.detail.clone())));
        DtlsFlow {
            first_frame: self.first_frame,
            last_frame: self.last_frame,
            first_ts: self.first_ts,
            last_ts: self.last_ts,
            handshake,
            srtp_offered: self.srtp_offered.iter().map(|&p| profile_name(p)).collect(),
            srtp_profile: self.srtp_selected.map(profile_name),
            hello_verify: self.hello_verify.is_some(),
            cookie_len: self.client_cookie_len,
            retransmissions: self.retransmissions,
            records: self.records.iter().sum(),
            encrypted_records: self.encrypted_records.iter().sum(),
            dtls13_records: self.dtls13_records,
            stun_datagrams: self.stun,
            rtp_datagrams: self.rtp,
            outcome,
            anomalies,
        }
    }
}

/// JA4 of a DTLS ClientHello: transport `d`, and the version field JA4 gives DTLS (`d1`, `d2`,
/// `d3`: the highest of supported_versions, numerically the lowest as DTLS counts down, else
/// legacy_version), which the TLS table does not hold; the rest is the TLS computation.
pub fn dtls_ja4(ch: &messages::ClientHello) -> String {
    let v = ch
        .supported_versions
        .iter()
        .copied()
        .filter(|&v| !crate::tls::names::is_grease(v.into()) && v >= 0xFE00)
        .min()
        .unwrap_or(ch.legacy_version);
    let code = match v {
        0xFEFF | 0x0100 => "d1",
        0xFEFD => "d2",
        0xFEFC => "d3",
        _ => "00",
    };
    let ja4 = fingerprint::ja4(ch, "d");
    // fingerprint::ja4 is "d" + 2-char version + the rest
    match ja4.get(3..) {
        Some(rest) => format!("d{code}{rest}"),
        None => ja4,
    }
}

/// What [`Associations::feed`] did with a datagram.
#[derive(Clone, Debug, PartialEq)]
pub struct Fed {
    /// The datagram belongs to a DTLS association (new or existing).
    pub accepted: bool,
    /// The association this key had before, ended by idle time or by a new ClientHello
    /// (message_seq 0) after its handshake was over; the datagram started a new one.
    pub ended: Option<DtlsFlow>,
}

/// Associations by key (the caller's UDP 5-tuple, ordered so that `Side::A` is its first
/// endpoint), ended by idle time or by a new handshake after one that is over; at most `max_associations` at once (the oldest is ended).
#[derive(Debug)]
pub struct Associations<K> {
    pub config: DtlsConfig,
    pub max_associations: usize,
    live: HashMap<K, DtlsAssociation>,
    /// Ended flows not yet taken (eviction), in order.
    evicted: Vec<DtlsFlow>,
}

impl<K: Hash + Eq + Clone> Associations<K> {
    pub fn new(config: DtlsConfig, max_associations: usize) -> Self {
        Associations { config, max_associations: max_associations.max(1), live: HashMap::new(), evicted: Vec::new() }
    }

    pub fn len(&self) -> usize {
        self.live.len()
    }

    pub fn is_empty(&self) -> bool {
        self.live.is_empty()
    }

    /// Feed a datagram of `key`. A key without an association starts one only if the datagram
    /// [`looks_like_dtls`](super::record::looks_like_dtls); else `accepted` is false (the
    /// caller counts it as UDP not TLS).
    pub fn feed(&mut self, key: &K, side: Side, datagram: &[u8], frame: u64, ts: f64) -> Fed {
        let mut ended = None;
        if let Some(a) = self.live.get(key) {
            if a.idle(ts) || (a.over() && record::starts_handshake(datagram)) {
                ended = self.live.remove(key).map(|a| a.flow());
            }
        }
        if !self.live.contains_key(key) {
            if !record::looks_like_dtls(datagram) {
                return Fed { accepted: false, ended };
            }
            if self.live.len() >= self.max_associations {
                let oldest = self.live.iter().min_by(|a, b| a.1.last_ts.total_cmp(&b.1.last_ts)).map(|(k, _)| k.clone());
                if let Some(k) = oldest {
                    if let Some(a) = self.live.remove(&k) {
                        self.evicted.push(a.flow());
                    }
                }
            }
            self.live.insert(key.clone(), DtlsAssociation::new(self.config.clone()));
        }
        if let Some(a) = self.live.get_mut(key) {
            a.feed(side, datagram, frame, ts);
        }
        Fed { accepted: true, ended }
    }

    /// End the associations idle at `ts` (and those evicted), in order of first frame.
    pub fn expire(&mut self, ts: f64) -> Vec<DtlsFlow> {
        let idle: Vec<K> = self.live.iter().filter(|(_, a)| a.idle(ts)).map(|(k, _)| k.clone()).collect();
        let mut out = std::mem::take(&mut self.evicted);
        out.extend(idle.iter().filter_map(|k| self.live.remove(k)).map(|a| a.flow()));
        out.sort_by_key(|f| f.first_frame);
        out
    }

    /// End every association (end of capture), in order of first frame.
    pub fn finish(&mut self) -> Vec<DtlsFlow> {
        let mut out = std::mem::take(&mut self.evicted);
        out.extend(self.live.drain().map(|(_, a)| a.flow()));
        out.sort_by_key(|f| f.first_frame);
        out
    }
}
