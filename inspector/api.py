"""The library entry point: a capture file -> a `Capture` with DataFrames.  Reads the file."""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
import json
from types import SimpleNamespace
from typing import TYPE_CHECKING, Callable, Iterable

if TYPE_CHECKING:  # pandas is imported on first use of a DataFrame property, not by the CLI
    import pandas as pd

from .capture import CaptureReader
from .engine import Analysis, Analyzer
from .errors import CaptureError, InspectError
from .flows import Limits


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

    # ---- Jupyter views (inspector.notebook) -------------------------------------------------

    def _flow_row(self, flow_id: int) -> pd.Series:
        rows = self.flows[self.flows["flow_id"] == int(flow_id)]
        if not len(rows):
            raise KeyError(f"no flow {flow_id} in {self.name} (flow ids 1..{len(self.flows)})")
        return rows.iloc[0]

    def flow(self, flow_id: int):
        """One flow as a `FlowView`: endpoints, outcome, alerts, both chains and its findings."""
        from .notebook import FlowView
        return FlowView(self._flow_row(flow_id), self.certificates, self.findings)

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
                 engine: str | None = None, trust=None) -> Capture:
    """Read a pcap/pcapng file (optionally gzip-compressed) and analyse every TLS flow.

    ``keylog`` names an NSS key log file (SSLKEYLOGFILE): TLS 1.3 handshakes whose secrets it
    holds are decrypted, revealing their certificates, CertificateRequest and alerts.
    ``trust`` (an `inspector.trust.TrustStore`, e.g. ``load_trust("ca.pem")``) judges each flow's
    chains for the ``server_validation`` / ``client_validation`` columns (else the chain alone).
    ``engine="tshark"`` fills the same tables from Wireshark's dissectors through pyshark (slower;
    the second engine and oracle; limits and key logs do not apply).
    ``engine``: ``"rust"`` (the compiled engine, `inspector._core`), ``"python"`` (the pure-Python
    reference; ``"native"`` is an alias) or ``"tshark"``; None means `DEFAULT_ENGINE`.
    Raises `CaptureError` when the file is unusable (not a capture, broken before any packet).
    A file cut short after some packets gives the flows so far and a ``capture_truncated`` warning.
    """
    if engine == "tshark":
        from .tshark_engine import read_capture_tshark
        cap = read_capture_tshark(path, ports=ports, keylog=keylog)
        cap.trust = trust
        return cap
    engine = _engine_name(engine)
    path = Path(path)
    if engine == "rust":
        from . import rust_engine
        analysis, fmt, nread = rust_engine.analyze(path, ports=ports, limits=limits,
                                                   keylog=_read_keylog_bytes(keylog))
    else:
        reader = CaptureReader(path)
        analyzer = Analyzer(path.name, ports=ports, limits=limits, keylog=_read_keylog(keylog))
        analysis = _run(reader, analyzer)
        fmt, nread = reader.format, reader.bytes_read
    unsupported = {k: v for k, v in analysis.stats.items() if k.startswith("skipped_unsupported_linktype_")}
    if analysis.stats["frames"] and sum(unsupported.values()) == analysis.stats["frames"]:
        lts = ", ".join(k.rsplit("_", 1)[1] for k in unsupported)
        raise CaptureError(f"link type {lts} is not supported (no packet could be decoded)")
    return Capture(path, analysis, format=fmt, bytes_read=nread, trust=trust)


#: The compiled engine gives the Python engine's answers on every capture of the differential test
#: (tests/test_rust_engine.py); the Python engine stays as the reference and as the fallback where
#: the extension is not built (a platform without a wheel).
DEFAULT_ENGINE = "rust"


def _engine_name(engine: str | None) -> str:
    """"rust" or "python" ("native" is the old name of the Python engine).  None: `DEFAULT_ENGINE`,
    or "python" when the Rust extension is not built."""
    if engine is None:
        from . import rust_engine
        engine = DEFAULT_ENGINE if DEFAULT_ENGINE != "rust" or rust_engine.available() else "python"
    if engine == "native":
        return "python"
    if engine not in ("rust", "python"):
        raise InspectError(f"unknown engine {engine!r} (rust, python or tshark)")
    return engine


