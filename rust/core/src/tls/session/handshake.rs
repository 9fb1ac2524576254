//! Handshake messages: who is the client, the history letter, the flight, the message parsed
//! into what the session keeps (hellos fingerprinted then slimmed, chains, CertificateRequest,
//! key exchange, Finished); SSLv2 hellos.

use super::{history_letter, is_tls13_version, message_name, Side, TLSSession};
use crate::tls::fingerprint;
use crate::tls::messages::{self, ClientHello, ParseError};
use crate::tls::names::is_grease;
use crate::tls::records::{HandshakeMessage, SSLv2ClientHello, SSLv2ServerHello};

impl TLSSession {
    pub(super) fn sslv2(&mut self, side: Side, ev: SSLv2ClientHello, ts: f64) {
        self.sslv2_hello = true;
        match messages::parse_sslv2_client_hello(&ev.record) {
            Ok(ch) => self.keep_hello(ch, true),
            Err(e) => self.anomaly(ev.frame, ts, Some(side), "bad_client_hello", format!("SSLv2 ClientHello: {e}")),
        }
        if self.client_side.is_none() {
            self.client_side = Some(side);
        }
        self.history.push('C');
        self.last_message.insert(side, "ClientHello".to_owned());
        self.log(side, "handshake", "ClientHello (SSLv2)", ev.frame, ts);
    }

    /// Fingerprint the ClientHello now, then keep only what the flow row needs: a connection in
    /// flight holds a few hundred bytes of it instead of every extension's bytes.
    fn keep_hello(&mut self, mut ch: ClientHello, sslv2: bool) {
        if !sslv2 {
            let (ja3, ja4) = fingerprint::client_fingerprints(&ch);
            self.ja3 = Some(ja3);
            self.ja4 = Some(ja4);
        }
        ch.supported_versions.retain(|&v| !is_grease(v.into()));
        ch.cipher_suites = Vec::new();
        ch.extensions = Vec::new();
        ch.supported_groups = Vec::new();
        ch.ec_point_formats = Vec::new();
        ch.signature_algorithms = Vec::new();
        ch.key_share_groups = Vec::new();
        ch.compression_methods = Vec::new();
        self.client_hello = Some(ch);
    }

    /// SSLv2 SERVER-HELLO: the server's certificate and cipher kinds, then encryption.
    pub(super) fn sslv2_server_hello(&mut self, side: Side, ev: SSLv2ServerHello, ts: f64) {
        let rec = &ev.record;
        self.history.push('s');
        self.last_message.insert(side, "ServerHello (SSLv2)".to_owned());
        self.log(side, "handshake", "ServerHello (SSLv2)", ev.frame, ts);
        // Python slices clamp: a short record reads short (possibly empty) length fields.
        let be = |from: usize, to: usize| -> usize {
            rec.get(from.min(rec.len())..to.min(rec.len())).unwrap_or(&[]).iter().fold(0, |a, &b| (a << 8) | usize::from(b))
        };
        let slice = |from: usize, len: usize| -> &[u8] {
            let start = from.min(rec.len());
            &rec[start..from.saturating_add(len).min(rec.len())]
        };
        let hdr = 2;
        let cert_len = be(hdr + 5, hdr + 7);
        let specs_len = be(hdr + 7, hdr + 9);
        let start = hdr + 11;
        let cert = slice(start, cert_len);
        let specs = slice(start + cert_len, specs_len);
        if cert.len() != cert_len || specs.len() != specs_len {
            let frame = ev.frame;
            self.anomaly(frame, ts, Some(side), "bad_server_hello", "SSLv2 ServerHello: lengths run past the record");
            return;
        }
        let cipher = if specs.len() >= 3 {
            (u32::from(specs[0]) << 16) | (u32::from(specs[1]) << 8) | u32::from(specs[2])
        } else {
            0
        };
        let hit = rec.get(hdr + 1).is_some_and(|&b| b != 0);
        if !cert.is_empty() {
            let cert = cert.to_vec();
            self.chains.setdefault_with(side, || vec![cert]);
        }
        self.sslv2_server = Some((cipher, hit));
    }

