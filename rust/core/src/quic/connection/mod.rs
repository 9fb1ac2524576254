//! One QUIC connection (one UDP 4-tuple, its connection ids): datagrams in, what a flow row
//! needs out.
//!
//! Its parts: `packets` (each packet by its header: Retry, Version Negotiation, Initial,
//! Handshake, 1-RTT; a protected one opened and its frames read), `keys` (Initial keys from the
//! DCID, Handshake and 1-RTT keys from the key log, key updates), `messages` (the TLS messages
//! of the CRYPTO streams), `summary` ([`QuicSummary`], what a flow row needs); here:
//! [`QuicConnection`], its state and what a datagram does to it.

use std::sync::Arc;

use super::crypto::PacketKeys;
use super::frames::{CryptoStream, TransportParameters};
use super::header::{legacy_gquic_version, split_datagram, version_kind, LongType, Packet, VersionKind};
use crate::tls::decrypt::KeyLog;
use crate::tls::messages::{ClientHello, ServerHello};
use crate::tls::session::Side;

mod keys;
mod messages;
mod packets;
mod summary;

pub use summary::QuicSummary;

/// The `quic_transport_parameters` extension (RFC 9001 section 8.2) and its draft code point.
pub const EXT_TRANSPORT_PARAMETERS: u16 = 0x39;
pub const EXT_TRANSPORT_PARAMETERS_DRAFT: u16 = 0xffa5;

/// At most this many anomalies and events are kept per connection.
const MAX_ANOMALIES: usize = 64;
const MAX_EVENTS: usize = 64;
/// After the handshake, 1-RTT packets up to this size are still decrypted (to read a
/// CONNECTION_CLOSE); larger ones are only counted.
const SMALL_1RTT: usize = 256;

/// Something odd about the connection, with where it was seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuicAnomaly {
    /// Stable snake_case code: `quic_crypto_cap`, `quic_initial_undecryptable`,
    /// `quic_new_initial_dcid` (Initial keys from a later DCID: a Retry not captured),
    /// `quic_retry_integrity_failed`, `quic_late_retry` (a second Retry, or one after the
    /// server's Initial: ignored), `quic_certificate_compressed` (brotli or zstd: not read),
    /// `quic_truncated_header`, `quic_length_overrun`, `quic_frame_truncated`,
    /// `quic_unknown_frame`, `quic_bad_client_hello`, `quic_bad_server_hello`,
    /// `quic_bad_certificate`, `quic_undecryptable_version`, `quic_cid_too_long`,
    /// `quic_fixed_bit_clear`.
    pub code: &'static str,
    pub side: Side,
    pub frame: u64,
}

/// A CONNECTION_CLOSE seen.
#[derive(Clone, Debug, PartialEq)]
pub struct Close {
    pub side: Side,
    /// Application close (0x1d) rather than a transport one (0x1c).
    pub application: bool,
    pub error_code: u64,
    /// `crypto_error(handshake_failure)`, `no_error`, ...; application codes as hex.
    pub error_name: String,
    /// The TLS alert for a CRYPTO_ERROR (0x100 + alert).
    pub alert: Option<u8>,
    pub reason: String,
    pub frame: u64,
    pub ts: f64,
}

