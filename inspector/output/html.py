"""One self-contained HTML file a TAC engineer can attach: ``tlsinspect FILE --format html -o r.html``.

The page needs no network when viewed (inline CSS, a few lines of vanilla JavaScript, inline SVG;
a Content-Security-Policy forbids every fetch): a summary (flows by outcome and by service, top
findings, the capture's time span and clock sanity), the flow table (sortable, filterable), one
section per flow with its ladder diagram, chain cards and trust verdicts (the same renderer as
Jupyter's ``cap.flow(n)``: `inspector.notebook.FlowView`, `inspector.output.ladder`), every finding with
its fix linked to its flow and certificates, and the certificates on an expiry timeline.

The fleet page of ``tlsinspect summary results/ --format html`` (`inspector.output.fleet`) shares the
stylesheet.  Every capture-derived value goes through `html.escape` (quotes too); the script reads
the DOM only (no ``innerHTML``), so a hostile subject or SNI stays text.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from datetime import datetime, timezone
from typing import Any, Iterable

import pandas as pd

from ..skips import skipped_summary
from ..notebook.cert import CertView
from ..notebook.parts import (OUTCOME_COLOURS, SEVERITY_COLOURS, VALIDITY_COLOURS, _list, _na, _port_role, _s,
                              _ts, validity_state)

__all__ = ["render_report", "write_report", "clock_notes", "expiry_timeline_svg", "PAGE_CSS", "PAGE_JS"]

MAX_FLOW_SECTIONS = 300  # flow sections with ladders and cards; the table lists every flow
MAX_TABLE_ROWS = 20_000
MAX_TIMELINE = 150
OUTCOMES = ("established", "failed", "reset", "incomplete")
SEVERITIES = ("critical", "error", "warning", "info")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")

PAGE_CSS = """
:root { --fg:#24292f; --muted:#57606a; --line:#d0d7de; --bg:#f6f8fa; }
* { box-sizing: border-box; }
body { margin:0; color:var(--fg); background:#fff; font:13px/1.45 -apple-system,'Segoe UI',Helvetica,Arial,sans-serif; }
header.ti-top { background:#24292f; color:#fff; padding:14px 28px; }
header.ti-top h1 { margin:0; font-size:19px; font-weight:600; }
header.ti-top .ti-meta { color:#c9d1d9; font-size:12px; margin-top:2px; }
nav.ti-nav { position:sticky; top:0; z-index:2; background:#fff; border-bottom:1px solid var(--line); padding:6px 28px; }
nav.ti-nav a { margin-right:16px; color:#0969da; text-decoration:none; font-weight:600; }
main { padding:6px 28px 40px 28px; max-width:1480px; }
.ti-scroll { overflow-x:auto; }
.ti-cards { display:grid; grid-template-columns:repeat(auto-fill, minmax(520px, 1fr)); gap:0 16px; }
h2 { font-size:16px; margin:22px 0 8px 0; padding-bottom:4px; border-bottom:1px solid var(--line); }
.ti-grid { display:grid; grid-template-columns:repeat(auto-fit, minmax(250px, 1fr)); gap:12px; align-items:start; }
.ti-card { border:1px solid var(--line); border-radius:6px; padding:10px 12px; background:#fff; }
.ti-card h3 { margin:0 0 6px 0; font-size:13px; color:var(--muted); font-weight:600; text-transform:uppercase; letter-spacing:.03em; }
.ti-big { font-size:26px; font-weight:600; }
.ti-pill { display:inline-block; padding:1px 8px; border-radius:10px; color:#fff; font-weight:600; font-size:12px; margin:0 4px 4px 0; }
.ti-bar { display:flex; height:10px; border-radius:5px; overflow:hidden; background:#eaeef2; margin:6px 0; }
table.ti-t { border-collapse:collapse; width:100%; font-size:12px; }
table.ti-t th, table.ti-t td { text-align:left; padding:3px 6px; border-bottom:1px solid #eaeef2; vertical-align:top; }
table.ti-t th { background:var(--bg); font-weight:600; }
.ti-nw { white-space:nowrap; }
th.ti-why { min-width:300px; }
table.ti-t td.n, table.ti-t th.n { text-align:right; font-variant-numeric:tabular-nums; }
table.ti-sortable th { cursor:pointer; user-select:none; white-space:nowrap; }
table.ti-sortable th[aria-sort="ascending"]::after { content:" \\25B2"; font-size:9px; }
table.ti-sortable th[aria-sort="descending"]::after { content:" \\25BC"; font-size:9px; }
table.ti-t tr:hover td { background:#f6f8fa; }
.ti-mono { font-family:SFMono-Regular,Menlo,Consolas,monospace; font-size:11.5px; }
.ti-muted { color:var(--muted); }
.ti-controls { display:flex; gap:10px; align-items:center; margin:6px 0 8px 0; }
.ti-controls input, .ti-controls select { font:inherit; padding:4px 8px; border:1px solid var(--line); border-radius:6px; }
.ti-controls input { width:340px; }
.ti-note { padding:6px 10px; border-left:3px solid #bf8700; background:#fff8c5; margin:4px 0; font-size:12px; }
.ti-note.ok { border-color:#1a7f37; background:#dafbe1; }
section.ti-flow-section { margin:12px 0; }
section.ti-flow-section > details > summary { cursor:pointer; font-weight:600; padding:4px 0; }
a { color:#0969da; }
.ti-findings td { font-size:12px; }
footer { color:var(--muted); font-size:11px; padding:10px 28px 20px 28px; }
@media print { nav.ti-nav { display:none; } details { display:block; } }
"""

PAGE_JS = """
(function () {
  'use strict';
  function cellValue(row, i, type) {
    var c = row.cells[i];
    if (!c) { return type === 'num' ? -Infinity : ''; }
    var v = c.getAttribute('data-sort');
    if (v === null) { v = c.textContent; }
    if (type === 'num') { var n = parseFloat(v); return isNaN(n) ? -Infinity : n; }
    return v.toLowerCase();
  }
  function sortBy(table, th) {
    var ths = table.tHead.rows[0].cells, idx = Array.prototype.indexOf.call(ths, th);
    var type = th.getAttribute('data-type') || 'text';
    var asc = th.getAttribute('aria-sort') !== 'ascending';
    for (var k = 0; k < ths.length; k++) { ths[k].removeAttribute('aria-sort'); }
    th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
    var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = cellValue(a, idx, type), y = cellValue(b, idx, type);
      var r = x < y ? -1 : (x > y ? 1 : 0);
      if (r === 0) { r = cellValue(a, 0, 'num') - cellValue(b, 0, 'num'); return r; }
      return asc ? r : -r;
    });
    for (var j = 0; j < rows.length; j++) { body.appendChild(rows[j]); }
  }
  function applyFilter(table) {
    var q = (document.getElementById('ti-filter').value || '').toLowerCase().trim();
    var o = document.getElementById('ti-outcome').value;
    var shown = 0, rows = table.tBodies[0].rows;
    var terms = q ? q.split(/\\s+/) : [];
    for (var i = 0; i < rows.length; i++) {
      var text = rows[i].textContent.toLowerCase(), ok = !o || rows[i].getAttribute('data-outcome') === o;
      for (var t = 0; ok && t < terms.length; t++) { ok = text.indexOf(terms[t]) !== -1; }
      rows[i].hidden = !ok;
      if (ok) { shown++; }
    }
    document.getElementById('ti-count').textContent = shown + ' of ' + rows.length + ' flows';
  }
  var tables = document.querySelectorAll('table.ti-sortable');
  for (var i = 0; i < tables.length; i++) {
    (function (table) {
      var ths = table.tHead.rows[0].cells;
      for (var k = 0; k < ths.length; k++) {
        ths[k].addEventListener('click', function (ev) { sortBy(table, ev.currentTarget); });
      }
    })(tables[i]);
  }
  var flows = document.getElementById('ti-flows');
  if (flows) {
    document.getElementById('ti-filter').addEventListener('input', function () { applyFilter(flows); });
    document.getElementById('ti-outcome').addEventListener('change', function () { applyFilter(flows); });
    applyFilter(flows);
  }
  function openTarget() {
    var id = decodeURIComponent(location.hash.slice(1)), el = id && document.getElementById(id);
    if (el) { var d = el.querySelector('details'); if (d) { d.open = true; } }
  }
  window.addEventListener('hashchange', openTarget);
  openTarget();
})();
"""


def _e(v: Any, default: str = "") -> str:
    return html.escape(_s(v, default), quote=True)


def _pill(label: str, colour: str, *, cls: str = "", data: str = "") -> str:
    return f'<span class="ti-pill {cls}"{data} style="background:{colour};">{_e(label)}</span>'


def _fmt_ts(t: pd.Timestamp | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    return "?" if t is None else f"{t:{fmt}} UTC"


def _span(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.1f} ms"
    if seconds < 120:
        return f"{seconds:.2f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def cert_anchor(sha256: Any) -> str:
    return "cert-" + "".join(ch for ch in _s(sha256)[:16] if ch in "0123456789abcdef")


def _page(title: str, body: str, *, nav: Iterable[tuple[str, str]] = ()) -> str:
    from .. import __version__
    links = "".join(f'<a href="#{_e(a)}">{_e(t)}</a>' for a, t in nav)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
        "script-src 'unsafe-inline'; img-src data:\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<meta name=\"generator\" content=\"tlsinspect {_e(__version__)}\">"
        f"<title>{_e(title)}</title><style>{PAGE_CSS}</style></head><body>"
        + body.replace("<!--NAV-->", f'<nav class="ti-nav">{links}</nav>' if links else "")
        + f"<script>{PAGE_JS}</script></body></html>\n")


# ---- summary pieces -----------------------------------------------------------------------------

def clock_notes(flows: pd.DataFrame, certificates: pd.DataFrame, *, now: datetime | None = None
                ) -> list[tuple[str, str]]:
    """(level, sentence) about the capture's clock: ``"warn"`` or ``"ok"``.

    A capture dated in the future or before 2005 (a host without NTP often says 1970), or
    certificates that are "not yet valid" at the capture time (one clock is wrong: the capturing
    host's, or the one that issued them)."""
    now_ts = pd.Timestamp(now or datetime.now(timezone.utc))
    notes: list[tuple[str, str]] = []
    starts = flows["ts_start"].dropna() if len(flows) else pd.Series(dtype="datetime64[ns, UTC]")
    if not len(starts):
        return [("warn", "no TLS flow: nothing to judge the clock by")]
    first, last = starts.min(), flows["ts_end"].dropna().max()
    if first < pd.Timestamp("2005-01-01", tz="UTC"):
        notes.append(("warn", f"the capture is dated {first:%Y-%m-%d}: the capturing host's clock was "
                              "probably not set (no NTP); validity checks at that time mean little"))
    if last > now_ts + pd.Timedelta(days=1):
        notes.append(("warn", f"the capture ends {last:%Y-%m-%d}, after this report was made: its clock "
                              "runs ahead"))
    early = []
    if len(certificates):
        for c in certificates.itertuples(index=False):
            ids = [int(x) for x in _list(c.flow_ids)]
            if not ids or _na(c.not_before):
                continue
            at = flows.loc[flows["flow_id"].isin(ids), "ts_start"].min()
            if not _na(at) and validity_state(c.not_before, c.not_after, at) == "not_yet_valid":
                early.append(_s(c.subject_cn) or _s(c.sha256)[:12])
    if early:
        notes.append(("warn", f"{len(early)} certificate(s) not yet valid at the capture time "
                              f"({', '.join(early[:4])}{'...' if len(early) > 4 else ''}): the capturing "
                              "host's clock, or the issuing CA's, is wrong"))
    if not notes:
        notes.append(("ok", "timestamps look sane: within the certificates' validity, not in the future"))
    return notes


def _outcome_card(flows: pd.DataFrame) -> str:
    counts = Counter(flows["outcome"].dropna()) if len(flows) else Counter()
    total = sum(counts.values())
    bar = "".join(f'<div title="{n} {o}" style="width:{100 * n / total:.2f}%; background:{OUTCOME_COLOURS[o]};"></div>'
                  for o in OUTCOMES for n in (counts.get(o, 0),) if n) if total else ""
    pills = "".join(_pill(f"{counts.get(o, 0)} {o}", OUTCOME_COLOURS[o], cls="ti-outcome-count",
                          data=f' data-outcome="{o}" data-count="{counts.get(o, 0)}"')
                    for o in OUTCOMES if counts.get(o, 0))
    return (f'<div class="ti-card"><h3>Flows by outcome</h3><div class="ti-big">{total} <span class="ti-muted" '
            f'style="font-size:13px;">TLS flows</span></div><div class="ti-bar">{bar}</div>{pills}</div>')


def _service_card(flows: pd.DataFrame) -> str:
    if not len(flows):
        return '<div class="ti-card"><h3>By service</h3><span class="ti-muted">no flows</span></div>'
    rows = []
    g = flows.groupby("server_port", dropna=False)
    stats = []
    for port, sub in g:
        c = Counter(sub["outcome"].dropna())
        stats.append((len(sub), port, c))
    stats.sort(key=lambda x: (-x[0], int(x[1]) if not _na(x[1]) else 0))
    for n, port, c in stats[:12]:
        role, service = _port_role(port)
        bad = n - c.get("established", 0)
        rows.append(f'<tr class="ti-service" data-port="{_e(port)}"><td title="{_e(service)}">{_e(role) or "&mdash;"}</td>'
                    f'<td class="n">{_e(port)}</td><td class="n">{n}</td>'
                    f'<td class="n" style="color:{OUTCOME_COLOURS["established"]};">{c.get("established", 0)}</td>'
                    f'<td class="n" style="color:{OUTCOME_COLOURS["failed"] if bad else "inherit"};">{bad}</td></tr>')
    return ('<div class="ti-card"><h3>By service (server port)</h3><table class="ti-t"><thead><tr><th>service</th>'
            '<th class="n">port</th><th class="n">flows</th><th class="n">ok</th><th class="n">not ok</th></tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>')


def _findings_card(findings: pd.DataFrame) -> str:
    if not len(findings):
        return '<div class="ti-card"><h3>Top findings</h3><span class="ti-muted">no finding</span></div>'
    sev = Counter(findings["severity"].dropna())
    pills = "".join(_pill(f"{sev[s]} {s}", SEVERITY_COLOURS[s]) for s in SEVERITIES if sev.get(s))
    top = (findings[findings["severity"] != "info"] if (findings["severity"] != "info").any() else findings)
    rows = []
    for code, sub in list(top.groupby("code", sort=False))[:8]:
        s = _s(sub["severity"].iloc[0])
        first = int(sub["flow_id"].iloc[0])
        rows.append(f'<tr><td class="ti-mono" style="word-break:break-all;"><span title="{_e(s)}" style="display:inline-block; '
                    f'width:9px; height:9px; border-radius:5px; margin-right:6px; background:'
                    f'{SEVERITY_COLOURS.get(s, "#57606a")};"></span><a href="#finding-{first}-{_e(code)}">{_e(code)}</a></td>'
                    f'<td class="n">{len(sub)}</td></tr>')
    return (f'<div class="ti-card"><h3>Top findings</h3>{pills}<table class="ti-t"><thead><tr>'
            f'<th>code</th><th class="n">flows</th></tr></thead><tbody>{"".join(rows)}</tbody></table></div>')


def _time_card(cap: Any, notes: list[tuple[str, str]]) -> str:
    flows = cap.flows
    a = cap.analysis
    first = _ts(pd.Timestamp(a.first_ts, unit="s", tz="UTC")) if a.first_ts is not None else None
    last = _ts(pd.Timestamp(a.last_ts, unit="s", tz="UTC")) if a.last_ts is not None else None
    span = _span((last - first).total_seconds()) if first is not None and last is not None else "?"
    notes_html = "".join(f'<div class="ti-note{" ok" if lvl == "ok" else ""} ti-clock">{_e(text)}</div>'
                         for lvl, text in notes)
    return (f'<div class="ti-card"><h3>Capture time</h3><div>first packet <b>{_e(_fmt_ts(first))}</b></div>'
            f'<div>last packet <b>{_e(_fmt_ts(last))}</b></div><div class="ti-muted">span {_e(span)}, '
            f'{int(cap.stats.get("frames", 0))} frames, {len(flows)} TLS flows</div>{notes_html}</div>')


# ---- the flow table -----------------------------------------------------------------------------

def _flow_table(cap: Any) -> str:
    from .report import endpoint
    flows = cap.flows
    findings = cap.findings
    nfind = Counter(findings["flow_id"].dropna().astype(int)) if len(findings) else Counter()
    t0 = flows["ts_start"].min() if len(flows) else None
    rows = []
    for f in flows.head(MAX_TABLE_ROWS).itertuples(index=False):
        role, service = _port_role(f.server_port)
        outcome = _s(f.outcome, "?")
        colour = OUTCOME_COLOURS.get(outcome, "#57606a")
        rel = (f.ts_start - t0).total_seconds() if not _na(f.ts_start) and t0 is not None else None
        alerts = ", ".join(map(str, _list(f.alerts)))
        rows.append(
            f'<tr data-flow="{int(f.flow_id)}" data-outcome="{_e(outcome)}">'
            f'<td class="n" data-sort="{int(f.flow_id)}"><a href="#flow-{int(f.flow_id)}">{int(f.flow_id)}</a></td>'
            f'<td class="n" data-sort="{"" if rel is None else f"{rel:.6f}"}">{"" if rel is None else f"{rel:.3f}"}</td>'
            f'<td class="ti-mono ti-nw">{_e(endpoint(_s(f.client_ip), _s(f.client_port)))}</td>'
            f'<td class="ti-mono ti-nw">{_e(endpoint(_s(f.server_ip), _s(f.server_port)))}</td>'
            f'<td class="ti-nw" title="{_e(service)}">{_e(role)}</td><td class="ti-nw">{_e(f.tls_version, "-")}</td>'
            f'<td>{_e(f.sni)}</td><td>{_e(f.client_cert_kind)}</td>'
            f'<td class="ti-nw"><span class="ti-pill" style="background:{colour};">{_e(outcome)}</span></td>'
            f'<td>{_e(f.outcome_detail)}</td><td class="ti-mono">{_e(alerts)}</td>'
            f'<td class="n" data-sort="{nfind.get(int(f.flow_id), 0)}">{nfind.get(int(f.flow_id), 0) or ""}</td></tr>')
    more = (f'<div class="ti-muted">the table shows the first {MAX_TABLE_ROWS:,} of {len(flows):,} flows '
            f"(all are in --format csv/parquet)</div>" if len(flows) > MAX_TABLE_ROWS else "")
    options = "".join(f'<option value="{o}">{o}</option>' for o in OUTCOMES)
    heads = (("flow", "num"), ("t (s)", "num"), ("client", "text"), ("server", "text"), ("service", "text"),
             ("version", "text"), ("SNI", "text"), ("client cert", "text"), ("outcome", "text"),
             ("why", "text"), ("alerts", "text"), ("findings", "num"))
    th = "".join(f'<th data-type="{t}"{" class=n" if t == "num" else (" class=ti-why" if h == "why" else "")}>'
                 f"{_e(h)}</th>" for h, t in heads)
    return (f'<div class="ti-controls"><input id="ti-filter" type="search" placeholder="filter: address, SNI, '
            f'alert, outcome... (all words)" aria-label="filter flows"><select id="ti-outcome" aria-label="outcome">'
            f'<option value="">every outcome</option>{options}</select><span id="ti-count" class="ti-muted">'
            f'{len(rows)} flows</span></div>'
            f'<div class="ti-scroll"><table id="ti-flows" class="ti-t ti-sortable"><thead><tr>{th}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>{more}')


# ---- findings -----------------------------------------------------------------------------------

def _evidence_certs(evidence: Any, known: set[str]) -> list[str]:
    try:
        ev = json.loads(_s(evidence) or "{}")
    except ValueError:
        return []
    out: list[str] = []

    def walk(v: Any) -> None:
        if isinstance(v, str):
            if _HEX64.match(v) and v in known and v not in out:
                out.append(v)
        elif isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, (list, tuple)):
            for x in v:
                walk(x)
    walk(ev)
    return out


def _findings_section(cap: Any) -> str:
    findings = cap.findings
    if not len(findings):
        return '<p class="ti-muted">No finding.</p>'
    certs = cap.certificates
    known = set(certs["sha256"]) if len(certs) else set()
    cn = dict(zip(certs["sha256"], certs["subject_cn"])) if len(certs) else {}
    rows = []
    for x in findings.itertuples(index=False):
        sev = _s(x.severity)
        links = " ".join(f'<a class="ti-cert-link" href="#{cert_anchor(fp)}">{_e(_s(cn.get(fp)) or fp[:12])}</a>'
                         for fp in _evidence_certs(x.evidence, known))
        rows.append(
            f'<tr id="finding-{int(x.flow_id)}-{_e(x.code)}" class="ti-finding" data-severity="{_e(sev)}">'
            f'<td><span class="ti-pill" style="background:{SEVERITY_COLOURS.get(sev, "#57606a")};">{_e(sev)}</span></td>'
            f'<td class="ti-mono">{_e(x.code)}</td><td class="n"><a href="#flow-{int(x.flow_id)}">{int(x.flow_id)}</a></td>'
            f'<td>{_e(x.message)}' + (f'<div style="color:#1a7f37; margin-top:2px;"><b>fix:</b> {_e(x.fix)}</div>'
                                      if not _na(x.fix) and _s(x.fix) else "")
            + f'</td><td>{links}</td></tr>')
    return ('<table class="ti-t ti-findings"><thead><tr><th>severity</th><th>code</th><th class="n">flow</th>'
            f'<th>what was found, and the fix</th><th>certificates</th></tr></thead><tbody>{"".join(rows)}</tbody></table>')


# ---- certificates -------------------------------------------------------------------------------

def expiry_timeline_svg(certs: pd.DataFrame, at: Any, *, label: str = "capture", limit: int = MAX_TIMELINE) -> str:
    """Each certificate's validity as a bar on one time axis (soonest end first), with a line at ``at``."""
    at_t = _ts(at)
    rows = [c for c in certs.itertuples(index=False) if not _na(c.not_after)] if len(certs) else []
    rows.sort(key=lambda c: _ts(c.not_after))
    rows = rows[:limit]
    if not rows:
        return '<p class="ti-muted">No certificate with a validity period.</p>'
    times = [_ts(c.not_after) for c in rows] + [_ts(c.not_before) for c in rows if not _na(c.not_before)]
    if at_t is not None:
        times.append(at_t)
    lo, hi = min(times), max(times)
    span = max((hi - lo).total_seconds(), 86400.0)
    left, width, row_h = 250, 640, 20
    height = 34 + row_h * len(rows)

    def x(t: pd.Timestamp) -> float:
        return round(left + width * (t - lo).total_seconds() / span, 1)

    out = [f'<svg class="ti-timeline" xmlns="http://www.w3.org/2000/svg" width="{left + width + 90}" height="{height}" '
           f'role="img" aria-label="certificate expiry timeline" style="font-size:11px; font-family:-apple-system,'
           f'\'Segoe UI\',Helvetica,Arial,sans-serif;">']
    for year in range(lo.year + 1, hi.year + 1):
        t = pd.Timestamp(f"{year}-01-01", tz="UTC")
        step = max(1, (hi.year - lo.year) // 10)
        if (year - lo.year) % step:
            continue
        out.append(f'<line x1="{x(t)}" y1="14" x2="{x(t)}" y2="{height}" stroke="#eaeef2"/>'
                   f'<text x="{x(t)}" y="11" text-anchor="middle" fill="#8c959f">{year}</text>')
    for i, c in enumerate(rows):
        y = 22 + i * row_h
        state = validity_state(c.not_before, c.not_after, at_t) if at_t is not None else "unknown"
        colour = VALIDITY_COLOURS.get(state, "#8c959f")
        nb = _ts(c.not_before) if not _na(c.not_before) else lo
        na = _ts(c.not_after)
        name = _s(c.subject_cn) or _s(c.sha256)[:16]
        days = f", {(na - at_t).days} days left" if at_t is not None and state == "valid" else (
            f", expired {(at_t - na).days} days before the {label}" if state == "expired" else "")
        out.append(f'<g class="ti-tl-row" data-state="{state}"><title>{_e(name)}: {nb:%Y-%m-%d} .. {na:%Y-%m-%d}'
                   f'{_e(days)}</title><a href="#{cert_anchor(c.sha256)}"><text x="{left - 8}" y="{y + 4}" '
                   f'text-anchor="end" fill="#24292f">{_e(name[:38])}</text></a>'
                   f'<rect x="{x(nb)}" y="{y - 5}" width="{max(x(na) - x(nb), 2)}" height="10" rx="3" fill="{colour}" '
                   f'opacity="0.85"/><text x="{x(na) + 4}" y="{y + 4}" fill="#57606a">{na:%Y-%m-%d}</text></g>')
    if at_t is not None:
        out.append(f'<line class="ti-tl-now" x1="{x(at_t)}" y1="14" x2="{x(at_t)}" y2="{height}" stroke="#24292f" '
                   f'stroke-width="1.5" stroke-dasharray="4,3"/><text x="{x(at_t) + 4}" y="{height - 2}" '
                   f'fill="#24292f" font-weight="600">{_e(label)} {at_t:%Y-%m-%d}</text>')
    out.append("</svg>")
    return "".join(out)


def _certificates_section(cap: Any) -> str:
    certs = cap.certificates
    flows = cap.flows
    if not len(certs):
        return '<p class="ti-muted">No certificate in clear text.</p>'
    at = flows["ts_start"].min() if len(flows) else None
    cards = []
    for _, c in certs.iterrows():
        ids = [int(x) for x in _list(c["flow_ids"])]
        when = flows.loc[flows["flow_id"].isin(ids), "ts_start"].min() if ids else at
        view = CertView(c, at=None if _na(when) else when, kind=_s(c.get("client_cert_kind")) or None)
        roles = ", ".join(map(str, _list(c["roles"])))
        links = " ".join(f'<a href="#flow-{i}">{i}</a>' for i in ids[:40]) + (" ..." if len(ids) > 40 else "")
        cards.append(f'<div id="{cert_anchor(c["sha256"])}" class="ti-cert-box" style="margin:8px 0;">'
                     f'{view.card_html()}<div class="ti-muted" style="font-size:12px; margin:2px 0 0 2px;">'
                     f'seen as {_e(roles)} in flow{"s" if len(ids) != 1 else ""} {links}</div></div>')
    return (f'<div class="ti-card" style="overflow-x:auto;"><h3>Expiry timeline (judged at the capture time)</h3>'
            f'{expiry_timeline_svg(certs, at)}</div><div class="ti-cards">{"".join(cards)}</div>')


# ---- the page -----------------------------------------------------------------------------------

def _flow_sections(cap: Any) -> str:
    flows = cap.flows
    if not len(flows):
        return '<p class="ti-muted">No TLS flow.</p>'
    # failed/reset/incomplete first, then established, each in flow order, up to the limit
    order = sorted(flows["flow_id"].astype(int), key=lambda i: i)
    bad = set(flows.loc[flows["outcome"] != "established", "flow_id"].astype(int))
    chosen = sorted([i for i in order if i in bad] + [i for i in order if i not in bad][:max(0, MAX_FLOW_SECTIONS - len(bad))])
    chosen = chosen[:MAX_FLOW_SECTIONS]
    # the frames split once, not filtered per flow (cap.flow(n) does the same for one flow)
    from ..notebook import FlowView
    from ..trust import flow_validations
    rows = {int(r["flow_id"]): r for r in flows.to_dict("records")}
    certs = cap.certificates.set_index("sha256") if len(cap.certificates) else cap.certificates
    wanted = set(chosen)
    m, fi = cap.messages, cap.findings
    msgs = {int(k): g for k, g in m[m["flow_id"].isin(wanted)].groupby("flow_id")} if len(m) else {}
    finds = {int(k): g for k, g in fi[fi["flow_id"].isin(wanted)].groupby("flow_id")} if len(fi) else {}
    subset = type("FlowSubset", (), {})()
    subset.flows = [fr for fr in cap.analysis.flows if fr.flow_id in wanted]
    subset.certificates = cap.analysis.certificates
    checks = flow_validations(subset, cap.trust)
    empty = cap.findings.iloc[0:0]
    out = []
    for i in chosen:
        view = FlowView(rows[i], certs, finds.get(i, empty), msgs.get(i, cap.messages.iloc[0:0]), checks.get(i))
        f = view.flow
        role, _ = _port_role(f.get("server_port"))
        opened = " open" if i in bad else ""
        out.append(f'<section id="flow-{i}" class="ti-flow-section"><details{opened}><summary>Flow {i} '
                   f'<span class="ti-muted">{_e(role)} {_e(f.get("outcome"))}</span></summary>'
                   f"{view._repr_html_()}</details></section>")
    if len(flows) > len(chosen):
        out.append(f'<p class="ti-muted">{len(flows) - len(chosen)} more established flows are in the table only.</p>')
    return "".join(out)


def render_report(cap: Any, *, now: datetime | None = None) -> str:
    """The whole page for one `Capture` (a string; see the module doc)."""
    from .. import __version__
    flows, findings = cap.flows, cap.findings
    notes = clock_notes(flows, cap.certificates, now=now)
    made = pd.Timestamp(now or datetime.now(timezone.utc))
    warn = "".join(f'<div class="ti-note">{_e(w)}</div>' for w in cap.warnings)
    skipped = skipped_summary(cap.stats, limit=6)
    if skipped:
        warn += f'<div class="ti-note ti-skipped">packets not analysed: {_e(skipped)}</div>'
    body = (
        f'<header class="ti-top"><h1>TLS handshakes in {_e(cap.name)}</h1><div class="ti-meta">{_e(cap.format)}, '
        f'{int(cap.stats.get("frames", 0)):,} frames, {len(flows):,} TLS flows, {len(cap.certificates):,} certificates, '
        f'{len(findings):,} findings &middot; report made {made:%Y-%m-%d %H:%M} UTC by tlsinspect {_e(__version__)}</div></header>'
        "<!--NAV--><main>"
        f'<h2 id="summary">Summary</h2>{warn}<div class="ti-grid">{_outcome_card(flows)}{_service_card(flows)}'
        f"{_findings_card(findings)}{_time_card(cap, notes)}</div>"
        f'<h2 id="flows">Flows</h2>{_flow_table(cap)}'
        f'<h2 id="details">Handshakes</h2>{_flow_sections(cap)}'
        f'<h2 id="findings">Findings</h2>{_findings_section(cap)}'
        f'<h2 id="certificates">Certificates</h2>{_certificates_section(cap)}'
        "</main><footer>Made by tlsinspect from the capture alone: no data left this machine, and the page loads "
        "nothing from the network.</footer>")
    nav = (("summary", "Summary"), ("flows", "Flows"), ("details", "Handshakes"), ("findings", "Findings"),
           ("certificates", "Certificates"))
    return _page(f"tlsinspect: {cap.name}", body, nav=nav)


def write_report(cap: Any, path: Any, *, now: datetime | None = None) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(render_report(cap, now=now))
