//! The IP layer: IPv4 and IPv6 headers (IPv6 extension headers, IP-in-IP) -> where the TCP or
//! UDP header is ([`Decoded`]), IPv4 fragments to reassemble ([`frag`]), and addresses as text.
//!
//! Reached from [`crate::link`] (link types, Ethernet, tunnels), which drives it with its
//! `LinkDecoder`; a payload that is neither TCP nor IP-in-IP goes back to the tunnel decoders
//! (`link::tunnel::beyond_tcp`: GRE, UDP and the tunnels on UDP).

pub(crate) mod frag;

pub use frag::{FragLimits, MAX_FRAG_AGE, MAX_FRAG_DATAGRAMS, MAX_FRAG_DATAGRAM_BYTES};

use crate::link::{be16, tunnel, Path, Walk, MAX_TUNNEL_DEPTH};

const IPPROTO_TCP: u8 = 6;
const IPPROTO_IPIP: u8 = 4;
const IPPROTO_IPV6: u8 = 41;
const IPV6_EXT_HEADERS: [u8; 9] = [0, 43, 60, 51, 135, 139, 140, 253, 254];
const IPV6_FRAGMENT: u8 = 44;
const MAX_IPV6_EXT: u32 = 16;

/// Where a TCP packet's header is (or a UDP one's, with `LinkDecoder::udp`). `buf` is the frame
/// (or a prefix of it, when a length field ends the datagram before the frame does), or a
/// reassembled IPv4 datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decoded<'a> {
    pub src: &'a [u8],
    /// 4 or 16 bytes, as `src`.
    pub dst: &'a [u8],
    pub buf: &'a [u8],
    /// Offset of the TCP (or UDP) header in `buf`.
    pub l4: usize,
    /// End of the IP payload in `buf`.
    pub end: usize,
    /// 6 (TCP) or 17 (UDP).
    pub proto: u8,
    /// The tunnels crossed to reach the inner IP packet, outermost first ("gre", "erspan2>vxlan",
    /// "6in4"...); `None` for a packet in no tunnel.
    pub encapsulation: Option<&'a str>,
}

/// An IPv4 fragment found while decoding: its header is `data[off..off + ihl]`, its payload
/// `data[off + ihl..end]`; `path`: the tunnels crossed to reach it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fragment<'a> {
    pub(crate) data: &'a [u8],
    pub(crate) off: usize,
    pub(crate) ihl: usize,
    pub(crate) end: usize,
    pub(crate) depth: u32,
    pub(crate) path: Path,
}

pub(crate) enum Parsed<'a> {
    L4(Decoded<'a>),
    Skip(&'static str),
    Fragment(Fragment<'a>),
}

pub(crate) fn ip<'a>(data: &'a [u8], off: usize, depth: u32, w: &mut Walk) -> Parsed<'a> {
    if off >= data.len() {
        return Parsed::Skip("short_frame");
    }
    match data[off] >> 4 {
        4 => ipv4(data, off, depth, w),
        6 => ipv6(data, off, depth, w),
        _ => Parsed::Skip("not_ip"),
    }
}

pub(crate) fn ipv4<'a>(data: &'a [u8], off: usize, depth: u32, w: &mut Walk) -> Parsed<'a> {
    let n = data.len();
    if off + 20 > n {
        return Parsed::Skip("truncated_ip");
    }
    let ihl = (data[off] & 15) as usize * 4;
    let mut total = be16(data, off + 2) as usize;
    if ihl < 20 {
        return Parsed::Skip("ipv4_bad_ihl");
    }
    if total < ihl {
        if total == 0 {
            total = n - off; // TSO/LRO captures: length not filled in
        } else {
            return Parsed::Skip("ipv4_bad_total_length");
        }
    }
    let end = (off + total).min(n); // snaplen cut: keep what was captured
    if off + ihl > end {
        return Parsed::Skip("truncated_ip");
    }
    let proto = data[off + 9];
    let frag = (((data[off + 6] & 0x3F) as u16) << 8) | data[off + 7] as u16;
    if frag != 0 {
        return Parsed::Fragment(Fragment {
            data,
            off,
            ihl,
            end,
            depth,
            path: w.path,
        });
    }
    let (src, dst) = (&data[off + 12..off + 16], &data[off + 16..off + 20]);
    if proto == IPPROTO_TCP {
        return Parsed::L4(Decoded {
            src,
            dst,
            buf: data,
            l4: off + ihl,
            end,
            proto: 6,
            encapsulation: None,
        });
    }
    if (proto == IPPROTO_IPIP || proto == IPPROTO_IPV6) && depth < MAX_TUNNEL_DEPTH {
        w.path.push(if proto == IPPROTO_IPIP {
            "ipip"
        } else {
            "6in4"
        });
        return ip(&data[..end], off + ihl, depth + 1, w);
    }
    tunnel::beyond_tcp(data, off + ihl, end, proto, src, dst, depth, w)
}

