"""The `tlsinspect` command: load -> analyse -> render.  Thin by design.

``tlsinspect FILE...`` is short for ``tlsinspect report FILE...``.  Exit codes (README "Exit
codes"): 0 the captures were read, 1 a finding reached ``--fail-on``, 2 unusable input or a bad
option (one line on stderr, never a traceback), 3 an internal error (a bug: one line).  A closed
pipe (``| head``) ends quietly with 0.
"""

from __future__ import annotations

import enum
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from ..errors import InspectError
from ..model import Limits
from ..sources.inputs import PortOption
from .fast import FORMAT_TABLES as _FORMAT_TABLES

app = typer.Typer(add_completion=True, no_args_is_help=True, pretty_exceptions_enable=False,
                  rich_markup_mode=None,
                  help="Every TLS handshake in a packet capture, flow by flow, and why it failed.")
DEFAULT_LIMITS = Limits()
from .terminal import PipeConsole, err, table_console  # noqa: F401 (re-exported)
from .terminal import fail as _fail



class Format(str, enum.Enum):
    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"
    parquet = "parquet"
    html = "html"
    zeek = "zeek"


class TableName(str, enum.Enum):
    flows = "flows"
    certificates = "certificates"
    events = "events"
    findings = "findings"


class AnalysisEngine(str, enum.Enum):
    rust = "rust"
    python = "python"
    native = "native"  # the old name of the Python engine
    tshark = "tshark"


class FailOn(str, enum.Enum):
    info = "info"
    warning = "warning"
    error = "error"
    critical = "critical"


#: which --table each format can write (table and json always show every table)
FORMAT_TABLES = {Format(f): {TableName(t) for t in ts} for f, ts in _FORMAT_TABLES.items()}


def _quiet_broken_pipe() -> None:
    """The reader went away (``| head``): stop writing, exit 0 like other Unix tools."""
    from .fast import quiet_broken_pipe
    quiet_broken_pipe()


