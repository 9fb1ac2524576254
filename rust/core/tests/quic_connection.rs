//! QuicConnection on genuine aioquic handshakes (`tests/data/quic/gen.py`: an in-memory aioquic
//! client and server, their datagrams, aioquic's key log, the server certificate it used, and
//! what tshark says of each capture), and on hostile bytes.

use std::collections::HashMap;
use std::sync::Arc;

use sha2::{Digest, Sha256};
use tlsinspect_core::quic::crypto::{open_packet, seal_packet, PacketKeys};
use tlsinspect_core::quic::header::{split_datagram, Packet, V1};
use tlsinspect_core::quic::QuicConnection;
use tlsinspect_core::tls::decrypt::{parse_keylog, KeyLog};
use tlsinspect_core::tls::session::Side;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/quic");

fn datagrams(name: &str) -> Vec<(Side, Vec<u8>)> {
    std::fs::read_to_string(format!("{DATA}/{name}.dgrams"))
        .unwrap()
        .lines()
        .map(|l| {
            let (d, h) = l.split_once(' ').unwrap();
            (if d == "c" { Side::A } else { Side::B }, hex::decode(h).unwrap())
        })
        .collect()
}

fn keylog(name: &str) -> Arc<KeyLog> {
    Arc::new(parse_keylog(&std::fs::read(format!("{DATA}/{name}.keylog")).unwrap()))
}

/// tshark's facts about the scenario's pcap (`field=v1,v2`).
fn tshark(name: &str) -> HashMap<String, Vec<String>> {
    std::fs::read_to_string(format!("{DATA}/{name}.tshark"))
        .unwrap()
        .lines()
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap();
            (
                k.to_owned(),
                v.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
            )
        })
        .collect()
}

