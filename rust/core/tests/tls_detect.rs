//! Content detection and prelude naming: the Python tests' table, and real stream starts.

mod tls_common;

use tls_common::*;
use tlsinspect_core::tls::detect::{classify_start, prelude_protocol, StartKind};

const TLS_PORTS: &[u16] = &[443, 2443, 3804, 5061, 6972, 8443];

#[test]
fn classify_the_first_bytes() {
    let hello = read("tls12_mutual.c2s.bin");
    let sslv2 = read("sslv2_hello.c2s.bin");
    let appdata = hex::decode("1703030010").unwrap();
    let cases: &[(&str, &[u8], u16, bool, StartKind)] = &[
        ("ClientHello", &hello, 4444, false, StartKind::Tls),
        (
            "ClientHello seen mid-stream",
            &hello,
            4444,
            true,
            StartKind::Midstream,
        ),
        ("SSLv2 ClientHello", &sslv2, 4444, false, StartKind::Tls),
        (
            "application data",
            &appdata,
            4444,
            false,
            StartKind::Midstream,
        ),
        ("HTTP", b"GET / HTTP/1.1\r\n", 80, false, StartKind::NotTls),
        ("SSH", b"SSH-2.0-OpenSSH_9.6", 22, false, StartKind::NotTls),
        (
            "HTTP/2 preface",
            b"PRI * HTTP/2.0\r\n",
            80,
            false,
            StartKind::NotTls,
        ),
        (
            "SMTP banner",
            b"220 mx ESMTP",
            25,
            false,
            StartKind::Prelude,
        ),
        (
            "mid-stream on a TLS port",
            b"\x00\x01garbage",
            5061,
            true,
            StartKind::Midstream,
        ),
        (
            "mid-stream elsewhere",
            b"\x00\x01garbage",
            5060,
            true,
            StartKind::NotTls,
        ),
    ];
    for (case, data, port, midstream, want) in cases {
        assert_eq!(
            classify_start(data, 50000, *port, TLS_PORTS, *midstream),
            *want,
            "{case}"
        );
    }
    assert_eq!(StartKind::NotTls.as_str(), "not_tls");
}

#[test]
fn prelude_protocol_names() {
    let cases: &[(&[&[u8]], u16, &str)] = &[
        (&[b"220 mx.example.com ESMTP", b"EHLO me"], 25, "smtp"),
        (&[b"220 (vsFTPd 3.0.3)", b"AUTH TLS"], 21, "ftp"),
        (&[b"220 ProFTPD Server", b"AUTH TLS"], 2121, "ftp"),
        (&[b"* OK IMAP4rev1 ready"], 143, "imap"),
        (&[b"+OK POP3 ready"], 110, "pop3"),
        (&[b"<?xml version='1.0'?><stream:stream"], 5222, "xmpp"),
        (&[b"\x00\x00\x00\x08\x04\xd2\x16\x2f"], 15432, "postgresql"),
        (&[b"\x30\x1d\x02\x01\x01\x77\x18"], 389, "ldap"),
        (&[b"\x4a\x00\x00\x00\x0a8.0.28"], 3306, "mysql"),
        (&[b"\x05\x01\x00"], 1080, "socks"),
        (&[b"CAP LS"], 6667, "unknown"),
        (&[b"", b""], 6667, "unknown"),
    ];
    for (heads, port, name) in cases {
        assert_eq!(prelude_protocol(heads, *port), *name, "{heads:?}");
    }
}
