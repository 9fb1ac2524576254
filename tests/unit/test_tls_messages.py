"""Tests for inspector.tls.{constants,ciphers,messages}.

Real handshake bytes come from Python's ``ssl`` module driving a client and a server through
MemoryBIOs (no sockets), with certificates made here by ``cryptography``.
"""

from __future__ import annotations

import base64
import ctypes
import dataclasses
import datetime
import hashlib
import pickle
import ssl
import struct
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.tls.ciphers import CIPHER_SUITES, SSLV2_CIPHER_KINDS, cipher_kx
from inspector.tls.constants import (
    HRR_RANDOM,
    AlertDescription,
    ExtensionType,
    HandshakeType,
    NamedGroup,
    SignatureScheme,
    alert_name,
    cipher_name,
    extension_name,
    group_name,
    is_grease,
    sigalg_name,
    version_name,
)
from inspector.tls.records import is_sslv2_client_hello
from inspector.tls.messages import (
    Alert,
    ClientHello,
    ParseError,
    TLSParseError,
    ca_name_to_str,
    parse_alert,
    parse_certificate,
    parse_certificate_request,
    parse_client_hello,
    parse_new_session_ticket,
    parse_server_hello,
    parse_server_key_exchange,
    parse_sslv2_client_hello,
)

REPO = Path(__file__).resolve().parents[2]

# RFC 3526 section 3: 2048-bit MODP group (group 14), generator 2.
RFC3526_2048 = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A0879"
    "8E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B"
    "0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA4836"
    "1C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804"
    "F1746C08CA18217C32905E462E36CE3BE39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6"
    "955817183995497CEA956AE515D2261898FA051015728E5A8AACAA68FFFFFFFFFFFFFFFF",
    16,
)
SNI = "server.test"


# ----------------------------------------------------------------------------------------------
# PKI and handshake helpers


@dataclass
class PKI:
    dir: Path
    ca: x509.Certificate
    server: x509.Certificate
    client: x509.Certificate

    @property
    def ca_file(self) -> str:
        return str(self.dir / "ca.pem")

    @property
    def server_file(self) -> str:
        return str(self.dir / "server.pem")

    @property
    def client_file(self) -> str:
        return str(self.dir / "client.pem")

    @property
    def dh_file(self) -> str:
        return str(self.dir / "dh2048.pem")


def _cert(subject, issuer, key, issuer_key, *, ca: bool, san: str | None = None) -> x509.Certificate:
    now = datetime.datetime.now(datetime.timezone.utc)
    b = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if san:
        b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(san)]), critical=False)
    return b.sign(issuer_key, hashes.SHA256())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _dh_params_pem(p: int, g: int) -> bytes:
    """PKCS#3 DHParameter PEM, written by hand: cryptography's FFDH API is deprecated."""

    def integer(v: int) -> bytes:
        return _der_tlv(0x02, v.to_bytes(v.bit_length() // 8 + 1, "big"))

    der = _der_tlv(0x30, integer(p) + integer(g))
    b64 = base64.encodebytes(der).decode().replace("\n", "")
    lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
    return ("-----BEGIN DH PARAMETERS-----\n" + "\n".join(lines) + "\n-----END DH PARAMETERS-----\n").encode()


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> PKI:
    d = tmp_path_factory.mktemp("pki")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    # Characters that RFC 4514 must escape, to check the formatting end to end.
    ca_name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "DE"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "tlsinspect, Test+CA"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Test Root Ä"),
        ]
    )
    ca = _cert(ca_name, ca_name, ca_key, ca_key, ca=True)
    srv_key = rsa.generate_private_key(65537, 2048)  # RSA: DHE-RSA / ECDHE-RSA need it
    srv = _cert(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SNI)]), ca_name, srv_key, ca_key,
        ca=False, san=SNI,
    )
    cli_key = ec.generate_private_key(ec.SECP256R1())
    cli = _cert(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "client")]), ca_name, cli_key, ca_key,
        ca=False,
    )
    (d / "ca.pem").write_bytes(_pem(ca))
    (d / "server.pem").write_bytes(_pem(srv) + _pem(ca) + _key_pem(srv_key))
    (d / "client.pem").write_bytes(_pem(cli) + _key_pem(cli_key))
    (d / "dh2048.pem").write_bytes(_dh_params_pem(RFC3526_2048, 2))
    return PKI(d, ca, srv, cli)


@dataclass
class Handshake:
    client: ssl.SSLObject
    server: ssl.SSLObject
    c2s: bytes
    s2c: bytes
    client_error: Exception | None
    server_error: Exception | None


def run_handshake(sctx: ssl.SSLContext, cctx: ssl.SSLContext, sni: str | None = SNI) -> Handshake:
    """Drive both ends through MemoryBIOs until both finished or failed."""
    c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
    client = cctx.wrap_bio(c_in, c_out, server_hostname=sni)
    server = sctx.wrap_bio(s_in, s_out, server_side=True)
    c2s, s2c = bytearray(), bytearray()
    c_done = s_done = False
    c_err = s_err = None
    for _ in range(30):
        if not c_done and c_err is None:
            try:
                client.do_handshake()
                c_done = True
            except ssl.SSLWantReadError:
                pass
            except ssl.SSLError as e:
                c_err = e
        data = c_out.read()
        c2s += data
        s_in.write(data)
        if not s_done and s_err is None:
            try:
                server.do_handshake()
                s_done = True
            except ssl.SSLWantReadError:
                pass
            except ssl.SSLError as e:
                s_err = e
        data = s_out.read()
        s2c += data
        c_in.write(data)
        if (c_done or c_err) and (s_done or s_err) and not data:
            break
    return Handshake(client, server, bytes(c2s), bytes(s2c), c_err, s_err)


def records(stream: bytes) -> list[tuple[int, bytes]]:
    """Split a byte stream into (content type, fragment) records (5-byte headers)."""
    out, p = [], 0
    while p + 5 <= len(stream):
        ctype = stream[p]
        n = int.from_bytes(stream[p + 3 : p + 5], "big")
        out.append((ctype, stream[p + 5 : p + 5 + n]))
        p += 5 + n
    return out


def handshake_messages(stream: bytes, *, tls13: bool = False) -> list[tuple[int, bytes]]:
    """Plaintext handshake messages (type, body) of one direction.

    TLS 1.2: everything before the first ChangeCipherSpec.  TLS 1.3: handshake records until the
    first encrypted (application_data) record; compatibility-mode CCS records are skipped.
    """
    data = bytearray()
    for ctype, frag in records(stream):
        if ctype == 20:
            if tls13:
                continue
            break
        if ctype == 23:
            break
        if ctype == 22:
            data += frag
    out, p = [], 0
    while p + 4 <= len(data):
        n = int.from_bytes(data[p + 1 : p + 4], "big")
        if p + 4 + n > len(data):
            break
        out.append((data[p], bytes(data[p + 4 : p + 4 + n])))
        p += 4 + n
    return out


