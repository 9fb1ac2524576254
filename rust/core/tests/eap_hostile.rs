//! Hostile EAP: every truncation of every EAPOL and RADIUS fixture packet, seeded mutations,
//! fragment floods, lying TLS Message Lengths, interleaved RADIUS authentications.

#[path = "data/dtls/pcap.rs"]
mod pcap;

use tlsinspect_core::eap::{parse_eapol, EapConfig, EapTlsConversation, RadiusTracker};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn eapol_bodies(name: &str) -> Vec<Vec<u8>> {
    pcap::frames(&pcap::data("eap", name))
        .iter()
        .filter_map(|(_, _, f)| pcap::ether(f).map(|(_, p)| p.to_vec()))
        .collect()
}

fn radius_payloads(name: &str) -> Vec<Vec<u8>> {
    pcap::frames(&pcap::data("eap", name)).iter().filter_map(|(_, _, f)| pcap::udp(f)).map(|u| u.2).collect()
}

fn run_eapol(frames: &[Vec<u8>]) -> tlsinspect_core::eap::EapTlsFlow {
    let mut c = EapTlsConversation::new(EapConfig::default());
    for (i, f) in frames.iter().enumerate() {
        if let Some(e) = parse_eapol(f) {
            if e.packet_type == 0 {
                c.feed_eap(e.body, i as u64 + 1, i as f64);
            }
        }
    }
    c.flow()
}

fn run_radius(packets: &[Vec<u8>]) -> Vec<tlsinspect_core::eap::EapTlsFlow> {
    let mut t = RadiusTracker::new(EapConfig::default(), 8);
    for (i, p) in packets.iter().enumerate() {
        t.feed(p, i as u64 + 1, i as f64);
    }
    t.finish()
}

fn mutate(rng: &mut Rng, pkts: &mut [Vec<u8>]) {
    for _ in 0..1 + rng.below(6) {
        let k = rng.below(pkts.len());
        let d = &mut pkts[k];
        if d.is_empty() {
            continue;
        }
        let i = rng.below(d.len());
        match rng.below(3) {
            0 => d[i] = rng.next() as u8,
            1 => d[i] ^= 1 << rng.below(8),
            _ => d.truncate(i),
        }
    }
}

#[test]
fn every_truncation_never_panics() {
    let frames = eapol_bodies("eapol_tls_success.pcap");
    for k in 0..frames.len() {
        for n in 0..frames[k].len() {
            let mut cut = frames.clone();
            cut[k].truncate(n);
            let f = run_eapol(&cut);
            assert!(f.anomalies.len() <= 128);
        }
    }
    let packets = radius_payloads("radius_tls_reject.pcap");
    for k in 0..packets.len() {
        for n in 0..packets[k].len() {
            let mut cut = packets.clone();
            cut[k].truncate(n);
            assert!(run_radius(&cut).len() <= 8);
        }
    }
}

#[test]
fn seeded_mutations_never_panic() {
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let frames = eapol_bodies("eapol_tls_reject.pcap");
    let packets = radius_payloads("radius_tls_success.pcap");
    for _ in 0..500 {
        let mut m = frames.clone();
        mutate(&mut rng, &mut m);
        run_eapol(&m);
        let mut r = packets.clone();
        mutate(&mut rng, &mut r);
        run_radius(&r);
    }
}

fn eap_tls(code: u8, id: u8, flags: u8, length: Option<u32>, data: &[u8]) -> Vec<u8> {
    let mut body = vec![13, flags];
    if let Some(l) = length {
        body.extend_from_slice(&l.to_be_bytes());
    }
    body.extend_from_slice(data);
    let mut p = vec![code, id];
    p.extend_from_slice(&((4 + body.len()) as u16).to_be_bytes());
    p.extend_from_slice(&body);
    p
}

#[test]
fn fragment_flood_is_bounded_and_named() {
    let mut c = EapTlsConversation::new(EapConfig { max_message: 10_000, ..EapConfig::default() });
    // M set forever: the buffer stops at the limit
    for id in 0..=255u8 {
        c.feed_eap(&eap_tls(1, id, 0x40, None, &[0x16; 1000]), u64::from(id), 0.0);
    }
    let f = c.flow();
    assert_eq!(f.anomalies.iter().filter(|(code, _)| code == "eap_tls_message_too_large").count(), 1);
    // a lying TLS Message Length: refused up front, nothing buffered
    let mut c = EapTlsConversation::new(EapConfig { max_message: 10_000, ..EapConfig::default() });
    c.feed_eap(&eap_tls(1, 1, 0xC0, Some(u32::MAX), &[0x16; 10]), 1, 0.0);
    assert_eq!(c.flow().anomalies[0].0, "eap_tls_message_too_large");
}

