//! The capture fuzz targets (`rust/core/fuzz`) run over a seeded mutation corpus: real and
//! synthetic captures, plain and gzip-compressed, each edited a few thousand ways. No panic,
//! no error without a message, bounded work. A crash found by `cargo fuzz` becomes a seed here.

mod capture_support;

mod target_capture {
    include!("../fuzz/targets/capture.rs");
}
mod target_capture_link {
    include!("../fuzz/targets/capture_link.rs");
}

use std::io::Write;

use capture_support::build::*;
use capture_support::mutate::{mutate, Rng};
use capture_support::repo_root;
use target_capture::fuzz_capture;
use target_capture_link::fuzz_capture_link;

fn gz(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

fn seeds() -> Vec<Vec<u8>> {
    let root = repo_root();
    let mut v: Vec<Vec<u8>> = [
        "pcaps/tls13_443.pcap",
        "pcaps/lsc_rejected_unknown_ca.pcap",
        "tests/data/crashes/pppoe_padding_overlap.pcap",
        "tests/data/crashes/far_future_timestamp.pcapng",
    ]
    .iter()
    .map(|p| std::fs::read(root.join(p)).unwrap())
    .collect();
    let mut ng = shb(true);
    ng.extend(idb(
        true,
        1,
        0,
        &[opt(true, 9, &[0x89]), opt(true, 14, &5i64.to_be_bytes())],
    ));
    ng.extend(epb(true, 0, 1 << 40, &frame(1, 60), 60));
    ng.extend(spb(true, 30, &frame(2, 30)));
    ng.extend(pb(true, 0, 7, &frame(3, 20), 20));
    ng.extend(dsb(true, 0x544c_534b, b"CLIENT_RANDOM 00 11\n"));
    ng.extend(shb(false));
    ng.extend(idb(false, 113, 64, &[]));
    ng.extend(epb(false, 0, 99, &frame(4, 40), 40));
    v.push(ng);
    let mut p = pcap_header(true, true, 64, 101);
    p.extend(pcap_record(true, 1, 2, &frame(5, 80), 80));
    p.extend(pcap_record(true, 1, 2, &[], 0));
    v.push(p);
    let plain: Vec<Vec<u8>> = v.clone();
    v.extend(plain.iter().take(3).map(|b| gz(b)));
    v
}

#[test]
fn seeds_read_whole() {
    let s = seeds();
    let counts: Vec<u64> = s.iter().map(|b| fuzz_capture(b)).collect();
    assert_eq!(counts[0], 16);
    assert_eq!(counts[6], 16); // the same, gzip-compressed
    assert!(counts.iter().all(|&n| n > 0), "{counts:?}");
}

#[test]
fn mutated_captures_never_panic() {
    let mut rng = Rng(0x5eed_0001);
    let mut packets = 0;
    let mut runs = 0;
    for seed in seeds() {
        for _ in 0..iters(150) {
            let m = mutate(&mut rng, &seed);
            packets += fuzz_capture(&m);
            fuzz_capture_link(&m);
            runs += 1;
        }
    }
    assert_eq!(runs, iters(150) * seeds().len());
    assert!(iters(150) == 0 || packets > 500, "{packets}");
}

/// Inputs found by fuzzing or by hand that once went wrong somewhere; each must read cleanly.
#[test]
fn reproducers() {
    let cases: Vec<Vec<u8>> = vec![
        // a pcapng IDB option cut by its block's end
        [
            shb(false),
            block(false, 1, &[1, 0, 0, 0, 0, 0, 0, 0, 9, 0, 1, 0]),
        ]
        .concat(),
        // a gzip header with FEXTRA longer than the stream
        vec![0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 1, 2],
        // a gzip member of nothing, then a pcap in a second member
        [gz(b""), gz(&pcap_header(false, false, 0, 1))].concat(),
        // an SPB with orig_len 0xffffffff
        [
            shb(false),
            idb(false, 1, 0, &[]),
            spb(false, u32::MAX, &[1, 2, 3, 4]),
        ]
        .concat(),
    ];
    for c in cases {
        fuzz_capture(&c);
        fuzz_capture_link(&c);
    }
}

/// `FUZZ_ITERS` (mutations per seed, `make fuzz-rust`), else `default`.
fn iters(default: usize) -> usize {
    std::env::var("FUZZ_ITERS").ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}
