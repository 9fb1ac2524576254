//! Bounds of the capture reader: chunked reading (bytes_read as Python's reader counts it),
//! gzip bombs of empty records (`empty_record_flood`, issue 14 item 6), FIFOs and paths.

mod capture_support;

use std::io::Write;

use capture_support::build::{pcap_header, pcap_record};
use capture_support::{from_bytes, observe, scratch};
use tlsinspect_core::capture::{CaptureReader, CHUNK, MAX_EMPTY_RUN};

/// `n` records of 100 bytes; record `bad` (if any) claims 300,000 bytes and 6 MB of zeros follow.
fn big(n: u32, bad: Option<u32>) -> Vec<u8> {
    let mut f = pcap_header(false, false, 65535, 1);
    for i in 0..n {
        if Some(i) == bad {
            f.extend(
                capture_support::build::Bytes::new(false)
                    .u32(1)
                    .u32(2)
                    .u32(300_000)
                    .u32(5)
                    .b
                    .clone(),
            );
            f.extend(vec![0u8; 6_000_000]);
            break;
        }
        f.extend(pcap_record(
            false,
            1000 + i,
            i % 1_000_000,
            &[i as u8; 100],
            100,
        ));
    }
    f
}

/// Python's reader reads 24 bytes, then chunks of 4 MiB: where framing breaks, `bytes_read` is
/// the end of the chunk holding the break. Expected values printed by Python's `CaptureReader`
/// over the same files (packets, bytes_read, error).
#[test]
fn bytes_read_counts_whole_chunks_as_python() {
    assert_eq!(CHUNK, 4 * 1024 * 1024);
    let cases: [(u32, Option<u32>, u64, u64, Option<&str>); 3] = [
        (50_000, Some(45_000), 45_000, 8_388_632, Some("packet record claims 300000 captured bytes, bigger than the maximum of 262144 (corrupt file?) at byte 5220024")),
        (100_000, Some(99_999), 99_999, 12_582_936, Some("packet record claims 300000 captured bytes, bigger than the maximum of 262144 (corrupt file?) at byte 11599908")),
        (50_000, None, 50_000, 5_800_024, None),
    ];
    for (n, bad, packets, bytes_read, error) in cases {
        let o = observe(from_bytes(&big(n, bad)));
        assert_eq!(
            (o.packets, o.bytes_read, o.error.as_deref()),
            (packets, bytes_read, error)
        );
        assert_eq!(f64::from_bits(o.list[1].0), 1001.0 + 1e-6);
    }
}

fn empty_records(n: u64, then_packet: bool) -> Vec<u8> {
    let mut f = pcap_header(false, false, 65535, 1);
    f.extend(pcap_record(false, 1, 0, &[1; 60], 60));
    let empty = pcap_record(false, 2, 0, &[], 0);
    for _ in 0..n {
        f.extend_from_slice(&empty);
    }
    if then_packet {
        f.extend(pcap_record(false, 3, 0, &[3; 60], 60));
    }
    f
}

#[test]
fn a_flood_of_empty_records_stops_reading() {
    // at the bound: read on
    // (figures from Python's reader of branch p14 on the same files: packets, skipped,
    // bytes_read, warnings)
    let o = observe(from_bytes(&empty_records(MAX_EMPTY_RUN, true)));
    assert_eq!(
        (o.packets, o.skipped, o.bytes_read, o.warnings.len()),
        (2, MAX_EMPTY_RUN, 16_000_176, 0)
    );
    // past it: stop, say so, and what follows is not read
    let o = observe(from_bytes(&empty_records(MAX_EMPTY_RUN + 5, true)));
    assert_eq!(
        (o.packets, o.skipped, o.bytes_read),
        (1, MAX_EMPTY_RUN + 1, 16_000_256)
    );
    assert_eq!(
        o.warnings,
        vec![(
            "empty_record_flood".to_string(),
            "more than 1000000 consecutive records carry no packet data; reading stopped there"
                .to_string(),
        )]
    );
    assert_eq!(o.error, None);
}

