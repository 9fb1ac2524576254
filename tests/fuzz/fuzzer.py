#!/usr/bin/env python3
"""`make fuzz`: mutate captures and TLS/X.509 inputs for a set time; report crashes and timeouts.

    python tests/fuzz/fuzzer.py --seconds 600 [--seed N] [--crash-dir DIR] [--jobs N] [--atheris]

What one *case* is (chosen in turn, all deterministic from ``--seed``):

``editcap``
    a sample capture (``pcaps/*.pcap*``) through Wireshark's own fuzz mutation,
    ``editcap -E 0.02 --seed N``; every other run adds ``-o 66`` so that the Ethernet/IP/TCP
    headers survive and the damage lands in TLS.  Then the whole pipeline runs on it.
``bytes``
    a sample capture mutated in Python: structure-aware (the capture is split into packets,
    packets are dropped, duplicated, reordered, cut, and bytes of their TCP payload flipped or
    overwritten with boundary integers at TLS length fields) or blind (bit flips, splices,
    truncation anywhere in the file).
``randpkt``
    ``randpkt -r -b 2000 -c 300``: random frames of random link types.
``fragments``
    a sample's IPv4 packets cut into fragments: random sizes, overlaps carrying other bytes,
    duplicates, losses, disorder, lying lengths, offsets past 64 KiB (reassembly bounds).
``gzip``
    a sample (fragmented or not) gzip-compressed, then cut short, bit-flipped, followed by
    garbage or another member, a damaged CRC, or a repeated member of empty records (flood).
``keylog``
    a mutated NSS key log (junk, NULs, over-long lines, CRLF, bad hex, cut lines) parsed whole and
    in random chunks (the results must agree), then used on ``pcaps/tls13_443.pcap``.
``tshark`` (opt-in: ``--kinds ...,tshark``)
    an editcap-mutated sample through the second engine, `inspector.engines.tshark`.
``parser:<name>``
    the sans-I/O parsers fed directly with a mutated seed: ``inspector.tls.messages.parse_*``
    (seeds: the handshake messages of the samples), ``inspector.x509.parse_certificate``,
    ``inspector.sources.capture`` ``PcapParser``/``PcapngParser.feed`` (random chunking), and a
    Zeek-style ``\\x01PKT`` stream (``src/fuzzers/FuzzBuffer.h``: chunks separated by
    ``\\x01PKT``, low bit of the first byte = direction) fed to ``RecordReader`` and to a whole
    ``flows.Connection`` up to its `FlowRecord`.

The pipeline (``read_capture`` on both engines, Rust and Python, -> the four DataFrames -> JSON and
CSV rendering on the default engine) and every parser
run *in process* in a worker child: the worker has ``RLIMIT_AS`` = its footprint after import +
``--memory-mb`` (1 GiB by default; the imports of pandas/pyarrow alone reserve ~1.4 GB of address
space), and the parent kills it after ``--timeout`` seconds per case and starts a new one.

A *crash* is any exception other than `inspector.InspectError` (for captures), other than
`TLSParseError` (for the ``parse_*`` functions, the contract `TLSSession` relies on) or
`CaptureError` (capture parsers), or any exception at all (``parse_certificate``, which never
raises, and the record layer); a worker that dies or exceeds the memory cap counts as a crash,
one past ``--timeout`` as a timeout.  Each new crash signature (exception type + innermost
``inspector`` frame) is saved under ``--crash-dir`` as the input plus a ``.txt`` with the
traceback; rerun one with ``python tests/fuzz/fuzzer.py --replay FILE``.

``--atheris`` additionally runs coverage-guided atheris targets (if atheris is installed:
``pip install -e '.[fuzz]'``) for part of the time: ``fuzz_file``, ``fuzz_stream``, ``fuzz_cert``.
Exit status: 0 no crash and no timeout, 1 otherwise.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import multiprocessing as mp
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from synth.mutate import (split_pcap, fragment_capture, gzip_capture, mutate_bytes,  # noqa: E402
                          mutate_capture, mutate_keylog)

SAMPLES = ROOT / "pcaps"
DEFAULT_CRASH_DIR = ROOT / "build" / "fuzz-crashes"
KEYLOG_SEED = SAMPLES / "tls13_443.keylog"

PARSER_TARGETS = (
    "client_hello", "server_hello", "certificate", "certificate13", "certificate_request",
    "server_key_exchange", "alert", "new_session_ticket", "sslv2_client_hello", "ca_name",
    "x509", "pcap_feed", "zeek_stream",
)

#: crash signatures already reported, by "ExceptionType@file" (line numbers move as the code is
#: edited) -> the strict-xfail test in tests/fuzz/test_fuzz.py that reproduces it.  A run still counts
#: and prints them, but only *new* signatures (or timeouts) fail the run.
KNOWN_CRASHES: dict[str, str] = {}
# fixed: "IndexError@engine.py" (test_crash_short_ipv4_frame): Analyzer.feed's IPv4 fast path
# indexed data[20]/data[21] before checking len(data) >= 54
# fixed: "ValueError@trust.py" (test_crash_far_future_timestamp): a pcapng timestamp past year
# 9999 reached datetime.fromtimestamp; the capture reader now maps out-of-range timestamps to 0



# ---------------------------------------------------------------------------------------------
# seeds


def sample_files() -> list[Path]:
    return sorted(p for p in SAMPLES.glob("*.pcap*") if p.is_file())


def _tcp_streams(path: Path) -> list[list[tuple[int, bytes]]]:
    """Per TCP connection of a (clean) capture: the payloads in capture order, (direction, bytes)."""
    from inspector.sources.capture import CaptureReader
    from inspector.link import LinkDecoder

    dec = LinkDecoder()
    conns: dict[bytes, list[tuple[int, bytes]]] = {}
    for _ts, lt, data, _ol in CaptureReader(path).packets():
        d = dec.decode(lt, data)
        if d is None:
            continue
        src, dst, buf, t, end = d
        if t + 20 > end:
            continue
        doff = (buf[t + 12] >> 4) * 4
        payload = bytes(buf[t + doff:end])
        if not payload:
            continue
        k, rk = src + dst + buf[t:t + 4], dst + src + buf[t + 2:t + 4] + buf[t:t + 2]
        if rk in conns:
            conns[rk].append((1, payload))
        else:
            conns.setdefault(k, []).append((0, payload))
    return list(conns.values())


@dataclass
class Seeds:
    captures: dict[str, bytes] = field(default_factory=dict)
    messages: dict[str, list[bytes]] = field(default_factory=dict)  # parser target -> inputs

    def add(self, target: str, data: bytes) -> None:
        lst = self.messages.setdefault(target, [])
        if data not in lst and len(lst) < 64:
            lst.append(data)


def load_seeds() -> Seeds:
    """Sample captures, and the messages in them split per parser (via the engine's record layer)."""
    from cryptography import x509

    from inspector.tls.records import AlertRecord, HandshakeMessage, RecordReader, SSLv2ClientHello

    seeds = Seeds()
    by_type = {1: "client_hello", 2: "server_hello", 11: "certificate", 13: "certificate_request",
               12: "server_key_exchange", 4: "new_session_ticket"}
    for p in sample_files():
        raw = p.read_bytes()
        seeds.captures[p.name] = raw
        seeds.add("pcap_feed", raw)
        for conn in _tcp_streams(p):
            seeds.add("zeek_stream", b"\x01PKT".join(bytes([d]) + pl for d, pl in conn))
            for direction in (0, 1):
                rr = RecordReader(1 << 20)
                data = b"".join(pl for d, pl in conn if d == direction)
                for ev in rr.feed(data, 1):
                    if isinstance(ev, HandshakeMessage) and ev.msg_type in by_type:
                        seeds.add(by_type[ev.msg_type], ev.body)
                        if ev.msg_type == 11:
                            _add_certs(seeds, ev.body, x509)
                    elif isinstance(ev, AlertRecord) and not ev.encrypted:
                        seeds.add("alert", ev.payload)
                    elif isinstance(ev, SSLv2ClientHello):
                        seeds.add("sslv2_client_hello", ev.record)
    # TLS 1.3 Certificate bodies (per-entry extensions): built from a TLS 1.2 chain
    for body in seeds.messages.get("certificate", [])[:8]:
        seeds.add("certificate13", _to_tls13_certificate(body))
    seeds.add("sslv2_client_hello", bytes.fromhex(
        "802b0103010012000000100000040000050000030100800700c003008000000600400200800400801f4e"
        "fb0b76c8c2d1f9fca3d4e2e9a5c2")[:45])
    seeds.add("alert", b"\x02\x28")
    seeds.add("new_session_ticket", b"\x00\x00\x1c\x20\x00\x10" + bytes(16))
    return seeds


def _add_certs(seeds: Seeds, body: bytes, x509) -> None:
    i = 3
    while i + 3 <= len(body):
        n = int.from_bytes(body[i:i + 3], "big")
        der = body[i + 3:i + 3 + n]
        i += 3 + n
        if len(der) != n:
            break
        seeds.add("x509", der)
        try:
            cert = x509.load_der_x509_certificate(der)
            seeds.add("ca_name", cert.subject.public_bytes())
            seeds.add("ca_name", cert.issuer.public_bytes())
        except Exception:  # noqa: BLE001 - only seeds
            pass


def _to_tls13_certificate(body: bytes) -> bytes:
    entries = b""
    i = 3
    while i + 3 <= len(body):
        n = int.from_bytes(body[i:i + 3], "big")
        entries += body[i:i + 3 + n] + b"\x00\x00"
        i += 3 + n
    return b"\x00" + len(entries).to_bytes(3, "big") + entries


def run_keylog(data: bytes, tmpdir: str) -> str:
    """A mutated key log: parsed whole and in random chunks (the same `KeyLog`), then used on the
    TLS 1.3 sample; only `InspectError` may escape."""
    import inspector
    from inspector.tls.decrypt import KeyLogParser, parse_keylog

    whole = parse_keylog(data)
    rng = random.Random(data[:32])
    p = KeyLogParser()
    pos = 0
    while pos < len(data):
        step = rng.choice((1, 3, 100, 4096))
        p.feed(data[pos:pos + step])
        pos += step
    chunked = p.close()
    if chunked.secrets != whole.secrets or chunked.bad_lines != whole.bad_lines:
        raise Crash(f"chunked key log differs: {len(chunked)}/{chunked.bad_lines} vs {len(whole)}/{whole.bad_lines}")
    path = os.path.join(tmpdir, "case.keys")
    with open(path, "wb") as fh:
        fh.write(data)
    try:
        cap = inspector.read_capture(SAMPLES / "tls13_443.pcap", keylog=path)
    except inspector.InspectError as e:
        return f"inspect_error: {str(e)[:80]}"
    return f"ok secrets={len(whole)} flows={len(cap.flows)} decrypted={int(cap.flows['decrypted'].sum())}"


# ---------------------------------------------------------------------------------------------
# running one case (in the worker)


class Crash(Exception):
    """Raised inside the worker to mark an exception outside the target's contract."""


#: command lines run on every mutated capture (the CLI's own rendering paths)
CLI_RUNS = (("-f", "json"), ("-f", "csv", "--table", "certificates"), ("--fail-on", "warning"))


def capture_engines() -> tuple[str, ...]:
    """The engines every mutated capture goes through: the Rust engine (the default) when it is
    built, and the pure-Python reference."""
    from inspector.engines import rust as rust_engine

    return ("rust", "python") if rust_engine.available() else ("python",)


def run_capture(data: bytes, tmpdir: str, cli: bool = True) -> str:
    """The library (``read_capture`` and its four tables, on the Rust engine and on the Python
    one: `capture_engines`), then the CLI (default engine) on the same file.

    The CLI must end with exit code 0, 1 or 2 (`SystemExit`); any exception escaping it is a
    crash, as is any exception other than `InspectError` from the library.
    """
    import contextlib

    import inspector

    path = os.path.join(tmpdir, "case.pcap")
    with open(path, "wb") as fh:
        fh.write(data)
    results = []
    for engine in capture_engines():
        try:
            cap = inspector.read_capture(path, engine=engine)
        except inspector.InspectError as e:
            results.append(f"inspect_error: {str(e)[:80]}")
        else:
            n = (engine, len(cap.flows), len(cap.certificates), len(cap.events), len(cap.findings))
            results.append("ok %s flows=%d certs=%d events=%d findings=%d" % n)
    result = " | ".join(results)
    if cli:
        from inspector.cli.app import main as cli_main

        for args in CLI_RUNS:
            out, err = io.StringIO(), io.StringIO()
            code = 0
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    cli_main([path, "-q", *args])
                except SystemExit as e:
                    code = e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
            if code not in (0, 1, 2) or "Traceback" in err.getvalue():
                raise Crash(f"tlsinspect {' '.join(args)} exited {code}: {err.getvalue()[-2000:]}")
    return result


def run_parser(target: str, data: bytes) -> str:
    from inspector import x509 as certs
    from inspector.errors import CaptureError
    from inspector.tls import messages as m

    rng = random.Random(data[:64])
    try:
        if target == "client_hello":
            m.parse_client_hello(data)
        elif target == "server_hello":
            m.parse_server_hello(data)
        elif target in ("certificate", "certificate13"):
            c = m.parse_certificate(data, tls13=target == "certificate13")
            for der in c.certs[:4]:
                certs.parse_certificate(der)
        elif target == "certificate_request":
            r = m.parse_certificate_request(data, tls13=rng.random() < 0.3,
                                            version=rng.choice((0x0301, 0x0303, 0x0304)))
            for n in r.ca_names:
                m.ca_name_to_str(n)
        elif target == "server_key_exchange":
            m.parse_server_key_exchange(data, cipher_suite=rng.choice((0x0033, 0x009E, 0xC02F, 0xC02B,
                                                                      0x002F, 0x0016, 0xC013)),
                                        version=rng.choice((0x0301, 0x0303)))
        elif target == "alert":
            m.parse_alert(data)
        elif target == "new_session_ticket":
            m.parse_new_session_ticket(data, tls13=rng.random() < 0.5)
        elif target == "sslv2_client_hello":
            m.parse_sslv2_client_hello(data)
        elif target == "ca_name":
            m.ca_name_to_str(data)
        elif target == "x509":
            info = certs.parse_certificate(data)
            certs.client_cert_kind(info)
            certs.known_ca_note(info)
            certs.short_name(info)
            return "ok"
        elif target == "pcap_feed":
            return _feed_capture_parser(data, rng, CaptureError)
        elif target == "zeek_stream":
            return run_zeek_stream(data)
        else:
            raise ValueError(f"unknown target {target}")
    except m.TLSParseError as e:
        return f"parse_error: {str(e)[:60]}"
    return "ok"


def _feed_capture_parser(data: bytes, rng: random.Random, CaptureError) -> str:
    from inspector.sources.capture import parser_for

    try:
        p = parser_for(data[:24])
        pos = 0 if p.format == "pcapng" else 24
        n = 0
        while pos < len(data) and p.error is None:
            step = rng.choice((1, 7, 16, 100, 4096, 1 << 20))
            for pkt in p.feed(data[pos:pos + step]):
                ts, lt, d, ol = pkt
                assert isinstance(d, bytes) and isinstance(lt, int), pkt
                assert len(d) <= 16 * 1024 * 1024 + 1024
                n += 1
            pos += step
        p.close()
    except CaptureError as e:
        return f"capture_error: {e.reason[:60]}"
    return f"ok packets={n}"


def run_zeek_stream(data: bytes) -> str:
    """Zeek's FuzzBuffer split (``\\x01PKT`` separators, low bit of the first byte = direction).

    Each chunk goes to the record layer of its direction and, in parallel, through a whole
    `Connection` (TCP reassembly -> records -> TLS session) to its `FlowRecord`.
    """
    from inspector.x509 import parse_certificate_cached
    from inspector.flows import DEFAULT_TLS_PORTS, Connection, Limits, build_flow
    from inspector.tcp import TCP_ACK, TCP_FIN
    from inspector.tls.records import RecordReader

    readers = [RecordReader(256 * 1024), RecordReader(256 * 1024)]
    conn = Connection(b"k", b"\x0a\x00\x00\x01", b"\x0a\x00\x00\x02", 40000, 443, 1, 0.0, Limits())
    seq = {"a": 1000, "b": 5000}
    events = 0
    for i, chunk in enumerate(data.split(b"\x01PKT")):
        if not chunk:
            continue
        side = chunk[0] & 1
        payload = chunk[1:]
        events += len(readers[side].feed(payload, i + 1))
        s = "a" if side == 0 else "b"
        if conn.state in ("new", "tls"):
            conn.packet(s, seq[s], TCP_ACK, payload, i + 1, float(i), DEFAULT_TLS_PORTS)
        seq[s] = (seq[s] + len(payload)) & 0xFFFFFFFF
    conn.packet("a", seq["a"], TCP_ACK | TCP_FIN, b"", 10**6, 1e6, DEFAULT_TLS_PORTS)
    conn.finish()
    rec = build_flow(conn, 1, "fuzz", parse_certificate_cached, DEFAULT_TLS_PORTS)
    return f"ok events={events} outcome={rec.outcome}"


def run_tshark_engine(data: bytes, tmpdir: str) -> str:
    """The second engine (`inspector.engines.tshark`) on a mutated capture: only InspectError."""
    import inspector
    from inspector.engines.tshark import analyze_with_tshark

    path = os.path.join(tmpdir, "case.pcap")
    with open(path, "wb") as fh:
        fh.write(data)
    try:
        an = analyze_with_tshark(path)
    except inspector.InspectError as e:
        return f"inspect_error: {str(e)[:80]}"
    return f"ok flows={len(an.flows)}"


def run_case(kind: str, data: bytes, tmpdir: str) -> str:
    if kind == "capture":
        return run_capture(data, tmpdir)
    if kind == "keylog":
        return run_keylog(data, tmpdir)
    if kind == "capture_tshark":
        return run_tshark_engine(data, tmpdir)
    return run_parser(kind, data)


def _signature(tb: traceback.TracebackException | None, exc: BaseException | None, text: str) -> str:
    if exc is None:
        return text
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "/inspector/" in f.filename.replace(os.sep, "/")]
    where = ours[-1] if ours else (frames[-1] if frames else None)
    loc = f"{Path(where.filename).name}:{where.lineno}" if where else "?"
    return f"{type(exc).__name__}@{loc}"