def body(stream: bytes, msg_type: int, *, tls13: bool = False, index: int = 0) -> bytes:
    found = [b for t, b in handshake_messages(stream, tls13=tls13) if t == msg_type]
    assert len(found) > index, f"no handshake message {msg_type} #{index}"
    return found[index]


def iana_id(ctx: ssl.SSLContext, openssl_name: str) -> int:
    return {c["name"]: c["id"] & 0xFFFF for c in ctx.get_ciphers()}[openssl_name]


def server_ctx(pki: PKI, *, max_version=None, ciphers: str | None = None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki.server_file)
    if max_version is not None:
        ctx.maximum_version = max_version
    if ciphers:
        ctx.set_ciphers(ciphers)
    return ctx


def client_ctx(pki: PKI) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(pki.ca_file)
    return ctx


def _set_client_ca_list(ctx: ssl.SSLContext, cafile: str) -> bool:
    """Make OpenSSL send ``cafile``'s subjects in CertificateRequest (Python's ssl has no API).

    Calls SSL_CTX_set_client_CA_list on the context through the very libssl the ssl module has
    loaded; returns False (caller skips) wherever that cannot be done safely.
    """
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return False
    paths = {line.split()[-1] for line in maps.splitlines() if "/libssl.so" in line}
    if len(paths) != 1:
        return False
    try:
        lib = ctypes.CDLL(paths.pop())
        lib.OpenSSL_version.restype = ctypes.c_char_p
        lib.OpenSSL_version.argtypes = [ctypes.c_int]
        if lib.OpenSSL_version(0).decode() != ssl.OPENSSL_VERSION:
            return False
        lib.SSL_load_client_CA_file.restype = ctypes.c_void_p
        lib.SSL_load_client_CA_file.argtypes = [ctypes.c_char_p]
        lib.SSL_CTX_set_client_CA_list.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        lib.SSL_CTX_get_verify_mode.argtypes = [ctypes.c_void_p]
        lib.SSL_CTX_get_verify_mode.restype = ctypes.c_int
    except (OSError, AttributeError):
        return False
    # PySSLContext starts with PyObject_HEAD followed by the SSL_CTX pointer.
    ssl_ctx = ctypes.c_void_p.from_address(id(ctx) + object.__basicsize__).value
    if not ssl_ctx or lib.SSL_CTX_get_verify_mode(ssl_ctx) != 3:  # PEER|FAIL_IF_NO_PEER_CERT
        return False
    names = lib.SSL_load_client_CA_file(cafile.encode())
    if not names:
        return False
    lib.SSL_CTX_set_client_CA_list(ssl_ctx, names)
    return True


@pytest.fixture(scope="module")
def tls13(pki) -> Handshake:
    sctx = server_ctx(pki)
    sctx.set_alpn_protocols(["http/1.1"])
    cctx = client_ctx(pki)
    cctx.set_alpn_protocols(["h2", "http/1.1"])
    hs = run_handshake(sctx, cctx)
    assert hs.client_error is None and hs.server_error is None
    return hs


@pytest.fixture(scope="module")
def ecdhe12(pki) -> Handshake:
    sctx = server_ctx(pki, max_version=ssl.TLSVersion.TLSv1_2, ciphers="ECDHE-RSA-AES128-GCM-SHA256")
    sctx.set_alpn_protocols(["http/1.1"])
    cctx = client_ctx(pki)
    cctx.set_alpn_protocols(["h2", "http/1.1"])
    hs = run_handshake(sctx, cctx)
    assert hs.client_error is None and hs.server_error is None
    return hs


@pytest.fixture(scope="module")
def dhe12(pki) -> Handshake:
    sctx = server_ctx(pki, max_version=ssl.TLSVersion.TLSv1_2, ciphers="DHE-RSA-AES128-GCM-SHA256")
    sctx.load_dh_params(pki.dh_file)
    hs = run_handshake(sctx, client_ctx(pki))
    assert hs.client_error is None and hs.server_error is None
    return hs


@pytest.fixture(scope="module")
def client_auth12(pki):
    """TLS 1.2, client certificate required, client has none: CertificateRequest + fatal alert."""
    sctx = server_ctx(pki, max_version=ssl.TLSVersion.TLSv1_2)
    sctx.verify_mode = ssl.CERT_REQUIRED
    sctx.load_verify_locations(pki.ca_file)
    ca_list = _set_client_ca_list(sctx, pki.ca_file)
    hs = run_handshake(sctx, client_ctx(pki))
    assert hs.server_error is not None  # peer did not return a certificate
    return hs, ca_list


# ----------------------------------------------------------------------------------------------
# Real handshakes


def test_client_hello_real(tls13, pki):
    ch = parse_client_hello(body(tls13.c2s, HandshakeType.client_hello))
    assert isinstance(ch, ClientHello)
    assert ch.sni == SNI and ch.sni_count == 1
    assert ch.legacy_version == 0x0303
    assert len(ch.random) == 32
    offered = {c["id"] & 0xFFFF for c in client_ctx(pki).get_ciphers()}
    assert offered <= set(ch.cipher_suites)
    assert ch.compression_methods == (0,)
    assert ch.alpn == ("h2", "http/1.1")
    assert 0x0304 in ch.supported_versions and 0x0303 in ch.supported_versions
    assert NamedGroup.x25519 in ch.supported_groups
    assert NamedGroup.secp256r1 in ch.supported_groups
    assert set(ch.key_share_groups) <= set(ch.supported_groups) and ch.key_share_groups
    assert SignatureScheme.rsa_pss_rsae_sha256 in ch.signature_algorithms
    assert SignatureScheme.ecdsa_secp256r1_sha256 in ch.signature_algorithms
    assert ch.ec_point_formats and 0 in ch.ec_point_formats
    assert not ch.psk and not ch.early_data and not ch.ech and not ch.session_ticket
    assert ch.warnings == ()
    types = [t for t, _ in ch.extensions]
    assert types[0] != types[-1] and ExtensionType.server_name in types
    assert dict(ch.extensions)[ExtensionType.server_name].endswith(SNI.encode())


def test_client_hello_without_sni(pki):
    cctx = client_ctx(pki)
    cctx.check_hostname = False
    hs = run_handshake(server_ctx(pki), cctx, sni=None)
    ch = parse_client_hello(body(hs.c2s, HandshakeType.client_hello))
    assert ch.sni is None and ch.sni_count == 0
    assert ExtensionType.server_name not in dict(ch.extensions)


