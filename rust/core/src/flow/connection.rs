//! One TCP connection in flight: segments in (both directions reassembled), where TLS starts
//! (`tls::detect`), the records of each direction read and the session fed, until the
//! connection is judged (handshake over, or not TLS).

use std::sync::Arc;

use super::{other, Limits};
use crate::tcp::{StreamReassembler, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN};
use crate::tls::decrypt::KeyLog;
use crate::tls::detect::{classify_start, StartKind};
use crate::tls::records::{RecordReader, State as ReaderState, DEFAULT_MAX_RECORDS};
use crate::tls::session::{Side, TLSSession};

/// Where a connection is: `New -> Tls -> Done`, or `New -> NotTls`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnState {
    New,
    Tls,
    Done,
    NotTls,
}

/// How the connection was closed first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseKind {
    Rst,
    Fin,
}

/// The smallest alert record: a 5-byte header and 2 bytes (level, description).
pub const ALERT_RECORD_MIN: u64 = 7;

/// A connection-level warning (beside the TCP and TLS anomalies).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnWarning {
    EvictedFlowTableFull,
    EvictedMemoryBudget,
}

impl ConnWarning {
    pub fn code(self) -> &'static str {
        match self {
            ConnWarning::EvictedFlowTableFull => "evicted_flow_table_full",
            ConnWarning::EvictedMemoryBudget => "evicted_memory_budget",
        }
    }
}

#[inline]
fn idx(side: Side) -> usize {
    match side {
        Side::A => 0,
        Side::B => 1,
    }
}

/// One TCP connection in flight. `a` sent the first packet seen (or the SYN).
#[derive(Debug)]
pub struct Connection {
    pub a_ip: Vec<u8>,
    pub b_ip: Vec<u8>,
    pub a_port: u16,
    pub b_port: u16,
    pub ip_version: u8,
    pub first_ts: f64,
    pub last_ts: f64,
    pub first_frame: u64,
    pub last_frame: u64,
    pub syn: [bool; 2],
    pub reasm: [StreamReassembler; 2],
    pub readers: [RecordReader; 2],
    pub session: TLSSession,
    pub state: ConnState,
    pub closed_by: Option<Side>,
    pub close_kind: Option<CloseKind>,
    pub close_frame: Option<u64>,
    pub packets: u64,
    pub warnings: Vec<ConnWarning>,
    pub evicted: bool,
    pub isn_a: Option<u32>,
    /// The longest captured frame among this flow's packets that the snaplen cut (0: none cut).
    pub snaplen: usize,
    /// Bytes this flow buffers, as last counted by the engine (`buffered`).
    pub held: usize,
}

impl Connection {
    #[allow(clippy::too_many_arguments)]
    pub fn new(a_ip: &[u8], b_ip: &[u8], a_port: u16, b_port: u16, frame: u64, ts: f64,
               limits: &Limits, keylog: Option<Arc<KeyLog>>) -> Connection {
        let keep = keylog.is_some();
        let mut readers = [
            RecordReader::new(limits.max_handshake_bytes, DEFAULT_MAX_RECORDS),
            RecordReader::new(limits.max_handshake_bytes, DEFAULT_MAX_RECORDS),
        ];
        if keep {
            for r in readers.iter_mut() {
                r.keep_payload = true;
            }
        }
        Connection {
            a_ip: a_ip.to_vec(),
            b_ip: b_ip.to_vec(),
            a_port,
            b_port,
            ip_version: if a_ip.len() == 4 { 4 } else { 6 },
            first_ts: ts,
            last_ts: ts,
            first_frame: frame,
            last_frame: frame,
            syn: [false; 2],
            reasm: [
                StreamReassembler::new(limits.max_pending_bytes),
                StreamReassembler::new(limits.max_pending_bytes),
            ],
            readers,
            session: TLSSession::new(keylog, limits.max_certs),
            state: ConnState::New,
            closed_by: None,
            close_kind: None,
            close_frame: None,
            packets: 0,
            warnings: Vec::new(),
            evicted: false,
            isn_a: None,
            snaplen: 0,
            held: 0,
        }
    }

