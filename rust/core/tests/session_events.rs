//! `TLSSession` on hand-built event sequences: each rule of the session (alert `after`, the
//! plausibility of plaintext alerts, when the handshake is over, bounds, key-log decryption of
//! a TLS 1.3 flight) in isolation.

use std::sync::Arc;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use tlsinspect_core::tls::decrypt::{hkdf_expand_label, parse_keylog, HashAlg};
use tlsinspect_core::tls::records::{
    AlertRecord, Anomaly, ApplicationData, ChangeCipherSpec, EncryptedHandshake, Event, HandshakeMessage,
    SSLv2ServerHello, TLSStart,
};
use tlsinspect_core::tls::session::{Side, TLSSession};

const A: Side = Side::A;
const B: Side = Side::B;

fn hs(frame: u64, msg_type: u8, body: Vec<u8>) -> Event {
    Event::HandshakeMessage(HandshakeMessage { frame, msg_type, body, record_version: 0x0303 })
}

fn start(frame: u64) -> Event {
    Event::TLSStart(TLSStart { frame, prelude_bytes: 0, prelude_head: Vec::new() })
}

fn client_hello(random: [u8; 32]) -> Vec<u8> {
    let mut b = vec![3, 3];
    b.extend_from_slice(&random);
    b.extend_from_slice(&[0, 0, 4, 0x13, 0x01, 0xc0, 0x2f, 1, 0]);
    b
}

/// A ServerHello choosing `suite`; with `tls13`, a supported_versions extension for 0x0304.
fn server_hello(suite: u16, tls13: bool) -> Vec<u8> {
    let mut b = vec![3, 3];
    b.extend_from_slice(&[0x42; 32]);
    b.push(0);
    b.extend_from_slice(&suite.to_be_bytes());
    b.push(0);
    if tls13 {
        b.extend_from_slice(&[0, 6, 0, 43, 0, 2, 3, 4]);
    }
    b
}

/// A TLS 1.2 Certificate message body holding `ders`.
fn certificate(ders: &[&[u8]]) -> Vec<u8> {
    let mut list = Vec::new();
    for d in ders {
        list.extend_from_slice(&(d.len() as u32).to_be_bytes()[1..]);
        list.extend_from_slice(d);
    }
    let mut b = (list.len() as u32).to_be_bytes()[1..].to_vec();
    b.extend_from_slice(&list);
    b
}

fn alert(frame: u64, payload: &[u8]) -> Event {
    Event::AlertRecord(AlertRecord { frame, payload: payload.to_vec(), encrypted: false })
}

fn appdata(frame: u64, length: usize) -> Event {
    Event::ApplicationData(ApplicationData { frame, length, record: Vec::new() })
}

const LEAF: &[u8] = b"\x30\x03\x02\x01\x01";

/// ClientHello, then the server's ServerHello, Certificate, ServerHelloDone (TLS 1.2).
fn tls12_until_server_hello_done() -> TLSSession {
    let mut s = TLSSession::default();
    s.feed(A, vec![start(1), hs(1, 1, client_hello([7; 32]))], 1.0);
    s.feed(B, vec![start(2), hs(2, 2, server_hello(0xc02f, false)), hs(2, 11, certificate(&[LEAF])), hs(2, 14, vec![])], 2.0);
    s
}

#[test]
fn certificate_alerts_answer_the_certificate_and_others_the_last_message() {
    let mut s = tls12_until_server_hello_done();
    s.feed(A, vec![hs(3, 11, certificate(&[LEAF])), hs(3, 16, vec![0, 1, 0])], 3.0);
    // One record, two plaintext alerts: unknown_ca (certificate-related), handshake_failure.
    s.feed(B, vec![alert(4, &[2, 48, 2, 40])], 4.0);
    let got: Vec<_> = s.alerts.iter().map(|a| (a.side, a.level.as_str(), a.description.as_str(), a.after.as_deref())).collect();
    assert_eq!(got, vec![
        (B, "fatal", "unknown_ca", Some("Certificate")),
        (B, "fatal", "handshake_failure", Some("ClientKeyExchange")),
    ]);
    assert_eq!(s.history, "CsxnXGll");
    assert_eq!(s.fatal_alert().unwrap().code, Some(48));
    assert!(s.handshake_over());
    assert_eq!(s.chains.get(A).unwrap(), &vec![LEAF.to_vec()]);
    assert_eq!(s.chains.get(B).unwrap(), &vec![LEAF.to_vec()]);
    assert_eq!(s.kx_name(), Some("ECDHE"));
}

