//! TLS record layer for one direction of a TCP stream: bytes in order -> record-level events.
//!
//! Port of `inspector/tls/records.py`; the two must give the same events for the same bytes.
//!
//! [`RecordReader::feed`] is sans-I/O. It finds where TLS starts (at once, after an
//! SSLv2-compatible ClientHello, or after a plaintext prelude such as a STARTTLS exchange), splits
//! records of any fragmentation, reassembles handshake messages spanning records (and splits
//! several messages per record), and returns [`Event`]s. Application data is skipped without being
//! buffered, so memory stays bounded by the largest handshake message allowed (`max_handshake`).
//! After this side's ChangeCipherSpec its handshake and alert records are encrypted and reported
//! as such. Malformed records end parsing of the direction with an [`Anomaly`]; a TCP gap
//! triggers a resync on the next plausible record header.
//!
//! Its parts: `events` (the [`Event`] types it returns); here the reader itself and the record
//! header checks.

mod events;

pub use events::{
    AlertRecord, Anomaly, ApplicationData, ChangeCipherSpec, EncryptedHandshake, Event, HandshakeMessage,
    SSLv2ClientHello, SSLv2ServerHello, TLSStart,
};

/// Record content types (RFC 8446 5.1).
pub const CT_CHANGE_CIPHER_SPEC: u8 = 20;
pub const CT_ALERT: u8 = 21;
pub const CT_HANDSHAKE: u8 = 22;
pub const CT_APPLICATION_DATA: u8 = 23;
pub const CT_HEARTBEAT: u8 = 24;
/// Ciphertext limit of RFC 5246 section 6.2.3.
pub const MAX_RECORD: usize = (1 << 14) + 2048;
/// Plaintext bytes scanned for a STARTTLS-style upgrade.
pub const MAX_PRELUDE: usize = 16 * 1024;
/// Default limit on one handshake message (Python `RecordReader(max_handshake=256 * 1024)`).
pub const DEFAULT_MAX_HANDSHAKE: usize = 256 * 1024;
/// Default limit on records before the handshake ended.
pub const DEFAULT_MAX_RECORDS: u64 = 10_000;

/// Is `ct` one of the five record content types?
#[inline]
pub fn valid_content_type(ct: u8) -> bool {
    (20..=24).contains(&ct)
}

/// Does a TLS record header start at `b[i]`? (content type, version 3.x, sane length)
pub fn plausible_record_header(b: &[u8], i: usize) -> bool {
    let h = match b.get(i..i.saturating_add(5)) {
        Some(h) if h.len() == 5 => h,
        _ => return false,
    };
    if !valid_content_type(h[0]) || h[1] != 3 || h[2] > 4 {
        return false;
    }
    let ln = (usize::from(h[3]) << 8) | usize::from(h[4]);
    0 < ln && ln <= MAX_RECORD
}

/// SSLv2-compatible ClientHello: 2-byte length with the top bit, type 1, version 2.0-3.3.
/// (The record layer's cheap check; `messages::is_sslv2_client_hello` is a stricter one.)
pub fn is_sslv2_client_hello(b: &[u8]) -> bool {
    if b.len() < 5 || b[0] & 0x80 == 0 {
        return false;
    }
    let ln = ((usize::from(b[0]) & 0x7F) << 8) | usize::from(b[1]);
    b[2] == 1 && (b[3] == 0 || b[3] == 3) && b[4] <= 4 && (9..=16384).contains(&ln)
}

/// SSLv2 SERVER-HELLO: 2-byte length with the top bit, type 4, server version 0x0002.
pub fn is_sslv2_server_hello(b: &[u8]) -> bool {
    b.len() >= 7 && b[0] & 0x80 != 0 && b[2] == 4 && b[5] == 0 && b[6] == 2
}

/// Length of an SSLv2 record with a 2-byte header, header included.
fn sslv2_record_len(b: &[u8]) -> usize {
    (((usize::from(b[0]) & 0x7F) << 8) | usize::from(b[1])) + 2
}

fn find_16_03(b: &[u8], start: usize) -> Option<usize> {
    let tail = b.get(start..)?;
    tail.windows(2)
        .position(|w| w == [0x16, 0x03])
        .map(|p| p + start)
}

/// Offset of the first TLS handshake record carrying a ClientHello/ServerHello, or `None`.
pub fn find_hello(b: &[u8], start: usize) -> Option<usize> {
    let mut i = find_16_03(b, start);
    while let Some(p) = i {
        if b.len() < p + 6 {
            return None;
        }
        if b[p + 2] <= 4 && (b[p + 5] == 1 || b[p + 5] == 2) && plausible_record_header(b, p) {
            return Some(p);
        }
        i = find_16_03(b, p + 1);
    }
    None
}

