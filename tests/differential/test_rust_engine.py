"""The Rust engine (`inspector._core`) gives the Python engine's answers.

The adapter tests use a fixed analysis built in Rust (`_core._sample_analysis`), so they run as
soon as the extension is built.  The differential tests run both engines on every capture in
``pcaps/``, ``tests/data/``, the public corpus (a fixed subset unless ``TLSINSPECT_FULL=1``), the
synth scenarios in every framing and a seeded mutation corpus, and compare the four tables row by
row: identical values, or a difference listed in `KNOWN_DIFFERENCES` with its reason.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

import inspector
from inspector.errors import CaptureError

core = pytest.importorskip("inspector._core", reason="the Rust extension is not built (make setup)")

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "pcaps" / "cisco_lab_mix.pcapng"


@functools.lru_cache(maxsize=None)
def _sample_der() -> bytes:
    """A genuine certificate (CUCM's self-signed one) from the bundled sample capture."""
    cap = inspector.read_capture(SAMPLE, engine="python")
    seen = [s for s in cap.analysis.certificates.values() if "cucm1" in (s.info.subject or "")]
    return seen[0].info.der


# ---- the adapter, on a fixture built in Rust ----------------------------------------------------

@pytest.mark.parametrize("columns", [False, True], ids=["arrow", "lists"])
def test_adapter_fills_x509_columns_from_the_der(columns):
    from inspector.engines.rust import analysis_from_core
    from inspector.schema import cert_rows, event_rows, flow_rows

    der = _sample_der()
    a = analysis_from_core(core._sample_analysis(der, columns=columns), "fixture.pcap")
    rows = flow_rows(a.flows)
    assert [r["flow_id"] for r in rows] == [1, 2]
    failed, bare = rows
    assert failed["client_subject"] == "CN=cucm1.example.lab,OU=Collab,O=Example Lab,L=RTP,ST=NC,C=US"
    assert failed["client_issuer"] == failed["client_subject"]
    assert failed["client_cert_kind"] == "other"
    assert failed["server_subject"] is None and failed["server_chain_sha256"] == []
    assert failed["requested_ca_names"] == ["CN=CAPF-0badc0de,OU=TAC,O=Cisco"]
    assert failed["alerts"] == ["server:fatal:unknown_ca"]
    assert failed["cipher_id"] == 0xC030 and failed["dh_bits"] == 2048
    assert failed["server_ip"] == "2001:db8::5" and failed["ip_version"] == 6
    assert failed["ts_start"] == 1_700_000_000.25
    assert bare["tls_version"] is None and bare["cipher_id"] is None and bare["warnings"] == []
    assert bare["client_cert_kind"] is None and bare["history"] == ""
    events = event_rows(a.events)
    assert events[0]["sender"] == "server" and events[0]["frame"] == 8 and events[0]["level"] == "fatal"
    assert events[1] == dict(capture="fixture.pcap", flow_id=None, frame=None, ts=None,
                             kind="warning", sender=None, code="capture_truncated",
                             detail="reading stopped: record cut short", level=None)
    (cert,) = cert_rows(a)
    assert cert["der"] == der and cert["flow_ids"] == [1] and cert["roles"] == ["client"]
    assert cert["subject_cn"] == "cucm1.example.lab"
    assert a.capture_warnings == ["capture_truncated: reading stopped: record cut short"]
    assert a.stats["frames"] == 10 and (a.first_ts, a.last_ts) == (1_700_000_000.25, 1_700_000_001.0)
    from inspector.schema import message_rows
    assert message_rows(a.messages) == [
        dict(capture="fixture.pcap", flow_id=1, frame=1, ts=1_700_000_000.25, sender="client",
             kind="handshake", name="ClientHello"),
        dict(capture="fixture.pcap", flow_id=1, frame=8, ts=1_700_000_000.5, sender="server",
             kind="alert", name="fatal unknown_ca")]


def test_adapter_rows_feed_the_diagnoses():
    from inspector.engines.rust import analysis_from_core
    from inspector.diagnose import finding_rows

    a = analysis_from_core(core._sample_analysis(_sample_der()), "fixture.pcap")
    codes = [f["code"] for f in finding_rows(a)]
    assert codes[0] == "unknown_ca"


def test_undecodable_certificate_becomes_cert_parse_error():
    from inspector.engines.rust import analysis_from_core

    a = analysis_from_core(core._sample_analysis(b"\x30\x03\x02\x01\x00"), "fixture.pcap")
    assert a.flows[0].warnings == ("midstream", "cert_parse_error")
    assert a.flows[0].client_subject is None


def test_arrow_batches_and_list_columns_hold_the_same_values():
    arrow = core._sample_analysis(_sample_der())
    lists = core._sample_analysis(_sample_der(), columns=True)
    for table in ("flows", "events", "certificates", "messages"):
        assert arrow[table].to_pydict() == lists[table], table
    assert str(arrow["flows"].schema.field("requested_ca_names").type) == "list<item: string>"


def test_engine_error_is_the_python_capture_error():
    with pytest.raises(CaptureError) as e:
        core._raise_capture_error("pcap file header cut short", 3)
    assert str(e.value) == "pcap file header cut short at byte 3" and e.value.offset == 3


# ---- the differential test ------------------------------------------------------------------------

import os  # noqa: E402
import random  # noqa: E402

from inspector.diagnose import finding_rows  # noqa: E402
from inspector.schema import cert_rows, event_rows, flow_rows, message_rows  # noqa: E402
from corpus import ANY_CAPTURE_SUFFIXES, CORPUS_SPREAD, DATA, FULL, capture_files, corpus_id, corpus_subset, sample_files  # noqa: E402

HAS_ENGINE = hasattr(core, "analyze")
needs_engine = pytest.mark.skipif(not HAS_ENGINE, reason="this inspector._core has no analyze() yet")



#: public captures compared by plain `make test` (everything with TLSINSPECT_FULL=1): the shared
#: spread (tests/corpus.py) and more STARTTLS carriers, SOCKS and ECH
CORPUS_SUBSET = CORPUS_SPREAD + (
    "zeek-zeek/xmpp-starttls.pcap",
    "zeek-zeek/socks-with-ssl.pcap",
    "zeek-zeek/psql-aws-ssl-require-15432.pcap",
    "zeek-zeek/tls13-ech.pcap",
)

#: extra ports, as the tshark comparison gives them (the engines find TLS by content anyway)
PORTS: dict[str, tuple[int, ...]] = {"sslv2.pcapng": (4433,), "tls_port_80.pcapng": (80,),
                                     "irc-starttls.pcap": (6667,)}

#: (case id or "*", "table.column") -> why the engines legitimately differ there.  Every entry
#: must still be needed (a stale one fails `test_known_differences_are_still_needed`).
KNOWN_DIFFERENCES: dict[tuple[str, str], str] = {
    ("*", "flows.not_tcp_or_tunnelled"):
        "issue 10: the Rust engine also reads DTLS, QUIC, EAP-TLS (EAPOL, RADIUS) and TLS inside "
        "tunnels (GRE, ERSPAN, VXLAN, Geneve, GTP-U, Teredo, CAPWAP, 6in4 on Ethernet); the Python reference engine "
        "does not. Those rows (and their events, certificates and findings) are set aside and "
        "everything else is compared, flow ids renumbered (tests/differential/test_rust_udp.py checks them)",
    ("*", "capture.stats.not_tcp"):
        "issue 10: what is not TCP is counted by reason in the Rust engine (udp_not_tls, "
        "quic_unconfirmed, eapol_*, radius_not_eap, unknown_encapsulation...; its old IPv4 fast "
        "path dropped non-TCP uncounted) where Python counts skipped_not_tcp",
    ("*", "capture.warnings.udp_not_decoded"):
        "issue 10: the Rust engine warns of UDP traffic on (D)TLS-carrying ports it did not decode",
}

#: stats keys about traffic other than TCP (compared apart: see KNOWN_DIFFERENCES)
NOT_TCP_STATS = ("skipped_not_tcp", "udp_not_tls", "quic_unconfirmed", "truncated_udp", "radius_not_eap",
                 "eapol_", "skipped_unknown_encapsulation", "skipped_capwap_", "skipped_teredo_",
                 "skipped_wlan_")


def _not_tcp_stat(name: str) -> bool:
    return name.startswith(NOT_TCP_STATS)


def set_aside_new_protocols(rs: dict) -> tuple[dict, int, bool]:
    """The Rust tables without the flows the Python engine cannot see (UDP, EAPOL, tunnels), flow
    ids renumbered; and how many were set aside, and whether udp_not_decoded warnings were."""
    flows = rs["flows"]
    keep = [f for f in flows if f.get("transport") == "tcp" and f.get("encapsulation") is None]
    if len(keep) == len(flows):
        renumber = None
    else:
        renumber = {f["flow_id"]: i + 1 for i, f in enumerate(keep)}
    warnings = rs["capture"]["warnings"]
    kept_warnings = [w for w in warnings if not w.startswith("udp_not_decoded:")]
    if renumber is None and len(kept_warnings) == len(warnings):
        return rs, 0, False
    out = dict(rs)
    out["capture"] = dict(rs["capture"], warnings=kept_warnings)
    out["events"] = [e for e in rs["events"] if e.get("code") != "udp_not_decoded"]
    if renumber is not None:
        out["flows"] = [dict(f, flow_id=renumber[f["flow_id"]]) for f in keep]
        out["events"] = [dict(e, flow_id=None if e["flow_id"] is None else renumber[e["flow_id"]])
                         for e in out["events"] if e["flow_id"] is None or e["flow_id"] in renumber]
        certs = []
        for c in rs["certificates"]:
            ids = [renumber[i] for i in c["flow_ids"] if i in renumber]
            if ids or not c["flow_ids"]:
                certs.append(dict(c, flow_ids=ids))
        out["certificates"] = certs
        findings = []
        for f in rs["findings"]:
            ids = [renumber[i] for i in f["flow_ids"] if i in renumber]
            if f["flow_id"] is not None and f["flow_id"] not in renumber:
                continue
            if f["flow_ids"] and not ids:
                continue
            findings.append(dict(f, flow_ids=ids,
                                 flow_id=None if f["flow_id"] is None else renumber[f["flow_id"]]))
        out["findings"] = findings
        out["messages"] = [dict(m, flow_id=renumber[m["flow_id"]]) for m in rs.get("messages", [])
                           if m["flow_id"] in renumber]
    return out, len(flows) - len(keep), len(kept_warnings) != len(warnings)

TABLES = ("flows", "certificates", "events", "findings", "messages")


def corpus_cases() -> list[tuple[str, Path]]:
    out = [(f"pcaps/{p.name}", p) for p in sample_files()]
    out += [(f"tests/data/{p.relative_to(DATA).as_posix()}", p) for p in capture_files(DATA, ANY_CAPTURE_SUFFIXES)]
    out += [(f"corpus/{corpus_id(p)}", p) for p in corpus_subset(CORPUS_SUBSET)]
    return out


def _tables(path: Path, engine: str, ports=(), keylog=None) -> dict[str, list] | str:
    """The four tables' rows, or "CaptureError: message" when the capture is refused."""
    try:
        cap = inspector.read_capture(path, ports=ports, keylog=keylog, engine=engine)
    except CaptureError as e:
        return f"CaptureError: {e}"
    a = cap.analysis
    return {"flows": flow_rows(a.flows), "certificates": cert_rows(a),
            "events": event_rows(a.events), "findings": finding_rows(a),
            "messages": message_rows(a.messages),
            "capture": dict(warnings=a.capture_warnings, first_ts=a.first_ts, last_ts=a.last_ts,
                            format=cap.format, bytes_read=cap.bytes_read, stats=dict(a.stats))}


def differences(py, rs) -> list[tuple[str, str]]:
    """[("table.column", detail)] where the Rust engine's rows differ from the Python engine's."""
    if isinstance(py, str) or isinstance(rs, str):
        return [] if py == rs else [("error", f"python {str(py)[:200]!r} / rust {str(rs)[:200]!r}")]
    out = []
    rs, set_aside, warned = set_aside_new_protocols(rs)
    if set_aside:
        out.append(("flows.not_tcp_or_tunnelled", f"{set_aside} DTLS/QUIC/EAP/tunnelled flows"))
    if warned:
        out.append(("capture.warnings.udp_not_decoded", "UDP traffic not decoded"))
    for k in py["capture"]:
        a, b = py["capture"][k], rs["capture"][k]
        if k == "stats":  # non-TCP counters apart (see KNOWN_DIFFERENCES)
            udp = lambda d, yes: {n: v for n, v in d.items() if _not_tcp_stat(n) == yes}  # noqa: E731
            if udp(a, True) != udp(b, True):
                out.append(("capture.stats.not_tcp", f"python {udp(a, True)} / rust {udp(b, True)}"))
            a, b = udp(a, False), udp(b, False)
        if a != b:
            out.append((f"capture.{k}", f"python {a!r} / rust {b!r}"))
    for table in TABLES:
        a, b = py[table], rs[table]
        if len(a) != len(b):
            out.append((f"{table}.rows", f"python {len(a)} rows / rust {len(b)} rows"))
        for i, (ra, rb) in enumerate(zip(a, b)):
            for col in ra:
                if ra[col] != rb.get(col):
                    va, vb = repr(ra[col])[:160], repr(rb.get(col))[:160]
                    out.append((f"{table}.{col}", f"row {i}: python {va} / rust {vb}"))
    return out


_used_known: set[tuple[str, str]] = set()


def check_same(case: str, path: Path, ports=(), keylog=None) -> None:
    py = _tables(path, "python", ports, keylog)
    rs = _tables(path, "rust", ports, keylog)
    unexplained = []
    for col, detail in differences(py, rs):
        for key in ((case, col), ("*", col)):
            if key in KNOWN_DIFFERENCES:
                _used_known.add(key)
                break
        else:
            unexplained.append(f"  [{col}] {detail}")
    assert not unexplained, f"{case}: the engines differ:\n" + "\n".join(unexplained[:40])


@needs_engine
@pytest.mark.parametrize("case,path", corpus_cases(), ids=[c for c, _ in corpus_cases()])
def test_same_tables_on_captures(case, path):
    check_same(case, path, ports=PORTS.get(path.name, ()))


@needs_engine
def test_same_tables_with_a_key_log():
    check_same("pcaps/tls13_443.pcap+keylog", ROOT / "pcaps" / "tls13_443.pcap",
               keylog=ROOT / "pcaps" / "tls13_443.keylog")


@needs_engine
@pytest.mark.parametrize("text", [b"CLIENT_RANDOM " + b"ab" * 32 + b" " + b"cd" * 48 + b"\nnot a line\n",
                                  b"# nothing but a comment\n"], ids=["unmatched", "empty"])
def test_same_key_log_warnings(tmp_path, text):
    """keylog_unmatched (no TLS flow used a secret: decided in Rust), keylog_bad_lines and
    keylog_empty (the file's reader's) come out of both engines, in the same place."""
    keylog = tmp_path / "other.keylog"
    keylog.write_bytes(text)
    check_same("pcaps/cisco_lab_mix.pcapng+" + keylog.name, SAMPLE, keylog=keylog)
    warnings = inspector.read_capture(SAMPLE, keylog=keylog, engine="rust").analysis.capture_warnings
    codes = [w.split(":")[0] for w in warnings]
    assert codes == (["keylog_bad_lines", "keylog_unmatched"] if b"CLIENT_RANDOM" in text else ["keylog_empty"])


# synth scenarios x framings, as tests/integration/test_scenarios.py builds them
from synth.scenarios import FRAMED_SCENARIOS as NAMES, FRAMINGS  # noqa: E402


@functools.lru_cache(maxsize=None)
def _scenario(name):
    from synth import scenarios as sc
    return getattr(sc, name)()


@needs_engine
@pytest.mark.parametrize("framing", list(FRAMINGS))
@pytest.mark.parametrize("name", NAMES)
def test_same_tables_on_scenarios(tmp_path, name, framing):
    from synth import scenarios as sc
    from synth.pcapio import write_capture

    path = tmp_path / f"{name}.{framing}.pcap"
    write_capture(path, sc.build_capture(_scenario(name), **FRAMINGS[framing]))
    check_same(f"synth/{name}/{framing}", path)


@needs_engine
@pytest.mark.parametrize("fmt", ["pcapng", "pcapng.gz", "pcap.gz"])
def test_same_tables_on_all_scenarios_in_one_capture(tmp_path, fmt):
    from synth import scenarios as sc
    from synth.pcapio import write_capture

    packets = []
    for i, name in enumerate(NAMES):
        packets += sc.build_capture(_scenario(name), port_offset=i * 10, t0=1_700_000_000 + i * 10,
                                    link="vlan" if i % 2 else "ether")
    packets.sort(key=lambda p: p.ts)
    path = tmp_path / f"mix.{fmt}"
    write_capture(path, packets, big_endian=fmt.endswith("gz"))
    check_same(f"synth/mix.{fmt}", path)


# seeded mutation corpus: bit flips, truncations and structure-aware damage, as tests/fuzz/fuzzer.py does
MUTATION_SEEDS = range(200 if FULL else 48)
MUTATION_SOURCES = ("lsc_rejected_unknown_ca.pcap", "tls13_443.pcap", "ca_chain_8443.pcap",
                    "resumption_8443.pcap", "cisco_lab_mix.pcapng", "dhe1024_443.pcap")


def mutant(seed: int) -> bytes:
    from synth.mutate import mutate_capture

    rng = random.Random(seed)
    raws = [(ROOT / "pcaps" / n).read_bytes() for n in MUTATION_SOURCES]
    raw = raws[seed % len(raws)]
    kind = seed % 4
    if kind == 0:  # truncation
        return raw[:rng.randrange(len(raw))]
    if kind == 1:  # bit flips anywhere after the file header
        data = bytearray(raw)
        for _ in range(rng.randint(1, 8)):
            i = rng.randrange(24, len(data))
            data[i] ^= 1 << rng.randrange(8)
        return bytes(data)
    return mutate_capture(rng, raw, raws)


@needs_engine
@pytest.mark.parametrize("seed", MUTATION_SEEDS)
def test_same_tables_on_mutants(tmp_path, seed):
    path = tmp_path / f"mutant{seed}.pcap"
    path.write_bytes(mutant(seed))
    check_same(f"mutant/{seed}", path)


@needs_engine
def test_rust_engine_raises_only_capture_error_on_mutants(tmp_path):
    from inspector.engines import rust as rust_engine

    refused = 0
    for seed in range(300):
        path = tmp_path / "m.pcap"
        path.write_bytes(mutant(seed))
        try:
            a, _, _ = rust_engine.analyze(path)
        except CaptureError:
            refused += 1
        else:
            assert a.stats["frames"] >= 0
    assert refused < 300  # most mutants still hold packets


@needs_engine
def test_rust_engine_refuses_what_python_refuses(tmp_path):
    cases = {"empty": b"", "text": b"hello world, not a capture\n", "cut": b"\xd4\xc3\xb2\xa1\x02\x00"}
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        msgs = []
        for engine in ("python", "rust"):
            with pytest.raises(CaptureError) as e:
                inspector.read_capture(path, engine=engine)
            msgs.append(str(e.value))
        assert msgs[0] == msgs[1], name
    with pytest.raises(CaptureError, match="is a directory"):
        inspector.read_capture(tmp_path, engine="rust")


@needs_engine
def test_a_fifo_given_by_path_is_read_as_the_python_engine_reads_it(tmp_path):
    """A FIFO (process substitution, a named pipe) is read as a stream by both engines (the Rust
    engine once refused it: it could only read whole files); the same tables either way."""
    import threading

    fifo = tmp_path / "capture.pcap"
    os.mkfifo(fifo)
    tables = {}
    for engine in ("python", "rust"):
        t = threading.Thread(target=lambda: fifo.write_bytes(SAMPLE.read_bytes()), daemon=True)
        t.start()
        cap = inspector.read_capture(fifo, engine=engine)
        t.join(timeout=30)
        tables[engine] = (flow_rows(cap.analysis.flows), event_rows(cap.analysis.events), cap.format)
    assert tables["rust"] == tables["python"] and len(tables["rust"][0]) == 11


@needs_engine
def test_bytes_and_descriptor_inputs_give_the_path_answer():
    from inspector.engines.rust import analysis_from_core

    path = SAMPLE
    kw = dict(capture=path.name, ports=[], max_flows=20_000, max_handshake_bytes=1 << 20,
              max_pending_bytes=256 << 10, max_certs=32, max_tombstones=500_000, keylog=None)
    by_path = core.analyze(str(path), **kw)
    by_data = core.analyze(None, data=path.read_bytes(), **kw)
    with open(path, "rb") as fh:
        by_fd = core.analyze(None, fd=fh.fileno(), **kw)
    rows = [flow_rows(analysis_from_core(r, path.name).flows) for r in (by_path, by_data, by_fd)]
    assert len(rows[0]) == 11 and rows[0] == rows[1] == rows[2]
    assert by_data["frames"] == by_path["frames"] == 139


def _streamed(path: Path, engine: str) -> list | str:
    """Every `stream_capture` on_rows call, in order (batches of 2 flows to cross batch edges)."""
    from inspector.api import stream_capture

    calls: list = []
    try:
        cap = stream_capture(path, lambda table, rows: calls.append((table, rows)), batch_size=2,
                             engine=engine)
    except CaptureError as e:
        return f"CaptureError: {e}"
    return calls + [("warnings", cap.warnings), ("stats", dict(cap.stats))]


STREAM_CASES = ("pcaps/cisco_lab_mix.pcapng", "pcaps/resumption_8443.pcap", "pcaps/tls13_443.pcap",
                "corpus/zeek-zeek/smtp-starttls.pcap", "corpus/zeek-zeek/tls-1.2-handshake-failure.pcap",
                "corpus/Lekensteyn-wireshark-notes/dump.pcapng")


@needs_engine
@pytest.mark.parametrize("case", STREAM_CASES)
def test_same_rows_in_streaming_mode(case):
    """--stream: the same batches, flow ids in the order flows end, as the Python engine."""
    path = dict(corpus_cases()).get(case)
    if path is None:
        pytest.skip(f"{case} not here")
    py, rs = _streamed(path, "python"), _streamed(path, "rust")
    assert [t for t, _ in py] == [t for t, _ in rs]
    for (table, a), (_, b) in zip(py, rs):
        assert a == b, f"{case}: {table} differ"


@needs_engine
def test_the_rust_engine_hands_flows_over_while_it_reads():
    """--stream with the Rust engine keeps the flows in flight, not every flow: the flows that
    ended go to Python in batches during the read; what is left for the end is the remainder."""
    from inspector.engines.rust import _core_args

    batches: list[dict] = []
    end = core.analyze(str(SAMPLE), **_core_args(SAMPLE, (), None, None), stream=True,
                       on_batch=batches.append, batch_size=2)
    whole = core.analyze(str(SAMPLE), **_core_args(SAMPLE, (), None, None), stream=True)
    ids = [i for b in batches for i in b["flows"]["flow_id"]] + end["flows"]["flow_id"]
    assert ids == whole["flows"]["flow_id"] == list(range(1, 12))
    assert len(batches) >= 4 and all(len(b["flows"]["flow_id"]) >= 2 for b in batches)
    assert len(end["flows"]["flow_id"]) < 11 - 2 * 4
    seen = [fp for b in batches for fp in b["certificates"]["sha256"]]
    assert len(seen) == len(set(seen)) and set(seen) <= set(end["certificates"]["sha256"])
    assert end["certificates"]["sha256"] == whole["certificates"]["sha256"]


@needs_engine
def test_the_rust_engine_reads_a_pipe_as_its_packets_come(tmp_path):
    """A FIFO whose writer keeps it open (a live tcpdump -w -): its flows come out before the
    writer closes it, not once 4 MiB or the end have come; then every flow, as from the file."""
    import os
    import threading

    from inspector.api import stream_capture

    fifo = tmp_path / "live.pcap"
    os.mkfifo(fifo)
    first_rows = threading.Event()
    closed_early = []

    def writer() -> None:
        with open(fifo, "wb") as w:
            w.write(SAMPLE.read_bytes())
            w.flush()
            closed_early.append(not first_rows.wait(30))  # keep the pipe open until rows came

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    flows: list = []

    def on_rows(table, rows):
        if table == "flows":
            flows.extend(rows)
            first_rows.set()

    cap = stream_capture(fifo, on_rows, batch_size=1, engine="rust")
    t.join(timeout=60)
    assert closed_early == [False], "no flow came out while the pipe was open"
    assert cap.format == "pcapng" and len(flows) == len(inspector.read_capture(SAMPLE).flows) == 11


@needs_engine
def test_an_exception_in_the_consumer_stops_the_rust_stream():
    from inspector.api import stream_capture

    class Stop(Exception):
        pass

    calls = []

    def on_rows(table, rows):
        calls.append(table)
        if table == "flows":
            raise Stop("the consumer gave up")

    with pytest.raises(Stop, match="gave up"):
        stream_capture(SAMPLE, on_rows, batch_size=2, engine="rust")
    assert calls == ["flows"]


# ---- engine selection ------------------------------------------------------------------------------

@needs_engine
@pytest.mark.parametrize("args", [("--format", "csv"), ("--format", "json"),
                                  ("--format", "csv", "--table", "events"),
                                  ("--format", "csv", "--stream")])
def test_cli_engines_print_the_same_report(args):
    from typer.testing import CliRunner

    from inspector.cli.app import app

    runner = CliRunner()
    out = {}
    for engine in ("rust", "python", "native"):
        res = runner.invoke(app, ["report", str(SAMPLE), *args, "--engine", engine])
        assert res.exit_code == 0, res.output
        out[engine] = res.stdout
    assert out["rust"] == out["python"] == out["native"]
    assert "unknown_ca" in out["rust"]


def test_default_engine_is_rust_when_built_and_python_otherwise(monkeypatch):
    from inspector import api
    from inspector.engines import rust as rust_engine

    assert api._engine_name(None) == ("rust" if HAS_ENGINE and api.DEFAULT_ENGINE == "rust" else "python")
    monkeypatch.setattr(api, "DEFAULT_ENGINE", "rust")
    assert api._engine_name(None) == ("rust" if HAS_ENGINE else "python")
    assert api._engine_name("native") == "python"
    monkeypatch.setattr(rust_engine, "available", lambda: False)
    assert api._engine_name(None) == "python"
    with pytest.raises(inspector.InspectError, match="unknown engine 'fast'"):
        api._engine_name("fast")


# ---- pcapng Decryption Secrets Blocks ------------------------------------------------------------

def _pcapng_with_secrets(pcap: bytes, keylog: bytes) -> bytes:
    """A classic little-endian microsecond pcap as pcapng: SHB, IDB, a DSB holding ``keylog``
    (as `editcap --inject-secrets` writes it), then one EPB per packet."""
    import struct

    assert pcap[:4] == b"\xd4\xc3\xb2\xa1"
    linktype = struct.unpack_from("<I", pcap, 20)[0]

    def block(btype: int, body: bytes) -> bytes:
        body += b"\0" * (-len(body) % 4)
        n = 12 + len(body)
        return struct.pack("<II", btype, n) + body + struct.pack("<I", n)

    out = [block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)),
           block(1, struct.pack("<HHI", linktype, 0, 262144)),
           block(0x0A, struct.pack("<II", 0x544C534B, len(keylog)) + keylog)]
    off = 24
    while off + 16 <= len(pcap):
        sec, usec, incl, orig = struct.unpack_from("<IIII", pcap, off)
        data = pcap[off + 16:off + 16 + incl]
        ts = sec * 1_000_000 + usec
        out.append(block(6, struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, incl, orig) + data))
        off += 16 + incl
    return b"".join(out)