    /// Decrypt with this key log from now on (records already parsed stay as they were).
    pub fn set_keylog(&mut self, keylog: Arc<KeyLog>) {
        for r in self.readers.iter_mut() {
            r.keep_payload = true;
        }
        self.session.keylog = Some(keylog);
    }

    /// Judged: the handshake is over, or the connection carries no TLS.
    #[inline]
    pub fn judged(&self) -> bool {
        matches!(self.state, ConnState::Done | ConnState::NotTls)
    }

    pub fn is_tls(&self) -> bool {
        let s = &self.session;
        session_started(s)
            && (s.client_hello.is_some() || s.server_hello.is_some() || !s.history.is_empty()
                || !s.alerts.is_empty() || self.partial_hello().is_some())
    }

    /// Bytes this connection holds: partial records and messages, data above holes, and the
    /// retransmission window of each direction.
    pub fn buffered(&self) -> usize {
        self.readers.iter().map(|r| r.buffered()).sum::<usize>() + self.reasm.iter().map(|t| t.held()).sum::<usize>()
    }

    /// ("ClientHello"/"ServerHello", bytes seen, bytes announced) for a hello the capture holds
    /// only the start of (the connection ended, or the capture did, first), as
    /// `inspector.flows.Connection.partial_hello`.
    pub fn partial_hello(&self) -> Option<(&'static str, usize, Option<usize>)> {
        for r in &self.readers {
            let (hs, b) = r.pending();
            let rest = if b.len() > 5 && b[0] == 22 { b.len() - 5 } else { 0 }; // the next record, begun
            let len24 = |x: &[u8]| ((usize::from(x[0]) << 16) | (usize::from(x[1]) << 8) | usize::from(x[2])) + 4;
            let (mtype, seen, need) = if !hs.is_empty() && (hs[0] == 1 || hs[0] == 2) {
                (hs[0], hs.len() + rest, if hs.len() >= 4 { Some(len24(&hs[1..4])) } else { None })
            } else if rest > 0 && (b[5] == 1 || b[5] == 2) && b[1] == 3 {
                (b[5], rest, if b.len() >= 9 { Some(len24(&b[6..9])) } else { None })
            } else {
                continue;
            };
            if (mtype == 1 && self.session.client_hello.is_none()) || (mtype == 2 && self.session.server_hello.is_none()) {
                return Some((if mtype == 1 { "ClientHello" } else { "ServerHello" }, seen, need));
            }
        }
        None
    }