/// 1 GiB of empty records compressed to about 1 MB (issue 14: 44 s and no word): reading stops
/// after the first million, having decompressed about 16 MB.
#[test]
fn gzip_bomb_of_empty_records() {
    let gz = |b: &[u8]| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(9));
        e.write_all(b).unwrap();
        e.finish().unwrap()
    };
    // a gzip member of 65,536 empty big-endian records at ts 0, 1024 times over (members follow
    // one another in a gzip file)
    let member = gz(&vec![0u8; 16 * 65536]);
    let mut g = gz(&pcap_header(true, false, 0, 1));
    for _ in 0..1024 {
        g.extend_from_slice(&member);
    }
    assert!(g.len() < 2_000_000, "{}", g.len());
    let o = observe(from_bytes(&g));
    assert_eq!(o.format, "pcap.gz");
    assert_eq!((o.packets, o.skipped), (0, MAX_EMPTY_RUN + 1));
    assert_eq!(o.warnings[0].0, "empty_record_flood");
    assert!(o.bytes_read <= 24 + 5 * CHUNK as u64, "{}", o.bytes_read);
}

#[test]
fn open_errors_are_pythons() {
    let dir = scratch("capture_open_errors");
    let missing = dir.join("nosuch.pcap");
    let e = CaptureReader::open(&missing).unwrap_err();
    assert_eq!(
        e.message,
        format!(
            "cannot open {}: No such file or directory",
            missing.display()
        )
    );
    let e = CaptureReader::open(&dir).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("{} is a directory, not a capture file", dir.display())
    );
    let empty = dir.join("empty.pcap");
    std::fs::write(&empty, b"").unwrap();
    let e = CaptureReader::open(&empty).unwrap_err();
    assert_eq!(
        (e.message.as_str(), e.offset),
        ("not a pcap or pcapng capture: empty file at byte 0", 0)
    );
    // a character device is read as a stream: /dev/null holds nothing
    #[cfg(unix)]
    {
        let e = CaptureReader::open(std::path::Path::new("/dev/null")).unwrap_err();
        assert_eq!(
            e.message,
            "not a pcap or pcapng capture: empty file at byte 0"
        );
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let locked = dir.join("locked.pcap");
        std::fs::write(&locked, pcap_header(false, false, 0, 1)).unwrap();
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
        if std::fs::File::open(&locked).is_err() {
            // not root
            let e = CaptureReader::open(&locked).unwrap_err();
            assert_eq!(
                e.message,
                format!("cannot open {}: Permission denied", locked.display())
            );
        }
    }
}

/// A FIFO is read as a stream (Python's reader refuses it; the CLI passes `-` as a stream).
#[cfg(unix)]
#[test]
fn a_fifo_is_read_as_a_stream() {
    let dir = scratch("capture_fifo");
    let fifo = dir.join("cap.fifo");
    let st = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !st.map(|s| s.success()).unwrap_or(false) {
        eprintln!("skipped: no mkfifo");
        return;
    }
    let bytes = std::fs::read(capture_support::repo_root().join("pcaps/tls13_443.pcap")).unwrap();
    let writer = {
        let (fifo, bytes) = (fifo.clone(), bytes.clone());
        std::thread::spawn(move || {
            let mut f = std::fs::OpenOptions::new().write(true).open(fifo).unwrap();
            for piece in bytes.chunks(333) {
                f.write_all(piece).unwrap();
            }
        })
    };
    let o = observe(CaptureReader::open(&fifo));
    writer.join().unwrap();
    let want = observe(from_bytes(&bytes));
    assert_eq!((o.format.as_str(), o.packets), ("pcap", 16));
    assert_eq!(o.list, want.list);
}

/// Not a test: `R1_BENCH=FILE cargo test --release --test capture_limits -- --ignored read_speed
/// --nocapture` prints how fast FILE's packets are read and decoded (no timing is asserted).
#[test]
#[ignore]
fn read_speed() {
    let Ok(path) = std::env::var("R1_BENCH") else {
        return;
    };
    let t = std::time::Instant::now();
    let mut r = CaptureReader::open(std::path::Path::new(&path)).unwrap();
    let mut d = tlsinspect_core::link::LinkDecoder::new();
    let (mut n, mut tcp, mut bytes) = (0u64, 0u64, 0u64);
    let decode = std::env::var_os("R1_NODECODE").is_none();
    while let Ok(Some(p)) = r.next_packet() {
        n += 1;
        bytes += p.data.len() as u64;
        if decode && d.decode_at(p.ts, p.linktype, p.data).is_some() {
            tcp += 1;
        }
    }
    let s = t.elapsed().as_secs_f64();
    eprintln!(
        "{n} packets ({tcp} TCP), {bytes} bytes in {s:.3} s: {:.0} ns/packet, {:.0} MB/s",
        s * 1e9 / n as f64,
        bytes as f64 / s / 1e6
    );
}
