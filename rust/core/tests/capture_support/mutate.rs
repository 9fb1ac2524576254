//! A seeded mutator for the fuzz-target tests (the same inputs every run).
#![allow(dead_code)]

pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        // xorshift64*
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const U32S: [u32; 12] = [
    0,
    1,
    3,
    12,
    0x7fff_ffff,
    0xffff_ffff,
    0x8000_0000,
    65_535,
    262_144,
    262_145,
    16 * 1024 * 1024 + 1024,
    16 * 1024 * 1024 + 1028,
];
const U8S: [u8; 8] = [0, 1, 0x7f, 0x80, 0xff, 0x45, 0x60, 0x20];

/// One to four random edits of `seed`.
pub fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let n = v.len();
        match rng.below(8) {
            0 if n > 0 => {
                let i = rng.below(n);
                v[i] ^= 1 << rng.below(8);
            }
            1 if n > 0 => {
                let i = rng.below(n);
                v[i] = U8S[rng.below(U8S.len())];
            }
            2 if n >= 4 => {
                let i = rng.below(n - 3) & !3;
                let x = U32S[rng.below(U32S.len())];
                let b = if rng.below(2) == 0 {
                    x.to_le_bytes()
                } else {
                    x.to_be_bytes()
                };
                v[i..i + 4].copy_from_slice(&b);
            }
            3 if n > 0 => {
                let i = rng.below(n);
                let len = 1 + rng.below((n - i).min(64));
                v.drain(i..i + len);
            }
            4 if n > 0 => {
                let i = rng.below(n);
                let len = 1 + rng.below((n - i).min(256));
                let piece = v[i..i + len].to_vec();
                let at = rng.below(n);
                v.splice(at..at, piece);
            }
            5 if n > 0 => v.truncate(rng.below(n)),
            6 => {
                let at = rng.below(n + 1);
                let k = 1 + rng.below(16);
                let junk: Vec<u8> = (0..k).map(|_| rng.next() as u8).collect();
                v.splice(at..at, junk);
            }
            _ if n > 1 => {
                let i = rng.below(n - 1);
                v[i + 1] = v[i];
            }
            _ => v.push(rng.next() as u8),
        }
    }
    v
}