@app.command()
def report(
    files: Annotated[list[str], typer.Argument(
        metavar="FILE", help="pcap/pcapng files (gzip ok), globs, FIFOs, or - for standard input")],
    format: Annotated[Format, typer.Option("--format", "-f", help="output format")] = Format.table,
    output: Annotated[Optional[Path], typer.Option(
        "--output", "-o", metavar="PATH", help="write to this file (a directory for --format zeek)")] = None,
    port: PortOption = None,
    table: Annotated[Optional[TableName], typer.Option(
        "--table", help="table to write: any with jsonl/csv/parquet; flows (ssl.log) or certificates "
        "(x509.log) with zeek to stdout; table and json show them all  [default: flows]")] = None,
    filter_: Annotated[Optional[str], typer.Option(
        "--filter", metavar="EXPR", help='only flows matching EXPR, e.g. \'outcome == "failed" and '
        'server_port == 5061\' (README "Filters")')] = None,
    failed: Annotated[bool, typer.Option("--failed", help='only failed or reset handshakes '
                                          '(outcome in ["failed", "reset"])')] = False,
    merge: Annotated[bool, typer.Option(
        "--merge", help="read all FILEs as one capture, packets in time order (like mergecap)")] = False,
    zeek_json: Annotated[bool, typer.Option("--zeek-json", help="--format zeek as JSON lines")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no warnings on stderr")] = False,
    max_flows: Annotated[int, typer.Option(
        "--max-flows", min=1, metavar="N",
        help="connections in flight before the oldest is evicted (still reported)")] = DEFAULT_LIMITS.max_flows,
    max_handshake_bytes: Annotated[int, typer.Option(
        "--max-handshake-bytes", min=1024, metavar="BYTES", help="largest handshake message accepted")
    ] = DEFAULT_LIMITS.max_handshake_bytes,
    max_certs: Annotated[int, typer.Option(
        "--max-certs", min=1, metavar="N", help="certificates parsed per chain")] = DEFAULT_LIMITS.max_certs,
    keylog: Annotated[Optional[Path], typer.Option(
        "--keylog", metavar="FILE", help="NSS key log file (SSLKEYLOGFILE) to decrypt TLS 1.3 handshakes")] = None,
    trust: Annotated[Optional[list[Path]], typer.Option(
        "--trust", metavar="FILE|DIR", help="trust store judging the chains (PEM, DER, directory, "
        "CUCM/Expressway export); repeatable")] = None,
    trust_set: Annotated[Optional[list[str]], typer.Option(
        "--trust-set", metavar="mozilla|cisco-mic", help="built-in trust set; repeatable")] = None,
    engine: Annotated[Optional[AnalysisEngine], typer.Option(
        "--engine", help="rust (compiled), python (the reference; native is an alias), or "
        "Wireshark's dissectors via tshark/pyshark (slower); default: inspector.api.DEFAULT_ENGINE")
    ] = None,
    stream: Annotated[bool, typer.Option(
        "--stream", help="csv/jsonl: write rows as flows end, memory bounded by flows in flight "
        "(flow ids then follow the order flows end)")] = False,
    fail_on: Annotated[Optional[FailOn], typer.Option(
        "--fail-on", help="exit 1 when a finding of a reported flow reaches this severity")] = None,
    threads: Annotated[Optional[int], typer.Option(
        "--threads", min=0, help="threads for one file (rust engine): 0 = every core (default), 1 = one; "
        "the output is the same")] = None,
) -> None:
    """Report every TLS flow in each FILE: endpoints, version, cipher, SNI, chains, alerts, outcome."""
    from .fast import ReportOptions, run_report

    code = run_report(ReportOptions(
        files=files, format=format.value, output=output, port=port, table=table.value if table else None,
        filter_=filter_, failed=failed, merge=merge, zeek_json=zeek_json, quiet=quiet, max_flows=max_flows,
        max_handshake_bytes=max_handshake_bytes, max_certs=max_certs, keylog=keylog, trust=trust,
        trust_set=trust_set, engine=engine.value if engine is not None else None, stream=stream,
        fail_on=fail_on.value if fail_on is not None else None, threads=threads))
    if code:
        raise typer.Exit(code)


class Engine(str, enum.Enum):
    process = "process"
    dask = "dask"


@app.command()
def batch(
    inputs: Annotated[list[str], typer.Argument(
        metavar="DIR_OR_GLOB...", help="directories (recursive), globs (quote them) or capture files")],
    output: Annotated[Path, typer.Option("--output", "-o", help="results directory (a Parquet dataset)")],
    engine: Annotated[Engine, typer.Option("--engine", help="process pool, or Dask")] = Engine.process,
    jobs: Annotated[Optional[int], typer.Option(
        "--jobs", "-j", min=1, help="worker processes (default: the CPUs this process may use)")] = None,
    threads: Annotated[int, typer.Option(
        "--threads", min=0, help="threads per file in each worker (0 = every core)")] = 1,
    scheduler: Annotated[Optional[str], typer.Option(
        "--scheduler", help="Dask scheduler address (default with --engine dask: a LocalCluster)")] = None,
    force: Annotated[bool, typer.Option("--force", help="redo files already in the results")] = False,
    port: PortOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar")] = False,
    report_html: Annotated[Optional[Path], typer.Option(
        "--report", metavar="FILE.html", help="also write the fleet summary page (as `summary --format html`)")] = None,
    filter_: Annotated[Optional[str], typer.Option(
        "--filter", metavar="EXPR", help="afterwards, print the dataset's flows matching EXPR as "
        "JSON lines on stdout (the summary then goes to stderr)")] = None,
    failed: Annotated[bool, typer.Option("--failed", help="as --filter for failed or reset handshakes")] = False,
) -> None:
    """Analyse many captures into a Parquet dataset (flows, certificates, events, findings, messages, files).

    Skips files already done (same path, size, mtime). Exit 2 when any file failed, else 0.
    """
    from ..batch import run_batch
    from ..filters import FAILED, combine

    if scheduler is not None and engine is not Engine.dask:
        raise _fail("--scheduler needs --engine dask")
    if engine is Engine.dask:  # before anything is written: no error rows for a missing engine
        import importlib.util
        if importlib.util.find_spec("distributed") is None:
            raise _fail("--engine dask needs Dask: pip install 'tlsinspect[dask]'")
    try:  # a bad expression is refused before any capture is read
        flt = combine([filter_, FAILED if failed else None])
    except InspectError as e:
        raise _fail(f"bad --filter: {e}") from None
    try:
        summary = run_batch(inputs, output, engine=engine.value, jobs=jobs, scheduler=scheduler,
                            force=force, quiet=quiet, ports=port or (), err_console=err, threads=threads,
                            console=err if flt is not None else None)
    except InspectError as e:
        raise _fail(str(e)) from None
    except OSError as e:
        raise _fail(f"cannot write {output}: {e.strerror or e}") from None
    if report_html is not None:
        _fleet_report(output, report_html)
    if flt is not None:
        try:
            _print_selected(output / "flows", flt)
        except BrokenPipeError:
            _quiet_broken_pipe()
            raise typer.Exit(0) from None
    raise typer.Exit(summary.exit_code)


class SummaryFormat(str, enum.Enum):
    table = "table"
    html = "html"


def _fleet_report(results: Path, output: Optional[Path], format: SummaryFormat = SummaryFormat.html) -> None:
    """The fleet view of a results directory: terminal tables, or the HTML page."""
    from ..fleet import fleet_summary, print_fleet

    try:
        fs = fleet_summary(results)
    except InspectError as e:
        raise _fail(str(e)) from None
    try:
        if format is SummaryFormat.html:
            from ..output.fleet import fleet_html
            page = fleet_html(fs)
            if output is None:
                sys.stdout.write(page)
            else:
                output.write_text(page, encoding="utf-8")
        elif output is not None:
            with open(output, "w", encoding="utf-8") as fh:
                print_fleet(fs, Console(file=fh, width=160))
        else:
            console = Console()
            print_fleet(fs, console if console.is_terminal else Console(width=200))
    except OSError as e:
        raise _fail(f"cannot write {output}: {e.strerror or e}") from None


@app.command()
def summary(
    results: Annotated[Path, typer.Argument(help="results directory written by `tlsinspect batch`")],
    format: Annotated[SummaryFormat, typer.Option("--format", "-f", help="output format")] = SummaryFormat.table,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="write to this file")] = None,
) -> None:
    """Fleet view of a batch dataset: phones and their MIC/LSC (which CAPF), CAPF issuers, certificates
    expiring within 30/90 days of the last capture, failed handshakes by cause and by server."""
    _fleet_report(results, output, format)


