"""The library entry point: a capture file -> a `Capture` with DataFrames.  Reads the file."""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Callable, Iterable

if TYPE_CHECKING:  # pandas is imported on first use of a DataFrame property, not by the CLI
    import pandas as pd

from .errors import CaptureError, InspectError
from .model import Analysis, Limits

if TYPE_CHECKING:  # the Python engine is imported when it runs, not by the Rust path
    from .sources.capture import CaptureReader
    from .engines.python import Analyzer


class Capture:
    """What one capture file holds: ``flows``, ``certificates`` and ``events`` DataFrames."""

    def __init__(self, path: Path, analysis: Analysis, *, format: str, bytes_read: int,
                 trust=None) -> None:
        self.path = path
        self.trust = trust  # an inspector.trust.TrustStore judging the chains, or None
        self.analysis = analysis
        self.format = format
        self.bytes_read = bytes_read

    @property
    def name(self) -> str:
        return self.analysis.capture

    @property
    def warnings(self) -> list[str]:
        """Capture-level warnings (e.g. ``capture_truncated: ...``)."""
        return self.analysis.capture_warnings

    @property
    def stats(self) -> dict[str, int]:
        return dict(self.analysis.stats)

    @cached_property
    def flows(self) -> pd.DataFrame:
        from .frame import flows_frame
        return flows_frame(self.analysis, self.trust)

    @cached_property
    def certificates(self) -> pd.DataFrame:
        from .frame import certificates_frame
        return certificates_frame(self.analysis)

    @cached_property
    def events(self) -> pd.DataFrame:
        from .frame import events_frame
        return events_frame(self.analysis)

    @cached_property
    def findings(self) -> pd.DataFrame:
        """Diagnoses: one row per finding, most severe first (see README for the codes)."""
        from .frame import findings_frame
        return findings_frame(self.analysis)

    @cached_property
    def messages(self) -> pd.DataFrame:
        """Each flow's handshake messages, ChangeCipherSpec, alerts and first application data, in
        order, with sender, frame and time: the arrows of the ladder diagram."""
        from .frame import messages_frame
        return messages_frame(self.analysis)

    # ---- Jupyter views (inspector.notebook) -------------------------------------------------

    def _flow_row(self, flow_id: int) -> pd.Series:
        rows = self.flows[self.flows["flow_id"] == int(flow_id)]
        if not len(rows):
            raise KeyError(f"no flow {flow_id} in {self.name} (flow ids 1..{len(self.flows)})")
        return rows.iloc[0]

    def flow(self, flow_id: int):
        """One flow as a `FlowView`: endpoints, outcome, alerts, both chains and its findings."""
        from .notebook import FlowView
        return FlowView(self._flow_row(flow_id), self.certificates, self.findings, self.messages,
                        self.validations(flow_id))

    def validations(self, flow_id: int):
        """(server, client) `inspector.trust.Validation` of a flow's chains (client None when it
        sent none), judged by this capture's trust store at the flow's start."""
        from .trust import validate_flow
        row = next((f for f in self.analysis.flows if f.flow_id == int(flow_id)), None)
        if row is None:
            raise KeyError(f"no flow {flow_id} in {self.name}")
        return validate_flow(row, self.analysis.certificates, store=self.trust)

    def chain(self, flow_id: int, side: str = "server"):
        """The ``"server"`` or ``"client"`` certificate chain of a flow as a `ChainView` (leaf first)."""
        import pandas as pd

        from .notebook import ChainView
        if side not in ("server", "client"):
            raise ValueError(f'side must be "server" or "client", not {side!r}')
        row = self._flow_row(flow_id)
        fps = row[f"{side}_chain_sha256"]
        visible = row["certs_visible"]
        return ChainView.from_fingerprints(
            list(fps) if isinstance(fps, (list, tuple)) else [], self.certificates, side=side,
            at=row["ts_start"], flow_id=int(flow_id),
            leaf_kind=None if pd.isna(row["client_cert_kind"]) else str(row["client_cert_kind"]),
            certs_visible=None if pd.isna(visible) else bool(visible) if side == "server" else None)

    def cert(self, sha256_prefix: str):
        """The certificate whose SHA-256 starts with ``sha256_prefix`` (hex, colons and case ignored)
        as a `CertView`, judged at the time of the first flow that sent it.

        Raises KeyError when no certificate matches, or more than one does."""
        import pandas as pd

        from .notebook import CertView
        prefix = str(sha256_prefix).replace(":", "").replace(" ", "").lower()
        certs = self.certificates
        hits = certs[certs["sha256"].str.startswith(prefix)] if prefix and len(certs) else certs.iloc[0:0]
        if len(hits) != 1:
            what = "no certificate" if not len(hits) else f"{len(hits)} certificates"
            raise KeyError(f"{what} in {self.name} with a SHA-256 starting {prefix!r}")
        row = hits.iloc[0]
        flows = self.flows[self.flows["flow_id"].isin([int(x) for x in (row["flow_ids"] or [])])]
        at = flows["ts_start"].min() if len(flows) else None
        return CertView(row, at=None if at is None or pd.isna(at) else at)

    def _repr_html_(self) -> str:
        from .notebook import CaptureSummary
        return CaptureSummary(self)._repr_html_()

    def __repr__(self) -> str:
        return (f"<Capture {self.name}: {len(self.analysis.flows)} TLS flows, "
                f"{len(self.analysis.certificates)} certificates, {self.analysis.stats['frames']} frames>")


