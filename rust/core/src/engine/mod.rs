//! The pipeline: packets -> TCP connections -> TLS flows, certificates and events
//! (port of `inspector/engines/python.py`).
//!
//! `Analyzer` is sans-I/O: `packet(ts, linktype, data)` for each packet from any source, then
//! `finish()` returns an `Analysis`. The per-packet loop is the hot path: an Ethernet/IPv4/TCP
//! fast path (else `LinkDecoder`), then one hash lookup of the 4-tuple. Packets of connections
//! already judged (handshake over, or not TLS) are skipped after that lookup unless they open a
//! new connection on the same 4-tuple (SYN); only packets of connections whose handshake is in
//! progress go on to TCP reassembly and TLS parsing. No allocation per skipped packet. State is
//! bounded: at most `Limits::max_flows` connections in flight (the oldest is evicted and still
//! reported), and at most `Limits::max_tombstones` finished 4-tuples remembered.
//! `analyze_reader` drives a `CaptureReader` through it, as `inspector.api._run` does.
//!
//! Its parts (private modules; their items are re-exported here):
//! - `analysis`: what comes out ([`Analysis`], [`CertSeen`], [`Stats`], [`MessageRecord`],
//!   [`EngineError`]); `sample`: a fixed one for the bindings' tests ([`sample_analysis`]).
//! - `table`: the connection table and what a TCP segment does to it.
//! - `rows`: a judged connection -> its flow row, certificates, events and messages.
//! - `reader`: [`analyze_reader`], a capture through the [`Analyzer`].
//! - here: the [`Analyzer`] itself (the per-packet loop, the end of the capture).

use std::sync::Arc;

use crate::flow::{EventRecord, FlowRecord, Limits, DEFAULT_TLS_PORTS};
use crate::ip::FragLimits;
use crate::link::LinkDecoder;
use crate::tcp::{TCP_ACK, TCP_SYN};
use crate::tls::decrypt::KeyLog;

mod analysis;
mod reader;
mod rows;
mod sample;
mod table;
#[cfg(test)]
mod tests;

pub use analysis::{cert_entry, sha256_hex, Analysis, CertSeen, EngineError, MessageRecord, Stats};
pub use reader::{analyze_reader, analyze_reader_streaming, analyze_reader_with, open_file};
pub use sample::sample_analysis;
pub use table::{Key, TableHasher};
use table::{ConnMap, Slot, Table};

/// The analysis of one capture in progress.
pub struct Analyzer {
    tls_ports: Vec<u16>,
    limits: Limits,
    keylog: Option<Arc<KeyLog>>,
    decoder: LinkDecoder,
    state: Table,
    /// DTLS, QUIC, RADIUS and EAPOL flows (issue 10).
    pub(crate) udp: crate::udp::UdpFlows,
    /// A TCP packet came out of a tunnel (its encapsulation is noted): threads fall back to one.
    pub(crate) tunneled_tcp: bool,
    /// Streaming order (as the Python engine's `on_flow` mode): flow ids follow the order flows
    /// end, and each flow's events stay in the order emitted.
    pub stream: bool,
    /// The `--keylog` file, as the capture warnings report it (see [`KeylogReport`]).
    pub keylog_report: Option<KeylogReport>,
    /// Certificates already handed over by [`Analyzer::take_ended`].
    certs_handed: usize,
}

/// What a streaming analysis hands over while the capture is read ([`Analyzer::take_ended`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Ended {
    /// The flows that ended since the previous hand-over, numbered in the order they ended.
    pub flows: Vec<FlowRecord>,
    /// Their events (capture-level warnings stay for the end).
    pub events: Vec<EventRecord>,
    /// The certificates first seen since the previous hand-over (the flows they name so far).
    pub certificates: Vec<CertSeen>,
}

/// What the key log file's reader (Python's `api._read_keylog`) met: its warnings come after the
/// reader's capture warnings, then `keylog_unmatched` when none of its `entries` client randoms
/// was looked up by a TLS flow of the capture.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct KeylogReport {
    /// The file's name as the warnings give it.
    pub source: String,
    /// Client randoms with secrets (Python's `len(log)`).
    pub entries: usize,
    /// (code, detail): keylog_beside, keylog_truncated, keylog_empty, keylog_bad_lines...
    pub warnings: Vec<(String, String)>,
}

