//! TCP: one direction of a connection -> its bytes in order (port of `inspector/tcp.py`).
//!
//! `StreamReassembler` is sans-I/O: `segment(seq, payload, syn)` returns the chunks that became
//! deliverable in sequence order, each as `Chunk { data, gap_before }`. It handles out-of-order
//! segments, retransmissions, overlaps (the first copy wins, a different second copy is flagged),
//! sequence wraparound (offsets are relative to the first sequence number, modulo 2^32), captures
//! that start mid-stream, and gaps (when more than `max_pending` bytes wait above a hole, or at
//! `flush` when the connection ends, delivery skips the hole and the next chunk says
//! `gap_before`). Memory per direction is bounded by `max_pending` (plus a 16 KiB window of
//! delivered bytes kept to compare retransmissions with).
//!
//! It also keeps the sequence space of its direction, to tell bytes the capture missed (tshark's
//! "ACKed unseen segment"): `acked_to` records the highest ACK the peer sent, `fin` where the FIN
//! was, and `missed` counts the bytes below that ACK the capture does not hold: the holes delivery
//! jumped, and what lies past the delivered edge (a FIN's sequence number is not a byte). ACKs
//! before the stream's start (mid-stream, or a wrapped value) and ACKs more than `ACK_RANGE`
//! beyond what was seen are ignored.

use std::collections::BTreeMap;

mod acks; // the sequence space: what the peer acknowledged that the capture does not hold

pub const TCP_FIN: u8 = 0x01;
pub const TCP_SYN: u8 = 0x02;
pub const TCP_RST: u8 = 0x04;
pub const TCP_ACK: u8 = 0x10;

const MOD: i64 = 1 << 32;
const HALF: i64 = 1 << 31;

/// Delivered bytes kept to compare retransmissions with.
pub const WINDOW: usize = 16 * 1024;
/// An ACK this far past the highest byte seen is not believed.
pub const ACK_RANGE: i64 = 1 << 30;
/// Jumped holes remembered per direction (later ones are counted, not trimmed).
pub const MAX_HOLES: usize = 64;

/// The `capture_missed_bytes` event detail ("server->client: 517 bytes acknowledged but not
/// captured"), as `inspector.tcp.missed_detail` writes it.
pub fn missed_detail(direction: &str, n: u64) -> String {
    format!("{direction}: {n} byte{} acknowledged but not captured", if n == 1 { "" } else { "s" })
}

/// What the reassembler noticed; `code()` is the warning code the Python engine uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TcpAnomaly {
    Midstream,
    ContentGap,
    OverlapDifferentData,
}

impl TcpAnomaly {
    pub fn code(self) -> &'static str {
        match self {
            TcpAnomaly::Midstream => "midstream",
            TcpAnomaly::ContentGap => "content_gap",
            TcpAnomaly::OverlapDifferentData => "overlap_different_data",
        }
    }
}

/// Bytes that became deliverable; `gap_before` when bytes before them are missing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chunk {
    pub data: Vec<u8>,
    pub gap_before: bool,
}

/// In-order delivery for one direction of one TCP connection.
#[derive(Debug)]
pub struct StreamReassembler {
    /// Sequence number of stream offset 0.
    pub base: Option<u32>,
    /// Stream offset of the next byte to deliver.
    pub delivered: i64,
    /// Out-of-order data above the delivered edge: offset -> (insertion number, bytes).
    pending: BTreeMap<i64, (u64, Vec<u8>)>,
    inserted: u64,
    pub pending_bytes: usize,
    pub max_pending: usize,
    pub anomalies: Vec<TcpAnomaly>,
    pub midstream: bool,
    syn_seen: bool,
    /// Delivered bytes ending at `delivered`; only the last `WINDOW` are compared.
    recent: Vec<u8>,
    /// Stream offset of the FIN seen.
    pub fin_at: Option<i64>,
    /// The highest stream offset the peer acknowledged.
    pub acked: i64,
    /// `[start, end)` offsets delivery jumped over.
    pub holes: Vec<(i64, i64)>,
    /// Bytes of holes beyond `MAX_HOLES` (counted, not trimmed).
    pub hole_bytes: i64,
}

