//! IPv4 fragment reassembly bounds (issue 14 item 1): first copy wins on overlap, at most
//! `MAX_FRAG_DATAGRAMS` datagrams in progress, `MAX_FRAG_DATAGRAM_BYTES` per datagram,
//! `MAX_FRAG_AGE` seconds of capture time; every bound hit is counted by name.

mod link_support;

use link_support::*;
use tlsinspect_core::link::{LinkDecoder, MAX_FRAG_AGE, MAX_FRAG_DATAGRAMS, MAX_FRAG_DATAGRAM_BYTES};

fn frag(id: u16, off8: u16, more: bool, bytes: &[u8]) -> Vec<u8> {
    frag_from([10, 0, 0, 1], id, off8, more, bytes)
}

fn frag_from(src: [u8; 4], id: u16, off8: u16, more: bool, bytes: &[u8]) -> Vec<u8> {
    eth(0x0800, &ipv4(V4 { src, id, frag: off8 | if more { 0x2000 } else { 0 }, ..V4::default() }, bytes))
}

fn count(d: &LinkDecoder, k: &str) -> u64 {
    d.skipped.get(k).copied().unwrap_or(0)
}

/// Overlapping fragments with different bytes: the bytes received first stay.
#[test]
fn first_copy_wins_on_overlap() {
    let seg = tcp(&[], &[b'A'; 48]); // 68 bytes
    let mut other = seg.clone();
    for b in &mut other[20..] {
        *b = b'B';
    }
    let mut d = LinkDecoder::new();
    assert!(d.decode(1, &frag(1, 2, true, &other[16..40])).is_none()); // B at 16..40 first
    assert!(d.decode(1, &frag(1, 0, true, &seg[..32])).is_none()); // A at 0..32: 16..32 stay B
    assert!(d.decode(1, &frag(1, 3, true, &seg[24..56])).is_none()); // A at 24..56: 40..56 new
    let last = frag(1, 6, false, &other[48..]);
    let x = d.decode(1, &last).expect("complete");
    let got = &x.buf[x.l4 + 20..x.end];
    let want: Vec<u8> = (20..68).map(|i| if (16..40).contains(&i) || i >= 56 { b'B' } else { b'A' }).collect();
    assert_eq!(got, &want[..]);
    assert_eq!(count(&d, "ip_fragment_pending"), 3);
    assert_eq!(d.fragments_in_progress(), 0);
}

/// More datagrams in progress than the bound: the oldest is dropped, counted.
#[test]
fn table_full_drops_the_oldest() {
    let mut d = LinkDecoder::new();
    let n = MAX_FRAG_DATAGRAMS as u16 + 10;
    for id in 0..n {
        d.decode(1, &frag(id, 0, true, &[0; 16]));
    }
    assert_eq!(d.fragments_in_progress(), MAX_FRAG_DATAGRAMS);
    assert_eq!(count(&d, "ip_fragment_table_full"), 10);
    // datagram 0 was dropped: its last fragment alone does not complete it (and starts a new
    // datagram, which drops the oldest again: datagram 10)
    assert!(d.decode(1, &frag(0, 2, false, &[0; 8])).is_none());
    assert_eq!(count(&d, "ip_fragment_table_full"), 11);
    // datagram 20 is still there and completes (a datagram of zeros: TCP data offset 0 is the
    // TCP layer's business; the decoder hands it over)
    assert!(d.decode(1, &frag(20, 2, false, &[0; 8])).is_some());
    d.finish();
    assert_eq!(count(&d, "ip_fragment_expired"), MAX_FRAG_DATAGRAMS as u64 - 1);
    assert_eq!(d.fragments_in_progress(), 0);
}

/// Ten times the bound in datagrams of 1,000 fragments each stays within the bound
/// (issue 14: 1024 x 1000 incomplete fragments peaked at 1.59 GB in Python).
#[test]
fn ten_times_the_table_stays_bounded() {
    let mut d = LinkDecoder::new();
    for id in 0..(10 * MAX_FRAG_DATAGRAMS) as u32 {
        let src = [10, (id >> 16) as u8, (id >> 8) as u8, id as u8];
        // every other 8-byte piece: never complete
        for k in (0..40u16).step_by(2) {
            d.decode(1, &frag_from(src, 7, k, true, &[1; 8]));
        }
        assert!(d.fragments_in_progress() <= MAX_FRAG_DATAGRAMS);
    }
    assert_eq!(count(&d, "ip_fragment_table_full"), 9 * MAX_FRAG_DATAGRAMS as u64);
}

