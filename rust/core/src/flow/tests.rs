use super::*;

use crate::tls::session::TLSSession;

fn conn(a_port: u16, b_port: u16) -> Connection {
    Connection::new(&[10, 0, 0, 1], &[10, 0, 0, 2], a_port, b_port, 1, 0.0, &Limits::default(), None)
}

#[test]
fn roles_follow_the_hello_then_syn_then_ports() {
    let ports: &[u16] = &DEFAULT_TLS_PORTS;
    // (a_port, b_port, syn, client_side from the hellos) -> client side
    let cases: &[(u16, u16, bool, Option<Side>, Side)] = &[
        (50000, 443, false, Some(Side::B), Side::B), // the ClientHello decides
        (443, 50000, true, None, Side::A),           // the SYN sender initiated
        (50000, 443, false, None, Side::A),          // only b's port is a TLS port
        (443, 50000, false, None, Side::B),          // only a's port is a TLS port
        (40000, 30000, false, None, Side::A),        // neither: the higher port is the client
        (30000, 40000, false, None, Side::B),
        (443, 8443, false, None, Side::B),           // both: the higher port again
    ];
    for &(ap, bp, syn, hello, want) in cases {
        let mut c = conn(ap, bp);
        c.syn[1] = syn;
        c.session.client_side = hello;
        assert_eq!(roles(&c, ports), (want, other(want)), "{ap} {bp} {syn} {hello:?}");
    }
}

#[test]
fn tls13_outcome_by_record_sizes_and_order() {
    use Side::{A, B};
    // encrypted records after the ServerHello (side, size) -> outcome; the client is A
    let cases: &[(&[(Side, usize)], Option<&str>)] = &[
        (&[(B, 2000)], None),                                // the client has not spoken
        (&[(B, 2000), (A, 19)], Some("failed")),             // the client's alert
        (&[(B, 2000), (A, 80), (B, 19)], Some("failed")),    // the server's alert after Finished
        (&[(B, 2000), (A, 80), (B, 300)], Some("established")),
        (&[(B, 2000), (A, 80), (B, 19), (B, 40)], Some("established")),
        (&[(B, 2000), (A, 80), (A, 500)], Some("established")),
        (&[(B, 2000), (A, 80)], None),                       // wait for the server's verdict
    ];
    for (seq, want) in cases {
        let mut s = TLSSession::new(None, 32);
        s.encrypted_order = seq.to_vec();
        assert_eq!(tls13_outcome(&s, A).map(|(o, _)| o), *want, "{seq:?}");
    }
    let mut s = TLSSession::new(None, 32);
    s.encrypted_order = vec![(B, 2000), (A, 19)];
    assert_eq!(tls13_outcome(&s, A).and_then(|(_, d)| d).as_deref(),
               Some("client sent an encrypted alert (TLS 1.3: it likely rejected the server's certificate)"));
}

#[test]
fn outcome_without_hellos_close_or_eviction() {
    let mut c = conn(50000, 443);
    assert_eq!(outcome(&c, Side::A),
               ("incomplete", Some("the hellos are not in the capture (it starts mid-connection)".into())));
    c.session.client_hello = Some(Default::default());
    assert_eq!(outcome(&c, Side::A).1.as_deref(), Some("the capture ends before the handshake does"));
    c.evicted = true;
    assert_eq!(outcome(&c, Side::A).1.as_deref(), Some("flow evicted before the handshake ended (flow table full)"));
    c.closed_by = Some(Side::B);
    c.close_kind = Some(CloseKind::Rst);
    c.session.last_message.insert(Side::A, "ClientHello".into());
    assert_eq!(outcome(&c, Side::A),
               ("reset", Some("server reset the connection after the client's ClientHello without an alert".into())));
}

#[test]
fn tcp_anomalies_are_listed_once_in_order() {
    let mut c = conn(50000, 443);
    c.reasm[0].segment(100, b"abc", false); // midstream on a
    c.reasm[1].segment(200, b"xyz", false); // midstream on b too
    assert_eq!(c.tcp_anomalies(), vec!["midstream"]);
}
