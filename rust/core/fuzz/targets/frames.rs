// Shared by the fuzz target bodies (each includes it): a fuzz input cut into records of a
// 2-byte little-endian length, one selector byte and that many bytes (the last one may be
// short). `tests/fuzz_support` builds seeds in this format.

/// The records of `data`: (selector, bytes).
#[allow(dead_code)]
pub fn frames(data: &[u8]) -> Vec<(u8, &[u8])> {
    let mut out = Vec::new();
    let mut i = 0;
    while i + 3 <= data.len() {
        let len = u16::from_le_bytes([data[i], data[i + 1]]) as usize;
        let sel = data[i + 2];
        let b = &data[i + 3..(i + 3 + len).min(data.len())];
        i += 3 + b.len();
        out.push((sel, b));
    }
    out
}
