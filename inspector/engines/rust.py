"""The Rust engine (`inspector._core`) behind the same `Analysis` the Python engine returns.

`inspector._core.analyze` reads the whole capture in one call with the GIL released and returns
the flows, events and distinct certificates as pyarrow RecordBatches, or (``columns=True``, what
this module asks for) as name -> list columns built in Rust, so that a command-line run does not
import pyarrow and numpy (~0.3 s, more than the analysis of 100 MB) (see ``_core.pyi``).  This module
turns them into `FlowRecord`, `EventRecord` and `CertSeen` objects, filling what comes from X.509
(subjects, issuers, ``client_cert_kind``, ``cert_parse_error``) from
`inspector.x509.parse_certificate_cached`, so diagnoses, outputs and DataFrames work unchanged.
The CertificateRequest's CA names come formatted from Rust (the port of
`inspector.tls.messages.ca_name_to_str`, which never hands cryptography an OID it panics on).
Each distinct certificate is parsed once, however many flows sent it.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from dataclasses import fields as dataclass_fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

if TYPE_CHECKING:
    from ..tls.decrypt import KeyLog

from ..errors import InspectError
from ..model import Analysis, CertSeen, EventRecord, FlowRecord, Limits, MessageRecord

_core: Any = None
_import_error: str | None = None


def load_core():
    """The extension module, or `InspectError` naming how to build it."""
    global _core, _import_error
    if _core is None and _import_error is None:
        try:
            from .. import _core as core
        except ImportError as e:
            _import_error = str(e)
        else:
            if hasattr(core, "analyze"):
                _core = core
            else:
                _import_error = "this build of inspector._core has no analyze()"
    if _core is None:
        raise InspectError(f"the Rust engine is not available ({_import_error}); build it with "
                           "`make setup` (maturin) or use --engine python")
    return _core


def available() -> bool:
    """Is the Rust engine built into this installation?"""
    try:
        load_core()
    except InspectError:
        return False
    return True


def _source(path: Path) -> dict[str, Any]:
    """Where `_core.analyze` reads: a file; or a pipe (stdin, a FIFO, process substitution),
    opened by its path as the Python reader does and read as its packets come."""
    from ..sources.capture import is_pipe

    return {"path": str(path), "pipe": is_pipe(path)}


def _core_args(path: Path, ports: Iterable[int], limits: Limits | None,
               keylog: "bytes | KeyLog | None") -> dict[str, Any]:
    """`_core.analyze`'s keywords for a capture file: its limits, and the key log with its report."""
    limits = limits or Limits()
    report = {}
    if keylog is not None and not isinstance(keylog, (bytes, bytearray)):  # a KeyLog read by api._read_keylog: its warnings, and keylog_unmatched in Rust
        report = dict(keylog_source=keylog.source, keylog_entries=len(keylog),
                      keylog_warnings=[(str(c), str(d)) for c, d in keylog.warnings])
        keylog = keylog_text(keylog)
    return dict(capture=path.name, ports=sorted(set(int(p) for p in ports)),
                max_flows=limits.max_flows, max_handshake_bytes=limits.max_handshake_bytes,
                max_pending_bytes=limits.max_pending_bytes, max_certs=limits.max_certs,
                max_tombstones=limits.max_tombstones, keylog=keylog,
                max_frag_datagrams=limits.max_frag_datagrams, max_frag_bytes=limits.max_frag_bytes,
                frag_timeout=float(limits.frag_timeout), max_buffered_bytes=limits.max_buffered_bytes, **report,
                columns=True)  # plain lists: no pyarrow (and numpy) import on this path


def analyze(path: str | os.PathLike, *, ports: Iterable[int] = (), limits: Limits | None = None,
            keylog: bytes | KeyLog | None = None, stream: bool = False,
            threads: int | None = None) -> tuple[Analysis, str, int]:
    """One capture through the Rust engine: (analysis, format, bytes read).

    ``keylog`` is the text of an NSS key log file, as bytes, or the `KeyLog` `api._read_keylog`
    read (its warnings become capture warnings, with ``keylog_unmatched`` when no flow used it).  ``stream``: number flows in the
    order they end, as the Python engine's streaming mode does.  ``threads``: threads for this one
    file (None or 0 = every core, 1 = one thread); the answers are the same.  Raises `CaptureError` as the
    Python engine does, with the same messages."""
    path = Path(path)
    result = load_core().analyze(**_source(path), **_core_args(path, ports, limits, keylog), stream=stream,
                                 threads=threads)
    return analysis_from_core(result, path.name), result["format"], result["bytes_read"]


def analyze_streaming(path: str | os.PathLike, on_flows: "Callable[[list[FlowRecord], list[EventRecord]], None]",
                      certs: dict[str, CertSeen], *, ports: Iterable[int] = (), limits: Limits | None = None,
                      keylog: bytes | KeyLog | None = None, batch_size: int = 1000,
                      capture: str | None = None) -> tuple[Analysis, str, int]:
    """`analyze` in streaming mode, with memory for the flows in flight only: whenever
    ``batch_size`` flows have ended, ``on_flows(flows, events)`` gets their records while the
    capture is still being read, and ``certs`` (sha256 -> `CertSeen`, filled here) holds every
    certificate seen so far, for their chains.  Returns the `Analysis` of the end: the flows that
    ended after the last batch, the capture-level warnings and the whole certificates table.
    ``capture``: the name the rows give (the file's by default)."""
    path = Path(path)
    name = capture or path.name

    def on_batch(batch: dict) -> None:
        add_certificates(batch["certificates"], certs)
        on_flows(flow_records(batch["flows"], name, certs), event_records(batch["events"], name))

    args = {**_core_args(path, ports, limits, keylog), "capture": name}
    result = load_core().analyze(**_source(path), **args, stream=True, threads=1, on_batch=on_batch,
                                 batch_size=batch_size)
    return analysis_from_core(result, name), result["format"], result["bytes_read"]


