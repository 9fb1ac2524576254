//! The Rust TLS parsers against the Python engine's answers on the same bytes (fixtures written
//! by `tests/data/tls/gen_fixtures.py` from genuine OpenSSL handshakes): every RecordReader
//! event in eight feeding modes (whole, byte by byte, 7-byte chunks, a gap, peer_tls,
//! keep_payload, low limits), every handshake message parsed field by field (with JA3/JA3S/JA4),
//! and seeded mutations and truncations of each message and each stream.

mod tls_common;

use tls_common::*;

#[derive(Default)]
struct Tally {
    checks: usize,
    failures: Vec<String>,
}

impl Tally {
    fn check(&mut self, what: impl FnOnce() -> String, got: &str, want: &str) {
        self.checks += 1;
        if got != want && self.failures.len() < 20 {
            self.failures
                .push(format!("{}\n   rust: {got}\n python: {want}", what()));
        }
    }
}

fn run_scenario(dir: &std::path::Path, name: &str, t: &mut Tally) {
    let c2s = read_in(dir, &format!("{name}.c2s.bin"));
    let s2c = if dir.join(format!("{name}.s2c.bin")).exists() {
        read_in(dir, &format!("{name}.s2c.bin"))
    } else {
        Vec::new()
    };
    let stream = |d: &str| {
        if d == "c2s" {
            c2s.as_slice()
        } else {
            s2c.as_slice()
        }
    };
    let text = String::from_utf8(read_in(dir, &format!("{name}.expect"))).unwrap();
    let mut lines = text.lines().peekable();
    let mut body: Vec<u8> = Vec::new();
    let mut kind = String::new();
    let mut args = Args::default();
    while let Some(line) = lines.next() {
        let f: Vec<&str> = line.split('\t').collect();
        match f[0] {
            "stream" => {
                let mut want = Vec::new();
                while let Some(l) = lines.peek() {
                    match l.strip_prefix("event\t") {
                        Some(e) => want.push(e.to_owned()),
                        None => break,
                    }
                    lines.next();
                }
                let got = feed(stream(f[1]), Mode::parse(f[2]));
                t.check(
                    || format!("{name} {} {}", f[1], f[2]),
                    &got.join("\n"),
                    &want.join("\n"),
                );
            }
            "streammut" => {
                let data = mutate(stream(f[1]), f[2]);
                let got = feed(&data, Mode::chunked(13));
                t.check(
                    || format!("{name} {} {}: {got:#?}", f[1], f[2]),
                    &h16(got.join("\n").as_bytes()),
                    f[3],
                );
            }
            "message" => {
                kind = f[3].to_owned();
                args = Args::parse(f[4]);
                body = hex::decode(f[5]).unwrap();
            }
            "result" => {
                let got = parse(&kind, &body, args);
                t.check(|| format!("{name} {kind}"), &got, f[1]);
            }
            "mut" => {
                let data = mutate(&body, f[1]);
                let full = parse(&kind, &data, args);
                t.check(
                    || format!("{name} {kind} {}: {full}", f[1]),
                    &short(&full),
                    f[2],
                );
            }
            other => panic!("{name}: unknown line kind {other}"),
        }
    }
}

#[test]
fn rust_parsers_give_the_python_engine_answers() {
    let mut t = Tally::default();
    let names = scenarios(&data_dir());
    assert!(names.len() >= 5, "fixtures missing: {names:?}");
    for name in &names {
        run_scenario(&data_dir(), name, &mut t);
    }
    eprintln!("{} checks over {} scenarios", t.checks, names.len());
    assert!(t.checks > 3000, "only {} checks ran", t.checks);
    assert!(
        t.failures.is_empty(),
        "{} of {} checks differ:\n{}",
        t.failures.len(),
        t.checks,
        t.failures.join("\n")
    );
}

/// A large one-off corpus written by `gen_fixtures.py --out DIR [--scale N] [--streams]`
/// (e.g. every TCP stream of the public captures): run with `TLSINSPECT_PARITY_DIR=DIR`.
#[test]
fn python_parity_on_an_external_corpus() {
    let Some(dir) = std::env::var_os("TLSINSPECT_PARITY_DIR") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let mut t = Tally::default();
    let names = scenarios(&dir);
    for name in &names {
        run_scenario(&dir, name, &mut t);
    }
    eprintln!(
        "{} checks over {} scenarios in {}",
        t.checks,
        names.len(),
        dir.display()
    );
    assert!(
        t.failures.is_empty(),
        "{} of {} checks differ:\n{}",
        t.failures.len(),
        t.checks,
        t.failures.join("\n")
    );
}
