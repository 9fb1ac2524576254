"""Scenarios for the diagnosis rules: where each must fire, and the real-traffic look-alikes where
it must not (issue 11).  Every handshake is genuine OpenSSL output (`handshake.run_handshake`);
what is cut or re-timed afterwards is said in each docstring.

``DIAG_SCENARIOS[name]()`` returns a `Scenario`; ``diag_packets(name)`` frames it the way the
scenario needs (a 1970 clock, a two-second wait) for `pcapio.write_capture`.
"""

from __future__ import annotations

import datetime as dt
import ssl
from dataclasses import replace
from typing import Callable

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from . import pki
from .frames import Packet, merge, tcp_packets
from .handshake import client_context, run_handshake, server_context
from .scenarios import (CAPTURE_T0, EXPRESSWAY_C_IP, HTTP_GET, PHONE_IP, Scenario, _cut_after_server_flight,
                        _scenario, build_capture, flow_expect)

PRINTER_IP = "10.20.5.40"
WEB_IP = "192.0.2.80"
OFFICE_PC_IP = "10.20.1.15"
WEAK = "DEFAULT:@SECLEVEL=0"


def _sha1(identity: pki.Identity, issuer: pki.Identity | None) -> pki.Identity:
    """The same certificate (subject, key, extensions, validity, serial) re-signed with SHA-1 by
    ``issuer`` (itself when None)."""
    c = identity.cert
    builder = (x509.CertificateBuilder().subject_name(c.subject)
               .issuer_name(c.subject if issuer is None else issuer.cert.subject)
               .public_key(c.public_key()).serial_number(c.serial_number)
               .not_valid_before(c.not_valid_before_utc).not_valid_after(c.not_valid_after_utc))
    for ext in c.extensions:
        if isinstance(ext.value, x509.AuthorityKeyIdentifier) and issuer is not None:
            ski = x509.SubjectKeyIdentifier.from_public_key(issuer.key.public_key())
            builder = builder.add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski),
                                            critical=False)
        else:
            builder = builder.add_extension(ext.value, critical=ext.critical)
    signer = identity.key if issuer is None else issuer.key
    cert = _resign_sha1(builder.sign(signer, hashes.SHA256()), signer)
    if issuer is None:
        return pki.Identity(cert=cert, key=identity.key, chain=[cert], root=cert)
    return pki.Identity(cert=cert, key=identity.key, chain=[cert, *issuer.chain], root=issuer.root)


_SHA256_RSA = bytes.fromhex("300d06092a864886f70d01010b0500")
_SHA1_RSA = bytes.fromhex("300d06092a864886f70d0101050500")


def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    size = (n.bit_length() + 7) // 8
    return bytes([0x80 | size]) + n.to_bytes(size, "big")


def _resign_sha1(cert: x509.Certificate, signer) -> x509.Certificate:
    """``cert`` with sha1WithRSAEncryption in its TBS and a SHA-1 PKCS#1 v1.5 signature (this
    cryptography build refuses SHA-1 in the certificate builder, not in ``sign``)."""
    tbs = cert.tbs_certificate_bytes
    if tbs.count(_SHA256_RSA) != 1:
        raise RuntimeError("expected one sha256WithRSAEncryption identifier in the TBS")
    tbs = tbs.replace(_SHA256_RSA, _SHA1_RSA)
    signature = signer.sign(tbs, padding.PKCS1v15(), hashes.SHA1())
    bits = b"\x00" + signature
    body = tbs + _SHA1_RSA + b"\x03" + _der_len(len(bits)) + bits
    return x509.load_der_x509_certificate(b"\x30" + _der_len(len(body)) + body)


def _one(name: str, description: str, conv, client, server, identity, client_identity=None) -> Scenario:
    expect = flow_expect(conv, client, server, server_identity=identity, client_identity=client_identity)
    return _scenario(name, description, [(conv, client, server, expect)])


# ---- 1. connected by address ----------------------------------------------------------------------

def cucm_tomcat_without_ip() -> pki.Identity:
    """CUCM's CA-signed tomcat certificate with only the DNS SAN (no IP SAN)."""
    return pki.make_leaf(pki.CUCM_FQDN, pki.example_issuing_ca(), client=True, san_dns=[pki.CUCM_FQDN],
                         org="Example Lab", extra_name_attrs=pki._attrs(C="US"))


