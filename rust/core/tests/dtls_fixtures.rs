//! DTLS on genuine bytes: OpenSSL DTLS 1.2 handshakes (tests/data/dtls/gen_dtls.py, checked
//! against tshark there) and the public zeek captures, through `dtls::Associations`.

#[path = "data/dtls/pcap.rs"]
mod pcap;

use sha2::{Digest, Sha256};
use tlsinspect_core::dtls::{Associations, DtlsConfig, DtlsFlow};
use tlsinspect_core::tls::session::Side;

type Key = ((Vec<u8>, u16), (Vec<u8>, u16));

/// Every UDP datagram of the capture through one association table; flows in order.
fn flows(path: &std::path::Path, config: DtlsConfig) -> (Vec<DtlsFlow>, u64) {
    let mut table: Associations<Key> = Associations::new(config, 1000);
    let mut out = Vec::new();
    let mut refused = 0;
    for (frame, ts, bytes) in pcap::frames(path) {
        let Some((src, dst, payload)) = pcap::udp(&bytes) else { continue };
        // the key orders the endpoints; A is the lower one
        let (key, side) = if src <= dst { ((src, dst), Side::A) } else { ((dst, src), Side::B) };
        let fed = table.feed(&key, side, &payload, frame, ts);
        if !fed.accepted {
            refused += 1;
        }
        out.extend(fed.ended);
    }
    out.extend(table.finish());
    (out, refused)
}

fn sha_list(chain: &[Vec<u8>]) -> String {
    chain.iter().map(|c| hex::encode(Sha256::digest(c))).collect::<Vec<_>>().join(",")
}

fn alerts(f: &DtlsFlow) -> String {
    f.handshake.alerts
        .iter()
        .map(|a| {
            let sender = if a.side == f.handshake.client_side { "client" } else { "server" };
            if a.level == "encrypted" {
                format!("{sender}:encrypted")
            } else {
                format!("{sender}:{}:{}", a.level, a.code.unwrap_or(0))
            }
        })
        .collect::<Vec<_>>()
        .join(";")
}

fn check_common(f: &DtlsFlow, e: &std::collections::HashMap<String, String>) {
    assert_eq!(f.handshake.version.as_deref(), Some(e["version"].as_str()));
    assert_eq!(f.handshake.cipher.as_deref(), Some(e["cipher"].as_str()));
    assert_eq!(f.handshake.sni.as_deref(), Some(e["sni"].as_str()));
    assert_eq!(sha_list(&f.handshake.server_chain), e["server_chain"]);
    assert_eq!(f.srtp_profile.as_deref(), Some(e["srtp_profile"].as_str()));
    assert_eq!(f.srtp_offered, vec!["SRTP_AES128_CM_HMAC_SHA1_80", "SRTP_AEAD_AES_128_GCM"]);
    assert!(f.hello_verify, "OpenSSL's server was told to send a HelloVerifyRequest");
    assert_eq!(f.cookie_len, Some(23));
    let ja4_head = if e["version"] == "DTLS 1.0" { "dd1d" } else { "dd2d" };
    assert!(f.handshake.ja4.as_deref().is_some_and(|j| j.starts_with(ja4_head)), "{:?}", f.handshake.ja4);
    // tshark's certificates are the generator's
    let tshark: Vec<&str> = e["tshark_certs"].split(',').collect();
    let ours: Vec<String> = f.handshake.server_chain.iter().chain(&f.handshake.client_chain).map(|c| hex::encode(Sha256::digest(c))).collect();
    assert_eq!(ours, tshark);
}

#[test]
fn mutual_auth_srtp_cookie_retransmission_and_demux() {
    let e = pcap::expect(&pcap::data("dtls", "mutual_srtp.expect"));
    let (fl, refused) = flows(&pcap::data("dtls", "mutual_srtp.pcap"), DtlsConfig::default());
    // the first datagram is STUN: it does not start an association
    assert_eq!(refused, 1);
    assert_eq!(fl.len(), 1);
    let f = &fl[0];
    check_common(f, &e);
    assert_eq!(sha_list(&f.handshake.client_chain), e["client_chain"]);
    assert!(f.handshake.cert_request);
    // the server names the CA it accepts client certificates from (the phone's CAPF)
    let names: Vec<String> = f.handshake.cert_request_ca_names.iter().map(hex::encode).collect();
    assert_eq!(names, vec![e["cert_request_ca_names"].clone()]);
    assert_eq!(alerts(f), e["alerts"]);
    assert_eq!(e["alerts"], e["tshark_alerts"]);
    assert_eq!(f.outcome, "established");
    assert!(f.retransmissions >= 1, "the retransmitted ClientHello is dropped: {}", f.retransmissions);
    assert_eq!(f.rtp_datagrams, 2);
    // one ClientHello letter per ClientHello message, not per retransmission
    assert_eq!(f.handshake.history.matches('C').count(), 2, "{}", f.handshake.history);
    assert!(f.handshake.history.starts_with("Cv"), "{}", f.handshake.history);
    assert!(f.encrypted_records >= 4);
    assert!(f.anomalies.is_empty(), "{:?}", f.anomalies);
}

