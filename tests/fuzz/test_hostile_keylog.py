"""Key logs under attack or bad luck (issue 14, item 4; issue 11, item 11): streamed line by line
with a size cap, FIFOs read with a timeout, devices refused, one-line errors, memory flat in the
key log's size; an empty or unmatched key log is a capture warning and the analysis goes on; a key
log beside the capture is used without options."""

from __future__ import annotations

import os
import shutil
import threading
import tracemalloc
from pathlib import Path

import pytest
from typer.testing import CliRunner

import inspector
from inspector import Limits
from inspector.api import _read_keylog
from inspector.cli.app import app
from inspector.errors import InspectError
from inspector.tls.decrypt import MAX_KEYLOG_LINE, KeyLogParser, parse_keylog

PCAPS = Path(__file__).resolve().parents[2] / "pcaps"
TLS13, TLS13_KEYS = PCAPS / "tls13_443.pcap", PCAPS / "tls13_443.keylog"


def line(i: int, label: str = "CLIENT_RANDOM") -> bytes:
    return f"{label} {i:064x} {'ab' * 48}\n".encode()


def test_streaming_parser_is_the_same_whatever_the_chunking():
    text = (b"# SSL/TLS secrets log file\r\n" + line(1) + b"junk\n" + line(2, "CLIENT_TRAFFIC_SECRET_0")
            + b"x" * 5000 + b"\n" + line(3) + b"CLIENT_RANDOM 00 11")  # last line: no newline, bad
    whole = parse_keylog(text)
    for size in (1, 7, 64, 4096):
        p = KeyLogParser()
        for i in range(0, len(text), size):
            p.feed(text[i:i + size])
        log = p.close()
        assert log.secrets == whole.secrets and log.bad_lines == whole.bad_lines == 3, size
    assert sorted(whole.secrets) == [i.to_bytes(32, "big") for i in (1, 2, 3)]


def test_over_long_lines_are_dropped_as_they_come():
    p = KeyLogParser()
    tracemalloc.start()
    try:
        for _ in range(64):
            p.feed(b"\0" * (1 << 20))  # 64 MiB without a newline (/dev/zero, a sparse file)
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * MAX_KEYLOG_LINE + (1 << 20)
    p.feed(b"\n" + line(9))
    log = p.close()
    assert len(log) == 1 and log.bad_lines == 1


def test_key_log_memory_is_flat_at_ten_times_the_cap(tmp_path):
    """A key log 10x the size cap: only the last cap bytes are read (newest secrets last), so
    memory is bounded by the cap, not the file; the warning says so."""
    cap = 1 << 20
    path = tmp_path / "big.keys"
    n = 10 * cap // len(line(0))
    with open(path, "wb") as f:
        for start in range(0, n, 10_000):
            f.write(b"".join(line(i) for i in range(start, min(n, start + 10_000))))
    assert path.stat().st_size >= 10 * cap - len(line(0))
    tracemalloc.start()
    try:
        log = _read_keylog(path, Limits(max_keylog_bytes=cap))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    kept = cap // len(line(0))
    assert kept - 2 <= len(log) <= kept + 1
    assert (n - 1).to_bytes(32, "big") in log.secrets and (0).to_bytes(32, "big") not in log.secrets
    assert log.bad_lines == 0  # the cut line at the start is skipped, not counted
    assert [c for c, _ in log.warnings] == ["keylog_truncated"]
    assert peak < 4 * cap, peak


def test_sparse_twenty_gigabyte_key_log_is_read_from_its_end(tmp_path):
    """Before: read whole, MemoryError (exit 3)."""
    path = tmp_path / "sparse.keys"
    with open(path, "wb") as f:
        f.truncate(20 * 1024 ** 3)
    cap = inspector.read_capture(TLS13, keylog=path, limits=Limits(max_keylog_bytes=4 << 20))
    codes = [w.split(":", 1)[0] for w in cap.warnings]
    assert codes == ["keylog_truncated", "keylog_empty"]
    assert len(cap.flows) == 1 and not cap.flows.iloc[0].decrypted


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_device_is_refused_in_one_line(device):
    if not os.path.exists(device):
        pytest.skip(f"no {device}")
    with pytest.raises(InspectError, match=r"is a device or socket, not a file"):
        _read_keylog(device)
    r = CliRunner().invoke(app, ["report", str(TLS13), "--keylog", device])
    assert r.exit_code == 2
    assert r.output.strip().count("\n") == 0 and "not a file" in r.output


def test_a_directory_or_a_missing_file_is_one_line(tmp_path):
    for bad, why in ((tmp_path, "is a directory"), (tmp_path / "nope.keys", "No such file")):
        r = CliRunner().invoke(app, ["report", str(TLS13), "--keylog", str(bad)])
        assert r.exit_code == 2 and why in r.output and r.output.strip().count("\n") == 0


