"""One certificate (`CertView`) and a chain as sent (`ChainView`)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterable, Mapping, Sequence

import pandas as pd

from ..textsafe import visible
from ..words import counted
from .parts import (BADGE_COLOURS, BADGE_TITLES, ROLE_LABELS, VALIDITY_COLOURS, _FONT, _MONO,
    _badge, _date, _e, _known_ca_note_for_name, _known_expired_root, _list, _na, _row, _s, _true,
    _ts, validity_bar, validity_state)


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
        lines = [head + f": {counted(len(self.views), 'certificate')}"]
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
