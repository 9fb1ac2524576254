//! One TLS connection: record-level events from both directions -> what the handshake said.
//!
//! Port of `inspector/tls/session.py`; the two must give the same answers for the same events.
//!
//! [`TLSSession`] is sans-I/O. The connection layer feeds it the [`Event`]s of each direction's
//! [`RecordReader`](super::records::RecordReader) ([`Side::A`] is the TCP initiator, [`Side::B`]
//! the responder); the session parses the handshake messages ([`super::messages`]), follows the
//! handshake to its end, and keeps what a report needs: hellos, chains (DER), CertificateRequest,
//! key exchange, alerts with their sender and the peer message they answer, a Zeek-style history
//! string and anomalies. [`TLSSession::handshake_over`] tells the connection layer when it may
//! stop buffering. Which side is the TLS client is decided by who sent the ClientHello.
//!
//! With a key log ([`TLSSession::keylog`]) the TLS 1.3 handshake is decrypted (the readers must
//! keep application-data payloads: `RecordReader::keep_payload`), revealing Certificate,
//! CertificateRequest, Finished and alerts; in TLS 1.2 the alerts sent after ChangeCipherSpec are
//! decrypted (AEAD suites).
//!
//! Field and method names are Python's. Python's per-side dicts are [`SideMap`]s (insertion
//! ordered, like a dict); Python's `last_message["_speaker"]` is the field `speaker`. Porting
//! `inspector/flows.py` onto it:
//!
//! | Python | Rust |
//! |---|---|
//! | `TLSSession(keylog=k, max_certs=n)` | `TLSSession::new(Some(Arc<KeyLog>), n)` (one `Arc` shared by every connection) |
//! | `session.feed("a", events, ts)` | `session.feed(Side::A, events, ts)` (`Vec<Event>` from `RecordReader::feed`) |
//! | `bool(s.started)` | `!s.started.is_empty()` |
//! | `s.handshake_over`, `s.tls13_finished`, `s.is_tls13`, `s.version` | methods of the same names |
//! | `s.fatal_alert()`, `s.kx_name()` | the same, returning `Option<&AlertSeen>`, `Option<&'static str>` |
//! | `s.chains.get(side, [])` | `s.chains.get(side).map_or(&[][..], Vec::as_slice)` |
//! | `s.prelude.values()` | `s.prelude.values()` (same order) |
//! | `len(s.finished)`, `side in s.ccs`, `s.ccs[side]` | `s.finished.len()`, `s.ccs.contains_key(side)`, `s.ccs.get(side)` |
//! | `sum(s.appdata.values())` | `s.appdata.values().sum::<u64>()` |
//! | `"".join(s.history)` | `s.history` (a `String`) |
//! | `a.side` `"a"`/`"b"`, `a.level`, `a.description`, `a.after` | `Side`, `String`, `String`, `Option<String>` |
//! | `s.last_message.get(side)` | `s.last_message.get(side)` (`Option<&String>`) |
//! | `s.sslv2_server` `(cipher, hit)` | `Option<(u32, bool)>` |
//!
//! Readers must keep application-data payloads (`RecordReader::keep_payload = true`) when a key
//! log is given, as `Connection` does. Nothing here
//! panics on hostile input: a message that does not parse is a [`SessionAnomaly`]
//! `bad_<message>`, and every collection the peer can grow is bounded (anomalies 64, encrypted
//! order 16, one chain per side, decrypted handshake messages 1 MiB).

use std::sync::Arc;

use super::decrypt::{tls13_suite, KeyLog, Label, RecordDecryptor, Secrets, Tls12Decryptor};
use super::fingerprint;
use super::messages::{
    self, CertificateRequest, ClientHello, ParseError, ServerHello, ServerKeyExchange,
};
use super::names::{alert_name, cipher_kx, cipher_suite_name, is_grease};
use super::records::{AlertRecord, ApplicationData, Event, HandshakeMessage, SSLv2ClientHello, SSLv2ServerHello};

/// A direction of the TCP connection: `A` sent the first packet seen (or the SYN), `B` is its peer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Side {
    #[default]
    A,
    B,
}

impl Side {
    /// The other direction.
    pub fn peer(self) -> Side {
        match self {
            Side::A => Side::B,
            Side::B => Side::A,
        }
    }

    /// The Python engine's name: `"a"` or `"b"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::A => "a",
            Side::B => "b",
        }
    }
}

/// A per-side dict (`dict[str, T]` in Python): at most two entries, kept in insertion order
/// (Python iterates `session.prelude.values()` in that order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SideMap<T> {
    entries: Vec<(Side, T)>,
}

impl<T> Default for SideMap<T> {
    fn default() -> Self {
        SideMap { entries: Vec::new() }
    }
}