def read_capture(path: str | os.PathLike, *, ports: Iterable[int] = (),
                 limits: Limits | None = None, keylog: str | os.PathLike | None = None,
                 engine: str | None = None, trust=None, threads: int | None = None) -> Capture:
    """Read a pcap/pcapng file (optionally gzip-compressed) and analyse every TLS flow.

    ``keylog`` names an NSS key log file (SSLKEYLOGFILE): TLS 1.3 handshakes whose secrets it
    holds are decrypted, revealing their certificates, CertificateRequest and alerts.  Without
    it, a key log beside the capture (``FILE.keys``, ``FILE.keylog``, ``FILE.sslkeylog``) is used.
    ``trust`` (an `inspector.trust.TrustStore`, e.g. ``load_trust("ca.pem")``) judges each flow's
    chains for the ``server_validation`` / ``client_validation`` columns (else the chain alone).
    ``engine="tshark"`` fills the same tables from Wireshark's dissectors through pyshark (slower;
    the second engine and oracle; limits and key logs do not apply).
    ``engine``: ``"rust"`` (the compiled engine, `inspector._core`), ``"python"`` (the pure-Python
    reference; ``"native"`` is an alias) or ``"tshark"``; None means `DEFAULT_ENGINE`.
    ``threads`` (Rust engine): threads for this file, None or 0 = every core, 1 = one thread;
    the tables are the same whatever the number.
    Raises `CaptureError` when the file is unusable (not a capture, broken before any packet).
    A file cut short after some packets gives the flows so far and a ``capture_truncated`` warning.
    """
    if engine == "tshark":
        from .engines.tshark import analyze_file_tshark
        analysis, fmt, size = analyze_file_tshark(path, ports=ports, keylog=keylog)
        return Capture(Path(path), analysis, format=fmt, bytes_read=size, trust=trust)
    requested = engine
    engine = _engine_name(engine)
    path = Path(path)
    if engine == "rust" and requested is None and not _rust_reads(path):
        engine = "python"  # devices: the Python engine has their checks and messages
    if engine == "rust":
        from .engines import rust as rust_engine
        analysis, fmt, nread = rust_engine.analyze(path, ports=ports, limits=limits,
                                                   keylog=_read_keylog(keylog, limits, path), threads=threads)
    else:
        from .sources.capture import CaptureReader
        from .engines.python import Analyzer
        reader = CaptureReader(path)
        analyzer = Analyzer(path.name, ports=ports, limits=limits, keylog=_read_keylog(keylog, limits, path))
        analysis = _run(reader, analyzer)
        fmt, nread = reader.format, reader.bytes_read
    unsupported = {k: v for k, v in analysis.stats.items() if k.startswith("skipped_unsupported_linktype_")}
    if analysis.stats["frames"] and sum(unsupported.values()) == analysis.stats["frames"]:
        lts = ", ".join(k.rsplit("_", 1)[1] for k in unsupported)
        raise CaptureError(f"link type {lts} is not supported (no packet could be decoded)")
    return Capture(path, analysis, format=fmt, bytes_read=nread, trust=trust)


#: "rust": the compiled engine gives the Python engine's answers on every capture of the
#: differential test (tests/differential/test_rust_engine.py), snaplen cuts, partial hellos and the
#: max_buffered_bytes budget included (tests/fuzz/test_hostile_partial.py, test_hostile_memory.py); the
#: Python engine stays the reference and the fallback where the extension is not built.
DEFAULT_ENGINE = "rust"


def _rust_reads(path: Path) -> bool:
    """What the Rust engine reads: a file, or a pipe (stdin, FIFOs: read as their packets come)."""
    from .sources.capture import is_pipe
    return _regular_file(path) or is_pipe(path)


