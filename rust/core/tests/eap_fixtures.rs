//! EAP-TLS and PEAP on genuine bytes: Python `ssl` (OpenSSL) TLS 1.2 handshakes framed into
//! EAP-TLS fragments inside EAPOL and RADIUS (tests/data/eap/gen_eap.py, where tshark reads the
//! same certificates from the same pcaps).

#[path = "data/dtls/pcap.rs"]
mod pcap;

use std::collections::HashMap;

use sha2::{Digest, Sha256};
use tlsinspect_core::eap::packet::{ETHERTYPE_EAPOL, EAPOL_EAP_PACKET};
use tlsinspect_core::eap::{parse_eapol, EapConfig, EapTlsConversation, EapTlsFlow, RadiusTracker};

fn eapol_flow(name: &str) -> EapTlsFlow {
    let mut c = EapTlsConversation::new(EapConfig::default());
    let mut others = 0;
    for (frame, ts, bytes) in pcap::frames(&pcap::data("eap", name)) {
        let (t, payload) = pcap::ether(&bytes).unwrap();
        assert_eq!(t, ETHERTYPE_EAPOL);
        let e = parse_eapol(payload).unwrap();
        if e.packet_type == EAPOL_EAP_PACKET {
            c.feed_eap(e.body, frame, ts);
        } else {
            others += 1;
        }
    }
    assert_eq!(others, 1, "one EAPOL-Start");
    c.flow()
}

fn radius_flows(name: &str) -> Vec<EapTlsFlow> {
    let mut t = RadiusTracker::new(EapConfig::default(), 100);
    for (frame, ts, bytes) in pcap::frames(&pcap::data("eap", name)) {
        let (_, _, payload) = pcap::udp(&bytes).unwrap();
        t.feed(&payload, frame, ts);
    }
    assert_eq!((t.bad_packets, t.unmatched, t.refused), (0, 0, 0));
    t.finish()
}

fn shas(chain: &[Vec<u8>]) -> String {
    chain.iter().map(|c| hex::encode(Sha256::digest(c))).collect::<Vec<_>>().join(",")
}

fn alerts(f: &EapTlsFlow) -> String {
    f.handshake.alerts
        .iter()
        .map(|a| {
            // the peer (supplicant) is side A, the TLS client
            let sender = if a.side == tlsinspect_core::tls::session::Side::A { "client" } else { "server" };
            format!("{sender}:{}:{}", a.level, a.code.map_or("-".to_owned(), |c| c.to_string()))
        })
        .collect::<Vec<_>>()
        .join(";")
}

fn check(f: &EapTlsFlow, e: &HashMap<String, String>, method: &str) {
    assert_eq!(f.method.as_deref(), Some(method));
    assert_eq!(f.identity.as_deref(), Some(e["identity"].as_str()));
    assert_eq!(f.handshake.version.as_deref(), Some(e["version"].as_str()));
    assert_eq!(f.handshake.cipher.as_deref(), Some(e["cipher"].as_str()));
    assert_eq!(f.handshake.sni.as_deref(), Some("ise.example.lab"));
    assert_eq!(shas(&f.handshake.server_chain), e["server_chain"]);
    assert_eq!(shas(&f.handshake.client_chain), e["client_chain"]);
    let ours: Vec<String> = f.handshake.server_chain.iter().chain(&f.handshake.client_chain).map(|c| hex::encode(Sha256::digest(c))).collect();
    assert_eq!(ours.join(","), e["tshark_certs"], "tshark reads the same certificates");
    assert_eq!(alerts(f), e["alerts"]);
    assert_eq!(f.outcome, Some(e["outcome"].as_str()));
    assert!(f.fragments >= 3, "the server's flight came in several EAP-TLS fragments: {}", f.fragments);
    assert!(f.anomalies.is_empty(), "{:?}", f.anomalies);
}

#[test]
fn eapol_eap_tls_lsc_accepted() {
    let e = pcap::expect(&pcap::data("eap", "eapol_tls_success.expect"));
    let f = eapol_flow("eapol_tls_success.pcap");
    check(&f, &e, "EAP-TLS");
    assert!(f.handshake.cert_request, "EAP-TLS: the server asks for the phone's certificate");
    assert_eq!(f.retransmissions, 1, "the repeated Request is dropped");
    assert_eq!(f.radius, None);
    assert!(f.handshake.history.starts_with("CsxkrnXGYIF"), "{}", f.handshake.history);
    // tshark: the last EAP code is Success (3)
    assert!(e["tshark_eap_codes"].ends_with(",3"));
}

#[test]
fn radius_eap_tls_access_accept() {
    let e = pcap::expect(&pcap::data("eap", "radius_tls_success.expect"));
    let fl = radius_flows("radius_tls_success.pcap");
    assert_eq!(fl.len(), 1, "State ties every Access-Request to one authentication");
    let f = &fl[0];
    check(f, &e, "EAP-TLS");
    assert_eq!(f.radius.as_deref(), Some("Access-Accept"));
    assert!(e["tshark_radius_codes"].ends_with(",2"));
}

#[test]
fn radius_eap_tls_lsc_rejected_unknown_ca() {
    let e = pcap::expect(&pcap::data("eap", "radius_tls_reject.expect"));
    let fl = radius_flows("radius_tls_reject.pcap");
    assert_eq!(fl.len(), 1);
    let f = &fl[0];
    check(f, &e, "EAP-TLS");
    assert_eq!(f.radius.as_deref(), Some("Access-Reject"));
    assert_eq!(f.handshake.alerts[0].description, "unknown_ca");
    assert_eq!(f.handshake.alerts[0].after.as_deref(), Some("Certificate"));
    assert_eq!(e["tshark_alerts"], "48");
    assert!(e["tshark_radius_codes"].ends_with(",3"));
}

#[test]
fn eapol_eap_tls_rejected() {
    let e = pcap::expect(&pcap::data("eap", "eapol_tls_reject.expect"));
    let f = eapol_flow("eapol_tls_reject.pcap");
    check(&f, &e, "EAP-TLS");
    assert!(e["tshark_eap_codes"].ends_with(",4"), "EAP-Failure");
}

#[test]
fn eapol_peap_outer_handshake() {
    let e = pcap::expect(&pcap::data("eap", "eapol_peap.expect"));
    let f = eapol_flow("eapol_peap.pcap");
    check(&f, &e, "PEAP");
    assert_eq!(f.method_version, Some(0));
    assert!(!f.handshake.cert_request);
}

#[test]
fn radius_ttls_outer_handshake() {
    let e = pcap::expect(&pcap::data("eap", "radius_ttls.expect"));
    let fl = radius_flows("radius_ttls.pcap");
    assert_eq!(fl.len(), 1);
    let f = &fl[0];
    check(f, &e, "EAP-TTLS");
    assert_eq!(f.method_version, Some(0));
    assert_eq!(f.radius.as_deref(), Some("Access-Accept"));
    assert!(f.handshake.client_chain.is_empty());
}
