//! Synthetic pcap and pcapng files, built here, read as Python's reader reads them: both byte
//! orders, µs and ns, snaplen and caplen limits, far-future timestamps, several pcapng sections
//! and interfaces, `if_tsresol` (decimal and binary) and `if_tsoffset`, EPB/SPB/obsolete PB,
//! unknown blocks, Decryption Secrets Blocks, every framing error, files cut at every byte.
//!
//! Expectations: `cargo test --test capture_formats -- --ignored dump` with `R1_DUMP=DIR` writes
//! every case to DIR/NAME; the script in `capture_files.rs`'s header run as
//! `emit.py DIR DIR/*` printed the `EXPECT` literals below from Python's reader. The every-prefix
//! digests come from the script in `every_prefix_matches_python`'s comment.

mod capture_support;

use capture_support::build::*;
use capture_support::{check, from_bytes, observe, one_byte, Expect, Observed};
use sha2::{Digest, Sha256};

/// The synthetic captures, by name.
fn cases() -> Vec<(&'static str, Vec<u8>)> {
    let mut v: Vec<(&'static str, Vec<u8>)> = Vec::new();
    for (name, big, nano) in [
        ("pcap_le_us", false, false),
        ("pcap_be_us", true, false),
        ("pcap_le_ns", false, true),
        ("pcap_be_ns", true, true),
    ] {
        let scale = if nano { 999_999_999 } else { 999_999 };
        let mut f = pcap_header(big, nano, 100, 0x1000_0001); // FCS flag bits over Ethernet
        f.extend(pcap_record(big, 1_700_000_000, 1, &frame(1, 60), 60));
        f.extend(pcap_record(big, 1_700_000_001, scale, &frame(2, 99), 1500));
        f.extend(pcap_record(big, 1_700_000_002, 123_457, &[], 0)); // no data: skipped
        f.extend(pcap_record(
            big,
            1_700_000_003,
            scale / 3,
            &frame(3, 150),
            150,
        )); // > snaplen
        f.extend(pcap_record(big, 1_700_000_004, 7, &frame(4, 120), 120)); // warned once only
        f.extend(pcap_record(big, 4_000_000_000, 5, &frame(5, 20), 20)); // year 2096: fine
        f.extend(pcap_record(big, 0, 0, &frame(6, 1), 1));
        v.push((name, f));
    }
    // snaplen 0: no warning; a record cut short at the end
    let mut f = pcap_header(false, false, 0, 101);
    f.extend(pcap_record(false, 10, 20, &frame(7, 300), 300));
    let mut last = pcap_record(false, 11, 0, &frame(8, 80), 80);
    last.truncate(50);
    f.extend(last);
    v.push(("pcap_cut_in_record", f));
    // a record header cut short
    let mut f = pcap_header(true, false, 65535, 1);
    f.extend(pcap_record(true, 10, 20, &frame(9, 64), 64));
    f.extend([0u8; 9]);
    v.push(("pcap_cut_in_header", f));
    // a lying caplen after two packets: an error after them
    let mut f = pcap_header(false, true, 65535, 1);
    f.extend(pcap_record(false, 10, 20, &frame(10, 64), 64));
    f.extend(pcap_record(false, 10, 21, &frame(11, 64), 64));
    f.extend(
        Bytes::new(false)
            .u32(1)
            .u32(2)
            .u32(262_145)
            .u32(5)
            .b
            .clone(),
    );
    f.extend([0u8; 40]);
    v.push(("pcap_caplen_too_big", f));
    // at the limit: accepted
    let mut f = pcap_header(false, false, 0, 1);
    f.extend(pcap_record(false, 10, 20, &vec![0x45; 262_144], 262_144));
    v.push(("pcap_caplen_at_limit", f));
    // far-future timestamps (> 2262): 0.0, warned once
    let mut f = pcap_header(false, false, 0, 1);
    f.extend(pcap_record(
        false,
        4_294_967_295,
        999_999,
        &frame(12, 40),
        40,
    ));
    f.extend(pcap_record(false, 1, 0, &frame(13, 40), 40));
    v.push(("pcap_far_future", f));
    let mut f = pcap_header(false, true, 0, 1);
    f.extend(pcap_record(
        false,
        4_294_967_295,
        999_999_999,
        &frame(12, 40),
        40,
    ));
    v.push(("pcap_ns_far_future", f));
    // heads that are not captures, or cut short
    v.push(("empty", Vec::new()));
    v.push((
        "pcap_header_cut",
        pcap_header(false, false, 0, 1)[..10].to_vec(),
    ));
    v.push((
        "pcap_magic_only",
        pcap_header(true, true, 0, 1)[..4].to_vec(),
    ));
    v.push(("pcap_header_only", pcap_header(true, true, 0, 1)));
    v.push(("three_bytes", vec![0xd4, 0xc3, 0xb2]));
    v.push((
        "text",
        b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n".to_vec(),
    ));
    v.push(("jpeg", [&[0xffu8, 0xd8, 0xff, 0xe0][..], &[0; 40]].concat()));
    v.push(("zstd", [&[0x28u8, 0xb5, 0x2f, 0xfd][..], &[1; 30]].concat()));
    v.push((
        "binary",
        vec![
            0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x80, 0x81, 0x82, 0x83, 0, 0, 0, 0, 0,
            0, 0, 0, 0, 0, 0, 0, 0,
        ],
    ));

    // pcapng: two sections of different byte orders, several interfaces, every packet block
    let mut f = shb(false);
    f.extend(idb(false, 1, 0, &[]));
    f.extend(idb(
        false,
        113,
        96,
        &[opt(false, 9, &[9]), opt(false, 2, b"eth0 name")],
    ));
    f.extend(idb(
        false,
        101,
        0,
        &[
            opt(false, 9, &[0x8a]),
            opt(false, 14, &1000i64.to_le_bytes()),
        ],
    ));
    f.extend(idb(
        false,
        228,
        0,
        &[
            opt(false, 9, &[3]),
            opt(false, 14, &(-100i64).to_le_bytes()),
        ],
    ));
    f.extend(epb(false, 0, 1_700_000_000_123_456, &frame(20, 70), 70));
    f.extend(epb(
        false,
        1,
        1_700_000_000_123_456_789,
        &frame(21, 71),
        700,
    ));
    f.extend(epb(
        false,
        2,
        1_740_000_000 * 1024 + 1023,
        &frame(22, 72),
        72,
    ));
    f.extend(epb(false, 3, 1_700_000_000_123, &frame(23, 73), 73));
    f.extend(epb(false, 3, 99_999, &frame(24, 10), 10)); // 99.999 s - 100 s < 0: out of range
    f.extend(epb(false, 0, 5, &[], 0)); // no data: skipped
    f.extend(epb(false, 7, 5, &frame(25, 10), 10)); // no such interface
    f.extend(epb(false, 9, 5, &frame(25, 10), 10)); // warned once
    f.extend(spb(false, 200, &frame(26, 200))); // SPB: interface 0, ts 0
    f.extend(pb(false, 1, 1_700_000_001_000_000_000, &frame(27, 30), 30)); // obsolete PB
    f.extend(block(
        false,
        4,
        &[
            1, 0, 8, 0, 10, 0, 0, 1, b'h', b'o', b's', b't', 0, 0, 0, 0, 0, 0, 0, 0,
        ],
    )); // NRB
    f.extend(block(false, 5, &[0; 16])); // ISB
    f.extend(block(false, 0x0BAD, &[0xee; 24])); // custom / unknown
    f.extend(dsb(false, 0x544c_534b, b"CLIENT_RANDOM 00 11\n"));
    f.extend(dsb(false, 0x5750_4b4c, b"wireguard keys")); // not a TLS key log: ignored
                                                          // a packet block too short, and one whose caplen runs past it
    f.extend(block(false, 6, &[0; 16]));
    let mut lying = Bytes::new(false);
    lying.u32(0).u32(0).u32(1).u32(64).u32(64).raw(&[0; 8]);
    f.extend(block(false, 6, &lying.b));
    // section 2, big-endian: interfaces start again
    f.extend(shb(true));
    f.extend(epb(true, 1, 1, &frame(28, 10), 10)); // interface 1 of the old section: gone
    f.extend(idb(
        true,
        276,
        50,
        &[opt(true, 9, &[0x83]), opt(true, 14, &7i64.to_be_bytes())],
    ));
    f.extend(epb(true, 0, 13_600_000_000, &frame(29, 60), 60));
    f.extend(spb(true, 80, &frame(30, 80))); // the snaplen (50) caps the SPB's data
    f.extend(spb(true, 0, &frame(31, 8))); // orig 0: nothing captured, skipped
    f.extend(dsb(true, 0x544c_534b, b"CLIENT_RANDOM 22 33"));
    f.extend(dsb(true, 0x544c_534b, b"CLIENT_RANDOM 44 55\n"));
    f.extend(pb(true, 0, 1, &frame(32, 20), 20));
    v.push(("pcapng_sections", f));

    // timestamp resolutions: seconds, ms, 2^-3, 10^-127, 2^-127 (and 10^-6 written out)
    let mut f = shb(true);
    for r in [0u8, 3, 0x83, 127, 0xff, 6, 19] {
        f.extend(idb(true, 1, 0, &[opt(true, 9, &[r])]));
    }
    for i in 0..7u32 {
        f.extend(epb(
            true,
            i,
            1_700_000_123_456_789_123,
            &frame(40 + i as u8, 20),
            20,
        ));
        f.extend(epb(true, i, 1_700_000_123, &frame(50 + i as u8, 20), 20));
    }
    v.push(("pcapng_tsresol", f));

    // pcapng framing errors after some packets
    let good = |big: bool| {
        let mut f = shb(big);
        f.extend(idb(big, 1, 0, &[]));
        f.extend(epb(big, 0, 1_000_000, &frame(60, 40), 40));
        f
    };
    let mut f = good(false);
    f.extend(Bytes::new(false).u32(6).u32(30).raw(&[0; 22]).b.clone());
    v.push(("pcapng_len_not_4", f));
    let mut f = good(true);
    f.extend(Bytes::new(true).u32(6).u32(8).u32(8).b.clone());
    v.push(("pcapng_len_under_12", f));
    let mut f = good(false);
    f.extend(
        Bytes::new(false)
            .u32(6)
            .u32(17 * 1024 * 1024)
            .u32(0)
            .b
            .clone(),
    );
    v.push(("pcapng_len_huge", f));
    let mut f = good(false);
    let mut b = epb(false, 0, 5, &frame(61, 40), 40);
    let n = b.len();
    b[n - 4] ^= 4;
    f.extend(b);
    v.push(("pcapng_bad_trailer", f));
    let mut f = good(false);
    let mut s = shb(false);
    s[8..12].copy_from_slice(&[1, 2, 3, 4]);
    f.extend(s);
    v.push(("pcapng_bad_bom", f));
    let mut f = good(false);
    f.extend(block(false, 1, &[1, 0, 0]));
    v.push(("pcapng_idb_short", f));
    let mut f = good(false);
    f.extend(block(
        false,
        1,
        &Bytes::new(false)
            .u16(1)
            .u16(0)
            .u32(0)
            .u16(9)
            .u16(1)
            .b
            .clone(),
    ));
    v.push(("pcapng_idb_option_cut", f));
    let mut f = good(false);
    f.extend(block(
        false,
        1,
        &Bytes::new(false)
            .u16(1)
            .u16(0)
            .u32(0)
            .u16(14)
            .u16(8)
            .raw(&[1, 2, 3, 4])
            .b
            .clone(),
    ));
    v.push(("pcapng_idb_tsoffset_cut", f));
    let mut f = good(true);
    f.extend(epb(true, 0, 6, &frame(62, 40), 40)[..30].to_vec());
    v.push(("pcapng_cut_in_block", f));
    let mut f = good(true);
    f.extend([0u8; 7]);
    v.push(("pcapng_cut_in_header", f));
    let mut f = shb(false);
    f.extend(spb(false, 10, &frame(63, 10))); // before any interface
    f.extend(idb(false, 1, 0, &[]));
    f.extend(spb(false, 10, &frame(63, 10)));
    v.push(("pcapng_spb_first", f));
    v.push(("pcapng_shb_only", shb(true)));
    v.push(("pcapng_shb_cut", shb(false)[..20].to_vec()));
    v.push(("pcapng_magic_only", shb(false)[..4].to_vec()));
    v.push(("pcapng_12_bytes", shb(false)[..12].to_vec()));
    v
}

#[test]
#[ignore]
fn dump() {
    let dir = std::env::var("R1_DUMP").expect("R1_DUMP=DIR");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, bytes) in cases() {
        std::fs::write(std::path::Path::new(&dir).join(name), bytes).unwrap();
    }
}

