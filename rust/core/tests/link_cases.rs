//! The link and IP decoder gives Python's answers (`inspector.link.LinkDecoder`) for every link
//! type and header: Ethernet, VLAN/QinQ, MPLS, PPPoE (with padding), SLL, SLL2, raw IP,
//! null/loop, IPv4 options, IPv6 extension headers, IP-in-IP, 6in4, and IPv4 fragments in order,
//! reversed, overlapping and duplicated; and `ip_to_string` gives `socket.inet_ntop`'s text.
//!
//! Expectations: `R1_DUMP=DIR cargo test --test link_cases -- --ignored dump` writes the frames
//! (`DIR/frames`, `DIR/fragments`, `DIR/addresses`); the script in the comment above `FRAMES`
//! printed the literals from Python's decoder: `inspector/link.py` as of branch p14 (commit
//! ff2611a, issue 14's interval reassembly, which no longer counts incomplete fragments).

mod link_support;

use std::collections::BTreeMap;

use link_support::*;
use tlsinspect_core::ip::ip_to_string;
use tlsinspect_core::link::LinkDecoder;

/// Single frames, each decoded by a fresh decoder.
fn cases() -> Vec<(&'static str, u32, Vec<u8>)> {
    let seg = tcp(&[], b"hello");
    let v4 = v4tcp(b"hello");
    let v6 = ipv6(6, &seg, None);
    let mut c: Vec<(&'static str, u32, Vec<u8>)> = vec![
        ("eth_v4_tcp", 1, eth(0x0800, &v4)),
        (
            "eth_v4_padding",
            1,
            eth(0x0800, &[v4.clone(), vec![0; 12]].concat()),
        ),
        (
            "eth_v4_options",
            1,
            eth(
                0x0800,
                &ipv4(
                    V4 {
                        options: vec![1, 1, 1, 0],
                        ..V4::default()
                    },
                    &seg,
                ),
            ),
        ),
        (
            "eth_v4_options_40",
            1,
            eth(
                0x0800,
                &ipv4(
                    V4 {
                        options: vec![1; 40],
                        ..V4::default()
                    },
                    &seg,
                ),
            ),
        ),
        (
            "eth_v4_tcp_options",
            1,
            eth(0x0800, &ipv4(V4::default(), &tcp(&[2, 4, 5, 0xb4], b"x"))),
        ),
        (
            "eth_v4_udp",
            1,
            eth(
                0x0800,
                &ipv4(
                    V4 {
                        proto: 17,
                        ..V4::default()
                    },
                    &[0; 12],
                ),
            ),
        ),
        (
            "eth_v4_icmp",
            1,
            eth(
                0x0800,
                &ipv4(
                    V4 {
                        proto: 1,
                        ..V4::default()
                    },
                    &[8, 0, 0, 0],
                ),
            ),
        ),
        (
            "eth_v4_ihl_4",
            1,
            eth(
                0x0800,
                &ipv4(
                    V4 {
                        ihl: Some(4),
                        ..V4::default()
                    },
                    &seg,
                ),
            ),
        ),
        (
            "eth_v4_total_below_ihl",
            1,
            eth(
                0x0800,
                &ipv4(
                    V4 {
                        total: Some(19),
                        ..V4::default()
                    },
                    &seg,
                ),
            ),
        ),
        (
            "eth_v4_total_zero_tso",
            1,
            eth(
                0x0800,
                &ipv4(
                    V4 {
                        total: Some(0),
                        ..V4::default()
                    },
                    &seg,
                ),
            ),
        ),
        (
            "eth_v4_total_past_frame",
            1,
            eth(
                0x0800,
                &ipv4(
                    V4 {
                        total: Some(1500),
                        ..V4::default()
                    },
                    &seg,
                ),
            ),
        ),
        (
            "eth_v4_total_cuts_tcp",
            1,
            eth(
                0x0800,
                &ipv4(
                    V4 {
                        total: Some(30),
                        ..V4::default()
                    },
                    &seg,
                ),
            ),
        ),
        ("eth_v4_19_bytes", 1, eth(0x0800, &v4[..19])),
        (
            "eth_v4_ihl_past_end",
            1,
            eth(
                0x0800,
                &ipv4(
                    V4 {
                        ihl: Some(15),
                        ..V4::default()
                    },
                    &[0; 10],
                ),
            ),
        ),
        (
            "eth_v4_df_mf_reserved",
            1,
            eth(
                0x0800,
                &ipv4(
                    V4 {
                        frag: 0xC000,
                        ..V4::default()
                    },
                    &seg,
                ),
            ),
        ),
        ("eth_13_bytes", 1, eth(0x0800, &[])[..13].to_vec()),
        ("eth_14_bytes", 1, eth(0x0800, &[])),
        ("eth_arp", 1, eth(0x0806, &[0; 28])),
        ("eth_vlan", 1, eth_tagged(&[0x8100], 0x0800, &v4)),
        ("eth_qinq", 1, eth_tagged(&[0x88a8, 0x8100], 0x86dd, &v6)),
        (
            "eth_4_tags",
            1,
            eth_tagged(&[0x9100, 0x9200, 0x8100, 0x8100], 0x0800, &v4),
        ),
        ("eth_5_tags", 1, eth_tagged(&[0x8100; 5], 0x0800, &v4)),
        (
            "eth_vlan_cut",
            1,
            eth_tagged(&[0x8100], 0x0800, &[])[..16].to_vec(),
        ),
        ("eth_v6_tcp", 1, eth(0x86dd, &v6)),
        (
            "eth_v6_padding",
            1,
            eth(0x86dd, &[v6.clone(), vec![0; 6]].concat()),
        ),
        (
            "eth_v6_hbh_dst_routing",
            1,
            eth(
                0x86dd,
                &ipv6(
                    0,
                    &[ext(60, 0), ext(43, 1), ext(6, 0), seg.clone()].concat(),
                    None,
                ),
            ),
        ),
        (
            "eth_v6_ah",
            1,
            eth(0x86dd, &ipv6(51, &[ah(6, 4), seg.clone()].concat(), None)),
        ),
        (
            "eth_v6_mobility_hip_shim",
            1,
            eth(
                0x86dd,
                &ipv6(
                    135,
                    &[
                        ext(139, 0),
                        ext(140, 0),
                        ext(253, 0),
                        ext(254, 0),
                        ext(6, 0),
                        seg.clone(),
                    ]
                    .concat(),
                    None,
                ),
            ),
        ),
        (
            "eth_v6_atomic_fragment",
            1,
            eth(
                0x86dd,
                &ipv6(44, &[frag6(6, 0, false), seg.clone()].concat(), None),
            ),
        ),
        (
            "eth_v6_fragment_first",
            1,
            eth(
                0x86dd,
                &ipv6(44, &[frag6(6, 0, true), seg.clone()].concat(), None),
            ),
        ),
        (
            "eth_v6_fragment_later",
            1,
            eth(
                0x86dd,
                &ipv6(44, &[frag6(6, 8, false), seg.clone()].concat(), None),
            ),
        ),
        (
            "eth_v6_17_ext",
            1,
            eth(
                0x86dd,
                &ipv6(
                    0,
                    &[
                        (0..16).flat_map(|_| ext(0, 0)).collect::<Vec<u8>>(),
                        ext(6, 0),
                        seg.clone(),
                    ]
                    .concat(),
                    None,
                ),
            ),
        ),
        (
            "eth_v6_16_ext",
            1,
            eth(
                0x86dd,
                &ipv6(
                    0,
                    &[
                        (0..15).flat_map(|_| ext(0, 0)).collect::<Vec<u8>>(),
                        ext(6, 0),
                        seg.clone(),
                    ]
                    .concat(),
                    None,
                ),
            ),
        ),
        (
            "eth_v6_ext_past_end",
            1,
            eth(0x86dd, &ipv6(0, &ext(6, 3)[..20], None)),
        ),
        (
            "eth_v6_ext_len_past_end",
            1,
            eth(0x86dd, &ipv6(0, &[vec![6, 200], vec![0; 6]].concat(), None)),
        ),
        ("eth_v6_plen_zero", 1, eth(0x86dd, &ipv6(6, &seg, Some(0)))),
        (
            "eth_v6_plen_past_frame",
            1,
            eth(0x86dd, &ipv6(6, &seg, Some(900))),
        ),
        ("eth_v6_39_bytes", 1, eth(0x86dd, &v6[..39])),
        ("eth_v6_udp", 1, eth(0x86dd, &ipv6(17, &[0; 8], None))),
        ("eth_v6_no_next", 1, eth(0x86dd, &ipv6(59, &[], None))),
        ("eth_mpls_1", 1, eth(0x8847, &mpls(1, true, &v4))),
        ("eth_mpls_3_v6", 1, eth(0x8848, &mpls(3, true, &v6))),
        ("eth_mpls_8", 1, eth(0x8847, &mpls(8, true, &v4))),
        ("eth_mpls_9", 1, eth(0x8847, &mpls(9, true, &v4))),
        ("eth_mpls_no_bottom", 1, eth(0x8847, &mpls(2, false, &[]))),
        (
            "eth_mpls_pseudowire",
            1,
            eth(0x8847, &mpls(1, true, &eth(0x0800, &v4))),
        ),
        (
            "eth_pppoe_v4_padding",
            1,
            eth(0x8864, &pppoe(0x0021, &v4, 10)),
        ),
        ("eth_pppoe_v6", 1, eth(0x8864, &pppoe(0x0057, &v6, 0))),
        (
            "eth_pppoe_lcp",
            1,
            eth(0x8864, &pppoe(0xc021, &[1, 2, 3, 4], 0)),
        ),
        (
            "eth_pppoe_short",
            1,
            eth(0x8864, &pppoe(0x0021, &[], 0)[..7]),
        ),
        (
            "eth_pppoe_len_cuts_ip",
            1,
            eth(0x8864, &{
                let mut p = pppoe(0x0021, &v4, 0);
                p[4] = 0;
                p[5] = 30;
                p
            }),
        ),
        (
            "eth_pppoe_len_zero",
            1,
            eth(0x8864, &{
                let mut p = pppoe(0x0021, &v4, 0);
                p[4] = 0;
                p[5] = 0;
                p
            }),
        ),
        (
            "eth_pppoe_discovery",
            1,
            eth(0x8863, &[0x11, 0x09, 0, 0, 0, 0]),
        ),
        ("sll_v4", 113, sll(0x0800, &v4)),
        ("sll_v6", 113, sll(0x86dd, &v6)),
        ("sll_vlan", 113, sll(0x8100, &[0, 100, 8, 0])),
        ("sll_15_bytes", 113, sll(0x0800, &[])[..15].to_vec()),
        ("sll_arp", 113, sll(0x0806, &[0; 28])),
        ("sll_mpls", 113, sll(0x8847, &mpls(1, true, &v4))),
        ("sll2_v4", 276, sll2(0x0800, &v4)),
        ("sll2_v6", 276, sll2(0x86dd, &v6)),
        ("sll2_19_bytes", 276, sll2(0x0800, &[])[..19].to_vec()),
        ("raw_101_v4", 101, v4.clone()),
        ("raw_101_v6", 101, v6.clone()),
        ("raw_12", 12, v4.clone()),
        ("raw_14", 14, v6.clone()),
        ("raw_228", 228, v4.clone()),
        ("raw_229", 229, v6.clone()),
        ("raw_version_5", 101, {
            let mut b = v4.clone();
            b[0] = 0x55;
            b
        }),
        ("raw_empty", 101, Vec::new()),
        ("null_v4", 0, null(2, &v4)),
        ("null_v6_24", 0, null(24, &v6)),
        ("null_v6_30", 0, null(30, &v6)),
        ("loop_v4", 108, [vec![0, 0, 0, 2], v4.clone()].concat()),
        ("null_3_bytes", 0, vec![2, 0, 0]),
        ("null_4_bytes", 0, vec![2, 0, 0, 0]),
        ("unsupported_147", 147, v4.clone()),
        ("unsupported_105", 105, v4.clone()),
        (
            "ipip",
            1,
            eth(
                0x0800,
                &ipv4(
                    V4 {
                        proto: 4,
                        src: [1, 1, 1, 1],
                        dst: [2, 2, 2, 2],
                        ..V4::default()
                    },
                    &v4,
                ),
            ),
        ),
        (
            "6in4",
            1,
            eth(
                0x0800,
                &ipv4(
                    V4 {
                        proto: 41,
                        ..V4::default()
                    },
                    &v6,
                ),
            ),
        ),
        ("4in6", 1, eth(0x86dd, &ipv6(4, &v4, None))),
        ("6in6", 101, ipv6(41, &v6, None)),
        (
            "ipip_outer_cuts_inner",
            1,
            eth(
                0x0800,
                &ipv4(
                    V4 {
                        proto: 4,
                        total: Some(20 + 30),
                        ..V4::default()
                    },
                    &v4,
                ),
            ),
        ),
        (
            "ipip_empty",
            1,
            eth(
                0x0800,
                &ipv4(
                    V4 {
                        proto: 4,
                        ..V4::default()
                    },
                    &[],
                ),
            ),
        ),
    ];
    // tunnels nested 4 deep decode; 5 deep do not
    let mut inner = v4.clone();
    for _ in 0..4 {
        inner = ipv4(
            V4 {
                proto: 4,
                ..V4::default()
            },
            &inner,
        );
    }
    c.push(("ipip_depth_4", 101, inner.clone()));
    c.push((
        "ipip_depth_5",
        101,
        ipv4(
            V4 {
                proto: 4,
                ..V4::default()
            },
            &inner,
        ),
    ));
    c
}

