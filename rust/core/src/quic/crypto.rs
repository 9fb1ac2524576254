//! QUIC packet protection (RFC 9001 section 5, RFC 9369 section 3.3): Initial secrets from the
//! per-version salt, packet keys from a secret ("quic key"/"quic iv"/"quic hp", or the
//! "quicv2 ..." labels), header protection removal (AES-ECB mask, or ChaCha20 for
//! TLS_CHACHA20_POLY1305_SHA256), packet number recovery and AEAD opening (AES-GCM,
//! ChaCha20-Poly1305).
//!
//! One table ([`initial_salt`]) says which versions can be decrypted; an unknown version gives
//! `None`, never the v1 salt. Nothing here panics: a packet that does not authenticate is `None`.

use aes::cipher::{generic_array::GenericArray, BlockEncrypt};
use aes::{Aes128, Aes256};
use aes_gcm::aead::{Aead as _, KeyInit, Payload};
use aes_gcm::{Aes128Gcm, Aes256Gcm};
use chacha20::cipher::{KeyIvInit, StreamCipherCore, StreamCipherSeekCore};
use chacha20::ChaChaCore;
use chacha20poly1305::ChaCha20Poly1305;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::header::{V1, V2};
use crate::tls::decrypt::{hkdf_expand_label, tls13_suite, HashAlg};

/// The Initial salt of each version whose Initial packets can be read.
pub fn initial_salt(version: u32) -> Option<[u8; 20]> {
    let hex = match version {
        V1 => "38762cf7f55934b34d179ae6a4c80cadccbb7f0a",
        V2 | 0x709a_50c4 => "0dede3def700a6db819381be6e269dcbf9bd2ed9",
        // drafts 29 to 32 share draft-29's salt
        0xff00_001d..=0xff00_0020 => "afbfec289993d24c9e9786f19c6111e04390a899",
        // drafts 23 to 28
        0xff00_0017..=0xff00_001c => "c3eef712c72ebb5a11a7d2432bb46365bef9f502",
        _ => return None,
    };
    let v = hex::decode(hex).ok()?;
    v.try_into().ok()
}

/// Whether `version` uses the RFC 9369 labels.
fn is_v2(version: u32) -> bool {
    version == V2 || version == 0x709a_50c4
}

/// The HKDF labels for packet key, IV and header protection key.
pub fn labels(version: u32) -> (&'static [u8], &'static [u8], &'static [u8]) {
    if is_v2(version) {
        (b"quicv2 key", b"quicv2 iv", b"quicv2 hp")
    } else {
        (b"quic key", b"quic iv", b"quic hp")
    }
}

/// (client_initial_secret, server_initial_secret) for a client's first Destination Connection
/// ID; `None` for a version without a known salt.
pub fn initial_secrets(version: u32, dcid: &[u8]) -> Option<([u8; 32], [u8; 32])> {
    let salt = initial_salt(version)?;
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&salt).ok()?;
    m.update(dcid);
    let initial = m.finalize().into_bytes();
    let c = hkdf_expand_label(&initial, b"client in", b"", 32, HashAlg::Sha256)?;
    let s = hkdf_expand_label(&initial, b"server in", b"", 32, HashAlg::Sha256)?;
    Some((c.try_into().ok()?, s.try_into().ok()?))
}

#[derive(Clone)]
enum AeadKind {
    Aes128(Box<Aes128Gcm>),
    Aes256(Box<Aes256Gcm>),
    ChaCha(Box<ChaCha20Poly1305>),
}

#[derive(Clone)]
enum Hp {
    Aes128(Box<Aes128>),
    Aes256(Box<Aes256>),
    /// RFC 9001 section 5.4.4: the key itself; the sample gives counter and nonce.
    ChaCha([u8; 32]),
}

/// The keys protecting one direction in one packet number space.
#[derive(Clone)]
pub struct PacketKeys {
    aead: AeadKind,
    iv: [u8; 12],
    hp: Hp,
    /// The raw values, for tests against published vectors.
    pub key: Vec<u8>,
    pub hp_key: Vec<u8>,
}

impl std::fmt::Debug for PacketKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PacketKeys") // never the keys
    }
}

