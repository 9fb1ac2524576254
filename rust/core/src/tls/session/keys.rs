//! Decryption with a key log: the TLS 1.3 handshake (handshake traffic secrets, then the
//! application secrets after each side's Finished), and TLS 1.2 AEAD records after
//! ChangeCipherSpec (the master secret), to read the alerts sent there.

use super::{Side, TLSSession, MAX_DECRYPTED_MESSAGE, TLS13};
use crate::tls::decrypt::{tls13_suite, Label, RecordDecryptor, Tls12Decryptor};
use crate::tls::names::cipher_suite_name;
use crate::tls::records::{AlertRecord, ApplicationData, HandshakeMessage};

impl TLSSession {
    pub(super) fn start_decryption(&mut self) {
        let (Some(keylog), Some(ch), Some(sh)) = (&self.keylog, &self.client_hello, &self.server_hello) else {
            return;
        };
        let suite = sh.cipher_suite;
        if tls13_suite(suite).is_none() {
            return;
        }
        let found = keylog.get(&ch.random).cloned();
        self.keylog_hit |= found.is_some();
        let Some(secrets) = found.filter(|s| !s.is_empty()) else {
            return;
        };
        let c = self.client_or_a();
        for (side, label) in [(c, Label::ClientHandshakeTrafficSecret), (c.peer(), Label::ServerHandshakeTrafficSecret)] {
            if let Some(d) = secrets.get(label).and_then(|secret| RecordDecryptor::new(suite, secret)) {
                self.decryptors.insert(side, d);
            }
        }
        self.secrets = Some(secrets);
    }

    /// TLS 1.2 with the master secret (CLIENT_RANDOM line): this side's records after its
    /// ChangeCipherSpec can be decrypted (AEAD suites), to read encrypted alerts.
    pub(super) fn start_tls12_decryption(&mut self, side: Side) {
        let (Some(ch), Some(sh)) = (&self.client_hello, &self.server_hello) else {
            return;
        };
        if self.tls12_decryptors.contains_key(side) {
            return;
        }
        let secrets = self.keylog.as_ref().and_then(|k| k.get(&ch.random));
        self.keylog_hit |= secrets.is_some();
        let name = cipher_suite_name(sh.cipher_suite).unwrap_or("");
        let Some(master) = secrets.and_then(|s| s.get(Label::ClientRandom)) else {
            return;
        };
        if name.is_empty() {
            return;
        }
        let client_side = self.side_is_client(side);
        // None: not an AEAD suite (CBC suites are not decrypted)
        if let Some(d) = Tls12Decryptor::new(name, master, &ch.random, &sh.random, client_side, sh.legacy_version) {
            self.tls12_decryptors.insert(side, d);
        }
    }

    pub(super) fn decrypt(&mut self, side: Side, ev: ApplicationData, ts: f64) {
        let Some(d) = self.decryptors.get_mut(side) else {
            return;
        };
        let (header, body) = ev.record.split_at(ev.record.len().min(5));
        let Some((inner, content)) = d.decrypt(header, body) else {
            self.decryptors.remove(side);
            self.anomaly(ev.frame, ts, Some(side), "decryption_failed", "a record did not decrypt with the key log's secret");
            return;
        };
        self.decrypted = true;
        if inner == 21 {
            self.alert(side, AlertRecord { frame: ev.frame, payload: content, encrypted: false }, ts);
        } else if inner == 22 {
            self.decrypted_hs.setdefault_with(side, Vec::new).extend_from_slice(&content);
            loop {
                let buf = self.decrypted_hs.setdefault_with(side, Vec::new);
                if buf.len() < 4 {
                    break;
                }
                let mlen = (usize::from(buf[1]) << 16) | (usize::from(buf[2]) << 8) | usize::from(buf[3]);
                if mlen > MAX_DECRYPTED_MESSAGE {
                    self.anomaly(ev.frame, ts, Some(side), "handshake_too_large", "decrypted message too large");
                    self.decryptors.remove(side);
                    return;
                }
                if buf.len() < 4 + mlen {
                    break;
                }
                let msg_type = buf[0];
                let body = buf[4..4 + mlen].to_vec();
                buf.drain(..4 + mlen);
                let msg = HandshakeMessage { frame: ev.frame, msg_type, body, record_version: TLS13 };
                self.message(side, msg, ts);
                if msg_type == 20 {
                    self.switch_to_application_keys(side);
                    return;
                }
            }
        }
    }

    fn switch_to_application_keys(&mut self, side: Side) {
        let label = if self.side_is_client(side) { Label::ClientTrafficSecret0 } else { Label::ServerTrafficSecret0 };
        let secret = self.secrets.as_ref().and_then(|s| s.get(label));
        let d = match (secret, &self.server_hello) {
            (Some(secret), Some(sh)) => RecordDecryptor::new(sh.cipher_suite, secret),
            _ => None,
        };
        match d {
            Some(d) => self.decryptors.insert(side, d),
            None => {
                self.decryptors.remove(side);
            }
        }
    }
}
