"""Named Cisco collaboration TLS scenarios with expectations computed from the real objects.

Each scenario function runs real handshakes and returns a ``Scenario``. ``expect`` holds
the facts an inspector should report, derived from the identities used and the bytes
produced (never typed in): ``expect["flows"]`` has one dict per connection and the
first flow's keys are repeated at top level. See ``flow_expect`` for the keys.
"""

from __future__ import annotations

import os
import socket
import ssl
import struct
import tempfile
from dataclasses import dataclass, replace
from typing import Any, Callable

from cryptography import x509
from cryptography.x509.oid import NameOID

from . import pki
from .frames import Link, Packet, merge, tcp_packets
from .handshake import (
    CIPHER_SUITES,
    CONTENT_HANDSHAKE,
    TLS_VERSIONS,
    Conversation,
    alert_name,
    client_context,
    coalesce_handshake_records,
    iter_records,
    run_handshake,
    server_context,
)

Address = tuple[str, int]

CAPTURE_T0 = 1700000000.0
"""Default capture start (2023-11-14 22:13:20 UTC), inside the default certificate validity."""

PHONE_IP = "10.10.1.20"
MRA_PHONE_IP = "203.0.113.50"
SPA_PHONE_IP = "192.168.1.50"
EXPRESSWAY_C_IP = "10.48.36.10"
EXPRESSWAY_E_IP = "198.51.100.20"
PROVISIONING_IP = "10.48.36.30"
SPA_PROVISIONING_IP = "10.48.36.31"

MIC_ISSUERS = frozenset(
    {"Cisco Manufacturing CA", "Cisco Manufacturing CA SHA2", "CAP-RTP-001", "CAP-RTP-002", "ACT2 SUDI CA"}
)
SIP_REGISTER = (
    b"REGISTER sip:cucm1.example.lab SIP/2.0\r\nVia: SIP/2.0/TLS 10.10.1.20:51000\r\n"
    b"From: <sip:1001@cucm1.example.lab>\r\nTo: <sip:1001@cucm1.example.lab>\r\nContent-Length: 0\r\n\r\n",
    b"SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n",
)


def _sccp(message_id: int, data: bytes) -> bytes:
    """One SCCP (Skinny) message: length (LE, counts id + data), header version 0, message id (LE), data."""
    return struct.pack("<III", 4 + len(data), 0, message_id) + data


SCCP_REGISTER = (
    # RegisterMessage (0x0001): device name, user id, instance, station IP, device type, max streams.
    _sccp(0x0001, b"SEP001122334455\0" + struct.pack("<II", 0, 1) + socket.inet_aton("10.10.1.20")
          + struct.pack("<II", 0, 5)),
    # RegisterAckMessage (0x0081): keepalive 30 s, date template, secondary keepalive, protocol version.
    _sccp(0x0081, struct.pack("<I", 30) + b"M/D/YA\0\0" + struct.pack("<I", 30) + b"\x16\0\0\0"),
)
"""One SCCP registration exchange (plausible Skinny framing; it travels encrypted)."""
HTTP_GET = (
    b"GET /cucm-uds/version HTTP/1.1\r\nHost: cucm1.example.lab\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
)


@dataclass
class Scenario:
    """A named set of TLS connections (conversation, client address, server address) and expectations.

    Client ports are distinct per conversation.
    """

    name: str
    description: str
    conversations: list[tuple[Conversation, Address, Address]]
    expect: dict[str, Any]


def _cn(name: x509.Name) -> str | None:
    attrs = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(attrs[0].value) if attrs else None


def cert_kind(cert: x509.Certificate) -> str:
    """``LSC`` (issued by a CAPF), ``MIC`` (issued by a Cisco manufacturing CA) or ``other``."""
    issuer = _cn(cert.issuer) or ""
    if issuer.startswith("CAPF-"):
        return "LSC"
    return "MIC" if issuer in MIC_ISSUERS else "other"


