//! Key-log decryption against published vectors (RFC 8448, the TLS 1.2 PRF vectors from the IETF
//! TLS list) and against records sealed by the Python engine's `cryptography` (OpenSSL), so the
//! two engines give the same plaintext for the same record.

use tlsinspect_core::tls::decrypt::{
    hkdf_expand_label, parse_keylog, read_keylog, tls12_aead, tls12_prf, HashAlg, KeyLogError, Label,
    RecordDecryptor, Tls12Cipher, Tls12Decryptor, MAX_LINE,
};

fn h(s: &str) -> Vec<u8> {
    hex::decode(s.replace([' ', '\n'], "")).unwrap()
}

// RFC 8448 section 3 (simple 1-RTT handshake, TLS_AES_128_GCM_SHA256).
const RFC8448_SERVER_HS_SECRET: &str = "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38";
const RFC8448_CLIENT_HS_SECRET: &str = "b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21";
const RFC8448_CLIENT_FINISHED_RECORD: &str = "17 03 03 00 35 75 ec 4d c2 38 cc e6 0b 29 80 44 a7 1e 21 9c
    56 cc 77 b0 51 7f e9 b9 3c 7a 4b fc 44 d8 7f 38 f8 03 38 ac 98 fc 46 de b3 84 bd 1c ae ac ab 68
    67 d7 26 c4 05 46";
const RFC8448_CLIENT_FINISHED: &str = "14 00 00 20 a8 ec 43 6d 67 76 34 ae 52 5a c1 fc eb e1 1a 03 9e
    c1 76 94 fa c6 e9 85 27 b6 42 f2 ed d5 ce 61";

#[test]
fn hkdf_expand_label_rfc8448_server_handshake_key_and_iv() {
    let secret = h(RFC8448_SERVER_HS_SECRET);
    let key = hkdf_expand_label(&secret, b"key", b"", 16, HashAlg::Sha256).unwrap();
    let iv = hkdf_expand_label(&secret, b"iv", b"", 12, HashAlg::Sha256).unwrap();
    assert_eq!(hex::encode(key), "3fce516009c21727d0f2e4e86ee403bc");
    assert_eq!(hex::encode(iv), "5d313eb2671276ee13000b30");
}

#[test]
fn hkdf_expand_label_rfc8448_client_handshake_key_and_iv() {
    let secret = h(RFC8448_CLIENT_HS_SECRET);
    assert_eq!(
        hex::encode(hkdf_expand_label(&secret, b"key", b"", 16, HashAlg::Sha256).unwrap()),
        "dbfaa693d1762c5b666af5d950258d01"
    );
    assert_eq!(
        hex::encode(hkdf_expand_label(&secret, b"iv", b"", 12, HashAlg::Sha256).unwrap()),
        "5bd3c71b836e0b76bb73265f"
    );
}

#[test]
fn hkdf_expand_label_out_of_range_is_none_not_a_panic() {
    assert!(hkdf_expand_label(b"k", b"key", b"", 255 * 32 + 1, HashAlg::Sha256).is_none());
    assert!(hkdf_expand_label(b"k", &[b'x'; 250], b"", 16, HashAlg::Sha256).is_none());
    assert!(hkdf_expand_label(b"k", b"key", &[0; 256], 16, HashAlg::Sha256).is_none());
    // A secret shorter than the hash is still a valid HMAC key (as cryptography's HKDFExpand).
    assert_eq!(hkdf_expand_label(b"", b"key", b"", 16, HashAlg::Sha256).unwrap().len(), 16);
}

#[test]
fn rfc8448_client_finished_record_decrypts_to_the_finished_message() {
    let record = h(RFC8448_CLIENT_FINISHED_RECORD);
    let mut d = RecordDecryptor::new(0x1301, &h(RFC8448_CLIENT_HS_SECRET)).unwrap();
    let (inner, content) = d.decrypt(&record[..5], &record[5..]).unwrap();
    assert_eq!(inner, 22);
    assert_eq!(content, h(RFC8448_CLIENT_FINISHED));
    assert_eq!(d.seq, 1);
    // The same record again is sequence number 1 now: it does not authenticate.
    assert!(d.decrypt(&record[..5], &record[5..]).is_none());
    assert_eq!(d.seq, 1);
}

