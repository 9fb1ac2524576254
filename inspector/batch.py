"""Many captures -> one Parquet dataset: ``tlsinspect batch DIR_OR_GLOB -o results/``.

One picklable, top-level `analyze_file` (a path in, a `FileResult` with Arrow tables out) is shared
by two engines: a `concurrent.futures.ProcessPoolExecutor` (default) and Dask (``client.map`` +
``as_completed``, on a scheduler you name or on a `distributed.LocalCluster` started for the run).
The parent process alone writes the dataset:

    results/flows/part-<h>.parquet         one part per capture (h: hash of its full path)
    results/certificates/part-<h>.parquet
    results/events/part-<h>.parquet
    results/findings/part-<h>.parquet
    results/messages/part-<h>.parquet      each flow's handshake messages (the ladder diagrams)
    results/files/part-<h>.parquet         one row per input file: the manifest

Parts are written to a hidden temporary name and renamed, tables first and the manifest row last,
so an interrupted batch leaves only whole files and re-running resumes: an input whose path, size
and mtime match its manifest row is skipped (``force=True`` redoes all).  A bad input is one error
row and one stderr line; the batch goes on.  No module-level state: everything lives in the call.
"""

from __future__ import annotations

import errno
import fnmatch
import glob as globmod
import hashlib
import json
import os
import stat
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .sources.capture import GZIP_MAGIC, sniff_format
from .skips import skipped_packets
from .arrow import arrow_schema, to_arrow
from .frame import F, I, L, S, T, Column, make_frame
from .schema import TABLES

PATH_COLUMN = Column("capture_path", S, "full path of the capture file (batch datasets only)")

#: One row per input file, in ``results/files/``.
FILE_COLUMNS: tuple[Column, ...] = (
    Column("path", S, "full path of the input file"),
    Column("capture", S, "file name (the `capture` column of the other tables)"),
    Column("size", I, "size in bytes on disk when it was analysed"),
    Column("mtime", T, "modification time when it was analysed (UTC, nanoseconds)"),
    Column("status", S, '"ok" or "error"'),
    Column("error_kind", S, '"input" (the file is unusable) or "internal" (a crash: retried on resume)'),
    Column("error", S, "why the file could not be analysed"),
    Column("format", S, 'capture format: "pcap", "pcapng", "pcapng.gz"...'),
    Column("frames", I, "frames (packets) read"),
    Column("bytes", I, "bytes read (after decompression)"),
    Column("flows", I, "TLS flows"),
    Column("certificates", I, "distinct certificates"),
    Column("events", I, "events (alerts and warnings)"),
    Column("findings", I, "findings"),
    Column("failed_handshakes", I, 'flows whose outcome is "failed"'),
    Column("finding_codes", L, "the code of each finding, in order"),
    Column("warnings", L, "capture-level warnings"),
    Column("skipped_packets", I, "packets not analysed (not IP, not TCP/UDP, UDP without TLS...), all reasons"),
    Column("skipped_reasons", S, 'packets not analysed by reason, a JSON object: {"udp_not_tls": 81644, "not_ip": 419}'),
    Column("seconds", F, "analysis time in the worker"),
    Column("analyzed_at", T, "when the row was written (UTC)"),
    Column("tool_version", S, "tlsinspect version"),
    Column("schema", S, "fingerprint of the tables' schemas; a re-run redoes a file whose fingerprint differs"),
)

#: Names a directory walk or a glob takes even when the content does not look like a capture
#: (they then get an error row); any other file is taken only when its first bytes are a capture's.
NAME_PATTERNS = ("*.pcap*", "*.cap", "*.gz")
def table_columns(name: str) -> tuple[Column, ...]:
    """The columns of a dataset table: the library's, then ``capture_path``."""
    return (*TABLES[name], PATH_COLUMN) if name in TABLES else FILE_COLUMNS