#[test]
fn without_a_certificate_in_the_peers_flight_the_alert_answers_its_last_message() {
    let mut s = tls12_until_server_hello_done();
    s.feed(A, vec![hs(3, 16, vec![0, 1, 0])], 3.0);
    s.feed(B, vec![alert(4, &[2, 42])], 4.0); // bad_certificate, but no client Certificate
    assert_eq!(s.alerts[0].after.as_deref(), Some("ClientKeyExchange"));
    // A client alert answers the server's flight, which did carry a Certificate.
    let mut s = tls12_until_server_hello_done();
    s.feed(A, vec![alert(3, &[2, 48])], 3.0);
    assert_eq!((s.alerts[0].side, s.alerts[0].after.as_deref()), (A, Some("Certificate")));
    assert_eq!(s.history, "CsxnL");
}

#[test]
fn implausible_plaintext_alerts_are_encrypted_ones() {
    for payload in [&[2, 48, 9][..], &[7, 48][..], &[2, 48, 0, 1][..]] {
        let mut s = tls12_until_server_hello_done();
        s.feed(A, vec![alert(3, payload)], 3.0);
        let a = &s.alerts[0];
        if payload.len() == 2 {
            // exactly two bytes is always read as plaintext: level 7 is unknown(7)
            assert_eq!((a.level.as_str(), a.description.as_str()), ("unknown(7)", "unknown_ca"));
        } else {
            assert_eq!((a.level.as_str(), a.description.as_str(), a.code), ("encrypted", "encrypted_alert", None), "{payload:?}");
            assert!(s.history.ends_with('Q'));
        }
    }
    // An empty record is plausible and holds no alert.
    let mut s = tls12_until_server_hello_done();
    s.feed(A, vec![alert(3, &[])], 3.0);
    assert!(s.alerts.is_empty() && s.anomalies.is_empty());
}

#[test]
fn full_handshake_is_over_when_both_finished() {
    let mut s = tls12_until_server_hello_done();
    s.feed(A, vec![hs(3, 16, vec![0, 1, 0]), Event::ChangeCipherSpec(ChangeCipherSpec { frame: 3 }),
                   Event::EncryptedHandshake(EncryptedHandshake { frame: 3, length: 40 })], 3.0);
    assert!(!s.handshake_over());
    s.feed(B, vec![Event::ChangeCipherSpec(ChangeCipherSpec { frame: 4 }),
                   Event::EncryptedHandshake(EncryptedHandshake { frame: 4, length: 40 })], 4.0);
    assert!(s.handshake_over(), "the client sent ChangeCipherSpec first");
    assert_eq!(s.history, "CsxnGIFif");
    assert_eq!(s.first_ccs, Some(A));
}

#[test]
fn abbreviated_handshake_waits_for_the_servers_verdict_on_the_client_finished() {
    let mut s = TLSSession::default();
    s.feed(A, vec![start(1), hs(1, 1, client_hello([7; 32]))], 1.0);
    s.feed(B, vec![start(2), hs(2, 2, server_hello(0xc02f, false)), Event::ChangeCipherSpec(ChangeCipherSpec { frame: 2 }),
                   Event::EncryptedHandshake(EncryptedHandshake { frame: 2, length: 40 })], 2.0);
    s.feed(A, vec![Event::ChangeCipherSpec(ChangeCipherSpec { frame: 3 }),
                   Event::EncryptedHandshake(EncryptedHandshake { frame: 3, length: 40 })], 3.0);
    assert_eq!(s.finished.len(), 2);
    assert!(!s.handshake_over(), "the server may still reject the client's Finished");
    s.feed(B, vec![appdata(4, 100)], 4.0);
    assert!(s.handshake_over());
    assert_eq!(s.server_after_client_finished, 1);
}

