//! ServerKeyExchange, Alert and NewSessionTicket.

use super::reader::{Reader, R};
use super::{tls12_or_later, ParseError};
use crate::tls::names::{alert_level_name, alert_name, cipher_kx};

/// What a ServerKeyExchange says about the key exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerKeyExchange {
    /// Key exchange of the negotiated suite (`names::cipher_kx`).
    pub kx: &'static str,
    /// Bit length of the DH prime p (DHE, DH_anon, DHE_PSK).
    pub dh_p_bits: Option<u32>,
    /// The DH generator g, saturated at `u64::MAX` (Python keeps any size; nothing reads it).
    pub dh_g: Option<u64>,
    /// Named group (ECDHE, ECDH_anon, ECDHE_PSK); explicit curves report 0xff01 / 0xff02.
    pub curve: Option<u16>,
    /// TLS 1.2 signature scheme of a signed key exchange (None before 1.2: MD5+SHA1).
    pub signature_algorithm: Option<u16>,
}

fn read_signature(r: &mut Reader<'_>, tls12: bool) -> R<Option<u16>> {
    let alg = if tls12 {
        Some(r.u16("signature algorithm")?)
    } else {
        None
    };
    r.vec16("signature")?;
    Ok(alg)
}

/// Bit length of a big-endian unsigned integer.
fn bit_length(be: &[u8]) -> u32 {
    match be.iter().position(|&b| b != 0) {
        None => 0,
        Some(i) => {
            let bytes = u32::try_from(be.len() - i).unwrap_or(u32::MAX / 8);
            (bytes - 1) * 8 + (8 - be[i].leading_zeros())
        }
    }
}

fn saturating_be_u64(be: &[u8]) -> u64 {
    let first = be.iter().position(|&b| b != 0).unwrap_or(be.len());
    let digits = &be[first..];
    if digits.len() > 8 {
        return u64::MAX;
    }
    digits.iter().fold(0u64, |a, &b| (a << 8) | u64::from(b))
}

/// Parse a ServerKeyExchange body for the negotiated `cipher_suite` and `version`.
///
/// DHE/DH_anon/DHE_PSK: `dh_p_bits` and `dh_g`. ECDHE/ECDH_anon/ECDHE_PSK: `curve` (explicit
/// curves report 0xff01 / 0xff02 and stop there). Signed key exchanges report
/// `signature_algorithm` from TLS 1.2 on. Other key exchanges return just `kx`.
pub fn parse_server_key_exchange(
    body: &[u8],
    cipher_suite: u16,
    version: u16,
) -> Result<ServerKeyExchange, ParseError> {
    let kx = cipher_kx(cipher_suite.into());
    let mut r = Reader::new(body);
    let tls12 = tls12_or_later(version);
    let none = ServerKeyExchange {
        kx,
        dh_p_bits: None,
        dh_g: None,
        curve: None,
        signature_algorithm: None,
    };
    match kx {
        "DHE" | "DH_anon" | "DHE_PSK" => {
            if kx == "DHE_PSK" {
                r.vec16("psk_identity_hint")?;
            }
            let p_off = r.pos;
            let p = r.vec16("dh_p")?;
            if p.is_empty() {
                return Err(ParseError::new("empty dh_p", p_off));
            }
            let g = r.vec16("dh_g")?;
            r.vec16("dh_Ys")?;
            let sigalg = if kx == "DHE" {
                read_signature(&mut r, tls12)?
            } else {
                None
            };
            Ok(ServerKeyExchange {
                dh_p_bits: Some(bit_length(p)),
                dh_g: Some(saturating_be_u64(g)),
                signature_algorithm: sigalg,
                ..none
            })
        }
        "ECDHE" | "ECDH_anon" | "ECDHE_PSK" => {
            if kx == "ECDHE_PSK" {
                r.vec16("psk_identity_hint")?;
            }
            let ct_off = r.pos;
            let curve_type = r.u8("curve_type")?;
            if curve_type == 1 || curve_type == 2 {
                // explicit_prime / explicit_char2: not worth decoding
                return Ok(ServerKeyExchange {
                    curve: Some(0xFF00 | u16::from(curve_type)),
                    ..none
                });
            }
            if curve_type != 3 {
                return Err(ParseError::new(
                    format!("unknown ECCurveType {curve_type}"),
                    ct_off,
                ));
            }
            let curve = r.u16("named_curve")?;
            r.vec8("ec_point")?;
            let sigalg = if kx == "ECDHE" {
                read_signature(&mut r, tls12)?
            } else {
                None
            };
            Ok(ServerKeyExchange {
                curve: Some(curve),
                signature_algorithm: sigalg,
                ..none
            })
        }
        _ => Ok(none),
    }
}

/// One alert: level and description codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Alert {
    pub level: u8,
    pub description: u8,
}

impl Alert {
    /// `"warning"`, `"fatal"` or `"unknown(n)"`.
    pub fn level_name(&self) -> String {
        alert_level_name(self.level)
    }

    /// IANA name, e.g. `"unknown_ca"`, or `"unknown(n)"`.
    pub fn description_name(&self) -> String {
        alert_name(self.description)
    }
}

/// All 2-byte alerts in a (plaintext) alert record fragment; an odd byte count is an `Err`.
/// An empty fragment gives an empty list.
pub fn parse_alert(record_fragment: &[u8]) -> Result<Vec<Alert>, ParseError> {
    if record_fragment.len() & 1 == 1 {
        return Err(ParseError::new(
            "alert fragment of odd length",
            record_fragment.len() - 1,
        ));
    }
    Ok(record_fragment
        .chunks_exact(2)
        .map(|c| Alert {
            level: c[0],
            description: c[1],
        })
        .collect())
}

/// A NewSessionTicket: `lifetime` (TLS 1.2: ticket_lifetime_hint) in seconds, the ticket's length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewSessionTicket {
    pub lifetime: u32,
    pub ticket_len: usize,
}

pub fn parse_new_session_ticket(body: &[u8], tls13: bool) -> Result<NewSessionTicket, ParseError> {
    let mut r = Reader::new(body);
    let lifetime = r.u32("ticket_lifetime")?;
    if tls13 {
        r.u32("ticket_age_add")?;
        r.vec8("ticket_nonce")?;
    }
    let ticket = r.vec16("ticket")?;
    if tls13 {
        r.vec16("extensions")?;
    }
    Ok(NewSessionTicket {
        lifetime,
        ticket_len: ticket.len(),
    })
}