def _warning(code: str, detail: str):
    from .capture import CaptureWarning
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


def _read_keylog(path: str | os.PathLike | None):
    if path is None:
        return None
    from .tls.decrypt import parse_keylog
    try:
        text = Path(path).read_text(encoding="ascii", errors="replace")
    except OSError as e:
        raise InspectError(f"cannot read key log {path}: {e.strerror or e}") from None
    log = parse_keylog(text)
    if not len(log):
        raise InspectError(f"{path} holds no key log lines (NSS key log format expected)")
    return log


def _read_keylog_bytes(path: str | os.PathLike | None) -> bytes | None:
    """The key log file's bytes for the Rust engine, checked as `_read_keylog` checks it."""
    if path is None:
        return None
    _read_keylog(path)  # same errors for an unreadable file or one without key log lines
    return Path(path).read_bytes()


def stream_capture(path: str | os.PathLike, on_rows: Callable[[str, list[dict]], None], *,
                   ports: Iterable[int] = (), limits: Limits | None = None,
                   keylog: str | os.PathLike | None = None, batch_size: int = 1000,
                   engine: str | None = None) -> Capture:
    """Read a capture in streaming mode: rows are handed to ``on_rows(table, rows)`` in batches as
    flows end (tables ``"flows"``, ``"events"``, ``"findings"``; ``"certificates"`` once at the
    end), and nothing per flow is kept, so memory depends on the flows in flight, not on the
    capture's length.  Flow ids number flows in the order they end.  The returned `Capture`
    has the certificates and capture-level warnings; its flows/events tables are empty.

    With ``engine="rust"`` the capture is analysed whole first (one call into the compiled engine)
    and its rows are then handed over in batches of ``batch_size`` flows, in the same order and
    with the same flow ids; memory then holds every flow's record (a few hundred bytes each).
    """
    from .diagnose import diagnose_contexts, flow_contexts
    from .schema import cert_rows, event_rows, flow_rows
    from .trust import with_validation_columns

    path = Path(path)
    pending: list = []
    pending_events: list = []

    def flush() -> None:
        if not pending:
            return
        view = SimpleNamespace(flows=pending, certificates=analyzer.certs)
        on_rows("flows", with_validation_columns(flow_rows(pending), view))
        on_rows("events", event_rows(pending_events))
        findings = diagnose_contexts(flow_contexts(pending, analyzer.certs, pending_events))
        on_rows("findings", [dict(capture=analyzer.capture, flow_id=f.flow_id, code=f.code,
                                  severity=f.severity.name, message=f.message, fix=f.fix,
                                  evidence=json.dumps(f.evidence, sort_keys=True)) for f in findings])
        pending.clear()
        pending_events.clear()

    def on_flow(rec, events) -> None:
        pending.append(rec)
        pending_events.extend(events)
        if len(pending) >= batch_size:
            flush()

    if _engine_name(engine) == "rust":
        from . import rust_engine
        analysis, fmt, nread = rust_engine.analyze(path, ports=ports, limits=limits,
                                                   keylog=_read_keylog_bytes(keylog), stream=True)
        analyzer = SimpleNamespace(capture=analysis.capture, certs=analysis.certificates)
        by_flow: dict = {}
        for ev in analysis.events:
            if ev.flow_id is not None:
                by_flow.setdefault(ev.flow_id, []).append(ev)
        for rec in analysis.flows:
            on_flow(rec, by_flow.get(rec.flow_id, []))
        flush()
        analysis.flows = []
        analysis.events = [ev for ev in analysis.events if ev.flow_id is None]
        on_rows("events", event_rows(analysis.events))  # capture-level warnings
        on_rows("certificates", cert_rows(analysis))
        return Capture(path, analysis, format=fmt, bytes_read=nread)
    reader = CaptureReader(path)
    analyzer = Analyzer(path.name, ports=ports, limits=limits, keylog=_read_keylog(keylog),
                        on_flow=on_flow)
    analysis = _run(reader, analyzer)
    flush()
    on_rows("events", event_rows(analysis.events))  # capture-level warnings
    on_rows("certificates", cert_rows(analysis))
    return Capture(path, analysis, format=reader.format, bytes_read=reader.bytes_read)
