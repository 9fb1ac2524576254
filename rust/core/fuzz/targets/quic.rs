// Fuzz target body: UDP datagrams of one QUIC connection (quic/: header split, Initial
// decryption, frames, CRYPTO reassembly, the connection with a fixed key log). Each record
// (see frames.rs) is one datagram: selector bit 0 = from the server, bits 1-7 = clock step.
// Each datagram also goes through the parsers alone: split_datagram, parse_frames on its bytes,
// a CryptoStream at offsets taken from it. Included by fuzz_targets/quic.rs and tests/quic_fuzz.rs.

include!("frames.rs");

use std::sync::Arc;

use tlsinspect_core::quic::frames::{parse_frames, parse_transport_parameters, CryptoStream, Frame};
use tlsinspect_core::quic::header::{looks_like_quic, split_datagram};
use tlsinspect_core::quic::QuicConnection;
use tlsinspect_core::tls::decrypt::{parse_keylog, KeyLog};
use tlsinspect_core::tls::session::Side;

/// The key logs of the aioquic fixtures (tests/data/quic), so that Handshake and 1-RTT
/// packets of the seeds decrypt.
pub fn quic_keylog() -> Arc<KeyLog> {
    let mut log = parse_keylog(include_bytes!("../../tests/data/quic/v1.keylog"));
    log.merge(parse_keylog(include_bytes!("../../tests/data/quic/v2.keylog")));
    log.merge(parse_keylog(include_bytes!("../../tests/data/quic/key_update.keylog")));
    log.merge(parse_keylog(include_bytes!("../../tests/data/quic/chacha20.keylog")));
    Arc::new(log)
}

/// Never panics; parsers stay inside the datagram; CRYPTO reassembly holds no more than its
/// cap. Returns the packets split.
pub fn fuzz_quic(data: &[u8], keylog: Option<Arc<KeyLog>>) -> u64 {
    let mut c = QuicConnection::new(keylog);
    let (mut frame, mut ts, mut packets) = (0u64, 0.0f64, 0u64);
    for (sel, d) in frames(data) {
        frame += 1;
        ts += f64::from(sel >> 1) * 0.1;
        let _ = looks_like_quic(d);
        let (pkts, _) = split_datagram(d);
        assert!(pkts.len() <= d.len());
        packets += pkts.len() as u64;
        let (fs, _) = parse_frames(d);
        let mut cs = CryptoStream::default();
        for f in &fs {
            if let Frame::Crypto { offset, data: b } = f {
                cs.insert(*offset, b);
            }
        }
        // the datagram's bytes as CRYPTO data at offsets it names
        for (k, piece) in d.chunks(64).enumerate() {
            let off = u64::from(piece[0]) * 37 + (k as u64) * 50;
            cs.insert(off, piece);
            assert!(cs.data.len() as u64 <= CryptoStream::CAP);
        }
        let mut n = 0;
        while let Some((_, body)) = cs.next_message() {
            assert!(body.len() <= CryptoStream::CAP as usize);
            n += 1;
            assert!(n <= 65_535);
        }
        let _ = (cs.unread(), cs.has_gap());
        let _ = parse_transport_parameters(d);
        let side = if sel & 1 == 0 { Side::A } else { Side::B };
        let _ = c.is_new_connection(side, d);
        c.on_datagram(side, d, frame, ts);
    }
    let _ = c.confirmed();
    let s = c.summary();
    assert!(s.handshake.alpn.len() <= data.len());
    packets
}
