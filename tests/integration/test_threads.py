"""`--threads 2` gives the same csv/json output as `--threads 1` on every sample capture (issue 9)."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PCAPS = sorted(p for p in (ROOT / "pcaps").rglob("*") if p.suffix in (".pcap", ".pcapng", ".gz"))


def test_every_sample_is_compared():
    assert len(PCAPS) >= 15


def _run(path: Path, fmt: str, threads: int) -> str:
    r = subprocess.run([sys.executable, "-m", "inspector", str(path), "--format", fmt, "--threads", str(threads)],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode in (0, 1), r.stderr
    return r.stdout


@pytest.mark.parametrize("fmt", ["csv", "json"])
@pytest.mark.parametrize("path", PCAPS, ids=[p.relative_to(ROOT / "pcaps").as_posix() for p in PCAPS])
def test_two_threads_write_what_one_does(path, fmt):
    one = _run(path, fmt, 1)
    assert one.strip()
    assert _run(path, fmt, 2) == one


def test_read_capture_threads_gives_the_same_tables():
    from inspector.api import read_capture
    p = ROOT / "pcaps" / "cisco_lab_mix.pcapng"
    one, two = read_capture(p, threads=1), read_capture(p, threads=2)
    assert len(one.flows) == 11
    assert one.flows.equals(two.flows)
    assert one.events.equals(two.events)