/// The Python engine's facts about the client's first ClientHello (`key=value`).
fn python(name: &str) -> HashMap<String, String> {
    std::fs::read_to_string(format!("{DATA}/{name}.python"))
        .unwrap()
        .lines()
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap();
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

fn run(dgrams: &[(Side, Vec<u8>)], log: Option<Arc<KeyLog>>) -> QuicConnection {
    let mut c = QuicConnection::new(log);
    for (i, (side, d)) in dgrams.iter().enumerate() {
        c.on_datagram(*side, d, i as u64 + 1, 1_700_000_000.0 + i as f64 * 0.001);
    }
    c
}

fn server_cert_sha256() -> String {
    hex::encode(Sha256::digest(
        std::fs::read(format!("{DATA}/server_cert.der")).unwrap(),
    ))
}

fn check_handshake(name: &str, version_name: &str, cipher: &str) {
    let d = datagrams(name);
    let ts = tshark(name);
    let c = run(&d, None);
    let s = c.summary();
    assert_eq!(s.version_name.as_deref(), Some(version_name));
    assert_eq!(s.handshake.sni.as_deref(), Some("quic.example.test"));
    assert_eq!(s.handshake.sni.iter().cloned().collect::<Vec<_>>(), ts["sni"], "tshark SNI");
    assert_eq!(s.handshake.alpn, vec!["h3".to_owned()]);
    assert_eq!(s.handshake.alpn, ts["alpn"], "tshark ALPN");
    assert_eq!(s.handshake.cipher.as_deref(), Some(cipher));
    assert_eq!(s.handshake.group.as_deref(), Some("secp256r1"));
    assert_eq!(ts["server_hello_group"], vec!["23"]);
    assert_eq!(s.handshake.version.as_deref(), Some("TLS 1.3"));
    let ja4 = s.handshake.ja4.clone().unwrap();
    assert!(ja4.starts_with("q13d"), "{ja4}");
    assert_eq!(&ja4[..10], "q13d0307h3", "{ja4}"); // 3 suites, 7 extensions, ALPN h3
    assert_eq!(
        ja4,
        python(name)["ja4"],
        "the Python engine's JA4 of aioquic's ClientHello"
    );
    let ch = c.client_hello.as_ref().unwrap();
    assert_eq!(tlsinspect_core::tls::fingerprint::ja4_r(ch, "q"), python(name)["ja4_r"]);
    let hexes = |v: &[u16]| v.iter().map(|g| format!("0x{g:04x}")).collect::<Vec<_>>();
    assert_eq!(
        hexes(&ch.supported_groups),
        ts["client_hello_groups"],
        "tshark supported_groups"
    );
    assert_eq!(
        hexes(&ch.supported_versions),
        ts["client_hello_versions"],
        "tshark supported_versions"
    );
    let shares: Vec<String> = ch.key_share_groups.iter().map(u16::to_string).collect();
    assert_eq!(shares, ts["client_hello_key_shares"], "tshark key shares");
    // connection ids: tshark lists the client's SCID first, then the server's
    assert_eq!(s.client_scid.as_ref(), Some(&ts["scid"][0]));
    assert_eq!(s.server_scid.as_ref(), ts["scid"].last());
    assert_eq!(s.original_dcid.as_ref(), Some(&ts["dcid"][0]));
    let tp = c.client_transport_parameters.as_ref().unwrap();
    assert_eq!(tp.initial_source_connection_id.as_ref().map(hex::encode), s.client_scid);
    assert_eq!(tp.initial_max_data, Some(1_048_576)); // aioquic's max_data default
    assert_eq!(tp.max_idle_timeout, Some(60_000));
    assert_eq!(s.outcome, "handshake_complete");
    assert!(c.certificates.is_empty(), "no certificates without the key log");
    assert_eq!(c.anomalies, vec![]);

    // with the key log: Handshake and 1-RTT packets decrypted, the server's certificate shown
    let c = run(&d, Some(keylog(name)));
    assert_eq!(c.certificates.len(), 1);
    let sha = hex::encode(Sha256::digest(&c.certificates[0]));
    assert_eq!(sha, server_cert_sha256());
    assert_eq!(vec![sha], ts["certificate_sha256"], "tshark certificate");
    assert!(c.handshake_decrypted >= 2);
    assert!(c.application_decrypted >= 1);
    assert!(c.handshake_done);
    let s = c.summary();
    assert_eq!(s.server_alpn.as_deref(), Some("h3"));
    assert_eq!(s.outcome, "handshake_complete");
    let stp = c.server_transport_parameters.as_ref().unwrap();
    assert_eq!(
        stp.original_destination_connection_id.as_ref().map(hex::encode),
        s.original_dcid
    );
    assert_eq!(
        stp.initial_source_connection_id.as_ref().map(hex::encode),
        s.server_scid
    );
    assert_eq!(c.anomalies, vec![]);
}

#[test]
fn aioquic_v1_handshake() {
    check_handshake("v1", "QUIC v1", "TLS_AES_256_GCM_SHA384");
    assert_eq!(tshark("v1")["server_hello_cipher"], vec!["0x1302"]);
}

#[test]
fn aioquic_v2_handshake() {
    check_handshake("v2", "QUIC v2", "TLS_AES_128_GCM_SHA256");
    assert_eq!(tshark("v2")["version"], vec!["0x6b3343cf"]);
}

#[test]
fn aioquic_chacha20_handshake() {
    // Handshake and 1-RTT under ChaCha20-Poly1305, header protection by ChaCha20
    check_handshake("chacha20", "QUIC v1", "TLS_CHACHA20_POLY1305_SHA256");
    assert_eq!(tshark("chacha20")["server_hello_cipher"], vec!["0x1303"]);
}

#[test]
fn aioquic_handshake_byte_identical_when_fed_in_one_go_or_with_retransmissions() {
    // every datagram twice (a retransmission the capture saw): the same answers
    let d = datagrams("v1");
    let doubled: Vec<_> = d.iter().flat_map(|x| [x.clone(), x.clone()]).collect();
    let a = run(&d, Some(keylog("v1")));
    let b = run(&doubled, Some(keylog("v1")));
    assert_eq!(a.summary().handshake.ja4, b.summary().handshake.ja4);
    assert_eq!(a.certificates, b.certificates);
    assert_eq!(b.anomalies, vec![]);
}

#[test]
fn aioquic_retry() {
    let d = datagrams("retry");
    let ts = tshark("retry");
    let c = run(&d, Some(keylog("retry")));
    let s = c.summary();
    assert!(s.retry);
    assert!(ts["long_packet_type"].contains(&"3".to_owned()), "tshark saw the Retry");
    assert_eq!(c.retry_token_len, b"retry-token-0123456789".len());
    assert_eq!(s.handshake.sni.as_deref(), Some("quic.example.test"));
    assert_eq!(s.handshake.ja4.as_ref(), Some(&python("retry")["ja4"]));
    assert_eq!(s.original_dcid.as_ref(), Some(&ts["dcid"][0]));
    assert!(c
        .events
        .iter()
        .any(|e| e.kind == "retry" && e.detail.contains("5245545259434944")));
    // after the Retry the Initial keys come from the Retry's SCID ("RETRYCID")
    assert_eq!(s.handshake.cipher.as_deref(), Some("TLS_AES_256_GCM_SHA384"));
    assert_eq!(c.certificates.len(), 1);
    assert_eq!(hex::encode(Sha256::digest(&c.certificates[0])), server_cert_sha256());
    let stp = c.server_transport_parameters.as_ref().unwrap();
    assert_eq!(stp.retry_source_connection_id.as_deref(), Some(&b"RETRYCID"[..]));
    assert_eq!(s.outcome, "handshake_complete");
    assert_eq!(c.anomalies, vec![]);
}

#[test]
fn aioquic_alpn_mismatch_is_a_named_connection_close() {
    let d = datagrams("alpn_mismatch");
    let ts = tshark("alpn_mismatch");
    let c = run(&d, None);
    let s = c.summary();
    let close = s.close.as_ref().unwrap();
    assert_eq!(close.side, Side::B);
    assert_eq!(close.error_code, 0x178);
    assert_eq!(ts["cc_error_code"], vec![close.error_code.to_string()]);
    assert_eq!(close.error_name, "crypto_error(no_application_protocol)");
    assert_eq!(close.alert, Some(120));
    assert_eq!(close.reason, "No common ALPN protocols");
    assert_eq!(ts["cc_reason"], vec![close.reason.clone()]);
    assert_eq!(close.frame, 2);
    assert_eq!(s.outcome, "closed_with_error");
    assert_eq!(s.handshake.sni.as_deref(), Some("quic.example.test"));
    assert!(c.events.iter().any(|e| e.kind == "connection_close"
        && e.detail == "crypto_error(no_application_protocol): No common ALPN protocols"));
}

#[test]
fn version_negotiation_is_recorded() {
    let d = datagrams("vn");
    let c = run(&d, None);
    let s = c.summary();
    assert_eq!(s.version_name.as_deref(), Some("QUIC reserved 0x1a2a3a4a"));
    assert_eq!(s.version_negotiation, Some(vec![V1, 0x6b33_43cf]));
    assert_eq!(s.outcome, "version_negotiation");
    assert_eq!(s.client_scid.as_deref(), Some("a0a1a2a3"));
    assert!(c
        .events
        .iter()
        .any(|e| e.kind == "version_negotiation" && e.detail == "QUIC v1, QUIC v2"));
    assert_eq!(tshark("vn")["version"], vec!["0x1a2a3a4a", "0x00000000"]);
}

#[test]
fn a_server_that_never_answers() {
    let d = datagrams("v1");
    let c = run(&d[..1], None);
    let s = c.summary();
    assert_eq!(s.outcome, "no_server_response");
    assert_eq!(s.handshake.sni.as_deref(), Some("quic.example.test"));
    assert_eq!(s.handshake.cipher, None);
}

/// The client's first Initial, re-sealed with `frames` as its plaintext (the genuine header,
/// Length adjusted), so hostile plaintext reaches the frame and TLS parsers.
fn reseal_client_initial(frames: &[u8]) -> Vec<u8> {
    let d = datagrams("v1");
    let (pkts, _) = split_datagram(&d[0].1);
    let Packet::Long {
        dcid, pn_offset, bytes, ..
    } = &pkts[0]
    else {
        panic!()
    };
    let keys = PacketKeys::initial(V1, dcid, true).unwrap();
    let o = open_packet(&keys, bytes, *pn_offset, None).unwrap();
    let mut payload = frames.to_vec();
    payload.resize(payload.len().max(1162), 0);
    let pn_len = o.header.len() - pn_offset;
    // header up to the Length field: rebuild Length as a 2-byte varint
    let mut pos = *pn_offset - 2;
    let mut header = o.header[..pos].to_vec();
    let length = pn_len + payload.len() + 16;
    header.extend_from_slice(&(0x4000u16 | length as u16).to_be_bytes());
    pos += 2;
    header.extend_from_slice(&o.header[pos..]);
    seal_packet(&keys, &header, o.packet_number, &payload).unwrap()
}

#[test]
fn crypto_frames_out_of_order_across_packets() {
    let d = datagrams("v1");
    let (pkts, _) = split_datagram(&d[0].1);
    let Packet::Long {
        dcid, pn_offset, bytes, ..
    } = &pkts[0]
    else {
        panic!()
    };
    let keys = PacketKeys::initial(V1, dcid, true).unwrap();
    let o = open_packet(&keys, bytes, *pn_offset, None).unwrap();
    let (frames, _) = tlsinspect_core::quic::frames::parse_frames(&o.payload);
    let mut hello = Vec::new();
    for f in frames {
        if let tlsinspect_core::quic::frames::Frame::Crypto { offset, data } = f {
            assert_eq!(offset as usize, hello.len());
            hello.extend_from_slice(data);
        }
    }
    // three CRYPTO frames in reverse order, then the pieces again in three separate datagrams
    let cut = [0, hello.len() / 3, 2 * hello.len() / 3, hello.len()];
    let frame = |i: usize| {
        let mut f = vec![0x06, 0x40 | (cut[i] >> 8) as u8, cut[i] as u8];
        let n = cut[i + 1] - cut[i];
        f.extend_from_slice(&[0x40 | (n >> 8) as u8, n as u8]);
        f.extend_from_slice(&hello[cut[i]..cut[i + 1]]);
        f
    };
    let reversed = [frame(2), frame(1), frame(0)].concat();
    let c = run(&[(Side::A, reseal_client_initial(&reversed))], None);
    assert_eq!(c.summary().handshake.sni.as_deref(), Some("quic.example.test"));
    let mut conn = QuicConnection::new(None);
    for (k, i) in [2usize, 0, 1].into_iter().enumerate() {
        conn.on_datagram(Side::A, &reseal_client_initial(&frame(i)), k as u64, 0.0);
        assert_eq!(conn.client_hello.is_some(), k == 2);
    }
    assert_eq!(conn.summary().handshake.ja4, run(&d, None).summary().handshake.ja4);
}

#[test]
fn crypto_data_past_the_cap_is_an_anomaly() {
    let mut f = vec![0x06, 0x80, 0x00, 0xff, 0xf0, 0x40, 0x20];
    f.extend_from_slice(&[0x41; 0x20]);
    let c = run(&[(Side::A, reseal_client_initial(&f))], None);
    assert!(c
        .anomalies
        .iter()
        .any(|a| a.code == "quic_crypto_cap" && a.side == Side::A));
    assert_eq!(c.client_hello, None);
}

#[test]
fn hostile_plaintext_is_named_not_a_panic() {
    // a ClientHello whose length lies, an unknown frame, a truncated CONNECTION_CLOSE
    let c = run(
        &[(
            Side::A,
            reseal_client_initial(&[0x06, 0x00, 0x08, 1, 0, 0, 4, 3, 3, 0, 0]),
        )],
        None,
    );
    assert!(
        c.anomalies.iter().any(|a| a.code == "quic_bad_client_hello"),
        "{:?}",
        c.anomalies
    );
    let c = run(&[(Side::A, reseal_client_initial(&[0x01, 0x3f]))], None);
    assert!(c.anomalies.iter().any(|a| a.code == "quic_unknown_frame"));
    let c = run(
        &[(Side::A, reseal_client_initial(&[0x1c, 0x01, 0x00, 0x50, 0x00]))],
        None,
    );
    assert!(c.anomalies.iter().any(|a| a.code == "quic_frame_truncated"));
}

/// xorshift64*: a small seeded generator for the mutation tests.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn every_truncation_of_every_datagram_never_panics() {
    for name in ["v1", "retry", "alpn_mismatch", "vn"] {
        let d = datagrams(name);
        let log = keylog_or_none(name);
        let mut state = QuicConnection::new(log);
        for (i, (side, dg)) in d.iter().enumerate() {
            for n in 0..dg.len() {
                let mut c = state.clone();
                c.on_datagram(*side, &dg[..n], i as u64, 0.0);
                let _ = c.summary();
            }
            state.on_datagram(*side, dg, i as u64, 0.0);
        }
        assert_eq!(state.summary().handshake.sni.is_some(), name != "vn");
    }
}

