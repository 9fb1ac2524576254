"""The fleet view of a batch results directory: ``tlsinspect summary results/`` (and ``batch --report``).

`fleet_summary` reads the dataset `inspector.batch` wrote and answers what a TAC engineer asks of
many captures at once: the phones and the certificate each authenticates with (MIC, or LSC and
which CAPF), the CAPF issuers, the certificates expiring soon after the last capture, and the failed
handshakes by cause and by server; `print_fleet` shows it in the terminal, `inspector.output.fleet`
as a page.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .batch import read_manifest, read_table
from .domain import CAPF_ISSUER_CN, PHONE_NAME

EXPIRY_WINDOWS = (30, 90)  # days after the last capture


@dataclass
class FleetSummary:
    """What a TAC engineer asks of many captures at once (each a DataFrame, newest facts first)."""

    results: str
    captures: int
    captures_failed: int
    flows: int
    failed_flows: int
    first_capture: pd.Timestamp | None
    last_capture: pd.Timestamp | None
    phones: pd.DataFrame  # phone, kind, issuer, sha256, not_after, flows, failed, servers, last_seen
    capf_issuers: pd.DataFrame  # capf, phones, certificates, flows, failed
    expiring: pd.DataFrame  # subject_cn, issuer_cn, not_after, days_left, window, roles, captures
    failures_by_cause: pd.DataFrame  # cause, severity, flows, servers, example
    failures_by_server: pd.DataFrame  # server, service, flows, failed, reset, top_cause
    #: captures read without error that hold no TLS flow: capture, frames, skipped_packets, warnings
    no_flows: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["capture", "frames", "skipped_packets", "warnings"]))


_SEV_RANK = {"critical": 0, "error": 1, "warning": 2, "info": 3}


def _first(v: Any) -> Any:
    if isinstance(v, (list, tuple)) or hasattr(v, "__len__") and not isinstance(v, str):
        return v[0] if len(v) else None
    return None


def _server(ip: Any, port: Any) -> str:
    ip = str(ip)
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def fleet_summary(out: str | os.PathLike) -> FleetSummary:
    """Phones and the certificate each authenticates with (MIC, or LSC and which CAPF), the CAPF
    issuers seen, certificates expiring within 30/90 days of the last capture, and failed
    handshakes by cause and by server, across every capture of a results directory."""
    from .errors import InspectError
    from .domain import PORT_ROLES

    out = Path(out)
    if not (out / "files").is_dir():
        raise InspectError(f"{out} is not a tlsinspect results directory (no files/ table)")
    files = read_manifest(out)
    flows = read_table(out, "flows")
    certs = read_table(out, "certificates")
    findings = read_table(out, "findings")
    last = flows["ts_end"].max() if len(flows) else None
    first = flows["ts_start"].min() if len(flows) else None
    last = None if last is None or pd.isna(last) else last
    first = None if first is None or pd.isna(first) else first
    by_sha = certs.drop_duplicates("sha256").set_index("sha256") if len(certs) else None

    def cert_field(fp: Any, col: str) -> Any:
        if by_sha is None or fp is None or fp not in by_sha.index:
            return None
        v = by_sha.at[fp, col]
        return None if v is None or (not isinstance(v, (list, tuple)) and pd.isna(v)) else v

    # phones: the client leaf of each flow whose CN is a SEP name, or that is an LSC/MIC
    rows = []
    for f in flows.itertuples(index=False):
        fp = _first(f.client_chain_sha256) if f.client_chain_sha256 is not None else None
        if fp is None:
            continue
        cn = cert_field(fp, "subject_cn")
        kind = None if pd.isna(f.client_cert_kind) else str(f.client_cert_kind)
        if not (cn and PHONE_NAME.match(str(cn))) and kind not in ("LSC", "MIC"):
            continue
        rows.append(dict(phone=str(cn or f.client_subject), kind=kind or "other",
                         issuer=cert_field(fp, "issuer_cn") or (None if pd.isna(f.client_issuer) else f.client_issuer),
                         sha256=fp, not_after=cert_field(fp, "not_after"),
                         server=_server(f.server_ip, f.server_port), ts=f.ts_end,
                         failed=f.outcome != "established"))
    pf = pd.DataFrame(rows, columns=["phone", "kind", "issuer", "sha256", "not_after", "server", "ts", "failed"])
    if len(pf):
        phones = (pf.groupby(["phone", "kind", "issuer", "sha256"], dropna=False, sort=True)
                  .agg(not_after=("not_after", "first"), flows=("server", "size"), failed=("failed", "sum"),
                       servers=("server", lambda x: sorted(set(x))), last_seen=("ts", "max"))
                  .reset_index())
        phones["failed"] = phones["failed"].astype(int)
    else:
        phones = pd.DataFrame(columns=["phone", "kind", "issuer", "sha256", "not_after", "flows", "failed",
                                       "servers", "last_seen"])

    # CAPF issuers: every certificate issued by a CAPF-xxxxxxxx CA (phones' LSCs)
    crow = []
    if len(certs):
        for c in certs.drop_duplicates("sha256").itertuples(index=False):
            if c.issuer_cn is not None and not pd.isna(c.issuer_cn) and CAPF_ISSUER_CN.match(str(c.issuer_cn)):
                crow.append(dict(capf=str(c.issuer_cn), subject=c.subject_cn, sha256=c.sha256))
    cf = pd.DataFrame(crow, columns=["capf", "subject", "sha256"])
    if len(cf):
        capf = cf.groupby("capf").agg(phones=("subject", "nunique"), certificates=("sha256", "nunique")).reset_index()
        lsc = pf[pf["issuer"].isin(set(capf["capf"]))] if len(pf) else pf
        stats = lsc.groupby("issuer").agg(flows=("server", "size"), failed=("failed", "sum")) if len(lsc) else None
        capf["flows"] = [int(stats.at[c, "flows"]) if stats is not None and c in stats.index else 0 for c in capf["capf"]]
        capf["failed"] = [int(stats.at[c, "failed"]) if stats is not None and c in stats.index else 0 for c in capf["capf"]]
    else:
        capf = pd.DataFrame(columns=["capf", "phones", "certificates", "flows", "failed"])

    # certificates expiring within 90 days of the last capture (or already expired then)
    erow = []
    if len(certs) and last is not None:
        groups = certs.groupby("sha256")
        for fp, sub in groups:
            na = sub["not_after"].iloc[0]
            if pd.isna(na):
                continue
            days = (na - last).total_seconds() / 86400
            if days > EXPIRY_WINDOWS[-1]:
                continue
            window = "expired" if days < 0 else next(f"{w} days" for w in EXPIRY_WINDOWS if days <= w)
            roles = sorted({r for rs in sub["roles"] for r in (list(rs) if rs is not None else [])})
            erow.append(dict(subject_cn=sub["subject_cn"].iloc[0], issuer_cn=sub["issuer_cn"].iloc[0],
                             not_after=na, days_left=int(days // 1), window=window, roles=roles,
                             captures=int(sub["capture_path"].nunique()), sha256=fp))
    expiring = pd.DataFrame(erow, columns=["subject_cn", "issuer_cn", "not_after", "days_left", "window", "roles",
                                           "captures", "sha256"]).sort_values("not_after", kind="stable")

    # failures: each flow that did not complete, by its most severe finding (else the outcome's why)
    bad = flows[flows["outcome"].isin(["failed", "reset"])] if len(flows) else flows
    cause_of: dict[tuple[str, int], tuple[str, str]] = {}
    if len(findings):
        fs = findings[findings["severity"].isin(["critical", "error"])].copy()
        fs["rank"] = fs["severity"].map(_SEV_RANK)
        for x in fs.sort_values("rank", kind="stable").itertuples(index=False):
            cause_of.setdefault((x.capture_path, int(x.flow_id)), (str(x.code), str(x.severity)))
    brow = []
    for f in bad.itertuples(index=False):
        code, sev = cause_of.get((f.capture_path, int(f.flow_id)), (None, None))
        detail = None if pd.isna(f.outcome_detail) else str(f.outcome_detail)
        brow.append(dict(cause=code or detail or str(f.outcome), severity=sev or "", outcome=f.outcome,
                         server=_server(f.server_ip, f.server_port), port=int(f.server_port),
                         example=detail or ""))
    bf = pd.DataFrame(brow, columns=["cause", "severity", "outcome", "server", "port", "example"])
    if len(bf):
        by_cause = (bf.groupby("cause", sort=False)
                    .agg(severity=("severity", "first"), flows=("server", "size"),
                         servers=("server", "nunique"), example=("example", "first"))
                    .reset_index().sort_values(["flows", "cause"], ascending=[False, True], kind="stable"))
        by_server = (bf.groupby("server", sort=False)
                     .agg(port=("port", "first"), failed=("outcome", lambda x: int((x == "failed").sum())),
                          reset=("outcome", lambda x: int((x == "reset").sum())),
                          top_cause=("cause", lambda x: x.value_counts().index[0]))
                     .reset_index())
        totals = Counter(_server(a, b) for a, b in zip(flows["server_ip"], flows["server_port"]))
        by_server["flows"] = [totals[s_] for s_ in by_server["server"]]
        by_server["service"] = [PORT_ROLES.get(int(p_), "") for p_ in by_server["port"]]
        by_server = by_server.sort_values(["failed", "reset", "server"], ascending=[False, False, True],
                                          kind="stable")[["server", "service", "flows", "failed", "reset", "top_cause"]]
    else:
        by_cause = pd.DataFrame(columns=["cause", "severity", "flows", "servers", "example"])
        by_server = pd.DataFrame(columns=["server", "service", "flows", "failed", "reset", "top_cause"])
    ok = files[files["status"] == "ok"] if len(files) else files
    empty = ok[ok["flows"].fillna(0).eq(0)] if len(ok) else ok
    no_flows = pd.DataFrame({
        "capture": empty["path"].astype(str).tolist(),
        "frames": empty["frames"].tolist(),
        "skipped_packets": empty["skipped_packets"].tolist() if "skipped_packets" in empty else [None] * len(empty),
        "warnings": [list(w) if w is not None and not isinstance(w, float) else [] for w in empty["warnings"]],
    }, columns=["capture", "frames", "skipped_packets", "warnings"])
    return FleetSummary(
        results=str(out), captures=len(ok), captures_failed=len(files) - len(ok), flows=len(flows),
        failed_flows=int((flows["outcome"] == "failed").sum()) if len(flows) else 0,
        first_capture=first, last_capture=last, phones=phones.reset_index(drop=True), capf_issuers=capf,
        expiring=expiring.reset_index(drop=True), failures_by_cause=by_cause.reset_index(drop=True),
        failures_by_server=by_server.reset_index(drop=True), no_flows=no_flows.reset_index(drop=True))


def print_fleet(fs: FleetSummary, console) -> None:
    """The fleet summary as rich tables (``tlsinspect summary results/``)."""
    from rich.table import Table

    def day(t: Any) -> str:
        return "-" if t is None or pd.isna(t) else f"{pd.Timestamp(t):%Y-%m-%d}"

    span = f"{day(fs.first_capture)} .. {day(fs.last_capture)}"
    console.print(f"[bold]tlsinspect summary[/bold] {fs.results}: {fs.captures} captures"
                  + (f" ([red]{fs.captures_failed} unreadable[/red])" if fs.captures_failed else "")
                  + f", {fs.flows:,} TLS flows, {fs.failed_flows:,} failed, {span}", highlight=False)
    t = Table(title="Phones and the certificate they authenticate with", title_justify="left")
    for c in ("phone", "kind", "issued by", "valid until", "flows", "failed", "servers", "last seen"):
        t.add_column(c, justify="right" if c in ("flows", "failed") else "left")
    for p in fs.phones.itertuples(index=False):
        t.add_row(str(p.phone), str(p.kind), str(p.issuer or "-"), day(p.not_after), str(p.flows),
                  f"[red]{p.failed}[/red]" if p.failed else "0", ", ".join(p.servers[:3])
                  + (" ..." if len(p.servers) > 3 else ""), day(p.last_seen))
    console.print(t if len(fs.phones) else "[dim]no phone certificates (SEP..., LSC or MIC) seen[/dim]")
    t = Table(title="CAPF issuers seen (LSCs)", title_justify="left")
    for c in ("CAPF", "phones", "certificates", "flows", "failed"):
        t.add_column(c, justify="left" if c == "CAPF" else "right")
    for c in fs.capf_issuers.itertuples(index=False):
        t.add_row(str(c.capf), str(c.phones), str(c.certificates), str(c.flows), str(c.failed))
    console.print(t if len(fs.capf_issuers) else "[dim]no CAPF-issued certificate seen[/dim]")
    t = Table(title=f"Certificates expiring within {EXPIRY_WINDOWS[-1]} days of the last capture "
                    f"({day(fs.last_capture)})", title_justify="left")
    for c in ("subject", "issuer", "not after", "days left", "window", "seen as", "captures"):
        t.add_column(c, justify="right" if c in ("days left", "captures") else "left")
    for c in fs.expiring.itertuples(index=False):
        style = "red" if c.window == "expired" else ("yellow" if c.window == "30 days" else "")
        t.add_row(str(c.subject_cn), str(c.issuer_cn), day(c.not_after), str(c.days_left),
                  f"[{style}]{c.window}[/{style}]" if style else c.window, ", ".join(c.roles), str(c.captures))
    console.print(t if len(fs.expiring) else "[dim]no certificate expires within 90 days of the last capture[/dim]")
    t = Table(title="Failed or reset handshakes, by cause", title_justify="left")
    for c in ("cause", "severity", "flows", "servers", "example"):
        t.add_column(c, justify="right" if c in ("flows", "servers") else "left")
    for c in fs.failures_by_cause.itertuples(index=False):
        t.add_row(str(c.cause), str(c.severity), str(c.flows), str(c.servers), str(c.example))
    console.print(t if len(fs.failures_by_cause) else "[green]no failed handshake[/green]")
    t = Table(title="Failed or reset handshakes, by server", title_justify="left")
    for c in ("server", "service", "flows", "failed", "reset", "top cause"):
        t.add_column(c, justify="right" if c in ("flows", "failed", "reset") else "left")
    for c in fs.failures_by_server.itertuples(index=False):
        t.add_row(str(c.server), str(c.service), str(c.flows), str(c.failed), str(c.reset), str(c.top_cause))
    if len(fs.failures_by_server):
        console.print(t)
    if len(fs.no_flows):
        from rich.text import Text

        from .output.report import cell
        t = Table(title="Captures with no TLS flow", title_justify="left")
        for c in ("capture", "frames", "packets not analysed", "warning"):
            t.add_column(c, justify="right" if c in ("frames", "packets not analysed") else "left")
        for c in fs.no_flows.itertuples(index=False):
            n = "-" if c.skipped_packets is None or pd.isna(c.skipped_packets) else f"{int(c.skipped_packets):,}"
            t.add_row(Text(cell(os.path.basename(c.capture))), f"{int(c.frames or 0):,}", n,
                      Text(cell(c.warnings[0]) if len(c.warnings) else "-"))
        console.print(t)
