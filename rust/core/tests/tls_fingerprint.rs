//! JA3 / JA3S / JA4: the FoxIO worked example, the Python tests' edge cases. (JA3/JA4 of every
//! fixture hello, and of their mutations, equal the Python engine's: see tls_python_parity.)

use tlsinspect_core::tls::fingerprint::*;
use tlsinspect_core::tls::messages::{ClientHello, ServerHello};

fn hello(
    ciphers: &[u16],
    exts: &[u16],
    sigalgs: &[u16],
    versions: &[u16],
    alpn: &[&str],
    legacy: u16,
) -> ClientHello {
    ClientHello {
        legacy_version: legacy,
        cipher_suites: ciphers.to_vec(),
        compression_methods: vec![0],
        extensions: exts.iter().map(|&t| (t, Vec::new())).collect(),
        alpn: alpn.iter().map(|s| s.to_string()).collect(),
        supported_versions: versions.to_vec(),
        signature_algorithms: sigalgs.to_vec(),
        ..ClientHello::default()
    }
}

#[test]
fn ja4_published_example() {
    let ciphers = [
        0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8, 0xC013, 0xC014,
        0x009C, 0x009D, 0x002F, 0x0035,
    ];
    let exts = [
        0x001B, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002D, 0x000D, 0x0005, 0x0023, 0x0012,
        0x002B, 0xFF01, 0x000B, 0x000A, 0x0015,
    ];
    let sigs = [
        0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
    ];
    let ch = hello(
        &[[0x0A0A].as_slice(), &ciphers].concat(),
        &[[0x1A1A].as_slice(), &exts].concat(),
        &sigs,
        &[0x2A2A, 0x0304, 0x0303],
        &["h2"],
        0x0303,
    );
    assert_eq!(ja4(&ch, "t"), "t13d1516h2_8daaf6152771_e5627efa2ab1");
    assert!(ja4_r(&ch, "t").starts_with("t13d1516h2_002f,0035,009c,009d,1301"));
    let no_sigs = hello(&ciphers, &exts, &[], &[0x0304], &["h2"], 0x0303);
    assert!(ja4(&no_sigs, "t").ends_with("_6d807ffa2a79"));
}

#[test]
fn ja4_edge_cases() {
    assert!(
        ja4(&hello(&[0x002F], &[0x000A], &[], &[], &[], 0x0301), "t").starts_with("t10i010100")
    );
    assert_eq!(
        ja4(&hello(&[], &[], &[], &[], &[], 0x0303), "t"),
        "t12i000000_000000000000_000000000000"
    );
    // ALPN not alphanumeric at both ends: hex digits of its first and last bytes
    assert!(ja4(&hello(&[], &[], &[], &[], &["h2-"], 0x0303), "t").starts_with("t12i00006d"));
    // an unknown version (a TLS 1.3 draft) is "00"
    assert!(ja4(&hello(&[], &[], &[], &[0x7F1C], &[], 0x0303), "t").starts_with("t00"));
}

#[test]
fn ja3_string_ignores_grease() {
    let mut ch = hello(
        &[0x0A0A, 0x1301, 0xC02F],
        &[0x3A3A, 0, 10, 11],
        &[],
        &[],
        &[],
        0x0303,
    );
    ch.supported_groups = vec![0x4A4A, 29, 23];
    ch.ec_point_formats = vec![0];
    assert_eq!(ja3_string(&ch), "771,4865-49199,0-10-11,29-23,0");
    assert_eq!(ja3(&ch).len(), 32);
}

#[test]
fn ja3s_string_ignores_grease() {
    let sh = ServerHello {
        legacy_version: 0x0303,
        cipher_suite: 0xC02F,
        extensions: vec![(0xFF01, vec![0]), (0x0A0A, vec![]), (11, vec![1, 0])],
        ..ServerHello::default()
    };
    assert_eq!(ja3s_string(&sh), "771,49199,65281-11");
}