impl Default for StreamReassembler {
    fn default() -> Self {
        StreamReassembler::new(256 * 1024)
    }
}

impl StreamReassembler {
    pub fn new(max_pending: usize) -> Self {
        StreamReassembler {
            base: None,
            delivered: 0,
            pending: BTreeMap::new(),
            inserted: 0,
            pending_bytes: 0,
            max_pending,
            anomalies: Vec::new(),
            midstream: false,
            syn_seen: false,
            recent: Vec::new(),
            fin_at: None,
            acked: 0,
            holes: Vec::new(),
            hole_bytes: 0,
        }
    }

    fn flag(&mut self, code: TcpAnomaly) {
        if !self.anomalies.contains(&code) {
            self.anomalies.push(code);
        }
    }

    /// True when out-of-order data waits above a hole.
    /// Bytes held: data above holes plus the retransmission window.
    pub fn held(&self) -> usize {
        self.pending_bytes + self.recent.len()
    }

    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Feed one segment of this direction; returns what became deliverable, in order.
    pub fn segment(&mut self, seq: u32, payload: &[u8], syn: bool) -> Vec<Chunk> {
        let mut seq = seq;
        if syn {
            // A later SYN with another ISN before any data (several SYN-ACKs, the last one wins).
            if self.base.is_none() || !self.syn_seen || (self.delivered == 0 && self.pending.is_empty()) {
                self.base = Some(seq.wrapping_add(1));
                self.syn_seen = true;
                self.delivered = 0;
            }
            seq = seq.wrapping_add(1);
        }
        if payload.is_empty() {
            return Vec::new();
        }
        let base = match self.base {
            Some(b) => b,
            None => {
                self.base = Some(seq);
                self.midstream = true;
                self.flag(TcpAnomaly::Midstream);
                seq
            }
        };
        let mut rel = (seq.wrapping_sub(base)) as i64;
        if rel >= HALF {
            rel -= MOD; // before the start of the stream (a retransmission from before we started)
        }
        let end = rel + payload.len() as i64;
        let mut payload = payload;
        if rel < self.delivered {
            if !self.holes.is_empty() {
                self.fill(rel, end.min(self.delivered));
            }
            self.compare_delivered(rel, payload);
            if end <= self.delivered {
                return Vec::new(); // retransmission of delivered data
            }
            payload = &payload[(self.delivered - rel) as usize..];
            rel = self.delivered;
        }
        if rel > self.delivered {
            self.store(rel, payload);
            if self.pending_bytes > self.max_pending {
                self.flag(TcpAnomaly::ContentGap);
                return self.drain(true);
            }
            return Vec::new();
        }
        let mut out = vec![Chunk { data: payload.to_vec(), gap_before: false }];
        self.delivered = end;
        self.remember(payload);
        if !self.pending.is_empty() {
            out.extend(self.drain(false));
        }
        out
    }

    fn remember(&mut self, data: &[u8]) {
        self.recent.extend_from_slice(data);
        if self.recent.len() > 2 * WINDOW {
            let cut = self.recent.len() - WINDOW;
            self.recent.drain(..cut);
        }
    }

    fn window(&self) -> &[u8] {
        let n = self.recent.len();
        &self.recent[n.saturating_sub(WINDOW)..]
    }

    /// A retransmission of delivered bytes: do they match what was delivered?
    fn compare_delivered(&mut self, rel: i64, payload: &[u8]) {
        let recent = self.window();
        let start = self.delivered - recent.len() as i64;
        let lo = rel.max(start);
        let hi = (rel + payload.len() as i64).min(self.delivered);
        if lo < hi {
            let a = &recent[(lo - start) as usize..(hi - start) as usize];
            let b = &payload[(lo - rel) as usize..(hi - rel) as usize];
            if a != b {
                self.flag(TcpAnomaly::OverlapDifferentData);
            }
        }
    }

