"""Flows and certificates -> findings: a named cause and a fix for what went wrong.

`table` holds the rule table (code, severity, scope, where it applies, evidence, message, fix),
`checks` the functions that apply it, `core` the findings and how they are run and merged.
``python -m inspector.diagnose`` prints the README's findings table.
"""

from __future__ import annotations

from . import checks, eap, gaps  # noqa: F401  (registers the checks)
from .gaps import capture_missed_bytes
from .checks import (ALERT_HINTS, ANCHOR_ROOT_NAMES, EXPIRED_ROOTS, capture_clock, certs_not_visible,
                     client_cert, dh_key_too_large_for_legacy, ecdsa_server_cert, fatal_alert, handshake_reset,
                     ip_not_in_cert, no_server_hello, self_signed_server_cert, sha1_signature, sni_not_in_cert,
                     unknown_ca, validity, weak_key)
from .eap import eap_access_reject_policy, eap_context, eap_phone_cert_rejected, eap_server_cert_rejected
from .core import (CAPTURE_RULES, EXPRESSWAY_PORTS, PHONE_PORTS, RULES, SERVICES, CaptureContext, Finding,
                   capture_check,
                   FlowContext, Severity, capture_context, check, contexts, diagnose, diagnose_contexts,
                   flow_contexts, merge_certificate_findings, rule)
from .table import CERTIFICATE_SCOPED, RULE_TABLE, RULES_BY_CODE, Rule, explain, rules_markdown

__all__ = [
    "ALERT_HINTS", "ANCHOR_ROOT_NAMES", "CAPTURE_RULES", "capture_missed_bytes", "CERTIFICATE_SCOPED", "EXPIRED_ROOTS",
    "EXPRESSWAY_PORTS", "PHONE_PORTS", "RULES", "RULES_BY_CODE", "RULE_TABLE", "SERVICES", "CaptureContext",
    "Finding", "FlowContext", "Rule", "Severity", "capture_check", "capture_clock", "capture_context",
    "certs_not_visible", "check", "client_cert", "contexts", "dh_key_too_large_for_legacy", "diagnose",
    "diagnose_contexts", "eap_access_reject_policy", "eap_context", "eap_phone_cert_rejected",
    "eap_server_cert_rejected", "ecdsa_server_cert", "explain", "fatal_alert", "flow_contexts", "handshake_reset",
    "ip_not_in_cert", "merge_certificate_findings", "no_server_hello", "rule", "rules_markdown",
    "self_signed_server_cert", "sha1_signature", "sni_not_in_cert", "unknown_ca", "validity", "weak_key",
]
