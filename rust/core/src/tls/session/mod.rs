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
//!
//! Its parts: `side` ([`Side`], [`SideMap`]), `seen` (what the session keeps: [`AlertSeen`],
//! [`MessageSeen`], [`SessionAnomaly`], history letters, message names, bounds), `handshake`
//! (the handshake messages, SSLv2 hellos), `keys` (decryption with a key log), `alerts`; here:
//! [`TLSSession`], its feeding and the questions the connection layer asks.

use std::sync::Arc;

use super::decrypt::{KeyLog, RecordDecryptor, Secrets, Tls12Decryptor};
use super::messages::{CertificateRequest, ClientHello, ServerHello, ServerKeyExchange};
use super::names::cipher_kx;
use super::records::{ApplicationData, Event};

mod alerts;
mod handshake;
mod keys;
mod seen;
mod side;
#[cfg(test)]
mod tests;

pub use alerts::null_cipher_mac_len;
pub use seen::{
    history_letter, is_tls13_version, message_name, AlertSeen, MessageSeen, SessionAnomaly, CERT_ALERTS,
    MAX_ANOMALIES, MAX_DECRYPTED_MESSAGE, MAX_ENCRYPTED_ORDER, MAX_MESSAGES, TLS13,
};
pub use side::{Side, SideMap};

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