def schema_fingerprint() -> str:
    """Changes whenever a column is added, removed or retyped in `inspector.frame` or the files table."""
    text = "\n".join(f"{n}:{arrow_schema(table_columns(n))}" for n in TABLES)
    text += "\nfiles:" + ",".join(f"{c.name}:{c.dtype}" for c in FILE_COLUMNS)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def part_name(path: str) -> str:
    """``part-<hash>.parquet``: stable for a path, so re-running replaces rather than appends."""
    digest = hashlib.sha256(os.fsencode(path)).hexdigest()[:16]
    return f"part-{digest}.parquet"


# --------------------------------------------------------------------------------------------
# One file -> FileResult (runs in the workers)

@dataclass(frozen=True)
class FileResult:
    """What analysing one input gives: status, counters, and the five tables as Arrow tables.

    Arrow tables pickle as contiguous buffers, cheaply, between processes and Dask workers.
    The tables are None when ``status == "error"``."""

    path: str
    size: int | None
    mtime_ns: int | None
    status: str  # "ok" | "error"
    error: str | None = None
    error_kind: str | None = None  # "input" | "internal"
    format: str | None = None
    frames: int | None = None
    bytes: int | None = None
    seconds: float = 0.0
    warnings: tuple[str, ...] = ()
    skipped: dict[str, int] | None = None  # packets not analysed, by reason (`inspector.skips`)
    flows: pa.Table | None = None
    certificates: pa.Table | None = None
    events: pa.Table | None = None
    findings: pa.Table | None = None
    messages: pa.Table | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def table(self, name: str) -> pa.Table | None:
        return getattr(self, name)

    def manifest_row(self, schema: str = "") -> dict[str, Any]:
        """This file's row of the ``files`` table (times as integer nanoseconds, UTC)."""
        n = (lambda t: None if t is None else t.num_rows)
        failed = None
        codes: list[str] = []
        if self.flows is not None:
            failed = int(pc.sum(pc.equal(self.flows["outcome"], "failed")).as_py() or 0)
        if self.findings is not None:
            codes = [c for c in self.findings["code"].to_pylist() if c is not None]
        from . import __version__
        return dict(
            path=self.path, capture=os.path.basename(self.path), size=self.size, mtime=self.mtime_ns,
            status=self.status, error_kind=self.error_kind, error=self.error, format=self.format,
            frames=self.frames, bytes=self.bytes, flows=n(self.flows),
            certificates=n(self.certificates), events=n(self.events), findings=n(self.findings),
            failed_handshakes=failed, finding_codes=codes, warnings=list(self.warnings),
            skipped_packets=None if self.skipped is None else sum(self.skipped.values()),
            skipped_reasons=None if self.skipped is None else json.dumps(self.skipped),
            seconds=self.seconds, analyzed_at=time.time_ns(), tool_version=__version__,
            schema=schema)


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISDIR, "a directory")):
        if test(mode):
            return name
    return "not a regular file"


def _stat_error(path: str, e: OSError) -> str:
    if e.errno == errno.ELOOP:
        return "symlink loop"
    if e.errno == errno.ENOENT:
        return "broken symlink (its target does not exist)" if os.path.islink(path) else "no such file"
    return f"cannot stat: {e.strerror or e}"


def error_result(path: str, message: str, *, kind: str = "input", st: os.stat_result | None = None,
                 seconds: float = 0.0) -> FileResult:
    return FileResult(path=path, size=None if st is None else st.st_size,
                      mtime_ns=None if st is None else st.st_mtime_ns, status="error",
                      error=message, error_kind=kind, seconds=seconds)


