//! Shared by the `tls_*` tests: the canonical strings of `tests/data/tls/gen_fixtures.py`
//! (which the Python engine writes into the `.expect` fixtures), re-implemented over the Rust
//! types, and a fixture reader.
#![allow(dead_code)]

use std::path::PathBuf;

use sha2::{Digest, Sha256};
use tlsinspect_core::tls::fingerprint as fp;
use tlsinspect_core::tls::messages as m;
use tlsinspect_core::tls::records::{Event, RecordReader};

pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/tls")
}

pub fn read(name: &str) -> Vec<u8> {
    read_in(&data_dir(), name)
}

pub fn read_in(dir: &std::path::Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

pub fn h16(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))[..16].to_owned()
}

fn ints<T: ToString>(xs: &[T]) -> String {
    xs.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

fn opt<T: ToString>(x: &Option<T>) -> String {
    x.as_ref()
        .map_or_else(|| "-".to_owned(), ToString::to_string)
}

fn b(x: bool) -> &'static str {
    if x {
        "1"
    } else {
        "0"
    }
}

fn exts(e: &[m::Extension]) -> String {
    e.iter()
        .map(|(t, d)| format!("{t}:{}", hex::encode(d)))
        .collect::<Vec<_>>()
        .join(";")
}

pub fn canon_client_hello(ch: &m::ClientHello) -> String {
    [
        ch.legacy_version.to_string(),
        hex::encode(ch.random),
        hex::encode(&ch.session_id),
        ints(&ch.cipher_suites),
        ints(&ch.compression_methods),
        exts(&ch.extensions),
        ch.sni.clone().unwrap_or_else(|| "-".into()),
        ch.sni_count.to_string(),
        ch.alpn.join(","),
        ints(&ch.supported_versions),
        ints(&ch.supported_groups),
        ints(&ch.ec_point_formats),
        ints(&ch.signature_algorithms),
        ints(&ch.key_share_groups),
        [b(ch.session_ticket), b(ch.psk), b(ch.early_data), b(ch.ech)].join(","),
        ch.warnings.join(","),
        fp::ja3(ch),
        fp::ja4(ch, "t"),
        fp::ja4_r(ch, "t"),
    ]
    .join("|")
}

pub fn canon_server_hello(sh: &m::ServerHello) -> String {
    [
        sh.legacy_version.to_string(),
        hex::encode(sh.random),
        hex::encode(&sh.session_id),
        sh.cipher_suite.to_string(),
        sh.compression_method.to_string(),
        exts(&sh.extensions),
        sh.selected_version.to_string(),
        b(sh.is_hello_retry_request).into(),
        opt(&sh.alpn),
        opt(&sh.key_share_group),
        b(sh.extended_master_secret).into(),
        b(sh.session_ticket_ext).into(),
        sh.warnings.join(","),
        fp::ja3s(sh),
    ]
    .join("|")
}

fn ctx(c: &Option<Vec<u8>>) -> String {
    c.as_ref().map_or_else(|| "-".to_owned(), hex::encode)
}

pub fn canon_certificate(c: &m::Certificate) -> String {
    let fps: Vec<String> = c
        .certs
        .iter()
        .map(|d| hex::encode(Sha256::digest(d)))
        .collect();
    [fps.join(","), ctx(&c.context), c.warnings.join(",")].join("|")
}

pub fn canon_certificate_request(c: &m::CertificateRequest) -> String {
    let names: Vec<String> = c.ca_names.iter().map(hex::encode).collect();
    [
        ints(&c.cert_types),
        ints(&c.signature_algorithms),
        names.join(","),
        ctx(&c.context),
        c.warnings.join(","),
    ]
    .join("|")
}

pub fn canon_server_key_exchange(k: &m::ServerKeyExchange) -> String {
    [
        k.kx.to_owned(),
        opt(&k.dh_p_bits),
        opt(&k.curve),
        opt(&k.signature_algorithm),
    ]
    .join("|")
}

/// Arguments of a message parse, as the fixture line gives them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Args {
    pub tls13: bool,
    pub version: u16,
    pub cipher_suite: u16,
    pub max_certs: usize,
}

impl Args {
    pub fn parse(line: &str) -> Args {
        let mut a = Args::default();
        for kv in line.split(' ') {
            let (k, v) = kv.split_once('=').expect("key=value");
            match k {
                "tls13" => a.tls13 = v == "1",
                "version" => a.version = v.parse().unwrap(),
                "cipher_suite" => a.cipher_suite = v.parse().unwrap(),
                "max_certs" => a.max_certs = v.parse().unwrap(),
                _ => panic!("unknown arg {k}"),
            }
        }
        a
    }
}

fn res<T>(r: Result<T, m::ParseError>, canon: impl FnOnce(&T) -> String) -> String {
    match r {
        Ok(v) => format!("ok {}", canon(&v)),
        Err(e) => format!("err {e}"),
    }
}

/// `ok <canonical>` or `err <ParseError text>`, like the generator's `parse`.
pub fn parse(kind: &str, body: &[u8], a: Args) -> String {
    match kind {
        "client_hello" => res(m::parse_client_hello(body), canon_client_hello),
        "sslv2_client_hello" => res(m::parse_sslv2_client_hello(body), canon_client_hello),
        "server_hello" => res(m::parse_server_hello(body), canon_server_hello),
        "certificate" => res(
            m::parse_certificate(body, a.tls13, a.max_certs),
            canon_certificate,
        ),
        "certificate_request" => res(
            m::parse_certificate_request(body, a.tls13, a.version),
            canon_certificate_request,
        ),
        "server_key_exchange" => res(
            m::parse_server_key_exchange(body, a.cipher_suite, a.version),
            canon_server_key_exchange,
        ),
        "new_session_ticket" => res(m::parse_new_session_ticket(body, a.tls13), |t| {
            format!("{}|{}", t.lifetime, t.ticket_len)
        }),
        "alert" => res(m::parse_alert(body), |v| {
            v.iter()
                .map(|x| {
                    format!(
                        "{}:{}:{}:{}",
                        x.level,
                        x.description,
                        x.level_name(),
                        x.description_name()
                    )
                })
                .collect::<Vec<_>>()
                .join(",")
        }),
        _ => panic!("unknown kind {kind}"),
    }
}

