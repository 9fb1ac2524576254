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
//!
//! ## For the engine (UDP flows)
//!
//! | step | call |
//! |---|---|
//! | detect a UDP payload as QUIC on any port | [`looks_like_quic`]`(payload)` (a long header with an IETF or Google version, or gQUIC's legacy header) |
//! | is it QUIC? | `conn.confirmed()`: an Initial authenticated (or a Google QUIC version); `looks_like_quic` alone can pass a few RTP payloads |
//! | one state per UDP 4-tuple | `QuicConnection::new(keylog: Option<Arc<KeyLog>>)` (the same `Arc` as `TLSSession`'s) |
//! | each datagram | `conn.on_datagram(side, udp_payload, frame_number, ts)`; `Side::A` = the 4-tuple's first sender (the client is whoever sent the first Initial) |
//! | port reuse | `conn.is_new_connection(side, payload)`: a client Initial with unknown connection ids after a ClientHello: end this flow, start another |
//! | the flow row | `conn.summary()` -> [`QuicSummary`]: `version_name` ("QUIC v1", "QUIC v2", "QUIC draft-29", "Google QUIC Q050"), `original_dcid`/`client_scid`/`server_scid` (hex), `handshake` (a [`HandshakeSummary`](crate::tls::summary::HandshakeSummary): `sni`, `alpn` (client's list), `cipher`, `group`, `version` ("TLS 1.3"), `ja4` (`q13d...`), `ja3`, `server_chain`), `server_alpn` (key log only), `retry`, `hello_retry_request`, `version_negotiation`, `zero_rtt`, `resumed`, `early_data_accepted` (key log), `close`, `handshake_done`, `outcome` |
//! | certificates | `conn.certificates` (server chain, DER, in order; with a key log only; zlib-compressed ones inflated, brotli/zstd named in `conn.certificate_compression`) |
//! | events | `conn.events` ([`QuicEvent`]: `retry`, `version_negotiation`, `connection_close`, `handshake_done`, with side, frame, ts, detail) and `conn.closes` ([`Close`]: who, code, name such as `crypto_error(no_application_protocol)`, the TLS alert, reason) |
//! | anomalies | `conn.anomalies` ([`QuicAnomaly`], stable snake_case codes, each once per side) |
//! | hellos for the usual TLS columns | `conn.client_hello`, `conn.server_hello` (the `tls::messages` structs), `conn.client_transport_parameters`, `conn.server_transport_parameters` |
//! | counters | `key_updates`, `initial_decrypted`, `packets`, `initial_packets`, `handshake_packets`, `short_packets`, `zero_rtt_packets`, `undecrypted` (per side, index 0 = A), `handshake_decrypted`, `application_decrypted` |
//!
//! Retry integrity tags are checked ([`crypto::retry_integrity_ok`]; `conn.retry_integrity`).
//! 1-RTT key updates are followed (`conn.key_updates`). Not done: the CCM suites, 0-RTT
//! decryption, brotli/zstd certificate decompression, Google QUIC beyond its name.
pub mod connection;
pub mod crypto;
pub mod frames;
pub mod header;

pub use connection::{Close, QuicAnomaly, QuicConnection, QuicEvent, QuicSummary};
pub use header::{looks_like_quic, split_datagram, version_name, Packet};
