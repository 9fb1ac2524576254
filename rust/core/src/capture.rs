//! Capture files -> packets: a port of `inspector/sources/capture.py`, answer for answer.
//!
//! `CaptureReader` reads a pcap or pcapng file, either of them gzip-compressed, from a path or from
//! any stream (stdin, a FIFO), in chunks of `CHUNK` bytes (the same chunking as the Python reader,
//! so `bytes_read` is the same too; a pipe as its bytes come, `from_stream`), and lends its packets one by one (`next_packet`) without an
//! allocation per packet. A file that is not a capture is a `CaptureError` from `open`; framing
//! that breaks after some packets is a `CaptureError` from `next_packet` once every packet before
//! the break has been handed out; a file cut short ends with a `capture_truncated` warning.
//!
//! Warnings, error texts and skipped-packet counts are those of the Python reader. Additions of the
//! Rust reader, absent from Python's: the TLS key log held in pcapng Decryption Secrets Blocks
//! (`keylog`), FIFOs and character devices accepted by `open` (read as a stream), and the
//! `empty_record_flood` stop (issue 14: more than `MAX_EMPTY_RUN` consecutive records without
//! packet data end reading, with a warning).
//!
//! Its parts: here the reader (sources, chunks, the file header, packets lent out); `pcap`: classic
//! pcap records; `pcapng`: pcapng blocks; `gunzip`: the bounded gzip stream under either.

use std::fmt;
use std::fs::File;
use std::io::{self, Cursor, Read};
use std::path::Path;

mod gunzip;
mod pcap;
mod pcapng;

use pcap::pcap_magic;

pub use gunzip::{GUNZIP_RATIO_FLOOR, GZIP_IN_CHUNK, MAX_GUNZIP_BYTES, MAX_GUNZIP_RATIO};

/// Wireshark's WTAP_MAX_PACKET_SIZE_STANDARD: a pcap record claiming more is corrupt.
pub const MAX_CAPLEN: u32 = 262_144;
/// The last second pandas (datetime64[ns]) can hold, in 2262.
pub const MAX_TS: f64 = 9_223_372_035.0;
/// The largest pcapng block accepted.
pub const MAX_BLOCK: u32 = 16 * 1024 * 1024 + 1024;
/// Bytes read at a time (as Python's `CHUNK`).
pub const CHUNK: usize = 4 * 1024 * 1024;
/// More consecutive records than this without packet data end reading (`empty_record_flood`).
pub const MAX_EMPTY_RUN: u64 = 1_000_000;
/// The most key-log bytes kept from Decryption Secrets Blocks (`dsb_keylog_too_large` past it).
pub const MAX_DSB_KEYLOG: usize = 256 * 1024 * 1024;

const PCAPNG_SHB: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const SECRETS_TLS_KEYLOG: u32 = 0x544c_534b;

/// The capture cannot be read. `message` is the whole text, as Python's `str(CaptureError)`:
/// the reason, then " at byte N" when the offset in the (decompressed) file is known; `offset` is
/// that offset (0 when unknown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureError {
    pub message: String,
    pub offset: u64,
}

impl CaptureError {
    /// An error at a known byte offset: "REASON at byte OFFSET".
    pub fn at(reason: impl fmt::Display, offset: u64) -> Self {
        CaptureError {
            message: format!("{reason} at byte {offset}"),
            offset,
        }
    }

    /// An error with no offset (opening or reading the file).
    pub fn plain(reason: impl Into<String>) -> Self {
        CaptureError {
            message: reason.into(),
            offset: 0,
        }
    }
}

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CaptureError {}

/// Something odd in the file framing that did not stop reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureWarning {
    pub code: String,
    pub detail: String,
}

impl CaptureWarning {
    pub fn new(code: impl Into<String>, detail: impl Into<String>) -> Self {
        CaptureWarning {
            code: code.into(),
            detail: detail.into(),
        }
    }
}