    pub(super) fn message(&mut self, side: Side, ev: HandshakeMessage, ts: f64) {
        let mt = ev.msg_type;
        if mt == 1 && self.client_side.is_none() {
            self.client_side = Some(side);
        } else if mt == 2 && self.client_side.is_none() {
            self.client_side = Some(side.peer());
        }
        let is_client = self.side_is_client(side);
        self.push_letter(history_letter(mt), is_client);
        let name = message_name(mt);
        // A new flight starts when this side speaks after the peer.
        if self.speaker != Some(side) {
            self.flight_has_cert.insert(side, false);
            self.speaker = Some(side);
        }
        self.last_message.insert(side, name.clone());
        if let Err(e) = self.parse_message(side, &ev, ts) {
            let code = format!("bad_{}", snake(&name));
            self.anomaly(ev.frame, ts, Some(side), code, format!("{name} does not parse: {e}"));
        }
        let name = self.last_message.get(side).cloned().unwrap_or_default();
        self.log(side, "handshake", name, ev.frame, ts);
    }

    fn parse_message(&mut self, side: Side, ev: &HandshakeMessage, ts: f64) -> Result<(), ParseError> {
        let body = &ev.body[..];
        match ev.msg_type {
            1 => {
                let ch = messages::parse_client_hello(body)?;
                let warnings = ch.warnings.clone();
                if self.client_hello.is_none() || self.hello_retry {
                    self.keep_hello(ch, false);
                } else {
                    self.anomaly(ev.frame, ts, Some(side), "duplicate_client_hello", "a second ClientHello on the same connection");
                }
                for w in warnings {
                    self.anomaly(ev.frame, ts, Some(side), w, "in the ClientHello");
                }
            }
            2 => {
                let sh = messages::parse_server_hello(body)?;
                let warnings = sh.warnings.clone();
                if sh.is_hello_retry_request {
                    self.hello_retry = true;
                    self.history.pop();
                    self.history.push('j');
                    self.last_message.insert(side, "HelloRetryRequest".to_owned());
                } else {
                    self.tls13 = is_tls13_version(Some(sh.selected_version));
                    self.server_hello = Some(sh);
                    if self.tls13 {
                        self.start_decryption();
                    }
                }
                for w in warnings {
                    self.anomaly(ev.frame, ts, Some(side), w, "in the ServerHello");
                }
            }
            11 => {
                self.flight_has_cert.insert(side, true);
                let cert = messages::parse_certificate(body, self.is_tls13(), self.max_certs)?;
                let warnings = cert.warnings;
                if !self.chains.contains_key(side) {
                    self.chains.insert(side, cert.certs);
                }
                for w in warnings {
                    self.anomaly(ev.frame, ts, Some(side), w, "in the Certificate message");
                }
            }
            13 => {
                // Python: `self.version or ev.record_version`
                let version = self.version().filter(|&v| v != 0).unwrap_or(ev.record_version);
                let req = messages::parse_certificate_request(body, self.is_tls13(), version)?;
                let warnings = req.warnings.clone();
                self.cert_request = Some(req);
                for w in warnings {
                    self.anomaly(ev.frame, ts, Some(side), w, "in the CertificateRequest");
                }
            }
            20 => {
                self.finished.setdefault(side, ev.frame);
            }
            12 => {
                if let Some(sh) = &self.server_hello {
                    self.server_kx = Some(messages::parse_server_key_exchange(body, sh.cipher_suite, sh.selected_version)?);
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// Python's `_snake`: `"CertificateRequest"` -> `"certificate_request"`, spaces -> `_`.
pub(super) fn snake(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, ch) in name.chars().enumerate() {
        if ch.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.extend(ch.to_lowercase());
    }
    out.replace(' ', "_")
}
