//! Classic pcap: the file header's magic (byte order, micro- or nanoseconds) and the 16-byte
//! record headers (Python's `PcapParser`).

use super::{u32_at, CaptureError, CaptureReader, CaptureWarning, Framing, Step, MAX_CAPLEN, MAX_TS};

/// Byte order and timestamp unit of a classic pcap file, from its magic.
pub(super) fn pcap_magic(m: &[u8]) -> Option<(bool, f64)> {
    match m {
        [0xd4, 0xc3, 0xb2, 0xa1] => Some((false, 1e-6)),
        [0xa1, 0xb2, 0xc3, 0xd4] => Some((true, 1e-6)),
        [0x4d, 0x3c, 0xb2, 0xa1] => Some((false, 1e-9)),
        [0xa1, 0xb2, 0x3c, 0x4d] => Some((true, 1e-9)),
        _ => None,
    }
}

impl CaptureReader {
    pub(super) fn pcap_record(&mut self) -> Result<Step, CaptureError> {
        let Framing::Pcap {
            big,
            scale,
            snaplen,
            linktype,
            warned_snaplen,
        } = self.framing
        else {
            unreachable!("pcap_record on a pcapng reader")
        };
        let pos = self.pos;
        let avail = self.buf.len() - pos;
        if avail < 16 {
            return Ok(Step::NeedMore);
        }
        let h = &self.buf[pos..pos + 16];
        let sec = u32_at(h, big);
        let frac = u32_at(&h[4..], big);
        let incl = u32_at(&h[8..], big);
        let orig = u32_at(&h[12..], big);
        let at = self.base + pos as u64;
        if incl > MAX_CAPLEN {
            return Err(CaptureError::at(
                format!(
                    "packet record claims {incl} captured bytes, bigger than the maximum of {MAX_CAPLEN} (corrupt file?)"
                ),
                at,
            ));
        }
        if avail < 16 + incl as usize {
            return Ok(Step::NeedMore);
        }
        self.pos = pos + 16 + incl as usize;
        if incl == 0 {
            self.skipped_packets += 1;
            return Ok(Step::Empty);
        }
        if incl > snaplen && !warned_snaplen && snaplen != 0 {
            if let Framing::Pcap { warned_snaplen, .. } = &mut self.framing {
                *warned_snaplen = true;
            }
            self.warnings.push(CaptureWarning::new(
                "caplen_over_snaplen",
                format!("a packet has {incl} captured bytes, more than the snaplen {snaplen}"),
            ));
        }
        let mut ts = sec as f64 + frac as f64 * scale;
        if ts > MAX_TS {
            ts = self.bad_ts(ts);
        }
        Ok(Step::Packet {
            start: pos + 16,
            end: self.pos,
            ts,
            linktype,
            orig_len: orig,
        })
    }
}
