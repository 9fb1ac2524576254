"""802.1X: a phone (or any supplicant) authenticating by EAP-TLS, PEAP or EAP-TTLS to a RADIUS
server (ISE), seen in EAPOL on the switch port or inside RADIUS between the switch and ISE.

The same phone certificates as on 5061 (DOMAIN.md "The same certificates in other places"): ISE
must trust the CAPF for an LSC, the Cisco manufacturing CA for a MIC; the phone must trust the CA
of ISE's EAP certificate.  A rejection shows as a TLS alert inside EAP and an Access-Reject (or
EAP-Failure); an Access-Reject after a complete handshake with no alert is ISE's policy, not
certificate trust.  The generic rules (unknown_ca, certificate_rejected) stand aside where these
rules name the cause, so a fact is reported once, with ISE's fix rather than CallManager's.
"""

from __future__ import annotations

from typing import Iterator

from ..x509 import CertInfo, capf_id, client_cert_kind
from ..trust import CISCO_MIC_CA_NAMES
from .core import CERT_REJECTIONS, Finding, FlowContext, Severity, check
from .core import finding as _f

EAP_PROTOCOLS = frozenset(("EAP-TLS", "PEAP", "EAP-TTLS"))
MIC_ROOTS = tuple(n for n in CISCO_MIC_CA_NAMES if "Root" in n)  # Cisco Root CA 2048, Cisco Root CA M2
ISE_TRUST = ("ISE's Trusted Certificates (Administration > System > Certificates > Trusted Certificates) with "
             "'Trust for client authentication and Syslog' checked")
_TRUST_ALERTS = frozenset(("unknown_ca", "bad_certificate", "certificate_unknown"))


def eap_context(ctx: FlowContext) -> bool:
    """An 802.1X authentication: EAP-TLS/PEAP/EAP-TTLS in EAPOL or RADIUS."""
    return ctx.flow.transport == "eap" or ctx.flow.protocol in EAP_PROTOCOLS


def phone_cert_kind(ctx: FlowContext) -> str | None:
    """"LSC" or "MIC" when the client sent a phone certificate, else None."""
    if not ctx.client_chain:
        return None
    kind = client_cert_kind(ctx.client_chain[0])
    return kind if kind in ("LSC", "MIC") else None


def _handshake_complete(ctx: FlowContext) -> bool:
    """Both Finished messages (history letters F and f)."""
    history = ctx.flow.history or ""
    return "F" in history and "f" in history


def _server_rejection(ctx: FlowContext):
    return next((a for a in ctx.fatal("server") if a.code in CERT_REJECTIONS), None)


def covers_server_alert(ctx: FlowContext) -> bool:
    """eap_phone_cert_rejected reports the server's rejection of this flow's client certificate."""
    return eap_context(ctx) and phone_cert_kind(ctx) is not None and _server_rejection(ctx) is not None


def covers_client_alert(ctx: FlowContext) -> bool:
    """eap_server_cert_rejected reports the client's rejection of the server certificate."""
    return eap_context(ctx) and any(a.code in CERT_REJECTIONS for a in ctx.fatal("client"))


def _radius_server(ctx: FlowContext) -> str:
    f = ctx.flow
    if f.transport == "eap":  # EAPOL: the far end is the switch, which relays to ISE
        return "the authentication server (ISE, through the switch)"
    return f"the RADIUS server {f.server_ip} (ISE)"


def _answer(ctx: FlowContext) -> str:
    detail = ctx.flow.outcome_detail or ""
    for word in ("Access-Reject", "EAP-Failure"):
        if word in detail:
            return word
    return "a failure"


def must_trust(leaf: CertInfo, chain: list[CertInfo]) -> tuple[str, str]:
    """(the CA names the server must trust for this phone certificate, in words; the kind)."""
    kind = client_cert_kind(leaf)
    if kind == "LSC":
        return f"the CAPF certificate {capf_id(leaf)}", "LSC"
    issuer = leaf.issuer_cn or "the Cisco manufacturing CA"
    top = chain[-1] if chain else leaf
    if top is not leaf and top.issuer_cn and not top.self_issued:
        root = top.issuer_cn
    else:
        root = " or ".join(MIC_ROOTS)
    return f"{issuer} and its root {root}", "MIC"