/// What happened at a point of the connection, for the events table.
#[derive(Clone, Debug, PartialEq)]
pub struct QuicEvent {
    pub side: Side,
    pub frame: u64,
    pub ts: f64,
    /// `retry`, `version_negotiation`, `connection_close`, `handshake_done`.
    pub kind: &'static str,
    pub detail: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Space {
    Initial = 0,
    Handshake = 1,
    /// 1-RTT (short header), only with the key log's `*_TRAFFIC_SECRET_0`.
    Application = 2,
}

/// The state of one QUIC connection. Feed every datagram of the 4-tuple, each with the side
/// that sent it ([`Side::A`]: the first sender), its frame number and time.
#[derive(Clone, Debug)]
pub struct QuicConnection {
    keylog: Option<Arc<KeyLog>>,
    /// The version of the first long header packet.
    pub version: Option<u32>,
    /// The version of the server's first Initial or Handshake packet: the negotiated one (it
    /// differs from `version` after compatible version negotiation, RFC 9368).
    pub server_version: Option<u32>,
    /// Which side is the client (who sent the first Initial; the other one if a Retry or Version
    /// Negotiation came first).
    pub client: Option<Side>,
    /// The client's first Destination Connection ID (the Initial keys' input).
    pub original_dcid: Option<Vec<u8>>,
    /// The Destination Connection ID the client's current Initial packets use (changes after a
    /// Retry).
    initial_dcid: Option<Vec<u8>>,
    pub client_scid: Option<Vec<u8>>,
    pub server_scid: Option<Vec<u8>>,
    /// (version, client keys, server keys).
    initial_keys: Option<(u32, PacketKeys, PacketKeys)>,
    /// [client, server] x [Handshake, 1-RTT].
    secret_keys: [[Option<PacketKeys>; 2]; 2],
    secret_keys_tried: bool,
    /// [client, server]: the current 1-RTT secret (for key updates).
    app_secrets: [Option<Vec<u8>>; 2],
    /// After a Retry: the next ClientHello replaces the one before.
    client_hello_replaceable: bool,
    /// [client, server] x [Initial, Handshake].
    streams: [[CryptoStream; 2]; 2],
    /// [client, server] x [Initial, Handshake, 1-RTT].
    largest_pn: [[Option<u64>; 3]; 2],
    pub client_hello: Option<ClientHello>,
    pub server_hello: Option<ServerHello>,
    pub client_transport_parameters: Option<TransportParameters>,
    pub server_transport_parameters: Option<TransportParameters>,
    /// With the key log: whether EncryptedExtensions accepted the client's 0-RTT data.
    pub early_data_accepted: Option<bool>,
    /// The server's certificate compression (RFC 8879): "zlib", "brotli", "zstd".
    pub certificate_compression: Option<String>,
    /// The ALPN the server chose (EncryptedExtensions, so only with the key log).
    pub server_alpn: Option<String>,
    /// The server's certificates (DER), in order, when Handshake packets could be decrypted.
    pub certificates: Vec<Vec<u8>>,
    pub retry: bool,
    /// The server sent a HelloRetryRequest (in its Initial packets).
    pub hello_retry_request: bool,
    pub retry_token_len: usize,
    /// The last Retry's integrity tag checked against the client's DCID (`None`: not checkable,
    /// e.g. the client's Initial was not captured).
    pub retry_integrity: Option<bool>,
    /// The versions a Version Negotiation packet offered (`Some` once one is seen).
    pub version_negotiation: Option<Vec<u32>>,
    pub closes: Vec<Close>,
    pub handshake_done: bool,
    /// Packets seen per side ([A, B]) and kind.
    pub packets: [u64; 2],
    pub initial_packets: [u64; 2],
    pub handshake_packets: [u64; 2],
    pub short_packets: [u64; 2],
    pub zero_rtt_packets: [u64; 2],
    /// Packets that could not be decrypted (per side).
    pub undecrypted: [u64; 2],
    /// Initial packets that authenticated.
    pub initial_decrypted: u64,
    /// Handshake packets decrypted with key-log secrets.
    pub handshake_decrypted: u64,
    /// 1-RTT packets decrypted with key-log secrets.
    pub application_decrypted: u64,
    /// Key updates followed, per role ([client, server]).
    pub key_updates: [u64; 2],
    pub anomalies: Vec<QuicAnomaly>,
    pub events: Vec<QuicEvent>,
    /// The first and last timestamps seen.
    pub first_ts: Option<f64>,
    pub last_ts: Option<f64>,
}

fn idx(side: Side) -> usize {
    match side {
        Side::A => 0,
        Side::B => 1,
    }
}

fn other(side: Side) -> Side {
    match side {
        Side::A => Side::B,
        Side::B => Side::A,
    }
}

impl QuicConnection {
    /// A new connection; `keylog` (shared by every connection) decrypts Handshake packets when it
    /// holds this connection's `CLIENT_HANDSHAKE_TRAFFIC_SECRET`/`SERVER_HANDSHAKE_TRAFFIC_SECRET`.
    pub fn new(keylog: Option<Arc<KeyLog>>) -> Self {
        QuicConnection {
            keylog,
            version: None,
            server_version: None,
            client: None,
            original_dcid: None,
            initial_dcid: None,
            client_scid: None,
            server_scid: None,
            initial_keys: None,
            secret_keys: Default::default(),
            secret_keys_tried: false,
            app_secrets: [None, None],
            client_hello_replaceable: false,
            streams: Default::default(),
            largest_pn: [[None; 3]; 2],
            client_hello: None,
            server_hello: None,
            client_transport_parameters: None,
            server_transport_parameters: None,
            server_alpn: None,
            certificate_compression: None,
            early_data_accepted: None,
            certificates: Vec::new(),
            retry: false,
            hello_retry_request: false,
            retry_token_len: 0,
            retry_integrity: None,
            version_negotiation: None,
            closes: Vec::new(),
            handshake_done: false,
            packets: [0; 2],
            initial_packets: [0; 2],
            handshake_packets: [0; 2],
            short_packets: [0; 2],
            zero_rtt_packets: [0; 2],
            undecrypted: [0; 2],
            initial_decrypted: 0,
            handshake_decrypted: 0,
            application_decrypted: 0,
            key_updates: [0; 2],
            anomalies: Vec::new(),
            events: Vec::new(),
            first_ts: None,
            last_ts: None,
        }
    }

