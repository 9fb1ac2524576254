//! The eap fuzz target (`rust/core/fuzz`) over a seeded mutation corpus: the EAPOL frames and
//! RADIUS datagrams of tests/data/eap and pcaps/udp through the parsers, the 802.1X
//! conversation and the RADIUS tracker.

mod capture_support;
mod fuzz_support;
#[path = "data/dtls/pcap.rs"]
mod pcap;

mod target {
    include!("../fuzz/targets/eap.rs");
}

use std::path::Path;

use fuzz_support::{capture_frames, framed, repo, run, udp_records, DATA};
use target::fuzz_eap;

/// EAPOL frame bodies (ethertype 0x888E), selector 0.
fn eapol_records(path: &Path) -> Vec<(u8, Vec<u8>)> {
    capture_frames(path, 80)
        .into_iter()
        .filter_map(|(_, _, f)| match pcap::ether(&f) {
            Some((0x888E, p)) => Some((0u8, p.to_vec())),
            _ => None,
        })
        .collect()
}

fn seeds() -> Vec<Vec<u8>> {
    let eap = |n: &str| Path::new(DATA).join(format!("eap/{n}.pcap"));
    let radius = |p: &Path| udp_records(p, 80).into_iter().map(|(_, d)| (2u8, d)).collect::<Vec<_>>();
    vec![
        framed(&eapol_records(&eap("eapol_tls_success"))),
        framed(&eapol_records(&eap("eapol_tls_reject"))),
        framed(&eapol_records(&eap("eapol_peap"))),
        framed(&radius(&eap("radius_tls_success"))),
        framed(&radius(&eap("radius_tls_reject"))),
        framed(&radius(&eap("radius_ttls"))),
        framed(&radius(&repo("pcaps/udp/radius_eap_tls_accept.pcap"))),
    ]
}

#[test]
fn seeds_make_flows() {
    let got: Vec<u64> = seeds().iter().map(|s| fuzz_eap(s)).collect();
    // EAPOL: the conversation; RADIUS: the tracker's conversation and the 802.1X one fed the
    // same EAP packets
    assert_eq!(got, vec![1, 1, 1, 2, 2, 2, 2]);
}

#[test]
fn mutated_packets_never_panic() {
    let (runs, flows) = run("eap", &seeds(), 0x5eed_0107, 200, fuzz_eap);
    assert!(flows >= runs / 2, "{flows} flows of {runs} runs");
}
