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

The views live in `parts` (colours, badges, helpers, the validity bar), `cert` (`CertView`,
`ChainView`), `flow` (`FlowView`, `findings_html`) and `summary` (`CaptureSummary`).
"""

from __future__ import annotations

from .cert import CertView, ChainView
from .flow import FlowView, findings_html
from .parts import _na, validity_bar, validity_state  # noqa: F401 (_na: the one missing-value test, tests/unit/test_domain.py)
from .summary import CaptureSummary

__all__ = ["CaptureSummary", "CertView", "ChainView", "FlowView", "findings_html", "validity_bar",
           "validity_state"]
