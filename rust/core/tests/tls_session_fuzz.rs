//! The tls_session fuzz target (`rust/core/fuzz`) over a seeded mutation corpus: the first
//! connection of the session fixtures (tests/data/session), its chunks as TCP segments through
//! `flow::Connection` (reassembly, records, messages, session, key-log decryption with the
//! fixtures' key logs) into a flow record.

mod capture_support;
mod fuzz_support;
#[path = "data/dtls/pcap.rs"]
mod pcap;

mod target {
    include!("../fuzz/targets/tls_session.rs");
}

use fuzz_support::{framed, run, session_records};
use target::{fixed_keylog, fuzz_tls_session};

const FIXTURES: [&str; 10] = [
    "synth_tls12_tampered", "synth_lsc13_rejected", "pcaps_tls13_443", "pcaps_lsc_rejected_unknown_ca",
    "pcaps_resumption_8443", "corpus_hrr", "corpus_sslv2", "corpus_smtp_starttls", "corpus_tls_alert",
    "corpus_tls_fragmented_handshake",
];

fn seeds() -> Vec<Vec<u8>> {
    FIXTURES.iter().map(|n| framed(&session_records(n))).collect()
}

#[test]
fn seeds_give_flows_with_history() {
    let log = fixed_keylog();
    let s = seeds();
    for (name, seed) in FIXTURES.iter().zip(&s) {
        assert!(fuzz_tls_session(seed, Some(log.clone())) > 0, "{name}: no history");
    }
}

#[test]
fn mutated_connections_never_panic() {
    let log = fixed_keylog();
    let s = seeds();
    let (runs, _) = run("tls_session", &s, 0x5eed_0102, 40, |m| fuzz_tls_session(m, Some(log.clone())));
    let (runs2, _) = run("tls_session_nokeys", &s[..4], 0x5eed_0103, 20, |m| fuzz_tls_session(m, None));
    assert_eq!(runs + runs2, fuzz_support::iters(40) as u64 * 10 + fuzz_support::iters(20) as u64 * 4);
}

#[test]
fn reproducers() {
    let cases: Vec<Vec<u8>> = vec![framed(&[(0, vec![0x16, 3, 1, 0, 0])])];
    for c in cases {
        fuzz_tls_session(&c, Some(fixed_keylog()));
    }
}