#[test]
fn tls_length_that_disagrees_with_the_fragments_is_named() {
    let frames = eapol_bodies("eapol_tls_reject.pcap");
    // the first fragment of the server's flight: Request, L set; make its length 1 byte larger
    let mut m = frames.clone();
    let k = m.iter().position(|f| f.len() > 12 && f[4] == 1 && f[8] == 13 && f[9] & 0x80 != 0).unwrap();
    let l = u32::from_be_bytes([m[k][10], m[k][11], m[k][12], m[k][13]]) + 1;
    m[k][10..14].copy_from_slice(&l.to_be_bytes());
    let f = run_eapol(&m);
    assert!(f.anomalies.iter().any(|(c, _)| c == "eap_tls_length_mismatch"), "{:?}", f.anomalies);
    // the TLS bytes are still read
    assert_eq!(f.handshake.server_chain.len(), 2);
    // in the fixture with a repeated Request, changing only the first copy makes the second a
    // new message: named as a restart, the chain still read from the second copy
    let frames = eapol_bodies("eapol_tls_success.pcap");
    let mut m = frames.clone();
    let k = m.iter().position(|f| f.len() > 12 && f[4] == 1 && f[8] == 13 && f[9] & 0x80 != 0).unwrap();
    assert_eq!(m[k], m[k + 1]);
    m[k][13] ^= 1;
    let f = run_eapol(&m);
    assert_eq!(f.anomalies.iter().map(|a| a.0.as_str()).collect::<Vec<_>>(), vec!["eap_tls_fragment_restart"]);
    assert_eq!(f.handshake.server_chain.len(), 2);
}

#[test]
fn two_interleaved_radius_authentications_are_two_conversations() {
    let a = radius_payloads("radius_tls_success.pcap");
    let mut b = radius_payloads("radius_tls_reject.pcap");
    for p in &mut b {
        p[1] = p[1].wrapping_add(100); // other RADIUS identifiers
        // another State value, same length (ISE's are unique per session)
        for i in 0..p.len().saturating_sub(4) {
            if &p[i..i + 4] == b"ise-" {
                p[i..i + 4].copy_from_slice(b"ISE-");
            }
        }
    }
    let mut mixed = Vec::new();
    for i in 0..a.len().max(b.len()) {
        mixed.extend(a.get(i).cloned());
        mixed.extend(b.get(i).cloned());
    }
    let fl = run_radius(&mixed);
    assert_eq!(fl.len(), 2);
    // Access-Accept / Access-Reject end a conversation: a tracker with room for one open
    // conversation follows any number of them in turn (and each Challenge's State replaces the
    // last: a long authentication is not cut off by old States)
    let mut t = RadiusTracker::new(EapConfig::default(), 1);
    let mut done = Vec::new();
    for (i, p) in a.iter().chain(&b).chain(&a).enumerate() {
        t.feed(p, i as u64 + 1, i as f64);
        done.extend(t.take_finished());
    }
    assert_eq!(t.refused, 0);
    assert!(t.is_empty());
    let outcomes: Vec<_> = done.iter().map(|f| f.radius.clone().unwrap()).collect();
    assert_eq!(outcomes, ["Access-Accept", "Access-Reject", "Access-Accept"]);
    // one without an answer ends by idle time
    let mut t = RadiusTracker::new(EapConfig::default(), 1);
    t.feed(&a[0], 1, 0.0);
    assert_eq!(t.expire(10.0, 30.0).len(), 0);
    let idle = t.expire(100.0, 30.0);
    assert_eq!((idle.len(), idle[0].identity.as_deref()), (1, Some("SEP001122334455")));
    assert!(t.is_empty());
    assert_eq!(fl[0].radius.as_deref(), Some("Access-Accept"));
    assert_eq!(fl[1].radius.as_deref(), Some("Access-Reject"));
    assert_eq!(fl[1].handshake.alerts[0].description, "unknown_ca");
    assert!(fl[0].handshake.alerts.is_empty());
    assert_eq!(fl[0].handshake.client_chain.len(), 1);
}
