"""The handshake checks: who rejected which chain (unknown CA, other fatal alerts), and handshakes
that end without a ServerHello or with a reset; the certificate, name and 802.1X families live in
`certs`, `names` and `eap`.

Each check is a small registered function over one flow's `FlowContext` (the flow row, its
chains as `CertInfo`, its alert events, and ``ctx.capture``); one concern per check, and only the
codes it names in ``@check(...)``, each a row of `table.RULE_TABLE` (what it needs, where it
applies).  The wording follows the domain notes (Cisco CUCM/Expressway/phone documents in
shared/domain).  A check states a cause only where its context holds: a Cisco-specific
explanation never fires on traffic that shows no Cisco context."""

from __future__ import annotations

from typing import Iterator

from ..x509 import CertInfo, capf_id, client_cert_kind, known_ca_note, validity_at
from .core import CERT_REJECTIONS, Finding, FlowContext, Severity, check
from .core import finding as _f
from .eap import covers_client_alert, covers_server_alert
from .context import cert_name, rejecting_alert, cucm_context, provisioning_server
from .names import sni_not_in_cert, ip_not_in_cert


# ---- unknown CA ------------------------------------------------------------------------------

@check("unknown_ca")
def unknown_ca(ctx: FlowContext) -> Iterator[Finding]:
    hit = rejecting_alert(ctx, "unknown_ca")
    if hit is None:
        return
    sender, frame = hit
    if (covers_client_alert if sender == "client" else covers_server_alert)(ctx):
        return  # 802.1X: eap_server_cert_rejected / eap_phone_cert_rejected name ISE's side of it
    f = ctx.flow
    if sender == "client":
        chain, side = ctx.server_chain, "server"
    else:
        chain, side = ctx.client_chain, "client"
    leaf = chain[0] if chain else None
    top = chain[-1] if chain else None
    evidence = dict(alert=f"{sender}:fatal:unknown_ca", alert_frame=frame,
                    rejected_chain=[c.sha256 for c in chain],
                    rejected_subject=leaf.subject if leaf else None)
    who = f"The {sender} rejected the {side}'s certificate chain with a fatal Unknown CA alert"
    if leaf is None:
        yield _f(ctx, "unknown_ca", Severity.critical, f"{who}; the chain was not visible.",
                 f"Find which CA signed the {side} certificate and add it to the {sender}'s trust store.",
                 **evidence)
        return
    if side == "client" and client_cert_kind(leaf) == "LSC":
        capf = capf_id(leaf)
        listed = any(capf and capf in n for n in f.requested_ca_names)
        if listed:
            tail = ("which the server does list in its CertificateRequest, so the CAPF certificate it "
                    "trusts is probably a different one with the same name (CAPF re-generated?).")
        elif f.requested_ca_names:
            tail = (f"which is not among the {len(f.requested_ca_names)} CAs the server lists in its "
                    f"CertificateRequest: the phone probably moved from another cluster and kept that "
                    f"cluster's LSC.")
        else:
            tail = ("which the server does not trust (its CertificateRequest names no CAs): the phone "
                    "probably moved from another cluster and kept that cluster's LSC.")
        why = f"{who}: the phone presented an LSC issued by {capf}, {tail}"
        fix = (f"Delete the phone's LSC (CAPF operation 'Delete') so it falls back to its MIC, or upload "
               f"the {capf} certificate to CallManager-trust on the new cluster (and restart the "
               f"CallManager service).")
        yield _f(ctx, "unknown_ca", Severity.critical, why, fix, capf=capf, **evidence)
        return
    if len(chain) == 1 and leaf.self_signed:
        why = (f"{who}: the {side} sent a self-signed certificate ({cert_name(leaf)}) that the {sender} "
               f"does not trust.")
        if cucm_context(ctx):
            stores = " (e.g. Expressway-C trusted CA list, or CUCM tomcat-trust/CallManager-trust)"
        else:
            stores = ""
        fix = (f"Add {cert_name(leaf)} to the {sender}'s trust store{stores}, or have it signed by a CA the "
               f"{sender} trusts.")
        yield _f(ctx, "unknown_ca", Severity.critical, why, fix, **evidence)
        return
    note = known_ca_note(top) if top else None
    why = (f"{who}: the chain ends at {cert_name(top)}"
           + (f" ({note})" if note else "")
           + (f", issued by '{top.issuer_cn}', which the {side} did not send"
              if top and not top.self_issued and top.issuer_cn else "")
           + f", and that CA is not in the {sender}'s trust store.")
    fix = (f"Upload the CA chain of {cert_name(leaf)} (the intermediates and the root"
           + (f" '{top.issuer_cn}'" if top and not top.self_issued and top.issuer_cn else "")
           + f") to the {sender}'s trust store, or have the {side} send its full chain.")
    yield _f(ctx, "unknown_ca", Severity.critical, why, fix, **evidence)


