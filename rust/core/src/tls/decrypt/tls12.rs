//! TLS 1.2 AEAD suites (RFC 5246 section 5, RFC 5288, RFC 7905): the PRF, the suites' key
//! sizes, and one direction's decryptor from the master secret, used to read alerts sent
//! after ChangeCipherSpec.

use aes_gcm::aead::KeyInit;
use aes_gcm::{Aes128Gcm, Aes256Gcm};
use chacha20poly1305::ChaCha20Poly1305;

use super::tls13::{hmac, xor_seq, AeadKey, HashAlg};

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
