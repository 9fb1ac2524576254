//! One capture on N threads, with one thread's answers (issue 9).
//!
//! The calling thread reads the capture and hands each packet, with its frame number, to one of
//! N workers by a direction-independent hash of its TCP 4-tuple; everything that is not plain
//! TCP (UDP: DTLS, QUIC, RADIUS; EAPOL; ARP and other non-IP frames) goes to worker 0, which
//! therefore holds every UDP association and EAP conversation whole. Each worker runs its own
//! [`Analyzer`] over its share; the merge numbers the flows by start time and orders events,
//! messages, certificates (first seen), roles and counters by the clock each was first seen at,
//! exactly as one thread would.
//!
//! Where the threads could not give one thread's answers, the capture is read again on one
//! thread (the result is then one thread's, by construction):
//! - packets that no worker can own alone: IPv4 fragments, IP-in-IP/GRE tunnels and TCP out of
//!   a UDP tunnel, MPLS/PPPoE frames, IPv6 extension headers, link types other than Ethernet
//!   (VLAN/QinQ tags included) and Linux cooked capture, pcapng Decryption Secrets Blocks (decided by the reader as soon as one appears);
//! - the limits: each worker gets `1/N` of `max_flows`, `max_tombstones` and
//!   `max_buffered_bytes`, so that the N together never hold more than one thread would; if any
//!   worker evicts a flow or forgets a 4-tuple, or the `not_tls` events reach their cap of
//!   1000, the capture is read again on one thread with the full limits;
//! - streaming order (flow ids in the order flows end) and captures from a stream, which cannot
//!   be read twice, always take one thread.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;

use crate::capture::{CaptureError, CaptureReader};
use crate::engine::{analyze_reader_with, open_file, Analysis, Analyzer, CertSeen, EngineError, KeylogReport,
                    MergeInfo, Stats, CLOCK_END};
use crate::flow::{EventRecord, Limits};
use crate::tls::decrypt::KeyLog;

/// Packets per message to a worker (channel costs stay far below a packet's).
const BATCH_PACKETS: usize = 256;
/// Batches queued per worker: bounds the memory the reader can run ahead with.
const QUEUE_BATCHES: usize = 8;

/// The threads `threads` asks for: 0 = every core.
pub fn resolve_threads(threads: usize) -> usize {
    if threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        threads
    }
}

/// A capture file on `threads` threads (0 = every core, 1 = [`analyze_reader_with`] itself).
pub fn analyze_path(path: &Path, ports: &[u16], limits: Limits, keylog: Option<Arc<KeyLog>>,
                    keylog_report: Option<KeylogReport>, stream: bool, threads: usize) -> Result<Analysis, EngineError> {
    let threads = resolve_threads(threads);
    let reader = open_file(path)?;
    if threads > 1 && !stream {
        if let Some(a) = analyze_threads(reader, ports, limits.clone(), keylog.clone(), keylog_report.clone(), threads)? {
            return Ok(a);
        }
        return analyze_reader_with(open_file(path)?, ports, limits, keylog, keylog_report, false);
    }
    analyze_reader_with(reader, ports, limits, keylog, keylog_report, stream)
}

/// Where a packet goes.
#[derive(Debug, PartialEq, Eq)]
enum Route {
    /// The worker this hash picks.
    Hash(u64),
    /// Worker 0: UDP, EAPOL, non-IP frames, TCP too short to have ports.
    Zero,
    /// No worker can own it alone: read the capture on one thread.
    OneThread,
}

#[inline]
fn mix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// Same for both directions: each endpoint (address, port) hashed, the two added.
#[inline]
fn endpoint_pair_hash(src: &[u8], dst: &[u8], sport: &[u8], dport: &[u8]) -> u64 {
    let one = |ip: &[u8], port: &[u8]| {
        let mut h = u64::from(u16::from_be_bytes([port[0], port[1]]));
        for c in ip.chunks(8) {
            let mut b = [0u8; 8];
            b[..c.len()].copy_from_slice(c);
            h = mix(h ^ u64::from_le_bytes(b));
        }
        mix(h)
    };
    one(src, sport).wrapping_add(one(dst, dport))
}

