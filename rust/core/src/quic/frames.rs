//! QUIC frames of a decrypted packet (RFC 9000 section 19), the CRYPTO stream reassembly, and
//! the `quic_transport_parameters` extension (RFC 9000 section 18).

use std::collections::BTreeMap;

use super::header::read_varint;
use crate::tls::names::alert_name_static;

/// One frame. Frames the inspector does not need are skipped by their length (`Other`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    /// A run of PADDING bytes.
    Padding(usize),
    Ping,
    Ack {
        largest: u64,
    },
    Crypto {
        offset: u64,
        data: &'a [u8],
    },
    /// 0x1c (transport) or 0x1d (`application`).
    ConnectionClose {
        application: bool,
        error_code: u64,
        frame_type: Option<u64>,
        reason: &'a [u8],
    },
    HandshakeDone,
    /// Any other frame type, skipped.
    Other(u64),
}

/// Why frame parsing stopped before the end of the payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// A frame runs past the payload.
    Truncated { frame_type: u64 },
    /// A frame type without a known length: the rest cannot be read.
    UnknownType { frame_type: u64 },
}

impl FrameError {
    pub fn code(self) -> &'static str {
        match self {
            FrameError::Truncated { .. } => "quic_frame_truncated",
            FrameError::UnknownType { .. } => "quic_unknown_frame",
        }
    }
}

fn skip_varints(p: &[u8], pos: &mut usize, n: usize) -> Option<()> {
    for _ in 0..n {
        read_varint(p, pos)?;
    }
    Some(())
}

fn take<'a>(p: &'a [u8], pos: &mut usize, n: u64) -> Option<&'a [u8]> {
    let n = usize::try_from(n).ok()?;
    let end = pos.checked_add(n)?;
    let s = p.get(*pos..end)?;
    *pos = end;
    Some(s)
}

/// Parse the frames of a decrypted payload, in order.
pub fn parse_frames(p: &[u8]) -> (Vec<Frame<'_>>, Option<FrameError>) {
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos < p.len() {
        if p[pos] == 0 {
            let n = p[pos..].iter().take_while(|&&b| b == 0).count();
            pos += n;
            out.push(Frame::Padding(n));
            continue;
        }
        let start = pos;
        let Some(ft) = read_varint(p, &mut pos) else {
            return (
                out,
                Some(FrameError::Truncated {
                    frame_type: u64::from(p[start]),
                }),
            );
        };
        match parse_one(p, &mut pos, ft) {
            Some(Some(f)) => out.push(f),
            Some(None) => return (out, Some(FrameError::UnknownType { frame_type: ft })),
            None => return (out, Some(FrameError::Truncated { frame_type: ft })),
        }
    }
    (out, None)
}

/// `None`: truncated; `Some(None)`: unknown type.
fn parse_one<'a>(p: &'a [u8], pos: &mut usize, ft: u64) -> Option<Option<Frame<'a>>> {
    let f = match ft {
        0x01 => Frame::Ping,
        0x02 | 0x03 => {
            let largest = read_varint(p, pos)?;
            read_varint(p, pos)?; // ack delay
            let ranges = read_varint(p, pos)?;
            read_varint(p, pos)?; // first range
                                  // each range is two varints of at least one byte: a lying count runs out of bytes
            let mut i = 0u64;
            while i < ranges {
                skip_varints(p, pos, 2)?;
                i += 1;
            }
            if ft == 0x03 {
                skip_varints(p, pos, 3)?;
            }
            Frame::Ack { largest }
        }
        0x04 => {
            skip_varints(p, pos, 3)?;
            Frame::Other(ft)
        }
        0x05 => {
            skip_varints(p, pos, 2)?;
            Frame::Other(ft)
        }
        0x06 => {
            let offset = read_varint(p, pos)?;
            let len = read_varint(p, pos)?;
            let data = take(p, pos, len)?;
            Frame::Crypto { offset, data }
        }
        0x07 => {
            let len = read_varint(p, pos)?;
            take(p, pos, len)?;
            Frame::Other(ft)
        }
        0x08..=0x0f => {
            read_varint(p, pos)?; // stream id
            if ft & 0x04 != 0 {
                read_varint(p, pos)?;
            }
            if ft & 0x02 != 0 {
                let len = read_varint(p, pos)?;
                take(p, pos, len)?;
            } else {
                *pos = p.len();
            }
            Frame::Other(ft)
        }
        0x10 | 0x12 | 0x13 | 0x14 | 0x16 | 0x17 | 0x19 => {
            read_varint(p, pos)?;
            Frame::Other(ft)
        }
        0x11 | 0x15 => {
            skip_varints(p, pos, 2)?;
            Frame::Other(ft)
        }
        0x18 => {
            skip_varints(p, pos, 2)?;
            let n = *p.get(*pos)?;
            *pos += 1;
            take(p, pos, u64::from(n) + 16)?;
            Frame::Other(ft)
        }
        0x1a | 0x1b => {
            take(p, pos, 8)?;
            Frame::Other(ft)
        }
        0x1c | 0x1d => {
            let error_code = read_varint(p, pos)?;
            let frame_type = if ft == 0x1c { Some(read_varint(p, pos)?) } else { None };
            let len = read_varint(p, pos)?;
            let reason = take(p, pos, len)?;
            Frame::ConnectionClose {
                application: ft == 0x1d,
                error_code,
                frame_type,
                reason,
            }
        }
        0x1e => Frame::HandshakeDone,
        0x30 => {
            *pos = p.len();
            Frame::Other(ft)
        }
        0x31 => {
            let len = read_varint(p, pos)?;
            take(p, pos, len)?;
            Frame::Other(ft)
        }
        _ => return Some(None),
    };
    Some(Some(f))
}

