"""The fleet page: ``tlsinspect summary results/ --format html`` (an `inspector.fleet.FleetSummary`).

Same page frame, styles and escaping as the capture report (`inspector.output.html`).
"""

from __future__ import annotations

import os
from collections import Counter
from datetime import datetime, timezone
from typing import Any

import pandas as pd

from ..notebook.parts import OUTCOME_COLOURS, SEVERITY_COLOURS, VALIDITY_COLOURS, _na, _s
from .html import _e, _page, _pill

__all__ = ["fleet_html"]


def _day(t: Any) -> str:
    return "-" if _na(t) else f"{pd.Timestamp(t):%Y-%m-%d}"


def _table(table_id: str, heads: list[tuple[str, str]], rows: list[str], empty: str) -> str:
    if not rows:
        return f'<p class="ti-muted">{_e(empty)}</p>'
    th = "".join(f'<th data-type="{t}"{" class=n" if t == "num" else ""}>{_e(h)}</th>' for h, t in heads)
    return (f'<div class="ti-scroll"><table id="{table_id}" class="ti-t ti-sortable"><thead><tr>{th}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>')


def fleet_html(fs: Any, *, now: datetime | None = None) -> str:
    """The page of a `inspector.fleet.FleetSummary`: phones and their certificates, CAPF issuers,
    certificates expiring soon, failures by cause and by server (every table sortable)."""
    from .. import __version__
    made = pd.Timestamp(now or datetime.now(timezone.utc))
    kind_colour = {"LSC": "#0550ae", "MIC": "#116329"}
    phones = []
    for p in fs.phones.itertuples(index=False):
        servers = ", ".join(map(str, list(p.servers)[:4])) + (" ..." if len(p.servers) > 4 else "")
        phones.append(
            f'<tr class="ti-phone" data-kind="{_e(p.kind)}"><td class="ti-mono">{_e(p.phone)}</td>'
            f'<td>{_pill(_s(p.kind), kind_colour.get(_s(p.kind), "#57606a"))}</td><td>{_e(p.issuer)}</td>'
            f'<td data-sort="{_day(p.not_after)}">{_day(p.not_after)}</td><td class="n">{int(p.flows)}</td>'
            f'<td class="n" style="color:{OUTCOME_COLOURS["failed"] if p.failed else "inherit"};">{int(p.failed)}</td>'
            f'<td class="ti-mono">{_e(servers)}</td><td>{_day(p.last_seen)}</td></tr>')
    capf = [f'<tr><td class="ti-mono">{_e(c.capf)}</td><td class="n">{int(c.phones)}</td>'
            f'<td class="n">{int(c.certificates)}</td><td class="n">{int(c.flows)}</td><td class="n">{int(c.failed)}</td></tr>'
            for c in fs.capf_issuers.itertuples(index=False)]
    win_colour = {"expired": VALIDITY_COLOURS["expired"], "30 days": "#bf8700", "90 days": "#9a6700"}
    exp = [f'<tr class="ti-expiring" data-window="{_e(c.window)}"><td>{_e(c.subject_cn)}</td><td>{_e(c.issuer_cn)}</td>'
           f'<td data-sort="{_day(c.not_after)}">{_day(c.not_after)}</td><td class="n">{int(c.days_left)}</td>'
           f'<td>{_pill(_s(c.window), win_colour.get(_s(c.window), "#57606a"))}</td><td>{_e(", ".join(c.roles))}</td>'
           f'<td class="n">{int(c.captures)}</td></tr>' for c in fs.expiring.itertuples(index=False)]
    causes = [f'<tr class="ti-cause"><td class="ti-mono">{_e(c.cause)}</td><td>'
              + (_pill(_s(c.severity), SEVERITY_COLOURS.get(_s(c.severity), "#57606a")) if _s(c.severity) else "")
              + f'</td><td class="n">{int(c.flows)}</td><td class="n">{int(c.servers)}</td><td>{_e(c.example)}</td></tr>'
              for c in fs.failures_by_cause.itertuples(index=False)]
    servers = [f'<tr><td class="ti-mono">{_e(c.server)}</td><td>{_e(c.service)}</td><td class="n">{int(c.flows)}</td>'
               f'<td class="n">{int(c.failed)}</td><td class="n">{int(c.reset)}</td><td class="ti-mono">{_e(c.top_cause)}</td></tr>'
               for c in fs.failures_by_server.itertuples(index=False)]
    silent = [f'<tr class="ti-silent"><td class="ti-mono">{_e(os.path.basename(str(c.capture)))}</td>'
              f'<td class="n">{int(c.frames or 0):,}</td><td class="n">'
              f'{"-" if c.skipped_packets is None or pd.isna(c.skipped_packets) else f"{int(c.skipped_packets):,}"}</td>'
              f'<td>{_e("; ".join(map(str, c.warnings))) or "-"}</td></tr>'
              for c in fs.no_flows.itertuples(index=False)]
    kinds = Counter(fs.phones["kind"]) if len(fs.phones) else Counter()
    cards = (
        f'<div class="ti-card"><h3>Captures</h3><div class="ti-big">{fs.captures}</div>'
        + (f'<div style="color:{OUTCOME_COLOURS["failed"]};">{fs.captures_failed} unreadable</div>' if fs.captures_failed else "")
        + f'<div class="ti-muted">{_day(fs.first_capture)} .. {_day(fs.last_capture)}</div></div>'
        f'<div class="ti-card"><h3>TLS flows</h3><div class="ti-big">{fs.flows:,}</div>'
        f'<div style="color:{OUTCOME_COLOURS["failed"]};">{fs.failed_flows:,} failed</div></div>'
        f'<div class="ti-card"><h3>Phones</h3><div class="ti-big">{fs.phones["phone"].nunique() if len(fs.phones) else 0}</div>'
        + "".join(_pill(f"{n} {k}", kind_colour.get(k, "#57606a")) for k, n in sorted(kinds.items()))
        + f'</div><div class="ti-card"><h3>Expiring (90 days)</h3><div class="ti-big">{len(fs.expiring)}</div>'
        f'<div class="ti-muted">after the last capture, {_day(fs.last_capture)}</div></div>')
    body = (
        f'<header class="ti-top"><h1>TLS fleet summary: {_e(fs.results)}</h1><div class="ti-meta">made '
        f'{made:%Y-%m-%d %H:%M} UTC by tlsinspect {_e(__version__)}</div></header><!--NAV--><main>'
        f'<h2 id="summary">Summary</h2><div class="ti-grid">{cards}</div>'
        f'<h2 id="phones">Phones and the certificate they authenticate with</h2>'
        + _table("ti-phones", [("phone", "text"), ("kind", "text"), ("issued by", "text"), ("valid until", "text"),
                               ("flows", "num"), ("failed", "num"), ("servers", "text"), ("last seen", "text")],
                 phones, "No phone certificate (SEP..., LSC or MIC) seen.")
        + '<h2 id="capf">CAPF issuers seen</h2>'
        + _table("ti-capf", [("CAPF", "text"), ("phones", "num"), ("certificates", "num"), ("flows", "num"),
                             ("failed", "num")], capf, "No CAPF-issued certificate seen.")
        + '<h2 id="expiring">Certificates expiring within 30/90 days of the last capture</h2>'
        + _table("ti-expiring", [("subject", "text"), ("issuer", "text"), ("not after", "text"), ("days left", "num"),
                                 ("window", "text"), ("seen as", "text"), ("captures", "num")], exp,
                 "No certificate expires within 90 days of the last capture.")
        + '<h2 id="causes">Failed or reset handshakes, by cause</h2>'
        + _table("ti-causes", [("cause", "text"), ("severity", "text"), ("flows", "num"), ("servers", "num"),
                               ("example", "text")], causes, "No failed handshake.")
        + '<h2 id="servers">Failed or reset handshakes, by server</h2>'
        + _table("ti-servers", [("server", "text"), ("service", "text"), ("flows", "num"), ("failed", "num"),
                                ("reset", "num"), ("top cause", "text")], servers, "No failed handshake.")
        + '<h2 id="silent">Captures with no TLS flow</h2>'
        + _table("ti-silent", [("capture", "text"), ("frames", "num"), ("packets not analysed", "num"),
                               ("warnings", "text")], silent, "None: every capture held TLS flows.")
        + "</main><footer>Made by tlsinspect from a results directory of `tlsinspect batch`; the page loads "
          "nothing from the network.</footer>")
    nav = (("summary", "Summary"), ("phones", "Phones"), ("capf", "CAPF"), ("expiring", "Expiring"),
           ("causes", "Failures by cause"), ("servers", "by server"), ("silent", "No TLS"))
    return _page(f"tlsinspect fleet: {fs.results}", body, nav=nav)