/// Sequences of IPv4 fragments through one decoder each (the normal cases: Python's answers).
fn fragment_cases() -> Vec<(&'static str, Vec<Vec<u8>>)> {
    let payload: Vec<u8> = (0..64u8).collect();
    let seg = tcp(&[], &payload); // 84 bytes
    let frag = |off8: u16, more: bool, bytes: &[u8], opts: Vec<u8>, id: u16| {
        eth(
            0x0800,
            &ipv4(
                V4 {
                    id,
                    frag: off8 | if more { 0x2000 } else { 0 },
                    options: opts,
                    ..V4::default()
                },
                bytes,
            ),
        )
    };
    let three = |id: u16| {
        vec![
            frag(0, true, &seg[..32], vec![], id),
            frag(4, true, &seg[32..64], vec![], id),
            frag(8, false, &seg[64..], vec![], id),
        ]
    };
    let t = three(7);
    let u = three(8);
    let mut v = vec![
        ("in_order", t.clone()),
        ("reversed", vec![t[2].clone(), t[1].clone(), t[0].clone()]),
        (
            "middle_first",
            vec![t[1].clone(), t[0].clone(), t[2].clone()],
        ),
        ("last_first", vec![t[2].clone(), t[0].clone(), t[1].clone()]),
        (
            "duplicate",
            vec![
                t[0].clone(),
                t[0].clone(),
                t[1].clone(),
                t[1].clone(),
                t[2].clone(),
            ],
        ),
        (
            "duplicate_after_completion",
            vec![t[0].clone(), t[1].clone(), t[2].clone(), t[1].clone()],
        ),
        (
            "interleaved",
            vec![
                t[0].clone(),
                u[1].clone(),
                t[1].clone(),
                u[0].clone(),
                u[2].clone(),
                t[2].clone(),
            ],
        ),
        (
            "overlap_same_bytes",
            vec![
                frag(0, true, &seg[..48], vec![], 9),
                frag(4, true, &seg[32..72], vec![], 9),
                frag(8, false, &seg[64..], vec![], 9),
            ],
        ),
        (
            "contained_same_bytes",
            vec![
                frag(0, true, &seg[..80], vec![], 9),
                frag(4, true, &seg[32..48], vec![], 9),
                frag(8, false, &seg[64..], vec![], 9),
            ],
        ),
        (
            "first_with_options",
            vec![
                frag(0, true, &seg[..40], vec![0x94, 4, 0, 0], 10),
                frag(5, false, &seg[40..], vec![], 10),
            ],
        ),
        ("missing_middle", vec![t[0].clone(), t[2].clone()]),
        ("missing_first", vec![t[1].clone(), t[2].clone()]),
        (
            "two_fragments",
            vec![
                frag(0, true, &seg[..8], vec![], 11),
                frag(1, false, &seg[8..], vec![], 11),
            ],
        ),
        (
            "udp",
            vec![
                eth(
                    0x0800,
                    &ipv4(
                        V4 {
                            proto: 17,
                            id: 12,
                            frag: 0x2000,
                            ..V4::default()
                        },
                        &[0; 16],
                    ),
                ),
                eth(
                    0x0800,
                    &ipv4(
                        V4 {
                            proto: 17,
                            id: 12,
                            frag: 2,
                            ..V4::default()
                        },
                        &[0; 4],
                    ),
                ),
            ],
        ),
        ("outer_fragmented_ipip", {
            let inner = v4tcp(b"tunnelled");
            vec![
                eth(
                    0x0800,
                    &ipv4(
                        V4 {
                            proto: 4,
                            id: 13,
                            frag: 0x2000,
                            ..V4::default()
                        },
                        &inner[..24],
                    ),
                ),
                eth(
                    0x0800,
                    &ipv4(
                        V4 {
                            proto: 4,
                            id: 13,
                            frag: 3,
                            ..V4::default()
                        },
                        &inner[24..],
                    ),
                ),
            ]
        }),
        ("inner_fragmented_ipip", {
            vec![
                eth(
                    0x0800,
                    &ipv4(
                        V4 {
                            proto: 4,
                            src: [9, 9, 9, 9],
                            id: 99,
                            ..V4::default()
                        },
                        &ipv4(
                            V4 {
                                id: 14,
                                frag: 0x2000,
                                ..V4::default()
                            },
                            &seg[..40],
                        ),
                    ),
                ),
                eth(
                    0x0800,
                    &ipv4(
                        V4 {
                            proto: 4,
                            src: [9, 9, 9, 9],
                            id: 98,
                            ..V4::default()
                        },
                        &ipv4(
                            V4 {
                                id: 14,
                                frag: 5,
                                ..V4::default()
                            },
                            &seg[40..],
                        ),
                    ),
                ),
            ]
        }),
        ("fragmented_twice", {
            // an IP-in-IP datagram fragmented, whose inner datagram is a fragment too
            let inner0 = ipv4(
                V4 {
                    id: 15,
                    frag: 0x2000,
                    ..V4::default()
                },
                &seg[..40],
            );
            let inner1 = ipv4(
                V4 {
                    id: 15,
                    frag: 5,
                    ..V4::default()
                },
                &seg[40..],
            );
            vec![
                eth(
                    0x0800,
                    &ipv4(
                        V4 {
                            proto: 4,
                            id: 16,
                            frag: 0x2000,
                            ..V4::default()
                        },
                        &inner0[..16],
                    ),
                ),
                eth(
                    0x0800,
                    &ipv4(
                        V4 {
                            proto: 4,
                            id: 16,
                            frag: 2,
                            ..V4::default()
                        },
                        &inner0[16..],
                    ),
                ),
                eth(
                    0x0800,
                    &ipv4(
                        V4 {
                            proto: 4,
                            id: 17,
                            ..V4::default()
                        },
                        &inner1,
                    ),
                ),
            ]
        }),
        (
            "snaplen_cut_fragment",
            vec![frag(0, true, &seg[..32], vec![], 18), {
                let mut f = frag(4, false, &seg[32..], vec![], 18);
                f.truncate(f.len() - 10);
                f
            }],
        ),
        (
            "empty_fragment",
            vec![
                frag(0, true, &[], vec![], 19),
                frag(0, true, &seg[..40], vec![], 19),
                frag(5, false, &seg[40..], vec![], 19),
            ],
        ),
    ];
    // a TCP segment split in 8-byte pieces, sent in a shuffled order with repeats
    let mut pieces = Vec::new();
    for (i, chunk) in seg.chunks(8).enumerate() {
        pieces.push(frag(i as u16, (i + 1) * 8 < seg.len(), chunk, vec![], 20));
    }
    let order = [5usize, 0, 10, 3, 3, 7, 1, 9, 2, 8, 4, 6, 0];
    v.push((
        "shuffled_pieces",
        order.iter().map(|&i| pieces[i].clone()).collect(),
    ));
    v
}