fn ipv6<'a>(data: &'a [u8], off: usize, depth: u32, w: &mut Walk) -> Parsed<'a> {
    let n = data.len();
    if off + 40 > n {
        return Parsed::Skip("truncated_ip");
    }
    let plen = be16(data, off + 4) as usize;
    let end = if plen != 0 {
        (off + 40 + plen).min(n)
    } else {
        n
    };
    let mut nh = data[off + 6];
    let mut p = off + 40;
    let mut hops = 0;
    while IPV6_EXT_HEADERS.contains(&nh) || nh == IPV6_FRAGMENT {
        hops += 1;
        if hops > MAX_IPV6_EXT || p + 8 > end {
            return Parsed::Skip("ipv6_bad_extension_headers");
        }
        if nh == IPV6_FRAGMENT {
            let fo = be16(data, p + 2);
            if fo & 0xFFF9 != 0 {
                // offset != 0 or more-fragments set: a real fragment
                return Parsed::Skip("ipv6_fragment");
            }
            nh = data[p];
            p += 8;
        } else if nh == 51 {
            // AH: length in 4-octet units, minus 2
            let ln = (data[p + 1] as usize + 2) * 4;
            nh = data[p];
            p += ln;
        } else {
            let ln = (data[p + 1] as usize + 1) * 8;
            nh = data[p];
            p += ln;
        }
    }
    if p > end {
        return Parsed::Skip("ipv6_bad_extension_headers");
    }
    let (src, dst) = (&data[off + 8..off + 24], &data[off + 24..off + 40]);
    if nh == IPPROTO_TCP {
        return Parsed::L4(Decoded {
            src,
            dst,
            buf: data,
            l4: p,
            end,
            proto: 6,
            encapsulation: None,
        });
    }
    if (nh == IPPROTO_IPIP || nh == IPPROTO_IPV6) && depth < MAX_TUNNEL_DEPTH {
        w.path
            .push(if nh == IPPROTO_IPIP { "4in6" } else { "ip6ip6" });
        return ip(&data[..end], p, depth + 1, w);
    }
    tunnel::beyond_tcp(data, p, end, nh, src, dst, depth, w)
}

/// Text form of a 4- or 16-byte address, as Python's `ip_to_str` (glibc's `inet_ntop`): IPv6
/// with the longest run of two or more zero groups compressed (the first of equal runs), and the
/// IPv4-compatible (`::a.b.c.d`) and IPv4-mapped (`::ffff:a.b.c.d`) forms. Any other length is
/// shown as hex.
pub fn ip_to_string(raw: &[u8]) -> String {
    use std::fmt::Write;
    if raw.len() == 4 {
        return format!("{}.{}.{}.{}", raw[0], raw[1], raw[2], raw[3]);
    }
    if raw.len() != 16 {
        return hex::encode(raw);
    }
    let words: Vec<u16> = (0..8).map(|i| be16(raw, 2 * i)).collect();
    // the longest run of zero words (first on ties), if two or more long
    let (mut best, mut best_len) = (usize::MAX, 0usize);
    let mut i = 0;
    while i < 8 {
        if words[i] == 0 {
            let start = i;
            while i < 8 && words[i] == 0 {
                i += 1;
            }
            if i - start > best_len {
                best = start;
                best_len = i - start;
            }
        } else {
            i += 1;
        }
    }
    if best_len < 2 {
        best = usize::MAX;
    }
    // glibc's inet_ntop6, step by step
    let mut s = String::with_capacity(46);
    let in_run = |i: usize| best != usize::MAX && i >= best && i < best + best_len;
    for i in 0..8 {
        if in_run(i) {
            if i == best {
                s.push(':');
            }
            continue;
        }
        if i != 0 {
            s.push(':');
        }
        if i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && words[5] == 0xffff)) {
            let _ = write!(s, "{}.{}.{}.{}", raw[12], raw[13], raw[14], raw[15]);
            return s;
        }
        let _ = write!(s, "{:x}", words[i]);
    }
    if best != usize::MAX && best + best_len == 8 {
        s.push(':');
    }
    s
}