fn keylog_or_none(name: &str) -> Option<Arc<KeyLog>> {
    std::path::Path::new(&format!("{DATA}/{name}.keylog"))
        .exists()
        .then(|| keylog(name))
}

#[test]
fn seeded_mutations_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let sets: Vec<_> = [
        "v1",
        "v2",
        "chacha20",
        "closed",
        "key_update",
        "retry",
        "alpn_mismatch",
        "vn",
    ]
    .iter()
    .map(|n| (datagrams(n), keylog_or_none(n)))
    .collect();
    for _ in 0..600 {
        let (d, log) = &sets[rng.below(sets.len())];
        let mut d = d.clone();
        let k = rng.below(d.len());
        let dg = &mut d[k].1;
        for _ in 0..1 + rng.below(8) {
            match rng.below(4) {
                0 if !dg.is_empty() => {
                    let i = rng.below(dg.len());
                    dg[i] ^= 1 << rng.below(8);
                }
                1 if !dg.is_empty() => {
                    let i = rng.below(dg.len());
                    dg[i] = [0x00, 0xff, 0x40, 0x80, 0xc0][rng.below(5)];
                }
                2 => {
                    let n = rng.below(dg.len() + 1);
                    dg.truncate(n);
                }
                _ => {
                    let i = rng.below(dg.len() + 1);
                    dg.insert(i, rng.next() as u8);
                }
            }
        }
        let c = run(&d, log.clone());
        let _ = c.summary();
        assert!(c.anomalies.len() <= 64 && c.events.len() <= 64);
    }
    // hostile plaintext: random frames sealed as the client's Initial
    for _ in 0..300 {
        let n = 1 + rng.below(300);
        let mut f: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
        if rng.below(2) == 0 {
            f[0] = [0x06, 0x1c, 0x1d, 0x02, 0x03, 0x18][rng.below(6)];
        }
        let c = run(&[(Side::A, reseal_client_initial(&f))], None);
        let _ = c.summary();
    }
}

