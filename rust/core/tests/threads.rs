//! One capture on N threads gives one thread's Analysis, value for value and in the same order
//! (issue 9), over every capture of the repository and the public corpus that the engine reads.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tlsinspect_core::engine::{analyze_reader_with, open_file, Analysis};
use tlsinspect_core::flow::Limits;
use tlsinspect_core::parallel::{analyze_path, analyze_threads};
use tlsinspect_core::tls::decrypt::parse_keylog;

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else if !matches!(p.extension().and_then(|x| x.to_str()),
                            Some("json" | "md" | "txt" | "keylog" | "py" | "yaml" | "rules" | "lua" | "log"))
        {
            out.push(p);
        }
    }
}

fn captures() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut out = Vec::new();
    for d in ["pcaps", "tests/data", "../shared/corpus/public"] {
        files(&root.join(d), &mut out);
    }
    out.sort();
    out
}

fn one_thread(p: &Path, limits: &Limits) -> Option<Analysis> {
    let r = open_file(p).ok()?;
    analyze_reader_with(r, &[], limits.clone(), None, None, false).ok()
}

fn assert_same(a: &Analysis, b: &Analysis, what: &str) {
    assert_eq!(a.flows, b.flows, "{what}: flows");
    assert_eq!(a.events, b.events, "{what}: events");
    assert_eq!(a.messages, b.messages, "{what}: messages");
    assert_eq!(a.certificates, b.certificates, "{what}: certificates");
    assert_eq!(a.stats.iter().collect::<Vec<_>>(), b.stats.iter().collect::<Vec<_>>(), "{what}: stats");
    assert_eq!(a.capture_warnings, b.capture_warnings, "{what}: capture warnings");
    assert_eq!(a, b, "{what}");
}

#[test]
fn every_capture_gives_one_threads_answers_on_2_3_and_8_threads() {
    let limits = Limits::default();
    let (mut read, mut parallel, mut flows_parallel) = (0, 0, 0);
    for p in captures() {
        let Some(single) = one_thread(&p, &limits) else { continue };
        read += 1;
        for n in [1, 2, 3, 8] {
            let many = analyze_path(&p, &[], limits.clone(), None, None, false, n).unwrap();
            assert_same(&many, &single, &format!("{} on {n} threads", p.display()));
        }
        // the threads themselves (not the one-thread fallback) where they take the capture
        if let Some(a) = analyze_threads(open_file(&p).unwrap(), &[], limits.clone(), None, None, 3).unwrap() {
            assert_same(&a, &single, &format!("{} on 3 workers", p.display()));
            parallel += 1;
            flows_parallel += a.flows.len();
        }
    }
    eprintln!("{read} captures read, {parallel} of them on the workers ({flows_parallel} flows)");
    assert!(read > 50, "{read} captures read");
    assert!(parallel > 20 && flows_parallel > 100, "{parallel} captures, {flows_parallel} flows on the workers");
}

#[test]
fn the_lab_mix_runs_on_the_workers() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../pcaps");
    let p = root.join("cisco_lab_mix.pcapng");
    let single = one_thread(&p, &Limits::default()).unwrap();
    let a = analyze_threads(open_file(&p).unwrap(), &[], Limits::default(), None, None, 2).unwrap()
        .expect("Ethernet, VLAN, SLL, IPv4/IPv6 TCP: no fallback");
    assert_eq!(a.flows.len(), 11);
    assert_same(&a, &single, "cisco_lab_mix on 2 workers");
}

#[test]
fn a_key_log_decrypts_the_same_on_threads() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../pcaps");
    let p = root.join("tls13_443.pcap");
    let log = Arc::new(parse_keylog(&std::fs::read(root.join("tls13_443.keylog")).unwrap()));
    let single = analyze_reader_with(open_file(&p).unwrap(), &[], Limits::default(), Some(log.clone()), None, false).unwrap();
    assert!(single.flows.iter().any(|f| f.decrypted));
    for n in [2, 3, 8] {
        let many = analyze_path(&p, &[], Limits::default(), Some(log.clone()), None, false, n).unwrap();
        assert_same(&many, &single, &format!("tls13_443 with key log on {n} threads"));
    }
}

/// Limits that one thread reaches: the threads give its answers (by reading it on one thread).
#[test]
fn limits_reached_give_one_threads_answers() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../pcaps");
    let p = root.join("cisco_lab_mix.pcapng");
    for limits in [Limits { max_flows: 1, ..Limits::default() }, Limits { max_flows: 3, ..Limits::default() },
                   Limits { max_tombstones: 2, ..Limits::default() },
                   Limits { max_buffered_bytes: 3000, ..Limits::default() }] {
        let single = one_thread(&p, &limits).unwrap();
        for n in [2, 3, 8] {
            let many = analyze_path(&p, &[], limits.clone(), None, None, false, n).unwrap();
            assert_same(&many, &single, &format!("{limits:?} on {n} threads"));
        }
    }
    let evicting = Limits { max_flows: 1, ..Limits::default() };
    assert!(one_thread(&p, &evicting).unwrap().stats.get("flows_evicted") > 0);
    assert!(analyze_threads(open_file(&p).unwrap(), &[], evicting, None, None, 2).unwrap().is_none());
}
