//! The TLS messages of the CRYPTO streams: ClientHello and ServerHello (with their transport
//! parameters) from the Initial packets; EncryptedExtensions, Certificate and
//! CompressedCertificate from the Handshake packets (with the key log only).

use super::{QuicConnection, Space, EXT_TRANSPORT_PARAMETERS, EXT_TRANSPORT_PARAMETERS_DRAFT};
use crate::quic::frames::parse_transport_parameters;
use crate::tls::messages::{parse_certificate, parse_client_hello, parse_server_hello};
use crate::tls::session::Side;

/// The largest Certificate message a zlib CompressedCertificate may inflate to.
const MAX_UNCOMPRESSED_CERTIFICATE: usize = 1 << 20;
/// Certificates kept from the server's Certificate message.
const MAX_CERTS: usize = 32;

impl QuicConnection {
    pub(super) fn read_messages(&mut self, side: Side, role: usize, space: Space, frame: u64) {
        while let Some((mtype, body)) = self.streams[role][space as usize].next_message() {
            match (role, mtype) {
                (0, 1) if self.client_hello.is_none() || self.client_hello_replaceable => {
                    match parse_client_hello(&body) {
                        Ok(ch) => {
                            self.client_hello_replaceable = false;
                            let tp = ch
                                .extensions
                                .iter()
                                .find(|(t, _)| *t == EXT_TRANSPORT_PARAMETERS || *t == EXT_TRANSPORT_PARAMETERS_DRAFT)
                                .map(|(_, b)| parse_transport_parameters(b));
                            self.client_transport_parameters = tp;
                            self.client_hello = Some(ch);
                        }
                        Err(_) => self.anomaly("quic_bad_client_hello", side, frame),
                    }
                }
                // a HelloRetryRequest is followed by the real ServerHello (and a second
                // ClientHello with the same random; the first one stays the row's, as JA4 wants)
                (1, 2) if self.server_hello.as_ref().is_none_or(|s| s.is_hello_retry_request) => {
                    match parse_server_hello(&body) {
                        Ok(sh) => {
                            self.hello_retry_request |= sh.is_hello_retry_request;
                            self.server_hello = Some(sh);
                        }
                        Err(_) => self.anomaly("quic_bad_server_hello", side, frame),
                    }
                }
                (1, 8) if self.server_transport_parameters.is_none() => {
                    // EncryptedExtensions: a 2-byte-length extension block
                    let exts = encrypted_extensions(&body);
                    self.early_data_accepted = Some(exts.iter().any(|(t, _)| *t == 42));
                    let tp = exts
                        .iter()
                        .find(|(t, _)| *t == EXT_TRANSPORT_PARAMETERS || *t == EXT_TRANSPORT_PARAMETERS_DRAFT);
                    self.server_transport_parameters = tp.map(|(_, b)| parse_transport_parameters(b));
                    if let Some((_, b)) = exts.iter().find(|(t, _)| *t == 16) {
                        // ALPN: list length, then one protocol_name (length + bytes)
                        if b.len() > 3 {
                            let n = usize::from(b[2]).min(b.len() - 3);
                            self.server_alpn = Some(crate::tls::messages::text(&b[3..3 + n]).0);
                        }
                    }
                }
                (1, 25) if self.certificates.is_empty() => self.on_compressed_certificate(&body, side, frame),
                (1, 11) if self.certificates.is_empty() => match parse_certificate(&body, true, MAX_CERTS) {
                    Ok(c) => self.certificates = c.certs,
                    Err(_) => self.anomaly("quic_bad_certificate", side, frame),
                },
                _ => {}
            }
        }
    }

    /// RFC 8879 CompressedCertificate: zlib is inflated (bounded) and read as a Certificate;
    /// brotli and zstd are named (`certificate_compression`) with the anomaly
    /// `quic_certificate_compressed`.
    fn on_compressed_certificate(&mut self, body: &[u8], side: Side, frame: u64) {
        let u24 = |b: &[u8]| (usize::from(b[0]) << 16) | (usize::from(b[1]) << 8) | usize::from(b[2]);
        if body.len() < 8 {
            self.anomaly("quic_bad_certificate", side, frame);
            return;
        }
        let alg = u16::from_be_bytes([body[0], body[1]]);
        let (ulen, clen) = (u24(&body[2..5]), u24(&body[5..8]));
        self.certificate_compression = Some(match alg {
            1 => "zlib".to_owned(),
            2 => "brotli".to_owned(),
            3 => "zstd".to_owned(),
            _ => format!("0x{alg:04x}"),
        });
        if alg != 1 {
            self.anomaly("quic_certificate_compressed", side, frame);
            return;
        }
        let Some(data) = body.get(8..8 + clen) else {
            self.anomaly("quic_bad_certificate", side, frame);
            return;
        };
        let mut out = Vec::new();
        let limit = ulen.min(MAX_UNCOMPRESSED_CERTIFICATE) as u64 + 1;
        let inflated = std::io::Read::read_to_end(
            &mut std::io::Read::take(flate2::read::ZlibDecoder::new(data), limit),
            &mut out,
        );
        if inflated.is_err() || out.len() != ulen {
            self.anomaly("quic_bad_certificate", side, frame);
            return;
        }
        match parse_certificate(&out, true, MAX_CERTS) {
            Ok(c) => self.certificates = c.certs,
            Err(_) => self.anomaly("quic_bad_certificate", side, frame),
        }
    }
}

/// The extensions of an EncryptedExtensions body (those that fit).
fn encrypted_extensions(body: &[u8]) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    if body.len() < 2 {
        return out;
    }
    let n = usize::from(u16::from_be_bytes([body[0], body[1]])).min(body.len() - 2);
    let exts = &body[2..2 + n];
    let mut pos = 0usize;
    while pos + 4 <= exts.len() {
        let t = u16::from_be_bytes([exts[pos], exts[pos + 1]]);
        let l = usize::from(u16::from_be_bytes([exts[pos + 2], exts[pos + 3]]));
        let Some(v) = exts.get(pos + 4..pos + 4 + l) else { break };
        out.push((t, v));
        pos += 4 + l;
    }
    out
}
