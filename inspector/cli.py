"""The `tlsinspect` command: load -> analyse -> render.  Thin by design.

``tlsinspect FILE`` is short for ``tlsinspect report FILE``.  Exit codes: 0 the capture was read,
1 a finding reached ``--fail-on``, 2 unusable input, 3 an internal error (a bug: one line, no traceback) (one line on stderr, never a traceback).
"""

from __future__ import annotations

import enum
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from .errors import InspectError
from .flows import Limits

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Every TLS handshake in a packet capture, flow by flow, and why it failed.")
DEFAULT_LIMITS = Limits()
err = Console(stderr=True, highlight=False, soft_wrap=True)


class Format(str, enum.Enum):
    table = "table"
    json = "json"
    csv = "csv"
    parquet = "parquet"


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


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"tlsinspect: {message}", markup=False)
    return typer.Exit(code)


@app.command()
def report(
    file: Annotated[Path, typer.Argument(help="pcap or pcapng file, optionally gzip-compressed")],
    format: Annotated[Format, typer.Option("--format", "-f", help="output format")] = Format.table,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="write to this file")] = None,
    port: Annotated[Optional[list[int]], typer.Option("--port", "-p", help="extra TLS port (repeatable)")] = None,
    table: Annotated[TableName, typer.Option("--table", help="table for csv/parquet")] = TableName.flows,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no warnings on stderr")] = False,
    max_flows: Annotated[int, typer.Option(
        "--max-flows", min=1, help="connections in flight before the oldest is evicted (still reported)")] = DEFAULT_LIMITS.max_flows,
    max_handshake_bytes: Annotated[int, typer.Option(
        "--max-handshake-bytes", min=1024, help="largest handshake message accepted")] = DEFAULT_LIMITS.max_handshake_bytes,
    max_certs: Annotated[int, typer.Option(
        "--max-certs", min=1, help="certificates parsed per chain")] = DEFAULT_LIMITS.max_certs,
    keylog: Annotated[Optional[Path], typer.Option(
        "--keylog", help="NSS key log file (SSLKEYLOGFILE) to decrypt TLS 1.3 handshakes")] = None,
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
        "--stream", help="csv only: write rows as flows end, memory bounded by flows in flight "
        "(flow ids then follow the order flows end)")] = False,
    fail_on: Annotated[Optional[FailOn], typer.Option(
        "--fail-on", help="exit 1 when a finding reaches this severity (for scripted lab checks)")] = None,
) -> None:
    """Report every TLS flow in FILE: endpoints, version, cipher, SNI, chains, alerts, outcome."""
    from . import report as render
    from .api import read_capture

    try:
        limits = Limits(max_flows=max_flows, max_handshake_bytes=max_handshake_bytes, max_certs=max_certs)
        if stream:
            if format is not Format.csv:
                raise _fail("--stream works with --format csv")
            _stream_csv(file, table.value, output, ports=port or (), keylog=keylog, limits=limits,
                        quiet=quiet, fail_on=fail_on, engine=engine.value if engine else None)
            return
        from .trust import combined_store
        store = combined_store(trust or (), trust_set or ())
        cap = read_capture(file, ports=port or (), keylog=keylog, limits=limits, engine=engine.value if engine else None,
                           trust=store)
    except InspectError as e:
        raise _fail(str(e)) from None
    if format is Format.parquet and output is None:
        raise _fail("--format parquet needs --output FILE")
    if not quiet:
        for w in cap.warnings:
            if format is not Format.table:
                err.print(f"tlsinspect: warning: {w}", markup=False)
    try:
        if format is Format.table:
            if output is not None:
                with open(output, "w", encoding="utf-8") as fh:
                    render.render_table(cap, Console(file=fh, width=160), quiet=quiet)
            else:
                console = Console()
                if not console.is_terminal:
                    console = Console(width=200)
                render.render_table(cap, console, quiet=quiet)
        elif format is Format.json:
            text = render.to_json(cap)
            if output is not None:
                output.write_text(text + "\n", encoding="utf-8")
            else:
                sys.stdout.write(text + "\n")
        elif format is Format.csv:
            rows = render.table_rows(cap, table.value)
            if output is not None:
                with open(output, "w", encoding="utf-8", newline="") as fh:
                    render.write_csv(rows, fh)
            else:
                render.write_csv(rows, sys.stdout)
        else:
            render.write_parquet(getattr(cap, table.value), output)
    except OSError as e:
        raise _fail(f"cannot write {output}: {e.strerror or e}") from None
    if fail_on is not None:
        from .diagnose import Severity
        threshold = Severity[fail_on.value]
        if any(Severity[r["severity"]] >= threshold for r in render.table_rows(cap, "findings")):
            raise typer.Exit(1)


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
    scheduler: Annotated[Optional[str], typer.Option(
        "--scheduler", help="Dask scheduler address (default with --engine dask: a LocalCluster)")] = None,
    force: Annotated[bool, typer.Option("--force", help="redo files already in the results")] = False,
    port: Annotated[Optional[list[int]], typer.Option("--port", "-p", help="extra TLS port (repeatable)")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar")] = False,
) -> None:
    """Analyse many captures into a Parquet dataset (flows, certificates, events, findings, files).

    Skips files already done (same path, size, mtime). Exit 2 when any file failed, else 0.
    """
    from .batch import run_batch

    if scheduler is not None and engine is not Engine.dask:
        raise _fail("--scheduler needs --engine dask")
    try:
        summary = run_batch(inputs, output, engine=engine.value, jobs=jobs, scheduler=scheduler,
                            force=force, quiet=quiet, ports=port or (), err_console=err)
    except InspectError as e:
        raise _fail(str(e)) from None
    except OSError as e:
        raise _fail(f"cannot write {output}: {e.strerror or e}") from None
    raise typer.Exit(summary.exit_code)


