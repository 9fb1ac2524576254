"""What the checks ask of a flow's context: whether it is CUCM/Expressway or phone traffic, a
provisioning server, which alert rejected what, and how a certificate or a port is named in a
finding."""

from __future__ import annotations

import re

from ..domain import CUCM_PORTS, is_provisioning_note
from ..x509 import CertInfo, capf_id, client_cert_kind, known_ca_note
from .core import PHONE_PORTS, SERVICES, FlowContext


_CUCM_NAMES = re.compile(r"cucm|callmanager|tomcat|expressway|-ec\.", re.I)


def cert_name(c: CertInfo) -> str:
    return c.subject_cn or c.subject or c.sha256[:16]


def port_phrase(ctx: FlowContext) -> str:
    """"port 5061 (SIP over TLS, phone -> CUCM)" on the Cisco service ports, else "port N"."""
    port = ctx.flow.server_port
    return f"port {port}, {SERVICES[port]}," if port in CUCM_PORTS else f"port {port}"


def rejecting_alert(ctx: FlowContext, description: str) -> tuple[str, int | None] | None:
    for a in ctx.fatal():
        if a.code == description:
            return a.sender or "?", a.frame
    return None


def cucm_context(ctx: FlowContext) -> bool:
    """CUCM/Expressway: their ports, or their names in the SNI or the server certificate."""
    if ctx.flow.server_port in CUCM_PORTS:
        return True
    names = [ctx.flow.sni or ""]
    if ctx.server_chain:
        leaf = ctx.server_chain[0]
        names += [leaf.subject_cn or "", *leaf.san_dns]
    return any(_CUCM_NAMES.search(n) for n in names)


def phone_context(ctx: FlowContext) -> bool:
    """Phones: the CUCM phone ports, or a Cisco-issued client certificate (LSC, MIC) or server chain."""
    if ctx.flow.server_port in PHONE_PORTS:
        return True
    if ctx.client_chain and client_cert_kind(ctx.client_chain[0]) in ("LSC", "MIC"):
        return True
    return any(capf_id(c) for c in ctx.server_chain + ctx.client_chain) or \
        any(("CAPF-" in n or "Cisco Manufacturing" in n) for n in ctx.flow.requested_ca_names)


def provisioning_server(ctx: FlowContext) -> bool:
    """SPA/ATA provisioning: a Cisco Small Business, Linksys or Sipura CA in either chain."""
    for c in ctx.server_chain + ctx.client_chain:
        if is_provisioning_note(known_ca_note(c)):
            return True
    return False
