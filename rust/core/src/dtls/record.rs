//! DTLS record layer: one datagram -> records.
//!
//! DTLSPlaintext/DTLSCiphertext of DTLS 1.0/1.2 (RFC 6347 4.1): content type (1), version (2,
//! 0xfeff = DTLS 1.0, 0xfefd = DTLS 1.2), epoch (2), sequence number (6), length (2), fragment.
//! DTLS 1.3 (RFC 9147 4): records after the handshake keys use the unified header whose first
//! byte is `0b001CSLEE` (C: connection ID present, S: 16-bit sequence, L: length present, EE:
//! low epoch bits); they are recognised and counted, their content is not readable.

/// Header of a DTLS 1.0/1.2 record.
pub const HEADER_LEN: usize = 13;
/// Versions in a DTLS record header.
pub const DTLS10: u16 = 0xFEFF;
pub const DTLS12: u16 = 0xFEFD;
/// DTLS 1.3 in supported_versions (its records keep 0xfefd).
pub const DTLS13: u16 = 0xFEFC;
/// The DTLS 1.0 of OpenSSL before 0.9.8f.
pub const DTLS_BAD: u16 = 0x0100;
/// Largest record fragment accepted (2^14 plus the expansion of RFC 6347 4.1).
pub const MAX_FRAGMENT: usize = (1 << 14) + 2048;

/// What RFC 7983 section 7 says a datagram is, by its first byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Demux {
    /// 0..=3
    Stun,
    /// 16..=19
    Zrtp,
    /// 20..=63
    Dtls,
    /// 64..=79
    Turn,
    /// 128..=191
    Rtp,
    /// anything else (and an empty datagram)
    Other,
}

impl Demux {
    pub fn as_str(self) -> &'static str {
        match self {
            Demux::Stun => "stun",
            Demux::Zrtp => "zrtp",
            Demux::Dtls => "dtls",
            Demux::Turn => "turn_channel",
            Demux::Rtp => "rtp",
            Demux::Other => "other",
        }
    }
}

/// RFC 7983's demultiplexing of a datagram sharing a 5-tuple with STUN and RTP.
pub fn demux(datagram: &[u8]) -> Demux {
    match datagram.first() {
        Some(0..=3) => Demux::Stun,
        Some(16..=19) => Demux::Zrtp,
        Some(20..=63) => Demux::Dtls,
        Some(64..=79) => Demux::Turn,
        Some(128..=191) => Demux::Rtp,
        _ => Demux::Other,
    }
}

/// Is `v` a DTLS record-header version?
pub fn dtls_version(v: u16) -> bool {
    v == DTLS10 || v == DTLS12 || v == DTLS_BAD
}

/// Content detection on any UDP port: does this datagram start with a DTLS 1.0/1.2 record
/// header (content type 20..=25, a DTLS version, a length that fits the datagram)? Used to
/// decide that a UDP 5-tuple carries DTLS; a DTLS 1.3 unified header alone is not enough
/// (32..=63 is too common a first byte), it counts once the association exists.
pub fn looks_like_dtls(datagram: &[u8]) -> bool {
    let Some(h) = datagram.get(..HEADER_LEN) else {
        return false;
    };
    let ct = h[0];
    let version = u16::from_be_bytes([h[1], h[2]]);
    let len = usize::from(u16::from_be_bytes([h[11], h[12]]));
    (20..=25).contains(&ct) && dtls_version(version) && HEADER_LEN + len <= datagram.len() && len <= MAX_FRAGMENT
}

/// Does the datagram start with an epoch-0 handshake record holding the first fragment of a
/// ClientHello with message_seq 0, i.e. a new handshake (not a retransmission of a later one)?
pub fn starts_handshake(datagram: &[u8]) -> bool {
    looks_like_dtls(datagram)
        && datagram[0] == 22
        && datagram[3..5] == [0, 0]
        && datagram.get(HEADER_LEN) == Some(&1)
        && datagram.get(HEADER_LEN + 4..HEADER_LEN + 9) == Some(&[0, 0, 0, 0, 0][..])
}

/// One DTLS 1.0/1.2 record of a datagram.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record<'a> {
    pub content_type: u8,
    pub version: u16,
    pub epoch: u16,
    /// 48-bit sequence number.
    pub seq: u64,
    pub fragment: &'a [u8],
}

