// Fuzz target bodies: the whole engine (`Analyzer` over frames, as a capture feeds it), and the
// UDP demux (udp/: QUIC, DTLS, RADIUS, EAPOL and other datagrams by port and content).
// Included by fuzz_targets/engine.rs, fuzz_targets/udp.rs and tests/engine_fuzz.rs.

include!("frames.rs");

use std::sync::Arc;

use tlsinspect_core::engine::{Analysis, Analyzer};
use tlsinspect_core::flow::Limits;
use tlsinspect_core::link::FragLimits;
use tlsinspect_core::tls::decrypt::KeyLog;

const LINKTYPES: [u32; 8] = [1, 1, 1, 0, 101, 113, 276, 228];

fn analyzer(keylog: Option<Arc<KeyLog>>) -> Analyzer {
    let limits = Limits {
        max_flows: 16,
        max_handshake_bytes: 1 << 15,
        max_pending_bytes: 1 << 14,
        max_certs: 8,
        max_tombstones: 64,
        frag: FragLimits { max_datagrams: 8, max_bytes: 65_535, timeout: 2.0 },
        max_buffered_bytes: 1 << 16,
    };
    Analyzer::new(&[443, 8443, 636], limits, keylog)
}

/// What every analysis must hold: one row per flow with ids 1..=n, frames and events that
/// point inside the capture, distinct certificates.
fn check(a: &Analysis, frames: u64) {
    assert_eq!(a.frames, frames);
    assert!(a.flows.len() as u64 <= frames.max(1) * 2, "{} flows of {frames} frames", a.flows.len());
    let mut ids: Vec<u64> = a.flows.iter().map(|f| f.flow_id).collect();
    ids.sort_unstable();
    assert!(ids.iter().enumerate().all(|(i, &id)| id == i as u64 + 1), "flow ids {ids:?}");
    for f in &a.flows {
        assert!(f.first_frame >= 1 && f.first_frame <= f.last_frame && f.last_frame <= frames,
                "flow {} frames {}..{} of {frames}", f.flow_id, f.first_frame, f.last_frame);
        assert!(f.ts_start <= f.ts_end && !f.outcome.is_empty());
        assert!(f.server_chain_sha256.len() <= 8 && f.client_chain_sha256.len() <= 8);
    }
    for e in &a.events {
        if let Some(id) = e.flow_id {
            assert!(id >= 1 && id <= a.flows.len() as u64, "event of flow {id}");
        }
        if let Some(fr) = e.frame {
            assert!(fr <= frames, "event at frame {fr} of {frames}");
        }
        assert!(!e.code.is_empty());
    }
    let mut shas: Vec<&str> = a.certificates.iter().map(|c| c.sha256.as_str()).collect();
    shas.sort_unstable();
    shas.dedup();
    assert_eq!(shas.len(), a.certificates.len());
}

/// Frames through the engine: selector bits 0-2 pick the link type, bit 3 marks the frame cut
/// by the snaplen (its original length 100 bytes more), bits 4-7 step the clock. Never panics;
/// see `check`. Returns the flows.
pub fn fuzz_engine(data: &[u8], keylog: Option<Arc<KeyLog>>) -> u64 {
    let mut an = analyzer(keylog);
    let (mut n, mut ts) = (0u64, 0.0f64);
    for (sel, f) in frames(data) {
        n += 1;
        ts += f64::from(sel >> 4) * 0.5;
        let orig = if sel & 8 != 0 { f.len() + 100 } else { f.len() };
        an.packet_len(ts, LINKTYPES[usize::from(sel & 7)], f, orig);
    }
    let a = an.finish(&[]);
    check(&a, n);
    a.flows.len() as u64
}

/// (client port, server port) by selector bits 0-2: QUIC, DTLS, RADIUS, CoAPS, DTLS-SRTP, DNS,
/// 4433 the other way round; 7 = the bytes are an EAPOL frame body.
const UDP_PORTS: [(u16, u16); 7] = [(50000, 443), (50001, 4433), (50002, 1812), (50003, 5684), (50004, 3478), (50005, 53), (4433, 50001)];

/// An Ethernet frame of `payload` in IPv4/UDP from `a` to `b` (or EAPOL, ethertype 0x888E).
pub fn udp_frame(sport: u16, dport: u16, from_b: bool, payload: &[u8]) -> Vec<u8> {
    let (src, dst) = if from_b { ([10, 0, 0, 2], [10, 0, 0, 1]) } else { ([10, 0, 0, 1], [10, 0, 0, 2]) };
    let (sport, dport) = if from_b { (dport, sport) } else { (sport, dport) };
    let mut f = vec![2, 0, 0, 0, 0, if from_b { 1 } else { 2 }, 2, 0, 0, 0, 0, if from_b { 2 } else { 1 }, 8, 0];
    let total = (20 + 8 + payload.len()).min(65_535) as u16;
    f.extend([0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 17, 0, 0]);
    f[16..18].copy_from_slice(&total.to_be_bytes());
    f.extend(src);
    f.extend(dst);
    f.extend(sport.to_be_bytes());
    f.extend(dport.to_be_bytes());
    f.extend(((8 + payload.len()).min(65_535) as u16).to_be_bytes());
    f.extend([0, 0]);
    f.extend(payload);
    f
}

/// Datagram payloads through the engine's UDP demux: selector bits 0-2 pick the ports (see
/// `UDP_PORTS`; 7 = an EAPOL frame), bit 3 = from the server, bits 4-7 step the clock.
/// Never panics; see `check`. Returns the flows.
pub fn fuzz_udp(data: &[u8], keylog: Option<Arc<KeyLog>>) -> u64 {
    let mut an = analyzer(keylog);
    let (mut n, mut ts) = (0u64, 0.0f64);
    for (sel, p) in frames(data) {
        n += 1;
        ts += f64::from(sel >> 4) * 0.5;
        let from_b = sel & 8 != 0;
        let f = match usize::from(sel & 7) {
            7 => {
                // the supplicant (A) writes to the PAE group address, the authenticator to it
                let mut f = if from_b { vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2] } else { vec![1, 0x80, 0xc2, 0, 0, 3, 2, 0, 0, 0, 0, 1] };
                f.extend([0x88, 0x8e]);
                f.extend(p);
                f
            }
            k => udp_frame(UDP_PORTS[k].0, UDP_PORTS[k].1, from_b, p),
        };
        an.packet(ts, 1, &f);
    }
    let a = an.finish(&[]);
    check(&a, n);
    a.flows.len() as u64
}