def _fifo(tmp_path) -> Path:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    path = tmp_path / "keys.fifo"
    os.mkfifo(path)
    return path


def test_fifo_without_a_writer_does_not_hang(tmp_path):
    """Before: the key log was opened blocking: a FIFO nobody writes to hung for ever."""
    cap = inspector.read_capture(TLS13, keylog=_fifo(tmp_path))
    assert [w.split(":", 1)[0] for w in cap.warnings] == ["keylog_empty"]
    assert len(cap.flows) == 1


def test_fifo_whose_writer_stalls_is_an_error_not_a_hang(tmp_path):
    fifo = _fifo(tmp_path)
    ready = threading.Event()

    def writer():
        fd = os.open(fifo, os.O_RDWR)  # held open before the reader comes, as `<(cat keys)` does
        ready.set()
        os.write(fd, TLS13_KEYS.read_bytes())
        done.wait(30)
        os.close(fd)

    done = threading.Event()
    t = threading.Thread(target=writer)
    t.start()
    try:
        ready.wait(30)
        log = _read_keylog(fifo, Limits(keylog_timeout=0.5))  # the writer never closes: idle timeout
    except InspectError as e:
        assert "no data for 0.5 s (a FIFO whose writer sends nothing)" in str(e)
        log = None
    finally:
        done.set()
        t.join()
    assert log is None  # a FIFO that stays open and silent is an error, not a hang


def test_fifo_that_ends_is_used(tmp_path):
    fifo = _fifo(tmp_path)
    data = TLS13_KEYS.read_bytes()

    def writer():
        with open(fifo, "wb") as f:
            f.write(data)

    rfd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # a reader exists, so the writer's open returns
    t = threading.Thread(target=writer)
    t.start()
    t.join()
    try:
        log = _read_keylog(fifo)
    finally:
        os.close(rfd)
    assert len(log) == len(parse_keylog(data)) > 0


def test_empty_key_log_is_a_warning_and_the_analysis_goes_on(tmp_path):
    """Issue 11.11.  Before: exit 2, nothing reported."""
    empty = tmp_path / "empty.keys"
    empty.write_bytes(b"")
    cap = inspector.read_capture(TLS13, keylog=empty)
    assert len(cap.flows) == 1 and cap.flows.iloc[0].outcome == "established"
    assert [w.split(":", 1)[0] for w in cap.warnings] == ["keylog_empty"]
    assert "keylog_empty" in set(cap.events["code"])


def test_key_log_matching_no_flow_is_a_warning(tmp_path):
    other = tmp_path / "other.keys"
    other.write_bytes(line(1) + line(2))
    cap = inspector.read_capture(TLS13, keylog=other)
    assert not cap.flows.iloc[0].decrypted
    unmatched = [w for w in cap.warnings if w.startswith("keylog_unmatched:")]
    assert len(unmatched) == 1 and "holds secrets for 2 connections" in unmatched[0]
    right = inspector.read_capture(TLS13, keylog=TLS13_KEYS)
    assert right.flows.iloc[0].decrypted and right.warnings == []


@pytest.mark.parametrize("suffix", [".keys", ".keylog", ".sslkeylog"])
def test_key_log_beside_the_capture_is_used_without_options(tmp_path, suffix):
    pcap = tmp_path / "lab.pcap"
    shutil.copy(TLS13, pcap)
    assert not inspector.read_capture(pcap).flows.iloc[0].decrypted
    shutil.copy(TLS13_KEYS, tmp_path / f"lab.pcap{suffix}")
    cap = inspector.read_capture(pcap)
    assert cap.flows.iloc[0].decrypted
    assert cap.warnings == [f"keylog_beside: using the key log {tmp_path / f'lab.pcap{suffix}'}, found beside "
                            "the capture"]
    out = tmp_path / "out.json"
    r = CliRunner().invoke(app, ["report", str(pcap), "--format", "json", "-o", str(out)])
    assert r.exit_code == 0 and '"decrypted": true' in out.read_text()


def test_batch_uses_the_key_log_beside_each_capture_and_does_not_read_it_as_a_capture(tmp_path):
    import pandas as pd

    inputs = tmp_path / "in"
    inputs.mkdir()
    shutil.copy(TLS13, inputs / "lab.pcap")
    shutil.copy(TLS13_KEYS, inputs / "lab.pcap.keys")
    results = tmp_path / "out"
    r = CliRunner().invoke(app, ["batch", str(inputs), "--output", str(results)])
    assert r.exit_code == 0, r.output
    flows = pd.read_parquet(results / "flows")
    assert len(flows) == 1 and bool(flows.iloc[0].decrypted)
