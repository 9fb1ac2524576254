//! TCP connections carrying TLS -> one `FlowRecord` each (port of `inspector/flows.py`).
//!
//! The records hold every column the Python engine fills except those derived from X.509
//! (subjects, issuers, `client_cert_kind`): Python fills those from the DER of the distinct
//! certificates (`engine::CertSeen`). `requested_ca_names` are formatted here
//! (`tls::messages::ca_name_to_str`, RFC 4514 as `cryptography` writes it): a CA name whose OID
//! makes `cryptography` panic is "undecodable" here instead of a crash.
//!
//! Its parts: here the records (`FlowRecord`, `EventRecord`) and the `Limits`; `connection`:
//! one TCP connection in flight (`Connection`: segments in, reassembled, TLS records and the
//! session fed); `row`: a judged connection -> its `FlowRecord` (`roles`, `build_flow`);
//! `outcome`: its outcome and the sentence that explains it.

use crate::ip::FragLimits;
use crate::tls::session::Side;

mod connection;
mod outcome;
mod row;
#[cfg(test)]
mod tests;

pub use connection::{CloseKind, ConnState, ConnWarning, Connection, ALERT_RECORD_MIN};
pub use outcome::{outcome, tls13_outcome};
pub use row::{build_flow, roles};

/// Ports decoded as TLS even when the capture starts mid-connection.
pub const DEFAULT_TLS_PORTS: [u16; 6] = [443, 2443, 3804, 5061, 6972, 8443];

/// Resource limits; hitting one is a warning on the flow, never a failure.
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    /// Handshakes in flight before the oldest is evicted.
    pub max_flows: usize,
    /// Largest handshake message accepted.
    pub max_handshake_bytes: usize,
    /// Out-of-order bytes kept above a hole, per direction.
    pub max_pending_bytes: usize,
    /// Certificates parsed per chain.
    pub max_certs: usize,
    /// Finished connections remembered (to skip their packets).
    pub max_tombstones: usize,
    /// IPv4 reassembly bounds (Python's `max_frag_datagrams`, `max_frag_bytes`, `frag_timeout`).
    pub frag: FragLimits,
    /// Handshake bytes buffered by all flows in flight (over it the flow holding the most is
    /// evicted: `evicted_memory_budget`).
    pub max_buffered_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_flows: 20_000,
            max_handshake_bytes: 1024 * 1024,
            max_pending_bytes: 256 * 1024,
            max_certs: 32,
            max_tombstones: 500_000,
            frag: FragLimits::default(),
            max_buffered_bytes: 512 * 1024 * 1024,
        }
    }
}

/// One TLS connection, as the `flows` row (the X.509-derived columns are filled by Python).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct FlowRecord {
    pub flow_id: u64,
    pub ts_start: f64,
    pub ts_end: f64,
    pub first_frame: u64,
    pub last_frame: u64,
    pub client_ip: String,
    pub client_port: u16,
    pub server_ip: String,
    pub server_port: u16,
    pub ip_version: u8,
    pub tls_version: Option<String>,
    pub client_max_version: Option<String>,
    pub cipher: Option<String>,
    /// u32: an SSLv2 cipher kind has three bytes.
    pub cipher_id: Option<u32>,
    pub sni: Option<String>,
    pub alpn: Option<String>,
    pub server_chain_sha256: Vec<String>,
    pub client_chain_sha256: Vec<String>,
    pub client_cert_requested: bool,
    /// The CertificateRequest's CA names, RFC 4514.
    pub requested_ca_names: Vec<String>,
    pub alerts: Vec<String>,
    pub outcome: String,
    pub outcome_detail: Option<String>,
    pub certs_visible: bool,
    pub decrypted: bool,
    pub resumed: bool,
    pub dh_bits: Option<u32>,
    pub kx_group: Option<String>,
    pub history: String,
    pub ja3: Option<String>,
    pub ja3s: Option<String>,
    pub ja4: Option<String>,
    pub starttls: Option<String>,
    pub packets: u64,
    /// Anomaly codes; Python appends `cert_parse_error` when a chain's DER does not decode.
    pub warnings: Vec<String>,
    /// "tcp", "udp" or "eap" (802.1X EAPOL; EAP inside RADIUS is "udp").
    pub transport: String,
    /// "TLS", "DTLS", "QUIC", "EAP-TLS", "PEAP", "EAP-TTLS", "EAP-FAST".
    pub protocol: String,
    /// The tunnels crossed, outermost first ("gre", "erspan2>vxlan"); `None` when none.
    pub encapsulation: Option<String>,
    /// QUIC rows: "QUIC v1", "QUIC v2", "QUIC draft-29", "Google QUIC Q050".
    pub quic_version: Option<String>,
    /// DTLS rows: the `use_srtp` profile the server selected (e.g. "SRTP_AES128_CM_HMAC_SHA1_80").
    pub srtp_profile: Option<String>,
}

/// An alert or a warning, as an `events` row.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct EventRecord {
    pub flow_id: Option<u64>,
    pub frame: Option<u64>,
    pub ts: Option<f64>,
    /// "alert" or "warning"
    pub kind: &'static str,
    /// "client"/"server" for alerts; the side a warning concerns, if any.
    pub sender: Option<&'static str>,
    pub code: String,
    pub detail: String,
}

#[inline]
fn other(side: Side) -> Side {
    match side {
        Side::A => Side::B,
        Side::B => Side::A,
    }
}
