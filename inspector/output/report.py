"""A `Capture` -> text for people (rich tables) and machines (JSON, CSV, Parquet).

Rendering only: nothing here parses packets.  The table report colours outcomes when stdout is a
terminal and falls back to plain text otherwise.  CSV cells that a spreadsheet would run as a
formula (leading ``= + - @``) are quoted with a leading apostrophe.
"""

from __future__ import annotations

import json
import re
from itertools import chain
from operator import attrgetter
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from .._lazy import lazy_import
from .jsonl import embed_json
from ..schema import BYTES_COLUMNS, FLOW_COLUMNS, TIME_COLUMNS, VALIDATION_COLUMNS, cert_rows, event_rows
from ..domain import PORT_ROLES, is_provisioning_note
from ..model import Alert
from ..model import is_missing as _na
from ..skips import skipped_packets, skipped_summary
from ..textsafe import csv_cell, is_safe, visible
from ..words import counted

if TYPE_CHECKING:
    import pandas as pd

    from ..api import Capture

#: rich, imported by the first table rendered (the machine formats never need it)
lazy_import(globals(), {"Console": ("rich.console", "Console"), "Table": ("rich.table", "Table"),
                        "Text": ("rich.text", "Text"), "Tree": ("rich.tree", "Tree")})

SEVERITY_STYLE = {"critical": "bold red", "error": "red", "warning": "yellow", "info": "cyan"}
OUTCOME_STYLE = {"established": "green", "failed": "bold red", "reset": "yellow", "incomplete": "dim"}




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


def role_of(port: int, flow: Any = None, certs: "Mapping[str, Mapping[str, Any]] | None" = None) -> str:
    """The service, guessed from the server port; HTTPS to a SPA/ATA provisioning PKI (Cisco Small
    Business, Linksys, Sipura CAs in either chain) is "provisioning".  ``certs``: certificate rows
    by SHA-256 (`cert_rows`)."""
    role = PORT_ROLES.get(int(port), "")
    if role == "HTTPS" and flow is not None and certs is not None:
        for fp in list(flow.server_chain_sha256 or []) + list(flow.client_chain_sha256 or []):
            c = certs.get(fp)
            if c is not None and is_provisioning_note(c.get("known_ca")):
                return "provisioning"
    return role


def cell(v: Any) -> str:
    """Every string that reaches the terminal goes through here (table cells, tree lines, titles,
    live lines): control characters and bidi overrides from the capture as visible escapes
    (`inspector.textsafe.visible`).  Cells are passed to rich as Text, never parsed as markup."""
    return visible(v)


def _failing_side(f: Any) -> str:
    """Who ended a failed handshake, in a few words: "server unknown_ca", "client RST"."""
    alerts = Alert.all_of(f.alerts)
    fatal = [a for a in alerts if a.level in ("fatal", "encrypted")] or alerts
    if fatal:
        return f"{fatal[-1].sender} {fatal[-1].description}".strip()
    m = re.match(r"(client|server) (\w+)", _s(f.outcome_detail, ""))
    return f"{m.group(1)} {m.group(2)}" if m else ""


#: the flow table's columns: (header, short header, priority); lower priority shows first as the
#: terminal narrows.  "#", client, server and outcome are always shown.
FLOW_TABLE_COLUMNS = (
    ("#", "#", 0), ("client", "client", 0), ("server", "server", 0), ("service", "svc", 3),
    ("version", "ver", 1), ("cipher", "cipher", 5), ("SNI", "SNI", 2), ("server cert", "server cert", 4),
    ("client cert", "client cert", 6), ("outcome", "outcome", 0),
)
_CAP = {"cipher": 26, "SNI": 24, "server cert": 24, "client cert": 24, "outcome": 26}
_SQUEEZE = 16  # an optional column is taken when this much of it fits (rich folds the rest)


