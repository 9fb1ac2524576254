//! A judged connection's outcome (`established`, `failed`, `reset`, `incomplete`) and the
//! sentence that explains it, as `inspector.flows._outcome` decides them.

use super::{other, CloseKind, ConnWarning, Connection, ALERT_RECORD_MIN};
use crate::tls::session::{Side, TLSSession};

pub(super) fn role_name(side: Side, client: Side) -> &'static str {
    if side == client {
        "client"
    } else {
        "server"
    }
}

fn peer_of(who: &str) -> &'static str {
    if who == "client" {
        "server"
    } else {
        "client"
    }
}

/// (outcome, detail), as `inspector.flows._outcome`.
pub fn outcome(conn: &Connection, client: Side) -> (&'static str, Option<String>) {
    let s = &conn.session;
    if let Some(fatal) = s.fatal_alert() {
        let who = role_name(fatal.side, client);
        let after = match &fatal.after {
            Some(a) if !a.is_empty() => format!(" after the {}'s {}", peer_of(who), a),
            _ => String::new(),
        };
        return ("failed", Some(format!("{who} sent fatal {}{after}", fatal.description)));
    }
    if s.client_hello.is_none() && s.server_hello.is_none() {
        if let Some((name, seen, need)) = conn.partial_hello() {
            let of = need.map(|n| format!(" of the {n}")).unwrap_or_default();
            let how = match (conn.close_kind, conn.closed_by) {
                (Some(kind), Some(by)) => format!("; then the {} {} the connection", role_name(by, client),
                                                  if kind == CloseKind::Rst { "reset" } else { "closed" }),
                _ => String::new(),
            };
            return ("incomplete", Some(format!("only {seen}{of} bytes of the {name} were seen{how}")));
        }
        return ("incomplete", Some("the hellos are not in the capture (it starts mid-connection)".into()));
    }
    if s.sslv2_server.is_some() {
        return ("established",
                Some("SSL 2.0 (obsolete and insecure); its handshake is encrypted after the ServerHello".into()));
    }
    if s.is_tls13() && s.tls13_finished() {
        return ("established", None);
    }
    if s.is_tls13() {
        if let Some(v) = tls13_outcome(s, client) {
            return v;
        }
    } else if s.finished.len() == 2 || (s.ccs.len() == 2 && s.appdata.values().sum::<u64>() > 0) {
        return ("established", None);
    } else if let Some(enc) = s.alerts.iter().find(|a| a.level == "encrypted") {
        return ("failed", Some(format!("{} sent an encrypted alert during the handshake",
                                       role_name(enc.side, client))));
    }
    if let (Some(_), Some(by)) = (conn.close_kind, conn.closed_by) {
        let who = role_name(by, client);
        let last = s.last_message.get(other(by));
        let after = match last {
            Some(l) if !l.is_empty() => format!(" after the {}'s {}", peer_of(who), l),
            _ => String::new(),
        };
        let how = if conn.close_kind == Some(CloseKind::Rst) { "reset" } else { "closed" };
        let missed: Vec<String> = [client, other(client)]
            .into_iter()
            .filter(|&side| conn.missed(side) >= ALERT_RECORD_MIN)
            .map(|side| format!("{} bytes from the {}", conn.missed(side), role_name(side, client)))
            .collect();
        if !missed.is_empty() {
            // the alert may have been among the bytes the capture missed
            return ("reset", Some(format!("{who} {how} the connection{after}; no alert in the capture, which \
                                           missed {}", missed.join(" and "))));
        }
        return ("reset", Some(format!("{who} {how} the connection{after} without an alert")));
    }
    if conn.evicted {
        let why = if conn.warnings.contains(&ConnWarning::EvictedMemoryBudget) {
            "memory budget for buffered handshakes reached"
        } else {
            "flow table full"
        };
        return ("incomplete", Some(format!("flow evicted before the handshake ended ({why})")));
    }
    ("incomplete", Some("the capture ends before the handshake does".into()))
}

/// TLS 1.3 handshakes are encrypted after the ServerHello: judge by record sizes and order.
///
/// An encrypted alert is 2 bytes + content type + 16-byte AEAD tag = 19 bytes; Finished is at
/// least 4 + 32 + 17 = 53. Established when the server speaks again after the client's Finished.
pub fn tls13_outcome(s: &TLSSession, client: Side) -> Option<(&'static str, Option<String>)> {
    let seq = &s.encrypted_order;
    let first_client = seq.iter().position(|(side, _)| *side == client)?;
    let size = seq[first_client].1;
    if size <= 24 {
        return Some(("failed", Some(
            "client sent an encrypted alert (TLS 1.3: it likely rejected the server's certificate)".into())));
    }
    let later_server: Vec<usize> =
        seq[first_client + 1..].iter().filter(|(side, _)| *side != client).map(|(_, n)| *n).collect();
    if !later_server.is_empty() {
        if later_server[0] <= 24 && later_server.len() == 1 {
            return Some(("failed", Some("server sent an encrypted alert after the client's Finished \
                (TLS 1.3: likely rejected the client's certificate)".into())));
        }
        return Some(("established", None));
    }
    if seq[first_client + 1..].iter().any(|(side, _)| *side == client) {
        return Some(("established", None));
    }
    None
}
