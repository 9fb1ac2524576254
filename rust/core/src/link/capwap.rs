//! CAPWAP (RFC 5415, with the IEEE 802.11 binding of RFC 5416) and Teredo (RFC 4380): UDP
//! tunnels read when `LinkDecoder::tunnels` is set (issue 10).
//!
//! CAPWAP data (UDP 5247): the CAPWAP header (preamble, HLEN, WBID, T, F, K flags; the optional
//! radio MAC and wireless specific information are inside HLEN), then an 802.3 frame (T=0) or a
//! native IEEE 802.11 data frame (T=1, WBID=1). CAPWAP control (UDP 5246) and data channels may be
//! DTLS-protected: a preamble of type 1 is the 4-byte CAPWAP DTLS header, and the datagram is
//! handed out as UDP with the path "capwap" (the UDP table skips those 4 bytes and reads the
//! DTLS records). Plain control messages are counted as `capwap_control`, data channel
//! keep-alives as `capwap_keepalive`, fragmented CAPWAP packets (F bit) as `capwap_fragment`
//! (not reassembled).
//!
//! Teredo (UDP 3544, either side): optional authentication and origin indication headers, then
//! an IPv6 packet whose payload length fills the UDP payload exactly. Anything on these ports
//! that does not validate is left to the plain UDP path (`None`).

use super::{be16, ether, ether_payload, Walk};
use crate::ip::{ip, Parsed};

pub const UDP_CAPWAP_CONTROL: u16 = 5246;
pub const UDP_CAPWAP_DATA: u16 = 5247;
pub const UDP_TEREDO: u16 = 3544;

/// The CAPWAP DTLS header's length (preamble type 1 and 24 reserved bits).
pub const CAPWAP_DTLS_HEADER: usize = 4;
const WBID_IEEE80211: u32 = 1;

/// What a UDP payload on a CAPWAP port holds.
pub enum Capwap<'a> {
    /// Not CAPWAP (another protocol on the port): read as plain UDP.
    Not,
    /// A CAPWAP DTLS header then DTLS records: hand the datagram out as UDP.
    Dtls,
    /// Decoded (or skipped with a reason).
    Parsed(Parsed<'a>),
}

/// True when `payload` (a UDP payload) starts with the CAPWAP DTLS header and a DTLS record.
pub fn is_capwap_dtls(payload: &[u8]) -> bool {
    payload.len() >= CAPWAP_DTLS_HEADER + 13
        && payload[..CAPWAP_DTLS_HEADER] == [0x01, 0, 0, 0]
        && (20..=25).contains(&payload[CAPWAP_DTLS_HEADER])
        && payload[CAPWAP_DTLS_HEADER + 1] == 0xFE
}

/// A UDP payload `data[off..]` to or from CAPWAP port `port` (`data` ends with the datagram).
pub fn capwap<'a>(data: &'a [u8], off: usize, port: u16, depth: u32, w: &mut Walk) -> Capwap<'a> {
    let payload = &data[off.min(data.len())..];
    if is_capwap_dtls(payload) {
        return Capwap::Dtls;
    }
    if payload.len() < 8 || payload[0] != 0 {
        return Capwap::Not;
    }
    let word = u32::from_be_bytes([payload[0], payload[1], payload[2], payload[3]]);
    let hlen = ((word >> 19) & 0x1f) as usize * 4;
    let wbid = (word >> 9) & 0x1f;
    let (t_bit, f_bit, k_bit) = (word & 0x100 != 0, word & 0x80 != 0, word & 0x08 != 0);
    if hlen < 8 || hlen > payload.len() {
        return Capwap::Not;
    }
    if port == UDP_CAPWAP_CONTROL {
        // a control header (message type, sequence, length, flags) follows the CAPWAP header
        if hlen + 8 > payload.len() {
            return Capwap::Not;
        }
        return Capwap::Parsed(Parsed::Skip("capwap_control"));
    }
    if k_bit {
        return Capwap::Parsed(Parsed::Skip("capwap_keepalive"));
    }
    if f_bit {
        return Capwap::Parsed(Parsed::Skip("capwap_fragment"));
    }
    let p = off + hlen;
    w.path.push("capwap");
    Capwap::Parsed(match (t_bit, wbid) {
        (false, _) => ether(data, p, depth, w),
        (true, WBID_IEEE80211) => ieee80211_data(data, p, depth, w),
        _ => Parsed::Skip("unknown_encapsulation:capwap"),
    })
}