def test_server_hello_tls13(tls13):
    sh = parse_server_hello(body(tls13.s2c, HandshakeType.server_hello, tls13=True))
    assert tls13.client.version() == "TLSv1.3"
    assert sh.legacy_version == 0x0303
    assert sh.selected_version == 0x0304
    assert version_name(sh.selected_version) == "TLS 1.3"
    name = tls13.client.cipher()[0]
    assert sh.cipher_suite == iana_id(tls13.client.context, name)
    assert cipher_name(sh.cipher_suite) == name  # TLS 1.3 suites: OpenSSL uses the IANA name
    assert cipher_kx(sh.cipher_suite) == "TLS13"
    assert sh.key_share_group in (NamedGroup.x25519, NamedGroup.secp256r1)
    assert not sh.is_hello_retry_request
    assert sh.alpn is None  # TLS 1.3 sends ALPN in (encrypted) EncryptedExtensions
    assert sh.compression_method == 0
    assert sh.warnings == ()


def test_hello_retry_request(pki):
    sctx = server_ctx(pki)
    sctx.set_ecdh_curve("prime256v1")  # server only does P-256; client's first share is X25519
    cctx = client_ctx(pki)
    hs = run_handshake(sctx, cctx)
    assert hs.client_error is None and hs.server_error is None
    hellos = [b for t, b in handshake_messages(hs.s2c, tls13=True) if t == HandshakeType.server_hello]
    ch1, ch2 = (b for t, b in handshake_messages(hs.c2s, tls13=True) if t == HandshakeType.client_hello)
    first = parse_client_hello(ch1)
    if NamedGroup.secp256r1 in first.key_share_groups:
        pytest.skip("client already offered a P-256 key share; no HelloRetryRequest")
    hrr, sh = (parse_server_hello(b) for b in hellos)
    assert hrr.is_hello_retry_request and hrr.random == HRR_RANDOM
    assert hrr.key_share_group == NamedGroup.secp256r1
    assert hrr.selected_version == 0x0304
    assert not sh.is_hello_retry_request
    assert sh.key_share_group == NamedGroup.secp256r1
    assert parse_client_hello(ch2).key_share_groups == (NamedGroup.secp256r1,)
    assert hrr.warnings == () and sh.warnings == ()


def test_tls12_ecdhe(ecdhe12, pki):
    hs = ecdhe12
    assert hs.client.version() == "TLSv1.2"
    sh = parse_server_hello(body(hs.s2c, HandshakeType.server_hello))
    assert sh.selected_version == sh.legacy_version == 0x0303
    assert sh.cipher_suite == iana_id(hs.client.context, hs.client.cipher()[0]) == 0xC02F
    assert cipher_name(sh.cipher_suite) == "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
    assert sh.extended_master_secret
    assert sh.key_share_group is None and not sh.is_hello_retry_request
    assert sh.alpn == "http/1.1" == hs.client.selected_alpn_protocol()

    cert = parse_certificate(body(hs.s2c, HandshakeType.certificate), tls13=False)
    der = serialization.Encoding.DER
    assert cert.certs == (pki.server.public_bytes(der), pki.ca.public_bytes(der))
    assert cert.context is None and cert.warnings == ()

    ske = parse_server_key_exchange(
        body(hs.s2c, HandshakeType.server_key_exchange), cipher_suite=sh.cipher_suite, version=0x0303
    )
    assert ske.kx == "ECDHE"
    assert ske.curve in (NamedGroup.x25519, NamedGroup.secp256r1)
    assert ske.dh_p_bits is None and ske.dh_g is None
    assert sigalg_name(ske.signature_algorithm).startswith("rsa_")


def test_tls12_dhe(dhe12):
    hs = dhe12
    sh = parse_server_hello(body(hs.s2c, HandshakeType.server_hello))
    assert hs.client.cipher()[0] == "DHE-RSA-AES128-GCM-SHA256"
    assert sh.cipher_suite == iana_id(hs.client.context, "DHE-RSA-AES128-GCM-SHA256") == 0x009E
    assert cipher_name(sh.cipher_suite) == "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"
    ske_body = body(hs.s2c, HandshakeType.server_key_exchange)
    ske = parse_server_key_exchange(ske_body, cipher_suite=sh.cipher_suite, version=sh.selected_version)
    assert ske.kx == "DHE"
    assert ske.dh_p_bits == 2048
    assert ske.dh_g == 2
    assert ske.curve is None
    assert sigalg_name(ske.signature_algorithm).startswith("rsa_")
    # Same bytes read as TLS 1.1 have no sigalg field: the 2 bytes are taken as signature length.
    with pytest.raises(ParseError):
        parse_server_key_exchange(ske_body, cipher_suite=sh.cipher_suite, version=0x0302)


def test_certificate_request_real(client_auth12, pki):
    hs, ca_list = client_auth12
    cr = parse_certificate_request(
        body(hs.s2c, HandshakeType.certificate_request), tls13=False, version=0x0303
    )
    assert 1 in cr.cert_types and 64 in cr.cert_types  # rsa_sign, ecdsa_sign
    assert SignatureScheme.ecdsa_secp256r1_sha256 in cr.signature_algorithms
    assert cr.context is None and cr.warnings == ()
    if ca_list:
        assert [ca_name_to_str(n) for n in cr.ca_names] == [pki.ca.subject.rfc4514_string()]
    else:
        assert cr.ca_names == ()


def test_certificate_request_ca_names_real(client_auth12, pki):
    hs, ca_list = client_auth12
    if not ca_list:
        pytest.skip("cannot reach this libssl's SSL_CTX_set_client_CA_list")
    cr = parse_certificate_request(
        body(hs.s2c, HandshakeType.certificate_request), tls13=False, version=0x0303
    )
    assert cr.ca_names == (pki.ca.subject.public_bytes(),)
    assert ca_name_to_str(cr.ca_names[0]) == pki.ca.subject.rfc4514_string()
    assert "tlsinspect\\, Test\\+CA" in ca_name_to_str(cr.ca_names[0])


def test_alert_real(client_auth12):
    hs, _ = client_auth12
    frags = [f for t, f in records(hs.s2c) if t == 21]
    assert frags, "server sent no plaintext alert"
    alerts = parse_alert(frags[0])
    assert len(alerts) == 1
    (a,) = alerts
    assert a.level == 2 and a.level_name == "fatal"
    assert a.description_name == alert_name(a.description)
    assert a.description_name in ("handshake_failure", "certificate_required")