def flow_expect(
    conv: Conversation,
    client: Address,
    server: Address,
    *,
    server_identity: pki.Identity,
    client_identity: pki.Identity | None = None,
) -> dict[str, Any]:
    """Expectations for one connection.

    Keys: ``client``/``server`` ("ip:port"), ``server_port``, ``sni``, ``tls_version``
    ("TLS 1.2"), ``cipher_suite`` (code point), ``cipher`` (IANA name, else OpenSSL's),
    ``established``, ``resumed``, ``session_id`` (hex or None), ``alert``
    ("server:fatal:unknown_ca": sender, level, description of the first plaintext alert),
    ``outcome`` (``established``; ``failed`` after a fatal alert; ``reset`` when the connection
    was closed without one, in the inspector's words), ``cert_request``,
    ``certificates_in_clear``; ``server_subject``/``server_issuer``/
    ``server_chain``/``server_self_signed`` when the server sent its Certificate;
    ``client_subject``/``client_issuer``/``client_cert_kind`` when a client Certificate
    is visible in the clear. Subjects are RFC 4514 strings.
    """
    hello = conv.server_hello
    c2s_types = {t for t, _ in conv.handshake_messages("c2s")}
    s2c_types = {t for t, _ in conv.handshake_messages("s2c")}
    alerts = conv.alerts()
    server_sent_cert = hello is not None and not conv.session_reused and (11 in s2c_types or hello.version == 0x0304)
    client_cert = client_identity.cert if client_identity is not None and 11 in c2s_types else None
    alert = None
    fatal = any(level == 2 for _, level, _ in alerts)
    outcome = "established" if conv.established else "failed" if fatal else "reset"
    if alerts:
        direction, level, description = alerts[0]
        sender = "client" if direction == "c2s" else "server"
        alert = f"{sender}:{'fatal' if level == 2 else 'warning'}:{alert_name(description)}"
    cert = server_identity.cert
    return {
        "client": f"{client[0]}:{client[1]}",
        "server": f"{server[0]}:{server[1]}",
        "server_port": server[1],
        "sni": conv.sni,
        "tls_version": TLS_VERSIONS.get(hello.version) if hello else None,
        "cipher_suite": hello.cipher_suite if hello else None,
        "cipher": CIPHER_SUITES.get(hello.cipher_suite, conv.cipher) if hello else None,
        "established": conv.established,
        "resumed": conv.session_reused,
        "session_id": hello.session_id.hex() if hello and hello.session_id else None,
        "alert": alert,
        "outcome": outcome,
        "cert_request": 13 in s2c_types,
        "certificates_in_clear": 11 in s2c_types,
        "server_subject": cert.subject.rfc4514_string() if server_sent_cert else None,
        "server_issuer": cert.issuer.rfc4514_string() if server_sent_cert else None,
        "server_chain": [c.subject.rfc4514_string() for c in server_identity.chain] if server_sent_cert else [],
        "server_self_signed": cert.subject == cert.issuer if server_sent_cert else None,
        "client_subject": client_cert.subject.rfc4514_string() if client_cert else None,
        "client_issuer": client_cert.issuer.rfc4514_string() if client_cert else None,
        "client_cert_kind": cert_kind(client_cert) if client_cert else None,
    }


def _scenario(name: str, description: str,
              flows: list[tuple[Conversation, Address, Address, dict[str, Any]]]) -> Scenario:
    per_flow = [expect for *_, expect in flows]
    return Scenario(
        name=name,
        description=description,
        conversations=[(conv, client, server) for conv, client, server, _ in flows],
        expect={**per_flow[0], "name": name, "flows": per_flow},
    )


def _phone_to_cucm(name: str, description: str, phone: pki.Identity, *, ciphers: str | None = None,
                   port: int = 5061, app_data: tuple[bytes, bytes] = SIP_REGISTER, client_port: int = 51000
                   ) -> Scenario:
    """A phone registering with a client certificate to CUCM's CallManager: SIP/TLS on 5061, SCCP/TLS on 2443.

    CUCM presents its self-signed CallManager certificate, sends a CertificateRequest and trusts
    the Cisco manufacturing CAs and this cluster's CAPF (CallManager-trust). The phone puts its
    Certificate, ClientKeyExchange and CertificateVerify in one record.
    """
    cucm = pki.cucm_callmanager()
    callmanager_trust = [pki.cisco_root_ca_2048().cert, pki.cisco_manufacturing_ca_sha2().cert,
                         pki.capf_a6d4c572().cert]
    server_ctx = server_context(cucm, request_client_cert=True, trusted_cas=callmanager_trust, ciphers=ciphers,
                                max_version=ssl.TLSVersion.TLSv1_2)
    client_ctx = client_context(trusted_cas=[cucm.cert], client_identity=phone, ciphers="DEFAULT" if ciphers else None,
                                max_version=ssl.TLSVersion.TLSv1_2)
    conv = coalesce_handshake_records(run_handshake(server_ctx, client_ctx, sni=None, app_data=app_data))
    client, server = (PHONE_IP, client_port), (pki.CUCM_IP, port)
    expect = flow_expect(conv, client, server, server_identity=cucm, client_identity=phone)
    return _scenario(name, description, [(conv, client, server, expect)])