def keylog_text(log: "KeyLog") -> bytes:
    """A parsed key log back as NSS key log lines (the last secret per label, as parsed), for the
    Rust engine: the file is read once, streamed and bounded, by `api._read_keylog`."""
    from ..tls.decrypt import LABELS
    lines = []
    for cr, found in log.secrets.items():
        for i in range(0, len(found), 2):
            lines.append(f"{LABELS[found[i]]} {cr.hex()} {found[i + 1].hex()}\n")
    return "".join(lines).encode("ascii")


def _columns(table) -> dict[str, list]:
    """A table as name -> list: already so with ``columns=True``, else a pyarrow RecordBatch."""
    return table if isinstance(table, dict) else table.to_pydict()


_FLOW_FIELDS = tuple(fl.name for fl in dataclass_fields(FlowRecord))


def add_certificates(columns, certs: dict[str, CertSeen]) -> None:
    """A certificates table (sha256, der, flow_ids, roles) into ``certs``, each DER parsed once."""
    from ..x509 import parse_certificate_cached

    c = _columns(columns)
    for fp, der, flow_ids, roles in zip(c["sha256"], c["der"], c["flow_ids"], c["roles"]):
        certs[fp] = CertSeen(parse_certificate_cached(der), list(flow_ids), list(roles))


def flow_records(columns, capture: str, certs: dict[str, CertSeen]) -> list[FlowRecord]:
    """A flows table -> `FlowRecord`s, with what X.509 says of the chains in ``certs``."""
    from ..x509 import client_cert_kind

    f = _columns(columns)
    intern = sys.intern
    server_chains = [tuple(c) for c in f["server_chain_sha256"]]
    client_chains = [tuple(c) for c in f["client_chain_sha256"]]
    # looked up per flow, never a pass over ``certs``: a streamed capture calls this once a flow
    info = {fp: seen.info for fp in {fp for c in server_chains + client_chains for fp in c}
            if (seen := certs.get(fp)) is not None}
    server_leaf = [info.get(c[0]) if c else None for c in server_chains]
    client_leaf = [info.get(c[0]) if c else None for c in client_chains]
    unparsed = {fp for fp, x in info.items() if x.errors}
    warnings = []
    for w, sc, cc in zip(f["warnings"], server_chains, client_chains):
        if unparsed and "cert_parse_error" not in w and not unparsed.isdisjoint(sc + cc):
            w = [*w, "cert_parse_error"]
        warnings.append(tuple(w))
    n = len(f["flow_id"])
    derived = {
        "capture": [capture] * n,
        "server_subject": [x.subject if x is not None else None for x in server_leaf],
        "server_issuer": [x.issuer if x is not None else None for x in server_leaf],
        "server_chain_sha256": server_chains,
        "client_subject": [x.subject if x is not None else None for x in client_leaf],
        "client_issuer": [x.issuer if x is not None else None for x in client_leaf],
        "client_chain_sha256": client_chains,
        "client_cert_kind": [client_cert_kind(x) if x is not None else None for x in client_leaf],
        "requested_ca_names": [tuple(x) for x in f["requested_ca_names"]],
        "alerts": [tuple(map(intern, a)) for a in f["alerts"]],
        "warnings": warnings,
    }
    # column by column, in the record's field order (positional: several times cheaper than keywords)
    return list(map(FlowRecord, *(derived[name] if name in derived else f[name] for name in _FLOW_FIELDS)))


def event_records(columns, capture: str) -> list[EventRecord]:
    e = _columns(columns)
    return [EventRecord(capture, *row) for row in zip(
        e["flow_id"], e["frame"], e["ts"], e["kind"], e["sender"], e["code"], e["detail"])]


def analysis_from_core(result: dict, capture: str) -> Analysis:
    """The dict `_core.analyze` returns -> `inspector.engines.python.Analysis`."""
    certs: dict[str, CertSeen] = {}
    add_certificates(result["certificates"], certs)
    flows = flow_records(result["flows"], capture, certs)
    events = event_records(result["events"], capture)
    stats: Counter = Counter(result["stats"])
    analysis = CoreAnalysis(capture, flows, certs, events, stats, list(result["capture_warnings"]),
                            result["first_ts"], result["last_ts"])
    analysis.message_columns = result["messages"]  # after __init__ set messages = []
    return analysis


class CoreAnalysis(Analysis):
    """An `Analysis` whose ``messages`` (tens of thousands of records for 100 MB, read only by the
    ladder, the HTML report and the messages DataFrame) are built from the engine's columns on
    first use: a CSV of the flows never makes them."""

    message_columns: Any = None

    @property  # type: ignore[override]
    def messages(self) -> list[MessageRecord]:
        if self.message_columns is not None:
            m = _columns(self.message_columns)
            self._messages = [MessageRecord(self.capture, *row) for row in zip(
                m["flow_id"], m["frame"], m["ts"], m["sender"], m["kind"], map(sys.intern, m["name"]))]
            self.message_columns = None
        return self._messages

    @messages.setter
    def messages(self, value: list[MessageRecord]) -> None:
        self._messages = value  # a list set here replaces the columns not yet turned into records
        self.message_columns = None