/// IPv6 addresses for `ip_to_string`: runs of zeros everywhere, ties, IPv4-compatible and
/// IPv4-mapped forms, and their near misses.
fn addresses() -> Vec<Vec<u8>> {
    let w = |ws: [u16; 8]| ws.iter().flat_map(|x| x.to_be_bytes()).collect::<Vec<u8>>();
    let mut v = vec![
        vec![0, 0, 0, 0],
        vec![255, 255, 255, 255],
        vec![10, 0, 0, 1],
        w([0; 8]),
        w([0, 0, 0, 0, 0, 0, 0, 1]),
        w([1, 0, 0, 0, 0, 0, 0, 0]),
        w([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]),
        w([0x2001, 0xdb8, 0, 1, 0, 0, 0, 1]),
        w([0x2001, 0xdb8, 0, 0, 1, 0, 0, 1]),
        w([0x2001, 0, 1, 0, 1, 0, 1, 0]),
        w([0x2001, 0xdb8, 1, 1, 1, 1, 1, 1]),
        w([0xfe80, 0, 0, 0, 0x211, 0x22ff, 0xfe33, 0x4455]),
        w([0, 0, 0, 0, 0, 0xffff, 0x0a00, 0x0001]),
        w([0, 0, 0, 0, 0, 0, 0x0a00, 0x0001]),
        w([0, 0, 0, 0, 0, 0, 0, 0x0a00]),
        w([0, 0, 0, 0, 0, 0xfffe, 0x0a00, 0x0001]),
        w([0, 0, 0, 0, 0xffff, 0, 0x0a00, 0x0001]),
        w([0, 0, 0, 0, 0, 0xffff, 0, 0]),
        w([0, 0, 0, 0, 0, 0xffff, 0, 1]),
        w([0, 0, 0, 0, 0, 0, 0, 0xffff]),
        w([0, 0, 0, 0, 0, 0, 1, 0]),
        w([1, 0, 0, 0, 0, 0, 0, 1]),
        w([0, 1, 0, 0, 0, 0, 0, 0]),
        w([0xffff; 8]),
        w([0, 0, 1, 0, 0, 0, 1, 0]),
        w([0, 0, 0, 1, 0, 0, 0, 0]),
        w([0x64, 0xff9b, 0, 0, 0, 0, 0xc000, 0x0221]),
    ];
    // a seeded spread of addresses with many zero words
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..200 {
        let mut ws = [0u16; 8];
        for wd in &mut ws {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *wd = if x.is_multiple_of(3) {
                (x >> 20) as u16
            } else {
                0
            };
        }
        if x.is_multiple_of(5) {
            ws[5] = 0xffff;
        }
        v.push(w(ws));
    }
    v
}