impl<T> SideMap<T> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn get(&self, side: Side) -> Option<&T> {
        self.entries.iter().find(|(s, _)| *s == side).map(|(_, v)| v)
    }

    pub fn get_mut(&mut self, side: Side) -> Option<&mut T> {
        self.entries.iter_mut().find(|(s, _)| *s == side).map(|(_, v)| v)
    }

    pub fn contains_key(&self, side: Side) -> bool {
        self.get(side).is_some()
    }

    /// `d[side] = value`: replaces in place (keeping the entry's position) or appends.
    pub fn insert(&mut self, side: Side, value: T) {
        match self.get_mut(side) {
            Some(v) => *v = value,
            None => self.entries.push((side, value)),
        }
    }

    /// `d.setdefault(side, value)`: the existing value, or `value` inserted.
    pub fn setdefault(&mut self, side: Side, value: T) -> &mut T {
        self.setdefault_with(side, || value)
    }

    /// `setdefault` with a lazily built default.
    pub fn setdefault_with(&mut self, side: Side, value: impl FnOnce() -> T) -> &mut T {
        let i = match self.entries.iter().position(|(s, _)| *s == side) {
            Some(i) => i,
            None => {
                self.entries.push((side, value()));
                self.entries.len() - 1
            }
        };
        &mut self.entries[i].1
    }

    /// `d.pop(side, None)`.
    pub fn remove(&mut self, side: Side) -> Option<T> {
        let i = self.entries.iter().position(|(s, _)| *s == side)?;
        Some(self.entries.remove(i).1)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// (side, value) in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (Side, &T)> {
        self.entries.iter().map(|(s, v)| (*s, v))
    }

    pub fn keys(&self) -> impl Iterator<Item = Side> + '_ {
        self.entries.iter().map(|(s, _)| *s)
    }

    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.entries.iter().map(|(_, v)| v)
    }
}

/// Zeek's ssl_history letters (scripts/base/protocols/ssl/main.zeek); client upper, server
/// lower; `z` for any other message type.
pub fn history_letter(msg_type: u8) -> char {
    match msg_type {
        0 => 'h',
        1 => 'c',
        2 => 's',
        3 => 'v',
        4 => 't',
        5 => 'e',
        6 => 'j',
        8 => 'o',
        11 => 'x',
        12 => 'k',
        13 => 'r',
        14 => 'n',
        15 => 'y',
        16 => 'g',
        20 => 'f',
        21 => 'w',
        22 => 'u',
        23 => 'a',
        24 => 'p',
        25 => 'z',
        254 => 'm',
        _ => 'z',
    }
}

/// The handshake message's name as reports show it (`"Certificate"`), else `"handshake type N"`.
pub fn message_name(msg_type: u8) -> String {
    let name = match msg_type {
        0 => "HelloRequest",
        1 => "ClientHello",
        2 => "ServerHello",
        3 => "HelloVerifyRequest",
        4 => "NewSessionTicket",
        5 => "EndOfEarlyData",
        6 => "HelloRetryRequest",
        8 => "EncryptedExtensions",
        11 => "Certificate",
        12 => "ServerKeyExchange",
        13 => "CertificateRequest",
        14 => "ServerHelloDone",
        15 => "CertificateVerify",
        16 => "ClientKeyExchange",
        20 => "Finished",
        21 => "CertificateURL",
        22 => "CertificateStatus",
        24 => "KeyUpdate",
        25 => "CompressedCertificate",
        _ => return format!("handshake type {msg_type}"),
    };
    name.to_owned()
}

/// Certificate-related alert descriptions: answered "after the Certificate" when the peer's
/// last flight carried one.
pub const CERT_ALERTS: [u8; 8] = [42, 43, 44, 45, 46, 48, 49, 116];
pub const TLS13: u16 = 0x0304;
/// Session anomalies kept at most.
pub const MAX_ANOMALIES: usize = 64;
/// TLS 1.3 encrypted records remembered for the size/order heuristics.
pub const MAX_ENCRYPTED_ORDER: usize = 16;
/// Largest decrypted handshake message accepted.
pub const MAX_DECRYPTED_MESSAGE: usize = 1 << 20;

/// TLS 1.3, its IETF drafts (0x7fxx) and Facebook's Fizz drafts (0xfbxx).
pub fn is_tls13_version(v: Option<u16>) -> bool {
    matches!(v, Some(v) if v == TLS13 || (v >> 8) == 0x7F || (v >> 8) == 0xFB)
}

/// An alert as the session saw it.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertSeen {
    pub frame: u64,
    pub ts: f64,
    /// The direction that sent it.
    pub side: Side,
    /// `"warning"`, `"fatal"`, `"encrypted"`, or `"unknown(n)"`.
    pub level: String,
    /// IANA name (`"unknown_ca"`), or `"encrypted_alert"`.
    pub description: String,
    pub code: Option<u8>,
    /// The peer's last handshake message before it, e.g. `"Certificate"`.
    pub after: Option<String>,
}

/// The most messages logged per connection: a ladder needs the handshake, not a renegotiation
/// storm (Python's `MAX_MESSAGES`).
pub const MAX_MESSAGES: usize = 64;

