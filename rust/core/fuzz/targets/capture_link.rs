// Fuzz target body: a capture read and every packet decoded, as the engine does.
// Included by fuzz_targets/capture_link.rs and tests/capture_fuzz.rs.

use tlsinspect_core::capture::CaptureReader;
use tlsinspect_core::link::LinkDecoder;

pub fn fuzz_capture_link(data: &[u8]) -> u64 {
    let Ok(mut r) = CaptureReader::from_read(Box::new(std::io::Cursor::new(data.to_vec()))) else {
        return 0;
    };
    r.set_gunzip_limits(64 << 20, 1000, 1 << 20);
    let mut d = LinkDecoder::new();
    let mut found = 0u64;
    while let Ok(Some(p)) = r.next_packet() {
        if let Some(x) = d.decode_at(p.ts, p.linktype, p.data) {
            assert!(x.l4 <= x.end && x.end <= x.buf.len());
            found += 1;
        }
    }
    d.finish();
    found
}
