//! `TLSSession` fed with genuine handshakes: the chunks the Python engine's connections delivered
//! to their record readers (bundled `pcaps/`, public corpus captures, and the key-log scenarios of
//! tests/unit/test_keylog.py), dumped with the Python session's answers by
//! `tests/data/session/gen.py`. Each flow goes through `RecordReader` and the Rust `TLSSession`
//! exactly as `Connection._deliver` does, and must give the same answers: history string,
//! alerts (sender, level, description, `after`), anomalies, chains (SHA-256), handshake_over
//! after every delivery, decryption with the key log.

use std::io::Read;
use std::sync::Arc;

use sha2::{Digest, Sha256};
use tlsinspect_core::tls::decrypt::{parse_keylog, KeyLog};
use tlsinspect_core::tls::records::{RecordReader, State};
use tlsinspect_core::tls::session::{Side, TLSSession};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/session");
const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
/// `Limits.max_handshake_bytes` and `RecordReader`'s `max_records` in the Python engine.
const MAX_HANDSHAKE: usize = 1024 * 1024;
const MAX_RECORDS: u64 = 10_000;

struct Delivery {
    side: Side,
    frame: u64,
    ts: f64,
    over: bool,
    chunks: Vec<(bool, Vec<u8>)>,
}

struct Flow {
    n: usize,
    midstream: bool,
    deliveries: Vec<Delivery>,
    /// The Python session after the chunks as delivered.
    expect: Vec<String>,
    /// The Python session after the same chunks fed one byte at a time.
    expect_bytewise: Vec<String>,
}

struct Fixture {
    name: String,
    keylog: Option<Arc<KeyLog>>,
    flows: Vec<Flow>,
}

fn side(s: &str) -> Side {
    match s {
        "a" => Side::A,
        "b" => Side::B,
        other => panic!("bad side {other:?}"),
    }
}

/// The fixture folder: `tests/data/session`, or `TLSINSPECT_SESSION_FIXTURES` (a wider,
/// uncommitted set: `gen.py --all-corpus DIR`).
fn data_dir() -> String {
    std::env::var("TLSINSPECT_SESSION_FIXTURES").unwrap_or_else(|_| DATA.to_owned())
}

fn load(name: &str) -> Fixture {
    let path = format!("{}/{name}.flows.gz", data_dir());
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}")))
        .read_to_string(&mut text)
        .unwrap();
    let mut fx = Fixture { name: name.to_owned(), keylog: None, flows: Vec::new() };
    let mut in_expect: Option<bool> = None; // Some(bytewise)
    for line in text.lines() {
        if line.starts_with('#') {
            continue;
        }
        if let Some(bytewise) = in_expect {
            let flow = fx.flows.last_mut().unwrap();
            if line == "end" {
                in_expect = None;
            } else if bytewise {
                flow.expect_bytewise.push(line.to_owned());
            } else {
                flow.expect.push(line.to_owned());
            }
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        match f[0] {
            "keylog" => {
                let bytes = std::fs::read(format!("{ROOT}/{}", f[1])).unwrap();
                fx.keylog = Some(Arc::new(parse_keylog(&bytes)));
            }
            "flow" => fx.flows.push(Flow {
                n: f[1].parse().unwrap(),
                midstream: f[2] == "1",
                deliveries: Vec::new(),
                expect: Vec::new(),
                expect_bytewise: Vec::new(),
            }),
            "d" => fx.flows.last_mut().unwrap().deliveries.push(Delivery {
                side: side(f[1]),
                frame: f[2].parse().unwrap(),
                ts: f[3].parse().unwrap(),
                over: f[4] == "1",
                chunks: Vec::new(),
            }),
            "c" => {
                let d = fx.flows.last_mut().unwrap().deliveries.last_mut().unwrap();
                d.chunks.push((f[1] == "1", hex::decode(f[2]).unwrap()));
            }
            "expect" => in_expect = Some(false),
            "expect_bytewise" => in_expect = Some(true),
            other => panic!("{name}: unexpected line kind {other:?}"),
        }
    }
    fx
}