#[test]
fn wrong_secret_or_tampered_record_is_none() {
    let record = h(RFC8448_CLIENT_FINISHED_RECORD);
    let mut wrong = RecordDecryptor::new(0x1301, &h(RFC8448_SERVER_HS_SECRET)).unwrap();
    assert!(wrong.decrypt(&record[..5], &record[5..]).is_none());
    assert_eq!(wrong.seq, 0);
    let mut tampered = record.clone();
    tampered[20] ^= 1;
    let mut d = RecordDecryptor::new(0x1301, &h(RFC8448_CLIENT_HS_SECRET)).unwrap();
    assert!(d.decrypt(&tampered[..5], &tampered[5..]).is_none());
    // The header is the AAD: a changed length byte fails too.
    let mut header = record[..5].to_vec();
    header[2] = 0x01;
    assert!(d.decrypt(&header, &record[5..]).is_none());
}

#[test]
fn unknown_suite_has_no_decryptor() {
    assert!(RecordDecryptor::new(0xc02f, &[0; 32]).is_none());
    assert!(RecordDecryptor::new(0x1306, &[0; 32]).is_none());
}

/// Two records per TLS 1.3 suite, sealed by Python's `cryptography` with the keys of
/// `inspector.tls.decrypt.RecordDecryptor` (secret byte i = (7 i + suite) & 0xff): sequence 0 an
/// EncryptedExtensions without padding, sequence 1 an alert with 5 bytes of padding.
const SEALED_BY_PYTHON: [(u16, usize, &str, &str); 5] = [
    (0x1301, 32, "1703030017a7788e13cfd23ef79e4d8a3cafeb8d314aa38af537e696",
     "170303001871777e1225b9c89fb0bd43f168f5692f9aa69314dcf0f1c5"),
    (0x1302, 48, "1703030017887cd702faebfe8b35ffd1da6e5791c0468c11d389ceda",
     "17030300183eaea5d17fb8c3ebd4571d3cbaeb94c83437f59463814103"),
    (0x1303, 32, "1703030017c7697aae0ae47f64b9a0094c67b4440c8f4b3c51a351e7",
     "1703030018f6aace96eeaeb6f4ed5bfef8bf70fc578a1a4a167da5309e"),
    (0x1304, 32, "17030300170be4988987db2a48558af993b951d286b3f2d6383c930f",
     "1703030018ced07aaeee29ee3f37ae72d720f8d1adf539faa724eacf52"),
    (0x1305, 32, "170303000f74dc4d7e71f1c5251a2795846f8ff3", "17030300100bfb5e555a6b9ff28e508af789f487c3"),
];

fn python_secret(suite: u16, len: usize) -> Vec<u8> {
    (0..len).map(|i| ((i * 7 + suite as usize) & 0xff) as u8).collect()
}

#[test]
fn every_tls13_suite_reads_what_python_sealed() {
    for (suite, len, first, second) in SEALED_BY_PYTHON {
        let mut d = RecordDecryptor::new(suite, &python_secret(suite, len)).unwrap();
        let (r1, r2) = (h(first), h(second));
        assert_eq!(d.decrypt(&r1[..5], &r1[5..]), Some((22, vec![8, 0, 0, 2, 0, 0])), "{suite:#06x}");
        assert_eq!(d.decrypt(&r2[..5], &r2[5..]), Some((21, vec![2, 42])), "{suite:#06x}");
        // Out of order (sequence 2 now): nothing.
        assert_eq!(d.decrypt(&r1[..5], &r1[5..]), None, "{suite:#06x}");
    }
}

#[test]
fn ccm8_tag_length_is_eight() {
    let d = RecordDecryptor::new(0x1305, &[1; 32]).unwrap();
    assert_eq!(d.tag_len, 8);
    assert_eq!(RecordDecryptor::new(0x1304, &[1; 32]).unwrap().tag_len, 16);
}

#[test]
fn short_and_empty_records_never_panic() {
    for suite in [0x1301, 0x1302, 0x1303, 0x1304, 0x1305] {
        let mut d = RecordDecryptor::new(suite, &[9; 48]).unwrap();
        for n in 0..40 {
            let body = vec![0xab; n];
            assert!(d.decrypt(&[0x17, 3, 3, 0, n as u8], &body).is_none());
            assert!(d.decrypt(&[], &body).is_none());
        }
        assert_eq!(d.seq, 0);
    }
    let mut t = Tls12Decryptor::new("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", &[1; 48], &[2; 32], &[3; 32], true, 0x0303)
        .unwrap();
    let mut c = Tls12Decryptor::new("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", &[], &[], &[], false, 0x0303).unwrap();
    for n in 0..40 {
        assert!(t.decrypt(21, &vec![0; n]).is_none());
        assert!(c.decrypt(21, &vec![0; n]).is_none());
    }
    assert_eq!((t.seq, c.seq), (40, 40)); // TLS 1.2: the sequence number advances on failure too
}

