//! Does a TCP stream carry TLS? A cheap look at the first bytes a connection sends.
//! Port of `inspector/tls/detect.py`.
//!
//! [`classify_start`] returns one of:
//! - [`StartKind::Tls`]: a TLS handshake record header or an SSLv2-compatible ClientHello
//!   starts the stream;
//! - [`StartKind::Midstream`]: the capture started inside a TLS connection (record header of
//!   another type, or no SYN seen on a TLS port): parsing resynchronises on the next header;
//! - [`StartKind::Prelude`]: something else first, which may be upgraded to TLS later (STARTTLS
//!   in SMTP, IMAP, POP3, FTP, XMPP, LDAP; the PostgreSQL and MySQL SSL requests; SOCKS; a TLS
//!   port): the record layer scans on, within a bounded number of bytes, for a hello;
//! - [`StartKind::NotTls`]: a protocol known not to upgrade (HTTP, SSH...), or a midstream
//!   non-TLS flow.

use super::records::{is_sslv2_client_hello, plausible_record_header, CT_HANDSHAKE};

/// What the first bytes of a connection say (Python: the strings "tls", "midstream",
/// "prelude", "not_tls"; see [`StartKind::as_str`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartKind {
    Tls,
    Midstream,
    Prelude,
    NotTls,
}

impl StartKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StartKind::Tls => "tls",
            StartKind::Midstream => "midstream",
            StartKind::Prelude => "prelude",
            StartKind::NotTls => "not_tls",
        }
    }
}

/// Prefixes of protocols that never upgrade to TLS.
pub const NOT_TLS_PREFIXES: &[&[u8]] = &[
    b"GET ",
    b"POST ",
    b"PUT ",
    b"HEAD ",
    b"DELETE ",
    b"OPTIONS ",
    b"PATCH ",
    b"HTTP/1.",
    b"SSH-",
    b"PRI * HTTP/2",
];

/// Classify a connection by the first bytes one side sent; `tls_ports` are decoded even
/// mid-connection.
pub fn classify_start(
    data: &[u8],
    port_a: u16,
    port_b: u16,
    tls_ports: &[u16],
    midstream: bool,
) -> StartKind {
    if plausible_record_header(data, 0) {
        return if data[0] == CT_HANDSHAKE && !midstream {
            StartKind::Tls
        } else {
            StartKind::Midstream
        };
    }
    if is_sslv2_client_hello(data) {
        return StartKind::Tls;
    }
    if midstream {
        return if tls_ports.contains(&port_a) || tls_ports.contains(&port_b) {
            StartKind::Midstream
        } else {
            StartKind::NotTls
        };
    }
    if NOT_TLS_PREFIXES.iter().any(|p| data.starts_with(p)) {
        return StartKind::NotTls;
    }
    StartKind::Prelude
}

/// First bytes of either side before TLS started -> the protocol that upgraded to TLS.
pub const PRELUDE_SIGNATURES: &[(&[u8], &str)] = &[
    (b"* OK", "imap"),
    (b"+OK", "pop3"),
    (b"<?xml", "xmpp"),
    (b"<stream", "xmpp"),
    (b"EHLO", "smtp"),
    (b"HELO", "smtp"),
    (b"220", "smtp"),
    (b"\x00\x00\x00\x08\x04\xd2\x16\x2f", "postgresql"), // SSLRequest
];

fn contains_ftp_upper(h: &[u8]) -> bool {
    h.windows(3).any(|w| {
        w.iter()
            .map(u8::to_ascii_uppercase)
            .eq(b"FTP".iter().copied())
    })
}

/// Name the plaintext protocol seen before TLS (the first bytes each side sent), or "unknown".
pub fn prelude_protocol(heads: &[&[u8]], server_port: u16) -> &'static str {
    let heads: Vec<&[u8]> = heads.iter().copied().filter(|h| !h.is_empty()).collect();
    for &(magic, name) in PRELUDE_SIGNATURES {
        if heads.iter().any(|h| h.starts_with(magic)) {
            if magic == b"220" && (server_port == 21 || heads.iter().any(|h| contains_ftp_upper(h)))
            {
                return "ftp";
            }
            return name;
        }
    }
    if server_port == 389 || server_port == 3268 || heads.iter().any(|h| h[0] == 0x30) {
        return "ldap"; // a BER SEQUENCE: the StartTLS extended request
    }
    if server_port == 3306 || heads.iter().any(|h| h.len() > 4 && h[4] == 10) {
        return "mysql"; // protocol 10 server greeting
    }
    if server_port == 1080 || heads.iter().any(|h| h[0] == 0x05) {
        return "socks";
    }
    "unknown"
}