# ---- how the handshake ended ----------------------------------------------------------------

ALERT_HINTS = {
    "bad_certificate": ("certificate_rejected", "the peer refused the certificate (OpenSSL sends this for a "
                        "name or address mismatch, a date outside the validity, or a signature that does not "
                        "verify)",
                        "Check the name the peer connects with against the SANs, the validity dates, and the "
                        "chain it sends (order, intermediates); re-issue if needed."),
    "unsupported_certificate": ("certificate_rejected", "the certificate type is not supported",
                                "Use an RSA certificate or a curve the peer supports."),
    "certificate_revoked": ("certificate_rejected", "the certificate was revoked",
                            "Re-issue the certificate."),
    "certificate_expired": ("certificate_rejected", "a certificate in the chain expired or is not yet valid",
                            "Renew the certificate, or serve a chain to a root the peer still trusts; check clocks."),
    "certificate_unknown": ("certificate_rejected", "the certificate was refused (name, usage or trust)",
                            "Check the name (SAN), the key usage/EKU and the CA against the peer's trust store."),
    "access_denied": ("certificate_rejected", "the certificate was valid but access is denied",
                      "Check the peer's access policy for this certificate."),
    "handshake_failure": ("no_common_parameters", "no acceptable set of security parameters (ciphers, "
                          "versions, or a required client certificate)",
                          "Compare the client's offered cipher suites and versions with the server's configuration."),
    "protocol_version": ("no_common_parameters", "the peer does not support the offered TLS version",
                         "Enable a TLS version both sides support (check TLS 1.0/1.1 disabled on one side)."),
    "insufficient_security": ("no_common_parameters", "the offered ciphers are weaker than the peer requires",
                              "Offer stronger cipher suites."),
    "unrecognized_name": ("sni_not_in_cert", "the server does not know the name sent as SNI",
                          "Use a hostname the server is configured for."),
}


@check("certificate_rejected", "no_common_parameters", "fatal_alert", "sni_not_in_cert")
def fatal_alert(ctx: FlowContext) -> Iterator[Finding]:
    """Fatal alerts other than unknown_ca, which has its own rule."""
    for a in ctx.fatal():
        if a.code == "unknown_ca" or (a.code in CERT_REJECTIONS and (
                covers_client_alert if a.sender == "client" else covers_server_alert)(ctx)):
            continue  # its own rule (802.1X: the eap_* rules)
        code, why, fix = ALERT_HINTS.get(a.code, ("fatal_alert", "the peer aborted the handshake",
                                                  "Check the peer's logs for the reason."))
        dated = _out_of_validity(ctx, "server" if a.sender == "client" else "client")
        f = ctx.flow
        if a.code in ("handshake_failure", "certificate_required") and a.sender == "server" \
                and f.client_cert_requested and not ctx.client_chain and "X" in (f.history or ""):
            why = "the server requires a client certificate and the client sent none, see client_cert_missing"
            fix = "Install a client certificate the server trusts, or make its client authentication optional."
        elif a.code in ("bad_certificate", "certificate_unknown", "certificate_expired") and dated is not None:
            c, state = dated
            code_named = "not_yet_valid" if state == "not_yet_valid" else "expired_cert/expired_in_chain"
            why = (f"{cert_name(c)} is {'not valid yet' if state == 'not_yet_valid' else 'expired'} at the capture's "
                   f"time, see {code_named}")
            fix = ("Re-issue the certificate with a validity that has started, or check the rejecting "
                   "device's clock (NTP)." if state == "not_yet_valid" else "Renew the expired certificate.")
        elif a.code in ("bad_certificate", "certificate_unknown") and a.sender == "client":
            cause = next(iter(sni_not_in_cert(ctx)), None) or next(iter(ip_not_in_cert(ctx)), None)
            if cause is not None and cause.code == "ip_not_in_cert":
                why = (f"the certificate does not list the address the client connected to "
                       f"({ctx.flow.server_ip}, no SNI), see ip_not_in_cert")
                fix = cause.fix
            elif cause is not None:
                name = cause.evidence.get("sni") or cause.evidence.get("name")
                why = f"the certificate does not cover the name it asked for ('{name}'), see sni_not_in_cert"
                fix = f"Add '{name}' to the server certificate's SANs, or connect with a listed name."
        yield _f(ctx, code, Severity.critical,
                 f"The {a.sender} sent a fatal {a.code} alert: {why}.", fix,
                 alert=f"{a.sender}:fatal:{a.code}", alert_frame=a.frame)


