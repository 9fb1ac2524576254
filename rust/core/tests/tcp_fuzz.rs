//! The tcp fuzz target (`rust/core/fuzz`) over a seeded mutation corpus of segment lists:
//! in order, out of order, retransmitted, overlapping, across the sequence wraparound.

mod capture_support;
mod fuzz_support;
#[path = "data/dtls/pcap.rs"]
mod pcap;

mod target {
    include!("../fuzz/targets/tcp.rs");
}

use fuzz_support::{framed, run};
use target::fuzz_tcp;

fn seg(sel: u8, seq: u32, payload: &[u8]) -> (u8, Vec<u8>) {
    (sel, [&seq.to_le_bytes()[..], payload].concat())
}

fn seeds() -> Vec<Vec<u8>> {
    let p: Vec<u8> = (0..=255).collect();
    let w = u32::MAX - 100; // an ISN just below the wraparound
    vec![
        framed(&[seg(1, 1000, b""), seg(0, 1001, &p[..100]), seg(0, 1101, &p[100..200])]),
        framed(&[seg(1, 1000, b""), seg(0, 1201, &p[..50]), seg(0, 1101, &p[..100]), seg(0, 1001, &p[..100])]),
        framed(&[seg(1, 1000, b""), seg(0, 1001, &p[..100]), seg(0, 1001, &p[..100]), seg(0, 1051, &p[100..200]), seg(0, 1031, &p[50..90])]),
        framed(&[seg(1, w, b""), seg(0, w.wrapping_add(1), &p), seg(0, w.wrapping_add(257), &p)]),
        framed(&[seg(0, 5000, &p[..10]), seg(0, 5100, &p[..30]), seg(2, 5200, &p[..5]), seg(1, 9000, b"")]),
    ]
}

#[test]
fn seeds_deliver_their_bytes() {
    let got: Vec<u64> = seeds().iter().map(|s| fuzz_tcp(s)).collect();
    // in order: all 200; out of order: 100 then the rest once the hole fills (150 bytes of
    // stream, 1001..1251); retransmission and overlap: 150 (1001..1151); wraparound: 512
    assert_eq!(&got[..4], &[200, 250, 150, 512], "{got:?}");
}

#[test]
fn mutated_segments_never_panic() {
    let (runs, delivered) = run("tcp", &seeds(), 0x5eed_0103, 1500, fuzz_tcp);
    assert!(runs == 0 || delivered > 0);
}