impl PacketKeys {
    /// Keys from a traffic secret for `cipher_suite` (0x1301, 0x1302, 0x1303; the CCM suites
    /// give `None`).
    pub fn from_secret(version: u32, cipher_suite: u16, secret: &[u8]) -> Option<PacketKeys> {
        let suite = tls13_suite(cipher_suite)?;
        let (kl, il, hl) = labels(version);
        let key = hkdf_expand_label(secret, kl, b"", suite.key_len, suite.hash)?;
        let iv: [u8; 12] = hkdf_expand_label(secret, il, b"", 12, suite.hash)?.try_into().ok()?;
        let hp_key = hkdf_expand_label(secret, hl, b"", suite.key_len, suite.hash)?;
        let (aead, hp) = match cipher_suite {
            0x1301 => (
                AeadKind::Aes128(Box::new(Aes128Gcm::new_from_slice(&key).ok()?)),
                Hp::Aes128(Box::new(Aes128::new_from_slice(&hp_key).ok()?)),
            ),
            0x1302 => (
                AeadKind::Aes256(Box::new(Aes256Gcm::new_from_slice(&key).ok()?)),
                Hp::Aes256(Box::new(Aes256::new_from_slice(&hp_key).ok()?)),
            ),
            0x1303 => (
                AeadKind::ChaCha(Box::new(ChaCha20Poly1305::new_from_slice(&key).ok()?)),
                Hp::ChaCha(hp_key.as_slice().try_into().ok()?),
            ),
            _ => return None,
        };
        Some(PacketKeys {
            aead,
            iv,
            hp,
            key,
            hp_key,
        })
    }

    /// The next key generation after a key update (RFC 9001 section 6): the secret expanded
    /// with "quic ku" ("quicv2 ku" for v2), new key and IV, the same header protection key.
    /// Returns the keys and the new secret.
    pub fn updated(&self, version: u32, cipher_suite: u16, secret: &[u8]) -> Option<(PacketKeys, Vec<u8>)> {
        let suite = tls13_suite(cipher_suite)?;
        let ku: &[u8] = if is_v2(version) { b"quicv2 ku" } else { b"quic ku" };
        let next = hkdf_expand_label(secret, ku, b"", suite.hash.output_len(), suite.hash)?;
        let fresh = PacketKeys::from_secret(version, cipher_suite, &next)?;
        Some((
            PacketKeys {
                hp: self.hp.clone(),
                hp_key: self.hp_key.clone(),
                ..fresh
            },
            next,
        ))
    }

    /// Initial keys of one side (`client` true: what the client sends).
    pub fn initial(version: u32, dcid: &[u8], client: bool) -> Option<PacketKeys> {
        let (c, s) = initial_secrets(version, dcid)?;
        PacketKeys::from_secret(version, 0x1301, if client { &c } else { &s })
    }

    /// The IV (for tests against published vectors).
    pub fn iv(&self) -> [u8; 12] {
        self.iv
    }

    /// The 5-byte header protection mask for a 16-byte sample.
    pub fn mask(&self, sample: &[u8; 16]) -> [u8; 5] {
        let mut block = GenericArray::clone_from_slice(sample);
        match &self.hp {
            Hp::Aes128(c) => c.encrypt_block(&mut block),
            Hp::Aes256(c) => c.encrypt_block(&mut block),
            Hp::ChaCha(key) => {
                // the block at counter = sample[0..4] (RFC 9001 5.4.4), straight from the core:
                // the stream wrapper refuses the last block (counter 0xffffffff) with a panic
                let counter = u32::from_le_bytes([sample[0], sample[1], sample[2], sample[3]]);
                let mut c = ChaChaCore::<chacha20::cipher::consts::U10>::new(key.into(), sample[4..].into());
                c.set_block_pos(counter);
                let mut ks = Default::default();
                c.write_keystream_block(&mut ks);
                let mut m = [0u8; 5];
                m.copy_from_slice(&ks[..5]);
                return m;
            }
        }
        let mut m = [0u8; 5];
        m.copy_from_slice(&block[..5]);
        m
    }

    fn seal(&self, pn: u64, aad: &[u8], plaintext: &[u8]) -> Option<Vec<u8>> {
        let nonce = self.nonce(pn);
        let nonce = aes_gcm::Nonce::from_slice(&nonce);
        let payload = Payload { msg: plaintext, aad };
        match &self.aead {
            AeadKind::Aes128(k) => k.encrypt(nonce, payload).ok(),
            AeadKind::Aes256(k) => k.encrypt(nonce, payload).ok(),
            AeadKind::ChaCha(k) => k.encrypt(nonce, payload).ok(),
        }
    }

    fn nonce(&self, pn: u64) -> [u8; 12] {
        let mut nonce = self.iv;
        for (n, p) in nonce[4..].iter_mut().zip(pn.to_be_bytes()) {
            *n ^= p;
        }
        nonce
    }

    fn open(&self, pn: u64, aad: &[u8], ciphertext: &[u8]) -> Option<Vec<u8>> {
        let nonce = self.nonce(pn);
        let nonce = aes_gcm::Nonce::from_slice(&nonce);
        let payload = Payload { msg: ciphertext, aad };
        match &self.aead {
            AeadKind::Aes128(k) => k.decrypt(nonce, payload).ok(),
            AeadKind::Aes256(k) => k.decrypt(nonce, payload).ok(),
            AeadKind::ChaCha(k) => k.decrypt(nonce, payload).ok(),
        }
    }
}