#[test]
fn a_record_of_padding_only_is_none() {
    // Seal an all-zero inner plaintext with the RFC 8448 client handshake key (what a peer that
    // sends only padding would send): authentic, but no content type.
    use aes_gcm::aead::{Aead, KeyInit, Payload};
    let key = h("dbfaa693d1762c5b666af5d950258d01");
    let iv = h("5bd3c71b836e0b76bb73265f");
    let header = [0x17, 3, 3, 0, 20];
    let ct = aes_gcm::Aes128Gcm::new_from_slice(&key)
        .unwrap()
        .encrypt(aes_gcm::Nonce::from_slice(&iv), Payload { msg: &[0; 4], aad: &header })
        .unwrap();
    let mut d = RecordDecryptor::new(0x1301, &h(RFC8448_CLIENT_HS_SECRET)).unwrap();
    assert_eq!(d.decrypt(&header, &ct), None);
    assert_eq!(d.seq, 1, "it did authenticate");
}

// ---- TLS 1.2 ----------------------------------------------------------------------------------

#[test]
fn tls12_prf_sha256_vector() {
    let out = tls12_prf(&h("9bbe436ba940f017b17652849a71db35"), b"test label",
                        &h("a0ba9f936cda311827a6f796ffd5198c"), 100, HashAlg::Sha256);
    assert_eq!(
        hex::encode(out),
        "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af\
         0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701\
         87347b66"
    );
}

#[test]
fn tls12_prf_sha384_vector() {
    let out = tls12_prf(&h("b80b733d6ceefcdc71566ea48e5567df"), b"test label",
                        &h("cd665cf6a8447dd6ff8b27555edb7465"), 148, HashAlg::Sha384);
    assert_eq!(
        hex::encode(out),
        "7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cde9ca0faa60be9fe34f82b1233c9146a0\
         e534cb400fed2700884f9dc236f80edd8bfa961144c9e8d792eca722a7b32fc3d416d473ebc2c5fd4abfdad05d918425\
         9b5bf8cd4d90fa0d31e2dec479e4f1a26066f2eea9a69236a3e52655c9e9aee691c8f3a26854308d5eaa3be85e099070\
         3d73e56f"
    );
}

#[test]
fn tls12_aead_by_suite_name() {
    let gcm = tls12_aead("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256").unwrap();
    assert_eq!((gcm.cipher, gcm.key_len, gcm.iv_len, gcm.prf_hash), (Tls12Cipher::Aes128Gcm, 16, 4, HashAlg::Sha256));
    let gcm256 = tls12_aead("TLS_RSA_WITH_AES_256_GCM_SHA384").unwrap();
    assert_eq!((gcm256.cipher, gcm256.key_len, gcm256.prf_hash), (Tls12Cipher::Aes256Gcm, 32, HashAlg::Sha384));
    let chacha = tls12_aead("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256").unwrap();
    assert_eq!((chacha.cipher, chacha.key_len, chacha.iv_len), (Tls12Cipher::ChaCha20Poly1305, 32, 12));
    assert!(tls12_aead("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256").is_none());
    assert!(tls12_aead("TLS_RSA_WITH_ARIA_128_GCM_SHA256").is_none());
    assert!(tls12_aead("").is_none());
}

/// A fatal handshake_failure alert (02 14) at sequence number 1, sealed by Python with the keys of
/// `inspector.tls.decrypt.Tls12Decryptor` (master secret 00..2f, client random 64..83, server
/// random c8..e7; GCM explicit nonce a1 x 8).
const TLS12_SEALED_BY_PYTHON: [(&str, bool, &str); 6] = [
    ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", true, "a1a1a1a1a1a1a1a1f684a47e417debbf572444b851573375c2c4"),
    ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", false, "a1a1a1a1a1a1a1a1b50c7598e0a085a373713cdccffd90e98f3c"),
    ("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", true, "a1a1a1a1a1a1a1a188151d7cdb00be482c3efc722d14239b1258"),
    ("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", false, "a1a1a1a1a1a1a1a13278ebcb454330c2f24e225b21eb758bc333"),
    ("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", true, "0d4517ccccb80f7c57e4fd7687a0309d445c"),
    ("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", false, "efb141babc40fee111204661a810a49f0a86"),
];

