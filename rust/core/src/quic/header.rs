//! QUIC packet headers (RFC 8999 invariants, RFC 9000 section 17, RFC 9369 section 3.2): versions
//! and their names, variable-length integers, and the split of a UDP datagram into its
//! (coalesced) packets. Nothing is decrypted here.

/// QUIC version 1 (RFC 9000).
pub const V1: u32 = 0x0000_0001;
/// QUIC version 2 (RFC 9369).
pub const V2: u32 = 0x6b33_43cf;
/// draft-ietf-quic-transport-29, the last draft deployed widely.
pub const DRAFT29: u32 = 0xff00_001d;

/// What a version number is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VersionKind {
    /// v1, v2, IETF drafts (0xff0000NN) and other versions that use the IETF long header.
    Ietf,
    /// Google QUIC: `Q0xx` (gQUIC crypto) or `T0xx` (gQUIC with TLS). Named, never decrypted.
    Google,
    /// 0: a Version Negotiation packet.
    Negotiation,
    /// A reserved version that forces version negotiation (0x?a?a?a?a, RFC 9000 section 15).
    Reserved,
    /// Anything else.
    Unknown,
}

/// Classify a version number.
pub fn version_kind(v: u32) -> VersionKind {
    let b = v.to_be_bytes();
    if v == 0 {
        VersionKind::Negotiation
    } else if v & 0x0f0f_0f0f == 0x0a0a_0a0a {
        VersionKind::Reserved
    } else if (b[0] == b'Q' || b[0] == b'T') && b[1..].iter().all(u8::is_ascii_digit) {
        VersionKind::Google
    } else if v == V1 || v == V2 || v >> 8 == 0x00ff_0000 || v >> 4 == 0xfaceb00 || v == 0x709a_50c4 {
        VersionKind::Ietf
    } else {
        VersionKind::Unknown
    }
}

/// A version's name for a flow row: "QUIC v1", "QUIC v2", "QUIC draft-29", "Google QUIC Q050",
/// "mvfst draft-22" (Facebook), "QUIC reserved 0x1a2a3a4a", "QUIC 0x12345678".
pub fn version_name(v: u32) -> String {
    let b = v.to_be_bytes();
    match v {
        V1 => return "QUIC v1".to_owned(),
        V2 => return "QUIC v2".to_owned(),
        0x709a_50c4 => return "QUIC v2 (draft)".to_owned(),
        0 => return "Version Negotiation".to_owned(),
        0xfaceb001 => return "mvfst draft-22".to_owned(),
        0xfaceb002 => return "mvfst draft-27".to_owned(),
        _ => {}
    }
    match version_kind(v) {
        VersionKind::Google => {
            let s: String = b.iter().map(|&c| char::from(c)).collect();
            format!("Google QUIC {s}")
        }
        VersionKind::Reserved => format!("QUIC reserved 0x{v:08x}"),
        _ if v >> 8 == 0x00ff_0000 => format!("QUIC draft-{}", v & 0xff),
        _ if v >> 4 == 0xfaceb00 => format!("mvfst 0x{v:08x}"),
        _ => format!("QUIC 0x{v:08x}"),
    }
}

/// Read a QUIC variable-length integer (RFC 9000 section 16) at `*pos`; advances `*pos`.
pub fn read_varint(buf: &[u8], pos: &mut usize) -> Option<u64> {
    let first = *buf.get(*pos)?;
    let len = 1usize << (first >> 6);
    let bytes = buf.get(*pos..pos.checked_add(len)?)?;
    let mut v = u64::from(first & 0x3f);
    for &c in &bytes[1..] {
        v = (v << 8) | u64::from(c);
    }
    *pos += len;
    Some(v)
}

/// Long-header packet types, named as in RFC 9000 (v2 numbers them differently on the wire).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LongType {
    Initial,
    ZeroRtt,
    Handshake,
    Retry,
}

