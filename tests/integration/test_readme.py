"""Every example of the README runs: the shell lines, the Python blocks and the DuckDB query.

The examples are taken from the README's fenced blocks, in order, and run in one scratch
directory, so the batch examples make the ``results/`` that the pandas, DuckDB and Dask blocks
read.  The README's placeholders are given real files (`PLACEHOLDERS`); an optional part in
brackets (``[--table flows|certificates]``) is run with its first choice.  What cannot run here
is listed in `NOT_RUN` with the reason, and each entry must still match a README line (so the
list cannot go stale).  Output blocks (no command) and ``make`` lines (this test is part of
``make test``) are not commands.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
MIX = "pcaps/cisco_lab_mix.pcapng"

#: README placeholder (whole word) -> what the example runs with
PLACEHOLDERS = {
    "FILE": MIX, "DIR_OR_GLOB": "captures/", "STORE": "ca.pem", "DIR": "out/",
}
#: README text -> the same example with a source this machine has (no interface traffic to tap)
REWRITES = {
    "tcpdump -i eth0 -w - 'tcp port 5061'": f"cat {MIX}",
    "-i eth0": "-i lo", "-i any": "-i lo",
    "--duration 600": "--duration 1",
}
#: README line fragment -> why it is not run here
NOT_RUN = {
    "--scheduler tcp://sched:8786": "needs a running Dask scheduler at sched:8786",
}


def blocks(text: str) -> list[tuple[str, str]]:
    return re.findall(r"^```(\w*)\n(.*?)^```", text, re.S | re.M)


def shell_commands(text: str) -> list[str]:
    out = []
    for lang, body in blocks(text):
        if lang not in ("", "sh", "bash", "shell"):
            continue
        for line in body.splitlines():
            line = line.removeprefix("$ ").strip()
            if not re.match(r"(tlsinspect|cat|tcpdump)\b", line):
                continue  # output shown in the README, or make targets
            out.append(line)
    return out


def runnable(line: str) -> str:
    def first_choice(m: re.Match) -> str:
        return re.sub(r"(\S+?)\|\S+", r"\1", m.group(1))
    line = re.sub(r"\[([^\]]*--[^\]]*)\]", first_choice, line)  # [--opt a|b] -> --opt a
    for old, new in REWRITES.items():
        line = line.replace(old, new)
    for word, value in PLACEHOLDERS.items():
        line = re.sub(rf"(?<![\w/.-]){word}(?![\w/.-])", value, line)
    if " live " in f" {line} " and "--duration" not in line:
        line = line.split("#")[0].rstrip() + " --duration 1"
    return line


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    d = tmp_path_factory.mktemp("readme")
    (d / "pcaps").symlink_to(ROOT / "pcaps")
    (d / "notebooks").symlink_to(ROOT / "notebooks")
    shutil.copy(ROOT / "pcaps" / "lsc_5061.pcap", d / "a.pcap")
    shutil.copy(ROOT / "pcaps" / "mic_5061.pcap", d / "capture.pcap")
    shutil.copy(ROOT / "pcaps" / "tls13_443.pcap", d / "site-1.pcapng")
    shutil.copy(ROOT / "pcaps" / "tls13_443.keylog", d / "keys.log")
    subprocess.run(["editcap", "-c", "70", str(ROOT / MIX), str(d / "ring_.pcapng")], check=True)
    subprocess.run(f"gzip -c {ROOT / MIX} > {d / 'old.pcap.gz'}", shell=True, check=True)
    for sub in ("captures", "site-a/x"):
        (d / sub).mkdir(parents=True)
    for name in ("lsc_5061.pcap", "mic_2443.pcap", "expired_root_443.pcap"):
        shutil.copy(ROOT / "pcaps" / name, d / "captures" / name)
    shutil.copy(ROOT / "pcaps" / "sni_mismatch_8443.pcap", d / "site-a/x/one.pcap")
    shutil.copy(ROOT / "pcaps" / "dhe1024_443.pcap", d / "more.pcapng")
    import certifi
    shutil.copy(certifi.where(), d / "ca.pem")
    shutil.copy(certifi.where(), d / "ca-bundle.pem")
    with tarfile.open(d / "callmanager-trust.tar", "w") as t:
        t.add(d / "ca.pem", arcname="CallManager-trust/ca.pem")
    bin_dir = d / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "tlsinspect"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m inspector "$@"\n')
    shim.chmod(0o755)
    return d


def _env(scratch: Path) -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT), "PATH": f"{scratch / 'bin'}:{os.environ['PATH']}",
            "COLUMNS": "120"}


TEXT = README.read_text(encoding="utf-8")
COMMANDS = shell_commands(TEXT)


def test_the_readme_has_examples_and_every_not_run_entry_is_in_it():
    assert len(COMMANDS) >= 40
    for fragment in NOT_RUN:
        assert any(fragment in c for c in COMMANDS), f"NOT_RUN entry {fragment!r} no longer in the README"


def _example_id(line: str) -> str:
    return re.sub(r"\s+", " ", line.split("  #")[0]).strip()[:70]


@pytest.mark.parametrize("line", COMMANDS, ids=[f"{i:02d}:{_example_id(c)}" for i, c in enumerate(COMMANDS)])
def test_shell_example_runs(scratch, line):
    """Each README shell example, in a scratch directory where the batch dataset (results/) exists,
    so that the summary lines do not depend on the batch lines running first."""
    if any(f in line for f in NOT_RUN):
        pytest.skip(next(r for f, r in NOT_RUN.items() if f in line))
    if " live " in f" {line} " and not (os.geteuid() == 0 and shutil.which("dumpcap")):
        pytest.skip("live capture needs root and dumpcap")
    _batch_results(scratch)
    cmd = runnable(line)
    r = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], cwd=scratch, env=_env(scratch),
                       capture_output=True, text=True, timeout=300)
    allowed = {0, 1} if "--fail-on" in cmd else {0}
    assert r.returncode in allowed and "Traceback" not in r.stderr, \
        f"ran: {cmd}\n    exit {r.returncode}: {r.stderr.strip()[-400:]}"


def _batch_results(scratch: Path) -> None:
    if not (scratch / "results").is_dir():
        subprocess.run([sys.executable, "-m", "inspector", "batch", "captures/", "-o", "results/", "--quiet"],
                       cwd=scratch, env=_env(scratch), check=True, timeout=300)


def test_every_python_and_sql_example_runs(scratch):
    _batch_results(scratch)
    pys = [body for lang, body in blocks(TEXT) if lang == "python"]
    sqls = [body for lang, body in blocks(TEXT) if lang == "sql"]
    assert len(pys) >= 3 and sqls
    cwd = os.getcwd()
    os.chdir(scratch)
    try:
        for body in pys:
            exec(compile(body, "README.md", "exec"), {})  # noqa: S102 - the README's own examples
        import duckdb
        for body in sqls:
            rows = duckdb.sql(body).fetchall()
            assert rows, body
    finally:
        os.chdir(cwd)
