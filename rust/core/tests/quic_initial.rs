//! QUIC Initial protection against the published vectors (RFC 9001 appendix A, RFC 9369
//! appendix A), headers, frames, CRYPTO reassembly and transport parameters.
//!
//! The `rfc*_initial.bin` fixtures are the RFCs' plaintext sealed by aioquic (`gen.py`); their
//! header bytes and the derived keys are checked here against the RFCs' published values.

use tlsinspect_core::quic::crypto::{decode_packet_number, initial_secrets, open_packet, seal_packet, PacketKeys};
use tlsinspect_core::quic::frames::{
    parse_frames, parse_transport_parameters, transport_error_name, CryptoStream, Frame, FrameError,
};
use tlsinspect_core::quic::header::{
    read_varint, split_datagram, version_kind, version_name, LongType, Packet, VersionKind, DRAFT29, V1, V2,
};
use tlsinspect_core::tls::messages::{parse_client_hello, parse_server_hello};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/quic");
const RFC_DCID: &str = "8394c8f03e515708";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{DATA}/{name}")).unwrap()
}

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

#[test]
fn rfc9001_initial_secrets_and_keys() {
    let (c, s) = initial_secrets(V1, &h(RFC_DCID)).unwrap();
    assert_eq!(
        hex::encode(c),
        "c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea"
    );
    assert_eq!(
        hex::encode(s),
        "3c199828fd139efd216c155ad844cc81fb82fa8d7446fa7d78be803acdda951b"
    );
    let ck = PacketKeys::initial(V1, &h(RFC_DCID), true).unwrap();
    assert_eq!(hex::encode(&ck.key), "1f369613dd76d5467730efcbe3b1a22d");
    assert_eq!(hex::encode(ck.iv()), "fa044b2f42a3fd3b46fb255c");
    assert_eq!(hex::encode(&ck.hp_key), "9f50449e04a0e810283a1e9933adedd2");
    let sk = PacketKeys::initial(V1, &h(RFC_DCID), false).unwrap();
    assert_eq!(hex::encode(&sk.key), "cf3a5331653c364c88f0f379b6067e37");
    assert_eq!(hex::encode(sk.iv()), "0ac1493ca1905853b0bba03e");
    assert_eq!(hex::encode(&sk.hp_key), "c206b8d9b9f0f37644430b490eeaa314");
    // A.2: the header protection mask of the client Initial's sample
    let sample: [u8; 16] = h("d1b1c98dd7689fb8ec11d242b123dc9b").try_into().unwrap();
    assert_eq!(hex::encode(ck.mask(&sample)), "437b9aec36");
}

#[test]
fn rfc9369_initial_keys() {
    let (c, s) = initial_secrets(V2, &h(RFC_DCID)).unwrap();
    assert_eq!(
        hex::encode(c),
        "14ec9d6eb9fd7af83bf5a668bc17a7e283766aade7ecd0891f70f9ff7f4bf47b"
    );
    assert_eq!(
        hex::encode(s),
        "0263db1782731bf4588e7e4d93b7463907cb8cd8200b5da55a8bd488eafc37c1"
    );
    let ck = PacketKeys::initial(V2, &h(RFC_DCID), true).unwrap();
    assert_eq!(hex::encode(&ck.key), "8b1a0bc121284290a29e0971b5cd045d");
    assert_eq!(hex::encode(ck.iv()), "91f73e2351d8fa91660e909f");
    assert_eq!(hex::encode(&ck.hp_key), "45b95e15235d6f45a6b19cbcb0294ba9");
    let sk = PacketKeys::initial(V2, &h(RFC_DCID), false).unwrap();
    assert_eq!(hex::encode(&sk.key), "82db637861d55e1d011f19ea71d5d2a7");
    assert_eq!(hex::encode(sk.iv()), "dd13c276499c0249d3310652");
    assert_eq!(hex::encode(&sk.hp_key), "edf6d05c83121201b436e16877593c3a");
}

#[test]
fn unknown_version_has_no_salt() {
    assert!(initial_secrets(0x1a2a_3a4a, &h(RFC_DCID)).is_none());
    assert!(initial_secrets(0x5130_3530, &h(RFC_DCID)).is_none()); // Q050
    assert!(initial_secrets(DRAFT29, &h(RFC_DCID)).is_some());
}

