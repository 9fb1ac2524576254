//! Teredo, CAPWAP (data: 802.3 and native 802.11; control and data DTLS) and IP-in-IP / 6in4
//! on every link type the decoder reads (issue 10). Decoder cases on built frames, then the
//! OpenSSL DTLS fixture (`data/dtls/mutual_srtp.pcap`) re-framed as a CAPWAP control channel
//! through the whole `Analyzer`: both chains, SNI and the path "capwap".

mod link_support;
#[path = "data/dtls/pcap.rs"]
mod pcap;

use link_support::*;
use tlsinspect_core::engine::Analyzer;
use tlsinspect_core::flow::Limits;
use tlsinspect_core::link::LinkDecoder;

const INNER_SRC: [u8; 4] = [172, 16, 0, 5];
const INNER_DST: [u8; 4] = [172, 16, 9, 9];

fn inner_v4() -> Vec<u8> {
    ipv4(V4 { src: INNER_SRC, dst: INNER_DST, ..V4::default() }, &tcp(&[], b"inner"))
}

fn udp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut u = sport.to_be_bytes().to_vec();
    u.extend(dport.to_be_bytes());
    u.extend(((8 + payload.len()) as u16).to_be_bytes());
    u.extend([0, 0]);
    u.extend(payload);
    u
}

fn over_udp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    eth(0x0800, &ipv4(V4 { proto: 17, ..V4::default() }, &udp(sport, dport, payload)))
}

/// A CAPWAP header: preamble 0, HLEN in words, WBID, T/F/K flags, then `opt` (radio MAC /
/// wireless info, inside HLEN) and the payload.
fn capwap(wbid: u32, t: bool, f: bool, k: bool, opt: &[u8], payload: &[u8]) -> Vec<u8> {
    assert_eq!(opt.len() % 4, 0);
    let hlen = (8 + opt.len()) as u32 / 4;
    let mut word = (hlen << 19) | (wbid << 9);
    word |= (t as u32) << 8 | (f as u32) << 7 | (k as u32) << 3;
    if !opt.is_empty() {
        word |= 1 << 4; // M: a radio MAC address follows
    }
    let mut b = word.to_be_bytes().to_vec();
    b.extend([0, 0, 0, 0]); // fragment id, offset
    b.extend(opt);
    b.extend(payload);
    b
}

/// An 802.11 data frame (frame control, duration, addresses, sequence; QoS and HT control
/// when asked; address 4 with both DS bits) with LLC/SNAP and the ethertype.
fn wlan(fc1: u8, qos: bool, et: u16, payload: &[u8]) -> Vec<u8> {
    let fc0 = if qos { 0x88 } else { 0x08 };
    let mut b = vec![fc0, fc1, 0, 0];
    b.extend([0x11; 18]); // addresses 1-3
    b.extend([0x10, 0]); // sequence control
    if fc1 & 3 == 3 {
        b.extend([0x22; 6]);
    }
    if qos {
        b.extend([0, 0]);
        if fc1 & 0x80 != 0 {
            b.extend([0, 0, 0, 0]);
        }
    }
    b.extend([0xAA, 0xAA, 0x03, 0, 0, 0]);
    b.extend(et.to_be_bytes());
    b.extend(payload);
    b
}

/// IPv6 (Teredo addresses don't matter here) around TCP to 443.
fn v6tcp() -> Vec<u8> {
    ipv6(6, &tcp(&[], b"teredo"), None)
}

fn decoder() -> LinkDecoder {
    let mut d = LinkDecoder::new();
    (d.tunnels, d.udp) = (true, true);
    d
}