fn idx(s: Side) -> usize {
    match s {
        Side::A => 0,
        Side::B => 1,
    }
}

/// What `Connection` does with one flow: readers per side, the session, `peer_tls` once the
/// session started. `chunking` splits each chunk further (1 = byte by byte; 0 = as delivered).
/// Returns the session and the deliveries after which `handshake_over` differed from Python's
/// (checked only as delivered: Python's per-delivery values are recorded for that chunking).
fn run(fx: &Fixture, flow: &Flow, chunking: usize) -> (TLSSession, Vec<String>) {
    let mut readers = [RecordReader::new(MAX_HANDSHAKE, MAX_RECORDS), RecordReader::new(MAX_HANDSHAKE, MAX_RECORDS)];
    for r in &mut readers {
        r.keep_payload = fx.keylog.is_some();
        if flow.midstream {
            r.state = State::Resync;
        }
    }
    let mut session = TLSSession::new(fx.keylog.clone(), 32);
    let mut mismatches = Vec::new();
    for (i, d) in flow.deliveries.iter().enumerate() {
        for (gap, data) in &d.chunks {
            let pieces: Vec<&[u8]> = if chunking == 0 || data.is_empty() {
                vec![&data[..]]
            } else {
                data.chunks(chunking).collect()
            };
            for (j, piece) in pieces.into_iter().enumerate() {
                let events = readers[idx(d.side)].feed(piece, d.frame, *gap && j == 0);
                if !events.is_empty() {
                    let was = !session.started.is_empty();
                    session.feed(d.side, events, d.ts);
                    if !was && !session.started.is_empty() {
                        readers[idx(d.side.peer())].peer_tls = true;
                    }
                }
            }
        }
        if chunking == 0 && session.handshake_over() != d.over {
            mismatches.push(format!("delivery {i} (frame {}): handshake_over {} != python {}", d.frame, session.handshake_over(), d.over));
        }
    }
    (session, mismatches)
}

