//! The connection table: 4-tuple -> connection in flight or judged (a tombstone), and what
//! a TCP segment does to it: open a connection (or reopen one on port reuse), feed it, shed the
//! flows holding the most bytes over the budget, evict the oldest when the table is full, and
//! close a judged connection (its row through [`Table::emit`], its 4-tuple remembered as done).

use std::collections::{BTreeMap, HashMap, VecDeque};

use super::{CertSeen, Ctx, MessageRecord, Stats};
use crate::flow::{ConnWarning, Connection, EventRecord, FlowRecord};
use crate::tcp::{TCP_ACK, TCP_RST, TCP_SYN};
use crate::tls::session::Side;

/// A 4-tuple as the wire has it: source address, destination address, source and destination
/// port (12 bytes for IPv4, 36 for IPv6).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Key {
    V4([u8; 12]),
    V6([u8; 36]),
}

impl Key {
    #[inline]
    pub(super) fn new(src: &[u8], dst: &[u8], ports: &[u8]) -> Key {
        if src.len() == 4 && dst.len() == 4 {
            let mut b = [0u8; 12];
            b[..4].copy_from_slice(src);
            b[4..8].copy_from_slice(dst);
            b[8..12].copy_from_slice(&ports[..4]);
            Key::V4(b)
        } else {
            let mut b = [0u8; 36];
            let (s, d) = (src.len().min(16), dst.len().min(16));
            b[..s].copy_from_slice(&src[..s]);
            b[16..16 + d].copy_from_slice(&dst[..d]);
            b[32..36].copy_from_slice(&ports[..4]);
            Key::V6(b)
        }
    }
}

/// A remembered finished 4-tuple, small in the queue (IPv6 keys are boxed: they are rare).
#[derive(Debug)]
pub(super) enum Tombstone {
    V4([u8; 12]),
    V6(Box<[u8; 36]>),
}

impl Tombstone {
    fn key(&self) -> Key {
        match self {
            Tombstone::V4(b) => Key::V4(*b),
            Tombstone::V6(b) => Key::V6(**b),
        }
    }
}

impl From<Key> for Tombstone {
    fn from(k: Key) -> Tombstone {
        match k {
            Key::V4(b) => Tombstone::V4(b),
            Key::V6(b) => Tombstone::V6(Box::new(b)),
        }
    }
}

/// The connection table: 4-tuple -> slot, one map per address family so that an IPv4 entry
/// (the common case, up to a million tombstones) takes 16 bytes plus the map's overhead.
#[derive(Default)]
pub(super) struct ConnMap {
    v4: HashMap<[u8; 12], u32, TableHasher>,
    v6: HashMap<[u8; 36], u32, TableHasher>,
}

const DONE: u32 = u32::MAX;

impl ConnMap {
    #[inline]
    pub(super) fn get(&self, k: &Key) -> Option<Slot> {
        let v = match k {
            Key::V4(b) => self.v4.get(b),
            Key::V6(b) => self.v6.get(b),
        };
        v.map(|&v| if v == DONE { Slot::Done } else { Slot::Conn(v as usize) })
    }

    fn insert(&mut self, k: Key, slot: Slot) {
        let v = match slot {
            Slot::Done => DONE,
            Slot::Conn(id) => id as u32,
        };
        match k {
            Key::V4(b) => self.v4.insert(b, v),
            Key::V6(b) => self.v6.insert(b, v),
        };
    }

    fn remove(&mut self, k: &Key) {
        match k {
            Key::V4(b) => self.v4.remove(b),
            Key::V6(b) => self.v6.remove(b),
        };
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.v4.len() + self.v6.len()
    }
}

/// The tables' hasher: std's keyed SipHash. The keys come from the capture, which may be hostile:
/// an unkeyed fast hash (FxHash) lets a crafted capture collide every 4-tuple (quadratic time);
/// SipHash costs ~20 ns a lookup, ~40 ms a GB.
pub type TableHasher = std::collections::hash_map::RandomState;

/// What the table holds for a 4-tuple: a connection in flight, or a judged one (tombstone).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Slot {
    Conn(usize),
    Done,
}

pub(super) struct Entry {
    pub(super) conn: Box<Connection>,
    pub(super) key_a: Key,
    pub(super) order: u64,
}

