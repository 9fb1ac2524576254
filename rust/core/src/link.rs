//! The link layer and tunnels: a captured frame -> where its TCP (or UDP) header is, through
//! [`crate::ip`]. A port of `inspector/link.py`.
//!
//! `LinkDecoder::decode(linktype, data)` returns a `Decoded` for a TCP packet: the IP addresses
//! (4 or 16 bytes), the buffer holding the IP datagram (the frame itself, or a reassembled
//! datagram for IPv4 fragments), the offset of the TCP header and the end of the IP payload. For
//! anything else it returns `None` and counts why in `skipped`, under Python's reason names
//! (`short_frame`, `not_ip`, `not_tcp`, `unsupported_linktype_N`...). It never panics on
//! malformed frames: a frame too short or inconsistent for its headers is counted and skipped.
//!
//! Link types, Ethernet (VLAN, MPLS, PPPoE) and tunnels are here (`tunnel`, `capwap`); the IP
//! headers, IPv4 reassembly (`ip::frag`: linear in the fragments received, bounded in datagrams,
//! bytes and capture time; issue 14) and address text are in [`crate::ip`], which the tunnels
//! carrying IP call back into. The decoder drives both: it holds the reassembly state.

mod capwap;
pub(crate) mod tunnel;

pub use capwap::{is_capwap_dtls, CAPWAP_DTLS_HEADER};

use std::collections::BTreeMap;

use crate::ip::{frag, ip, ipv4, Parsed};
/// Re-exported from [`crate::ip`], where they live now (the paths `link::...` stay valid).
pub use crate::ip::{ip_to_string, Decoded, FragLimits, MAX_FRAG_AGE, MAX_FRAG_DATAGRAMS, MAX_FRAG_DATAGRAM_BYTES};

// Link types (tcpdump.org/linktypes.html).
pub const DLT_NULL: u32 = 0;
pub const DLT_EN10MB: u32 = 1;
pub const DLT_RAW: u32 = 101;
/// OpenBSD's DLT_RAW value, as libpcap maps it.
pub const DLT_RAW_12: u32 = 12;
pub const DLT_RAW_14: u32 = 14;
pub const DLT_LOOP: u32 = 108;
pub const DLT_LINUX_SLL: u32 = 113;
pub const DLT_IPV4: u32 = 228;
pub const DLT_IPV6: u32 = 229;
pub const DLT_LINUX_SLL2: u32 = 276;

/// The name of a link type this decoder reads (Python's `LINKTYPE_NAMES`), `None` for others.
pub fn linktype_name(linktype: u32) -> Option<&'static str> {
    Some(match linktype {
        DLT_NULL => "BSD loopback",
        DLT_EN10MB => "Ethernet",
        DLT_RAW | DLT_RAW_12 | DLT_RAW_14 => "raw IP",
        DLT_LOOP => "OpenBSD loopback",
        DLT_LINUX_SLL => "Linux cooked (SLL)",
        DLT_IPV4 => "raw IPv4",
        DLT_IPV6 => "raw IPv6",
        DLT_LINUX_SLL2 => "Linux cooked v2 (SLL2)",
        _ => return None,
    })
}

const ETH_IPV4: u16 = 0x0800;
const ETH_IPV6: u16 = 0x86DD;
const ETH_VLAN_TAGS: [u16; 4] = [0x8100, 0x88A8, 0x9100, 0x9200];
const ETH_MPLS: [u16; 2] = [0x8847, 0x8848];
const ETH_PPPOE_SESSION: u16 = 0x8864;

pub(crate) const MAX_TUNNEL_DEPTH: u32 = 4;

/// The tunnels crossed so far (at most 8 names).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Path {
    names: [&'static str; 8],
    n: usize,
}

impl Path {
    pub(crate) fn push(&mut self, name: &'static str) {
        if self.n < self.names.len() {
            self.names[self.n] = name;
            self.n += 1;
        }
    }

    fn write(&self, out: &mut String) {
        out.clear();
        for (i, name) in self.names[..self.n].iter().enumerate() {
            if i > 0 {
                out.push('>');
            }
            out.push_str(name);
        }
    }
}

/// What one decode may do beyond Python's decoder, and the tunnels crossed.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Walk {
    pub(crate) tunnels: bool,
    pub(crate) udp: bool,
    pub(crate) path: Path,
}

#[inline]
pub(crate) fn be16(b: &[u8], i: usize) -> u16 {
    ((b[i] as u16) << 8) | b[i + 1] as u16
}

