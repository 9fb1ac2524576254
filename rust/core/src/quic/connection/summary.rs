//! What a flow row shows of a QUIC connection ([`QuicSummary`]).

use super::{idx, other, Close, QuicConnection};
use crate::quic::header::{version_kind, version_name, VersionKind};
use crate::tls::fingerprint;
use crate::tls::session::Side;
use crate::tls::summary::HandshakeSummary;

impl QuicConnection {
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
