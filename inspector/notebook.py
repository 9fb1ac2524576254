"""Jupyter views: a flow, a certificate chain or one certificate at a glance.

A flow's view shows its ladder diagram (`inspector.output.ladder`, from ``cap.messages``), both chains as
cards with each chain's trust verdict and the links its path used, and its findings; the HTML report
(`inspector.output.html`) embeds the very same markup.

``cap.flow(2)``, ``cap.chain(2, side="client")`` and ``cap.cert("3c448c")`` return the view
objects below; Jupyter renders them through ``_repr_html_``, a plain Python prompt through
``__repr__`` (a short text version).

Rendering only, from the DataFrames of a `Capture` (rows as mappings), so a view can also be
built from any row: ``CertView(cap.certificates.iloc[0])``.

Safety: every value that comes from a capture (certificate names, SNI, alerts, notes...) is
attacker-controlled and goes through ``html.escape`` before it reaches the markup, attribute
values included.  Styles are inline (``style="..."``) with values from fixed tables or numbers
computed here, never from the capture; there is no JavaScript.
"""

from __future__ import annotations

import html
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping, Sequence

import pandas as pd

from .model import is_missing, validity
from .textsafe import visible

__all__ = ["CaptureSummary", "CertView", "ChainView", "FlowView", "validity_state"]

# ---- fixed tables (the only sources of style values) --------------------------------------------

OUTCOME_COLOURS = {"established": "#1a7f37", "failed": "#cf222e", "reset": "#bf8700", "incomplete": "#6e7781"}
SEVERITY_COLOURS = {"critical": "#a40e26", "error": "#cf222e", "warning": "#bf8700", "info": "#0969da"}
VALIDITY_COLOURS = {"valid": "#2da44e", "expired": "#cf222e", "not_yet_valid": "#bf8700", "unknown": "#8c959f"}
BADGE_COLOURS = {
    "self-signed": "#8250df", "LSC": "#0550ae", "MIC": "#116329", "CA": "#57606a",
    "not sent": "#6e7781", "known CA": "#9a6700", "parse error": "#cf222e", "expired": "#cf222e",
    "not yet valid": "#bf8700",
}
BADGE_TITLES = {
    "LSC": "Locally Significant Certificate: issued to the phone by the cluster's CAPF",
    "MIC": "Manufacturer Installed Certificate: put on the phone by Cisco at the factory",
    "self-signed": "subject == issuer and the signature verifies with its own key",
    "CA": "basicConstraints CA:TRUE",
    "not sent": "the peer did not send this certificate: the other side must already trust it",
}
ROLE_LABELS = {0: "leaf"}

_FONT = "font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; font-size: 13px; line-height: 1.4;"
_MONO = "font-family: SFMono-Regular, Menlo, Consolas, monospace; font-size: 11px;"


# ---- small helpers ------------------------------------------------------------------------------

_na = is_missing


def _s(v: Any, default: str = "") -> str:
    return default if _na(v) else str(v)


def _e(v: Any, default: str = "") -> str:
    """Escape a capture-derived value for HTML text or a double-quoted attribute."""
    return html.escape(_s(v, default), quote=True)


def _true(v: Any) -> bool:
    """True only for a real true value (NA, None and False are not)."""
    return not _na(v) and bool(v)


def _list(v: Any) -> list:
    if v is None or (not isinstance(v, (list, tuple)) and _na(v)):
        return []
    return list(v)


def _ts(v: Any) -> pd.Timestamp | None:
    if _na(v):
        return None
    t = pd.Timestamp(v)
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def _date(t: pd.Timestamp | None) -> str:
    return "?" if t is None else f"{t:%Y-%m-%d}"


def _row(v: Any) -> dict[str, Any]:
    if isinstance(v, pd.Series):
        return v.to_dict()
    return dict(v)


def validity_state(not_before: Any, not_after: Any, at: Any) -> str:
    """``valid``, ``expired``, ``not_yet_valid`` or ``unknown`` at time ``at`` (bounds inclusive)."""
    return validity(_ts(not_before), _ts(not_after), _ts(at))