/// Decrypt a single-packet datagram with the Initial keys of `client`.
fn open_initial(bytes: &[u8], version: u32, client: bool) -> (u64, Vec<u8>, Vec<u8>) {
    let (pkts, err) = split_datagram(bytes);
    assert_eq!(err, None);
    let Packet::Long {
        ptype,
        version: v,
        pn_offset,
        bytes,
        ..
    } = &pkts[0]
    else {
        panic!("{:?}", pkts[0])
    };
    assert_eq!((*ptype, *v), (LongType::Initial, version));
    let keys = PacketKeys::initial(version, &h(RFC_DCID), client).unwrap();
    let o = open_packet(&keys, bytes, *pn_offset, None).unwrap();
    (o.packet_number, o.header, o.payload)
}

#[test]
fn rfc9001_client_initial_decrypts_to_the_rfc_client_hello() {
    let pkt = fixture("rfc9001_client_initial.bin");
    assert_eq!(pkt.len(), 1200);
    assert_eq!(hex::encode(&pkt[..22]), "c000000001088394c8f03e5157080000449e7b9aec34"); // RFC 9001 A.2
    let (pn, header, payload) = open_initial(&pkt, V1, true);
    assert_eq!(pn, 2);
    assert_eq!(hex::encode(header), "c300000001088394c8f03e5157080000449e00000002");
    assert_eq!(payload.len(), 1162);
    let (frames, err) = parse_frames(&payload);
    assert_eq!(err, None);
    let Frame::Crypto { offset: 0, data } = frames[0] else {
        panic!()
    };
    assert_eq!(data.len(), 241);
    assert_eq!(frames[1], Frame::Padding(1162 - 245));
    let ch = parse_client_hello(&data[4..]).unwrap();
    assert_eq!(ch.sni.as_deref(), Some("example.com"));
    assert_eq!(ch.alpn, vec!["alpn".to_string()]);
    assert_eq!(ch.cipher_suites, vec![0x1301, 0x1302]);
    let tp = ch
        .extensions
        .iter()
        .find(|(t, _)| *t == 0x39)
        .map(|(_, b)| parse_transport_parameters(b))
        .unwrap();
    assert_eq!(tp.initial_source_connection_id.as_deref(), Some(&h(RFC_DCID)[..]));
    assert_eq!(tp.max_idle_timeout, Some(30_000));
    assert_eq!(tp.initial_max_data, Some((1 << 62) - 1));
    assert_eq!(tp.initial_max_stream_data_uni, Some(0xffff));
    assert_eq!(tp.initial_max_streams_uni, Some(16));
    assert_eq!(tp.initial_max_stream_data_bidi_local, Some(0xffff));
    assert_eq!(tp.initial_max_streams_bidi, Some(16));
    assert!(tp.malformed.is_empty());
}

#[test]
fn rfc9001_server_initial_decrypts_to_the_rfc_server_hello() {
    let pkt = fixture("rfc9001_server_initial.bin");
    assert_eq!(hex::encode(&pkt[..20]), "cf000000010008f067a5502a4262b5004075c0d9"); // RFC 9001 A.3
    let (pn, _, payload) = open_initial(&pkt, V1, false);
    assert_eq!(pn, 1);
    let (frames, err) = parse_frames(&payload);
    assert_eq!(err, None);
    assert_eq!(frames[0], Frame::Ack { largest: 0 });
    let Frame::Crypto { offset: 0, data } = frames[1] else {
        panic!()
    };
    let sh = parse_server_hello(&data[4..]).unwrap();
    assert_eq!(sh.cipher_suite, 0x1301);
    assert_eq!(sh.key_share_group, Some(0x001d));
    assert_eq!(sh.selected_version, 0x0304);
}

#[test]
fn rfc9369_v2_initials_decrypt() {
    let pkt = fixture("rfc9369_client_initial.bin");
    assert_eq!(hex::encode(&pkt[..22]), "d76b3343cf088394c8f03e5157080000449ea0c95e82"); // RFC 9369 A.2
    let (pn, header, payload) = open_initial(&pkt, V2, true);
    assert_eq!(pn, 2);
    assert_eq!(header[0], 0xd3);
    let (frames, _) = parse_frames(&payload);
    let Frame::Crypto { data, .. } = frames[0] else {
        panic!()
    };
    assert_eq!(
        parse_client_hello(&data[4..]).unwrap().sni.as_deref(),
        Some("example.com")
    );
    let pkt = fixture("rfc9369_server_initial.bin");
    assert_eq!(hex::encode(&pkt[..20]), "dc6b3343cf0008f067a5502a4262b5004075d92f"); // RFC 9369 A.3
    let (pn, _, payload) = open_initial(&pkt, V2, false);
    assert_eq!(pn, 1);
    let (frames, _) = parse_frames(&payload);
    let Frame::Crypto { data, .. } = frames[1] else {
        panic!()
    };
    assert_eq!(parse_server_hello(&data[4..]).unwrap().key_share_group, Some(0x001d));
}