def _worker(conn, memory_mb: int) -> None:
    import resource
    import warnings

    warnings.simplefilter("ignore")
    import inspector  # noqa: F401 - import before the cap: pandas/pyarrow reserve address space
    import inspector.output.report  # noqa: F401
    import inspector.frame  # noqa: F401
    import inspector.diagnose  # noqa: F401

    tmpdir = tempfile.mkdtemp(prefix="tlsinspect-fuzz-")
    warm = sample_files()
    if warm:  # one real case before the cap: pyarrow's allocator reserves its arenas on first use,
        try:  # and under RLIMIT_AS that first reservation can fail ("malloc of size 64 failed")
            run_capture(warm[0].read_bytes(), tmpdir, cli=False)
        except Exception:  # noqa: BLE001 - the warm-up must not stop the worker
            pass
    try:
        with open("/proc/self/status") as fh:
            vm = next(int(ln.split()[1]) * 1024 for ln in fh if ln.startswith("VmSize:"))
        limit = vm + memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (OSError, ValueError, StopIteration):
        pass
    try:
        while True:
            try:
                msg = conn.recv()
            except EOFError:
                return
            if msg is None:
                return
            kind, data = msg
            try:
                conn.send(("ok", run_case(kind, data, tmpdir)))
            except MemoryError:
                conn.send(("oom", "MemoryError (address-space cap reached)", "MemoryError@cap"))
            except BaseException as e:  # noqa: BLE001 - that is the point
                conn.send(("crash", "".join(traceback.format_exception(e)), _signature(None, e, "")))
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


