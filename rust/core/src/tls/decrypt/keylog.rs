//! The NSS key log format (`SSLKEYLOGFILE`): `LABEL <client_random hex> <secret hex>` per
//! line, `#` comments; parsed whole ([`parse_keylog`]), fed in pieces ([`KeyLogParser`]), read
//! from a stream with bounded memory ([`read_keylog`]) or from a file ([`load_keylog`]).

use std::collections::HashMap;
use std::fmt;
use std::io::{self, BufRead};

/// The labels of an NSS key log line that the engine keeps (any other label is a bad line).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Label {
    ClientHandshakeTrafficSecret,
    ServerHandshakeTrafficSecret,
    ClientTrafficSecret0,
    ServerTrafficSecret0,
    /// TLS 1.2 (and earlier): the master secret.
    ClientRandom,
    ClientEarlyTrafficSecret,
    ExporterSecret,
}

impl Label {
    /// Every label, in the order of Python's `LABELS`.
    pub const ALL: [Label; 7] = [
        Label::ClientHandshakeTrafficSecret,
        Label::ServerHandshakeTrafficSecret,
        Label::ClientTrafficSecret0,
        Label::ServerTrafficSecret0,
        Label::ClientRandom,
        Label::ClientEarlyTrafficSecret,
        Label::ExporterSecret,
    ];

    /// The label as written in a key log, e.g. `CLIENT_HANDSHAKE_TRAFFIC_SECRET`.
    pub fn name(self) -> &'static str {
        match self {
            Label::ClientHandshakeTrafficSecret => "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
            Label::ServerHandshakeTrafficSecret => "SERVER_HANDSHAKE_TRAFFIC_SECRET",
            Label::ClientTrafficSecret0 => "CLIENT_TRAFFIC_SECRET_0",
            Label::ServerTrafficSecret0 => "SERVER_TRAFFIC_SECRET_0",
            Label::ClientRandom => "CLIENT_RANDOM",
            Label::ClientEarlyTrafficSecret => "CLIENT_EARLY_TRAFFIC_SECRET",
            Label::ExporterSecret => "EXPORTER_SECRET",
        }
    }

    /// The label named exactly so (case-sensitive), else `None`.
    pub fn from_name(name: &[u8]) -> Option<Label> {
        Label::ALL.into_iter().find(|l| l.name().as_bytes() == name)
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The secrets logged for one client random: at most one per [`Label`] (a later line wins).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Secrets {
    by_label: [Option<Vec<u8>>; 7],
}

impl Secrets {
    /// The secret logged under `label`, if any.
    pub fn get(&self, label: Label) -> Option<&[u8]> {
        self.by_label[label.index()].as_deref()
    }

    /// Whether a secret is logged under `label` (Python's `label in secrets`).
    pub fn contains(&self, label: Label) -> bool {
        self.by_label[label.index()].is_some()
    }

    /// Store (or replace) the secret under `label`.
    pub fn insert(&mut self, label: Label, secret: Vec<u8>) {
        self.by_label[label.index()] = Some(secret);
    }

    /// How many labels have a secret.
    pub fn len(&self) -> usize {
        self.by_label.iter().filter(|s| s.is_some()).count()
    }

    /// No secret at all (never the case for an entry of a parsed [`KeyLog`]).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A parsed key log: client_random -> secrets, plus the count of lines that were not key log lines.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyLog {
    pub secrets: HashMap<[u8; 32], Secrets>,
    pub bad_lines: u64,
}

impl KeyLog {
    /// The secrets for a ClientHello's random, if the log has any.
    pub fn get(&self, client_random: &[u8]) -> Option<&Secrets> {
        let key: [u8; 32] = client_random.try_into().ok()?;
        self.secrets.get(&key)
    }

    /// How many client randoms have secrets (Python's `len(log)`).
    pub fn len(&self) -> usize {
        self.secrets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// Add `other`'s secrets (e.g. a pcapng Decryption Secrets Block's key log on top of
    /// `--keylog`): for the same client random and label, `other` wins, as a later line would.
    pub fn merge(&mut self, other: KeyLog) {
        for (cr, secrets) in other.secrets {
            let mine = self.secrets.entry(cr).or_default();
            for label in Label::ALL {
                if let Some(s) = secrets.get(label) {
                    mine.insert(label, s.to_vec());
                }
            }
        }
        self.bad_lines += other.bad_lines;
    }

    /// Judge one line (without its line break), exactly as `parse_keylog` does.
    pub fn feed_line(&mut self, line: &[u8]) {
        let line = strip(line);
        if line.is_empty() || line[0] == b'#' {
            return;
        }
        let mut parts = line.split(|&b| is_space(b)).filter(|p| !p.is_empty());
        let (Some(label), Some(cr), Some(secret), None) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            self.bad_lines += 1;
            return;
        };
        let Some(label) = Label::from_name(label) else {
            self.bad_lines += 1;
            return;
        };
        let (Some(cr), Some(secret)) = (from_hex(cr), from_hex(secret)) else {
            self.bad_lines += 1;
            return;
        };
        let Ok(cr) = <[u8; 32]>::try_from(cr.as_slice()) else {
            self.bad_lines += 1;
            return;
        };
        self.secrets.entry(cr).or_default().insert(label, secret);
    }
}

/// Python's `str.isspace()` over the ASCII range (the key log is decoded as ASCII; any byte
/// >= 0x80 becomes U+FFFD, which is not whitespace).
fn is_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | 0x1c..=0x1f | b' ')
}