def analyze_file(path: str, ports: tuple[int, ...] = (), threads: int = 1) -> FileResult:
    """Analyse one capture file.  Never raises: any failure is a ``status="error"`` result.

    Only regular files are opened (a FIFO would block, a device would never end)."""
    from . import read_capture
    from .errors import InspectError

    t0 = time.perf_counter()
    path = os.path.abspath(path)
    try:
        st = os.stat(path)
    except OSError as e:
        return error_result(path, _stat_error(path, e))
    if not stat.S_ISREG(st.st_mode):
        return error_result(path, f"not a regular file: {_kind(st.st_mode)}", st=st)
    try:
        cap = read_capture(path, ports=ports, threads=threads)
        tables = {}
        for name, cols in TABLES.items():
            df = getattr(cap, name)
            df["capture_path"] = pd.Series([path] * len(df), dtype="string", index=df.index)
            tables[name] = to_arrow(df, (*cols, PATH_COLUMN))
        return FileResult(
            path=path, size=st.st_size, mtime_ns=st.st_mtime_ns, status="ok", format=cap.format,
            frames=int(cap.stats.get("frames", 0)), bytes=int(cap.bytes_read),
            seconds=time.perf_counter() - t0, warnings=tuple(cap.warnings),
            skipped=skipped_packets(cap.stats), **tables)
    except InspectError as e:
        return error_result(path, str(e), st=st, seconds=time.perf_counter() - t0)
    except Exception as e:  # a bug must cost one file, not the batch
        where = traceback.extract_tb(e.__traceback__)[-1]
        msg = (f"internal error: {type(e).__name__}: {e} "
               f"({os.path.basename(where.filename)}:{where.lineno})")
        return error_result(path, msg, kind="internal", st=st, seconds=time.perf_counter() - t0)


# --------------------------------------------------------------------------------------------
# Inputs: directories (recursive), globs, files

@dataclass(frozen=True)
class Input:
    path: str  # absolute
    size: int | None = None
    mtime_ns: int | None = None
    error: str | None = None  # set for inputs that cannot be analysed (FIFO, symlink loop...)


def looks_like_capture(path: str) -> bool:
    """First bytes of a pcap or pcapng file, possibly inside gzip.  False when unreadable."""
    try:
        with open(path, "rb") as f:
            head = f.read(2)
            f.seek(0)
            try:
                kind, _gz, _head = sniff_format(f)
            except (OSError, EOFError):
                return head == GZIP_MAGIC  # damaged gzip: let analysis say what is wrong
    except OSError:
        return False
    return kind is not None


def _name_matches(name: str) -> bool:
    low = name.lower()
    if low.endswith((".keys", ".keylog", ".sslkeylog")):  # api.KEYLOG_SUFFIXES: the key log beside a capture
        return False
    return any(fnmatch.fnmatchcase(low, p) for p in NAME_PATTERNS)


def _has_magic(s: str) -> bool:
    return any(c in s for c in "*?[")


def discover(specs: Iterable[str], on_warning: Callable[[str], None] | None = None,
             skip: Iterable[str | os.PathLike] = ()) -> list[Input]:
    """Expand directories (recursively, following symlinks once, loops reported), globs and files.

    A file named explicitly is always taken; in a directory or a glob a regular file is taken when
    its content looks like a capture or its name matches `NAME_PATTERNS`.  Non-regular entries
    (FIFO, device, socket, broken or looping symlink) are taken as error inputs.  Directories in
    ``skip`` are not walked."""
    found: dict[str, Input] = {}
    seen_dirs: set[tuple[int, int]] = set()
    for d in skip:  # the results directory, when it sits among the inputs
        try:
            st = os.stat(d)
            seen_dirs.add((st.st_dev, st.st_ino))
        except OSError:
            pass

    def add(inp: Input) -> None:
        found.setdefault(inp.path, inp)

    def entry(path: str, explicit: bool, ancestors: tuple[tuple[int, int], ...]) -> None:
        try:
            st = os.stat(path)
        except OSError as e:
            add(Input(path, error=_stat_error(path, e)))
            return
        if stat.S_ISDIR(st.st_mode):
            key = (st.st_dev, st.st_ino)
            if key in ancestors:
                add(Input(path, error="symlink loop (a directory that contains itself)"))
            elif key not in seen_dirs:  # a second way to the same directory: taken once
                seen_dirs.add(key)
                walk(path, ancestors + (key,))
        elif stat.S_ISREG(st.st_mode):
            if explicit or _name_matches(os.path.basename(path)) or looks_like_capture(path):
                add(Input(path, st.st_size, st.st_mtime_ns))
        else:
            add(Input(path, st.st_size, st.st_mtime_ns,
                      error=f"not a regular file: {_kind(st.st_mode)}"))

    def walk(d: str, ancestors: tuple[tuple[int, int], ...]) -> None:
        try:
            with os.scandir(d) as it:
                names = sorted(e.name for e in it)
        except OSError as e:
            add(Input(d, error=f"cannot list directory: {e.strerror or e}"))
            return
        for name in names:
            entry(os.path.join(d, name), False, ancestors)

    for spec in specs:
        if _has_magic(spec) and not os.path.lexists(spec):
            matches = sorted(globmod.glob(spec, recursive=True))
            if not matches and on_warning:
                on_warning(f"no file matches {spec}")
            for m in matches:
                entry(os.path.abspath(m), False, ())
        else:
            entry(os.path.abspath(spec), True, ())
    return list(found.values())