def _stream_csv(file: Path, table: str, output: Optional[Path], *, ports, keylog, limits, quiet: bool,
                fail_on: Optional[FailOn], engine: Optional[str] = None) -> None:
    """``report --stream --format csv``: one table written batch by batch as flows end."""
    import contextlib

    from . import report as render
    from .api import stream_capture

    worst = -1
    with contextlib.ExitStack() as stack:
        fh = sys.stdout if output is None else stack.enter_context(
            open(output, "w", encoding="utf-8", newline=""))
        writer = render.CsvStream(fh)

        def on_rows(name: str, rows: list[dict]) -> None:
            nonlocal worst
            if name == "findings" and rows:
                from .diagnose import Severity
                worst = max(worst, max(Severity[r["severity"]] for r in rows))
            if name == table:
                writer.write([render.plain(r, drop=("der",)) for r in rows])

        try:
            cap = stream_capture(file, on_rows, ports=ports, keylog=keylog, limits=limits,
                                 engine=engine)
        except InspectError as e:
            raise _fail(str(e)) from None
    if not quiet:
        for w in cap.warnings:
            err.print(f"tlsinspect: warning: {w}", markup=False)
    if fail_on is not None:
        from .diagnose import Severity
        if worst >= Severity[fail_on.value]:
            raise typer.Exit(1)


@app.callback()
def _root() -> None:
    """Every TLS handshake in a packet capture, flow by flow, and why it failed."""


from .certs_cmd import register as _register_certs  # noqa: E402

_register_certs(app)
COMMANDS = {"report", "batch", "certs"}


def main(argv: list[str] | None = None) -> None:
    """Console entry point: ``tlsinspect FILE`` runs ``report``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] not in COMMANDS and args[0] not in ("--help", "-h", "--version"):
        args.insert(0, "report")
    if args[:1] == ["--version"]:
        from . import __version__
        print(f"tlsinspect {__version__}")
        return
    try:
        app(args=args, prog_name="tlsinspect")
    except KeyboardInterrupt:
        err.print("tlsinspect: interrupted")
        sys.exit(130)
    except Exception as e:  # a bug of ours: one line, exit 3 (TLSINSPECT_DEBUG=1 shows the traceback)
        import os

        if os.environ.get("TLSINSPECT_DEBUG"):
            raise
        err.print(f"tlsinspect: internal error: {type(e).__name__}: {e} (please report it with the "
                  f"capture; TLSINSPECT_DEBUG=1 shows the traceback)", markup=False)
        sys.exit(3)


if __name__ == "__main__":
    main()
