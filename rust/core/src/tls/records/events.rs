//! What the record reader returns: one [`Event`] per handshake message, record or finding,
//! in stream order.

/// One whole handshake message (header stripped), with the version of the record that ended it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeMessage {
    pub frame: u64,
    pub msg_type: u8,
    pub body: Vec<u8>,
    pub record_version: u16,
}

/// A handshake record after ChangeCipherSpec (e.g. Finished): content not readable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptedHandshake {
    pub frame: u64,
    pub length: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeCipherSpec {
    pub frame: u64,
}

/// An alert record: `payload` is its plaintext (level, description pairs) or ciphertext.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertRecord {
    pub frame: u64,
    pub payload: Vec<u8>,
    pub encrypted: bool,
}

/// An application-data (or heartbeat) record; `record` is the whole record (header included),
/// only when the reader keeps payloads (`keep_payload`), else empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationData {
    pub frame: u64,
    pub length: usize,
    pub record: Vec<u8>,
}

/// The whole SSLv2 CLIENT-HELLO record, header included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SSLv2ClientHello {
    pub frame: u64,
    pub record: Vec<u8>,
}

/// The whole SSLv2 SERVER-HELLO record, header included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SSLv2ServerHello {
    pub frame: u64,
    pub record: Vec<u8>,
}

/// A record-layer anomaly; `code` is one of `invalid_record`, `invalid_record_length`,
/// `too_many_records`, `handshake_too_large`, `tls_resync`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anomaly {
    pub frame: u64,
    pub code: &'static str,
    pub detail: String,
}

/// TLS was found in this direction, after `prelude_bytes` bytes of something else;
/// `prelude_head` is the first bytes of the prelude (to name the protocol), at most 64.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TLSStart {
    pub frame: u64,
    pub prelude_bytes: usize,
    pub prelude_head: Vec<u8>,
}

/// What [`RecordReader::feed`](super::RecordReader::feed) returns, in stream order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    HandshakeMessage(HandshakeMessage),
    EncryptedHandshake(EncryptedHandshake),
    ChangeCipherSpec(ChangeCipherSpec),
    AlertRecord(AlertRecord),
    ApplicationData(ApplicationData),
    SSLv2ClientHello(SSLv2ClientHello),
    SSLv2ServerHello(SSLv2ServerHello),
    Anomaly(Anomaly),
    TLSStart(TLSStart),
}

impl Event {
    /// The frame the event was completed in.
    pub fn frame(&self) -> u64 {
        match self {
            Event::HandshakeMessage(e) => e.frame,
            Event::EncryptedHandshake(e) => e.frame,
            Event::ChangeCipherSpec(e) => e.frame,
            Event::AlertRecord(e) => e.frame,
            Event::ApplicationData(e) => e.frame,
            Event::SSLv2ClientHello(e) => e.frame,
            Event::SSLv2ServerHello(e) => e.frame,
            Event::Anomaly(e) => e.frame,
            Event::TLSStart(e) => e.frame,
        }
    }
}