class Worker:
    """One child process running cases; killed and replaced on a timeout or a death."""

    def __init__(self, memory_mb: int) -> None:
        self.memory_mb = memory_mb
        self.ctx = mp.get_context("fork" if sys.platform.startswith("linux") else "spawn")
        self.proc = None
        self.conn = None

    def _start(self) -> None:
        parent, child = self.ctx.Pipe()
        self.proc = self.ctx.Process(target=_worker, args=(child, self.memory_mb), daemon=True)
        self.proc.start()
        child.close()
        self.conn = parent

    def run(self, kind: str, data: bytes, timeout: float) -> tuple[str, str, str]:
        if self.proc is None or not self.proc.is_alive():
            self._start()
        try:
            self.conn.send((kind, data))
            if self.conn.poll(timeout):
                reply = self.conn.recv()
                return reply if len(reply) == 3 else (reply[0], reply[1], "")
        except (EOFError, BrokenPipeError, ConnectionResetError, OSError):
            code = self.proc.exitcode if self.proc else None
            self.kill()
            return "crash", f"worker died (exit code {code})", f"died:{code}"
        if not self.proc.is_alive():
            code = self.proc.exitcode
            self.kill()
            return "crash", f"worker died (exit code {code})", f"died:{code}"
        self.kill()
        return "timeout", f"no answer within {timeout:g} s", "timeout"

    def kill(self) -> None:
        if self.proc is not None:
            if self.proc.is_alive():
                self.proc.kill()
            self.proc.join(5)
            self.proc = None
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def close(self) -> None:
        if self.proc is not None and self.proc.is_alive():
            try:
                self.conn.send(None)
                self.proc.join(5)
            except OSError:
                pass
        self.kill()


