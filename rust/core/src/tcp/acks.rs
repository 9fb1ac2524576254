//! The sequence space of one direction: what the peer acknowledged that the capture does not
//! hold (tshark's "ACKed unseen segment"), as `inspector/tcp.py` counts it.

use super::{StreamReassembler, ACK_RANGE, HALF, MAX_HOLES};

impl StreamReassembler {
    fn relative(&self, seq: u32) -> Option<i64> {
        let rel = seq.wrapping_sub(self.base?) as i64;
        (rel < HALF).then_some(rel)
    }

    /// A FIN of this direction was seen at `seq`: its sequence number is not a missing byte.
    pub fn fin(&mut self, seq: u32) {
        if self.fin_at.is_none() {
            self.fin_at = self.relative(seq);
        }
    }

    /// The peer acknowledged up to `ack` (a segment with the ACK flag).
    pub fn acked_to(&mut self, ack: u32) {
        if let Some(rel) = self.relative(ack) {
            if rel <= self.delivered + self.pending_bytes as i64 + ACK_RANGE && rel > self.acked {
                self.acked = rel;
            }
        }
    }

    /// Bytes the peer acknowledged that the capture does not hold: the holes delivery jumped
    /// below the ACK, and what the ACK covers past the delivered edge (less a FIN seen there).
    pub fn missed(&self) -> u64 {
        if self.base.is_none() {
            return 0;
        }
        let mut n = self.hole_bytes;
        for &(start, end) in &self.holes {
            if start < self.acked {
                n += end.min(self.acked) - start;
            }
        }
        if self.acked > self.delivered {
            n += self.acked - self.delivered;
            for (&start, (_, data)) in &self.pending {
                // data still waiting (not flushed)
                let lo = start.max(self.delivered);
                let hi = (start + data.len() as i64).min(self.acked);
                n -= (hi - lo).max(0);
            }
            if self.fin_at.is_some_and(|f| self.delivered <= f && f < self.acked) {
                n -= 1;
            }
        }
        n.max(0) as u64
    }

    pub(super) fn hole(&mut self, start: i64, end: i64) {
        if self.holes.len() < MAX_HOLES {
            self.holes.push((start, end));
        } else {
            self.hole_bytes += end - start;
        }
    }

    /// Bytes `[lo, hi)` arrived after delivery jumped over them: they are not missing.
    pub(super) fn fill(&mut self, lo: i64, hi: i64) {
        let mut kept = Vec::with_capacity(self.holes.len() + 1);
        for &(start, end) in &self.holes {
            if hi <= start || end <= lo {
                kept.push((start, end));
                continue;
            }
            if start < lo {
                kept.push((start, lo));
            }
            if hi < end {
                kept.push((hi, end));
            }
        }
        kept.truncate(MAX_HOLES);
        self.holes = kept;
    }
}

