//! A judged connection -> its rows: the flow row (`flow::build_flow`), its certificates
//! (distinct, with the flows and roles that sent them), alert and warning events, messages;
//! and, at the end of the capture, the flows numbered by start time.

use super::{cert_entry, Ctx, MessageRecord, Table};
use crate::flow::{build_flow, ConnState, Connection, EventRecord};
use crate::ip::ip_to_string;
use crate::tls::session::Side;

/// Flow/event detail texts of the connection-level warnings.
fn tcp_detail(code: &str) -> &str {
    match code {
        "midstream" => "the capture starts in the middle of this connection (no SYN seen)",
        "content_gap" => "bytes are missing from the capture (a TCP gap); parsing resumed where it could",
        "overlap_different_data" => "overlapping TCP segments carry different bytes; the first copy was used",
        "evicted_flow_table_full" => "the flow table was full; this flow was reported before its end",
        "evicted_memory_budget" => "the flows in flight buffered more than Limits.max_buffered_bytes; this flow, \
                                    holding the most, was reported before its end",
        other => other,
    }
}

impl Table {
    /// Certificate `i` and its roles so far get the current clock if they have none yet.
    pub(super) fn note_cert_clock(&mut self, i: usize) {
        let clock = self.stats.clock;
        while self.cert_clock.len() <= i {
            self.cert_clock.push((clock, Vec::new()));
        }
        let roles = self.certs[i].roles.len();
        let rc = &mut self.cert_clock[i].1;
        while rc.len() < roles {
            rc.push(clock);
        }
    }

    /// Number flows by start time (then first frame), as the Python engine's default mode does;
    /// events then sort by flow and frame, capture-level events first.
    pub(super) fn number_by_start_time(&mut self) {
        let t = self;
        t.flows.sort_by(|a, b| {
            a.ts_start.partial_cmp(&b.ts_start).unwrap_or(std::cmp::Ordering::Equal)
                .then(a.first_frame.cmp(&b.first_frame))
        });
        let mut renumber = vec![0u64; t.flows.len() + 1];
        for (i, f) in t.flows.iter_mut().enumerate() {
            renumber[f.flow_id as usize] = i as u64 + 1;
            f.flow_id = i as u64 + 1;
        }
        for e in t.events.iter_mut() {
            if let Some(id) = e.flow_id {
                e.flow_id = Some(renumber[id as usize]);
            }
        }
        for ms in t.messages.iter_mut() {
            ms.flow_id = renumber[ms.flow_id as usize];
        }
        t.messages.sort_by_key(|ms| ms.flow_id); // stable: each flow's stay in order
        for c in t.certs.iter_mut() {
            for id in c.flow_ids.iter_mut() {
                *id = renumber[*id as usize];
            }
            c.flow_ids.sort_unstable();
        }
        t.events.sort_by_key(|e| (e.flow_id.unwrap_or(0), e.frame.unwrap_or(0)));
    }

