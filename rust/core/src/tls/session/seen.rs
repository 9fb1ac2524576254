//! What the session keeps, and its names: alerts ([`AlertSeen`]), the ladder's arrows
//! ([`MessageSeen`]), anomalies ([`SessionAnomaly`]), Zeek's history letters, handshake
//! message names, and the bounds on what a peer can grow.

use super::Side;

/// Zeek's ssl_history letters (scripts/base/protocols/ssl/main.zeek); client upper, server
/// lower; `z` for any other message type.
pub fn history_letter(msg_type: u8) -> char {
    match msg_type {
        0 => 'h',
        1 => 'c',
        2 => 's',
        3 => 'v',
        4 => 't',
        5 => 'e',
        6 => 'j',
        8 => 'o',
        11 => 'x',
        12 => 'k',
        13 => 'r',
        14 => 'n',
        15 => 'y',
        16 => 'g',
        20 => 'f',
        21 => 'w',
        22 => 'u',
        23 => 'a',
        24 => 'p',
        25 => 'z',
        254 => 'm',
        _ => 'z',
    }
}

/// The handshake message's name as reports show it (`"Certificate"`), else `"handshake type N"`.
pub fn message_name(msg_type: u8) -> String {
    let name = match msg_type {
        0 => "HelloRequest",
        1 => "ClientHello",
        2 => "ServerHello",
        3 => "HelloVerifyRequest",
        4 => "NewSessionTicket",
        5 => "EndOfEarlyData",
        6 => "HelloRetryRequest",
        8 => "EncryptedExtensions",
        11 => "Certificate",
        12 => "ServerKeyExchange",
        13 => "CertificateRequest",
        14 => "ServerHelloDone",
        15 => "CertificateVerify",
        16 => "ClientKeyExchange",
        20 => "Finished",
        21 => "CertificateURL",
        22 => "CertificateStatus",
        24 => "KeyUpdate",
        25 => "CompressedCertificate",
        _ => return format!("handshake type {msg_type}"),
    };
    name.to_owned()
}

/// Certificate-related alert descriptions: answered "after the Certificate" when the peer's
/// last flight carried one.
pub const CERT_ALERTS: [u8; 8] = [42, 43, 44, 45, 46, 48, 49, 116];
pub const TLS13: u16 = 0x0304;
/// Session anomalies kept at most.
pub const MAX_ANOMALIES: usize = 64;
/// TLS 1.3 encrypted records remembered for the size/order heuristics.
pub const MAX_ENCRYPTED_ORDER: usize = 16;
/// Largest decrypted handshake message accepted.
pub const MAX_DECRYPTED_MESSAGE: usize = 1 << 20;

/// TLS 1.3, its IETF drafts (0x7fxx) and Facebook's Fizz drafts (0xfbxx).
pub fn is_tls13_version(v: Option<u16>) -> bool {
    matches!(v, Some(v) if v == TLS13 || (v >> 8) == 0x7F || (v >> 8) == 0xFB)
}

/// An alert as the session saw it.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertSeen {
    pub frame: u64,
    pub ts: f64,
    /// The direction that sent it.
    pub side: Side,
    /// `"warning"`, `"fatal"`, `"encrypted"`, or `"unknown(n)"`.
    pub level: String,
    /// IANA name (`"unknown_ca"`), or `"encrypted_alert"`.
    pub description: String,
    pub code: Option<u8>,
    /// The peer's last handshake message before it, e.g. `"Certificate"`.
    pub after: Option<String>,
}

/// The most messages logged per connection: a ladder needs the handshake, not a renegotiation
/// storm (Python's `MAX_MESSAGES`).
pub const MAX_MESSAGES: usize = 64;

/// One arrow of the ladder diagram (Python's `MessageSeen`): a handshake message,
/// ChangeCipherSpec, alert, application data record, or a TCP event, in the order seen.
#[derive(Clone, Debug, PartialEq)]
pub struct MessageSeen {
    /// The direction that sent it.
    pub side: Side,
    /// `"handshake"`, `"encrypted_handshake"`, `"change_cipher_spec"`, `"alert"`,
    /// `"application_data"`, or `"tcp"` (logged by the connection: retransmission, RST, FIN).
    pub kind: &'static str,
    /// `"ClientHello"`, `"Finished"`, `"fatal unknown_ca"`, `"encrypted record (53 bytes)"`...
    pub name: String,
    pub frame: u64,
    pub ts: f64,
}

/// Something odd in the connection (record layer or session), with a stable snake_case code.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionAnomaly {
    pub frame: u64,
    pub ts: f64,
    pub side: Option<Side>,
    pub code: String,
    pub detail: String,
}