def _out_of_validity(ctx: FlowContext, side: str) -> tuple[CertInfo, str] | None:
    """The first certificate of ``side``'s chain that is not valid at the flow's time, with its state."""
    if ctx.capture.clock_wrong:
        return None
    for c in ctx.server_chain if side == "server" else ctx.client_chain:
        state = validity_at(c, ctx.when)
        if state in ("expired", "not_yet_valid"):
            return c, state
    return None


def _no_server_hello(ctx: FlowContext) -> bool:
    history = ctx.flow.history or ""
    # a ClientHello, and not one handshake message from the server (Zeek letters: server lower case)
    return ctx.flow.outcome == "reset" and "C" in history and not any(ch.islower() for ch in history) \
        and ctx.flow.tls_version is None and not ctx.alerts and not ctx.alert_may_be_missed("server")


@check("no_server_hello")
def no_server_hello(ctx: FlowContext) -> Iterator[Finding]:
    """ClientHello, then nothing from the server until the connection closed."""
    f = ctx.flow
    if not _no_server_hello(ctx):
        return
    waited = max(0.0, f.ts_end - f.ts_start)
    detail = f.outcome_detail or ""
    closer = "server" if detail.startswith("server") else "client"
    how = "reset" if " reset " in f" {detail} " else "closed"
    end = (f"the client gave up and {how} the connection" if closer == "client" else
           f"then the server side {how} the connection (a firewall or load balancer can do this in its name)")
    yield _f(ctx, "no_server_hello", Severity.error,
             f"No ServerHello in {waited:.1f} s: the server, or a firewall on the way, did not answer the "
             f"ClientHello; {end}.",
             "Check that the server listens with TLS on this port and accepts this client (its logs), and the "
             "firewalls and load balancers on the way (TLS inspection, SNI filtering, an ACL that drops "
             "after the TCP handshake).", waited_s=round(waited, 3), closed_by=closer)


@check("handshake_reset")
def handshake_reset(ctx: FlowContext) -> Iterator[Finding]:
    f = ctx.flow
    if f.outcome == "reset" and not _no_server_hello(ctx) and not ctx.alert_may_be_missed():
        hint = "cipher/version mismatch, DH size on old SPA firmware, certificate" if provisioning_server(ctx) \
            else "cipher/version mismatch, certificate, key size"
        yield _f(ctx, "handshake_reset", Severity.error,
                 f"The handshake stopped: {f.outcome_detail}.",
                 f"A silent close usually means the peer disliked something it would not name: check "
                 f"its logs ({hint}).")


@check("certs_not_visible")
def certs_not_visible(ctx: FlowContext) -> Iterator[Finding]:
    f = ctx.flow
    if f.certs_visible or f.tls_version is None:
        return
    why = "resumed a previous session" if f.resumed else (
        "negotiated TLS 1.3, which encrypts certificates" if "1.3" in (f.tls_version or "") else None)
    if why is None:
        return
    yield _f(ctx, "certs_not_visible", Severity.info if f.outcome == "established" else Severity.warning,
             f"The certificates of this flow cannot be seen: it {why}.",
             "To see them, capture a full handshake (restart the client), force TLS 1.2 on a test "
             "client, or provide a key log file (SSLKEYLOGFILE).")