/// A DTLS 1.3 unified-header record (RFC 9147 4): encrypted, counted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnifiedRecord {
    /// The two low bits of the epoch.
    pub epoch_bits: u8,
    /// 8 or 16 low bits of the sequence number (encrypted on the wire).
    pub seq_bits: u16,
    pub connection_id: bool,
    /// Bytes of encrypted record (header excluded); `None` when the length cannot be known.
    pub length: Option<usize>,
}

/// One item of a datagram.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item<'a> {
    Record(Record<'a>),
    Unified(UnifiedRecord),
    /// What could not be parsed: `code` is `dtls_truncated_record`, `dtls_invalid_record`,
    /// `dtls_record_too_long` or `dtls_unknown_cid_length`; the rest of the datagram is skipped.
    Bad { code: &'static str, offset: usize, left: usize },
}

/// Content type of a DTLS 1.2 record with a connection ID (RFC 9146): the CID sits between the
/// sequence number and the length.
pub const CT_TLS12_CID: u8 = 25;

/// Split one datagram into records. Never panics; parsing stops at the first bad item.
/// A unified header with a connection ID (C bit) cannot be delimited without the negotiated CID
/// length: it is counted, the rest of the datagram is skipped.
pub fn split(datagram: &[u8]) -> Vec<Item<'_>> {
    split_with_cid(datagram, None)
}