#[test]
fn tls12_alert_after_a_skipped_finished_decrypts_like_python() {
    let ms: Vec<u8> = (0..48).collect();
    let cr: Vec<u8> = (100..132).collect();
    let sr: Vec<u8> = (200..232).collect();
    for (name, client, payload) in TLS12_SEALED_BY_PYTHON {
        let mut d = Tls12Decryptor::new(name, &ms, &cr, &sr, client, 0x0303).unwrap();
        d.skip(); // the encrypted Finished
        assert_eq!(d.decrypt(21, &h(payload)), Some(vec![2, 0x14]), "{name} client={client}");
        // The other side's keys do not open it.
        let mut other = Tls12Decryptor::new(name, &ms, &cr, &sr, !client, 0x0303).unwrap();
        other.skip();
        assert_eq!(other.decrypt(21, &h(payload)), None, "{name} client={client}");
        // Nor the wrong sequence number, content type or version (all in the AAD).
        let mut unskipped = Tls12Decryptor::new(name, &ms, &cr, &sr, client, 0x0303).unwrap();
        assert_eq!(unskipped.decrypt(21, &h(payload)), None);
        let mut as_data = Tls12Decryptor::new(name, &ms, &cr, &sr, client, 0x0303).unwrap();
        as_data.skip();
        assert_eq!(as_data.decrypt(23, &h(payload)), None);
        let mut tls11 = Tls12Decryptor::new(name, &ms, &cr, &sr, client, 0x0302).unwrap();
        tls11.skip();
        assert_eq!(tls11.decrypt(21, &h(payload)), None);
    }
}

#[test]
fn tls12_cbc_suite_has_no_decryptor() {
    assert!(Tls12Decryptor::new("TLS_RSA_WITH_AES_128_CBC_SHA", &[0; 48], &[0; 32], &[0; 32], true, 0x0303).is_none());
}

// ---- key log ----------------------------------------------------------------------------------

fn line(label: &str, cr: &str, secret: &str) -> String {
    format!("{label} {cr} {secret}\n")
}

#[test]
fn parse_keylog_skips_garbage_like_python() {
    // tests/unit/test_keylog.py::test_parse_keylog_skips_garbage
    let text = format!(
        "# comment\nCLIENT_RANDOM zz 00\nSERVER_HANDSHAKE_TRAFFIC_SECRET {} {}\nrubbish\n",
        "ab".repeat(32),
        "cd".repeat(32)
    );
    let log = parse_keylog(text.as_bytes());
    assert_eq!((log.len(), log.bad_lines), (1, 2));
    let s = log.get(&[0xab; 32]).unwrap();
    assert_eq!(s.get(Label::ServerHandshakeTrafficSecret), Some(&[0xcd; 32][..]));
    assert!(!s.contains(Label::ClientRandom));
}

#[test]
fn parse_keylog_acceptance_rules() {
    let cr = "0a".repeat(32);
    let cases: &[(&str, usize, u64)] = &[
        // (text, entries, bad lines)
        ("", 0, 0),
        ("   \n\t\n\r\n", 0, 0),
        ("  # indented comment with CLIENT_RANDOM\n", 0, 0),
        ("client_random AA BB\n", 0, 1),                            // labels are case-sensitive
        ("CLIENT_RANDOM 0a0a 00\n", 0, 1),                         // client random not 32 bytes
        ("CLIENT_RANDOM 0a0 00\n", 0, 1),                          // odd hex
        ("UNKNOWN_LABEL x y\n", 0, 1),
        ("CLIENT_RANDOM a b c d\n", 0, 1),                         // four fields
        ("CLIENT_RANDOM\n", 0, 1),
    ];
    for (text, entries, bad) in cases {
        let log = parse_keylog(text.as_bytes());
        assert_eq!((log.len(), log.bad_lines), (*entries, *bad), "{text:?}");
    }
    // Upper-case hex, tabs, CRLF, surrounding whitespace and a missing final newline are fine.
    let text = format!("\tCLIENT_RANDOM\t{}  ABCD \r\nEXPORTER_SECRET {cr} 01", cr.to_uppercase());
    let log = parse_keylog(text.as_bytes());
    assert_eq!((log.len(), log.bad_lines), (1, 0));
    let s = log.get(&[0x0a; 32]).unwrap();
    assert_eq!(s.get(Label::ClientRandom), Some(&[0xab, 0xcd][..]));
    assert_eq!(s.get(Label::ExporterSecret), Some(&[1][..]));
    assert_eq!(s.len(), 2);
}