/// Capture warnings for what IPv4 reassembly dropped (Python's `link.FRAGMENT_WARNINGS`).
fn fragment_warning(reason: &str, n: u64, lim: &FragLimits) -> Option<String> {
    Some(match reason {
        "ip_fragment_table_full" => format!(
            "{n} fragmented IPv4 datagrams were dropped: more than {} were in progress at once (the oldest is evicted)",
            lim.max_datagrams
        ),
        "ip_fragment_expired" => format!(
            "{n} fragmented IPv4 datagrams never completed (a fragment missing after {} s of capture time, or at \
             the end of the capture)",
            lim.timeout
        ),
        "ip_fragment_too_large" => {
            format!("{n} IPv4 fragments were dropped: their datagram would exceed {} bytes", lim.max_bytes)
        }
        _ => return None,
    })
}

/// Clocks past every frame number: closing the flows in flight at the end (plus the
/// connection's first frame), the UDP flows, and the capture's end.
pub(crate) const CLOCK_FINISH_CLOSE: u64 = 1 << 62;
pub(crate) const CLOCK_FINISH_UDP: u64 = u64::MAX - 1;
pub(crate) const CLOCK_END: u64 = u64::MAX;

/// What the merge of several threads' analyses needs beyond an [`Analysis`].
#[derive(Debug, Default)]
pub(crate) struct MergeInfo {
    pub cert_clock: Vec<(u64, Vec<u64>)>,
    pub keylog_hits: u64,
    pub emitted: u64,
    pub tombstones_dropped: u64,
    pub tunneled_tcp: bool,
}

impl Analyzer {
    /// `ports`: TLS ports beyond `DEFAULT_TLS_PORTS`, decoded even mid-connection.
    pub fn new(ports: &[u16], limits: Limits, keylog: Option<Arc<KeyLog>>) -> Analyzer {
        let mut tls_ports: Vec<u16> = DEFAULT_TLS_PORTS.to_vec();
        for p in ports {
            if !tls_ports.contains(p) {
                tls_ports.push(*p);
            }
        }
        let frag = limits.frag;
        Analyzer {
            udp: crate::udp::UdpFlows::new(&limits, keylog.clone()),
            tls_ports,
            keylog_report: None,
            tunneled_tcp: false,
            limits,
            keylog,
            stream: false,
            certs_handed: 0,
            decoder: { let mut d = LinkDecoder::with_limits(frag); (d.tunnels, d.udp) = (true, true); d },
            state: Table::new(),
        }
    }

    /// The key log from now on, for the connections in flight too (a pcapng Decryption Secrets
    /// Block comes before the packets it decrypts, but it may follow their SYNs).
    pub fn set_keylog(&mut self, keylog: Arc<KeyLog>) {
        for e in self.state.slab.iter_mut().flatten() {
            e.conn.set_keylog(keylog.clone());
        }
        self.udp.set_keylog(keylog.clone());
        self.keylog = Some(keylog);
    }

    /// A limit was reached (a flow evicted, a remembered 4-tuple forgotten): a share of the
    /// packets on this thread no longer gives one thread's answers.
    pub(crate) fn limit_hit(&self) -> bool {
        let t = &self.state;
        t.tombstones_dropped > 0 || t.stats.get("flows_evicted") > 0 || t.stats.get("flows_evicted_memory") > 0
            || self.tunneled_tcp
    }

    /// Frames fed so far.
    pub fn frames(&self) -> u64 {
        self.state.frame
    }

    /// One packet numbered `frame` (1-based, as the whole capture numbers it): a thread given a
    /// share of the packets keeps the capture's frame numbers.
    pub(crate) fn packet_frame(&mut self, frame: u64, ts: f64, linktype: u32, data: &[u8], orig_len: usize) {
        self.state.frame = frame - 1;
        self.packet_len(ts, linktype, data, orig_len);
    }

    /// One packet: `data` is the frame as captured, of link type `linktype`.
    pub fn packet(&mut self, ts: f64, linktype: u32, data: &[u8]) {
        self.packet_len(ts, linktype, data, data.len());
    }

