//! The behaviours last ported to the Rust engine, as tables of cases through `Analyzer`
//! (Python-side: tests/fuzz/test_hostile_partial.py, tests/fuzz/test_hostile_memory.py): packets cut by
//! the snaplen (`packet_len` with a captured length below the original length), hellos the
//! capture holds only part of, and the buffered-bytes budget (`Limits::max_buffered_bytes`).
//! Each asserts on what a user sees: the flow's outcome, its detail, warnings and events.

use std::path::PathBuf;

use tlsinspect_core::capture::CaptureReader;
use tlsinspect_core::engine::{Analysis, Analyzer};
use tlsinspect_core::flow::Limits;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");
const PORTS: [u16; 1] = [443];
const SYN: u8 = 0x02;
const ACK: u8 = 0x10;
const PSH_ACK: u8 = 0x18;
const RST: u8 = 0x04;

fn repo(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(rel)
}

/// The first record of a fixture stream (tests/data/tls).
fn first_record(name: &str) -> Vec<u8> {
    let b = std::fs::read(format!("{DATA}/tls/{name}")).unwrap();
    let n = 5 + ((usize::from(b[3]) << 8) | usize::from(b[4]));
    b[..n].to_vec()
}

fn client_hello() -> Vec<u8> {
    first_record("tls12_mutual.c2s.bin") // SNI server.example.lab, a 184-byte handshake message
}

fn server_hello() -> Vec<u8> {
    first_record("tls12_mutual.s2c.bin")
}