/// One arrow of the ladder diagram (Python's `MessageSeen`): a handshake message,
/// ChangeCipherSpec, alert, application data record, or a TCP event, in the order seen.
#[derive(Clone, Debug, PartialEq)]
pub struct MessageSeen {
    /// The direction that sent it.
    pub side: Side,
    /// `"handshake"`, `"encrypted_handshake"`, `"change_cipher_spec"`, `"alert"`,
    /// `"application_data"`, or `"tcp"` (logged by the connection: retransmission, RST, FIN).
    pub kind: &'static str,
    /// `"ClientHello"`, `"Finished"`, `"fatal unknown_ca"`, `"encrypted record (53 bytes)"`...
    pub name: String,
    pub frame: u64,
    pub ts: f64,
}

/// Something odd in the connection (record layer or session), with a stable snake_case code.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionAnomaly {
    pub frame: u64,
    pub ts: f64,
    pub side: Option<Side>,
    pub code: String,
    pub detail: String,
}

/// The state of one TLS connection. See the module documentation.
#[derive(Clone, Debug)]
pub struct TLSSession {
    /// Slimmed once fingerprinted (see `keep_hello`): no suites, extensions, groups, point
    /// formats, signature algorithms, key shares or compression methods; GREASE-free versions.
    pub client_hello: Option<ClientHello>,
    pub ja3: Option<String>,
    pub ja4: Option<String>,
    pub server_hello: Option<ServerHello>,
    /// The ServerHello chose TLS 1.3 (or a draft).
    pub tls13: bool,
    pub hello_retry: bool,
    pub client_side: Option<Side>,
    /// side -> DER list, as sent (the first Certificate message of each side).
    pub chains: SideMap<Vec<Vec<u8>>>,
    pub cert_request: Option<CertificateRequest>,
    pub server_kx: Option<ServerKeyExchange>,
    pub alerts: Vec<AlertSeen>,
    pub anomalies: Vec<SessionAnomaly>,
    /// A key log lookup found this connection's client random (Python's `KeyLog.hits`).
    pub keylog_hit: bool,
    /// The ladder's arrows, at most `MAX_MESSAGES`.
    pub messages: Vec<MessageSeen>,
    /// Zeek-style history, one ASCII letter per event.
    pub history: String,
    /// side -> frame of its ChangeCipherSpec.
    pub ccs: SideMap<u64>,
    /// side -> frame of its Finished (encrypted, or decrypted with the key log).
    pub finished: SideMap<u64>,
    /// TLS 1.3: (side, record length) of the application-data records after the ServerHello.
    pub encrypted_order: Vec<(Side, usize)>,
    /// side -> name of its last handshake message.
    pub last_message: SideMap<String>,
    /// The side that spoke last (Python's `last_message["_speaker"]`).
    pub speaker: Option<Side>,
    /// side -> whether its current flight carried a Certificate.
    pub flight_has_cert: SideMap<bool>,
    /// The sides where TLS started.
    pub started: SideMap<()>,
    /// side -> first bytes before TLS (to name a STARTTLS-style prelude).
    pub prelude: SideMap<Vec<u8>>,
    pub prelude_bytes: usize,
    pub sslv2_hello: bool,
    /// SSLv2 SERVER-HELLO: (first cipher kind, session id hit).
    pub sslv2_server: Option<(u32, bool)>,
    /// side -> records after the handshake started.
    pub appdata: SideMap<u64>,
    pub first_frame: Option<u64>,
    pub keylog: Option<Arc<KeyLog>>,
    pub max_certs: usize,
    pub decryptors: SideMap<RecordDecryptor>,
    pub decrypted_hs: SideMap<Vec<u8>>,
    /// At least one record was decrypted with the key log.
    pub decrypted: bool,
    pub tls12_decryptors: SideMap<Tls12Decryptor>,
    /// Server records after the client's Finished.
    pub server_after_client_finished: u64,
    /// The side that sent ChangeCipherSpec first.
    pub first_ccs: Option<Side>,
    secrets: Option<Secrets>,
}

impl Default for TLSSession {
    fn default() -> Self {
        TLSSession::new(None, 32)
    }
}

impl TLSSession {
    /// A session; `keylog` to decrypt, `max_certs` per Certificate message (Python's default 32).
    pub fn new(keylog: Option<Arc<KeyLog>>, max_certs: usize) -> Self {
        TLSSession {
            client_hello: None,
            ja3: None,
            ja4: None,
            server_hello: None,
            tls13: false,
            hello_retry: false,
            client_side: None,
            chains: SideMap::new(),
            cert_request: None,
            server_kx: None,
            alerts: Vec::new(),
            anomalies: Vec::new(),
            keylog_hit: false,
            messages: Vec::new(),
            history: String::new(),
            ccs: SideMap::new(),
            finished: SideMap::new(),
            encrypted_order: Vec::new(),
            last_message: SideMap::new(),
            speaker: None,
            flight_has_cert: SideMap::new(),
            started: SideMap::new(),
            prelude: SideMap::new(),
            prelude_bytes: 0,
            sslv2_hello: false,
            sslv2_server: None,
            appdata: SideMap::new(),
            first_frame: None,
            keylog,
            max_certs,
            decryptors: SideMap::new(),
            decrypted_hs: SideMap::new(),
            decrypted: false,
            tls12_decryptors: SideMap::new(),
            server_after_client_finished: 0,
            first_ccs: None,
            secrets: None,
        }
    }