    /// One packet whose original length on the wire was `orig_len` (more than `data.len()`
    /// when the snaplen cut it).
    pub fn packet_len(&mut self, ts: f64, linktype: u32, data: &[u8], orig_len: usize) {
        let t = &mut self.state;
        t.frame += 1;
        if t.first_ts.is_none() {
            t.first_ts = Some(ts);
        }
        t.last_ts = Some(ts);
        let frame = t.frame;
        t.stats.clock = frame;
        let ctx = Ctx { tls_ports: &self.tls_ports, limits: &self.limits, keylog: &self.keylog, stream: self.stream };
        // Fast path: Ethernet II, IPv4 without options or fragmentation, TCP. A packet of a judged
        // connection costs a few index operations and one hash lookup.
        if linktype == 1 && data.len() >= 54 && data[12] == 8 && data[13] == 0 && data[14] == 0x45
            && data[20] & 0x3F == 0 && data[21] == 0 && data[23] == 6
        {
            let key = Key::new(&data[26..30], &data[30..34], &data[34..38]);
            let slot = t.map.get(&key);
            let flags = data[47];
            let slot = match slot {
                Some(Slot::Done) => {
                    if flags & TCP_SYN == 0 || flags & TCP_ACK != 0 {
                        return;
                    }
                    None // a new connection reuses a finished 4-tuple
                }
                other => other,
            };
            let mut end = 14 + ((usize::from(data[16]) << 8) | usize::from(data[17]));
            // the snaplen cut this packet: the IP datagram runs past the bytes captured (not
            // just its padding or FCS)
            let cut = end > data.len() && orig_len > data.len();
            if end > data.len() || end == 14 {
                end = data.len(); // cut by the snaplen; 0 = not filled in (TSO)
            } else if end < 54 {
                t.stats.add("truncated_tcp", 1);
                return;
            }
            t.tcp(&ctx, key, slot, &data[26..30], &data[30..34], data, 34, end, flags, frame, ts, cut);
            return;
        }
        if self.udp.eapol(linktype, data, frame, ts, &mut t.stats) {
            return;
        }
        let d = match self.decoder.decode_at(ts, linktype, data) {
            Some(d) => d,
            None => return,
        };
        if d.proto == 17 {
            return self.udp.datagram(&d, frame, ts, &mut t.stats);
        }
        self.tunneled_tcp |= d.encapsulation.is_some();
        self.udp.note_tcp(&d);
        let (buf, l4, end) = (d.buf, d.l4, d.end);
        if l4 + 20 > end || end > buf.len() {
            t.stats.add("truncated_tcp", 1);
            return;
        }
        let key = Key::new(d.src, d.dst, &buf[l4..l4 + 4]);
        let flags = buf[l4 + 13];
        let slot = match t.map.get(&key) {
            Some(Slot::Done) => {
                if flags & TCP_SYN == 0 || flags & TCP_ACK != 0 {
                    return;
                }
                None
            }
            other => other,
        };
        t.tcp(&ctx, key, slot, d.src, d.dst, buf, l4, end, flags, frame, ts, false);
    }

    /// Flows that ended and are not handed over yet.
    pub fn ended(&self) -> usize {
        self.state.flows.len()
    }

    /// In streaming mode, the flows that ended since the last call, with their events and the
    /// certificates new since then, so that memory holds the flows in flight, not every flow.
    /// The certificates table itself is kept whole for [`Analyzer::finish`] (distinct
    /// certificates are bounded by `max_certs`).
    pub fn take_ended(&mut self) -> Ended {
        let t = &mut self.state;
        let mut flows = std::mem::take(&mut t.flows);
        self.udp.fill_tcp_encapsulation(&mut flows); // a tunnelled TCP flow's tunnel came before its end
        let (events, flowless): (Vec<EventRecord>, Vec<EventRecord>) =
            std::mem::take(&mut t.events).into_iter().partition(|e| e.flow_id.is_some());
        t.events = flowless;
        let certificates = t.certs[self.certs_handed..].to_vec();
        self.certs_handed = t.certs.len();
        Ended { flows, events, certificates }
    }

    /// The end of the capture: every connection still in flight is judged and reported, flows
    /// are numbered by start time. `capture_warnings` are the reader's (code, detail).
    pub fn finish(self, capture_warnings: &[(String, String)]) -> Analysis {
        self.finish_parts(capture_warnings).0
    }