/// RFC 9000 appendix A.3: the full packet number from its truncated form, given the largest
/// packet number received so far in that space.
pub fn decode_packet_number(largest: Option<u64>, truncated: u64, pn_len: usize) -> u64 {
    let bits = 8 * pn_len as u32;
    let expected = largest.map_or(0, |l| l.wrapping_add(1));
    let win = 1u64 << bits;
    let hwin = win / 2;
    let mask = win - 1;
    let candidate = (expected & !mask) | truncated;
    if candidate.wrapping_add(hwin) <= expected && candidate < (1u64 << 62) - win {
        candidate + win
    } else if candidate > expected.wrapping_add(hwin) && candidate >= win {
        candidate - win
    } else {
        candidate
    }
}

/// A packet with its protection removed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Opened {
    pub packet_number: u64,
    /// The unprotected header (first byte and packet number unmasked): the AAD.
    pub header: Vec<u8>,
    /// The plaintext frames.
    pub payload: Vec<u8>,
}

/// Remove header protection and decrypt one packet. `bytes` is the whole packet (long: as far
/// as its Length; short: the rest of the datagram), `pn_offset` where its packet number starts.
/// `None` if the packet is too short to sample, or does not authenticate.
pub fn open_packet(keys: &PacketKeys, bytes: &[u8], pn_offset: usize, largest: Option<u64>) -> Option<Opened> {
    let sample_at = pn_offset.checked_add(4)?;
    let sample: [u8; 16] = bytes.get(sample_at..sample_at + 16)?.try_into().ok()?;
    let mask = keys.mask(&sample);
    let mut header = bytes.get(..pn_offset + 4)?.to_vec();
    let long = header[0] & 0x80 != 0;
    header[0] ^= mask[0] & if long { 0x0f } else { 0x1f };
    let pn_len = usize::from(header[0] & 3) + 1;
    let mut truncated = 0u64;
    for i in 0..pn_len {
        header[pn_offset + i] ^= mask[1 + i];
        truncated = (truncated << 8) | u64::from(header[pn_offset + i]);
    }
    header.truncate(pn_offset + pn_len);
    let pn = decode_packet_number(largest, truncated, pn_len);
    let payload = keys.open(pn, &header, &bytes[pn_offset + pn_len..])?;
    Some(Opened {
        packet_number: pn,
        header,
        payload,
    })
}

/// The inverse of [`open_packet`] (for tests and capture synthesis): seal `payload` under
/// `header` (unprotected; its packet number of `pn_len` bytes ends it, and a long header's
/// Length must already count the packet number, payload and 16-byte tag) and apply header
/// protection. `None` if the packet is too short to sample (pad the payload).
pub fn seal_packet(keys: &PacketKeys, header: &[u8], pn: u64, payload: &[u8]) -> Option<Vec<u8>> {
    let first = *header.first()?;
    let pn_len = usize::from(first & 3) + 1;
    let pn_offset = header.len().checked_sub(pn_len)?;
    let mut out = header.to_vec();
    out.extend_from_slice(&keys.seal(pn, header, payload)?);
    let sample: [u8; 16] = out.get(pn_offset + 4..pn_offset + 20)?.try_into().ok()?;
    let mask = keys.mask(&sample);
    out[0] ^= mask[0] & if first & 0x80 != 0 { 0x0f } else { 0x1f };
    for i in 0..pn_len {
        out[pn_offset + i] ^= mask[1 + i];
    }
    Some(out)
}

/// RFC 9001 section 5.8 (RFC 9369 section 3.3.3 for v2): does a Retry packet's integrity tag
/// authenticate it for the client's original Destination Connection ID? `None` for a version
/// without known Retry keys or a packet shorter than its tag.
pub fn retry_integrity_ok(version: u32, original_dcid: &[u8], retry: &[u8]) -> Option<bool> {
    let (key, nonce) = match version {
        V1 => ("be0c690b9f66575a1d766b54e368c84e", "461599d35d632bf2239825bb"),
        V2 | 0x709a_50c4 => ("8fb4b01b56ac48e260fbcbcead7ccc92", "d86969bc2d7c6d9990efb04a"),
        0xff00_001d..=0xff00_0020 => ("ccce187ed09a09d05728155a6cb96be1", "e54930f97f2136f0530a8c1c"),
        _ => return None,
    };
    let (key, nonce) = (hex::decode(key).ok()?, hex::decode(nonce).ok()?);
    let split = retry.len().checked_sub(16)?;
    let odcid_len = u8::try_from(original_dcid.len()).ok()?;
    let mut pseudo = Vec::with_capacity(1 + original_dcid.len() + split);
    pseudo.push(odcid_len);
    pseudo.extend_from_slice(original_dcid);
    pseudo.extend_from_slice(&retry[..split]);
    let aead = Aes128Gcm::new_from_slice(&key).ok()?;
    let payload = Payload {
        msg: &retry[split..],
        aad: &pseudo,
    };
    Some(aead.decrypt(aes_gcm::Nonce::from_slice(&nonce), payload).is_ok())
}