def _flow_cells(f: Any, certs: Any) -> dict[str, Text]:
    kind = "" if _na(f.client_cert_kind) else f" [{f.client_cert_kind}]"
    outcome = Text(cell(f.outcome), style=OUTCOME_STYLE.get(f.outcome, ""))
    if f.outcome in ("failed", "reset"):
        side = _failing_side(f)
        if side:
            outcome.append(": " + cell(side))
    elif not f.certs_visible and f.outcome == "established" and not _na(f.tls_version):
        outcome.append(", certs hidden", style="dim")
    version = _s(f.tls_version)
    return {
        "#": Text(str(f.flow_id)),
        "client": Text(cell(endpoint(f.client_ip, f.client_port))),
        "server": Text(cell(endpoint(f.server_ip, f.server_port))),
        "service": Text(cell(role_of(f.server_port, f, certs))),
        "version": Text(cell(version.replace("TLS ", "") if version.startswith("TLS ") else version)),
        "cipher": Text(cell(_short_cipher(f.cipher))),
        "SNI": Text(cell(_s(f.sni))),
        "server cert": Text(cell(_cn(f.server_subject))),
        "client cert": Text(cell(_cn(f.client_subject) + kind if not _na(f.client_subject) else "-")),
        "outcome": outcome,
    }


def choose_columns(rows: list[dict[str, Text]], width: int) -> list[tuple[str, str, int]]:
    """The columns that fit ``width``: (name, header, width wanted), in display order.

    The always-shown columns come first; the others join by priority while their natural width
    (longest cell, capped) still fits, so at 80 columns a user sees the endpoints and the outcome
    with the failing side, and wide terminals get everything.  A column shown is never narrower
    than its header, so headers never break; long cells wrap (fold) instead of vanishing."""
    def natural(name: str, header: str) -> int:
        longest = max((rows_cell.cell_len for r in rows if (rows_cell := r[name]) is not None), default=1)
        return max(len(header), min(longest, _CAP.get(name, 60)))

    chosen: dict[str, tuple[str, int]] = {}
    used = 1  # the table's left border
    for name, short, prio in sorted(FLOW_TABLE_COLUMNS, key=lambda c: c[2]):
        header = name if width >= 120 else short
        w = natural(name, header)
        if prio == 0:
            chosen[name] = (header, w)
            used += w + 3
        elif used + min(w, max(_SQUEEZE, len(header))) + 3 <= width:
            chosen[name] = (header, w)
            used += min(w, max(_SQUEEZE, len(header))) + 3
    return [(n, *chosen[n]) for n, _s2, _p in FLOW_TABLE_COLUMNS if n in chosen]


def fit_widths(columns: list[tuple[str, str, int]], width: int) -> list[int]:
    """Each column's width so that the table fits ``width``: the optional columns give way first
    (down to their header, or 8), then the endpoints and the outcome (down to their header)."""
    required = {n for n, _h, p in FLOW_TABLE_COLUMNS if p == 0}
    widths = [w for _n, _h, w in columns]
    floors = [len(h) if n in required else max(len(h), min(w, 8)) for n, h, w in columns]
    excess = sum(widths) + 1 + 3 * len(columns) - width
    for group in (False, True):
        idx = [i for i, (n, _h, _w) in enumerate(columns) if (n in required) == group]
        while excess > 0:
            i = max(idx, key=lambda j: widths[j] - floors[j], default=None)
            if i is None or widths[i] <= floors[i]:
                break
            widths[i] -= 1
            excess -= 1
    return widths


