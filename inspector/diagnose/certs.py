"""Certificate checks: the server's certificate (self-signed, ECDSA on CUCM), validity at the
capture's time (expired leaves and roots, the capture's clock), client certificates (LSC, MIC,
requested CAs, missing), keys and signatures (DH size for legacy phones, weak keys, SHA-1)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterator

from ..x509 import CertInfo, capf_id, client_cert_kind, known_ca_note, validity_at
from .core import (CERT_REJECTIONS, EXPRESSWAY_PORTS, PHONE_PORTS, CaptureContext, Finding,
                   FlowContext, Severity, capture_check, check)
from .core import finding as _f
from .eap import ISE_TRUST, eap_context, must_trust
from .context import cert_name, port_phrase, cucm_context, phone_context, provisioning_server


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
                 f"The server on {port_phrase(ctx)} presents a self-signed certificate: {cert_name(leaf)}.",
                 fix, cert=leaf.sha256)


@check("ecdsa_server_cert")
def ecdsa_server_cert(ctx: FlowContext) -> Iterator[Finding]:
    if not ctx.server_chain or ctx.server_chain[0].key_type != "EC" or not cucm_context(ctx):
        return
    leaf = ctx.server_chain[0]
    sev = Severity.error if ctx.fatal("client") else Severity.info
    yield _f(ctx, "ecdsa_server_cert", sev,
             f"The server presented an ECDSA certificate ({cert_name(leaf)}, {leaf.curve}) with "
             f"cipher {ctx.flow.cipher}. After a CUCM upgrade ECDSA suites may be preferred, so "
             f"the tomcat-ECDSA/CallManager-ECDSA certificate is served instead of the RSA one.",
             "Make the client trust the ECDSA certificate (upload it or have it CA-signed), or "
             "restrict the TLS ciphers to RSA suites on the server.", cert=leaf.sha256)


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
            label = f"{cert_name(c)}" + (f" ({note})" if note else "")
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
                     f"({cert_name(leaf)}, issued by {issuer}) for 802.1X ({f.protocol})" + (f"; the server rejected it ({rejection.code})." if rejection else "."),
                     "See eap_phone_cert_rejected." if rejection else
                     f"None needed; ISE must keep trusting {names} ({ISE_TRUST}).", cert=leaf.sha256)
        elif kind == "LSC":
            fix = (f"See {'unknown_ca' if rejection.code == 'unknown_ca' else 'the rejection'}: the server "
                   f"rejected this LSC with a fatal {rejection.code} alert." if rejection else
                   "None needed; if it is rejected, check that this CAPF is in CallManager-trust.")
            yield _f(ctx, "client_cert_lsc", Severity.info,
                     f"The phone authenticated with an LSC issued by {capf_id(leaf)} ({cert_name(leaf)})"
                     + (f"; the server rejected it ({rejection.code})." if rejection else "."),
                     fix, cert=leaf.sha256)
        elif kind == "MIC":
            fix = ("Install an LSC through CAPF if the security profile requires it; the MIC's "
                   "Cisco Manufacturing CA must be in CallManager-trust otherwise.")
            if rejection:
                fix = (f"The server rejected the MIC with a fatal {rejection.code} alert: upload "
                       f"{leaf.issuer_cn} (and its root) to CallManager-trust, or install an LSC through CAPF.")
            yield _f(ctx, "client_cert_mic", Severity.info,
                     f"The phone authenticated with its MIC ({cert_name(leaf)}, issued by {leaf.issuer_cn}): "
                     f"it has no LSC (console: PXY_NO_LSC ... trying MIC).", fix, cert=leaf.sha256)
        if f.requested_ca_names and leaf.issuer and leaf.issuer not in f.requested_ca_names \
                and not any(c.subject in f.requested_ca_names for c in ctx.client_chain[1:]):
            store = ("ISE's Trusted Certificates" if eap_context(ctx) else
                     "CallManager-trust for phones" if phone_context(ctx) else "its client CA list")
            yield _f(ctx, "client_cert_not_in_requested_cas", Severity.warning,
                     f"The client certificate's issuer ({leaf.issuer}) is not among the "
                     f"{len(f.requested_ca_names)} CA names the server listed in its CertificateRequest.",
                     f"Upload the issuing CA to the server's trust store ({store}), "
                     "or re-issue the client certificate from a CA the server lists.",
                     cert=leaf.sha256)
    elif f.client_cert_requested and "X" in (f.history or "") and f.certs_visible:
        phone = phone_context(ctx)
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



@check("dh_key_too_large_for_legacy")
def dh_key_too_large_for_legacy(ctx: FlowContext) -> Iterator[Finding]:
    bits = ctx.flow.dh_bits
    if bits is None or bits <= 1024 or not provisioning_server(ctx):
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
                         f"The {side} certificate {cert_name(c)} has a {c.key_bits}-bit {c.key_type} key.",
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
                     f"The {side} certificate {cert_name(c)} is signed with {c.signature_algorithm}; "
                     f"current clients reject SHA-1/MD5 signatures.",
                     "Re-issue it with a SHA-256 signature.", cert=c.sha256)