#[test]
fn wrong_keys_or_a_flipped_bit_do_not_authenticate() {
    let pkt = fixture("rfc9001_client_initial.bin");
    let (pkts, _) = split_datagram(&pkt);
    let Packet::Long { pn_offset, bytes, .. } = &pkts[0] else {
        panic!()
    };
    let server = PacketKeys::initial(V1, &h(RFC_DCID), false).unwrap();
    assert!(open_packet(&server, bytes, *pn_offset, None).is_none());
    let v2 = PacketKeys::initial(V2, &h(RFC_DCID), true).unwrap();
    assert!(open_packet(&v2, bytes, *pn_offset, None).is_none());
    let client = PacketKeys::initial(V1, &h(RFC_DCID), true).unwrap();
    for i in [0, 5, 18, 30, 600, 1199] {
        let mut b = bytes.to_vec();
        b[i] ^= 0x01;
        assert!(open_packet(&client, &b, *pn_offset, None).is_none(), "byte {i}");
    }
    for n in 0..bytes.len() {
        assert!(open_packet(&client, &bytes[..n], *pn_offset, None).is_none());
    }
}

#[test]
fn packet_number_recovery_rfc9000_a3() {
    // RFC 9000 appendix A.3 example: largest 0xa82f30ea, truncated 0x9b32 (16 bits)
    assert_eq!(decode_packet_number(Some(0xa82f_30ea), 0x9b32, 2), 0xa82f_9b32);
    assert_eq!(decode_packet_number(None, 0, 1), 0);
    assert_eq!(decode_packet_number(Some(0xff), 0x00, 1), 0x100);
    assert_eq!(decode_packet_number(Some(0x100), 0xff, 1), 0xff);
    assert_eq!(
        decode_packet_number(Some(u64::MAX >> 2), 0xffff_ffff, 4),
        (u64::MAX >> 2) & !0xffff_ffff | 0xffff_ffff
    );
}

#[test]
fn varints_rfc9000_a1() {
    for (hexs, v) in [
        ("c2197c5eff14e88c", 151_288_809_941_952_652u64),
        ("9d7f3e7d", 494_878_333),
        ("7bbd", 15_293),
        ("25", 37),
        ("4025", 37),
    ] {
        let b = h(hexs);
        let mut pos = 0;
        assert_eq!(read_varint(&b, &mut pos), Some(v));
        assert_eq!(pos, b.len());
        for n in 0..b.len() {
            let mut p = 0;
            assert_eq!(read_varint(&b[..n], &mut p), None);
        }
    }
}

#[test]
fn version_names() {
    assert_eq!(version_name(V1), "QUIC v1");
    assert_eq!(version_name(V2), "QUIC v2");
    assert_eq!(version_name(DRAFT29), "QUIC draft-29");
    assert_eq!(version_name(0xff00_0022), "QUIC draft-34");
    assert_eq!(version_name(u32::from_be_bytes(*b"Q050")), "Google QUIC Q050");
    assert_eq!(version_name(u32::from_be_bytes(*b"T051")), "Google QUIC T051");
    assert_eq!(version_name(0x1a2a_3a4a), "QUIC reserved 0x1a2a3a4a");
    assert_eq!(version_name(0x1234_5678), "QUIC 0x12345678");
    assert_eq!(version_kind(u32::from_be_bytes(*b"Q046")), VersionKind::Google);
}

#[test]
fn google_quic_is_named_not_decrypted() {
    // Q050: IETF-style long header; Q043: the legacy public header (flags 0x09, 8-byte cid)
    let mut q050 = vec![0xc3];
    q050.extend_from_slice(b"Q050");
    q050.extend_from_slice(&[0x08, 1, 2, 3, 4, 5, 6, 7, 8, 0]);
    q050.extend_from_slice(&[0u8; 100]);
    let (pkts, _) = split_datagram(&q050);
    assert_eq!(
        pkts,
        vec![Packet::Google {
            version: u32::from_be_bytes(*b"Q050")
        }]
    );
    let mut q043 = vec![0x09, 1, 2, 3, 4, 5, 6, 7, 8];
    q043.extend_from_slice(b"Q043");
    q043.extend_from_slice(&[0u8; 50]);
    let (pkts, _) = split_datagram(&q043);
    assert_eq!(
        pkts,
        vec![Packet::Google {
            version: u32::from_be_bytes(*b"Q043")
        }]
    );
    assert!(tlsinspect_core::quic::looks_like_quic(&q043));
}