/// Python's `str.splitlines()` boundaries over the ASCII range (`\r\n` gives an empty line
/// between, which is skipped like any empty line).
fn is_line_break(b: u8) -> bool {
    matches!(b, b'\n' | b'\r' | 0x0b | 0x0c | 0x1c..=0x1e)
}

fn strip(mut s: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = s {
        if !is_space(*first) {
            break;
        }
        s = rest;
    }
    while let [rest @ .., last] = s {
        if !is_space(*last) {
            break;
        }
        s = rest;
    }
    s
}

/// `bytes.fromhex` on a token without whitespace: an even number of hex digits, either case.
fn from_hex(s: &[u8]) -> Option<Vec<u8>> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    if !s.len().is_multiple_of(2) {
        return None;
    }
    s.chunks_exact(2).map(|p| Some(nibble(p[0])? << 4 | nibble(p[1])?)).collect()
}

/// A line longer than this (in bytes, line break excluded) is a bad line unless it is a comment;
/// a genuine key log line is under 300 bytes. It bounds the parser's memory.
pub const MAX_LINE: usize = 64 * 1024;

/// Sans-I/O, streaming key log parser: feed any chunks of bytes, then `finish`. Memory: one line
/// of at most [`MAX_LINE`] bytes, plus the secrets kept.
#[derive(Debug, Default)]
pub struct KeyLogParser {
    log: KeyLog,
    line: Vec<u8>,
    /// The current line passed `MAX_LINE`; its bytes are no longer kept.
    overlong: bool,
    /// The first non-whitespace byte of an overlong line (a `#` makes it a comment).
    overlong_first: Option<u8>,
}

impl KeyLogParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feed the next bytes of the key log.
    pub fn feed(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            match data.iter().position(|&b| is_line_break(b)) {
                Some(i) => {
                    self.push(&data[..i]);
                    self.end_line();
                    data = &data[i + 1..];
                }
                None => {
                    self.push(data);
                    return;
                }
            }
        }
    }

    /// The last line (without a final line break) and the parsed log.
    pub fn finish(mut self) -> KeyLog {
        self.end_line();
        self.log
    }

    /// What was parsed so far (complete lines only).
    pub fn log(&self) -> &KeyLog {
        &self.log
    }

    fn push(&mut self, part: &[u8]) {
        if self.overlong {
            if self.overlong_first.is_none() {
                self.overlong_first = part.iter().copied().find(|&b| !is_space(b));
            }
            return;
        }
        if self.line.len() + part.len() > MAX_LINE {
            self.overlong = true;
            self.overlong_first = self.line.iter().chain(part).copied().find(|&b| !is_space(b));
            self.line = Vec::new();
            return;
        }
        self.line.extend_from_slice(part);
    }

    fn end_line(&mut self) {
        if self.overlong {
            if !matches!(self.overlong_first, None | Some(b'#')) {
                self.log.bad_lines += 1;
            }
            self.overlong = false;
            self.overlong_first = None;
        } else {
            let line = std::mem::take(&mut self.line);
            self.log.feed_line(&line);
            self.line = line;
            self.line.clear();
        }
    }
}

/// Python's `parse_keylog(text)` over the key log's bytes (e.g. a pcapng Decryption Secrets Block).
pub fn parse_keylog(text: &[u8]) -> KeyLog {
    let mut p = KeyLogParser::new();
    p.feed(text);
    p.finish()
}