def mic_5061() -> Scenario:
    """Phone with its MIC (no LSC) registers to CUCM on 5061; established."""
    return _phone_to_cucm("mic_5061", "Phone presents its MIC (Cisco Manufacturing CA SHA2) to CUCM on 5061",
                          pki.phone_mic())


def lsc_5061() -> Scenario:
    """Phone with an LSC from this cluster's CAPF registers on 5061 (RSA key exchange); established."""
    return _phone_to_cucm("lsc_5061", "Phone presents its LSC (CAPF-a6d4c572) to CUCM on 5061",
                          pki.phone_lsc(), ciphers="AES256-GCM-SHA384")


def mic_2443() -> Scenario:
    """Phone with its MIC registers over SCCP/TLS (2443); established."""
    return _phone_to_cucm("mic_2443", "Phone presents its MIC (Cisco Manufacturing CA SHA2) to CUCM on 2443 (SCCP)",
                          pki.phone_mic(), port=2443, app_data=SCCP_REGISTER, client_port=51100)


def lsc_2443() -> Scenario:
    """Phone with its LSC registers over SCCP/TLS (2443), AES128-SHA with RSA key exchange; established.

    (The console line would read ``PXY_CERT_CIPHER: [SCCP], [TLSv1], cert [LSC]``; TLS 1.2 here.)
    """
    return _phone_to_cucm("lsc_2443", "Phone presents its LSC (CAPF-a6d4c572) to CUCM on 2443 (SCCP)",
                          pki.phone_lsc(), ciphers="AES128-SHA", port=2443, app_data=SCCP_REGISTER,
                          client_port=51100)


def lsc_rejected_unknown_ca() -> Scenario:
    """Phone moved from another cluster keeps its old LSC; CUCM answers fatal unknown_ca."""
    return _phone_to_cucm("lsc_rejected_unknown_ca",
                          "Phone's LSC from the old cluster's CAPF-0badc0de is not in CallManager-trust",
                          pki.phone_lsc_old_cluster())


def _expressway_to_cucm(identity: pki.Identity, *, request_client_cert: bool = False
                        ) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """Contexts for Expressway-C (verifying, hostname checked, trusts Example Lab Root CA) to CUCM."""
    server_ctx = server_context(identity, request_client_cert=request_client_cert,
                                trusted_cas=[pki.example_root_ca().cert], max_version=ssl.TLSVersion.TLSv1_2)
    client_ctx = client_context(trusted_cas=[pki.example_root_ca().cert], check_hostname=True)
    return server_ctx, client_ctx


def ca_chain_8443() -> Scenario:
    """Expressway-C to CUCM tomcat (8443), CA-signed chain with SANs, SNI cucm1.example.lab; established."""
    tomcat = pki.cucm_tomcat()
    server_ctx, client_ctx = _expressway_to_cucm(tomcat)
    conv = run_handshake(server_ctx, client_ctx, sni=pki.CUCM_FQDN, app_data=HTTP_GET, close=True)
    client, server = (EXPRESSWAY_C_IP, 52000), (pki.CUCM_IP, 8443)
    expect = flow_expect(conv, client, server, server_identity=tomcat)
    return _scenario("ca_chain_8443", "Expressway-C verifies CUCM's CA-signed tomcat chain on 8443",
                     [(conv, client, server, expect)])


