//! Client and server fingerprints from the hellos: JA3, JA3S (Salesforce) and JA4 (FoxIO,
//! BSD-3). Port of `inspector/tls/fingerprint.py`: pure functions over the parsed
//! [`ClientHello`] / [`ServerHello`]. GREASE values are ignored everywhere, as both
//! specifications require. JA4S and JA4X are deliberately absent (their licence restricts use).

use md5::{Digest as _, Md5};
use sha2::Sha256;

use super::messages::{ClientHello, ServerHello};
use super::names::is_grease;

/// JA4's version field for a protocol version.
pub fn ja4_version(v: u16) -> &'static str {
    match v {
        0x0304 => "13",
        0x0303 => "12",
        0x0302 => "11",
        0x0301 => "10",
        0x0300 => "s3",
        0x0200 | 0x0002 => "s2",
        0x0100 => "s1",
        _ => "00",
    }
}

fn dash<I: IntoIterator<Item = u32>>(values: I) -> String {
    let parts: Vec<String> = values
        .into_iter()
        .filter(|&v| !is_grease(v))
        .map(|v| v.to_string())
        .collect();
    parts.join("-")
}

/// The JA3 string: version, ciphers, extensions, groups, point formats (GREASE dropped).
pub fn ja3_string(ch: &ClientHello) -> String {
    [
        ch.legacy_version.to_string(),
        dash(ch.cipher_suites.iter().map(|&c| u32::from(c))),
        dash(ch.extensions.iter().map(|(t, _)| u32::from(*t))),
        dash(ch.supported_groups.iter().map(|&g| u32::from(g))),
        dash(ch.ec_point_formats.iter().map(|&f| u32::from(f))),
    ]
    .join(",")
}

/// JA3: MD5 of [`ja3_string`], lower-case hex.
pub fn ja3(ch: &ClientHello) -> String {
    hex::encode(Md5::digest(ja3_string(ch).as_bytes()))
}

/// The JA3S string: version, cipher, extensions.
pub fn ja3s_string(sh: &ServerHello) -> String {
    [
        sh.legacy_version.to_string(),
        sh.cipher_suite.to_string(),
        dash(sh.extensions.iter().map(|(t, _)| u32::from(*t))),
    ]
    .join(",")
}

/// JA3S: MD5 of [`ja3s_string`].
pub fn ja3s(sh: &ServerHello) -> String {
    hex::encode(Md5::digest(ja3s_string(sh).as_bytes()))
}

fn h12(text: &str) -> String {
    if text.is_empty() {
        return "000000000000".to_owned();
    }
    let mut h = hex::encode(Sha256::digest(text.as_bytes()));
    h.truncate(12);
    h
}

/// JA4's two ALPN characters: first and last of the first ALPN id when both are ASCII
/// alphanumerics, else the first hex digit of its first byte and the last of its last byte.
fn alpn_chars(alpn: Option<&str>) -> String {
    let raw = match alpn {
        Some(a) if !a.is_empty() => a.as_bytes(),
        _ => return "00".to_owned(),
    };
    // The parser escapes ALPN ids to printable ASCII, so chars and bytes coincide.
    let (first, last) = (raw[0], raw[raw.len() - 1]);
    if first.is_ascii_alphanumeric() && last.is_ascii_alphanumeric() {
        return format!("{}{}", char::from(first), char::from(last));
    }
    let a = format!("{first:02x}");
    let b = format!("{last:02x}");
    format!("{}{}", &a[..1], &b[1..])
}

/// (JA4_a, sorted cipher list, sorted extension list [+ "_" + signature algorithms]).
pub fn ja4_parts(ch: &ClientHello, transport: &str) -> (String, String, String) {
    let versions: Vec<u16> = ch
        .supported_versions
        .iter()
        .copied()
        .filter(|&v| !is_grease(v.into()))
        .collect();
    let version = ja4_version(versions.iter().copied().max().unwrap_or(ch.legacy_version));
    let ciphers: Vec<u16> = ch
        .cipher_suites
        .iter()
        .copied()
        .filter(|&c| !is_grease(c.into()))
        .collect();
    let exts: Vec<u16> = ch
        .extensions
        .iter()
        .map(|(t, _)| *t)
        .filter(|&t| !is_grease(t.into()))
        .collect();
    let sni = if exts.contains(&0) { "d" } else { "i" };
    let alpn = alpn_chars(ch.alpn.first().map(String::as_str));
    let a = format!(
        "{transport}{version}{sni}{:02}{:02}{alpn}",
        ciphers.len().min(99),
        exts.len().min(99)
    );
    let mut cs: Vec<String> = ciphers.iter().map(|c| format!("{c:04x}")).collect();
    cs.sort();
    let b = cs.join(",");
    let mut es: Vec<String> = exts
        .iter()
        .filter(|&&t| t != 0x0000 && t != 0x0010)
        .map(|t| format!("{t:04x}"))
        .collect();
    es.sort();
    let mut c = es.join(",");
    let sigs: Vec<String> = ch
        .signature_algorithms
        .iter()
        .filter(|&&s| !is_grease(s.into()))
        .map(|s| format!("{s:04x}"))
        .collect();
    if !sigs.is_empty() && !c.is_empty() {
        c.push('_');
        c.push_str(&sigs.join(","));
    }
    (a, b, c)
}

/// JA4 (`t13d1516h2_8daaf6152771_e5627efa2ab1`); `transport` is "t" for TCP.
pub fn ja4(ch: &ClientHello, transport: &str) -> String {
    let (a, b, c) = ja4_parts(ch, transport);
    format!("{a}_{}_{}", h12(&b), h12(&c))
}

/// JA4_r: the JA4 parts before hashing.
pub fn ja4_r(ch: &ClientHello, transport: &str) -> String {
    let (a, b, c) = ja4_parts(ch, transport);
    format!("{a}_{b}_{c}")
}

/// (JA3, JA4) of a ClientHello. (The Python engine caches these per distinct hello; the values
/// are the same.)
pub fn client_fingerprints(ch: &ClientHello) -> (String, String) {
    (ja3(ch), ja4(ch, "t"))
}