#[test]
fn tls13_without_keys_is_judged_from_record_sizes() {
    let mut s = TLSSession::default();
    s.feed(A, vec![start(1), hs(1, 1, client_hello([7; 32]))], 1.0);
    s.feed(B, vec![start(2), hs(2, 2, server_hello(0x1301, true)), appdata(2, 2000)], 2.0);
    assert!(s.tls13 && !s.handshake_over());
    s.feed(A, vec![appdata(3, 19)], 3.0); // 2-byte alert + type + tag: the client gave up
    assert!(s.handshake_over());
    assert_eq!(s.encrypted_order, vec![(B, 2000), (A, 19)]);
    // A long one-sided stream ends the wait at 16 records and is never remembered past that.
    let mut s = TLSSession::default();
    s.feed(A, vec![start(1), hs(1, 1, client_hello([7; 32]))], 1.0);
    s.feed(B, vec![start(2), hs(2, 2, server_hello(0x1301, true))], 2.0);
    s.feed(A, (0..40).map(|i| appdata(3 + i, 500)), 3.0);
    assert_eq!(s.encrypted_order.len(), 16);
    assert!(s.handshake_over());
}

#[test]
fn anomalies_are_bounded() {
    let mut s = TLSSession::default();
    s.feed(A, (0..200).map(|i| Event::Anomaly(Anomaly { frame: i, code: "invalid_record", detail: "x".into() })), 1.0);
    assert_eq!(s.anomalies.len(), 64);
    assert_eq!((s.anomalies[0].side, s.anomalies[0].code.as_str()), (Some(A), "invalid_record"));
}

#[test]
fn messages_that_do_not_parse_are_named_anomalies() {
    let mut s = tls12_until_server_hello_done();
    s.feed(A, vec![hs(3, 11, vec![0]), hs(3, 13, vec![5]), hs(3, 99, vec![1, 2])], 3.0);
    let codes: Vec<_> = s.anomalies.iter().map(|a| (a.code.as_str(), a.detail.as_str())).collect();
    assert_eq!(codes, vec![
        ("bad_certificate", "Certificate does not parse: truncated certificate_list length: need 3 bytes, 1 left at offset 0"),
        ("bad_certificate_request",
         "CertificateRequest does not parse: truncated certificate_types: need 5 bytes, 0 left at offset 1"),
    ]);
    assert_eq!(s.last_message.get(A).map(String::as_str), Some("handshake type 99"));
    assert!(s.history.ends_with("XRZ"));
    assert!(s.chains.get(A).is_none() && s.cert_request.is_none());
    // A Certificate whose list length lies is a warning; the entries that fit are kept (none).
    let mut t = tls12_until_server_hello_done();
    t.feed(A, vec![hs(3, 11, vec![0, 0, 9, 1])], 3.0);
    assert_eq!((t.anomalies[0].code.as_str(), t.anomalies[0].detail.as_str()),
               ("certificate_invalid_length", "in the Certificate message"));
    assert_eq!(t.chains.get(A), Some(&vec![]));
    // A second ClientHello (no HelloRetryRequest) is flagged and ignored.
    s.feed(A, vec![hs(4, 1, client_hello([9; 32]))], 4.0);
    assert_eq!(s.anomalies.last().unwrap().code, "duplicate_client_hello");
    assert_eq!(s.client_hello.as_ref().unwrap().random, [7; 32]);
}