/// One packet, borrowed from the reader's buffer until the next call of `next_packet`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PacketRef<'a> {
    /// Seconds since the epoch (0.0 when out of range, or for a Simple Packet Block).
    pub ts: f64,
    pub linktype: u32,
    pub data: &'a [u8],
    pub orig_len: u32,
}

/// The text `strerror` gives for an OS error (Python's `e.strerror`), else the error's own text.
fn strerror(e: &io::Error) -> String {
    let text = e.to_string();
    if e.raw_os_error().is_some() {
        if let Some(i) = text.rfind(" (os error ") {
            return text[..i].to_string();
        }
    }
    text
}

/// A one-line guess at what a non-capture file is, for the error message.
fn describe_unknown(head: &[u8]) -> String {
    if head.is_empty() {
        return "empty file".into();
    }
    let guesses: [(&[u8], &str); 7] = [
        (b"\xff\xd8\xff", "a JPEG image"),
        (b"\x89PNG", "a PNG image"),
        (b"%PDF", "a PDF document"),
        (b"PK\x03\x04", "a ZIP archive"),
        (
            b"\x28\xb5\x2f\xfd",
            "a zstd-compressed file (decompress it first)",
        ),
        (b"BZh", "a bzip2-compressed file (decompress it first)"),
        (b"\xfd7zXZ", "an xz-compressed file (decompress it first)"),
    ];
    for (magic, what) in guesses {
        if head.starts_with(magic) {
            return what.into();
        }
    }
    if head
        .iter()
        .take(64)
        .all(|&b| (32..127).contains(&b) || b == b'\r' || b == b'\n' || b == b'\t')
    {
        return "a text file".into();
    }
    format!(
        "unknown magic 0x{}",
        hex::encode(&head[..head.len().min(4)])
    )
}

#[inline]
fn u16_at(b: &[u8], big: bool) -> u16 {
    let a = [b[0], b[1]];
    if big {
        u16::from_be_bytes(a)
    } else {
        u16::from_le_bytes(a)
    }
}

#[inline]
fn u32_at(b: &[u8], big: bool) -> u32 {
    let a = [b[0], b[1], b[2], b[3]];
    if big {
        u32::from_be_bytes(a)
    } else {
        u32::from_le_bytes(a)
    }
}

/// One pcapng interface (IDB) of the current section.
#[derive(Debug, Clone, Copy)]
struct Interface {
    linktype: u32,
    snaplen: u32,
    unit: f64,
    /// `if_tsoffset`, seconds (Python keeps it as an int and adds it to a float).
    offset: i64,
}

#[derive(Debug)]
enum Framing {
    Pcap {
        big: bool,
        scale: f64,
        snaplen: u32,
        linktype: u32,
        warned_snaplen: bool,
    },
    Pcapng {
        big: bool,
        interfaces: Vec<Interface>,
        seen_shb: bool,
    },
}

/// What parsing the record at the head of the buffer gave.
enum Step {
    /// A packet: its bytes are `buf[start..end]`; the record is consumed.
    Packet {
        start: usize,
        end: usize,
        ts: f64,
        linktype: u32,
        orig_len: u32,
    },
    /// A record consumed without a packet (a skipped packet, an interface, an unknown block...).
    Empty,
    /// The record is not whole in the buffer.
    NeedMore,
}

/// Streams the packets of one capture (pcap, pcapng, either gzip-compressed).
pub struct CaptureReader {
    /// "pcap", "pcapng", "pcap.gz" or "pcapng.gz".
    pub format: String,
    pub compressed: bool,
    /// Bytes of the (decompressed) file read so far.
    pub bytes_read: u64,
    /// Framing warnings, in the order Python's reader lists them (complete once `next_packet`
    /// has returned `None` or an error).
    pub warnings: Vec<CaptureWarning>,
    /// Packet records skipped by the framing layer (0 captured bytes, no interface...).
    pub skipped_packets: u64,
    /// TLS key log text from pcapng Decryption Secrets Blocks (type 0x544c534b), concatenated.
    pub keylog: Vec<u8>,
    name: String,
    src: Source,
    /// A decompression limit ended the data: the record it cut is not "truncation".
    stopped_early: bool,
    buf: Vec<u8>,
    pos: usize,
    /// File offset of `buf[0]`.
    base: u64,
    /// The source is exhausted, or damaged (a gzip error: reading ends there).
    eof: bool,
    done: bool,
    framing: Framing,
    warned: Vec<&'static str>,
    empty_run: u64,
    /// A pipe or device: packets handed out as their bytes come, not once a `CHUNK` has.
    stream: bool,
}

