"""Fuzzing inside `make test` (~20 s): a short seeded run of the `make fuzz` driver
(``tests/fuzz/fuzzer.py``), hypothesis properties on the sans-I/O parsers, and one strict-xfail test per
crash the long runs found (reproducers in ``tests/data/crashes/``).

Contracts checked (RELIABILITY.md: "any exception other than InspectError is a crash"):

- ``read_capture`` raises only `InspectError`; the CLI exits 0, 1 or 2 and never prints a traceback;
- ``inspector.tls.messages.parse_*`` raise only `TLSParseError` (what `TLSSession` catches);
- ``inspector.x509.parse_certificate`` and the record layer (`RecordReader`) never raise;
- ``PcapParser``/``PcapngParser`` raise only `CaptureError` and hand out well-formed packets.
"""

from __future__ import annotations

import contextlib
import io
import random
import sys
from functools import lru_cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
for p in (ROOT, ROOT / "tests"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

import fuzzer as fuzz  # noqa: E402  (tests/fuzz/fuzzer.py)
from synth.mutate import mutate_bytes  # noqa: E402
import inspector  # noqa: E402
from inspector import x509 as certs  # noqa: E402
from inspector.errors import CaptureError  # noqa: E402
from inspector.tls import messages as m  # noqa: E402

CRASHES = ROOT / "tests" / "data" / "crashes"
SETTINGS = settings(max_examples=150, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@lru_cache(maxsize=1)
def seeds() -> fuzz.Seeds:
    return fuzz.load_seeds()


def test_seeds_cover_every_parser():
    s = seeds()
    assert len(s.captures) >= 10
    missing = [t for t in fuzz.PARSER_TARGETS if not s.messages.get(t)]
    assert not missing, f"no seed for {missing}"


def test_mutated_captures_go_through_both_engines(tmp_path):
    """The mutation loop reads every capture with the Rust engine (the default) and the Python
    reference: before, only the default engine ran."""
    from inspector.engines import rust as rust_engine

    if not rust_engine.available():
        pytest.skip("the Rust engine is not built")
    assert fuzz.capture_engines() == ("rust", "python")
    out = fuzz.run_capture((ROOT / "pcaps" / "tls13_443.pcap").read_bytes(), str(tmp_path), cli=False)
    assert out.startswith("ok rust flows=1 ") and " | ok python flows=1 " in out, out


def test_short_seeded_fuzz_run_has_no_new_crash(tmp_path):
    """~100 mutated captures (editcap -E 0.02 [-o 66] and Python mutations) + ~600 parser inputs."""
    kinds = ("editcap", "bytes") if fuzz.shutil.which("editcap") else ("bytes",)
    cap = fuzz.fuzz(float("inf"), seed=20240601, crash_dir=tmp_path, kinds=kinds, max_cases=100,
                    timeout=20)
    par = fuzz.fuzz(float("inf"), seed=20240602, crash_dir=tmp_path, kinds=("parser",),
                    max_cases=600, timeout=20)
    for s in (cap, par):
        assert s.timeouts == 0, s.text()
        assert not s.new_crashes, s.text()
    assert cap.total >= 90 and par.total == 600


def test_short_seeded_fuzz_run_of_the_hostile_shapes_has_no_crash(tmp_path):
    """Issue 14's shapes: IPv4 fragments (overlaps, losses, lying sizes), gzip (cut, damaged,
    floods of empty records) and key logs (junk, NULs, over-long lines; chunked == whole)."""
    s = fuzz.fuzz(float("inf"), seed=20261202, crash_dir=tmp_path, kinds=("fragments", "gzip", "keylog"),
                  max_cases=45, timeout=30)
    assert s.timeouts == 0 and not s.new_crashes, s.text()
    assert s.total == 45 and all(s.cases[k] >= 5 for k in ("fragments", "gzip", "keylog")), s.text()


# ------------------------------------------------------------------------------------------
# hypothesis: the sans-I/O parsers, fed mutated real inputs and raw bytes


def _mutated(target: str):
    return st.tuples(st.integers(0, 63), st.integers(0, 2**32 - 1)).map(
        lambda t: _mutate(target, *t))


def _mutate(target: str, i: int, seed: int) -> bytes:
    pool = seeds().messages[target]
    rng = random.Random(seed)
    return mutate_bytes(rng, pool[i % len(pool)], pool)


PARSERS = {
    "client_hello": lambda d: m.parse_client_hello(d),
    "server_hello": lambda d: m.parse_server_hello(d),
    "certificate": lambda d: m.parse_certificate(d, tls13=False),
    "certificate13": lambda d: m.parse_certificate(d, tls13=True),
    "certificate_request": lambda d: m.parse_certificate_request(d, tls13=False, version=0x0303),
    "server_key_exchange": lambda d: m.parse_server_key_exchange(d, cipher_suite=0xC030, version=0x0303),
    "alert": lambda d: m.parse_alert(d),
    "new_session_ticket": lambda d: m.parse_new_session_ticket(d, tls13=False),
    "sslv2_client_hello": lambda d: m.parse_sslv2_client_hello(d),
    "ca_name": lambda d: m.ca_name_to_str(d),
}


@pytest.mark.parametrize("target", sorted(PARSERS))
def test_tls_message_parsers_raise_only_parse_errors(target):
    parse = PARSERS[target]

    @SETTINGS
    @given(st.one_of(_mutated(target), st.binary(max_size=512)))
    def run(data):
        try:
            parse(data)
        except m.TLSParseError:
            pass

    run()


@SETTINGS
@given(st.one_of(_mutated("x509"), st.binary(max_size=2048)))
def test_parse_certificate_never_raises(der):
    info = certs.parse_certificate(der)
    assert info.sha256 and isinstance(info.errors, tuple | list)
    certs.client_cert_kind(info)
    certs.known_ca_note(info)


@SETTINGS
@given(_mutated("pcap_feed"), st.integers(0, 2**32 - 1))
def test_capture_parsers_raise_only_capture_errors(data, seed):
    try:
        result = fuzz._feed_capture_parser(data, random.Random(seed), CaptureError)
    except CaptureError:
        return
    assert result.startswith(("ok", "capture_error"))


@SETTINGS
@given(st.one_of(_mutated("zeek_stream"), st.binary(max_size=4096)))
def test_zeek_style_stream_through_record_layer_and_session(data):
    """Zeek's FuzzBuffer format (chunks split on \\x01PKT, low bit = direction)."""
    assert fuzz.run_zeek_stream(data).startswith("ok")


# ------------------------------------------------------------------------------------------
# crashes found by the long runs: one strict xfail each until fixed, then a regression test


def _no_crash(path: Path) -> None:
    """The library raises only InspectError; the CLI exits 0/1/2 without a traceback."""
    try:
        cap = inspector.read_capture(path)
        cap.flows, cap.certificates, cap.events, cap.findings  # noqa: B018
    except inspector.InspectError:
        pass
    from inspector.cli.app import main as cli_main

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            cli_main([str(path), "-q"])
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 0
    assert code in (0, 1, 2) and "Traceback" not in err.getvalue()


def test_crash_short_ipv4_frame():
    """Fixed: Analyzer.feed's Ethernet/IPv4 fast path read data[20] and data[21] before its
    len(data) >= 54 check, so a 15-21-byte frame with ethertype 0x0800 and 0x45 raised
    IndexError (fuzz signature 'IndexError@engine.py', ~1% of mutated captures)."""
    _no_crash(CRASHES / "short_ipv4_frame.pcap")


def test_crash_far_future_timestamp():
    """Fixed: a pcapng whose interface has if_tsresol=0 (1 s units) and 64-bit timestamps of
    ~1e13 s is valid (tshark reads it) but past any calendar: datetime.fromtimestamp raised
    ValueError out of Capture.flows.  The reader now shows such timestamps as 1970 and warns."""
    _no_crash(CRASHES / "far_future_timestamp.pcapng")
    import inspector
    cap = inspector.read_capture(CRASHES / "far_future_timestamp.pcapng")
    assert any(w.startswith("timestamp_out_of_range") for w in cap.warnings)


def test_every_crash_reproducer_is_survived():
    """Every capture in tests/data/crashes/ (crashers and engine-difference reproducers) reads
    without an uncaught exception, except those a KNOWN_CRASHES entry still covers."""
    known_files = {w.split(":")[0] for w in fuzz.KNOWN_CRASHES.values()}
    for path in sorted(CRASHES.glob("*.pcap*")):
        if any(path.stem in k for k in known_files):
            continue
        _no_crash(path)


def test_every_known_crash_has_its_xfail_test():
    names = {n for n in globals() if n.startswith("test_crash_")}
    for sig, where in fuzz.KNOWN_CRASHES.items():
        assert where.split(":")[0] in names, sig
