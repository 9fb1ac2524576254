"""Fixtures for the Rust session tests (rust/core/tests/session_*.rs), from the Python engine.

For every TLS connection of a capture, the Python engine's `Connection._deliver` calls are
recorded (side, frame, ts, the reassembled chunks with their gap flags, and whether
`session.handshake_over` held afterwards), and at `build_flow` time the Python `TLSSession` is
summarised in a line format that the Rust test writes for its own session (`summary` below and
`summary()` in session_fixtures.rs must stay the same format). The Rust test feeds the same
chunks through `RecordReader` and `TLSSession` and compares.

Run from the repository root (regenerates every `*.flows` file here; the synthetic captures are
fresh OpenSSL handshakes, so their bytes change on every run):

    PYTHONPATH=$PWD .venv/bin/python rust/core/tests/data/session/gen.py
"""

from __future__ import annotations

import gzip
import hashlib
import shutil
import sys
import tempfile
from pathlib import Path

import inspector
import inspector.engines.python as engine
import inspector.flows as flows

HERE = Path(__file__).resolve().parent
OUT = HERE
ROOT = HERE.parents[4]
CORPUS = ROOT.parent / "shared" / "corpus" / "public"

#: (fixture name, capture, key log or None, extra ports)
PCAPS = sorted(p for p in (ROOT / "pcaps").iterdir() if p.suffix in (".pcap", ".pcapng"))
CORPUS_FILES = [
    "zeek-zeek/client-certificate.pcap",
    "zeek-zeek/certificate-request-failed.pcap",
    "zeek-zeek/tls-1.2-handshake-failure.pcap",
    "zeek-zeek/tls-early-alert.pcap",
    "zeek-zeek/tls13draft16-ff52.a01.pcap",
    "zeek-zeek/tls13draft16-ff52.a01-aborted.pcap",
    "zeek-zeek/hrr.pcap",
    "zeek-zeek/tls13_wolfssl.pcap",
    "zeek-zeek/smtp-starttls.pcap",
    "zeek-zeek/pop3-starttls.pcap",
    "zeek-zeek/socks-with-ssl.pcap",
    "zeek-zeek/psql-aws-ssl-require-15432.pcap",
    "zeek-zeek/tls-fragmented-handshake.pcap",
    "ntop-nDPI/tls_alert.pcap",
    "Lekensteyn-wireshark-notes/tls-null.pcapng",
    "Lekensteyn-wireshark-notes/sslv2.pcapng",
    "OISF-suricata-verify/sslv2-tls-upgrade-01__ssl-v2-s1.pcap",
    "OISF-suricata-verify/tls-duplicate-hello__input.pcap",
    "OISF-suricata-verify/bug-1450-04__tls_DER-incomplete-header.pcap",
]


#: fixtures that also get mutated copies (count per flow), checked against Python's answers
MUTATED = {
    "pcaps_cisco_lab_mix": 3, "pcaps_tls13_443_keylog": 12, "pcaps_resumption_8443": 6,
    "pcaps_dhe1024_443": 6, "corpus_sslv2": 10, "corpus_hrr": 8, "corpus_smtp_starttls": 6,
    "corpus_sslv2_tls_upgrade_01__ssl_v2_s1": 6, "synth_lsc13_rejected": 12, "synth_tls12_tampered": 12,
}


def esc(s) -> str:
    if s is None:
        return "-"
    s = str(s)
    return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n") or "\\e"


def side(s) -> str:
    return s if s is not None else "-"