/// Why [`read_keylog`] or [`load_keylog`] gave up. `Display` is one line for the user; for
/// [`load_keylog`]'s errors it names the file, with the Python engine's wording where it has one.
#[derive(Debug)]
pub enum KeyLogError {
    /// Reading failed.
    Io(io::Error),
    /// More than `max_bytes` bytes: the reading stopped there.
    TooLarge { max_bytes: u64 },
    /// [`load_keylog`]: `path` could not be opened or read (`reason` as `strerror` says it).
    Unreadable { path: String, reason: String },
    /// [`load_keylog`]: a FIFO, device, socket or directory (it could block or never end).
    NotAFile { path: String, kind: &'static str },
    /// [`load_keylog`]: larger than `max_bytes`.
    FileTooLarge { path: String, max_bytes: u64 },
    /// [`load_keylog`]: not one key log line in the file.
    Empty { path: String },
}

impl fmt::Display for KeyLogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyLogError::Io(e) => write!(f, "{e}"),
            KeyLogError::TooLarge { max_bytes } => {
                write!(f, "the key log is larger than {max_bytes} bytes")
            }
            KeyLogError::Unreadable { path, reason } => write!(f, "cannot read key log {path}: {reason}"),
            KeyLogError::NotAFile { path, kind } => write!(f, "cannot read key log {path}: {kind}"),
            KeyLogError::FileTooLarge { path, max_bytes } => {
                write!(f, "cannot read key log {path}: larger than {max_bytes} bytes")
            }
            KeyLogError::Empty { path } => {
                write!(f, "{path} holds no key log lines (NSS key log format expected)")
            }
        }
    }
}

/// An I/O error as Python's `strerror` reads: without Rust's " (os error N)" suffix.
fn strerror(e: &io::Error) -> String {
    let text = e.to_string();
    match text.rfind(" (os error ") {
        Some(i) if text.ends_with(')') => text[..i].to_owned(),
        _ => text,
    }
}

/// What a file that is not a regular file is, for the error message.
#[cfg(unix)]
fn file_kind(ft: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_fifo() {
        "a FIFO"
    } else if ft.is_char_device() {
        "a character device"
    } else if ft.is_block_device() {
        "a block device"
    } else if ft.is_socket() {
        "a socket"
    } else if ft.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

#[cfg(not(unix))]
fn file_kind(ft: &std::fs::FileType) -> &'static str {
    if ft.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

/// Read a key log file (the only I/O of this module): regular files only (a FIFO would block,
/// `/dev/zero` never ends), streamed line by line, at most `max_bytes`
/// ([`DEFAULT_MAX_KEYLOG_BYTES`] is a sane default); a file without a single key log line is an
/// error, as in the Python engine.
pub fn load_keylog(path: &std::path::Path, max_bytes: u64) -> Result<KeyLog, KeyLogError> {
    let shown = path.display().to_string();
    let unreadable = |e: &io::Error| KeyLogError::Unreadable { path: shown.clone(), reason: strerror(e) };
    let meta = std::fs::metadata(path).map_err(|e| unreadable(&e))?;
    if !meta.is_file() {
        return Err(KeyLogError::NotAFile { path: shown, kind: file_kind(&meta.file_type()) });
    }
    let file = std::fs::File::open(path).map_err(|e| unreadable(&e))?;
    // Opened after the check: re-check the opened file (it may have been swapped meanwhile).
    match file.metadata() {
        Ok(m) if m.is_file() => {}
        Ok(m) => return Err(KeyLogError::NotAFile { path: shown, kind: file_kind(&m.file_type()) }),
        Err(e) => return Err(unreadable(&e)),
    }
    let log = match read_keylog(io::BufReader::with_capacity(64 * 1024, file), max_bytes) {
        Ok(log) => log,
        Err(KeyLogError::TooLarge { max_bytes }) => return Err(KeyLogError::FileTooLarge { path: shown, max_bytes }),
        Err(KeyLogError::Io(e)) => return Err(unreadable(&e)),
        Err(other) => return Err(other),
    };
    if log.is_empty() {
        return Err(KeyLogError::Empty { path: shown });
    }
    Ok(log)
}

impl std::error::Error for KeyLogError {}

/// Default cap on a key log's size for [`read_keylog`]: 256 MiB (about a million connections).
pub const DEFAULT_MAX_KEYLOG_BYTES: u64 = 256 * 1024 * 1024;

/// Stream a key log line by line from `reader`; memory is one line plus the secrets kept. More
/// than `max_bytes` bytes is an error (a runaway file, `/dev/zero`); an interrupted read is retried.
pub fn read_keylog<R: BufRead>(mut reader: R, max_bytes: u64) -> Result<KeyLog, KeyLogError> {
    let mut parser = KeyLogParser::new();
    let mut total: u64 = 0;
    loop {
        let chunk = match reader.fill_buf() {
            Ok(c) => c,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(KeyLogError::Io(e)),
        };
        if chunk.is_empty() {
            return Ok(parser.finish());
        }
        let n = chunk.len();
        total = total.saturating_add(n as u64);
        if total > max_bytes {
            return Err(KeyLogError::TooLarge { max_bytes });
        }
        parser.feed(chunk);
        reader.consume(n);
    }
}
