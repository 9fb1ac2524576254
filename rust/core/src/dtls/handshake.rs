//! DTLS handshake messages: fragments -> whole messages, for one direction.
//!
//! Each handshake fragment carries msg_type (1), length (3), message_seq (2), fragment_offset
//! (3) and fragment_length (3) (RFC 6347 4.2.2). [`Reassembler::push`] collects the fragments of
//! each message_seq until [0, length) is covered, then yields the message once: a fragment of a
//! message already yielded is a retransmission (counted, dropped). Memory is bounded: a message
//! longer than `max_message` is not buffered (`dtls_handshake_too_large`), at most
//! [`MAX_PARTIAL`] messages (and `2 * max_message` bytes) are in progress and [`MAX_MESSAGES`] message_seqs are remembered.

/// Handshake fragment header.
pub const FRAGMENT_HEADER: usize = 12;
/// Messages being reassembled at once, per direction.
pub const MAX_PARTIAL: usize = 16;
/// message_seq values remembered per direction (a DTLS handshake has about ten).
pub const MAX_MESSAGES: usize = 256;

/// A whole handshake message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub msg_type: u8,
    pub message_seq: u16,
    pub body: Vec<u8>,
    /// Fragments it came in (1 when not fragmented).
    pub fragments: u32,
}

/// What [`Reassembler::push`] yields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Out {
    Message(Message),
    /// A fragment of a message already yielded (or given up on).
    Retransmission { message_seq: u16, msg_type: u8 },
    /// `dtls_bad_fragment`, `dtls_fragment_mismatch`, `dtls_handshake_too_large`,
    /// `dtls_too_many_fragments_pending`, `dtls_too_many_messages`.
    Anomaly { code: &'static str, detail: String },
}

#[derive(Clone, Debug)]
struct Partial {
    seq: u16,
    msg_type: u8,
    buf: Vec<u8>,
    /// covered byte ranges, sorted, merged
    covered: Vec<(usize, usize)>,
    fragments: u32,
}

impl Partial {
    fn cover(&mut self, start: usize, end: usize) {
        if start >= end {
            return;
        }
        self.covered.push((start, end));
        self.covered.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(self.covered.len());
        for &(s, e) in &self.covered {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        self.covered = merged;
    }

    fn complete(&self) -> bool {
        self.buf.is_empty() || self.covered.first() == Some(&(0, self.buf.len()))
    }
}

/// The fragments of one direction.
#[derive(Clone, Debug)]
pub struct Reassembler {
    max_message: usize,
    done: std::collections::BTreeSet<u16>,
    partial: Vec<Partial>,
    full: bool,
}

impl Reassembler {
    pub fn new(max_message: usize) -> Self {
        Reassembler { max_message, done: Default::default(), partial: Vec::new(), full: false }
    }

    /// Bytes buffered for incomplete messages.
    pub fn buffered(&self) -> usize {
        self.partial.iter().map(|p| p.buf.len()).sum()
    }

    /// Was this message_seq already yielded (or dropped)?
    pub fn seen(&self, seq: u16) -> bool {
        self.done.contains(&seq)
    }

    fn finish(&mut self, seq: u16, out: &mut Vec<Out>) -> bool {
        if self.done.len() >= MAX_MESSAGES {
            if !self.full {
                self.full = true;
                out.push(Out::Anomaly { code: "dtls_too_many_messages", detail: format!("more than {MAX_MESSAGES} handshake messages in one direction") });
            }
            return false;
        }
        self.done.insert(seq);
        true
    }