def by_ip_bad_certificate_8443() -> Scenario:
    """Expressway-C configured with CUCM's address: it connects to 10.48.36.215 (no SNI: an IP is
    never sent as SNI by OpenSSL), checks the address against a certificate that lists only
    cucm1.example.lab, and sends fatal bad_certificate.  A first flow, by name, succeeds."""
    tomcat = cucm_tomcat_without_ip()
    root = [pki.example_root_ca().cert]
    server_ctx = server_context(tomcat, max_version=ssl.TLSVersion.TLSv1_2)
    by_name = run_handshake(server_ctx, client_context(trusted_cas=root, check_hostname=True),
                            sni=pki.CUCM_FQDN, app_data=HTTP_GET, close=True)
    by_ip = run_handshake(server_ctx, client_context(trusted_cas=root, check_hostname=True), sni=pki.CUCM_IP)
    if not by_name.established or by_ip.established or by_ip.sni is not None:
        raise RuntimeError("expected: by name established; by address rejected, without SNI")
    server = (pki.CUCM_IP, 8443)
    flows = [(c, (EXPRESSWAY_C_IP, p), server, flow_expect(c, (EXPRESSWAY_C_IP, p), server, server_identity=tomcat))
             for c, p in ((by_name, 52400), (by_ip, 52401))]
    return _scenario("by_ip_bad_certificate_8443",
                     "Expressway-C connects to CUCM by IP; the certificate has no IP SAN: fatal bad_certificate",
                     flows)


def by_ip_accepted_8443() -> Scenario:
    """The same by address, with CUCM's certificate listing 10.48.36.215 as an IP SAN: established."""
    tomcat = pki.cucm_tomcat()
    server_ctx = server_context(tomcat, max_version=ssl.TLSVersion.TLSv1_2)
    conv = run_handshake(server_ctx, client_context(trusted_cas=[pki.example_root_ca().cert], check_hostname=True),
                         sni=pki.CUCM_IP, app_data=HTTP_GET, close=True)
    return _one("by_ip_accepted_8443", "Expressway-C connects by IP, which the certificate lists", conv,
                (EXPRESSWAY_C_IP, 52410), (pki.CUCM_IP, 8443), tomcat)


# ---- 2. a printer's DHE on 443 ------------------------------------------------------------------

def printer() -> pki.Identity:
    return pki.make_leaf("NPI3C7A1B", self_signed=True, org="Printer Vendor")


def printer_dhe_silent_close_443() -> Scenario:
    """A printer's HTTPS (self-signed, DHE with a 2048-bit group) and a client that closes after
    ServerHelloDone without an alert.  The real handshake runs to the end and is cut after the
    server's first flight (as `scenarios._spa_provisioning` does): no SPA/ATA context anywhere."""
    ident = printer()
    server_ctx = server_context(ident, dh_params_bits=2048, ciphers="DHE-RSA-AES256-SHA",
                                max_version=ssl.TLSVersion.TLSv1_2)
    client_ctx = client_context(verify=False, ciphers="DHE-RSA-AES256-SHA", max_version=ssl.TLSVersion.TLSv1_2)
    conv = run_handshake(server_ctx, client_ctx, sni=None, app_data=HTTP_GET, close=True)
    conv = _cut_after_server_flight(conv, "the client closes without an alert")
    return _one("printer_dhe_silent_close_443", "Printer HTTPS with DHE-2048; the client closes silently",
                conv, (OFFICE_PC_IP, 55000), (PRINTER_IP, 443), ident)


# ---- 3. the server never answered ---------------------------------------------------------------

UNANSWERED_WAIT_S = 2.0


def client_hello_unanswered_443() -> Scenario:
    """A genuine ClientHello (the first chunk of a real handshake), then nothing from the server;
    `diag_packets` moves the client's FIN two seconds later."""
    web = pki.make_leaf("portal.example.lab", pki.example_issuing_ca(), san_dns=["portal.example.lab"])
    conv = run_handshake(server_context(web), client_context(trusted_cas=[pki.example_root_ca().cert]),
                         sni="portal.example.lab")
    conv = replace(conv, chunks=conv.chunks[:1], established=False, session=None, version=None, cipher=None)
    return _one("client_hello_unanswered_443", "ClientHello, no answer, FIN two seconds later", conv,
                (OFFICE_PC_IP, 55100), (WEB_IP, 443), web)


# ---- 5. one finding per fact: SHA-1 on 28 flows; a cross-certificate of a root ---------------------

SHA1_FLOWS = 28


def sha1_pki() -> tuple[pki.Identity, pki.Identity, pki.Identity]:
    """root (SHA-1 self-signed), intermediate (SHA-1 signed by the root), leaf (SHA-256); the
    server sends all three."""
    root = _sha1(pki.make_ca("Example SHA-1 Root CA", org="Example Lab"), None)
    inter = _sha1(pki.make_ca("Example SHA-1 Issuing CA", issuer=root, org="Example Lab"), root)
    leaf = pki.make_leaf("intranet.example.lab", inter, san_dns=["intranet.example.lab"])
    leaf = replace(leaf, chain=[leaf.cert, inter.cert, root.cert])
    return root, inter, leaf


