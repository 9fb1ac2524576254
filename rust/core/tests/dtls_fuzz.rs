//! The dtls fuzz target (`rust/core/fuzz`) over a seeded mutation corpus: the datagrams of the
//! DTLS fixtures (tests/data/dtls, pcaps/udp) through record split, fragment reassembly and the
//! association table.

mod capture_support;
mod fuzz_support;
#[path = "data/dtls/pcap.rs"]
mod pcap;

mod target {
    include!("../fuzz/targets/dtls.rs");
}

use fuzz_support::{framed, repo, run, udp_records, DATA};
use target::fuzz_dtls;

fn seeds() -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = ["dtls10", "mutual_srtp", "unknown_ca", "idle_split"]
        .iter()
        .map(|n| framed(&udp_records(&std::path::Path::new(DATA).join(format!("dtls/{n}.pcap")), 40)))
        .collect();
    v.push(framed(&udp_records(&repo("pcaps/udp/dtls_srtp_4433.pcap"), 40)));
    v
}

#[test]
fn seeds_make_one_association_each() {
    let got: Vec<u64> = seeds().iter().map(|s| fuzz_dtls(s)).collect();
    // idle_split: two handshakes on one 4-tuple, split by idle time
    assert_eq!(got, vec![1, 1, 1, 2, 1]);
}

#[test]
fn mutated_datagrams_never_panic() {
    let (runs, flows) = run("dtls", &seeds(), 0x5eed_0104, 300, fuzz_dtls);
    assert!(flows >= runs / 2, "{flows} flows of {runs} runs");
}