fn esc(s: Option<&str>) -> String {
    match s {
        None => "-".to_owned(),
        Some("") => "\\e".to_owned(),
        Some(s) => s.replace('\\', "\\\\").replace('\t', "\\t").replace('\n', "\\n"),
    }
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

fn sides(it: impl Iterator<Item = Side>) -> String {
    let mut v: Vec<&str> = it.map(Side::as_str).collect();
    v.sort();
    v.concat()
}

fn sha256_hex(der: &[u8]) -> String {
    hex::encode(Sha256::digest(der))
}

/// The Rust session in gen.py's `summary` format.
fn summary(s: &TLSSession) -> Vec<String> {
    let (ch, sh) = (s.client_hello.as_ref(), s.server_hello.as_ref());
    let mut out = vec![
        format!("client_side\t{}", s.client_side.map_or("-", Side::as_str)),
        format!("tls13\t{}\thello_retry\t{}", u8::from(s.tls13), u8::from(s.hello_retry)),
        format!("version\t{}\tcipher\t{}", opt(s.version()), opt(sh.map(|h| h.cipher_suite))),
        format!("history\t{}", esc(Some(&s.history))),
    ];
    for a in &s.alerts {
        out.push(format!(
            "alert\t{}\t{}\t{}\t{}\t{}\t{}\t{:.6}",
            a.side.as_str(),
            esc(Some(&a.level)),
            esc(Some(&a.description)),
            opt(a.code),
            esc(a.after.as_deref()),
            a.frame,
            a.ts
        ));
    }
    for a in &s.anomalies {
        out.push(format!(
            "anomaly\t{}\t{}\t{}\t{}",
            a.frame,
            a.side.map_or("-", Side::as_str),
            esc(Some(&a.code)),
            esc(Some(&a.detail))
        ));
    }
    for (k, chain) in s.chains.iter() {
        let fps: Vec<String> = chain.iter().map(|d| sha256_hex(d)).collect();
        out.push(format!("chain\t{}\t{}", k.as_str(), fps.join(",")));
    }
    for (k, v) in s.ccs.iter() {
        out.push(format!("ccs\t{}\t{v}", k.as_str()));
    }
    for (k, v) in s.finished.iter() {
        out.push(format!("finished\t{}\t{v}", k.as_str()));
    }
    let order: Vec<String> = s.encrypted_order.iter().map(|(k, n)| format!("{}:{n}", k.as_str())).collect();
    out.push(format!("encrypted_order\t{}", order.join(" ")));
    for (k, v) in s.last_message.iter() {
        out.push(format!("last_message\t{}\t{}", k.as_str(), esc(Some(v))));
    }
    out.push(format!("speaker\t{}", s.speaker.map_or("-", Side::as_str)));
    for (k, v) in s.flight_has_cert.iter() {
        out.push(format!("flight_has_cert\t{}\t{}", k.as_str(), u8::from(*v)));
    }
    out.push(format!("started\t{}", sides(s.started.keys())));
    for (k, v) in s.prelude.iter() {
        out.push(format!("prelude\t{}\t{}", k.as_str(), hex::encode(v)));
    }
    out.push(format!("prelude_bytes\t{}\tsslv2_hello\t{}", s.prelude_bytes, u8::from(s.sslv2_hello)));
    out.push(match s.sslv2_server {
        Some((c, hit)) => format!("sslv2_server\t{c}\t{}", u8::from(hit)),
        None => "sslv2_server\t-".to_owned(),
    });
    for (k, v) in s.appdata.iter() {
        out.push(format!("appdata\t{}\t{v}", k.as_str()));
    }
    out.push(format!("first_frame\t{}\tdecrypted\t{}", opt(s.first_frame), u8::from(s.decrypted)));
    out.push(format!(
        "server_after_client_finished\t{}\tfirst_ccs\t{}",
        s.server_after_client_finished,
        s.first_ccs.map_or("-", Side::as_str)
    ));
    out.push(format!("handshake_over\t{}\ttls13_finished\t{}", u8::from(s.handshake_over()), u8::from(s.tls13_finished())));
    out.push(match s.fatal_alert() {
        Some(a) => format!("fatal_alert\t{}\t{}", a.side.as_str(), esc(Some(&a.description))),
        None => "fatal_alert\t-".to_owned(),
    });
    out.push(format!("ja3\t{}\tja4\t{}", esc(s.ja3.as_deref()), esc(s.ja4.as_deref())));
    out.push(match ch {
        Some(ch) => {
            let versions: Vec<String> = ch.supported_versions.iter().map(u16::to_string).collect();
            format!(
                "client_hello\t{}\t{}\t{}\t{}",
                hex::encode(ch.random),
                esc(ch.sni.as_deref()),
                versions.join(","),
                ch.legacy_version
            )
        }
        None => "client_hello\t-".to_owned(),
    });
    out.push(match &s.cert_request {
        Some(r) => {
            let algs: Vec<String> = r.signature_algorithms.iter().map(u16::to_string).collect();
            format!("cert_request\t{}\t{}\t{}", hex::encode(&r.cert_types), algs.join(","), r.ca_names.len())
        }
        None => "cert_request\t-".to_owned(),
    });
    out.push(match &s.server_kx {
        Some(k) => format!("server_kx\t{}\t{}\t{}\t{}", k.kx, opt(k.dh_p_bits), opt(k.curve), opt(k.signature_algorithm)),
        None => "server_kx\t-".to_owned(),
    });
    out.push(format!("kx_name\t{}", esc(s.kx_name())));
    out.push(format!(
        "decryptors\t{}\ttls12_decryptors\t{}",
        sides(s.decryptors.keys()),
        sides(s.tls12_decryptors.keys())
    ));
    out
}

fn fixture_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(data_dir())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok()?.strip_suffix(".flows.gz").map(str::to_owned))
        .collect();
    names.sort();
    names
}

