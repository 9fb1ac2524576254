//! IPv4 fragment reassembly: linear in the fragments received, bounded (issue 14).
//!
//! Datagrams in progress are keyed by (source, destination, identification, protocol). Each
//! fragment's payload is copied once into its datagram's buffer, where no earlier fragment put
//! bytes (the first copy wins on overlap); the ranges received are a sorted list of disjoint
//! intervals. A datagram is whole when its last fragment (MF=0) and its first (offset 0, whose
//! header it keeps) are in and the intervals cover `[0, total)`.
//!
//! Bounds, each counted in the decoder's `skipped` when hit: at most `MAX_FRAG_DATAGRAMS`
//! datagrams in progress (the oldest is dropped: `ip_fragment_table_full`), at most
//! `MAX_FRAG_DATAGRAM_BYTES` bytes in a datagram, header included (`ip_fragment_too_large`), and
//! `MAX_FRAG_AGE` seconds of capture time from a datagram's first fragment
//! (`ip_fragment_expired`, as are datagrams still incomplete at the end). A fragment that leaves
//! its datagram incomplete counts as `ip_fragment_pending`, as in Python.

use std::collections::{BTreeMap, HashMap};

use super::bump;

/// Datagrams in progress at most.
pub const MAX_FRAG_DATAGRAMS: usize = 1024;
/// Bytes in a reassembled datagram at most, IPv4 header included.
pub const MAX_FRAG_DATAGRAM_BYTES: usize = 65_535;
/// Seconds of capture time a datagram may take to complete.
pub const MAX_FRAG_AGE: f64 = 30.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    addrs: [u8; 8],
    id: [u8; 2],
    proto: u8,
}

#[derive(Debug)]
struct Datagram {
    seq: u64,
    first_ts: f64,
    /// The payload bytes received, at their offsets (holes are zero).
    buf: Vec<u8>,
    /// Ranges of `buf` received: sorted, disjoint, not touching.
    have: Vec<(usize, usize)>,
    /// Payload length, from the last fragment (MF=0).
    total: Option<usize>,
    /// The first fragment's IPv4 header (empty until it is in).
    header: Vec<u8>,
}

impl Datagram {
    /// Copy `payload` at `at` where no bytes are yet, and record the range.
    fn insert(&mut self, at: usize, payload: &[u8]) {
        let (a, b) = (at, at + payload.len());
        if a == b {
            return;
        }
        if self.buf.len() < b {
            self.buf.resize(b, 0);
        }
        let first = self.have.partition_point(|&(_, e)| e < a);
        let mut j = first;
        let mut cur = a;
        let (mut lo, mut hi) = (a, b);
        while j < self.have.len() && self.have[j].0 <= b {
            let (s, e) = self.have[j];
            if s > cur {
                self.buf[cur..s].copy_from_slice(&payload[cur - a..s - a]);
            }
            cur = cur.max(e);
            lo = lo.min(s);
            hi = hi.max(e);
            j += 1;
        }
        if cur < b {
            self.buf[cur..b].copy_from_slice(&payload[cur - a..]);
        }
        self.have.splice(first..j, [(lo, hi)]);
    }

    fn complete(&self) -> Option<usize> {
        let total = self.total?;
        if self.header.is_empty() {
            return None;
        }
        match self.have.first() {
            Some(&(0, e)) if e >= total => Some(total),
            _ if total == 0 => Some(0),
            _ => None,
        }
    }
}

#[derive(Debug, Default)]
pub(super) struct Reassembler {
    table: HashMap<Key, Datagram>,
    /// Datagrams in progress by age of creation (seq -> key).
    order: BTreeMap<u64, Key>,
    seq: u64,
    /// The last datagram completed: its header (fragment fields cleared, total length set) and
    /// its payload.
    pub out: Vec<u8>,
}

impl Reassembler {
    pub fn len(&self) -> usize {
        self.table.len()
    }

    fn remove(&mut self, key: &Key) -> Option<Datagram> {
        let d = self.table.remove(key)?;
        self.order.remove(&d.seq);
        Some(d)
    }

    /// Add the fragment whose header is `data[off..off + ihl]` and payload
    /// `data[off + ihl..end]`, received at capture time `now`. True when it completed its
    /// datagram, which is then in `out`.
    pub fn add(
        &mut self,
        data: &[u8],
        off: usize,
        ihl: usize,
        end: usize,
        now: f64,
        skipped: &mut BTreeMap<String, u64>,
    ) -> bool {
        let more = data[off + 6] & 0x20 != 0;
        let foff = ((((data[off + 6] & 0x1F) as usize) << 8) | data[off + 7] as usize) * 8;
        let mut addrs = [0u8; 8];
        addrs.copy_from_slice(&data[off + 12..off + 20]);
        let key = Key { addrs, id: [data[off + 4], data[off + 5]], proto: data[off + 9] };

        // datagrams past their time, oldest first, then this fragment's own
        while let Some((_, &k)) = self.order.first_key_value() {
            if now - self.table[&k].first_ts > MAX_FRAG_AGE {
                self.remove(&k);
                bump(skipped, "ip_fragment_expired");
            } else {
                break;
            }
        }
        if self.table.get(&key).is_some_and(|d| now - d.first_ts > MAX_FRAG_AGE) {
            self.remove(&key);
            bump(skipped, "ip_fragment_expired");
        }
        if !self.table.contains_key(&key) {
            if self.table.len() >= MAX_FRAG_DATAGRAMS {
                if let Some((_, k)) = self.order.pop_first() {
                    self.table.remove(&k);
                    bump(skipped, "ip_fragment_table_full");
                }
            }
            self.seq += 1;
            self.order.insert(self.seq, key);
            self.table.insert(key, Datagram {
                seq: self.seq,
                first_ts: now,
                buf: Vec::new(),
                have: Vec::new(),
                total: None,
                header: Vec::new(),
            });
        }
        let payload = &data[off + ihl..end];
        if ihl + foff + payload.len() > MAX_FRAG_DATAGRAM_BYTES {
            bump(skipped, "ip_fragment_too_large");
            self.remove(&key);
            return false;
        }
        let Some(d) = self.table.get_mut(&key) else { return false };
        d.insert(foff, payload);
        if foff == 0 {
            d.header.clear();
            d.header.extend_from_slice(&data[off..off + ihl]);
        }
        if !more {
            d.total = Some(foff + payload.len());
        }
        let Some(total) = d.complete() else {
            bump(skipped, "ip_fragment_pending");
            return false;
        };
        let Some(d) = self.remove(&key) else { return false };
        let hl = d.header.len();
        if hl + total > MAX_FRAG_DATAGRAM_BYTES {
            bump(skipped, "ip_fragment_too_large");
            return false;
        }
        self.out.clear();
        self.out.extend_from_slice(&d.header);
        self.out[6] = 0;
        self.out[7] = 0;
        self.out[2..4].copy_from_slice(&((hl + total) as u16).to_be_bytes());
        self.out.extend_from_slice(&d.buf[..total]);
        true
    }

    /// The end of the capture: every datagram still in progress expires.
    pub fn finish(&mut self, skipped: &mut BTreeMap<String, u64>) {
        for _ in 0..self.table.len() {
            bump(skipped, "ip_fragment_expired");
        }
        self.table.clear();
        self.order.clear();
    }
}