/// (name, frame, encapsulation, inner is IPv6)
fn decoded_cases() -> Vec<(&'static str, Vec<u8>, &'static str, bool)> {
    let v4 = inner_v4();
    let origin = [0u8, 0, 0xf0, 0x0f, 0x3f, 0xff, 0xff, 0xfe];
    let auth = [0u8, 1, 2, 3, 0xa, 0xb, 1, 2, 3, 1, 2, 3, 4, 5, 6, 7, 8, 0];
    vec![
        ("teredo", over_udp(3544, 50000, &v6tcp()), "teredo", true),
        ("teredo_client_port", over_udp(50000, 3544, &v6tcp()), "teredo", true),
        ("teredo_origin", over_udp(3544, 50000, &[&origin[..], &v6tcp()].concat()), "teredo", true),
        (
            "teredo_auth_origin",
            over_udp(3544, 50000, &[&auth[..], &origin, &v6tcp()].concat()),
            "teredo",
            true,
        ),
        ("capwap_8023", over_udp(60000, 5247, &capwap(1, false, false, false, &[], &eth(0x0800, &v4))), "capwap", false),
        (
            "capwap_8023_radio_mac",
            over_udp(5247, 60000, &capwap(1, false, false, false, &[6, 1, 2, 3, 4, 5, 6, 0], &eth(0x0800, &v4))),
            "capwap",
            false,
        ),
        ("capwap_80211", over_udp(60000, 5247, &capwap(1, true, false, false, &[], &wlan(0x01, false, 0x0800, &v4))), "capwap", false),
        ("capwap_80211_qos", over_udp(60000, 5247, &capwap(1, true, false, false, &[], &wlan(0x01, true, 0x0800, &v4))), "capwap", false),
        ("capwap_80211_qos_htc", over_udp(60000, 5247, &capwap(1, true, false, false, &[], &wlan(0x82, true, 0x0800, &v4))), "capwap", false),
        ("capwap_80211_4addr", over_udp(60000, 5247, &capwap(1, true, false, false, &[], &wlan(0x03, true, 0x0800, &v4))), "capwap", false),
        ("capwap_80211_ipv6", over_udp(60000, 5247, &capwap(1, true, false, false, &[], &wlan(0x02, false, 0x86DD, &v6tcp()))), "capwap", true),
        ("capwap_80211_swapped_fc", {
            let mut w = wlan(0x01, true, 0x0800, &v4);
            w.swap(0, 1); // as Cisco APs send it
            over_udp(60000, 5247, &capwap(1, true, false, false, &[], &w))
        }, "capwap", false),
        (
            "capwap_6in4",
            over_udp(60000, 5247, &capwap(1, false, false, false, &[], &eth(0x0800, &ipv4(V4 { proto: 41, ..V4::default() }, &v6tcp())))),
            "capwap>6in4",
            true,
        ),
    ]
}

#[test]
fn teredo_and_capwap_give_the_inner_tcp() {
    for (name, frame, encap, six) in decoded_cases() {
        let mut d = decoder();
        let Some(x) = d.decode(1, &frame) else { panic!("{name}: {:?}", d.skipped) };
        assert_eq!((x.proto, x.encapsulation), (6, Some(encap)), "{name}");
        if six {
            assert_eq!((x.src, x.dst), (&A6[..], &B6[..]), "{name}");
        } else {
            assert_eq!((x.src, x.dst), (&INNER_SRC[..], &INNER_DST[..]), "{name}");
            assert_eq!(&x.buf[x.l4 + 20..x.end], b"inner", "{name}");
        }
    }
}

/// Teredo and CAPWAP with the tunnels flag off are plain UDP (or Python's `not_tcp`).
#[test]
fn flag_off_leaves_them_alone() {
    for (name, frame, _, _) in decoded_cases() {
        let mut d = LinkDecoder::new();
        d.udp = true;
        let x = d.decode(1, &frame).unwrap();
        assert_eq!((x.proto, x.encapsulation), (17, None), "{name}");
    }
}

#[test]
fn other_traffic_on_their_ports_stays_udp() {
    let mut d = decoder();
    let v6 = v6tcp();
    let mut short = v6.clone();
    short.pop(); // IPv6 payload length one more than the UDP payload holds
    let mut long = v6.clone();
    long.push(0); // a byte after the IPv6 packet: not Teredo
    for (name, payload, port) in [
        ("teredo_not_ipv6", b"\x45\x00 hello, not an IPv6 packet at all....".to_vec(), 3544),
        ("teredo_short", short, 3544),
        ("teredo_trailing_byte", long, 3544),
        ("capwap_data_version_1", vec![0x10; 40], 5247),
        ("capwap_data_hlen_past_end", capwap(1, false, false, false, &[], &[])[..6].to_vec(), 5247),
        ("capwap_control_no_control_header", capwap(0, false, false, false, &[], &[1, 2]), 5246),
    ] {
        let frame = over_udp(40000, port, &payload);
        let x = d.decode(1, &frame).unwrap_or_else(|| panic!("{name}"));
        assert_eq!((x.proto, x.encapsulation), (17, None), "{name}");
    }
}

