"""One TLS flow (`FlowView`): endpoints, outcome, ladder, both chains, findings; `findings_html`."""

from __future__ import annotations

from typing import Any, Mapping

import pandas as pd

from ..textsafe import visible
from .parts import (OUTCOME_COLOURS, SEVERITY_COLOURS, _FONT, _MONO, _e, _list, _na, _port_role,
    _row, _s, _true, _ts)
from .cert import ChainView


# ---- a flow -------------------------------------------------------------------------------------

class FlowView:
    """One TLS flow: endpoints and service, version, cipher, SNI, outcome, alerts, both chains,
    and the flow's findings with their fixes.

    ``flow`` is a row of ``Capture.flows``; ``certificates`` and ``findings`` the capture's frames.
    """

    def __init__(self, flow: Mapping[str, Any] | pd.Series, certificates: pd.DataFrame,
                 findings: pd.DataFrame | None = None, messages: pd.DataFrame | None = None,
                 validations: tuple[Any, Any] | None = None) -> None:
        self.flow = _row(flow)
        f = self.flow
        self.flow_id = int(f["flow_id"])
        self.at = _ts(f.get("ts_start"))
        server_v, client_v = validations if validations is not None else (None, None)
        self.server_chain = ChainView.from_fingerprints(
            _list(f.get("server_chain_sha256")), certificates, side="server", at=self.at, flow_id=self.flow_id,
            certs_visible=None if _na(f.get("certs_visible")) else bool(f.get("certs_visible")),
            validation=server_v)
        self.client_chain = ChainView.from_fingerprints(
            _list(f.get("client_chain_sha256")), certificates, side="client", at=self.at, flow_id=self.flow_id,
            leaf_kind=_s(f.get("client_cert_kind")) or None, validation=client_v)
        if messages is not None and len(messages):
            self.messages = messages[messages["flow_id"] == self.flow_id]
        else:
            self.messages = None  # not known (a view built from a row alone)
        if findings is not None and len(findings):
            about = findings["flow_ids"] if "flow_ids" in findings else findings["flow_id"].map(lambda i: [i])
            self.findings = findings[about.map(lambda ids: self.flow_id in list(ids))]
        else:
            self.findings = pd.DataFrame(columns=["severity", "code", "message", "fix"])

    def _endpoints(self) -> str:
        f = self.flow
        return f"{_s(f.get('client_ip'))}:{_s(f.get('client_port'))} -> {_s(f.get('server_ip'))}:{_s(f.get('server_port'))}"

    def __repr__(self) -> str:
        f = self.flow
        role, _ = _port_role(f.get("server_port"))
        head = (f"<FlowView {self.flow_id}: {self._endpoints()}" + (f" {role}" if role else "")
                + f", {_s(f.get('tls_version'), '?')}, {_s(f.get('outcome'), '?')}")
        if not _na(f.get("outcome_detail")):
            head += f" ({f.get('outcome_detail')})"
        lines = [head]
        for chain in (self.server_chain, self.client_chain):
            if chain.views:
                lines += ["  " + line for line in repr(chain)[1:-1].splitlines()]
        for x in self.findings.itertuples(index=False):
            lines.append(f"  {str(x.severity).upper()} {x.code}: {x.message}")
            if not _na(x.fix):
                lines.append(f"    fix: {x.fix}")
        return "\n".join(map(visible, lines)) + ">"

    def _repr_html_(self) -> str:
        f = self.flow
        outcome = _s(f.get("outcome"), "?")
        colour = OUTCOME_COLOURS.get(outcome, "#57606a")
        role, service = _port_role(f.get("server_port"))
        role_html = (f' <span title="{_e(service)}" style="background:#ddf4ff; color:#0550ae; border-radius:8px; '
                     f'padding:0 6px; font-size:11px; font-weight:600;">{_e(role)}</span>' if role else "")
        facts = [
            ("version", _s(f.get("tls_version"), "-")
             + (f" (client offered up to {f.get('client_max_version')})"
                if not _na(f.get("client_max_version")) and f.get("client_max_version") != f.get("tls_version") else "")),
            ("cipher", _s(f.get("cipher"), "-")),
            ("SNI", _s(f.get("sni"), "- (none sent)")),
        ]
        if not _na(f.get("alpn")):
            facts.append(("ALPN", f.get("alpn")))
        if not _na(f.get("kx_group")) or not _na(f.get("dh_bits")):
            facts.append(("key exchange", " ".join(x for x in (_s(f.get("kx_group")),
                                                               f"DH {f.get('dh_bits')} bits" if not _na(f.get("dh_bits")) else "") if x)))
        if _true(f.get("client_cert_requested")):
            names = _list(f.get("requested_ca_names"))
            facts.append(("client cert", f"requested by the server ({len(names)} CA names listed)"
                          + (": " + "; ".join(map(str, names[:6])) + (" ..." if len(names) > 6 else "") if names else "")))
        if _true(f.get("resumed")):
            facts.append(("resumed", "yes (abbreviated handshake: no certificates sent)"))
        if not _na(f.get("starttls")):
            facts.append(("STARTTLS", f.get("starttls")))
        if not _na(f.get("ts_start")):
            facts.append(("time", f"{_ts(f.get('ts_start')):%Y-%m-%d %H:%M:%S} UTC, frames "
                                  f"{_s(f.get('first_frame'))}-{_s(f.get('last_frame'))}"))
        warns = _list(f.get("warnings"))
        if warns:
            facts.append(("warnings", ", ".join(map(str, warns))))
        fact_rows = "".join(f'<tr><td style="color:#57606a; padding-right:10px; text-align:left;">{_e(k)}</td>'
                            f'<td style="text-align:left;">{_e(v)}</td></tr>' for k, v in facts)
        alerts = _list(f.get("alerts"))
        alert_html = ""
        if alerts:
            alert_html = ('<div style="margin:4px 0;">alerts: '
                          + " ".join(f'<span class="ti-alert" style="{_MONO} background:#ffebe9; color:#a40e26; '
                                     f'border-radius:4px; padding:0 4px; margin-right:4px;">{_e(a)}</span>'
                                     for a in alerts) + "</div>")
        detail = _s(f.get("outcome_detail"))
        head = (f'<div style="font-size:15px; margin-bottom:4px;"><b>Flow {self.flow_id}</b> '
                f"<span style=\"{_MONO} font-size:12px;\">{_e(self._endpoints())}</span>{role_html} "
                f'<span class="ti-outcome" data-outcome="{_e(outcome)}" style="background:{colour}; color:#fff; '
                f'border-radius:8px; padding:0 8px; font-weight:600;">{_e(outcome)}</span>'
                + (f' <span style="color:{colour};">{_e(detail)}</span>' if detail else "") + "</div>")
        chains = (f'<div style="display:flex; flex-wrap:wrap; gap:16px; margin-top:6px;">'
                  f'<div style="flex:1 1 360px; min-width:320px;">{self.server_chain._repr_html_()}</div>'
                  + (f'<div style="flex:1 1 360px; min-width:320px;">{self.client_chain._repr_html_()}</div>'
                     if self.client_chain.views or _true(f.get("client_cert_requested")) else "")
                  + "</div>")
        return (f'<div class="ti-flow" data-flow="{self.flow_id}" style="{_FONT} border-left:4px solid {colour}; '
                f'padding:6px 10px;">'
                f"{head}<table style=\"font-size:12px;\">{fact_rows}</table>{alert_html}{self.ladder_html()}{chains}"
                f"{findings_html(self.findings)}</div>")

    def ladder_html(self) -> str:
        """The ladder diagram (`inspector.output.ladder`) of this flow's messages, when they are known."""
        if self.messages is None:
            return ""
        from ..output.ladder import ladder_svg
        from ..output.report import endpoint
        f = self.flow
        role, _ = _port_role(f.get("server_port"))
        caption = " · ".join(x for x in (
            "TLS over TCP" + (f"/IPv{_s(f.get('ip_version'))}" if not _na(f.get("ip_version")) else "")
            + (f" after {_s(f.get('starttls')).upper()} STARTTLS" if not _na(f.get("starttls")) else ""),
            _s(f.get("tls_version")), role, _s(f.get("sni")) and f"SNI {_s(f.get('sni'))}") if x)
        rows = self.messages.to_dict("records")
        svg = ladder_svg(rows, client=endpoint(_s(f.get("client_ip")), _s(f.get("client_port"))),
                         server=endpoint(_s(f.get("server_ip")), _s(f.get("server_port"))),
                         start=_ts(f.get("ts_start")), outcome=_s(f.get("outcome")) or None, caption=caption,
                         flow_id=self.flow_id)
        return f'<div class="ti-ladder-box" style="margin:8px 0; overflow-x:auto;">{svg}</div>'