# ---------------------------------------------------------------------------------------------
# the driver


@dataclass
class Summary:
    cases: Counter = field(default_factory=Counter)  # kind -> cases run
    outcomes: Counter = field(default_factory=Counter)  # ok / inspect_error / parse_error ...
    crashes: Counter = field(default_factory=Counter)  # signature -> count
    timeouts: int = 0
    saved: list[Path] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.cases.values())

    @property
    def crash_count(self) -> int:
        return sum(self.crashes.values())

    @property
    def new_crashes(self) -> dict[str, int]:
        """Crash signatures not in `KNOWN_CRASHES`."""
        return {sig: n for sig, n in self.crashes.items() if known_crash(sig) is None}

    def text(self) -> str:
        cap = sum(n for k, n in self.cases.items() if not k.startswith("parser:"))
        lines = [f"fuzz: {self.total} cases in {self.seconds:.0f} s "
                 f"({cap} mutated captures, {self.total - cap} direct parser inputs); "
                 f"crashes: {self.crash_count} ({len(self.crashes)} distinct); timeouts: {self.timeouts}"]
        for k in sorted(self.cases):
            lines.append(f"  {k:28s} {self.cases[k]:7d}")
        lines.append("  outcomes: " + ", ".join(f"{k}={v}" for k, v in sorted(self.outcomes.items())))
        for sig, n in self.crashes.most_common():
            known = known_crash(sig)
            lines.append(f"  CRASH {sig} x{n}" + (f"  (known: {known})" if known else "  NEW"))
        for p in self.saved:
            lines.append(f"  saved {p}")
        return "\n".join(lines)