#[test]
fn capwap_and_teredo_not_analysed_are_counted_by_reason() {
    let v4 = inner_v4();
    let ctrl = [&capwap(0, false, false, false, &[], &[])[..], &[0, 0, 0, 1, 0, 0, 0, 0]].concat();
    let dtls = [&[1u8, 0, 0, 0][..], &[22, 0xFE, 0xFD], &[0; 10]].concat();
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (over_udp(60000, 5246, &ctrl), "capwap_control"),
        (over_udp(60000, 5247, &capwap(1, false, false, true, &[], &[0; 8])), "capwap_keepalive"),
        (over_udp(60000, 5247, &capwap(1, false, true, false, &[], &eth(0x0800, &v4))), "capwap_fragment"),
        (over_udp(60000, 5247, &capwap(3, true, false, false, &[], &v4)), "unknown_encapsulation:capwap"),
        (over_udp(60000, 5247, &capwap(1, true, false, false, &[], &wlan(0x41, false, 0x0800, &v4))), "wlan_protected"),
        (over_udp(60000, 5247, &capwap(1, true, false, false, &[], &[0x80, 0, 0, 0].repeat(8))), "wlan_not_data"),
        (over_udp(60000, 5247, &capwap(1, true, false, false, &[], &[0xc8, 1, 0, 0].repeat(8))), "wlan_no_data"),
        (over_udp(60000, 5247, &capwap(1, true, false, false, &[], &[0x08, 1, 0, 0].repeat(8))), "wlan_not_snap"),
        (over_udp(60000, 5247, &capwap(1, true, false, false, &[], &wlan(1, false, 0x888E, &[1, 0, 0, 0]))), "not_ip"),
        (over_udp(3544, 50000, &ipv6(59, &[], None)), "teredo_bubble"),
        (over_udp(3544, 50000, &ipv6(58, &[128, 0, 0, 0], None)), "not_tcp"),
    ];
    let mut d = decoder();
    for (f, reason) in &cases {
        let before = d.skipped.get(*reason).copied().unwrap_or(0);
        assert!(d.decode(1, f).is_none(), "{reason}");
        assert_eq!(d.skipped.get(*reason).copied().unwrap_or(0), before + 1, "{reason}: {:?}", d.skipped);
    }
    // CAPWAP DTLS is handed out as UDP, the path named; without the UDP flag it is counted
    let frame = over_udp(60000, 5246, &dtls);
    let x = d.decode(1, &frame).unwrap();
    assert_eq!((x.proto, x.encapsulation), (17, Some("capwap")));
    let mut tcp_only = LinkDecoder::new();
    tcp_only.tunnels = true;
    assert!(tcp_only.decode(1, &over_udp(60000, 5246, &dtls)).is_none());
    assert_eq!(tcp_only.skipped.get("capwap_dtls"), Some(&1));
}