@needs_engine
def test_keys_in_a_decryption_secrets_block_decrypt_as_a_key_log_does(tmp_path):
    """The Rust engine reads TLS key logs from pcapng Decryption Secrets Blocks (the Python
    reference engine skips those blocks: listed in the report as an intended difference)."""
    pcap, keylog = ROOT / "pcaps" / "tls13_443.pcap", ROOT / "pcaps" / "tls13_443.keylog"
    path = tmp_path / "tls13_dsb.pcapng"
    path.write_bytes(_pcapng_with_secrets(pcap.read_bytes(), keylog.read_bytes()))
    with_dsb = flow_rows(inspector.read_capture(path, engine="rust").analysis.flows)
    with_file = flow_rows(inspector.read_capture(pcap, keylog=keylog, engine="rust").analysis.flows)
    without = flow_rows(inspector.read_capture(pcap, engine="rust").analysis.flows)
    assert any(f["decrypted"] for f in with_dsb)
    assert not any(f["decrypted"] for f in without)
    keep = ("decrypted", "server_chain_sha256", "client_chain_sha256", "alerts", "outcome", "history")
    assert [{k: f[k] for k in keep} for f in with_dsb] == [{k: f[k] for k in keep} for f in with_file]
    python = flow_rows(inspector.read_capture(path, engine="python").analysis.flows)
    assert not any(f["decrypted"] for f in python)


@needs_engine
def test_bug_ca_name_that_makes_cryptography_panic_is_undecodable_not_a_crash():
    """r2's reproducer: an OID in a CertificateRequest CA name makes cryptography panic (a
    BaseException through the Python engine's ca_name_to_str); the Rust engine formats CA names
    itself and calls that one undecodable."""
    path = ROOT / "rust" / "core" / "tests" / "data" / "tls" / "python_ca_name_panic.pcap"
    (flow,) = flow_rows(inspector.read_capture(path, engine="rust").analysis.flows)
    assert flow["client_cert_requested"] is True
    assert any(n.startswith("<undecodable name: ") for n in flow["requested_ca_names"])