    fn anomaly(&mut self, code: &'static str, side: Side, frame: u64) {
        if self.anomalies.len() < MAX_ANOMALIES && !self.anomalies.iter().any(|a| a.code == code && a.side == side) {
            self.anomalies.push(QuicAnomaly { code, side, frame });
        }
    }

    fn event(&mut self, side: Side, frame: u64, ts: f64, kind: &'static str, detail: String) {
        if self.events.len() < MAX_EVENTS {
            self.events.push(QuicEvent {
                side,
                frame,
                ts,
                kind,
                detail,
            });
        }
    }

    /// Is `side` the client? (A until told otherwise.)
    fn is_client(&self, side: Side) -> bool {
        self.client.unwrap_or(Side::A) == side
    }

    /// Whether a long packet of type `ptype` from `side` is the client's (deciding the client
    /// when nothing did yet).
    fn is_client_packet(&mut self, side: Side, ptype: LongType) -> bool {
        if self.client.is_none() {
            let client = match ptype {
                LongType::Initial | LongType::ZeroRtt => side,
                _ => Side::A,
            };
            self.client = Some(client);
        }
        self.is_client(side)
    }

    /// Row index of a side: 0 client, 1 server.
    fn role(&self, side: Side) -> usize {
        usize::from(!self.is_client(side))
    }

    /// Whether this is QUIC beyond doubt: an Initial packet authenticated, or a Google QUIC
    /// version was seen. [`super::looks_like_quic`] is a cheap filter (a few RTP or other UDP
    /// payloads can pass it); a flow is reported as QUIC once this is true.
    pub fn confirmed(&self) -> bool {
        self.initial_decrypted > 0 || self.version.is_some_and(|v| version_kind(v) == VersionKind::Google)
    }

    /// Whether `data` from `side` starts another connection on the same 4-tuple (port reuse):
    /// a client Initial whose connection ids are neither of this connection's, once this one
    /// has a ClientHello. The caller then ends this connection and feeds a new one.
    pub fn is_new_connection(&self, side: Side, data: &[u8]) -> bool {
        if self.client_hello.is_none() || !self.is_client(side) {
            return false;
        }
        let (pkts, _) = split_datagram(data);
        let Some(Packet::Long {
            ptype: LongType::Initial,
            dcid,
            scid,
            ..
        }) = pkts.first()
        else {
            return false;
        };
        let known = |cid: &[u8], mine: &Option<Vec<u8>>| mine.as_deref() == Some(cid);
        !(known(dcid, &self.original_dcid)
            || known(dcid, &self.initial_dcid)
            || known(dcid, &self.server_scid)
            || known(scid, &self.client_scid))
    }

    /// Feed one UDP payload.
    pub fn on_datagram(&mut self, side: Side, data: &[u8], frame: u64, ts: f64) {
        self.first_ts.get_or_insert(ts);
        self.last_ts = Some(ts);
        // fast path for bulk 1-RTT datagrams that would not be opened: count them
        if data.first().is_some_and(|&b| b & 0x80 == 0)
            && legacy_gquic_version(data).is_none()
            && (self.keylog.is_none() || self.handshake_done && data.len() > SMALL_1RTT)
        {
            self.packets[idx(side)] += 1;
            self.short_packets[idx(side)] += 1;
            return;
        }
        let (packets, err) = split_datagram(data);
        for p in packets {
            self.packets[idx(side)] += 1;
            self.on_packet(side, p, frame, ts);
        }
        if let Some(e) = err {
            self.anomaly(e.code(), side, frame);
        }
    }
}
