"""Name checks: the SNI or the connected IP address not covered by the server certificate
(RFC 6125 names, `inspector.x509.hostname_matches`)."""

from __future__ import annotations

import ipaddress
from typing import Iterator

from ..x509 import CertInfo, hostname_matches
from .core import EXPRESSWAY_PORTS, Finding, FlowContext, Severity, check
from .core import finding as _f
from .context import cert_name


def _ip(text: str) -> ipaddress._BaseAddress | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _covers(leaf: CertInfo, name: str) -> bool:
    """The leaf's SANs (its CN only when it has none) cover ``name``, a DNS name or an IP literal."""
    as_ip = _ip(name)
    if as_ip is not None:
        return any(_ip(x) == as_ip for x in leaf.san_ip) or (
            not leaf.san_dns and not leaf.san_ip and _ip(leaf.subject_cn or "") == as_ip)
    names = list(leaf.san_dns) or ([leaf.subject_cn] if leaf.subject_cn and not leaf.san_ip else [])
    return any(hostname_matches(n, name) for n in names)


def _shown(leaf: CertInfo) -> str:
    return ", ".join(list(leaf.san_dns) + list(leaf.san_ip)) or f"CN={leaf.subject_cn}"


def _names_elsewhere(ctx: FlowContext) -> dict[str, list[int]]:
    """DNS names other flows to this server sent as SNI (name -> their flows)."""
    names = ctx.capture.names_by_server.get(ctx.flow.server_ip, {})
    return {n: [i for i in ids if i != ctx.flow.flow_id] for n, ids in names.items()
            if any(i != ctx.flow.flow_id for i in ids)}


@check("sni_not_in_cert")
def sni_not_in_cert(ctx: FlowContext) -> Iterator[Finding]:
    f = ctx.flow
    if not ctx.server_chain:
        return
    leaf = ctx.server_chain[0]
    sni = f.sni
    if sni:
        if _covers(leaf, sni):
            return
        yield _f(ctx, "sni_not_in_cert", Severity.error if f.server_port in EXPRESSWAY_PORTS else Severity.warning,
                 f"The client asked for '{sni}' (SNI) but the server certificate {cert_name(leaf)} covers only: "
                 f"{_shown(leaf)}. Expressway logs this as 'SNI ({sni}) not in certificate'.",
                 f"Add '{sni}' to the certificate's Subject Alternative Names "
                 f"({'IP address' if _ip(sni) else 'DNS name'}) and re-issue it, or make the client connect "
                 f"with a name the certificate lists.", cert=leaf.sha256, sni=sni)
        return
    # no SNI: only a rejection makes the name matter, and only a name the server is known by
    if not _client_rejected_name(ctx):
        return
    elsewhere = _names_elsewhere(ctx)
    uncovered = sorted(n for n in elsewhere if not _covers(leaf, n))
    if elsewhere and len(uncovered) == len(elsewhere):
        name = uncovered[0]
        yield _f(ctx, "sni_not_in_cert", Severity.error,
                 f"The client sent no SNI here, but other flows to {f.server_ip} ask for '{name}' (flows "
                 f"{', '.join(map(str, elsewhere[name]))}), which the server certificate {cert_name(leaf)} does "
                 f"not cover (it lists {_shown(leaf)}); the client rejected it.",
                 f"Add '{name}' to the certificate's Subject Alternative Names (DNS name) and re-issue it, "
                 f"or make the client connect with a name the certificate lists.",
                 cert=leaf.sha256, name=name, name_seen_in_flows=elsewhere[name])


def _client_rejected_name(ctx: FlowContext) -> tuple[str, int | None] | None:
    """The client's fatal bad_certificate / certificate_unknown (how OpenSSL and Java reject a name)."""
    for a in ctx.fatal("client"):
        if a.code in ("bad_certificate", "certificate_unknown"):
            return a.code, a.frame
    return None


@check("ip_not_in_cert")
def ip_not_in_cert(ctx: FlowContext) -> Iterator[Finding]:
    """Connected by address: no SNI, the client rejected the certificate, the address is not in it."""
    f = ctx.flow
    hit = _client_rejected_name(ctx)
    if f.sni or not ctx.server_chain or hit is None:
        return
    leaf = ctx.server_chain[0]
    if _covers(leaf, f.server_ip):
        return
    elsewhere = _names_elsewhere(ctx)
    if elsewhere and not any(_covers(leaf, n) for n in elsewhere):
        return  # the name the server is known by is not covered either: sni_not_in_cert says so
    fqdn = next((n for n in leaf.san_dns if "*" not in n), None) or leaf.subject_cn
    alert, frame = hit
    yield _f(ctx, "ip_not_in_cert", Severity.error,
             f"The client connected to {f.server_ip} by address (no SNI), which is not among the "
             f"certificate's SANs ({_shown(leaf)}), and rejected it with a fatal {alert} alert.",
             f"Add {f.server_ip} to the certificate's Subject Alternative Names (IP address entry) and re-issue "
             f"it, or configure the client with the FQDN{f' ({fqdn})' if fqdn else ''} instead of the address.",
             cert=leaf.sha256, server_ip=f.server_ip, alert=f"client:fatal:{alert}", alert_frame=frame,
             names_elsewhere=sorted(elsewhere) or None)
