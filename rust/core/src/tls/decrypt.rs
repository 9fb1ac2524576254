//! Key-log decryption, ported from `inspector/tls/decrypt.py` (same acceptance rules, same
//! answers).
//!
//! Sans-I/O except [`read_keylog`], which pulls lines from any [`BufRead`] with bounded memory,
//! and [`load_keylog`], which opens a key log file (regular files only) for it.
//!
//! - [`parse_keylog`] / [`KeyLogParser`] / [`read_keylog`]: the NSS key log format
//!   (`SSLKEYLOGFILE`): `LABEL <client_random hex> <secret hex>` per line, `#` comments; a line
//!   that is not that shape counts in [`KeyLog::bad_lines`].
//! - [`hkdf_expand_label`]: RFC 8446 section 7.1.
//! - [`RecordDecryptor`]: one direction of TLS 1.3 under one traffic secret (RFC 8446 section 5.2
//!   and 5.3: key and IV from HKDF-Expand-Label, nonce = IV xor sequence number, AAD = the record
//!   header); AES-128/256-GCM, ChaCha20-Poly1305, AES-128-CCM and AES-128-CCM-8.
//! - [`tls12_prf`], [`tls12_aead`], [`Tls12Decryptor`]: TLS 1.2 AEAD suites (RFC 5246 section 5,
//!   RFC 5288, RFC 7905) from the master secret, used to read alerts sent after ChangeCipherSpec.
//!
//! Nothing here panics on short or hostile input: a record that does not authenticate is `None`.

use std::collections::HashMap;
use std::fmt;
use std::io::{self, BufRead};

use aes::Aes128;
use aes_gcm::aead::consts::{U12, U16, U8};
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes128Gcm, Aes256Gcm};
use ccm::Ccm;
use chacha20poly1305::ChaCha20Poly1305;
use hmac::{Hmac, Mac};
use sha2::{Sha256, Sha384};

// ---- key log ---------------------------------------------------------------------------------

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

// ---- HKDF and the TLS 1.3 record decryptor ---------------------------------------------------

/// The hash of a key schedule or PRF.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashAlg {
    Sha256,
    Sha384,
}

impl HashAlg {
    /// Output length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            HashAlg::Sha256 => 32,
            HashAlg::Sha384 => 48,
        }
    }
}

/// HMAC over the concatenation of `parts`; a key of any length (HMAC hashes long keys).
fn hmac(hash: HashAlg, key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    match hash {
        HashAlg::Sha256 => {
            let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
            parts.iter().for_each(|p| m.update(p));
            m.finalize().into_bytes().to_vec()
        }
        HashAlg::Sha384 => {
            let mut m = <Hmac<Sha384> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
            parts.iter().for_each(|p| m.update(p));
            m.finalize().into_bytes().to_vec()
        }
    }
}

/// HKDF-Expand (RFC 5869) with `prk` used as the HMAC key whatever its length (as
/// `cryptography`'s `HKDFExpand`); `None` when `length` exceeds 255 hash lengths.
fn hkdf_expand(hash: HashAlg, prk: &[u8], info: &[u8], length: usize) -> Option<Vec<u8>> {
    if length > 255 * hash.output_len() {
        return None;
    }
    let mut out = Vec::with_capacity(length + hash.output_len());
    let mut t: Vec<u8> = Vec::new();
    let mut counter: u8 = 1;
    while out.len() < length {
        t = hmac(hash, prk, &[&t, info, &[counter]]);
        out.extend_from_slice(&t);
        counter = counter.wrapping_add(1);
    }
    out.truncate(length);
    Some(out)
}