    // ---- helpers -------------------------------------------------------------------------

    fn anomaly(&mut self, frame: u64, ts: f64, side: Option<Side>, code: impl Into<String>, detail: impl Into<String>) {
        if self.anomalies.len() < MAX_ANOMALIES {
            self.anomalies.push(SessionAnomaly { frame, ts, side, code: code.into(), detail: detail.into() });
        }
    }

    /// Log one arrow of the ladder (the connection logs its TCP events here too).
    pub fn log(&mut self, side: Side, kind: &'static str, name: impl Into<String>, frame: u64, ts: f64) {
        if self.messages.len() < MAX_MESSAGES {
            self.messages.push(MessageSeen { side, kind, name: name.into(), frame, ts });
        }
    }

    /// The client side, or `A` while unknown (Python's `client_side or "a"`).
    fn client_or_a(&self) -> Side {
        self.client_side.unwrap_or(Side::A)
    }

    fn side_is_client(&self, side: Side) -> bool {
        side == self.client_or_a()
    }

    fn push_letter(&mut self, letter: char, is_client: bool) {
        self.history.push(if is_client { letter.to_ascii_uppercase() } else { letter });
    }

    /// The version the ServerHello selected.
    pub fn version(&self) -> Option<u16> {
        self.server_hello.as_ref().map(|sh| sh.selected_version)
    }

    pub fn is_tls13(&self) -> bool {
        self.tls13
    }

    // ---- feeding -------------------------------------------------------------------------

    /// Feed the events of one direction (`RecordReader::feed`'s output), seen at `ts`.
    pub fn feed<I: IntoIterator<Item = Event>>(&mut self, side: Side, events: I, ts: f64) {
        for ev in events {
            self.feed_event(side, ev, ts);
        }
    }

    /// Feed one event of `side`.
    pub fn feed_event(&mut self, side: Side, ev: Event, ts: f64) {
        match ev {
            Event::HandshakeMessage(m) => self.message(side, m, ts),
            Event::ApplicationData(a) => self.appdata_record(side, a, ts),
            Event::ChangeCipherSpec(c) => {
                self.ccs.setdefault(side, c.frame);
                if self.first_ccs.is_none() {
                    self.first_ccs = Some(side);
                }
                if self.keylog.is_some() && !self.tls13 {
                    self.start_tls12_decryption(side);
                }
                let is_client = self.side_is_client(side);
                self.push_letter('i', is_client);
                self.log(side, "change_cipher_spec", "ChangeCipherSpec", c.frame, ts);
            }
            Event::EncryptedHandshake(e) => {
                if let Some(d) = self.tls12_decryptors.get_mut(side) {
                    d.skip();
                }
                if self.ccs.contains_key(side) && !self.finished.contains_key(side) {
                    self.finished.insert(side, e.frame);
                    let is_client = self.side_is_client(side);
                    self.push_letter('f', is_client);
                    self.log(side, "encrypted_handshake", "Finished", e.frame, ts);
                }
            }
            Event::AlertRecord(a) => self.alert(side, a, ts),
            Event::TLSStart(t) => {
                self.started.insert(side, ());
                if self.first_frame.is_none() {
                    self.first_frame = Some(t.frame);
                }
                if t.prelude_bytes != 0 {
                    self.prelude.insert(side, t.prelude_head);
                    self.prelude_bytes += t.prelude_bytes;
                }
            }
            Event::SSLv2ClientHello(h) => self.sslv2(side, h, ts),
            Event::SSLv2ServerHello(h) => self.sslv2_server_hello(side, h, ts),
            Event::Anomaly(a) => self.anomaly(a.frame, ts, Some(side), a.code, a.detail),
        }
    }

    fn appdata_record(&mut self, side: Side, ev: ApplicationData, ts: f64) {
        if self.server_hello.is_some() && self.tls13 && self.encrypted_order.len() < MAX_ENCRYPTED_ORDER {
            // TLS 1.3: each encrypted record of the handshake is an arrow (its size tells Finished
            // from an alert, see flow::tls13_outcome); decrypted ones appear as their messages
            if ev.record.is_empty() || !self.decryptors.contains_key(side) {
                self.log(side, "application_data", format!("encrypted record ({} bytes)", ev.length), ev.frame, ts);
            }
        } else if !self.appdata.contains_key(side) {
            self.log(side, "application_data", "ApplicationData", ev.frame, ts);
        }
        *self.appdata.setdefault(side, 0) += 1;
        if let Some(d) = self.tls12_decryptors.get_mut(side) {
            d.skip();
        }
        if !self.side_is_client(side) && self.finished.contains_key(self.client_or_a()) {
            self.server_after_client_finished += 1;
        }
        if self.server_hello.is_some() && self.is_tls13() && self.encrypted_order.len() < MAX_ENCRYPTED_ORDER {
            self.encrypted_order.push((side, ev.length));
        }
        if !ev.record.is_empty() && self.decryptors.contains_key(side) {
            self.decrypt(side, ev, ts);
        }
    }

