//! The key log parser against the Python engine's on 160 random key logs (labels, client
//! randoms and secrets of several lengths and cases, every whitespace and line break Python's
//! `str.split`/`splitlines` know, bytes >= 0x80, comments, missing final newline), generated
//! with Python's answers by tests/data/session/gen_keylog_cases.py: the same entries, the same
//! secrets, the same count of bad lines, whole and streamed in small reads.

use std::io::Read;

use tlsinspect_core::tls::decrypt::{parse_keylog, read_keylog, KeyLog, Label};

struct Case {
    text: Vec<u8>,
    entries: usize,
    bad_lines: u64,
    secrets: Vec<(String, String, String)>,
}

fn cases() -> Vec<Case> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/session/keylog_cases.txt.gz");
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap()).read_to_string(&mut text).unwrap();
    let mut out: Vec<Case> = Vec::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        match f[0] {
            "case" => out.push(Case { text: hex::decode(f[1]).unwrap(), entries: 0, bad_lines: 0, secrets: Vec::new() }),
            "expect" => {
                let c = out.last_mut().unwrap();
                c.entries = f[1].parse().unwrap();
                c.bad_lines = f[2].parse().unwrap();
            }
            "secret" => out.last_mut().unwrap().secrets.push((f[1].to_owned(), f[2].to_owned(), f[3].to_owned())),
            other => panic!("unexpected {other:?}"),
        }
    }
    out
}

fn entries(log: &KeyLog) -> Vec<(String, String, String)> {
    let mut v = Vec::new();
    for (cr, secrets) in &log.secrets {
        for label in Label::ALL {
            if let Some(s) = secrets.get(label) {
                v.push((hex::encode(cr), label.name().to_owned(), hex::encode(s)));
            }
        }
    }
    v.sort();
    v
}

#[test]
fn random_key_logs_read_as_the_python_engine_reads_them() {
    let cases = cases();
    assert_eq!(cases.len(), 160);
    assert!(cases.iter().map(|c| c.entries).sum::<usize>() > 100, "the cases hold real entries");
    assert!(cases.iter().map(|c| c.bad_lines).sum::<u64>() > 100, "and bad lines");
    for (i, c) in cases.iter().enumerate() {
        let log = parse_keylog(&c.text);
        assert_eq!((log.len(), log.bad_lines), (c.entries, c.bad_lines), "case {i}: {:?}", String::from_utf8_lossy(&c.text));
        assert_eq!(entries(&log), c.secrets, "case {i}");
        let streamed = read_keylog(std::io::BufReader::with_capacity(3, &c.text[..]), u64::MAX).unwrap();
        assert_eq!(streamed, log, "case {i} streamed");
    }
}