/// RFC 8446 section 7.1: HKDF-Expand-Label(secret, "tls13 " + label, context, length). `None`
/// when the label or context is longer than 255 bytes or `length` is out of HKDF's range.
pub fn hkdf_expand_label(
    secret: &[u8],
    label: &[u8],
    context: &[u8],
    length: usize,
    hash: HashAlg,
) -> Option<Vec<u8>> {
    let full_len = 6 + label.len();
    let length16 = u16::try_from(length).ok()?;
    let (full_len, ctx_len) = (u8::try_from(full_len).ok()?, u8::try_from(context.len()).ok()?);
    let mut info = Vec::with_capacity(4 + full_len as usize + context.len());
    info.extend_from_slice(&length16.to_be_bytes());
    info.push(full_len);
    info.extend_from_slice(b"tls13 ");
    info.extend_from_slice(label);
    info.push(ctx_len);
    info.extend_from_slice(context);
    hkdf_expand(hash, secret, &info, length)
}

/// A TLS 1.3 AEAD: which cipher, the key length and the tag length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tls13Suite {
    pub cipher_suite: u16,
    pub key_len: usize,
    pub hash: HashAlg,
    pub tag_len: usize,
}

/// The TLS 1.3 cipher suites the key log can decrypt (Python's `TLS13_SUITES`).
pub fn tls13_suite(cipher_suite: u16) -> Option<Tls13Suite> {
    let (key_len, hash, tag_len) = match cipher_suite {
        0x1301 => (16, HashAlg::Sha256, 16),
        0x1302 => (32, HashAlg::Sha384, 16),
        0x1303 => (32, HashAlg::Sha256, 16),
        0x1304 => (16, HashAlg::Sha256, 16),
        0x1305 => (16, HashAlg::Sha256, 8),
        _ => return None,
    };
    Some(Tls13Suite { cipher_suite, key_len, hash, tag_len })
}

type Aes128Ccm = Ccm<Aes128, U16, U12>;
type Aes128Ccm8 = Ccm<Aes128, U8, U12>;

/// One AEAD keyed for one direction.
#[derive(Clone)]
enum AeadKey {
    Aes128Gcm(Box<Aes128Gcm>),
    Aes256Gcm(Box<Aes256Gcm>),
    ChaCha20Poly1305(Box<ChaCha20Poly1305>),
    Aes128Ccm(Box<Aes128Ccm>),
    Aes128Ccm8(Box<Aes128Ccm8>),
}

impl AeadKey {
    /// Decrypt and authenticate `ciphertext` (tag at the end); `None` on any failure.
    fn open(&self, nonce: &[u8; 12], ciphertext: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
        let payload = Payload { msg: ciphertext, aad };
        let nonce = aes_gcm::Nonce::from_slice(nonce);
        match self {
            AeadKey::Aes128Gcm(k) => k.decrypt(nonce, payload).ok(),
            AeadKey::Aes256Gcm(k) => k.decrypt(nonce, payload).ok(),
            AeadKey::ChaCha20Poly1305(k) => k.decrypt(nonce, payload).ok(),
            AeadKey::Aes128Ccm(k) => k.decrypt(nonce, payload).ok(),
            AeadKey::Aes128Ccm8(k) => k.decrypt(nonce, payload).ok(),
        }
    }
}

impl fmt::Debug for AeadKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            AeadKey::Aes128Gcm(_) => "AES-128-GCM",
            AeadKey::Aes256Gcm(_) => "AES-256-GCM",
            AeadKey::ChaCha20Poly1305(_) => "ChaCha20-Poly1305",
            AeadKey::Aes128Ccm(_) => "AES-128-CCM",
            AeadKey::Aes128Ccm8(_) => "AES-128-CCM-8",
        };
        f.write_str(name) // never the key
    }
}

fn xor_seq(iv: &[u8; 12], seq: u64) -> [u8; 12] {
    let mut nonce = *iv;
    for (n, s) in nonce[4..].iter_mut().zip(seq.to_be_bytes()) {
        *n ^= s;
    }
    nonce
}

/// One direction of TLS 1.3, one traffic secret. `decrypt` gives (inner content type, content).
#[derive(Clone, Debug)]
pub struct RecordDecryptor {
    aead: AeadKey,
    iv: [u8; 12],
    /// Records decrypted so far (the next record's sequence number).
    pub seq: u64,
    pub tag_len: usize,
}