def _regular_file(path: Path) -> bool:
    """A path the Rust engine reads (a regular file; a missing one gets its error message)."""
    import stat
    try:
        return stat.S_ISREG(os.stat(path).st_mode) or stat.S_ISDIR(os.stat(path).st_mode)
    except OSError:
        return str(path) != "-"


def _engine_name(engine: str | None) -> str:
    """"rust" or "python" ("native" is the old name of the Python engine).  None: `DEFAULT_ENGINE`,
    or "python" when the Rust extension is not built."""
    if engine is None:
        from .engines import rust as rust_engine
        engine = DEFAULT_ENGINE if DEFAULT_ENGINE != "rust" or rust_engine.available() else "python"
    if engine == "native":
        return "python"
    if engine not in ("rust", "python"):
        raise InspectError(f"unknown engine {engine!r} (rust, python or tshark)")
    return engine


def _warning(code: str, detail: str):
    from .sources.capture import CaptureWarning
    return CaptureWarning(code, detail)


def _run(reader: CaptureReader, analyzer: Analyzer) -> Analysis:
    """Feed a capture to an analyzer; a file broken after some packets keeps them, with a warning."""
    try:
        analyzer.feed(reader.packets())
    except CaptureError as e:
        if analyzer.frame == 0:
            raise
        reader.warnings.append(_warning("capture_truncated", f"reading stopped: {e}"))
    return analyzer.finish((w.code, w.detail) for w in reader.warnings)


#: Key logs looked for beside a capture FILE when none is given: FILE.keys, FILE.keylog,
#: FILE.sslkeylog (``lab.pcapng.keys`` for ``lab.pcapng``).
KEYLOG_SUFFIXES = (".keys", ".keylog", ".sslkeylog")


def keylog_beside(capture: str | os.PathLike) -> Path | None:
    """The key log lying beside ``capture`` (see `KEYLOG_SUFFIXES`), or None."""
    for suffix in KEYLOG_SUFFIXES:
        p = Path(str(capture) + suffix)
        if p.is_file():
            return p
    return None


def _read_keylog(path: str | os.PathLike | None, limits: Limits | None = None,
                 capture: str | os.PathLike | None = None):
    """Read a key log, streamed in chunks, into a `KeyLog` (its ``warnings`` become capture
    warnings).  Without ``path``, a key log beside ``capture`` is used.  A regular file over
    ``limits.max_keylog_bytes`` is read from its end (browsers append: the newest secrets are
    last); a FIFO is read until ``limits.keylog_timeout`` seconds pass without data; a device,
    socket or directory is refused.  Raises `InspectError` (one line) when it cannot be read."""
    import select
    import stat
    import time

    warnings: list[tuple[str, str]] = []
    if path is None:
        path = keylog_beside(capture) if capture is not None else None
        if path is None:
            return None
        warnings.append(("keylog_beside", f"using the key log {path}, found beside the capture"))
    from .tls.decrypt import KeyLogParser
    limits = limits or Limits()
    cap = limits.max_keylog_bytes
    parser = KeyLogParser(str(path))
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except IsADirectoryError:
        raise InspectError(f"key log {path} is a directory, not a file") from None
    except OSError as e:
        raise InspectError(f"cannot read key log {path}: {e.strerror or e}") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise InspectError(f"key log {path} is a directory, not a file")
        got = 0
        if stat.S_ISREG(st.st_mode):
            os.set_blocking(fd, True)
            if st.st_size > cap:
                os.lseek(fd, st.st_size - cap, os.SEEK_SET)
                parser.skip_partial_line()
                warnings.append(("keylog_truncated", f"the key log {path} is {st.st_size} bytes, over the limit "
                                 f"of {cap}: only its last {cap} bytes were read"))
            while got < cap:
                chunk = os.read(fd, min(1 << 20, cap - got))
                if not chunk:
                    break
                got += len(chunk)
                parser.feed(chunk)
        elif stat.S_ISFIFO(st.st_mode):
            idle = limits.keylog_timeout
            deadline = time.monotonic() + 6 * idle
            while True:
                try:
                    chunk = os.read(fd, 1 << 16)  # b"" at once when no writer holds the FIFO
                except BlockingIOError:  # a writer holds it, silent so far
                    ready, _, _ = select.select([fd], [], [], idle)
                    if not ready:
                        raise InspectError(f"key log {path}: no data for {idle:g} s (a FIFO whose writer "
                                           "sends nothing)") from None
                    continue
                if not chunk:
                    break
                got += len(chunk)
                parser.feed(chunk)
                if got >= cap:
                    warnings.append(("keylog_truncated", f"the key log {path} sent more than {cap} bytes: "
                                     "reading stopped there"))
                    break
                if time.monotonic() > deadline:
                    raise InspectError(f"key log {path}: still sending after {6 * idle:g} s; "
                                       "write it to a file and give that")
        else:
            raise InspectError(f"key log {path} is a device or socket, not a file")
    except OSError as e:
        raise InspectError(f"cannot read key log {path}: {e.strerror or e}") from None
    finally:
        os.close(fd)
    log = parser.close()
    if not len(log):
        warnings.append(("keylog_empty", f"{path} holds no key log lines (NSS key log format expected): "
                         "nothing was decrypted"))
    elif log.bad_lines:
        warnings.append(("keylog_bad_lines", f"{log.bad_lines} lines of {path} are not key log lines "
                         "and were skipped"))
    log.warnings = warnings + log.warnings
    return log