# --------------------------------------------------------------------------------------------
# The dataset on disk

def _write_atomic(table: pa.Table, path: Path) -> None:
    """Parquet to memory, one write to a hidden name, rename: readers never see half a file.
    (One write, because Arrow's many small writes cost several times more on some filesystems.)"""
    buf = pa.BufferOutputStream()
    pq.write_table(table, buf)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        f.write(buf.getvalue())
    os.replace(tmp, path)


class DatasetWriter:
    """Writes FileResults into a results directory (one per run; holds no file open)."""

    def __init__(self, out: Path) -> None:
        self.out = out
        for name in (*TABLES, "files"):
            (out / name).mkdir(parents=True, exist_ok=True)
        # the files table's schema, pandas metadata included, worked out once per run
        self.files_schema = to_arrow(make_frame([], FILE_COLUMNS), FILE_COLUMNS).schema
        self.fingerprint = schema_fingerprint()
        self._remove_stale_temporaries()

    def _remove_stale_temporaries(self) -> None:
        """Hidden ``.part-*.<pid>.tmp`` files left by a run that was killed (readers skip them)."""
        for tmp in self.out.glob("*/.part-*.tmp"):
            try:
                pid = int(tmp.name.rsplit(".", 2)[-2])
                os.kill(pid, 0)  # that run is still going: leave its file alone
            except ProcessLookupError:
                tmp.unlink(missing_ok=True)
            except (ValueError, OSError):
                continue

    def write(self, res: FileResult) -> dict[str, Any]:
        """One input's parts: its four tables (or none: stale ones go), then its manifest row."""
        part = part_name(res.path)
        for name in TABLES:
            target = self.out / name / part
            table = res.table(name)
            if table is None:
                target.unlink(missing_ok=True)
            else:
                _write_atomic(table, target)
        row = res.manifest_row(self.fingerprint)
        _write_atomic(pa.Table.from_pylist([row], schema=self.files_schema), self.out / "files" / part)
        return row


def read_manifest(out: Path) -> pd.DataFrame:
    """The ``files`` table of a results directory (empty with the right columns when none).

    A part that does not read (a crash while the disk was full...) is left out: its file is redone."""
    d = out / "files"
    parts = sorted(d.glob("part-*.parquet")) if d.is_dir() else []
    empty = make_frame([], FILE_COLUMNS)
    if not parts:
        return empty
    try:
        return pq.ParquetDataset([str(p) for p in parts]).read_pandas().to_pandas()
    except (pa.ArrowException, OSError):
        frames = []
        for p in parts:
            try:
                frames.append(pq.read_table(p).to_pandas())
            except (pa.ArrowException, OSError):
                continue
        return pd.concat(frames, ignore_index=True) if frames else empty