def test_client_cert_flow(pki):
    """Client presents a certificate: its Certificate message is the client's DER."""
    sctx = server_ctx(pki, max_version=ssl.TLSVersion.TLSv1_2)
    sctx.verify_mode = ssl.CERT_REQUIRED
    sctx.load_verify_locations(pki.ca_file)
    cctx = client_ctx(pki)
    cctx.load_cert_chain(pki.client_file)
    hs = run_handshake(sctx, cctx)
    assert hs.client_error is None and hs.server_error is None
    cert = parse_certificate(body(hs.c2s, HandshakeType.certificate), tls13=False)
    assert cert.certs[0] == pki.client.public_bytes(serialization.Encoding.DER)
    assert cert.certs[1:] in ((), (pki.ca.public_bytes(serialization.Encoding.DER),))


# ----------------------------------------------------------------------------------------------
# Hand-built messages


def u8v(b: bytes) -> bytes:
    return bytes([len(b)]) + b


def u16v(b: bytes) -> bytes:
    return struct.pack(">H", len(b)) + b


def u24v(b: bytes) -> bytes:
    return len(b).to_bytes(3, "big") + b


def ext(t: int, data: bytes) -> bytes:
    return struct.pack(">H", t) + u16v(data)


def sni_ext(*names: bytes, name_type: int = 0) -> bytes:
    return ext(0, u16v(b"".join(bytes([name_type]) + u16v(n) for n in names)))


def client_hello(exts: bytes | None, *, suites=(0x1301, 0xC02F), sid=b"") -> bytes:
    b = b"\x03\x03" + bytes(range(32)) + u8v(sid)
    b += u16v(b"".join(struct.pack(">H", s) for s in suites)) + u8v(b"\x00")
    if exts is not None:
        b += u16v(exts)
    return b


def server_hello(exts: bytes | None, *, random: bytes = bytes(32), suite=0x1301) -> bytes:
    b = b"\x03\x03" + random + u8v(b"") + struct.pack(">HB", suite, 0)
    if exts is not None:
        b += u16v(exts)
    return b


def test_client_hello_ssl3_no_extensions():
    ch = parse_client_hello(client_hello(None, suites=(0x000A, 0x0005)))
    assert ch.extensions == () and ch.sni is None and ch.warnings == ()
    assert ch.cipher_suites == (0x000A, 0x0005)
    assert ch.supported_versions == () and ch.alpn == ()


def test_client_hello_several_server_names():
    ch = parse_client_hello(client_hello(sni_ext(b"a.example", b"b.example")))
    assert ch.sni == "a.example" and ch.sni_count == 2
    assert "many_server_names" in ch.warnings


def test_client_hello_sni_escaping():
    ch = parse_client_hello(client_hello(sni_ext(b"b\xc3\xa4d.example\x1b[31m")))
    assert ch.sni == "b\\xc3\\xa4d.example\\x1b[31m"
    assert ch.sni.isprintable() and ch.sni.isascii()
    assert "invalid_server_name" in ch.warnings
    # Only host_name entries count; other name types are skipped.
    ch = parse_client_hello(client_hello(sni_ext(b"x", name_type=7) + ext(16, u16v(u8v(b"h2")))))
    assert ch.sni is None and ch.sni_count == 0 and "malformed_server_name" in ch.warnings
    assert ch.alpn == ("h2",)


def test_client_hello_extension_problems():
    good = sni_ext(b"ok.example")
    # Extension list length larger than what follows: keep what fits, warn.
    b = client_hello(good)
    b = b[: -len(good) - 2] + struct.pack(">H", len(good) + 10) + good
    ch = parse_client_hello(b)
    assert ch.sni == "ok.example" and "extension_overrun" in ch.warnings
    # One extension claims more than the block holds.
    b = client_hello(good + struct.pack(">HH", 16, 50) + b"\x00\x02")
    ch = parse_client_hello(b)
    assert ch.sni == "ok.example" and ch.alpn == () and "extension_overrun" in ch.warnings
    # Duplicate extension: the first wins.
    ch = parse_client_hello(client_hello(good + sni_ext(b"second.example")))
    assert ch.sni == "ok.example" and "duplicate_extension" in ch.warnings
    # Malformed bodies of known extensions are warnings, not errors.
    ch = parse_client_hello(
        client_hello(ext(43, b"\x03\x03\x04") + ext(10, b"\x00\x03\x00\x1d\x00") + ext(16, b"\xff"))
    )
    assert ch.supported_versions == () and ch.supported_groups == () and ch.alpn == ()
    assert {"malformed_supported_versions", "malformed_supported_groups", "malformed_alpn"} <= set(
        ch.warnings
    )
    # Trailing bytes after the extension block.
    ch = parse_client_hello(client_hello(good) + b"\x00")
    assert ch.sni == "ok.example" and "trailing_data" in ch.warnings


def test_client_hello_flags():
    exts = (
        ext(35, b"\x01\x02\x03")
        + ext(42, b"")
        + ext(0xFE0D, b"\x00")
        + ext(51, u16v(struct.pack(">H", 0x11EC) + u16v(b"k" * 8) + struct.pack(">H", 29) + u16v(b"k" * 32)))
        + ext(41, b"\x00\x00")
    )
    ch = parse_client_hello(client_hello(exts))
    assert ch.session_ticket and ch.early_data and ch.ech and ch.psk
    assert ch.key_share_groups == (0x11EC, 29)
    assert "pre_shared_key_not_last" not in ch.warnings
    ch = parse_client_hello(client_hello(ext(41, b"") + ext(35, b"")))
    assert ch.psk and not ch.session_ticket and "pre_shared_key_not_last" in ch.warnings


def test_server_hello_handbuilt():
    exts = ext(43, b"\x03\x04") + ext(51, b"\x00\x17") + ext(23, b"") + ext(35, b"")
    sh = parse_server_hello(server_hello(exts, random=HRR_RANDOM))
    assert sh.is_hello_retry_request and sh.selected_version == 0x0304
    assert sh.key_share_group == 23 and sh.extended_master_secret and sh.session_ticket_ext
    assert sh.warnings == ()
    sh = parse_server_hello(server_hello(None, random=bytes(24) + b"DOWNGRD\x01", suite=0xC02F))
    assert sh.extensions == () and sh.selected_version == 0x0303
    assert "downgrade_sentinel_tls12" in sh.warnings
    sh = parse_server_hello(server_hello(ext(16, u16v(u8v(b"h2") + u8v(b"h3"))) + ext(43, b"\x03")))
    assert sh.alpn == "h2" and "malformed_alpn" in sh.warnings
    assert sh.selected_version == 0x0303 and "malformed_supported_versions" in sh.warnings


def _cert_list12(*ders: bytes) -> bytes:
    return u24v(b"".join(u24v(d) for d in ders))


