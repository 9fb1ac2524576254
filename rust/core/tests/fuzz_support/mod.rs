//! Helpers shared by the seeded runners of the fuzz targets (`*_fuzz.rs`): the record framing
//! the targets read (`fuzz/targets/frames.rs`), seeds out of the fixtures, a record-aware
//! mutator, and the run loop (`FUZZ_ITERS`, `FUZZ_SEED_DIR`).
#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::capture_support::mutate::{mutate, Rng};
use tlsinspect_core::capture::CaptureReader;

pub const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");

pub fn repo(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(rel)
}

/// Records as the targets read them: 2-byte little-endian length, selector, bytes.
pub fn framed(records: &[(u8, Vec<u8>)]) -> Vec<u8> {
    let mut v = Vec::new();
    for (sel, b) in records {
        let b = &b[..b.len().min(65_535)];
        v.extend((b.len() as u16).to_le_bytes());
        v.push(*sel);
        v.extend(b);
    }
    v
}

/// The inverse of [`framed`] (a short last record is kept short).
pub fn unframed(data: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i + 3 <= data.len() {
        let len = u16::from_le_bytes([data[i], data[i + 1]]) as usize;
        let b = data[i + 3..(i + 3 + len).min(data.len())].to_vec();
        i += 3 + b.len();
        out.push((data[i - b.len() - 1], b));
    }
    out
}

/// One to three edits of a framed input: a record's bytes mutated, a record dropped, repeated,
/// moved, or its selector changed; now and then the raw bytes (lengths included) mutated.
pub fn mutate_framed(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    if rng.below(8) == 0 {
        return mutate(rng, seed);
    }
    let mut recs = unframed(seed);
    if recs.is_empty() {
        return mutate(rng, seed);
    }
    for _ in 0..1 + rng.below(3) {
        let n = recs.len();
        let i = rng.below(n);
        match rng.below(10) {
            0 if n > 1 => {
                recs.remove(i);
            }
            1 => {
                let r = recs[i].clone();
                recs.insert(rng.below(n + 1), r);
            }
            2 if n > 1 => {
                let j = rng.below(n);
                recs.swap(i, j);
            }
            3 => recs[i].0 ^= 1 << rng.below(8),
            4 => {
                // a record cut in two
                let (sel, b) = recs[i].clone();
                let at = rng.below(b.len() + 1);
                recs[i] = (sel, b[..at].to_vec());
                recs.insert(i + 1, (sel, b[at..].to_vec()));
            }
            _ => recs[i].1 = mutate(rng, &recs[i].1),
        }
    }
    framed(&recs)
}

/// `FUZZ_ITERS` (mutations per seed), else `default`.
pub fn iters(default: usize) -> usize {
    std::env::var("FUZZ_ITERS").ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}

/// With `FUZZ_SEED_DIR` set, write the seeds to `DIR/name/` (a cargo-fuzz corpus).
pub fn write_seeds(name: &str, seeds: &[Vec<u8>]) {
    if let Ok(dir) = std::env::var("FUZZ_SEED_DIR") {
        let d = Path::new(&dir).join(name);
        std::fs::create_dir_all(&d).unwrap();
        for (i, s) in seeds.iter().enumerate() {
            std::fs::write(d.join(format!("seed{i:03}")), s).unwrap();
        }
    }
}

/// Run `target` over `iters(default)` mutations of each seed (seeded: the same inputs every
/// run); with `FUZZ_SEED_DIR` set, first write the seeds to `DIR/name/` (a cargo-fuzz corpus).
/// Returns (runs, sum of what the target returned).
pub fn run(name: &str, seeds: &[Vec<u8>], seed: u64, default: usize, mut target: impl FnMut(&[u8]) -> u64) -> (u64, u64) {
    write_seeds(name, seeds);
    let mut rng = Rng(seed);
    let (mut runs, mut found) = (0u64, 0u64);
    let n = iters(default);
    for s in seeds {
        for _ in 0..n {
            let m = mutate_framed(&mut rng, s);
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| target(&m)));
            match r {
                Ok(x) => found += x,
                Err(_) => {
                    let p = std::env::temp_dir().join(format!("{name}-crash-{runs}.bin"));
                    std::fs::write(&p, &m).unwrap();
                    panic!("{name}: crash on a mutated input, written to {}", p.display());
                }
            }
            runs += 1;
        }
    }
    eprintln!("{name}: {runs} runs");
    (runs, found)
}

/// (frame number, ts, linktype, bytes) of a capture, through the engine's reader; at most `max`.
pub fn capture_frames(path: &Path, max: usize) -> Vec<(f64, u32, Vec<u8>)> {
    let mut r = CaptureReader::from_read(Box::new(std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))).unwrap();
    let mut out = Vec::new();
    while let Ok(Some(p)) = r.next_packet() {
        out.push((p.ts, p.linktype, p.data.to_vec()));
        if out.len() >= max {
            break;
        }
    }
    out
}

/// A capture's UDP datagrams as records: selector bit 0 = from the endpoint that did not send
/// the first one; (the rest of the selector is 0).
pub fn udp_records(path: &Path, max: usize) -> Vec<(u8, Vec<u8>)> {
    let mut first: Option<(Vec<u8>, u16)> = None;
    let mut out = Vec::new();
    for (_, _, f) in capture_frames(path, usize::MAX) {
        let Some(((sip, sport), _, payload)) = crate::pcap::udp(&f) else { continue };
        let a = first.get_or_insert((sip.clone(), sport)).clone();
        out.push((u8::from((sip, sport) != a), payload));
        if out.len() >= max {
            break;
        }
    }
    out
}

/// A gzip file's text.
pub fn gunzip_text(path: &Path) -> String {
    let mut s = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap()).read_to_string(&mut s).unwrap();
    s
}

/// The first flow of a session fixture (`data/session/*.flows.gz`) as records: its delivered
/// chunks in order, selector bit 0 = side B.
pub fn session_records(name: &str) -> Vec<(u8, Vec<u8>)> {
    let text = gunzip_text(&Path::new(DATA).join("session").join(format!("{name}.flows.gz")));
    let mut out = Vec::new();
    let (mut side, mut flows) = (0u8, 0);
    for line in text.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        match f[0] {
            "flow" => {
                flows += 1;
                if flows > 1 {
                    break;
                }
            }
            "d" => side = u8::from(f[1] == "b"),
            "c" => out.push((side, hex::decode(f[2]).unwrap())),
            _ => {}
        }
    }
    out
}
