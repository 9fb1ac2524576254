//! One QUIC connection (one UDP 4-tuple, its connection ids): datagrams in, what a flow row
//! needs out.

use std::sync::Arc;

use super::crypto::{open_packet, retry_integrity_ok, PacketKeys};
use super::frames::{
    crypto_error_alert, parse_frames, parse_transport_parameters, transport_error_name, CryptoStream, Frame,
    TransportParameters,
};
use super::header::{legacy_gquic_version, split_datagram, version_kind, version_name, LongType, Packet, VersionKind};
use crate::tls::decrypt::{KeyLog, Label};
use crate::tls::fingerprint;
use crate::tls::messages::{parse_certificate, parse_client_hello, parse_server_hello, ClientHello, ServerHello};
use crate::tls::session::Side;
use crate::tls::summary::HandshakeSummary;

/// The `quic_transport_parameters` extension (RFC 9001 section 8.2) and its draft code point.
pub const EXT_TRANSPORT_PARAMETERS: u16 = 0x39;
pub const EXT_TRANSPORT_PARAMETERS_DRAFT: u16 = 0xffa5;

/// At most this many anomalies and events are kept per connection.
const MAX_ANOMALIES: usize = 64;
const MAX_EVENTS: usize = 64;
/// After the handshake, 1-RTT packets up to this size are still decrypted (to read a
/// CONNECTION_CLOSE); larger ones are only counted.
const SMALL_1RTT: usize = 256;
/// The largest Certificate message a zlib CompressedCertificate may inflate to.
const MAX_UNCOMPRESSED_CERTIFICATE: usize = 1 << 20;
/// Certificates kept from the server's Certificate message.
const MAX_CERTS: usize = 32;

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

    fn on_packet(&mut self, side: Side, p: Packet<'_>, frame: u64, ts: f64) {
        match p {
            Packet::Google { version } => {
                self.version.get_or_insert(version);
                if self.client.is_none() {
                    self.client = Some(side);
                }
            }
            Packet::UnknownVersion { version, dcid, scid } => {
                // e.g. a reserved version that asks for Version Negotiation
                self.version.get_or_insert(version);
                if self.client.is_none() {
                    self.client = Some(side);
                }
                if self.is_client(side) && self.client_scid.is_none() {
                    self.client_scid = Some(scid.to_vec());
                    self.original_dcid.get_or_insert_with(|| dcid.to_vec());
                }
            }
            Packet::VersionNegotiation { versions, .. } => {
                // its connection ids echo the client's: not the server's own
                if self.client.is_none() {
                    self.client = Some(other(side));
                }
                let names: Vec<String> = versions.iter().map(|&v| version_name(v)).collect();
                self.event(side, frame, ts, "version_negotiation", names.join(", "));
                self.version_negotiation = Some(versions);
            }
            Packet::Retry {
                version,
                scid,
                token,
                bytes,
                ..
            } => {
                if self.client.is_none() {
                    self.client = Some(other(side));
                }
                self.version.get_or_insert(version);
                // RFC 9000 section 17.2.5.2: a client takes one Retry, and none once it has
                // read a server Initial; a later one changes nothing (a copy or a spoof)
                if self.retry || self.largest_pn[1][Space::Initial as usize].is_some() {
                    self.anomaly("quic_late_retry", side, frame);
                    return;
                }
                self.retry = true;
                self.retry_token_len = token.len();
                // the tag authenticates the Retry for the DCID of the Initial it answers
                self.retry_integrity = match self.initial_dcid.as_deref() {
                    Some(odcid) => retry_integrity_ok(version, odcid, bytes),
                    None => None,
                };
                if self.retry_integrity == Some(false) {
                    self.anomaly("quic_retry_integrity_failed", side, frame);
                }
                // the client's next Initial packets use the Retry's SCID as DCID: new keys
                self.initial_dcid = Some(scid.to_vec());
                self.initial_keys = None;
                self.streams = Default::default();
                self.largest_pn = [[None; 3]; 2];
                // the client starts over with a new ClientHello (a new random): it replaces the
                // first one once seen
                self.client_hello_replaceable = true;
                self.server_hello = None;
                self.secret_keys = Default::default();
                self.secret_keys_tried = false;
                self.event(
                    side,
                    frame,
                    ts,
                    "retry",
                    format!("new connection id {}", hex::encode(scid)),
                );
            }
            Packet::Short { bytes } => {
                self.short_packets[idx(side)] += 1;
                // the Destination Connection ID is the receiver's source connection id
                let dcid_len = if self.is_client(side) {
                    self.server_scid.as_ref()
                } else {
                    self.client_scid.as_ref()
                }
                .map(Vec::len);
                if let (Some(n), Some(v)) = (dcid_len, self.server_version.or(self.version)) {
                    // after HANDSHAKE_DONE only small packets are opened (a CONNECTION_CLOSE is
                    // small; bulk data is not worth decrypting)
                    if self.keylog.is_some() && (!self.handshake_done || bytes.len() <= SMALL_1RTT) {
                        self.on_protected(side, Space::Application, v, 1 + n, bytes, frame, ts);
                    }
                }
            }
            Packet::Long {
                ptype,
                version,
                dcid,
                scid,
                pn_offset,
                bytes,
                ..
            } => {
                if self.version.is_none() {
                    self.version = Some(version);
                }
                if !self.is_client_packet(side, ptype) && self.server_version.is_none() {
                    self.server_version = Some(version);
                }
                if ptype == LongType::ZeroRtt {
                    self.zero_rtt_packets[idx(side)] += 1;
                }
                let client = self.is_client(side);
                if client {
                    if self.original_dcid.is_none() && ptype == LongType::Initial {
                        self.original_dcid = Some(dcid.to_vec());
                        self.initial_dcid = Some(dcid.to_vec());
                    }
                    if self.client_scid.is_none() {
                        self.client_scid = Some(scid.to_vec());
                    }
                } else if self.server_scid.is_none() || ptype == LongType::Initial && self.retry {
                    self.server_scid = Some(scid.to_vec());
                }
                match ptype {
                    LongType::Initial => {
                        self.initial_packets[idx(side)] += 1;
                        self.on_protected(side, Space::Initial, version, pn_offset, bytes, frame, ts);
                    }
                    LongType::Handshake => {
                        self.handshake_packets[idx(side)] += 1;
                        self.on_protected(side, Space::Handshake, version, pn_offset, bytes, frame, ts);
                    }
                    _ => {}
                }
            }
        }
    }

    fn keys_for(&mut self, side: Side, space: Space, version: u32) -> Option<&PacketKeys> {
        let role = self.role(side);
        match space {
            Space::Initial => {
                if self.initial_keys.as_ref().is_none_or(|k| k.0 != version) {
                    // first use, or compatible version negotiation (RFC 9368) switched version
                    let dcid = self.initial_dcid.clone()?;
                    let c = PacketKeys::initial(version, &dcid, true)?;
                    let s = PacketKeys::initial(version, &dcid, false)?;
                    self.initial_keys = Some((version, c, s));
                }
                let (_, c, s) = self.initial_keys.as_ref()?;
                Some(if role == 0 { c } else { s })
            }
            Space::Handshake | Space::Application => {
                if !self.secret_keys_tried {
                    self.derive_secret_keys(version);
                }
                self.secret_keys[role][space as usize - 1].as_ref()
            }
        }
    }

    /// A client Initial that the current keys do not open, tried with keys from its own DCID:
    /// the capture missed a Retry, or the client started over. On success those keys (and a
    /// new ClientHello) become the connection's.
    fn try_new_initial_dcid(&mut self, version: u32, pn_offset: usize, bytes: &[u8]) -> Option<super::crypto::Opened> {
        let dcid = bytes.get(6..6 + usize::from(*bytes.get(5)?))?;
        // once the server's Initial was read, another DCID is another connection (the engine
        // splits those with `is_new_connection`): this one is left as it is
        if Some(dcid) == self.initial_dcid.as_deref() || self.largest_pn[1][Space::Initial as usize].is_some() {
            return None;
        }
        let c = PacketKeys::initial(version, dcid, true)?;
        let opened = open_packet(&c, bytes, pn_offset, None)?;
        let s = PacketKeys::initial(version, dcid, false)?;
        self.initial_dcid = Some(dcid.to_vec());
        self.initial_keys = Some((version, c, s));
        self.streams = Default::default();
        self.largest_pn = [[None; 3]; 2];
        self.client_hello_replaceable = true;
        self.server_hello = None;
        self.secret_keys = Default::default();
        self.secret_keys_tried = false;
        Some(opened)
    }

    /// A 1-RTT packet the current keys do not open, tried with the next key generation; on
    /// success that generation becomes the current one (`key_updates` counts them).
    fn try_key_update(
        &mut self,
        role: usize,
        version: u32,
        pn_offset: usize,
        bytes: &[u8],
        largest: Option<u64>,
    ) -> Option<super::crypto::Opened> {
        let suite = self.server_hello.as_ref()?.cipher_suite;
        let current = self.secret_keys[role][1].as_ref()?;
        let secret = self.app_secrets[role].as_deref()?;
        let (next, next_secret) = current.updated(version, suite, secret)?;
        let opened = open_packet(&next, bytes, pn_offset, largest)?;
        self.secret_keys[role][1] = Some(next);
        self.app_secrets[role] = Some(next_secret);
        self.key_updates[role] += 1;
        Some(opened)
    }

    /// Handshake and 1-RTT keys from the key log, once both hellos are known.
    fn derive_secret_keys(&mut self, version: u32) {
        let (Some(log), Some(ch), Some(sh)) = (&self.keylog, &self.client_hello, &self.server_hello) else {
            return;
        };
        if sh.is_hello_retry_request {
            return;
        }
        self.secret_keys_tried = true;
        let Some(secrets) = log.get(&ch.random) else { return };
        let suite = sh.cipher_suite;
        let keys = |l: Label| secrets.get(l).and_then(|s| PacketKeys::from_secret(version, suite, s));
        self.secret_keys = [
            [
                keys(Label::ClientHandshakeTrafficSecret),
                keys(Label::ClientTrafficSecret0),
            ],
            [
                keys(Label::ServerHandshakeTrafficSecret),
                keys(Label::ServerTrafficSecret0),
            ],
        ];
        self.app_secrets = [
            secrets.get(Label::ClientTrafficSecret0).map(<[u8]>::to_vec),
            secrets.get(Label::ServerTrafficSecret0).map(<[u8]>::to_vec),
        ];
    }

    #[allow(clippy::too_many_arguments)]
    fn on_protected(
        &mut self,
        side: Side,
        space: Space,
        version: u32,
        pn_offset: usize,
        bytes: &[u8],
        frame: u64,
        ts: f64,
    ) {
        if version_kind(version) != VersionKind::Ietf || super::crypto::initial_salt(version).is_none() {
            self.anomaly("quic_undecryptable_version", side, frame);
            return;
        }
        let role = self.role(side);
        let largest = self.largest_pn[role][space as usize];
        let mut opened = self
            .keys_for(side, space, version)
            .and_then(|k| open_packet(k, bytes, pn_offset, largest));
        if opened.is_none() && space == Space::Application {
            opened = self.try_key_update(role, version, pn_offset, bytes, largest);
        }
        if opened.is_none() && space == Space::Initial && role == 0 {
            opened = self.try_new_initial_dcid(version, pn_offset, bytes);
            if opened.is_some() {
                self.anomaly("quic_new_initial_dcid", side, frame);
            }
        }
        let Some(opened) = opened else {
            self.undecrypted[idx(side)] += 1;
            if space == Space::Initial {
                self.anomaly("quic_initial_undecryptable", side, frame);
            }
            return;
        };
        match space {
            Space::Handshake => self.handshake_decrypted += 1,
            Space::Application => self.application_decrypted += 1,
            Space::Initial => self.initial_decrypted += 1,
        }
        let slot = &mut self.largest_pn[role][space as usize];
        *slot = Some(slot.map_or(opened.packet_number, |l| l.max(opened.packet_number)));
        let (frames, err) = parse_frames(&opened.payload);
        let mut crypto = false;
        for f in frames {
            match f {
                Frame::Crypto { offset, data } if space != Space::Application => {
                    let st = &mut self.streams[role][space as usize];
                    let was = st.capped;
                    st.insert(offset, data);
                    if st.capped && !was {
                        self.anomaly("quic_crypto_cap", side, frame);
                    }
                    crypto = true;
                }
                Frame::ConnectionClose {
                    application,
                    error_code,
                    frame_type: _,
                    reason,
                } => {
                    let reason = crate::tls::messages::text(&reason[..reason.len().min(256)]).0;
                    let error_name = if application {
                        format!("0x{error_code:x}")
                    } else {
                        transport_error_name(error_code)
                    };
                    let detail = format!("{error_name}{}{reason}", if reason.is_empty() { "" } else { ": " });
                    self.event(side, frame, ts, "connection_close", detail);
                    if self.closes.len() < 4 {
                        self.closes.push(Close {
                            side,
                            application,
                            error_code,
                            error_name,
                            alert: if application {
                                None
                            } else {
                                crypto_error_alert(error_code)
                            },
                            reason,
                            frame,
                            ts,
                        });
                    }
                }
                Frame::HandshakeDone => {
                    if !self.handshake_done {
                        self.event(side, frame, ts, "handshake_done", String::new());
                    }
                    self.handshake_done = true;
                }
                _ => {}
            }
        }
        if let Some(e) = err {
            self.anomaly(e.code(), side, frame);
        }
        if crypto {
            self.read_messages(side, role, space, frame);
        }
    }

    fn read_messages(&mut self, side: Side, role: usize, space: Space, frame: u64) {
        while let Some((mtype, body)) = self.streams[role][space as usize].next_message() {
            match (role, mtype) {
                (0, 1) if self.client_hello.is_none() || self.client_hello_replaceable => {
                    match parse_client_hello(&body) {
                        Ok(ch) => {
                            self.client_hello_replaceable = false;
                            let tp = ch
                                .extensions
                                .iter()
                                .find(|(t, _)| *t == EXT_TRANSPORT_PARAMETERS || *t == EXT_TRANSPORT_PARAMETERS_DRAFT)
                                .map(|(_, b)| parse_transport_parameters(b));
                            self.client_transport_parameters = tp;
                            self.client_hello = Some(ch);
                        }
                        Err(_) => self.anomaly("quic_bad_client_hello", side, frame),
                    }
                }
                // a HelloRetryRequest is followed by the real ServerHello (and a second
                // ClientHello with the same random; the first one stays the row's, as JA4 wants)
                (1, 2) if self.server_hello.as_ref().is_none_or(|s| s.is_hello_retry_request) => {
                    match parse_server_hello(&body) {
                        Ok(sh) => {
                            self.hello_retry_request |= sh.is_hello_retry_request;
                            self.server_hello = Some(sh);
                        }
                        Err(_) => self.anomaly("quic_bad_server_hello", side, frame),
                    }
                }
                (1, 8) if self.server_transport_parameters.is_none() => {
                    // EncryptedExtensions: a 2-byte-length extension block
                    let exts = encrypted_extensions(&body);
                    self.early_data_accepted = Some(exts.iter().any(|(t, _)| *t == 42));
                    let tp = exts
                        .iter()
                        .find(|(t, _)| *t == EXT_TRANSPORT_PARAMETERS || *t == EXT_TRANSPORT_PARAMETERS_DRAFT);
                    self.server_transport_parameters = tp.map(|(_, b)| parse_transport_parameters(b));
                    if let Some((_, b)) = exts.iter().find(|(t, _)| *t == 16) {
                        // ALPN: list length, then one protocol_name (length + bytes)
                        if b.len() > 3 {
                            let n = usize::from(b[2]).min(b.len() - 3);
                            self.server_alpn = Some(crate::tls::messages::text(&b[3..3 + n]).0);
                        }
                    }
                }
                (1, 25) if self.certificates.is_empty() => self.on_compressed_certificate(&body, side, frame),
                (1, 11) if self.certificates.is_empty() => match parse_certificate(&body, true, MAX_CERTS) {
                    Ok(c) => self.certificates = c.certs,
                    Err(_) => self.anomaly("quic_bad_certificate", side, frame),
                },
                _ => {}
            }
        }
    }

    /// RFC 8879 CompressedCertificate: zlib is inflated (bounded) and read as a Certificate;
    /// brotli and zstd are named (`certificate_compression`) with the anomaly
    /// `quic_certificate_compressed`.
    fn on_compressed_certificate(&mut self, body: &[u8], side: Side, frame: u64) {
        let u24 = |b: &[u8]| (usize::from(b[0]) << 16) | (usize::from(b[1]) << 8) | usize::from(b[2]);
        if body.len() < 8 {
            self.anomaly("quic_bad_certificate", side, frame);
            return;
        }
        let alg = u16::from_be_bytes([body[0], body[1]]);
        let (ulen, clen) = (u24(&body[2..5]), u24(&body[5..8]));
        self.certificate_compression = Some(match alg {
            1 => "zlib".to_owned(),
            2 => "brotli".to_owned(),
            3 => "zstd".to_owned(),
            _ => format!("0x{alg:04x}"),
        });
        if alg != 1 {
            self.anomaly("quic_certificate_compressed", side, frame);
            return;
        }
        let Some(data) = body.get(8..8 + clen) else {
            self.anomaly("quic_bad_certificate", side, frame);
            return;
        };
        let mut out = Vec::new();
        let limit = ulen.min(MAX_UNCOMPRESSED_CERTIFICATE) as u64 + 1;
        let inflated = std::io::Read::read_to_end(
            &mut std::io::Read::take(flate2::read::ZlibDecoder::new(data), limit),
            &mut out,
        );
        if inflated.is_err() || out.len() != ulen {
            self.anomaly("quic_bad_certificate", side, frame);
            return;
        }
        match parse_certificate(&out, true, MAX_CERTS) {
            Ok(c) => self.certificates = c.certs,
            Err(_) => self.anomaly("quic_bad_certificate", side, frame),
        }
    }

    /// What the flow row shows.
    pub fn summary(&self) -> QuicSummary {
        let ch = self.client_hello.as_ref();
        let sh = self.server_hello.as_ref();
        let client = self.client.unwrap_or(Side::A);
        let outcome = if self.closes.iter().any(|c| !c.application && c.error_code != 0) {
            "closed_with_error"
        } else if self.handshake_done || self.short_packets[idx(client)] > 0 {
            // a client sends 1-RTT packets only once it has read the server's Finished
            "handshake_complete"
        } else if self.version_negotiation.is_some() && sh.is_none() {
            "version_negotiation"
        } else if !self.closes.is_empty() {
            "closed"
        } else if self.packets[idx(other(client))] == 0 {
            "no_server_response"
        } else if sh.is_some() {
            "server_hello_seen"
        } else {
            "incomplete"
        };
        let version = self.server_version.or(self.version);
        let handshake = HandshakeSummary {
            ja3: ch.map(fingerprint::ja3),
            ja4: ch.map(|c| fingerprint::ja4(c, "q")),
            server_chain: self.certificates.clone(),
            ..HandshakeSummary::from_hellos(client, ch, sh)
        };
        QuicSummary {
            version,
            version_name: version.map(version_name),
            google_quic: version.is_some_and(|v| version_kind(v) == VersionKind::Google),
            zero_rtt: self.zero_rtt_packets[idx(client)] > 0,
            original_dcid: self.original_dcid.as_deref().map(hex::encode),
            client_scid: self.client_scid.as_deref().map(hex::encode),
            server_scid: self.server_scid.as_deref().map(hex::encode),
            handshake,
            server_alpn: self.server_alpn.clone(),
            retry: self.retry,
            hello_retry_request: self.hello_retry_request,
            resumed: sh.is_some_and(|s| s.extensions.iter().any(|(t, _)| *t == 41)),
            early_data_accepted: self.early_data_accepted,
            version_negotiation: self.version_negotiation.clone(),
            close: self.closes.first().cloned(),
            handshake_done: self.handshake_done,
            outcome,
        }
    }
}