/// Errors verbatim; successful parses by the SHA-256 prefix of their canonical string.
pub fn short(result: &str) -> String {
    match result.strip_prefix("ok ") {
        Some(c) => format!("ok {}", h16(c.as_bytes())),
        None => result.to_owned(),
    }
}

pub fn canon_event(ev: &Event) -> String {
    match ev {
        Event::HandshakeMessage(e) => format!(
            "HandshakeMessage {} {} {} {} {}",
            e.frame,
            e.msg_type,
            e.record_version,
            e.body.len(),
            h16(&e.body)
        ),
        Event::EncryptedHandshake(e) => format!("EncryptedHandshake {} {}", e.frame, e.length),
        Event::ChangeCipherSpec(e) => format!("ChangeCipherSpec {}", e.frame),
        Event::AlertRecord(e) => format!(
            "AlertRecord {} {} {}",
            e.frame,
            hex::encode(&e.payload),
            b(e.encrypted)
        ),
        Event::ApplicationData(e) => format!(
            "ApplicationData {} {} {}",
            e.frame,
            e.length,
            h16(&e.record)
        ),
        Event::SSLv2ClientHello(e) => {
            format!("SSLv2ClientHello {} {}", e.frame, hex::encode(&e.record))
        }
        Event::SSLv2ServerHello(e) => {
            format!("SSLv2ServerHello {} {}", e.frame, hex::encode(&e.record))
        }
        Event::Anomaly(e) => format!("Anomaly {} {} {}", e.frame, e.code, e.detail),
        Event::TLSStart(e) => format!(
            "TLSStart {} {} {}",
            e.frame,
            e.prelude_bytes,
            hex::encode(&e.prelude_head)
        ),
    }
}

/// How to feed a stream (the generator's `MODES`).
#[derive(Debug, Clone, Copy)]
pub struct Mode {
    pub chunk: usize,
    pub gap_at: Option<usize>,
    pub peer_tls: bool,
    pub keep_payload: bool,
    pub max_handshake: usize,
    pub max_records: u64,
}

impl Mode {
    pub fn chunked(chunk: usize) -> Mode {
        Mode {
            chunk,
            gap_at: None,
            peer_tls: false,
            keep_payload: false,
            max_handshake: 256 * 1024,
            max_records: 10_000,
        }
    }

    pub fn parse(line: &str) -> Mode {
        let mut mo = Mode::chunked(1);
        for kv in line.split(' ') {
            let (k, v) = kv.split_once('=').expect("key=value");
            match k {
                "chunk" => mo.chunk = v.parse().unwrap(),
                "gap_at" => {
                    mo.gap_at = v
                        .parse::<i64>()
                        .ok()
                        .filter(|&g| g >= 0)
                        .map(|g| g as usize)
                }
                "peer_tls" => mo.peer_tls = v == "1",
                "keep_payload" => mo.keep_payload = v == "1",
                "max_handshake" => mo.max_handshake = v.parse().unwrap(),
                "max_records" => mo.max_records = v.parse().unwrap(),
                _ => panic!("unknown mode key {k}"),
            }
        }
        mo
    }
}

/// Feed `data` as the generator's `feed` does; canonical events plus the final state line.
pub fn feed(data: &[u8], mo: Mode) -> Vec<String> {
    let mut r = RecordReader::new(mo.max_handshake, mo.max_records);
    r.peer_tls = mo.peer_tls;
    r.keep_payload = mo.keep_payload;
    let mut out = Vec::new();
    let mut gap = false;
    for (k, chunk) in data.chunks(mo.chunk).enumerate() {
        if Some(k) == mo.gap_at {
            gap = true;
            continue;
        }
        out.extend(r.feed(chunk, k as u64, gap).iter().map(canon_event));
        gap = false;
    }
    out.push(format!(
        "end {} {} {} {} {}",
        r.state.as_str(),
        r.records,
        b(r.encrypted),
        opt(&r.ccs_frame),
        r.bytes_in
    ));
    out
}

/// The fixtures' scenario names (each has `.c2s.bin`, `.s2c.bin`, `.expect`).
pub fn scenarios(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".expect").map(str::to_owned)
        })
        .collect();
    names.sort();
    names
}

/// `pos=3 val=255` or `cut=10` applied to `data`.
pub fn mutate(data: &[u8], spec: &str) -> Vec<u8> {
    let mut pos = None;
    let mut val = 0u8;
    for kv in spec.split(' ') {
        let (k, v) = kv.split_once('=').unwrap();
        match k {
            "cut" => return data[..v.parse::<usize>().unwrap()].to_vec(),
            "pos" => pos = Some(v.parse::<usize>().unwrap()),
            "val" => val = v.parse().unwrap(),
            _ => panic!("bad spec {spec}"),
        }
    }
    let mut out = data.to_vec();
    if let Some(p) = pos {
        if p < out.len() {
            out[p] = val;
        }
    }
    out
}