def summary(s) -> list[str]:
    """The Python session in the fixture's line format (tab-separated)."""
    ch, sh = s.client_hello, s.server_hello
    out = [
        f"client_side\t{side(s.client_side)}",
        f"tls13\t{int(s.tls13)}\thello_retry\t{int(s.hello_retry)}",
        f"version\t{esc(s.version)}\tcipher\t{esc(sh.cipher_suite if sh else None)}",
        f"history\t{esc(''.join(s.history))}",
    ]
    for a in s.alerts:
        out.append(f"alert\t{a.side}\t{esc(a.level)}\t{esc(a.description)}\t{esc(a.code)}\t{esc(a.after)}"
                   f"\t{a.frame}\t{a.ts:.6f}")
    for a in s.anomalies:
        out.append(f"anomaly\t{a.frame}\t{side(a.side)}\t{esc(a.code)}\t{esc(a.detail)}")
    for k, chain in s.chains.items():
        out.append(f"chain\t{k}\t" + ",".join(hashlib.sha256(d).hexdigest() for d in chain))
    for k, v in s.ccs.items():
        out.append(f"ccs\t{k}\t{v}")
    for k, v in s.finished.items():
        out.append(f"finished\t{k}\t{v}")
    out.append("encrypted_order\t" + " ".join(f"{k}:{n}" for k, n in s.encrypted_order))
    for k, v in s.last_message.items():
        if k != "_speaker":
            out.append(f"last_message\t{k}\t{esc(v)}")
    out.append(f"speaker\t{side(s.last_message.get('_speaker'))}")
    for k, v in s.flight_has_cert.items():
        out.append(f"flight_has_cert\t{k}\t{int(v)}")
    out.append("started\t" + "".join(sorted(s.started)))
    for k, v in s.prelude.items():
        out.append(f"prelude\t{k}\t{v.hex()}")
    out.append(f"prelude_bytes\t{s.prelude_bytes}\tsslv2_hello\t{int(s.sslv2_hello)}")
    out.append("sslv2_server\t" + (f"{s.sslv2_server[0]}\t{int(s.sslv2_server[1])}" if s.sslv2_server else "-"))
    for k, v in s.appdata.items():
        out.append(f"appdata\t{k}\t{v}")
    out.append(f"first_frame\t{esc(s.first_frame)}\tdecrypted\t{int(s.decrypted)}")
    out.append(f"server_after_client_finished\t{s.server_after_client_finished}\tfirst_ccs\t{side(s.first_ccs)}")
    out.append(f"handshake_over\t{int(s.handshake_over)}\ttls13_finished\t{int(s.tls13_finished)}")
    fatal = s.fatal_alert()
    out.append("fatal_alert\t" + (f"{fatal.side}\t{esc(fatal.description)}" if fatal else "-"))
    out.append(f"ja3\t{esc(s.ja3)}\tja4\t{esc(s.ja4)}")
    if ch is not None:
        out.append(f"client_hello\t{ch.random.hex()}\t{esc(ch.sni)}\t"
                   + ",".join(str(v) for v in ch.supported_versions) + f"\t{ch.legacy_version}")
    else:
        out.append("client_hello\t-")
    req = s.cert_request
    if req is not None:
        out.append(f"cert_request\t{bytes(req.cert_types).hex()}\t"
                   + ",".join(str(a) for a in req.signature_algorithms) + f"\t{len(req.ca_names)}")
    else:
        out.append("cert_request\t-")
    kx = s.server_kx
    if kx is not None:
        out.append(f"server_kx\t{kx.kx}\t{esc(kx.dh_p_bits)}\t{esc(kx.curve)}\t{esc(kx.signature_algorithm)}")
    else:
        out.append("server_kx\t-")
    out.append(f"kx_name\t{esc(s.kx_name())}")
    out.append("decryptors\t" + "".join(sorted(s.decryptors)) + "\ttls12_decryptors\t"
               + "".join(sorted(s.tls12_decryptors)))
    return out


def replay(rec: dict, keylog, bytewise: bool) -> tuple[list[str], list[bool]]:
    """The Python reader and session fed `rec`'s chunks as `Connection._deliver` does, as
    delivered or one byte at a time (the record reader's prelude head and SSLv2 SERVER-HELLO
    detection depend on the chunking, in both engines): (summary, handshake_over after each
    delivery)."""
    from inspector.tls.records import RecordReader
    from inspector.tls.session import TLSSession

    limits = flows.Limits()
    readers = {k: RecordReader(limits.max_handshake_bytes) for k in "ab"}
    for r in readers.values():
        r.keep_payload = keylog is not None
        if rec["midstream"]:
            r.state = "resync"
    s = TLSSession(keylog=keylog, max_certs=limits.max_certs)
    overs = []
    for side_, frame, ts, _, chunks in rec["d"]:
        for data, gap in chunks:
            pieces = [data[i:i + 1] for i in range(len(data))] if bytewise and data else [data]
            for i, piece in enumerate(pieces):
                events = readers[side_].feed(piece, frame, gap and i == 0)
                if events:
                    was = bool(s.started)
                    s.feed(side_, events, ts)
                    if not was and s.started:
                        readers["b" if side_ == "a" else "a"].peer_tls = True
        overs.append(s.handshake_over)
    return summary(s), overs


