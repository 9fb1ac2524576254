//! RFC 9146 connection IDs on hand-built hellos: the `connection_id` extension each side sends
//! says what the peer's records carry; `tls12_cid` records are then delimited and counted.

use tlsinspect_core::dtls::{DtlsAssociation, DtlsConfig};
use tlsinspect_core::tls::session::Side;

fn record(ct: u8, epoch: u16, seq: u64, cid: &[u8], fragment: &[u8]) -> Vec<u8> {
    let mut v = vec![ct, 0xFE, 0xFD];
    v.extend_from_slice(&epoch.to_be_bytes());
    v.extend_from_slice(&seq.to_be_bytes()[2..]);
    v.extend_from_slice(cid);
    v.extend_from_slice(&(fragment.len() as u16).to_be_bytes());
    v.extend_from_slice(fragment);
    v
}

fn handshake(msg_type: u8, seq: u16, body: &[u8]) -> Vec<u8> {
    let len = (body.len() as u32).to_be_bytes();
    let mut v = vec![msg_type, len[1], len[2], len[3]];
    v.extend_from_slice(&seq.to_be_bytes());
    v.extend_from_slice(&[0, 0, 0, len[1], len[2], len[3]]);
    v.extend_from_slice(body);
    v
}

fn ext(t: u16, body: &[u8]) -> Vec<u8> {
    let mut v = t.to_be_bytes().to_vec();
    v.extend_from_slice(&(body.len() as u16).to_be_bytes());
    v.extend_from_slice(body);
    v
}

fn with_exts(mut v: Vec<u8>, exts: &[Vec<u8>]) -> Vec<u8> {
    let all: Vec<u8> = exts.concat();
    v.extend_from_slice(&(all.len() as u16).to_be_bytes());
    v.extend_from_slice(&all);
    v
}

#[test]
fn tls12_cid_records_are_delimited_with_the_negotiated_lengths() {
    // ClientHello: the client asks to receive CID aa (1 byte); cookie empty
    let mut ch = vec![0xFE, 0xFD];
    ch.extend_from_slice(&[1; 32]);
    ch.extend_from_slice(&[0, 0, 0, 2, 0xC0, 0x2B, 1, 0]);
    let ch = with_exts(ch, &[ext(54, &[1, 0xAA]), ext(14, &[0, 2, 0, 7, 0])]);
    // ServerHello: the server asks to receive CID bb bb bb (3 bytes)
    let mut sh = vec![0xFE, 0xFD];
    sh.extend_from_slice(&[2; 32]);
    sh.extend_from_slice(&[0, 0xC0, 0x2B, 0]);
    let sh = with_exts(sh, &[ext(54, &[3, 0xBB, 0xBB, 0xBB]), ext(14, &[0, 2, 0, 7, 0])]);
    let mut a = DtlsAssociation::new(DtlsConfig::default());
    a.feed(Side::A, &record(22, 0, 0, &[], &handshake(1, 0, &ch)), 1, 0.0);
    a.feed(Side::B, &record(22, 0, 0, &[], &handshake(2, 0, &sh)), 2, 0.1);
    // client -> server: the server's 3-byte CID; two records in one datagram
    let mut d = record(25, 1, 1, &[0xBB; 3], &[9; 20]);
    d.extend(record(25, 1, 2, &[0xBB; 3], &[9; 30]));
    a.feed(Side::A, &d, 3, 0.2);
    // server -> client: the client's 1-byte CID
    a.feed(Side::B, &record(25, 1, 1, &[0xAA], &[8; 40]), 4, 0.3);
    let f = a.flow();
    assert!(f.anomalies.is_empty(), "{:?}", f.anomalies);
    assert_eq!(f.records, 5);
    assert_eq!(f.encrypted_records, 3);
    assert_eq!(a.cid, [Some(vec![0xAA]), Some(vec![0xBB; 3])]);
    assert_eq!(f.srtp_profile.as_deref(), Some("SRTP_AEAD_AES_128_GCM"));
    assert_eq!(f.handshake.cipher.as_deref(), Some("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"));
    assert_eq!(f.handshake.version.as_deref(), Some("DTLS 1.2"));

    // without the extensions, the same records are named, not mis-split
    let mut b = DtlsAssociation::new(DtlsConfig::default());
    b.feed(Side::A, &d, 1, 0.0);
    assert_eq!(b.flow().anomalies[0].0, "dtls_unknown_cid_length");
}