def ecdsa_selfsigned_6972_unknown_ca() -> Scenario:
    """CUCM presents a self-signed tomcat-ECDSA cert on 6972 and asks for a client cert; Expressway-C rejects it.

    Two connections one second apart: Expressway-C retries the TFTP-over-HTTPS fetch, and the
    retry fails the same way (fatal unknown_ca from the client after ServerHelloDone).
    """
    ecdsa = pki.cucm_tomcat_ecdsa()
    server_ctx, client_ctx = _expressway_to_cucm(ecdsa, request_client_cert=True)
    server = (pki.CUCM_IP, 6972)
    flows = []
    for port in (52100, 52101):
        conv = run_handshake(server_ctx, client_ctx, sni=ecdsa.cn)
        if conv.established:
            raise RuntimeError("Expressway-C accepted the self-signed ECDSA certificate")
        client = (EXPRESSWAY_C_IP, port)
        flows.append((conv, client, server, flow_expect(conv, client, server, server_identity=ecdsa)))
    return _scenario("ecdsa_selfsigned_6972_unknown_ca",
                     "Expressway-C sends fatal unknown_ca after CUCM's self-signed ECDSA cert and CertificateRequest, "
                     "then retries and is rejected again", flows)


def sni_mismatch_8443() -> Scenario:
    """Expressway-C connects with a name absent from the cert's SAN/CN; it sends fatal bad_certificate."""
    tomcat = pki.cucm_tomcat()
    server_ctx, client_ctx = _expressway_to_cucm(tomcat)
    conv = run_handshake(server_ctx, client_ctx, sni="cucm-pub.example.lab")
    client, server = (EXPRESSWAY_C_IP, 52200), (pki.CUCM_IP, 8443)
    expect = flow_expect(conv, client, server, server_identity=tomcat)
    return _scenario("sni_mismatch_8443", "SNI cucm-pub.example.lab is not in CUCM's certificate",
                     [(conv, client, server, expect)])


def tls13_443() -> Scenario:
    """MRA phone to Expressway-E on 443 with TLS 1.3; established. ``conv.keylog`` decrypts it."""
    expressway = pki.expressway_e()
    fd, keylog = tempfile.mkstemp(prefix="tlsinspect-keylog-")
    os.close(fd)
    try:
        server_ctx = server_context(expressway)
        client_ctx = client_context(trusted_cas=[pki.example_root_ca().cert], check_hostname=True,
                                    keylog_filename=keylog)
        conv = run_handshake(server_ctx, client_ctx, sni=pki.EXPRESSWAY_E_FQDN, app_data=HTTP_GET, close=True)
    finally:
        os.unlink(keylog)
    client, server = (MRA_PHONE_IP, 53000), (EXPRESSWAY_E_IP, 443)
    expect = flow_expect(conv, client, server, server_identity=expressway)
    return _scenario("tls13_443", "MRA phone to Expressway-E over TLS 1.3 (certificates encrypted)",
                     [(conv, client, server, expect)])


def resumption_8443() -> Scenario:
    """Two TLS 1.2 connections to CUCM tomcat; the second resumes the first's session ID (no Certificate)."""
    tomcat = pki.cucm_tomcat()
    server_ctx = server_context(tomcat, session_tickets=False, max_version=ssl.TLSVersion.TLSv1_2)
    client_ctx = client_context(trusted_cas=[pki.example_root_ca().cert], check_hostname=True)
    first = run_handshake(server_ctx, client_ctx, sni=pki.CUCM_FQDN, app_data=HTTP_GET, close=True)
    second = run_handshake(server_ctx, client_ctx, sni=pki.CUCM_FQDN, session=first.session, app_data=HTTP_GET,
                           close=True)
    if not second.session_reused:
        raise RuntimeError("OpenSSL did not resume the session")
    server = (pki.CUCM_IP, 8443)
    flows = [(conv, (EXPRESSWAY_C_IP, port), server) for conv, port in ((first, 52300), (second, 52301))]
    return _scenario("resumption_8443", "Full TLS 1.2 handshake, then an abbreviated one resuming its session ID",
                     [(c, cl, sv, flow_expect(c, cl, sv, server_identity=tomcat)) for c, cl, sv in flows])


def expired_root_443() -> Scenario:
    """Phone (firmware 12.7) trusts only the AddTrust root, expired 2020-05-30; it sends certificate_expired."""
    expressway = pki.expressway_e_addtrust()
    server_ctx = server_context(expressway, max_version=ssl.TLSVersion.TLSv1_2)
    client_ctx = client_context(trusted_cas=[pki.addtrust_external_root().cert], check_hostname=True,
                                max_version=ssl.TLSVersion.TLSv1_2)
    conv = run_handshake(server_ctx, client_ctx, sni=pki.EXPRESSWAY_E_FQDN)
    client, server = (MRA_PHONE_IP, 53100), (EXPRESSWAY_E_IP, 443)
    expect = flow_expect(conv, client, server, server_identity=expressway)
    return _scenario("expired_root_443", "Expressway-E cert chains only to the expired AddTrust External CA Root",
                     [(conv, client, server, expect)])