def test_certificate_tls13(pki):
    der = serialization.Encoding.DER
    srv, ca = pki.server.public_bytes(der), pki.ca.public_bytes(der)
    entries = u24v(srv) + u16v(ext(5, b"\x01\x02")) + u24v(ca) + u16v(b"")
    cert = parse_certificate(u8v(b"ctx") + u24v(entries), tls13=True)
    assert cert.certs == (srv, ca) and cert.context == b"ctx" and cert.warnings == ()
    # Empty Certificate (client without a certificate).
    cert = parse_certificate(b"\x00" + u24v(b""), tls13=True)
    assert cert.certs == () and cert.context == b"" and cert.warnings == ()


def test_certificate_lying_lengths(pki):
    der = serialization.Encoding.DER
    srv, ca = pki.server.public_bytes(der), pki.ca.public_bytes(der)
    good = _cert_list12(srv, ca)
    # List length claims more than present: both certs kept.
    lying = (len(good) - 3 + 100).to_bytes(3, "big") + good[3:]
    cert = parse_certificate(lying, tls13=False)
    assert cert.certs == (srv, ca) and cert.warnings == ("certificate_invalid_length",)
    # Second entry claims more than present: first kept.
    broken = u24v(u24v(srv) + (len(ca) + 50).to_bytes(3, "big") + ca)
    cert = parse_certificate(broken, tls13=False)
    assert cert.certs == (srv,) and "certificate_invalid_length" in cert.warnings
    # List length shorter than the entries: entries inside it kept.
    short = (len(srv) + 3).to_bytes(3, "big") + good[3:]
    cert = parse_certificate(short, tls13=False)
    assert cert.certs == (srv,) and "certificate_invalid_length" in cert.warnings
    # Truncated in the middle of the second certificate.
    cert = parse_certificate(good[:-10], tls13=False)
    assert cert.certs == (srv,) and "certificate_invalid_length" in cert.warnings
    # TLS 1.3 entry whose extensions overrun: the certificate itself is still kept.
    cert = parse_certificate(b"\x00" + u24v(u24v(srv) + b"\x00\x09\x00"), tls13=True)
    assert cert.certs == (srv,) and "certificate_invalid_length" in cert.warnings


def test_certificate_zero_length_and_too_many(pki):
    srv = pki.server.public_bytes(serialization.Encoding.DER)
    cert = parse_certificate(_cert_list12(srv, b"", srv), tls13=False)
    assert cert.certs == (srv, srv) and cert.warnings == ("zero_length_certificate",)
    cert = parse_certificate(_cert_list12(*([srv] * 5)), tls13=False, max_certs=2)
    assert cert.certs == (srv, srv) and cert.warnings == ("too_many_certificates",)


def test_certificate_request_handbuilt(pki):
    ca_der = pki.ca.subject.public_bytes()
    srv_der = pki.server.subject.public_bytes()
    names = u16v(u16v(ca_der) + u16v(srv_der))
    tls12 = u8v(b"\x01\x40") + u16v(b"\x04\x03\x08\x04") + names
    cr = parse_certificate_request(tls12, tls13=False, version=0x0303)
    assert cr.cert_types == (1, 64) and cr.signature_algorithms == (0x0403, 0x0804)
    assert [ca_name_to_str(n) for n in cr.ca_names] == [
        pki.ca.subject.rfc4514_string(),
        pki.server.subject.rfc4514_string(),
    ]
    # TLS 1.0/1.1 (and DTLS 1.0) have no signature algorithms field.
    tls10 = u8v(b"\x01") + names
    for version in (0x0301, 0x0302, 0x0300, 0xFEFF):
        cr = parse_certificate_request(tls10, tls13=False, version=version)
        assert cr.signature_algorithms == () and cr.ca_names == (ca_der, srv_der)
    cr = parse_certificate_request(tls12, tls13=False, version=0xFEFD)  # DTLS 1.2
    assert cr.signature_algorithms == (0x0403, 0x0804)
    # TLS 1.3: context + extensions.
    tls13 = u8v(b"") + u16v(ext(13, u16v(b"\x08\x07\x04\x03")) + ext(47, names))
    cr = parse_certificate_request(tls13, tls13=True, version=0x0304)
    assert cr.context == b"" and cr.cert_types == ()
    assert cr.signature_algorithms == (0x0807, 0x0403)
    assert ca_name_to_str(cr.ca_names[0]) == pki.ca.subject.rfc4514_string()
    # Lying distinguished-name list length keeps the names that fit.
    lying = u8v(b"\x01") + u16v(b"\x04\x01") + struct.pack(">H", len(names)) + names[2:]
    cr = parse_certificate_request(lying, tls13=False, version=0x0303)
    assert cr.ca_names == (ca_der, srv_der) and "ca_names_invalid_length" in cr.warnings


def test_server_key_exchange_handbuilt():
    p = (RFC3526_2048).to_bytes(256, "big")
    dhe = u16v(p) + u16v(b"\x05") + u16v(b"\x01" * 256)
    ske = parse_server_key_exchange(dhe + u16v(b"sig"), cipher_suite=0x0033, version=0x0301)
    assert (ske.kx, ske.dh_p_bits, ske.dh_g, ske.signature_algorithm) == ("DHE", 2048, 5, None)
    # Anonymous DH: no signature at all.
    ske = parse_server_key_exchange(dhe, cipher_suite=0x0034, version=0x0303)
    assert (ske.kx, ske.dh_p_bits, ske.signature_algorithm) == ("DH_anon", 2048, None)
    # ECDHE_PSK: identity hint first, no signature.
    ecdhe_psk = u16v(b"hint") + b"\x03\x00\x17" + u8v(b"\x04" + b"\x01" * 64)
    ske = parse_server_key_exchange(ecdhe_psk, cipher_suite=0xC035, version=0x0303)
    assert (ske.kx, ske.curve, ske.signature_algorithm) == ("ECDHE_PSK", 23, None)
    # Explicit curve parameters.
    ske = parse_server_key_exchange(b"\x01" + b"\x00" * 40, cipher_suite=0xC02F, version=0x0303)
    assert ske.kx == "ECDHE" and ske.curve == NamedGroup.arbitrary_explicit_prime_curves
    # RSA key exchange / TLS 1.3 suites: nothing to decode.
    assert parse_server_key_exchange(b"junk", cipher_suite=0x002F, version=0x0301) == (
        parse_server_key_exchange(b"", cipher_suite=0x002F, version=0x0301)
    )
    assert parse_server_key_exchange(b"", cipher_suite=0x1301, version=0x0304).kx == "TLS13"
    with pytest.raises(ParseError):
        parse_server_key_exchange(b"\x07\x00\x17", cipher_suite=0xC02F, version=0x0303)


