//! Builders for synthetic pcap and pcapng files (either byte order), for the capture tests.
#![allow(dead_code)]

pub struct Bytes {
    pub big: bool,
    pub b: Vec<u8>,
}

impl Bytes {
    pub fn new(big: bool) -> Self {
        Bytes { big, b: Vec::new() }
    }
    pub fn u16(&mut self, v: u16) -> &mut Self {
        let a = if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.b.extend_from_slice(&a);
        self
    }
    pub fn u32(&mut self, v: u32) -> &mut Self {
        let a = if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.b.extend_from_slice(&a);
        self
    }
    pub fn i64(&mut self, v: i64) -> &mut Self {
        let a = if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.b.extend_from_slice(&a);
        self
    }
    pub fn raw(&mut self, v: &[u8]) -> &mut Self {
        self.b.extend_from_slice(v);
        self
    }
    pub fn pad4(&mut self) -> &mut Self {
        while !self.b.len().is_multiple_of(4) {
            self.b.push(0);
        }
        self
    }
}

/// A classic pcap file header. `nano`: nanosecond magic.
pub fn pcap_header(big: bool, nano: bool, snaplen: u32, linktype: u32) -> Vec<u8> {
    let mut b = Bytes::new(big);
    b.u32(if nano { 0xa1b2_3c4d } else { 0xa1b2_c3d4 });
    b.u16(2).u16(4).u32(0).u32(0).u32(snaplen).u32(linktype);
    b.b
}

pub fn pcap_record(big: bool, sec: u32, frac: u32, data: &[u8], orig: u32) -> Vec<u8> {
    let mut b = Bytes::new(big);
    b.u32(sec)
        .u32(frac)
        .u32(data.len() as u32)
        .u32(orig)
        .raw(data);
    b.b
}

/// A pcapng block of type `btype` with `body` (padded to 4 bytes).
pub fn block(big: bool, btype: u32, body: &[u8]) -> Vec<u8> {
    let padded = (body.len() + 3) & !3;
    let len = 12 + padded as u32;
    let mut b = Bytes::new(big);
    b.u32(btype).u32(len).raw(body).pad4().u32(len);
    b.b
}

pub fn shb(big: bool) -> Vec<u8> {
    let mut body = Bytes::new(big);
    body.u32(0x1a2b_3c4d).u16(1).u16(0).i64(-1);
    block(big, 0x0A0D_0D0A, &body.b)
}

/// An option (code, value), padded.
pub fn opt(big: bool, code: u16, val: &[u8]) -> Vec<u8> {
    let mut b = Bytes::new(big);
    b.u16(code).u16(val.len() as u16).raw(val).pad4();
    b.b
}

pub fn idb(big: bool, linktype: u16, snaplen: u32, options: &[Vec<u8>]) -> Vec<u8> {
    let mut body = Bytes::new(big);
    body.u16(linktype).u16(0).u32(snaplen);
    for o in options {
        body.raw(o);
    }
    if !options.is_empty() {
        body.u32(0); // opt_endofopt
    }
    block(big, 1, &body.b)
}

pub fn epb(big: bool, if_id: u32, ts: u64, data: &[u8], orig: u32) -> Vec<u8> {
    let mut body = Bytes::new(big);
    body.u32(if_id)
        .u32((ts >> 32) as u32)
        .u32(ts as u32)
        .u32(data.len() as u32)
        .u32(orig);
    body.raw(data);
    block(big, 6, &body.b)
}

/// Obsolete Packet Block (type 2).
pub fn pb(big: bool, if_id: u16, ts: u64, data: &[u8], orig: u32) -> Vec<u8> {
    let mut body = Bytes::new(big);
    body.u16(if_id)
        .u16(0)
        .u32((ts >> 32) as u32)
        .u32(ts as u32)
        .u32(data.len() as u32)
        .u32(orig);
    body.raw(data);
    block(big, 2, &body.b)
}

pub fn spb(big: bool, orig: u32, data: &[u8]) -> Vec<u8> {
    let mut body = Bytes::new(big);
    body.u32(orig).raw(data);
    block(big, 3, &body.b)
}

/// Decryption Secrets Block holding `secrets` of type `stype` (0x544c534b: TLS key log).
pub fn dsb(big: bool, stype: u32, secrets: &[u8]) -> Vec<u8> {
    let mut body = Bytes::new(big);
    body.u32(stype).u32(secrets.len() as u32).raw(secrets);
    block(big, 0x0A, &body.b)
}

/// A frame of `n` bytes with a recognisable pattern.
pub fn frame(seed: u8, n: usize) -> Vec<u8> {
    (0..n)
        .map(|i| seed.wrapping_mul(31).wrapping_add(i as u8))
        .collect()
}
