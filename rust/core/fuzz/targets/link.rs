// Fuzz target body: frames for the link/IP decoder. The input is cut into frames by a 2-byte
// length prefix; a 1-byte prefix of each frame picks its link type and advances the clock.
// Included by fuzz_targets/link.rs and tests/link_fuzz.rs.

use tlsinspect_core::link::{ip_to_string, FragLimits, LinkDecoder};

const LINKTYPES: [u32; 12] = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 147, 1];

/// Decode every frame of `data` through one decoder (small fragment bounds, so that they are
/// hit), then `finish`. Never panics; what decodes lies inside its buffer. Returns the TCP
/// packets found.
pub fn fuzz_link(data: &[u8]) -> u64 {
    let mut d = LinkDecoder::with_limits(FragLimits { max_datagrams: 8, max_bytes: 65_535, timeout: 2.0 });
    let mut ts = 0.0;
    let mut found = 0u64;
    let mut i = 0;
    while i + 3 <= data.len() {
        let len = u16::from_le_bytes([data[i], data[i + 1]]) as usize;
        let sel = data[i + 2];
        let frame = &data[i + 3..(i + 3 + len).min(data.len())];
        i += 3 + frame.len();
        ts += (sel >> 4) as f64 * 0.5;
        if let Some(x) = d.decode_at(ts, LINKTYPES[(sel & 0x0F) as usize % LINKTYPES.len()], frame) {
            assert!(x.l4 <= x.end && x.end <= x.buf.len());
            assert!(x.src.len() == 4 || x.src.len() == 16);
            assert_eq!(x.src.len(), x.dst.len());
            let (a, b) = (ip_to_string(x.src), ip_to_string(x.dst));
            assert!(!a.is_empty() && !b.is_empty());
            found += 1;
        }
        assert!(d.fragments_in_progress() <= 8);
    }
    d.finish();
    assert_eq!(d.fragments_in_progress(), 0);
    found
}