def _badge(label: str, *, title: str | None = None, kind: str | None = None) -> str:
    """A coloured pill.  ``label``/``title`` are escaped; the colour comes from BADGE_COLOURS."""
    kind = kind or label
    colour = BADGE_COLOURS.get(kind, "#57606a")
    cls = "ti-badge ti-badge-" + "".join(ch if ch.isalnum() else "-" for ch in kind.lower())
    tip = f' title="{_e(title)}"' if title else ""
    return (f'<span class="{cls}"{tip} style="display:inline-block; padding:0 6px; margin:0 3px 0 0; '
            f'border-radius:8px; background:{colour}; color:#fff; font-size:11px; font-weight:600;">'
            f"{_e(label)}</span>")


def _port_role(port: Any) -> tuple[str, str]:
    """(short role, long description) of a server port, e.g. ("SIP-TLS", "SIP over TLS (phone -> CUCM)")."""
    from .diagnose import SERVICES
    from .output.report import PORT_ROLES
    if _na(port):
        return "", ""
    p = int(port)
    return PORT_ROLES.get(p, ""), SERVICES.get(p, PORT_ROLES.get(p, ""))


def _known_expired_root(issuer_cn: str | None) -> pd.Timestamp | None:
    from .diagnose import EXPIRED_ROOTS
    if not issuer_cn or issuer_cn not in EXPIRED_ROOTS:
        return None
    return pd.Timestamp(EXPIRED_ROOTS[issuer_cn])


def _known_ca_note_for_name(cn: str | None) -> str | None:
    from .x509 import KNOWN_CAS
    if not cn:
        return None
    for ca in KNOWN_CAS:
        if ca.cn.search(cn.strip()):
            return ca.note
    return None


# ---- validity bar -------------------------------------------------------------------------------

def validity_bar(not_before: Any, not_after: Any, at: Any, *, at_label: str = "capture") -> str:
    """A horizontal bar of the validity period with a black mark at ``at`` (the capture time).

    The period is green when ``at`` lies inside it, red when the certificate had expired,
    amber when it was not yet valid.  The outer ``div`` carries ``data-state`` for tests/CSS.
    A missing ``not_before`` with a known ``not_after`` (a root known by name only) draws the
    period faded in from the left.
    """
    nb, na, t = _ts(not_before), _ts(not_after), _ts(at)
    if na is None:
        return ('<div class="ti-validity" data-state="unknown" style="color:#57606a; font-size:11px;">'
                "validity unknown</div>")
    if nb is None:
        state = "expired" if t is not None and t > na else "unknown"
        ref = t if t is not None else na
        nb_draw = min(na, ref) - max(abs(na - ref), pd.Timedelta(days=365))
    else:
        state = validity_state(nb, na, t)
        nb_draw = nb
    points = [nb_draw, na] + ([t] if t is not None else [])
    lo, hi = min(points), max(points)
    span = (hi - lo).total_seconds() or 1.0
    pad = span * 0.04
    lo_p, span_p = lo - pd.Timedelta(seconds=pad), span + 2 * pad

    def pct(x: pd.Timestamp) -> float:
        return round(100.0 * (x - lo_p).total_seconds() / span_p, 2)

    left, right = (0.0 if nb is None else pct(nb)), pct(na)
    colour = VALIDITY_COLOURS[state]
    fill = (f"background:{colour};" if nb is not None else
            f"background:linear-gradient(to right, #eaeef2, {colour} 60%);")
    parts = [
        f'<div class="ti-validity" data-state="{state}" style="margin:4px 0 2px 0;">',
        '<div style="position:relative; height:12px; background:#eaeef2; border-radius:3px; margin:6px 0 2px 0;">',
        f'<div class="ti-validity-period" style="position:absolute; left:{left}%; width:{max(right - left, 0.5)}%; '
        f'top:2px; height:8px; {fill} border-radius:2px;"></div>',
    ]
    if t is not None:
        parts.append(f'<div class="ti-validity-mark" title="{_e(at_label)} {t:%Y-%m-%d %H:%M} UTC" '
                     f'style="position:absolute; left:{pct(t)}%; top:-4px; width:2px; height:20px; '
                     f'background:#000;"></div>')
    parts.append("</div>")
    label = _e(at_label)
    if state == "expired":
        when = (f'<b style="color:{colour};">EXPIRED</b> {(t - na).days} days before the {label} '
                f"(&#9646; {t:%Y-%m-%d})")
    elif state == "not_yet_valid":
        when = (f'<b style="color:{colour};">NOT YET VALID</b> at the {label} (&#9646; {t:%Y-%m-%d}); '
                f"starts {(nb - t).days} days later")
    elif state == "valid":
        when = f"valid at the {label} (&#9646; {t:%Y-%m-%d}), {(na - t).days} days left"
    elif t is None:
        when = "no capture time to compare with"
    else:
        when = f"{label} &#9646; {t:%Y-%m-%d}"
    start = "start unknown" if nb is None else f"{nb:%Y-%m-%d}"
    parts.append(f'<div style="display:flex; justify-content:space-between; gap:8px; color:#57606a; '
                 f'font-size:11px;"><span>{start}</span><span>{when}</span><span>{na:%Y-%m-%d}</span></div></div>')
    return "".join(parts)