/// Thousands of overlapping fragments of one datagram: each is copied once (issue 14: the Python
/// engine rebuilt the datagram on every fragment, 5 minutes of CPU); the datagram completes when
/// covered, with the first bytes received.
#[test]
fn many_overlapping_fragments_complete_once() {
    let seg = tcp(&[], &[b'x'; 1980]); // 2000 bytes
    let mut d = LinkDecoder::new();
    let mut done = 0;
    for round in 0..20u16 {
        for k in (0..248u16).rev() {
            let at = (k * 8) as usize;
            let piece = &seg[at..(at + 16).min(seg.len() - 8)];
            if d.decode(1, &frag(round, k, true, piece)).is_some() {
                done += 1;
            }
        }
        assert!(d.decode(1, &frag(round, 249, false, &seg[1992..])).is_some(), "round {round}");
        done += 1;
    }
    assert_eq!(done, 20);
    assert_eq!(d.fragments_in_progress(), 0);
}

#[test]
fn too_large_datagrams_are_dropped() {
    let mut d = LinkDecoder::new();
    // a fragment whose end passes 65,535 bytes of datagram (header included)
    let last_off = ((MAX_FRAG_DATAGRAM_BYTES - 20) / 8) as u16; // 8189: bytes 65512..
    d.decode(1, &frag(1, 0, true, &[0; 64]));
    assert_eq!(d.fragments_in_progress(), 1);
    assert!(d.decode(1, &frag(1, last_off, false, &[0; 24])).is_none());
    assert_eq!(count(&d, "ip_fragment_too_large"), 1);
    assert_eq!(d.fragments_in_progress(), 0);
    // exactly 65,535 bytes: fine (not complete, but kept)
    d.decode(1, &frag(2, last_off, false, &[0; 3]));
    assert_eq!((count(&d, "ip_fragment_too_large"), d.fragments_in_progress()), (1, 1));
    // the largest offset the field holds, with data: too large
    d.decode(1, &frag(3, 0x1FFF, false, &[0; 8]));
    assert_eq!(count(&d, "ip_fragment_too_large"), 2);
    // a datagram completed within 65,535 bytes of payload but with a 24-byte first header
    // would exceed 65,535 in all: dropped at completion
    let mut d = LinkDecoder::new();
    let first = eth(0x0800, &ipv4(V4 { id: 4, frag: 0x2000, options: vec![1, 1, 1, 0], ..V4::default() }, &[0; 8]));
    d.decode(1, &first);
    let mut fill = Vec::new();
    for k in (1..8189u16).step_by(180) {
        fill.push(frag(4, k, true, &vec![0; 1440.min((8189 - k as usize) * 8)]));
    }
    for f in &fill {
        assert!(d.decode(1, f).is_none());
    }
    assert!(d.decode(1, &frag(4, 8189, false, &[0; 3])).is_none());
    assert_eq!(count(&d, "ip_fragment_too_large"), 1, "{:?}", d.skipped);
    assert_eq!(d.fragments_in_progress(), 0);
}

/// A datagram whose fragments span more than 30 s of capture time expires; so do those still
/// incomplete at the end (`finish`).
#[test]
fn datagrams_expire_after_30_seconds_of_capture_time() {
    assert_eq!(MAX_FRAG_AGE, 30.0);
    let seg = tcp(&[], &[7; 20]);
    let mut d = LinkDecoder::new();
    assert!(d.decode_at(100.0, 1, &frag(1, 0, true, &seg[..16])).is_none());
    assert!(d.decode_at(110.0, 1, &frag(2, 0, true, &seg[..16])).is_none());
    // 30 s after the first fragment: still in time
    assert!(d.decode_at(130.0, 1, &frag(1, 2, false, &seg[16..])).is_some());
    // 30.5 s after datagram 2's first fragment: expired, and this fragment starts a new one
    assert!(d.decode_at(140.5, 1, &frag(2, 2, false, &seg[16..])).is_none());
    assert_eq!(count(&d, "ip_fragment_expired"), 1);
    assert_eq!(d.fragments_in_progress(), 1);
    // old datagrams expire when any fragment arrives later
    d.decode_at(141.0, 1, &frag(3, 0, true, &seg[..16]));
    d.decode_at(200.0, 1, &frag(4, 0, true, &seg[..16]));
    assert_eq!(count(&d, "ip_fragment_expired"), 3);
    assert_eq!(d.fragments_in_progress(), 1);
    // set_time + decode is decode_at
    d.set_time(201.0);
    assert!(d.decode(1, &frag(4, 2, false, &seg[16..])).is_some());
    // the end: what is left expires
    d.decode(1, &frag(5, 0, true, &seg[..16]));
    d.decode(1, &frag(6, 0, true, &seg[..16]));
    d.finish();
    assert_eq!(count(&d, "ip_fragment_expired"), 5);
    assert_eq!(d.fragments_in_progress(), 0);
    // time going backwards expires nothing
    let mut d = LinkDecoder::new();
    d.decode_at(500.0, 1, &frag(1, 0, true, &seg[..16]));
    assert!(d.decode_at(10.0, 1, &frag(1, 2, false, &seg[16..])).is_some());
}