def known_crash(sig: str) -> str | None:
    base = sig.split(":", 1)[0]
    return KNOWN_CRASHES.get(base)


def _editcap(src: Path, dst: Path, seed: int, keep_headers: bool) -> bool:
    cmd = ["editcap", "-E", "0.02", "--seed", str(seed)]
    if keep_headers:
        cmd += ["-o", "66"]
    cmd += [str(src), str(dst)]
    try:
        r = subprocess.run(cmd, capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return r.returncode == 0 and dst.exists()


def _randpkt(dst: Path, seed: int) -> bool:
    # randpkt has no seed option: it seeds from time; the output is saved with any crash
    try:
        r = subprocess.run(["randpkt", "-r", "-b", "2000", "-c", "300", str(dst)],
                           capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return r.returncode == 0 and dst.exists()


def fuzz(seconds: float, seed: int = 0, *, crash_dir: Path = DEFAULT_CRASH_DIR, timeout: float = 10.0,
         memory_mb: int = 1024,
         kinds: tuple[str, ...] = ("editcap", "bytes", "randpkt", "parser", "fragments", "gzip", "keylog"),
         max_cases: int | None = None, verbose: bool = False) -> Summary:
    """Run mutated cases for ``seconds`` (or ``max_cases``); returns the `Summary`."""
    rng = random.Random(seed)
    crash_dir = Path(crash_dir)
    seeds = load_seeds()
    files = sample_files()
    have_editcap = shutil.which("editcap") is not None
    have_randpkt = shutil.which("randpkt") is not None
    weights = {"editcap": 4 if have_editcap else 0, "bytes": 4, "randpkt": 1 if have_randpkt else 0,
               "parser": 6, "tshark": 1 if have_editcap else 0, "fragments": 2, "gzip": 2, "keylog": 2}
    choices = [k for k in kinds if weights.get(k)]
    wts = [weights[k] for k in choices]
    parser_targets = [t for t in PARSER_TARGETS if seeds.messages.get(t)]
    summary = Summary()
    seen_sigs: set[str] = set()
    worker = Worker(memory_mb)
    t0 = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="tlsinspect-fuzzcases-"))
    n = 0
    try:
        while time.monotonic() - t0 < seconds and (max_cases is None or n < max_cases):
            n += 1
            kind = rng.choices(choices, wts)[0]
            case_seed = rng.randrange(1 << 31)
            label, run_kind, data = kind, "capture", None
            if kind == "editcap":
                src = files[case_seed % len(files)]
                keep = bool(case_seed & 1 << 8)
                out = tmp / "editcap.pcap"
                if not _editcap(src, out, case_seed, keep):
                    continue
                data = out.read_bytes()
                label = f"editcap{' -o 66' if keep else ''}"
                origin = f"editcap -E 0.02 --seed {case_seed}{' -o 66' if keep else ''} {src.name}"
            elif kind == "bytes":
                name = sorted(seeds.captures)[case_seed % len(seeds.captures)]
                crng = random.Random(case_seed)
                data = mutate_capture(crng, seeds.captures[name], list(seeds.captures.values()))
                origin = f"python mutation seed {case_seed} of {name}"
            elif kind in ("fragments", "gzip"):
                pcaps = sorted(k for k, v in seeds.captures.items() if split_pcap(v) is not None)
                name = pcaps[case_seed % len(pcaps)]
                crng = random.Random(case_seed)
                raw = seeds.captures[name]
                if kind == "gzip" and crng.random() < 0.5:
                    raw = fragment_capture(crng, raw)
                data = fragment_capture(crng, raw) if kind == "fragments" else gzip_capture(crng, raw)
                origin = f"{kind} seed {case_seed} of {name}"
            elif kind == "keylog":
                data = mutate_keylog(random.Random(case_seed), KEYLOG_SEED.read_bytes())
                run_kind = "keylog"
                origin = f"key log mutation seed {case_seed}"
            elif kind == "randpkt":
                out = tmp / "randpkt.pcap"
                if not _randpkt(out, case_seed):
                    continue
                data = out.read_bytes()
                origin = "randpkt -r -b 2000 -c 300"
            elif kind == "tshark":  # the tshark engine on an editcap-mutated sample (slow: opt-in)
                src = files[case_seed % len(files)]
                out = tmp / "editcap.pcap"
                if not _editcap(src, out, case_seed, bool(case_seed & 1 << 8)):
                    continue
                data = out.read_bytes()
                label, run_kind = "tshark-engine", "capture_tshark"
                origin = f"editcap -E 0.02 --seed {case_seed} {src.name} (tshark engine)"
            else:
                target = parser_targets[case_seed % len(parser_targets)]
                crng = random.Random(case_seed)
                pool = seeds.messages[target]
                base = crng.choice(pool)
                data = base if crng.random() < 0.02 else mutate_bytes(crng, base, pool)
                label, run_kind = f"parser:{target}", target
                origin = f"parser {target} seed {case_seed}"
            summary.cases[label] += 1
            status, text, sig = worker.run(run_kind, data, timeout)
            if status == "ok":
                summary.outcomes[text.split(":")[0].split(" ")[0]] += 1
                continue
            if status == "timeout":
                summary.timeouts += 1
                sig = f"timeout:{label}"
            else:
                summary.crashes[sig] += 1
            if sig not in seen_sigs:
                seen_sigs.add(sig)
                summary.saved.append(_save(crash_dir, sig, run_kind, data, origin, text))
            if verbose:
                print(f"[{n}] {status} {sig} ({origin})", file=sys.stderr)
    finally:
        worker.close()
        shutil.rmtree(tmp, ignore_errors=True)
    summary.seconds = time.monotonic() - t0
    return summary


