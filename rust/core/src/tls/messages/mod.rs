//! Sans-I/O parsers for TLS handshake messages; port of `inspector/tls/messages.py`.
//!
//! Every `parse_*` function takes the handshake message *body* (the bytes after the 4-byte
//! handshake header; for [`parse_alert`] the alert record fragment, for
//! [`parse_sslv2_client_hello`] the whole SSLv2 record) and returns an owned struct whose fields
//! carry the Python attributes' names. Input that cannot be made sense of gives
//! `Err(`[`ParseError`]`)` (`reason`, `offset` into the given bytes; `Display` is
//! `"{reason} at offset {offset}"`, the Python message). Anomalies that still leave a usable
//! result are reported in the result's `warnings` as stable snake_case codes instead:
//!
//! | code | meaning |
//! |---|---|
//! | `extension_overrun` | extension block or one extension claims more bytes than exist |
//! | `trailing_data` | bytes after the last field the message defines |
//! | `duplicate_extension` | the same extension type twice (the first one is interpreted) |
//! | `malformed_<extension>` | an extension body that does not parse (e.g. `malformed_alpn`) |
//! | `many_server_names` | SNI carries more than one host_name (the first is kept) |
//! | `invalid_server_name` | empty, non-ASCII or control characters in the SNI host name |
//! | `session_id_too_long` | session_id longer than 32 bytes |
//! | `cipher_suites_odd_length` | cipher_suites vector of odd length (last byte dropped) |
//! | `no_cipher_suites` / `no_compression_methods` | |
//! | `pre_shared_key_not_last` | ClientHello pre_shared_key is not the last extension |
//! | `downgrade_sentinel_tls12` / `downgrade_sentinel_tls11` | ServerHello.random ends in DOWNGRD |
//! | `certificate_invalid_length` | certificate list or entry length lies (fitting entries kept) |
//! | `zero_length_certificate` | an empty certificate entry (skipped) |
//! | `too_many_certificates` | more than `max_certs` entries (the first ones kept) |
//! | `ca_names_invalid_length` | certificate_authorities list or entry length lies |
//! | `cipher_specs_invalid_length` | SSLv2 cipher_specs length not a multiple of 3 |
//! | `sslv2_challenge_length` | SSLv2 challenge outside 16..32 bytes |
//!
//! [`ca_name_to_str`] formats the CertificateRequest's CA names as the Python engine does.

mod cert;
mod dn;
mod hello;
mod other;
mod reader;

pub use cert::{
    parse_certificate, parse_certificate_request, Certificate, CertificateRequest,
    DEFAULT_MAX_CERTS,
};
pub use dn::ca_name_to_str;
pub use hello::{
    is_sslv2_client_hello, parse_client_hello, parse_server_hello, parse_sslv2_client_hello,
    ClientHello, ServerHello,
};
pub use other::{
    parse_alert, parse_new_session_ticket, parse_server_key_exchange, Alert, NewSessionTicket,
    ServerKeyExchange,
};

use std::fmt;

/// Malformed input: `reason` says what, `offset` where (index into the bytes given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub reason: String,
    pub offset: usize,
}

impl ParseError {
    pub fn new(reason: impl Into<String>, offset: usize) -> Self {
        ParseError {
            reason: reason.into(),
            offset,
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at offset {}", self.reason, self.offset)
    }
}

impl std::error::Error for ParseError {}

/// One extension as sent: (type, body), in wire order (GREASE and unknown types included).
pub type Extension = (u16, Vec<u8>);

/// Extension type codes used by the parsers.
pub mod ext {
    pub const SERVER_NAME: u16 = 0;
    pub const SUPPORTED_GROUPS: u16 = 10;
    pub const EC_POINT_FORMATS: u16 = 11;
    pub const SIGNATURE_ALGORITHMS: u16 = 13;
    pub const ALPN: u16 = 16;
    pub const EXTENDED_MASTER_SECRET: u16 = 23;
    pub const SESSION_TICKET: u16 = 35;
    pub const KEY_SHARE_DRAFT: u16 = 40;
    pub const PRE_SHARED_KEY: u16 = 41;
    pub const EARLY_DATA: u16 = 42;
    pub const SUPPORTED_VERSIONS: u16 = 43;
    pub const CERTIFICATE_AUTHORITIES: u16 = 47;
    pub const KEY_SHARE: u16 = 51;
    pub const ENCRYPTED_CLIENT_HELLO: u16 = 0xFE0D;
}

/// Warning codes in order of first appearance, each once.
pub(crate) fn warn(ws: &mut Vec<String>, code: &str) {
    if !ws.iter().any(|w| w == code) {
        ws.push(code.to_owned());
    }
}

pub(crate) fn malformed(ws: &mut Vec<String>, etype: u16) {
    let code = format!("malformed_{}", crate::tls::names::extension_name(etype));
    if !ws.contains(&code) {
        ws.push(code);
    }
}

/// True for TLS >= 1.2 and DTLS >= 1.2 (DTLS versions count down from 0xfeff).
pub(crate) fn tls12_or_later(version: u16) -> bool {
    if (0xFE00..=0xFEFF).contains(&version) {
        return version <= 0xFEFD;
    }
    version >= 0x0303
}

/// Wire text (host names, ALPN ids) -> (printable string, was it clean printable ASCII).
/// Bytes outside 0x20..=0x7e are written `\xNN`, as Python's backslashreplace plus the C0/DEL
/// escapes do.
pub(crate) fn text(raw: &[u8]) -> (String, bool) {
    let clean = raw.iter().all(|&c| (0x20..0x7F).contains(&c));
    if clean {
        // all ASCII: cannot fail
        return (raw.iter().map(|&c| char::from(c)).collect(), true);
    }
    let mut s = String::with_capacity(raw.len() * 2);
    for &c in raw {
        if (0x20..0x7F).contains(&c) {
            s.push(char::from(c));
        } else {
            s.push_str(&format!("\\x{c:02x}"));
        }
    }
    (s, false)
}

/// Big-endian u16 array; an odd last byte is dropped.
pub(crate) fn u16s(data: &[u8]) -> Vec<u16> {
    data.chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect()
}