    // ---- TLS 1.3 with a key log ------------------------------------------------------------

    fn start_decryption(&mut self) {
        let (Some(keylog), Some(ch), Some(sh)) = (&self.keylog, &self.client_hello, &self.server_hello) else {
            return;
        };
        let suite = sh.cipher_suite;
        if tls13_suite(suite).is_none() {
            return;
        }
        let found = keylog.get(&ch.random).cloned();
        self.keylog_hit |= found.is_some();
        let Some(secrets) = found.filter(|s| !s.is_empty()) else {
            return;
        };
        let c = self.client_or_a();
        for (side, label) in [(c, Label::ClientHandshakeTrafficSecret), (c.peer(), Label::ServerHandshakeTrafficSecret)] {
            if let Some(d) = secrets.get(label).and_then(|secret| RecordDecryptor::new(suite, secret)) {
                self.decryptors.insert(side, d);
            }
        }
        self.secrets = Some(secrets);
    }

    /// TLS 1.2 with the master secret (CLIENT_RANDOM line): this side's records after its
    /// ChangeCipherSpec can be decrypted (AEAD suites), to read encrypted alerts.
    fn start_tls12_decryption(&mut self, side: Side) {
        let (Some(ch), Some(sh)) = (&self.client_hello, &self.server_hello) else {
            return;
        };
        if self.tls12_decryptors.contains_key(side) {
            return;
        }
        let secrets = self.keylog.as_ref().and_then(|k| k.get(&ch.random));
        self.keylog_hit |= secrets.is_some();
        let name = cipher_suite_name(sh.cipher_suite).unwrap_or("");
        let Some(master) = secrets.and_then(|s| s.get(Label::ClientRandom)) else {
            return;
        };
        if name.is_empty() {
            return;
        }
        let client_side = self.side_is_client(side);
        // None: not an AEAD suite (CBC suites are not decrypted)
        if let Some(d) = Tls12Decryptor::new(name, master, &ch.random, &sh.random, client_side, sh.legacy_version) {
            self.tls12_decryptors.insert(side, d);
        }
    }

    fn decrypt(&mut self, side: Side, ev: ApplicationData, ts: f64) {
        let Some(d) = self.decryptors.get_mut(side) else {
            return;
        };
        let (header, body) = ev.record.split_at(ev.record.len().min(5));
        let Some((inner, content)) = d.decrypt(header, body) else {
            self.decryptors.remove(side);
            self.anomaly(ev.frame, ts, Some(side), "decryption_failed", "a record did not decrypt with the key log's secret");
            return;
        };
        self.decrypted = true;
        if inner == 21 {
            self.alert(side, AlertRecord { frame: ev.frame, payload: content, encrypted: false }, ts);
        } else if inner == 22 {
            self.decrypted_hs.setdefault_with(side, Vec::new).extend_from_slice(&content);
            loop {
                let buf = self.decrypted_hs.setdefault_with(side, Vec::new);
                if buf.len() < 4 {
                    break;
                }
                let mlen = (usize::from(buf[1]) << 16) | (usize::from(buf[2]) << 8) | usize::from(buf[3]);
                if mlen > MAX_DECRYPTED_MESSAGE {
                    self.anomaly(ev.frame, ts, Some(side), "handshake_too_large", "decrypted message too large");
                    self.decryptors.remove(side);
                    return;
                }
                if buf.len() < 4 + mlen {
                    break;
                }
                let msg_type = buf[0];
                let body = buf[4..4 + mlen].to_vec();
                buf.drain(..4 + mlen);
                let msg = HandshakeMessage { frame: ev.frame, msg_type, body, record_version: TLS13 };
                self.message(side, msg, ts);
                if msg_type == 20 {
                    self.switch_to_application_keys(side);
                    return;
                }
            }
        }
    }

    fn switch_to_application_keys(&mut self, side: Side) {
        let label = if self.side_is_client(side) { Label::ClientTrafficSecret0 } else { Label::ServerTrafficSecret0 };
        let secret = self.secrets.as_ref().and_then(|s| s.get(label));
        let d = match (secret, &self.server_hello) {
            (Some(secret), Some(sh)) => RecordDecryptor::new(sh.cipher_suite, secret),
            _ => None,
        };
        match d {
            Some(d) => self.decryptors.insert(side, d),
            None => {
                self.decryptors.remove(side);
            }
        }
    }

    // ---- SSLv2 ---------------------------------------------------------------------------

