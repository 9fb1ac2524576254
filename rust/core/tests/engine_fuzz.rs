//! The engine and udp fuzz targets (`rust/core/fuzz`) over a seeded mutation corpus: the first
//! frames of the captures in pcaps/ and tests/data through the whole `Analyzer` (some marked
//! cut by the snaplen), and UDP payloads of the QUIC/DTLS/RADIUS/EAPOL fixtures through the
//! engine's UDP demux.

mod capture_support;
mod fuzz_support;
#[path = "data/dtls/pcap.rs"]
mod pcap;

mod target {
    include!("../fuzz/targets/engine.rs");
}

use std::path::Path;

use fuzz_support::{capture_frames, framed, repo, run, udp_records, DATA};
use target::{fuzz_engine, fuzz_udp};

const CAPTURES: [&str; 8] = [
    "pcaps/tls13_443.pcap", "pcaps/lsc_rejected_unknown_ca.pcap", "pcaps/resumption_8443.pcap",
    "pcaps/cisco_lab_mix.pcapng", "pcaps/udp/quic_v1_443.pcap", "pcaps/udp/dtls_srtp_4433.pcap",
    "pcaps/udp/eapol_tls_reject.pcap", "tests/data/crashes/pppoe_padding_overlap.pcap",
];

/// The target's link type index (fuzz/targets/engine.rs LINKTYPES) of a link type.
fn link_index(lt: u32) -> Option<u8> {
    [1u32, 1, 1, 0, 101, 113, 276, 228].iter().position(|&x| x == lt).map(|i| i as u8)
}

fn engine_seeds() -> Vec<Vec<u8>> {
    CAPTURES
        .iter()
        .map(|p| {
            let recs: Vec<(u8, Vec<u8>)> = capture_frames(&repo(p), 60)
                .into_iter()
                .filter_map(|(_, lt, f)| Some((link_index(lt)?, f)))
                .collect();
            framed(&recs)
        })
        .collect()
}

fn udp_seeds() -> Vec<Vec<u8>> {
    let with = |path: &Path, ports: u8| {
        framed(&udp_records(path, 40).into_iter().map(|(side, d)| (ports | side << 3, d)).collect::<Vec<_>>())
    };
    vec![
        with(&repo("pcaps/udp/quic_v1_443.pcap"), 0),
        with(&Path::new(DATA).join("dtls/mutual_srtp.pcap"), 1),
        with(&repo("pcaps/udp/radius_eap_tls_accept.pcap"), 2),
        with(&Path::new(DATA).join("dtls/unknown_ca.pcap"), 3),
        framed(
            &capture_frames(&repo("pcaps/udp/eapol_tls_reject.pcap"), 60)
                .into_iter()
                .filter_map(|(_, _, f)| match pcap::ether(&f) {
                    // EAP Request, Success, Failure: from the authenticator
                    Some((0x888E, p)) => Some((7u8 | u8::from(matches!(p.get(4), Some(1 | 3 | 4))) << 3, p.to_vec())),
                    _ => None,
                })
                .collect::<Vec<_>>(),
        ),
    ]
}

#[test]
fn seeds_make_flows() {
    let got: Vec<u64> = engine_seeds().iter().map(|s| fuzz_engine(s, None)).collect();
    assert!(got[..3].iter().all(|&n| n >= 1), "{got:?}");
    let got: Vec<u64> = udp_seeds().iter().map(|s| fuzz_udp(s, None)).collect();
    // QUIC, DTLS, RADIUS EAP-TLS, DTLS on CoAPS' port, EAPOL: one flow each
    assert_eq!(got, vec![1, 1, 1, 1, 1]);
}

#[test]
fn mutated_frames_never_panic() {
    let (runs, flows) = run("engine", &engine_seeds(), 0x5eed_0108, 40, |m| fuzz_engine(m, None));
    assert!(runs == 0 || flows > 0);
}

#[test]
fn mutated_datagrams_never_panic() {
    let (runs, flows) = run("udp", &udp_seeds(), 0x5eed_0109, 60, |m| fuzz_udp(m, None));
    assert!(runs == 0 || flows > 0);
}