#[test]
fn sslv2_server_hello_lengths_are_checked() {
    // Header (2), type 4, session-id hit 1, cert type 1, version 0002, cert len 3, specs len 3,
    // conn id len 0, then the certificate and one cipher kind.
    let good = [0x80, 0x10, 4, 1, 1, 0, 2, 0, 3, 0, 3, 0, 0, 0xaa, 0xbb, 0xcc, 0x01, 0x00, 0x80];
    let mut s = TLSSession::default();
    s.feed(B, vec![Event::SSLv2ServerHello(SSLv2ServerHello { frame: 2, record: good.to_vec() })], 2.0);
    assert_eq!(s.sslv2_server, Some((0x010080, true)));
    assert_eq!(s.chains.get(B).unwrap(), &vec![vec![0xaa, 0xbb, 0xcc]]);
    assert!(s.handshake_over());
    let mut s = TLSSession::default();
    s.feed(B, vec![Event::SSLv2ServerHello(SSLv2ServerHello { frame: 2, record: good[..15].to_vec() })], 2.0);
    assert_eq!(s.anomalies[0].code, "bad_server_hello");
    assert_eq!(s.anomalies[0].detail, "SSLv2 ServerHello: lengths run past the record");
    assert!(s.sslv2_server.is_none() && s.chains.is_empty());
    // Shorter than its length fields: they read short (as Python's slices do), nothing breaks.
    for n in 0..good.len() {
        let mut s = TLSSession::default();
        s.feed(B, vec![Event::SSLv2ServerHello(SSLv2ServerHello { frame: 2, record: good[..n].to_vec() })], 2.0);
        assert_eq!(s.history, "s");
    }
}

// ---- TLS 1.3 with a key log -----------------------------------------------------------------

const SHTS: [u8; 32] = [0x51; 32];
const STS0: [u8; 32] = [0x52; 32];
const RANDOM: [u8; 32] = [0x33; 32];

/// Seal one TLS 1.3 record (AES-128-GCM, TLS_AES_128_GCM_SHA256) under `secret` at `seq`.
fn seal(secret: &[u8], seq: u64, inner_type: u8, content: &[u8]) -> Vec<u8> {
    let key = hkdf_expand_label(secret, b"key", b"", 16, HashAlg::Sha256).unwrap();
    let iv = hkdf_expand_label(secret, b"iv", b"", 12, HashAlg::Sha256).unwrap();
    let mut nonce = iv.clone();
    for (n, s) in nonce[4..].iter_mut().zip(seq.to_be_bytes()) {
        *n ^= s;
    }
    let mut plain = content.to_vec();
    plain.push(inner_type);
    let len = (plain.len() + 16) as u16;
    let mut record = vec![0x17, 3, 3];
    record.extend_from_slice(&len.to_be_bytes());
    let ct = aes_gcm::Aes128Gcm::new_from_slice(&key)
        .unwrap()
        .encrypt(aes_gcm::Nonce::from_slice(&nonce), Payload { msg: &plain, aad: &record[..5] })
        .unwrap();
    record.extend_from_slice(&ct);
    record
}

fn message(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![msg_type];
    m.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    m.extend_from_slice(body);
    m
}

fn keyed_session(with_application_secret: bool) -> TLSSession {
    let cr = hex::encode(RANDOM);
    let mut text = format!("SERVER_HANDSHAKE_TRAFFIC_SECRET {cr} {}\n", hex::encode(SHTS));
    if with_application_secret {
        text += &format!("SERVER_TRAFFIC_SECRET_0 {cr} {}\n", hex::encode(STS0));
    }
    let mut s = TLSSession::new(Some(Arc::new(parse_keylog(text.as_bytes()))), 32);
    s.feed(A, vec![start(1), hs(1, 1, client_hello(RANDOM))], 1.0);
    s.feed(B, vec![start(2), hs(2, 2, server_hello(0x1301, true))], 2.0);
    s
}

fn encrypted(frame: u64, record: Vec<u8>) -> Event {
    Event::ApplicationData(ApplicationData { frame, length: record.len() - 5, record })
}

/// TLS 1.3 Certificate body: empty context, one entry without extensions.
fn certificate13(der: &[u8]) -> Vec<u8> {
    let mut entry = (der.len() as u32).to_be_bytes()[1..].to_vec();
    entry.extend_from_slice(der);
    entry.extend_from_slice(&[0, 0]);
    let mut b = vec![0];
    b.extend_from_slice(&(entry.len() as u32).to_be_bytes()[1..]);
    b.extend_from_slice(&entry);
    b
}