    pub(super) fn emit(&mut self, ctx: &Ctx<'_>, c: &Connection) {
        let cut_tls = c.snaplen > 0 && c.state != ConnState::NotTls
            && (!c.session.started.is_empty() || ctx.tls_ports.contains(&c.a_port) || ctx.tls_ports.contains(&c.b_port));
        if !c.is_tls() && !cut_tls {
            let kind = if c.state == ConnState::NotTls || c.session.started.is_empty() {
                "not_tls"
            } else {
                "tls_without_handshake"
            };
            self.stats.add(kind, 1);
            let on_tls_port = ctx.tls_ports.contains(&c.a_port) || ctx.tls_ports.contains(&c.b_port);
            let reported = if kind == "not_tls" { "not_tls_reported" } else { "tls_without_handshake_reported" };
            if on_tls_port && c.state == ConnState::NotTls && self.stats.get(reported) < 1000 {
                self.stats.add(reported, 1);
                let (a, b) = (ip_to_string(&c.a_ip), ip_to_string(&c.b_ip));
                self.events.push(EventRecord {
                    flow_id: None,
                    frame: Some(c.first_frame),
                    ts: Some(c.first_ts),
                    kind: "warning",
                    sender: None,
                    code: "not_tls".into(),
                    detail: format!("{a}:{} -> {b}:{} uses a TLS port but carries no TLS", c.a_port, c.b_port),
                });
            }
            return;
        }
        self.emitted += 1;
        self.keylog_hits += u64::from(c.session.keylog_hit);
        let flow_id = self.emitted;
        let rec = build_flow(c, flow_id, ctx.tls_ports);
        let s = &c.session;
        // which side is which, as inspector.engines.python._emit and _side_of decide it
        let by_ports = if rec.client_port == c.a_port && rec.server_port == c.b_port { Side::A } else { Side::B };
        let client_for_certs = s.client_side.unwrap_or(by_ports);
        for (role, fps) in [("server", &rec.server_chain_sha256), ("client", &rec.client_chain_sha256)] {
            let side = if role == "client" {
                client_for_certs
            } else if client_for_certs == Side::A {
                Side::B
            } else {
                Side::A
            };
            for (pos, fp) in fps.iter().enumerate() {
                let der = || s.chains.get(side).and_then(|ch| ch.get(pos)).cloned().unwrap_or_default();
                let i = cert_entry(&mut self.certs, &mut self.cert_index, fp, der);
                self.certs[i].note(flow_id, role, pos);
                self.note_cert_clock(i);
            }
        }
        let by_port = if rec.client_port == c.a_port { Side::A } else { Side::B };
        let client_side = s.client_side.unwrap_or(by_port);
        let who = |side: Side| if side == client_side { "client" } else { "server" };
        for a in &s.alerts {
            let detail = match &a.after {
                Some(after) if !after.is_empty() => format!("{} {} after the peer's {after}", a.level, a.description),
                _ => format!("{} {}", a.level, a.description),
            };
            self.events.push(EventRecord {
                flow_id: Some(flow_id),
                frame: Some(a.frame),
                ts: Some(a.ts),
                kind: "alert",
                sender: Some(who(a.side)),
                code: a.description.to_string(),
                detail,
            });
        }
        for an in &s.anomalies {
            self.events.push(EventRecord {
                flow_id: Some(flow_id),
                frame: Some(an.frame),
                ts: Some(an.ts),
                kind: "warning",
                sender: an.side.map(who),
                code: an.code.to_string(),
                detail: an.detail.to_string(),
            });
        }
        if !ctx.stream {
            for ms in &s.messages {
                self.messages.push(MessageRecord { flow_id, frame: ms.frame, ts: ms.ts, sender: who(ms.side),
                                                   kind: ms.kind, name: ms.name.clone() });
            }
        }
        let codes = c.tcp_anomalies().into_iter().chain(c.warnings.iter().map(|w| w.code()));
        let cut = if c.snaplen > 0 { Some("snaplen_truncated") } else { None };
        for code in codes.chain(cut) {
            if code == "capture_missed_bytes" {
                // one event per direction, sent by the side whose bytes were missed
                let server_side = if client_side == Side::A { Side::B } else { Side::A };
                for (side, way) in [(client_side, "client->server"), (server_side, "server->client")] {
                    let n = c.missed(side);
                    if n > 0 {
                        self.events.push(EventRecord {
                            flow_id: Some(flow_id),
                            kind: "warning",
                            sender: Some(who(side)),
                            code: code.to_string(),
                            detail: crate::tcp::missed_detail(way, n),
                            ..EventRecord::default()
                        });
                    }
                }
                continue;
            }
            let detail = if code == "snaplen_truncated" {
                format!("the capture kept only the first {n} bytes of this flow's handshake packets \
                         (snaplen {n}): the handshake cannot be read in full; capture with -s 0", n = c.snaplen)
            } else {
                tcp_detail(code).to_string()
            };
            self.events.push(EventRecord {
                flow_id: Some(flow_id),
                kind: "warning",
                code: code.to_string(),
                detail,
                ..EventRecord::default()
            });
        }
        self.flows.push(rec);
    }
}
