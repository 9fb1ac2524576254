// Fuzz target body: a whole TCP connection (flow/connection.rs `Connection`: reassembly, TLS
// detection, records, messages, tls/session with key-log decryption by a fixed key log) and its
// flow record. Each record (see frames.rs) is one segment: selector bit 0 = from B (else A), bits
// 1-3 = FIN, RST, a retransmission (same seq as the previous one), bits 4-7 = clock step; a
// SYN/SYN-ACK opens the connection first. Included by fuzz_targets/tls_session.rs and
// tests/tls_session_fuzz.rs.

include!("frames.rs");

use std::sync::Arc;

use tlsinspect_core::flow::{build_flow, Connection, Limits};
use tlsinspect_core::tcp::{TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN};
use tlsinspect_core::tls::decrypt::{parse_keylog, KeyLog};
use tlsinspect_core::tls::session::Side;

/// The secrets of the synthetic key-logged fixtures (TLS 1.2 tampered, TLS 1.3 rejected).
pub fn fixed_keylog() -> Arc<KeyLog> {
    let mut log = parse_keylog(include_bytes!("../../tests/data/session/synth_tls12_tampered.keylog"));
    log.merge(parse_keylog(include_bytes!("../../tests/data/session/synth_lsc13_rejected.keylog")));
    Arc::new(log)
}

const PORTS: [u16; 2] = [443, 8443];

/// Never panics; the flow record stays within its bounds. Returns the length of the history.
pub fn fuzz_tls_session(data: &[u8], keylog: Option<Arc<KeyLog>>) -> u64 {
    let limits = Limits { max_handshake_bytes: 1 << 16, max_pending_bytes: 1 << 14, max_certs: 8, ..Limits::default() };
    let (a, b) = ([10, 0, 0, 1], [10, 0, 0, 2]);
    let mut c = Connection::new(&a, &b, 50000, 443, 1, 0.0, &limits, keylog);
    let isn = [1000u32, 900_000u32];
    let mut next = [isn[0].wrapping_add(1), isn[1].wrapping_add(1)];
    let mut last = [next[0], next[1]];
    c.packet(Side::A, isn[0], TCP_SYN, &[], 1, 0.0, &PORTS, 0);
    c.packet(Side::B, isn[1], TCP_SYN | TCP_ACK, &[], 2, 0.0, &PORTS, isn[0].wrapping_add(1));
    let (mut frame, mut ts, mut given) = (2u64, 0.0f64, 0usize);
    for (sel, payload) in frames(data) {
        let i = usize::from(sel & 1);
        let side = if i == 0 { Side::A } else { Side::B };
        let mut flags = TCP_ACK;
        if sel & 2 != 0 {
            flags |= TCP_FIN;
        }
        if sel & 4 != 0 {
            flags |= TCP_RST;
        }
        let seq = if sel & 8 != 0 { last[i] } else { next[i] };
        last[i] = seq;
        next[i] = next[i].max(seq.wrapping_add(payload.len() as u32));
        frame += 1;
        ts += f64::from(sel >> 4) * 0.25;
        given += payload.len();
        c.packet(side, seq, flags, payload, frame, ts, &PORTS, 0);
        assert!(c.buffered() <= 4 * limits.max_handshake_bytes + 2 * limits.max_pending_bytes + 64 * 1024,
                "buffered {}", c.buffered());
    }
    let _ = (c.partial_hello(), c.is_tls(), c.judged());
    c.finish();
    let f = build_flow(&c, 1, &PORTS);
    assert_eq!(f.packets, frame);
    assert!(f.server_chain_sha256.len() <= limits.max_certs && f.client_chain_sha256.len() <= limits.max_certs);
    assert!(f.alerts.len() * 2 <= given + 1);
    assert!(f.history.len() <= given + frame as usize * 2);
    assert!(!f.outcome.is_empty());
    f.history.len() as u64
}