#[test]
fn the_servers_flight_is_decrypted_and_keys_switch_after_its_finished() {
    let mut s = keyed_session(true);
    assert_eq!(s.decryptors.len(), 1, "only the server's handshake secret is logged");
    // EncryptedExtensions and the first half of the Certificate in one record, the rest of it
    // and Finished in a second one: messages span records.
    let mut flight = message(8, &[0, 0]);
    flight.extend(message(11, &certificate13(LEAF)));
    flight.extend(message(20, &[0xf1; 32]));
    let cut = 10;
    s.feed(B, vec![encrypted(3, seal(&SHTS, 0, 22, &flight[..cut])), encrypted(3, seal(&SHTS, 1, 22, &flight[cut..]))], 3.0);
    assert!(s.decrypted);
    assert_eq!(s.chains.get(B).unwrap(), &vec![LEAF.to_vec()]);
    assert_eq!(s.finished.get(B), Some(&3));
    assert_eq!(s.history, "Csoxf");
    assert!(s.anomalies.is_empty());
    // Application keys now: a record under the handshake key fails, one under STS0 is read.
    s.feed(B, vec![encrypted(4, seal(&STS0, 0, 21, &[1, 0]))], 4.0);
    assert_eq!(s.alerts.iter().map(|a| a.description.as_str()).collect::<Vec<_>>(), vec!["close_notify"]);
    assert_eq!(s.alerts[0].level, "warning");
}

#[test]
fn without_the_application_secret_decryption_stops_after_finished() {
    let mut s = keyed_session(false);
    let flight = message(20, &[0xf1; 32]);
    s.feed(B, vec![encrypted(3, seal(&SHTS, 0, 22, &flight))], 3.0);
    assert!(s.decrypted && s.decryptors.is_empty());
    assert!(s.anomalies.is_empty());
}

#[test]
fn a_record_that_does_not_decrypt_ends_decryption_with_a_warning() {
    let mut s = keyed_session(true);
    s.feed(B, vec![encrypted(3, seal(&STS0, 0, 22, &message(8, &[0, 0])))], 3.0); // wrong key
    assert_eq!(s.anomalies.iter().map(|a| a.code.as_str()).collect::<Vec<_>>(), vec!["decryption_failed"]);
    assert!(s.decryptors.is_empty() && !s.decrypted);
    // Later records are only counted for the size heuristics.
    s.feed(B, vec![encrypted(4, seal(&SHTS, 0, 22, &message(8, &[0, 0])))], 4.0);
    assert_eq!(s.encrypted_order.len(), 2);
    assert_eq!(s.anomalies.len(), 1);
}

#[test]
fn a_decrypted_message_claiming_more_than_a_mebibyte_is_refused() {
    let mut s = keyed_session(true);
    s.feed(B, vec![encrypted(3, seal(&SHTS, 0, 22, &[11, 0x20, 0, 0, 1, 2, 3]))], 3.0); // 2 MiB claimed
    assert_eq!(s.anomalies[0].code, "handshake_too_large");
    assert!(s.decryptors.is_empty());
    // A record of padding only authenticates but has no content type: a failure, as in Python.
    let mut s = keyed_session(true);
    s.feed(B, vec![encrypted(3, seal(&SHTS, 0, 0, &[]))], 3.0);
    assert_eq!(s.anomalies[0].code, "decryption_failed");
    // An inner type other than handshake or alert is decrypted and otherwise ignored.
    let mut s = keyed_session(true);
    s.feed(B, vec![encrypted(3, seal(&SHTS, 0, 23, b"early")), encrypted(3, seal(&SHTS, 1, 22, &message(8, &[0, 0])))], 3.0);
    assert!(s.decrypted && s.anomalies.is_empty() && s.alerts.is_empty());
    assert_eq!(s.history, "Cso");
}
