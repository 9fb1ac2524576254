//! Test helper shared by `dtls_*.rs` and `eap_*.rs`: classic pcap (Ethernet) -> frames, and
//! IPv4/IPv6 UDP datagrams out of them. Only what the fixtures need; the engine's own reader is
//! elsewhere.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub fn data(sub: &str, name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(sub).join(name)
}

pub fn public(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/public").join(name)
}

/// (frame number from 1, timestamp, Ethernet frame)
pub fn frames(path: &Path) -> Vec<(u64, f64, Vec<u8>)> {
    let b = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let le = match &b[..4] {
        [0xD4, 0xC3, 0xB2, 0xA1] | [0x4D, 0x3C, 0xB2, 0xA1] => true,
        [0xA1, 0xB2, 0xC3, 0xD4] | [0xA1, 0xB2, 0x3C, 0x4D] => false,
        m => panic!("not a classic pcap: {m:?}"),
    };
    let nano = b[0] == 0x4D || b[3] == 0x4D;
    let u32_at = |i: usize| {
        let a = [b[i], b[i + 1], b[i + 2], b[i + 3]];
        if le {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        }
    };
    let mut out = Vec::new();
    let mut i = 24;
    while i + 16 <= b.len() {
        let sec = f64::from(u32_at(i));
        let frac = f64::from(u32_at(i + 4)) / if nano { 1e9 } else { 1e6 };
        let caplen = u32_at(i + 8) as usize;
        let frame = b[i + 16..(i + 16 + caplen).min(b.len())].to_vec();
        out.push((out.len() as u64 + 1, sec + frac, frame));
        i += 16 + caplen;
    }
    out
}

/// An Ethernet frame's ethertype and payload (VLAN tags skipped).
pub fn ether(frame: &[u8]) -> Option<(u16, &[u8])> {
    let mut i = 12;
    loop {
        let t = u16::from_be_bytes([*frame.get(i)?, *frame.get(i + 1)?]);
        if t == 0x8100 || t == 0x88A8 {
            i += 4;
            continue;
        }
        return Some((t, frame.get(i + 2..)?));
    }
}

/// A UDP datagram: ((src ip, src port), (dst ip, dst port), payload).
pub type Udp = ((Vec<u8>, u16), (Vec<u8>, u16), Vec<u8>);

pub fn udp(frame: &[u8]) -> Option<Udp> {
    let (t, p) = ether(frame)?;
    let (src, dst, l4) = match t {
        0x0800 => {
            let ihl = usize::from(p.first()? & 0x0F) * 4;
            if *p.get(9)? != 17 {
                return None;
            }
            let total = usize::from(u16::from_be_bytes([*p.get(2)?, *p.get(3)?]));
            (p.get(12..16)?.to_vec(), p.get(16..20)?.to_vec(), p.get(ihl..total.min(p.len()))?)
        }
        0x86DD => {
            if *p.get(6)? != 17 {
                return None;
            }
            (p.get(8..24)?.to_vec(), p.get(24..40)?.to_vec(), p.get(40..)?)
        }
        _ => return None,
    };
    let sport = u16::from_be_bytes([*l4.first()?, *l4.get(1)?]);
    let dport = u16::from_be_bytes([*l4.get(2)?, *l4.get(3)?]);
    let len = usize::from(u16::from_be_bytes([*l4.get(4)?, *l4.get(5)?]));
    Some(((src, sport), (dst, dport), l4.get(8..len.min(l4.len()))?.to_vec()))
}

/// `key=value` lines.
pub fn expect(path: &Path) -> std::collections::HashMap<String, String> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect()
}
