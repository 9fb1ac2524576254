//! A finished UDP or EAPOL entry -> its flow row (endpoints, handshake columns, outcome and
//! its sentence), its chains and its events; [`store`] puts them into the analysis tables.

use std::collections::HashMap;

use super::{Ends, UdpFlow};
use crate::dtls::DtlsFlow;
use crate::eap::EapTlsFlow;
use crate::engine::{cert_entry, sha256_hex, CertSeen, TableHasher};
use crate::flow::{EventRecord, FlowRecord};
use crate::ip::ip_to_string;
use crate::quic::QuicConnection;
use crate::tls::messages::ca_name_to_str;
use crate::tls::session::{AlertSeen, Side};
use crate::tls::summary::HandshakeSummary;

fn fmt_end(e: &(Vec<u8>, u16)) -> (String, u16) {
    if e.0.len() == 6 {
        let m = &e.0;
        (format!("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", m[0], m[1], m[2], m[3], m[4], m[5]), 0)
    } else {
        (ip_to_string(&e.0), e.1)
    }
}

/// Put a finished UDP flow into the analysis tables: its row gets `flow_id`, its chains go to
/// the certificates table (roles as the TCP flows'), its events get the flow id.
pub fn store(u: UdpFlow, flow_id: u64, flows: &mut Vec<FlowRecord>, events: &mut Vec<EventRecord>,
             certs: &mut Vec<CertSeen>, index: &mut HashMap<String, usize, TableHasher>) {
    let UdpFlow { mut rec, server_chain, client_chain, events: evs } = u;
    rec.flow_id = flow_id;
    for (role, chain) in [("server", &server_chain), ("client", &client_chain)] {
        for (pos, der) in chain.iter().enumerate() {
            let i = cert_entry(certs, index, &sha256_hex(der), || der.clone());
            certs[i].note(flow_id, role, pos);
        }
    }
    for mut e in evs {
        e.flow_id = Some(flow_id);
        events.push(e);
    }
    flows.push(rec);
}

fn base(e: &Ends, client: Side, transport: &str, protocol: &str) -> FlowRecord {
    let (cip, cport) = fmt_end(e.end(client));
    let (sip, sport) = fmt_end(e.end(client.peer()));
    let ipv = match e.a.0.len() {
        4 => 4,
        16 => 6,
        _ => 0,
    };
    FlowRecord {
        client_ip: cip,
        client_port: cport,
        server_ip: sip,
        server_port: sport,
        ip_version: ipv,
        packets: e.packets,
        transport: transport.to_string(),
        protocol: protocol.to_string(),
        encapsulation: e.encap.clone(),
        ..FlowRecord::default()
    }
}

fn alert_events(rec: &mut FlowRecord, alerts: &[AlertSeen], client: Side) -> Vec<EventRecord> {
    let who = |s: Side| if s == client { "client" } else { "server" };
    let mut out = Vec::new();
    for a in alerts {
        rec.alerts.push(format!("{}:{}:{}", who(a.side), a.level, a.description));
        let detail = match &a.after {
            Some(after) if !after.is_empty() => format!("{} {} after the peer's {after}", a.level, a.description),
            _ => format!("{} {}", a.level, a.description),
        };
        out.push(EventRecord { flow_id: None, frame: Some(a.frame), ts: Some(a.ts), kind: "alert",
                               sender: Some(who(a.side)), code: a.description.clone(), detail });
    }
    out
}

fn fatal_sentence(alerts: &[AlertSeen], client: Side) -> Option<String> {
    alerts.iter().find(|a| a.level == "fatal").map(|a| {
        let who = if a.side == client { "client" } else { "server" };
        format!("{who} sent fatal {}", a.description)
    })
}

fn warning_events(rec: &mut FlowRecord, anomalies: &[(String, String)]) -> Vec<EventRecord> {
    let mut out = Vec::new();
    for (code, detail) in anomalies {
        if !rec.warnings.contains(code) {
            rec.warnings.push(code.clone());
        }
        out.push(EventRecord { kind: "warning", code: code.clone(), detail: detail.clone(), ..EventRecord::default() });
    }
    out
}

fn evicted(rec: &mut FlowRecord, e: &Ends, events: &mut Vec<EventRecord>) {
    if e.evicted {
        rec.warnings.push("evicted_flow_table_full".into());
        events.push(EventRecord { kind: "warning", code: "evicted_flow_table_full".into(),
                                  detail: "the flow table was full; this flow was reported before its end".into(),
                                  ..EventRecord::default() });
    }
}

/// The columns DTLS, QUIC and EAP-TLS rows take from their handshake alike (alerts are added
/// by [`alert_events`]; QUIC has none, nor history, CertificateRequest or client chain).
fn handshake_columns(rec: &mut FlowRecord, h: &HandshakeSummary) {
    rec.tls_version = h.version.clone();
    rec.cipher = h.cipher.clone();
    rec.sni = h.sni.clone();
    rec.ja3 = h.ja3.clone();
    rec.ja4 = h.ja4.clone();
    rec.history = h.history.clone();
    rec.client_cert_requested = h.cert_request;
    rec.requested_ca_names = h.cert_request_ca_names.iter().map(|n| ca_name_to_str(n)).collect();
    rec.server_chain_sha256 = h.server_chain.iter().map(|d| sha256_hex(d)).collect();
    rec.client_chain_sha256 = h.client_chain.iter().map(|d| sha256_hex(d)).collect();
    rec.certs_visible = !h.server_chain.is_empty();
}

