// Fuzz target body: EAP (eap/: EAPOL, RADIUS, EAP-TLS fragments, the conversation). Each record
// (see frames.rs) is one packet; selector bits 0-1: 0 = an EAPOL frame (its EAP packet to the
// 802.1X conversation), 1 = a bare EAP packet to it, 2 or 3 = a RADIUS datagram to the tracker;
// bits 2-7 = clock step. Included by fuzz_targets/eap.rs and tests/eap_fuzz.rs.

include!("frames.rs");

use tlsinspect_core::eap::packet::parse_tls_part;
use tlsinspect_core::eap::{parse_eap, parse_eapol, parse_radius, EapConfig, EapTlsConversation, RadiusTracker};

const MAX_CONVERSATIONS: usize = 3;

/// Never panics; parsed parts lie inside their packet; the tracker stays within its bound;
/// each flow's frames lie within what was fed. Returns the flows.
pub fn fuzz_eap(data: &[u8]) -> u64 {
    let config = EapConfig { max_message: 1 << 14, max_handshake: 1 << 14, max_records: 200, max_certs: 4 };
    let mut conv = EapTlsConversation::new(config.clone());
    let mut radius = RadiusTracker::new(config, MAX_CONVERSATIONS);
    let mut flows = Vec::new();
    let (mut frame, mut ts, mut fed_conv, mut datagrams) = (0u64, 0.0f64, false, 0u64);
    for (sel, d) in frames(data) {
        frame += 1;
        ts += f64::from(sel >> 2) * 0.5;
        if let Ok(p) = parse_eap(d) {
            assert!(p.raw.len() <= d.len() && p.data.len() <= p.raw.len());
            if let Ok(t) = parse_tls_part(p.data) {
                assert!(t.data.len() <= p.data.len());
            }
        }
        match sel & 3 {
            0 => {
                if let Some(e) = parse_eapol(d) {
                    assert!(e.body.len() + 4 <= d.len());
                    if e.packet_type == 0 {
                        conv.feed_eap(e.body, frame, ts);
                        fed_conv = true;
                    }
                }
            }
            1 => {
                conv.feed_eap(d, frame, ts);
                fed_conv = true;
            }
            _ => {
                if let Some(r) = parse_radius(d) {
                    assert!(r.eap.len() <= d.len());
                    conv.feed_radius(r.code, &r.eap, frame, ts);
                    fed_conv = true;
                }
                radius.feed(d, frame, ts);
                datagrams += 1;
                assert!(radius.len() <= MAX_CONVERSATIONS);
                flows.extend(radius.take_finished());
                if sel & 0xfc == 0xfc {
                    flows.extend(radius.expire(ts + 100.0, 30.0));
                }
            }
        }
    }
    flows.extend(radius.finish());
    assert!(radius.is_empty());
    // a RADIUS datagram starts one conversation at most
    assert!(flows.len() as u64 <= datagrams, "{} flows of {datagrams} datagrams", flows.len());
    if fed_conv {
        flows.push(conv.flow());
    }
    for f in &flows {
        assert!(1 <= f.first_frame && f.first_frame <= f.last_frame && f.last_frame <= frame, "{:?}", (f.first_frame, f.last_frame));
        assert!(f.first_ts <= f.last_ts);
    }
    flows.len() as u64
}