impl LongType {
    /// The type from the two type bits of the first byte, per version.
    pub fn from_bits(bits: u8, version: u32) -> LongType {
        let bits = bits & 3;
        let v2 = version == V2 || version == 0x709a_50c4;
        match (v2, bits) {
            (false, 0) | (true, 1) => LongType::Initial,
            (false, 1) | (true, 2) => LongType::ZeroRtt,
            (false, 2) | (true, 3) => LongType::Handshake,
            _ => LongType::Retry,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            LongType::Initial => "Initial",
            LongType::ZeroRtt => "0-RTT",
            LongType::Handshake => "Handshake",
            LongType::Retry => "Retry",
        }
    }
}

/// One packet of a datagram, still protected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Packet<'a> {
    /// Initial, 0-RTT or Handshake. `bytes` is the whole packet (header and protected payload,
    /// as far as its Length field says); the packet number starts at `pn_offset` in it.
    Long {
        ptype: LongType,
        version: u32,
        dcid: &'a [u8],
        scid: &'a [u8],
        /// Initial only: the token (a Retry token echoed, or a NEW_TOKEN one).
        token: &'a [u8],
        pn_offset: usize,
        bytes: &'a [u8],
    },
    /// A Retry: the new source connection id the client must use as DCID, the token, and the
    /// whole packet (its last 16 bytes are the integrity tag).
    Retry {
        version: u32,
        dcid: &'a [u8],
        scid: &'a [u8],
        token: &'a [u8],
        bytes: &'a [u8],
    },
    /// A Version Negotiation packet and the versions the server offers.
    VersionNegotiation {
        dcid: &'a [u8],
        scid: &'a [u8],
        versions: Vec<u32>,
    },
    /// A 1-RTT packet (always the last of a datagram).
    Short { bytes: &'a [u8] },
    /// A Google QUIC packet of the given version (IETF-style long header for Q046 and later, or
    /// the legacy public header with its version flag).
    Google { version: u32 },
    /// A long header whose version this parser does not know: only the invariant fields.
    UnknownVersion {
        version: u32,
        dcid: &'a [u8],
        scid: &'a [u8],
    },
}

/// Why a datagram could not be split further.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SplitError {
    /// A long header cut before its end (connection ids, token or length).
    TruncatedHeader,
    /// The Length field runs past the datagram (the packet is kept up to the datagram's end
    /// only if it is the last; it is dropped here).
    LengthOverrun,
    /// A connection id longer than 20 bytes in a version 1/2 long header.
    CidTooLong,
    /// The fixed bit (0x40) is clear on a packet that needs it.
    FixedBitClear,
}

impl SplitError {
    /// Stable snake_case code.
    pub fn code(self) -> &'static str {
        match self {
            SplitError::TruncatedHeader => "quic_truncated_header",
            SplitError::LengthOverrun => "quic_length_overrun",
            SplitError::CidTooLong => "quic_cid_too_long",
            SplitError::FixedBitClear => "quic_fixed_bit_clear",
        }
    }
}

/// Legacy Google QUIC public header (Q043 and earlier): flags with the version bit (0x01) and an
/// 8-byte connection id (0x08), then `Q0dd`.
pub fn legacy_gquic_version(d: &[u8]) -> Option<u32> {
    let flags = *d.first()?;
    if flags & 0x80 != 0 || flags & 0x09 != 0x09 {
        return None;
    }
    let v = d.get(9..13)?;
    let v = u32::from_be_bytes([v[0], v[1], v[2], v[3]]);
    (version_kind(v) == VersionKind::Google && v.to_be_bytes()[0] == b'Q').then_some(v)
}

/// Whether a datagram looks like QUIC at all (any long header with a known or Google version,
/// or a legacy Google QUIC header), for content detection on any UDP port.
pub fn looks_like_quic(d: &[u8]) -> bool {
    if d.len() < 7 {
        return false;
    }
    if d[0] & 0x80 != 0 {
        let v = u32::from_be_bytes([d[1], d[2], d[3], d[4]]);
        return match version_kind(v) {
            VersionKind::Ietf | VersionKind::Google => true,
            VersionKind::Negotiation => d.len() >= 11,
            _ => false,
        };
    }
    legacy_gquic_version(d).is_some()
}