/// Everything but the link decoder (so a decoded packet, which borrows the decoder, can be
/// handed to it).
pub(super) struct Table {
    pub(super) map: ConnMap,
    pub(super) slab: Vec<Option<Entry>>,
    pub(super) free: Vec<usize>,
    pub(super) active: BTreeMap<u64, usize>,
    pub(super) opened: u64,
    pub(super) tombstones: VecDeque<Tombstone>,
    pub(super) flows: Vec<FlowRecord>,
    pub(super) events: Vec<EventRecord>,
    pub(super) messages: Vec<MessageRecord>,
    pub(super) certs: Vec<CertSeen>,
    pub(super) cert_index: HashMap<String, usize, TableHasher>,
    pub(super) stats: Stats,
    pub(super) emitted: u64,
    /// Emitted flows whose client random the key log held.
    pub(super) keylog_hits: u64,
    pub(super) frame: u64,
    pub(super) first_ts: Option<f64>,
    pub(super) last_ts: Option<f64>,
    /// Sum of `Connection::held` over the connections in flight.
    pub(super) buffered: usize,
    /// Per certificate: the clock it was first seen, and each of its roles'.
    pub(super) cert_clock: Vec<(u64, Vec<u64>)>,
    /// Remembered 4-tuples forgotten because the queue was full.
    pub(super) tombstones_dropped: u64,
}

