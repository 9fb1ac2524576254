"""The command line as a user runs it in a terminal and in pipes: widths, streams, exit codes,
formats (jsonl, zeek), filters and the conventions of a Unix tool."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

import inspector
from inspector.output import report

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
MIX = ROOT / "pcaps" / "cisco_lab_mix.pcapng"


def tl(*args, stdin=None, env=None, shell=False):
    cmd = args[0] if shell else [sys.executable, "-m", "inspector", *map(str, args)]
    return subprocess.run(cmd, input=stdin, capture_output=True, env={**ENV, **(env or {})},
                          cwd=ROOT, timeout=120, shell=shell, executable="/bin/bash" if shell else None)


@pytest.fixture(scope="module")
def mix():
    return inspector.read_capture(MIX)


def rendered(cap, width, **kw):
    console = Console(width=width, record=True, file=open(os.devnull, "w"))
    report.render_table(cap, console, **kw)
    return console.export_text()


def table_part(text):
    return text.split("\n\n", 1)[0]


def test_the_title_and_caption_count_in_the_singular_and_the_plural(mix):
    one = inspector.read_capture(ROOT / "pcaps" / "lsc_5061.pcap")
    assert (len(one.flows), one.stats["tcp_connections"]) == (1, 1)
    text = " ".join(rendered(one, 200).split())
    assert "lsc_5061.pcap: 1 TLS flow " in text and "14 frames, 1 TCP connection, 1 TLS" in text
    text = " ".join(rendered(mix, 200).split())
    assert "11 TLS flows" in text and "139 frames, 11 TCP connections, 11 TLS" in text


@pytest.mark.parametrize("width", [80, 100, 120, 200])
def test_table_fits_every_width_and_keeps_outcome_and_failing_side(mix, width):
    text = rendered(mix, width)
    lines = table_part(text).splitlines()
    assert all(len(line.rstrip()) <= width for line in text.splitlines())
    header = next(line for line in lines if line.startswith("┃"))
    assert "outcome" in header and "client" in header and "server" in header
    # headers never break across lines (the old 'servi' / 'ce')
    assert all(h.strip() for h in header.strip("┃").split("┃"))
    joined = " ".join(lines)
    flat = "".join(line.replace("│", "").replace(" ", "") for line in lines)
    assert "failed:serverunknown_ca" in flat  # flow 2: the server rejected the LSC
    assert "failed:clientunknown_ca" in flat  # flow 4: the client rejected the self-signed cert
    assert joined.count("established") >= 5
    for ep in ("10.10.1.20:51002", "10.48.36.215:5061"):
        assert ep in joined  # IPv4 endpoints are not cut at any width


def test_columns_grow_with_the_terminal(mix):
    headers = {}
    for w in (80, 100, 120, 200):
        header = next(line for line in rendered(mix, w).splitlines() if line.startswith("┃"))
        headers[w] = [h.strip() for h in header.strip("┃").split("┃")]
    assert headers[80] == ["#", "client", "server", "outcome"]
    assert "ver" in headers[100]
    assert {"service", "version"} <= set(headers[120])
    assert {"service", "version", "cipher", "SNI", "server cert", "client cert"} <= set(headers[200])
    # a long cell wraps instead of vanishing: the LSC's subject appears at 200, folded or not
    assert "SEP001122334455" in rendered(mix, 200).replace("│", "").replace(" ", "")


def test_columns_env_is_honoured_when_piped():
    narrow = tl(MIX, env={"COLUMNS": "80"}).stdout.decode()
    wide = tl(MIX, env={"COLUMNS": "200"}).stdout.decode()
    assert max(map(len, narrow.splitlines())) <= 80 < max(map(len, wide.splitlines())) <= 200
    assert "cipher" not in narrow.split("\n\n")[0] and "cipher" in wide.split("\n\n")[0]


def test_control_characters_in_cells_are_shown_as_escapes():
    assert report.cell("evil\x1b[2Jname") == "evil\\x1b[2Jname"
    assert report.cell("cucm1.example.lab") == "cucm1.example.lab"


def test_stdin_pipe_and_process_substitution_read_a_stream(mix):
    n = len(mix.flows)
    piped = tl("-", "--format", "jsonl", stdin=MIX.read_bytes())
    assert piped.returncode == 0, piped.stderr
    rows = [json.loads(x) for x in piped.stdout.decode().splitlines()]
    assert len(rows) == n and rows[0]["capture"] == "stdin"
    assert sorted(r["client_port"] for r in rows) == sorted(mix.flows.client_port)
    gz = tl(f"gzip -c {MIX} | {sys.executable} -m inspector - --format csv", shell=True)
    assert gz.returncode == 0 and len(gz.stdout.decode().splitlines()) == n + 1
    sub = tl(f"{sys.executable} -m inspector <(cat {MIX}) --failed --format csv", shell=True)
    assert sub.returncode == 0, sub.stderr
    assert len(sub.stdout.decode().splitlines()) == 1 + int(mix.flows.outcome.isin(["failed", "reset"]).sum())
    dev = tl(f"{sys.executable} -m inspector /dev/stdin --format json < {MIX}", shell=True)
    assert len(json.loads(dev.stdout)["flows"]) == n


def test_several_files_and_globs_report_one_after_the_other():
    r = tl("pcaps/lsc_*.pcap", "pcaps/mic_5061.pcap", "--format", "csv")
    assert r.returncode == 0, r.stderr
    caps = [line.split(",")[0] for line in r.stdout.decode().splitlines()[1:]]
    assert caps == ["lsc_2443.pcap", "lsc_5061.pcap", "lsc_rejected_unknown_ca.pcap", "mic_5061.pcap"]
    table = tl("pcaps/lsc_5061.pcap", "pcaps/mic_5061.pcap").stdout.decode()
    assert "lsc_5061.pcap: 1 TLS flow" in table and "mic_5061.pcap: 1 TLS flow" in table
    docs = json.loads(tl("pcaps/lsc_5061.pcap", "pcaps/mic_5061.pcap", "--format", "json").stdout)
    assert [d["capture"] for d in docs] == ["lsc_5061.pcap", "mic_5061.pcap"]


def test_merge_joins_a_capture_split_in_two(tmp_path, mix):
    """editcap -c splits the sample (connections cut across the files); --merge rebuilds them."""
    subprocess.run(["editcap", "-c", "70", str(MIX), str(tmp_path / "part.pcapng")], check=True)
    parts = sorted(tmp_path.glob("part*.pcapng"))
    assert len(parts) == 2
    apart = json.loads(tl(*parts, "--format", "json").stdout)
    merged = json.loads(tl(*parts, "--merge", "--format", "json").stdout)
    assert sum(len(d["flows"]) for d in apart) > len(mix.flows) or \
        [f["outcome"] for d in apart for f in d["flows"]].count("incomplete") > 0
    key = sorted((f["client_port"], f["outcome"], f["alerts"][-1] if f["alerts"] else None)
                 for f in merged["flows"])
    assert key == sorted((int(r.client_port), r.outcome, list(r.alerts)[-1] if len(r.alerts) else None)
                         for r in mix.flows.itertuples())


@pytest.mark.parametrize("args", ["--format table", "--format csv", "--format json", "--format jsonl",
                                  "--format jsonl --stream", "--format zeek --table flows"])
def test_broken_pipe_ends_quietly_with_0(args):
    r = tl(f"set -o pipefail; {sys.executable} -m inspector {MIX} {args} | head -c 10 >/dev/null",
           shell=True)
    assert r.returncode == 0, r.stderr
    assert r.stderr == b""


def test_broken_pipe_in_any_command_ends_with_0():
    """typer turns EPIPE into exit 1 for commands that do not catch it (certs): main() does."""
    r = tl(f"set -o pipefail; {sys.executable} -m inspector certs {MIX} | head -c 10 >/dev/null", shell=True)
    assert r.returncode == 0, r.stderr
    assert r.stderr == b""


def test_exit_codes(tmp_path):
    assert tl(MIX).returncode == 0
    assert tl(MIX, "--fail-on", "critical").returncode == 1
    assert tl("pcaps/mic_5061.pcap", "--fail-on", "critical").returncode == 0
    bad = tmp_path / "notes.pcap"
    bad.write_text("hello")
    both = tl(bad, "pcaps/mic_5061.pcap", "--format", "csv")
    assert both.returncode == 2  # the good file is still reported
    assert both.stdout.decode().count("mic_5061.pcap") == 1
    assert both.stderr.decode().startswith("tlsinspect: ") and both.stderr.count(b"\n") == 1
    assert tl("nothing-*.pcap").returncode == 2
    assert b"no file matches" in tl("nothing-*.pcap").stderr
    assert tl(MIX, "--port", "0").returncode == 2 and tl(MIX, "--port", "99999").returncode == 2
    assert tl(MIX, "--port", "65535").returncode == 0
    tty = tl("-", stdin=b"")  # an empty pipe: not a capture
    assert tty.returncode == 2 and b"empty" in tty.stderr


@pytest.mark.parametrize("args, message", [
    (["--table", "findings"], "--table findings does not apply to --format table"),
    (["--format", "json", "--table", "events"], "does not apply to --format json"),
    (["--format", "zeek", "--table", "events"], "does not apply to --format zeek"),
    (["--zeek-json"], "--zeek-json needs --format zeek"),
    (["--stream"], "--stream works with --format csv or jsonl"),
    (["--filter", "outcome ="], "bad --filter: unexpected character '=' at column 9"),
    (["--filter", "nope == 1"], "bad --filter: unknown column 'nope' at column 1"),
])
def test_options_that_do_not_apply_are_refused_in_one_line(args, message):
    r = tl(MIX, *args)
    assert r.returncode == 2
    assert message in r.stderr.decode() and r.stderr.count(b"\n") == 1


def test_filter_on_the_table_csv_and_fail_on(mix):
    r = tl(MIX, "--filter", 'outcome == "failed" and server_port == 5061')
    text = r.stdout.decode()
    assert "1 TLS flow (of 11)" in text and "10.10.1.20:51002" in text and "CAPF-0badc0de" in text
    assert "6972" not in text.split("\n\n")[0]
    rows = tl(MIX, "--failed", "--format", "csv", "--table", "findings").stdout.decode().splitlines()
    failed_ids = set(mix.flows[mix.flows.outcome.isin(["failed", "reset"])].flow_id)
    assert {int(line.split(",")[1]) for line in rows[1:]} <= failed_ids
    # --fail-on looks at the reported flows only
    assert tl(MIX, "--filter", 'outcome == "established"', "--fail-on", "critical").returncode == 0
    assert tl(MIX, "--failed", "--fail-on", "critical").returncode == 1


def test_jsonl_one_flow_per_line_and_findings_with_evidence_objects(mix):
    rows = [json.loads(x) for x in tl(MIX, "--format", "jsonl").stdout.decode().splitlines()]
    assert [r["flow_id"] for r in rows] == list(mix.flows.flow_id)
    finds = [json.loads(x) for x in tl(MIX, "--format", "jsonl", "--table", "findings").stdout.splitlines()]
    assert len(finds) == len(mix.findings) and isinstance(finds[0]["evidence"], dict)
    streamed = tl(MIX, "--format", "jsonl", "--stream").stdout.decode().splitlines()
    assert len(streamed) == len(mix.flows)


def test_help_is_typed_and_shows_version():
    top = tl("--help").stdout.decode()
    assert "--version" in top and "--install-completion" in top and "live" in top
    sub = tl("report", "--help").stdout.decode()
    assert "<bool>" not in sub and "<list[int]>" not in sub
    assert "--port PORT" in sub and "1<=x<=65535" in sub and "--filter EXPR" in sub
    assert tl("--version").stdout.decode().startswith("tlsinspect ")


def test_completion_script_names_the_commands():
    """As a user runs it: from bash, in a process of its own. typer asks shellingham for the
    calling shell, the nearest shell among the process's ancestors (under make that is sh, which
    typer does not support), so bash is made the direct parent; `; true` keeps bash from exec-ing."""
    r = tl(f"{sys.executable} -m inspector --show-completion; true", shell=True)
    out = r.stdout.decode()
    assert r.returncode == 0 and "_TLSINSPECT_COMPLETE" in out and "_tlsinspect_completion" in out


def test_batch_prints_the_flows_its_filter_selects(tmp_path):
    src = tmp_path / "caps"
    src.mkdir()
    for name in ("lsc_5061.pcap", "mic_2443.pcap", "lsc_rejected_unknown_ca.pcap"):
        (src / name).write_bytes((ROOT / "pcaps" / name).read_bytes())
    r = tl("batch", src, "-o", tmp_path / "res", "--jobs", "1", "--quiet", "--failed")
    assert r.returncode == 0, r.stderr
    rows = [json.loads(x) for x in r.stdout.decode().splitlines()]
    assert [(x["capture"], x["outcome"]) for x in rows] == [("lsc_rejected_unknown_ca.pcap", "failed")]
    bad = tl("batch", src, "-o", tmp_path / "res2", "--filter", "outcome ==")
    assert bad.returncode == 2 and b"bad --filter" in bad.stderr and not (tmp_path / "res2").exists()


def test_a_pipe_is_reported_as_it_comes_not_at_its_end(mix):
    """jsonl from a pipe that stays open: the flows whose handshake is over are printed before
    the writer closes the pipe (nothing waits for a 4 MiB chunk or for the end of the stream)."""
    import threading
    proc = subprocess.Popen([sys.executable, "-m", "inspector", "-", "--format", "jsonl"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV, cwd=ROOT)
    first: list[bytes] = []
    reader = threading.Thread(target=lambda: first.append(proc.stdout.readline()), daemon=True)
    reader.start()
    try:
        proc.stdin.write(MIX.read_bytes())
        proc.stdin.flush()  # the pipe stays open
        reader.join(timeout=60)
        assert first and first[0], "no flow printed while the pipe was still open"
        row = json.loads(first[0])
        assert row["capture"] == "stdin" and row["outcome"] in ("established", "failed")
    finally:
        proc.stdin.close()
        rest = proc.stdout.read()
        proc.wait(timeout=60)
    assert proc.returncode == 0
    assert 1 + len(rest.splitlines()) == len(mix.flows)


def test_failed_flow_tree_marks_the_self_signed_certificate():
    """Bug: the tree's certificate line tested the DataFrame's numpy bool ``is True``, so
    "self-signed" was never printed; flow 4's client rejected a self-signed server certificate."""
    text = tl(MIX, env={"COLUMNS": "200"}).stdout.decode()
    flow4 = text[text.index("Flow 4 "):].split("\n\n", 1)[0]
    leaf = next(line for line in flow4.splitlines() if "cucm-EC.steven.lab <- cucm-EC.steven.lab" in line)
    assert "unknown_ca" in flow4 and leaf.rstrip().endswith(", self-signed")
    flow7 = text[text.index("Flow 7 "):].split("\n\n", 1)[0]
    assert "Example Lab Root CA" in flow7 and "self-signed" not in flow7  # a CA-issued chain


def test_the_terminal_report_never_imports_pandas():
    """The table is read from the records and rows (pandas costs ~0.7 s of start-up)."""
    code = ("import sys\nfrom inspector.__main__ import main\nsys.argv = ['tlsinspect', sys.argv[1]]\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "sys.stderr.write('pandas' + (' imported' if 'pandas' in sys.modules else ' absent'))\n")
    done = subprocess.run([sys.executable, "-c", code, str(MIX)], capture_output=True, env=ENV, cwd=ROOT,
                          timeout=120)
    assert "failed: server unknown_ca" in done.stdout.decode().replace("\n", " ") or b"unknown_ca" in done.stdout
    assert done.stderr.decode().endswith("pandas absent")
