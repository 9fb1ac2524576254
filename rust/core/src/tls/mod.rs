//! TLS: content detection, record framing, handshake messages, names, fingerprints, key-log
//! decryption and the per-connection session state.
pub mod detect;
pub mod records;
pub mod messages;
pub mod names;
pub mod fingerprint;
pub mod decrypt;
pub mod session;
pub mod summary;
