"""Flows and certificates -> findings: a named cause and a fix for what went wrong.

Each rule is a small registered function ``rule(ctx) -> Iterable[Finding]`` over one flow's
`FlowContext` (the flow row, its chains as `CertInfo`, its alert events); one concern per rule.
Codes are stable snake_case strings (documented in the README); severities sort the report.
The wording follows the domain notes (Cisco CUCM/Expressway/phone documents in shared/domain).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import IntEnum
from typing import Callable, Iterable, Iterator

from .certs import CertInfo, capf_id, hostname_matches, client_cert_kind, known_ca_note, validity_at
from .engine import Analysis
from .flows import EventRecord, FlowRecord


class Severity(IntEnum):
    info = 0
    warning = 1
    error = 2
    critical = 3


@dataclass(frozen=True, slots=True)
class Finding:
    flow_id: int | None
    code: str
    severity: Severity
    message: str
    fix: str
    evidence: dict = field(default_factory=dict)


@dataclass(slots=True)
class FlowContext:
    flow: FlowRecord
    server_chain: list[CertInfo]
    client_chain: list[CertInfo]
    alerts: list[EventRecord]

    @property
    def when(self) -> datetime:
        return datetime.fromtimestamp(self.flow.ts_start, tz=timezone.utc)

    @property
    def service(self) -> str:
        return SERVICES.get(self.flow.server_port, f"port {self.flow.server_port}")


SERVICES = {
    5061: "SIP over TLS (phone -> CUCM)", 2443: "SCCP over TLS (phone -> CUCM)",
    3804: "CAPF (phone -> CUCM CAPF)", 8443: "Tomcat HTTPS (Expressway-C -> CUCM/IM&P/Unity)",
    6972: "TFTP over HTTPS (Expressway-C -> CUCM)", 443: "HTTPS (provisioning / MRA edge)",
}
PHONE_PORTS = frozenset((5061, 2443, 3804))
EXPRESSWAY_PORTS = frozenset((8443, 6972))

Rule = Callable[[FlowContext], Iterable[Finding]]
RULES: list[Rule] = []


def rule(fn: Rule) -> Rule:
    RULES.append(fn)
    return fn


def _f(ctx: FlowContext, code: str, severity: Severity, message: str, fix: str, **evidence) -> Finding:
    ev = {"frames": [ctx.flow.first_frame, ctx.flow.last_frame]}
    ev.update({k: v for k, v in evidence.items() if v is not None})
    return Finding(ctx.flow.flow_id, code, severity, message, fix, ev)


def _name(c: CertInfo) -> str:
    return c.subject_cn or c.subject or c.sha256[:16]


def _rejecting_alert(ctx: FlowContext, description: str) -> tuple[str, int | None] | None:
    for a in ctx.alerts:
        if a.code == description and a.detail.startswith("fatal"):
            return a.sender or "?", a.frame
    return None


# ---- unknown CA ------------------------------------------------------------------------------

@rule
def unknown_ca(ctx: FlowContext) -> Iterator[Finding]:
    hit = _rejecting_alert(ctx, "unknown_ca")
    if hit is None:
        return
    sender, frame = hit
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
        fix = (f"Add {_name(leaf)} to the {sender}'s trust store (e.g. Expressway-C trusted CA list, "
               f"or CUCM tomcat-trust/CallManager-trust), or have it signed by a CA the {sender} trusts.")
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

@rule
def self_signed_server_cert(ctx: FlowContext) -> Iterator[Finding]:
    if len(ctx.server_chain) == 1 and ctx.server_chain[0].self_signed:
        leaf = ctx.server_chain[0]
        rejected = any(a.sender == "client" and a.detail.startswith("fatal") for a in ctx.alerts)
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
                 f"The server ({ctx.service}) presents a self-signed certificate: {_name(leaf)}.",
                 fix, cert=leaf.sha256)


@rule
def ecdsa_server_cert(ctx: FlowContext) -> Iterator[Finding]:
    if not ctx.server_chain or ctx.server_chain[0].key_type != "EC":
        return
    leaf = ctx.server_chain[0]
    ec_name = "-EC" in (leaf.subject_cn or "") or "ECDSA" in (ctx.flow.cipher or "")
    if ctx.flow.server_port in EXPRESSWAY_PORTS | PHONE_PORTS or ec_name:
        rejected = any(a.sender == "client" and a.detail.startswith("fatal") for a in ctx.alerts)
        sev = Severity.error if rejected else Severity.info
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


@rule
def sni_not_in_cert(ctx: FlowContext) -> Iterator[Finding]:
    f = ctx.flow
    if not ctx.server_chain or not f.sni:
        return
    leaf = ctx.server_chain[0]
    sni = f.sni
    as_ip = _ip(sni)
    if as_ip is not None:
        ok = any(_ip(x) == as_ip for x in leaf.san_ip) or (not leaf.san_dns and leaf.subject_cn == sni)
    else:
        names = list(leaf.san_dns) or ([leaf.subject_cn] if leaf.subject_cn else [])
        ok = any(hostname_matches(n, sni) for n in names)
    if ok:
        return
    shown = ", ".join(list(leaf.san_dns) + list(leaf.san_ip)) or f"CN={leaf.subject_cn}"
    yield _f(ctx, "sni_not_in_cert", Severity.error if f.server_port in EXPRESSWAY_PORTS else Severity.warning,
             f"The client asked for '{sni}' (SNI) but the server certificate {_name(leaf)} covers only: "
             f"{shown}. Expressway logs this as 'SNI ({sni}) not in certificate'.",
             f"Add '{sni}' to the certificate's Subject Alternative Names "
             f"({'IP address' if as_ip else 'DNS name'}) and re-issue it, or make the client connect "
             f"with a name the certificate lists.", cert=leaf.sha256, sni=sni)


# ---- validity at capture time ---------------------------------------------------------------

#: Roots known from the domain notes to have expired, by CN -> end of validity (UTC).
EXPIRED_ROOTS = {
    "AddTrust External CA Root": datetime(2020, 5, 30, 10, 48, 38, tzinfo=timezone.utc),
    "AddTrust Class 1 CA Root": datetime(2020, 5, 30, 10, 38, 31, tzinfo=timezone.utc),
}

@rule
def validity(ctx: FlowContext) -> Iterator[Finding]:
    when = ctx.when
    for side, chain in (("server", ctx.server_chain), ("client", ctx.client_chain)):
        for pos, c in enumerate(chain):
            state = validity_at(c, when)
            if state == "valid" or state == "unknown":
                continue
            note = known_ca_note(c)
            label = f"{_name(c)}" + (f" ({note})" if note else "")
            if state == "not_yet_valid":
                yield _f(ctx, "not_yet_valid", Severity.error,
                         f"The {side} certificate {label} is not valid until {c.not_before:%Y-%m-%d} "
                         f"(capture time {when:%Y-%m-%d}).",
                         "Check the clock (NTP) of the device that rejected it, or re-issue the certificate.",
                         cert=c.sha256)
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


# ---- client certificates --------------------------------------------------------------------

@rule
def client_cert(ctx: FlowContext) -> Iterator[Finding]:
    f = ctx.flow
    if ctx.client_chain:
        leaf = ctx.client_chain[0]
        kind = client_cert_kind(leaf)
        if kind == "LSC":
            yield _f(ctx, "client_cert_lsc", Severity.info,
                     f"The phone authenticated with an LSC issued by {capf_id(leaf)} ({_name(leaf)}).",
                     "None needed; if it is rejected, check that this CAPF is in CallManager-trust.",
                     cert=leaf.sha256)
        elif kind == "MIC":
            yield _f(ctx, "client_cert_mic", Severity.info,
                     f"The phone authenticated with its MIC ({_name(leaf)}, issued by {leaf.issuer_cn}): "
                     f"it has no LSC (console: PXY_NO_LSC ... trying MIC).",
                     "Install an LSC through CAPF if the security profile requires it; the MIC's "
                     "Cisco Manufacturing CA must be in CallManager-trust otherwise.", cert=leaf.sha256)
        if f.requested_ca_names and leaf.issuer and leaf.issuer not in f.requested_ca_names \
                and not any(c.subject in f.requested_ca_names for c in ctx.client_chain[1:]):
            yield _f(ctx, "client_cert_not_in_requested_cas", Severity.warning,
                     f"The client certificate's issuer ({leaf.issuer}) is not among the "
                     f"{len(f.requested_ca_names)} CA names the server listed in its CertificateRequest.",
                     "Upload the issuing CA to the server's trust store (CallManager-trust for phones), "
                     "or re-issue the client certificate from a CA the server lists.",
                     cert=leaf.sha256)
    elif f.client_cert_requested and "X" in (f.history or "") and f.certs_visible:
        yield _f(ctx, "client_cert_missing", Severity.error if f.outcome == "failed" else Severity.warning,
                 "The server asked for a client certificate (CertificateRequest) and the client sent "
                 "an empty Certificate message.",
                 "Install a certificate on the client (for phones: an LSC through CAPF, or check the MIC), "
                 "or make the server's client authentication optional.")


# ---- key exchange and keys ------------------------------------------------------------------

def _provisioning(ctx: FlowContext) -> bool:
    for c in ctx.server_chain + ctx.client_chain:
        note = known_ca_note(c) or ""
        if "Small Business" in note or "Linksys" in note or "Sipura" in note:
            return True
    return False


@rule
def dh_key_too_large_for_legacy(ctx: FlowContext) -> Iterator[Finding]:
    bits = ctx.flow.dh_bits
    if bits is None or bits <= 1024:
        return
    f = ctx.flow
    silent_close = (f.outcome == "reset" and (f.outcome_detail or "").startswith("client")
                    and "ServerHelloDone" in (f.outcome_detail or ""))
    if _provisioning(ctx) or (f.server_port == 443 and silent_close):
        yield _f(ctx, "dh_key_too_large_for_legacy", Severity.error if ctx.flow.outcome != "established" else Severity.warning,
                 f"The provisioning server chose DHE with a {bits}-bit prime. Older SPA/ATA firmware "
                 f"refuses Diffie-Hellman keys larger than 1024 bits, silently.",
                 "Prefer ECDHE or RSA key exchange for these devices, or upgrade their firmware.",
                 dh_bits=bits)


@rule
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


@rule
def sha1_signature(ctx: FlowContext) -> Iterator[Finding]:
    for side, chain in (("server", ctx.server_chain), ("client", ctx.client_chain)):
        for c in chain:
            if c.signature_hash in ("sha1", "md5") and not c.self_signed:
                yield _f(ctx, "sha1_signature", Severity.warning,
                         f"The {side} certificate {_name(c)} is signed with {c.signature_algorithm}; "
                         f"current clients reject SHA-1/MD5 signatures.",
                         "Re-issue it with a SHA-256 signature.", cert=c.sha256)


# ---- how the handshake ended ----------------------------------------------------------------

ALERT_HINTS = {
    "bad_certificate": ("certificate_rejected", "the certificate was corrupt or its signature did not verify",
                        "Check the chain the peer sends (order, intermediates) and re-issue if needed."),
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


@rule
def fatal_alert(ctx: FlowContext) -> Iterator[Finding]:
    """Fatal alerts other than unknown_ca, which has its own rule."""
    for a in ctx.alerts:
        if not a.detail.startswith("fatal") or a.code == "unknown_ca":
            continue
        code, why, fix = ALERT_HINTS.get(a.code, ("fatal_alert", "the peer aborted the handshake",
                                                  "Check the peer's logs for the reason."))
        if a.code in ("bad_certificate", "certificate_unknown") and a.sender == "client" \
                and any(True for _ in sni_not_in_cert(ctx)):
            why = (f"the certificate does not cover the name it asked for ('{ctx.flow.sni}'), "
                   f"see sni_not_in_cert")
            fix = f"Add '{ctx.flow.sni}' to the server certificate's SANs, or connect with a listed name."
        yield _f(ctx, code, Severity.critical,
                 f"The {a.sender} sent a fatal {a.code} alert: {why}.", fix,
                 alert=f"{a.sender}:fatal:{a.code}", alert_frame=a.frame)

@rule
def handshake_reset(ctx: FlowContext) -> Iterator[Finding]:
    f = ctx.flow
    if f.outcome == "reset":
        yield _f(ctx, "handshake_reset", Severity.error,
                 f"The handshake stopped: {f.outcome_detail}.",
                 "A silent close usually means the peer disliked something it would not name: check "
                 "its logs (cipher/version mismatch, DH size on old SPA firmware, certificate).")


@rule
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


# ---- running the rules ----------------------------------------------------------------------

def contexts(analysis: Analysis) -> Iterator[FlowContext]:
    return flow_contexts(analysis.flows, analysis.certificates, analysis.events)


def flow_contexts(flows: Iterable[FlowRecord], certificates: dict, events: Iterable[EventRecord]
                  ) -> Iterator[FlowContext]:
    """Contexts for some flows, given the certificates seen (sha256 -> CertSeen) and their events."""
    certs = {fp: seen.info for fp, seen in certificates.items()}
    alerts: dict[int, list[EventRecord]] = {}
    for e in events:
        if e.kind == "alert" and e.flow_id is not None:
            alerts.setdefault(e.flow_id, []).append(e)
    for f in flows:
        yield FlowContext(f, [certs[fp] for fp in f.server_chain_sha256 if fp in certs],
                          [certs[fp] for fp in f.client_chain_sha256 if fp in certs],
                          alerts.get(f.flow_id, []))


def diagnose(analysis: Analysis, rules: Iterable[Rule] = RULES) -> list[Finding]:
    """All findings of a capture, most severe first (then by flow)."""
    return diagnose_contexts(contexts(analysis), rules)


def diagnose_contexts(ctxs: Iterable[FlowContext], rules: Iterable[Rule] = RULES) -> list[Finding]:
    rules = list(rules)
    out: list[Finding] = []
    for ctx in ctxs:
        for r in rules:
            out.extend(r(ctx))
    out.sort(key=lambda x: (-x.severity, x.flow_id or 0, x.code))
    return out