/// Compare every flow of every fixture; report all differences at once.
fn differential(chunking: usize) {
    let names = fixture_names();
    assert!(names.len() >= 30, "fixtures missing: {names:?}");
    let mut failures = Vec::new();
    let mut flows = 0;
    for name in &names {
        let fx = load(name);
        for flow in &fx.flows {
            flows += 1;
            let (session, mut problems) = run(&fx, flow, chunking);
            let got = summary(&session);
            let expect = if chunking == 0 { &flow.expect } else { &flow.expect_bytewise };
            assert!(!expect.is_empty(), "{name}: no expectations");
            let width = got.len().max(expect.len());
            for i in 0..width {
                let (g, e) = (got.get(i), expect.get(i));
                if g != e {
                    problems.push(format!("line {i}: rust {g:?}\n      python {e:?}"));
                    break;
                }
            }
            if !problems.is_empty() {
                failures.push(format!("{} flow {}:\n  {}", fx.name, flow.n, problems.join("\n  ")));
            }
        }
    }
    assert!(flows >= 45, "only {flows} flows");
    assert!(failures.is_empty(), "{} of {flows} flows differ:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn every_fixture_flow_gives_the_python_engines_answers() {
    differential(0);
}

/// Against the Python reader and session fed the same bytes one at a time (the record reader's
/// prelude head and SSLv2 SERVER-HELLO detection depend on the chunking, in both engines).
#[test]
fn the_same_answers_fed_byte_by_byte() {
    differential(1);
}

// ---- what a user checks, flow by flow -----------------------------------------------------

fn session_of(name: &str, n: usize) -> TLSSession {
    let fx = load(name);
    let flow = fx.flows.iter().find(|f| f.n == n).unwrap();
    let (s, problems) = run(&fx, flow, 0);
    assert!(problems.is_empty(), "{problems:?}");
    s
}

fn alerts(s: &TLSSession) -> Vec<(Side, &str, &str, Option<&str>)> {
    s.alerts.iter().map(|a| (a.side, a.level.as_str(), a.description.as_str(), a.after.as_deref())).collect()
}

#[test]
fn lsc_rejected_with_unknown_ca_after_the_clients_certificate() {
    let s = session_of("pcaps_lsc_rejected_unknown_ca", 1);
    assert_eq!(s.client_side, Some(Side::A));
    assert_eq!(alerts(&s), vec![(Side::B, "fatal", "unknown_ca", Some("Certificate"))]);
    assert_eq!(s.fatal_alert().unwrap().code, Some(48));
    assert!(s.cert_request.is_some() && s.handshake_over());
    // Both chains were sent in the clear (TLS 1.2), one certificate each side at least.
    assert!(!s.chains.get(Side::A).unwrap().is_empty());
    assert!(!s.chains.get(Side::B).unwrap().is_empty());
}

#[test]
fn tls13_sample_with_its_keylog_reveals_the_server_chain() {
    let s = session_of("pcaps_tls13_443_keylog", 1);
    assert!(s.tls13 && s.decrypted && s.tls13_finished() && s.handshake_over());
    let chain = s.chains.get(Side::B).unwrap();
    assert_eq!(chain.len(), 2);
    let needle = b"expressway-e.example.lab";
    assert!(chain[0].windows(needle.len()).any(|w| w == needle), "leaf names the server");
    assert_eq!(s.history, "CsioxyfIF");
    assert!(s.anomalies.is_empty());
    assert!(s.alerts.is_empty());
}

#[test]
fn tls13_sample_without_keylog_shows_no_certificates() {
    let s = session_of("pcaps_tls13_443", 1);
    assert!(s.tls13 && !s.decrypted && s.chains.is_empty());
    assert!(s.handshake_over(), "judged from record sizes and order");
    assert!(s.encrypted_order.len() >= 3);
}

#[test]
fn tls13_phone_rejected_alert_is_decrypted_with_the_keylog() {
    let s = session_of("synth_lsc13_rejected", 1);
    assert!(s.decrypted);
    assert_eq!(alerts(&s), vec![(Side::B, "fatal", "unknown_ca", Some("Certificate"))]);
    assert!(s.cert_request.is_some());
    assert_eq!(s.chains.len(), 2, "both chains revealed");
    let plain = session_of("synth_lsc13_rejected_nokeys", 1);
    assert!(!plain.decrypted && plain.chains.is_empty() && plain.cert_request.is_none());
    assert!(plain.alerts.is_empty() || plain.alerts.iter().all(|a| a.level == "encrypted"));
}

#[test]
fn tls12_encrypted_alert_is_read_with_the_master_secret() {
    let plain = session_of("synth_tls12_tampered_nokeys", 1);
    assert_eq!(alerts(&plain).iter().map(|a| (a.0, a.1, a.2)).collect::<Vec<_>>(), vec![(Side::B, "encrypted", "encrypted_alert")]);
    let s = session_of("synth_tls12_tampered", 1);
    assert!(s.decrypted);
    let a = s.fatal_alert().unwrap();
    assert_eq!(a.side, Side::B);
    assert!(a.description == "bad_record_mac" || a.description == "decrypt_error", "{}", a.description);
}

#[test]
fn sslv2_server_hello_gives_its_certificate() {
    let s = session_of("corpus_sslv2", 1);
    assert!(s.sslv2_hello && s.sslv2_server.is_some() && s.handshake_over());
    assert_eq!(s.history, "Cs");
    assert_eq!(s.chains.get(Side::B).map(Vec::len), Some(1));
    assert!(s.ja3.is_none(), "no JA3 for an SSLv2 hello");
}

#[test]
fn hello_retry_request_is_a_j_in_the_history() {
    let s = session_of("corpus_hrr", 1);
    assert!(s.hello_retry && s.tls13);
    assert!(s.history.starts_with("Cj"), "{}", s.history);
}

#[test]
fn starttls_prelude_is_kept_for_naming() {
    let s = session_of("corpus_smtp_starttls", 1);
    assert!(s.prelude_bytes > 0 && !s.prelude.is_empty());
    assert!(s.prelude.values().any(|p| p.starts_with(b"220") || p.starts_with(b"EHLO")));
}

// ---- hostile input -------------------------------------------------------------------------

/// xorshift64*: a fixed seed, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

#[test]
fn mutated_handshakes_never_panic_and_stay_bounded() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for name in fixture_names() {
        let fx = load(&name);
        for flow in &fx.flows {
            for _ in 0..6 {
                let mut mutated = Flow {
                    n: flow.n,
                    midstream: flow.midstream,
                    deliveries: Vec::new(),
                    expect: Vec::new(),
                    expect_bytewise: Vec::new(),
                };
                for d in &flow.deliveries {
                    let mut chunks = d.chunks.clone();
                    for (_, data) in &mut chunks {
                        if data.is_empty() {
                            continue;
                        }
                        match rng.next() % 4 {
                            0 => {
                                let i = (rng.next() as usize) % data.len();
                                data[i] ^= 1 << (rng.next() % 8);
                            }
                            1 => {
                                let i = (rng.next() as usize) % data.len();
                                data[i] = [0x00, 0xff, 0x7f, 0x80][(rng.next() % 4) as usize];
                            }
                            2 => data.truncate((rng.next() as usize) % data.len()),
                            _ => {}
                        }
                    }
                    mutated.deliveries.push(Delivery { side: d.side, frame: d.frame, ts: d.ts, over: d.over, chunks });
                }
                let (s, _) = run(&fx, &mutated, 0);
                assert!(s.anomalies.len() <= 64 && s.encrypted_order.len() <= 16);
                assert!(s.chains.len() <= 2);
                let _ = summary(&s); // every accessor works on what is left
            }
        }
    }
}
