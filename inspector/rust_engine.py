"""The Rust engine (`inspector._core`) behind the same `Analysis` the Python engine returns.

`inspector._core.analyze` reads the whole capture in one call with the GIL released and returns
the flows, events and distinct certificates as pyarrow RecordBatches, or (``columns=True``, what
this module asks for) as name -> list columns built in Rust, so that a command-line run does not
import pyarrow and numpy (~0.3 s, more than the analysis of 100 MB) (see ``_core.pyi``).  This module
turns them into `FlowRecord`, `EventRecord` and `CertSeen` objects, filling what comes from X.509
(subjects, issuers, ``client_cert_kind``, ``cert_parse_error``) from
`inspector.certs.parse_certificate_cached`, so diagnoses, outputs and DataFrames work unchanged.
The CertificateRequest's CA names come formatted from Rust (the port of
`inspector.tls.messages.ca_name_to_str`, which never hands cryptography an OID it panics on).
Each distinct certificate is parsed once, however many flows sent it.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

if TYPE_CHECKING:
    from .tls.decrypt import KeyLog

from .errors import InspectError
from .model import Analysis, CertSeen, EventRecord, FlowRecord, Limits, MessageRecord

_core: Any = None
_import_error: str | None = None


def load_core():
    """The extension module, or `InspectError` naming how to build it."""
    global _core, _import_error
    if _core is None and _import_error is None:
        try:
            from . import _core as core
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


def analyze(path: str | os.PathLike, *, ports: Iterable[int] = (), limits: Limits | None = None,
            keylog: bytes | KeyLog | None = None, stream: bool = False,
            threads: int | None = None) -> tuple[Analysis, str, int]:
    """One capture through the Rust engine: (analysis, format, bytes read).

    ``keylog`` is the text of an NSS key log file, as bytes, or the `KeyLog` `api._read_keylog`
    read (its warnings become capture warnings, with ``keylog_unmatched`` when no flow used it).  ``stream``: number flows in the
    order they end, as the Python engine's streaming mode does.  ``threads``: threads for this one
    file (None or 0 = every core, 1 = one thread); the answers are the same.  Raises `CaptureError` as the
    Python engine does, with the same messages."""
    core = load_core()
    limits = limits or Limits()
    path = Path(path)
    report = {}
    if keylog is not None and not isinstance(keylog, (bytes, bytearray)):  # a KeyLog read by api._read_keylog: its warnings, and keylog_unmatched in Rust
        report = dict(keylog_source=keylog.source, keylog_entries=len(keylog),
                      keylog_warnings=[(str(c), str(d)) for c, d in keylog.warnings])
        keylog = keylog_text(keylog)
    result = core.analyze(str(path), capture=path.name, ports=sorted(set(int(p) for p in ports)),
                          max_flows=limits.max_flows, max_handshake_bytes=limits.max_handshake_bytes,
                          max_pending_bytes=limits.max_pending_bytes, max_certs=limits.max_certs,
                          max_tombstones=limits.max_tombstones, keylog=keylog, stream=stream,
                          max_frag_datagrams=limits.max_frag_datagrams, max_frag_bytes=limits.max_frag_bytes,
                          frag_timeout=float(limits.frag_timeout), max_buffered_bytes=limits.max_buffered_bytes, **report,
                          threads=threads, columns=True)  # plain lists: no pyarrow (and numpy) import on this path
    return analysis_from_core(result, path.name), result["format"], result["bytes_read"]


def keylog_text(log: "KeyLog") -> bytes:
    """A parsed key log back as NSS key log lines (the last secret per label, as parsed), for the
    Rust engine: the file is read once, streamed and bounded, by `api._read_keylog`."""
    from .tls.decrypt import LABELS
    lines = []
    for cr, found in log.secrets.items():
        for i in range(0, len(found), 2):
            lines.append(f"{LABELS[found[i]]} {cr.hex()} {found[i + 1].hex()}\n")
    return "".join(lines).encode("ascii")


def _columns(table) -> dict[str, list]:
    """A table as name -> list: already so with ``columns=True``, else a pyarrow RecordBatch."""
    return table if isinstance(table, dict) else table.to_pydict()


def analysis_from_core(result: dict, capture: str) -> Analysis:
    """The dict `_core.analyze` returns -> `inspector.engine.Analysis`."""
    from .certs import client_cert_kind, parse_certificate_cached

    certs: dict[str, CertSeen] = {}
    infos = {}
    c = _columns(result["certificates"])
    for fp, der, flow_ids, roles in zip(c["sha256"], c["der"], c["flow_ids"], c["roles"]):
        info = parse_certificate_cached(der)
        infos[fp] = info
        certs[fp] = CertSeen(info, list(flow_ids), list(roles))

    def info_of(fp: str):
        info = infos.get(fp)
        return info

    flows: list[FlowRecord] = []
    f = _columns(result["flows"])
    intern = sys.intern
    for i in range(len(f["flow_id"])):
        server_chain = tuple(f["server_chain_sha256"][i])
        client_chain = tuple(f["client_chain_sha256"][i])
        server_leaf = info_of(server_chain[0]) if server_chain else None
        client_leaf = info_of(client_chain[0]) if client_chain else None
        warnings = list(f["warnings"][i])
        if "cert_parse_error" not in warnings and any(
                (inf := info_of(fp)) is not None and inf.errors for fp in server_chain + client_chain):
            warnings.append("cert_parse_error")
        flows.append(FlowRecord(
            capture=capture,
            flow_id=f["flow_id"][i],
            ts_start=f["ts_start"][i],
            ts_end=f["ts_end"][i],
            first_frame=f["first_frame"][i],
            last_frame=f["last_frame"][i],
            client_ip=f["client_ip"][i],
            client_port=f["client_port"][i],
            server_ip=f["server_ip"][i],
            server_port=f["server_port"][i],
            ip_version=f["ip_version"][i],
            tls_version=f["tls_version"][i],
            client_max_version=f["client_max_version"][i],
            cipher=f["cipher"][i],
            cipher_id=f["cipher_id"][i],
            sni=f["sni"][i],
            alpn=f["alpn"][i],
            server_subject=server_leaf.subject if server_leaf is not None else None,
            server_issuer=server_leaf.issuer if server_leaf is not None else None,
            server_chain_sha256=server_chain,
            client_subject=client_leaf.subject if client_leaf is not None else None,
            client_issuer=client_leaf.issuer if client_leaf is not None else None,
            client_chain_sha256=client_chain,
            client_cert_kind=client_cert_kind(client_leaf) if client_leaf is not None else None,
            client_cert_requested=f["client_cert_requested"][i],
            requested_ca_names=tuple(f["requested_ca_names"][i]),
            alerts=tuple(intern(a) for a in f["alerts"][i]),
            outcome=f["outcome"][i],
            outcome_detail=f["outcome_detail"][i],
            certs_visible=f["certs_visible"][i],
            decrypted=f["decrypted"][i],
            resumed=f["resumed"][i],
            dh_bits=f["dh_bits"][i],
            kx_group=f["kx_group"][i],
            history=f["history"][i],
            ja3=f["ja3"][i],
            ja3s=f["ja3s"][i],
            ja4=f["ja4"][i],
            starttls=f["starttls"][i],
            packets=f["packets"][i],
            warnings=tuple(warnings),
            transport=f["transport"][i],
            protocol=f["protocol"][i],
            encapsulation=f["encapsulation"][i],
            quic_version=f["quic_version"][i],
            srtp_profile=f["srtp_profile"][i],
        ))
    e = _columns(result["events"])
    events = [EventRecord(capture, *row) for row in zip(
        e["flow_id"], e["frame"], e["ts"], e["kind"], e["sender"], e["code"], e["detail"])]
    m = _columns(result["messages"])
    messages = [MessageRecord(capture, *row) for row in zip(
        m["flow_id"], m["frame"], m["ts"], m["sender"], m["kind"], map(intern, m["name"]))]
    stats: Counter = Counter(result["stats"])
    return Analysis(capture, flows, certs, events, stats, list(result["capture_warnings"]),
                    result["first_ts"], result["last_ts"], messages)