def sha1_chain_28_flows_443() -> Scenario:
    """28 clients to one intranet server whose chain has a SHA-1-signed intermediate and root."""
    _, _, leaf = sha1_pki()
    server_ctx = server_context(leaf, ciphers=WEAK, max_version=ssl.TLSVersion.TLSv1_2)
    flows = []
    for i in range(SHA1_FLOWS):
        conv = run_handshake(server_ctx, client_context(verify=False, ciphers=WEAK), sni="intranet.example.lab",
                             app_data=HTTP_GET, close=True)
        client, server = (f"10.20.2.{10 + i}", 56000 + i), (WEB_IP, 443)
        flows.append((conv, client, server, flow_expect(conv, client, server, server_identity=leaf)))
    return _scenario("sha1_chain_28_flows_443", "28 flows sharing a SHA-1 intermediate and a SHA-1 root", flows)


def verisign_g5_cross_443() -> Scenario:
    """A chain whose top is a cross-certificate of VeriSign G5 (a look-alike: the G5 name and key,
    SHA-1-signed by a 'VeriSign Class 3 Public Primary Certification Authority' root not sent),
    with a SHA-256 intermediate and leaf: clients stop at their G5 anchor."""
    pca = _sha1(pki.make_ca("VeriSign Class 3 Public Primary Certification Authority", org="VeriSign, Inc."), None)
    g5 = _sha1(pki.make_ca("VeriSign Class 3 Public Primary Certification Authority - G5", issuer=pca,
                           org="VeriSign, Inc."), pca)
    inter = pki.make_ca("Symantec Class 3 Secure Server CA - G4", issuer=g5, org="Symantec Corporation")
    leaf = pki.make_leaf("www.example.org", inter, san_dns=["www.example.org"])
    server_ctx = server_context(leaf, ciphers=WEAK, max_version=ssl.TLSVersion.TLSv1_2)
    conv = run_handshake(server_ctx, client_context(verify=False, ciphers=WEAK), sni="www.example.org",
                         app_data=HTTP_GET, close=True)
    return _one("verisign_g5_cross_443", "Chain topped by a SHA-1 cross-certificate of VeriSign G5", conv,
                (OFFICE_PC_IP, 55200), (WEB_IP, 443), leaf)


# ---- 6. the capture's clock ---------------------------------------------------------------------

CLOCK_1970_T0 = 30 * 86400.0
"""1970-01-31: a capturing device that never set its clock."""


def not_yet_valid_rejected_443() -> Scenario:
    """A server certificate valid only from 2036: the client (checking at the real time) rejects it
    with certificate_expired; the capture's clock is right (2023)."""
    future = pki.make_leaf("early.example.lab", pki.example_issuing_ca(), san_dns=["early.example.lab"],
                           not_before=dt.datetime(2036, 1, 1, tzinfo=dt.timezone.utc),
                           not_after=dt.datetime(2040, 1, 1, tzinfo=dt.timezone.utc))
    conv = run_handshake(server_context(future, max_version=ssl.TLSVersion.TLSv1_2),
                         client_context(trusted_cas=[pki.example_root_ca().cert], check_hostname=True),
                         sni="early.example.lab")
    if conv.established:
        raise RuntimeError("OpenSSL accepted a certificate valid only from 2036")
    return _one("not_yet_valid_rejected_443", "Server certificate valid from 2036, rejected by the client", conv,
                (OFFICE_PC_IP, 55300), (WEB_IP, 443), future)


# ---- 7. an optional client certificate ----------------------------------------------------------

def _optional(name: str, description: str, identity: pki.Identity, client, server, trusted) -> Scenario:
    server_ctx = server_context(identity, request_client_cert=True, trusted_cas=trusted,
                                max_version=ssl.TLSVersion.TLSv1_2)
    server_ctx.verify_mode = ssl.CERT_OPTIONAL
    conv = run_handshake(server_ctx, client_context(trusted_cas=[identity.root]), sni=None,
                         app_data=HTTP_GET, close=True)
    if not conv.established:
        raise RuntimeError(f"{name}: {conv.client_error or conv.server_error}")
    return _one(name, description, conv, client, server, identity)


def optional_client_cert_443() -> Scenario:
    """A web server that asks for a client certificate (optional); the browser sends none."""
    web = pki.make_leaf("portal.example.lab", pki.example_issuing_ca(), san_dns=["portal.example.lab"])
    return _optional("optional_client_cert_443", "Optional client certificate on a web server", web,
                     (OFFICE_PC_IP, 55400), (WEB_IP, 443), [pki.example_root_ca().cert])