# ---- one certificate ----------------------------------------------------------------------------

class CertView:
    """One certificate as a card: ``subject CN <- issuer CN``, key, validity bar, badges, notes.

    ``cert`` is a row of ``Capture.certificates`` (Series or mapping).  ``at`` is the time the
    validity is judged at (the capture time of the flow; None: now).  ``kind`` overrides the
    LSC/MIC classification (a flow's ``client_cert_kind`` for its client leaf); ``position`` is a
    label such as "leaf" or "intermediate".
    """

    def __init__(self, cert: Mapping[str, Any] | pd.Series, *, at: Any = None, kind: str | None = None,
                 position: str | None = None) -> None:
        self.cert = _row(cert)
        self.at = _ts(at)
        self.at_label = "capture" if self.at is not None else "now"
        if self.at is None:
            self.at = pd.Timestamp(datetime.now(timezone.utc))
        k = kind if kind is not None else self.cert.get("client_cert_kind")
        self.kind = None if _na(k) or not str(k) else str(k)
        self.position = position

    # plain facts, reused by the text and HTML forms
    @property
    def sha256(self) -> str:
        return _s(self.cert.get("sha256"))

    @property
    def subject_cn(self) -> str:
        return _s(self.cert.get("subject_cn")) or _s(self.cert.get("subject")) or self.sha256[:16] or "?"

    @property
    def issuer_cn(self) -> str:
        return _s(self.cert.get("issuer_cn")) or _s(self.cert.get("issuer")) or "?"

    @property
    def state(self) -> str:
        return validity_state(self.cert.get("not_before"), self.cert.get("not_after"), self.at)

    def badges(self) -> list[str]:
        """Badge labels in display order (plain strings; escaped when rendered)."""
        c = self.cert
        out = []
        if _true(c.get("self_signed")):
            out.append("self-signed")
        elif _true(c.get("is_ca")):
            out.append("CA")
        if self.kind in ("LSC", "MIC"):
            out.append(self.kind)
        if self.state == "expired":
            out.append("expired")
        elif self.state == "not_yet_valid":
            out.append("not yet valid")
        if _list(c.get("errors")):
            out.append("parse error")
        return out

    def _key(self) -> str:
        kt, bits, curve = self.cert.get("key_type"), self.cert.get("key_bits"), self.cert.get("curve")
        if _na(kt):
            return "key ?"
        text = f"{kt} {_s(bits)}".strip()
        return f"{text} ({curve})" if not _na(curve) else text

    def __repr__(self) -> str:
        c = self.cert
        extra = "".join(f" [{b}]" for b in self.badges())
        note = f" ({c.get('known_ca')})" if not _na(c.get("known_ca")) else ""
        return visible(f"<CertView {self.subject_cn} <- {self.issuer_cn}, {self._key()}, valid "
                       f"{_date(_ts(c.get('not_before')))}..{_date(_ts(c.get('not_after')))}"
                       f"{extra}{note} sha256 {self.sha256[:16]}>")

    def card_html(self) -> str:
        c = self.cert
        border = VALIDITY_COLOURS["expired"] if self.state == "expired" else "#d0d7de"
        pos = (f'<span style="color:#57606a; font-size:11px; margin-right:6px;">{_e(self.position)}</span>'
               if self.position else "")
        badges = "".join(_badge(b, title=BADGE_TITLES.get(b)) for b in self.badges())
        lines = [
            f'<div class="ti-cert" style="border:1px solid {border}; border-radius:6px; padding:6px 10px; '
            f'margin:0; background:#fff; max-width:760px;">',
            f'<div>{pos}<b title="{_e(c.get("subject"))}">{_e(self.subject_cn)}</b> '
            f'<span style="color:#57606a;">&larr; issued by</span> '
            f'<span title="{_e(c.get("issuer"))}">{_e(self.issuer_cn)}</span> <span style="margin-left:6px;">{badges}</span></div>',
            f'<div style="color:#57606a; font-size:12px;">{_e(self._key())}'
            + (f" &middot; {_e(c.get('signature_algorithm'))}" if not _na(c.get("signature_algorithm")) else "")
            + (f" &middot; serial {_e(c.get('serial'))}" if not _na(c.get("serial")) else "") + "</div>",
        ]
        sans = [*_list(c.get("san_dns")), *_list(c.get("san_ip"))]
        if sans:
            lines.append(f'<div style="font-size:12px;">SAN: {_e(", ".join(str(x) for x in sans))}</div>')
        lines.append(validity_bar(c.get("not_before"), c.get("not_after"), self.at, at_label=self.at_label))
        if not _na(c.get("known_ca")):
            lines.append(f'<div class="ti-known-ca" style="font-size:12px; color:{BADGE_COLOURS["known CA"]};">'
                         f"&#9888; {_e(c.get('known_ca'))}</div>")
        for err in _list(c.get("errors")):
            lines.append(f'<div style="font-size:12px; color:#cf222e;">parse problem: {_e(err)}</div>')
        lines.append(f'<div style="{_MONO} color:#57606a; word-break:break-all;">sha256 {_e(self.sha256)}</div>')
        lines.append("</div>")
        return "".join(lines)

    def _repr_html_(self) -> str:
        c = self.cert
        detail = [("subject", c.get("subject")), ("issuer", c.get("issuer")),
                  ("roles", ", ".join(map(str, _list(c.get("roles"))))),
                  ("flows", ", ".join(map(str, _list(c.get("flow_ids"))))),
                  ("key usage", ", ".join(map(str, _list(c.get("key_usage"))))),
                  ("extended key usage", ", ".join(map(str, _list(c.get("extended_key_usage"))))),
                  ("sha1", c.get("sha1"))]
        rows = "".join(f'<tr><td style="color:#57606a; padding-right:8px; text-align:left;">{_e(k)}</td>'
                       f'<td style="text-align:left; word-break:break-all;">{_e(v)}</td></tr>'
                       for k, v in detail if _s(v))
        return (f'<div class="ti-certview" style="{_FONT}">{self.card_html()}'
                f'<table style="font-size:12px; margin-top:4px;">{rows}</table></div>')


