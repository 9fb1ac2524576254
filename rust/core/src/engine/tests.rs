use super::*;

use std::path::PathBuf;

use crate::capture::CaptureReader;
use crate::flow::FlowRecord;
use crate::tcp::TCP_RST;

fn sample(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../pcaps").join(name)
}

fn run(name: &str, limits: Limits) -> Analysis {
    analyze_reader(open_file(&sample(name)).unwrap(), &[], limits, None, false).unwrap()
}

/// Hands a byte stream over one byte per read call.
struct OneByte(Vec<u8>, usize);
impl std::io::Read for OneByte {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.1 >= self.0.len() || buf.is_empty() {
            return Ok(0);
        }
        buf[0] = self.0[self.1];
        self.1 += 1;
        Ok(1)
    }
}

#[test]
fn lab_sample_gives_its_flows_and_the_rejected_lsc() {
    let a = run("cisco_lab_mix.pcapng", Limits::default());
    assert_eq!(a.frames, 139);
    assert_eq!(a.flows.len(), 11);
    assert_eq!(a.flows.iter().map(|f| f.flow_id).collect::<Vec<_>>(), (1..=11).collect::<Vec<_>>());
    let f = &a.flows[1];
    assert_eq!((f.client_ip.as_str(), f.client_port, f.server_port), ("10.10.1.20", 51002, 5061));
    assert_eq!(f.alerts, vec!["server:fatal:unknown_ca".to_string()]);
    assert_eq!(f.outcome_detail.as_deref(), Some("server sent fatal unknown_ca after the client's Certificate"));
    assert_eq!(f.history, "CsxkrnXGYIFl");
    // every certificate crosses once, linked to the flows that sent it
    let mut fps: Vec<&str> = a.certificates.iter().map(|c| c.sha256.as_str()).collect();
    fps.dedup();
    assert_eq!(fps.len(), a.certificates.len());
    for c in &a.certificates {
        assert_eq!(sha256_hex(&c.der), c.sha256);
        for id in &c.flow_ids {
            let flow = &a.flows[*id as usize - 1];
            assert!(flow.server_chain_sha256.contains(&c.sha256) || flow.client_chain_sha256.contains(&c.sha256));
        }
    }
    let alert = a.events.iter().find(|e| e.kind == "alert" && e.flow_id == Some(2)).unwrap();
    assert_eq!((alert.sender, alert.code.as_str()), (Some("server"), "unknown_ca"));
}

#[test]
fn whole_and_byte_by_byte_reading_agree() {
    let whole = run("cisco_lab_mix.pcapng", Limits::default());
    let bytes = std::fs::read(sample("cisco_lab_mix.pcapng")).unwrap();
    let reader = CaptureReader::from_read(Box::new(OneByte(bytes, 0))).unwrap();
    let slow = analyze_reader(reader, &[], Limits::default(), None, false).unwrap();
    assert_eq!(slow.flows, whole.flows);
    assert_eq!(slow.events, whole.events);
    assert_eq!(slow.certificates, whole.certificates);
}

/// The same frames with an 802.1Q tag take the general decoder instead of the fast path.
#[test]
fn fast_path_and_general_decoder_agree() {
    let mut tagged_frames = 0;
    for name in ["cisco_lab_mix.pcapng", "lsc_rejected_unknown_ca.pcap", "ca_chain_8443.pcap", "tls13_443.pcap"] {
        let mut plain = Analyzer::new(&[], Limits::default(), None);
        let mut tagged = Analyzer::new(&[], Limits::default(), None);
        let mut r = open_file(&sample(name)).unwrap();
        while let Some(p) = r.next_packet().unwrap() {
            plain.packet(p.ts, p.linktype, p.data);
            if p.linktype == 1 && p.data.len() > 14 && p.data[12..14] == [8, 0] {
                let mut v = p.data[..12].to_vec();
                v.extend_from_slice(&[0x81, 0x00, 0x00, 0x0a]);
                v.extend_from_slice(&p.data[12..]);
                tagged.packet(p.ts, p.linktype, &v);
                tagged_frames += 1;
            } else {
                tagged.packet(p.ts, p.linktype, p.data);
            }
        }
        let (a, b) = (plain.finish(&[]), tagged.finish(&[]));
        assert!(!a.flows.is_empty(), "{name}");
        assert_eq!(a.flows, b.flows, "{name}");
        assert_eq!(a.events, b.events, "{name}");
    }
    assert!(tagged_frames > 30, "{tagged_frames} IPv4 frames on Ethernet");
}

