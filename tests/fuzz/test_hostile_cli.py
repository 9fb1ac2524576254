"""Every error one line with a documented exit code (issue 14, item 8): usage errors that Typer
drew as boxes, ``certs --trust-set nosuch``, ``--engine dask`` without Dask."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from inspector.cli.app import app

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "pcaps" / "ca_chain_8443.pcap"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "inspector", *args], capture_output=True, text=True,
                          cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, timeout=120)


@pytest.mark.parametrize("args, message", [
    (["certs", str(SAMPLE), "--trust-set", "nosuch"], "unknown trust set 'nosuch' (choose from mozilla, cisco-mic)"),
    (["report", str(SAMPLE), "--format", "nosuch"], "Invalid value for '--format'"),
    (["report"], "Missing argument 'FILE'."),
    (["certs", "/nonexistent/x.pcap"], "cannot open /nonexistent/x.pcap"),
    (["report", str(ROOT)], "is a directory (tlsinspect batch"),
    (["certs", str(SAMPLE), "--port", "99999"], "Invalid value for '--port'"),  # was accepted
])
def test_errors_are_one_line_and_exit_2(args, message):
    """Before: Typer drew a box of several lines around usage errors."""
    r = run(*args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("tlsinspect: ") and message in r.stderr
    assert "╭" not in r.stderr and "Traceback" not in r.stderr


def test_exit_codes_pass_through_main():
    assert run(str(SAMPLE)).returncode == 0
    assert run(str(ROOT / "pcaps" / "expired_root_443.pcap"), "--fail-on", "info").returncode == 1


def test_certs_trust_set_nosuch_is_one_line_in_the_app_too():
    r = CliRunner().invoke(app, ["certs", str(SAMPLE), "--trust-set", "nosuch"])
    assert r.exit_code == 2 and r.output.strip() == "tlsinspect: unknown trust set 'nosuch' (choose from mozilla, cisco-mic)"


def test_dask_engine_without_dask_fails_before_writing_anything(tmp_path, monkeypatch):
    """Before: the batch wrote error rows for known-bad inputs, then failed on the missing Dask."""
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if Dask were not installed
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "a.pcap").write_bytes(SAMPLE.read_bytes())
    import os
    os.mkfifo(inputs / "b.pcap")  # a known-bad input: used to become an error row at once
    out = tmp_path / "results"
    r = CliRunner().invoke(app, ["batch", str(inputs), "--output", str(out), "--engine", "dask"])
    assert r.exit_code == 2
    assert r.output.strip() == "tlsinspect: --engine dask needs Dask: pip install 'tlsinspect[dask]'"
    assert not out.exists()