def optional_client_cert_5061() -> Scenario:
    """CUCM on 5061 asks for a certificate (optional here); the phone sends none."""
    return _optional("optional_client_cert_5061", "Optional client certificate on CUCM 5061", pki.cucm_callmanager(),
                     (PHONE_IP, 51500), (pki.CUCM_IP, 5061), [pki.capf_a6d4c572().cert])


# ---- 9. ECDSA outside CUCM/Expressway -----------------------------------------------------------

def ecdsa_web_443() -> Scenario:
    """An ordinary web server with an ECDSA certificate and an ECDHE-ECDSA suite: established."""
    web = pki.make_leaf("www.example.com", pki.example_issuing_ca(), key="ec256", san_dns=["www.example.com"])
    conv = run_handshake(server_context(web, max_version=ssl.TLSVersion.TLSv1_2),
                         client_context(trusted_cas=[pki.example_root_ca().cert], check_hostname=True),
                         sni="www.example.com", app_data=HTTP_GET, close=True)
    return _one("ecdsa_web_443", "Web server with an ECDSA certificate", conv, (OFFICE_PC_IP, 55500),
                (WEB_IP, 443), web)


# ---- alerts: versions, a server's own abort, a required client certificate ----------------------

def protocol_version_443() -> Scenario:
    """A TLS 1.3-only server and a client capped at TLS 1.2: the server sends fatal protocol_version."""
    web = pki.make_leaf("portal.example.lab", pki.example_issuing_ca(), san_dns=["portal.example.lab"])
    conv = run_handshake(server_context(web, min_version=ssl.TLSVersion.TLSv1_3),
                         client_context(trusted_cas=[pki.example_root_ca().cert], max_version=ssl.TLSVersion.TLSv1_2),
                         sni="portal.example.lab")
    return _one("protocol_version_443", "TLS 1.3-only server, TLS 1.2 client", conv, (OFFICE_PC_IP, 55600),
                (WEB_IP, 443), web)


def internal_error_443() -> Scenario:
    """The server aborts on the ClientHello with fatal internal_error (its SNI callback says so)."""
    web = pki.make_leaf("portal.example.lab", pki.example_issuing_ca(), san_dns=["portal.example.lab"])
    server_ctx = server_context(web, max_version=ssl.TLSVersion.TLSv1_2)
    server_ctx.sni_callback = lambda obj, name, ctx: ssl.ALERT_DESCRIPTION_INTERNAL_ERROR
    conv = run_handshake(server_ctx, client_context(trusted_cas=[pki.example_root_ca().cert]),
                         sni="portal.example.lab")
    return _one("internal_error_443", "The server aborts with fatal internal_error", conv, (OFFICE_PC_IP, 55700),
                (WEB_IP, 443), web)


def required_client_cert_missing_5061() -> Scenario:
    """CUCM on 5061 requires a client certificate; a phone without one sends an empty Certificate and
    CUCM answers with a fatal alert."""
    cucm = pki.cucm_callmanager()
    server_ctx = server_context(cucm, request_client_cert=True, trusted_cas=[pki.capf_a6d4c572().cert],
                                max_version=ssl.TLSVersion.TLSv1_2)
    conv = run_handshake(server_ctx, client_context(trusted_cas=[cucm.cert], max_version=ssl.TLSVersion.TLSv1_2),
                         sni=None)
    if conv.established:
        raise RuntimeError("CUCM accepted a phone without a certificate")
    return _one("required_client_cert_missing_5061", "CUCM requires a client certificate; the phone has none",
                conv, (PHONE_IP, 51600), (pki.CUCM_IP, 5061), cucm)


DIAG_SCENARIOS: dict[str, Callable[[], Scenario]] = {f.__name__: f for f in (
    protocol_version_443, internal_error_443, required_client_cert_missing_5061,
    by_ip_bad_certificate_8443, by_ip_accepted_8443, printer_dhe_silent_close_443, client_hello_unanswered_443,
    sha1_chain_28_flows_443, verisign_g5_cross_443, not_yet_valid_rejected_443, optional_client_cert_443,
    optional_client_cert_5061, ecdsa_web_443,
)}


def diag_packets(scenario: Scenario, *, t0: float = CAPTURE_T0) -> list[Packet]:
    """Frame a scenario; ``client_hello_unanswered_443`` closes ``UNANSWERED_WAIT_S`` after its
    last data packet (the client's FIN, the server's FIN and the last ACK move)."""
    if scenario.name != "client_hello_unanswered_443":
        return build_capture(scenario, t0=t0)
    (conv, client, server), = scenario.conversations
    packets = tcp_packets(conv, client=client, server=server, t0=t0, close="fin")
    moved = [Packet(p.ts + UNANSWERED_WAIT_S, p.linktype, p.data) for p in packets[-3:]]
    return merge(packets[:-3] + moved)