def test_alert_and_ticket():
    alerts = parse_alert(b"\x01\x00\x02\x30")
    assert alerts == [Alert(1, 0), Alert(2, 48)]
    assert [(a.level_name, a.description_name) for a in alerts] == [
        ("warning", "close_notify"),
        ("fatal", "unknown_ca"),
    ]
    assert Alert(7, 200).level_name == "unknown(7)" and Alert(7, 200).description_name == "unknown(200)"
    assert parse_alert(b"") == []
    with pytest.raises(ParseError) as ei:
        parse_alert(b"\x02\x28\x02")
    assert ei.value.offset == 2
    t = parse_new_session_ticket(struct.pack(">I", 7200) + u16v(b"t" * 100), tls13=False)
    assert (t.lifetime, t.ticket_len) == (7200, 100)
    b13 = struct.pack(">II", 300, 1) + u8v(b"n") + u16v(b"t" * 50) + u16v(b"")
    assert parse_new_session_ticket(b13, tls13=True) == parse_new_session_ticket(b13, tls13=True)
    assert parse_new_session_ticket(b13, tls13=True).ticket_len == 50


def test_sslv2_client_hello():
    specs = bytes.fromhex("010080" "000039" "000035" "00000a" "0000ff")
    challenge = bytes(range(1, 17))
    msg = b"\x01" + struct.pack(">HHHH", 0x0301, len(specs), 0, len(challenge)) + specs + challenge
    record = struct.pack(">H", 0x8000 | len(msg)) + msg
    assert is_sslv2_client_hello(record)
    assert is_sslv2_client_hello(record[:5]) and not is_sslv2_client_hello(record[:4])
    ch = parse_sslv2_client_hello(record + b"\x16\x03\x01")  # bytes after the record ignored
    assert ch.legacy_version == 0x0301
    assert ch.cipher_suites == (0x0039, 0x0035, 0x000A, 0x00FF)
    assert ch.random == bytes(16) + challenge
    assert ch.session_id == b"" and ch.extensions == () and ch.sni is None
    assert ch.compression_methods == (0,) and ch.warnings == ()
    assert SSLV2_CIPHER_KINDS[0x010080] == "SSL_CK_RC4_128_WITH_MD5"
    assert cipher_name(0x010080) == "SSL_CK_RC4_128_WITH_MD5"
    # Not SSLv2: TLS records, short input, wrong message type.
    assert not is_sslv2_client_hello(b"\x16\x03\x01\x00\x10\x01")
    assert not is_sslv2_client_hello(b"\x80")
    assert not is_sslv2_client_hello(record[:2] + b"\x04" + record[3:])
    for n in range(len(record)):
        with pytest.raises(ParseError):
            parse_sslv2_client_hello(record[:n])
    with pytest.raises(ParseError):
        parse_sslv2_client_hello(record[:2] + b"\x04" + record[3:])


# ----------------------------------------------------------------------------------------------
# Names


def test_ca_name_to_str():
    name = x509.Name(
        [
            x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.DOMAIN_COMPONENT, "test")]),
            x509.RelativeDistinguishedName(
                [
                    x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "a"),
                    x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "b"),
                ]
            ),
            x509.RelativeDistinguishedName(
                [x509.NameAttribute(NameOID.COMMON_NAME, "#日本 ; <x> ")]
            ),
            x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.EMAIL_ADDRESS, "a@b.c")]),
        ]
    )
    assert ca_name_to_str(name.public_bytes()) == name.rfc4514_string()
    assert ca_name_to_str(x509.Name([]).public_bytes()) == ""
    # A CN over 64 characters and a 3-letter country: cryptography refuses to build those, but
    # they occur in the wild; decode them anyway.
    cn = "x" * 80
    der = _der_name([("2.5.4.6", 0x13, b"DEU"), ("2.5.4.3", 0x0C, cn.encode())])
    assert ca_name_to_str(der) == f"CN={cn},C=DEU"
    # BMPString and an undecodable value type.
    der = _der_name([("2.5.4.3", 0x1E, "Zoë".encode("utf-16-be")), ("1.2.3.4", 0x04, b"\x01\x02")])
    assert ca_name_to_str(der) == "1.2.3.4=#04020102,CN=Zoë"