impl RecordDecryptor {
    /// Keys for `cipher_suite` from a traffic secret; `None` if the suite is not a TLS 1.3 one.
    pub fn new(cipher_suite: u16, secret: &[u8]) -> Option<Self> {
        let suite = tls13_suite(cipher_suite)?;
        let key = hkdf_expand_label(secret, b"key", b"", suite.key_len, suite.hash)?;
        let iv: [u8; 12] = hkdf_expand_label(secret, b"iv", b"", 12, suite.hash)?.try_into().ok()?;
        let aead = match cipher_suite {
            0x1301 => AeadKey::Aes128Gcm(Box::new(Aes128Gcm::new_from_slice(&key).ok()?)),
            0x1302 => AeadKey::Aes256Gcm(Box::new(Aes256Gcm::new_from_slice(&key).ok()?)),
            0x1303 => AeadKey::ChaCha20Poly1305(Box::new(ChaCha20Poly1305::new_from_slice(&key).ok()?)),
            0x1304 => AeadKey::Aes128Ccm(Box::new(Aes128Ccm::new_from_slice(&key).ok()?)),
            0x1305 => AeadKey::Aes128Ccm8(Box::new(Aes128Ccm8::new_from_slice(&key).ok()?)),
            _ => return None,
        };
        Some(RecordDecryptor { aead, iv, seq: 0, tag_len: suite.tag_len })
    }

    /// Decrypt one record (`header` = its 5 bytes, the AAD). On success the sequence number
    /// advances and the padding is removed; a record that does not authenticate (or holds only
    /// padding) is `None`.
    pub fn decrypt(&mut self, header: &[u8], ciphertext: &[u8]) -> Option<(u8, Vec<u8>)> {
        let nonce = xor_seq(&self.iv, self.seq);
        let mut plain = self.aead.open(&nonce, ciphertext, header)?;
        self.seq = self.seq.wrapping_add(1);
        let end = plain.iter().rposition(|&b| b != 0)?;
        let inner = plain[end];
        plain.truncate(end);
        Some((inner, plain))
    }
}

// ---- TLS 1.2 (AEAD suites) -------------------------------------------------------------------

/// RFC 5246 section 5: P_hash(secret, label + seed) with HMAC, `length` bytes.
pub fn tls12_prf(secret: &[u8], label: &[u8], seed: &[u8], length: usize, hash: HashAlg) -> Vec<u8> {
    let mut full_seed = Vec::with_capacity(label.len() + seed.len());
    full_seed.extend_from_slice(label);
    full_seed.extend_from_slice(seed);
    let mut out = Vec::with_capacity(length + hash.output_len());
    let mut a = full_seed.clone();
    while out.len() < length {
        a = hmac(hash, secret, &[&a]);
        out.extend_from_slice(&hmac(hash, secret, &[&a, &full_seed]));
    }
    out.truncate(length);
    out
}

/// The AEAD of a TLS 1.2 suite.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tls12Cipher {
    Aes128Gcm,
    Aes256Gcm,
    ChaCha20Poly1305,
}

/// What a TLS 1.2 AEAD suite needs: cipher, key length, fixed IV length, PRF hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tls12Aead {
    pub cipher: Tls12Cipher,
    pub key_len: usize,
    pub iv_len: usize,
    pub prf_hash: HashAlg,
}

/// A TLS 1.2 AEAD suite by its IANA name (e.g. `TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`), else
/// `None` (CBC suites are not decrypted).
pub fn tls12_aead(cipher_name: &str) -> Option<Tls12Aead> {
    let prf_hash = if cipher_name.ends_with("SHA384") { HashAlg::Sha384 } else { HashAlg::Sha256 };
    let (cipher, key_len, iv_len) = if cipher_name.contains("_AES_128_GCM_") {
        (Tls12Cipher::Aes128Gcm, 16, 4)
    } else if cipher_name.contains("_AES_256_GCM_") {
        (Tls12Cipher::Aes256Gcm, 32, 4)
    } else if cipher_name.contains("_CHACHA20_POLY1305_") {
        (Tls12Cipher::ChaCha20Poly1305, 32, 12)
    } else {
        return None;
    };
    Some(Tls12Aead { cipher, key_len, iv_len, prf_hash })
}

