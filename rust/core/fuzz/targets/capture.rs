// Fuzz target body: any bytes as a capture stream (plain or gzip), every packet read.
// Included by fuzz_targets/capture.rs and tests/capture_fuzz.rs.

use tlsinspect_core::capture::{CaptureReader, MAX_CAPLEN, MAX_BLOCK};

/// Read `data` as a capture to its end. Never panics; packets stay within the record limits;
/// once reading ended (None or an error) it stays ended. Returns the packets read.
pub fn fuzz_capture(data: &[u8]) -> u64 {
    let Ok(mut r) = CaptureReader::from_read(Box::new(std::io::Cursor::new(data.to_vec()))) else {
        return 0;
    };
    // tight decompression limits, so that a small input cannot make a long run
    r.set_gunzip_limits(64 << 20, 1000, 1 << 20);
    let mut n = 0u64;
    loop {
        match r.next_packet() {
            Ok(Some(p)) => {
                assert!(!p.data.is_empty());
                assert!(p.data.len() <= MAX_CAPLEN.max(MAX_BLOCK) as usize);
                assert!(p.ts.is_finite() && p.ts >= 0.0);
                n += 1;
            }
            Ok(None) => break,
            Err(e) => {
                assert!(!e.message.is_empty());
                break;
            }
        }
    }
    assert!(matches!(r.next_packet(), Ok(None)));
    assert!(r.warnings.iter().all(|w| !w.code.is_empty()));
    n
}
