//! The handshake facts every carrier of TLS reports the same way: TCP ([`crate::flow`]), DTLS
//! ([`crate::dtls::DtlsFlow`]), EAP-TLS ([`crate::eap::EapTlsFlow`]) and QUIC
//! ([`crate::quic::QuicSummary`]) each hold one [`HandshakeSummary`] (`handshake`) beside the
//! facts only they have (records, cookies, EAP method, QUIC connection ids...).
//!
//! [`HandshakeSummary::from_hellos`] reads the two hellos; [`HandshakeSummary::from_session`]
//! adds what a [`TLSSession`] followed after them (fingerprints, chains, CertificateRequest,
//! alerts, history). QUIC has no session (its handshake is read from CRYPTO frames): it calls
//! `from_hellos` and fills the fingerprints and the server chain itself.

use super::messages::{ClientHello, ServerHello};
use super::names::{cipher_name, group_name, version_name};
use super::session::{AlertSeen, Side, TLSSession};

/// What a handshake said, as a flow row shows it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HandshakeSummary {
    /// The side that sent the ClientHello (the caller's choice when none was seen).
    pub client_side: Side,
    /// The version the ServerHello selected ("TLS 1.3", "DTLS 1.2"); `None` without one.
    pub version: Option<String>,
    /// The ServerHello's cipher suite, named and as a number.
    pub cipher: Option<String>,
    pub cipher_id: Option<u32>,
    /// The ServerHello's key_share group (TLS 1.3), named.
    pub group: Option<String>,
    pub sni: Option<String>,
    /// The protocols the ClientHello offered, in its order.
    pub alpn: Vec<String>,
    pub ja3: Option<String>,
    /// JA4 with the carrier's transport letter (`t`, `d`, `q`).
    pub ja4: Option<String>,
    /// DER certificates as sent, the server's and the client's.
    pub server_chain: Vec<Vec<u8>>,
    pub client_chain: Vec<Vec<u8>>,
    /// The server sent a CertificateRequest.
    pub cert_request: bool,
    /// The CertificateRequest's certificate_authorities (which CAs the server accepts a client
    /// certificate from): DER distinguished names, as sent.
    pub cert_request_ca_names: Vec<Vec<u8>>,
    pub alerts: Vec<AlertSeen>,
    /// Zeek-style history, one letter per event (upper case: the client's).
    pub history: String,
}

impl HandshakeSummary {
    /// The facts of the two hellos: version, cipher, group, SNI and the client's ALPN list.
    /// Fingerprints, chains, alerts and history are left empty.
    pub fn from_hellos(client_side: Side, ch: Option<&ClientHello>, sh: Option<&ServerHello>) -> HandshakeSummary {
        HandshakeSummary {
            client_side,
            version: sh.map(|sh| version_name(u32::from(sh.selected_version))),
            cipher: sh.map(|sh| cipher_name(u32::from(sh.cipher_suite))),
            cipher_id: sh.map(|sh| u32::from(sh.cipher_suite)),
            group: sh.and_then(|sh| sh.key_share_group).map(group_name),
            sni: ch.and_then(|ch| ch.sni.clone()),
            alpn: ch.map(|ch| ch.alpn.clone()).unwrap_or_default(),
            ..HandshakeSummary::default()
        }
    }

    /// The summary of a session, `client` being the client's side (the session's own
    /// `client_side` when it saw a hello; the carrier decides otherwise). JA3 and JA4 are the
    /// session's (taken when the ClientHello was read, with JA4's `t`).
    pub fn from_session(s: &TLSSession, client: Side) -> HandshakeSummary {
        let chain = |side: Side| s.chains.get(side).cloned().unwrap_or_default();
        HandshakeSummary {
            ja3: s.ja3.clone(),
            ja4: s.ja4.clone(),
            server_chain: chain(client.peer()),
            client_chain: chain(client),
            cert_request: s.cert_request.is_some(),
            cert_request_ca_names: s.cert_request.as_ref().map(|r| r.ca_names.clone()).unwrap_or_default(),
            alerts: s.alerts.clone(),
            history: s.history.clone(),
            ..HandshakeSummary::from_hellos(client, s.client_hello.as_ref(), s.server_hello.as_ref())
        }
    }

    /// The first fatal alert, if any.
    pub fn fatal_alert(&self) -> Option<&AlertSeen> {
        self.alerts.iter().find(|a| a.level == "fatal")
    }
}
