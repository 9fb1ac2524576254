//! The tls_records fuzz target (`rust/core/fuzz`) over a seeded mutation corpus: the client and
//! server streams of the TLS fixtures (tests/data/tls), each fed whole and byte by byte and
//! every handshake message through every parser. A crash found by `cargo fuzz` becomes a case
//! in `reproducers`.

mod capture_support;
mod fuzz_support;
#[path = "data/dtls/pcap.rs"]
mod pcap;

mod target {
    include!("../fuzz/targets/tls_records.rs");
}

use fuzz_support::DATA;
use target::fuzz_tls_records;

const STREAMS: [&str; 8] = [
    "tls13", "tls12_mutual", "tls12_dhe_unknown_ca", "starttls", "sslv2_hello", "public_sslv2_0",
    "public_tls13_draft22", "public_tls13_draft28",
];

fn seeds() -> Vec<Vec<u8>> {
    let mut v = Vec::new();
    for s in STREAMS {
        for dir in ["c2s", "s2c"] {
            let b = std::fs::read(format!("{DATA}/tls/{s}.{dir}.bin")).unwrap();
            v.push(b[..b.len().min(6000)].to_vec());
        }
    }
    v
}

#[test]
fn seeds_parse_whole_and_byte_by_byte() {
    let counts: Vec<u64> = seeds().iter().map(|s| fuzz_tls_records(s)).collect();
    // tls13 c2s: ClientHello (Certificate.. are encrypted); s2c: ServerHello
    assert!(counts[0] >= 1 && counts[1] >= 1, "{counts:?}");
    // TLS 1.2 mutual, server: ServerHello, Certificate, ServerKeyExchange, CertificateRequest, ServerHelloDone
    assert!(counts[3] >= 5, "{counts:?}");
    assert!(counts.iter().sum::<u64>() >= 30, "{counts:?}");
}

#[test]
fn mutated_streams_never_panic() {
    // the target's input is one stream, not records: plain byte mutations
    let mut rng = capture_support::mutate::Rng(0x5eed_0101);
    let n = fuzz_support::iters(60);
    let mut runs = 0u64;
    fuzz_support::write_seeds("tls_records", &seeds());
    for s in seeds() {
        for _ in 0..n {
            let m = capture_support::mutate::mutate(&mut rng, &s);
            if std::panic::catch_unwind(|| fuzz_tls_records(&m)).is_err() {
                let p = std::env::temp_dir().join(format!("tls_records-crash-{runs}.bin"));
                std::fs::write(&p, &m).unwrap();
                panic!("tls_records: crash on a mutated input, written to {}", p.display());
            }
            runs += 1;
        }
    }
    eprintln!("tls_records: {runs} runs");
    assert_eq!(runs as usize, n * seeds().len());
}

/// Inputs that once went wrong (tests/data/fuzz/tls_records_*); each must parse cleanly.
#[test]
fn reproducers() {
    for name in ["tls_records_header_after_prelude.bin"] {
        fuzz_tls_records(&std::fs::read(format!("{DATA}/fuzz/{name}")).unwrap());
    }
}

/// Found by the seeded run: a handshake record header (not a hello) inside a prelude started
/// the records when the stream was cut so that the header began a segment's kept bytes, and
/// not when fed whole. Now only a hello ends a prelude, however the bytes are cut.
#[test]
fn a_prelude_ends_at_a_hello_however_cut() {
    use tlsinspect_core::tls::records::{Event, RecordReader};
    let mut stream = b"EHLO mail.example\r\n".to_vec();
    stream.extend([0x16, 3, 3, 0, 6, 11, 0, 0, 2, 0, 0]); // a Certificate record, no hello
    for step in [stream.len(), 1, 2, 3, 5, 7] {
        let mut r = RecordReader::new(1 << 16, 100);
        let mut ev = Vec::new();
        for c in stream.chunks(step) {
            r.feed_into(c, 1, false, &mut ev);
        }
        assert!(ev.iter().all(|e| !matches!(e, Event::TLSStart(_) | Event::HandshakeMessage(_))), "step {step}: {ev:?}");
    }
}