def _save(crash_dir: Path, sig: str, kind: str, data: bytes, origin: str, text: str) -> Path:
    crash_dir.mkdir(parents=True, exist_ok=True)
    h = hashlib.sha256(data).hexdigest()[:12]
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in sig)[:60]
    ext = ".pcap" if kind == "capture" else ".bin"
    path = crash_dir / f"{safe}-{kind}-{h}{ext}"
    path.write_bytes(data)
    path.with_suffix(path.suffix + ".txt").write_text(
        f"target: {kind}\nsignature: {sig}\norigin: {origin}\n\n{text}\n", encoding="utf-8")
    return path


def replay(path: Path) -> int:
    """Run one saved input in this process and show what happens (no worker, no timeout)."""
    meta = path.with_suffix(path.suffix + ".txt")
    kind = "capture"
    if meta.exists():
        for ln in meta.read_text(encoding="utf-8").splitlines():
            if ln.startswith("target: "):
                kind = ln.split(": ", 1)[1]
    elif path.suffix == ".bin":
        raise SystemExit("a .bin input needs its .txt (target) beside it")
    with tempfile.TemporaryDirectory() as d:
        print(run_case(kind, path.read_bytes(), d))
    return 0


# ---------------------------------------------------------------------------------------------
# atheris (optional, coverage-guided)


