//! Key-log decryption, ported from `inspector/tls/decrypt.py` (same acceptance rules, same
//! answers).
//!
//! Sans-I/O except [`read_keylog`], which pulls lines from any [`BufRead`](std::io::BufRead) with
//! bounded memory, and [`load_keylog`], which opens a key log file (regular files only) for it.
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
//!
//! Its parts: `keylog` (the key log and its readers), `tls13` (HKDF, the TLS 1.3 record
//! decryptor and the AEADs both versions use), `tls12` (the TLS 1.2 PRF and AEAD decryptor).

mod keylog;
mod tls12;
mod tls13;

pub use keylog::{
    load_keylog, parse_keylog, read_keylog, KeyLog, KeyLogError, KeyLogParser, Label, Secrets,
    DEFAULT_MAX_KEYLOG_BYTES, MAX_LINE,
};
pub use tls12::{tls12_aead, tls12_prf, Tls12Aead, Tls12Cipher, Tls12Decryptor};
pub use tls13::{hkdf_expand_label, tls13_suite, HashAlg, RecordDecryptor, Tls13Suite};