#[test]
fn coalesced_packets_split_and_zero_padding_ignored() {
    let a = fixture("rfc9001_server_initial.bin");
    let b = fixture("rfc9001_client_initial.bin");
    let mut d = a.clone();
    d.extend_from_slice(&b[..]);
    d.extend_from_slice(&[0u8; 30]);
    let (pkts, err) = split_datagram(&d);
    assert_eq!(err, None);
    assert_eq!(pkts.len(), 2);
    let mut d = a.clone();
    d.extend_from_slice(&[0x40, 1, 2, 3]);
    let (pkts, _) = split_datagram(&d);
    assert!(matches!(pkts[1], Packet::Short { bytes } if bytes.len() == 4));
}

#[test]
fn frames_are_read_and_others_skipped() {
    // PING, MAX_DATA, NEW_CONNECTION_ID, STREAM with length, PATH_CHALLENGE, CONNECTION_CLOSE,
    // HANDSHAKE_DONE, padding
    let mut p = vec![0x01, 0x10, 0x44, 0x00];
    p.extend_from_slice(&[0x18, 0x01, 0x00, 0x04, 9, 9, 9, 9]);
    p.extend_from_slice(&[0xAA; 16]);
    p.extend_from_slice(&[0x0a, 0x04, 0x03, b'a', b'b', b'c']);
    p.extend_from_slice(&[0x1a, 1, 2, 3, 4, 5, 6, 7, 8]);
    p.extend_from_slice(&[0x1c, 0x41, 0x28, 0x06, 0x03, b'b', b'a', b'd']);
    p.extend_from_slice(&[0x1e, 0, 0]);
    let (frames, err) = parse_frames(&p);
    assert_eq!(err, None);
    assert_eq!(frames.len(), 8);
    assert_eq!(
        frames[5],
        Frame::ConnectionClose {
            application: false,
            error_code: 0x128,
            frame_type: Some(6),
            reason: b"bad"
        }
    );
    assert_eq!(transport_error_name(0x128), "crypto_error(handshake_failure)");
    assert_eq!(transport_error_name(0x178), "crypto_error(no_application_protocol)");
    assert_eq!(transport_error_name(0x0a), "protocol_violation");
    assert_eq!(frames[6], Frame::HandshakeDone);
    let (_, err) = parse_frames(&[0x01, 0x21]);
    assert_eq!(err, Some(FrameError::UnknownType { frame_type: 0x21 }));
    let (_, err) = parse_frames(&[0x06, 0x00, 0x10, 1, 2]);
    assert_eq!(err, Some(FrameError::Truncated { frame_type: 6 }));
    // an ACK claiming 2^62 ranges runs out of bytes, quickly
    let (_, err) = parse_frames(&[
        0x02, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 1, 1,
    ]);
    assert_eq!(err, Some(FrameError::Truncated { frame_type: 2 }));
}

#[test]
fn crypto_stream_reassembles_out_of_order_and_is_capped() {
    let msg: Vec<u8> = [vec![1, 0, 0, 10], (0..10).collect()].concat();
    let mut s = CryptoStream::default();
    s.insert(8, &msg[8..]);
    s.insert(4, &msg[4..9]);
    assert_eq!(s.next_message(), None);
    assert!(s.has_gap());
    s.insert(0, &msg[..5]);
    assert_eq!(s.next_message(), Some((1, (0..10).collect())));
    assert!(!s.has_gap());
    s.insert(0, &msg); // a retransmission changes nothing
    assert_eq!(s.data.len(), 14);
    assert!(!s.capped);
    let mut s = CryptoStream::default();
    s.insert(60_000, &[0u8; 10_000]);
    assert!(s.capped);
    s.insert(u64::MAX - 3, &[1, 2, 3]);
    let mut s = CryptoStream::default();
    for i in 0..10_000u64 {
        s.insert(100 + i * 7, &[7u8; 20]); // many overlapping out-of-order pieces: bounded
    }
    assert!(s.capped);
    assert!(s.data.is_empty());
}

#[test]
fn transport_parameters_grease_and_malformed() {
    // GREASE id 0x1b (31*N+27) with 2 bytes, max_idle_timeout with a bad varint length
    let b = [0x1b, 0x02, 0xaa, 0xbb, 0x01, 0x02, 0x40, 0x10, 0x04, 0x01, 0x05];
    let tp = parse_transport_parameters(&b);
    assert_eq!(tp.ids, vec![0x1b, 0x01, 0x04]);
    assert_eq!(tp.max_idle_timeout, Some(0x10));
    assert_eq!(tp.initial_max_data, Some(5));
    let tp = parse_transport_parameters(&[0x01, 0x02, 0x05]);
    assert_eq!(tp.malformed, vec![u64::MAX]);
    let tp = parse_transport_parameters(&[0x01, 0x02, 0x05, 0x06]);
    assert_eq!(tp.malformed, vec![0x01]);
    assert_eq!(tp.max_idle_timeout, None);
}

