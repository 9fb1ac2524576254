//! Tunnels and link types beyond Python's decoder (issue 10), with `LinkDecoder::tunnels`: GRE
//! (checksum, key, sequence), ERSPAN I/II/III, VXLAN, Geneve, GTP-U, PPP (9, 50), Cisco HDLC
//! (104); the inner endpoints are handed out and the path named. With the flag off, each frame
//! is skipped under Python's reason. And UDP with `LinkDecoder::udp`. tshark (4.0) dissects every
//! Ethernet case (written by `dump`) to the same inner source address and TCP payload.

mod link_support;

use link_support::*;
use tlsinspect_core::link::LinkDecoder;

const INNER_SRC: [u8; 4] = [172, 16, 0, 5];
const INNER_DST: [u8; 4] = [172, 16, 9, 9];

fn inner_v4() -> Vec<u8> {
    ipv4(
        V4 {
            src: INNER_SRC,
            dst: INNER_DST,
            ..V4::default()
        },
        &tcp(&[], b"inner"),
    )
}

fn inner_eth() -> Vec<u8> {
    eth(0x0800, &inner_v4())
}

fn outer(proto: u8, payload: &[u8]) -> Vec<u8> {
    eth(
        0x0800,
        &ipv4(
            V4 {
                proto,
                ..V4::default()
            },
            payload,
        ),
    )
}

fn udp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut u = sport.to_be_bytes().to_vec();
    u.extend(dport.to_be_bytes());
    u.extend(((8 + payload.len()) as u16).to_be_bytes());
    u.extend([0, 0]);
    u.extend(payload);
    u
}

fn gre(flags: u16, proto: u16, extra: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut g = flags.to_be_bytes().to_vec();
    g.extend(proto.to_be_bytes());
    g.extend(extra);
    g.extend(payload);
    g
}

/// (name, link type, frame, encapsulation when decoded, Python's skip reason with the flag off)
fn cases() -> Vec<(&'static str, u32, Vec<u8>, &'static str, &'static str)> {
    let v4 = inner_v4();
    let e = inner_eth();
    let v6in = ipv6(6, &tcp(&[], b"six"), None);
    let erspan2_hdr = [0x10, 0x64, 0x00, 0x01, 0, 0, 0, 0];
    let erspan3_hdr = [0x20, 0x64, 0x00, 0x01, 1, 2, 3, 4, 0, 0, 0, 0];
    let mut erspan3_o = erspan3_hdr;
    erspan3_o[11] = 1;
    let vx = [&[0x08u8, 0, 0, 0, 0, 0, 0x64, 0][..], &e].concat();
    let gen = [&[0x00u8, 0x00, 0x65, 0x58, 0, 0, 0x64, 0][..], &e].concat();
    let gen_opts = [
        &[0x02u8, 0x00, 0x08, 0x00, 0, 0, 0x64, 0][..],
        &[0xaa; 8],
        &v4,
    ]
    .concat();
    let gtp = [
        &[0x30u8, 0xff][..],
        &(v4.len() as u16).to_be_bytes(),
        &[0, 0, 0, 1],
        &v4,
    ]
    .concat();
    let gtp_ext = [
        &[0x34u8, 0xff][..],
        &((v4.len() + 8) as u16).to_be_bytes(),
        &[0, 0, 0, 1],
        &[0, 0, 0, 0x85],
        &[1, 0x09, 0x01, 0],
        &v4,
    ]
    .concat();
    vec![
        (
            "gre_ipv4",
            1,
            outer(47, &gre(0, 0x0800, &[], &v4)),
            "gre",
            "not_tcp",
        ),
        (
            "gre_key_seq_csum",
            1,
            outer(47, &gre(0xB000, 0x0800, &[0; 12], &v4)),
            "gre",
            "not_tcp",
        ),
        (
            "gre_ipv6",
            1,
            outer(47, &gre(0x2000, 0x86DD, &[0, 0, 0, 7], &v6in)),
            "gre",
            "not_tcp",
        ),
        (
            "gre_eth",
            1,
            outer(47, &gre(0, 0x6558, &[], &e)),
            "gre",
            "not_tcp",
        ),
        (
            "gre_mpls",
            1,
            outer(47, &gre(0, 0x8847, &[], &mpls(1, true, &v4))),
            "gre",
            "not_tcp",
        ),
        (
            "erspan1",
            1,
            outer(47, &gre(0, 0x88BE, &[], &e)),
            "erspan1",
            "not_tcp",
        ),
        (
            "erspan2",
            1,
            outer(
                47,
                &gre(
                    0x1000,
                    0x88BE,
                    &[0, 0, 0, 9],
                    &[&erspan2_hdr[..], &e].concat(),
                ),
            ),
            "erspan2",
            "not_tcp",
        ),
        (
            "erspan3",
            1,
            outer(
                47,
                &gre(
                    0x1000,
                    0x22EB,
                    &[0, 0, 0, 9],
                    &[&erspan3_hdr[..], &e].concat(),
                ),
            ),
            "erspan3",
            "not_tcp",
        ),
        (
            "erspan3_subheader",
            1,
            outer(
                47,
                &gre(
                    0x1000,
                    0x22EB,
                    &[0, 0, 0, 9],
                    &[&erspan3_o[..], &[0; 8], &e].concat(),
                ),
            ),
            "erspan3",
            "not_tcp",
        ),
        (
            "erspan2_vxlan",
            1,
            outer(
                47,
                &gre(
                    0x1000,
                    0x88BE,
                    &[0, 0, 0, 9],
                    &[&erspan2_hdr[..], &outer(17, &udp(50000, 4789, &vx))].concat(),
                ),
            ),
            "erspan2>vxlan",
            "not_tcp",
        ),
        (
            "vxlan",
            1,
            outer(17, &udp(50000, 4789, &vx)),
            "vxlan",
            "not_tcp",
        ),
        (
            "vxlan_on_source_port",
            1,
            outer(17, &udp(4789, 50000, &vx)),
            "vxlan",
            "not_tcp",
        ),
        (
            "geneve_eth",
            1,
            outer(17, &udp(50000, 6081, &gen)),
            "geneve",
            "not_tcp",
        ),
        (
            "geneve_ip_options",
            1,
            outer(17, &udp(50000, 6081, &gen_opts)),
            "geneve",
            "not_tcp",
        ),
        (
            "gtpu",
            1,
            outer(17, &udp(2152, 2152, &gtp)),
            "gtpu",
            "not_tcp",
        ),
        (
            "gtpu_extension",
            1,
            outer(17, &udp(2152, 2152, &gtp_ext)),
            "gtpu",
            "not_tcp",
        ),
        (
            "gre_in_6in4",
            1,
            outer(41, &ipv6(47, &gre(0, 0x0800, &[], &v4), None)),
            "6in4>gre",
            "not_tcp",
        ),
        (
            "ppp",
            9,
            [&[0xffu8, 0x03, 0x00, 0x21][..], &v4].concat(),
            "",
            "unsupported_linktype_9",
        ),
        (
            "ppp_compressed",
            9,
            [&[0x21u8][..], &v4].concat(),
            "",
            "unsupported_linktype_9",
        ),
        (
            "ppp_serial",
            50,
            [&[0xffu8, 0x03, 0x00, 0x21][..], &v4].concat(),
            "",
            "unsupported_linktype_50",
        ),
        (
            "ppp_serial_chdlc",
            50,
            [&[0x0fu8, 0x00, 0x08, 0x00][..], &v4].concat(),
            "",
            "unsupported_linktype_50",
        ),
        (
            "chdlc",
            104,
            [&[0x8fu8, 0x00, 0x08, 0x00][..], &v4].concat(),
            "",
            "unsupported_linktype_104",
        ),
        (
            "chdlc_gre",
            104,
            [
                &[0x0fu8, 0x00, 0x08, 0x00][..],
                &ipv4(
                    V4 {
                        proto: 47,
                        ..V4::default()
                    },
                    &gre(0, 0x0800, &[], &v4),
                ),
            ]
            .concat(),
            "gre",
            "unsupported_linktype_104",
        ),
    ]
}