    /// [`Analyzer::finish`], with what a merge of threads needs.
    pub(crate) fn finish_parts(mut self, capture_warnings: &[(String, String)]) -> (Analysis, MergeInfo) {
        let ctx = Ctx { tls_ports: &self.tls_ports, limits: &self.limits, keylog: &self.keylog, stream: self.stream };
        let t = &mut self.state;
        let ids: Vec<usize> = t.active.values().copied().collect();
        for id in ids {
            t.stats.clock = CLOCK_FINISH_CLOSE + t.slab[id].as_ref().map_or(0, |e| e.conn.first_frame);
            t.close(&ctx, id);
        }
        t.stats.clock = CLOCK_FINISH_UDP;
        let (udp_flows, udp_warnings) = self.udp.finish(&mut t.stats);
        for u in udp_flows {
            t.emitted += 1;
            t.keylog_hits += u64::from(u.rec.decrypted); // QUIC flows whose Handshake the key log opened
            crate::udp::store(u, t.emitted, &mut t.flows, &mut t.events, &mut t.certs, &mut t.cert_index);
        }
        for i in 0..t.certs.len() {
            t.note_cert_clock(i);
        }
        self.udp.fill_tcp_encapsulation(&mut t.flows);
        t.map = ConnMap::default(); // the remembered 4-tuples are of no use once the capture has ended
        t.tombstones.clear();
        if self.stream {
            // streaming order (inspector.engines.python.Analyzer with on_flow): flows numbered as they
            // ended, each flow's events in the order emitted, capture-level events first
            let (mut flowless, flow_events): (Vec<EventRecord>, Vec<EventRecord>) =
                std::mem::take(&mut t.events).into_iter().partition(|e| e.flow_id.is_none());
            flowless.sort_by_key(|e| e.frame.unwrap_or(0));
            t.events = flowless;
            t.events.extend(flow_events);
        } else {
            t.number_by_start_time();
        }
        let mut capture_warnings = capture_warnings.to_vec();
        capture_warnings.extend(udp_warnings);
        self.finish_capture(&capture_warnings)
    }

    fn finish_capture(mut self, capture_warnings: &[(String, String)]) -> (Analysis, MergeInfo) {
        let t = &mut self.state;
        t.stats.clock = CLOCK_END;
        let mut warnings = Vec::new();
        let mut all: Vec<(String, String)> = capture_warnings.to_vec();
        if let Some(log) = &self.keylog_report {
            all.extend(log.warnings.iter().cloned());
            if log.entries > 0 && t.keylog_hits == 0 && t.emitted > 0 {
                all.push(("keylog_unmatched".into(), format!(
                    "the key log {} holds secrets for {} connections, none of them a TLS flow of this capture: \
                     nothing was decrypted", log.source, log.entries)));
            }
        }
        for (code, detail) in &all {
            warnings.push(format!("{code}: {detail}"));
            t.events.push(EventRecord { kind: "warning", code: code.clone(), detail: detail.clone(),
                                        ..EventRecord::default() });
        }
        self.decoder.finish();
        for (reason, n) in &self.decoder.skipped {
            t.stats.add(&format!("skipped_{reason}"), *n);
            if let Some(detail) = fragment_warning(reason, *n, &self.limits.frag) {
                warnings.push(format!("{reason}: {detail}"));
                t.events.push(EventRecord { kind: "warning", code: reason.clone(), detail, ..EventRecord::default() });
            }
            if let Some(lt) = reason.strip_prefix("unsupported_linktype_") {
                let detail = format!("link type {lt} is not supported: {n} packets skipped");
                warnings.push(format!("unsupported_linktype: {detail}"));
                t.events.push(EventRecord { kind: "warning", code: "unsupported_linktype".into(),
                                            detail, ..EventRecord::default() });
            }
        }
        t.stats.set("frames", t.frame);
        let info = MergeInfo {
            cert_clock: std::mem::take(&mut t.cert_clock),
            keylog_hits: t.keylog_hits,
            emitted: t.emitted,
            tombstones_dropped: t.tombstones_dropped,
            tunneled_tcp: self.tunneled_tcp,
        };
        (Analysis {
            flows: std::mem::take(&mut t.flows),
            certificates: std::mem::take(&mut t.certs),
            events: std::mem::take(&mut t.events),
            messages: std::mem::take(&mut t.messages),
            stats: std::mem::take(&mut t.stats),
            capture_warnings: warnings,
            first_ts: t.first_ts,
            last_ts: t.last_ts,
            frames: t.frame,
            format: String::new(),
            bytes_read: 0,
        }, info)
    }
}

/// The read-only settings the table needs.
struct Ctx<'a> {
    tls_ports: &'a [u16],
    limits: &'a Limits,
    keylog: &'a Option<Arc<KeyLog>>,
    /// Streaming order: no messages table is kept (as the Python engine's `on_flow` mode).
    stream: bool,
}