#[inline]
fn be32(b: &[u8], i: usize) -> u32 {
    u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

impl Table {
    /// An empty table.
    pub(super) fn new() -> Table {
        Table {
            map: ConnMap::default(),
            slab: Vec::new(),
            free: Vec::new(),
            active: BTreeMap::new(),
            opened: 0,
            tombstones: VecDeque::new(),
            flows: Vec::new(),
            events: Vec::new(),
            messages: Vec::new(),
            certs: Vec::new(),
            cert_index: HashMap::default(),
            stats: Stats::default(),
            emitted: 0,
            keylog_hits: 0,
            frame: 0,
            first_ts: None,
            last_ts: None,
            buffered: 0,
            cert_clock: Vec::new(),
            tombstones_dropped: 0,
        }
    }

    /// A TCP segment whose header starts at `buf[t]` and whose IP payload ends at `end`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn tcp(&mut self, ctx: &Ctx<'_>, key: Key, slot: Option<Slot>, src: &[u8], dst: &[u8],
                      buf: &[u8], t: usize, end: usize, flags: u8, frame: u64, ts: f64, cut: bool) {
        let doff = usize::from(buf[t + 12] >> 4) * 4;
        let (payload, cut): (&[u8], bool) = if doff < 20 || t + doff > end {
            if !(cut && doff >= 20) {
                self.stats.add("bad_tcp_header_length", 1);
                return;
            }
            (&[], true) // the snaplen cut the TCP options: seq and flags still count
        } else {
            let p = &buf[t + doff..end];
            (p, cut && !p.is_empty())
        };
        let seq = be32(buf, t + 4);
        let id = match slot {
            None => {
                if flags & TCP_RST != 0 || (payload.is_empty() && flags & TCP_SYN == 0) {
                    return;
                }
                self.open(ctx, key, src, dst, buf, t, flags, seq, frame, ts)
            }
            Some(Slot::Conn(id)) => {
                let e = self.slab[id].as_ref().expect("table points at a live connection");
                if flags & TCP_SYN != 0 && flags & TCP_ACK == 0 && key == e.key_a
                    && e.conn.isn_a.is_some_and(|isn| isn != seq)
                {
                    self.close(ctx, id); // port reuse: a new SYN with a new ISN
                    self.open(ctx, key, src, dst, buf, t, flags, seq, frame, ts)
                } else {
                    id
                }
            }
            Some(Slot::Done) => unreachable!("handled by the caller"),
        };
        let e = self.slab[id].as_mut().expect("just opened or looked up");
        if cut && end > e.conn.snaplen {
            e.conn.snaplen = end;
        }
        let side = if key == e.key_a { Side::A } else { Side::B };
        let ack = be32(buf, t + 8);
        e.conn.packet(side, seq, flags, payload, frame, ts, ctx.tls_ports, ack);
        let judged = e.conn.judged();
        if !payload.is_empty() {
            // the bytes buffered by all flows in flight stay within the budget
            let held = e.conn.buffered();
            self.buffered = self.buffered + held - e.conn.held;
            e.conn.held = held;
            if self.buffered > ctx.limits.max_buffered_bytes {
                self.shed(ctx);
            }
        }
        if judged {
            self.close(ctx, id);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn open(&mut self, ctx: &Ctx<'_>, key: Key, src: &[u8], dst: &[u8], buf: &[u8], t: usize,
            flags: u8, seq: u32, frame: u64, ts: f64) -> usize {
        let sport = u16::from_be_bytes([buf[t], buf[t + 1]]);
        let dport = u16::from_be_bytes([buf[t + 2], buf[t + 3]]);
        let rports = [buf[t + 2], buf[t + 3], buf[t], buf[t + 1]];
        let rkey = Key::new(dst, src, &rports);
        let (conn, key_a) = if flags & TCP_SYN != 0 && flags & TCP_ACK != 0 {
            // the first packet seen is the responder's
            (Connection::new(dst, src, dport, sport, frame, ts, ctx.limits, ctx.keylog.clone()), rkey)
        } else {
            let mut c = Connection::new(src, dst, sport, dport, frame, ts, ctx.limits, ctx.keylog.clone());
            if flags & TCP_SYN != 0 {
                c.isn_a = Some(seq);
            }
            (c, key)
        };
        self.opened += 1;
        let entry = Entry { conn: Box::new(conn), key_a, order: self.opened };
        let id = match self.free.pop() {
            Some(id) => {
                self.slab[id] = Some(entry);
                id
            }
            None => {
                self.slab.push(Some(entry));
                self.slab.len() - 1
            }
        };
        self.map.insert(key, Slot::Conn(id));
        self.map.insert(rkey, Slot::Conn(id));
        self.active.insert(self.opened, id);
        self.stats.add("tcp_connections", 1);
        if self.active.len() > ctx.limits.max_flows {
            if let Some((_, &oldest)) = self.active.first_key_value() {
                if let Some(e) = self.slab[oldest].as_mut() {
                    e.conn.evicted = true;
                    e.conn.warnings.push(ConnWarning::EvictedFlowTableFull);
                }
                self.stats.add("flows_evicted", 1);
                self.close(ctx, oldest);
            }
        }
        id
    }

    /// Over the buffered-bytes budget: evict the flows holding the most (still reported).
    fn shed(&mut self, ctx: &Ctx<'_>) {
        while self.buffered > ctx.limits.max_buffered_bytes && !self.active.is_empty() {
            let big = self.active.values().copied().rev() // the first flow holding the most
                .max_by_key(|&id| self.slab[id].as_ref().map_or(0, |e| e.conn.held));
            let Some(big) = big else { break };
            let Some(e) = self.slab[big].as_mut() else { break };
            if e.conn.held == 0 {
                break;
            }
            e.conn.evicted = true;
            e.conn.warnings.push(ConnWarning::EvictedMemoryBudget);
            self.stats.add("flows_evicted_memory", 1);
            self.close(ctx, big);
        }
    }

    /// The connection is judged: emit its row (if TLS) and remember its 4-tuple as done.
    pub(super) fn close(&mut self, ctx: &Ctx<'_>, id: usize) {
        let order = match self.slab[id].as_ref() {
            Some(e) => e.order,
            None => return,
        };
        if self.active.remove(&order).is_none() {
            return;
        }
        let mut e = self.slab[id].take().expect("checked above");
        self.free.push(id);
        self.buffered -= e.conn.held;
        e.conn.finish();
        self.emit(ctx, &e.conn);
        let c = &e.conn;
        let ab = [(c.a_port >> 8) as u8, c.a_port as u8, (c.b_port >> 8) as u8, c.b_port as u8];
        let ba = [ab[2], ab[3], ab[0], ab[1]];
        for k in [Key::new(&c.a_ip, &c.b_ip, &ab), Key::new(&c.b_ip, &c.a_ip, &ba)] {
            if self.map.get(&k) == Some(Slot::Conn(id)) {
                self.map.insert(k, Slot::Done);
                self.tombstones.push_back(Tombstone::from(k));
            }
        }
        while self.tombstones.len() > 2 * ctx.limits.max_tombstones {
            if let Some(t) = self.tombstones.pop_front() {
                self.tombstones_dropped += 1;
                let k = t.key();
                if self.map.get(&k) == Some(Slot::Done) {
                    self.map.remove(&k);
                }
            }
        }
    }
}
