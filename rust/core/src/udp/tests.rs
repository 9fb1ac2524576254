use super::*;
use crate::engine::Analyzer;

/// Ethernet / IPv4 / UDP around `payload`.
fn frame(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0];
    let total = (20 + 8 + payload.len()) as u16;
    f.extend([0x45, 0, (total >> 8) as u8, total as u8, 0, 0, 0, 0, 64, 17, 0, 0]);
    f.extend(src);
    f.extend(dst);
    let ulen = (8 + payload.len()) as u16;
    f.extend(sport.to_be_bytes());
    f.extend(dport.to_be_bytes());
    f.extend(ulen.to_be_bytes());
    f.extend([0, 0]);
    f.extend(payload);
    f
}

/// A DTLS 1.2 handshake record holding the first bytes of a ClientHello (message_seq 0).
fn dtls_client_hello() -> Vec<u8> {
    let body = [1u8, 0, 0, 4, 0, 0, 0, 0, 0, 0, 4, 0xFE, 0xFD, 0, 0];
    let mut r = vec![22, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 0];
    r.extend((body.len() as u16).to_be_bytes());
    r.extend(body);
    r
}

#[test]
fn a_full_udp_table_ends_the_oldest_association_and_says_so() {
    let limits = Limits { max_flows: 2, ..Limits::default() };
    let mut an = Analyzer::new(&[], limits, None);
    for i in 0..5u16 {
        an.packet(f64::from(i), 1, &frame([10, 0, 0, 1], 50000 + i, [10, 0, 0, 2], 4433, &dtls_client_hello()));
    }
    let a = an.finish(&[]);
    assert_eq!(a.flows.len(), 5);
    assert!(a.flows.iter().all(|f| f.protocol == "DTLS" && f.transport == "udp"));
    let evicted = a.flows.iter().filter(|f| f.warnings.iter().any(|w| w == "evicted_flow_table_full")).count();
    assert_eq!(evicted, 3);
    assert_eq!(a.flows[0].client_port, 50000);
    assert_eq!(a.flows[0].server_ip, "10.0.0.2");
}

#[test]
fn udp_that_is_not_tls_is_counted_and_warned_by_port() {
    let mut an = Analyzer::new(&[], Limits::default(), None);
    for i in 0..3u16 {
        // not CAPWAP either (its preamble's version is 0)
        an.packet(f64::from(i), 1, &frame([10, 0, 0, 1], 40000, [10, 0, 0, 2], 5246, b"\x20\x10not dtls at all"));
    }
    an.packet(3.0, 1, &frame([10, 0, 0, 1], 40001, [10, 0, 0, 3], 53, b"\x12\x34\x01\x00"));
    let a = an.finish(&[]);
    assert!(a.flows.is_empty());
    assert_eq!(a.stats.get("udp_not_tls"), 4);
    assert_eq!(a.capture_warnings,
               vec!["udp_not_decoded: 3 UDP packets to port 5246 look like CAPWAP control (DTLS); not decoded"]);
}

#[test]
fn capwap_control_dtls_after_its_preamble_is_read() {
    let mut dg = vec![1, 0, 0, 0];
    dg.extend(dtls_client_hello());
    let mut an = Analyzer::new(&[], Limits::default(), None);
    an.packet(0.0, 1, &frame([10, 0, 0, 9], 12223, [10, 0, 0, 1], 5246, &dg));
    let a = an.finish(&[]);
    assert_eq!(a.flows.len(), 1);
    assert_eq!((a.flows[0].protocol.as_str(), a.flows[0].server_port), ("DTLS", 5246));
    assert_eq!(a.flows[0].tls_version.as_deref(), Some("DTLS 1.2"));
}

#[test]
fn capwap_control_dtls_is_named_and_plain_control_counted() {
    let mut dg = vec![1, 0, 0, 0];
    dg.extend(dtls_client_hello());
    // a plain Discovery Request: CAPWAP header (HLEN 2), control header (type 1, seq 0, len 0)
    let plain = [0u8, 0x10, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0];
    let mut an = Analyzer::new(&[], Limits::default(), None);
    an.packet(0.0, 1, &frame([10, 0, 0, 9], 12223, [10, 0, 0, 1], 5246, &dg));
    an.packet(0.5, 1, &frame([10, 0, 0, 9], 12223, [10, 0, 0, 1], 5246, &plain));
    let a = an.finish(&[]);
    assert_eq!(a.flows.len(), 1);
    assert_eq!(a.flows[0].encapsulation.as_deref(), Some("capwap"));
    assert_eq!(a.flows[0].client_ip, "10.0.0.9");
    assert_eq!(a.stats.get("skipped_capwap_control"), 1);
    assert_eq!(a.stats.get("udp_not_tls"), 0);
    assert!(a.capture_warnings.is_empty(), "{:?}", a.capture_warnings);
}

#[test]
fn hostile_udp_and_eapol_bytes_never_panic() {
    let mut an = Analyzer::new(&[], Limits { max_flows: 8, ..Limits::default() }, None);
    let mut x: u32 = 12345;
    for i in 0..2000u32 {
        let mut p = Vec::new();
        for _ in 0..(i % 90) {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            p.push((x >> 16) as u8);
        }
        if i % 3 == 0 && p.len() > 13 {
            p[0] = 22;
            p[1] = 0xFE;
            p[2] = 0xFD; // DTLS-looking header, garbage after
        }
        let port = [443u16, 4433, 1812, 5246, 3478][i as usize % 5];
        an.packet(f64::from(i) * 0.5, 1, &frame([10, 0, 0, 1], 1000 + (i % 50) as u16, [10, 0, 0, 2], port, &p));
        let mut e = vec![0x01, 0x80, 0xC2, 0, 0, 3, 0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x88, 0x8E];
        e.extend(&p);
        an.packet(f64::from(i) * 0.5, 1, &e);
    }
    let a = an.finish(&[]);
    assert_eq!(a.frames, 4000);
}