    /// Feed the fragment of an epoch-0 handshake record (it may hold several fragments).
    pub fn push(&mut self, record: &[u8], out: &mut Vec<Out>) {
        let mut i = 0usize;
        while i < record.len() {
            let Some(h) = record.get(i..i + FRAGMENT_HEADER) else {
                out.push(Out::Anomaly { code: "dtls_bad_fragment", detail: format!("{} bytes left in the record, short of a fragment header", record.len() - i) });
                return;
            };
            let u24 = |b: &[u8]| (usize::from(b[0]) << 16) | (usize::from(b[1]) << 8) | usize::from(b[2]);
            let msg_type = h[0];
            let length = u24(&h[1..4]);
            let seq = u16::from_be_bytes([h[4], h[5]]);
            let offset = u24(&h[6..9]);
            let flen = u24(&h[9..12]);
            let start = i + FRAGMENT_HEADER;
            let Some(data) = record.get(start..start + flen) else {
                out.push(Out::Anomaly { code: "dtls_bad_fragment", detail: format!("fragment_length {flen} runs past the record") });
                return;
            };
            i = start + flen;
            if offset + flen > length {
                out.push(Out::Anomaly { code: "dtls_bad_fragment", detail: format!("fragment {offset}+{flen} past the message length {length}") });
                continue;
            }
            if self.done.contains(&seq) {
                out.push(Out::Retransmission { message_seq: seq, msg_type });
                continue;
            }
            if length > self.max_message {
                if self.finish(seq, out) {
                    out.push(Out::Anomaly { code: "dtls_handshake_too_large", detail: format!("handshake message of {length} bytes (limit {})", self.max_message) });
                }
                continue;
            }
            let pos = match self.partial.iter().position(|p| p.seq == seq) {
                Some(p) => p,
                None => {
                    if self.partial.len() >= MAX_PARTIAL || self.buffered() + length > 2 * self.max_message {
                        out.push(Out::Anomaly { code: "dtls_too_many_fragments_pending", detail: format!("more than {MAX_PARTIAL} handshake messages incomplete") });
                        continue;
                    }
                    self.partial.push(Partial { seq, msg_type, buf: vec![0; length], covered: Vec::new(), fragments: 0 });
                    self.partial.len() - 1
                }
            };
            let p = &mut self.partial[pos];
            if p.msg_type != msg_type || p.buf.len() != length {
                out.push(Out::Anomaly {
                    code: "dtls_fragment_mismatch",
                    detail: format!("message_seq {seq}: type {msg_type} length {length}, first fragment said type {} length {}", p.msg_type, p.buf.len()),
                });
                continue;
            }
            // first copy wins: only bytes not yet covered are written
            let mut at = offset;
            let end = offset + flen;
            for &(s, e) in p.covered.clone().iter() {
                if e <= at || s >= end {
                    continue;
                }
                if s > at {
                    p.buf[at..s].copy_from_slice(&data[at - offset..s - offset]);
                }
                at = at.max(e);
            }
            if at < end {
                p.buf[at..end].copy_from_slice(&data[at - offset..]);
            }
            p.cover(offset, end);
            p.fragments += 1;
            if p.complete() {
                let p = self.partial.swap_remove(pos);
                if self.finish(seq, out) {
                    out.push(Out::Message(Message { msg_type, message_seq: seq, body: p.buf, fragments: p.fragments }));
                }
            }
        }
    }
}

/// A DTLS ClientHello body -> (the TLS ClientHello body, the cookie): DTLS adds
/// `opaque cookie<0..2^8-1>` after session_id (RFC 6347 4.2.1), the one difference from TLS's
/// ClientHello, so removing it lets the TLS parser read the rest. `None` when too short to hold it.
pub fn strip_cookie(body: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let sid_len = usize::from(*body.get(34)?);
    let at = 35 + sid_len;
    let cookie_len = usize::from(*body.get(at)?);
    let cookie = body.get(at + 1..at + 1 + cookie_len)?;
    let mut tls = Vec::with_capacity(body.len() - 1 - cookie_len);
    tls.extend_from_slice(&body[..at]);
    tls.extend_from_slice(&body[at + 1 + cookie_len..]);
    Some((tls, cookie.to_vec()))
}

/// A HelloVerifyRequest body -> (server_version, cookie).
pub fn parse_hello_verify_request(body: &[u8]) -> Option<(u16, Vec<u8>)> {
    let version = u16::from_be_bytes([*body.first()?, *body.get(1)?]);
    let n = usize::from(*body.get(2)?);
    let cookie = body.get(3..3 + n)?;
    Some((version, cookie.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frag(msg_type: u8, length: usize, seq: u16, offset: usize, data: &[u8]) -> Vec<u8> {
        let mut v = vec![msg_type];
        v.extend_from_slice(&(length as u32).to_be_bytes()[1..]);
        v.extend_from_slice(&seq.to_be_bytes());
        v.extend_from_slice(&(offset as u32).to_be_bytes()[1..]);
        v.extend_from_slice(&(data.len() as u32).to_be_bytes()[1..]);
        v.extend_from_slice(data);
        v
    }

    #[test]
    fn out_of_order_overlapping_fragments_and_retransmission() {
        let msg: Vec<u8> = (0..100u8).collect();
        let mut r = Reassembler::new(1000);
        let mut out = Vec::new();
        r.push(&frag(11, 100, 3, 60, &msg[60..]), &mut out);
        r.push(&frag(11, 100, 3, 0, &msg[..30]), &mut out);
        assert!(out.is_empty());
        r.push(&frag(11, 100, 3, 20, &msg[20..70]), &mut out);
        assert_eq!(out, vec![Out::Message(Message { msg_type: 11, message_seq: 3, body: msg.clone(), fragments: 3 })]);
        out.clear();
        r.push(&frag(11, 100, 3, 0, &msg[..50]), &mut out);
        assert_eq!(out, vec![Out::Retransmission { message_seq: 3, msg_type: 11 }]);
    }

    #[test]
    fn bounds() {
        let mut r = Reassembler::new(10);
        let mut out = Vec::new();
        r.push(&frag(11, 11, 0, 0, &[0; 5]), &mut out);
        assert!(matches!(out[0], Out::Anomaly { code: "dtls_handshake_too_large", .. }));
        out.clear();
        r.push(&frag(11, 4, 1, 2, &[0; 5]), &mut out);
        assert!(matches!(out[0], Out::Anomaly { code: "dtls_bad_fragment", .. }));
        out.clear();
        for seq in 10..10 + MAX_PARTIAL as u16 + 1 {
            r.push(&frag(1, 8, seq, 0, &[0; 2]), &mut out);
        }
        assert!(matches!(out.last(), Some(Out::Anomaly { code: "dtls_too_many_fragments_pending", .. })));
        assert!(r.buffered() <= 8 * MAX_PARTIAL);
    }

    #[test]
    fn cookie_removed() {
        let mut ch = vec![0xFE, 0xFD];
        ch.extend_from_slice(&[7; 32]);
        ch.extend_from_slice(&[1, 0xAA, 3, 1, 2, 3, 0, 2, 0xC0, 0x2F, 1, 0]);
        let (tls, cookie) = strip_cookie(&ch).unwrap();
        assert_eq!(cookie, vec![1, 2, 3]);
        assert_eq!(tls.len(), ch.len() - 4);
        let parsed = crate::tls::messages::parse_client_hello(&tls).unwrap();
        assert_eq!(parsed.cipher_suites, vec![0xC02F]);
        assert_eq!(parsed.session_id, vec![0xAA]);
        for n in 0..ch.len() {
            let _ = strip_cookie(&ch[..n]);
        }
    }
}