#[test]
fn rfc9001_a5_chacha20_short_header() {
    let secret = h("9ac312a7f877468ebe69422748ad00a15443f18203a07d6060f688f30f21632b");
    let keys = PacketKeys::from_secret(V1, 0x1303, &secret).unwrap();
    assert_eq!(
        hex::encode(&keys.key),
        "c6d98ff3441c3fe1b2182094f69caa2ed4b716b65488960a7a984979fb23e1c8"
    );
    assert_eq!(hex::encode(keys.iv()), "e0459b3474bdd0e44a41c144");
    assert_eq!(
        hex::encode(&keys.hp_key),
        "25a282b9e82f06f21f488917a4fc8f1b73573685608597d0efcb076b0ab7a7a4"
    );
    let sample: [u8; 16] = h("5e5cd55c41f69080575d7999c25a5bfb").try_into().unwrap();
    assert_eq!(hex::encode(keys.mask(&sample)), "aefefe7d03");
    let pkt = h("4cfe4189655e5cd55c41f69080575d7999c25a5bfb");
    let o = open_packet(&keys, &pkt, 1, Some(654_360_563)).unwrap();
    assert_eq!(o.packet_number, 654_360_564);
    assert_eq!(hex::encode(&o.header), "4200bff4");
    assert_eq!(o.payload, vec![0x01]); // PING
    assert_eq!(seal_packet(&keys, &o.header, o.packet_number, &o.payload).unwrap(), pkt);
}

#[test]
fn draft29_initial_decrypts_as_tshark_does() {
    // the RFC 9001 ClientHello sealed as draft-29 by aioquic with draft-29's salt; tshark (its
    // own salt table) reads SNI example.com from it
    let pkt = fixture("draft29_client_initial.bin");
    let tshark = String::from_utf8(fixture("draft29.tshark")).unwrap();
    assert!(tshark.lines().any(|l| l == "sni=example.com"), "{tshark}");
    let (pn, _, payload) = open_initial(&pkt, DRAFT29, true);
    assert_eq!(pn, 2);
    let (frames, _) = parse_frames(&payload);
    let Frame::Crypto { data, .. } = frames[0] else {
        panic!()
    };
    assert_eq!(
        parse_client_hello(&data[4..]).unwrap().sni.as_deref(),
        Some("example.com")
    );
    let mut c = tlsinspect_core::quic::QuicConnection::new(None);
    c.on_datagram(tlsinspect_core::tls::session::Side::A, &pkt, 1, 0.0);
    let s = c.summary();
    assert_eq!(s.version_name.as_deref(), Some("QUIC draft-29"));
    assert_eq!(s.handshake.sni.as_deref(), Some("example.com"));
    assert_eq!(s.handshake.ja4.as_deref().map(|j| &j[..10]), Some("q13d0211an")); // 2 suites, 11 extensions, ALPN "alpn"
}

#[test]
fn retry_integrity_tags_rfc9001_a4_and_rfc9369_a4() {
    use tlsinspect_core::quic::crypto::retry_integrity_ok;
    let odcid = h(RFC_DCID);
    let v1 = h("ff000000010008f067a5502a4262b5746f6b656e04a265ba2eff4d829058fb3f0f2496ba");
    let v2 = h("cf6b3343cf0008f067a5502a4262b5746f6b656ec8646ce8bfe33952d955543665dcc7b6");
    assert_eq!(retry_integrity_ok(V1, &odcid, &v1), Some(true));
    assert_eq!(retry_integrity_ok(V2, &odcid, &v2), Some(true));
    assert_eq!(retry_integrity_ok(V2, &odcid, &v1), Some(false));
    assert_eq!(retry_integrity_ok(V1, &odcid[1..], &v1), Some(false));
    let mut bad = v1.clone();
    bad[10] ^= 1;
    assert_eq!(retry_integrity_ok(V1, &odcid, &bad), Some(false));
    assert_eq!(retry_integrity_ok(V1, &odcid, &v1[..15]), None);
    assert_eq!(retry_integrity_ok(0x1a2a_3a4a, &odcid, &v1), None);
    let (pkts, _) = split_datagram(&v1);
    assert!(matches!(pkts[0], Packet::Retry { token: b"token", .. }));
}
