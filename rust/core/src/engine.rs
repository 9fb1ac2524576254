//! The pipeline: packets -> TCP connections -> TLS flows, certificates and events
//! (port of `inspector/engine.py`).

use std::fmt;

use crate::flow::{EventRecord, FlowRecord};

/// A distinct certificate: its DER crosses to Python once, with the flows that sent it.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct CertSeen {
    pub der: Vec<u8>,
    /// SHA-256 of the DER, lower-case hex.
    pub sha256: String,
    pub flow_ids: Vec<u64>,
    /// "server"/"server_chain"/"client"/"client_chain", in the order first seen.
    pub roles: Vec<&'static str>,
}

/// Counters, kept in the order each was first incremented (as Python's `Counter`).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Stats {
    entries: Vec<(String, u64)>,
}

impl Stats {
    pub fn add(&mut self, key: &str, n: u64) {
        if let Some(e) = self.entries.iter_mut().find(|(k, _)| k == key) {
            e.1 += n;
        } else {
            self.entries.push((key.to_string(), n));
        }
    }

    pub fn get(&self, key: &str) -> u64 {
        self.entries.iter().find(|(k, _)| k == key).map_or(0, |e| e.1)
    }

    /// Sets a counter (kept in place when it exists).
    pub fn set(&mut self, key: &str, n: u64) {
        if let Some(e) = self.entries.iter_mut().find(|(k, _)| k == key) {
            e.1 = n;
        } else {
            self.entries.push((key.to_string(), n));
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, u64)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), *v))
    }
}

/// What one capture yielded: rows for the three tables plus counters.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Analysis {
    pub flows: Vec<FlowRecord>,
    /// Distinct certificates in the order first seen.
    pub certificates: Vec<CertSeen>,
    pub events: Vec<EventRecord>,
    pub stats: Stats,
    /// "code: detail" lines, as the Python engine's `capture_warnings`.
    pub capture_warnings: Vec<String>,
    pub first_ts: Option<f64>,
    pub last_ts: Option<f64>,
    pub frames: u64,
    /// "pcap", "pcapng" (with ".gz" when compressed), as the reader names it.
    pub format: String,
    pub bytes_read: u64,
}

/// The one error type of the engine: the capture cannot be read at all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EngineError {
    /// Not a capture, broken before the first packet, or an I/O error opening it. The message is
    /// the Python engine's `CaptureError` reason; `offset` the byte where reading stopped.
    Capture { reason: String, offset: Option<u64> },
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineError::Capture { reason, offset: Some(o) } => write!(f, "{reason} at byte {o}"),
            EngineError::Capture { reason, offset: None } => write!(f, "{reason}"),
        }
    }
}

impl std::error::Error for EngineError {}

/// Lower-case hex SHA-256 of `der`: the key linking flows to certificates.
pub fn sha256_hex(der: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(der))
}

/// A fixed analysis exercising every column kind (set, empty, missing), for the bindings' tests:
/// flow 1 failed with a client certificate `der`, flow 2 with every optional column missing.
pub fn sample_analysis(der: Vec<u8>) -> Analysis {
    let fp = sha256_hex(&der);
    let failed = FlowRecord {
        flow_id: 1,
        ts_start: 1_700_000_000.25,
        ts_end: 1_700_000_000.5,
        first_frame: 1,
        last_frame: 9,
        client_ip: "10.10.1.20".into(),
        client_port: 51002,
        server_ip: "2001:db8::5".into(),
        server_port: 5061,
        ip_version: 6,
        tls_version: Some("TLS 1.2".into()),
        client_max_version: Some("TLS 1.2".into()),
        cipher: Some("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384".into()),
        cipher_id: Some(0xc030),
        sni: Some("cucm1.example.lab".into()),
        alpn: None,
        server_chain_sha256: vec![],
        client_chain_sha256: vec![fp.clone()],
        client_cert_requested: true,
        requested_ca_names: vec![vec![0x30, 0x00]],
        alerts: vec!["server:fatal:unknown_ca".into()],
        outcome: "failed".into(),
        outcome_detail: Some("server sent fatal unknown_ca after the client's Certificate".into()),
        certs_visible: false,
        decrypted: false,
        resumed: false,
        dh_bits: Some(2048),
        kx_group: Some("secp256r1".into()),
        history: "CsiKr".into(),
        ja3: Some("0123456789abcdef0123456789abcdef".into()),
        ja3s: None,
        ja4: Some("t12d1312h2_8b80da21ef18_77989cba1f4a".into()),
        starttls: None,
        packets: 9,
        warnings: vec!["midstream".into()],
    };
    let bare = FlowRecord {
        flow_id: 2,
        ts_start: 1_700_000_001.0,
        ts_end: 1_700_000_001.0,
        first_frame: 10,
        last_frame: 10,
        client_ip: "192.0.2.1".into(),
        client_port: 40000,
        server_ip: "192.0.2.2".into(),
        server_port: 443,
        ip_version: 4,
        outcome: "incomplete".into(),
        outcome_detail: Some("the capture ends before the handshake does".into()),
        history: String::new(),
        packets: 1,
        ..FlowRecord::default()
    };
    let mut stats = Stats::default();
    stats.add("tcp_connections", 2);
    stats.add("frames", 10);
    Analysis {
        flows: vec![failed, bare],
        certificates: vec![CertSeen { der, sha256: fp, flow_ids: vec![1], roles: vec!["client"] }],
        events: vec![
            EventRecord {
                flow_id: Some(1),
                frame: Some(8),
                ts: Some(1_700_000_000.5),
                kind: "alert",
                sender: Some("server"),
                code: "unknown_ca".into(),
                detail: "fatal unknown_ca after the peer's Certificate".into(),
            },
            EventRecord {
                flow_id: None,
                frame: None,
                ts: None,
                kind: "warning",
                sender: None,
                code: "capture_truncated".into(),
                detail: "reading stopped: record cut short".into(),
            },
        ],
        stats,
        capture_warnings: vec!["capture_truncated: reading stopped: record cut short".into()],
        first_ts: Some(1_700_000_000.25),
        last_ts: Some(1_700_000_001.0),
        frames: 10,
        format: "pcapng".into(),
        bytes_read: 4096,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_keep_first_increment_order() {
        let mut s = Stats::default();
        s.add("tcp_connections", 1);
        s.add("not_tls", 1);
        s.add("tcp_connections", 2);
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![("tcp_connections", 3), ("not_tls", 1)]);
        assert_eq!(s.get("missing"), 0);
    }

    #[test]
    fn error_message_names_the_offset_as_python_does() {
        let e = EngineError::Capture { reason: "pcap file header cut short".into(), offset: Some(0) };
        assert_eq!(e.to_string(), "pcap file header cut short at byte 0");
    }
}
