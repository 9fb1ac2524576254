//! tlsinspect's engine, free of Python: capture bytes -> link/IP -> TCP -> TLS records ->
//! handshake messages -> one `FlowRecord` per TLS connection, plus events and distinct
//! certificates (DER + SHA-256). Sans-I/O except `capture::open_path`, which reads a file or
//! stream in chunks. The Python package (`inspector`) keeps X.509, trust, diagnoses and outputs.
#![forbid(unsafe_code)]

pub mod capture;
pub mod link;
pub mod ip;
pub mod tcp;
pub mod tls;
pub mod dtls;
pub mod eap;
pub mod quic;
pub mod flow;
pub mod udp;
pub mod engine;
pub mod parallel;
