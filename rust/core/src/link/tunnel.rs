//! Tunnels and link types Python's decoder does not read (issue 10), used when
//! `LinkDecoder::tunnels` is set: GRE (checksum, key and sequence fields), ERSPAN types I, II and
//! III (remote SPAN from a Cisco switch), VXLAN (UDP 4789), Geneve (6081), GTP-U (2152), Teredo
//! (3544) and CAPWAP (5246/5247, in `capwap`), PPP (link types 9 and 50) and Cisco HDLC (104); and
//! plain UDP when `LinkDecoder::udp` is set.
//! The endpoints handed out are the inner packet's; the path is named in `Decoded::encapsulation`.

use super::{be16, capwap, ether, ether_payload, Walk, MAX_TUNNEL_DEPTH};
use crate::ip::{ip, Decoded, Parsed};

pub const DLT_PPP: u32 = 9;
pub const DLT_PPP_SERIAL: u32 = 50;
pub const DLT_C_HDLC: u32 = 104;

const IPPROTO_GRE: u8 = 47;
const IPPROTO_UDP: u8 = 17;
const UDP_VXLAN: u16 = 4789;
const UDP_GENEVE: u16 = 6081;
const UDP_GTPU: u16 = 2152;

/// PPP: address 0xff and control 0x03 (or omitted), then a 1- or 2-byte protocol. A link type
/// 50 capture may hold Cisco HDLC frames instead (address 0x0f or 0x8f).
pub fn ppp<'a>(data: &'a [u8], w: &mut Walk) -> Parsed<'a> {
    let n = data.len();
    if n >= 1 && (data[0] == 0x0f || data[0] == 0x8f) {
        return chdlc(data, 0, 0, w);
    }
    let mut p = 0;
    if n >= 2 && data[0] == 0xff && data[1] == 0x03 {
        p = 2;
    }
    if p >= n {
        return Parsed::Skip("short_frame");
    }
    let proto = if data[p] & 1 == 1 {
        p += 1;
        data[p - 1] as u16 // protocol field compressed to one byte
    } else {
        if p + 2 > n {
            return Parsed::Skip("short_frame");
        }
        p += 2;
        be16(data, p - 2)
    };
    match proto {
        0x0021 | 0x0057 => ip(data, p, 0, w),
        _ => Parsed::Skip("not_ip"),
    }
}

/// Cisco HDLC: address, control, then an ethertype.
pub fn chdlc<'a>(data: &'a [u8], off: usize, depth: u32, w: &mut Walk) -> Parsed<'a> {
    if off + 4 > data.len() {
        return Parsed::Skip("short_frame");
    }
    ether_payload(data, off + 4, be16(data, off + 2), depth, w)
}

/// An IP payload that is not TCP nor IP-in-IP: GRE and UDP tunnels, UDP, or `not_tcp` (as
/// Python, when the flags are off). `data[..end]` is the IP datagram, `l4` its payload's start.
#[allow(clippy::too_many_arguments)]
pub fn beyond_tcp<'a>(
    data: &'a [u8],
    l4: usize,
    end: usize,
    proto: u8,
    src: &'a [u8],
    dst: &'a [u8],
    depth: u32,
    w: &mut Walk,
) -> Parsed<'a> {
    if proto == IPPROTO_GRE && w.tunnels && depth < MAX_TUNNEL_DEPTH {
        return gre(&data[..end], l4, depth + 1, w);
    }
    if proto == IPPROTO_UDP && (w.tunnels || w.udp) {
        if l4 + 8 > end {
            return Parsed::Skip("truncated_udp");
        }
        let mut capwap_dtls = false;
        if w.tunnels && depth < MAX_TUNNEL_DEPTH {
            let (sport, dport) = (be16(data, l4), be16(data, l4 + 2));
            // the UDP length ends the payload (Teredo's IPv6 packet must fill it exactly)
            let ulen = be16(data, l4 + 4) as usize;
            let uend = if ulen >= 8 && l4 + ulen <= end { l4 + ulen } else { end };
            for port in [dport, sport] {
                let inner = &data[..end];
                match port {
                    UDP_VXLAN => return vxlan(inner, l4 + 8, depth + 1, w),
                    UDP_GENEVE => return geneve(inner, l4 + 8, depth + 1, w),
                    UDP_GTPU => return gtpu(inner, l4 + 8, depth + 1, w),
                    capwap::UDP_TEREDO => {
                        if let Some(p) = capwap::teredo(&data[..uend], l4 + 8, depth + 1, w) {
                            return p;
                        }
                    }
                    capwap::UDP_CAPWAP_CONTROL | capwap::UDP_CAPWAP_DATA => {
                        match capwap::capwap(&data[..uend], l4 + 8, port, depth + 1, w) {
                            capwap::Capwap::Parsed(p) => return p,
                            capwap::Capwap::Dtls => {
                                capwap_dtls = true;
                                break;
                            }
                            capwap::Capwap::Not => {}
                        }
                    }
                    _ => {}
                }
            }
        }
        if capwap_dtls {
            if !w.udp {
                return Parsed::Skip("capwap_dtls");
            }
            // the UDP table reads the DTLS records after the CAPWAP DTLS header
            w.path.push("capwap");
        }
        if w.udp {
            return Parsed::L4(Decoded {
                src,
                dst,
                buf: data,
                l4,
                end,
                proto: 17,
                encapsulation: None,
            });
        }
    }
    Parsed::Skip("not_tcp")
}

