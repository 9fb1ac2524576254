//! pcapng blocks: SHB, IDB (with `if_tsresol` and `if_tsoffset`), EPB, SPB, the obsolete PB and
//! Decryption Secrets Blocks; other blocks are skipped by length (Python's `PcapngParser`).

use super::{
    u16_at, u32_at, CaptureError, CaptureReader, Framing, Interface, Step, MAX_BLOCK,
    MAX_DSB_KEYLOG, MAX_TS, PCAPNG_SHB, SECRETS_TLS_KEYLOG,
};

#[inline]
fn i64_at(b: &[u8], big: bool) -> i64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    if big {
        i64::from_be_bytes(a)
    } else {
        i64::from_le_bytes(a)
    }
}

impl CaptureReader {
    pub(super) fn pcapng_block(&mut self) -> Result<Step, CaptureError> {
        let pos = self.pos;
        let avail = self.buf.len() - pos;
        if avail < 12 {
            return Ok(Step::NeedMore);
        }
        let at = self.base + pos as u64;
        let Framing::Pcapng { big, seen_shb, .. } = &mut self.framing else {
            unreachable!("pcapng_block on a pcap reader")
        };
        let head = &self.buf[pos..pos + 12];
        if head[..4] == PCAPNG_SHB {
            match &head[8..12] {
                [0x4d, 0x3c, 0x2b, 0x1a] => *big = false,
                [0x1a, 0x2b, 0x3c, 0x4d] => *big = true,
                _ => {
                    return Err(CaptureError::at(
                        "pcapng section header with a bad byte-order magic",
                        at,
                    ))
                }
            }
        } else if !*seen_shb {
            return Err(CaptureError::at(
                "pcapng file does not start with a section header block",
                at,
            ));
        }
        let big = *big;
        let btype = u32_at(head, big);
        let blen = u32_at(&head[4..], big);
        if blen < 12 || !blen.is_multiple_of(4) {
            return Err(CaptureError::at(
                format!("pcapng block length {blen} is invalid (type {btype:#x})"),
                at,
            ));
        }
        if blen > MAX_BLOCK {
            return Err(CaptureError::at(
                format!("pcapng block length {blen} is implausibly large"),
                at,
            ));
        }
        let blen = blen as usize;
        if avail < blen {
            return Ok(Step::NeedMore);
        }
        let trailer = u32_at(&self.buf[pos + blen - 4..], big);
        if trailer as usize != blen {
            return Err(CaptureError::at(
                format!("pcapng block length {blen} does not match its trailer {trailer}"),
                at,
            ));
        }
        let (bstart, bend) = (pos + 8, pos + blen - 4);
        self.pos = pos + blen;
        match self.block(btype, bstart, bend, big) {
            Ok(step) => Ok(step),
            Err(Some(reason)) => Err(CaptureError::at(reason, at)),
            Err(None) => Err(CaptureError::at(
                format!("pcapng block of type {btype:#x} is malformed"),
                at,
            )),
        }
    }

