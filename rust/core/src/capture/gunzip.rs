//! A gzip stream (one or several members) read incrementally, never losing what was decoded: a
//! port of `Gunzip` in `inspector/sources/capture.py` (branch p14). A stream cut short or damaged ends
//! the data with `problem` set (the bytes decoded before the damage are returned first), and so
//! does a stream that inflates past `max_bytes` or, once past `ratio_floor` decompressed bytes,
//! past `max_ratio` times its compressed size (a decompression bomb).
//!
//! Python drives zlib (`decompressobj(31)`); here the gzip header and trailer are read by hand
//! (with zlib's checks and messages) around flate2's raw inflater. Reads follow Python's loop:
//! compressed input in pieces of `GZIP_IN_CHUNK` bytes, output up to what the caller asked.

use std::io::{self, Read};

use flate2::{Crc, Decompress, FlushDecompress, Status};

use super::CaptureWarning;

/// Compressed bytes read at a time.
pub const GZIP_IN_CHUNK: usize = 256 * 1024;
/// Decompressed bytes read from one .gz capture at most.
pub const MAX_GUNZIP_BYTES: u64 = 64 * 1024 * 1024 * 1024;
/// Decompressed : compressed, at most, once past `GUNZIP_RATIO_FLOOR`.
pub const MAX_GUNZIP_RATIO: u64 = 500;
pub const GUNZIP_RATIO_FLOOR: u64 = 256 * 1024 * 1024;

const ZLIB_ERR: &str = "Error -3 while decompressing data";

/// Where a member's decoding stands.
enum Part {
    /// Header bytes: `at` read so far of the fixed 10; then the optional fields.
    Fixed {
        at: usize,
        flags: u8,
    },
    ExtraLen {
        got: usize,
        len: usize,
        flags: u8,
    },
    Extra {
        left: usize,
        flags: u8,
    },
    Name {
        flags: u8,
    },
    Comment {
        flags: u8,
    },
    HeaderCrc {
        got: usize,
        value: u16,
    },
    Body,
    Trailer {
        got: usize,
        bytes: [u8; 8],
    },
    End,
}

/// One gzip member, fed compressed bytes (Python's `zlib.decompressobj(31)`).
struct Member {
    part: Part,
    inflate: Decompress,
    /// CRC-32 of the header bytes (for FHCRC).
    header_crc: Crc,
    crc: Crc,
    eof: bool,
}

const FHCRC: u8 = 2;
const FEXTRA: u8 = 4;
const FNAME: u8 = 8;
const FCOMMENT: u8 = 16;

impl Member {
    fn new() -> Self {
        Member {
            part: Part::Fixed { at: 0, flags: 0 },
            inflate: Decompress::new(false),
            header_crc: Crc::new(),
            crc: Crc::new(),
            eof: false,
        }
    }

    /// The part after the fixed header and the optional fields already read.
    fn after(flags: u8, done: u8) -> Part {
        if flags & FEXTRA != 0 && done < FEXTRA {
            Part::ExtraLen {
                got: 0,
                len: 0,
                flags,
            }
        } else if flags & FNAME != 0 && done < FNAME {
            Part::Name { flags }
        } else if flags & FCOMMENT != 0 && done < FCOMMENT {
            Part::Comment { flags }
        } else if flags & FHCRC != 0 {
            Part::HeaderCrc { got: 0, value: 0 }
        } else {
            Part::Body
        }
    }

    /// Decompress from `data`, appending at most `max_out` bytes to `out`. Returns the input
    /// bytes consumed (the rest is Python's `unconsumed_tail`, or `unused_data` once `eof`),
    /// or zlib's error text.
    fn decompress(
        &mut self,
        data: &[u8],
        max_out: usize,
        out: &mut Vec<u8>,
    ) -> Result<usize, String> {
        let mut i = 0;
        let start = out.len();
        loop {
            match self.part {
                Part::End => {
                    self.eof = true;
                    return Ok(i);
                }
                Part::Body => {
                    let room = max_out - (out.len() - start);
                    if room == 0 {
                        return Ok(i);
                    }
                    let at = out.len();
                    out.resize(at + room.min(GZIP_IN_CHUNK), 0); // zero-filled a piece at a time
                    let (in0, out0) = (self.inflate.total_in(), self.inflate.total_out());
                    let res =
                        self.inflate
                            .decompress(&data[i..], &mut out[at..], FlushDecompress::None);
                    let produced = (self.inflate.total_out() - out0) as usize;
                    out.truncate(at + produced);
                    self.crc.update(&out[at..]);
                    i += (self.inflate.total_in() - in0) as usize;
                    match res {
                        Ok(Status::StreamEnd) => {
                            self.part = Part::Trailer {
                                got: 0,
                                bytes: [0; 8],
                            }
                        }
                        Ok(_) => {
                            let used = (self.inflate.total_in() - in0) as usize;
                            if i == data.len()
                                || out.len() - start == max_out
                                || (produced == 0 && used == 0)
                            {
                                return Ok(i);
                            }
                        }
                        Err(e) => {
                            let why = e.to_string();
                            let why = why
                                .strip_prefix("deflate decompression error: ")
                                .unwrap_or(&why);
                            return Err(format!("{ZLIB_ERR}: {why}"));
                        }
                    }
                }
                _ => {
                    let Some(&b) = data.get(i) else { return Ok(i) };
                    i += 1;
                    self.header_byte(b)?;
                }
            }
        }
    }

