//! A judged connection -> its `flows` row: which side is the client, the hellos' columns, the
//! chains' fingerprints, the outcome, resumption, key exchange, fingerprints, STARTTLS.

use super::outcome::role_name;
use super::{other, outcome, Connection, FlowRecord};
use crate::ip::ip_to_string;
use crate::tls::detect::prelude_protocol;
use crate::tls::fingerprint;
use crate::tls::messages::ca_name_to_str;
use crate::tls::names::{cipher_name, group_name, version_name};
use crate::tls::session::{Side, TLSSession};
use crate::tls::summary::HandshakeSummary;

/// (client side, server side), as `inspector.flows._roles` decides (its branches kept one by one).
#[allow(clippy::if_same_then_else)]
pub fn roles(conn: &Connection, tls_ports: &[u16]) -> (Side, Side) {
    let s = &conn.session;
    let c = if let Some(c) = s.client_side {
        c
    } else if conn.syn[0] || conn.syn[1] {
        Side::A // the side that sent the first packet with SYN is the initiator by construction
    } else if tls_ports.contains(&conn.b_port) && !tls_ports.contains(&conn.a_port) {
        Side::A
    } else if tls_ports.contains(&conn.a_port) && !tls_ports.contains(&conn.b_port) {
        Side::B
    } else if conn.a_port >= conn.b_port {
        Side::A
    } else {
        Side::B
    };
    (c, other(c))
}

fn server_ccs_before_client(s: &TLSSession, client: Side) -> bool {
    let server = other(client);
    match (s.ccs.get(server), s.ccs.get(client)) {
        (Some(_), None) => true,
        (Some(sv), Some(c)) => sv <= c,
        _ => false,
    }
}

/// The `flows` row of a judged connection (X.509-derived columns are left to Python).
pub fn build_flow(conn: &Connection, flow_id: u64, tls_ports: &[u16]) -> FlowRecord {
    use crate::engine::sha256_hex;
    let s = &conn.session;
    let (c, sv) = roles(conn, tls_ports);
    let ip = |side: Side| if side == Side::A { &conn.a_ip } else { &conn.b_ip };
    let port = |side: Side| if side == Side::A { conn.a_port } else { conn.b_port };
    let ch = s.client_hello.as_ref();
    let sh = s.server_hello.as_ref();
    let h = HandshakeSummary::from_session(s, c);
    let server_chain: Vec<String> = h.server_chain.iter().map(|d| sha256_hex(d)).collect();
    let client_chain: Vec<String> = h.client_chain.iter().map(|d| sha256_hex(d)).collect();
    let (mut outcome, mut detail) = outcome(conn, c);
    let mut warnings: Vec<String> = conn.tcp_anomalies().into_iter().map(String::from).collect();
    warnings.extend(conn.warnings.iter().map(|w| w.code().to_string()));
    if conn.snaplen > 0 {
        warnings.push("snaplen_truncated".into());
        let cut = format!("the capture cut the packets at {n} bytes (snaplen {n})", n = conn.snaplen);
        if outcome == "established" || s.fatal_alert().is_some() { // evidence the cut kept
            detail = Some(match detail {
                Some(d) if !d.is_empty() => format!("{d}; {cut}"),
                _ => cut,
            });
        } else {
            let why = match &detail {
                Some(d) if !d.is_empty() && s.client_hello.is_some() => format!(" ({d})"),
                _ => String::new(),
            };
            outcome = "incomplete";
            detail = Some(format!("{cut}: the handshake cannot be read in full{why}"));
        }
    }
    for a in &s.anomalies {
        if !warnings.contains(&a.code) {
            warnings.push(a.code.to_string());
        }
    }
    let mut resumed = false;
    if let Some(sh) = sh {
        if s.is_tls13() {
            resumed = sh.extensions.iter().any(|e| e.0 == 41);
        } else {
            // abbreviated handshake: the server's CCS comes straight after its ServerHello
            resumed = (!sh.session_id.is_empty() && ch.is_some_and(|ch| sh.session_id == ch.session_id))
                || (!s.chains.contains_key(sv) && server_ccs_before_client(s, c));
        }
    }
    let kx = s.server_kx.as_ref();
    let kx_group = match kx.and_then(|k| k.curve) {
        Some(curve) => Some(group_name(curve)),
        None => h.group,
    };
    let client_max_version = ch.map(|ch| {
        let max = ch.supported_versions.iter().copied().max().unwrap_or(ch.legacy_version);
        version_name(u32::from(max))
    });
    let sslv2 = s.sslv2_server;
    let role = |side: Side| role_name(side, c);
    FlowRecord {
        flow_id,
        ts_start: conn.first_ts,
        ts_end: conn.last_ts,
        first_frame: conn.first_frame,
        last_frame: conn.last_frame,
        client_ip: ip_to_string(ip(c)),
        client_port: port(c),
        server_ip: ip_to_string(ip(sv)),
        server_port: port(sv),
        ip_version: conn.ip_version,
        tls_version: h.version.or_else(|| sslv2.map(|_| "SSL 2.0".to_string())),
        client_max_version,
        cipher: h.cipher.or_else(|| sslv2.map(|(kind, _)| cipher_name(kind))),
        cipher_id: h.cipher_id.or_else(|| sslv2.map(|(kind, _)| kind)),
        sni: h.sni,
        alpn: sh.and_then(|sh| sh.alpn.clone()),
        certs_visible: !server_chain.is_empty(),
        server_chain_sha256: server_chain,
        client_chain_sha256: client_chain,
        client_cert_requested: h.cert_request,
        requested_ca_names: h.cert_request_ca_names.iter().map(|n| ca_name_to_str(n)).collect(),
        alerts: h.alerts.iter().map(|a| format!("{}:{}:{}", role(a.side), a.level, a.description)).collect(),
        outcome: outcome.to_string(),
        outcome_detail: detail,
        decrypted: s.decrypted,
        resumed,
        dh_bits: kx.and_then(|k| k.dh_p_bits),
        kx_group,
        history: h.history,
        ja3: h.ja3,
        ja3s: sh.map(fingerprint::ja3s),
        ja4: h.ja4,
        starttls: if s.prelude.is_empty() {
            None
        } else {
            let heads: Vec<&[u8]> = s.prelude.values().map(|v| v.as_slice()).collect();
            Some(prelude_protocol(&heads, port(sv)).to_string())
        },
        packets: conn.packets,
        warnings,
        transport: "tcp".to_string(),
        protocol: "TLS".to_string(),
        ..FlowRecord::default()
    }
}