#[test]
fn later_line_for_the_same_label_wins() {
    let cr = "11".repeat(32);
    let text = line("CLIENT_TRAFFIC_SECRET_0", &cr, "01") + &line("CLIENT_TRAFFIC_SECRET_0", &cr, "02");
    let log = parse_keylog(text.as_bytes());
    assert_eq!(log.get(&[0x11; 32]).unwrap().get(Label::ClientTrafficSecret0), Some(&[2][..]));
}

#[test]
fn python_line_breaks_and_whitespace() {
    // str.splitlines() also breaks at \v \f \x1c \x1d \x1e; \x1f is whitespace but no line break.
    let cr = "22".repeat(32);
    let text = format!("CLIENT_RANDOM {cr} 01\x0bCLIENT_TRAFFIC_SECRET_0 {cr} 02\x1cEXPORTER_SECRET\x1f{cr}\x1f03");
    let log = parse_keylog(text.as_bytes());
    let s = log.get(&[0x22; 32]).unwrap();
    assert_eq!((s.len(), log.bad_lines), (3, 0));
    // A byte >= 0x80 is U+FFFD after ASCII decoding: neither whitespace nor hex.
    let mut bytes = format!("CLIENT_RANDOM {cr} 01").into_bytes();
    bytes.push(0xa0);
    let log = parse_keylog(&bytes);
    assert_eq!((log.len(), log.bad_lines), (0, 1));
}

#[test]
fn fed_byte_by_byte_gives_the_same_log() {
    let cr = "33".repeat(32);
    let text = format!(
        "# SSL/TLS secrets log file\r\n{}{}garbage\n{}",
        line("CLIENT_HANDSHAKE_TRAFFIC_SECRET", &cr, &"44".repeat(32)),
        line("SERVER_HANDSHAKE_TRAFFIC_SECRET", &cr, &"55".repeat(48)),
        line("CLIENT_RANDOM", &"66".repeat(32), &"77".repeat(48)),
    );
    let whole = parse_keylog(text.as_bytes());
    let mut p = tlsinspect_core::tls::decrypt::KeyLogParser::new();
    for b in text.as_bytes() {
        p.feed(std::slice::from_ref(b));
    }
    let streamed = p.finish();
    assert_eq!(whole, streamed);
    assert_eq!((whole.len(), whole.bad_lines), (2, 1));
}

#[test]
fn overlong_lines_are_bounded_and_counted() {
    let cr = "44".repeat(32);
    let mut text = Vec::new();
    text.extend_from_slice(format!("CLIENT_RANDOM {cr} ").as_bytes());
    text.extend(std::iter::repeat_n(b'a', MAX_LINE + 10)); // a runaway line: a bad line
    text.push(b'\n');
    text.push(b'#');
    text.extend(std::iter::repeat_n(b'x', MAX_LINE * 2)); // a runaway comment: skipped
    text.push(b'\n');
    text.extend(std::iter::repeat_n(b' ', MAX_LINE * 2)); // only whitespace: skipped
    text.push(b'\n');
    text.extend_from_slice(line("CLIENT_RANDOM", &cr, "0102").as_bytes());
    let log = read_keylog(std::io::Cursor::new(&text), u64::MAX).unwrap();
    assert_eq!((log.len(), log.bad_lines), (1, 1));
    assert_eq!(log.get(&[0x44; 32]).unwrap().get(Label::ClientRandom), Some(&[1, 2][..]));
}

#[test]
fn read_keylog_streams_and_caps_the_size() {
    let cr = "55".repeat(32);
    let text = line("CLIENT_RANDOM", &cr, &"66".repeat(48)).repeat(1000);
    let reader = std::io::BufReader::with_capacity(7, std::io::Cursor::new(text.as_bytes()));
    let log = read_keylog(reader, text.len() as u64).unwrap();
    assert_eq!((log.len(), log.bad_lines), (1, 0));
    // /dev/zero-like: an endless source ends at the cap with an error, not an exhausted memory.
    let zeros = std::io::BufReader::new(std::io::repeat(0));
    match read_keylog(zeros, 1 << 20) {
        Err(KeyLogError::TooLarge { max_bytes }) => assert_eq!(max_bytes, 1 << 20),
        other => panic!("expected TooLarge, got {other:?}"),
    }
    let err = read_keylog(std::io::Cursor::new(text.as_bytes()), 100).unwrap_err();
    assert_eq!(err.to_string(), "the key log is larger than 100 bytes");
}