/// The name of a transport error code (RFC 9000 section 20.1); 0x100 + a TLS alert is
/// `crypto_error(<alert name>)`.
pub fn transport_error_name(code: u64) -> String {
    let name = match code {
        0x00 => "no_error",
        0x01 => "internal_error",
        0x02 => "connection_refused",
        0x03 => "flow_control_error",
        0x04 => "stream_limit_error",
        0x05 => "stream_state_error",
        0x06 => "final_size_error",
        0x07 => "frame_encoding_error",
        0x08 => "transport_parameter_error",
        0x09 => "connection_id_limit_error",
        0x0a => "protocol_violation",
        0x0b => "invalid_token",
        0x0c => "application_error",
        0x0d => "crypto_buffer_exceeded",
        0x0e => "key_update_error",
        0x0f => "aead_limit_reached",
        0x10 => "no_viable_path",
        0x11 => "version_negotiation_error",
        0x100..=0x1ff => {
            let alert = (code - 0x100) as u8;
            return match alert_name_static(alert) {
                Some(a) => format!("crypto_error({a})"),
                None => format!("crypto_error(alert {alert})"),
            };
        }
        _ => return format!("0x{code:x}"),
    };
    name.to_owned()
}

/// The TLS alert inside a CRYPTO_ERROR code (0x100..=0x1ff).
pub fn crypto_error_alert(code: u64) -> Option<u8> {
    (0x100..=0x1ff).contains(&code).then(|| (code - 0x100) as u8)
}

/// The CRYPTO stream of one direction in one packet number space, reassembled from frames
/// arriving in any order. Bounded: nothing at or beyond [`CryptoStream::CAP`] bytes is kept
/// (`capped` tells it happened), and out-of-order data waiting for a gap is bounded by the same
/// cap.
#[derive(Clone, Debug, Default)]
pub struct CryptoStream {
    /// The contiguous bytes from offset 0.
    pub data: Vec<u8>,
    pending: BTreeMap<u64, Vec<u8>>,
    pending_bytes: usize,
    /// Data past the cap was dropped.
    pub capped: bool,
    /// How many handshake messages `next_message` has returned (its read position).
    read: usize,
}

impl CryptoStream {
    /// Bytes kept per direction and packet number space.
    pub const CAP: u64 = 65_535;

    /// Add a CRYPTO frame's data at `offset`.
    pub fn insert(&mut self, offset: u64, data: &[u8]) {
        let cap = Self::CAP;
        if offset >= cap {
            if !data.is_empty() {
                self.capped = true;
            }
            return;
        }
        let room = (cap - offset) as usize;
        let data = if data.len() > room {
            self.capped = true;
            &data[..room]
        } else {
            data
        };
        let have = self.data.len() as u64;
        if offset <= have {
            let skip = (have - offset) as usize;
            if skip < data.len() {
                self.data.extend_from_slice(&data[skip..]);
                self.drain_pending();
            }
            return;
        }
        // out of order: keep for later (the longer copy at one offset)
        let keep = match self.pending.get(&offset) {
            Some(old) => old.len() < data.len(),
            None => true,
        };
        if keep {
            let old = self.pending.get(&offset).map_or(0, Vec::len);
            if self.pending_bytes - old + data.len() > cap as usize {
                self.capped = true;
                return;
            }
            self.pending_bytes = self.pending_bytes - old + data.len();
            self.pending.insert(offset, data.to_vec());
        }
    }

    fn drain_pending(&mut self) {
        loop {
            let have = self.data.len() as u64;
            let Some((&off, _)) = self.pending.iter().next() else {
                return;
            };
            if off > have {
                return;
            }
            let chunk = self.pending.remove(&off).unwrap_or_default();
            self.pending_bytes -= chunk.len();
            let skip = (have - off) as usize;
            if skip < chunk.len() {
                self.data.extend_from_slice(&chunk[skip..]);
            }
        }
    }