#[test]
fn unknown_ca_alert_from_the_client_in_plaintext() {
    let e = pcap::expect(&pcap::data("dtls", "unknown_ca.expect"));
    let (fl, _) = flows(&pcap::data("dtls", "unknown_ca.pcap"), DtlsConfig::default());
    assert_eq!(fl.len(), 1);
    let f = &fl[0];
    check_common(f, &e);
    assert!(f.handshake.client_chain.is_empty());
    assert_eq!(alerts(f), "client:fatal:48");
    assert_eq!(e["tshark_alerts"], "client:2:48");
    assert_eq!(f.handshake.alerts[0].description, "unknown_ca");
    assert_eq!(f.handshake.alerts[0].after.as_deref(), Some("Certificate"));
    assert_eq!(f.outcome, "alert");
}

#[test]
fn idle_timeout_splits_one_five_tuple_into_two_associations() {
    let e = pcap::expect(&pcap::data("dtls", "idle_split.expect"));
    let path = pcap::data("dtls", "idle_split.pcap");
    let (fl, _) = flows(&path, DtlsConfig { idle_timeout: 60.0, ..DtlsConfig::default() });
    assert_eq!(fl.len(), 2);
    let split: u64 = e["split_at_datagram"].parse().unwrap();
    assert_eq!(fl[0].last_frame, split);
    assert_eq!(fl[1].first_frame, split + 1);
    for f in &fl {
        check_common(f, &e);
    }
    // within the idle time too: a ClientHello with message_seq 0 after a finished handshake
    // starts a new association
    let (again, _) = flows(&path, DtlsConfig { idle_timeout: 3600.0, ..DtlsConfig::default() });
    assert_eq!(again.len(), 2);
    assert_eq!(again[1].first_frame, split + 1);
    assert!(again.iter().all(|f| f.outcome == "established" && f.anomalies.is_empty()));
}

#[test]
fn dtls10_cbc_and_close_notify_from_the_server() {
    let e = pcap::expect(&pcap::data("dtls", "dtls10.expect"));
    let (fl, _) = flows(&pcap::data("dtls", "dtls10.pcap"), DtlsConfig::default());
    assert_eq!(fl.len(), 1);
    let f = &fl[0];
    check_common(f, &e);
    assert_eq!(alerts(f), "server:encrypted");
    assert_eq!(e["tshark_alerts"], "server:encrypted");
    assert_eq!(f.outcome, "established");
}

#[test]
fn zeek_dtls12_agrees_with_tshark() {
    // tshark -r dtls1_2.pcap -Y dtls -T fields -e dtls.handshake.type: ClientHello twice
    // (fragmented, 203+84 and 203+104), HelloVerifyRequest, ServerHello, Certificate in 5
    // fragments, ServerKeyExchange in 3, ServerHelloDone, ClientKeyExchange, NewSessionTicket.
    let (fl, _) = flows(&pcap::public("zeek-zeek/dtls1_2.pcap"), DtlsConfig::default());
    assert_eq!(fl.len(), 1);
    let f = &fl[0];
    assert_eq!(f.handshake.version.as_deref(), Some("DTLS 1.2"));
    assert!(f.hello_verify);
    // tshark: dtls.handshake.certificate_length
    let lens: Vec<usize> = f.handshake.server_chain.iter().map(Vec::len).collect();
    assert_eq!(lens, tshark_cert_lengths());
    assert!(f.handshake.client_chain.is_empty());
    // one letter per message (retransmissions dropped), Zeek's letters: the HelloVerifyRequest
    // `v`, the encrypted Finished `F`/`f`, NewSessionTicket `t`, ChangeCipherSpec `I`/`i`
    assert_eq!(f.handshake.history, "CvCsxknGIFtifQ");
    // tshark: frame 16, client port 60934, epoch 1, content type 21
    assert_eq!(alerts(f), "client:encrypted");
    assert_eq!(f.handshake.alerts[0].frame, 16);
    assert_eq!(f.handshake.ja4.as_deref().map(|j| &j[..4]), Some("dd2i"));
    assert_eq!(f.outcome, "established");
}

/// What tshark says the zeek capture's certificates measure (run once, kept here).
fn tshark_cert_lengths() -> Vec<usize> {
    TSHARK_DTLS12_CERT_LENGTHS.to_vec()
}
const TSHARK_DTLS12_CERT_LENGTHS: &[usize] = &[868];

#[test]
fn zeek_dtls13_is_recognised_and_counted() {
    let (fl, _) = flows(&pcap::public("zeek-zeek/dtls13-wolfssl.pcap"), DtlsConfig::default());
    assert_eq!(fl.len(), 1);
    let f = &fl[0];
    assert_eq!(f.handshake.version.as_deref(), Some("DTLS 1.3"));
    assert_eq!(f.outcome, "dtls13");
    assert!(f.handshake.server_chain.is_empty(), "certificates are encrypted in DTLS 1.3");
    // tshark reads frames 1-4 (ClientHello, HelloRetryRequest, ClientHello, ServerHello) and
    // shows frames 5-15 as "Continuation Data": each is one unified-header record
    assert_eq!(f.dtls13_records, 11);
    assert!(f.handshake.history.starts_with("CjCs"), "{}", f.handshake.history);
}
