//! The packet keys of each space: Initial keys from the client's DCID (and from a later DCID
//! when a Retry was not captured), Handshake and 1-RTT keys from the key log once both hellos
//! are known, and 1-RTT key updates.

use super::{QuicConnection, Space};
use crate::quic::crypto::{open_packet, Opened, PacketKeys};
use crate::tls::decrypt::Label;
use crate::tls::session::Side;

impl QuicConnection {
    pub(super) fn keys_for(&mut self, side: Side, space: Space, version: u32) -> Option<&PacketKeys> {
        let role = self.role(side);
        match space {
            Space::Initial => {
                if self.initial_keys.as_ref().is_none_or(|k| k.0 != version) {
                    // first use, or compatible version negotiation (RFC 9368) switched version
                    let dcid = self.initial_dcid.clone()?;
                    let c = PacketKeys::initial(version, &dcid, true)?;
                    let s = PacketKeys::initial(version, &dcid, false)?;
                    self.initial_keys = Some((version, c, s));
                }
                let (_, c, s) = self.initial_keys.as_ref()?;
                Some(if role == 0 { c } else { s })
            }
            Space::Handshake | Space::Application => {
                if !self.secret_keys_tried {
                    self.derive_secret_keys(version);
                }
                self.secret_keys[role][space as usize - 1].as_ref()
            }
        }
    }

    /// A client Initial that the current keys do not open, tried with keys from its own DCID:
    /// the capture missed a Retry, or the client started over. On success those keys (and a
    /// new ClientHello) become the connection's.
    pub(super) fn try_new_initial_dcid(&mut self, version: u32, pn_offset: usize, bytes: &[u8]) -> Option<Opened> {
        let dcid = bytes.get(6..6 + usize::from(*bytes.get(5)?))?;
        // once the server's Initial was read, another DCID is another connection (the engine
        // splits those with `is_new_connection`): this one is left as it is
        if Some(dcid) == self.initial_dcid.as_deref() || self.largest_pn[1][Space::Initial as usize].is_some() {
            return None;
        }
        let c = PacketKeys::initial(version, dcid, true)?;
        let opened = open_packet(&c, bytes, pn_offset, None)?;
        let s = PacketKeys::initial(version, dcid, false)?;
        self.initial_dcid = Some(dcid.to_vec());
        self.initial_keys = Some((version, c, s));
        self.streams = Default::default();
        self.largest_pn = [[None; 3]; 2];
        self.client_hello_replaceable = true;
        self.server_hello = None;
        self.secret_keys = Default::default();
        self.secret_keys_tried = false;
        Some(opened)
    }

    /// A 1-RTT packet the current keys do not open, tried with the next key generation; on
    /// success that generation becomes the current one (`key_updates` counts them).
    pub(super) fn try_key_update(
        &mut self,
        role: usize,
        version: u32,
        pn_offset: usize,
        bytes: &[u8],
        largest: Option<u64>,
    ) -> Option<Opened> {
        let suite = self.server_hello.as_ref()?.cipher_suite;
        let current = self.secret_keys[role][1].as_ref()?;
        let secret = self.app_secrets[role].as_deref()?;
        let (next, next_secret) = current.updated(version, suite, secret)?;
        let opened = open_packet(&next, bytes, pn_offset, largest)?;
        self.secret_keys[role][1] = Some(next);
        self.app_secrets[role] = Some(next_secret);
        self.key_updates[role] += 1;
        Some(opened)
    }

    /// Handshake and 1-RTT keys from the key log, once both hellos are known.
    fn derive_secret_keys(&mut self, version: u32) {
        let (Some(log), Some(ch), Some(sh)) = (&self.keylog, &self.client_hello, &self.server_hello) else {
            return;
        };
        if sh.is_hello_retry_request {
            return;
        }
        self.secret_keys_tried = true;
        let Some(secrets) = log.get(&ch.random) else { return };
        let suite = sh.cipher_suite;
        let keys = |l: Label| secrets.get(l).and_then(|s| PacketKeys::from_secret(version, suite, s));
        self.secret_keys = [
            [
                keys(Label::ClientHandshakeTrafficSecret),
                keys(Label::ClientTrafficSecret0),
            ],
            [
                keys(Label::ServerHandshakeTrafficSecret),
                keys(Label::ServerTrafficSecret0),
            ],
        ];
        self.app_secrets = [
            secrets.get(Label::ClientTrafficSecret0).map(<[u8]>::to_vec),
            secrets.get(Label::ServerTrafficSecret0).map(<[u8]>::to_vec),
        ];
    }
}