    /// One byte of the header or trailer, with zlib's checks.
    fn header_byte(&mut self, b: u8) -> Result<(), String> {
        if !matches!(self.part, Part::Trailer { .. } | Part::HeaderCrc { .. }) {
            self.header_crc.update(&[b]);
        }
        self.part = match self.part {
            Part::Fixed { at, flags } => {
                let flags = if at == 3 { b } else { flags };
                match at {
                    0 if b != 0x1f => return Err(format!("{ZLIB_ERR}: incorrect header check")),
                    1 if b != 0x8b => return Err(format!("{ZLIB_ERR}: incorrect header check")),
                    2 if b != 8 => return Err(format!("{ZLIB_ERR}: unknown compression method")),
                    3 if b & 0xe0 != 0 => {
                        return Err(format!("{ZLIB_ERR}: unknown header flags set"))
                    }
                    _ => {}
                }
                if at == 9 {
                    Self::after(flags, 0)
                } else {
                    Part::Fixed { at: at + 1, flags }
                }
            }
            Part::ExtraLen { got, len, flags } => {
                let len = len | (b as usize) << (8 * got);
                if got == 1 {
                    if len == 0 {
                        Self::after(flags, FEXTRA)
                    } else {
                        Part::Extra { left: len, flags }
                    }
                } else {
                    Part::ExtraLen { got: 1, len, flags }
                }
            }
            Part::Extra { left, flags } => {
                if left == 1 {
                    Self::after(flags, FEXTRA)
                } else {
                    Part::Extra {
                        left: left - 1,
                        flags,
                    }
                }
            }
            Part::Name { flags } => {
                if b == 0 {
                    Self::after(flags, FNAME)
                } else {
                    Part::Name { flags }
                }
            }
            Part::Comment { flags } => {
                if b == 0 {
                    Self::after(flags, FCOMMENT)
                } else {
                    Part::Comment { flags }
                }
            }
            Part::HeaderCrc { got, value } => {
                let value = value | (b as u16) << (8 * got);
                if got == 1 {
                    if value != (self.header_crc.sum() & 0xffff) as u16 {
                        return Err(format!("{ZLIB_ERR}: header crc mismatch"));
                    }
                    Part::Body
                } else {
                    Part::HeaderCrc { got: 1, value }
                }
            }
            Part::Trailer { got, mut bytes } => {
                bytes[got] = b;
                if got == 3
                    && u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
                        != self.crc.sum()
                {
                    return Err(format!("{ZLIB_ERR}: incorrect data check"));
                }
                if got == 7 {
                    if u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]])
                        != self.crc.amount()
                    {
                        return Err(format!("{ZLIB_ERR}: incorrect length check"));
                    }
                    Part::End
                } else {
                    Part::Trailer {
                        got: got + 1,
                        bytes,
                    }
                }
            }
            Part::Body | Part::End => unreachable!("not a header byte"),
        };
        Ok(())
    }
}

/// Python's `Gunzip`.
pub(super) struct Gunzip {
    raw: Box<dyn Read + Send>,
    pub max_bytes: u64,
    pub max_ratio: u64,
    pub ratio_floor: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// Why the data ended early; taken by the reader when a read returns nothing.
    pub problem: Option<CaptureWarning>,
    member: Member,
    /// Compressed bytes not yet given to the decompressor (`_pending` / `unconsumed_tail`).
    pending: Vec<u8>,
    pending_at: usize,
    in_member: bool,
    done: bool,
    raw_buf: Vec<u8>,
}