#[test]
fn compatible_version_negotiation_uses_the_servers_version_and_keys() {
    // RFC 9001's v1 client Initial answered by RFC 9369's v2 server Initial (same connection
    // ids), as in compatible version negotiation (RFC 9368): the row shows v2, and the server's
    // Initial is opened with v2 keys
    let client = std::fs::read(format!("{DATA}/rfc9001_client_initial.bin")).unwrap();
    let server = std::fs::read(format!("{DATA}/rfc9369_server_initial.bin")).unwrap();
    let c = run(&[(Side::A, client), (Side::B, server)], None);
    let s = c.summary();
    assert_eq!(s.version_name.as_deref(), Some("QUIC v2"));
    assert_eq!(c.version, Some(V1));
    assert_eq!(s.handshake.sni.as_deref(), Some("example.com"));
    assert_eq!(s.handshake.cipher.as_deref(), Some("TLS_AES_128_GCM_SHA256"));
    assert_eq!(s.handshake.group.as_deref(), Some("x25519"));
    assert_eq!(s.original_dcid.as_deref(), Some("8394c8f03e515708"));
    assert_eq!(s.server_scid.as_deref(), Some("f067a5502a4262b5"));
    assert_eq!(s.outcome, "server_hello_seen");
    assert_eq!(c.undecrypted, [0, 0]);
}