def _done(manifest: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """path -> manifest row for the rows a re-run may skip (ok, or a bad input; not a crash)."""
    if manifest.empty:
        return {}
    if "schema" not in manifest:
        return {}
    m = manifest[manifest["status"].eq("ok") | manifest["error_kind"].eq("input")]
    m = m[m["size"].notna() & m["mtime"].notna() & m["schema"].eq(schema_fingerprint()).fillna(False)]
    mtime_ns = (m["mtime"] - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(1, "ns")
    return {p: dict(row, mtime_ns=int(ns)) for p, row, ns in
            zip(m["path"], m[["status", "error", "size", "frames", "bytes", "flows",
                               "failed_handshakes", "finding_codes", "warnings"]].to_dict("records"), mtime_ns)}


# --------------------------------------------------------------------------------------------
# Engines: both yield FileResults as they complete

def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _worker_init() -> None:
    """Workers leave Ctrl-C to the parent, which stops them (no traceback per worker)."""
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _process_engine(paths: list[str], jobs: int, ports: tuple[int, ...], threads: int = 1) -> Iterator[FileResult]:
    import concurrent.futures as cf
    import multiprocessing as mp
    from concurrent.futures.process import BrokenProcessPool  # forkserver: workers never fork a parent that runs threads (the progress bar's, Dask's);
    # preloading the library there makes each worker start as cheaply as a fork would.
    methods = mp.get_all_start_methods()
    ctx = mp.get_context("forkserver" if "forkserver" in methods else methods[0])
    if ctx.get_start_method() == "forkserver":
        ctx.set_forkserver_preload(["inspector.batch", "inspector.diagnose"])
    pending = list(paths)
    for _attempt in range(3):  # a worker killed (OOM, segfault) breaks the pool: start a new one
        ex = cf.ProcessPoolExecutor(max_workers=max(1, min(jobs, len(pending))), mp_context=ctx,
                                    initializer=_worker_init)
        futures = {ex.submit(analyze_file, p, ports, threads): p for p in pending}
        broken: list[str] = []
        finished = False
        try:
            for fut in cf.as_completed(futures):
                p = futures.pop(fut)  # drop our reference: a finished future holds its tables
                try:
                    res = fut.result()
                except BrokenProcessPool:
                    broken.append(p)
                    continue
                except Exception as e:  # e.g. the result could not be unpickled
                    res = error_result(p, f"internal error: {type(e).__name__}: {e}", kind="internal")
                yield res
            finished = True
        finally:
            if not finished:  # interrupted (Ctrl-C, consumer gone): stop now, not after the queue
                for proc in list(getattr(ex, "_processes", {}).values()):
                    proc.terminate()
            ex.shutdown(wait=True, cancel_futures=True)
        pending = broken
        if not pending:
            return
    for p in pending:
        yield error_result(p, "internal error: a worker process died while analysing this batch",
                           kind="internal")


def _dask_engine(paths: list[str], jobs: int, ports: tuple[int, ...], scheduler: str | None,
                 cluster_kwargs: dict[str, Any] | None, threads: int = 1) -> Iterator[FileResult]:
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        from .errors import InspectError
        raise InspectError("--engine dask needs Dask: pip install 'tlsinspect[dask]'") from None

    import secrets

    from .errors import InspectError

    cluster = None
    if scheduler is None:
        kw = dict(n_workers=jobs, threads_per_worker=1, processes=True,
                  dashboard_address=None, silence_logs=40)
        kw.update(cluster_kwargs or {})
        cluster = LocalCluster(**kw)
    try:
        client = Client(cluster if cluster is not None else scheduler, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as e:
        if cluster is not None:
            cluster.close()
        raise InspectError(f"cannot connect to the Dask scheduler {scheduler}: {e}") from None
    try:
        run = secrets.token_hex(4)  # a long-lived scheduler must not hand back an older run's result
        keys = [f"analyze_file-{part_name(p)[5:-8]}-{run}" for p in paths]
        futures = client.map(analyze_file, paths, ports=ports, threads=threads, key=keys)
        by_key = {f.key: p for f, p in zip(futures, paths)}
        done = as_completed(futures, loop=client.loop)
        del futures
        for fut in done:
            p = by_key.pop(fut.key)
            if fut.status == "finished":
                res = fut.result()
            else:
                e = fut.exception()
                res = error_result(p, f"internal error: {type(e).__name__}: {e}", kind="internal")
            fut.release()
            del fut
            yield res
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


# --------------------------------------------------------------------------------------------
# The batch

@dataclass
class BatchSummary:
    inputs: int = 0
    skipped: int = 0  # done in an earlier run, unchanged
    analysed: int = 0
    ok: int = 0
    failed: int = 0
    flows: int = 0
    failed_handshakes: int = 0
    frames: int = 0
    bytes_on_disk: int = 0  # of the files analysed in this run
    seconds: float = 0.0  # wall time of this run's analysis
    finding_codes: Counter = field(default_factory=Counter)
    errors: list[tuple[str, str]] = field(default_factory=list)
    #: files read without error that hold no TLS flow: (path, capture warnings)
    no_flows: list[tuple[str, list[str]]] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 2 if self.failed else 0

    def add(self, status: str, flows: Any, failed_handshakes: Any, codes: Any, *, path: str = "",
            warnings: Any = None) -> None:
        if status == "ok":
            if not flows:
                self.no_flows.append((path, [str(w) for w in (warnings if warnings is not None else [])]))
            self.ok += 1
            self.flows += int(flows or 0)
            self.failed_handshakes += int(failed_handshakes or 0)
            self.finding_codes.update(list(codes) if codes is not None else [])
        else:
            self.failed += 1


def run_batch(inputs: Sequence[str], output: str | os.PathLike, *, engine: str = "process",
              jobs: int | None = None, scheduler: str | None = None, force: bool = False,
              quiet: bool = False, ports: Iterable[int] = (), console=None, err_console=None,
              cluster_kwargs: dict[str, Any] | None = None, threads: int = 1) -> BatchSummary:
    """Analyse every capture under ``inputs`` into the dataset ``output``; see the module doc."""
    from rich.console import Console
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                               TimeRemainingColumn)

    from .errors import InspectError

    console = console or Console()
    err = err_console or Console(stderr=True, highlight=False)
    out = Path(output)
    if out.exists() and not out.is_dir():
        raise InspectError(f"{out} exists and is not a directory")
    jobs = jobs or _cpus()
    ports = tuple(ports)

    def say(msg: str) -> None:
        err.print(f"tlsinspect: {msg}", markup=False, highlight=False, soft_wrap=True)

    found = discover(inputs, on_warning=say, skip=[out])
    summary = BatchSummary(inputs=len(found))
    if not found:
        raise InspectError("no capture files found in " + " ".join(map(str, inputs)))
    writer = DatasetWriter(out)

    done = {} if force else _done(read_manifest(out))
    todo: list[Input] = []
    for inp in found:
        prev = done.get(inp.path)
        if (inp.error is None and prev is not None and prev["size"] == inp.size
                and prev["mtime_ns"] == inp.mtime_ns):
            summary.skipped += 1
            summary.add(prev["status"], prev["flows"], prev["failed_handshakes"], prev["finding_codes"],
                        path=inp.path, warnings=prev.get("warnings"))
            if prev["status"] != "ok":
                summary.errors.append((inp.path, str(prev["error"])))
        else:
            todo.append(inp)

    def record(res: FileResult) -> None:
        row = writer.write(res)
        summary.analysed += 1
        summary.frames += res.frames or 0
        summary.bytes_on_disk += res.size or 0
        if res.ok:
            summary.add("ok", row["flows"], row["failed_handshakes"], row["finding_codes"], path=res.path,
                        warnings=row["warnings"])
        else:
            summary.add("error", 0, 0, None)
            summary.errors.append((res.path, res.error or ""))
            say(f"{res.path}: {res.error}")

    # Inputs known bad without opening them (FIFO, loop...) never go to a worker.
    for inp in todo:
        if inp.error is not None:
            record(error_result(inp.path, inp.error))
    work = sorted((i for i in todo if i.error is None), key=lambda i: -(i.size or 0))  # big first
    paths = [i.path for i in work]

    progress = Progress(
        TextColumn("[progress.description]{task.description}"), BarColumn(bar_width=20),
        MofNCompleteColumn(), TextColumn("files"), TextColumn("{task.fields[packets]:>10,} packets"),
        TextColumn("{task.fields[mbps]:>6.1f} MB/s"), TextColumn("ETA"), TimeRemainingColumn(),
        console=err, disable=quiet, transient=False)
    t0 = time.perf_counter()
    if paths:
        if engine == "process":
            results = _process_engine(paths, jobs, ports, threads)
        elif engine == "dask":
            results = _dask_engine(paths, jobs, ports, scheduler, cluster_kwargs, threads)
        else:
            raise InspectError(f"unknown engine {engine!r}")
        with progress:
            task = progress.add_task("analysing", total=len(paths), packets=0, mbps=0.0)
            done_bytes = 0
            for res in results:
                record(res)
                done_bytes += res.size or 0
                elapsed = max(time.perf_counter() - t0, 1e-9)
                progress.update(task, advance=1, packets=summary.frames,
                                mbps=done_bytes / elapsed / 1e6)
    summary.seconds = time.perf_counter() - t0
    print_summary(summary, out, console)
    return summary


def print_summary(s: BatchSummary, out: Path, console) -> None:
    from rich.table import Table
    from rich.text import Text

    from .output.report import cell

    t = Table(title=f"tlsinspect batch -> {out}", show_header=False, title_justify="left")
    t.add_column("what", style="bold")
    t.add_column("value", justify="right")
    t.add_row("input files", f"{s.inputs:,}")
    t.add_row("skipped (done in an earlier run)", f"{s.skipped:,}")
    t.add_row("analysed now", f"{s.analysed:,}")
    t.add_row("files ok", f"{s.ok:,}")
    t.add_row("files failed", f"[red]{s.failed:,}[/red]" if s.failed else "0")
    t.add_row("TLS flows", f"{s.flows:,}")
    if s.no_flows:
        warned = [(p, w) for p, w in s.no_flows if w]
        t.add_row("files with no TLS flow", f"[yellow]{len(s.no_flows):,}[/yellow]"
                  + (f" ({len(warned):,} with a warning)" if warned else ""))
        for p, w in warned[:5]:
            t.add_row(Text(f"  {cell(os.path.basename(p))}"), Text(cell(w[0][:100])))
    t.add_row("failed handshakes", f"{s.failed_handshakes:,}")
    for i, (code, n) in enumerate(s.finding_codes.most_common(5)):
        t.add_row("top finding codes" if i == 0 else "", f"{code} {n:>6,}")
    mb = s.bytes_on_disk / 1e6
    t.add_row("read now", f"{mb:,.1f} MB, {s.frames:,} packets in {s.seconds:,.1f} s")
    if s.seconds > 0 and s.analysed:
        t.add_row("speed", f"{mb / s.seconds:,.2f} MB/s, {s.analysed / s.seconds:,.1f} files/s")
    console.print(t)


def read_table(out: str | os.PathLike, name: str) -> pd.DataFrame:
    """One table of a results directory, every part (typed and empty when there is none)."""
    d = Path(out) / name
    parts = sorted(d.glob("part-*.parquet")) if d.is_dir() else []
    if not parts:
        return make_frame([], table_columns(name))
    return pq.ParquetDataset([str(p) for p in parts]).read_pandas().to_pandas()