pub(super) fn dtls_flow(e: &Ends, f: &DtlsFlow) -> UdpFlow {
    let h = &f.handshake;
    let mut rec = base(e, h.client_side, "udp", "DTLS");
    rec.ts_start = f.first_ts;
    rec.ts_end = f.last_ts;
    rec.first_frame = f.first_frame;
    rec.last_frame = f.last_frame;
    handshake_columns(&mut rec, h);
    rec.alpn = h.alpn.first().cloned();
    rec.srtp_profile = f.srtp_profile.clone();
    let (outcome, detail) = match f.outcome {
        "established" => ("established", None),
        "alert" => ("failed", fatal_sentence(&h.alerts, h.client_side)),
        "dtls13" => ("established", Some("DTLS 1.3: the handshake is encrypted after the ServerHello".to_string())),
        "hello_verify_only" => ("incomplete", Some("the client did not answer the HelloVerifyRequest".to_string())),
        "no_server_hello" => ("incomplete", Some("no ServerHello in the capture".to_string())),
        _ => ("incomplete", Some("the capture ends before the handshake does".to_string())),
    };
    rec.outcome = outcome.to_string();
    rec.outcome_detail = detail;
    let mut events = alert_events(&mut rec, &h.alerts, h.client_side);
    events.extend(warning_events(&mut rec, &f.anomalies));
    evicted(&mut rec, e, &mut events);
    UdpFlow { rec, server_chain: h.server_chain.clone(), client_chain: h.client_chain.clone(), events }
}

pub(super) fn quic_flow(e: &Ends, q: &QuicConnection) -> UdpFlow {
    let s = q.summary();
    let client = q.client.unwrap_or(Side::A);
    let mut rec = base(e, client, "udp", "QUIC");
    rec.ts_start = q.first_ts.unwrap_or(0.0);
    rec.ts_end = q.last_ts.unwrap_or(rec.ts_start);
    rec.first_frame = e.first_frame;
    rec.last_frame = e.last_frame;
    let h = &s.handshake;
    handshake_columns(&mut rec, h);
    rec.quic_version = s.version_name.clone();
    rec.cipher_id = h.cipher_id;
    rec.alpn = s.server_alpn.clone().or_else(|| h.alpn.first().cloned());
    rec.kx_group = h.group.clone();
    rec.resumed = s.resumed;
    rec.decrypted = q.handshake_decrypted > 0;
    let close = s.close.as_ref().map(|c| c.error_name.clone());
    let (outcome, detail) = match s.outcome {
        "handshake_complete" => ("established", None),
        "closed_with_error" => ("failed", close.map(|n| format!("closed with {n}"))),
        "version_negotiation" => ("failed", Some("the server asked for another QUIC version".to_string())),
        "closed" => ("established", Some("closed cleanly".to_string())),
        "no_server_response" => ("incomplete", Some("the server did not answer".to_string())),
        _ => ("incomplete", Some("the capture ends before the handshake does".to_string())),
    };
    rec.outcome = outcome.to_string();
    rec.outcome_detail = detail;
    let who = |side: Side| if side == client { "client" } else { "server" };
    let mut events = Vec::new();
    for c in &q.closes {
        if let Some(alert) = c.alert {
            let name = crate::tls::names::alert_name(alert);
            rec.alerts.push(format!("{}:fatal:{name}", who(c.side)));
            events.push(EventRecord { flow_id: None, frame: Some(c.frame), ts: Some(c.ts), kind: "alert",
                                      sender: Some(who(c.side)), code: name.clone(),
                                      detail: format!("fatal {name} (QUIC {})", c.error_name) });
        }
    }
    for a in &q.anomalies {
        if !rec.warnings.iter().any(|w| w == a.code) {
            rec.warnings.push(a.code.to_string());
        }
        events.push(EventRecord { frame: Some(a.frame), kind: "warning", sender: Some(who(a.side)),
                                  code: a.code.to_string(), detail: a.code.replace('_', " "),
                                  ..EventRecord::default() });
    }
    evicted(&mut rec, e, &mut events);
    let server_chain = s.handshake.server_chain;
    UdpFlow { rec, server_chain, client_chain: Vec::new(), events }
}

pub(super) fn eap_flow(e: &Ends, f: &EapTlsFlow, transport: &str) -> UdpFlow {
    // the peer (supplicant, or RADIUS client for RADIUS) is `a`: the TLS client
    let mut rec = base(e, Side::A, transport, f.method.as_deref().unwrap_or("EAP"));
    rec.ts_start = f.first_ts;
    rec.ts_end = f.last_ts;
    rec.first_frame = f.first_frame;
    rec.last_frame = f.last_frame;
    let h = &f.handshake;
    handshake_columns(&mut rec, h);
    let client = Side::A; // the peer, as EapTlsConversation numbers the sides
    let eap = if f.outcome == Some("success") { "EAP-Success" } else { "EAP-Failure" };
    let via = f.radius.clone().unwrap_or_else(|| eap.to_string());
    let (outcome, detail) = match f.outcome {
        Some("success") => ("established", Some(format!("authenticated ({via})"))),
        Some(_) => ("failed", Some(match fatal_sentence(&h.alerts, client) {
            Some(s) => format!("rejected ({via}): {s}"),
            None => format!("rejected ({via})"),
        })),
        None => ("incomplete", Some("no Access-Accept/Reject or EAP-Success/Failure in the capture".to_string())),
    };
    rec.outcome = outcome.to_string();
    rec.outcome_detail = detail;
    let mut events = alert_events(&mut rec, &h.alerts, client);
    events.extend(warning_events(&mut rec, &f.anomalies));
    evicted(&mut rec, e, &mut events);
    UdpFlow { rec, server_chain: h.server_chain.clone(), client_chain: h.client_chain.clone(), events }
}