#[test]
fn a_new_client_initial_on_the_same_four_tuple_is_a_new_connection() {
    let v1 = datagrams("v1");
    let v2 = datagrams("chacha20");
    let c = run(&v1, None);
    assert!(!c.is_new_connection(Side::A, &v1[0].1), "a retransmitted first Initial");
    assert!(!c.is_new_connection(Side::A, &v1[2].1), "the client's later packets");
    assert!(
        !c.is_new_connection(Side::B, &v2[0].1),
        "only the client starts connections"
    );
    assert!(c.is_new_connection(Side::A, &v2[0].1));
    let r = datagrams("retry");
    let c = run(&r, None);
    assert!(!c.is_new_connection(Side::A, &r[2].1), "the Initial after a Retry");
    assert!(!QuicConnection::new(None).is_new_connection(Side::A, &v1[0].1));
}

#[test]
fn a_retry_the_capture_missed() {
    // without the Retry datagram, the client's second Initial (DCID "RETRYCID") does not open
    // with the first keys; keys from its own DCID do, and the handshake is read from there
    let mut d = datagrams("retry");
    d.remove(1);
    let c = run(&d, Some(keylog("retry")));
    let s = c.summary();
    assert!(!s.retry);
    assert_eq!(s.handshake.sni.as_deref(), Some("quic.example.test"));
    assert_eq!(s.handshake.ja4.as_ref(), Some(&python("retry")["ja4"]));
    assert_eq!(c.certificates.len(), 1);
    assert_eq!(hex::encode(Sha256::digest(&c.certificates[0])), server_cert_sha256());
    assert_eq!(s.outcome, "handshake_complete");
    assert_eq!(
        c.anomalies.iter().map(|a| a.code).collect::<Vec<_>>(),
        vec!["quic_new_initial_dcid"]
    );
}

#[test]
fn an_application_close_after_bulk_data() {
    // 1-RTT: the server's 1200-byte data packets after HANDSHAKE_DONE are counted, not opened;
    // the client's small application CONNECTION_CLOSE is read
    let d = datagrams("closed");
    let ts = tshark("closed");
    let c = run(&d, Some(keylog("closed")));
    let s = c.summary();
    let close = s.close.as_ref().unwrap();
    assert_eq!(
        (close.side, close.application, close.error_code),
        (Side::A, true, 0x10c)
    );
    assert_eq!(close.error_name, "0x10c");
    assert_eq!(close.alert, None);
    assert_eq!(close.reason, "bye");
    assert_eq!(ts["cc_reason"], vec!["bye"]);
    assert_eq!(close.frame, d.len() as u64);
    assert_eq!(s.outcome, "handshake_complete");
    assert!(s.handshake_done);
    assert_eq!(c.short_packets[1], 4);
    assert_eq!(c.undecrypted, [0, 0]);
    let big_after_done = 3; // the three 1200-byte server packets
    assert_eq!(
        c.application_decrypted,
        c.short_packets[0] + c.short_packets[1] - big_after_done
    );
    assert_eq!(hex::encode(Sha256::digest(&c.certificates[0])), server_cert_sha256());
    // without the key log the close is not visible, the handshake still is
    let s = run(&d, None).summary();
    assert_eq!(s.close, None);
    assert_eq!(s.outcome, "handshake_complete");
}

#[test]
fn retry_integrity_is_checked() {
    let d = datagrams("retry");
    let c = run(&d[..2], None);
    assert_eq!(c.retry_integrity, Some(true), "aioquic's Retry authenticates");
    let mut bad = d[..2].to_vec();
    let n = bad[1].1.len();
    bad[1].1[n - 1] ^= 0x80;
    let c = run(&bad, None);
    assert_eq!(c.retry_integrity, Some(false));
    assert!(c
        .anomalies
        .iter()
        .any(|a| a.code == "quic_retry_integrity_failed" && a.side == Side::B));
    assert_eq!(
        run(&d[1..2], None).retry_integrity,
        None,
        "no client Initial: nothing to check against"
    );
}

