//! The link fuzz target (`rust/core/fuzz`) over a seeded mutation corpus of framed frames:
//! every link type, tunnels, IPv6 extension headers and IPv4 fragments (with small reassembly
//! bounds, so they are hit). No panic; what decodes lies inside its buffer.

mod capture_support;
mod link_support;

mod target_link {
    include!("../fuzz/targets/link.rs");
}

use capture_support::mutate::{mutate, Rng};
use link_support::*;
use target_link::fuzz_link;

/// Frames as the target reads them: 2-byte length, selector (link type index, clock step), bytes.
fn framed(frames: &[(u8, Vec<u8>)]) -> Vec<u8> {
    let mut v = Vec::new();
    for (sel, f) in frames {
        v.extend((f.len() as u16).to_le_bytes());
        v.push(*sel);
        v.extend(f);
    }
    v
}

fn seeds() -> Vec<Vec<u8>> {
    let seg = tcp(&[2, 4, 5, 0xb4], &[0x16, 3, 1, 0, 5, 1, 2, 3, 4, 5]);
    let v4 = ipv4(V4::default(), &seg);
    let v6 = ipv6(
        0,
        &[ext(51, 0), ah(44, 2), frag6(6, 0, false), seg.clone()].concat(),
        None,
    );
    let frag = |id: u16, off8: u16, more: bool, b: &[u8]| {
        eth(
            0x0800,
            &ipv4(
                V4 {
                    id,
                    frag: off8 | if more { 0x2000 } else { 0 },
                    ..V4::default()
                },
                b,
            ),
        )
    };
    vec![
        framed(&[
            (0x01, eth(0x0800, &v4)),
            (0x01, eth_tagged(&[0x88a8, 0x8100], 0x86dd, &v6)),
            (0x01, eth(0x8847, &mpls(2, true, &v4))),
            (0x01, eth(0x8864, &pppoe(0x0021, &v4, 6))),
            (0x06, sll(0x0800, &v4)),
            (0x09, sll2(0x86dd, &v6)),
            (
                0x04,
                ipv4(
                    V4 {
                        proto: 41,
                        ..V4::default()
                    },
                    &ipv6(6, &seg, None),
                ),
            ),
            (
                0x00,
                null(
                    2,
                    &ipv4(
                        V4 {
                            proto: 4,
                            ..V4::default()
                        },
                        &v4,
                    ),
                ),
            ),
        ]),
        framed(&[
            (0x11, frag(1, 0, true, &seg[..16])),
            (0x11, frag(2, 0, true, &seg[..8])),
            (0x11, frag(1, 2, false, &seg[16..])),
            (0x11, frag(2, 1, true, &seg[8..24])),
            (0x11, frag(2, 2, false, &seg[16..])),
            (0x51, frag(3, 3, false, &seg[24..])),
            (0x01, frag(4, 8189, false, &[0; 8])),
        ]),
    ]
}

#[test]
fn seeds_decode() {
    let s = seeds();
    assert_eq!(fuzz_link(&s[0]), 8);
    assert_eq!(fuzz_link(&s[1]), 2);
}

#[test]
fn mutated_frames_never_panic() {
    let mut rng = Rng(0x5eed_0002);
    let mut found = 0;
    for seed in seeds() {
        for _ in 0..iters(3000) {
            found += fuzz_link(&mutate(&mut rng, &seed));
        }
    }
    assert!(iters(3000) == 0 || found > 1000, "{found}");
}

/// `FUZZ_ITERS` (mutations per seed, `make fuzz-rust`), else `default`.
fn iters(default: usize) -> usize {
    std::env::var("FUZZ_ITERS").ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}