    /// Feed one TCP segment; updates `state`. `ack` matters only on a SYN-ACK.
    #[allow(clippy::too_many_arguments)]
    pub fn packet(&mut self, side: Side, seq: u32, flags: u8, payload: &[u8], frame: u64, ts: f64,
                  tls_ports: &[u16], ack: u32) {
        self.packets += 1;
        self.last_ts = ts;
        self.last_frame = frame;
        let closing = flags & (TCP_RST | TCP_FIN) != 0;
        if flags & TCP_SYN != 0 {
            self.syn[idx(side)] = true;
            if flags & TCP_ACK != 0 {
                // the SYN-ACK tells the initiator's ISN even if its SYN was lost
                let peer = &mut self.reasm[idx(other(side))];
                if peer.base.is_none() {
                    peer.base = Some(ack);
                }
            }
        }
        if closing && self.closed_by.is_none() {
            self.closed_by = Some(side);
            self.close_kind = Some(if flags & TCP_RST != 0 { CloseKind::Rst } else { CloseKind::Fin });
            self.close_frame = Some(frame);
            self.session.log(side, "tcp", if flags & TCP_RST != 0 { "RST" } else { "FIN" }, frame, ts);
        }
        if self.judged() {
            return;
        }
        let pending = self.reasm[idx(side)].pending_bytes;
        let chunks = self.reasm[idx(side)].segment(seq, payload, flags & TCP_SYN != 0);
        if flags & TCP_FIN != 0 {
            let at = seq.wrapping_add(payload.len() as u32).wrapping_add(u32::from(flags & TCP_SYN != 0));
            self.reasm[idx(side)].fin(at);
        }
        if flags & TCP_ACK != 0 {
            self.reasm[idx(other(side))].acked_to(ack);
        }
        if chunks.is_empty() {
            if !payload.is_empty() && self.reasm[idx(side)].pending_bytes == pending
                && !self.session.started.is_empty()
            {
                // nothing delivered, nothing new stored: bytes already seen (a retransmission)
                self.session.log(side, "tcp", "retransmission", frame, ts);
            }
            if closing {
                self.flush(frame, ts);
            }
            return;
        }
        if self.state == ConnState::New {
            let verdict = classify_start(&chunks[0].data, self.a_port, self.b_port, tls_ports,
                                         self.reasm[idx(side)].midstream);
            if verdict == StartKind::NotTls {
                self.state = ConnState::NotTls;
                self.release();
                return;
            }
            self.state = ConnState::Tls;
            if verdict == StartKind::Midstream {
                for r in self.readers.iter_mut() {
                    r.state = ReaderState::Resync;
                }
            }
        }
        self.deliver(side, chunks, frame, ts);
        if closing {
            self.flush(frame, ts);
        }
    }

    fn deliver(&mut self, side: Side, chunks: Vec<crate::tcp::Chunk>, frame: u64, ts: f64) {
        let i = idx(side);
        let o = idx(other(side));
        let mut events = Vec::new();
        for c in chunks {
            events.clear();
            self.readers[i].feed_into(&c.data, frame, c.gap_before, &mut events);
            if !events.is_empty() {
                let was = session_started(&self.session);
                self.session.feed(side, events.drain(..), ts);
                if !was && session_started(&self.session) {
                    self.readers[o].peer_tls = true;
                }
            }
        }
        if self.session.handshake_over() {
            self.state = ConnState::Done;
            self.release();
        } else if self.readers[i].stopped() && self.readers[o].stopped() {
            self.state = if self.is_tls() { ConnState::Done } else { ConnState::NotTls };
            self.release();
        } else if self.readers[i].stopped() && !session_started(&self.session)
            && self.readers[o].state != ReaderState::Records
        {
            // no TLS in this direction within the prelude limit and the peer has none either
            self.state = ConnState::NotTls;
            self.release();
        }
    }

    fn flush(&mut self, frame: u64, ts: f64) {
        for side in [Side::A, Side::B] {
            let chunks = self.reasm[idx(side)].flush();
            if !chunks.is_empty() && self.state == ConnState::Tls {
                self.deliver(side, chunks, frame, ts);
            }
        }
    }

    /// End of capture or eviction: deliver what waits above holes.
    pub fn finish(&mut self) {
        if self.state == ConnState::Tls {
            let (frame, ts) = (self.last_frame, self.last_ts);
            self.flush(frame, ts);
        }
    }

    fn release(&mut self) {
        for r in self.reasm.iter_mut() {
            r.release();
        }
        for r in self.readers.iter_mut() {
            r.stop();
        }
    }

    /// TCP anomaly codes of both directions, each once, in order.
    pub fn tcp_anomalies(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for r in &self.reasm {
            for a in &r.anomalies {
                if !out.contains(&a.code()) {
                    out.push(a.code());
                }
            }
        }
        if self.missed(Side::A) > 0 || self.missed(Side::B) > 0 {
            out.push("capture_missed_bytes");
        }
        out
    }

    /// Bytes `side` sent that its peer acknowledged and the capture does not hold.
    pub fn missed(&self, side: Side) -> u64 {
        self.reasm[idx(side)].missed()
    }
}

// ---- what the row needs from the session (the one place that knows its layout) --------------

#[inline]
fn session_started(s: &TLSSession) -> bool {
    !s.started.is_empty()
}