fn summary(d: &mut LinkDecoder, lt: u32, frame: &[u8]) -> String {
    let before = d.skipped.clone();
    let out = d.decode(lt, frame).map(|x| {
        format!(
            "tcp {} {} l4={} end={} len={} seg={}",
            hex::encode(x.src),
            hex::encode(x.dst),
            x.l4,
            x.end,
            x.buf.len(),
            hex::encode(&x.buf[x.l4..x.end])
        )
    });
    if let Some(s) = out {
        return s;
    }
    let grew: Vec<&String> = d
        .skipped
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(v))
        .map(|(k, _)| k)
        .collect();
    assert!(grew.len() <= 1, "one reason per skipped frame: {grew:?}");
    // a fragment that leaves its datagram incomplete is not counted
    grew.first()
        .map_or("pending".to_string(), |r| format!("skip {r}"))
}

fn counts(m: &BTreeMap<String, u64>) -> String {
    m.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

#[test]
#[ignore]
fn dump() {
    let dir = std::path::PathBuf::from(std::env::var("R1_DUMP").expect("R1_DUMP=DIR"));
    std::fs::create_dir_all(&dir).unwrap();
    let frames: Vec<String> = cases()
        .iter()
        .map(|(n, lt, f)| format!("{n}\t{lt}\t{}", hex::encode(f)))
        .collect();
    std::fs::write(dir.join("frames"), frames.join("\n")).unwrap();
    let seqs: Vec<String> = fragment_cases()
        .iter()
        .map(|(n, fs)| {
            format!(
                "{n}\t{}",
                fs.iter().map(hex::encode).collect::<Vec<_>>().join(",")
            )
        })
        .collect();
    std::fs::write(dir.join("fragments"), seqs.join("\n")).unwrap();
    let addrs: Vec<String> = addresses().iter().map(hex::encode).collect();
    std::fs::write(dir.join("addresses"), addrs.join("\n")).unwrap();
}

// Printed by this script from Python's decoder, over the `dump` files:
//
// ```python
// import sys
// from pathlib import Path
// from collections import Counter
// from inspector.link import LinkDecoder, ip_to_str
// d = Path(sys.argv[1])
// def summ(dec, lt, frame):
//     before = Counter(dec.skipped)
//     r = dec.decode(lt, frame)
//     if r is not None:
//         src, dst, buf, t, end = r
//         return f"tcp {src.hex()} {dst.hex()} l4={t} end={end} len={len(buf)} seg={buf[t:end].hex()}"
//     grew = [k for k in dec.skipped if dec.skipped[k] != before.get(k)]
//     assert len(grew) <= 1
//     return f"skip {grew[0]}" if grew else "pending"
// print("const FRAMES: &[(&str, &str)] = &[")
// for line in (d / "frames").read_text().splitlines():
//     n, lt, h = line.split("\t")
//     print(f'    ("{n}", "{summ(LinkDecoder(), int(lt), bytes.fromhex(h))}"),')
// print("];\n\nconst FRAGMENTS: &[(&str, &str)] = &[")
// for line in (d / "fragments").read_text().splitlines():
//     n, hs = line.split("\t")
//     dec = LinkDecoder()
//     parts = [summ(dec, 1, bytes.fromhex(h)) for h in hs.split(",")]
//     counts = ",".join(f"{k}={v}" for k, v in sorted(dec.skipped.items()))
//     print(f'    ("{n}", "{" | ".join(parts)} || {counts}"),')
// print("];\n\nconst ADDRESSES: &[&str] = &[")
// for h in (d / "addresses").read_text().splitlines():
//     print(f'    "{ip_to_str(bytes.fromhex(h))}",')
// print("];")
// ```

const FRAMES: &[(&str, &str)] = &[
    ("eth_v4_tcp", "tcp 0a000001 c0a807c8 l4=34 end=59 len=59 seg=c73801bb00000001000000005018ffff0000000068656c6c6f"),
    ("eth_v4_padding", "tcp 0a000001 c0a807c8 l4=34 end=59 len=71 seg=c73801bb00000001000000005018ffff0000000068656c6c6f"),
    ("eth_v4_options", "tcp 0a000001 c0a807c8 l4=38 end=63 len=63 seg=c73801bb00000001000000005018ffff0000000068656c6c6f"),
    ("eth_v4_options_40", "tcp 0a000001 c0a807c8 l4=74 end=99 len=99 seg=c73801bb00000001000000005018ffff0000000068656c6c6f"),
    ("eth_v4_tcp_options", "tcp 0a000001 c0a807c8 l4=34 end=59 len=59 seg=c73801bb00000001000000006018ffff00000000020405b478"),
    ("eth_v4_udp", "skip not_tcp"),
    ("eth_v4_icmp", "skip not_tcp"),
    ("eth_v4_ihl_4", "skip ipv4_bad_ihl"),
    ("eth_v4_total_below_ihl", "skip ipv4_bad_total_length"),
    ("eth_v4_total_zero_tso", "tcp 0a000001 c0a807c8 l4=34 end=59 len=59 seg=c73801bb00000001000000005018ffff0000000068656c6c6f"),
    ("eth_v4_total_past_frame", "tcp 0a000001 c0a807c8 l4=34 end=59 len=59 seg=c73801bb00000001000000005018ffff0000000068656c6c6f"),
    ("eth_v4_total_cuts_tcp", "tcp 0a000001 c0a807c8 l4=34 end=44 len=59 seg=c73801bb000000010000"),
    ("eth_v4_19_bytes", "skip truncated_ip"),
    ("eth_v4_ihl_past_end", "skip ipv4_bad_total_length"),
    ("eth_v4_df_mf_reserved", "tcp 0a000001 c0a807c8 l4=34 end=59 len=59 seg=c73801bb00000001000000005018ffff0000000068656c6c6f"),
    ("eth_13_bytes", "skip short_frame"),
    ("eth_14_bytes", "skip short_frame"),
    ("eth_arp", "skip not_ip"),
    ("eth_vlan", "tcp 0a000001 c0a807c8 l4=38 end=63 len=63 seg=c73801bb00000001000000005018ffff0000000068656c6c6f"),
    ("eth_qinq", "tcp 20010db8000000000000000000000001 fe80000000000000021122fffe334455 l4=62 end=87 len=87 seg=c73801bb00000001000000005018ffff0000000068656c6c6f"),
    ("eth_4_tags", "tcp 0a000001 c0a807c8 l4=50 end=75 len=75 seg=c73801bb00000001000000005018ffff0000000068656c6c6f"),
    ("eth_5_tags", "skip not_ip"),
    ("eth_vlan_cut", "skip short_frame"),
    ("eth_v6_tcp", "tcp 20010db8000000000000000000000001 fe80000000000000021122fffe334455 l4=54 end=79 len=79 seg=c73801bb00000001000000005018ffff0000000068656c6c6f"),
    ("eth_v6_padding", "tcp 20010db8000000000000000000000001 fe80000000000000021122fffe334455 l4=54 end=79 len=85 seg=c73801bb00000001000000005018ffff0000000068656c6c6f"),
    ("eth_v6_hbh_dst_routing", "tcp 20010db8000000000000000000000001 fe80000000000000021122fffe334455 l4=86 end=111 len=111 seg=c73801bb00000001000000005018ffff0000000068656c6c6f"),
    ("eth_v6_ah", "tcp 20010db8000000000000000000000001 fe80000000000000021122fffe334455 l4=78 end=103 len=103 seg=c73801bb00000001000000005018ffff0000000068656c6c6f"),
    ("eth_v6_mobility_hip_shim", "tcp 20010db8000000000000000000000001 fe80000000000000021122fffe334455 l4=94 end=119 len=119 seg=c73801bb00000001000000005018ffff0000000068656c6c6f"),
    ("eth_v6_atomic_fragment", "tcp 20010db8000000000000000000000001 fe80000000000000021122fffe334455 l4=62 end=87 len=87 seg=c73801bb00000001000000005018ffff0000000068656c6c6f"),
    ("eth_v6_fragment_first", "skip ipv6_fragment"),
    ("eth_v6_fragment_later", "skip ipv6_fragment"),
    ("eth_v6_17_ext", "skip ipv6_bad_extension_headers"),
    ("eth_v6_16_ext", "tcp 20010db8000000000000000000000001 fe80000000000000021122fffe334455 l4=182 end=207 len=207 seg=c73801bb00000001000000005018ffff0000000068656c6c6f"),
    ("eth_v6_ext_past_end", "skip ipv6_bad_extension_headers"),
    ("eth_v6_ext_len_past_end", "skip ipv6_bad_extension_headers"),
    ("eth_v6_plen_zero", "tcp 20010db8000000000000000000000001 fe80000000000000021122fffe334455 l4=54 end=79 len=79 seg=c73801bb00000001000000005018ffff0000000068656c6c6f"),
    ("eth_v6_plen_past_frame", "tcp 20010db8000000000000000000000001 fe80000000000000021122fffe334455 l4=54 end=79 len=79 seg=c73801bb00000001000000005018ffff0000000068656c6c6f"),
    ("eth_v6_39_bytes", "skip truncated_ip"),
    ("eth_v6_udp", "skip not_tcp"),
    ("eth_v6_no_next", "skip not_tcp"),
    ("eth_mpls_1", "tcp 0a000001 c0a807c8 l4=38 end=63 len=63 seg=c73801bb00000001000000005018ffff0000000068656c6c6f"),
    ("eth_mpls_3_v6", "tcp 20010db8000000000000000000000001 fe80000000000000021122fffe334455 l4=66 end=91 len=91 seg=c73801bb00000001000000005018ffff0000000068656c6c6f"),
    ("eth_mpls_8", "tcp 0a000001 c0a807c8 l4=66 end=91 len=91 seg=c73801bb00000001000000005018ffff0000000068656c6c6f"),
    ("eth_mpls_9", "skip bad_mpls"),
    ("eth_mpls_no_bottom", "skip bad_mpls"),
    ("eth_mpls_pseudowire", "skip not_ip"),
    ("eth_pppoe_v4_padding", "tcp 0a000001 c0a807c8 l4=42 end=67 len=67 seg=c73801bb00000001000000005018ffff0000000068656c6c6f"),
    ("eth_pppoe_v6", "tcp 20010db8000000000000000000000001 fe80000000000000021122fffe334455 l4=62 end=87 len=87 seg=c73801bb00000001000000005018ffff0000000068656c6c6f"),
    ("eth_pppoe_lcp", "skip not_ip"),
    ("eth_pppoe_short", "skip short_frame"),
    ("eth_pppoe_len_cuts_ip", "tcp 0a000001 c0a807c8 l4=42 end=50 len=50 seg=c73801bb00000001"),
    ("eth_pppoe_len_zero", "skip short_frame"),
    ("eth_pppoe_discovery", "skip not_ip"),
    ("sll_v4", "tcp 0a000001 c0a807c8 l4=36 end=61 len=61 seg=c73801bb00000001000000005018ffff0000000068656c6c6f"),
    ("sll_v6", "tcp 20010db8000000000000000000000001 fe80000000000000021122fffe334455 l4=56 end=81 len=81 seg=c73801bb00000001000000005018ffff0000000068656c6c6f"),
    ("sll_vlan", "skip not_ip"),
    ("sll_15_bytes", "skip short_frame"),
    ("sll_arp", "skip not_ip"),
    ("sll_mpls", "tcp 0a000001 c0a807c8 l4=40 end=65 len=65 seg=c73801bb00000001000000005018ffff0000000068656c6c6f"),
    ("sll2_v4", "tcp 0a000001 c0a807c8 l4=40 end=65 len=65 seg=c73801bb00000001000000005018ffff0000000068656c6c6f"),
    ("sll2_v6", "tcp 20010db8000000000000000000000001 fe80000000000000021122fffe334455 l4=60 end=85 len=85 seg=c73801bb00000001000000005018ffff0000000068656c6c6f"),
    ("sll2_19_bytes", "skip short_frame"),
    ("raw_101_v4", "tcp 0a000001 c0a807c8 l4=20 end=45 len=45 seg=c73801bb00000001000000005018ffff0000000068656c6c6f"),
    ("raw_101_v6", "tcp 20010db8000000000000000000000001 fe80000000000000021122fffe334455 l4=40 end=65 len=65 seg=c73801bb00000001000000005018ffff0000000068656c6c6f"),
    ("raw_12", "tcp 0a000001 c0a807c8 l4=20 end=45 len=45 seg=c73801bb00000001000000005018ffff0000000068656c6c6f"),
    ("raw_14", "tcp 20010db8000000000000000000000001 fe80000000000000021122fffe334455 l4=40 end=65 len=65 seg=c73801bb00000001000000005018ffff0000000068656c6c6f"),
    ("raw_228", "tcp 0a000001 c0a807c8 l4=20 end=45 len=45 seg=c73801bb00000001000000005018ffff0000000068656c6c6f"),
    ("raw_229", "tcp 20010db8000000000000000000000001 fe80000000000000021122fffe334455 l4=40 end=65 len=65 seg=c73801bb00000001000000005018ffff0000000068656c6c6f"),
    ("raw_version_5", "skip not_ip"),
    ("raw_empty", "skip short_frame"),
    ("null_v4", "tcp 0a000001 c0a807c8 l4=24 end=49 len=49 seg=c73801bb00000001000000005018ffff0000000068656c6c6f"),
    ("null_v6_24", "tcp 20010db8000000000000000000000001 fe80000000000000021122fffe334455 l4=44 end=69 len=69 seg=c73801bb00000001000000005018ffff0000000068656c6c6f"),
    ("null_v6_30", "tcp 20010db8000000000000000000000001 fe80000000000000021122fffe334455 l4=44 end=69 len=69 seg=c73801bb00000001000000005018ffff0000000068656c6c6f"),
    ("loop_v4", "tcp 0a000001 c0a807c8 l4=24 end=49 len=49 seg=c73801bb00000001000000005018ffff0000000068656c6c6f"),
    ("null_3_bytes", "skip short_frame"),
    ("null_4_bytes", "skip short_frame"),
    ("unsupported_147", "skip unsupported_linktype_147"),
    ("unsupported_105", "skip unsupported_linktype_105"),
    ("ipip", "tcp 0a000001 c0a807c8 l4=54 end=79 len=79 seg=c73801bb00000001000000005018ffff0000000068656c6c6f"),
    ("6in4", "tcp 20010db8000000000000000000000001 fe80000000000000021122fffe334455 l4=74 end=99 len=99 seg=c73801bb00000001000000005018ffff0000000068656c6c6f"),
    ("4in6", "tcp 0a000001 c0a807c8 l4=74 end=99 len=99 seg=c73801bb00000001000000005018ffff0000000068656c6c6f"),
    ("6in6", "tcp 20010db8000000000000000000000001 fe80000000000000021122fffe334455 l4=80 end=105 len=105 seg=c73801bb00000001000000005018ffff0000000068656c6c6f"),
    ("ipip_outer_cuts_inner", "tcp 0a000001 c0a807c8 l4=54 end=64 len=64 seg=c73801bb000000010000"),
    ("ipip_empty", "skip short_frame"),
    ("ipip_depth_4", "tcp 0a000001 c0a807c8 l4=100 end=125 len=125 seg=c73801bb00000001000000005018ffff0000000068656c6c6f"),
    ("ipip_depth_5", "skip not_tcp"),
];

const FRAGMENTS: &[(&str, &str)] = &[
    ("in_order", "pending | pending | tcp 0a000001 c0a807c8 l4=20 end=104 len=104 seg=c73801bb00000001000000005018ffff00000000000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f || "),
    ("reversed", "pending | pending | tcp 0a000001 c0a807c8 l4=20 end=104 len=104 seg=c73801bb00000001000000005018ffff00000000000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f || "),
    ("middle_first", "pending | pending | tcp 0a000001 c0a807c8 l4=20 end=104 len=104 seg=c73801bb00000001000000005018ffff00000000000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f || "),
    ("last_first", "pending | pending | tcp 0a000001 c0a807c8 l4=20 end=104 len=104 seg=c73801bb00000001000000005018ffff00000000000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f || "),
    ("duplicate", "pending | pending | pending | pending | tcp 0a000001 c0a807c8 l4=20 end=104 len=104 seg=c73801bb00000001000000005018ffff00000000000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f || "),
    ("duplicate_after_completion", "pending | pending | tcp 0a000001 c0a807c8 l4=20 end=104 len=104 seg=c73801bb00000001000000005018ffff00000000000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f | pending || "),
    ("interleaved", "pending | pending | pending | pending | tcp 0a000001 c0a807c8 l4=20 end=104 len=104 seg=c73801bb00000001000000005018ffff00000000000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f | tcp 0a000001 c0a807c8 l4=20 end=104 len=104 seg=c73801bb00000001000000005018ffff00000000000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f || "),
    ("overlap_same_bytes", "pending | pending | tcp 0a000001 c0a807c8 l4=20 end=104 len=104 seg=c73801bb00000001000000005018ffff00000000000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f || "),
    ("contained_same_bytes", "pending | pending | tcp 0a000001 c0a807c8 l4=20 end=104 len=104 seg=c73801bb00000001000000005018ffff00000000000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f || "),
    ("first_with_options", "pending | tcp 0a000001 c0a807c8 l4=24 end=108 len=108 seg=c73801bb00000001000000005018ffff00000000000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f || "),
    ("missing_middle", "pending | pending || "),
    ("missing_first", "pending | pending || "),
    ("two_fragments", "pending | tcp 0a000001 c0a807c8 l4=20 end=104 len=104 seg=c73801bb00000001000000005018ffff00000000000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f || "),
    ("udp", "pending | skip not_tcp || not_tcp=1"),
    ("outer_fragmented_ipip", "pending | tcp 0a000001 c0a807c8 l4=40 end=69 len=69 seg=c73801bb00000001000000005018ffff0000000074756e6e656c6c6564 || "),
    ("inner_fragmented_ipip", "pending | tcp 0a000001 c0a807c8 l4=20 end=104 len=104 seg=c73801bb00000001000000005018ffff00000000000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f || "),
    ("fragmented_twice", "pending | pending | tcp 0a000001 c0a807c8 l4=20 end=104 len=104 seg=c73801bb00000001000000005018ffff00000000000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f || "),
    ("snaplen_cut_fragment", "pending | tcp 0a000001 c0a807c8 l4=20 end=94 len=94 seg=c73801bb00000001000000005018ffff00000000000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435 || "),
    ("empty_fragment", "pending | pending | tcp 0a000001 c0a807c8 l4=20 end=104 len=104 seg=c73801bb00000001000000005018ffff00000000000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f || "),
    ("shuffled_pieces", "pending | pending | pending | pending | pending | pending | pending | pending | pending | pending | pending | tcp 0a000001 c0a807c8 l4=20 end=104 len=104 seg=c73801bb00000001000000005018ffff00000000000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f | pending || "),
];

const ADDRESSES: &[&str] = &[
    "0.0.0.0",
    "255.255.255.255",
    "10.0.0.1",
    "::",
    "::1",
    "1::",
    "2001:db8::1",
    "2001:db8:0:1::1",
    "2001:db8::1:0:0:1",
    "2001:0:1:0:1:0:1:0",
    "2001:db8:1:1:1:1:1:1",
    "fe80::211:22ff:fe33:4455",
    "::ffff:10.0.0.1",
    "::10.0.0.1",
    "::a00",
    "::fffe:a00:1",
    "::ffff:0:a00:1",
    "::ffff:0.0.0.0",
    "::ffff:0.0.0.1",
    "::ffff",
    "::0.1.0.0",
    "1::1",
    "0:1::",
    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
    "0:0:1::1:0",
    "0:0:0:1::",
    "64:ff9b::c000:221",
    "e0bf:9026:1e59:c368:0:ffff:0:e1af",
    "::",
    "::76d0:0:0:826",
    "2ed7::",
    "::c0f:0:de71:0:0",
    "::8e0d:b2f9:19a4:4c47:0",
    "841e:0:e1ea:ee02::e2a2:0",
    "0:b2af::",
    "6630:6322:0:4d26:0:578f::",
    "0:287d::7188:0",
    "::8c81:0:0",
    "9868:d239::",
    "dbb0::81f0:f61:ffff:0:0",
    "::ebb4:0:0:a393:6f",
    "::d5e7:0:0:4446",
    "0:abe6:f060::ffff:0:0",
    "efee:f073:0:e424:0:a913:0:489",
    "e235:5bda:7eed::ffff:0:0",
    "6e7e:c32b::",
    "0:755c:2753::47bb:ee7b:0",
    "::17.11.0.0",
    "::1fa7:0:ffff:0:0",
    "3a9b:7db6:7673:578c:0:ebfe:0:8097",
    "::941e:167c:0:0:4d98",
    "91b:0:b339:acaa:67d0:99eb::",
    "9f25:cd39::1c0b:d96a:0:0",
    "::be99:0:c130",
    "0:92f3::",
    "781c:3207::9576",
    "::79e1:b77:0:ffff:0:bf52",
    "::9ef:0:0",
    "dd05::",
    "fd8c:8cec:40f9:e9e0:0:ffff:e400:4097",
    "0:e474::ab64:a668",
    "0:60b3:0:5e53:aab::",
    "0:1ff7:6d48:b529::85cb",
    "c8c3:6a3b::2e88",
    "::83a5:0:13b3:0:d70f",
    "::b9ba:0:0:e194:de4a",
    "::2d39:0:0",
    "5bb3::2795:0:5579:0:0",
    "cf1:413e::ffff:0:0",
    "::18c4",
    "0:cef::",
    "e880::5be7:29ca:d3cd:0:dbdc",
    "::937e:0:0:b9b:0:0",
    "::104f:5eef:0:0",
    "::b95c:0:a601:0",
    "9936:0:5cb6:3602:c9c2:0:b982:0",
    "0:0:7a15:5f20:ceed::",
    "6587::255a:0:ffff:0:e60",
    "::ffff:163.209.0.0",
    "1cb6:8d93::cb9f:0",
    "::8c85:0:9db6:0",
    "::fdc0:0:919f:0:0",
    "::453e:0:0:1a6d:0",
    "dcb6:0:eda3:0:3e93:ffff:0:fe32",
    "::",
    "::3404:120b:0:0:c036:0",
    "0:63f1:56d9::ffff:8356:bbce",
    "3da3:dc7e::5a64:ffff:0:ead1",
    "3e28::5711:b7b5:0:61c3",
    "::ffff:0.0.0.0",
    "::",
    "d9b8:60ef:1d48:0:482c::",
    "::d00e:0:5272:ddf2:0:0",
    "edeb:0:0:c0f:b35e::",
    "::85cf:0:3217:ffff:0:0",
    "b2db:0:de08:983e:0:a927::",
    "ba80:4e57:21c4::21a6:0:0",
    "0:8249::33e5:681e:50c7",
    "917e:316d:0:ceb6:bac2::a5be",
    "0:0:d20::",
    "::",
    "e278::5f2d:bf3:ada7:0:0",
    "::b538:9091:0",
    "0:87e8:342a::8a84:e0ad",
    "99c:60fa:8474:0:c597:0:8ea3:0",
    "0:4df9::9f03",
    "af2c:65ab::9ec7:0:0",
    "0:0:c7a7:31c9:4c02::",
    "::69d7:fe10:0:20ac",
    "3424::ffff:0:0",
    "0:f8e8::a66d:bbdb:21",
    "0:0:2d8a::6db7:0",
    "ebb8:9858::",
    "::6a85:0:1026:0:939e:0",
    "::b3a2:3621:0:0",
    "af3b:1331::16fd",
    "cbea:0:7bc:0:7c62:ffff:0:8f01",
    "afb:e7fa::",
    "53f9::1a0c",
    "d95f::",
    "::79d9:0:0:5e79:0:0",
    "::28.73.0.0",
    "5089:0:c29e:1539:bfe6:6731:8b4c:5353",
    "0:c96c::ae21:0",
    "0:901a::",
    "0:4f9::82c2:0:0:6085",
    "67ef::daa6:304c:0",
    "0:4fd7::b7e4",
    "5e41:b208:0:7e74:adb8::",
    "0:0:d5fb::",
    "::",
    "::460f:0:0:a4e7:0:2640",
    "0:0:1bc:e4fb::d799",
    "::ffff:176.19.0.0",
    "36df:0:6411:0:61a4::",
    "::",
    "::",
    "::8f03:5ba6:0:97f2",
    "0:70a2::",
    "::399c:65bc:194b:0:abc4",
    "0:0:35cc::67d3:0",
    "a313:4a89:8690:ef58:a9f2:ffff:941b:0",
    "d53b:a8f6::6da7:7dae:0:c383",
    "9684::5372:0:0:0",
    "acf2:0:e0a3::",
    "7947::e1ea:ffff:0:0",
    "0:0:e38b:3be1::656e",
    "::a600:0:0:dcff:81cc:8b61",
    "::b6d7:6501:0:0",
    "5cd5:70a8:d48c:0:5afc::",
    "a038:9a55:0:d756:0:45f3::",
    "0:5bf2:58f9:0:39c1:ffff::",
    "d334::5612:707b:ffff:0:c58e",
    "7011::f158:a014",
    "::fd50:6cd:e939:0:f883:6d77",
    "e68a:0:0:6e78::",
    "192d:7bae:0:59c0:0:2a09::",
    "::",
    "4d45:0:0:5d98::",
    "9f0b:0:c7ef::ffff:0:0",
    "3caa:3f7c::",
    "::c5ee:0:b8d7:0:7346:0",
    "ef0c:0:2546::2169:0:0",
    "::88.168.0.0",
    "74dd::27ee",
    "0:0:4239::a72:0",
    "0:714f:0:0:359b::",
    "::13.92.0.0",
    "::4455:0:0:58b:0",
    "0:644e::474d:0:2dd4",
    "3378:0:291c::26f8",
    "::",
    "::19d:f2f7:dd75:3e15",
    "cc2c:7d34:0:0:7303::",
    "::",
    "::3329:0:fd12:ffff:0:9310",
    "::7db4:ffff:ba17:0",
    "b56d::e37b:0:a7ea:0:722c",
    "::ffff:80.168.0.0",
    "0:2d7a:624d:2fe3:5405:0:9a63:0",
    "3d22:4d2a:9721::",
    "3c0c::e8f1:a042:0:0",
    "::4f0:3016:0:1026",
    "::",
    "e968::3918:0",
    "::ffff:18.175.0.0",
    "0:97ab:0:6c4a:0:ffff:e0d9:e650",
    "0:da0d::",
    "0:bc3e:8536::4dd9",
    "0:a2da::427e:0:0",
    "::",
    "::ab46:0:ffff:0:0",
    "0:1862::",
    "1474:0:184::b6aa",
    "::fe9b:0:6a96:0",
    "e54b::cfe6:0:8a32:0:da57",
    "0:4353:3527::31b3",
    "0:6a74::7f06:5d35:0:0",
    "0:0:2503::",
    "::cb57:ffff:0:0",
    "802f:3710::ea6e:0",
    "0:570c:f043:4d4f:e0e8:ffff:0:a2c9",
    "fe12:de5b:2596::ffff:797b:0",
    "3ee9::ffff:0:0",
    "0:678a:0:6358:0:ffff:0:c9dd",
    "0:50be::abf3:b438",
    "::",
    "2ecf:1433::c0d7:0:3e0a:0",
    "0:c85f:be07:0:37de::51d4",
    "0:bb99::8007:8427:0:79be",
    "147a:0:cc06:456b:abf3::",
    "f91:0:34e0:513c::99a0:0",
    "::e45d:0:5f62:0:f51:bc45",
    "0:268e:6202:b4df:8bc0::",
    "7c72:a03f:9a64:24:f2a6:7232::",
    "::19.169.162.164",
    "::d358:0:0:afde:0",
    "::",
    "0:17cc::5ddd:0:b89d:0",
    "79:dab0:0:d7ea:f22a::",
    "0:475f::2109:ffff:1e07:0",
    "::16d9:0:3238:0:0",
    "557c::b5ea:0:0:0",
    "::1a82:0:0:0:dbbe",
    "a389::655f:0:add5",
    "af0a:0:0:4cb5:5157::",
    "7abc::",
];

#[test]
fn every_link_type_and_header_as_python() {
    let cases = cases();
    assert_eq!(cases.len(), FRAMES.len());
    for ((name, lt, frame), (ename, want)) in cases.iter().zip(FRAMES) {
        assert_eq!(name, ename);
        assert_eq!(
            summary(&mut LinkDecoder::new(), *lt, frame),
            *want,
            "{name}"
        );
    }
}

#[test]
fn fragments_reassemble_as_python() {
    let cases = fragment_cases();
    assert_eq!(cases.len(), FRAGMENTS.len());
    for ((name, frames), (ename, want)) in cases.iter().zip(FRAGMENTS) {
        assert_eq!(name, ename);
        let mut d = LinkDecoder::new();
        let parts: Vec<String> = frames.iter().map(|f| summary(&mut d, 1, f)).collect();
        let got = format!("{} || {}", parts.join(" | "), counts(&d.skipped));
        assert_eq!(got, *want, "{name}");
    }
}

#[test]
fn addresses_as_inet_ntop() {
    let addrs = addresses();
    assert_eq!(addrs.len(), ADDRESSES.len());
    for (raw, want) in addrs.iter().zip(ADDRESSES) {
        assert_eq!(ip_to_string(raw), *want, "{}", hex::encode(raw));
    }
}

/// A frame cut at every byte decodes or is skipped with a reason, never a panic, and what
/// decodes lies inside the frame.
#[test]
fn every_cut_of_every_frame() {
    let mut d = LinkDecoder::new();
    for (_, lt, frame) in cases() {
        for n in 0..=frame.len() {
            if let Some(x) = d.decode(lt, &frame[..n]) {
                assert!(x.l4 <= x.end && x.end <= x.buf.len() && x.buf.len() <= n);
                assert!(x.src.len() == 4 || x.src.len() == 16);
                assert_eq!(x.src.len(), x.dst.len());
            }
        }
    }
    assert!(d.skipped.values().sum::<u64>() > 1000);
}
