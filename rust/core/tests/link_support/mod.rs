//! Frame builders for the link tests: Ethernet and its tags, SLL/SLL2, loopback, IPv4 (options,
//! fragments), IPv6 (extension headers), TCP.
#![allow(dead_code)]

pub const A4: [u8; 4] = [10, 0, 0, 1];
pub const B4: [u8; 4] = [192, 168, 7, 200];
pub const A6: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
pub const B6: [u8; 16] = [
    0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x02, 0x11, 0x22, 0xff, 0xfe, 0x33, 0x44, 0x55,
];

/// A TCP header (ports 51000 -> 443, data offset from the options) and payload.
pub fn tcp(options: &[u8], payload: &[u8]) -> Vec<u8> {
    let doff = (20 + options.len()) / 4;
    let mut t = vec![
        0xc7,
        0x38,
        0x01,
        0xbb,
        0,
        0,
        0,
        1,
        0,
        0,
        0,
        0,
        (doff as u8) << 4,
        0x18,
        0xff,
        0xff,
        0,
        0,
        0,
        0,
    ];
    t.extend_from_slice(options);
    t.extend_from_slice(payload);
    t
}

pub struct V4 {
    pub proto: u8,
    pub src: [u8; 4],
    pub dst: [u8; 4],
    pub id: u16,
    /// flags (3 bits) and fragment offset (in 8-byte units), as on the wire
    pub frag: u16,
    pub options: Vec<u8>,
    /// the total length field; None: computed
    pub total: Option<u16>,
    pub ihl: Option<u8>,
}

impl Default for V4 {
    fn default() -> Self {
        V4 {
            proto: 6,
            src: A4,
            dst: B4,
            id: 0x1234,
            frag: 0x4000,
            options: Vec::new(),
            total: None,
            ihl: None,
        }
    }
}

pub fn ipv4(h: V4, payload: &[u8]) -> Vec<u8> {
    let hl = 20 + h.options.len();
    let total = h.total.unwrap_or((hl + payload.len()) as u16);
    let ihl = h.ihl.unwrap_or((hl / 4) as u8);
    let mut b = vec![0x40 | ihl, 0];
    b.extend(total.to_be_bytes());
    b.extend(h.id.to_be_bytes());
    b.extend(h.frag.to_be_bytes());
    b.extend([64, h.proto, 0, 0]);
    b.extend(h.src);
    b.extend(h.dst);
    b.extend(&h.options);
    b.extend(payload);
    b
}

pub fn v4tcp(payload: &[u8]) -> Vec<u8> {
    ipv4(V4::default(), &tcp(&[], payload))
}

/// IPv6 with next header `nh`, payload length from the payload (or `plen`).
pub fn ipv6(nh: u8, payload: &[u8], plen: Option<u16>) -> Vec<u8> {
    let mut b = vec![0x60, 0, 0, 0];
    b.extend(plen.unwrap_or(payload.len() as u16).to_be_bytes());
    b.extend([nh, 64]);
    b.extend(A6);
    b.extend(B6);
    b.extend(payload);
    b
}

/// An extension header of the 8-octet-unit kind (hop-by-hop, routing, destination options).
pub fn ext(next: u8, units: u8) -> Vec<u8> {
    let mut b = vec![next, units];
    b.resize(8 * (units as usize + 1), 0);
    b
}

/// AH: length in 4-octet units minus 2.
pub fn ah(next: u8, len4: u8) -> Vec<u8> {
    let mut b = vec![next, len4];
    b.resize(4 * (len4 as usize + 2), 0);
    b
}

/// IPv6 fragment header (offset in 8-byte units, M flag).
pub fn frag6(next: u8, offset: u16, more: bool) -> Vec<u8> {
    let fo = (offset << 3) | more as u16;
    let mut b = vec![next, 0];
    b.extend(fo.to_be_bytes());
    b.extend([0, 0, 0, 7]);
    b
}

pub fn eth(et: u16, payload: &[u8]) -> Vec<u8> {
    let mut b = vec![0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
    b.extend(et.to_be_bytes());
    b.extend(payload);
    b
}

/// Ethernet with VLAN tags (each (tpid, vid)) before the ethertype.
pub fn eth_tagged(tags: &[u16], et: u16, payload: &[u8]) -> Vec<u8> {
    let mut b = vec![0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
    for (i, t) in tags.iter().enumerate() {
        b.extend(t.to_be_bytes());
        b.extend((100 + i as u16).to_be_bytes());
    }
    b.extend(et.to_be_bytes());
    b.extend(payload);
    b
}

/// MPLS label stack entries; the last has the bottom-of-stack bit when `bottom`.
pub fn mpls(labels: usize, bottom: bool, payload: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    for i in 0..labels {
        let s = (bottom && i + 1 == labels) as u8;
        b.extend([0, 0x10 + i as u8, s, 64]);
    }
    b.extend(payload);
    b
}

/// PPPoE session header + PPP protocol, with the PPPoE length covering protocol + payload.
pub fn pppoe(proto: u16, payload: &[u8], padding: usize) -> Vec<u8> {
    let mut b = vec![0x11, 0x00, 0x12, 0x34];
    b.extend(((payload.len() + 2) as u16).to_be_bytes());
    b.extend(proto.to_be_bytes());
    b.extend(payload);
    b.extend(vec![0xaa; padding]);
    b
}

pub fn sll(et: u16, payload: &[u8]) -> Vec<u8> {
    let mut b = vec![0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0];
    b.extend(et.to_be_bytes());
    b.extend(payload);
    b
}

pub fn sll2(et: u16, payload: &[u8]) -> Vec<u8> {
    let mut b = et.to_be_bytes().to_vec();
    b.extend([0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0]);
    b.extend(payload);
    b
}

pub fn null(af: u32, payload: &[u8]) -> Vec<u8> {
    let mut b = af.to_le_bytes().to_vec();
    b.extend(payload);
    b
}