    /// One whole pcapng block whose body is `buf[bstart..bend]`; `Err(None)`: malformed,
    /// `Err(Some(reason))`: an error with its own text.
    fn block(
        &mut self,
        btype: u32,
        bstart: usize,
        bend: usize,
        big: bool,
    ) -> Result<Step, Option<&'static str>> {
        let blen = bend - bstart;
        match btype {
            0x0A0D_0D0A => {
                if let Framing::Pcapng {
                    interfaces,
                    seen_shb,
                    ..
                } = &mut self.framing
                {
                    *seen_shb = true;
                    interfaces.clear();
                }
                Ok(Step::Empty)
            }
            1 => {
                // Interface Description Block
                if blen < 8 {
                    return Err(Some("pcapng interface description block too short"));
                }
                let body = &self.buf[bstart..bend];
                let linktype = u16_at(body, big) as u32;
                let snaplen = u32_at(&body[4..], big);
                let mut iface = Interface {
                    linktype,
                    snaplen,
                    unit: 1e-6,
                    offset: 0,
                };
                idb_options(&mut iface, &body[8..], big).map_err(|()| None)?;
                if let Framing::Pcapng { interfaces, .. } = &mut self.framing {
                    interfaces.push(iface);
                }
                Ok(Step::Empty)
            }
            6 | 2 => {
                // Enhanced Packet Block, obsolete Packet Block
                if blen < 20 {
                    self.skipped_packets += 1;
                    self.warn_once("bad_packet_block", || "a packet block is too short".into());
                    return Ok(Step::Empty);
                }
                let body = &self.buf[bstart..bend];
                let (if_id, hi, lo, caplen, origlen) = if btype == 6 {
                    (
                        u32_at(body, big),
                        u32_at(&body[4..], big),
                        u32_at(&body[8..], big),
                        u32_at(&body[12..], big),
                        u32_at(&body[16..], big),
                    )
                } else {
                    (
                        u16_at(body, big) as u32,
                        u32_at(&body[4..], big),
                        u32_at(&body[8..], big),
                        u32_at(&body[12..], big),
                        u32_at(&body[16..], big),
                    )
                };
                let Framing::Pcapng { interfaces, .. } = &self.framing else {
                    return Err(None);
                };
                let Some(&iface) = interfaces.get(if_id as usize) else {
                    self.skipped_packets += 1;
                    self.warn_once("packet_without_interface", || {
                        format!("a packet names interface {if_id}, which was never described")
                    });
                    return Ok(Step::Empty);
                };
                if caplen as usize > blen - 20 {
                    self.skipped_packets += 1;
                    self.warn_once("caplen_over_block", || {
                        "a packet's captured length runs past its block".into()
                    });
                    return Ok(Step::Empty);
                }
                if caplen == 0 {
                    self.skipped_packets += 1;
                    return Ok(Step::Empty);
                }
                let raw = ((hi as u64) << 32) | lo as u64;
                let mut ts = raw as f64 * iface.unit + iface.offset as f64;
                if !(0.0..=MAX_TS).contains(&ts) {
                    ts = self.bad_ts(ts);
                }
                let start = bstart + 20;
                Ok(Step::Packet {
                    start,
                    end: start + caplen as usize,
                    ts,
                    linktype: iface.linktype,
                    orig_len: origlen,
                })
            }
            3 => {
                // Simple Packet Block: interface 0, no timestamp
                let Framing::Pcapng { interfaces, .. } = &self.framing else {
                    return Err(None);
                };
                let first = interfaces.first().copied();
                let (Some(iface), true) = (first, blen >= 4) else {
                    self.skipped_packets += 1;
                    self.warn_once("packet_without_interface", || {
                        "a simple packet block comes before any interface".into()
                    });
                    return Ok(Step::Empty);
                };
                let origlen = u32_at(&self.buf[bstart..bend], big);
                let mut caplen = (origlen as usize).min(blen - 4);
                if iface.snaplen != 0 {
                    caplen = caplen.min(iface.snaplen as usize);
                }
                if caplen == 0 {
                    self.skipped_packets += 1;
                    return Ok(Step::Empty);
                }
                let start = bstart + 4;
                Ok(Step::Packet {
                    start,
                    end: start + caplen,
                    ts: 0.0,
                    linktype: iface.linktype,
                    orig_len: origlen,
                })
            }
            0x0A => {
                // Decryption Secrets Block: keep a TLS key log (Python skips these blocks)
                let body = &self.buf[bstart..bend];
                if blen >= 8 && u32_at(body, big) == SECRETS_TLS_KEYLOG {
                    let len = u32_at(&body[4..], big) as usize;
                    if len <= blen - 8 {
                        let secrets = &body[8..8 + len];
                        let sep = usize::from(
                            !self.keylog.is_empty() && self.keylog.last() != Some(&b'\n'),
                        );
                        if self.keylog.len() + sep + secrets.len() <= MAX_DSB_KEYLOG {
                            if sep == 1 {
                                self.keylog.push(b'\n');
                            }
                            self.keylog.extend_from_slice(secrets);
                        } else {
                            self.warn_once("dsb_keylog_too_large", || {
                                format!(
                                    "the key logs in decryption secrets blocks exceed {MAX_DSB_KEYLOG} bytes; the rest is ignored"
                                )
                            });
                        }
                    }
                }
                Ok(Step::Empty)
            }
            _ => Ok(Step::Empty), // name resolution, statistics, custom...: skipped
        }
    }
}

/// IDB options: `if_tsresol` (code 9) and `if_tsoffset` (code 14). `Err` where Python's
/// `_idb_options` would raise (an option cut short by the end of the block).
fn idb_options(iface: &mut Interface, opts: &[u8], big: bool) -> Result<(), ()> {
    let mut i = 0usize;
    while i + 4 <= opts.len() {
        let code = u16_at(&opts[i..], big);
        let length = u16_at(&opts[i + 2..], big) as usize;
        let val = &opts[i + 4..(i + 4 + length).min(opts.len())];
        if code == 0 {
            break;
        }
        if code == 9 && length >= 1 {
            let r = *val.first().ok_or(())?;
            iface.unit = if r & 0x80 != 0 {
                2.0f64.powf(-((r & 0x7F) as f64))
            } else {
                10.0f64.powf(-(r as f64))
            };
        } else if code == 14 && length >= 8 {
            if val.len() < 8 {
                return Err(());
            }
            iface.offset = i64_at(val, big);
        }
        i += 4 + ((length + 3) & !3);
    }
    Ok(())
}