#[test]
fn a_full_flow_table_evicts_the_oldest_and_still_reports_it() {
    let a = run("cisco_lab_mix.pcapng", Limits { max_flows: 1, ..Limits::default() });
    assert!(a.stats.get("flows_evicted") > 0);
    let evicted: Vec<&FlowRecord> =
        a.flows.iter().filter(|f| f.warnings.iter().any(|w| w == "evicted_flow_table_full")).collect();
    assert!(!evicted.is_empty());
    assert!(a.events.iter().any(|e| e.code == "evicted_flow_table_full"
        && e.detail == "the flow table was full; this flow was reported before its end"));
}

/// Ethernet/IPv4/TCP frame from 10.0.0.1:40000 to 10.0.0.2:443.
fn frame(flags: u8, seq: u32, reverse: bool) -> Vec<u8> {
    let mut f = vec![0u8; 54];
    f[12] = 8;
    f[14] = 0x45;
    f[17] = 40; // total length
    f[23] = 6;
    let (a, b) = ([10, 0, 0, 1], [10, 0, 0, 2]);
    let (src, dst, sp, dp) = if reverse { (b, a, 443u16, 40000u16) } else { (a, b, 40000, 443) };
    f[26..30].copy_from_slice(&src);
    f[30..34].copy_from_slice(&dst);
    f[34..36].copy_from_slice(&sp.to_be_bytes());
    f[36..38].copy_from_slice(&dp.to_be_bytes());
    f[38..42].copy_from_slice(&seq.to_be_bytes());
    f[46] = 0x50;
    f[47] = flags;
    f
}

#[test]
fn a_new_syn_with_a_new_isn_is_port_reuse() {
    let mut an = Analyzer::new(&[], Limits::default(), None);
    an.packet(1.0, 1, &frame(TCP_SYN, 100, false));
    an.packet(1.1, 1, &frame(TCP_SYN, 100, false)); // retransmitted SYN: same connection
    an.packet(1.2, 1, &frame(TCP_SYN | TCP_ACK, 900, true));
    assert_eq!(an.state.stats.get("tcp_connections"), 1);
    an.packet(2.0, 1, &frame(TCP_SYN, 5000, false)); // the 4-tuple again, another ISN
    assert_eq!(an.state.stats.get("tcp_connections"), 2);
    let a = an.finish(&[]);
    assert_eq!(a.stats.get("not_tls"), 2);
    assert!(a.flows.is_empty());
}

#[test]
fn packets_without_payload_or_syn_open_nothing_and_bad_headers_are_counted() {
    let mut an = Analyzer::new(&[], Limits::default(), None);
    an.packet(1.0, 1, &frame(TCP_ACK, 1, false));
    an.packet(1.0, 1, &frame(TCP_RST, 1, false));
    let mut bad = frame(TCP_SYN, 1, false);
    bad[46] = 0x40; // data offset 16 bytes
    an.packet(1.0, 1, &bad);
    let mut short = frame(TCP_SYN, 1, false);
    short[17] = 30; // IP total length shorter than the headers
    an.packet(1.0, 1, &short);
    let a = an.finish(&[]);
    assert_eq!(a.stats.get("tcp_connections"), 0);
    assert_eq!(a.stats.get("bad_tcp_header_length"), 1);
    assert_eq!(a.stats.get("truncated_tcp"), 1);
    assert_eq!(a.frames, 4);
}