def dhe1024_443() -> Scenario:
    """SPA phone to a provisioning server with DHE and a 1024-bit group (and 1024-bit RSA key); established."""
    prov = pki.provisioning_server()
    ciphers = "DHE-RSA-AES256-SHA:@SECLEVEL=0"
    server_ctx = server_context(prov, dh_params_bits=1024, ciphers=ciphers, max_version=ssl.TLSVersion.TLSv1_2)
    client_ctx = client_context(trusted_cas=[pki.example_root_ca().cert], ciphers=ciphers,
                                max_version=ssl.TLSVersion.TLSv1_2)
    conv = run_handshake(server_ctx, client_ctx, sni=prov.cn, app_data=HTTP_GET, close=True)
    client, server = (SPA_PHONE_IP, 54000), (PROVISIONING_IP, 443)
    expect = {**flow_expect(conv, client, server, server_identity=prov), "dh_prime_bits": _dh_prime_bits(conv)}
    return _scenario("dhe1024_443", "SPA provisioning over DHE-RSA with a 1024-bit DH group",
                     [(conv, client, server, expect)])


def _dh_prime_bits(conv: Conversation) -> int:
    """Size of the DHE prime in the server's ServerKeyExchange."""
    key_exchange = dict(conv.handshake_messages("s2c"))[12]
    prime = key_exchange[2 : 2 + int.from_bytes(key_exchange[:2], "big")]
    return int.from_bytes(prime, "big").bit_length()


def _cut_after_server_flight(conv: Conversation, why: str) -> Conversation:
    """Keep the conversation up to the server's first flight (ending in ServerHelloDone), nothing after.

    The client then sends nothing more: no alert, no ClientKeyExchange. Framing closes the TCP
    connection from the client with FIN (``tcp_packets(close="fin")``).
    """
    for i, (direction, data) in enumerate(conv.chunks):
        if direction == "s2c":
            types = [fragment[0] for ctype, _, fragment in iter_records(data) if ctype == CONTENT_HANDSHAKE]
            if not types or types[-1] != 14:
                raise RuntimeError(f"the server's first flight does not end with ServerHelloDone: {types}")
            return replace(conv, chunks=conv.chunks[: i + 1], established=False, client_error=why,
                           server_error=None, session=None, session_reused=False, version=None, cipher=None)
    raise RuntimeError("the server never spoke")


