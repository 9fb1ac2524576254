"""Flows and certificates -> findings: a named cause and a fix for what went wrong.

`table` holds the rule table (code, severity, scope, where it applies, evidence, message, fix);
the functions that apply it are grouped by family: `checks` (who rejected which chain, how the
handshake ended), `certs` (certificates, validity, keys), `names` (SNI and IP against the
certificate), `eap` (802.1X), `gaps` (what the capture missed), with `context` for what they ask
of a flow; `core` holds the findings and how they are run and merged.
``python -m inspector.diagnose`` prints the README's findings table.
"""

from __future__ import annotations

from . import checks, certs, names, eap, gaps  # noqa: F401  (registers the checks)
from .gaps import capture_missed_bytes
from .checks import ALERT_HINTS, certs_not_visible, fatal_alert, handshake_reset, no_server_hello, unknown_ca
from .certs import (ANCHOR_ROOT_NAMES, EXPIRED_ROOTS, capture_clock, client_cert, dh_key_too_large_for_legacy,
                    ecdsa_server_cert, self_signed_server_cert, sha1_signature, validity, weak_key)
from .names import ip_not_in_cert, sni_not_in_cert
from .eap import eap_access_reject_policy, eap_context, eap_phone_cert_rejected, eap_server_cert_rejected
from .core import (CAPTURE_RULES, EXPRESSWAY_PORTS, PHONE_PORTS, RULES, SERVICES, CaptureContext, Finding,
                   capture_check,
                   FlowContext, Severity, capture_context, check, contexts, diagnose, diagnose_contexts,
                   flow_contexts, merge_certificate_findings, rule)
from .table import CERTIFICATE_SCOPED, RULE_TABLE, RULES_BY_CODE, Rule, explain, rules_markdown
from ..schema import finding_row


def finding_rows(analysis) -> list[dict]:
    """The findings table's rows of an analysis (`inspector.schema.FINDING_COLUMNS`)."""
    return [finding_row(analysis.capture, f) for f in diagnose(analysis)]


__all__ = [
    "ALERT_HINTS", "ANCHOR_ROOT_NAMES", "CAPTURE_RULES", "capture_missed_bytes", "CERTIFICATE_SCOPED", "EXPIRED_ROOTS",
    "EXPRESSWAY_PORTS", "PHONE_PORTS", "RULES", "RULES_BY_CODE", "RULE_TABLE", "SERVICES", "CaptureContext",
    "Finding", "FlowContext", "Rule", "Severity", "capture_check", "capture_clock", "capture_context",
    "certs_not_visible", "check", "client_cert", "contexts", "dh_key_too_large_for_legacy", "diagnose",
    "diagnose_contexts", "eap_access_reject_policy", "eap_context", "eap_phone_cert_rejected",
    "eap_server_cert_rejected", "ecdsa_server_cert", "explain", "fatal_alert", "finding_rows", "flow_contexts", "handshake_reset",
    "ip_not_in_cert", "merge_certificate_findings", "no_server_hello", "rule", "rules_markdown",
    "self_signed_server_cert", "sha1_signature", "sni_not_in_cert", "unknown_ca", "validity", "weak_key",
]