/// A ClientHello/ServerHello record after CCS: TLS 1.3 middlebox compatibility mode sends CCS
/// after a HelloRetryRequest, before the second hello. An encrypted record passes this check
/// with probability about 2**-24 (type byte and exact 3-byte length).
fn plaintext_hello(frag: &[u8]) -> bool {
    frag.len() >= 4
        && (frag[0] == 1 || frag[0] == 2)
        && ((usize::from(frag[1]) << 16) | (usize::from(frag[2]) << 8) | usize::from(frag[3]))
            == frag.len() - 4
}

/// The reader's state: `Detect -> Records -> Stopped`, `Resync` after a gap (or a mid-stream
/// start) until the next plausible record header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Detect,
    Resync,
    Records,
    Stopped,
}

impl State {
    /// The Python engine's state string: "detect", "resync", "records", "stopped".
    pub fn as_str(self) -> &'static str {
        match self {
            State::Detect => "detect",
            State::Resync => "resync",
            State::Records => "records",
            State::Stopped => "stopped",
        }
    }
}

/// One direction of a TLS connection. Fields mirror the Python `RecordReader`'s attributes.
#[derive(Debug, Clone)]
pub struct RecordReader {
    pub state: State,
    buf: Vec<u8>,
    /// Handshake bytes not yet forming a whole message.
    hs: Vec<u8>,
    pub hs_version: u16,
    /// Bytes of the current (application data) record still to skip.
    skip: usize,
    pub encrypted: bool,
    pub max_handshake: usize,
    pub prelude_bytes: usize,
    pub prelude_head: Vec<u8>,
    pub records: u64,
    pub max_records: u64,
    pub ccs_frame: Option<u64>,
    pub bytes_in: u64,
    /// Set by the caller when the other direction has started TLS.
    pub peer_tls: bool,
    /// A TLSStart was emitted.
    pub started: bool,
    /// Hand application-data records over whole (for decryption).
    pub keep_payload: bool,
}

impl Default for RecordReader {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_HANDSHAKE, DEFAULT_MAX_RECORDS)
    }
}

impl RecordReader {
    /// (handshake bytes not yet a whole message, bytes of the record begun): what
    /// `Connection::partial_hello` looks at.
    pub fn pending(&self) -> (&[u8], &[u8]) {
        (&self.hs, &self.buf)
    }

    pub fn new(max_handshake: usize, max_records: u64) -> Self {
        RecordReader {
            state: State::Detect,
            buf: Vec::new(),
            hs: Vec::new(),
            hs_version: 0,
            skip: 0,
            encrypted: false,
            max_handshake,
            prelude_bytes: 0,
            prelude_head: Vec::new(),
            records: 0,
            max_records,
            ccs_frame: None,
            bytes_in: 0,
            peer_tls: false,
            started: false,
            keep_payload: false,
        }
    }

    pub fn stopped(&self) -> bool {
        self.state == State::Stopped
    }

    /// Stop parsing this direction and free its buffers.
    pub fn stop(&mut self) {
        self.state = State::Stopped;
        self.buf = Vec::new();
        self.hs = Vec::new();
    }

    /// Bytes held in the reader's buffers (record bytes plus partial handshake message).
    pub fn buffered(&self) -> usize {
        self.buf.len() + self.hs.len()
    }

    /// Feed the next in-order bytes of this direction, seen in `frame`; `gap` says bytes are
    /// missing before `data`. Returns the events completed by these bytes.
    pub fn feed(&mut self, data: &[u8], frame: u64, gap: bool) -> Vec<Event> {
        let mut out = Vec::new();
        self.feed_into(data, frame, gap, &mut out);
        out
    }

    /// [`RecordReader::feed`] appending to a caller's vector.
    pub fn feed_into(&mut self, data: &[u8], frame: u64, gap: bool, out: &mut Vec<Event>) {
        if self.state == State::Stopped {
            return;
        }
        self.bytes_in += data.len() as u64;
        if gap {
            self.buf.clear();
            self.hs.clear();
            self.skip = 0;
            if self.state == State::Records {
                self.state = State::Resync;
            }
        }
        let mut data = data;
        if self.skip > 0 {
            if data.len() <= self.skip {
                self.skip -= data.len();
                return;
            }
            data = &data[self.skip..];
            self.skip = 0;
        }
        self.buf.extend_from_slice(data);
        if self.state == State::Detect {
            self.detect(frame, out);
        }
        if self.state == State::Resync {
            self.resync(frame, out);
        }
        if self.state == State::Records {
            self.read_records(frame, out);
        }
    }

