"""The checks: flows and certificates -> findings, a named cause and a fix for what went wrong.

Each check is a small registered function over one flow's `FlowContext` (the flow row, its
chains as `CertInfo`, its alert events, and ``ctx.capture``); one concern per check, and only the
codes it names in ``@check(...)``, each a row of `table.RULE_TABLE` (what it needs, where it
applies).  The wording follows the domain notes (Cisco CUCM/Expressway/phone documents in
shared/domain).  A check states a cause only where its context holds: a Cisco-specific
explanation never fires on traffic that shows no Cisco context.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime, timezone
from typing import Iterator

from ..x509 import CertInfo, capf_id, client_cert_kind, hostname_matches, known_ca_note, validity_at
from .core import (CERT_REJECTIONS, EXPRESSWAY_PORTS, PHONE_PORTS, SERVICES, CaptureContext, Finding,
                   FlowContext, Severity, capture_check, check)
from .core import finding as _f
from ..domain import CUCM_PORTS, is_provisioning_note
from .eap import ISE_TRUST, covers_client_alert, covers_server_alert, eap_context, must_trust

_CUCM_NAMES = re.compile(r"cucm|callmanager|tomcat|expressway|-ec\.", re.I)


def _name(c: CertInfo) -> str:
    return c.subject_cn or c.subject or c.sha256[:16]


def _where(ctx: FlowContext) -> str:
    """"port 5061 (SIP over TLS, phone -> CUCM)" on the Cisco service ports, else "port N"."""
    port = ctx.flow.server_port
    return f"port {port}, {SERVICES[port]}," if port in CUCM_PORTS else f"port {port}"


def _rejecting_alert(ctx: FlowContext, description: str) -> tuple[str, int | None] | None:
    for a in ctx.fatal():
        if a.code == description:
            return a.sender or "?", a.frame
    return None


def _cucm_context(ctx: FlowContext) -> bool:
    """CUCM/Expressway: their ports, or their names in the SNI or the server certificate."""
    if ctx.flow.server_port in CUCM_PORTS:
        return True
    names = [ctx.flow.sni or ""]
    if ctx.server_chain:
        leaf = ctx.server_chain[0]
        names += [leaf.subject_cn or "", *leaf.san_dns]
    return any(_CUCM_NAMES.search(n) for n in names)


def _phone_context(ctx: FlowContext) -> bool:
    """Phones: the CUCM phone ports, or a Cisco-issued client certificate (LSC, MIC) or server chain."""
    if ctx.flow.server_port in PHONE_PORTS:
        return True
    if ctx.client_chain and client_cert_kind(ctx.client_chain[0]) in ("LSC", "MIC"):
        return True
    return any(capf_id(c) for c in ctx.server_chain + ctx.client_chain) or \
        any(("CAPF-" in n or "Cisco Manufacturing" in n) for n in ctx.flow.requested_ca_names)


# ---- unknown CA ------------------------------------------------------------------------------

@check("unknown_ca")
def unknown_ca(ctx: FlowContext) -> Iterator[Finding]:
    hit = _rejecting_alert(ctx, "unknown_ca")
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
        why = (f"{who}: the {side} sent a self-signed certificate ({_name(leaf)}) that the {sender} "
               f"does not trust.")
        if _cucm_context(ctx):
            stores = " (e.g. Expressway-C trusted CA list, or CUCM tomcat-trust/CallManager-trust)"
        else:
            stores = ""
        fix = (f"Add {_name(leaf)} to the {sender}'s trust store{stores}, or have it signed by a CA the "
               f"{sender} trusts.")
        yield _f(ctx, "unknown_ca", Severity.critical, why, fix, **evidence)
        return
    note = known_ca_note(top) if top else None
    why = (f"{who}: the chain ends at {_name(top)}"
           + (f" ({note})" if note else "")
           + (f", issued by '{top.issuer_cn}', which the {side} did not send"
              if top and not top.self_issued and top.issuer_cn else "")
           + f", and that CA is not in the {sender}'s trust store.")
    fix = (f"Upload the CA chain of {_name(leaf)} (the intermediates and the root"
           + (f" '{top.issuer_cn}'" if top and not top.self_issued and top.issuer_cn else "")
           + f") to the {sender}'s trust store, or have the {side} send its full chain.")
    yield _f(ctx, "unknown_ca", Severity.critical, why, fix, **evidence)


# ---- the server certificate -----------------------------------------------------------------

@check("self_signed_server_cert")
def self_signed_server_cert(ctx: FlowContext) -> Iterator[Finding]:
    if len(ctx.server_chain) == 1 and ctx.server_chain[0].self_signed:
        leaf = ctx.server_chain[0]
        rejected = bool(ctx.fatal("client"))
        sev = Severity.error if rejected else Severity.warning
        port = ctx.flow.server_port
        if port in PHONE_PORTS:
            fix = ("Phones trust the CallManager certificate through their ITL/CTL files, so a "
                   "self-signed CallManager certificate is normal; if phones reject it after it was "
                   "regenerated, reset their ITL (or update the CTL) so they learn the new one.")
        elif port in EXPRESSWAY_PORTS:
            fix = ("Upload it to the Expressway-C trusted CA list, or better have CUCM's tomcat "
                   "certificate CA-signed (two self-signed certificates with the same CN cannot both "
                   "be in the Expressway trust store).")
        else:
            fix = "Clients must trust this exact certificate; prefer a CA-signed certificate."
        yield _f(ctx, "self_signed_server_cert", sev,
                 f"The server on {_where(ctx)} presents a self-signed certificate: {_name(leaf)}.",
                 fix, cert=leaf.sha256)


@check("ecdsa_server_cert")
def ecdsa_server_cert(ctx: FlowContext) -> Iterator[Finding]:
    if not ctx.server_chain or ctx.server_chain[0].key_type != "EC" or not _cucm_context(ctx):
        return
    leaf = ctx.server_chain[0]
    sev = Severity.error if ctx.fatal("client") else Severity.info
    yield _f(ctx, "ecdsa_server_cert", sev,
             f"The server presented an ECDSA certificate ({_name(leaf)}, {leaf.curve}) with "
             f"cipher {ctx.flow.cipher}. After a CUCM upgrade ECDSA suites may be preferred, so "
             f"the tomcat-ECDSA/CallManager-ECDSA certificate is served instead of the RSA one.",
             "Make the client trust the ECDSA certificate (upload it or have it CA-signed), or "
             "restrict the TLS ciphers to RSA suites on the server.", cert=leaf.sha256)


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
                 f"The client asked for '{sni}' (SNI) but the server certificate {_name(leaf)} covers only: "
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
                 f"{', '.join(map(str, elsewhere[name]))}), which the server certificate {_name(leaf)} does "
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


# ---- validity at capture time ---------------------------------------------------------------

#: Roots known from the domain notes to have expired, by CN -> end of validity (UTC).
EXPIRED_ROOTS = {
    "AddTrust External CA Root": datetime(2020, 5, 30, 10, 48, 38, tzinfo=timezone.utc),
    "AddTrust Class 1 CA Root": datetime(2020, 5, 30, 10, 38, 31, tzinfo=timezone.utc),
}


@check("not_yet_valid", "expired_cert", "expired_in_chain")
def validity(ctx: FlowContext) -> Iterator[Finding]:
    when = ctx.when
    rejected = ctx.rejected_certificate()
    for side, chain in (("server", ctx.server_chain), ("client", ctx.client_chain)):
        for pos, c in enumerate(chain):
            state = validity_at(c, when)
            if state == "valid" or state == "unknown":
                continue
            note = known_ca_note(c)
            label = f"{_name(c)}" + (f" ({note})" if note else "")
            if state == "not_yet_valid":
                if ctx.capture.clock_wrong and not rejected:
                    continue  # capture_clock says it once: the capturing device's clock is wrong
                if rejected:
                    yield _f(ctx, "not_yet_valid", Severity.error,
                             f"The {side} certificate {label} is not valid until {c.not_before:%Y-%m-%d} "
                             f"(capture time {when:%Y-%m-%d}), and the flow was rejected.",
                             "Check the clock (NTP) of the device that rejected it, or re-issue the certificate "
                             "with a validity that has started.", cert=c.sha256, rejected=True)
                else:
                    yield _f(ctx, "not_yet_valid", Severity.warning,
                             f"The {side} certificate {label} is not valid until {c.not_before:%Y-%m-%d} "
                             f"(capture time {when:%Y-%m-%d}); no peer rejected it.",
                             "Check the clock of the device that captured (the peers did not object); "
                             "if the capture's time is right, re-issue the certificate.",
                             cert=c.sha256, rejected=False)
            elif pos == 0:
                yield _f(ctx, "expired_cert", Severity.critical,
                         f"The {side} certificate {label} expired on {c.not_after:%Y-%m-%d}, before the "
                         f"capture ({when:%Y-%m-%d}).", f"Renew the {side} certificate.", cert=c.sha256)
            else:
                yield _f(ctx, "expired_in_chain", Severity.error,
                         f"The {side} chain contains {label}, expired on {c.not_after:%Y-%m-%d} "
                         f"(capture time {when:%Y-%m-%d}). Clients that only trust it fail "
                         f"(e.g. 7800/8800 phones on firmware 12.7 with AddTrust roots).",
                         "Serve a chain to a current root (e.g. the cross-signed USERTrust/Sectigo root) "
                         "and upgrade clients that only trust the expired one (phones: firmware 12.8+).",
                         cert=c.sha256)
        top = chain[-1] if chain else None
        if top is not None and not top.self_issued and top.issuer_cn in EXPIRED_ROOTS \
                and EXPIRED_ROOTS[top.issuer_cn] < when:
            yield _f(ctx, "expired_in_chain", Severity.error,
                     f"The {side} chain leads to {top.issuer_cn}, a root that expired on "
                     f"{EXPIRED_ROOTS[top.issuer_cn]:%Y-%m-%d} (capture time {when:%Y-%m-%d}). Clients that "
                     f"trust only that root (7800/8800 phones on firmware 12.7) reject it.",
                     "Have the server send a chain to a current root (USERTrust/Sectigo) and upgrade the "
                     "phones to firmware 12.8 or later.", cert=top.sha256, root=top.issuer_cn)


@capture_check("capture_clock")
def capture_clock(cap: CaptureContext, ctxs: list[FlowContext]) -> Iterator[Finding]:
    if not cap.clock_wrong:
        return
    c = cap.clock
    when = datetime.fromisoformat(c["capture_time"])
    flows = cap.clock_flows
    yield Finding(flows[0] if flows else None, "capture_clock", Severity.warning,
                  f"The capture's clock reads {when:%Y-%m-%d}, before the validity of {c['not_yet_valid']} of the "
                  f"{c['certificates']} certificates seen: the clock of the device that captured was wrong, so "
                  f"certificate validity is not judged against it.",
                  "Set the capturing device's clock (NTP) and capture again; no certificate needs changing "
                  "for this.", dict(c), flows)


# ---- client certificates --------------------------------------------------------------------

@check("client_cert_lsc", "client_cert_mic", "client_cert_not_in_requested_cas", "client_cert_missing",
       "client_cert_optional")
def client_cert(ctx: FlowContext) -> Iterator[Finding]:
    f = ctx.flow
    if ctx.client_chain:
        leaf = ctx.client_chain[0]
        kind = client_cert_kind(leaf)
        rejection = next((a for a in ctx.fatal("server") if a.code in CERT_REJECTIONS), None)
        if kind in ("LSC", "MIC") and eap_context(ctx):
            names, _ = must_trust(leaf, ctx.client_chain)
            issuer = capf_id(leaf) if kind == "LSC" else leaf.issuer_cn
            yield _f(ctx, f"client_cert_{kind.lower()}", Severity.info,
                     f"The phone {'presented' if rejection else 'authenticated with'} its {kind} "
                     f"({_name(leaf)}, issued by {issuer}) for 802.1X ({f.protocol})" + (f"; the server rejected it ({rejection.code})." if rejection else "."),
                     "See eap_phone_cert_rejected." if rejection else
                     f"None needed; ISE must keep trusting {names} ({ISE_TRUST}).", cert=leaf.sha256)
        elif kind == "LSC":
            fix = (f"See {'unknown_ca' if rejection.code == 'unknown_ca' else 'the rejection'}: the server "
                   f"rejected this LSC with a fatal {rejection.code} alert." if rejection else
                   "None needed; if it is rejected, check that this CAPF is in CallManager-trust.")
            yield _f(ctx, "client_cert_lsc", Severity.info,
                     f"The phone authenticated with an LSC issued by {capf_id(leaf)} ({_name(leaf)})"
                     + (f"; the server rejected it ({rejection.code})." if rejection else "."),
                     fix, cert=leaf.sha256)
        elif kind == "MIC":
            fix = ("Install an LSC through CAPF if the security profile requires it; the MIC's "
                   "Cisco Manufacturing CA must be in CallManager-trust otherwise.")
            if rejection:
                fix = (f"The server rejected the MIC with a fatal {rejection.code} alert: upload "
                       f"{leaf.issuer_cn} (and its root) to CallManager-trust, or install an LSC through CAPF.")
            yield _f(ctx, "client_cert_mic", Severity.info,
                     f"The phone authenticated with its MIC ({_name(leaf)}, issued by {leaf.issuer_cn}): "
                     f"it has no LSC (console: PXY_NO_LSC ... trying MIC).", fix, cert=leaf.sha256)
        if f.requested_ca_names and leaf.issuer and leaf.issuer not in f.requested_ca_names \
                and not any(c.subject in f.requested_ca_names for c in ctx.client_chain[1:]):
            store = ("ISE's Trusted Certificates" if eap_context(ctx) else
                     "CallManager-trust for phones" if _phone_context(ctx) else "its client CA list")
            yield _f(ctx, "client_cert_not_in_requested_cas", Severity.warning,
                     f"The client certificate's issuer ({leaf.issuer}) is not among the "
                     f"{len(f.requested_ca_names)} CA names the server listed in its CertificateRequest.",
                     f"Upload the issuing CA to the server's trust store ({store}), "
                     "or re-issue the client certificate from a CA the server lists.",
                     cert=leaf.sha256)
    elif f.client_cert_requested and "X" in (f.history or "") and f.certs_visible:
        phone = _phone_context(ctx)
        if f.outcome == "established":
            yield _f(ctx, "client_cert_optional", Severity.info,
                     "The server asked for a client certificate but did not require one: the client sent "
                     "none and the handshake succeeded.",
                     ("None needed. If this phone should authenticate with a certificate (mixed mode, "
                      "secure profile), install an LSC through CAPF." if phone else "None needed."))
            return
        fix = ("Install a certificate on the client (for phones: an LSC through CAPF, or check the MIC), "
               "or make the server's client authentication optional." if phone else
               "Install a client certificate from a CA the server trusts, or make the server's client "
               "authentication optional.")
        yield _f(ctx, "client_cert_missing", Severity.error if f.outcome == "failed" else Severity.warning,
                 "The server asked for a client certificate (CertificateRequest) and the client sent "
                 "an empty Certificate message; the handshake then "
                 + ("failed." if f.outcome == "failed" else "did not complete."), fix)


# ---- key exchange and keys ------------------------------------------------------------------

def _provisioning(ctx: FlowContext) -> bool:
    """SPA/ATA provisioning: a Cisco Small Business, Linksys or Sipura CA in either chain."""
    for c in ctx.server_chain + ctx.client_chain:
        if is_provisioning_note(known_ca_note(c)):
            return True
    return False


@check("dh_key_too_large_for_legacy")
def dh_key_too_large_for_legacy(ctx: FlowContext) -> Iterator[Finding]:
    bits = ctx.flow.dh_bits
    if bits is None or bits <= 1024 or not _provisioning(ctx):
        return
    yield _f(ctx, "dh_key_too_large_for_legacy",
             Severity.error if ctx.flow.outcome != "established" else Severity.warning,
             f"The provisioning server chose DHE with a {bits}-bit prime. Older SPA/ATA firmware "
             f"refuses Diffie-Hellman keys larger than 1024 bits, silently.",
             "Prefer ECDHE or RSA key exchange for these devices, or upgrade their firmware.",
             dh_bits=bits)


@check("weak_key")
def weak_key(ctx: FlowContext) -> Iterator[Finding]:
    for side, chain in (("server", ctx.server_chain), ("client", ctx.client_chain)):
        for c in chain:
            weak = (c.key_type in ("RSA", "DSA") and c.key_bits is not None and c.key_bits < 2048) or \
                   (c.key_type == "EC" and c.key_bits is not None and c.key_bits < 224)
            if weak:
                yield _f(ctx, "weak_key", Severity.warning,
                         f"The {side} certificate {_name(c)} has a {c.key_bits}-bit {c.key_type} key.",
                         "Re-issue it with RSA 2048+ or ECDSA P-256+.", cert=c.sha256)
    bits = ctx.flow.dh_bits
    if bits is not None and bits < 1024:
        yield _f(ctx, "weak_key", Severity.warning,
                 f"The server's DHE prime is only {bits} bits.", "Use 2048-bit DH parameters or ECDHE.",
                 dh_bits=bits)


#: Roots that clients held as trust anchors and that were also distributed as cross-certificates
#: (the same name and key, signed by an older root): a client that holds the root stops there and
#: never checks the cross-certificate's signature.  Matched on the CN (or the last OU without one).
ANCHOR_ROOT_NAMES = frozenset(n.lower() for n in (
    "VeriSign Class 3 Public Primary Certification Authority - G5",
    "VeriSign Class 3 Public Primary Certification Authority - G3",
    "VeriSign Universal Root Certification Authority",
    "GeoTrust Global CA", "GeoTrust Primary Certification Authority",
    "Go Daddy Class 2 Certification Authority", "Go Daddy Root Certificate Authority - G2",
    "Starfield Class 2 Certification Authority", "Starfield Root Certificate Authority - G2",
    "thawte Primary Root CA", "UTN-USERFirst-Hardware", "USERTrust RSA Certification Authority",
    "USERTrust ECC Certification Authority", "COMODO RSA Certification Authority",
    "AddTrust External CA Root", "Entrust Root Certification Authority - G2", "GlobalSign",
    "ISRG Root X1", "DigiCert Global Root G2",
))


def _anchor_name(c: CertInfo) -> str:
    if c.subject_cn:
        return c.subject_cn.strip().lower()
    for part in (c.subject or "").split(","):
        if part.startswith("OU="):
            return part[3:].strip().lower()
    return ""


@check("sha1_signature")
def sha1_signature(ctx: FlowContext) -> Iterator[Finding]:
    for side, chain in (("server", ctx.server_chain), ("client", ctx.client_chain)):
        for c in chain:
            if c.signature_hash not in ("sha1", "md5") or c.self_signed or c.self_issued:
                continue
            if c.is_ca and _anchor_name(c) in ANCHOR_ROOT_NAMES:
                continue  # a cross-certificate of a root clients hold: its signature is never checked
            yield _f(ctx, "sha1_signature", Severity.warning,
                     f"The {side} certificate {_name(c)} is signed with {c.signature_algorithm}; "
                     f"current clients reject SHA-1/MD5 signatures.",
                     "Re-issue it with a SHA-256 signature.", cert=c.sha256)


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
            why = (f"{_name(c)} is {'not valid yet' if state == 'not_yet_valid' else 'expired'} at the capture's "
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
        hint = "cipher/version mismatch, DH size on old SPA firmware, certificate" if _provisioning(ctx) \
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
