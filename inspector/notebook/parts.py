"""The views' fixed tables (the only sources of style values), small value helpers, badges and the
validity bar."""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

from ..model import is_missing, validity


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
    from ..diagnose import SERVICES
    from ..output.report import PORT_ROLES
    if _na(port):
        return "", ""
    p = int(port)
    return PORT_ROLES.get(p, ""), SERVICES.get(p, PORT_ROLES.get(p, ""))


def _known_expired_root(issuer_cn: str | None) -> pd.Timestamp | None:
    from ..diagnose import EXPIRED_ROOTS
    if not issuer_cn or issuer_cn not in EXPIRED_ROOTS:
        return None
    return pd.Timestamp(EXPIRED_ROOTS[issuer_cn])


def _known_ca_note_for_name(cn: str | None) -> str | None:
    from ..x509 import KNOWN_CAS
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
