"""A `Capture` -> text for people (rich tables) and machines (JSON, CSV, Parquet).

Rendering only: nothing here parses packets.  The table report colours outcomes when stdout is a
terminal and falls back to plain text otherwise.  CSV cells that a spreadsheet would run as a
formula (leading ``= + - @``) are quoted with a leading apostrophe.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from .api import Capture
from .schema import cert_rows, event_rows, finding_rows, flow_rows
from .textsafe import csv_cell

if TYPE_CHECKING:
    import pandas as pd

PORT_ROLES = {
    5061: "SIP-TLS", 2443: "SCCP-TLS", 3804: "CAPF", 8443: "Tomcat", 6972: "TFTP-HTTPS",
    443: "HTTPS", 636: "LDAPS", 993: "IMAPS", 995: "POP3S", 465: "SMTPS", 25: "SMTP", 587: "SMTP",
    389: "LDAP", 5222: "XMPP", 5269: "XMPP-S2S", 5432: "PostgreSQL", 3306: "MySQL", 21: "FTP",
}
SEVERITY_STYLE = {"critical": "bold red", "error": "red", "warning": "yellow", "info": "cyan"}
OUTCOME_STYLE = {"established": "green", "failed": "bold red", "reset": "yellow", "incomplete": "dim"}


def _na(v: Any) -> bool:
    """None, NaN, pandas NA/NaT (recognised without importing pandas)."""
    if v is None:
        return True
    if isinstance(v, float):
        return math.isnan(v)
    return type(v).__name__ in ("NAType", "NaTType")


def _s(v: Any, default: str = "-") -> str:
    return default if _na(v) else str(v)


def _cn(rfc4514: Any) -> str:
    """The CN of an RFC 4514 string, for narrow table cells (first attribute when no CN)."""
    if _na(rfc4514):
        return "-"
    for part in str(rfc4514).split(","):
        if part.startswith("CN="):
            return part[3:]
    return str(rfc4514)


def endpoint(ip: str, port: int) -> str:
    """ip:port, with IPv6 addresses in brackets (RFC 3986)."""
    return f"[{ip}]:{port}" if ":" in str(ip) else f"{ip}:{port}"


def _short_cipher(name: Any) -> str:
    return "-" if _na(name) else str(name).replace("TLS_", "", 1).replace("_WITH_", " ")


PROVISIONING_CAS = ("Small Business", "Linksys", "Sipura")


def role_of(port: int, flow: Any = None, certs: "pd.DataFrame | None" = None) -> str:
    """The service, guessed from the server port; HTTPS to a SPA/ATA provisioning PKI (Cisco Small
    Business, Linksys, Sipura CAs in either chain) is "provisioning"."""
    role = PORT_ROLES.get(int(port), "")
    if role == "HTTPS" and flow is not None and certs is not None:
        for fp in list(flow.server_chain_sha256 or []) + list(flow.client_chain_sha256 or []):
            note = certs.known_ca.get(fp) if fp in certs.index else None
            if isinstance(note, str) and any(k in note for k in PROVISIONING_CAS):
                return "provisioning"
    return role


def render_table(cap: Capture, console: Console, *, quiet: bool = False) -> None:
    flows = cap.flows
    certs = cap.certificates.set_index("sha256") if len(cap.certificates) else None
    title = f"{cap.name}: {len(flows)} TLS flow{'s' if len(flows) != 1 else ''}"
    table = Table(title=title, title_justify="left", show_lines=False, expand=False)
    for col in ("#", "client", "server", "service", "version", "cipher", "SNI", "server cert",
                "client cert", "outcome"):
        table.add_column(col, overflow="fold", no_wrap=col in ("client", "server", "#"))
    for f in flows.itertuples(index=False):
        kind = "" if _na(f.client_cert_kind) else f" [{f.client_cert_kind}]"
        outcome = Text(f.outcome, style=OUTCOME_STYLE.get(f.outcome, ""))
        if not f.certs_visible and f.outcome == "established" and not _na(f.tls_version):
            outcome.append(" (certs not visible)", style="dim")
        table.add_row(
            str(f.flow_id), endpoint(f.client_ip, f.client_port), endpoint(f.server_ip, f.server_port),
            role_of(f.server_port, f, certs), _s(f.tls_version), _short_cipher(f.cipher), _s(f.sni),
            _cn(f.server_subject), _cn(f.client_subject) + kind if not _na(f.client_subject) else "-",
            outcome)
    table.caption = summary_line(cap)
    console.print(table)
    findings = cap.findings
    by_flow: dict[int, list] = {}
    for x in findings.itertuples(index=False):
        by_flow.setdefault(x.flow_id, []).append(x)
    failed = flows[flows["outcome"].isin(["failed", "reset"])]
    for f in failed.itertuples(index=False):
        console.print()
        tree = Tree(Text.assemble((f"Flow {f.flow_id} ", "bold"),
                                  f"{endpoint(f.client_ip, f.client_port)} -> {endpoint(f.server_ip, f.server_port)} ",
                                  (role_of(f.server_port, f, certs), "cyan"), "  ",
                                  (f.outcome, OUTCOME_STYLE.get(f.outcome, "")), ": ",
                                  _s(f.outcome_detail, "")))
        for label, chain in (("server chain", f.server_chain_sha256), ("client chain", f.client_chain_sha256)):
            if chain:
                node = tree.add(label)
                for fp in chain:
                    node.add(_cert_line(certs, fp))
        if f.alerts:
            tree.add("alerts: " + ", ".join(f.alerts))
        if f.client_cert_requested:
            names = f.requested_ca_names or []
            tree.add(f"server asked for a client certificate ({len(names)} CA names listed)")
        for x in by_flow.get(f.flow_id, []):
            if x.severity in ("critical", "error"):
                node = tree.add(Text.assemble((f"{x.severity.upper()} {x.code}: ", SEVERITY_STYLE[x.severity]),
                                              x.message))
                node.add(Text.assemble(("fix: ", "bold"), x.fix))
        console.print(tree)
    # the critical/error findings of failed flows are in their trees above: list the others once
    shown = findings.flow_id.isin(failed.flow_id) & findings.severity.isin(["critical", "error"])
    render_findings(findings[~shown], console,
                    title="Findings" if not shown.any() else "Other findings")
    if not quiet:
        for w in cap.warnings:
            console.print(f"[yellow]warning:[/] {w}")


def summary_line(cap: Capture) -> str:
    st = cap.stats
    parts = [f"{st.get('frames', 0)} frames", f"{st.get('tcp_connections', 0)} TCP connections",
             f"{len(cap.analysis.flows)} TLS"]
    if st.get("not_tls"):
        parts.append(f"{st['not_tls']} not TLS")
    if st.get("tls_without_handshake"):
        parts.append(f"{st['tls_without_handshake']} TLS with no handshake in the capture")
    skipped = sum(v for k, v in st.items() if k.startswith("skipped_") and "not_tcp" not in k and "not_ip" not in k)
    if skipped:
        parts.append(f"{skipped} frames not decodable")
    return ", ".join(parts)


def render_findings(findings: pd.DataFrame, console: Console, title: str = "Findings") -> None:
    """Findings, most severe first: one line each with its fix."""
    if not len(findings):
        return
    console.print()
    table = Table(title=title, title_justify="left")
    for col in ("severity", "flow", "code", "finding", "fix"):
        table.add_column(col, overflow="fold")
    for x in findings.itertuples(index=False):
        table.add_row(Text(x.severity, style=SEVERITY_STYLE.get(x.severity, "")),
                      _s(x.flow_id), x.code, x.message, x.fix)
    console.print(table)


def _cert_line(certs: pd.DataFrame | None, fp: str) -> str:
    if certs is None or fp not in certs.index:
        return fp[:16]
    c = certs.loc[fp]
    parts = [f"{_cn(c.subject)} <- {_cn(c.issuer)}"]
    if not _na(c.key_type):
        parts.append(f"{c.key_type} {_s(c.key_bits, '')}".strip())
    if not _na(c.not_after):
        parts.append(f"valid {c.not_before:%Y-%m-%d} .. {c.not_after:%Y-%m-%d}")
    if c.self_signed is True:
        parts.append("self-signed")
    if not _na(c.client_cert_kind) and c.client_cert_kind in ("LSC", "MIC"):
        parts.append(c.client_cert_kind)
    if not _na(c.known_ca):
        parts.append(str(c.known_ca))
    return ", ".join(parts)


# ---- machine formats ---------------------------------------------------------------------------

def _jsonable(v: Any) -> Any:
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, bytes):
        return v.hex()
    if isinstance(v, datetime):  # pandas Timestamps are datetimes too
        return v.isoformat()
    if _na(v):
        return None
    if hasattr(v, "item"):  # numpy scalars
        return v.item()
    return v


def _utc(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat()


TIME_FIELDS = frozenset(("ts_start", "ts_end", "ts"))


def plain(row: dict[str, Any], drop: tuple[str, ...] = ()) -> dict[str, Any]:
    """A schema row as JSON-ready values: epoch floats -> ISO 8601 UTC, bytes -> hex."""
    return {k: (_utc(v) if k in TIME_FIELDS else _jsonable(v)) for k, v in row.items() if k not in drop}


def table_rows(cap: Capture, table: str) -> list[dict[str, Any]]:
    """The rows of one table, from the analysis directly (no pandas)."""
    a = cap.analysis
    if table == "flows":
        from .trust import with_validation_columns
        return [plain(r) for r in with_validation_columns(flow_rows(a.flows), a, cap.trust)]
    if table == "certificates":
        return [plain(r, drop=("der",)) for r in cert_rows(a)]
    if table == "events":
        return [plain(r) for r in event_rows(a.events)]
    return [plain(r) for r in finding_rows(a)]


def to_json(cap: Capture) -> str:
    doc = {
        "capture": cap.name,
        "format": cap.format,
        "frames": cap.stats.get("frames", 0),
        "warnings": cap.warnings,
        "flows": table_rows(cap, "flows"),
        "certificates": table_rows(cap, "certificates"),
        "events": table_rows(cap, "events"),
        "findings": [{**r, "evidence": json.loads(r["evidence"])} for r in table_rows(cap, "findings")],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False)


def _csv_safe(v: Any) -> Any:
    if isinstance(v, list):
        v = ";".join(str(x) for x in v)
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r"):
        v = "'" + v
    return csv_cell(v)


class CsvStream:
    """CSV with lists joined by ';', formula-like cells neutralised, missing values empty;
    rows may come in several batches (the header is written with the first)."""

    def __init__(self, out) -> None:
        self.out = out
        self.writer = None

    def write(self, rows: list[dict[str, Any]]) -> None:
        import csv

        for r in rows:
            if self.writer is None:
                self.writer = csv.DictWriter(self.out, fieldnames=list(r), lineterminator="\n")
                self.writer.writeheader()
            self.writer.writerow({k: ("" if v is None else _csv_safe(v)) for k, v in r.items()})


def write_csv(rows: list[dict[str, Any]], out) -> None:
    CsvStream(out).write(rows)


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    df.to_parquet(path, index=False)
