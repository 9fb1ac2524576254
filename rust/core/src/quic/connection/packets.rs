//! Each packet of a datagram by its header (Google QUIC, unknown versions, Version
//! Negotiation, Retry, 1-RTT, Initial, Handshake), and a protected packet opened with its
//! space's keys and its frames read (CRYPTO, CONNECTION_CLOSE, HANDSHAKE_DONE).

use super::{idx, other, Close, QuicConnection, Space, SMALL_1RTT};
use crate::quic::crypto::{open_packet, retry_integrity_ok};
use crate::quic::frames::{crypto_error_alert, parse_frames, transport_error_name, Frame};
use crate::quic::header::{version_kind, version_name, LongType, Packet, VersionKind};
use crate::tls::session::Side;

impl QuicConnection {
    pub(super) fn on_packet(&mut self, side: Side, p: Packet<'_>, frame: u64, ts: f64) {
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
        if version_kind(version) != VersionKind::Ietf || crate::quic::crypto::initial_salt(version).is_none() {
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
}