#[test]
fn the_bundled_tls13_keylog_parses() {
    let text = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../pcaps/tls13_443.keylog")).unwrap();
    let log = parse_keylog(&text);
    assert_eq!(log.bad_lines, 0);
    assert!(!log.is_empty());
    let secrets = log.secrets.values().next().unwrap();
    for label in [Label::ClientHandshakeTrafficSecret, Label::ServerHandshakeTrafficSecret,
                  Label::ClientTrafficSecret0, Label::ServerTrafficSecret0] {
        assert!(secrets.contains(label), "{label:?}");
    }
}

#[test]
fn get_with_a_random_of_the_wrong_length_is_none() {
    let log = parse_keylog(line("CLIENT_RANDOM", &"00".repeat(32), "01").as_bytes());
    assert!(log.get(&[0; 32]).is_some());
    assert!(log.get(&[0; 31]).is_none());
    assert!(log.get(&[]).is_none());
}

// ---- key log files -----------------------------------------------------------------------------

#[test]
fn load_keylog_reads_a_file_and_names_it_in_errors() {
    use tlsinspect_core::tls::decrypt::{load_keylog, DEFAULT_MAX_KEYLOG_BYTES};
    let path = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../pcaps/tls13_443.keylog"));
    let log = load_keylog(path, DEFAULT_MAX_KEYLOG_BYTES).unwrap();
    assert_eq!((log.len(), log.bad_lines), (1, 0));

    let dir = std::env::temp_dir().join(format!("tlsinspect-keylog-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let empty = dir.join("empty.log");
    std::fs::write(&empty, "nothing here\n").unwrap();
    let err = load_keylog(&empty, DEFAULT_MAX_KEYLOG_BYTES).unwrap_err();
    assert_eq!(err.to_string(), format!("{} holds no key log lines (NSS key log format expected)", empty.display()));

    let missing = dir.join("missing.log");
    let err = load_keylog(&missing, DEFAULT_MAX_KEYLOG_BYTES).unwrap_err();
    assert_eq!(err.to_string(), format!("cannot read key log {}: No such file or directory", missing.display()));

    let err = load_keylog(&dir, DEFAULT_MAX_KEYLOG_BYTES).unwrap_err();
    assert!(err.to_string().ends_with(": a directory"), "{err}");

    let big = dir.join("big.log");
    std::fs::write(&big, line("CLIENT_RANDOM", &"00".repeat(32), "01").repeat(100)).unwrap();
    let err = load_keylog(&big, 1000).unwrap_err();
    assert!(err.to_string().ends_with("larger than 1000 bytes"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[cfg(unix)]
#[test]
fn load_keylog_refuses_devices_instead_of_reading_forever() {
    use tlsinspect_core::tls::decrypt::{load_keylog, DEFAULT_MAX_KEYLOG_BYTES};
    let err = load_keylog(std::path::Path::new("/dev/zero"), DEFAULT_MAX_KEYLOG_BYTES).unwrap_err();
    assert_eq!(err.to_string(), "cannot read key log /dev/zero: a character device");
}

#[cfg(unix)]
#[test]
fn load_keylog_refuses_a_fifo_without_blocking() {
    use tlsinspect_core::tls::decrypt::{load_keylog, DEFAULT_MAX_KEYLOG_BYTES};
    let fifo = std::env::temp_dir().join(format!("tlsinspect-keylog-fifo-{}", std::process::id()));
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !matches!(made, Ok(s) if s.success()) {
        return; // no mkfifo here: nothing to check
    }
    let err = load_keylog(&fifo, DEFAULT_MAX_KEYLOG_BYTES).unwrap_err();
    std::fs::remove_file(&fifo).unwrap();
    assert_eq!(err.to_string(), format!("cannot read key log {}: a FIFO", fifo.display()));
}

#[test]
fn merged_key_logs_let_the_later_secret_win() {
    let cr = "77".repeat(32);
    let mut file = parse_keylog((line("CLIENT_RANDOM", &cr, "01") + &line("EXPORTER_SECRET", &cr, "02") + "junk\n").as_bytes());
    let block = parse_keylog((line("CLIENT_RANDOM", &cr, "03") + &line("CLIENT_RANDOM", &"88".repeat(32), "04")).as_bytes());
    file.merge(block);
    assert_eq!((file.len(), file.bad_lines), (2, 1));
    let s = file.get(&[0x77; 32]).unwrap();
    assert_eq!((s.get(Label::ClientRandom), s.get(Label::ExporterSecret)), (Some(&[3][..]), Some(&[2][..])));
}
