//! IPv4 fragment reassembly: linear in the fragments received, bounded (issue 14). A port of
//! `_Datagram` and `LinkDecoder._fragment` in `inspector/link.py`.
//!
//! Datagrams in progress are keyed by (source, destination, identification, protocol), oldest
//! first. Each datagram's buffer grows to the highest offset seen; a fragment fills only the
//! holes it covers (the first copy wins on overlap, each byte is copied once) and the intervals
//! it touches merge into one. The first fragment at offset 0 gives the header, the first with
//! MF=0 the payload length; bytes past that length are not part of the datagram. A datagram is
//! whole when one interval covers `[0, total)`.
//!
//! Bounds (`FragLimits`), each counted in the decoder's `skipped` when hit:
//! `max_datagrams` in progress (the oldest is evicted: `ip_fragment_table_full`), `max_bytes` per
//! datagram, IP header included (`ip_fragment_too_large`, for that fragment and every later one
//! of its datagram, which stays in the table as dead), and `timeout` seconds of capture time
//! from a datagram's first fragment (`ip_fragment_expired`, checked from the oldest when a
//! fragment arrives, and for every datagram still incomplete at `finish`). Dead datagrams are
//! not counted again when they leave the table. A fragment that leaves its datagram incomplete
//! is not counted.

use std::collections::{BTreeMap, HashMap};

use crate::link::bump;

/// Datagrams in progress at most (Python's `MAX_FRAG_DATAGRAMS`).
pub const MAX_FRAG_DATAGRAMS: usize = 1024;
/// Bytes in a reassembled datagram at most, IPv4 header included (`MAX_FRAG_BYTES`).
pub const MAX_FRAG_DATAGRAM_BYTES: usize = 65_535;
/// Seconds of capture time a datagram may take to complete (`FRAG_TIMEOUT`).
pub const MAX_FRAG_AGE: f64 = 30.0;

/// The bounds of reassembly (Python's `Limits.max_frag_datagrams`, `max_frag_bytes`,
/// `frag_timeout`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FragLimits {
    pub max_datagrams: usize,
    pub max_bytes: usize,
    pub timeout: f64,
}

impl Default for FragLimits {
    fn default() -> Self {
        FragLimits {
            max_datagrams: MAX_FRAG_DATAGRAMS,
            max_bytes: MAX_FRAG_DATAGRAM_BYTES,
            timeout: MAX_FRAG_AGE,
        }
    }
}

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
    /// Payload length, from the first fragment with MF=0.
    total: Option<usize>,
    /// The first offset-0 fragment's IPv4 header (empty until it is in).
    header: Vec<u8>,
    /// Over the size bound: its fragments are dropped.
    dead: bool,
}

impl Datagram {
    /// Copy `payload` at `at` where no bytes are yet, and record the range.
    fn insert(&mut self, at: usize, payload: &[u8]) {
        let (a, b) = (at, at + payload.len());
        if a >= b {
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
}

#[derive(Debug, Default)]
pub(crate) struct Reassembler {
    pub limits: FragLimits,
    table: HashMap<Key, Datagram>,
    /// Datagrams in progress by age of creation (seq -> key).
    order: BTreeMap<u64, Key>,
    seq: u64,
    /// The last datagram completed: its header (fragment fields cleared, total length set) and
    /// its payload.
    pub out: Vec<u8>,
}

impl Reassembler {
    pub fn new(limits: FragLimits) -> Self {
        let limits = FragLimits {
            max_datagrams: limits.max_datagrams.max(1),
            ..limits
        };
        Reassembler {
            limits,
            ..Default::default()
        }
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Take a datagram out of the table, counting `reason` unless it was dead.
    fn drop_one(&mut self, key: &Key, reason: &str, skipped: &mut BTreeMap<String, u64>) {
        if let Some(d) = self.table.remove(key) {
            self.order.remove(&d.seq);
            if !d.dead {
                bump(skipped, reason);
            }
        }
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
        let key = Key {
            addrs,
            id: [data[off + 4], data[off + 5]],
            proto: data[off + 9],
        };

        // expire from the oldest (first fragments arrive in capture order)
        while let Some((_, &k)) = self.order.first_key_value() {
            if now - self.table[&k].first_ts <= self.limits.timeout {
                break;
            }
            self.drop_one(&k, "ip_fragment_expired", skipped);
        }
        if !self.table.contains_key(&key) {
            if self.table.len() >= self.limits.max_datagrams {
                if let Some((_, k)) = self.order.first_key_value().map(|(s, k)| (*s, *k)) {
                    self.drop_one(&k, "ip_fragment_table_full", skipped);
                }
            }
            self.seq += 1;
            self.order.insert(self.seq, key);
            self.table.insert(
                key,
                Datagram {
                    seq: self.seq,
                    first_ts: now,
                    buf: Vec::new(),
                    have: Vec::new(),
                    total: None,
                    header: Vec::new(),
                    dead: false,
                },
            );
        }
        let max_bytes = self.limits.max_bytes;
        let Some(d) = self.table.get_mut(&key) else {
            return false;
        };
        if d.dead {
            bump(skipped, "ip_fragment_too_large");
            return false;
        }
        let mut stop = foff + (end - off - ihl);
        if ihl + stop > max_bytes {
            // later fragments of the same datagram are dropped, not restarted
            d.dead = true;
            d.buf = Vec::new();
            d.have = Vec::new();
            bump(skipped, "ip_fragment_too_large");
            return false;
        }
        if foff == 0 && d.header.is_empty() {
            d.header.extend_from_slice(&data[off..off + ihl]);
        }
        if !more && d.total.is_none() {
            d.total = Some(stop);
        }
        if let Some(total) = d.total {
            // bytes past the last fragment's end are not part of the datagram
            stop = stop.min(total);
        }
        if stop > foff {
            d.insert(foff, &data[off + ihl..off + ihl + (stop - foff)]);
        }
        let Some(total) = d.total else { return false };
        if d.header.is_empty() || d.have.len() != 1 || d.have[0].0 != 0 || d.have[0].1 < total {
            return false;
        }
        let Some(d) = self.table.remove(&key) else {
            return false;
        };
        self.order.remove(&d.seq);
        let hl = d.header.len();
        if hl + total > 65_535 {
            // the first fragment's header is longer than the last one's: the datagram's length
            // does not fit its 16-bit field (Python raises OverflowError here)
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

    /// The end of the capture: every datagram still in progress expires (dead ones uncounted).
    pub fn finish(&mut self, skipped: &mut BTreeMap<String, u64>) {
        for d in self.table.values() {
            if !d.dead {
                bump(skipped, "ip_fragment_expired");
            }
        }
        self.table.clear();
        self.order.clear();
    }
}