/// Printed by Python's reader over the `dump` files (see the header).
const EXPECT: &[Expect] = &[
    Expect { path: "binary", packets: 0, skipped: 0, format: "", bytes_read: 0, warnings: &[], error: Some("not a pcap or pcapng capture: unknown magic 0x00010203 at byte 0"), sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", first_ts: None, last_ts: None },
    Expect { path: "empty", packets: 0, skipped: 0, format: "", bytes_read: 0, warnings: &[], error: Some("not a pcap or pcapng capture: empty file at byte 0"), sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", first_ts: None, last_ts: None },
    Expect { path: "jpeg", packets: 0, skipped: 0, format: "", bytes_read: 0, warnings: &[], error: Some("not a pcap or pcapng capture: a JPEG image at byte 0"), sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", first_ts: None, last_ts: None },
    Expect { path: "pcap_be_ns", packets: 6, skipped: 1, format: "pcap", bytes_read: 586, warnings: &[("caplen_over_snaplen", "a packet has 150 captured bytes, more than the snaplen 100")], error: None, sha256: "9b71741634c4c32f508f91291b64de18de5b8a5e3c51e4dc4aa2c72151b255e1", first_ts: Some(0x41d954fc40000000), last_ts: Some(0x0000000000000000) },
    Expect { path: "pcap_be_us", packets: 6, skipped: 1, format: "pcap", bytes_read: 586, warnings: &[("caplen_over_snaplen", "a packet has 150 captured bytes, more than the snaplen 100")], error: None, sha256: "a89ca9ea971a926814933224f89dc8a27b72f454e98ef37cea11d41c06ccea82", first_ts: Some(0x41d954fc40000004), last_ts: Some(0x0000000000000000) },
    Expect { path: "pcap_caplen_at_limit", packets: 1, skipped: 0, format: "pcap", bytes_read: 262184, warnings: &[], error: None, sha256: "064652d45e119745ab7c52e03f3e01244a75a466936f5621e069b3b5fe9c91a9", first_ts: Some(0x402400029f16b11c), last_ts: Some(0x402400029f16b11c) },
    Expect { path: "pcap_caplen_too_big", packets: 2, skipped: 0, format: "pcap", bytes_read: 240, warnings: &[], error: Some("packet record claims 262145 captured bytes, bigger than the maximum of 262144 (corrupt file?) at byte 184"), sha256: "ba61eccb2783124f07b85e58c35a2905436986e0abd1ceb5a0ac57de3f00ba9d", first_ts: Some(0x4024000000abcc77), last_ts: Some(0x4024000000b4637d) },
    Expect { path: "pcap_cut_in_header", packets: 1, skipped: 0, format: "pcap", bytes_read: 113, warnings: &[("capture_truncated", "the capture is cut short in the middle of a packet (9 bytes left over)")], error: None, sha256: "532ac1f72f930ce64d3d4d65fda1cedf1507d77bdb64c5feb47187aac0d89581", first_ts: Some(0x402400029f16b11c), last_ts: Some(0x402400029f16b11c) },
    Expect { path: "pcap_cut_in_record", packets: 1, skipped: 0, format: "pcap", bytes_read: 390, warnings: &[("capture_truncated", "the capture is cut short in the middle of a packet (50 bytes left over)")], error: None, sha256: "7c85fc7658582bf5ea86358acd227c9db5064a6f806c3ee7676c5f911339ad40", first_ts: Some(0x402400029f16b11c), last_ts: Some(0x402400029f16b11c) },
    Expect { path: "pcap_far_future", packets: 2, skipped: 0, format: "pcap", bytes_read: 136, warnings: &[], error: None, sha256: "fd285761f1014b6b8cd8e040d905ee234063ad5b258dd2fa90e7a0bbebd6b5d2", first_ts: Some(0x41effffffffffffe), last_ts: Some(0x3ff0000000000000) },
    Expect { path: "pcap_header_cut", packets: 0, skipped: 0, format: "", bytes_read: 0, warnings: &[], error: Some("pcap file header cut short at byte 10"), sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", first_ts: None, last_ts: None },
    Expect { path: "pcap_header_only", packets: 0, skipped: 0, format: "pcap", bytes_read: 24, warnings: &[], error: None, sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", first_ts: None, last_ts: None },
    Expect { path: "pcap_le_ns", packets: 6, skipped: 1, format: "pcap", bytes_read: 586, warnings: &[("caplen_over_snaplen", "a packet has 150 captured bytes, more than the snaplen 100")], error: None, sha256: "9b71741634c4c32f508f91291b64de18de5b8a5e3c51e4dc4aa2c72151b255e1", first_ts: Some(0x41d954fc40000000), last_ts: Some(0x0000000000000000) },
    Expect { path: "pcap_le_us", packets: 6, skipped: 1, format: "pcap", bytes_read: 586, warnings: &[("caplen_over_snaplen", "a packet has 150 captured bytes, more than the snaplen 100")], error: None, sha256: "a89ca9ea971a926814933224f89dc8a27b72f454e98ef37cea11d41c06ccea82", first_ts: Some(0x41d954fc40000004), last_ts: Some(0x0000000000000000) },
    Expect { path: "pcap_magic_only", packets: 0, skipped: 0, format: "", bytes_read: 0, warnings: &[], error: Some("pcap file header cut short at byte 4"), sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", first_ts: None, last_ts: None },
    Expect { path: "pcap_ns_far_future", packets: 1, skipped: 0, format: "pcap", bytes_read: 80, warnings: &[], error: None, sha256: "8ad4d34019b3ec545a383dba4915b652cc1ab6f944483aca62c6ec9dd67fa0d9", first_ts: Some(0x41f0000000000000), last_ts: Some(0x41f0000000000000) },
    Expect { path: "pcapng_12_bytes", packets: 0, skipped: 0, format: "pcapng", bytes_read: 12, warnings: &[("capture_truncated", "the capture is cut short in the middle of a block (12 bytes left over)")], error: None, sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", first_ts: None, last_ts: None },
    Expect { path: "pcapng_bad_bom", packets: 1, skipped: 0, format: "pcapng", bytes_read: 148, warnings: &[], error: Some("pcapng section header with a bad byte-order magic at byte 120"), sha256: "8192fbcb17ec4117c33f4d373038d0ea4a06eb8484fcf2d29d84b990ed779cf1", first_ts: Some(0x3ff0000000000000), last_ts: Some(0x3ff0000000000000) },
    Expect { path: "pcapng_bad_trailer", packets: 1, skipped: 0, format: "pcapng", bytes_read: 192, warnings: &[], error: Some("pcapng block length 72 does not match its trailer 76 at byte 120"), sha256: "8192fbcb17ec4117c33f4d373038d0ea4a06eb8484fcf2d29d84b990ed779cf1", first_ts: Some(0x3ff0000000000000), last_ts: Some(0x3ff0000000000000) },
    Expect { path: "pcapng_cut_in_block", packets: 1, skipped: 0, format: "pcapng", bytes_read: 150, warnings: &[("capture_truncated", "the capture is cut short in the middle of a block (30 bytes left over)")], error: None, sha256: "8192fbcb17ec4117c33f4d373038d0ea4a06eb8484fcf2d29d84b990ed779cf1", first_ts: Some(0x3ff0000000000000), last_ts: Some(0x3ff0000000000000) },
    Expect { path: "pcapng_cut_in_header", packets: 1, skipped: 0, format: "pcapng", bytes_read: 127, warnings: &[("capture_truncated", "the capture is cut short in the middle of a block (7 bytes left over)")], error: None, sha256: "8192fbcb17ec4117c33f4d373038d0ea4a06eb8484fcf2d29d84b990ed779cf1", first_ts: Some(0x3ff0000000000000), last_ts: Some(0x3ff0000000000000) },
    Expect { path: "pcapng_idb_option_cut", packets: 1, skipped: 0, format: "pcapng", bytes_read: 144, warnings: &[], error: Some("pcapng block of type 0x1 is malformed at byte 120"), sha256: "8192fbcb17ec4117c33f4d373038d0ea4a06eb8484fcf2d29d84b990ed779cf1", first_ts: Some(0x3ff0000000000000), last_ts: Some(0x3ff0000000000000) },
    Expect { path: "pcapng_idb_short", packets: 1, skipped: 0, format: "pcapng", bytes_read: 136, warnings: &[], error: Some("pcapng interface description block too short at byte 120"), sha256: "8192fbcb17ec4117c33f4d373038d0ea4a06eb8484fcf2d29d84b990ed779cf1", first_ts: Some(0x3ff0000000000000), last_ts: Some(0x3ff0000000000000) },
    Expect { path: "pcapng_idb_tsoffset_cut", packets: 1, skipped: 0, format: "pcapng", bytes_read: 148, warnings: &[], error: Some("pcapng block of type 0x1 is malformed at byte 120"), sha256: "8192fbcb17ec4117c33f4d373038d0ea4a06eb8484fcf2d29d84b990ed779cf1", first_ts: Some(0x3ff0000000000000), last_ts: Some(0x3ff0000000000000) },
    Expect { path: "pcapng_len_huge", packets: 1, skipped: 0, format: "pcapng", bytes_read: 132, warnings: &[], error: Some("pcapng block length 17825792 is implausibly large at byte 120"), sha256: "8192fbcb17ec4117c33f4d373038d0ea4a06eb8484fcf2d29d84b990ed779cf1", first_ts: Some(0x3ff0000000000000), last_ts: Some(0x3ff0000000000000) },
    Expect { path: "pcapng_len_not_4", packets: 1, skipped: 0, format: "pcapng", bytes_read: 150, warnings: &[], error: Some("pcapng block length 30 is invalid (type 0x6) at byte 120"), sha256: "8192fbcb17ec4117c33f4d373038d0ea4a06eb8484fcf2d29d84b990ed779cf1", first_ts: Some(0x3ff0000000000000), last_ts: Some(0x3ff0000000000000) },
    Expect { path: "pcapng_len_under_12", packets: 1, skipped: 0, format: "pcapng", bytes_read: 132, warnings: &[], error: Some("pcapng block length 8 is invalid (type 0x6) at byte 120"), sha256: "8192fbcb17ec4117c33f4d373038d0ea4a06eb8484fcf2d29d84b990ed779cf1", first_ts: Some(0x3ff0000000000000), last_ts: Some(0x3ff0000000000000) },
    Expect { path: "pcapng_magic_only", packets: 0, skipped: 0, format: "pcapng", bytes_read: 4, warnings: &[("capture_truncated", "the capture is cut short in the middle of a block (4 bytes left over)")], error: None, sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", first_ts: None, last_ts: None },
    Expect { path: "pcapng_sections", packets: 10, skipped: 7, format: "pcapng", bytes_read: 1748, warnings: &[("timestamp_out_of_range", "a packet timestamp (-0 s) is out of range; such timestamps are shown as 1970-01-01"), ("packet_without_interface", "a packet names interface 7, which was never described"), ("bad_packet_block", "a packet block is too short"), ("caplen_over_block", "a packet's captured length runs past its block")], error: None, sha256: "8a8306d457b87a60e5edae0ac1aab54470b56cd04a6e717c06d9380d11a5115a", first_ts: Some(0x41d954fc4007e6b4), last_ts: Some(0x401c800000000000) },
    Expect { path: "pcapng_shb_cut", packets: 0, skipped: 0, format: "pcapng", bytes_read: 20, warnings: &[("capture_truncated", "the capture is cut short in the middle of a block (20 bytes left over)")], error: None, sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", first_ts: None, last_ts: None },
    Expect { path: "pcapng_shb_only", packets: 0, skipped: 0, format: "pcapng", bytes_read: 28, warnings: &[], error: None, sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", first_ts: None, last_ts: None },
    Expect { path: "pcapng_spb_first", packets: 1, skipped: 1, format: "pcapng", bytes_read: 104, warnings: &[("packet_without_interface", "a simple packet block comes before any interface")], error: None, sha256: "e22c3d79cd95b1b41bf5330c6aedfcd0c2c7b4c60ea01a4e56315e7433cace5e", first_ts: Some(0x0000000000000000), last_ts: Some(0x0000000000000000) },
    Expect { path: "pcapng_tsresol", packets: 14, skipped: 0, format: "pcapng", bytes_read: 980, warnings: &[("timestamp_out_of_range", "a packet timestamp (1700000123456789248 s) is out of range; such timestamps are shown as 1970-01-01")], error: None, sha256: "fdca7b97c7dcfd44be7c3ebcac34205d876ab485cd9f9680ebbce3649d2281fb", first_ts: Some(0x0000000000000000), last_ts: Some(0x3de75d57fbed9e51) },
    Expect { path: "text", packets: 0, skipped: 0, format: "", bytes_read: 0, warnings: &[], error: Some("not a pcap or pcapng capture: a text file at byte 0"), sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", first_ts: None, last_ts: None },
    Expect { path: "three_bytes", packets: 0, skipped: 0, format: "", bytes_read: 0, warnings: &[], error: Some("not a pcap or pcapng capture: unknown magic 0xd4c3b2 at byte 0"), sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", first_ts: None, last_ts: None },
    Expect { path: "zstd", packets: 0, skipped: 0, format: "", bytes_read: 0, warnings: &[], error: Some("not a pcap or pcapng capture: a zstd-compressed file (decompress it first) at byte 0"), sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", first_ts: None, last_ts: None },
];

fn case(name: &str) -> Vec<u8> {
    cases().into_iter().find(|(n, _)| *n == name).unwrap().1
}

#[test]
fn synthetic_captures_match_python() {
    let cases = cases();
    assert_eq!(cases.len(), EXPECT.len());
    for (name, bytes) in &cases {
        let e = EXPECT.iter().find(|e| e.path == *name).unwrap();
        check(e, &observe(from_bytes(bytes)));
        check(e, &observe(one_byte(bytes)));
    }
}

#[test]
fn synthetic_captures_read_from_files_match_python() {
    let dir = capture_support::scratch("capture_formats_files");
    for (name, bytes) in cases() {
        let p = dir.join(name);
        std::fs::write(&p, &bytes).unwrap();
        let e = EXPECT.iter().find(|e| e.path == name).unwrap();
        check(
            e,
            &observe(tlsinspect_core::capture::CaptureReader::open(&p)),
        );
    }
}

/// One line per prefix length, as the Python script below prints it.
fn prefix_line(len: usize, o: &Observed) -> String {
    let ws: Vec<String> = o.warnings.iter().map(|(c, d)| format!("{c}={d}")).collect();
    format!(
        "{len}|{}|{}|{}|{}|{}|{}|{}\n",
        o.packets,
        o.skipped,
        o.format,
        o.bytes_read,
        ws.join(";"),
        o.error.as_deref().unwrap_or("None"),
        o.sha256
    )
}

/// Every prefix of a few captures (cut at every byte): never a panic, and the same packets,
/// warnings and errors as Python for each. The digests were printed by this script over the
/// `dump` files and `pcaps/tls13_443.pcap`:
///
/// ```python
/// import sys, hashlib, struct, tempfile
/// from pathlib import Path
/// from inspector.sources.capture import CaptureReader
/// from inspector.errors import CaptureError
/// def line(p, L):
///     r = CaptureReader(Path(p)); h = hashlib.sha256(); n = 0; err = None
///     try:
///         for ts, lt, data, orig in r.packets():
///             h.update(struct.pack('<dIII', ts, lt, orig, len(data))); h.update(data); n += 1
///     except CaptureError as e:
///         err = str(e)
///     ws = ";".join(f"{w.code}={w.detail}" for w in r.warnings)
///     return f"{L}|{n}|{r.skipped_packets}|{r.format}|{r.bytes_read}|{ws}|{err}|{h.hexdigest()}\n"
/// for src in sys.argv[1:]:
///     data = Path(src).read_bytes(); d = hashlib.sha256()
///     with tempfile.TemporaryDirectory() as t:
///         f = Path(t) / "cut"
///         for L in range(len(data) + 1):
///             f.write_bytes(data[:L]); d.update(line(f, L).encode())
///     print(f'    ("{Path(src).name}", "{d.hexdigest()}"),')
/// ```
#[test]
fn every_prefix_matches_python() {
    const DIGESTS: &[(&str, &str)] = &[
        (
            "pcap_le_us",
            "3f16eaf995bcb5447a437a2ed46ad37d16c8c95fc8872cd5c667bdd722e9aadf",
        ),
        (
            "pcap_be_ns",
            "fdfe44bca53e89d9d37f6d82d5b407bbe66cecb5c1499c6cbe9295b9126d92da",
        ),
        (
            "pcapng_sections",
            "113aab1ac116daab2919e8ad8d771f40e676863b2593c361578f26afc80d24fb",
        ),
        (
            "pcapng_tsresol",
            "b69f9fd420e8c6b03ddfd139f819d095cb807e89466d8030c8e06f909569c7c1",
        ),
        (
            "tls13_443.pcap",
            "6a4bf18180c080bd2e160ea589f5d1256a7fede917644bf82a25014fb9c27f59",
        ),
    ];
    for (name, digest) in DIGESTS {
        let bytes = if name.ends_with(".pcap") {
            std::fs::read(capture_support::repo_root().join("pcaps").join(name)).unwrap()
        } else {
            case(name)
        };
        let mut h = Sha256::new();
        for len in 0..=bytes.len() {
            h.update(prefix_line(len, &observe(from_bytes(&bytes[..len]))).as_bytes());
        }
        assert_eq!(hex::encode(h.finalize()), *digest, "{name}");
    }
}

/// The key logs of Decryption Secrets Blocks of type TLSK, joined by newlines, in file order;
/// other secrets types are not key logs.
#[test]
fn decryption_secrets_blocks_give_the_key_log() {
    let o = observe(from_bytes(&case("pcapng_sections")));
    assert_eq!(
        String::from_utf8(o.keylog).unwrap(),
        "CLIENT_RANDOM 00 11\nCLIENT_RANDOM 22 33\nCLIENT_RANDOM 44 55\n"
    );
    assert!(observe(from_bytes(&case("pcap_le_us"))).keylog.is_empty());
}

/// Timestamps of each `if_tsresol`, computed as Python does (`10.0 ** -r`, `2.0 ** -r`), and
/// `if_tsoffset` added in seconds.
#[test]
fn timestamp_resolutions() {
    let o = observe(from_bytes(&case("pcapng_tsresol")));
    let ts: Vec<f64> = o.list.iter().map(|p| f64::from_bits(p.0)).collect();
    // seconds: out of range (year > 2262), then 1,700,000,123 s
    assert_eq!(ts[0], 0.0);
    assert_eq!(ts[1], 1_700_000_123.0);
    // milliseconds: 1.7e15 s is out of range
    assert_eq!(ts[2], 0.0);
    assert_eq!(ts[3], 1_700_000_123.0 * 10f64.powf(-3.0));
    assert!((ts[3] - 1_700_000.123).abs() < 1e-9);
    // 2^-3
    assert_eq!(ts[5], 1_700_000_123.0 / 8.0);
    // 10^-6, the default unit, written out
    assert_eq!(ts[11], 1_700_000_123.0 * 1e-6);
    let o = observe(from_bytes(&case("pcapng_sections")));
    let ts: Vec<f64> = o.list.iter().map(|p| f64::from_bits(p.0)).collect();
    assert_eq!(ts[0], 1_700_000_000_123_456.0 * 1e-6);
    assert_eq!(ts[1], 1_700_000_000_123_456_789.0 * 10f64.powf(-9.0));
    assert!((ts[1] - 1_700_000_000.123_456_8).abs() < 1e-6);
    assert_eq!(
        ts[2],
        (1_740_000_000u64 * 1024 + 1023) as f64 / 1024.0 + 1000.0
    );
    assert_eq!(ts[3], 1_700_000_000_123.0 * 10f64.powf(-3.0) + -100.0);
    assert_eq!(ts[4], 0.0); // 99.999 s - 100 s: negative, out of range
}
