//! A fixed [`Analysis`] for the bindings' tests (`rust/py`): every column kind set, empty and
//! missing, without a capture.

use super::{sha256_hex, Analysis, CertSeen, MessageRecord, Stats};
use crate::flow::{EventRecord, FlowRecord};

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
        requested_ca_names: vec!["CN=CAPF-0badc0de,OU=TAC,O=Cisco".into()],
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
        transport: "tcp".into(),
        protocol: "TLS".into(),
        ..FlowRecord::default()
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
        transport: "tcp".into(),
        protocol: "TLS".into(),
        ..FlowRecord::default()
    };
    let mut stats = Stats::default();
    stats.add("tcp_connections", 2);
    stats.add("frames", 10);
    Analysis {
        flows: vec![failed, bare],
        certificates: vec![CertSeen { der, sha256: fp, flow_ids: vec![1], roles: vec!["client"] }],
        messages: vec![
            MessageRecord { flow_id: 1, frame: 1, ts: 1_700_000_000.25, sender: "client", kind: "handshake",
                            name: "ClientHello".into() },
            MessageRecord { flow_id: 1, frame: 8, ts: 1_700_000_000.5, sender: "server", kind: "alert",
                            name: "fatal unknown_ca".into() },
        ],
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
