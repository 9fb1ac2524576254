//! HKDF-Expand-Label (RFC 8446 section 7.1) and one direction of TLS 1.3 under one traffic
//! secret ([`RecordDecryptor`]); the AEADs (`AeadKey`), HMAC and nonce shared with TLS 1.2.

use std::fmt;

use aes::Aes128;
use aes_gcm::aead::consts::{U12, U16, U8};
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes128Gcm, Aes256Gcm};
use ccm::Ccm;
use chacha20poly1305::ChaCha20Poly1305;
use hmac::{Hmac, Mac};
use sha2::{Sha256, Sha384};

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
pub(super) fn hmac(hash: HashAlg, key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
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
pub(super) enum AeadKey {
    Aes128Gcm(Box<Aes128Gcm>),
    Aes256Gcm(Box<Aes256Gcm>),
    ChaCha20Poly1305(Box<ChaCha20Poly1305>),
    Aes128Ccm(Box<Aes128Ccm>),
    Aes128Ccm8(Box<Aes128Ccm8>),
}

impl AeadKey {
    /// Decrypt and authenticate `ciphertext` (tag at the end); `None` on any failure.
    pub(super) fn open(&self, nonce: &[u8; 12], ciphertext: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
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

pub(super) fn xor_seq(iv: &[u8; 12], seq: u64) -> [u8; 12] {
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