/// GRE (RFC 2784/2890): flags and version, protocol type, then the optional checksum, key and
/// sequence number.
fn gre<'a>(data: &'a [u8], off: usize, depth: u32, w: &mut Walk) -> Parsed<'a> {
    let n = data.len();
    if off + 4 > n {
        return Parsed::Skip("truncated_gre");
    }
    let flags = be16(data, off);
    let proto = be16(data, off + 2);
    if flags & 7 != 0 {
        return Parsed::Skip("unknown_encapsulation:gre_version"); // 1: PPTP's enhanced GRE
    }
    if flags & 0x4000 != 0 {
        return Parsed::Skip("unknown_encapsulation:gre_routing");
    }
    let seq = flags & 0x1000 != 0;
    let p = off
        + 4
        + 4 * ((flags & 0x8000 != 0) as usize + (flags & 0x2000 != 0) as usize + seq as usize);
    if p > n {
        return Parsed::Skip("truncated_gre");
    }
    match proto {
        0x0800 | 0x86DD => {
            w.path.push("gre");
            ip(data, p, depth, w)
        }
        0x6558 => {
            // transparent Ethernet bridging
            w.path.push("gre");
            ether(data, p, depth, w)
        }
        0x8847 | 0x8848 => {
            w.path.push("gre");
            ether_payload(data, p, proto, depth, w)
        }
        0x88BE if !seq => {
            // ERSPAN type I: no ERSPAN header
            w.path.push("erspan1");
            ether(data, p, depth, w)
        }
        0x88BE => {
            // ERSPAN type II: an 8-byte header (version 1)
            if p + 8 > n {
                return Parsed::Skip("truncated_gre");
            }
            w.path.push("erspan2");
            ether(data, p + 8, depth, w)
        }
        0x22EB => {
            // ERSPAN type III: a 12-byte header, then 8 platform bytes when its O flag is set
            if p + 12 > n {
                return Parsed::Skip("truncated_gre");
            }
            let sub = if data[p + 11] & 1 != 0 { 8 } else { 0 };
            w.path.push("erspan3");
            ether(data, p + 12 + sub, depth, w)
        }
        _ => Parsed::Skip("unknown_encapsulation:gre"),
    }
}

/// VXLAN (RFC 7348): 8 bytes with the I flag, then an Ethernet frame.
fn vxlan<'a>(data: &'a [u8], off: usize, depth: u32, w: &mut Walk) -> Parsed<'a> {
    if off + 8 > data.len() {
        return Parsed::Skip("truncated_udp");
    }
    if data[off] & 0x08 == 0 {
        return Parsed::Skip("unknown_encapsulation:vxlan");
    }
    w.path.push("vxlan");
    ether(data, off + 8, depth, w)
}

/// Geneve (RFC 8926): version 0, options, then the protocol type's payload.
fn geneve<'a>(data: &'a [u8], off: usize, depth: u32, w: &mut Walk) -> Parsed<'a> {
    if off + 8 > data.len() {
        return Parsed::Skip("truncated_udp");
    }
    if data[off] >> 6 != 0 {
        return Parsed::Skip("unknown_encapsulation:geneve");
    }
    let p = off + 8 + (data[off] & 0x3f) as usize * 4;
    w.path.push("geneve");
    match be16(data, off + 2) {
        0x6558 => ether(data, p, depth, w),
        0x0800 | 0x86DD => ip(data, p, depth, w),
        _ => Parsed::Skip("unknown_encapsulation:geneve"),
    }
}

/// GTP-U (3GPP TS 29.281): version 1, a G-PDU, the optional sequence/N-PDU/extension fields and
/// extension headers, then the user's IP packet.
fn gtpu<'a>(data: &'a [u8], off: usize, depth: u32, w: &mut Walk) -> Parsed<'a> {
    let n = data.len();
    if off + 8 > n {
        return Parsed::Skip("truncated_udp");
    }
    let flags = data[off];
    if flags >> 5 != 1 || flags & 0x10 == 0 {
        return Parsed::Skip("unknown_encapsulation:gtp");
    }
    if data[off + 1] != 0xFF {
        return Parsed::Skip("gtpu_not_gpdu"); // echo, error indication, end marker...
    }
    let mut p = off + 8;
    if flags & 0x07 != 0 {
        if p + 4 > n {
            return Parsed::Skip("truncated_udp");
        }
        p += 4;
        let mut next = data[p - 1];
        let mut hops = 0;
        while next != 0 {
            hops += 1;
            if p >= n || data[p] == 0 || hops > 16 {
                return Parsed::Skip("truncated_udp");
            }
            p += data[p] as usize * 4;
            if p > n {
                return Parsed::Skip("truncated_udp");
            }
            next = data[p - 1];
        }
    }
    w.path.push("gtpu");
    ip(data, p, depth, w)
}