/// Split a datagram into its packets (RFC 9000 section 12.2: coalesced long-header packets, a
/// short-header one last). Stops at the first packet that does not parse, returning the
/// packets before it and why. Padding after the last long packet (zero bytes some stacks add)
/// is ignored.
pub fn split_datagram(d: &[u8]) -> (Vec<Packet<'_>>, Option<SplitError>) {
    let mut out = Vec::new();
    let mut pos = 0usize;
    if let Some(v) = legacy_gquic_version(d) {
        return (vec![Packet::Google { version: v }], None);
    }
    while pos < d.len() {
        let rest = &d[pos..];
        let first = rest[0];
        if first & 0x80 == 0 {
            if pos > 0 && rest.iter().all(|&b| b == 0) {
                break; // zero padding after coalesced packets
            }
            out.push(Packet::Short { bytes: rest });
            break;
        }
        match parse_long(rest) {
            Ok((pkt, len)) => {
                out.push(pkt);
                pos += len;
            }
            Err(e) => return (out, Some(e)),
        }
    }
    (out, None)
}

fn parse_long(d: &[u8]) -> Result<(Packet<'_>, usize), SplitError> {
    use SplitError::*;
    if d.len() < 7 {
        return Err(TruncatedHeader);
    }
    let version = u32::from_be_bytes([d[1], d[2], d[3], d[4]]);
    let mut pos = 5usize;
    let dlen = usize::from(d[pos]);
    pos += 1;
    let dcid = d.get(pos..pos + dlen).ok_or(TruncatedHeader)?;
    pos += dlen;
    let slen = usize::from(*d.get(pos).ok_or(TruncatedHeader)?);
    pos += 1;
    let scid = d.get(pos..pos + slen).ok_or(TruncatedHeader)?;
    pos += slen;
    let kind = version_kind(version);
    if kind == VersionKind::Negotiation {
        let versions = d[pos..]
            .chunks_exact(4)
            .take(256)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        return Ok((Packet::VersionNegotiation { dcid, scid, versions }, d.len()));
    }
    if kind == VersionKind::Google {
        return Ok((Packet::Google { version }, d.len()));
    }
    if kind != VersionKind::Ietf {
        return Ok((Packet::UnknownVersion { version, dcid, scid }, d.len()));
    }
    if dlen > 20 || slen > 20 {
        return Err(CidTooLong);
    }
    if d[0] & 0x40 == 0 {
        return Err(FixedBitClear);
    }
    let ptype = LongType::from_bits(d[0] >> 4, version);
    if ptype == LongType::Retry {
        // token, then a 16-byte integrity tag; the Retry fills the rest of the datagram
        let token = d.get(pos..d.len().saturating_sub(16)).unwrap_or(&[]);
        return Ok((
            Packet::Retry {
                version,
                dcid,
                scid,
                token,
                bytes: d,
            },
            d.len(),
        ));
    }
    let mut token: &[u8] = &[];
    if ptype == LongType::Initial {
        let n = read_varint(d, &mut pos).ok_or(TruncatedHeader)?;
        let n = usize::try_from(n).map_err(|_| LengthOverrun)?;
        token = d
            .get(pos..pos.checked_add(n).ok_or(LengthOverrun)?)
            .ok_or(LengthOverrun)?;
        pos += n;
    }
    let length = read_varint(d, &mut pos).ok_or(TruncatedHeader)?;
    let length = usize::try_from(length).map_err(|_| LengthOverrun)?;
    let end = pos.checked_add(length).ok_or(LengthOverrun)?;
    if end > d.len() {
        return Err(LengthOverrun);
    }
    Ok((
        Packet::Long {
            ptype,
            version,
            dcid,
            scid,
            token,
            pn_offset: pos,
            bytes: &d[..end],
        },
        end,
    ))
}