def findings_html(findings: pd.DataFrame, *, title: str = "Findings", show_flow: bool = False,
                  limit: int | None = None) -> str:
    """Findings (most severe first, as the frame is sorted) with their fixes."""
    if findings is None or not len(findings):
        return ""
    rows = []
    shown = findings if limit is None else findings.head(limit)
    for x in shown.itertuples(index=False):
        sev = _s(x.severity)
        colour = SEVERITY_COLOURS.get(sev, "#57606a")
        flow = (f'<td style="text-align:right; vertical-align:top;">{_e(getattr(x, "flow_id", ""))}</td>'
                if show_flow else "")
        fix = _s(x.fix)
        rows.append(
            f'<tr class="ti-finding">{flow}<td style="vertical-align:top; text-align:left;">'
            f'<span style="background:{colour}; color:#fff; border-radius:8px; padding:0 6px; font-size:11px; '
            f'font-weight:600;">{_e(sev)}</span></td>'
            f'<td style="vertical-align:top; text-align:left; {_MONO}">{_e(x.code)}</td>'
            f'<td style="vertical-align:top; text-align:left;">{_e(x.message)}'
            + (f'<div style="color:#1a7f37; margin-top:2px;"><b>fix:</b> {_e(fix)}</div>' if fix else "")
            + "</td></tr>")
    more = ""
    if limit is not None and len(findings) > limit:
        more = f'<div style="color:#57606a; font-size:12px;">... {len(findings) - limit} more in cap.findings</div>'
    head = "<th>flow</th>" if show_flow else ""
    return (f'<div style="margin-top:8px;"><div style="font-weight:600;">{_e(title)}</div>'
            f'<table style="font-size:12px; border-collapse:collapse;"><tr>{head}<th style="text-align:left;">severity</th>'
            f'<th style="text-align:left;">code</th><th style="text-align:left;">what and fix</th></tr>'
            f"{''.join(rows)}</table>{more}</div>")
