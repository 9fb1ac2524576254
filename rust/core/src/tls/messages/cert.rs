//! Certificate (TLS 1.2 and 1.3 forms) and CertificateRequest (both forms).

use super::hello::{first_of_each, get, parse_u16_list16, read_extensions, u16_vector};
use super::reader::{Reader, R};
use super::{ext, malformed, tls12_or_later, warn, ParseError};

/// Python's default `max_certs` for [`parse_certificate`].
pub const DEFAULT_MAX_CERTS: usize = 32;

/// A Certificate message: each entry's DER, in order as sent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Certificate {
    pub certs: Vec<Vec<u8>>,
    /// TLS 1.3 certificate_request_context; `None` for TLS <= 1.2.
    pub context: Option<Vec<u8>>,
    pub warnings: Vec<String>,
}

/// Parse a Certificate body into the DER of each entry, in order.
///
/// Lying list/entry lengths keep the entries that fit (`certificate_invalid_length`); empty
/// entries are skipped (`zero_length_certificate`); at most `max_certs` are kept
/// (`too_many_certificates`). `Err` only when the list length (or, for TLS 1.3, the request
/// context) itself is missing.
pub fn parse_certificate(
    body: &[u8],
    tls13: bool,
    max_certs: usize,
) -> Result<Certificate, ParseError> {
    let mut ws = Vec::new();
    let mut r = Reader::new(body);
    let context = if tls13 {
        Some(r.vec8("certificate_request_context")?.to_vec())
    } else {
        None
    };
    let n = r.u24("certificate_list length")? as usize;
    if n != r.left() {
        warn(&mut ws, "certificate_invalid_length");
    }
    let mut lr = Reader::span(body, r.pos, r.pos + n.min(r.left()));
    let mut certs: Vec<Vec<u8>> = Vec::new();
    let mut empties = 0usize;
    while lr.left() > 0 {
        if lr.left() < 3 {
            warn(&mut ws, "certificate_invalid_length");
            break;
        }
        let clen = lr.u24("cert_data length")? as usize;
        if clen > lr.left() {
            warn(&mut ws, "certificate_invalid_length");
            break;
        }
        let start = lr.pos;
        lr.pos += clen;
        let mut stop = false;
        if tls13 {
            // each entry also carries 2-byte-length extensions
            if lr.left() < 2 {
                warn(&mut ws, "certificate_invalid_length");
                stop = true;
            } else {
                let elen = usize::from(lr.u16("certificate extensions length")?);
                if elen > lr.left() {
                    warn(&mut ws, "certificate_invalid_length");
                    stop = true;
                } else {
                    lr.pos += elen;
                }
            }
        }
        if clen == 0 {
            warn(&mut ws, "zero_length_certificate");
            empties += 1;
            if empties > max_certs {
                // bound the work on a body full of empty entries
                warn(&mut ws, "too_many_certificates");
                break;
            }
        } else if certs.len() >= max_certs {
            warn(&mut ws, "too_many_certificates");
            break;
        } else {
            certs.push(body[start..start + clen].to_vec());
        }
        if stop {
            break;
        }
    }
    Ok(Certificate {
        certs,
        context,
        warnings: ws,
    })
}

/// A CertificateRequest. `ca_names` are the DER-encoded distinguished names as sent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CertificateRequest {
    /// TLS <= 1.2 certificate_types (empty for TLS 1.3).
    pub cert_types: Vec<u8>,
    pub signature_algorithms: Vec<u16>,
    pub ca_names: Vec<Vec<u8>>,
    /// TLS 1.3 certificate_request_context; `None` for TLS <= 1.2.
    pub context: Option<Vec<u8>>,
    pub warnings: Vec<String>,
}

/// A 2-byte-length list of 2-byte-length DER names; lying lengths keep the names that fit.
/// Consumes the rest of `r`.
fn parse_ca_names(r: &mut Reader<'_>, ws: &mut Vec<String>) -> R<Vec<Vec<u8>>> {
    let n = usize::from(r.u16("certificate_authorities length")?);
    let left = r.left();
    if n != left {
        warn(ws, "ca_names_invalid_length");
    }
    let mut lr = Reader::span(r.buf, r.pos, r.pos + n.min(left));
    r.pos = r.end;
    let mut names = Vec::new();
    while lr.left() > 0 {
        if lr.left() < 2 {
            warn(ws, "ca_names_invalid_length");
            break;
        }
        let dlen = usize::from(lr.u16("distinguished name length")?);
        if dlen > lr.left() {
            warn(ws, "ca_names_invalid_length");
            break;
        }
        names.push(lr.take(dlen, "distinguished name")?.to_vec());
    }
    Ok(names)
}

/// Parse a CertificateRequest body.
///
/// `version` is the negotiated version; the TLS <= 1.2 form carries signature algorithms only
/// from TLS 1.2 / DTLS 1.2 on.
pub fn parse_certificate_request(
    body: &[u8],
    tls13: bool,
    version: u16,
) -> Result<CertificateRequest, ParseError> {
    let mut ws = Vec::new();
    let mut r = Reader::new(body);
    if tls13 {
        let context = r.vec8("certificate_request_context")?.to_vec();
        let exts = read_extensions(&mut r, &mut ws, true)?;
        first_of_each(&exts, &mut ws);
        let mut sigalgs = Vec::new();
        if let Some(data) = get(&exts, ext::SIGNATURE_ALGORITHMS) {
            match parse_u16_list16(data, "supported_signature_algorithms") {
                Ok(v) => sigalgs = v,
                Err(_) => malformed(&mut ws, ext::SIGNATURE_ALGORITHMS),
            }
        }
        let mut ca_names = Vec::new();
        if let Some(data) = get(&exts, ext::CERTIFICATE_AUTHORITIES) {
            match parse_ca_names(&mut Reader::new(data), &mut ws) {
                Ok(v) => ca_names = v,
                Err(_) => malformed(&mut ws, ext::CERTIFICATE_AUTHORITIES),
            }
        }
        return Ok(CertificateRequest {
            cert_types: Vec::new(),
            signature_algorithms: sigalgs,
            ca_names,
            context: Some(context),
            warnings: ws,
        });
    }
    let cert_types = r.vec8("certificate_types")?.to_vec();
    let mut sigalgs = Vec::new();
    if tls12_or_later(version) {
        sigalgs = u16_vector(
            r.vec16("supported_signature_algorithms")?,
            "signature algorithms",
        )?;
    }
    let ca_names = parse_ca_names(&mut r, &mut ws)?;
    Ok(CertificateRequest {
        cert_types,
        signature_algorithms: sigalgs,
        ca_names,
        context: None,
        warnings: ws,
    })
}