def flow_lines(n: int, rec: dict, expect: list[str], keylog) -> list[str]:
    lines = [f"flow\t{n}\t{int(rec['midstream'])}"]
    for side_, frame, ts, over, chunks in rec["d"]:
        lines.append(f"d\t{side_}\t{frame}\t{ts!r}\t{int(over)}")
        for data, gap in chunks:
            lines.append(f"c\t{int(gap)}\t{data.hex()}")
    lines.append("expect")
    lines.extend(expect)
    lines.append("end")
    lines.append("expect_bytewise")
    lines.extend(replay(rec, keylog, bytewise=True)[0])
    lines.append("end")
    return lines


def mutate(rec: dict, rng) -> dict:
    """A few sparse changes (bit flip, byte set, truncation) in the handshake's chunks."""
    deliveries = [(s_, f, t, o, [(bytearray(d), g) for d, g in ch]) for s_, f, t, o, ch in rec["d"]]
    chunks = [c for d in deliveries for c in d[4] if c[0]]
    for _ in range(rng.randint(1, 3)):
        if not chunks:
            break
        data = rng.choice(chunks)[0]
        kind = rng.randrange(4)
        i = rng.randrange(len(data)) if data else 0
        if kind == 0 and data:
            data[i] ^= 1 << rng.randrange(8)
        elif kind == 1 and data:
            data[i] = rng.choice((0x00, 0xFF, 0x7F, 0x80, 0x01))
        elif kind == 2 and data:
            del data[i:]
        elif data:  # a length byte: bump the byte before a plausible record/message length
            data[i] = (data[i] + rng.choice((1, -1, 0x10))) & 0xFF
    return {"midstream": rec["midstream"],
            "d": [(s_, f, t, o, [(bytes(d), g) for d, g in ch]) for s_, f, t, o, ch in deliveries]}


def dump(name: str, capture: Path, keylog: Path | None, ports=(), mutations: int = 0) -> None:
    """`name`.flows.gz; with `mutations`, also mut_`name`.flows.gz: that many mutated copies of
    each flow, with the Python session's answers on them."""
    import random
    rng = random.Random(name)
    mutated: list[str] = []
    recs: dict = {}
    order: list = []
    orig_deliver = flows.Connection._deliver
    orig_build = engine.build_flow

    def deliver(self, side_, chunks, frame, ts):
        key = (self.key_a, self.first_frame)
        rec = recs.get(key)
        if rec is None:
            rec = recs[key] = {"midstream": self.readers["a"].state == "resync", "d": [], "sum": None}
            order.append(key)
        orig_deliver(self, side_, chunks, frame, ts)
        rec["d"].append((side_, frame, ts, self.session.handshake_over, [(bytes(d), g) for d, g in chunks]))

    def build(conn, *a, **k):
        rec = recs.get((conn.key_a, conn.first_frame))
        if rec is not None:
            rec["sum"] = summary(conn.session)
        return orig_build(conn, *a, **k)

    flows.Connection._deliver = deliver
    engine.build_flow = build
    try:
        inspector.read_capture(capture, keylog=keylog, ports=ports, engine="python")  # its hooks are in the Python engine
    finally:
        flows.Connection._deliver = orig_deliver
        engine.build_flow = orig_build
    parsed_keylog = None
    if keylog is not None:
        from inspector.tls.decrypt import parse_keylog
        parsed_keylog = parse_keylog(keylog.read_text(encoding="ascii", errors="replace"))
    lines = [f"# generated by gen.py from {capture.name}" + (f" with key log {keylog.name}" if keylog else "")]
    if keylog is not None:
        lines.append(f"keylog\t{keylog.resolve().relative_to(ROOT)}")
    n = 0
    for key in order:
        rec = recs[key]
        if rec["sum"] is None:
            continue  # not a TLS flow
        n += 1
        lines.extend(flow_lines(n, rec, rec["sum"], parsed_keylog))
        for _ in range(mutations):
            m = mutate(rec, rng)
            expect, overs = replay(m, parsed_keylog, bytewise=False)
            m["d"] = [(s_, f, t, o, ch) for (s_, f, t, _, ch), o in zip(m["d"], overs)]
            mutated.extend(flow_lines(n, m, expect, parsed_keylog))
    with gzip.open(OUT / f"{name}.flows.gz", "wt", encoding="ascii", compresslevel=9) as f:
        f.write("\n".join(lines) + "\n")
    if mutations:
        head = [f"# generated by gen.py: {mutations} mutated copies of each flow of {name}"]
        head += [l for l in lines if l.startswith("keylog\t")]
        with gzip.open(OUT / f"mut_{name}.flows.gz", "wt", encoding="ascii", compresslevel=9) as f:
            f.write("\n".join(head + mutated) + "\n")
    print(f"{name}: {n} flows", file=sys.stderr)


