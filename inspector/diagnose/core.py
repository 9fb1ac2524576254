"""Findings, the context a check sees, and running the checks over a capture.

A check is a function ``check(ctx: FlowContext) -> Iterable[Finding]`` registered with
``@check("code", ...)``, naming the codes of `table.RULE_TABLE` it may emit.  ``ctx.capture``
holds what only the whole capture shows (the names a server is known by, whether the capture's
clock is wrong).  Findings about a certificate (scope ``certificate``) are merged into one per
certificate, listing every flow that sent it; capture checks add findings with no flow.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from enum import IntEnum
from typing import Callable, Iterable, Iterator

from ..domain import EXPRESSWAY_PORTS, PHONE_PORTS, SERVICES
from ..x509 import CertInfo, validity_at
from ..model import Analysis, EventRecord, FlowRecord
from ..tcp import ALERT_RECORD_MIN, missed_from_detail
from .table import CERTIFICATE_SCOPED, RULES_BY_CODE


class Severity(IntEnum):
    info = 0
    warning = 1
    error = 2
    critical = 3


@dataclass(frozen=True, slots=True)
class Finding:
    flow_id: int | None
    code: str
    severity: Severity
    message: str
    fix: str
    evidence: dict = field(default_factory=dict)
    flow_ids: tuple[int, ...] = ()
    """Every flow the finding is about (a certificate's flows; a capture finding's flows);
    ``flow_id`` is the first.  Empty only for a capture finding that concerns no flow."""


#: Fatal alerts by which a peer says it rejected a certificate.
CERT_REJECTIONS = frozenset(("bad_certificate", "unsupported_certificate", "certificate_revoked",
                             "certificate_expired", "certificate_unknown", "unknown_ca", "access_denied"))
NAME_FLOWS_KEPT = 10
"""Flows kept per (server, name) as examples: bounded memory on a million flows."""
CLOCK_IMPLAUSIBLE_BEFORE = datetime(2000, 1, 1, tzinfo=timezone.utc)


@dataclass(slots=True)
class CaptureContext:
    """What the whole capture (or, when streaming, the batch of flows at hand) shows."""

    names_by_server: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    """server IP -> DNS name sent as SNI -> flows that sent it."""
    clock_wrong: bool = False
    clock: dict = field(default_factory=dict)
    """When ``clock_wrong``: capture_time, certificates, not_yet_valid, example (a certificate)."""
    clock_flows: tuple[int, ...] = ()
    """When ``clock_wrong``: the flows that sent a certificate not valid yet at their time."""


@dataclass(slots=True)
class FlowContext:
    flow: FlowRecord
    server_chain: list[CertInfo]
    client_chain: list[CertInfo]
    alerts: list[EventRecord]
    capture: CaptureContext = field(default_factory=CaptureContext)
    missed: dict[str, int] = field(default_factory=dict)
    """Bytes of each side ("client", "server") its peer acknowledged that the capture does not hold."""

    @property
    def when(self) -> datetime:
        return datetime.fromtimestamp(self.flow.ts_start, tz=timezone.utc)

    @property
    def service(self) -> str:
        return SERVICES.get(self.flow.server_port, f"port {self.flow.server_port}")

    def fatal(self, sender: str | None = None) -> list[EventRecord]:
        """Fatal alerts (from ``sender`` when given), in order."""
        return [a for a in self.alerts if a.level == "fatal" and (sender is None or a.sender == sender)]

    def alert_may_be_missed(self, sender: str | None = None) -> bool:
        """The capture missed enough bytes (of ``sender``, or of either side) to hold an alert."""
        return any(n >= ALERT_RECORD_MIN for who, n in self.missed.items() if sender in (None, who))

    def rejected_certificate(self) -> bool:
        """A peer sent a fatal alert that rejects a certificate."""
        return any(a.code in CERT_REJECTIONS for a in self.fatal())



Check = Callable[[FlowContext], Iterable[Finding]]
RULES: list[Check] = []
"""The registered checks, in order (each a function over one flow's context)."""


def check(*codes: str) -> Callable[[Check], Check]:
    """Register a check that emits only ``codes`` (each must be a row of the rule table)."""
    missing = [c for c in codes if c not in RULES_BY_CODE]
    if missing:
        raise ValueError(f"codes not in the rule table: {missing}")

    def register(fn: Check) -> Check:
        fn.codes = codes  # type: ignore[attr-defined]
        RULES.append(fn)
        return fn
    return register


rule = check  # the former name


def finding(ctx: FlowContext, code: str, severity: Severity, message: str, fix: str, **evidence) -> Finding:
    """A finding about one flow; ``evidence`` values that are None are left out."""
    if code not in RULES_BY_CODE:
        raise ValueError(f"{code} is not in the rule table")
    ev = {"frames": [ctx.flow.first_frame, ctx.flow.last_frame]}
    ev.update({k: v for k, v in evidence.items() if v is not None})
    return Finding(ctx.flow.flow_id, code, severity, message, fix, ev, (ctx.flow.flow_id,))


_f = finding


# ---- what the whole capture shows -------------------------------------------------------------

def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def capture_context(ctxs: list[FlowContext]) -> CaptureContext:
    cap = CaptureContext()
    for ctx in ctxs:
        sni = ctx.flow.sni
        if sni and not _is_ip(sni):
            seen = cap.names_by_server.setdefault(ctx.flow.server_ip, {}).setdefault(sni.lower(), [])
            if len(seen) < NAME_FLOWS_KEPT:
                seen.append(ctx.flow.flow_id)
    # the capture's clock: judged on distinct certificates, each at the first flow that sent it
    first_seen: dict[str, tuple[CertInfo, datetime, FlowContext]] = {}
    for ctx in ctxs:
        for c in ctx.server_chain + ctx.client_chain:
            if c.sha256 not in first_seen and c.not_before is not None and c.not_after is not None:
                first_seen[c.sha256] = (c, ctx.when, ctx)
    early = [(c, when, ctx) for c, when, ctx in first_seen.values() if validity_at(c, when) == "not_yet_valid"]
    if early and 2 * len(early) > len(first_seen):
        earliest = min(when for _, when, _ in early)
        rejected = any(ctx.rejected_certificate() for _, _, ctx in early)
        if len(first_seen) >= 2 or earliest < CLOCK_IMPLAUSIBLE_BEFORE or not rejected:
            flows = sorted({ctx.flow.flow_id for ctx in ctxs
                            if any(validity_at(c, ctx.when) == "not_yet_valid"
                                   for c in ctx.server_chain + ctx.client_chain)})
            c0 = min(early, key=lambda e: e[0].not_before)[0]
            cap.clock_wrong = True
            cap.clock = dict(capture_time=earliest.isoformat(), certificates=len(first_seen),
                             not_yet_valid=len(early), example=c0.sha256)
            cap.clock_flows = tuple(flows)
    return cap


# ---- running the checks -----------------------------------------------------------------------

def contexts(analysis: Analysis) -> Iterator[FlowContext]:
    return flow_contexts(analysis.flows, analysis.certificates, analysis.events)


def flow_contexts(flows: Iterable[FlowRecord], certificates: dict, events: Iterable[EventRecord]
                  ) -> Iterator[FlowContext]:
    """Contexts for some flows, given the certificates seen (sha256 -> CertSeen) and their events."""
    certs = {fp: seen.info for fp, seen in certificates.items()}
    alerts: dict[int, list[EventRecord]] = {}
    missed: dict[int, dict[str, int]] = {}
    for e in events:
        if e.kind == "alert" and e.flow_id is not None:
            alerts.setdefault(e.flow_id, []).append(e)
        elif e.code == "capture_missed_bytes" and e.flow_id is not None and e.sender is not None:
            read = missed_from_detail(e.detail)
            if read is not None:
                missed.setdefault(e.flow_id, {})[e.sender] = read[1]
    for f in flows:
        yield FlowContext(f, [certs[fp] for fp in f.server_chain_sha256 if fp in certs],
                          [certs[fp] for fp in f.client_chain_sha256 if fp in certs],
                          alerts.get(f.flow_id, []), missed=missed.get(f.flow_id, {}))


CaptureCheck = Callable[[CaptureContext, list[FlowContext]], Iterable[Finding]]
CAPTURE_RULES: list[CaptureCheck] = []


def capture_check(*codes: str) -> Callable[[CaptureCheck], CaptureCheck]:
    def register(fn: CaptureCheck) -> CaptureCheck:
        fn.codes = codes  # type: ignore[attr-defined]
        CAPTURE_RULES.append(fn)
        return fn
    return register


def diagnose(analysis: Analysis, rules: Iterable[Check] | None = None) -> list[Finding]:
    """All findings of a capture, most severe first (then by flow)."""
    return diagnose_contexts(contexts(analysis), rules)


def diagnose_contexts(ctxs: Iterable[FlowContext], rules: Iterable[Check] | None = None) -> list[Finding]:
    ctxs = list(ctxs)
    cap = capture_context(ctxs)
    for ctx in ctxs:
        ctx.capture = cap
    rules = RULES if rules is None else list(rules)
    out: list[Finding] = []
    for ctx in ctxs:
        for r in rules:
            out.extend(r(ctx))
    for cr in CAPTURE_RULES:
        out.extend(cr(cap, ctxs))
    out = merge_certificate_findings(out)
    out.sort(key=lambda x: (-x.severity, x.flow_id or 0, x.code))
    return out


def merge_certificate_findings(findings: list[Finding]) -> list[Finding]:
    """One finding per (code, certificate): the most severe instance, with every flow listed
    (linear in the number of findings: flows are gathered per group, then sorted once)."""
    out: list[Finding | None] = []
    groups: dict[tuple, tuple[int, set[int]]] = {}
    for f in findings:
        cert = f.evidence.get("cert")
        if f.code not in CERTIFICATE_SCOPED or cert is None:
            out.append(f)
            continue
        key = (f.code, cert, f.evidence.get("root"))
        hit = groups.get(key)
        if hit is None:
            groups[key] = (len(out), set(f.flow_ids))
            out.append(f)
            continue
        i, flows = hit
        flows.update(f.flow_ids)
        kept = out[i]
        if f.severity > kept.severity:  # type: ignore[union-attr]
            out[i] = f
    for i, flows in groups.values():
        ids = tuple(sorted(flows))
        if len(ids) > 1:
            out[i] = replace(out[i], flow_id=ids[0], flow_ids=ids)  # type: ignore[arg-type]
    return out  # type: ignore[return-value]
