// Fuzz target body: TCP segments of one direction through the reassembler (tcp.rs). Each record
// (see frames.rs) is one segment: selector bit 0 = SYN, bit 1 = flush after it; the first 4
// bytes are its sequence number (little-endian), the rest its payload.
// Included by fuzz_targets/tcp.rs and tests/tcp_fuzz.rs.

include!("frames.rs");

use tlsinspect_core::tcp::{StreamReassembler, WINDOW};

const MAX_PENDING: usize = 4096;

/// Never panics; never delivers more bytes than it was given, nor holds more than its bounds;
/// nothing waits after a flush. Returns the bytes delivered.
pub fn fuzz_tcp(data: &[u8]) -> u64 {
    let mut r = StreamReassembler::new(MAX_PENDING);
    let (mut given, mut delivered) = (0usize, 0usize);
    for (sel, b) in frames(data) {
        if b.len() < 4 {
            continue;
        }
        let seq = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        let payload = &b[4..];
        given += payload.len();
        let mut chunks = r.segment(seq, payload, sel & 1 != 0);
        if sel & 2 != 0 {
            chunks.extend(r.flush());
            assert!(!r.has_pending());
        }
        for c in &chunks {
            assert!(!c.data.is_empty());
            delivered += c.data.len();
        }
        assert!(delivered <= given, "delivered {delivered} of {given}");
        assert!(r.pending_bytes <= MAX_PENDING + payload.len());
        assert!(r.held() <= 2 * MAX_PENDING + WINDOW + payload.len(), "held {}", r.held());
    }
    for c in r.flush() {
        delivered += c.data.len();
    }
    assert!(delivered <= given && !r.has_pending());
    r.release();
    delivered as u64
}