/// IP-in-IP (4), 6in4 (41), 4in6 and IPv6-in-IPv6 on every link type the decoder reads.
#[test]
fn ip_in_ip_on_every_link_type() {
    let v4 = inner_v4();
    let v6 = v6tcp();
    let ipip = ipv4(V4 { proto: 4, ..V4::default() }, &v4);
    let sixin4 = ipv4(V4 { proto: 41, ..V4::default() }, &v6);
    let fourin6 = ipv6(4, &v4, None);
    for (outer, et, encap, six) in
        [(&ipip, 0x0800u16, "ipip", false), (&sixin4, 0x0800, "6in4", true), (&fourin6, 0x86DD, "4in6", false)]
    {
        let frames: Vec<(&str, u32, Vec<u8>)> = vec![
            ("ethernet", 1, eth(et, outer)),
            ("sll", 113, sll(et, outer)),
            ("sll2", 276, sll2(et, outer)),
            ("raw", 101, outer.clone()),
            ("raw12", 12, outer.clone()),
            ("raw14", 14, outer.clone()),
            ("raw_v4v6", if et == 0x0800 { 228 } else { 229 }, outer.clone()),
            ("null", 0, null(if et == 0x0800 { 2 } else { 30 }, outer)),
            ("loop", 108, [&(if et == 0x0800 { 2u32 } else { 24 }).to_be_bytes()[..], outer].concat()),
            ("ppp", 9, [&[0xff, 0x03][..], &(if et == 0x0800 { 0x21u16 } else { 0x57 }).to_be_bytes(), outer].concat()),
            ("ppp_serial", 50, [&[0xff, 0x03][..], &(if et == 0x0800 { 0x21u16 } else { 0x57 }).to_be_bytes(), outer].concat()),
            ("chdlc", 104, [&[0x0f, 0x00][..], &et.to_be_bytes(), outer].concat()),
            ("pppoe", 1, eth(0x8864, &pppoe(if et == 0x0800 { 0x21 } else { 0x57 }, outer, 0))),
            ("vlan", 1, eth_tagged(&[0x8100], et, outer)),
        ];
        for (name, lt, frame) in frames {
            let mut d = decoder();
            let Some(x) = d.decode(lt, &frame) else { panic!("{encap} on {name}: {:?}", d.skipped) };
            assert_eq!((x.proto, x.encapsulation), (6, Some(encap)), "{encap} on {name}");
            let want: (&[u8], &[u8]) = if six { (&A6, &B6) } else { (&INNER_SRC, &INNER_DST) };
            assert_eq!((x.src, x.dst), want, "{encap} on {name}");
            // and through the engine: one TCP flow with the inner endpoints and the path
            let mut an = Analyzer::new(&[], Limits::default(), None);
            an.packet(0.0, lt, &frame);
            let a = an.finish(&[]);
            assert_eq!(a.stats.get("not_tcp"), 0, "{encap} on {name}");
            assert!(a.stats.iter().all(|(k, _)| !k.starts_with("skipped_")), "{encap} on {name}: {:?}",
                    a.stats.iter().collect::<Vec<_>>());
        }
    }
}

/// The OpenSSL DTLS 1.2 fixture with mutual authentication, re-framed as CAPWAP control (the
/// CAPWAP DTLS header before each datagram, the WLC on 5246): the whole handshake is read.
#[test]
fn capwap_control_dtls_shows_both_chains() {
    let fixture = pcap::data("dtls", "mutual_srtp.pcap");
    let exp = pcap::expect(&pcap::data("dtls", "mutual_srtp.expect"));
    let mut an = Analyzer::new(&[], Limits::default(), None);
    let mut n = 0;
    for (_, ts, frame) in pcap::frames(&fixture) {
        let Some(((src, sport), (dst, dport), payload)) = pcap::udp(&frame) else { continue };
        let (sport, dport) = (if sport == 4433 { 5246 } else { sport }, if dport == 4433 { 5246 } else { dport });
        let mut p = vec![1u8, 0, 0, 0];
        p.extend(&payload);
        let ip = ipv4(
            V4 { proto: 17, src: src[..4].try_into().unwrap(), dst: dst[..4].try_into().unwrap(), ..V4::default() },
            &udp(sport, dport, &p),
        );
        an.packet(ts, 1, &eth(0x0800, &ip));
        n += 1;
    }
    assert_eq!(n.to_string(), exp["datagrams"]);
    let a = an.finish(&[]);
    assert_eq!(a.flows.len(), 1, "{:?}", a.stats.iter().collect::<Vec<_>>());
    let f = &a.flows[0];
    assert_eq!((f.protocol.as_str(), f.transport.as_str()), ("DTLS", "udp"));
    assert_eq!(f.encapsulation.as_deref(), Some("capwap"));
    assert_eq!((f.client_ip.as_str(), f.server_ip.as_str(), f.server_port), ("10.0.0.1", "10.0.0.2", 5246));
    assert_eq!(f.sni.as_deref(), Some(exp["sni"].as_str()));
    assert_eq!(f.tls_version.as_deref(), Some(exp["version"].as_str()));
    assert_eq!(f.server_chain_sha256.join(","), exp["server_chain"]);
    assert_eq!(f.client_chain_sha256.join(","), exp["client_chain"]);
    // what is not DTLS (a STUN binding before, RTP after) is counted as in the plain fixture
    let mut plain = Analyzer::new(&[], Limits::default(), None);
    for (_, ts, frame) in pcap::frames(&fixture) {
        plain.packet(ts, 1, &frame);
    }
    let b = plain.finish(&[]);
    assert_eq!(a.stats.get("udp_not_tls"), b.stats.get("udp_not_tls"));
    assert_eq!((b.flows[0].encapsulation.as_deref(), &b.flows[0].server_chain_sha256), (None, &f.server_chain_sha256));
}