/// The v1 handshake up to the server's Initial (ServerHello), then one server Handshake packet
/// sealed with the key log's server handshake secret, carrying `messages` as its CRYPTO data.
fn server_handshake_with(messages: &[u8]) -> QuicConnection {
    use tlsinspect_core::tls::decrypt::Label;
    let d = datagrams("v1");
    let log = keylog("v1");
    let mut c = QuicConnection::new(Some(log.clone()));
    c.on_datagram(Side::A, &d[0].1, 1, 0.0);
    let (pkts, _) = split_datagram(&d[1].1);
    let Packet::Long { bytes: initial, .. } = pkts[0] else {
        panic!()
    };
    c.on_datagram(Side::B, initial, 2, 0.0);
    assert!(c.server_hello.is_some());
    let secret = log.get(&c.client_hello.as_ref().unwrap().random).unwrap();
    let suite = c.server_hello.as_ref().unwrap().cipher_suite;
    let keys = PacketKeys::from_secret(V1, suite, secret.get(Label::ServerHandshakeTrafficSecret).unwrap()).unwrap();
    let mut payload = vec![0x06, 0x00];
    payload.extend_from_slice(&(0x8000_0000u32 | messages.len() as u32).to_be_bytes());
    payload.extend_from_slice(messages);
    payload.resize(payload.len().max(64), 0);
    let (dcid, scid) = (c.client_scid.clone().unwrap(), c.server_scid.clone().unwrap());
    let mut header = vec![0xe1, 0, 0, 0, 1, dcid.len() as u8];
    header.extend_from_slice(&dcid);
    header.push(scid.len() as u8);
    header.extend_from_slice(&scid);
    header.extend_from_slice(&(0x8000_0000u32 | (2 + payload.len() + 16) as u32).to_be_bytes());
    header.extend_from_slice(&[0, 0]);
    let pkt = seal_packet(&keys, &header, 0, &payload).unwrap();
    c.on_datagram(Side::B, &pkt, 3, 0.0);
    assert_eq!(c.handshake_decrypted, 1);
    c
}

fn certificate_body(certs: &[Vec<u8>]) -> Vec<u8> {
    let mut list = Vec::new();
    for der in certs {
        list.extend_from_slice(&(der.len() as u32).to_be_bytes()[1..]);
        list.extend_from_slice(der);
        list.extend_from_slice(&[0, 0]);
    }
    let mut body = vec![0];
    body.extend_from_slice(&(list.len() as u32).to_be_bytes()[1..]);
    body.extend_from_slice(&list);
    body
}

fn message(mtype: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![mtype];
    m.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    m.extend_from_slice(body);
    m
}

#[test]
fn compressed_certificates_zlib_read_brotli_named() {
    use std::io::Write;
    let der = std::fs::read(format!("{DATA}/server_cert.der")).unwrap();
    let body = certificate_body(&[der.clone(), der.clone()]);
    // a plain Certificate in a hand-sealed Handshake packet: the sealing path is right
    let c = server_handshake_with(&message(11, &body));
    assert_eq!(c.certificates, vec![der.clone(), der.clone()]);
    // zlib (RFC 8879 algorithm 1)
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&body).unwrap();
    let z = z.finish().unwrap();
    let mut cc = vec![0x00, 0x01];
    cc.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    cc.extend_from_slice(&(z.len() as u32).to_be_bytes()[1..]);
    cc.extend_from_slice(&z);
    let c = server_handshake_with(&message(25, &cc));
    assert_eq!(c.certificate_compression.as_deref(), Some("zlib"));
    assert_eq!(c.certificates, vec![der.clone(), der.clone()]);
    assert_eq!(c.anomalies, vec![]);
    // an uncompressed_length that lies: no certificates, an anomaly
    let mut lie = cc.clone();
    lie[4] ^= 1;
    let c = server_handshake_with(&message(25, &lie));
    assert!(c.certificates.is_empty());
    assert!(c.anomalies.iter().any(|a| a.code == "quic_bad_certificate"));
    // brotli (2): named, not read
    let mut br = cc.clone();
    br[1] = 2;
    let c = server_handshake_with(&message(25, &br));
    assert_eq!(c.certificate_compression.as_deref(), Some("brotli"));
    assert!(c.certificates.is_empty());
    assert!(c.anomalies.iter().any(|a| a.code == "quic_certificate_compressed"));
    // a zlib bomb claiming 16 MB is cut at the bound
    let mut bomb = vec![0x00, 0x01, 0xff, 0xff, 0xff];
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(&vec![0u8; 0xff_ffff]).unwrap();
    let z = z.finish().unwrap();
    bomb.extend_from_slice(&(z.len() as u32).to_be_bytes()[1..]);
    bomb.extend_from_slice(&z);
    let c = server_handshake_with(&message(25, &bomb));
    assert!(c.certificates.is_empty());
    assert!(c.anomalies.iter().any(|a| a.code == "quic_bad_certificate"));
}