    fn sslv2(&mut self, side: Side, ev: SSLv2ClientHello, ts: f64) {
        self.sslv2_hello = true;
        match messages::parse_sslv2_client_hello(&ev.record) {
            Ok(ch) => self.keep_hello(ch, true),
            Err(e) => self.anomaly(ev.frame, ts, Some(side), "bad_client_hello", format!("SSLv2 ClientHello: {e}")),
        }
        if self.client_side.is_none() {
            self.client_side = Some(side);
        }
        self.history.push('C');
        self.last_message.insert(side, "ClientHello".to_owned());
        self.log(side, "handshake", "ClientHello (SSLv2)", ev.frame, ts);
    }

    /// Fingerprint the ClientHello now, then keep only what the flow row needs: a connection in
    /// flight holds a few hundred bytes of it instead of every extension's bytes.
    fn keep_hello(&mut self, mut ch: ClientHello, sslv2: bool) {
        if !sslv2 {
            let (ja3, ja4) = fingerprint::client_fingerprints(&ch);
            self.ja3 = Some(ja3);
            self.ja4 = Some(ja4);
        }
        ch.supported_versions.retain(|&v| !is_grease(v.into()));
        ch.cipher_suites = Vec::new();
        ch.extensions = Vec::new();
        ch.supported_groups = Vec::new();
        ch.ec_point_formats = Vec::new();
        ch.signature_algorithms = Vec::new();
        ch.key_share_groups = Vec::new();
        ch.compression_methods = Vec::new();
        self.client_hello = Some(ch);
    }

    /// SSLv2 SERVER-HELLO: the server's certificate and cipher kinds, then encryption.
    fn sslv2_server_hello(&mut self, side: Side, ev: SSLv2ServerHello, ts: f64) {
        let rec = &ev.record;
        self.history.push('s');
        self.last_message.insert(side, "ServerHello (SSLv2)".to_owned());
        self.log(side, "handshake", "ServerHello (SSLv2)", ev.frame, ts);
        // Python slices clamp: a short record reads short (possibly empty) length fields.
        let be = |from: usize, to: usize| -> usize {
            rec.get(from.min(rec.len())..to.min(rec.len())).unwrap_or(&[]).iter().fold(0, |a, &b| (a << 8) | usize::from(b))
        };
        let slice = |from: usize, len: usize| -> &[u8] {
            let start = from.min(rec.len());
            &rec[start..from.saturating_add(len).min(rec.len())]
        };
        let hdr = 2;
        let cert_len = be(hdr + 5, hdr + 7);
        let specs_len = be(hdr + 7, hdr + 9);
        let start = hdr + 11;
        let cert = slice(start, cert_len);
        let specs = slice(start + cert_len, specs_len);
        if cert.len() != cert_len || specs.len() != specs_len {
            let frame = ev.frame;
            self.anomaly(frame, ts, Some(side), "bad_server_hello", "SSLv2 ServerHello: lengths run past the record");
            return;
        }
        let cipher = if specs.len() >= 3 {
            (u32::from(specs[0]) << 16) | (u32::from(specs[1]) << 8) | u32::from(specs[2])
        } else {
            0
        };
        let hit = rec.get(hdr + 1).is_some_and(|&b| b != 0);
        if !cert.is_empty() {
            let cert = cert.to_vec();
            self.chains.setdefault_with(side, || vec![cert]);
        }
        self.sslv2_server = Some((cipher, hit));
    }

    // ---- handshake messages --------------------------------------------------------------

    fn message(&mut self, side: Side, ev: HandshakeMessage, ts: f64) {
        let mt = ev.msg_type;
        if mt == 1 && self.client_side.is_none() {
            self.client_side = Some(side);
        } else if mt == 2 && self.client_side.is_none() {
            self.client_side = Some(side.peer());
        }
        let is_client = self.side_is_client(side);
        self.push_letter(history_letter(mt), is_client);
        let name = message_name(mt);
        // A new flight starts when this side speaks after the peer.
        if self.speaker != Some(side) {
            self.flight_has_cert.insert(side, false);
            self.speaker = Some(side);
        }
        self.last_message.insert(side, name.clone());
        if let Err(e) = self.parse_message(side, &ev, ts) {
            let code = format!("bad_{}", snake(&name));
            self.anomaly(ev.frame, ts, Some(side), code, format!("{name} does not parse: {e}"));
        }
        let name = self.last_message.get(side).cloned().unwrap_or_default();
        self.log(side, "handshake", name, ev.frame, ts);
    }