    /// The next complete handshake message (type, body), in stream order.
    pub fn next_message(&mut self) -> Option<(u8, Vec<u8>)> {
        let rest = self.data.get(self.read..)?;
        if rest.len() < 4 {
            return None;
        }
        let len = (usize::from(rest[1]) << 16) | (usize::from(rest[2]) << 8) | usize::from(rest[3]);
        let body = rest.get(4..4 + len)?;
        let msg = (rest[0], body.to_vec());
        self.read += 4 + len;
        Some(msg)
    }

    /// Bytes received but not yet returned as messages (a message still incomplete).
    pub fn unread(&self) -> usize {
        self.data.len() - self.read.min(self.data.len())
    }

    /// Whether data beyond the contiguous prefix is waiting for a gap to fill.
    pub fn has_gap(&self) -> bool {
        !self.pending.is_empty()
    }
}

/// The transport parameters of a ClientHello or EncryptedExtensions (extension 0x39, or
/// 0xffa5 in drafts). Values that do not parse are left `None` and named in `malformed`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TransportParameters {
    pub original_destination_connection_id: Option<Vec<u8>>,
    /// Milliseconds.
    pub max_idle_timeout: Option<u64>,
    pub stateless_reset_token: Option<Vec<u8>>,
    pub max_udp_payload_size: Option<u64>,
    pub initial_max_data: Option<u64>,
    pub initial_max_stream_data_bidi_local: Option<u64>,
    pub initial_max_stream_data_bidi_remote: Option<u64>,
    pub initial_max_stream_data_uni: Option<u64>,
    pub initial_max_streams_bidi: Option<u64>,
    pub initial_max_streams_uni: Option<u64>,
    pub ack_delay_exponent: Option<u64>,
    pub max_ack_delay: Option<u64>,
    pub disable_active_migration: bool,
    pub preferred_address: bool,
    pub active_connection_id_limit: Option<u64>,
    pub initial_source_connection_id: Option<Vec<u8>>,
    pub retry_source_connection_id: Option<Vec<u8>>,
    pub max_datagram_frame_size: Option<u64>,
    /// Every parameter id in wire order (GREASE and unknown ones included; at most 256).
    pub ids: Vec<u64>,
    /// Ids whose value did not parse, or the list itself cut short (`u64::MAX`).
    pub malformed: Vec<u64>,
}

/// Parse a `quic_transport_parameters` extension body.
pub fn parse_transport_parameters(b: &[u8]) -> TransportParameters {
    let mut tp = TransportParameters::default();
    let mut pos = 0usize;
    while pos < b.len() {
        let (Some(id), Some(len)) = (read_varint(b, &mut pos), read_varint(b, &mut pos)) else {
            tp.malformed.push(u64::MAX);
            break;
        };
        let Some(v) = take(b, &mut pos, len) else {
            tp.malformed.push(u64::MAX);
            break;
        };
        if tp.ids.len() < 256 {
            tp.ids.push(id);
        }
        let int = || {
            let mut p = 0usize;
            read_varint(v, &mut p).filter(|_| p == v.len())
        };
        let mut bad = false;
        let mut set_int = |slot: &mut Option<u64>| match int() {
            Some(x) => *slot = Some(x),
            None => bad = true,
        };
        match id {
            0x00 => tp.original_destination_connection_id = Some(v.to_vec()),
            0x01 => set_int(&mut tp.max_idle_timeout),
            0x02 => tp.stateless_reset_token = Some(v.to_vec()),
            0x03 => set_int(&mut tp.max_udp_payload_size),
            0x04 => set_int(&mut tp.initial_max_data),
            0x05 => set_int(&mut tp.initial_max_stream_data_bidi_local),
            0x06 => set_int(&mut tp.initial_max_stream_data_bidi_remote),
            0x07 => set_int(&mut tp.initial_max_stream_data_uni),
            0x08 => set_int(&mut tp.initial_max_streams_bidi),
            0x09 => set_int(&mut tp.initial_max_streams_uni),
            0x0a => set_int(&mut tp.ack_delay_exponent),
            0x0b => set_int(&mut tp.max_ack_delay),
            0x0c => tp.disable_active_migration = true,
            0x0d => tp.preferred_address = true,
            0x0e => set_int(&mut tp.active_connection_id_limit),
            0x0f => tp.initial_source_connection_id = Some(v.to_vec()),
            0x10 => tp.retry_source_connection_id = Some(v.to_vec()),
            0x20 => set_int(&mut tp.max_datagram_frame_size),
            _ => {}
        }
        if bad && tp.malformed.len() < 64 {
            tp.malformed.push(id);
        }
    }
    tp
}