#[test]
fn a_datagram_of_thousands_of_tiny_packets_is_bounded() {
    let d = datagrams("v1");
    let mut c = run(&d[..1], None);
    // 7,000 empty Initial packets (no connection ids, no token, Length 0) coalesced in one
    // datagram, then the same as Handshake packets
    let tiny = [0xc0, 0, 0, 0, 1, 0, 0, 0, 0];
    let dg: Vec<u8> = tiny.iter().copied().cycle().take(9 * 7_000).collect();
    c.on_datagram(Side::B, &dg, 2, 0.0);
    let hs = [0xe0, 0, 0, 0, 1, 0, 0, 0];
    let dg: Vec<u8> = hs.iter().copied().cycle().take(8 * 7_000).collect();
    c.on_datagram(Side::B, &dg, 3, 0.0);
    assert_eq!(c.packets[1], 14_000);
    assert_eq!(c.undecrypted[1], 14_000);
    assert!(c.anomalies.len() <= 64 && c.events.len() <= 64);
    assert_eq!(c.summary().handshake.sni.as_deref(), Some("quic.example.test"));
}

#[test]
fn confirmed_only_when_an_initial_authenticates() {
    let d = datagrams("v1");
    assert!(run(&d[..1], None).confirmed());
    // an RTP-like payload that passes the cheap filter (PT 0, seq 0, a timestamp starting 0x01)
    let mut rtp = vec![0x80, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08];
    rtp.extend_from_slice(&[0x55; 160]);
    assert!(tlsinspect_core::quic::looks_like_quic(&rtp));
    let c = run(&[(Side::A, rtp)], None);
    assert!(!c.confirmed());
    assert_eq!(c.summary().handshake.sni, None);
    let mut q050 = vec![0xc3];
    q050.extend_from_slice(b"Q050");
    q050.extend_from_slice(&[0x08, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0]);
    let c = run(&[(Side::A, q050)], None);
    assert!(c.confirmed());
    let s = c.summary();
    assert!(s.google_quic);
    assert_eq!(s.version_name.as_deref(), Some("Google QUIC Q050"));
}

/// A ServerHello body: TLS 1.3, `random`, `cipher`, key_share `group` (HRR form: group only).
fn server_hello_body(random: &[u8; 32], cipher: u16, group: u16, hrr: bool) -> Vec<u8> {
    let mut b = vec![0x03, 0x03];
    b.extend_from_slice(random);
    b.push(0);
    b.extend_from_slice(&cipher.to_be_bytes());
    b.push(0);
    let mut ext = vec![0x00, 0x2b, 0x00, 0x02, 0x03, 0x04, 0x00, 0x33];
    if hrr {
        ext.extend_from_slice(&[0x00, 0x02]);
        ext.extend_from_slice(&group.to_be_bytes());
    } else {
        ext.extend_from_slice(&[0x00, 0x24]);
        ext.extend_from_slice(&group.to_be_bytes());
        ext.extend_from_slice(&[0x00, 0x20]);
        ext.extend_from_slice(&[0x42; 32]);
    }
    b.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    b.extend_from_slice(&ext);
    b
}

/// A server Initial answering the v1 client's first Initial, carrying `crypto` at `offset`.
fn server_initial(pn: u16, offset: u16, crypto: &[u8]) -> Vec<u8> {
    let d = datagrams("v1");
    let (pkts, _) = split_datagram(&d[0].1);
    let Packet::Long { dcid, scid, .. } = &pkts[0] else {
        panic!()
    };
    let keys = PacketKeys::initial(V1, dcid, false).unwrap();
    let mut payload = vec![0x06, 0x40 | (offset >> 8) as u8, offset as u8];
    payload.extend_from_slice(&(0x4000 | crypto.len() as u16).to_be_bytes());
    payload.extend_from_slice(crypto);
    payload.resize(payload.len().max(64), 0);
    let mut header = vec![0xc1, 0, 0, 0, 1, scid.len() as u8];
    header.extend_from_slice(scid);
    header.extend_from_slice(&[4, 9, 9, 9, 9, 0]);
    header.extend_from_slice(&(0x4000 | (2 + payload.len() + 16) as u16).to_be_bytes());
    header.extend_from_slice(&pn.to_be_bytes());
    seal_packet(&keys, &header, u64::from(pn), &payload).unwrap()
}