def _print_selected(flows_dir: Path, flt) -> None:
    """The flows of a batch dataset that ``flt`` matches, as JSON lines (the same rows as
    ``report --format jsonl``: ISO times, lists, null for NA)."""
    import pandas as pd

    from ..output.jsonl import JsonlStream
    from ..output.report import _jsonable

    if not flows_dir.is_dir() or not any(flows_dir.glob("*.parquet")):
        return
    df = pd.read_parquet(flows_dir)
    rows = df[flt.mask(df)].sort_values(["capture_path", "flow_id"]).to_dict("records")
    JsonlStream(sys.stdout).write({k: _jsonable(list(v) if hasattr(v, "tolist") and not isinstance(v, str) else v)
                                   for k, v in r.items()} for r in rows)


def _version(value: bool) -> None:
    if value:
        from .. import __version__
        print(f"tlsinspect {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(version: Annotated[bool, typer.Option(
        "--version", is_eager=True, callback=_version, help="show the version and exit")] = False) -> None:
    """Every TLS handshake in a packet capture, flow by flow, and why it failed.

    tlsinspect FILE... is short for tlsinspect report FILE...  Exit codes: 0 read, 1 --fail-on
    reached, 2 unusable input or bad option, 3 internal error."""


from .certs import register as _register_certs  # noqa: E402
from .live import register as _register_live  # noqa: E402

_register_certs(app)
_register_live(app)
COMMANDS = {"report", "batch", "certs", "live", "summary"}
ROOT_OPTIONS = {"--help", "-h", "--version", "--install-completion", "--show-completion", "--explain"}


def _explain(code: str) -> None:
    """``tlsinspect --explain CODE``: the rule behind a finding code, from the rule table."""
    from ..diagnose import RULES_BY_CODE, explain

    if code not in RULES_BY_CODE:
        err.print(f"tlsinspect: no finding code {code!r}; codes: {', '.join(RULES_BY_CODE)}", markup=False)
        sys.exit(2)
    print(explain(code))


def _click_exceptions() -> tuple[tuple[type, ...], tuple[type, ...]]:
    """(usage errors, aborts) of click and of the click Typer vendors (typer._click, Typer >= 0.2x)."""
    import importlib

    usage, abort = [], []
    for name in ("click.exceptions", "typer._click.exceptions"):
        try:
            mod = importlib.import_module(name)
        except ImportError:
            continue
        usage.append(mod.ClickException)
        if hasattr(mod, "Abort"):
            abort.append(mod.Abort)
    return tuple(usage), tuple(abort)


def main(argv: list[str] | None = None, *, fast: bool = True) -> None:
    """Console entry point: ``tlsinspect FILE`` runs ``report``.  ``fast``: a plain csv/jsonl/json
    report runs on `inspector.cli.fast` (the same `run_report`, parsed without click); False: always
    through the typer app."""
    args = list(sys.argv[1:] if argv is None else argv)
    if fast:
        from .fast import main as fast_main
        code = fast_main(args)
        if code is not None:
            sys.exit(code)
    if args and args[0] not in COMMANDS and args[0] not in ROOT_OPTIONS \
            and not args[0].startswith("--explain="):
        args.insert(0, "report")
    if args[:1] == ["--explain"] or (args[:1] and args[0].startswith("--explain=")):
        _explain(args[0].partition("=")[2] or (args[1] if len(args) > 1 else ""))
        return
    usage, abort = _click_exceptions()
    try:
        code = app(args=args, prog_name="tlsinspect", standalone_mode=False)
    except usage as e:  # a usage error: one line, exit 2 (not Typer's box)
        err.print(f"tlsinspect: {e.format_message()}", markup=False)
        sys.exit(2)
    except (KeyboardInterrupt, *abort):
        err.print("tlsinspect: interrupted")
        sys.exit(130)
    except BrokenPipeError:
        _quiet_broken_pipe()
        sys.exit(0)
    except SystemExit as e:
        # typer turns a closed pipe in any command into exit 1: it is a normal end (0)
        if isinstance(e.__context__, BrokenPipeError):
            _quiet_broken_pipe()
            sys.exit(0)
        raise
    except Exception as e:  # a bug of ours: one line, exit 3 (TLSINSPECT_DEBUG=1 shows the traceback)
        if os.environ.get("TLSINSPECT_DEBUG"):
            raise
        err.print(f"tlsinspect: internal error: {type(e).__name__}: {e} (please report it with the "
                  f"capture; TLSINSPECT_DEBUG=1 shows the traceback)", markup=False)
        sys.exit(3)
    sys.exit(code if isinstance(code, int) else 0)  # as Typer's standalone mode did


if __name__ == "__main__":
    main()