    fn store(&mut self, rel: i64, payload: &[u8]) {
        if let Some((order, old)) = self.pending.get_mut(&rel) {
            let n = old.len().min(payload.len());
            let differs = old[..n] != payload[..n];
            let longer = payload.len() > old.len();
            if longer {
                // first copy wins where both have bytes; the key keeps its insertion place
                old.extend_from_slice(&payload[n..]);
                self.pending_bytes += payload.len() - n;
            }
            let _ = order;
            if differs {
                self.flag(TcpAnomaly::OverlapDifferentData);
            }
            return;
        }
        // Compare with a pending segment that starts earlier and overlaps this one: the first
        // such segment in insertion order, as the Python engine does.
        let mut first: Option<(u64, i64)> = None;
        for (&o, (order, d)) in self.pending.range(..rel) {
            if rel < o + d.len() as i64 && first.is_none_or(|(f, _)| *order < f) {
                first = Some((*order, o));
            }
        }
        if let Some((_, o)) = first {
            let d = &self.pending[&o].1;
            let k = ((o + d.len() as i64).min(rel + payload.len() as i64) - rel) as usize;
            let from = (rel - o) as usize;
            if d[from..from + k] != payload[..k] {
                self.flag(TcpAnomaly::OverlapDifferentData);
            }
        }
        self.inserted += 1;
        self.pending.insert(rel, (self.inserted, payload.to_vec()));
        self.pending_bytes += payload.len();
    }

    /// Deliver pending data that now touches the delivered edge; with `force`, jump one hole.
    fn drain(&mut self, force: bool) -> Vec<Chunk> {
        let mut force = force;
        let mut out = Vec::new();
        let mut gap = false;
        while let Some((&start, _)) = self.pending.first_key_value() {
            if start > self.delivered {
                if !force {
                    break;
                }
                gap = true;
                self.hole(self.delivered, start);
                self.delivered = start;
                force = false;
            }
            let (_, data) = self.pending.remove(&start).unwrap_or_default();
            self.pending_bytes -= data.len();
            let end = start + data.len() as i64;
            if end <= self.delivered {
                continue;
            }
            let data = if start < self.delivered {
                data[(self.delivered - start) as usize..].to_vec()
            } else {
                data
            };
            self.delivered += data.len() as i64;
            self.remember(&data);
            out.push(Chunk { data, gap_before: gap });
            gap = false;
        }
        out
    }

    /// At the end of the connection: deliver whatever waits above holes, flagging each gap.
    pub fn flush(&mut self) -> Vec<Chunk> {
        let mut out = Vec::new();
        while !self.pending.is_empty() {
            self.flag(TcpAnomaly::ContentGap);
            out.extend(self.drain(true));
        }
        out
    }

    /// Forget buffered data (the handshake is over): keep only the counters (and where the
    /// data waiting above holes was, for `missed`).
    pub fn release(&mut self) {
        let spans: Vec<(i64, i64)> = self.pending.iter().map(|(&o, (_, d))| (o, o + d.len() as i64)).collect();
        for (start, end) in spans {
            if start > self.delivered {
                self.hole(self.delivered, start);
            }
            self.delivered = self.delivered.max(end);
        }
        self.pending.clear();
        self.pending_bytes = 0;
        self.recent = Vec::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream() -> Vec<u8> {
        (0..8).flat_map(|_| 0u8..=255).collect() // 2 KiB, every offset distinguishable
    }

    fn segments(data: &[u8], size: usize, isn: u32) -> Vec<(u32, Vec<u8>)> {
        (0..data.len())
            .step_by(size)
            .map(|i| (isn.wrapping_add(1).wrapping_add(i as u32), data[i..(i + size).min(data.len())].to_vec()))
            .collect()
    }

    fn run(segs: &[(u32, Vec<u8>)], isn: Option<u32>) -> (Vec<u8>, StreamReassembler, Vec<Chunk>) {
        let mut r = StreamReassembler::default();
        let mut out = Vec::new();
        if let Some(isn) = isn {
            assert!(r.segment(isn, b"", true).is_empty());
        }
        for (seq, p) in segs {
            out.extend(r.segment(*seq, p, false));
        }
        out.extend(r.flush());
        let data = out.iter().flat_map(|c| c.data.clone()).collect();
        (data, r, out)
    }

    /// A tiny deterministic generator (xorshift) for shuffles, so tests need no crate.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
        fn shuffle<T>(&mut self, v: &mut [T]) {
            for i in (1..v.len()).rev() {
                let j = self.below(i + 1);
                v.swap(i, j);
            }
        }
    }