#[test]
fn hello_retry_request_then_the_real_server_hello() {
    const HRR_RANDOM: [u8; 32] = [
        0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91, 0xC2, 0xA2,
        0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
    ];
    let d = datagrams("v1");
    let hrr = message(2, &server_hello_body(&HRR_RANDOM, 0x1301, 0x0018, true));
    let sh = message(2, &server_hello_body(&[7; 32], 0x1301, 0x0018, false));
    let c = run(
        &[
            (Side::A, d[0].1.clone()),
            (Side::B, server_initial(0, 0, &hrr)),
            (Side::B, server_initial(1, hrr.len() as u16, &sh)),
        ],
        None,
    );
    let s = c.summary();
    assert!(s.hello_retry_request);
    assert!(
        !c.server_hello.as_ref().unwrap().is_hello_retry_request,
        "the real ServerHello replaced the HRR"
    );
    assert_eq!(s.handshake.group.as_deref(), Some("secp384r1"));
    assert_eq!(s.handshake.cipher.as_deref(), Some("TLS_AES_128_GCM_SHA256"));
    assert_eq!(s.handshake.sni.as_deref(), Some("quic.example.test"));
    assert_eq!(c.anomalies, vec![]);
}

#[test]
fn a_key_update_is_followed() {
    // the client asks for a key update (RFC 9001 section 6) before its request and its close:
    // the close is read under the next key generation
    let d = datagrams("key_update");
    let c = run(&d, Some(keylog("key_update")));
    assert_eq!(c.key_updates[0], 1);
    assert_eq!(c.undecrypted, [0, 0]);
    let close = c.summary().close.unwrap();
    assert_eq!(
        (close.side, close.error_code, close.reason.as_str()),
        (Side::A, 0x10c, "bye")
    );
    assert_eq!(tshark("key_update")["cc_reason"], vec!["bye"]);
    // the same capture without a key update: no update followed
    let c = run(&datagrams("closed"), Some(keylog("closed")));
    assert_eq!(c.key_updates, [0, 0]);
}

#[test]
fn a_resumed_connection_with_0rtt() {
    let d = datagrams("resumed");
    let ts = tshark("resumed");
    assert!(
        ts["long_packet_type"].contains(&"1".to_owned()),
        "tshark saw 0-RTT packets"
    );
    let c = run(&d, None);
    let s = c.summary();
    assert!(s.zero_rtt && s.resumed);
    let ch = c.client_hello.as_ref().unwrap();
    assert!(ch.psk && ch.early_data);
    assert_eq!(s.handshake.sni.as_deref(), Some("quic.example.test"));
    assert_eq!(s.early_data_accepted, None, "EncryptedExtensions needs the key log");
    assert_eq!(s.outcome, "handshake_complete");
    let c = run(&d, Some(keylog("resumed")));
    let s = c.summary();
    assert_eq!(s.early_data_accepted, Some(true));
    assert!(c.handshake_decrypted >= 1);
    assert!(c.certificates.is_empty(), "a resumed handshake sends no certificate");
    assert_eq!(ts["certificate_sha256"], Vec::<String>::new());
    assert_eq!(c.anomalies, vec![]);
    // a full handshake is not resumed
    let s = run(&datagrams("v1"), Some(keylog("v1"))).summary();
    assert!(!s.resumed && !s.zero_rtt);
    assert_eq!(s.early_data_accepted, Some(false));
}

#[test]
fn a_late_retry_changes_nothing() {
    let mut d = datagrams("retry");
    let retry = d[1].clone();
    d.push(retry.clone()); // a copy of the Retry at the end
    let c = run(&d, Some(keylog("retry")));
    assert_eq!(c.certificates.len(), 1);
    assert_eq!(c.summary().outcome, "handshake_complete");
    assert_eq!(
        c.anomalies.iter().map(|a| a.code).collect::<Vec<_>>(),
        vec!["quic_late_retry"]
    );
    // a Retry after a plain handshake's server Initial
    let mut d = datagrams("v1");
    d.insert(2, retry);
    let c = run(&d, Some(keylog("v1")));
    assert!(!c.retry);
    assert_eq!(c.certificates.len(), 1);
    assert_eq!(
        c.anomalies.iter().map(|a| a.code).collect::<Vec<_>>(),
        vec!["quic_late_retry"]
    );
}

#[test]
fn another_connections_initial_after_the_handshake_changes_nothing() {
    let mut d = datagrams("v1");
    d.push(datagrams("chacha20")[0].clone());
    let c = run(&d, Some(keylog("v1")));
    assert_eq!(c.certificates.len(), 1);
    assert_eq!(c.summary().handshake.ja4.as_ref(), Some(&python("v1")["ja4"]));
    assert_eq!(c.summary().handshake.cipher.as_deref(), Some("TLS_AES_256_GCM_SHA384"));
    assert_eq!(
        c.anomalies.iter().map(|a| a.code).collect::<Vec<_>>(),
        vec!["quic_initial_undecryptable"]
    );
}

#[test]
fn version_negotiation_does_not_set_the_servers_connection_id() {
    let c = run(&datagrams("vn"), None);
    assert_eq!(c.summary().server_scid, None);
}
