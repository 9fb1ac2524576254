//! DTLS 1.0 / 1.2 (RFC 6347) over UDP, DTLS 1.3 (RFC 9147) recognised: sans-I/O.
//!
//! Datagram bytes in, typed events out. [`record`] splits a datagram into records (13-byte
//! header with epoch and 48-bit sequence number; the DTLS 1.3 unified header is recognised and
//! counted) and says, by RFC 7983's first-byte rule, whether a datagram on a multiplexed 5-tuple
//! is STUN, DTLS or RTP/RTCP. [`handshake`] reassembles handshake message fragments by
//! (message_seq, fragment_offset, fragment_length), drops retransmissions, and bounds each
//! message. [`association`] is the state of one UDP 5-tuple: it feeds the reassembled messages
//! (ClientHello cookie removed, see [`handshake::strip_cookie`]) to the TLS [`TLSSession`]
//! so that certificates, alerts, history letters and fingerprints come from the one TLS
//! implementation, and adds what is DTLS's own: HelloVerifyRequest and cookie, epochs,
//! retransmissions, `use_srtp`, DTLS 1.3 records. [`association::Associations`] keeps one per
//! 5-tuple and ends them after an idle time.
//!
//! [`TLSSession`]: crate::tls::session::TLSSession
pub mod record;
pub mod handshake;
pub mod srtp;
pub mod association;

pub use association::{Associations, DtlsAssociation, DtlsConfig, DtlsFlow};
pub use record::{demux, looks_like_dtls, Demux};