/// The extensions of an EncryptedExtensions body (those that fit).
fn encrypted_extensions(body: &[u8]) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    if body.len() < 2 {
        return out;
    }
    let n = usize::from(u16::from_be_bytes([body[0], body[1]])).min(body.len() - 2);
    let exts = &body[2..2 + n];
    let mut pos = 0usize;
    while pos + 4 <= exts.len() {
        let t = u16::from_be_bytes([exts[pos], exts[pos + 1]]);
        let l = usize::from(u16::from_be_bytes([exts[pos + 2], exts[pos + 3]]));
        let Some(v) = exts.get(pos + 4..pos + 4 + l) else { break };
        out.push((t, v));
        pos += 4 + l;
    }
    out
}

/// The facts of a QUIC connection a flow row shows.
#[derive(Clone, Debug, PartialEq)]
pub struct QuicSummary {
    /// The negotiated version (the server's), else the client's.
    pub version: Option<u32>,
    /// "QUIC v1", "QUIC v2", "QUIC draft-29", "Google QUIC Q050".
    pub version_name: Option<String>,
    pub google_quic: bool,
    /// The client sent 0-RTT packets.
    pub zero_rtt: bool,
    pub original_dcid: Option<String>,
    pub client_scid: Option<String>,
    pub server_scid: Option<String>,
    /// The TLS handshake's facts: the hellos (`version` is the TLS version, "TLS 1.3"), JA3,
    /// JA4 with the `q` transport prefix, and the server's chain when Handshake packets could be
    /// decrypted (see [`QuicConnection::certificates`]); no CertificateRequest, alerts (a TLS
    /// alert is a CONNECTION_CLOSE: `close`) or history.
    pub handshake: HandshakeSummary,
    /// The server's ALPN (EncryptedExtensions: only with the key log).
    pub server_alpn: Option<String>,
    pub retry: bool,
    pub hello_retry_request: bool,
    /// The ServerHello accepted a pre-shared key: a resumed session (no certificates are sent).
    pub resumed: bool,
    /// With the key log: the server accepted 0-RTT data.
    pub early_data_accepted: Option<bool>,
    pub version_negotiation: Option<Vec<u32>>,
    pub close: Option<Close>,
    pub handshake_done: bool,
    /// In this order of precedence: `closed_with_error` (a transport CONNECTION_CLOSE with a
    /// non-zero code, e.g. a TLS alert), `handshake_complete` (HANDSHAKE_DONE seen, or the client
    /// sent 1-RTT packets), `version_negotiation`, `closed` (a clean or application close),
    /// `no_server_response`, `server_hello_seen`, `incomplete`.
    pub outcome: &'static str,
}