/// One direction of a TLS 1.2 AEAD connection, from the master secret (RFC 5288, RFC 7905).
///
/// `seq` counts this side's records since its ChangeCipherSpec; the caller advances it with
/// [`skip`](Self::skip) for records it does not decrypt (Finished, application data).
#[derive(Clone, Debug)]
pub struct Tls12Decryptor {
    aead: AeadKey,
    /// The fixed IV: 4 bytes (GCM, the implicit part of the nonce) or 12 (ChaCha20-Poly1305).
    iv: [u8; 12],
    chacha: bool,
    pub seq: u64,
    pub version: u16,
}

impl Tls12Decryptor {
    /// Keys for one side (`client_side`: the client's write keys, else the server's); `None` if
    /// `cipher_name` is not a TLS 1.2 AEAD suite.
    pub fn new(
        cipher_name: &str,
        master_secret: &[u8],
        client_random: &[u8],
        server_random: &[u8],
        client_side: bool,
        version: u16,
    ) -> Option<Self> {
        let spec = tls12_aead(cipher_name)?;
        let (kl, il) = (spec.key_len, spec.iv_len);
        let mut seed = Vec::with_capacity(server_random.len() + client_random.len());
        seed.extend_from_slice(server_random);
        seed.extend_from_slice(client_random);
        let block = tls12_prf(master_secret, b"key expansion", &seed, 2 * kl + 2 * il, spec.prf_hash);
        let (ck, sk) = (&block[..kl], &block[kl..2 * kl]);
        let (civ, siv) = (&block[2 * kl..2 * kl + il], &block[2 * kl + il..]);
        let key = if client_side { ck } else { sk };
        let aead = match spec.cipher {
            Tls12Cipher::Aes128Gcm => AeadKey::Aes128Gcm(Box::new(Aes128Gcm::new_from_slice(key).ok()?)),
            Tls12Cipher::Aes256Gcm => AeadKey::Aes256Gcm(Box::new(Aes256Gcm::new_from_slice(key).ok()?)),
            Tls12Cipher::ChaCha20Poly1305 => {
                AeadKey::ChaCha20Poly1305(Box::new(ChaCha20Poly1305::new_from_slice(key).ok()?))
            }
        };
        let mut iv = [0u8; 12];
        iv[..il].copy_from_slice(if client_side { civ } else { siv });
        Some(Tls12Decryptor {
            aead,
            iv,
            chacha: spec.cipher == Tls12Cipher::ChaCha20Poly1305,
            seq: 0,
            version,
        })
    }

    /// A record of this side that is not decrypted: the sequence number advances.
    pub fn skip(&mut self) {
        self.seq = self.seq.wrapping_add(1);
    }

    /// The plaintext of one record's payload, or `None`; the sequence number advances either way.
    pub fn decrypt(&mut self, content_type: u8, payload: &[u8]) -> Option<Vec<u8>> {
        let seq = self.seq;
        self.seq = self.seq.wrapping_add(1);
        let (nonce, ct): ([u8; 12], &[u8]) = if self.chacha {
            (xor_seq(&self.iv, seq), payload)
        } else {
            if payload.len() < 8 + 16 {
                return None;
            }
            let mut nonce = [0u8; 12];
            nonce[..4].copy_from_slice(&self.iv[..4]);
            nonce[4..].copy_from_slice(&payload[..8]);
            (nonce, &payload[8..])
        };
        if ct.len() < 16 {
            return None;
        }
        let plain_len = u16::try_from(ct.len() - 16).ok()?;
        let mut aad = Vec::with_capacity(13);
        aad.extend_from_slice(&seq.to_be_bytes());
        aad.push(content_type);
        aad.extend_from_slice(&self.version.to_be_bytes());
        aad.extend_from_slice(&plain_len.to_be_bytes());
        self.aead.open(&nonce, ct, &aad)
    }
}
