//! EAP-TLS (and PEAP, EAP-TTLS, EAP-FAST outer handshakes) inside 802.1X EAPOL frames and inside
//! RADIUS: sans-I/O.
//!
//! [`packet`] parses EAPOL (ethertype 0x888E), EAP packets and the EAP-TLS header (L/M/S flags,
//! TLS Message Length). [`radius`] parses RADIUS packets and concatenates their EAP-Message
//! attributes. [`conversation::EapTlsConversation`] is one authentication: it drops
//! retransmitted EAP packets, reassembles each side's EAP-TLS fragments (bounded), feeds the
//! resulting TLS bytes to a [`RecordReader`] per side and one [`TLSSession`] (so chains, alerts,
//! history letters and fingerprints are the TLS implementation's), and records the outcome:
//! EAP-Success / EAP-Failure, Access-Accept / Access-Reject. [`conversation::RadiusTracker`]
//! follows the authentications multiplexed on one RADIUS client/server pair (State attribute and
//! RADIUS identifier).
//!
//! [`RecordReader`]: crate::tls::records::RecordReader
//! [`TLSSession`]: crate::tls::session::TLSSession
pub mod packet;
pub mod radius;
pub mod conversation;

pub use conversation::{EapConfig, EapTlsConversation, EapTlsFlow, RadiusTracker};
pub use packet::{parse_eap, parse_eapol, EapPacket, Eapol};
pub use radius::{parse_radius, RadiusPacket};