def _spa_provisioning(name: str, description: str, dh_bits: int, client_port: int, *,
                      legacy_refuses_large_dh: bool) -> Scenario:
    """SPA phone -> provisioning server over HTTPS with DHE-RSA and a ``dh_bits`` MODP group.

    The server's certificate comes from the CA named ``Cisco Small Business Provisioning Root
    Authority 2`` (which the SPA trusts); it asks for a client certificate and trusts the CA named
    ``Cisco Small Business Client Root Authority 2``, which issued the phone's device certificate.
    """
    prov, device = pki.spa_provisioning_server(), pki.spa_device_cert()
    ciphers = "DHE-RSA-AES256-SHA:@SECLEVEL=0"
    server_ctx = server_context(prov, dh_params_bits=dh_bits, ciphers=ciphers, request_client_cert=True,
                                trusted_cas=[pki.cisco_sb_client_root_ca_2().cert],
                                max_version=ssl.TLSVersion.TLSv1_2)
    client_ctx = client_context(trusted_cas=[pki.cisco_sb_provisioning_root_ca_2().cert], client_identity=device,
                                ciphers=ciphers, max_version=ssl.TLSVersion.TLSv1_2)
    conv = run_handshake(server_ctx, client_ctx, sni=prov.cn,
                         app_data=(b"GET /spa001c58aabbcc.xml HTTP/1.1\r\nHost: spa-prov.example.lab\r\n\r\n",
                                   b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
                         close=True)
    if not conv.established:
        raise RuntimeError(f"SPA provisioning handshake failed: {conv.client_error or conv.server_error}")
    if legacy_refuses_large_dh:
        conv = _cut_after_server_flight(
            conv, f"legacy SPA firmware refuses a {dh_bits}-bit DH prime: closes (FIN) without an alert")
    client, server = (SPA_PHONE_IP, client_port), (SPA_PROVISIONING_IP, 443)
    expect = {**flow_expect(conv, client, server, server_identity=prov, client_identity=device),
              "dh_prime_bits": _dh_prime_bits(conv)}
    return _scenario(name, description, [(conv, client, server, expect)])


def spa_provisioning_dhe1024_443() -> Scenario:
    """SPA phone provisions over HTTPS: Small Business CAs on both sides, DHE with a 1024-bit group; established."""
    return _spa_provisioning("spa_provisioning_dhe1024_443",
                             "SPA provisioning with the Cisco Small Business CAs and a 1024-bit DHE group",
                             1024, 54100, legacy_refuses_large_dh=False)


def spa_provisioning_dhe2048_443() -> Scenario:
    """The same SPA provisioning with a 2048-bit DHE group, which old SPA firmware silently refuses.

    Modelled honestly from a real handshake: OpenSSL (playing the phone) would accept the
    2048-bit group, so the real handshake is run to the end and the conversation is then cut
    after the server's first flight (ServerHello, Certificate, ServerKeyExchange with the
    2048-bit prime, CertificateRequest, ServerHelloDone). The phone sends nothing more, no
    alert: it ACKs the flight and closes the TCP connection with FIN, which is what such a
    device does on the wire. Every byte kept is genuine OpenSSL output.
    """
    return _spa_provisioning("spa_provisioning_dhe2048_443",
                             "SPA provisioning with a 2048-bit DHE group: old firmware closes silently after "
                             "ServerHelloDone", 2048, 54200, legacy_refuses_large_dh=True)


SCENARIOS: dict[str, Callable[[], Scenario]] = {
    f.__name__: f
    for f in (
        mic_5061,
        lsc_5061,
        mic_2443,
        lsc_2443,
        lsc_rejected_unknown_ca,
        ca_chain_8443,
        ecdsa_selfsigned_6972_unknown_ca,
        tls13_443,
        resumption_8443,
        sni_mismatch_8443,
        expired_root_443,
        dhe1024_443,
        spa_provisioning_dhe1024_443,
        spa_provisioning_dhe2048_443,
    )
}
"""All scenarios by name."""

FRAMED_SCENARIOS: list[str] = ["mic_5061", "lsc_5061", "lsc_rejected_unknown_ca", "ca_chain_8443",
                                "ecdsa_selfsigned_6972_unknown_ca", "tls13_443", "resumption_8443"]
"""The scenarios the framing tests (tests/integration/test_scenarios.py) and the engine comparison
(tests/differential/test_rust_engine.py) build under every framing of `FRAMINGS`."""

FRAMINGS: dict[str, dict] = {
    "ether": dict(link="ether"),
    "ipv6": dict(link="ether", ipv6=True),
    "vlan": dict(link="vlan"),
    "qinq_ipv6": dict(link="qinq", ipv6=True),
    "sll": dict(link="sll"),
    "sll2": dict(link="sll2", ipv6=True),
    "raw": dict(link="raw"),
    "null": dict(link="null"),
    "tiny_reordered_duplicated": dict(link="ether", segment_size=7, reorder=True, duplicate=True),
    "tiny_ipv6_vlan": dict(link="vlan", ipv6=True, segment_size=3, reorder=True, duplicate=True),
}
"""Every way a lab capture frames a flow: `build_capture` keyword arguments by framing name."""


def build_capture(
    scenario: Scenario,
    *,
    link: Link = "ether",
    ipv6: bool = False,
    segment_size: int | None = None,
    reorder: bool = False,
    duplicate: bool = False,
    t0: float = CAPTURE_T0,
    port_offset: int = 0,
    seed: int = 0,
) -> list[Packet]:
    """Frame every conversation of ``scenario`` (one second apart) and merge them by time.

    ``port_offset`` shifts the client ports, to mix several scenarios into one capture.
    Write the result with ``pcapio.write_capture`` (pcap or pcapng by file name).
    """
    return merge(
        *(
            tcp_packets(conv, client=(client[0], client[1] + port_offset), server=server, link=link, ipv6=ipv6,
                        segment_size=segment_size, reorder=reorder, duplicate=duplicate, seed=seed + i,
                        t0=t0 + i, isn_client=1000 + 100000 * i, isn_server=5000 + 100000 * i)
            for i, (conv, client, server) in enumerate(scenario.conversations)
        )
    )