/// Stateful only for IPv4 fragment reassembly (bounded: see `frag`).
///
/// With both flags off (the default) it decodes exactly what Python's `LinkDecoder` decodes.
#[derive(Debug, Default)]
pub struct LinkDecoder {
    /// Packets not decoded, by reason.
    pub skipped: BTreeMap<String, u64>,
    /// Also decode tunnels (GRE with keys and sequence numbers, ERSPAN I/II/III, VXLAN on UDP
    /// 4789, Geneve on 6081, GTP-U on 2152, Teredo on 3544, CAPWAP data and DTLS on 5246/5247)
    /// and the PPP (9, 50) and Cisco HDLC (104) link
    /// types: the endpoints are the inner ones, `Decoded::encapsulation` names the path (issue
    /// 10; Python's decoder reads none of these).
    pub tunnels: bool,
    /// Also hand out UDP packets (`Decoded::proto` 17); off, only TCP.
    pub udp: bool,
    frags: frag::Reassembler,
    now: f64,
    encap: String,
}

pub(crate) fn bump(skipped: &mut BTreeMap<String, u64>, reason: &str) {
    if let Some(n) = skipped.get_mut(reason) {
        *n += 1;
    } else {
        skipped.insert(reason.to_string(), 1);
    }
}

impl LinkDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// A decoder with other reassembly bounds (Python's `LinkDecoder(max_datagrams=...,
    /// max_bytes=..., timeout=...)`, from `Limits`).
    pub fn with_limits(limits: FragLimits) -> Self {
        LinkDecoder {
            frags: frag::Reassembler::new(limits),
            ..Self::default()
        }
    }

    /// The capture time of the packets decoded next (fragmented datagrams begun more than
    /// `timeout` seconds of capture time earlier expire). `decode_at` sets it too; Python's
    /// `decode(linktype, data, ts)` is `decode_at(ts, linktype, data)`.
    pub fn set_time(&mut self, ts: f64) {
        self.now = ts;
    }

    /// `set_time(ts)` then `decode(linktype, data)`.
    pub fn decode_at<'a>(
        &'a mut self,
        ts: f64,
        linktype: u32,
        data: &'a [u8],
    ) -> Option<Decoded<'a>> {
        self.now = ts;
        self.decode(linktype, data)
    }

    /// The TCP packet in a frame, or `None` (counted in `skipped`).
    pub fn decode<'a>(&'a mut self, linktype: u32, data: &'a [u8]) -> Option<Decoded<'a>> {
        let mut w = Walk {
            tunnels: self.tunnels,
            udp: self.udp,
            path: Path::default(),
        };
        let parsed = match link(linktype, data, &mut w) {
            Some(p) => p,
            None => {
                bump(
                    &mut self.skipped,
                    &format!("unsupported_linktype_{linktype}"),
                );
                return None;
            }
        };
        let f = match parsed {
            Parsed::L4(mut d) => {
                if w.path.n > 0 {
                    w.path.write(&mut self.encap);
                    d.encapsulation = Some(&self.encap);
                }
                return Some(d);
            }
            Parsed::Skip(reason) => {
                bump(&mut self.skipped, reason);
                return None;
            }
            Parsed::Fragment(f) => f,
        };
        let (mut depth, mut path) = (f.depth, f.path);
        if !self
            .frags
            .add(f.data, f.off, f.ihl, f.end, self.now, &mut self.skipped)
        {
            return None;
        }
        // The datagram is whole in `self.frags.out`: decode it (it may hold a tunnelled fragment,
        // which completes another datagram in turn).
        loop {
            let mut w = Walk { path, ..w };
            let inner = match ipv4(&self.frags.out, 0, depth, &mut w) {
                Parsed::L4(_) => {
                    path = w.path;
                    break;
                }
                Parsed::Skip(reason) => {
                    bump(&mut self.skipped, reason);
                    return None;
                }
                Parsed::Fragment(g) => {
                    (depth, path) = (g.depth, g.path);
                    (g.data[g.off..g.end].to_vec(), g.ihl)
                }
            };
            let (bytes, ihl) = inner;
            let end = bytes.len();
            if !self
                .frags
                .add(&bytes, 0, ihl, end, self.now, &mut self.skipped)
            {
                return None;
            }
        }
        if path.n > 0 {
            path.write(&mut self.encap);
        }
        let mut w2 = Walk {
            path: Path::default(),
            ..w
        };
        match ipv4(&self.frags.out, 0, depth, &mut w2) {
            Parsed::L4(d) => Some(Decoded {
                encapsulation: if path.n > 0 { Some(&self.encap) } else { None },
                ..d
            }),
            _ => None,
        }
    }

    /// The end of the capture: fragmented datagrams still incomplete count as
    /// `ip_fragment_expired`.
    pub fn finish(&mut self) {
        self.frags.finish(&mut self.skipped);
    }

    /// IPv4 datagrams being reassembled now.
    pub fn fragments_in_progress(&self) -> usize {
        self.frags.len()
    }
}