    #[test]
    fn in_order_whole_and_byte_by_byte() {
        let s = stream();
        for size in [s.len(), 100, 1] {
            let (data, r, out) = run(&segments(&s, size, 1000), Some(1000));
            assert_eq!(data, s, "segment size {size}");
            assert!(r.anomalies.is_empty());
            assert!(out.iter().all(|c| !c.gap_before));
        }
    }

    #[test]
    fn reordered_and_duplicated_tiny_segments() {
        let s = stream();
        let mut rng = Rng(1);
        let mut segs = segments(&s, 7, 1000);
        for _ in 0..50 {
            let pick = segs[rng.below(segs.len())].clone();
            segs.push(pick);
        }
        rng.shuffle(&mut segs);
        let (data, r, _) = run(&segs, Some(1000));
        assert_eq!(data, s);
        assert!(!r.anomalies.contains(&TcpAnomaly::ContentGap));
    }

    #[test]
    fn byte_by_byte_reversed_order() {
        let s = stream();
        let mut segs = segments(&s[..600], 1, 77);
        segs.reverse();
        let (data, r, _) = run(&segs, Some(77));
        assert_eq!(data, &s[..600]);
        assert!(r.anomalies.is_empty());
    }

    #[test]
    fn sequence_wraparound() {
        let s = stream();
        let isn = u32::MAX - 299;
        for size in [100, 1] {
            let (data, _, _) = run(&segments(&s, size, isn), Some(isn));
            assert_eq!(data, s);
        }
    }

    #[test]
    fn midstream_without_syn_is_flagged() {
        let s = stream();
        let (data, r, _) = run(&segments(&s, 100, 5000), None);
        assert_eq!(data, s);
        assert!(r.midstream);
        assert_eq!(r.anomalies, vec![TcpAnomaly::Midstream]);
        assert_eq!(r.anomalies[0].code(), "midstream");
    }

    #[test]
    fn overlap_with_different_bytes_first_copy_wins() {
        let s = stream();
        let segs = segments(&s, 100, 1000);
        let forged = (segs[2].0, vec![b'X'; 100]);
        let mut fed = vec![segs[0].clone(), forged, segs[2].clone(), segs[1].clone()];
        fed.extend_from_slice(&segs[3..]);
        let (data, r, _) = run(&fed, Some(1000));
        assert_eq!(&data[200..300], &[b'X'; 100][..]);
        assert_eq!(&data[300..], &s[300..]);
        assert!(r.anomalies.contains(&TcpAnomaly::OverlapDifferentData));
    }

    #[test]
    fn overlap_with_an_earlier_pending_segment_is_compared() {
        let s = stream();
        // offsets 100..300 pending, then 150..250 with different bytes, then the hole filled
        let mut r = StreamReassembler::default();
        r.segment(0, b"", true);
        assert!(r.segment(101, &s[100..300], false).is_empty());
        assert!(r.segment(151, &[b'Q'; 100], false).is_empty());
        assert!(r.anomalies.contains(&TcpAnomaly::OverlapDifferentData));
        let out = r.segment(1, &s[..100], false);
        let data: Vec<u8> = out.iter().flat_map(|c| c.data.clone()).collect();
        assert_eq!(data, &s[..300]); // the first copy won
    }