ATHERIS_TARGETS = ("fuzz_file", "fuzz_stream", "fuzz_cert")


def atheris_main(target: str, argv: list[str]) -> None:  # pragma: no cover - needs atheris
    import atheris

    with atheris.instrument_imports():
        import inspector  # noqa: F401
        from inspector import x509 as certs  # noqa: F401
        from inspector.tls import messages, records, session  # noqa: F401
        from inspector import flows, tcp, link  # noqa: F401
        from inspector.sources import capture
        from inspector.engines import python as engine
    tmpdir = tempfile.mkdtemp(prefix="tlsinspect-atheris-")

    def one(data: bytes) -> None:
        if target == "fuzz_file":
            run_capture(data, tmpdir, cli=False)  # the library only: 3x the executions
        elif target == "fuzz_stream":
            run_zeek_stream(data)
        else:
            run_parser("x509", data)

    atheris.Setup([sys.argv[0]] + argv, one)
    atheris.Fuzz()


def run_atheris(seconds: float, crash_dir: Path, seeds: Seeds) -> dict[str, str]:
    """Each target in its own process for ``seconds / 3``; returns target -> last status line."""
    results = {}
    per = max(10, int(seconds / len(ATHERIS_TARGETS)))
    corpus_root = Path(tempfile.mkdtemp(prefix="tlsinspect-atheris-corpus-"))
    for target in ATHERIS_TARGETS:
        cdir = corpus_root / target
        cdir.mkdir()
        src = {"fuzz_file": list(seeds.captures.values()), "fuzz_stream": seeds.messages.get("zeek_stream", []),
               "fuzz_cert": seeds.messages.get("x509", [])}[target]
        for i, s in enumerate(src):
            (cdir / f"seed{i}").write_bytes(s)
        out = crash_dir / "atheris" / target
        out.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, __file__, "--atheris-target", target, "--",
               str(cdir), f"-artifact_prefix={out}/", "-max_len=65536", "-rss_limit_mb=2048",
               "-timeout=10", f"-max_total_time={per}", "-print_final_stats=1"]
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=per + 120)
            tail = [ln for ln in (r.stdout + r.stderr).splitlines() if ln.strip()]
            results[target] = f"exit {r.returncode}: " + " | ".join(
                ln for ln in tail if ln.startswith(("stat::number_of_executed_units", "==", "Done"))
                or "crash" in ln.lower())[:400]
        except subprocess.TimeoutExpired:
            results[target] = "timed out"
    shutil.rmtree(corpus_root, ignore_errors=True)
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=600)
    ap.add_argument("--seed", type=int, default=None, help="default: from the clock (printed)")
    ap.add_argument("--crash-dir", type=Path, default=DEFAULT_CRASH_DIR)
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds per case")
    ap.add_argument("--memory-mb", type=int, default=1024, help="address space per case above the imports")
    ap.add_argument("--kinds", default="editcap,bytes,randpkt,parser,fragments,gzip,keylog",
                    help="comma-separated; add 'tshark' to also run the tshark engine (slow)")
    ap.add_argument("--atheris", action="store_true", help="also run the atheris targets (half the time)")
    ap.add_argument("--atheris-target", help=argparse.SUPPRESS)
    ap.add_argument("--replay", type=Path, help="run one saved input and show the traceback")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("rest", nargs="*", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.atheris_target:
        atheris_main(args.atheris_target, args.rest)
        return 0
    if args.replay:
        return replay(args.replay)
    seed = args.seed if args.seed is not None else int(time.time()) & 0xFFFFFFFF
    print(f"fuzz: seed {seed}, {args.seconds:g} s, crashes to {args.crash_dir}, captures through the "
          f"{' and '.join(capture_engines())} engine(s)", flush=True)
    seconds = args.seconds
    atheris_results = None
    if args.atheris:
        try:
            import atheris  # noqa: F401
        except ImportError:
            print("fuzz: atheris is not installed (pip install -e '.[fuzz]'); skipping it")
        else:
            atheris_results = run_atheris(seconds / 2, args.crash_dir, load_seeds())
            seconds = seconds / 2
    s = fuzz(seconds, seed, crash_dir=args.crash_dir, timeout=args.timeout, memory_mb=args.memory_mb,
             kinds=tuple(args.kinds.split(",")), verbose=args.verbose)
    print(s.text())
    bad = bool(s.new_crashes or s.timeouts)
    if atheris_results:
        for t, line in atheris_results.items():
            print(f"  atheris {t}: {line}")
            if not line.startswith("exit 0"):
                bad = True
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
