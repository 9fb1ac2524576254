//! Names of TLS wire codes, identical to `inspector/tls/constants.py` and `ciphers.py`.
//!
//! Every `*_name` helper accepts any value, never panics, and keeps unknown values visible
//! (`"0x1234"`, `"unknown(200)"`) so a report can always show what was on the wire. The tables
//! themselves are generated from the Python ones (`names/tables.rs`, by
//! `rust/tools/gen_names.py`), so the two engines cannot drift apart.

#[rustfmt::skip]
mod tables;

pub use tables::HRR_RANDOM;

/// True for the 16-bit GREASE values 0x0a0a, 0x1a1a, ... 0xfafa (RFC 8701).
#[inline]
pub fn is_grease(v: u32) -> bool {
    v <= 0xFFFF && v & 0x0F0F == 0x0A0A && (v >> 8) == (v & 0xFF)
}

fn hex16(i: u32) -> String {
    format!("0x{i:04x}")
}

/// `48 -> "unknown_ca"`; unknown values -> `"unknown(200)"`.
pub fn alert_name(code: u8) -> String {
    tables::alert_description(code).map_or_else(|| format!("unknown({code})"), str::to_owned)
}

/// The IANA name of an alert description, if it has one.
pub fn alert_name_static(code: u8) -> Option<&'static str> {
    tables::alert_description(code)
}

/// `1 -> "warning"`, `2 -> "fatal"`, else `"unknown(n)"`.
pub fn alert_level_name(level: u8) -> String {
    tables::alert_level(level).map_or_else(|| format!("unknown({level})"), str::to_owned)
}

/// Protocol version -> `"TLS 1.2"`, `"TLS 1.3 (draft 23)"`, `"GREASE"`, `"0x1234"`.
pub fn version_name(v: u32) -> String {
    if let Some(name) = u16::try_from(v).ok().and_then(tables::protocol_version) {
        return name.to_owned();
    }
    if is_grease(v) {
        return "GREASE".to_owned();
    }
    if (0x7F00..=0x7FFF).contains(&v) {
        return format!("TLS 1.3 (draft {})", v & 0xFF);
    }
    if (0xFB00..=0xFBFF).contains(&v) {
        // Facebook's Fizz used 0xfb00 | draft
        return format!("TLS 1.3 (Facebook draft {})", v & 0xFF);
    }
    hex16(v)
}

/// IANA cipher suite name (`"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"`); GREASE -> `"GREASE"`;
/// unknown -> `"0x1234"`. 3-byte SSLv2 cipher kinds (`0x010080`) get their SSL_CK_* names.
pub fn cipher_name(code: u32) -> String {
    if let Some(name) = u16::try_from(code).ok().and_then(tables::cipher_suite) {
        return name.to_owned();
    }
    if is_grease(code) {
        return "GREASE".to_owned();
    }
    if let Some(name) = tables::sslv2_cipher_kind(code) {
        return name.to_owned();
    }
    if code > 0xFFFF {
        return format!("0x{code:06x}");
    }
    hex16(code)
}

/// The IANA name of a 2-byte cipher suite, if known.
pub fn cipher_suite_name(code: u16) -> Option<&'static str> {
    tables::cipher_suite(code)
}

/// Key exchange of a cipher suite, from its name: `"RSA"`, `"DHE"`, `"ECDHE"`, `"DH"`, `"ECDH"`,
/// `"DH_anon"`, `"ECDH_anon"`, `"PSK"`, `"DHE_PSK"`, `"ECDHE_PSK"`, `"RSA_PSK"`, `"SRP"`,
/// `"KRB5"`, `"ECCPWD"`, `"GOST"`, `"TLS13"`, `"SCSV"`, `"NULL"`, `"SSLv2"` or `"unknown"`.
pub fn cipher_kx(code: u32) -> &'static str {
    if let Some(kx) = u16::try_from(code).ok().and_then(tables::cipher_kx_of) {
        return kx;
    }
    if tables::sslv2_cipher_kind(code).is_some() {
        return "SSLv2";
    }
    "unknown"
}

/// Named group -> `"x25519"`, `"X25519MLKEM768"`; GREASE; else `"0x1234"`.
pub fn group_name(code: u16) -> String {
    if let Some(name) = tables::named_group(code) {
        return name.to_owned();
    }
    if is_grease(code.into()) {
        return "GREASE".to_owned();
    }
    hex16(code.into())
}

/// Signature scheme -> `"rsa_pss_rsae_sha256"`; unregistered TLS 1.2 hash/signature pairs ->
/// `"ecdsa_sha224"`; GREASE; else `"0x1234"`.
pub fn sigalg_name(code: u16) -> String {
    if let Some(name) = tables::signature_scheme(code) {
        return name.to_owned();
    }
    if is_grease(code.into()) {
        return "GREASE".to_owned();
    }
    let [h, s] = code.to_be_bytes();
    if let (Some(hn), Some(sn)) = (tables::tls12_hash(h), tables::tls12_signature(s)) {
        return format!("{sn}_{hn}");
    }
    hex16(code.into())
}

/// Extension type -> `"server_name"`, `"alpn"`, ...; GREASE; else `"0x1234"`.
pub fn extension_name(code: u16) -> String {
    if let Some(name) = tables::extension_type(code) {
        return name.to_owned();
    }
    if is_grease(code.into()) {
        return "GREASE".to_owned();
    }
    hex16(code.into())
}

/// Handshake message type -> `"client_hello"`; else `"unknown(n)"`.
pub fn handshake_name(code: u8) -> String {
    tables::handshake_type(code).map_or_else(|| format!("unknown({code})"), str::to_owned)
}

/// Record content type -> `"handshake"`; else `"unknown(n)"`.
pub fn content_type_name(code: u8) -> String {
    tables::content_type(code).map_or_else(|| format!("unknown({code})"), str::to_owned)
}
