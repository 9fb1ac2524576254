//! Hostile DTLS: every truncation of every fixture datagram, seeded mutations, and floods of
//! fragments: never a panic, memory bounded, anomalies named.

#[path = "data/dtls/pcap.rs"]
mod pcap;

use tlsinspect_core::dtls::handshake::{Out, Reassembler, MAX_PARTIAL};
use tlsinspect_core::dtls::{record, DtlsAssociation, DtlsConfig};
use tlsinspect_core::tls::session::Side;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn datagrams(name: &str) -> Vec<(Side, Vec<u8>)> {
    let frames = pcap::frames(&pcap::data("dtls", name));
    let first = pcap::udp(&frames[0].2).unwrap().0;
    frames
        .iter()
        .filter_map(|(_, _, f)| pcap::udp(f))
        .map(|(src, _, p)| (if src == first { Side::A } else { Side::B }, p))
        .collect()
}

fn feed_all(dgs: &[(Side, Vec<u8>)]) -> DtlsAssociation {
    let mut a = DtlsAssociation::new(DtlsConfig::default());
    for (i, (side, d)) in dgs.iter().enumerate() {
        a.feed(*side, d, i as u64 + 1, i as f64);
    }
    let _ = a.flow();
    a
}

#[test]
fn every_truncation_of_every_datagram() {
    let dgs = datagrams("mutual_srtp.pcap");
    for k in 0..dgs.len() {
        for n in 0..dgs[k].1.len() {
            let mut cut = dgs.clone();
            cut[k].1.truncate(n);
            let a = feed_all(&cut);
            let f = a.flow();
            // a truncated record is named, the rest of the handshake goes on
            if n > 0 && record::demux(&dgs[k].1) == record::Demux::Dtls {
                assert!(f.records > 0);
            }
        }
    }
}

#[test]
fn seeded_mutations() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for name in ["mutual_srtp.pcap", "unknown_ca.pcap"] {
        let dgs = datagrams(name);
        for _ in 0..400 {
            let mut m = dgs.clone();
            for _ in 0..1 + rng.below(8) {
                let k = rng.below(m.len());
                let d = &mut m[k].1;
                if d.is_empty() {
                    continue;
                }
                match rng.below(4) {
                    0 => {
                        let i = rng.below(d.len());
                        d[i] = rng.next() as u8;
                    }
                    1 => {
                        let i = rng.below(d.len());
                        d[i] ^= 1 << rng.below(8);
                    }
                    2 => {
                        let i = rng.below(d.len());
                        d.insert(i, rng.next() as u8);
                    }
                    _ => {
                        let i = rng.below(d.len());
                        d[i] = 0xFF;
                    }
                }
            }
            let a = feed_all(&m);
            assert!(a.flow().anomalies.len() <= 128);
        }
    }
}

fn frag(msg_type: u8, length: usize, seq: u16, offset: usize, data: &[u8]) -> Vec<u8> {
    let mut v = vec![msg_type];
    v.extend_from_slice(&(length as u32).to_be_bytes()[1..]);
    v.extend_from_slice(&seq.to_be_bytes());
    v.extend_from_slice(&(offset as u32).to_be_bytes()[1..]);
    v.extend_from_slice(&(data.len() as u32).to_be_bytes()[1..]);
    v.extend_from_slice(data);
    v
}

fn record(ct: u8, epoch: u16, seq: u64, fragment: &[u8]) -> Vec<u8> {
    let mut v = vec![ct, 0xFE, 0xFD];
    v.extend_from_slice(&epoch.to_be_bytes());
    v.extend_from_slice(&seq.to_be_bytes()[2..]);
    v.extend_from_slice(&(fragment.len() as u16).to_be_bytes());
    v.extend_from_slice(fragment);
    v
}

#[test]
fn fragment_flood_is_bounded_and_named() {
    let max = 64 * 1024;
    let mut r = Reassembler::new(max);
    let mut out = Vec::new();
    // each fragment claims a large message at its last byte: the buffer never passes 2 * max
    for seq in 0..1000u16 {
        r.push(&frag(11, max, seq, max - 1, &[0]), &mut out);
        assert!(r.buffered() <= 2 * max);
    }
    assert!(out.iter().any(|o| matches!(o, Out::Anomaly { code: "dtls_too_many_fragments_pending", .. })));
    assert!(r.buffered() <= MAX_PARTIAL * max);

    let mut a = DtlsAssociation::new(DtlsConfig { max_message: 1000, ..DtlsConfig::default() });
    a.feed(Side::A, &record(22, 0, 0, &frag(1, 1_000_000, 0, 0, &[1, 2, 3])), 1, 0.0);
    let f = a.flow();
    assert_eq!(f.anomalies[0].0, "dtls_handshake_too_large");
    // a record claiming more bytes than the datagram holds
    let mut short = record(22, 0, 1, &[0; 40]);
    short.truncate(30);
    a.feed(Side::A, &short, 2, 0.1);
    assert!(a.flow().anomalies.iter().any(|(c, _)| c == "dtls_truncated_record"));
}

#[test]
fn records_are_only_counted_after_the_limit() {
    let mut a = DtlsAssociation::new(DtlsConfig { max_records: 5, ..DtlsConfig::default() });
    for i in 0..50u64 {
        a.feed(Side::A, &record(23, 0, i, &[0; 10]), i + 1, i as f64);
    }
    let f = a.flow();
    assert_eq!(f.records, 50);
    assert_eq!(a.session.appdata.get(Side::A).copied(), Some(5));
}
