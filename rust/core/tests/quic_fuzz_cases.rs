//! Bugs the quic fuzz target found, each with the input that found it
//! (tests/data/fuzz/quic_*) and a direct case.

mod capture_support;
mod fuzz_support;
#[path = "data/dtls/pcap.rs"]
mod pcap;

mod target {
    include!("../fuzz/targets/quic.rs");
}

use tlsinspect_core::quic::crypto::PacketKeys;
use tlsinspect_core::quic::header::V1;

/// ChaCha20 header protection took the sample's first 4 bytes as the block counter through a
/// stream cipher that refuses the last block: a sample starting ffffffff panicked
/// (StreamCipherError) in `PacketKeys::mask`. RFC 9001 5.4.4 allows every counter value; the
/// expected masks are pyca/cryptography's ChaCha20 with the same key and 16-byte nonce.
#[test]
fn chacha20_mask_for_every_counter() {
    let secret = hex::decode("9ac312a7f877468ebe69422748ad00a15443f18203a07d6060f688f30f21632b").unwrap();
    let keys = PacketKeys::from_secret(V1, 0x1303, &secret).unwrap();
    for (sample, mask) in [
        ("5e5cd55c41f69080575d7999c25a5bfb", "aefefe7d03"), // RFC 9001 A.5
        ("feffffff41f69080575d7999c25a5bfb", "4701fefaaf"),
        ("ffffffff41f69080575d7999c25a5bfb", "4db433a80a"),
    ] {
        let s: [u8; 16] = hex::decode(sample).unwrap().try_into().unwrap();
        assert_eq!(hex::encode(keys.mask(&s)), mask, "sample {sample}");
    }
}

#[test]
fn reproducers() {
    let log = target::quic_keylog();
    for name in ["quic_chacha_counter_max.bin"] {
        let data = std::fs::read(format!("{}/fuzz/{name}", fuzz_support::DATA)).unwrap();
        target::fuzz_quic(&data, Some(log.clone()));
    }
}