def _der_tlv(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        return bytes([tag, n]) + content
    k = (n.bit_length() + 7) // 8
    return bytes([tag, 0x80 | k]) + n.to_bytes(k, "big") + content


def _der_oid(dotted: str) -> bytes:
    arcs = [int(a) for a in dotted.split(".")]
    out = bytearray([arcs[0] * 40 + arcs[1]])
    for a in arcs[2:]:
        chunk = [a & 0x7F]
        a >>= 7
        while a:
            chunk.append(0x80 | (a & 0x7F))
            a >>= 7
        out += bytes(reversed(chunk))
    return _der_tlv(0x06, bytes(out))


def _der_name(attrs: list[tuple[str, int, bytes]]) -> bytes:
    rdns = b"".join(
        _der_tlv(0x31, _der_tlv(0x30, _der_oid(oid) + _der_tlv(tag, value))) for oid, tag, value in attrs
    )
    return _der_tlv(0x30, rdns)


@pytest.mark.parametrize(
    "garbage",
    [b"", b"\x30", b"\x30\x05\x31\x03", b"\x04\x00", b"\x30\x80\x00\x00", b"\xff" * 50, b"\x30\x00\x00"],
)
def test_ca_name_to_str_garbage(garbage):
    s = ca_name_to_str(garbage)
    assert s.startswith("<undecodable name: ") and s.endswith(">")
    assert ca_name_to_str(b"\x01" * 100).endswith("…>")


# ----------------------------------------------------------------------------------------------
# Constants


def test_version_names():
    cases = {
        0x0002: "SSL 2.0",
        0x0300: "SSL 3.0",
        0x0301: "TLS 1.0",
        0x0302: "TLS 1.1",
        0x0303: "TLS 1.2",
        0x0304: "TLS 1.3",
        0x7F17: "TLS 1.3 (draft 23)",
        0xFEFF: "DTLS 1.0",
        0xFEFD: "DTLS 1.2",
        0xFEFC: "DTLS 1.3",
        0x2A2A: "GREASE",
        0x1234: "0x1234",
    }
    for v, name in cases.items():
        assert version_name(v) == name
    assert version_name(None) == "None"


def test_name_helpers():
    assert alert_name(48) == "unknown_ca" and alert_name(200) == "unknown(200)"
    assert alert_name(AlertDescription.ech_required) == "ech_required"
    assert cipher_name(0xC02F) == "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
    assert cipher_name(0x1234) == "0x1234"
    assert cipher_name(0x0A0A) == "GREASE"
    assert cipher_name(0x00FF) == "TLS_EMPTY_RENEGOTIATION_INFO_SCSV"
    assert cipher_name(0x5600) == "TLS_FALLBACK_SCSV"
    assert cipher_name(0x1304) == "TLS_AES_128_CCM_SHA256"
    assert cipher_name(0xCCA8) == "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"
    assert group_name(29) == "x25519" and group_name(0x11EC) == "X25519MLKEM768"
    assert group_name(256) == "ffdhe2048" and group_name(0xFAFA) == "GREASE"
    assert group_name(0x7777) == "0x7777"
    assert sigalg_name(0x0807) == "ed25519" and sigalg_name(0x0201) == "rsa_pkcs1_sha1"
    assert sigalg_name(0x0203) == "ecdsa_sha1" and sigalg_name(0x0303) == "ecdsa_sha224"
    assert sigalg_name(0xABCD) == "0xabcd"
    assert extension_name(16) == "alpn" and extension_name(0xFF01) == "renegotiation_info"
    assert ExtensionType.application_layer_protocol_negotiation is ExtensionType.alpn
    assert extension_name(0x4A4A) == "GREASE" and extension_name(0x1234) == "0x1234"
    assert is_grease(0x0A0A) and is_grease(0xFAFA) and not is_grease(0x0A1A) and not is_grease(-1)
    assert HRR_RANDOM == hashlib.sha256(b"HelloRetryRequest").digest()


def test_cipher_kx():
    assert cipher_kx(0xC02F) == "ECDHE" and cipher_kx(0xC02B) == "ECDHE"
    assert cipher_kx(0x009E) == "DHE" and cipher_kx(0x0014) == "DHE"  # incl. EXPORT
    assert cipher_kx(0x002F) == "RSA" and cipher_kx(0x0003) == "RSA"
    assert cipher_kx(0x0030) == "DH" and cipher_kx(0xC004) == "ECDH"
    assert cipher_kx(0x0034) == "DH_anon" and cipher_kx(0xC018) == "ECDH_anon"
    assert cipher_kx(0x00A8) == "PSK" and cipher_kx(0xC0AA) == "DHE_PSK"
    assert cipher_kx(0xCCAC) == "ECDHE_PSK" and cipher_kx(0x00AC) == "RSA_PSK"
    assert cipher_kx(0x1301) == "TLS13" and cipher_kx(0x00FF) == "SCSV"
    assert cipher_kx(0xC01D) == "SRP" and cipher_kx(0x1234) == "unknown"
    assert {cipher_kx(c) for c in CIPHER_SUITES} <= {
        "RSA", "DHE", "ECDHE", "DH", "ECDH", "DH_anon", "ECDH_anon", "PSK", "DHE_PSK", "ECDHE_PSK",
        "RSA_PSK", "SRP", "KRB5", "ECCPWD", "GOST", "TLS13", "SCSV", "NULL",
    }


def test_cipher_table_matches_scapy():
    from scapy.layers.tls.crypto.suites import _tls_cipher_suites

    renamed = {0xC0AA, 0xC0AB}  # IANA: TLS_PSK_DHE_WITH_AES_*_CCM_8
    for code, name in _tls_cipher_suites.items():
        table = CIPHER_SUITES if code <= 0xFFFF else SSLV2_CIPHER_KINDS
        if code not in renamed:
            assert table[code] == name, hex(code)
    assert CIPHER_SUITES[0xC0AA] == "TLS_PSK_DHE_WITH_AES_128_CCM_8"


def test_no_scapy_import_at_runtime():
    code = (
        "import sys, inspector.tls.messages, inspector.tls.constants;"
        "assert 'scapy' not in sys.modules, 'scapy imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def test_dataclasses_frozen_and_slotted():
    ch = parse_client_hello(client_hello(None))
    with pytest.raises(dataclasses.FrozenInstanceError):
        ch.sni = "x"  # type: ignore[misc]
    assert not hasattr(ch, "__dict__")
    assert not hasattr(Alert(1, 0), "__dict__")


def test_parse_error_shape():
    with pytest.raises(TLSParseError) as ei:
        parse_client_hello(b"\x03\x03" + bytes(10))
    e = ei.value
    assert isinstance(e, ParseError) and e.offset == 2 and "random" in e.reason
    e2 = pickle.loads(pickle.dumps(e))
    assert (e2.reason, e2.offset, str(e2)) == (e.reason, e.offset, str(e))


# ----------------------------------------------------------------------------------------------
# Malformed input


def _all_parsers():
    return [
        ("client_hello", parse_client_hello),
        ("server_hello", parse_server_hello),
        ("certificate12", lambda b: parse_certificate(b, tls13=False)),
        ("certificate13", lambda b: parse_certificate(b, tls13=True, max_certs=3)),
        ("certificate_request12", lambda b: parse_certificate_request(b, tls13=False, version=0x0303)),
        ("certificate_request11", lambda b: parse_certificate_request(b, tls13=False, version=0x0302)),
        ("certificate_request13", lambda b: parse_certificate_request(b, tls13=True, version=0x0304)),
        ("ske_dhe", lambda b: parse_server_key_exchange(b, cipher_suite=0x009E, version=0x0303)),
        ("ske_dhe10", lambda b: parse_server_key_exchange(b, cipher_suite=0x0033, version=0x0301)),
        ("ske_ecdhe", lambda b: parse_server_key_exchange(b, cipher_suite=0xC02F, version=0x0303)),
        ("ske_dhe_psk", lambda b: parse_server_key_exchange(b, cipher_suite=0x00AA, version=0x0303)),
        ("ske_ecdhe_psk", lambda b: parse_server_key_exchange(b, cipher_suite=0xC035, version=0x0303)),
        ("alert", parse_alert),
        ("ticket12", lambda b: parse_new_session_ticket(b, tls13=False)),
        ("ticket13", lambda b: parse_new_session_ticket(b, tls13=True)),
        ("sslv2", parse_sslv2_client_hello),
        ("is_sslv2", is_sslv2_client_hello),  # the stream detector's check (tls.records)
        ("ca_name", ca_name_to_str),
    ]


def _only_parse_error(fn, data: bytes) -> None:
    try:
        fn(data)
    except ParseError:
        pass


def test_truncated_real_messages(tls13, ecdhe12, dhe12, client_auth12):
    """Every prefix of real messages either parses (maybe with warnings) or raises ParseError."""
    cases = [
        (parse_client_hello, body(tls13.c2s, HandshakeType.client_hello)),
        (parse_client_hello, body(ecdhe12.c2s, HandshakeType.client_hello)),
        (parse_server_hello, body(tls13.s2c, HandshakeType.server_hello, tls13=True)),
        (parse_server_hello, body(ecdhe12.s2c, HandshakeType.server_hello)),
        (
            lambda b: parse_server_key_exchange(b, cipher_suite=0x009E, version=0x0303),
            body(dhe12.s2c, HandshakeType.server_key_exchange),
        ),
        (
            lambda b: parse_server_key_exchange(b, cipher_suite=0xC02F, version=0x0303),
            body(ecdhe12.s2c, HandshakeType.server_key_exchange),
        ),
        (
            lambda b: parse_certificate_request(b, tls13=False, version=0x0303),
            body(client_auth12[0].s2c, HandshakeType.certificate_request),
        ),
    ]
    for fn, full in cases:
        fn(full)
        for n in range(len(full)):
            _only_parse_error(fn, full[:n])
    ch = body(tls13.c2s, HandshakeType.client_hello)
    # The fixed part ends after compression_methods; truncating there must raise, later must not.
    fixed_end = 2 + 32 + 1 + ch[34] + 2
    fixed_end += int.from_bytes(ch[fixed_end - 2 : fixed_end], "big") + 1
    fixed_end += ch[fixed_end - 1]
    for n in range(fixed_end):
        with pytest.raises(ParseError):
            parse_client_hello(ch[:n])
    for n in range(fixed_end, len(ch)):
        r = parse_client_hello(ch[:n])
        assert n == fixed_end or r.warnings, n
    # Certificates truncated anywhere past the list length keep the certificates that fit.
    cert = body(ecdhe12.s2c, HandshakeType.certificate)
    full = parse_certificate(cert, tls13=False).certs
    for n in range(3, len(cert), 97):
        r = parse_certificate(cert[:n], tls13=False)
        assert r.certs == full[: len(r.certs)] and "certificate_invalid_length" in r.warnings


@pytest.mark.parametrize("name,fn", _all_parsers(), ids=[n for n, _ in _all_parsers()])
@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=300))
def test_random_bytes_only_parse_error(name, fn, data):
    _only_parse_error(fn, data)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_mutated_real_hellos(data, tls13_bodies):
    """Random byte flips in real messages: still only ParseError."""
    fn, raw = data.draw(st.sampled_from(tls13_bodies))
    buf = bytearray(raw)
    for _ in range(data.draw(st.integers(1, 4))):
        buf[data.draw(st.integers(0, len(buf) - 1))] = data.draw(st.integers(0, 255))
    _only_parse_error(fn, bytes(buf))