    #[test]
    fn longer_second_copy_at_the_same_offset_extends_the_first() {
        let mut r = StreamReassembler::default();
        r.segment(0, b"", true);
        r.segment(11, b"abc", false);
        r.segment(11, b"abcdef", false);
        assert_eq!(r.pending_bytes, 6);
        let out = r.segment(1, b"0123456789", false);
        let data: Vec<u8> = out.iter().flat_map(|c| c.data.clone()).collect();
        assert_eq!(data, b"0123456789abcdef");
        assert!(r.anomalies.is_empty());
    }

    #[test]
    fn gap_is_jumped_at_flush_and_marked() {
        let s = stream();
        let mut segs = segments(&s, 100, 1000);
        segs.remove(3);
        let (data, r, out) = run(&segs, Some(1000));
        let mut want = s[..300].to_vec();
        want.extend_from_slice(&s[400..]);
        assert_eq!(data, want);
        assert!(r.anomalies.contains(&TcpAnomaly::ContentGap));
        assert_eq!(out.iter().filter(|c| c.gap_before).count(), 1);
    }

    #[test]
    fn pending_bytes_are_bounded() {
        let mut r = StreamReassembler::new(1000);
        r.segment(1000, b"", true);
        for i in 1..50u32 {
            r.segment(1001 + i * 100, &[b'y'; 100], false); // never fills the first 100 bytes
            assert!(r.pending_bytes <= 1100);
        }
        assert!(r.anomalies.contains(&TcpAnomaly::ContentGap));
    }

    #[test]
    fn any_segmentation_order_or_isn_gives_the_same_stream() {
        let s = stream();
        let data = &s[..700];
        let mut rng = Rng(0x9e3779b97f4a7c15);
        for _ in 0..200 {
            let size = 1 + rng.below(300);
            let isn = rng.next() as u32;
            let mut segs = segments(data, size, isn);
            for _ in 0..segs.len() / 3 {
                let pick = segs[rng.below(segs.len())].clone();
                segs.push(pick);
            }
            rng.shuffle(&mut segs);
            let (got, _, _) = run(&segs, Some(isn));
            assert_eq!(got, data, "size {size} isn {isn}");
        }
    }

    #[test]
    fn retransmission_with_different_bytes_than_delivered_is_flagged() {
        let s = stream();
        let segs = segments(&s, 100, 1000);
        let mut fed = segs.clone();
        fed.push((segs[3].0, vec![b'Z'; 100]));
        let (data, r, _) = run(&fed, Some(1000));
        assert_eq!(data, s);
        assert_eq!(r.anomalies, vec![TcpAnomaly::OverlapDifferentData]);
        let mut fed = segs.clone();
        fed.push(segs[3].clone());
        let (_, r, _) = run(&fed, Some(1000));
        assert!(r.anomalies.is_empty());
    }

    #[test]
    fn retransmission_from_before_the_stream_start_is_trimmed() {
        let mut r = StreamReassembler::default();
        r.segment(999, b"", true); // stream starts at 1000
        let out = r.segment(995, b".....hello", false);
        assert_eq!(out, vec![Chunk { data: b"hello".to_vec(), gap_before: false }]);
    }

    #[test]
    fn a_later_syn_before_data_moves_the_base() {
        let mut r = StreamReassembler::default();
        r.segment(100, b"", true);
        r.segment(5000, b"", true); // second SYN-ACK with another ISN, the last one wins
        let out = r.segment(5001, b"abc", false);
        assert_eq!(out.len(), 1);
        assert_eq!(r.base, Some(5001));
        // after data, a SYN with another ISN no longer moves it
        r.segment(9000, b"", true);
        assert_eq!(r.base, Some(5001));
    }

    #[test]
    fn release_keeps_counters_and_frees_buffers() {
        let mut r = StreamReassembler::default();
        r.segment(0, b"", true);
        r.segment(101, &[1; 50], false);
        r.segment(1, &[2; 10], false);
        r.release();
        assert_eq!(r.pending_bytes, 0);
        assert!(!r.has_pending());
        // the data waiting above the hole is forgotten, but where it lay is kept: the hole
        // (10..100) for `capture_missed_bytes`, and the stream's end past it
        assert_eq!(r.delivered, 150);
        assert_eq!(r.holes, vec![(10, 100)]);
    }
}