def render_table(cap: Capture, console: Console, *, quiet: bool = False,
                 flow_ids: "set[int] | None" = None, findings: "list[dict[str, Any]] | None" = None) -> None:
    """The flow table (columns chosen by ``console.width``), a tree for each failed flow, the
    other findings.  ``flow_ids``: only these flows (``--filter``); ``findings``: the findings
    rows already made for them (else they are diagnosed here).  Read from the records and rows,
    not the DataFrames: the terminal report never imports pandas."""
    all_flows = cap.analysis.flows
    flows = all_flows if flow_ids is None else [f for f in all_flows if f.flow_id in flow_ids]
    if findings is None:
        from ..diagnose import finding_rows
        findings = finding_rows(cap.analysis)
        if flow_ids is not None:
            findings = [x for x in findings if x.get("flow_id") in flow_ids]
    certs = {c["sha256"]: c for c in cert_rows(cap.analysis)}
    shown_of = f" (of {len(all_flows)})" if flow_ids is not None else ""
    title = f"{cell(cap.name)}: {counted(len(flows), 'TLS flow')}{shown_of}"
    rows = [_flow_cells(f, certs) for f in flows]
    columns = choose_columns(rows, console.width)
    table = Table(title=title, title_justify="left", show_lines=False, expand=False)
    for (name, header, _w), w in zip(columns, fit_widths(columns, console.width)):
        table.add_column(header, overflow="fold", width=w, no_wrap=name == "#")
    for r in rows:
        table.add_row(*(r[name] for name, _h, _w in columns))
    table.caption = summary_line(cap)
    console.print(table)
    by_flow: dict[int, list] = {}
    for x in findings:
        for i in _flows_of(x):
            by_flow.setdefault(i, []).append(x)
    failed = [f for f in flows if f.outcome in ("failed", "reset")]
    for f in failed:
        console.print()
        tree = Tree(Text.assemble((f"Flow {f.flow_id} ", "bold"),
                                  cell(f"{endpoint(f.client_ip, f.client_port)} -> {endpoint(f.server_ip, f.server_port)} "),
                                  (cell(role_of(f.server_port, f, certs)), "cyan"), "  ",
                                  (cell(f.outcome), OUTCOME_STYLE.get(f.outcome, "")), ": ",
                                  cell(_s(f.outcome_detail, ""))))
        for label, chain in (("server chain", f.server_chain_sha256), ("client chain", f.client_chain_sha256)):
            if chain:
                node = tree.add(label)
                for fp in chain:
                    node.add(Text(cell(_cert_line(certs, fp))))
        if f.alerts:
            tree.add(Text(cell("alerts: " + ", ".join(f.alerts))))
        if f.client_cert_requested:
            names = f.requested_ca_names or []
            tree.add(f"server asked for a client certificate ({len(names)} CA names listed)")
        for x in by_flow.get(f.flow_id, []):
            if x["severity"] in ("critical", "error"):
                node = tree.add(Text.assemble((f"{x['severity'].upper()} {x['code']}: ", SEVERITY_STYLE[x["severity"]]),
                                              cell(x["message"])))
                node.add(Text.assemble(("fix: ", "bold"), cell(x["fix"])))
        console.print(tree)
    # the critical/error findings of failed flows are in their trees above: list the others once
    failed_ids = {f.flow_id for f in failed}
    shown = [bool(failed_ids & set(_flows_of(x))) and x["severity"] in ("critical", "error") for x in findings]
    render_findings([x for x, s in zip(findings, shown) if not s], console,
                    title="Other findings" if any(shown) else "Findings")
    if not quiet:
        for w in cap.warnings:
            console.print(Text.assemble(("warning:", "yellow"), " ", cell(w)))


def summary_line(cap: Capture) -> str:
    st = cap.stats
    parts = [counted(st.get("frames", 0), "frame"), counted(st.get("tcp_connections", 0), "TCP connection"),
             f"{len(cap.analysis.flows):,} TLS"]
    if st.get("not_tls"):
        parts.append(f"{st['not_tls']} not TLS")
    if st.get("tls_without_handshake"):
        parts.append(f"{st['tls_without_handshake']} TLS with no handshake in the capture")
    line = ", ".join(parts)
    skipped = skipped_summary(st)
    return f"{line}; packets not analysed: {skipped}" if skipped else line


def render_findings(findings: list[dict[str, Any]], console: Console, title: str = "Findings") -> None:
    """Findings rows, most severe first: one line each with its fix."""
    if not findings:
        return
    console.print()
    table = Table(title=title, title_justify="left")
    for col in ("severity", "flow", "code", "finding", "fix"):
        table.add_column(col, overflow="fold", min_width=len(col), ratio=3 if col in ("finding", "fix") else None)
    for x in findings:
        table.add_row(Text(x["severity"], style=SEVERITY_STYLE.get(x["severity"], "")),
                      _flows_cell(x), Text(cell(x["code"])), Text(cell(x["message"])), Text(cell(x["fix"])))
    console.print(table)