/// An IEEE 802.11 data frame at `off` (no FCS): its header (QoS control, HT control, the
/// fourth address when both DS bits are set), LLC/SNAP, then the ethertype's payload. The frame
/// control field is read in either byte order.
pub fn ieee80211_data<'a>(data: &'a [u8], off: usize, depth: u32, w: &mut Walk) -> Parsed<'a> {
    let n = data.len();
    if off + 24 > n {
        return Parsed::Skip("short_frame");
    }
    let is_data = |fc0: u8| fc0 & 0x03 == 0 && (fc0 >> 2) & 0x03 == 2;
    let (mut fc0, mut fc1) = (data[off], data[off + 1]);
    if !is_data(fc0) && is_data(fc1) {
        // some APs (Cisco's) send the frame control bytes swapped (tshark's capwap.swap_fc);
        // a frame through an AP has a DS bit set, so its flags byte never reads as version 0 data
        (fc0, fc1) = (fc1, fc0);
    }
    if !is_data(fc0) {
        return Parsed::Skip("wlan_not_data"); // management, control, or not version 0
    }
    let subtype = fc0 >> 4;
    if subtype & 0x04 != 0 {
        return Parsed::Skip("wlan_no_data"); // (QoS) Null and CF frames without a body
    }
    if fc1 & 0x40 != 0 {
        return Parsed::Skip("wlan_protected"); // encrypted (WEP/TKIP/CCMP): no keys
    }
    let qos = subtype & 0x08 != 0;
    let mut hdr = 24;
    if fc1 & 0x03 == 0x03 {
        hdr += 6; // address 4 (WDS / mesh)
    }
    if qos {
        hdr += 2;
        if fc1 & 0x80 != 0 {
            hdr += 4; // +HTC
        }
    }
    let p = off + hdr;
    if p + 8 > n {
        return Parsed::Skip("short_frame");
    }
    // LLC/SNAP: AA AA 03, an OUI (RFC 1042's 00-00-00 or 802.1H's 00-00-F8), the ethertype
    if data[p..p + 3] != [0xAA, 0xAA, 0x03] {
        return Parsed::Skip("wlan_not_snap");
    }
    ether_payload(data, p + 8, be16(data, p + 6), depth, w)
}

/// Teredo: `data[off..]` is the whole UDP payload. `None` when it is not a Teredo packet.
pub fn teredo<'a>(data: &'a [u8], off: usize, depth: u32, w: &mut Walk) -> Option<Parsed<'a>> {
    let n = data.len();
    let mut p = off;
    if p + 4 <= n && data[p] == 0 && data[p + 1] == 1 {
        // authentication: client id and authentication value lengths, then the nonce (8) and
        // the confirmation byte
        p += 4 + data[p + 2] as usize + data[p + 3] as usize + 9;
    }
    if p + 8 <= n && data[p] == 0 && data[p + 1] == 0 {
        p += 8; // origin indication: obfuscated port and address
    }
    if p + 40 > n || data[p] >> 4 != 6 || p + 40 + be16(data, p + 4) as usize != n {
        return None;
    }
    if data[p + 6] == 59 && be16(data, p + 4) == 0 {
        return Some(Parsed::Skip("teredo_bubble")); // no next header: NAT hole punching
    }
    w.path.push("teredo");
    Some(ip(data, p, depth, w))
}