def stream_capture(path: str | os.PathLike, on_rows: Callable[[str, list[dict]], None], *,
                   ports: Iterable[int] = (), limits: Limits | None = None,
                   keylog: str | os.PathLike | None = None, batch_size: int = 1000,
                   engine: str | None = None, name: str | None = None) -> Capture:
    """Read a capture in streaming mode: rows are handed to ``on_rows(table, rows)`` in batches as
    flows end (tables ``"flows"``, ``"events"``, ``"findings"``; ``"certificates"`` once at the
    end), and nothing per flow is kept, so memory depends on the flows in flight, not on the
    capture's length.  Flow ids number flows in the order they end.  The returned `Capture`
    has the certificates and capture-level warnings; its flows/events tables are empty.

    Both engines stream (the Rust engine hands each ``batch_size`` flows over while it reads the
    file), in the same order and with the same flow ids.  ``name``: the ``capture`` column (the
    file's name by default).
    """
    from .diagnose import diagnose_contexts, flow_contexts
    from .schema import cert_rows, event_rows, finding_row
    from .trust import ValidationMemo, validated_flow_rows

    path = Path(path)
    pending: list = []
    pending_events: list = []
    memo = ValidationMemo()  # certificates parsed and chains judged once, not once a batch

    def flush() -> None:
        if not pending:
            return
        on_rows("flows", validated_flow_rows(pending, analyzer.certs, memo=memo))
        on_rows("events", event_rows(pending_events))
        findings = diagnose_contexts(flow_contexts(pending, analyzer.certs, pending_events))
        on_rows("findings", [finding_row(analyzer.capture, f) for f in findings])
        pending.clear()
        pending_events.clear()

    def on_flow(rec, events) -> None:
        pending.append(rec)
        pending_events.extend(events)
        if len(pending) >= batch_size:
            flush()

    chosen = _engine_name(engine)
    if chosen == "rust" and engine is None and not _rust_reads(path):
        chosen = "python"  # devices: the Python engine has their checks and messages
    if chosen == "rust":
        from .engines import rust as rust_engine
        analyzer = SimpleNamespace(capture=name or path.name, certs={})

        def on_flows(flows, events) -> None:
            by_flow: dict = {}
            for ev in events:
                by_flow.setdefault(ev.flow_id, []).append(ev)
            for rec in flows:
                on_flow(rec, by_flow.get(rec.flow_id, []))

        analysis, fmt, nread = rust_engine.analyze_streaming(
            path, on_flows, analyzer.certs, ports=ports, limits=limits,
            keylog=_read_keylog(keylog, limits, path), batch_size=batch_size, capture=analyzer.capture)
        analyzer.certs.update(analysis.certificates)
        on_flows(analysis.flows, [ev for ev in analysis.events if ev.flow_id is not None])
        flush()
        analysis.flows = []
        analysis.events = [ev for ev in analysis.events if ev.flow_id is None]
        on_rows("events", event_rows(analysis.events))  # capture-level warnings
        on_rows("certificates", cert_rows(analysis))
        return Capture(path, analysis, format=fmt, bytes_read=nread)
    from .sources.capture import CaptureReader
    from .engines.python import Analyzer
    reader = CaptureReader(path)
    analyzer = Analyzer(name or path.name, ports=ports, limits=limits, keylog=_read_keylog(keylog, limits, path),
                        on_flow=on_flow)
    analysis = _run(reader, analyzer)
    flush()
    on_rows("events", event_rows(analysis.events))  # capture-level warnings
    on_rows("certificates", cert_rows(analysis))
    return Capture(path, analysis, format=reader.format, bytes_read=reader.bytes_read)
