//! The quic fuzz target (`rust/core/fuzz`) over a seeded mutation corpus: the aioquic
//! connections of tests/data/quic (with their key logs: Handshake and 1-RTT packets decrypt)
//! through header split, Initial decryption, frames, CRYPTO reassembly and the connection.

mod capture_support;
mod fuzz_support;
#[path = "data/dtls/pcap.rs"]
mod pcap;

mod target {
    include!("../fuzz/targets/quic.rs");
}

use fuzz_support::{framed, run, DATA};
use target::{fuzz_quic, quic_keylog};

fn seeds() -> Vec<Vec<u8>> {
    ["v1", "v2", "retry", "key_update", "chacha20", "closed", "vn"]
        .iter()
        .map(|n| {
            let text = std::fs::read_to_string(format!("{DATA}/quic/{n}.dgrams")).unwrap();
            let recs: Vec<(u8, Vec<u8>)> = text
                .lines()
                .take(30)
                .map(|l| {
                    let (d, h) = l.split_once(' ').unwrap();
                    (u8::from(d != "c"), hex::decode(h).unwrap())
                })
                .collect();
            framed(&recs)
        })
        .collect()
}

#[test]
fn seeds_split_into_packets() {
    let log = quic_keylog();
    let got: Vec<u64> = seeds().iter().map(|s| fuzz_quic(s, Some(log.clone()))).collect();
    assert!(got.iter().all(|&n| n >= 1), "{got:?}");
    assert!(got[0] >= 6, "{got:?}"); // v1: Initial, Handshake and 1-RTT packets both ways
}

#[test]
fn mutated_datagrams_never_panic() {
    let log = quic_keylog();
    let s = seeds();
    let (runs, _) = run("quic", &s, 0x5eed_0105, 120, |m| fuzz_quic(m, Some(log.clone())));
    let (runs2, _) = run("quic_nokeys", &s[..2], 0x5eed_0106, 60, |m| fuzz_quic(m, None));
    assert_eq!(runs + runs2, fuzz_support::iters(120) as u64 * 7 + fuzz_support::iters(60) as u64 * 2);
}
