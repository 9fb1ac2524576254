//! Alerts: plaintext, encrypted, decrypted with the key log (TLS 1.2) or read past a NULL
//! cipher's MAC, each with its sender and the peer message it answers.

use super::{AlertSeen, Side, TLSSession, CERT_ALERTS};
use crate::tls::messages;
use crate::tls::names::{alert_name, cipher_suite_name};
use crate::tls::records::AlertRecord;

impl TLSSession {
    /// The MAC length of this side's records after its ChangeCipherSpec when the suite has a NULL
    /// cipher (TLS_RSA_WITH_NULL_SHA256...): they are plaintext followed by the MAC; else 0.
    pub(super) fn null_cipher_mac(&self, side: Side) -> usize {
        match &self.server_hello {
            Some(sh) if self.ccs.contains_key(side) && !self.is_tls13() => {
                cipher_suite_name(sh.cipher_suite).map(null_cipher_mac_len).unwrap_or(0)
            }
            _ => 0,
        }
    }

    pub(super) fn alert(&mut self, side: Side, mut ev: AlertRecord, ts: f64) {
        if !self.side_is_client(side) && self.finished.contains_key(self.client_or_a()) {
            self.server_after_client_finished += 1;
        }
        let peer = side.peer();
        let after = self.last_message.get(peer).cloned();
        let after_cert = match &after {
            Some(a) if !a.is_empty() && self.flight_has_cert.get(peer).copied().unwrap_or(false) => {
                Some("Certificate".to_owned())
            }
            _ => None,
        };
        let is_client = self.side_is_client(side);
        if ev.encrypted {
            if let Some(d) = self.tls12_decryptors.get_mut(side) {
                if let Some(plain) = d.decrypt(21, &ev.payload) {
                    self.decrypted = true;
                    ev = AlertRecord { frame: ev.frame, payload: plain, encrypted: false };
                }
            }
        }
        let mac = self.null_cipher_mac(side);
        if mac > 0 && ev.encrypted && ev.payload.len() > mac && (ev.payload.len() - mac) % 2 == 0 {
            // NULL cipher: the record is the plaintext alert, then the MAC
            let n = ev.payload.len() - mac;
            ev = AlertRecord { frame: ev.frame, payload: ev.payload[..n].to_vec(), encrypted: false };
        }
        let encrypted = ev.encrypted
            || (ev.payload.len() != 2 && (self.is_tls13() || !plausible_plaintext_alerts(&ev.payload)));
        if encrypted {
            self.alerts.push(AlertSeen {
                frame: ev.frame,
                ts,
                side,
                level: "encrypted".to_owned(),
                description: "encrypted_alert".to_owned(),
                code: None,
                after,
            });
            self.push_letter('q', is_client);
            self.log(side, "alert", "encrypted alert", ev.frame, ts);
            return;
        }
        let parsed = match messages::parse_alert(&ev.payload) {
            Ok(p) => p,
            Err(e) => {
                self.anomaly(ev.frame, ts, Some(side), "bad_alert", format!("alert record does not parse: {e}"));
                return;
            }
        };
        for a in parsed {
            let when = match &after_cert {
                Some(c) if CERT_ALERTS.contains(&a.description) => Some(c.clone()),
                _ => after.clone(),
            };
            let (level, description) = (a.level_name(), alert_name(a.description));
            self.log(side, "alert", format!("{level} {description}"), ev.frame, ts);
            self.alerts.push(AlertSeen {
                frame: ev.frame,
                ts,
                side,
                level,
                description,
                code: Some(a.description),
                after: when,
            });
            self.push_letter('l', is_client);
        }
    }
}

/// MAC length of a TLS 1.2-and-earlier suite with a NULL cipher (by its hash), else 0.
pub fn null_cipher_mac_len(suite_name: &str) -> usize {
    if !suite_name.contains("_WITH_NULL_") || suite_name.ends_with("_NULL_NULL") {
        return 0;
    }
    [("_SHA384", 48), ("_SHA256", 32), ("_SHA", 20), ("_MD5", 16)]
        .iter()
        .find(|(suffix, _)| suite_name.ends_with(suffix))
        .map_or(0, |&(_, n)| n)
}

/// Several plaintext alerts in one record: even length, every level warning(1) or fatal(2).
/// Anything else (a capture that started after ChangeCipherSpec) is an encrypted alert.
fn plausible_plaintext_alerts(payload: &[u8]) -> bool {
    payload.len().is_multiple_of(2) && payload.iter().step_by(2).all(|&l| l == 1 || l == 2)
}
