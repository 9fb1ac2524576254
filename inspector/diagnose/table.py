"""The rule table: every finding code, the evidence it needs and the context where it applies.

One row per code, the single source of truth for what a code means: the README's findings
section is generated from it (``python -m inspector.diagnose``), ``tlsinspect --explain CODE``
prints a row, and the checks (`inspector.diagnose.checks`, `certs`, `names`, `eap`, `gaps`) may only emit codes listed here.  The checks
themselves are the functions in `checks`; each names the codes it emits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Scope = Literal["flow", "certificate", "capture"]


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    severity: str
    """The severity, or how it is chosen ("error; warning when the handshake succeeded")."""
    scope: Scope
    """``flow``: one finding per flow; ``certificate``: one finding per certificate, listing every
    flow that sent it (``flow_ids``); ``capture``: one finding for the whole capture."""
    applies: str
    """The context where the rule fires, and where it deliberately does not."""
    evidence: str
    """What in the capture it rests on (the keys of the finding's ``evidence``)."""
    message: str
    """An example message, as reported on the lab captures."""
    fix: str
    """The fix it gives."""


R = Rule
RULE_TABLE: tuple[Rule, ...] = (
    R("unknown_ca", "critical", "flow",
      "a fatal unknown_ca alert from either side",
      "alert and its frame, the rejected chain (SHA-256), its leaf subject; for an LSC the CAPF name and "
      "the server's CertificateRequest CA names",
      "The server rejected the client's certificate chain with a fatal Unknown CA alert: the phone presented "
      "an LSC issued by CAPF-0badc0de, which is not among the 3 CAs the server lists in its CertificateRequest: "
      "the phone probably moved from another cluster and kept that cluster's LSC.",
      "By cause: delete the old LSC or upload its CAPF to CallManager-trust; add a self-signed certificate to "
      "the peer's trust store; upload the missing CA chain."),
    R("certificate_rejected", "critical", "flow",
      "a fatal bad_certificate, certificate_unknown, certificate_expired, unsupported_certificate, "
      "certificate_revoked or access_denied alert; when another rule names the cause (the SNI or the "
      "address not in the certificate) the message points to it instead of a generic reason",
      "alert and its frame",
      "The client sent a fatal certificate_expired alert: a certificate in the chain expired or is not yet valid.",
      "Depends on the alert: renew, re-issue, fix the name, or check clocks."),
    R("no_common_parameters", "critical", "flow",
      "a fatal handshake_failure, protocol_version or insufficient_security alert",
      "alert and its frame",
      "The server sent a fatal protocol_version alert: the peer does not support the offered TLS version.",
      "Enable a TLS version and cipher suites both sides support."),
    R("fatal_alert", "critical", "flow",
      "any other fatal alert (decode_error, bad_record_mac, internal_error...)",
      "alert and its frame",
      "The server sent a fatal decode_error alert: the peer aborted the handshake.",
      "Check the peer's logs for the reason."),
    R("sni_not_in_cert", "error on 8443/6972 (Expressway-C verifies), else warning", "flow",
      "the leaf's SAN DNS/IP entries (CN only without SANs, RFC 6125 wildcards) do not cover the SNI; "
      "without an SNI, the name other flows to the same server asked for; a fatal unrecognized_name alert",
      "cert, sni (or name and the flows it was seen in)",
      "The client asked for 'cucm-pub.example.lab' (SNI) but the server certificate cucm1.example.lab covers "
      "only: cucm1.example.lab, 10.48.36.215. Expressway logs this as 'SNI (cucm-pub.example.lab) not in "
      "certificate'.",
      "Add the name to the certificate's SANs and re-issue it, or connect with a name it lists."),
    R("ip_not_in_cert", "error", "flow",
      "the client sent no SNI (it connected by address), rejected the certificate with a fatal "
      "bad_certificate or certificate_unknown, and the server address is not among the leaf's IP SANs; "
      "never on flows that were not rejected",
      "cert, server_ip, the alert, names other flows used for this server",
      "The client connected to 10.48.36.215 by address (no SNI), which is not among the certificate's SANs "
      "(cucm1.example.lab), and rejected it with a fatal bad_certificate alert.",
      "Add the IP address to the certificate's SANs (IP address entry) and re-issue it, or configure the "
      "client with the FQDN the certificate lists."),
    R("self_signed_server_cert", "error when the client rejected it, else warning", "certificate",
      "the server's chain is one self-signed certificate",
      "cert",
      "The server on port 5061 (SIP over TLS, phone -> CUCM) presents a self-signed certificate: "
      "cucm1.example.lab.",
      "Phones (5061/2443/3804): ITL/CTL; Expressway (8443/6972): its trusted CA list or a CA-signed "
      "certificate; elsewhere: prefer a CA-signed certificate."),
    R("ecdsa_server_cert", "error when the client rejected it, else info", "certificate",
      "an EC server certificate in a CUCM/Expressway context only: their ports (5061, 2443, 3804, 8443, "
      "6972) or their names (an '-EC' CN as CUCM names its ECDSA certificates, cucm/expressway/tomcat/"
      "callmanager in the names); never elsewhere, whatever the suite",
      "cert",
      "The server presented an ECDSA certificate (cucm-EC.steven.lab, secp256r1) with cipher "
      "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384. After a CUCM upgrade ECDSA suites may be preferred, so the "
      "tomcat-ECDSA/CallManager-ECDSA certificate is served instead of the RSA one.",
      "Make the client trust the ECDSA certificate, or restrict the server to RSA suites."),
    R("expired_cert", "critical", "certificate",
      "a leaf certificate expired at the flow's start (the capture's time, not today's)",
      "cert",
      "The server certificate www.spidh.org expired on 2014-03-04, before the capture (2014-03-13).",
      "Renew the certificate."),
    R("expired_in_chain", "error", "certificate",
      "a CA certificate in the chain expired at capture time, or the chain leads to an expired root "
      "known from the domain notes (AddTrust, 2020-05-30)",
      "cert, root",
      "The server chain leads to AddTrust External CA Root, a root that expired on 2020-05-30 (capture time "
      "2023-11-14). Clients that trust only that root (7800/8800 phones on firmware 12.7) reject it.",
      "Serve a chain to a current root and upgrade clients that only trust the expired one (phones: 12.8+)."),
    R("not_yet_valid", "error when a peer rejected the flow, else warning", "certificate",
      "a certificate not valid yet at capture time; not reported when capture_clock explains it (unless "
      "a peer rejected the flow)",
      "cert, rejected",
      "The server certificate early.example.lab is not valid until 2036-01-01 (capture time 2023-11-14), and "
      "the client rejected the flow.",
      "Rejected: check the clock (NTP) of the device that rejected it, or re-issue; accepted: check the "
      "capturing device's clock."),
    R("capture_clock", "warning", "capture",
      "most certificates seen are not valid yet at the capture's time (at least two, or a clock before 2000, "
      "or no flow rejected them): the capturing device's clock is wrong, not the certificates",
      "capture_time, certificates, not_yet_valid, example (a certificate); the flows in flow_ids",
      "The capture's clock reads 1970-01-31, before the validity of 3 of the 3 certificates seen: the clock "
      "of the device that captured was wrong, so validity is not judged against it.",
      "Set the capturing device's clock (NTP) and capture again; no certificate needs changing for this."),
    R("client_cert_lsc", "info", "flow",
      "the client's certificate is issued by a CAPF (CN CAPF- + 8 hex)",
      "cert",
      "The phone authenticated with an LSC issued by CAPF-a6d4c572 (SEP001122334455).",
      "None needed when accepted; when the server rejected it, the rejection's own finding gives the fix."),
    R("client_cert_mic", "info", "flow",
      "the client's certificate is issued by a Cisco manufacturing CA",
      "cert",
      "The phone authenticated with its MIC (SEP001122334455, issued by Cisco Manufacturing CA SHA2): it has "
      "no LSC (console: PXY_NO_LSC ... trying MIC).",
      "Install an LSC through CAPF if the security profile requires it."),
    R("client_cert_missing", "error when the handshake failed, else warning", "flow",
      "CertificateRequest, an empty client Certificate, and a handshake that did not succeed",
      "(the flow's frames)",
      "The server asked for a client certificate (CertificateRequest) and the client sent an empty "
      "Certificate message; the handshake then failed.",
      "Install a certificate on the client (phones, in phone contexts only: an LSC through CAPF, or check "
      "the MIC), or make client authentication optional."),
    R("client_cert_optional", "info", "flow",
      "CertificateRequest, an empty client Certificate, and an established session: the server asked "
      "but did not require one",
      "(the flow's frames)",
      "The server asked for a client certificate but did not require one: the client sent none and the "
      "handshake succeeded.",
      "None needed; phone advice (LSC/MIC) only in phone contexts (CUCM ports, Cisco issuers)."),
    R("client_cert_not_in_requested_cas", "warning", "flow",
      "the client's issuer (or any CA it sent) is not among the CertificateRequest's CA names",
      "cert",
      "The client certificate's issuer (CN=CAPF-0badc0de,...) is not among the 3 CA names the server listed "
      "in its CertificateRequest.",
      "Upload the issuing CA to the server's trust store, or re-issue from a CA it lists."),
    R("eap_phone_cert_rejected", "critical", "flow",
      "802.1X only (EAP-TLS/PEAP/EAP-TTLS in EAPOL or RADIUS), the client sent a phone certificate (LSC or "
      "MIC), and the server sent a fatal certificate alert (unknown_ca, bad_certificate...), or the "
      "authentication failed after the client's Certificate and before the server's Finished without any "
      "alert; replaces unknown_ca/certificate_rejected there (their fix is CallManager's, this one ISE's)",
      "cert, kind, must_trust (the CA names), alert and its frame, answer (Access-Reject or EAP-Failure)",
      "The RADIUS server 10.1.1.2 (ISE) rejected the phone's LSC (SEP001122334455, issued by CAPF-a6d4c572) "
      "with a fatal unknown_ca alert, then Access-Reject: it does not trust the CAPF certificate CAPF-a6d4c572.",
      "Import the CAPF certificate (LSC) or the Cisco manufacturing CA and its root (MIC: e.g. Cisco "
      "Manufacturing CA SHA2, Cisco Root CA 2048 / M2) into ISE's Trusted Certificates with 'Trust for client "
      "authentication and Syslog'; after a CAPF regeneration keep the old CAPF until every phone has a new LSC."),
    R("eap_server_cert_rejected", "critical", "flow",
      "802.1X only: the supplicant (the phone) sent a fatal certificate alert (unknown_ca, bad_certificate...) "
      "about ISE's EAP certificate; replaces unknown_ca/certificate_rejected there",
      "cert (ISE's leaf), root, alert and its frame, answer",
      "The supplicant rejected ISE's EAP certificate ise.example.lab (issued by Example Lab Issuing CA) with a "
      "fatal unknown_ca alert, then Access-Reject: the supplicant's trust list lacks ISE's CA (Example Lab Root "
      "CA).",
      "Add ISE's root CA to the supplicant's trusted CAs, or give ISE an 'EAP Authentication' certificate "
      "from a CA the supplicant trusts."),
    R("eap_access_reject_policy", "error", "flow",
      "802.1X only: the outer TLS handshake completed (both Finished messages), no TLS alert, and the "
      "authentication still ended in Access-Reject or EAP-Failure; never when an alert was sent",
      "answer, protocol",
      "The EAP-TLS handshake completed (both Finished messages, no TLS alert) and the RADIUS server 10.1.1.2 "
      "(ISE) then answered Access-Reject: the certificates were accepted (SEP001122334455, LSC); ISE's "
      "authentication or authorization policy refused it. This is policy, not certificate trust.",
      "Read the failure reason in ISE's RADIUS live log: the identity source, certificate authentication "
      "profile or authorization rule (PEAP/EAP-TTLS: the inner method's credentials)."),
    R("dh_key_too_large_for_legacy", "error; warning when established", "flow",
      "DHE prime over 1024 bits in a SPA/ATA provisioning context only: the Cisco Small Business, Linksys or "
      "Sipura CAs in either chain (SPA/ATA device certificates included); never on other DHE flows, silent "
      "closes on 443 included",
      "dh_bits",
      "The provisioning server chose DHE with a 2048-bit prime. Older SPA/ATA firmware refuses "
      "Diffie-Hellman keys larger than 1024 bits, silently.",
      "Prefer ECDHE or RSA key exchange for these devices, or upgrade their firmware."),
    R("weak_key", "warning", "certificate",
      "RSA/DSA keys under 2048 bits, EC under 224 (one finding per certificate); a DHE prime under 1024 "
      "bits (per flow)",
      "cert, or dh_bits",
      "The server certificate prov.example.lab has a 1024-bit RSA key.",
      "Re-issue with RSA 2048+ or ECDSA P-256+; use 2048-bit DH parameters or ECDHE."),
    R("sha1_signature", "warning", "certificate",
      "a certificate below the trust anchor signed with SHA-1 or MD5; never roots (self-issued) or "
      "cross-certificates of roots that clients hold as anchors (their signature is never checked)",
      "cert",
      "The server certificate Example SHA-1 Issuing CA is signed with sha1WithRSAEncryption; current clients "
      "reject SHA-1/MD5 signatures.",
      "Re-issue it with a SHA-256 signature."),
    R("no_server_hello", "error", "flow",
      "a ClientHello that got no ServerHello before the connection closed (FIN or RST); not when the capture "
      "missed 7 bytes or more from the server (capture_missed_bytes)",
      "waited_s, closed_by",
      "No ServerHello in 2.0 s: the server, or a firewall on the way, did not answer the ClientHello; the "
      "client closed the connection.",
      "Check that the server listens with TLS on this port, and the firewalls and load balancers on the way "
      "(a TLS inspection policy, SNI filtering)."),
    R("handshake_reset", "error", "flow",
      "RST or FIN after the server answered, before the handshake ended, with no alert; not when the capture "
      "missed 7 bytes or more (an alert record) from either side (capture_missed_bytes)",
      "(the flow's frames)",
      "The handshake stopped: client closed the connection after the server's ServerHelloDone without an "
      "alert.",
      "A silent close means the peer disliked something it would not name: check its logs."),
    R("capture_missed_bytes", "warning; info when established", "flow",
      "a peer acknowledged bytes the capture does not hold (tshark: ACKed unseen segment), during the "
      "handshake; with 7 bytes or more (an alert record) from either side, handshake_reset and "
      "no_server_hello do not fire: the missing bytes may have held the alert or the answer",
      "missed_client_bytes, missed_server_bytes (the flow's capture_missed_bytes events)",
      "The capture missed 517 bytes from the server (the client acknowledged the server's, which are not in "
      "the capture): an alert may have been among them, so the capture cannot tell how the handshake ended.",
      "Capture on the host itself, or from a SPAN/mirror port without drops (check the capture's drop "
      "counters), then look again."),
    R("certs_not_visible", "info when established, else warning", "flow",
      "TLS 1.3 (certificates encrypted) or a resumed session, without a key log",
      "(the flow's frames)",
      "The certificates of this flow cannot be seen: it negotiated TLS 1.3, which encrypts certificates.",
      "Capture a full handshake, force TLS 1.2 on a test client, or provide a key log file."),
)
RULES_BY_CODE: dict[str, Rule] = {r.code: r for r in RULE_TABLE}
CERTIFICATE_SCOPED = frozenset(r.code for r in RULE_TABLE if r.scope == "certificate")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def rules_markdown() -> str:
    """The README's findings table, generated from `RULE_TABLE`."""
    out = ["| code | severity | scope | applies when | example |", "|---|---|---|---|---|"]
    for r in RULE_TABLE:
        out.append(f"| `{r.code}` | {_cell(r.severity)} | {r.scope} | {_cell(r.applies)} | {_cell(r.message)} |")
    return "\n".join(out) + "\n"


def explain(code: str) -> str:
    """One rule in words, for ``tlsinspect --explain CODE``; KeyError for an unknown code."""
    r = RULES_BY_CODE[code]
    scope = {"flow": "one finding per flow",
             "certificate": "one finding per certificate, listing the flows that sent it",
             "capture": "one finding for the whole capture"}[r.scope]
    return "\n".join((
        f"{r.code}",
        f"  severity:     {r.severity}",
        f"  scope:        {scope}",
        f"  applies when: {r.applies}",
        f"  evidence:     {r.evidence}",
        f"  example:      {r.message}",
        f"  fix:          {r.fix}",
    ))