#[test]
fn tunnels_give_the_inner_endpoints() {
    for (name, lt, frame, encap, _) in cases() {
        let mut d = LinkDecoder::new();
        d.tunnels = true;
        if d.decode(lt, &frame).is_none() {
            panic!("{name}: {:?}", d.skipped);
        }
        let x = d.decode(lt, &frame).unwrap();
        assert_eq!(x.proto, 6, "{name}");
        assert_eq!(
            x.encapsulation,
            if encap.is_empty() { None } else { Some(encap) },
            "{name}"
        );
        if name == "gre_ipv6" {
            assert_eq!(x.src, &A6[..]);
            assert_eq!(&x.buf[x.l4 + 20..x.end], b"six");
        } else {
            assert_eq!((x.src, x.dst), (&INNER_SRC[..], &INNER_DST[..]), "{name}");
            assert_eq!(&x.buf[x.l4 + 20..x.end], b"inner", "{name}");
        }
    }
}

/// The flag off: Python's decoder's answer for each (its reason), so the TCP engine and the
/// differential test see no change.
#[test]
fn flag_off_is_pythons_answer() {
    for (name, lt, frame, _, reason) in cases() {
        let mut d = LinkDecoder::new();
        assert!(d.decode(lt, &frame).is_none(), "{name}");
        assert_eq!(d.skipped.get(reason), Some(&1), "{name}: {:?}", d.skipped);
    }
}