/// The most a stream's read asks for: a pipe's buffer (Linux: 64 KiB), what one read may fill.
const STREAM_READ: usize = 64 * 1024;

impl fmt::Debug for CaptureReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaptureReader")
            .field("name", &self.name)
            .field("format", &self.format)
            .field("bytes_read", &self.bytes_read)
            .field("warnings", &self.warnings)
            .field("skipped_packets", &self.skipped_packets)
            .finish_non_exhaustive()
    }
}

/// Read until `buf` is full or the source ends; an error after some bytes keeps them.
fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> (usize, Option<io::Error>) {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return (n, Some(e)),
        }
    }
    (n, None)
}

/// Where the (decompressed) bytes come from.
enum Source {
    Plain(Box<dyn Read + Send>),
    Gz(Box<gunzip::Gunzip>),
}

impl CaptureReader {
    /// Open a capture file (or a FIFO or character device, read as a stream), with the checks and
    /// messages of Python's `CaptureReader._open`.
    pub fn open(path: &Path) -> Result<CaptureReader, CaptureError> {
        let shown = path.display().to_string();
        let meta = std::fs::metadata(path)
            .map_err(|e| CaptureError::plain(format!("cannot open {shown}: {}", strerror(&e))))?;
        if meta.is_dir() {
            return Err(CaptureError::plain(format!(
                "{shown} is a directory, not a capture file"
            )));
        }
        if !meta.is_file() && !is_stream_file(&meta) {
            return Err(CaptureError::plain(format!(
                "{shown} is not a regular file (FIFO, device or socket)"
            )));
        }
        let f = File::open(path)
            .map_err(|e| CaptureError::plain(format!("cannot open {shown}: {}", strerror(&e))))?;
        Self::start(Box::new(f), shown, !meta.is_file())
    }

    /// Read a capture from any reader, in whole chunks as from a file (bytes in memory, a file
    /// already open).
    pub fn from_read(r: Box<dyn Read + Send>) -> Result<CaptureReader, CaptureError> {
        Self::from_read_named(r, "<stdin>")
    }

    /// As `from_read`, naming the source in read-error messages.
    pub fn from_read_named(
        r: Box<dyn Read + Send>,
        name: impl Into<String>,
    ) -> Result<CaptureReader, CaptureError> {
        Self::start(r, name.into(), false)
    }

    /// Read a capture from a pipe (stdin, a FIFO): each packet is handed out as soon as its bytes
    /// have come, not once a whole `CHUNK` has (Python's `_Stream`).
    pub fn from_stream(r: Box<dyn Read + Send>, name: impl Into<String>) -> Result<CaptureReader, CaptureError> {
        Self::start(r, name.into(), true)
    }

    fn start(mut raw: Box<dyn Read + Send>, name: String, stream: bool) -> Result<CaptureReader, CaptureError> {
        let mut magic = [0u8; 2];
        let (n, err) = read_full(&mut *raw, &mut magic);
        if let Some(e) = err {
            return Err(CaptureError::plain(format!(
                "read error on {name}: {}",
                strerror(&e)
            )));
        }
        let prefix = Cursor::new(magic[..n].to_vec());
        let joined: Box<dyn Read + Send> = Box::new(prefix.chain(raw));
        let compressed = n == 2 && magic == GZIP_MAGIC;
        let src = if compressed {
            Source::Gz(Box::new(gunzip::Gunzip::new(joined)))
        } else {
            Source::Plain(joined)
        };
        let mut reader = CaptureReader {
            format: String::new(),
            compressed,
            bytes_read: 0,
            warnings: Vec::new(),
            skipped_packets: 0,
            keylog: Vec::new(),
            name,
            src,
            stopped_early: false,
            buf: Vec::new(),
            pos: 0,
            base: 0,
            eof: false,
            done: false,
            framing: Framing::Pcapng {
                big: false,
                interfaces: Vec::new(),
                seen_shb: false,
            },
            warned: Vec::new(),
            empty_run: 0,
            stream,
        };
        reader.read_head()?;
        Ok(reader)
    }