/// [`split`] knowing the length of the connection ID this direction's records carry (RFC 9146,
/// negotiated by the `connection_id` extension): `tls12_cid` records (type 25) and unified
/// headers with the C bit are then delimited; without it they end the datagram's parsing
/// (`dtls_unknown_cid_length`), counted.
pub fn split_with_cid(datagram: &[u8], cid_len: Option<usize>) -> Vec<Item<'_>> {
    let mut out = Vec::new();
    let mut i = 0usize;
    while i < datagram.len() {
        let b = &datagram[i..];
        let first = b[0];
        if first & 0xE0 == 0x20 {
            let c = first & 0x10 != 0;
            let s16 = first & 0x08 != 0;
            let l = first & 0x04 != 0;
            let epoch_bits = first & 0x03;
            let cid = match (c, cid_len) {
                (false, _) => 0,
                (true, Some(n)) => n,
                (true, None) => {
                    out.push(Item::Unified(UnifiedRecord { epoch_bits, seq_bits: 0, connection_id: true, length: None }));
                    out.push(Item::Bad { code: "dtls_unknown_cid_length", offset: i, left: b.len() });
                    return out;
                }
            };
            let seq_len = if s16 { 2 } else { 1 };
            let hlen = 1 + cid + seq_len + if l { 2 } else { 0 };
            let Some(h) = b.get(..hlen) else {
                out.push(Item::Bad { code: "dtls_truncated_record", offset: i, left: b.len() });
                return out;
            };
            let at = 1 + cid;
            let seq_bits = if s16 { u16::from_be_bytes([h[at], h[at + 1]]) } else { u16::from(h[at]) };
            let length = if l {
                usize::from(u16::from_be_bytes([h[at + seq_len], h[at + seq_len + 1]]))
            } else {
                b.len() - hlen
            };
            if hlen + length > b.len() {
                out.push(Item::Bad { code: "dtls_truncated_record", offset: i, left: b.len() });
                return out;
            }
            out.push(Item::Unified(UnifiedRecord { epoch_bits, seq_bits, connection_id: c, length: Some(length) }));
            i += hlen + length;
            continue;
        }
        let Some(h) = b.get(..HEADER_LEN) else {
            out.push(Item::Bad { code: "dtls_truncated_record", offset: i, left: b.len() });
            return out;
        };
        let content_type = h[0];
        let version = u16::from_be_bytes([h[1], h[2]]);
        if !(20..=25).contains(&content_type) || !dtls_version(version) {
            out.push(Item::Bad { code: "dtls_invalid_record", offset: i, left: b.len() });
            return out;
        }
        let epoch = u16::from_be_bytes([h[3], h[4]]);
        let seq = h[5..11].iter().fold(0u64, |a, &x| (a << 8) | u64::from(x));
        // tls12_cid: the connection ID comes before the length
        let cid = if content_type == CT_TLS12_CID {
            match cid_len {
                Some(n) => n,
                None => {
                    out.push(Item::Bad { code: "dtls_unknown_cid_length", offset: i, left: b.len() });
                    return out;
                }
            }
        } else {
            0
        };
        let Some(lb) = b.get(11 + cid..13 + cid) else {
            out.push(Item::Bad { code: "dtls_truncated_record", offset: i, left: b.len() });
            return out;
        };
        let len = usize::from(u16::from_be_bytes([lb[0], lb[1]]));
        if len > MAX_FRAGMENT {
            out.push(Item::Bad { code: "dtls_record_too_long", offset: i, left: b.len() });
            return out;
        }
        let Some(fragment) = b.get(HEADER_LEN + cid..HEADER_LEN + cid + len) else {
            out.push(Item::Bad { code: "dtls_truncated_record", offset: i, left: b.len() });
            return out;
        };
        out.push(Item::Record(Record { content_type, version, epoch, seq, fragment }));
        i += HEADER_LEN + cid + len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demux_ranges() {
        assert_eq!(demux(&[0x00, 0x01]), Demux::Stun);
        assert_eq!(demux(&[22]), Demux::Dtls);
        assert_eq!(demux(&[0x2F]), Demux::Dtls);
        assert_eq!(demux(&[0x80]), Demux::Rtp);
        assert_eq!(demux(&[]), Demux::Other);
    }

    #[test]
    fn split_two_records_and_unified() {
        let mut d = vec![22, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 7, 0, 2, 1, 2];
        d.extend_from_slice(&[21, 0xFE, 0xFD, 0, 1, 0, 0, 0, 0, 0, 1, 0, 2, 9, 9]);
        d.extend_from_slice(&[0x2D, 0x12, 0x34, 0, 3, 0xAA, 0xBB, 0xCC]);
        let items = split(&d);
        assert_eq!(items.len(), 3);
        match &items[0] {
            Item::Record(r) => assert_eq!((r.content_type, r.epoch, r.seq, r.fragment), (22, 0, 7, &[1u8, 2][..])),
            x => panic!("{x:?}"),
        }
        match &items[1] {
            Item::Record(r) => assert_eq!((r.content_type, r.epoch, r.seq), (21, 1, 1)),
            x => panic!("{x:?}"),
        }
        assert_eq!(
            items[2],
            Item::Unified(UnifiedRecord { epoch_bits: 1, seq_bits: 0x1234, connection_id: false, length: Some(3) })
        );
    }

    #[test]
    fn connection_id_records() {
        // tls12_cid record, CID 0xC1 0xC2, then a unified header with C set and the same CID
        let d = [25, 0xFE, 0xFD, 0, 1, 0, 0, 0, 0, 0, 9, 0xC1, 0xC2, 0, 2, 7, 7, 0x3D, 0xC1, 0xC2, 0, 5, 0, 1, 0xEE];
        let items = split_with_cid(&d, Some(2));
        assert_eq!(items.len(), 2, "{items:?}");
        match &items[0] {
            Item::Record(r) => assert_eq!((r.content_type, r.epoch, r.seq, r.fragment), (25, 1, 9, &[7u8, 7][..])),
            x => panic!("{x:?}"),
        }
        assert_eq!(items[1], Item::Unified(UnifiedRecord { epoch_bits: 1, seq_bits: 5, connection_id: true, length: Some(1) }));
        // without the CID length: named, not mis-split
        assert!(matches!(split(&d)[..], [Item::Bad { code: "dtls_unknown_cid_length", .. }]));
        for n in 0..d.len() {
            let _ = split_with_cid(&d[..n], Some(2));
            let _ = split_with_cid(&d[..n], Some(200));
        }
    }

    #[test]
    fn truncations_never_panic() {
        let d = [22, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 7, 0, 2, 1, 2, 0x2D, 0x12, 0x34, 0, 3, 0xAA, 0xBB, 0xCC];
        for n in 0..d.len() {
            let items = split(&d[..n]);
            if n > 0 && n < 15 {
                assert!(matches!(items.last(), Some(Item::Bad { code: "dtls_truncated_record", .. })), "{n}");
            }
        }
    }
}
