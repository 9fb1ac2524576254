//! Helpers shared by the capture tests: read a whole capture the way the Python reference test
//! script does, and compare with expectations it printed.
#![allow(dead_code)]

pub mod build;
pub mod mutate;

use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tlsinspect_core::capture::{CaptureError, CaptureReader};

/// What Python's `CaptureReader` gave for one capture (printed by the script in
/// `capture_files.rs`'s header comment).
#[derive(Debug)]
pub struct Expect {
    pub path: &'static str,
    pub packets: u64,
    pub skipped: u64,
    pub format: &'static str,
    pub bytes_read: u64,
    pub warnings: &'static [(&'static str, &'static str)],
    pub error: Option<&'static str>,
    /// SHA-256 over, for each packet: ts (f64 LE), linktype, orig_len, caplen (u32 LE), data.
    pub sha256: &'static str,
    pub first_ts: Option<u64>,
    pub last_ts: Option<u64>,
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Observed {
    pub packets: u64,
    pub skipped: u64,
    pub format: String,
    pub bytes_read: u64,
    pub warnings: Vec<(String, String)>,
    pub error: Option<String>,
    pub sha256: String,
    pub first_ts: Option<u64>,
    pub last_ts: Option<u64>,
    /// (ts bits, linktype, orig_len, data) of every packet.
    pub list: Vec<(u64, u32, u32, Vec<u8>)>,
    pub keylog: Vec<u8>,
}

/// Read every packet; an error from `open` leaves the reader's fields as Python's (empty).
pub fn observe(opened: Result<CaptureReader, CaptureError>) -> Observed {
    let mut o = Observed::default();
    let mut h = Sha256::new();
    let mut r = match opened {
        Ok(r) => r,
        Err(e) => {
            o.error = Some(e.message);
            o.sha256 = hex::encode(h.finalize());
            return o;
        }
    };
    loop {
        match r.next_packet() {
            Ok(Some(p)) => {
                h.update(p.ts.to_le_bytes());
                h.update(p.linktype.to_le_bytes());
                h.update(p.orig_len.to_le_bytes());
                h.update((p.data.len() as u32).to_le_bytes());
                h.update(p.data);
                o.packets += 1;
                o.first_ts.get_or_insert(p.ts.to_bits());
                o.last_ts = Some(p.ts.to_bits());
                o.list
                    .push((p.ts.to_bits(), p.linktype, p.orig_len, p.data.to_vec()));
            }
            Ok(None) => break,
            Err(e) => {
                assert_eq!(e.to_string(), e.message);
                o.error = Some(e.message);
                break;
            }
        }
    }
    // reading ended: more calls give nothing more
    assert!(matches!(r.next_packet(), Ok(None)));
    o.skipped = r.skipped_packets;
    o.format = r.format.clone();
    o.bytes_read = r.bytes_read;
    o.warnings = r
        .warnings
        .iter()
        .map(|w| (w.code.clone(), w.detail.clone()))
        .collect();
    o.sha256 = hex::encode(h.finalize());
    o.keylog = r.keylog.clone();
    o
}

pub fn check(e: &Expect, o: &Observed) {
    let p = e.path;
    assert_eq!(o.error.as_deref(), e.error, "{p}: error");
    assert_eq!(o.packets, e.packets, "{p}: packets");
    assert_eq!(o.skipped, e.skipped, "{p}: skipped");
    assert_eq!(o.format, e.format, "{p}: format");
    assert_eq!(o.bytes_read, e.bytes_read, "{p}: bytes_read");
    let ws: Vec<(String, String)> = e
        .warnings
        .iter()
        .map(|(c, d)| (c.to_string(), d.to_string()))
        .collect();
    assert_eq!(o.warnings, ws, "{p}: warnings");
    assert_eq!(o.first_ts, e.first_ts, "{p}: first timestamp");
    assert_eq!(o.last_ts, e.last_ts, "{p}: last timestamp");
    assert_eq!(o.sha256, e.sha256, "{p}: packets digest");
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A stream that hands out one byte per `read` call.
pub struct OneByte(pub Vec<u8>, pub usize);

impl Read for OneByte {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.1 >= self.0.len() || out.is_empty() {
            return Ok(0);
        }
        out[0] = self.0[self.1];
        self.1 += 1;
        Ok(1)
    }
}

pub fn from_bytes(b: &[u8]) -> Result<CaptureReader, CaptureError> {
    CaptureReader::from_read(Box::new(std::io::Cursor::new(b.to_vec())))
}

pub fn one_byte(b: &[u8]) -> Result<CaptureReader, CaptureError> {
    CaptureReader::from_read(Box::new(OneByte(b.to_vec(), 0)))
}

/// Where a test writes its files (under the target dir, one folder per test).
pub fn scratch(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}