def _flows_of(x: Mapping[str, Any]) -> list[int]:
    """The flows a findings row is about (``flow_ids``; its ``flow_id`` when that is empty)."""
    ids = x.get("flow_ids")
    if ids is not None and not _na(ids) and len(ids):
        return [int(i) for i in ids]
    return [] if _na(x.get("flow_id")) else [int(x["flow_id"])]


def _flows_cell(x: Mapping[str, Any], most: int = 8) -> str:
    """"3", "1, 2, 5", "1, 2, ... (28 flows)", "-" for a capture finding about no flow."""
    ids = _flows_of(x)
    if len(ids) <= most:
        return ", ".join(map(str, ids)) or "-"
    return ", ".join(map(str, ids[:3])) + f", ... ({len(ids)} flows)"


def _cert_line(certs: Mapping[str, Mapping[str, Any]], fp: str) -> str:
    c = certs.get(fp)
    if c is None:
        return fp[:16]
    parts = [f"{_cn(c['subject'])} <- {_cn(c['issuer'])}"]
    if not _na(c["key_type"]):
        parts.append(f"{c['key_type']} {_s(c['key_bits'], '')}".strip())
    if not _na(c["not_after"]):
        parts.append(f"valid {_day(c['not_before'])} .. {_day(c['not_after'])}")
    if c["self_signed"] is True:
        parts.append("self-signed")
    if not _na(c["client_cert_kind"]) and c["client_cert_kind"] in ("LSC", "MIC"):
        parts.append(c["client_cert_kind"])
    if not _na(c["known_ca"]):
        parts.append(str(c["known_ca"]))
    return ", ".join(parts)


def _day(t: Any) -> str:
    return "?" if _na(t) else f"{t:%Y-%m-%d}"


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


def _utc(ts: Any) -> str | None:
    """A time column's JSON form: ISO 8601 UTC, from epoch seconds (the records) or a datetime."""
    if _na(ts):
        return None
    if isinstance(ts, datetime):
        return (ts if ts.tzinfo else ts.replace(tzinfo=timezone.utc)).astimezone(timezone.utc).isoformat()
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat()


def plain(row: dict[str, Any]) -> dict[str, Any]:
    """A schema row as its JSON form (`inspector.schema.Column.json_form`): time columns as
    ISO 8601 UTC, lists as lists, bytes columns (the DER) left out."""
    return {k: (_utc(v) if k in TIME_COLUMNS else _jsonable(v)) for k, v in row.items() if k not in BYTES_COLUMNS}


_SIMPLE = (str, int, bool)


def _strings_only(lists: list) -> bool:
    """Every value a list or tuple of strings (checked without a Python loop per element)."""
    return set(map(type, lists)) <= {tuple, list} and set(map(type, chain.from_iterable(lists))) <= {str}


def _plain_column(name: str, values: list) -> list:
    """One column as `plain` makes its values (times -> ISO 8601 UTC, tuples -> lists...)."""
    if name in TIME_COLUMNS:
        return [_utc(v) for v in values]
    if values and type(values[0]) in (tuple, list) and _strings_only(values):
        return list(map(list, values))
    return [v if v is None or type(v) in _SIMPLE else _jsonable(v) for v in values]


def flow_columns(cap: Capture) -> tuple[list[str], list[list]]:
    """The flows table as (names, columns) of `plain` values, in `FLOW_COLUMNS` order, read
    column by column from the records (the validation columns from `inspector.trust`)."""
    from ..trust import flow_validation_columns

    a = cap.analysis
    flows = a.flows
    names = [c.name for c in FLOW_COLUMNS]
    columns = []
    checks = None
    for name in names:
        if name in VALIDATION_COLUMNS:
            if checks is None:
                checks = flow_validation_columns(a, cap.trust)
            side = VALIDATION_COLUMNS.index(name)
            values = [checks.get(f.flow_id, (None, None))[side] for f in flows]
        else:
            try:
                values = list(map(attrgetter(name), flows))
            except AttributeError:  # a record without that field: None, as `flow_rows` gives
                values = [getattr(f, name, None) for f in flows]
        columns.append(_plain_column(name, values))
    return names, columns


