// Fuzz target body: one direction of a TLS stream through the record layer and handshake
// message reassembly (tls/records), fed whole and then byte by byte (in 1..=8-byte steps for
// long inputs), and every handshake message through every parser of tls/messages.
// Included by fuzz_targets/tls_records.rs and tests/tls_records_fuzz.rs.

use tlsinspect_core::tls::fingerprint::{ja3, ja3s, ja4};
use tlsinspect_core::tls::messages::{
    ca_name_to_str, parse_alert, parse_certificate, parse_certificate_request, parse_client_hello,
    parse_new_session_ticket, parse_server_hello, parse_server_key_exchange, parse_sslv2_client_hello,
};
use tlsinspect_core::tls::records::{Event, RecordReader};

const MAX_HANDSHAKE: usize = 1 << 16;
const MAX_RECORDS: u64 = 2_000;
const MAX_CERTS: usize = 8;

/// (msg_type, body) of the whole messages, and the number of events.
fn read(data: &[u8], step: usize) -> (Vec<(u8, Vec<u8>)>, Vec<Event>) {
    let mut r = RecordReader::new(MAX_HANDSHAKE, MAX_RECORDS);
    r.keep_payload = true;
    let mut events = Vec::new();
    for c in data.chunks(step.max(1)) {
        r.feed_into(c, 1, false, &mut events);
        assert!(r.buffered() <= data.len() + 5, "buffered {} of {}", r.buffered(), data.len());
    }
    let msgs = events
        .iter()
        .filter_map(|e| match e {
            Event::HandshakeMessage(m) => Some((m.msg_type, m.body.clone())),
            _ => None,
        })
        .collect();
    (msgs, events)
}

/// Every parser over one handshake message body; each result within the body's bounds.
fn parse_message(msg_type: u8, body: &[u8]) {
    let n = body.len();
    match msg_type {
        1 => {
            if let Ok(ch) = parse_client_hello(body) {
                assert!(ch.cipher_suites.len() * 2 <= n && ch.extensions.len() * 4 <= n);
                let _ = (ja3(&ch), ja4(&ch, "t"), ja4(&ch, "d"), ja4(&ch, "q"));
            }
        }
        2 => {
            if let Ok(sh) = parse_server_hello(body) {
                let _ = ja3s(&sh);
            }
        }
        11 => {
            for tls13 in [false, true] {
                if let Ok(c) = parse_certificate(body, tls13, MAX_CERTS) {
                    assert!(c.certs.len() <= MAX_CERTS);
                    assert!(c.certs.iter().map(|d| d.len()).sum::<usize>() <= n);
                }
            }
        }
        13 => {
            for (tls13, v) in [(false, 0x0303), (false, 0x0302), (true, 0x0304)] {
                if let Ok(cr) = parse_certificate_request(body, tls13, v) {
                    assert!(cr.ca_names.iter().map(|d| d.len()).sum::<usize>() <= n);
                    for name in &cr.ca_names {
                        let _ = ca_name_to_str(name);
                    }
                }
            }
        }
        12 => {
            for suite in [0xc02f, 0x009e, 0xc02b, 0x0033, 0x002f, 0xcca8, 0x00a8] {
                for v in [0x0301, 0x0303] {
                    let _ = parse_server_key_exchange(body, suite, v);
                }
            }
        }
        4 => {
            let _ = parse_new_session_ticket(body, false);
            let _ = parse_new_session_ticket(body, true);
        }
        _ => {}
    }
}

/// Read `data` as one direction of a TLS stream. Never panics; the messages found do not
/// depend on how the bytes were cut; what they hold is no more than what was given. Returns the
/// handshake messages found.
pub fn fuzz_tls_records(data: &[u8]) -> u64 {
    let (whole, events) = read(data, data.len());
    let step = if data.len() <= 4096 { 1 } else { 1 + data.len() % 8 };
    let (pieces, _) = read(data, step);
    assert_eq!(whole, pieces, "messages differ fed whole and in {step}-byte steps");
    assert!(whole.iter().map(|(_, b)| b.len() + 4).sum::<usize>() <= data.len());
    for (t, body) in &whole {
        parse_message(*t, body);
        // a message of one type parsed as another: the parsers see bytes they were not made for
        parse_message(t.wrapping_add(1) % 14, body);
    }
    for e in &events {
        match e {
            Event::AlertRecord(a) if !a.encrypted => {
                if let Ok(alerts) = parse_alert(&a.payload) {
                    assert!(alerts.len() * 2 <= a.payload.len());
                }
            }
            Event::SSLv2ClientHello(h) => {
                let _ = parse_sslv2_client_hello(&h.record);
            }
            _ => {}
        }
    }
    // each parser on the raw input as a message body, too
    for t in [1, 2, 4, 11, 12, 13] {
        parse_message(t, data);
    }
    let _ = parse_alert(data);
    let _ = parse_sslv2_client_hello(data);
    let _ = ca_name_to_str(data);
    whole.len() as u64
}