/// Ethernet/IPv4/TCP between client 10.1.0.`c`:`10000 + c` and server 10.2.0.1:443.
fn frame(c: u8, from_client: bool, seq: u32, ack: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    let (ca, sa) = ([10, 1, 0, c], [10, 2, 0, 1]);
    let (src, dst, sp, dp) = if from_client { (ca, sa, 10000 + u16::from(c), 443) } else { (sa, ca, 443, 10000 + u16::from(c)) };
    let mut f = vec![0u8; 12];
    f.extend([8, 0, 0x45, 0]);
    f.extend(((40 + payload.len()) as u16).to_be_bytes());
    f.extend([0, 0, 0, 0, 64, 6, 0, 0]);
    f.extend(src);
    f.extend(dst);
    f.extend(sp.to_be_bytes());
    f.extend(dp.to_be_bytes());
    f.extend(seq.to_be_bytes());
    f.extend(ack.to_be_bytes());
    f.extend([0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    f.extend(payload);
    f
}

fn analyze(frames: &[Vec<u8>], limits: Limits) -> Analysis {
    let mut a = Analyzer::new(&PORTS, limits, None);
    for (i, f) in frames.iter().enumerate() {
        a.packet(1.0 + i as f64 * 0.01, 1, f);
    }
    a.finish(&[])
}

// ---- snaplen cuts ------------------------------------------------------------------------------

/// pcaps/ca_chain_8443.pcap as `editcap -s SNAPLEN` writes it (or with orig = caplen + `extra`
/// when `snaplen` is None: an FCS that was not captured).
fn sliced(snaplen: Option<usize>, extra: usize) -> Analysis {
    let f = std::fs::File::open(repo("pcaps/ca_chain_8443.pcap")).unwrap();
    let mut r = CaptureReader::from_read(Box::new(f)).unwrap();
    let mut a = Analyzer::new(&[443, 8443], Limits::default(), None);
    while let Ok(Some(p)) = r.next_packet() {
        let keep = snaplen.map_or(p.data.len(), |s| s.min(p.data.len()));
        a.packet_len(p.ts, p.linktype, &p.data[..keep], p.data.len() + extra);
    }
    a.finish(&[])
}

#[test]
fn snaplen_is_named_on_the_flow_and_in_its_outcome() {
    // (snaplen, outcome): the cases of test_hostile_partial.py
    for (snaplen, outcome) in [(64, "incomplete"), (200, "incomplete"), (1000, "established")] {
        let a = sliced(Some(snaplen), 0);
        assert_eq!(a.flows.len(), 1, "snaplen {snaplen}");
        let f = &a.flows[0];
        assert!(f.warnings.iter().any(|w| w == "snaplen_truncated"), "{snaplen}: {:?}", f.warnings);
        assert_eq!(f.outcome, outcome, "snaplen {snaplen}");
        let cut = format!("the capture cut the packets at {snaplen} bytes (snaplen {snaplen})");
        assert!(f.outcome_detail.as_deref().unwrap_or("").contains(&cut), "{snaplen}: {:?}", f.outcome_detail);
        let ev: Vec<_> = a.events.iter().filter(|e| e.code == "snaplen_truncated").collect();
        assert_eq!(ev.len(), 1, "snaplen {snaplen}");
        assert!(ev[0].detail.contains(&format!("snaplen {snaplen}")) && ev[0].flow_id == Some(f.flow_id));
    }
}

#[test]
fn whole_packets_are_no_snaplen_cut() {
    // (snaplen, bytes not captured past the cut): whole, an uncaptured FCS, a snaplen above
    // every frame
    for (snaplen, extra) in [(None, 0), (None, 4), (Some(1514), 0), (Some(65535), 0)] {
        let a = sliced(snaplen, extra);
        let f = &a.flows[0];
        assert_eq!(f.outcome, "established", "{snaplen:?} +{extra}");
        assert!(!f.warnings.iter().any(|w| w == "snaplen_truncated"), "{snaplen:?} +{extra}: {:?}", f.warnings);
        assert!(!f.outcome_detail.as_deref().unwrap_or("").contains("snaplen"));
        assert!(a.events.iter().all(|e| e.code != "snaplen_truncated"));
    }
}

#[test]
fn a_cut_hello_packet_names_the_snaplen() {
    // one flow, by hand: SYN, SYN-ACK, a ClientHello packet cut at `snaplen` bytes
    let ch = client_hello();
    for snaplen in [60usize, 100, 150] {
        let frames = [
            frame(1, true, 100, 0, SYN, &[]),
            frame(1, false, 500, 101, SYN | ACK, &[]),
            frame(1, true, 101, 501, PSH_ACK, &ch),
        ];
        let mut a = Analyzer::new(&PORTS, Limits::default(), None);
        for (i, f) in frames.iter().enumerate() {
            let keep = if i == 2 { snaplen } else { f.len() };
            a.packet_len(1.0 + i as f64, 1, &f[..keep], f.len());
        }
        let an = a.finish(&[]);
        assert_eq!(an.flows.len(), 1, "snaplen {snaplen}");
        let f = &an.flows[0];
        assert_eq!(f.outcome, "incomplete", "snaplen {snaplen}");
        assert!(f.warnings.iter().any(|w| w == "snaplen_truncated"));
        assert!(f.outcome_detail.as_deref().unwrap().contains(&format!("(snaplen {snaplen})")), "{:?}", f.outcome_detail);
    }
}

// ---- partial hellos ----------------------------------------------------------------------------

#[test]
fn partial_hellos_are_reported_with_what_was_seen() {
    let (ch, sh) = (client_hello(), server_hello());
    let sh_need = ((usize::from(sh[6]) << 16) | (usize::from(sh[7]) << 8) | usize::from(sh[8])) + 4;
    let open = |c: u8| vec![frame(c, true, 100, 0, SYN, &[]), frame(c, false, 500, 101, SYN | ACK, &[])];
    // (frames, outcome detail): the capture holds only part of a hello
    let cases: Vec<(Vec<Vec<u8>>, String)> = vec![
        // no handshake seen, a ClientHello cut short (test_hostile_partial.py's 30,000 flows)
        (vec![frame(1, true, 1000, 0, PSH_ACK, &ch[..100])], "only 95 of the 184 bytes of the ClientHello were seen".into()),
        ([open(2), vec![frame(2, true, 101, 501, PSH_ACK, &ch[..60])]].concat(), "only 55 of the 184 bytes of the ClientHello were seen".into()),
        // then the client resets
        (
            [open(3), vec![frame(3, true, 101, 501, PSH_ACK, &ch[..150]), frame(3, true, 251, 501, RST, &[])]].concat(),
            "only 145 of the 184 bytes of the ClientHello were seen; then the client reset the connection".into(),
        ),
        // only the server's side: the start of its ServerHello
        ([open(4), vec![frame(4, false, 501, 101, PSH_ACK, &sh[..40])]].concat(), format!("only 35 of the {sh_need} bytes of the ServerHello were seen")),
        // the whole ClientHello, the start of the ServerHello: the hello that was parsed wins
        // (as the Python engine says)
        (
            [open(5), vec![frame(5, true, 101, 501, PSH_ACK, &ch), frame(5, false, 501, 290, PSH_ACK, &sh[..40])]].concat(),
            "the capture ends before the handshake does".into(),
        ),
    ];
    for (i, (frames, detail)) in cases.iter().enumerate() {
        let a = analyze(frames, Limits::default());
        assert_eq!(a.flows.len(), 1, "case {i}");
        let f = &a.flows[0];
        assert_eq!((f.outcome.as_str(), f.outcome_detail.as_deref()), ("incomplete", Some(detail.as_str())), "case {i}");
    }
}

#[test]
fn a_whole_client_hello_is_no_partial_hello() {
    let ch = client_hello();
    let a = analyze(&[frame(1, true, 100, 0, SYN, &[]), frame(1, false, 500, 101, SYN | ACK, &[]),
                      frame(1, true, 101, 501, PSH_ACK, &ch)], Limits::default());
    let f = &a.flows[0];
    assert_eq!(f.sni.as_deref(), Some("server.example.lab"));
    assert!(!f.outcome_detail.as_deref().unwrap_or("").contains("only"), "{:?}", f.outcome_detail);
}

#[test]
fn many_partial_client_hellos_are_all_reported() {
    // more flows than the flow table holds: each is still a row
    let ch = client_hello();
    let frames: Vec<Vec<u8>> = (0..200u8).map(|c| frame(c, true, 1000, 0, PSH_ACK, &ch[..100])).collect();
    let a = analyze(&frames, Limits { max_flows: 50, ..Limits::default() });
    assert_eq!(a.flows.len(), 200);
    assert!(a.flows.iter().all(|f| f.outcome == "incomplete"
        && f.outcome_detail.as_deref() == Some("only 95 of the 184 bytes of the ClientHello were seen")));
}

// ---- the buffered-bytes budget -----------------------------------------------------------------

/// `n` connections, each a ClientHello and then ~`mb` MB of a Certificate message that never
/// ends (records of 16,000 bytes under a 1,000,000-byte header), as test_hostile_memory.py.
fn hogs(n: u8, records: usize) -> Vec<Vec<u8>> {
    let mut first = vec![11u8, 0x0f, 0x42, 0x40];
    first.resize(16000, 0);
    let rec = |b: &[u8]| [&[0x16, 3, 3][..], &(b.len() as u16).to_be_bytes(), b].concat();
    let mut stream = [client_hello(), rec(&first)].concat();
    for _ in 0..records {
        stream.extend(rec(&[0u8; 16000]));
    }
    let mut out = Vec::new();
    for c in 0..n {
        let mut seq = 1u32;
        for seg in stream.chunks(1400) {
            out.push(frame(c, true, seq, 0, PSH_ACK, seg));
            seq += seg.len() as u32;
        }
    }
    out
}

#[test]
fn the_buffered_bytes_budget_evicts_the_biggest_flows_and_reports_them() {
    // (flows, records each, budget, flows evicted at least, at most)
    let cases = [(8u8, 20usize, 1usize << 20, 6u64, 8u64), (4, 20, 4 << 20, 0, 0), (8, 20, 512 << 20, 0, 0), (3, 60, 1 << 20, 2, 3)];
    for (n, records, budget, lo, hi) in cases {
        let a = analyze(&hogs(n, records), Limits { max_buffered_bytes: budget, ..Limits::default() });
        let evicted: Vec<_> = a.flows.iter().filter(|f| f.warnings.iter().any(|w| w == "evicted_memory_budget")).collect();
        let k = evicted.len() as u64;
        assert!(lo <= k && k <= hi, "{n} flows, budget {budget}: {k} evicted");
        assert_eq!(a.stats.get("flows_evicted_memory"), k);
        assert_eq!(a.flows.len(), usize::from(n), "every flow is reported");
        for f in &evicted {
            assert_eq!(f.outcome, "incomplete");
            assert_eq!(f.outcome_detail.as_deref(),
                       Some("flow evicted before the handshake ended (memory budget for buffered handshakes reached)"));
            assert_eq!(f.sni.as_deref(), Some("server.example.lab"), "what was parsed before is kept");
        }
        let ev: Vec<_> = a.events.iter().filter(|e| e.code == "evicted_memory_budget").collect();
        assert_eq!(ev.len() as u64, k);
        assert!(ev.iter().all(|e| e.detail.contains("Limits.max_buffered_bytes")));
    }
}