    fn parse_message(&mut self, side: Side, ev: &HandshakeMessage, ts: f64) -> Result<(), ParseError> {
        let body = &ev.body[..];
        match ev.msg_type {
            1 => {
                let ch = messages::parse_client_hello(body)?;
                let warnings = ch.warnings.clone();
                if self.client_hello.is_none() || self.hello_retry {
                    self.keep_hello(ch, false);
                } else {
                    self.anomaly(ev.frame, ts, Some(side), "duplicate_client_hello", "a second ClientHello on the same connection");
                }
                for w in warnings {
                    self.anomaly(ev.frame, ts, Some(side), w, "in the ClientHello");
                }
            }
            2 => {
                let sh = messages::parse_server_hello(body)?;
                let warnings = sh.warnings.clone();
                if sh.is_hello_retry_request {
                    self.hello_retry = true;
                    self.history.pop();
                    self.history.push('j');
                    self.last_message.insert(side, "HelloRetryRequest".to_owned());
                } else {
                    self.tls13 = is_tls13_version(Some(sh.selected_version));
                    self.server_hello = Some(sh);
                    if self.tls13 {
                        self.start_decryption();
                    }
                }
                for w in warnings {
                    self.anomaly(ev.frame, ts, Some(side), w, "in the ServerHello");
                }
            }
            11 => {
                self.flight_has_cert.insert(side, true);
                let cert = messages::parse_certificate(body, self.is_tls13(), self.max_certs)?;
                let warnings = cert.warnings;
                if !self.chains.contains_key(side) {
                    self.chains.insert(side, cert.certs);
                }
                for w in warnings {
                    self.anomaly(ev.frame, ts, Some(side), w, "in the Certificate message");
                }
            }
            13 => {
                // Python: `self.version or ev.record_version`
                let version = self.version().filter(|&v| v != 0).unwrap_or(ev.record_version);
                let req = messages::parse_certificate_request(body, self.is_tls13(), version)?;
                let warnings = req.warnings.clone();
                self.cert_request = Some(req);
                for w in warnings {
                    self.anomaly(ev.frame, ts, Some(side), w, "in the CertificateRequest");
                }
            }
            20 => {
                self.finished.setdefault(side, ev.frame);
            }
            12 => {
                if let Some(sh) = &self.server_hello {
                    self.server_kx = Some(messages::parse_server_key_exchange(body, sh.cipher_suite, sh.selected_version)?);
                }
            }
            _ => {}
        }
        Ok(())
    }

    // ---- alerts --------------------------------------------------------------------------

    /// The MAC length of this side's records after its ChangeCipherSpec when the suite has a NULL
    /// cipher (TLS_RSA_WITH_NULL_SHA256...): they are plaintext followed by the MAC; else 0.
    fn null_cipher_mac(&self, side: Side) -> usize {
        match &self.server_hello {
            Some(sh) if self.ccs.contains_key(side) && !self.is_tls13() => {
                cipher_suite_name(sh.cipher_suite).map(null_cipher_mac_len).unwrap_or(0)
            }
            _ => 0,
        }
    }

    fn alert(&mut self, side: Side, mut ev: AlertRecord, ts: f64) {
        if !self.side_is_client(side) && self.finished.contains_key(self.client_or_a()) {
            self.server_after_client_finished += 1;
        }
        let peer = side.peer();
        let after = self.last_message.get(peer).cloned();
        let after_cert = match &after {
            Some(a) if !a.is_empty() && self.flight_has_cert.get(peer).copied().unwrap_or(false) => {
                Some("Certificate".to_owned())
            }
            _ => None,
        };
        let is_client = self.side_is_client(side);
        if ev.encrypted {
            if let Some(d) = self.tls12_decryptors.get_mut(side) {
                if let Some(plain) = d.decrypt(21, &ev.payload) {
                    self.decrypted = true;
                    ev = AlertRecord { frame: ev.frame, payload: plain, encrypted: false };
                }
            }
        }
        let mac = self.null_cipher_mac(side);
        if mac > 0 && ev.encrypted && ev.payload.len() > mac && (ev.payload.len() - mac) % 2 == 0 {
            // NULL cipher: the record is the plaintext alert, then the MAC
            let n = ev.payload.len() - mac;
            ev = AlertRecord { frame: ev.frame, payload: ev.payload[..n].to_vec(), encrypted: false };
        }
        let encrypted = ev.encrypted
            || (ev.payload.len() != 2 && (self.is_tls13() || !plausible_plaintext_alerts(&ev.payload)));
        if encrypted {
            self.alerts.push(AlertSeen {
                frame: ev.frame,
                ts,
                side,
                level: "encrypted".to_owned(),
                description: "encrypted_alert".to_owned(),
                code: None,
                after,
            });
            self.push_letter('q', is_client);
            self.log(side, "alert", "encrypted alert", ev.frame, ts);
            return;
        }
        let parsed = match messages::parse_alert(&ev.payload) {
            Ok(p) => p,
            Err(e) => {
                self.anomaly(ev.frame, ts, Some(side), "bad_alert", format!("alert record does not parse: {e}"));
                return;
            }
        };
        for a in parsed {
            let when = match &after_cert {
                Some(c) if CERT_ALERTS.contains(&a.description) => Some(c.clone()),
                _ => after.clone(),
            };
            let (level, description) = (a.level_name(), alert_name(a.description));
            self.log(side, "alert", format!("{level} {description}"), ev.frame, ts);
            self.alerts.push(AlertSeen {
                frame: ev.frame,
                ts,
                side,
                level,
                description,
                code: Some(a.description),
                after: when,
            });
            self.push_letter('l', is_client);
        }
    }

