"""The fast path of ``tlsinspect FILE --format csv|jsonl|json`` (`inspector.cli.fast`, issue 9).

The same argv runs through the fast path (`inspector.cli.fast.main`, what the console entry point
tries first) and through the typer app (`inspector.cli.app.main(argv, fast=False)`): stdout, stderr,
the file written by ``-o`` and the exit code must be identical, over every capture in ``pcaps/``
and a set of option combinations, error cases included.  Also: which argv the tiny parser takes
(the rest goes to typer), and the column-by-column CSV writer against the row writer.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from inspector.cli import fast as fastcli
from inspector.cli.app import main as cli_main
from inspector.output.report import CsvStream, _csv_column, _csv_value

ROOT = Path(__file__).resolve().parents[2]
PCAPS = sorted(p for p in (ROOT / "pcaps").iterdir() if p.suffix in (".pcap", ".pcapng"))

COMBOS = [
    ["--format", "csv"],
    ["--format", "jsonl"],
    ["--format=json"],
    ["--format", "csv", "--table", "findings", "--quiet"],
    ["-f", "jsonl", "--table", "certificates"],
    ["--format", "csv", "--table", "events", "--failed"],
    ["--format", "csv", "--fail-on", "warning"],
    ["--format", "jsonl", "--table", "findings", "--filter", 'outcome == "failed"'],
    ["report", "--format", "csv", "--engine", "python", "-p", "5061"],
    ["--format", "csv", "--stream", "-q"],
]


def _run(fn, argv: list[str], capsys) -> tuple[int, str, str]:
    try:
        code = fn(argv)
    except SystemExit as e:
        code = e.code
    out, err = capsys.readouterr()
    return (code if isinstance(code, int) else 0), out, err


def both(argv: list[str], capsys, tmp_path: Path | None = None) -> tuple[tuple, tuple]:
    """(fast path, typer path) results of argv: (exit code, stdout, stderr[, -o file])."""
    results = []
    for name, fn in (("fast", fastcli.main), ("typer", lambda a: cli_main(a, fast=False))):
        args = list(argv)
        out_file = None
        if tmp_path is not None and "-o" in args:
            out_file = tmp_path / f"{name}.out"
            args[args.index("-o") + 1] = str(out_file)
        code, out, err = _run(fn, args, capsys)
        written = out_file.read_text(encoding="utf-8") if out_file is not None and out_file.exists() else None
        results.append((code, out, err.replace(str(out_file), "OUT") if out_file else err, written))
    return results[0], results[1]


@pytest.mark.parametrize("capture", PCAPS, ids=lambda p: p.name)
def test_fast_path_writes_what_typer_writes_for_every_capture(capture: Path, capsys) -> None:
    for combo in COMBOS:
        argv = [str(capture), *combo] if combo[0] != "report" else ["report", str(capture), *combo[1:]]
        assert fastcli.parse(argv) is not None, argv  # the fast path does run it
        fast, slow = both(argv, capsys)
        assert fast == slow, argv
        assert fast[0] in (0, 1), (argv, fast[2])
        if combo == ["--format", "csv"]:  # a real report, not two identical empty outputs
            rows = list(csv.DictReader(io.StringIO(fast[1])))
            assert rows and rows[0]["capture"] == capture.name
            assert [r["flow_id"] for r in rows] == [str(i) for i in range(1, len(rows) + 1)]


def test_several_captures_and_an_output_file(tmp_path: Path, capsys) -> None:
    lab, tls13 = str(ROOT / "pcaps" / "cisco_lab_mix.pcapng"), str(ROOT / "pcaps" / "tls13_443.pcap")
    argv = [lab, tls13, "--format", "csv", "-o", "OUT", "--quiet"]
    fast, slow = both(argv, capsys, tmp_path)
    assert fast == slow
    assert fast[0] == 0 and fast[1] == "" and fast[3] is not None
    rows = list(csv.DictReader(io.StringIO(fast[3])))
    assert {r["capture"] for r in rows} == {"cisco_lab_mix.pcapng", "tls13_443.pcap"}
    assert fast[3].count("capture,flow_id,") == 1  # one header for both captures


@pytest.mark.parametrize("argv, code, message", [
    (["missing.pcap", "--format", "csv"], 2, "missing.pcap"),
    (["README.md", "--format", "jsonl"], 2, "tlsinspect: "),
    (["nothing-*.pcap", "--format", "csv"], 2, "nothing-*.pcap"),
    (["pcaps/tls13_443.pcap", "missing.pcap", "--format", "csv"], 2, "missing.pcap"),
    (["pcaps/tls13_443.pcap", "--format", "json", "--table", "events"], 2, "does not apply to --format json"),
    (["pcaps/tls13_443.pcap", "--format", "json", "--stream"], 2, "--stream works with"),
    (["pcaps/tls13_443.pcap", "--format", "csv", "--filter", "sni =="], 2, "bad --filter"),
    (["pcaps/tls13_443.pcap", "--format", "csv", "-o", "/nonexistent/dir/out.csv"], 2, "cannot write"),
    (["pcaps/tls13_443.pcap", "--format", "csv", "--keylog", "missing.keys"], 2, "missing.keys"),
    (["pcaps/lsc_rejected_unknown_ca.pcap", "--format", "csv", "--fail-on", "error", "-q"], 1, None),
    (["pcaps/tls13_443.pcap", "--format", "csv", "--engine", "tshark", "--stream"], 2, "--stream judges"),
])
def test_errors_and_exit_codes_match_typer(argv, code, message, monkeypatch, capsys) -> None:
    monkeypatch.chdir(ROOT)
    assert fastcli.parse(argv) is not None
    fast, slow = both(argv, capsys)
    assert fast == slow
    assert fast[0] == code, fast[2]
    if message is not None:
        assert message in fast[2] and "Traceback" not in fast[2]
        assert fast[2].startswith("tlsinspect: ") and fast[2].endswith("\n")


def test_warnings_go_to_stderr_one_line_each(tmp_path: Path, capsys) -> None:
    cut = tmp_path / "cut.pcap"
    cut.write_bytes((ROOT / "pcaps" / "cisco_lab_mix.pcapng").read_bytes()[:5000])
    fast, slow = both([str(cut), "--format", "csv"], capsys)
    assert fast == slow
    assert fast[2].startswith("tlsinspect: warning: capture_truncated"), fast[2]
    quiet, _ = both([str(cut), "--format", "csv", "-q"], capsys)
    assert quiet[2] == "" and quiet[1] == fast[1]


@pytest.mark.parametrize("argv", [
    [], ["--help"], ["report", "--help"], ["--version"], ["pcaps/x.pcap"],  # table: rich
    ["pcaps/x.pcap", "--format", "table"], ["pcaps/x.pcap", "--format", "parquet", "-o", "x.parquet"],
    ["pcaps/x.pcap", "--format", "zeek", "-o", "logs"], ["pcaps/x.pcap", "--format", "html"],
    ["batch", "pcaps", "-o", "out"], ["certs", "x.pem"], ["summary", "out"], ["--explain", "unknown_ca"],
    ["pcaps/x.pcap", "--format", "csv", "--port", "0"], ["pcaps/x.pcap", "--format", "csv", "--port", "x"],
    ["pcaps/x.pcap", "--format", "csv", "--max-flows", "5"], ["pcaps/x.pcap", "-qf", "csv"],
    ["pcaps/x.pcap", "--format", "csv", "--quiet", "--quiet"],
    ["pcaps/x.pcap", "--format", "csv", "--format", "jsonl"], ["pcaps/x.pcap", "--format", "CSV"],
    ["pcaps/x.pcap", "--format", "csv", "--no-quiet"], ["--", "pcaps/x.pcap", "--format", "csv"],
    ["pcaps/x.pcap", "--format", "csv", "-o"], ["pcaps/x.pcap", "--format", "csv", "-o", "-x"],
    ["pcaps/x.pcap", "--format", "csv", "--threads", "0"], ["pcaps/x.pcap", "--format", "csv", "--table", "messages"],
    ["pcaps/x.pcap", "--format", "csv", "--engine", "c"], ["--format", "csv"],
])
def test_everything_else_goes_to_typer(argv: list[str]) -> None:
    assert fastcli.parse(argv) is None


def test_the_parser_reads_what_typer_would() -> None:
    o = fastcli.parse(["report", "a.pcap", "--format=jsonl", "-o", "out.jsonl", "-p", "5061", "--port=2443",
                       "b.pcap", "--engine", "python", "--threads", "4", "--fail-on", "error", "-q",
                       "--filter", 'sni == "x"', "--keylog", "k.log", "--table", "events", "--failed", "-"])
    assert o is not None
    assert o.files == ["a.pcap", "b.pcap", "-"]
    assert (o.format, o.output, o.port, o.engine, o.threads) == ("jsonl", Path("out.jsonl"), [5061, 2443], "python", 4)
    assert (o.fail_on, o.quiet, o.filter_, o.keylog, o.table, o.failed, o.stream) == (
        "error", True, 'sni == "x"', Path("k.log"), "events", True, False)


def test_threads_is_passed_on_where_read_capture_takes_it(monkeypatch, capsys) -> None:
    """``--threads N`` goes to `read_capture` as ``threads=N`` once it has the parameter (branch
    `threads`); until then it is parsed and not passed."""
    import inspector.api as api

    seen = {}
    real = api.read_capture

    def with_threads(path, *, ports=(), limits=None, keylog=None, engine=None, trust=None, threads=None):
        seen["threads"] = threads
        return real(path, ports=ports, limits=limits, keylog=keylog, engine=engine, trust=trust)

    monkeypatch.setattr(api, "read_capture", with_threads)
    code, out, err = _run(fastcli.main, [str(ROOT / "pcaps" / "tls13_443.pcap"), "--format", "csv",
                                         "--threads", "3"], capsys)
    assert code == 0 and seen == {"threads": 3}, err
    assert out.startswith("capture,flow_id,")


def test_csv_columns_escape_as_the_row_writer_does() -> None:
    values = ["ok", "\x1b[2Jx", None, "=HYPERLINK(1)", "-1", "", "caf\u00e9", "\u202eexe.pdf", "a\n=b"]
    cells = _csv_column(values)
    assert cells == [_csv_value(v) for v in values]
    assert cells == ["ok", "\\x1b[2Jx", "", "'=HYPERLINK(1)", "'-1", "", "caf\u00e9", "\\u202eexe.pdf", "a\\x0a=b"]
    assert _csv_column(["@x", None]) == ["'@x", ""] and _csv_column(["x", "-"]) == ["x", "'-"]
    assert _csv_column([["a", "b"], [], None]) == ["a;b", "", ""]
    lists = [["a", "b"], [], ("=a",), ["x\x1b", "y"]]  # list columns: joined by ";", then as strings
    assert _csv_column(lists) == [_csv_value(list(v)) for v in lists] == ["a;b", "", "'=a", "x\\x1b;y"]
    names = ["sni", "packets", "alerts", "cipher", "ok"]  # safe columns go to the csv writer as they are
    columns = [["=x", None], [3, None], [["server:fatal:unknown_ca"], []], [None, "TLS_AES"], [True, None]]
    by_rows, by_columns = io.StringIO(), io.StringIO()
    CsvStream(by_rows).write([dict(zip(names, r)) for r in zip(*columns)])
    CsvStream(by_columns).write_columns(names, columns)
    assert by_columns.getvalue() == by_rows.getvalue() == \
        "sni,packets,alerts,cipher,ok\n'=x,3,server:fatal:unknown_ca,,True\n,,,TLS_AES,\n"
    empty = io.StringIO()
    CsvStream(empty).write_columns(names, [[], [], []])
    assert empty.getvalue() == ""  # no header without a row, as the row writer


def test_jsonl_flows_keep_the_schema_order_and_iso_times(capsys) -> None:
    from inspector.schema import FLOW_COLUMNS

    code, out, _err = _run(fastcli.main, [str(ROOT / "pcaps" / "cisco_lab_mix.pcapng"), "--format", "jsonl"], capsys)
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(rows) == 11
    assert list(rows[0]) == [c.name for c in FLOW_COLUMNS]
    assert rows[0]["ts_start"].endswith("+00:00") and isinstance(rows[1]["alerts"], list)
