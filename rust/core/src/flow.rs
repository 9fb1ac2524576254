//! TCP connections carrying TLS -> one `FlowRecord` each (port of `inspector/flows.py`).
//!
//! The records hold every column the Python engine fills except those derived from X.509
//! (subjects, issuers, `client_cert_kind`): Python fills those from the DER of the distinct
//! certificates (`engine::CertSeen`). `requested_ca_names` are the raw DER names of the
//! CertificateRequest; Python turns them into RFC 4514 strings.

/// Ports decoded as TLS even when the capture starts mid-connection.
pub const DEFAULT_TLS_PORTS: [u16; 6] = [443, 2443, 3804, 5061, 6972, 8443];

/// Resource limits; hitting one is a warning on the flow, never a failure.
#[derive(Clone, Debug, PartialEq, Eq)]
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
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_flows: 20_000,
            max_handshake_bytes: 1024 * 1024,
            max_pending_bytes: 256 * 1024,
            max_certs: 32,
            max_tombstones: 500_000,
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
    pub cipher_id: Option<u16>,
    pub sni: Option<String>,
    pub alpn: Option<String>,
    pub server_chain_sha256: Vec<String>,
    pub client_chain_sha256: Vec<String>,
    pub client_cert_requested: bool,
    /// DER-encoded distinguished names from the CertificateRequest, as sent.
    pub requested_ca_names: Vec<Vec<u8>>,
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