    /// Python's `_stream` up to the choice of parser: the first 24 bytes name the format.
    fn read_head(&mut self) -> Result<(), CaptureError> {
        self.read_more(24, true)?;
        let head = &self.buf[..];
        let is_shb = head.len() >= 4 && head[..4] == PCAPNG_SHB;
        let magic = if head.len() >= 4 {
            pcap_magic(&head[..4])
        } else {
            None
        };
        if head.len() < 24 && !is_shb {
            if magic.is_some() {
                return Err(CaptureError::at(
                    "pcap file header cut short",
                    head.len() as u64,
                ));
            }
            return Err(CaptureError::at(
                format!("not a pcap or pcapng capture: {}", describe_unknown(head)),
                0,
            ));
        }
        if let Some((big, scale)) = magic {
            let snaplen = u32_at(&head[16..], big);
            let linktype = u32_at(&head[20..], big) & 0x0FFF_FFFF; // upper bits: FCS length flags
            self.framing = Framing::Pcap {
                big,
                scale,
                snaplen,
                linktype,
                warned_snaplen: false,
            };
            self.format = "pcap".into();
            self.pos = 24; // the file header is not a record
        } else if is_shb {
            self.format = "pcapng".into();
        } else {
            return Err(CaptureError::at(
                format!("not a pcap or pcapng capture: {}", describe_unknown(head)),
                0,
            ));
        }
        if self.compressed {
            self.format.push_str(".gz");
        }
        Ok(())
    }

    /// Append up to `want` bytes from the source to the buffer: all of them unless the source
    /// ends (`whole`, or not a stream); from a stream, what one read gives. A gzip stream that is
    /// damaged, cut short or over a decompression limit keeps what it gave; the read after it
    /// gives nothing and its warning (Python's `_read`).
    fn read_more(&mut self, want: usize, whole: bool) -> Result<usize, CaptureError> {
        let old = self.buf.len();
        let partial = self.stream && !whole;
        let res = match &mut self.src {
            Source::Plain(r) if partial => {
                self.buf.resize(old + want.min(STREAM_READ), 0);
                let got = loop {
                    match r.read(&mut self.buf[old..]) {
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        other => break other,
                    }
                };
                self.buf.truncate(old + *got.as_ref().unwrap_or(&0));
                got
            }
            Source::Plain(r) => (&mut **r).take(want as u64).read_to_end(&mut self.buf),
            Source::Gz(g) => g.read(want, &mut self.buf),
        };
        let n = self.buf.len() - old;
        self.bytes_read += n as u64;
        if let Err(e) = res {
            self.eof = true;
            return Err(CaptureError::plain(format!(
                "read error on {}: {}",
                self.name,
                strerror(&e)
            )));
        }
        match &mut self.src {
            Source::Plain(_) if partial && n == 0 => self.eof = true,
            Source::Plain(_) if !partial && n < want => self.eof = true,
            Source::Gz(g) if n == 0 => {
                self.eof = true;
                if let Some(w) = g.problem.take() {
                    self.stopped_early = w.code != "capture_truncated";
                    // Python lists it before the parser's warnings (which it adds at the end)
                    self.warnings.insert(0, w);
                }
            }
            _ => {}
        }
        Ok(n)
    }

