//! QUIC (RFC 9000, 9001, 9369), sans-I/O: UDP payloads in, the TLS handshake they carry out.
//!
//! - [`header`]: versions and their names (v1, v2, draft-29 and other drafts, Google QUIC
//!   `Q0xx`/`T0xx` named but never decrypted), variable-length integers, a datagram split into
//!   its coalesced packets (long headers, Retry, Version Negotiation, a short header last).
//! - [`crypto`]: Initial secrets from the per-version salt (an unknown version is `None`, never
//!   the v1 salt), packet keys with the `quic`/`quicv2` labels, header protection (AES-ECB mask),
//!   packet number recovery, AES-GCM opening (nonce = IV xor packet number).
//! - [`frames`]: PADDING, PING, ACK, CRYPTO, CONNECTION_CLOSE, HANDSHAKE_DONE read, every other
//!   RFC 9000 frame skipped by its length; [`frames::CryptoStream`] reassembles CRYPTO data
//!   across packets and out of order (65,535 bytes per direction and packet number space, an
//!   anomaly `quic_crypto_cap` past that); the `quic_transport_parameters` extension.
//! - [`connection`]: [`QuicConnection`], one per UDP 4-tuple: datagrams with (side, frame, ts)
//!   in; ClientHello/ServerHello (through the TLS parsers), JA4 with the `q` prefix, Retry,
//!   Version Negotiation, CONNECTION_CLOSE; with a key log holding the connection's
//!   `CLIENT_/SERVER_HANDSHAKE_TRAFFIC_SECRET`, Handshake packets decrypted and the server's
//!   certificates (DER) extracted. [`QuicConnection::summary`] gives what a flow row needs.
//!
//! Nothing here panics on hostile input, and every collection a peer can grow is bounded.
pub mod connection;
pub mod crypto;
pub mod frames;
pub mod header;

pub use connection::{Close, QuicAnomaly, QuicConnection, QuicEvent, QuicSummary};
pub use header::{looks_like_quic, split_datagram, version_name, Packet};
