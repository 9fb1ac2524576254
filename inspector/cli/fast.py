"""The ``tlsinspect FILE... --format csv|jsonl|json`` fast path, and the report command's body.

`run_report` is what ``tlsinspect report`` does (inputs -> `inspector.output.sink.Sink`), with plain
string options, messages written straight to stderr and the exit code returned; the typer command
(`inspector.cli.app.report`) and the fast path both call it, so they cannot drift.

`main` (the console entry point calls it first) parses argv with a tiny parser when every argument
is one it knows, spelled plainly (``FILE... [report] --format csv -o OUT --quiet --table T --port N
--engine E --threads N --fail-on S --failed --filter EXPR --keylog FILE --stream``, ``--opt=value``
too), and the format is a machine one.  Then typer, click and rich are never imported (~0.1 s of
start-up, issue 9).  Anything else (a subcommand, ``--help``, the table/html/parquet/zeek formats, an
option it does not know, a value out of range, an option given twice) returns None, and the typer
app runs instead with its own messages.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

FORMATS = ("table", "json", "jsonl", "csv", "parquet", "html", "zeek")
TABLES = ("flows", "certificates", "events", "findings")
ENGINES = ("rust", "python", "native", "tshark")
SEVERITIES = ("info", "warning", "error", "critical")
#: which --table each format can write (table and json always show every table)
FORMAT_TABLES = {"table": {"flows"}, "json": {"flows"}, "jsonl": set(TABLES), "csv": set(TABLES),
                 "parquet": set(TABLES), "zeek": {"flows", "certificates"}, "html": {"flows"}}
#: the formats the fast path writes itself (no rich, no pandas)
FAST_FORMATS = frozenset(("csv", "jsonl", "json"))
SUBCOMMANDS = frozenset(("batch", "certs", "live", "summary"))


def say(message: str) -> None:
    """One line on stderr (what rich's ``err.print(message, markup=False)`` wrote, minus rich)."""
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def fail(message: str, code: int = 2) -> int:
    from ..output.report import cell
    say(f"tlsinspect: {cell(message)}")
    return code


def quiet_broken_pipe() -> None:
    """The reader went away (``| head``): stop writing, exit 0 like other Unix tools."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


@dataclass
class ReportOptions:
    """``tlsinspect report``'s options as plain values (the typer command's defaults)."""

    files: list[str]
    format: str = "table"
    output: Path | None = None
    port: list[int] | None = None
    table: str | None = None
    filter_: str | None = None
    failed: bool = False
    merge: bool = False
    zeek_json: bool = False
    quiet: bool = False
    max_flows: int | None = None
    max_handshake_bytes: int | None = None
    max_certs: int | None = None
    keylog: Path | None = None
    trust: list[Path] | None = None
    trust_set: list[str] | None = None
    engine: str | None = None
    stream: bool = False
    fail_on: str | None = None
    threads: int | None = None
    extra: dict = field(default_factory=dict)


def run_report(o: ReportOptions) -> int:
    """``tlsinspect report``: the exit code (README "Exit codes"); messages on stderr."""
    from ..errors import InspectError
    from ..filters import FAILED, combine
    from ..sources.inputs import expand
    from ..model import Limits

    fmt = o.format
    chosen = o.table or "flows"
    if chosen not in FORMAT_TABLES[fmt]:
        return fail(f"--table {chosen} does not apply to --format {fmt} "
                    f"(it takes: {', '.join(sorted(FORMAT_TABLES[fmt]))})")
    if o.zeek_json and fmt != "zeek":
        return fail("--zeek-json needs --format zeek")
    if o.stream and fmt not in ("csv", "jsonl"):
        return fail("--stream works with --format csv or jsonl")
    if fmt == "parquet" and o.output is None:
        return fail("--format parquet needs --output FILE")
    if fmt == "zeek" and o.output is None and o.table is None:
        return fail("--format zeek needs --output DIR (ssl.log and x509.log), or --table flows|certificates for stdout")
    if o.merge and o.stream:
        return fail("--merge and --stream do not go together")
    try:
        flt = combine([o.filter_, FAILED if o.failed else None])
    except InspectError as e:
        return fail(f"bad --filter: {e}")
    inputs = expand(o.files)
    defaults = Limits()
    limits = Limits(max_flows=o.max_flows or defaults.max_flows,
                    max_handshake_bytes=o.max_handshake_bytes or defaults.max_handshake_bytes,
                    max_certs=o.max_certs or defaults.max_certs)
    from ..output.sink import Sink
    code = 0
    try:
        sink = Sink.open(fmt, chosen, o.output, zeek_json=o.zeek_json, flt=flt, quiet=o.quiet,
                         need_worst=o.fail_on is not None)
    except OSError as e:
        return fail(f"cannot write {o.output}: {e.strerror or e}")
    worst = -1
    common = dict(ports=o.port or (), keylog=o.keylog, limits=limits, engine=o.engine, trust=o.trust,
                  trust_set=o.trust_set, threads=o.threads)
    try:
        try:
            good = []
            for inp in inputs:
                if inp.error:
                    say(f"tlsinspect: {inp.error}")
                    code = 2
                else:
                    good.append(inp)
            if o.merge and good:
                worst = max(worst, _one(sink, [i.path for i in good], merge=True, stream=False, **common))
            else:
                for inp in good:
                    try:
                        worst = max(worst, _one(sink, [inp.path], merge=False, stream=o.stream or (
                            fmt == "jsonl" and inp.is_stream and not o.trust and not o.trust_set
                            and o.engine != "tshark"), **common))
                    except InspectError as e:
                        label = "" if len(inputs) == 1 else f"{inp.label}: "
                        say(f"tlsinspect: {label}{e}")
                        code = 2
            sink.close()
        except InspectError as e:
            sink.abort()
            return fail(str(e))
        except BrokenPipeError:
            raise
        except OSError as e:
            sink.abort()
            return fail(f"cannot write {o.output}: {e.strerror or e}")
    except BrokenPipeError:
        quiet_broken_pipe()
        return 0
    if code:
        return code
    if o.fail_on is not None:
        from ..diagnose import Severity
        if worst >= Severity[o.fail_on]:
            return 1
    return 0


def _one(sink, paths: list[Path], *, merge: bool, ports, keylog, limits, engine: str | None, trust,
         trust_set, stream: bool, threads: int | None) -> int:
    """Analyse one input (or the merged inputs) into the sink; the worst finding severity seen."""
    from ..api import read_capture, stream_capture
    from ..errors import InspectError

    name = engine
    if stream:
        if trust or trust_set or engine == "tshark":
            raise InspectError("--stream judges chains without --trust and runs the rust or python engine only")
        on_rows = sink.stream_rows()
        cap = stream_capture(paths[0], on_rows, ports=ports, keylog=keylog, limits=limits,
                             batch_size=1 if not paths[0].is_file() else 1000, engine=name)
        sink.stream_done(cap)
        return sink.stream_worst
    from ..trust import combined_store
    store = combined_store(trust or (), trust_set or ())
    if merge:
        from ..sources.inputs import read_merged
        if engine not in (None, "python", "native"):
            raise InspectError("--merge runs the python engine only")
        cap = read_merged(paths, ports=ports, limits=limits, keylog=keylog, trust=store)
    else:
        cap = read_capture(paths[0], ports=ports, keylog=keylog, limits=limits, engine=name,
                           trust=store, threads=threads)
    return sink.add(cap)


# ---- the tiny parser ------------------------------------------------------------------------------

_FLAGS = {"--quiet": "quiet", "-q": "quiet", "--failed": "failed", "--stream": "stream"}
_VALUED = {"--format": "format", "-f": "format", "--output": "output", "-o": "output",
           "--table": "table", "--port": "port", "-p": "port", "--engine": "engine",
           "--threads": "threads", "--fail-on": "fail_on", "--filter": "filter_", "--keylog": "keylog"}
_CHOICES = {"format": FAST_FORMATS, "table": TABLES, "engine": ENGINES, "fail_on": SEVERITIES}


def _int(text: str, low: int, high: int | None = None) -> int | None:
    if not text.isascii() or not text.isdigit():
        return None
    n = int(text)
    return n if n >= low and (high is None or n <= high) else None


def parse(argv: list[str]) -> ReportOptions | None:
    """argv -> options when the fast path can run it exactly as typer would, else None."""
    args = list(argv)
    if args[:1] and args[0] in SUBCOMMANDS:
        return None
    if args[:1] == ["report"]:
        args = args[1:]
    o = ReportOptions(files=[])
    seen: set[str] = set()
    i = 0
    while i < len(args):
        a = args[i]
        i += 1
        if a == "-" or not a.startswith("-"):
            if not a:
                return None
            o.files.append(a)
            continue
        name, eq, value = a.partition("=") if a.startswith("--") else (a, "", "")
        if name in _FLAGS and not eq:
            dest = _FLAGS[name]
            if dest in seen:
                return None
            seen.add(dest)
            setattr(o, dest, True)
            continue
        dest = _VALUED.get(name)
        if dest is None:
            return None  # --help, --version, -qf csv, an unknown option: typer's business
        if not eq:
            if i >= len(args):
                return None
            value = args[i]
            i += 1
        if not value or (value.startswith("-") and value != "-"):
            return None
        if dest == "port":
            port = _int(value, 1, 65535)
            if port is None:
                return None
            o.port = (o.port or []) + [port]
            continue
        if dest in seen:
            return None
        seen.add(dest)
        if dest in _CHOICES:
            if value not in _CHOICES[dest]:
                return None
            setattr(o, dest, value)
        elif dest == "threads":
            o.threads = _int(value, 1)
            if o.threads is None:
                return None
        elif dest in ("output", "keylog"):
            setattr(o, dest, Path(value))
        else:
            setattr(o, dest, value)
    if not o.files or o.format not in FAST_FORMATS or "format" not in seen:
        return None
    return o


def main(argv: list[str]) -> int | None:
    """Run argv on the fast path: its exit code, or None when typer must run it."""
    opts = parse(argv)
    if opts is None:
        return None
    try:
        return run_report(opts)
    except KeyboardInterrupt:
        say("tlsinspect: interrupted")
        return 130
    except BrokenPipeError:
        quiet_broken_pipe()
        return 0
    except Exception as e:  # a bug of ours: one line, exit 3 (TLSINSPECT_DEBUG=1 shows the traceback)
        if os.environ.get("TLSINSPECT_DEBUG"):
            raise
        say(f"tlsinspect: internal error: {type(e).__name__}: {e} (please report it with the "
            f"capture; TLSINSPECT_DEBUG=1 shows the traceback)")
        return 3