fn route(linktype: u32, data: &[u8]) -> Route {
    // (offset of the network header, its ethertype)
    let (mut off, mut etype) = match linktype {
        1 if data.len() >= 14 => (14, u16::from_be_bytes([data[12], data[13]])),
        113 if data.len() >= 16 => (16, u16::from_be_bytes([data[14], data[15]])), // Linux cooked
        _ => return Route::OneThread,
    };
    while linktype == 1 && matches!(etype, 0x8100 | 0x88A8 | 0x9100) {
        if data.len() < off + 4 {
            return Route::Zero; // cut short: the decoder counts it
        }
        etype = u16::from_be_bytes([data[off + 2], data[off + 3]]);
        off += 4;
    }
    let ip = &data[off..];
    match etype {
        0x0800 => {
            if ip.len() < 20 {
                return Route::Zero; // the decoder skips it, counted
            }
            if ip[0] >> 4 != 4 {
                return Route::OneThread;
            }
            if ip[6] & 0x3F != 0 || ip[7] != 0 {
                return Route::OneThread; // a fragment
            }
            let l4 = usize::from(ip[0] & 0x0F) * 4;
            match ip[9] {
                6 if ip.len() >= l4 + 4 && l4 >= 20 => {
                    Route::Hash(endpoint_pair_hash(&ip[12..16], &ip[16..20], &ip[l4..l4 + 2], &ip[l4 + 2..l4 + 4]))
                }
                4 | 41 | 47 => Route::OneThread, // tunnels
                _ => Route::Zero,
            }
        }
        0x86DD => {
            if ip.len() < 40 || ip[0] >> 4 != 6 {
                return Route::OneThread;
            }
            match ip[6] {
                6 if ip.len() >= 44 => {
                    Route::Hash(endpoint_pair_hash(&ip[8..24], &ip[24..40], &ip[40..42], &ip[42..44]))
                }
                6 | 17 | 58 | 59 => Route::Zero,
                _ => Route::OneThread, // extension headers, tunnels
            }
        }
        0x8847 | 0x8848 | 0x8863 | 0x8864 => Route::OneThread, // MPLS, PPPoE
        _ => Route::Zero, // EAPOL, ARP, ...: worker 0
    }
}

/// Packets for one worker: their bytes end to end, and (frame, ts, linktype, start, len, orig_len).
#[derive(Default)]
struct Batch {
    bytes: Vec<u8>,
    packets: Vec<(u64, f64, u32, usize, usize, usize)>,
}

fn worker(rx: Receiver<Batch>, mut an: Analyzer, abort: &AtomicBool) -> (Analysis, MergeInfo) {
    for b in rx {
        if abort.load(Ordering::Relaxed) {
            continue; // drain: the reader stops soon
        }
        for &(frame, ts, lt, start, len, orig) in &b.packets {
            an.packet_frame(frame, ts, lt, &b.bytes[start..start + len], orig);
        }
        if an.limit_hit() {
            abort.store(true, Ordering::Relaxed);
        }
    }
    an.finish_parts(&[])
}

/// The capture on `n` workers (`n` > 1); `None` when the answers could differ from one thread's (then the
/// caller reads it on one thread).
pub fn analyze_threads(mut reader: CaptureReader, ports: &[u16], limits: Limits, keylog: Option<Arc<KeyLog>>,
                              keylog_report: Option<KeylogReport>, n: usize) -> Result<Option<Analysis>, EngineError> {
    let keylog = keylog.filter(|k| !k.is_empty());
    let n64 = n as u64;
    let share = Limits {
        max_flows: limits.max_flows / n,
        max_tombstones: limits.max_tombstones / n,
        max_buffered_bytes: limits.max_buffered_bytes / n,
        ..limits
    };
    if share.max_flows == 0 || share.max_tombstones == 0 {
        return Ok(None);
    }
    let abort = AtomicBool::new(false);
    let mut frames = 0u64;
    let (mut first_ts, mut last_ts) = (None, None);
    let mut truncated: Option<CaptureError> = None;
    let mut one_thread = false;
    let results: Vec<(Analysis, MergeInfo)> = std::thread::scope(|s| {
        let mut txs: Vec<SyncSender<Batch>> = Vec::with_capacity(n);
        let mut handles = Vec::with_capacity(n);
        for w in 0..n {
            let (tx, rx) = sync_channel::<Batch>(QUEUE_BATCHES);
            txs.push(tx);
            let mut an = Analyzer::new(ports, share.clone(), keylog.clone());
            if w == 0 {
                an.udp = crate::udp::UdpFlows::new(&limits, keylog.clone()); // worker 0 holds all UDP
            }
            let abort = &abort;
            handles.push(s.spawn(move || worker(rx, an, abort)));
        }
        let mut batches: Vec<Batch> = (0..n).map(|_| Batch::default()).collect();
        loop {
            let p = match reader.next_packet() {
                Ok(Some(p)) => p,
                Ok(None) => break,
                Err(e) => {
                    truncated = Some(e);
                    break;
                }
            };
            let w = match route(p.linktype, p.data) {
                Route::Hash(h) => (h % n64) as usize,
                Route::Zero => 0,
                Route::OneThread => {
                    one_thread = true;
                    break;
                }
            };
            frames += 1;
            if first_ts.is_none() {
                first_ts = Some(p.ts);
            }
            last_ts = Some(p.ts);
            let b = &mut batches[w];
            b.packets.push((frames, p.ts, p.linktype, b.bytes.len(), p.data.len(), p.orig_len as usize));
            b.bytes.extend_from_slice(p.data);
            if b.packets.len() >= BATCH_PACKETS {
                let full = std::mem::take(b);
                if txs[w].send(full).is_err() || abort.load(Ordering::Relaxed) {
                    one_thread = true;
                    break;
                }
            }
            if !reader.keylog.is_empty() {
                one_thread = true; // a Decryption Secrets Block
                break;
            }
        }
        for (tx, b) in txs.iter().zip(batches) {
            if !one_thread && !b.packets.is_empty() {
                let _ = tx.send(b);
            }
        }
        if one_thread {
            abort.store(true, Ordering::Relaxed);
        }
        drop(txs);
        handles.into_iter().map(|h| h.join().expect("a worker thread panicked")).collect()
    });
    if one_thread || abort.load(Ordering::Relaxed) {
        return Ok(None);
    }
    if frames == 0 {
        if let Some(e) = truncated {
            return Err(EngineError::from(e));
        }
    }
    let mut warnings: Vec<(String, String)> =
        reader.warnings.iter().map(|w| (w.code.clone(), w.detail.clone())).collect();
    if let Some(e) = truncated {
        warnings.push(("capture_truncated".into(), format!("reading stopped: {}", e.message)));
    }
    let Some(mut a) = merge(results, &warnings, keylog_report.as_ref()) else { return Ok(None) };
    a.frames = frames;
    a.first_ts = first_ts;
    a.last_ts = last_ts;
    a.stats.clock = CLOCK_END;
    a.stats.set("frames", frames);
    a.format = reader.format.clone();
    a.bytes_read = reader.bytes_read;
    Ok(Some(a))
}