#[test]
fn tombstones_are_bounded() {
    let limits = Limits { max_tombstones: 2, ..Limits::default() };
    let mut an = Analyzer::new(&[], limits, None);
    for i in 0..50u16 {
        let mut f = frame(TCP_ACK | 0x08, 1, false);
        f[34..36].copy_from_slice(&(1000 + i).to_be_bytes());
        f[36..38].copy_from_slice(&8080u16.to_be_bytes()); // not a TLS port
        f[17] = 48;
        f.extend_from_slice(b"GET / HT"); // not TLS: judged at once
        an.packet(1.0, 1, &f);
    }
    assert_eq!(an.state.stats.get("not_tls"), 50);
    assert!(an.state.tombstones.len() <= 4);
    assert!(an.state.map.len() <= 4);
}

#[test]
fn a_capture_cut_short_keeps_its_packets_with_a_warning() {
    let bytes = std::fs::read(sample("cisco_lab_mix.pcapng")).unwrap();
    let cut = bytes[..bytes.len() - 100].to_vec();
    let reader = CaptureReader::from_read(Box::new(std::io::Cursor::new(cut))).unwrap();
    let a = analyze_reader(reader, &[], Limits::default(), None, false).unwrap();
    assert!(a.frames > 100 && a.frames < 139);
    assert!(a.capture_warnings.iter().any(|w| w.starts_with("capture_truncated: ")), "{:?}", a.capture_warnings);
    let head = CaptureReader::from_read(Box::new(std::io::Cursor::new(b"\xd4\xc3\xb2\xa1\x02\x00".to_vec())));
    let err = match head {
        Err(e) => EngineError::from(e),
        Ok(r) => analyze_reader(r, &[], Limits::default(), None, false).unwrap_err(),
    };
    assert_eq!(err.to_string(), "pcap file header cut short at byte 6");
}

#[test]
fn stats_keep_first_increment_order() {
    let mut s = Stats::default();
    s.add("tcp_connections", 1);
    s.add("not_tls", 1);
    s.add("tcp_connections", 2);
    assert_eq!(s.iter().collect::<Vec<_>>(), vec![("tcp_connections", 3), ("not_tls", 1)]);
    assert_eq!(s.get("missing"), 0);
}

#[test]
fn error_message_names_the_offset_as_python_does() {
    let e = EngineError::Capture { reason: "pcap file header cut short".into(), offset: Some(0) };
    assert_eq!(e.to_string(), "pcap file header cut short at byte 0");
}

#[test]
fn streaming_in_batches_hands_over_what_one_streaming_analysis_holds() {
    for name in ["cisco_lab_mix.pcapng", "resumption_8443.pcap", "tls13_443.pcap"] {
        let whole = analyze_reader(open_file(&sample(name)).unwrap(), &[], Limits::default(), None, true).unwrap();
        for batch in [1, 2, 5] {
            let (mut flows, mut events, mut certs, mut calls) = (Vec::new(), Vec::new(), Vec::new(), 0);
            let mut sink = |e: Ended| {
                assert!(e.flows.len() >= batch && e.events.iter().all(|ev| ev.flow_id.is_some()));
                calls += 1;
                flows.extend(e.flows);
                events.extend(e.events);
                certs.extend(e.certificates);
                true
            };
            let rest = analyze_reader_streaming(open_file(&sample(name)).unwrap(), &[], Limits::default(), None,
                                                None, batch, &mut sink).unwrap();
            assert!(calls * batch <= whole.flows.len() && (batch > 1 || calls >= 1), "{name}: {calls} batches of {batch}");
            flows.extend(rest.flows.iter().cloned());
            let capture_level: Vec<_> = rest.events.iter().filter(|e| e.flow_id.is_none()).cloned().collect();
            events.extend(rest.events.iter().filter(|e| e.flow_id.is_some()).cloned());
            assert_eq!(flows, whole.flows, "{name} in batches of {batch}");
            let mut all_events = capture_level;
            all_events.extend(events);
            assert_eq!(all_events, whole.events, "{name} in batches of {batch}");
            // each certificate handed over once, the first time a flow sent it; the table stays whole
            let handed: Vec<_> = certs.iter().map(|c| c.sha256.clone()).collect();
            let mut sorted = handed.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(handed.len(), sorted.len());
            assert!(handed.iter().all(|fp| whole.certificates.iter().any(|c| &c.sha256 == fp)));
            assert_eq!(rest.certificates, whole.certificates);
        }
    }
}
