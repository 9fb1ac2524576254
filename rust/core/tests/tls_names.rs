//! Wire-code names: identical to the Python engine's for every code (`names.hashes` holds the
//! SHA-256 of each Python helper's names over its whole domain), plus the Python tests' cases.

mod tls_common;

use tls_common::*;
use tlsinspect_core::tls::names::*;

#[test]
fn every_name_equals_the_python_name() {
    let u16s = || (0u32..=0xFFFF).collect::<Vec<_>>();
    let with_sslv2 = || {
        let mut v = u16s();
        v.extend([
            0x010080, 0x020080, 0x030080, 0x040080, 0x050080, 0x060040, 0x0700C0, 0x080080,
            0x010000, 0xFFFFFF,
        ]);
        v
    };
    let join = |v: Vec<String>| h16(v.join("\n").as_bytes());
    let ours: Vec<(&str, String)> = vec![
        (
            "version_name",
            join(u16s().into_iter().map(version_name).collect()),
        ),
        (
            "cipher_name",
            join(with_sslv2().into_iter().map(cipher_name).collect()),
        ),
        (
            "cipher_kx",
            join(
                with_sslv2()
                    .into_iter()
                    .map(|c| cipher_kx(c).to_owned())
                    .collect(),
            ),
        ),
        (
            "group_name",
            join((0..=0xFFFFu16).map(group_name).collect()),
        ),
        (
            "sigalg_name",
            join((0..=0xFFFFu16).map(sigalg_name).collect()),
        ),
        (
            "extension_name",
            join((0..=0xFFFFu16).map(extension_name).collect()),
        ),
        ("alert_name", join((0..=255u8).map(alert_name).collect())),
        (
            "alert_level_name",
            join((0..=255u8).map(alert_level_name).collect()),
        ),
        (
            "handshake_name",
            join((0..=255u8).map(handshake_name).collect()),
        ),
        (
            "content_type_name",
            join((0..=255u8).map(content_type_name).collect()),
        ),
    ];
    let text = String::from_utf8(read("names.hashes")).unwrap();
    let want: Vec<(&str, String)> = text
        .lines()
        .map(|l| l.split_once('\t').map(|(a, b)| (a, b.to_owned())).unwrap())
        .collect();
    assert_eq!(ours, want);
}

#[test]
fn the_python_test_cases() {
    for (v, name) in [
        (0x0002, "SSL 2.0"),
        (0x0300, "SSL 3.0"),
        (0x0301, "TLS 1.0"),
        (0x0302, "TLS 1.1"),
        (0x0303, "TLS 1.2"),
        (0x0304, "TLS 1.3"),
        (0x7F17, "TLS 1.3 (draft 23)"),
        (0xFEFF, "DTLS 1.0"),
        (0xFEFD, "DTLS 1.2"),
        (0xFEFC, "DTLS 1.3"),
        (0x2A2A, "GREASE"),
        (0x1234, "0x1234"),
        (0xFB1A, "TLS 1.3 (Facebook draft 26)"),
    ] {
        assert_eq!(version_name(v), name);
    }
    assert_eq!(alert_name(48), "unknown_ca");
    assert_eq!(alert_name(200), "unknown(200)");
    assert_eq!(alert_name(121), "ech_required");
    assert_eq!(cipher_name(0xC02F), "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
    assert_eq!(cipher_name(0x1234), "0x1234");
    assert_eq!(cipher_name(0x0A0A), "GREASE");
    assert_eq!(cipher_name(0x00FF), "TLS_EMPTY_RENEGOTIATION_INFO_SCSV");
    assert_eq!(cipher_name(0x5600), "TLS_FALLBACK_SCSV");
    assert_eq!(cipher_name(0x1304), "TLS_AES_128_CCM_SHA256");
    assert_eq!(
        cipher_name(0xCCA8),
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"
    );
    assert_eq!(cipher_name(0x010080), "SSL_CK_RC4_128_WITH_MD5");
    assert_eq!(cipher_name(0x123456), "0x123456");
    assert_eq!(group_name(29), "x25519");
    assert_eq!(group_name(0x11EC), "X25519MLKEM768");
    assert_eq!(group_name(256), "ffdhe2048");
    assert_eq!(group_name(0xFAFA), "GREASE");
    assert_eq!(group_name(0x7777), "0x7777");
    assert_eq!(sigalg_name(0x0807), "ed25519");
    assert_eq!(sigalg_name(0x0201), "rsa_pkcs1_sha1");
    assert_eq!(sigalg_name(0x0203), "ecdsa_sha1");
    assert_eq!(sigalg_name(0x0303), "ecdsa_sha224");
    assert_eq!(sigalg_name(0xABCD), "0xabcd");
    assert_eq!(extension_name(16), "alpn");
    assert_eq!(extension_name(0xFF01), "renegotiation_info");
    assert_eq!(extension_name(0x4A4A), "GREASE");
    assert_eq!(extension_name(0x1234), "0x1234");
    assert!(is_grease(0x0A0A) && is_grease(0xFAFA) && !is_grease(0x0A1A) && !is_grease(0x1_0A0A));
    assert_eq!(cipher_kx(0xC02F), "ECDHE");
    assert_eq!(cipher_kx(0x1301), "TLS13");
    assert_eq!(cipher_kx(0x0033), "DHE");
    assert_eq!(cipher_kx(0x00FF), "SCSV");
    assert_eq!(cipher_kx(0x010080), "SSLv2");
    assert_eq!(cipher_kx(0x1234), "unknown");
    assert_eq!(handshake_name(11), "certificate");
    assert_eq!(handshake_name(99), "unknown(99)");
    assert_eq!(content_type_name(22), "handshake");
    use sha2::{Digest, Sha256};
    assert_eq!(
        HRR_RANDOM.as_slice(),
        Sha256::digest(b"HelloRetryRequest").as_slice()
    );
}