/// The link layer; `None` for a link type not read.
fn link<'a>(linktype: u32, data: &'a [u8], w: &mut Walk) -> Option<Parsed<'a>> {
    let n = data.len();
    let (et, off) = match linktype {
        DLT_EN10MB => {
            if n < 14 {
                return Some(Parsed::Skip("short_frame"));
            }
            let mut et = be16(data, 12);
            let mut off = 14;
            let mut tags = 0;
            while ETH_VLAN_TAGS.contains(&et) && tags < 4 {
                if off + 4 > n {
                    return Some(Parsed::Skip("short_frame"));
                }
                et = be16(data, off + 2);
                off += 4;
                tags += 1;
            }
            (et, off)
        }
        DLT_LINUX_SLL => {
            if n < 16 {
                return Some(Parsed::Skip("short_frame"));
            }
            (be16(data, 14), 16)
        }
        DLT_LINUX_SLL2 => {
            if n < 20 {
                return Some(Parsed::Skip("short_frame"));
            }
            (be16(data, 0), 20)
        }
        DLT_RAW | DLT_RAW_12 | DLT_RAW_14 | DLT_IPV4 | DLT_IPV6 => return Some(ip(data, 0, 0, w)),
        DLT_NULL | DLT_LOOP => {
            if n < 4 {
                return Some(Parsed::Skip("short_frame"));
            }
            // the AF value varies by OS; the IP version nibble does not
            return Some(ip(data, 4, 0, w));
        }
        tunnel::DLT_PPP | tunnel::DLT_PPP_SERIAL if w.tunnels => return Some(tunnel::ppp(data, w)),
        tunnel::DLT_C_HDLC if w.tunnels => return Some(tunnel::chdlc(data, 0, 0, w)),
        _ => return None,
    };
    Some(ether_payload(data, off, et, 0, w))
}

/// An Ethernet frame inside a tunnel (header at `off`, VLAN tags allowed).
pub(crate) fn ether<'a>(data: &'a [u8], off: usize, depth: u32, w: &mut Walk) -> Parsed<'a> {
    let n = data.len();
    if off + 14 > n {
        return Parsed::Skip("short_frame");
    }
    let mut et = be16(data, off + 12);
    let mut p = off + 14;
    let mut tags = 0;
    while ETH_VLAN_TAGS.contains(&et) && tags < 4 {
        if p + 4 > n {
            return Parsed::Skip("short_frame");
        }
        et = be16(data, p + 2);
        p += 4;
        tags += 1;
    }
    ether_payload(data, p, et, depth, w)
}

/// What follows an ethertype. `depth`: tunnels crossed (0 on the link layer, as in Python).
pub(crate) fn ether_payload<'a>(
    data: &'a [u8],
    mut off: usize,
    et: u16,
    depth: u32,
    w: &mut Walk,
) -> Parsed<'a> {
    if et == ETH_IPV4 || et == ETH_IPV6 {
        return ip(data, off, depth, w);
    }
    if ETH_MPLS.contains(&et) {
        let mut labels = 0;
        while off + 4 <= data.len() && labels < 8 {
            let bottom = data[off + 2] & 1;
            off += 4;
            labels += 1;
            if bottom != 0 {
                return ip(data, off, depth, w);
            }
        }
        return Parsed::Skip("bad_mpls");
    }
    if et == ETH_PPPOE_SESSION {
        if off + 8 > data.len() {
            return Parsed::Skip("short_frame");
        }
        let proto = be16(data, off + 6);
        if proto == 0x0021 || proto == 0x0057 {
            // the PPPoE length (PPP protocol + payload) ends the datagram: Ethernet padding after
            // it must not be read as TCP data
            let end = off + 6 + be16(data, off + 4) as usize;
            return ip(&data[..end.min(data.len())], off + 8, depth, w);
        }
    }
    Parsed::Skip("not_ip")
}