    fn start(&mut self, frame: u64, out: &mut Vec<Event>) {
        self.state = State::Records;
        self.started = true;
        out.push(Event::TLSStart(TLSStart {
            frame,
            prelude_bytes: self.prelude_bytes,
            prelude_head: self.prelude_head.clone(),
        }));
    }

    fn detect(&mut self, frame: u64, out: &mut Vec<Event>) {
        let b = &self.buf;
        // a record right at the start of the stream (once prelude bytes were dropped, the
        // buffer's start depends on how the stream was cut: only a hello ends a prelude)
        if self.prelude_bytes == 0 && plausible_record_header(b, 0) && (b[0] == CT_HANDSHAKE || self.peer_tls) {
            self.start(frame, out);
            return;
        }
        if self.peer_tls && self.prelude_bytes == 0 && is_sslv2_server_hello(b) {
            self.state = State::Records;
            self.started = true;
            out.push(Event::TLSStart(TLSStart {
                frame,
                prelude_bytes: 0,
                prelude_head: Vec::new(),
            }));
            self.read_records(frame, out);
            return;
        }
        if self.prelude_bytes == 0 && is_sslv2_client_hello(b) {
            let ln = sslv2_record_len(b);
            if b.len() < ln {
                return;
            }
            self.started = true;
            out.push(Event::TLSStart(TLSStart {
                frame,
                prelude_bytes: 0,
                prelude_head: Vec::new(),
            }));
            out.push(Event::SSLv2ClientHello(SSLv2ClientHello {
                frame,
                record: b[..ln].to_vec(),
            }));
            self.buf.drain(..ln);
            self.state = State::Records;
            return;
        }
        if b.len() < 6 && b.first() == Some(&CT_HANDSHAKE) {
            return; // could still become a record header
        }
        match find_hello(b, 0) {
            None => {
                let keep = 5; // a header may straddle chunks
                if self.prelude_head.is_empty() {
                    self.prelude_head = b[..b.len().min(64)].to_vec();
                }
                let n = self.buf.len();
                if n > keep {
                    self.prelude_bytes += n - keep;
                    self.buf.drain(..n - keep);
                }
                if self.prelude_bytes > MAX_PRELUDE {
                    self.stop();
                }
            }
            Some(i) => {
                if self.prelude_head.is_empty() {
                    self.prelude_head = b[..i.min(64)].to_vec();
                }
                self.prelude_bytes += i;
                self.buf.drain(..i);
                self.start(frame, out);
            }
        }
    }

    fn resync(&mut self, frame: u64, out: &mut Vec<Event>) {
        let b = &self.buf;
        for i in 0..b.len().min(4096) {
            if plausible_record_header(b, i) {
                // demand a second header right after the first when the bytes are there
                let j = i + 5 + ((usize::from(b[i + 3]) << 8) | usize::from(b[i + 4]));
                if j + 5 <= b.len() && !plausible_record_header(b, j) {
                    continue;
                }
                self.buf.drain(..i);
                self.state = State::Records;
                if self.started {
                    out.push(Event::Anomaly(Anomaly {
                        frame,
                        code: "tls_resync",
                        detail: format!("parsing resumed after a gap, {i} bytes skipped"),
                    }));
                } else {
                    // a capture that starts mid-stream
                    self.started = true;
                    out.push(Event::TLSStart(TLSStart {
                        frame,
                        prelude_bytes: 0,
                        prelude_head: Vec::new(),
                    }));
                }
                return;
            }
        }
        let n = self.buf.len();
        if n > 4096 + 5 {
            self.buf.drain(..n - 5);
        }
    }

