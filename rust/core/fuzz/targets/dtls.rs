// Fuzz target body: UDP datagrams through DTLS (dtls/: record split with and without a
// connection id, handshake fragment reassembly, the association table). Each record (see
// frames.rs) is one datagram: selector bit 0 = from B, bits 1-2 = which of 4 associations,
// bits 3-7 = clock step (a long pause ends an association by idle time).
// Included by fuzz_targets/dtls.rs and tests/dtls_fuzz.rs.

include!("frames.rs");

use tlsinspect_core::dtls::handshake::{parse_hello_verify_request, strip_cookie, Out, Reassembler};
use tlsinspect_core::dtls::record::{demux, looks_like_dtls, split, split_with_cid, starts_handshake};
use tlsinspect_core::dtls::{Associations, DtlsConfig};
use tlsinspect_core::tls::session::Side;

const MAX_ASSOC: usize = 3;

/// Never panics; the table stays within its bound, every association ends once, each flow's
/// frames lie within what was fed. Returns the flows.
pub fn fuzz_dtls(data: &[u8]) -> u64 {
    let config = DtlsConfig { max_message: 1 << 14, max_records: 200, max_certs: 4, idle_timeout: 5.0 };
    let mut table: Associations<u8> = Associations::new(config, MAX_ASSOC);
    let mut flows = Vec::new();
    let (mut frame, mut ts) = (0u64, 0.0f64);
    for (sel, d) in frames(data) {
        frame += 1;
        ts += f64::from(sel >> 3) * 0.5;
        let _ = (demux(d), looks_like_dtls(d), starts_handshake(d));
        for cid in [None, Some(0), Some(4), Some(255)] {
            let items = split_with_cid(d, cid);
            // a unified header with a length takes 4 bytes at least; one bad item may end the list
            assert!(items.len() <= d.len() / 4 + 2, "{} items from {} bytes", items.len(), d.len());
        }
        // the handshake reassembler on each record's fragment, alone
        let mut re = Reassembler::new(1 << 12);
        let mut out = Vec::new();
        for item in split(d) {
            if let tlsinspect_core::dtls::record::Item::Record(r) = item {
                if r.content_type != 22 {
                    continue;
                }
                re.push(r.fragment, &mut out);
                assert!(re.buffered() <= 2 * (1 << 12)); // its documented bound: 2 * max_message
            }
        }
        for o in &out {
            if let Out::Message(m) = o {
                assert!(m.body.len() <= 1 << 12);
                let _ = (strip_cookie(&m.body), parse_hello_verify_request(&m.body));
            }
        }
        let side = if sel & 1 == 0 { Side::A } else { Side::B };
        let fed = table.feed(&((sel >> 1) & 3), side, d, frame, ts);
        flows.extend(fed.ended);
        assert!(table.len() <= MAX_ASSOC);
        if sel == 0xff {
            flows.extend(table.expire(ts + 60.0));
        }
    }
    flows.extend(table.finish());
    assert!(table.is_empty());
    assert!(flows.len() as u64 <= frame);
    for f in &flows {
        assert!(1 <= f.first_frame && f.first_frame <= f.last_frame && f.last_frame <= frame);
        assert!(f.first_ts <= f.last_ts);
    }
    flows.len() as u64
}