    // ---- questions the connection layer asks -----------------------------------------------

    /// Nothing more worth buffering: both sides are encrypted, or a fatal alert was sent.
    pub fn handshake_over(&self) -> bool {
        if self.alerts.iter().any(|a| a.level == "fatal") || self.sslv2_server.is_some() {
            return true;
        }
        if self.is_tls13() && self.tls13_finished() {
            return true;
        }
        let c = self.client_or_a();
        if self.null_cipher_mac(c) > 0 || self.null_cipher_mac(c.peer()) > 0 {
            return !self.alerts.is_empty(); // a NULL cipher: its alerts are plaintext, read until one comes
        }
        if self.is_tls13() && !self.decryptors.is_empty() {
            return false; // the key log will tell: wait for both Finished messages
        }
        if self.is_tls13() {
            // The client spoke encrypted (Finished, or an alert) and the server spoke after it.
            let c = self.client_or_a();
            let seq = &self.encrypted_order;
            let Some(first) = seq.iter().position(|(side, _)| *side == c) else {
                return false;
            };
            return seq[first].1 <= 24
                || seq[first + 1..].iter().any(|(side, _)| *side != c)
                || seq.len() >= MAX_ENCRYPTED_ORDER;
        }
        if self.finished.len() == 2 {
            // In an abbreviated handshake the client's Finished comes last: wait for the server's
            // next record (its verdict on it may be an encrypted alert).
            return self.first_ccs == Some(self.client_or_a()) || self.server_after_client_finished > 0;
        }
        self.ccs.len() == 2 && self.appdata.values().sum::<u64>() > 0
    }

    /// Both Finished seen (decrypted), and the server did not object to a client certificate:
    /// it validates that after the client's Finished, so wait for its next record.
    pub fn tls13_finished(&self) -> bool {
        if self.finished.len() < 2 {
            return false;
        }
        self.cert_request.is_none() || self.server_after_client_finished > 0
    }

    /// The first fatal alert.
    pub fn fatal_alert(&self) -> Option<&AlertSeen> {
        self.alerts.iter().find(|a| a.level == "fatal")
    }

    /// Key exchange of the chosen suite (`names::cipher_kx`).
    pub fn kx_name(&self) -> Option<&'static str> {
        self.server_hello.as_ref().map(|sh| cipher_kx(sh.cipher_suite.into()))
    }
}

/// Several plaintext alerts in one record: even length, every level warning(1) or fatal(2).
/// Anything else (a capture that started after ChangeCipherSpec) is an encrypted alert.
/// MAC length of a TLS 1.2-and-earlier suite with a NULL cipher (by its hash), else 0.
pub fn null_cipher_mac_len(suite_name: &str) -> usize {
    if !suite_name.contains("_WITH_NULL_") || suite_name.ends_with("_NULL_NULL") {
        return 0;
    }
    [("_SHA384", 48), ("_SHA256", 32), ("_SHA", 20), ("_MD5", 16)]
        .iter()
        .find(|(suffix, _)| suite_name.ends_with(suffix))
        .map_or(0, |&(_, n)| n)
}

fn plausible_plaintext_alerts(payload: &[u8]) -> bool {
    payload.len().is_multiple_of(2) && payload.iter().step_by(2).all(|&l| l == 1 || l == 2)
}

/// Python's `_snake`: `"CertificateRequest"` -> `"certificate_request"`, spaces -> `_`.
fn snake(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, ch) in name.chars().enumerate() {
        if ch.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.extend(ch.to_lowercase());
    }
    out.replace(' ', "_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_can_move_to_a_worker_thread() {
        fn send<T: Send + Sync>() {}
        send::<TLSSession>();
    }

    #[test]
    fn snake_names() {
        assert_eq!(snake("CertificateRequest"), "certificate_request");
        assert_eq!(snake("handshake type 7"), "handshake_type_7");
        assert_eq!(snake("ClientHello"), "client_hello");
    }

    #[test]
    fn side_map_keeps_dict_order() {
        let mut m = SideMap::new();
        m.insert(Side::B, 1);
        m.insert(Side::A, 2);
        m.insert(Side::B, 3);
        assert_eq!(m.iter().collect::<Vec<_>>(), vec![(Side::B, &3), (Side::A, &2)]);
        assert_eq!(*m.setdefault(Side::A, 9), 2);
        assert_eq!(m.remove(Side::B), Some(3));
        assert_eq!(m.len(), 1);
    }

    #[test]
    fn tls13_versions() {
        assert!(is_tls13_version(Some(0x0304)));
        assert!(is_tls13_version(Some(0x7f17)));
        assert!(is_tls13_version(Some(0xfb1a)));
        assert!(!is_tls13_version(Some(0x0303)));
        assert!(!is_tls13_version(None));
    }
}