def synthetic(tmp: str) -> list[tuple[str, Path, Path]]:
    """The key-log scenarios of tests/unit/test_keylog.py: a TLS 1.3 phone rejected with an encrypted
    unknown_ca, and a TLS 1.2 resumption whose tampered Finished draws an encrypted alert."""
    sys.path.insert(0, str(ROOT / "tests"))
    import test_keylog as tk

    _, pcap13, keys13 = tk.lsc_rejected_tls13(tmp)
    _, pcap12, keys12 = tk.tampered_resumption(tmp)
    out = []
    for name, pcap, keys in (("synth_lsc13_rejected", pcap13, keys13), ("synth_tls12_tampered", pcap12, keys12)):
        shutil.copy(keys, HERE / f"{name}.keylog")
        out.append((name, Path(pcap), HERE / f"{name}.keylog"))
    return out


def main() -> None:
    global OUT
    if len(sys.argv) > 2 and sys.argv[1] == "--all-corpus":
        # A wider, uncommitted check: every corpus and pcaps/ capture into DIR, with N mutated
        # copies of each flow (`--all-corpus DIR [N]`; run the Rust test with
        # TLSINSPECT_SESSION_FIXTURES=DIR).
        OUT = Path(sys.argv[2])
        OUT.mkdir(parents=True, exist_ok=True)
        n = int(sys.argv[3]) if len(sys.argv) > 3 else 0
        for path in sorted(CORPUS.rglob("*.pcap*")):
            dump("corpus_" + path.parent.name.replace("-", "_") + "_" + path.stem.replace("-", "_").replace(".", "_"),
                 path, None, ports=(4433,), mutations=n)
        for p in PCAPS:
            dump(f"pcaps_{p.stem}", p, None, mutations=n)
        dump("pcaps_tls13_443_keylog", ROOT / "pcaps" / "tls13_443.pcap", ROOT / "pcaps" / "tls13_443.keylog",
             mutations=n)
        return
    for p in PCAPS:
        dump(f"pcaps_{p.stem}", p, None, mutations=MUTATED.get(f"pcaps_{p.stem}", 0))
    dump("pcaps_tls13_443_keylog", ROOT / "pcaps" / "tls13_443.pcap", ROOT / "pcaps" / "tls13_443.keylog",
         mutations=MUTATED["pcaps_tls13_443_keylog"])
    for rel in CORPUS_FILES:
        path = CORPUS / rel
        name = "corpus_" + path.stem.replace("-", "_").replace(".", "_")
        dump(name, path, None, ports=(4433,), mutations=MUTATED.get(name, 0))
    with tempfile.TemporaryDirectory() as tmp:
        for name, pcap, keys in synthetic(tmp):
            dump(name, pcap, keys, mutations=MUTATED.get(name, 0))
            dump(name + "_nokeys", pcap, None)


if __name__ == "__main__":
    main()
