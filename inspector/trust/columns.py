"""Flows judged: both chains of a flow (`validate_flow`), every flow of an analysis, and the
``server_validation`` / ``client_validation`` columns added to the flow rows."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import Any, ClassVar, Mapping

from ..model import FlowRecord
from ..schema import VALIDATION_COLUMNS, flow_rows
from ..model import is_missing as _isna
from .nodes import _der_of, _node, _Node
from .store import TrustStore
from .validate import Validation, _aware, _request_validation, _Sig, _validate

def _get(rec: object, key: str, default: Any = None) -> Any:
    if type(rec) is FlowRecord:  # the common case, without typing.Mapping's slow isinstance
        return getattr(rec, key, default)
    if isinstance(rec, Mapping):
        return rec.get(key, default)
    return getattr(rec, key, default)


def _chain_nodes(fps: Any, certs_by_sha: Mapping[str, object], cache: dict[str, _Node]) -> list[_Node]:
    if fps is None or _isna(fps):
        return []
    out = []
    for fp in list(fps):
        c = certs_by_sha.get(fp)
        if c is None:
            continue
        n = cache.get(fp)
        if n is None:
            n = _node(_der_of(c), cache)
        out.append(n)
    return out


def flow_hostname(flow_record: object) -> str | None:
    """The name the client asked for: its SNI; an IP-literal SNI as that address; else the server
    address (what the client connected to)."""
    sni = _get(flow_record, "sni")
    if sni is not None and not _isna(sni) and str(sni).strip():
        return str(sni).strip()
    ip = _get(flow_record, "server_ip")
    return None if ip is None or _isna(ip) else str(ip)


def validate_flow(flow_record: object, certs_by_sha: Mapping[str, object], *, store: TrustStore | None,
                  at: datetime | None = None, check_name: bool = True, _cache: dict[str, _Node] | None = None,
                  _sig: _Sig | None = None) -> tuple[Validation, Validation | None]:
    """Both chains of one flow (a `FlowRecord`, a flows DataFrame row, or a mapping).

    ``certs_by_sha``: SHA-256 -> DER bytes, `CertInfo` or `CertSeen` (``cap.analysis.certificates``).
    ``at`` defaults to the flow's start.  The server chain is checked against ``store`` with the
    flow's SNI (or the server address when the SNI is absent) as the name; ``check_name=False``
    skips that check (for clients that pin the certificate and ignore names, like phones that trust
    CUCM through their ITL).  The client chain
    (None when the client sent none) is checked against ``store`` when one is given, else
    against the CA names of the server's CertificateRequest.
    """
    cache = _cache if _cache is not None else {}
    sig = _sig or _Sig()
    when = _aware(at if at is not None else _get(flow_record, "ts_start"))
    server_chain = _chain_nodes(_get(flow_record, "server_chain_sha256"), certs_by_sha, cache)
    server = _validate(server_chain, at=when, store=store, purpose="server",
                       hostname=flow_hostname(flow_record) if check_name else None, sig=sig)
    if not server_chain:
        visible = _get(flow_record, "certs_visible")
        hidden = visible is not None and not _isna(visible) and not bool(visible)
        why = ("The server's Certificate was not visible (TLS 1.3 without a key log, or a resumed session)."
               if hidden else "The server sent no certificate in the capture.")
        server = Validation("no_certificate", why, at=when, problems=["no_certificate"])
    client_chain = _chain_nodes(_get(flow_record, "client_chain_sha256"), certs_by_sha, cache)
    client: Validation | None = None
    if client_chain:
        names = _get(flow_record, "requested_ca_names")
        names = [] if names is None or _isna(names) else list(names)
        if store is not None or not names:
            client = _validate(client_chain, at=when, store=store, purpose="client", hostname=None, sig=sig)
        else:
            client = _request_validation(client_chain, names, when, sig)
    return server, client


def flow_validations(analysis: object, store: TrustStore | None = None
                     ) -> dict[int, tuple[Validation, Validation | None]]:
    """`validate_flow` for every flow of an `Analysis` (``cap.analysis``), by flow_id."""
    certs = getattr(analysis, "certificates")
    cache: dict[str, _Node] = {}
    sig = _Sig()
    return {int(f.flow_id): validate_flow(f, certs, store=store, _cache=cache, _sig=sig)
            for f in getattr(analysis, "flows")}


@dataclass
class ValidationMemo:
    """What judging flows keeps from one batch of flows to the next of the same capture and store
    (a streamed capture comes in batches, one flow each from a pipe): the certificates as parsed,
    the signatures checked and the statuses of each group of alike flows (at most `MAX_STATUSES`:
    a capture of a million names does not keep a million)."""

    nodes: dict[str, _Node] = field(default_factory=dict)
    sig: _Sig = field(default_factory=_Sig)
    statuses: dict[tuple, tuple[str, str | None]] = field(default_factory=dict)

    MAX_STATUSES: ClassVar[int] = 100_000


def flow_validation_columns(analysis: object, store: TrustStore | None = None,
                            memo: ValidationMemo | None = None) -> dict[int, tuple[str, str | None]]:
    """flow_id -> (server_validation, client_validation) status strings, for the flows table.

    Flows with the same chains, name and CA list whose time falls between the same validity
    boundaries (of those certificates and the store's) get the same statuses: each such group is
    validated once, so a million flows to a few servers cost a few validations.  ``memo`` carries
    that over from the previous batches of a streamed capture (judged against the same store).
    """
    certs = getattr(analysis, "certificates")
    memo = memo if memo is not None else ValidationMemo()
    cache, sig = memo.nodes, memo.sig
    if len(memo.statuses) > memo.MAX_STATUSES:
        memo.statuses.clear()
    statuses = memo.statuses
    store_bounds = store._bounds if store is not None else []
    out: dict[int, tuple[str, str | None]] = {}
    for f in getattr(analysis, "flows"):
        when = _aware(_get(f, "ts_start"))
        server_fps = tuple(_get(f, "server_chain_sha256") or ())
        client_fps = tuple(_get(f, "client_chain_sha256") or ())
        names = _get(f, "requested_ca_names")
        bounds = sorted({t for fp in server_fps + client_fps if fp in certs
                         for n in (cache.get(fp) or _node(_der_of(certs[fp]), cache),)
                         for t in (n.not_before, n.not_after) if t is not None})
        visible = _get(f, "certs_visible")
        key = (server_fps, client_fps, flow_hostname(f), tuple(names or ()),
               None if visible is None or _isna(visible) else bool(visible),
               bisect.bisect_left(bounds, when), bisect.bisect_right(bounds, when),
               bisect.bisect_left(store_bounds, when), bisect.bisect_right(store_bounds, when))
        hit = statuses.get(key)
        if hit is None:
            sv, cv = validate_flow(f, certs, store=store, at=when, _cache=cache, _sig=sig)
            hit = statuses[key] = (sv.status, cv.status if cv is not None else None)
        out[int(_get(f, "flow_id"))] = hit
    return out


def validated_flow_rows(flows: list[FlowRecord], certificates: Mapping[str, object],
                        store: TrustStore | None = None, memo: ValidationMemo | None = None) -> list[dict[str, Any]]:
    """The flows table's rows: `inspector.schema.flow_rows` with ``server_validation`` /
    ``client_validation`` (`flow_validation_columns`) set.  The one place a flow row is made,
    whether for the DataFrame, a streamed batch or a live flow (``memo``: one per streamed
    capture, see `ValidationMemo`)."""
    checks = flow_validation_columns(SimpleNamespace(flows=flows, certificates=certificates), store, memo)
    rows = flow_rows(flows)
    for row in rows:
        row.update(zip(VALIDATION_COLUMNS, checks.get(row["flow_id"], (None, None))))
    return rows
