//! Gzip-compressed captures: whole, in several members, cut short, damaged (issue 14 item 3: a
//! stream cut short keeps every packet decoded before the cut, with `capture_truncated`).

mod capture_support;

use std::io::Write;

use capture_support::{from_bytes, observe, one_byte, repo_root, Observed};
use flate2::write::GzEncoder;
use flate2::Compression;

const CUT: (&str, &str) = (
    "capture_truncated",
    "the gzip stream is damaged or cut short (Compressed file ended before the end-of-stream marker was reached)",
);

fn gz(b: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::new(6));
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

fn sample() -> Vec<u8> {
    std::fs::read(repo_root().join("pcaps/cisco_lab_mix.pcapng")).unwrap()
}

fn plain() -> Observed {
    observe(from_bytes(&sample()))
}

#[test]
fn whole_gzip_reads_as_the_plain_file() {
    let p = plain();
    assert_eq!(p.packets, 139);
    for o in [observe(from_bytes(&gz(&sample()))), observe(one_byte(&gz(&sample())))] {
        assert_eq!(o.format, "pcapng.gz");
        assert_eq!(o.list, p.list);
        assert_eq!(o.bytes_read, p.bytes_read);
        assert_eq!(o.warnings, p.warnings);
        assert_eq!(o.error, None);
    }
    // and from a file on disk
    let dir = capture_support::scratch("gzip_whole");
    let f = dir.join("cisco_lab_mix.pcapng.gz");
    std::fs::write(&f, gz(&sample())).unwrap();
    let o = observe(tlsinspect_core::capture::CaptureReader::open(&f));
    assert_eq!((o.format.as_str(), o.list.len()), ("pcapng.gz", 139));
}

#[test]
fn several_members_read_as_one_stream() {
    let s = sample();
    let p = plain();
    for cuts in [vec![1], vec![24, 25], vec![100, 5000, 5001, 30000], vec![s.len() - 1]] {
        let mut g = Vec::new();
        let mut at = 0;
        for &c in cuts.iter().chain([s.len()].iter()) {
            g.extend(gz(&s[at..c]));
            at = c;
        }
        let o = observe(from_bytes(&g));
        assert_eq!((o.format.as_str(), &o.list, &o.warnings), ("pcapng.gz", &p.list, &p.warnings), "{cuts:?}");
    }
}

/// Cut anywhere after the gzip header: every packet decoded before the cut is kept, in order,
/// then the gzip warning (and the parser's own for the record left incomplete).
#[test]
fn cut_short_keeps_what_was_decoded() {
    let p = plain();
    let g = gz(&sample());
    let mut kept_at_9000 = 0;
    for cut in (400..g.len()).step_by(97).chain([9000, g.len() - 8, g.len() - 1]) {
        let o = observe(from_bytes(&g[..cut]));
        assert_eq!(o.error, None, "cut {cut}");
        assert_eq!(o.warnings[0], (CUT.0.to_string(), CUT.1.to_string()), "cut {cut}");
        assert!(o.list.len() <= p.list.len());
        assert_eq!(o.list[..], p.list[..o.list.len()], "cut {cut}");
        if cut == 9000 {
            kept_at_9000 = o.list.len();
        }
        if cut >= g.len() - 8 {
            // only the trailer (CRC, size) is missing: every packet is there
            assert_eq!(o.list.len(), p.list.len());
        }
        assert_eq!(observe(one_byte(&g[..cut])).list, o.list, "cut {cut}");
    }
    // `gzip -c sample.pcapng | head -c 9000` (issue 14): packets, not zero
    assert!(kept_at_9000 > 20, "{kept_at_9000}");
}

/// Cut inside the gzip header: nothing decompressed, so not a capture (the one-line error).
#[test]
fn cut_in_the_gzip_header_is_not_a_capture() {
    let g = gz(&sample());
    for cut in 2..10 {
        let o = observe(from_bytes(&g[..cut]));
        assert_eq!(o.error.as_deref(), Some("not a pcap or pcapng capture: empty file at byte 0"));
    }
}

#[test]
fn damaged_stream_keeps_what_came_before() {
    let p = plain();
    let g = gz(&sample());
    for at in [2000, 8000, g.len() / 2, g.len() - 6] {
        let mut bad = g.clone();
        for b in &mut bad[at..at + 4] {
            *b ^= 0x5a;
        }
        let o = observe(from_bytes(&bad));
        // either the decompressor notices (a warning), or the bytes it gave break the framing
        // (an error after the packets before), as Python's reader would
        let warned = o.warnings.iter().any(|(c, d)| {
            c == "capture_truncated" && d.starts_with("the gzip stream is damaged or cut short (")
        });
        assert!(warned || o.error.is_some(), "at {at}: {:?}", o.warnings);
        // what was decoded before the damage is kept (a damaged block may hand out some bytes
        // that differ: only the packets before it are certain)
        let same = o.list.iter().zip(&p.list).take_while(|(a, b)| a == b).count();
        assert!(same > 0 || at < 4000, "at {at}");
        eprintln!("damage at {at}: {} packets, {:?}", o.list.len(), o.warnings);
    }
}

#[test]
fn trailing_garbage_after_the_last_member() {
    let p = plain();
    let mut g = gz(&sample());
    g.extend(b"garbage");
    let o = observe(from_bytes(&g));
    assert_eq!(o.list, p.list);
    // Python's gzip module words it so
    assert_eq!(o.warnings, vec![(
        "capture_truncated".to_string(),
        "the gzip stream is damaged or cut short (Not a gzipped file (b'ga'))".to_string()
    )]);
    // zero padding after a member is not an error (as in Python)
    let mut g = gz(&sample());
    g.extend([0u8; 1000]);
    let o = observe(from_bytes(&g));
    assert_eq!((o.list.len(), o.warnings.len()), (139, 0));
    // nor a member holding nothing
    let mut g = gz(&sample());
    g.extend(gz(b""));
    assert_eq!(observe(one_byte(&g)).list, p.list);
}