@pytest.fixture(scope="module")
def tls13_bodies(tls13, ecdhe12, dhe12):
    return [
        (parse_client_hello, body(tls13.c2s, HandshakeType.client_hello)),
        (parse_server_hello, body(tls13.s2c, HandshakeType.server_hello, tls13=True)),
        (lambda b: parse_certificate(b, tls13=False), body(ecdhe12.s2c, HandshakeType.certificate)),
        (
            lambda b: parse_server_key_exchange(b, cipher_suite=0x009E, version=0x0303),
            body(dhe12.s2c, HandshakeType.server_key_exchange),
        ),
    ]


# ----------------------------------------------------------------------------------------------
# Size


def test_large_bodies_are_linear(pki):
    srv = pki.server.public_bytes(serialization.Encoding.DER)
    big = b"\x30" + b"\x00" * (2**24 - 16 - len(srv))  # the largest a u24 length allows
    cert = parse_certificate(_cert_list12(srv, big), tls13=False)
    assert cert.certs[0] == srv and len(cert.certs[1]) == len(big)
    # 16 MB of empty entries: bounded work, no exception.
    empties = u24v(b"\x00\x00\x00" * (5 * 1024 * 1024))
    cert = parse_certificate(empties, tls13=False)
    assert cert.certs == () and "too_many_certificates" in cert.warnings
    # Many small certificates.
    many = _cert_list12(*([b"\x30\x00"] * 100_000))
    cert = parse_certificate(many, tls13=False, max_certs=100_000)
    assert len(cert.certs) == 100_000
    # Largest possible ClientHello extension block, all tiny extensions.
    ch = parse_client_hello(client_hello(b"\x00\x15\x00\x00" * 16383))
    assert len(ch.extensions) == 16383 and "duplicate_extension" in ch.warnings


_EXT_TYPES = st.sampled_from([0, 10, 11, 13, 16, 23, 35, 41, 42, 43, 47, 51, 0xFE0D, 0x0A0A, 0xFFFF])
_EXTS = st.lists(st.tuples(_EXT_TYPES, st.binary(max_size=40)), max_size=6).map(
    lambda xs: b"".join(ext(t, d) for t, d in xs)
)


@settings(max_examples=300, deadline=None)
@given(exts=_EXTS, cut=st.integers(0, 8))
def test_random_extension_bodies(exts, cut):
    """Well-framed hellos with random extension bodies: warnings, never exceptions."""
    ch = parse_client_hello(client_hello(exts))
    assert ch.sni is None or ch.sni.isprintable()
    assert all(a.isprintable() for a in ch.alpn)
    parse_server_hello(server_hello(exts))
    parse_certificate_request(u8v(b"") + u16v(exts), tls13=True, version=0x0304)
    # The same with the extension block cut short: warnings only.
    full = client_hello(exts)
    parse_client_hello(full[: len(full) - min(cut, len(exts) + 2)])


_ATTR_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20)
_NAME_OIDS = st.sampled_from(
    [NameOID.COMMON_NAME, NameOID.ORGANIZATION_NAME, NameOID.ORGANIZATIONAL_UNIT_NAME,
     NameOID.LOCALITY_NAME, NameOID.EMAIL_ADDRESS, NameOID.SERIAL_NUMBER, NameOID.DOMAIN_COMPONENT]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_NAME_OIDS, _ATTR_TEXT), max_size=6))
def test_ca_name_to_str_matches_cryptography(attrs):
    # Single-valued RDNs only: DER sorts the members of a multi-valued RDN, x509.Name does not.
    name = x509.Name([x509.NameAttribute(o, v) for o, v in attrs])
    assert ca_name_to_str(name.public_bytes()) == name.rfc4514_string()


def test_ca_name_with_oversized_oid_arc_is_undecodable_not_a_panic():
    """Found by the Rust parity tests (r2): a CertificateRequest CA name whose OID's first
    subidentifier is 2**128 made cryptography's ObjectIdentifier panic (a PanicException, which
    ``except Exception`` does not catch), and tlsinspect ended with a traceback."""
    from pathlib import Path

    from inspector.api import read_capture
    cap = read_capture(Path(__file__).resolve().parents[1] / "data" / "crashes" / "ca_name_oid_panic.pcap")
    (flow,) = cap.analysis.flows
    assert flow.client_cert_requested
    assert flow.requested_ca_names == (
        "<undecodable name: 301c311a30180613848080808080808080808080808080808080000c0178>",)