# ---- a chain ------------------------------------------------------------------------------------

class ChainView:
    """A chain as sent (leaf first) as a vertical list of `CertView` cards.

    After the last certificate sent, when it is not self-issued, a dashed card names the issuer
    the peer did not send (the other side must have it); a known expired root (AddTrust) gets its
    validity bar with its end date, so an expired trust anchor is visible even when not sent.
    """

    def __init__(self, certs: Sequence[Mapping[str, Any] | pd.Series | None], *, side: str = "server",
                 at: Any = None, flow_id: Any = None, leaf_kind: str | None = None,
                 fingerprints: Sequence[str] | None = None, certs_visible: bool | None = None,
                 validation: Any = None) -> None:
        self.side = side
        self.validation = validation  # an inspector.trust.Validation of this chain, or None
        self.at = _ts(at)
        self.flow_id = None if _na(flow_id) else int(flow_id)
        self.fingerprints = list(fingerprints) if fingerprints is not None else None
        self.certs_visible = certs_visible
        self.views: list[CertView | None] = []
        for i, c in enumerate(certs):
            if c is None:
                self.views.append(None)
                continue
            pos = ROLE_LABELS.get(i) or ("root" if _true(_row(c).get("self_signed")) else "intermediate")
            # LSC/MIC describe a client leaf only: "" suppresses the row's own classification
            kind = (leaf_kind or None) if (i == 0 and side == "client") else ""
            self.views.append(CertView(c, at=self.at, kind=kind, position=pos))

    @classmethod
    def from_fingerprints(cls, fingerprints: Iterable[str], certificates: pd.DataFrame, **kw: Any) -> "ChainView":
        """Look the fingerprints up in a ``certificates`` frame (unknown ones become placeholders)."""
        fps = list(fingerprints)
        if not len(certificates):
            by_fp = None
        elif certificates.index.name == "sha256":  # already indexed (the HTML report, many flows)
            by_fp = certificates
        else:
            by_fp = certificates.set_index("sha256")
        rows: list[Any] = []
        for fp in fps:
            if by_fp is not None and fp in by_fp.index:
                r = by_fp.loc[fp]
                if isinstance(r, pd.DataFrame):
                    r = r.iloc[0]
                rows.append({**r.to_dict(), "sha256": fp})
            else:
                rows.append(None)
        return cls(rows, fingerprints=fps, **kw)

    def _missing_issuer(self) -> tuple[str, str | None, pd.Timestamp | None] | None:
        """(issuer CN, known-CA note, known end of validity) of the top cert's unsent issuer."""
        if not self.views or self.views[-1] is None:
            return None
        top = self.views[-1].cert
        if _true(top.get("self_issued")) or _true(top.get("self_signed")):
            return None
        issuer_cn = _s(top.get("issuer_cn")) or None
        if issuer_cn is None:
            return None
        return issuer_cn, _known_ca_note_for_name(issuer_cn), _known_expired_root(issuer_cn)

    def _links(self) -> list[str | None]:
        """A warning between card i and i+1 when i is not issued by i+1 (out-of-order chain)."""
        out: list[str | None] = []
        for a, b in zip(self.views, self.views[1:]):
            if a is None or b is None:
                out.append(None)
                continue
            ai, bs = _s(a.cert.get("issuer")), _s(b.cert.get("subject"))
            out.append(None if not ai or not bs or ai == bs else
                       "the next certificate did not issue this one (chain out of order or extra cert)")
        return out

    def __repr__(self) -> str:
        head = f"<ChainView {self.side}" + (f" flow {self.flow_id}" if self.flow_id is not None else "")
        if not self.views:
            why = " (certificates not visible)" if self.certs_visible is False else ""
            return head + f": no certificates{why}>"
        lines = [head + f": {len(self.views)} certificate{'s' if len(self.views) != 1 else ''}"]
        for i, v in enumerate(self.views):
            text = repr(v)[10:-1] if v is not None else f"(not decoded) {self._fp(i)[:16]}"
            lines.append(f"  {i}: {text}")
        missing = self._missing_issuer()
        if missing:
            cn, note, _ = missing
            lines.append(f"  (not sent) issuer {cn}" + (f": {note}" if note else ""))
        return "\n".join(map(visible, lines)) + ">"

    def _fp(self, i: int) -> str:
        return self.fingerprints[i] if self.fingerprints and i < len(self.fingerprints) else ""

    def cards_html(self) -> str:
        if not self.views:
            if self.certs_visible is False:
                why = "not visible: TLS 1.3 encrypts the Certificate message, and a resumed session sends none"
            else:
                why = "none sent"
            return f'<div style="color:#57606a; font-style:italic;">{self.side} certificates: {why}</div>'
        out = []
        links = self._links()
        used = self._verdict_links()
        for i, v in enumerate(self.views):
            if i:
                warn = links[i - 1]
                out.append('<div class="ti-link" style="margin:0 0 0 24px; color:#57606a; font-size:12px;">&uarr; issued by'
                           + (' <span class="ti-link-used" style="color:#1a7f37;">&#10003; the link the trust verdict used'
                              '</span>' if i - 1 in used else "")
                           + (f' <span style="color:#cf222e;">&#9888; {_e(warn)}</span>' if warn else "")
                           + "</div>")
            out.append(v.card_html() if v is not None else
                       f'<div class="ti-cert" style="border:1px dashed #cf222e; border-radius:6px; padding:6px 10px;">'
                       f'certificate not decoded <span style="{_MONO}">{_e(self._fp(i))}</span></div>')
        missing = self._missing_issuer()
        if missing:
            cn, note, expired_at = missing
            out.append('<div style="margin:0 0 0 24px; color:#57606a; font-size:12px;">&uarr; issued by</div>')
            bar = ""
            badges = _badge("not sent", title=BADGE_TITLES["not sent"])
            if expired_at is not None:
                bar = validity_bar(None, expired_at, self.at, at_label="capture" if self.at is not None else "now")
                if self.at is not None and self.at > expired_at:
                    badges += _badge("expired")
            out.append(
                f'<div class="ti-cert ti-cert-missing" style="border:1px dashed #8c959f; border-radius:6px; '
                f'padding:6px 10px; max-width:760px; background:#f6f8fa;">'
                f'<div><span style="color:#57606a; font-size:11px; margin-right:6px;">trust anchor</span>'
                f"<b>{_e(cn)}</b> <span style=\"margin-left:6px;\">{badges}</span></div>"
                f'<div style="color:#57606a; font-size:12px;">not in the chain: the {"client" if self.side == "server" else "server"}'
                f" must already have it in its trust store</div>"
                + (f'<div class="ti-known-ca" style="font-size:12px; color:{BADGE_COLOURS["known CA"]};">'
                   f"&#9888; {_e(note)}</div>" if note else "")
                + (f'<div style="font-size:11px; color:#57606a;">known end of validity (from the domain notes):</div>{bar}'
                   if bar else "")
                + "</div>")
        out.append(self.verdict_html())
        return "".join(out)

    def _verdict_links(self) -> set[int]:
        """Indexes i whose link (card i issued by card i+1) is on the trust verdict's path."""
        v = self.validation
        fps = self.fingerprints or []
        path = list(getattr(v, "path", None) or [])
        return {i for i in range(len(fps) - 1)
                if fps[i] in path and fps[i + 1] in path and path.index(fps[i + 1]) == path.index(fps[i]) + 1}

    def verdict_html(self) -> str:
        """The trust verdict on this chain (status, why, anchor or missing issuer), when known."""
        v = self.validation
        if v is None:
            return ""
        ok = bool(getattr(v, "ok", False))
        colour = "#1a7f37" if ok else "#cf222e"
        anchor = getattr(v, "anchor", None)
        missing = getattr(v, "missing_issuer", None)
        extra = (f'<div>anchored at <b>{_e(anchor)}</b></div>' if anchor else "") + (
            f'<div>a trust store would have to hold: <span style="{_MONO}">{_e(missing)}</span></div>'
            if missing and not ok else "")
        return (f'<div class="ti-verdict" data-status="{_e(v.status)}" style="margin:4px 0 0 0; padding:4px 8px; '
                f'border-left:3px solid {colour}; background:#f6f8fa; font-size:12px; max-width:740px;">'
                f'<b style="color:{colour};">trust verdict: {_e(v.status)}</b> &mdash; {_e(getattr(v, "detail", ""))}'
                f"{extra}</div>")

    def _repr_html_(self) -> str:
        title = f"{self.side} chain" + (f" of flow {self.flow_id}" if self.flow_id is not None else "")
        return (f'<div class="ti-chain" style="{_FONT}"><div style="font-weight:600; margin-bottom:4px;">'
                f"{_e(title)}</div>{self.cards_html()}</div>")


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
        from .output.ladder import ladder_svg
        from .output.report import endpoint
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