/// IP-in-IP and 6in4 (decoded by Python too) are named.
#[test]
fn ip_in_ip_is_named() {
    let mut d = LinkDecoder::new();
    let f = outer(4, &inner_v4());
    assert_eq!(d.decode(1, &f).unwrap().encapsulation, Some("ipip"));
    let f = outer(41, &ipv6(6, &tcp(&[], b"x"), None));
    assert_eq!(d.decode(1, &f).unwrap().encapsulation, Some("6in4"));
    let f = eth(0x0800, &inner_v4());
    assert_eq!(d.decode(1, &f).unwrap().encapsulation, None);
    // a fragmented outer datagram keeps the path of its reassembled content
    let whole = ipv4(
        V4 {
            proto: 4,
            ..V4::default()
        },
        &inner_v4(),
    );
    let body = &whole[20..];
    let f0 = eth(
        0x0800,
        &ipv4(
            V4 {
                proto: 4,
                id: 77,
                frag: 0x2000,
                ..V4::default()
            },
            &body[..24],
        ),
    );
    let f1 = eth(
        0x0800,
        &ipv4(
            V4 {
                proto: 4,
                id: 77,
                frag: 3,
                ..V4::default()
            },
            &body[24..],
        ),
    );
    assert!(d.decode(1, &f0).is_none());
    let x = d.decode(1, &f1).unwrap();
    assert_eq!((x.src, x.encapsulation), (&INNER_SRC[..], Some("ipip")));
}

#[test]
fn broken_tunnels_are_counted() {
    let mut d = LinkDecoder::new();
    d.tunnels = true;
    let v4 = inner_v4();
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (outer(47, &[0, 0]), "truncated_gre"),
        (
            outer(47, &gre(0x0001, 0x880B, &[0; 4], &[])),
            "unknown_encapsulation:gre_version",
        ),
        (
            outer(47, &gre(0x4000, 0x0800, &[], &v4)),
            "unknown_encapsulation:gre_routing",
        ),
        (
            outer(47, &gre(0, 0x1234, &[], &v4)),
            "unknown_encapsulation:gre",
        ),
        (
            outer(47, &gre(0xB000, 0x0800, &[0; 4], &[])),
            "truncated_gre",
        ),
        (
            outer(17, &udp(1, 4789, &[0u8; 8])),
            "unknown_encapsulation:vxlan",
        ),
        (outer(17, &udp(1, 4789, &[0x08u8; 4])), "truncated_udp"),
        (
            outer(17, &udp(1, 2152, &[0x30, 0x01, 0, 0, 0, 0, 0, 1])),
            "gtpu_not_gpdu",
        ),
        (
            outer(
                17,
                &udp(1, 2152, &[0x34, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0x85, 0]),
            ),
            "truncated_udp",
        ),
        (outer(17, &udp(1, 53, &[0; 12])), "not_tcp"),
        (outer(17, &[0; 4]), "truncated_udp"),
        (vec![0xff, 0x03, 0xc0, 0x21, 1, 1, 0, 4], "not_ip"),
    ];
    for (i, (f, reason)) in cases.iter().enumerate() {
        let before = d.skipped.get(*reason).copied().unwrap_or(0);
        let lt = if i == cases.len() - 1 { 9 } else { 1 };
        assert!(d.decode(lt, f).is_none(), "{reason}");
        assert_eq!(
            d.skipped.get(*reason).copied().unwrap_or(0),
            before + 1,
            "{reason}: {:?}",
            d.skipped
        );
    }
    // tunnels in tunnels stop at the depth bound
    let mut f = inner_eth();
    for _ in 0..6 {
        f = outer(47, &gre(0, 0x6558, &[], &f));
    }
    assert!(d.decode(1, &f).is_none());
}

#[test]
fn udp_only_when_asked() {
    let f = outer(17, &udp(5353, 53, b"query"));
    let mut d = LinkDecoder::new();
    assert!(d.decode(1, &f).is_none());
    d.udp = true;
    let x = d.decode(1, &f).unwrap();
    assert_eq!((x.proto, x.l4, x.end), (17, 34, f.len()));
    assert_eq!(&x.buf[x.l4 + 8..x.end], b"query");
    // IPv6 too; TCP unchanged
    let f6 = eth(0x86dd, &ipv6(17, &udp(1, 2, b"v6"), None));
    assert_eq!(d.decode(1, &f6).unwrap().proto, 17);
    assert_eq!(d.decode(1, &eth(0x0800, &inner_v4())).unwrap().proto, 6);
}

/// Writes the Ethernet cases to `$R1_DUMP/tunnels.pcap` (for tshark, the reference dissector:
/// `tshark -r tunnels.pcap -T fields -e ip.src -e ip.dst -e ipv6.src -e tcp.payload` shows the
/// same inner endpoints and payloads, outermost first).
#[test]
#[ignore]
fn dump() {
    let dir = std::path::PathBuf::from(std::env::var("R1_DUMP").expect("R1_DUMP=DIR"));
    std::fs::create_dir_all(&dir).unwrap();
    let mut f: Vec<u8> = [
        0xa1b2_c3d4u32.to_le_bytes(),
        [2, 0, 4, 0],
        [0; 4],
        [0; 4],
        65535u32.to_le_bytes(),
        1u32.to_le_bytes(),
    ]
    .concat();
    for (i, (_, lt, frame, _, _)) in cases().iter().enumerate() {
        if *lt != 1 {
            continue;
        }
        f.extend((i as u32).to_le_bytes());
        f.extend(0u32.to_le_bytes());
        f.extend((frame.len() as u32).to_le_bytes());
        f.extend((frame.len() as u32).to_le_bytes());
        f.extend(frame);
    }
    std::fs::write(dir.join("tunnels.pcap"), f).unwrap();
}