impl Gunzip {
    pub fn new(raw: Box<dyn Read + Send>) -> Self {
        Gunzip {
            raw,
            max_bytes: MAX_GUNZIP_BYTES,
            max_ratio: MAX_GUNZIP_RATIO,
            ratio_floor: GUNZIP_RATIO_FLOOR,
            bytes_in: 0,
            bytes_out: 0,
            problem: None,
            member: Member::new(),
            pending: Vec::new(),
            pending_at: 0,
            in_member: false,
            done: false,
            raw_buf: vec![0; GZIP_IN_CHUNK],
        }
    }

    fn stop(&mut self, code: &str, detail: String) {
        self.done = true;
        self.problem = Some(CaptureWarning::new(code, detail));
    }

    /// Apply limits changed after a read (a stop then ends the data at the next read).
    pub fn check_limits(&mut self) {
        if !self.done {
            self.over_limits();
        }
    }

    /// Past a decompression limit: stop, with the warning.
    fn over_limits(&mut self) -> bool {
        if self.bytes_out > self.max_bytes {
            self.stop("decompression_limit", format!(
                "reading stopped after {} decompressed bytes (the limit for a compressed capture is {})",
                self.bytes_out, self.max_bytes
            ));
        } else if self.bytes_out > self.ratio_floor
            && self.bytes_out > self.max_ratio * self.bytes_in.max(1)
        {
            self.stop("decompression_limit", format!(
                "reading stopped: {} compressed bytes inflated to {}, more than {} times (a decompression bomb?)",
                self.bytes_in, self.bytes_out, self.max_ratio
            ));
        }
        self.done
    }

    /// Up to `size` decompressed bytes appended to `out` (fewer only at the end of the data).
    /// An `Err` is an I/O error of the underlying stream.
    pub fn read(&mut self, size: usize, out: &mut Vec<u8>) -> io::Result<usize> {
        let start = out.len();
        while out.len() - start < size && !self.done {
            if self.pending_at >= self.pending.len() && self.in_member {
                // the inflater may hold output from input it took whole (zlib would have kept
                // that input as `unconsumed_tail`): flush it before reading on
                let before = out.len();
                let room = size - (out.len() - start);
                let flushed = self.member.decompress(&[], room, out);
                let piece = (out.len() - before) as u64;
                self.bytes_out += piece;
                if let Err(e) = flushed {
                    self.stop("capture_truncated", format!(
                        "the gzip stream is damaged after {} decompressed bytes ({e}); the packets before the damage are kept",
                        self.bytes_out
                    ));
                    break;
                }
                if piece > 0 || self.member.eof {
                    if self.member.eof {
                        self.member = Member::new();
                        self.in_member = false;
                    }
                    if self.over_limits() {
                        break;
                    }
                    continue;
                }
            }
            if self.pending_at >= self.pending.len() {
                let (n, err) = super::read_full(&mut *self.raw, &mut self.raw_buf);
                if let Some(e) = err {
                    return Err(e);
                }
                self.bytes_in += n as u64;
                if n == 0 {
                    self.done = true;
                    if self.in_member {
                        self.stop("capture_truncated", format!(
                            "the gzip stream is cut short after {} decompressed bytes; the packets before the cut are kept",
                            self.bytes_out
                        ));
                    }
                    break;
                }
                self.pending.clear();
                self.pending.extend_from_slice(&self.raw_buf[..n]);
                self.pending_at = 0;
            }
            if !self.in_member {
                // zero padding after the last member (tape, dd)
                let zeros = self.pending[self.pending_at..]
                    .iter()
                    .take_while(|&&b| b == 0)
                    .count();
                self.pending_at += zeros;
                if self.pending_at >= self.pending.len() {
                    continue;
                }
                self.in_member = true;
            }
            let before = out.len();
            let room = size - (out.len() - start);
            let res = self
                .member
                .decompress(&self.pending[self.pending_at..], room, out);
            let piece = (out.len() - before) as u64;
            self.bytes_out += piece;
            match res {
                Ok(used) => self.pending_at += used,
                Err(e) => {
                    self.stop("capture_truncated", format!(
                        "the gzip stream is damaged after {} decompressed bytes ({e}); the packets before the damage are kept",
                        self.bytes_out
                    ));
                }
            }
            if self.done {
                break;
            }
            if self.member.eof {
                // end of a member: another may follow (cat a.gz b.gz)
                self.member = Member::new();
                self.in_member = false;
            }
            if self.over_limits() {
                break;
            }
        }
        Ok(out.len() - start)
    }
}