def table_rows(cap: Capture, table: str) -> list[dict[str, Any]]:
    """The rows of one table, from the analysis directly (no pandas)."""
    a = cap.analysis
    if table == "flows":
        names, columns = flow_columns(cap)
        return [dict(zip(names, row)) for row in zip(*columns)]
    if table == "certificates":
        return [plain(r) for r in cert_rows(a)]
    if table == "events":
        return [plain(r) for r in event_rows(a.events)]
    from ..diagnose import finding_rows
    return [plain(r) for r in finding_rows(a)]


def json_doc(cap: Capture, rows: dict[str, list[dict[str, Any]]] | None = None) -> dict[str, Any]:
    """The JSON document of one capture; ``rows``: its tables, when already selected (--filter)."""
    rows = rows or {t: table_rows(cap, t) for t in ("flows", "certificates", "events", "findings")}
    return {
        "capture": cap.name,
        "format": cap.format,
        "frames": cap.stats.get("frames", 0),
        "warnings": cap.warnings,
        "stats": {k: int(v) for k, v in cap.stats.items()},
        "skipped": skipped_packets(cap.stats),
        "flows": rows["flows"],
        "certificates": rows["certificates"],
        "events": rows["events"],
        "findings": [embed_json(r) for r in rows["findings"]],
    }


def to_json(cap: Capture) -> str:
    return json.dumps(json_doc(cap), indent=2, ensure_ascii=False)


def _csv_safe(v: Any) -> Any:
    if isinstance(v, list):
        v = ";".join(str(x) for x in v)
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r"):
        v = "'" + v
    return csv_cell(v)


_FORMULA = ("=", "+", "-", "@", "\t", "\r")
_NONE = type(None)


def _csv_value(v: Any) -> Any:
    """A `plain` value as its CSV cell: None empty, else `_csv_safe`."""
    if v is None:
        return ""
    t = type(v)
    if t is int or t is bool:
        return v
    if t is str:
        return csv_cell("'" + v if v[:1] in _FORMULA else v)
    return _csv_safe(v)


_FORMULA_START = re.compile("\n[=+\\-@\t\r]")


def _csv_column(values: list) -> list:
    """`_csv_value` of each value of one column, where the csv writer's own rules (None is
    written empty) allow it without a pass in Python: a column of strings is checked for
    control characters and formula-like starts in one regular-expression pass over the column
    (cell by cell only when one might have some)."""
    types = set(map(type, values))
    if types <= {str, _NONE}:
        present = [v for v in values if v is not None] if _NONE in types else values
        if is_safe("".join(present)) and _FORMULA_START.search("\n" + "\n".join(present)) is None:
            return values
        return [_csv_value(v) for v in values]
    if types <= {int, bool, _NONE}:
        return values  # the csv writer writes None as an empty cell, ints and bools as str() does
    if types <= {list, tuple} and _strings_only(values):
        return _csv_column([";".join(v) for v in values])  # lists of strings: joined, then as strings
    return [_csv_value(v) for v in values]


class CsvStream:
    """CSV with lists joined by ';', formula-like cells neutralised, missing values empty;
    rows may come in several batches (the header is written with the first row's keys, or
    with the first columns' names)."""

    def __init__(self, out) -> None:
        self.out = out
        self.writer = None

    def _header(self, names: list[str]) -> None:
        import csv

        self.writer = csv.writer(self.out, lineterminator="\n")
        self.writer.writerow(names)

    def write(self, rows: list[dict[str, Any]]) -> None:
        for r in rows:
            if self.writer is None:
                self._header(list(r))
            self.writer.writerow([_csv_value(v) for v in r.values()])

    def write_columns(self, names: list[str], columns: list[list]) -> None:
        """Rows given as columns of `plain` values (no header when there is no row, as `write`)."""
        if not columns or not columns[0]:
            return
        if self.writer is None:
            self._header(names)
        self.writer.writerows(zip(*map(_csv_column, columns)))


def write_csv(rows: list[dict[str, Any]], out) -> None:
    CsvStream(out).write(rows)


def write_parquet(df: pd.DataFrame, table: str, path: Path) -> None:
    """``--format parquet``: one table with the Arrow schema batch writes (`inspector.arrow`)."""
    from ..arrow import write_parquet as write
    from ..schema import TABLES
    write(df, TABLES[table], path)