/// The workers' analyses as one thread's; `None` where they could differ.
fn merge(results: Vec<(Analysis, MergeInfo)>, reader_warnings: &[(String, String)],
         keylog_report: Option<&KeylogReport>) -> Option<Analysis> {
    let mut reported = 0;
    for (a, info) in &results {
        if info.tunneled_tcp || info.tombstones_dropped > 0 || a.stats.get("flows_evicted") > 0
            || a.stats.get("flows_evicted_memory") > 0
            || a.capture_warnings.iter().any(|w| w.starts_with("ip_fragment_") || w.starts_with("unsupported_linktype"))
        {
            return None;
        }
        reported += a.stats.get("not_tls_reported") + a.stats.get("tls_without_handshake_reported");
    }
    if reported >= 1000 {
        return None;
    }
    // flows: numbered by start time, then first frame, over all workers
    let mut flows = Vec::new();
    for (w, (a, _)) in results.iter().enumerate() {
        for (i, f) in a.flows.iter().enumerate() {
            flows.push((f.ts_start, f.first_frame, w, i));
        }
    }
    flows.sort_by(|x, y| x.0.partial_cmp(&y.0).unwrap_or(std::cmp::Ordering::Equal).then(x.1.cmp(&y.1)));
    let mut renumber: Vec<Vec<u64>> = results.iter().map(|(a, _)| vec![0; a.flows.len() + 1]).collect();
    for (new, &(_, _, w, i)) in flows.iter().enumerate() {
        renumber[w][results[w].0.flows[i].flow_id as usize] = new as u64 + 1;
    }
    let mut out = Analysis::default();
    let mut events: Vec<EventRecord> = Vec::new();
    let mut udp_warnings: Vec<(String, String)> = Vec::new();
    let mut certs: Vec<(u64, usize, usize, CertSeen, Vec<(u64, usize, &'static str)>)> = Vec::new();
    let mut cert_at: HashMap<String, usize> = HashMap::new();
    let mut stats: Vec<(u64, String, usize, usize, String, u64)> = Vec::new();
    let (mut keylog_hits, mut emitted) = (0, 0);
    let mut parts: Vec<(Analysis, MergeInfo)> = results;
    for (w, (a, info)) in parts.iter_mut().enumerate() {
        keylog_hits += info.keylog_hits;
        emitted += info.emitted;
        let map = &renumber[w];
        for f in a.flows.iter_mut() {
            f.flow_id = map[f.flow_id as usize];
        }
        // the last events are the worker's capture warnings (UDP's, on worker 0)
        let cut = a.events.len() - a.capture_warnings.len();
        for e in a.events.drain(cut..) {
            udp_warnings.push((e.code, e.detail));
        }
        for mut e in a.events.drain(..) {
            e.flow_id = e.flow_id.map(|id| map[id as usize]);
            events.push(e);
        }
        for ms in a.messages.iter_mut() {
            ms.flow_id = map[ms.flow_id as usize];
        }
        for (i, mut c) in std::mem::take(&mut a.certificates).into_iter().enumerate() {
            let (clock, role_clocks) = info.cert_clock.get(i).cloned().unwrap_or((CLOCK_END, Vec::new()));
            let roles: Vec<(u64, usize, &'static str)> = c.roles.iter().enumerate()
                .map(|(r, &label)| (role_clocks.get(r).copied().unwrap_or(CLOCK_END), r, label)).collect();
            for id in c.flow_ids.iter_mut() {
                *id = map[*id as usize];
            }
            match cert_at.get(&c.sha256) {
                Some(&at) => {
                    let m = &mut certs[at];
                    m.3.flow_ids.extend(c.flow_ids);
                    m.4.extend(roles.into_iter().map(|(ck, r, l)| (ck, r, l)));
                    if (clock, w) < (m.0, m.1) {
                        (m.0, m.1, m.2) = (clock, w, i);
                    }
                }
                None => {
                    cert_at.insert(c.sha256.clone(), certs.len());
                    c.roles.clear();
                    certs.push((clock, w, i, c, roles));
                }
            }
        }
        for (i, (k, v, clock)) in a.stats.entries_with_clock().enumerate() {
            if k != "frames" {
                let tie = if clock == CLOCK_END { k.to_string() } else { String::new() };
                stats.push((clock, tie, w, i, k.to_string(), v));
            }
        }
    }
    for (w, (a, _)) in parts.iter_mut().enumerate() {
        let _ = w;
        out.messages.append(&mut a.messages);
        out.flows.append(&mut a.flows);
    }
    out.flows.sort_by_key(|f| f.flow_id);
    out.messages.sort_by_key(|ms| ms.flow_id); // stable: each flow's come from one worker, in order
    events.sort_by_key(|e| (e.flow_id.unwrap_or(0), e.frame.unwrap_or(0)));
    certs.sort_by(|x, y| (x.0, x.1, x.2).cmp(&(y.0, y.1, y.2)));
    for (_, _, _, mut c, mut roles) in certs {
        c.flow_ids.sort_unstable();
        c.flow_ids.dedup();
        roles.sort_by_key(|&(ck, r, _)| (ck, r));
        for (_, _, label) in roles {
            if !c.roles.contains(&label) {
                c.roles.push(label);
            }
        }
        out.certificates.push(c);
    }
    stats.sort_by(|x, y| (x.0, &x.1, x.2, x.3).cmp(&(y.0, &y.1, y.2, y.3)));
    let mut merged = Stats::default();
    for (clock, _, _, _, k, v) in stats {
        merged.clock = clock;
        merged.add(&k, v);
    }
    out.stats = merged;
    // the capture's warnings, in one thread's order (`Analyzer::finish_capture`)
    let mut all: Vec<(String, String)> = reader_warnings.to_vec();
    all.extend(udp_warnings);
    if let Some(log) = keylog_report {
        all.extend(log.warnings.iter().cloned());
        if log.entries > 0 && keylog_hits == 0 && emitted > 0 {
            all.push(("keylog_unmatched".into(), format!(
                "the key log {} holds secrets for {} connections, none of them a TLS flow of this capture: \
                 nothing was decrypted", log.source, log.entries)));
        }
    }
    for (code, detail) in all {
        out.capture_warnings.push(format!("{code}: {detail}"));
        events.push(EventRecord { kind: "warning", code, detail, ..EventRecord::default() });
    }
    out.events = events;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_directions_of_a_connection_go_to_one_worker() {
        let mut f = vec![0u8; 54];
        f[12] = 8;
        f[14] = 0x45;
        f[23] = 6;
        f[26..30].copy_from_slice(&[10, 0, 0, 1]);
        f[30..34].copy_from_slice(&[10, 0, 0, 2]);
        f[34..38].copy_from_slice(&[0x9c, 0x40, 1, 0xbb]);
        let mut r = f.clone();
        r[26..30].copy_from_slice(&[10, 0, 0, 2]);
        r[30..34].copy_from_slice(&[10, 0, 0, 1]);
        r[34..38].copy_from_slice(&[1, 0xbb, 0x9c, 0x40]);
        assert_eq!(route(1, &f), route(1, &r));
        assert!(matches!(route(1, &f), Route::Hash(_)));
        f[20] = 0x20; // more fragments
        assert_eq!(route(1, &f), Route::OneThread);
        assert_eq!(route(101, &r), Route::OneThread); // raw IP: one thread
    }
}