    fn read_records(&mut self, frame: u64, out: &mut Vec<Event>) {
        if self.records == 0 && self.peer_tls && is_sslv2_server_hello(&self.buf) {
            let ln = sslv2_record_len(&self.buf);
            if self.buf.len() >= ln {
                out.push(Event::SSLv2ServerHello(SSLv2ServerHello {
                    frame,
                    record: self.buf[..ln].to_vec(),
                }));
                self.stop(); // the rest of an SSLv2 connection is encrypted
            }
            return;
        }
        let mut pos = 0usize;
        let n = self.buf.len();
        while n - pos >= 5 {
            let b = &self.buf;
            let ct = b[pos];
            let ver = (u16::from(b[pos + 1]) << 8) | u16::from(b[pos + 2]);
            let ln = (usize::from(b[pos + 3]) << 8) | usize::from(b[pos + 4]);
            if !valid_content_type(ct) || b[pos + 1] != 3 {
                let detail = format!(
                    "bytes {} are not a TLS record header",
                    hex::encode(&b[pos..pos + 5])
                );
                out.push(Event::Anomaly(Anomaly {
                    frame,
                    code: "invalid_record",
                    detail,
                }));
                self.stop();
                return;
            }
            if ln > MAX_RECORD || (ln == 0 && ct != CT_APPLICATION_DATA) {
                out.push(Event::Anomaly(Anomaly {
                    frame,
                    code: "invalid_record_length",
                    detail: format!("record of type {ct} announces {ln} bytes"),
                }));
                self.stop();
                return;
            }
            self.records += 1;
            if self.records > self.max_records {
                out.push(Event::Anomaly(Anomaly {
                    frame,
                    code: "too_many_records",
                    detail: format!(
                        "more than {} records before the handshake ended",
                        self.max_records
                    ),
                }));
                self.stop();
                return;
            }
            if ct == CT_APPLICATION_DATA && self.keep_payload {
                if n - pos - 5 < ln {
                    self.records -= 1;
                    break;
                }
                out.push(Event::ApplicationData(ApplicationData {
                    frame,
                    length: ln,
                    record: b[pos..pos + 5 + ln].to_vec(),
                }));
                pos += 5 + ln;
                continue;
            }
            if ct == CT_APPLICATION_DATA || ct == CT_HEARTBEAT {
                out.push(Event::ApplicationData(ApplicationData {
                    frame,
                    length: ln,
                    record: Vec::new(),
                }));
                let avail = n - pos - 5;
                if avail < ln {
                    self.skip = ln - avail;
                    pos = n;
                    break;
                }
                pos += 5 + ln;
                continue;
            }
            if n - pos - 5 < ln {
                self.records -= 1; // counted again when the rest arrives
                break;
            }
            let start = pos + 5;
            pos += 5 + ln;
            if ct == CT_HANDSHAKE {
                let frag = &self.buf[start..start + ln];
                if self.encrypted && !plaintext_hello(frag) {
                    out.push(Event::EncryptedHandshake(EncryptedHandshake {
                        frame,
                        length: ln,
                    }));
                } else {
                    let buf = std::mem::take(&mut self.buf);
                    let ok = self.handshake(&buf[start..start + ln], ver, frame, out);
                    if !ok {
                        return; // stopped: buffers freed
                    }
                    self.buf = buf;
                }
            } else if ct == CT_CHANGE_CIPHER_SPEC {
                self.encrypted = true;
                self.ccs_frame = Some(frame);
                out.push(Event::ChangeCipherSpec(ChangeCipherSpec { frame }));
            } else {
                // alert: a 2-byte alert is plaintext even after CCS (NULL ciphers aside)
                out.push(Event::AlertRecord(AlertRecord {
                    frame,
                    payload: self.buf[start..start + ln].to_vec(),
                    encrypted: self.encrypted && ln != 2,
                }));
            }
        }
        self.buf.drain(..pos);
    }

    /// Append a handshake record's fragment and emit every whole message; false when a message
    /// announces more than `max_handshake` (the reader is then stopped).
    fn handshake(&mut self, frag: &[u8], ver: u16, frame: u64, out: &mut Vec<Event>) -> bool {
        self.hs.extend_from_slice(frag);
        self.hs_version = ver;
        let mut pos = 0usize;
        while self.hs.len() - pos >= 4 {
            let h = &self.hs[pos..];
            let mlen = (usize::from(h[1]) << 16) | (usize::from(h[2]) << 8) | usize::from(h[3]);
            if mlen > self.max_handshake {
                out.push(Event::Anomaly(Anomaly {
                    frame,
                    code: "handshake_too_large",
                    detail: format!(
                        "handshake message type {} announces {} bytes (limit {})",
                        h[0], mlen, self.max_handshake
                    ),
                }));
                self.stop();
                return false;
            }
            if h.len() < 4 + mlen {
                break;
            }
            out.push(Event::HandshakeMessage(HandshakeMessage {
                frame,
                msg_type: h[0],
                body: h[4..4 + mlen].to_vec(),
                record_version: ver,
            }));
            pos += 4 + mlen;
        }
        self.hs.drain(..pos);
        true
    }
}