@check("eap_phone_cert_rejected")
def eap_phone_cert_rejected(ctx: FlowContext) -> Iterator[Finding]:
    """ISE rejected the phone's LSC/MIC: a fatal certificate alert from the server, or a failure
    after the client sent its certificate and before the server's Finished, without any alert."""
    kind = phone_cert_kind(ctx)
    if not eap_context(ctx) or kind is None:
        return
    f = ctx.flow
    alert = _server_rejection(ctx)
    silent = (alert is None and f.outcome == "failed" and not ctx.fatal() and "X" in (f.history or "")
              and not _handshake_complete(ctx))
    if alert is None and not silent:
        return
    leaf = ctx.client_chain[0]
    names, _ = must_trust(leaf, ctx.client_chain)
    how = f"with a fatal {alert.code} alert, then {_answer(ctx)}" if alert else \
        f"with {_answer(ctx)} after the phone sent it, without a TLS alert"
    cert = f"{kind} ({leaf.subject_cn or leaf.subject}, issued by {leaf.issuer_cn})"
    if alert is None or alert.code in _TRUST_ALERTS:
        why = f"it does not trust {names}"
        fix = f"Import {names} into {ISE_TRUST}."
        if kind == "LSC":
            fix += (" After a CAPF regeneration keep the old CAPF certificate in ISE until every phone has an "
                    "LSC from the new one.")
    elif alert.code in ("certificate_expired", "certificate_revoked"):
        state = "expired" if alert.code == "certificate_expired" else "revoked"
        why = f"the certificate is {state} (or, for expired, not yet valid by ISE's clock)"
        fix = ("Renew the LSC through CAPF (Install/Upgrade)" if kind == "LSC" else
               "Install an LSC through CAPF (a MIC cannot be renewed)") + "; check ISE's clock (NTP)."
    else:
        why = f"ISE refused the certificate ({alert.code})"
        fix = (f"Check ISE's live log for the failure reason and its certificate authentication profile; "
               f"ISE must trust {names} ({ISE_TRUST}).")
    yield _f(ctx, "eap_phone_cert_rejected", Severity.critical,
             f"{_radius_server(ctx)[0].upper()}{_radius_server(ctx)[1:]} rejected the phone's {cert} "
             f"{how}: {why}.", fix,
             cert=leaf.sha256, kind=kind, must_trust=names,
             alert=f"server:fatal:{alert.code}" if alert else None, alert_frame=alert.frame if alert else None,
             answer=_answer(ctx))


@check("eap_server_cert_rejected")
def eap_server_cert_rejected(ctx: FlowContext) -> Iterator[Finding]:
    """The supplicant (the phone) rejected ISE's EAP certificate."""
    if not eap_context(ctx):
        return
    alert = next((a for a in ctx.fatal("client") if a.code in CERT_REJECTIONS), None)
    if alert is None:
        return
    # the phone's own certificate comes after ISE's: a phone that rejects ISE has not sent it yet
    who = "phone" if phone_cert_kind(ctx) else "supplicant"
    chain = ctx.server_chain
    leaf = chain[0] if chain else None
    top = chain[-1] if chain else None
    root = (top.issuer_cn if top is not None and not top.self_issued else (top.subject_cn if top else None))
    if leaf is None:
        cert = "ISE's EAP certificate (not visible)"
    else:
        cert = f"ISE's EAP certificate {leaf.subject_cn or leaf.subject}" + \
            (f" (issued by {leaf.issuer_cn})" if leaf.issuer_cn and not leaf.self_signed else " (self-signed)")
    if alert.code in _TRUST_ALERTS:
        why = f"the {who}'s trust list lacks ISE's CA" + (f" ({root})" if root else "")
        fix = (f"Add {root or 'the root CA of ISE’s EAP certificate'} to the {who}'s trusted CAs"
               + (" (for Cisco phones, through the CA certificates CUCM gives them)" if who == "phone" else "")
               + ", or give ISE an EAP Authentication certificate from a CA the "
               f"{who} already trusts (ISE: Administration > System > Certificates > System Certificates, "
               "usage 'EAP Authentication').")
    else:
        why = f"it refused the certificate ({alert.code})"
        fix = "Renew or re-issue ISE's EAP Authentication certificate; check the supplicant's clock (NTP)."
    yield _f(ctx, "eap_server_cert_rejected", Severity.critical,
             f"The {who} rejected {cert} with a fatal {alert.code} alert, then {_answer(ctx)}: {why}.", fix,
             cert=leaf.sha256 if leaf else None, root=root, alert=f"client:fatal:{alert.code}",
             alert_frame=alert.frame, answer=_answer(ctx))


@check("eap_access_reject_policy")
def eap_access_reject_policy(ctx: FlowContext) -> Iterator[Finding]:
    """A complete handshake (both Finished), no alert, and yet Access-Reject / EAP-Failure."""
    f = ctx.flow
    if not eap_context(ctx) or f.outcome != "failed" or ctx.fatal() or not _handshake_complete(ctx):
        return
    inner = f.protocol in ("PEAP", "EAP-TTLS")
    cause = ("the inner authentication (e.g. MSCHAPv2 user name and password) or ISE's policy failed"
             if inner else "ISE's authentication or authorization policy refused it")
    cert = ""
    if ctx.client_chain:
        leaf = ctx.client_chain[0]
        cert = f" ({leaf.subject_cn or leaf.subject}, {client_cert_kind(leaf)})"
    yield _f(ctx, "eap_access_reject_policy", Severity.error,
             f"The {f.protocol} handshake completed (both Finished messages, no TLS alert) and "
             f"{_radius_server(ctx)} then answered {_answer(ctx)}: the certificates were accepted"
             f"{cert}; {cause}. This is policy, not certificate trust.",
             "Read the failure reason of this authentication in ISE's RADIUS live log (Operations > RADIUS > "
             "Live Logs): the authentication policy's identity source or certificate authentication profile, "
             "the authorization rule that matched, or the endpoint's identity group.",
             answer=_answer(ctx), protocol=f.protocol)
