"""The HTML summary of a whole `Capture` (`CaptureSummary`)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .parts import OUTCOME_COLOURS, _FONT, _MONO, _e, _port_role, _s
from .flow import findings_html


# ---- the capture summary ------------------------------------------------------------------------

class CaptureSummary:
    """The HTML summary of a `Capture`: flow counts by outcome, flows needing attention, top findings."""

    MAX_FLOWS = 25
    MAX_FINDINGS = 10

    def __init__(self, capture: Any) -> None:
        self.capture = capture

    def _repr_html_(self) -> str:
        cap = self.capture
        flows, findings = cap.flows, cap.findings
        counts = flows["outcome"].value_counts(dropna=False) if len(flows) else pd.Series(dtype="Int64")
        pills = []
        for outcome in ("established", "failed", "reset", "incomplete"):
            n = int(counts.get(outcome, 0))
            if n:
                pills.append(f'<span class="ti-outcome-count" data-outcome="{outcome}" style="background:'
                             f'{OUTCOME_COLOURS[outcome]}; color:#fff; border-radius:8px; padding:1px 8px; '
                             f'margin-right:6px; font-weight:600;">{n} {outcome}</span>')
        for outcome, n in counts.items():
            if outcome not in OUTCOME_COLOURS:
                pills.append(f'<span style="background:#57606a; color:#fff; border-radius:8px; padding:1px 8px; '
                             f'margin-right:6px;">{int(n)} {_e(outcome, "?")}</span>')
        stats = cap.stats
        head = (f'<div style="font-size:15px;"><b>{_e(cap.name)}</b> <span style="color:#57606a;">'
                f"({_e(cap.format)}, {int(stats.get('frames', 0))} frames, {len(flows)} TLS flows, "
                f"{len(cap.certificates)} certificates)</span></div>")
        bad = flows[flows["outcome"] != "established"] if len(flows) else flows
        rows = []
        for f in bad.head(self.MAX_FLOWS).itertuples(index=False):
            role, service = _port_role(f.server_port)
            colour = OUTCOME_COLOURS.get(_s(f.outcome), "#57606a")
            rows.append(
                f'<tr><td style="text-align:right;">{_e(f.flow_id)}</td>'
                f'<td style="text-align:left; {_MONO}">{_e(f.client_ip)} &rarr; {_e(f.server_ip)}:{_e(f.server_port)}</td>'
                f'<td style="text-align:left;" title="{_e(service)}">{_e(role)}</td>'
                f'<td style="text-align:left;">{_e(f.tls_version, "-")}</td>'
                f'<td style="text-align:left; color:{colour}; font-weight:600;">{_e(f.outcome)}</td>'
                f'<td style="text-align:left;">{_e(f.outcome_detail)}</td></tr>')
        table = ""
        if rows:
            more = (f'<div style="color:#57606a; font-size:12px;">... {len(bad) - self.MAX_FLOWS} more</div>'
                    if len(bad) > self.MAX_FLOWS else "")
            table = ('<div style="font-weight:600; margin-top:8px;">Flows that did not complete</div>'
                     '<table style="font-size:12px;"><tr><th>flow</th><th style="text-align:left;">client &rarr; server</th>'
                     '<th style="text-align:left;">service</th><th style="text-align:left;">version</th>'
                     '<th style="text-align:left;">outcome</th><th style="text-align:left;">why</th></tr>'
                     + "".join(rows) + f"</table>{more}")
        top = findings[findings["severity"].isin(["critical", "error", "warning"])] if len(findings) else findings
        warn_html = "".join(f'<div style="color:#9a6700; font-size:12px;">warning: {_e(w)}</div>' for w in cap.warnings)
        hint = ('<div style="color:#57606a; font-size:12px; margin-top:6px;">Details: <code>cap.flow(N)</code>, '
                '<code>cap.chain(N, side="client")</code>, <code>cap.cert("sha256 prefix")</code>; '
                'tables: <code>cap.flows</code>, <code>cap.certificates</code>, <code>cap.findings</code>.</div>')
        return (f'<div class="ti-capture" style="{_FONT}">{head}<div style="margin:6px 0;">{"".join(pills)}</div>'
                f"{table}{findings_html(top, title='Top findings', show_flow=True, limit=self.MAX_FINDINGS)}"
                f"{warn_html}{hint}</div>")