    /// Decompression limits of a gzip capture (Python's `CaptureReader.max_gunzip_bytes`,
    /// `max_gunzip_ratio`, `gunzip_ratio_floor`); no effect on an uncompressed one. Call it
    /// before the first `next_packet`: the limits are checked at once against the 24 bytes
    /// `open` read, as Python checks them after that first read.
    pub fn set_gunzip_limits(&mut self, max_bytes: u64, max_ratio: u64, ratio_floor: u64) {
        if let Source::Gz(g) = &mut self.src {
            g.max_bytes = max_bytes;
            g.max_ratio = max_ratio;
            g.ratio_floor = ratio_floor;
            g.check_limits();
        }
    }

    /// The next packet, or `None` at the end of the capture. An `Err` means the framing broke (or
    /// the source failed) after every packet before the break was handed out; reading ends there.
    pub fn next_packet(&mut self) -> Result<Option<PacketRef<'_>>, CaptureError> {
        let (start, end, ts, linktype, orig_len) = loop {
            if self.done {
                return Ok(None);
            }
            let step = match self.step() {
                Ok(s) => s,
                Err(e) => {
                    self.done = true;
                    return Err(e);
                }
            };
            match step {
                Step::Packet {
                    start,
                    end,
                    ts,
                    linktype,
                    orig_len,
                } => {
                    self.empty_run = 0;
                    break (start, end, ts, linktype, orig_len);
                }
                Step::Empty => {
                    self.empty_run += 1;
                    if self.empty_run > MAX_EMPTY_RUN {
                        self.done = true;
                        self.warnings.push(CaptureWarning::new(
                            "empty_record_flood",
                            format!(
                                "more than {MAX_EMPTY_RUN} consecutive records carry no packet data; reading stopped there"
                            ),
                        ));
                        return Ok(None);
                    }
                }
                Step::NeedMore => {
                    if !self.eof {
                        if self.pos > 0 {
                            self.buf.drain(..self.pos);
                            self.base += self.pos as u64;
                            self.pos = 0;
                        }
                        if let Err(e) = self.read_more(CHUNK, false) {
                            self.done = true;
                            return Err(e);
                        }
                        continue;
                    }
                    self.done = true;
                    self.close();
                    return Ok(None);
                }
            }
        };
        Ok(Some(PacketRef {
            ts,
            linktype,
            data: &self.buf[start..end],
            orig_len,
        }))
    }

    /// The end of the stream: a record left incomplete is `capture_truncated` (Python's `close`).
    fn close(&mut self) {
        let left = self.buf.len() - self.pos;
        if left > 0 && !self.stopped_early {
            let what = if matches!(self.framing, Framing::Pcap { .. }) {
                "packet"
            } else {
                "block"
            };
            self.warnings.push(CaptureWarning::new(
                "capture_truncated",
                format!(
                    "the capture is cut short in the middle of a {what} ({left} bytes left over)"
                ),
            ));
            self.pos = self.buf.len();
        }
    }

    fn warn_once(&mut self, code: &'static str, detail: impl FnOnce() -> String) {
        if !self.warned.contains(&code) {
            self.warned.push(code);
            self.warnings.push(CaptureWarning::new(code, detail()));
        }
    }

    /// A timestamp no calendar can hold (year > 2262, or negative) becomes 0 (1970), warned once.
    fn bad_ts(&mut self, ts: f64) -> f64 {
        self.warn_once("timestamp_out_of_range", || {
            format!(
                "a packet timestamp ({ts:.0} s) is out of range; such timestamps are shown as 1970-01-01"
            )
        });
        0.0
    }

    fn step(&mut self) -> Result<Step, CaptureError> {
        match self.framing {
            Framing::Pcap { .. } => self.pcap_record(),
            Framing::Pcapng { .. } => self.pcapng_block(),
        }
    }
}

#[cfg(unix)]
fn is_stream_file(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    t.is_fifo() || t.is_char_device()
}

#[cfg(not(unix))]
fn is_stream_file(_meta: &std::fs::Metadata) -> bool {
    false
}
