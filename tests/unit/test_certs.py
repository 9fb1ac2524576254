"""Tests for inspector.x509: certificate summaries and classification.

Certificates are built with ``cryptography`` here and every field is checked
against what was built; malformed inputs must never raise.  The real-world
part compares against Zeek's x509.log baselines in /work/shared/corpus (skipped
when the corpus or tshark is absent).
"""

from __future__ import annotations

import dataclasses
import hashlib
import ipaddress
import os
import random
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]

from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa, x25519  # noqa: E402
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID  # noqa: E402

from corpus import corpus_file  # noqa: E402
from inspector.x509 import cache as x509_cache  # noqa: E402
from inspector.x509 import der as x509_der  # noqa: E402
from inspector.x509 import (  # noqa: E402
    CertInfo,
    capf_id,
    client_cert_kind,
    known_ca_note,
    parse_certificate,
    parse_chain,
    short_name,
    validity_at,
)

UTC = timezone.utc
NOT_BEFORE = datetime(2023, 1, 2, 3, 4, 5, tzinfo=UTC)
NOT_AFTER = datetime(2033, 1, 2, 3, 4, 5, tzinfo=UTC)

# AddTrust External CA Root (public root, expired 2020-05-30), as captured in
# zeek-zeek/tls1_1.pcap.
ADDTRUST_EXTERNAL_DER = bytes.fromhex(
    "308204363082031ea003020102020101300d06092a864886f70d0101050500306f310b30090603550406130253453114"
    "3012060355040a130b416464547275737420414231263024060355040b131d41646454727573742045787465726e616c"
    "20545450204e6574776f726b312230200603550403131941646454727573742045787465726e616c20434120526f6f74"
    "301e170d3030303533303130343833385a170d3230303533303130343833385a306f310b300906035504061302534531"
    "143012060355040a130b416464547275737420414231263024060355040b131d41646454727573742045787465726e61"
    "6c20545450204e6574776f726b312230200603550403131941646454727573742045787465726e616c20434120526f6f"
    "7430820122300d06092a864886f70d01010105000382010f003082010a0282010100b7f71a33e6f200042d39e04e5bed"
    "1fbc6c0fcdb5fa23b6cede9b113397a4294c7d939fbd4abc93ed031ae38fcfe56d505ad69729945a80b0497adb2e95fd"
    "b8cabf37382d1e3e9141ad7056c7f04f3fe8329e74cac89054e9c65f0f789d9a403c0eac61aa5e148f9e87a16a50dcd7"
    "9a4eaf05b3a671949c71b350600ac7139d38078602a8e9a869261890ab4cb04f23ab3a4f84d8dfce9fe1696fbbd742d7"
    "6b44e4c7adee6d415f725a710837b37965a459a09437f7002f0dc29272dad03872db14a845c45d2a7db7b4d6c4eeaccd"
    "1344b7c92bdd430025fa61b9696a582311b7a7338f567559f5cd29d746b70a2b65b6d3426f15b2b87bfbefe95d53d534"
    "5a270203010001a381dc3081d9301d0603551d0e04160414adbd987a34b426f7fac42654ef03bde024cb541a300b0603"
    "551d0f040403020106300f0603551d130101ff040530030101ff3081990603551d2304819130818e8014adbd987a34b4"
    "26f7fac42654ef03bde024cb541aa173a471306f310b300906035504061302534531143012060355040a130b41646454"
    "7275737420414231263024060355040b131d41646454727573742045787465726e616c20545450204e6574776f726b31"
    "2230200603550403131941646454727573742045787465726e616c20434120526f6f74820101300d06092a864886f70d"
    "01010505000382010100b09be08525c2d623e20f9606929d41989cd9847981d91e5b14072336658fb0d877bbac416c47"
    "608351b0f9323de7fcf62613c78016a5bf5afc87cf787989219ae24c070a8635bcf2de51c4d296b7dc7e4eee70fd1c39"
    "eb0c0251142d8ebd16e0c1df4675e724adecf442b48593701067ba9d06354a18d32b7acc5142a17a63d1e6bba1c52bc2"
    "36be130de6bd637e797ba7090d40ab6add8f8ac3f6f68c1a420551d445f59fa76221681520433c99e77cbd24d8a99117"
    "73883f561b313818b4710f9acdc80e9e8e2e1be18c9883cb1f31f1444cc604734976600fc7f8bd17806b2ee9cc4c0e5a"
    "9a790f200a2ed59e63261e559294d882175a7bd0bcc78f4e8604"
)


# ---------------------------------------------------------------------------
# builders
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keys():
    return {
        "rsa": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "rsa2": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "ec": ec.generate_private_key(ec.SECP256R1()),
        "ec384": ec.generate_private_key(ec.SECP384R1()),
        "ed25519": ed25519.Ed25519PrivateKey.generate(),
        "ed448": ed448.Ed448PrivateKey.generate(),
        "x25519": x25519.X25519PrivateKey.generate(),
    }


def name(*pairs) -> x509.Name:
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in pairs])


def build(
    subject: x509.Name,
    key,
    *,
    issuer: x509.Name | None = None,
    signer=None,
    serial: int = 0x1234,
    extensions=(),
    not_before: datetime = NOT_BEFORE,
    not_after: datetime = NOT_AFTER,
    hash_alg=hashes.SHA256(),
) -> x509.Certificate:
    """``key`` is the subject's private key (or a public key); ``signer`` the
    issuer's private key (defaults to ``key``: self-signed)."""
    pub = key.public_key() if hasattr(key, "public_key") else key
    signer = signer if signer is not None else key
    b = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer if issuer is not None else subject)
        .public_key(pub)
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )
    for ext, critical in extensions:
        b = b.add_extension(ext, critical=critical)
    if isinstance(signer, (ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey)):
        hash_alg = None
    return b.sign(signer, hash_alg)


def der_of(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def ski_of(key) -> x509.SubjectKeyIdentifier:
    return x509.SubjectKeyIdentifier.from_public_key(key.public_key())


def assert_fingerprints(info: CertInfo, der: bytes) -> None:
    assert info.der == der
    assert info.sha256 == hashlib.sha256(der).hexdigest()
    assert info.sha1 == hashlib.sha1(der).hexdigest()


def wrap(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        length = bytes([n])
    else:
        b = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(b)]) + b
    return bytes([tag]) + length + content


def split_cert(der: bytes) -> tuple[bytes, bytes]:
    """(TBSCertificate TLV, signatureAlgorithm TLV) of a certificate."""
    _t, cs, ce = x509_der._tlv(der, 0, len(der))
    _t, _tcs, t_ce = x509_der._tlv(der, cs, ce)
    _t, _scs, s_ce = x509_der._tlv(der, t_ce, ce)
    return der[cs:t_ce], der[t_ce:s_ce]


def sign_tbs(tbs: bytes, sigalg: bytes, key, hash_alg) -> bytes:
    """Assemble a certificate from raw TBS bytes, signed with the primitives
    (lets the tests make legacy-hash or non-DER certificates)."""
    if isinstance(key, rsa.RSAPrivateKey):
        sig = key.sign(tbs, padding.PKCS1v15(), hash_alg)
    else:
        sig = key.sign(tbs, ec.ECDSA(hash_alg))
    return wrap(0x30, tbs + sigalg + wrap(0x03, b"\x00" + sig))


SHA256_RSA_OID = b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0b"
SHA1_RSA_OID = b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x05"


def sha1_rsa_cert(subject: x509.Name, key, signer) -> bytes:
    """cryptography's builder refuses SHA-1: patch the OIDs and re-sign."""
    der = der_of(build(subject, key, signer=signer)).replace(SHA256_RSA_OID, SHA1_RSA_OID)
    tbs, sigalg = split_cert(der)
    return sign_tbs(tbs, sigalg, signer, hashes.SHA1())


@pytest.fixture(scope="module")
def ca(keys):
    """EC P-256 self-signed CA with SKI, BasicConstraints(ca, pathlen 0), KU."""
    subj = name((NameOID.COUNTRY_NAME, "US"), (NameOID.ORGANIZATION_NAME, "Test Org"), (NameOID.COMMON_NAME, "Test Root CA"))
    cert = build(
        subj,
        keys["ec"],
        serial=0x01,
        extensions=[
            (x509.BasicConstraints(ca=True, path_length=0), True),
            (ski_of(keys["ec"]), False),
            (x509.AuthorityKeyIdentifier.from_issuer_public_key(keys["ec"].public_key()), False),
            (
                x509.KeyUsage(
                    digital_signature=False, content_commitment=False, key_encipherment=False,
                    data_encipherment=False, key_agreement=False, key_cert_sign=True,
                    crl_sign=True, encipher_only=False, decipher_only=False,
                ),
                True,
            ),
        ],
    )
    return cert


@pytest.fixture(scope="module")
def leaf(keys, ca):
    """RSA-2048 leaf issued by the EC CA, with SAN DNS+IP, SKI/AKI, BC, KU, EKU."""
    subj = name(
        (NameOID.COUNTRY_NAME, "IT"),
        (NameOID.ORGANIZATION_NAME, "Example, Inc."),
        (NameOID.COMMON_NAME, "cucm.example.com"),
    )
    return build(
        subj,
        keys["rsa"],
        issuer=ca.subject,
        signer=keys["ec"],
        serial=0x75A85F6E00000000015D,
        extensions=[
            (
                x509.SubjectAlternativeName([
                    x509.DNSName("cucm.example.com"),
                    x509.DNSName("cucm"),
                    x509.IPAddress(ipaddress.ip_address("10.48.36.215")),
                    x509.IPAddress(ipaddress.ip_address("2001:db8::1")),
                ]),
                False,
            ),
            (ski_of(keys["rsa"]), False),
            (x509.AuthorityKeyIdentifier.from_issuer_public_key(keys["ec"].public_key()), False),
            (x509.BasicConstraints(ca=False, path_length=None), True),
            (
                x509.KeyUsage(
                    digital_signature=True, content_commitment=False, key_encipherment=True,
                    data_encipherment=False, key_agreement=False, key_cert_sign=False,
                    crl_sign=False, encipher_only=False, decipher_only=False,
                ),
                True,
            ),
            (
                x509.ExtendedKeyUsage([
                    ExtendedKeyUsageOID.SERVER_AUTH,
                    ExtendedKeyUsageOID.CLIENT_AUTH,
                    x509.ObjectIdentifier("1.3.6.1.4.1.99999.7"),
                ]),
                False,
            ),
        ],
    )


# ---------------------------------------------------------------------------
# well-formed certificates
# ---------------------------------------------------------------------------


def test_rsa_leaf_all_fields(leaf, ca, keys):
    der = der_of(leaf)
    info = parse_certificate(der)
    assert info.errors == ()
    assert_fingerprints(info, der)
    assert info.sha256 == leaf.fingerprint(hashes.SHA256()).hex()
    assert info.sha1 == leaf.fingerprint(hashes.SHA1()).hex()
    assert info.subject == "CN=cucm.example.com,O=Example\\, Inc.,C=IT"
    assert info.subject == leaf.subject.rfc4514_string()
    assert info.issuer == "CN=Test Root CA,O=Test Org,C=US"
    assert info.subject_cn == "cucm.example.com"
    assert info.issuer_cn == "Test Root CA"
    assert info.serial == "75a85f6e00000000015d"
    assert info.not_before == NOT_BEFORE and info.not_before.tzinfo is not None
    assert info.not_after == NOT_AFTER
    assert info.key_type == "RSA"
    assert info.key_bits == 2048
    assert info.curve is None
    assert info.signature_algorithm == "ecdsa-with-SHA256"
    assert info.signature_hash == "sha256"
    assert info.san_dns == ("cucm.example.com", "cucm")
    assert info.san_ip == ("10.48.36.215", "2001:db8::1")
    assert info.ski == ski_of(keys["rsa"]).digest.hex()
    assert info.aki == ski_of(keys["ec"]).digest.hex()
    assert info.is_ca is False
    assert info.path_length is None
    assert info.key_usage == ("digital_signature", "key_encipherment")
    assert info.extended_key_usage == ("serverAuth", "clientAuth", "1.3.6.1.4.1.99999.7")
    assert info.self_issued is False
    assert info.self_signed is False
    assert info.version == 3
    assert short_name(info) == "cucm.example.com"
    assert client_cert_kind(info) == "other"
    assert capf_id(info) is None
    assert known_ca_note(info) is None


def test_ec_ca_self_signed(ca, keys):
    der = der_of(ca)
    info = parse_certificate(der)
    assert info.errors == ()
    assert_fingerprints(info, der)
    assert info.key_type == "EC"
    assert info.key_bits == 256
    assert info.curve == "secp256r1"
    assert info.signature_algorithm == "ecdsa-with-SHA256"
    assert info.is_ca is True
    assert info.path_length == 0
    assert info.key_usage == ("key_cert_sign", "crl_sign")
    assert info.extended_key_usage == ()
    assert info.ski == info.aki == ski_of(keys["ec"]).digest.hex()
    assert info.self_issued is True
    assert info.self_signed is True
    assert info.serial == "01"


def test_ec_p384_without_extensions(keys):
    cert = build(name((NameOID.COMMON_NAME, "bare")), keys["ec384"], serial=0xABC, hash_alg=hashes.SHA384())
    info = parse_certificate(der_of(cert))
    assert info.errors == ()
    assert (info.key_type, info.key_bits, info.curve) == ("EC", 384, "secp384r1")
    assert info.signature_algorithm == "ecdsa-with-SHA384"
    assert info.signature_hash == "sha384"
    assert info.serial == "0abc"  # even length, like Zeek
    assert info.san_dns == () and info.san_ip == ()
    assert info.ski is None and info.aki is None
    assert info.is_ca is None and info.path_length is None
    assert info.key_usage == () and info.extended_key_usage == ()
    assert info.self_issued and info.self_signed


def test_ed25519_self_signed(keys):
    cert = build(name((NameOID.COMMON_NAME, "ed")), keys["ed25519"], extensions=[(ski_of(keys["ed25519"]), False)])
    info = parse_certificate(der_of(cert))
    assert info.errors == ()
    assert (info.key_type, info.key_bits, info.curve) == ("Ed25519", 256, None)
    assert info.signature_algorithm == "ed25519"
    assert info.signature_hash is None
    assert info.self_signed is True


def test_ed448_and_x25519_keys(keys):
    ed = parse_certificate(der_of(build(name((NameOID.COMMON_NAME, "ed448")), keys["ed448"])))
    assert (ed.key_type, ed.key_bits, ed.signature_algorithm, ed.self_signed) == ("Ed448", 456, "ed448", True)
    # an X25519 key cannot sign: issued by the EC key
    xc = build(
        name((NameOID.COMMON_NAME, "x25519")),
        keys["x25519"].public_key(),
        issuer=name((NameOID.COMMON_NAME, "Test Root CA")),
        signer=keys["ec"],
    )
    xi = parse_certificate(der_of(xc))
    assert xi.errors == ()
    assert (xi.key_type, xi.key_bits) == ("X25519", 253)


def test_self_issued_but_not_self_signed(keys):
    """subject == issuer, but signed by a different key: a key-rollover style cert."""
    subj = name((NameOID.ORGANIZATION_NAME, "Cisco"), (NameOID.COMMON_NAME, "cucm-EC.steven.lab"))
    cert = build(
        subj,
        keys["rsa"],
        signer=keys["rsa2"],
        extensions=[
            (ski_of(keys["rsa"]), False),
            (x509.AuthorityKeyIdentifier.from_issuer_public_key(keys["rsa2"].public_key()), False),
        ],
    )
    info = parse_certificate(der_of(cert))
    assert info.subject == info.issuer
    assert info.self_issued is True
    assert info.self_signed is False
    assert info.ski != info.aki
    assert info.errors == ()  # a bad signature is a verdict, not an error
    assert info.signature_algorithm == "sha256WithRSAEncryption"


def test_rsa_self_signed_sha1(keys):
    """cryptography's X.509 policy refuses SHA-1 signatures; self_signed must still be checked."""
    der = sha1_rsa_cert(name((NameOID.COMMON_NAME, "old")), keys["rsa"], keys["rsa"])
    info = parse_certificate(der)
    assert info.signature_algorithm == "sha1WithRSAEncryption"
    assert info.signature_hash == "sha1"
    assert info.self_signed is True
    assert info.errors == ()
    forged = sha1_rsa_cert(name((NameOID.COMMON_NAME, "old")), keys["rsa"], keys["rsa2"])
    finfo = parse_certificate(forged)
    assert finfo.self_issued is True and finfo.self_signed is False
    assert finfo.errors == ()


def test_version_1_certificate(keys):
    cert = build(name((NameOID.COMMON_NAME, "v1")), keys["ec"])
    der = der_of(cert)
    frame = x509_der._Frame.of(der)
    assert frame.tbs_children[0][0] == 0xA0
    v1 = wrap(0x30, wrap(0x30, b"".join(frame.raw(c) for c in frame.tbs_children[1:])) + frame.after_tbs)
    info = parse_certificate(v1)
    assert info.version == 1
    assert info.subject_cn == "v1"
    assert info.self_signed is False  # the TBS changed, the signature no longer matches
    assert info.self_issued is True


def test_subject_without_cn_and_multiple_cn(keys):
    no_cn = parse_certificate(der_of(build(name((NameOID.ORGANIZATION_NAME, "TestCorp")), keys["ec"])))
    assert no_cn.subject_cn is None
    assert short_name(no_cn) == "O=TestCorp"
    two = parse_certificate(der_of(build(
        name((NameOID.COMMON_NAME, "outer"), (NameOID.COMMON_NAME, "inner")), keys["ec"])))
    assert two.subject_cn == "inner"  # last in DER order: the most specific


def test_short_name_fallbacks(keys):
    empty = parse_certificate(der_of(build(x509.Name([]), keys["ec"])))
    assert empty.subject == ""
    assert short_name(empty) == empty.sha256[:16]
    garbage = parse_certificate(b"\x01\x02\x03")
    assert short_name(garbage) == hashlib.sha256(b"\x01\x02\x03").hexdigest()[:16]


def test_encipher_only_key_usage(keys):
    ku = x509.KeyUsage(
        digital_signature=False, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=True, key_cert_sign=False,
        crl_sign=False, encipher_only=True, decipher_only=False,
    )
    info = parse_certificate(der_of(build(name((NameOID.COMMON_NAME, "ka")), keys["ec"], extensions=[(ku, True)])))
    assert info.key_usage == ("key_agreement", "encipher_only")


# ---------------------------------------------------------------------------
# validity
# ---------------------------------------------------------------------------


def test_validity_at(leaf):
    info = parse_certificate(der_of(leaf))
    assert validity_at(info, NOT_BEFORE - timedelta(seconds=1)) == "not_yet_valid"
    assert validity_at(info, NOT_BEFORE) == "valid"
    assert validity_at(info, datetime(2030, 6, 1, tzinfo=UTC)) == "valid"
    assert validity_at(info, NOT_AFTER) == "valid"
    assert validity_at(info, NOT_AFTER + timedelta(seconds=1)) == "expired"
    # naive timestamps are UTC
    assert validity_at(info, datetime(2033, 1, 2, 3, 4, 6)) == "expired"
    assert validity_at(info, datetime(2033, 1, 2, 3, 4, 5)) == "valid"
    # other zones are compared as instants
    cet = timezone(timedelta(hours=1))
    assert validity_at(info, datetime(2033, 1, 2, 4, 4, 5, tzinfo=cet)) == "valid"
    assert validity_at(info, datetime(2033, 1, 2, 4, 4, 6, tzinfo=cet)) == "expired"
    assert validity_at(parse_certificate(b"junk"), datetime(2030, 1, 1, tzinfo=UTC)) == "unknown"


# ---------------------------------------------------------------------------
# Cisco classification
# ---------------------------------------------------------------------------


def test_lsc_issued_by_capf(keys):
    capf = name(
        (NameOID.LOCALITY_NAME, "Bangalore"),
        (NameOID.STATE_OR_PROVINCE_NAME, "Karnataka"),
        (NameOID.COMMON_NAME, "CAPF-a6d4c572"),
    )
    cert = build(
        name((NameOID.COMMON_NAME, "SEP001122334455")),
        keys["rsa"],
        issuer=capf,
        signer=keys["rsa2"],
        extensions=[(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), False)],
    )
    info = parse_certificate(der_of(cert))
    assert info.issuer_cn == "CAPF-a6d4c572"
    assert info.issuer == "CN=CAPF-a6d4c572,ST=Karnataka,L=Bangalore"
    assert client_cert_kind(info) == "LSC"
    assert capf_id(info) == "CAPF-a6d4c572"
    assert info.extended_key_usage == ("clientAuth",)


@pytest.mark.parametrize(
    "cn",
    ["CAPF-a6d4c57", "CAPF-a6d4c5721", "CAPF-g6d4c572", "capf-a6d4c572", "CAPF a6d4c572", "XCAPF-a6d4c572"],
)
def test_not_capf(keys, cn):
    info = parse_certificate(der_of(build(
        name((NameOID.COMMON_NAME, "SEP1")), keys["ec"],
        issuer=name((NameOID.COMMON_NAME, cn)), signer=keys["ec384"])))
    assert client_cert_kind(info) == "other"
    assert capf_id(info) is None


def test_capf_hex_is_case_insensitive(keys):
    info = parse_certificate(der_of(build(
        name((NameOID.COMMON_NAME, "SEP1")), keys["ec"],
        issuer=name((NameOID.COMMON_NAME, "CAPF-A6D4C572")), signer=keys["ec384"])))
    assert client_cert_kind(info) == "LSC"
    assert capf_id(info) == "CAPF-A6D4C572"


def test_mic_issued_by_cisco_manufacturing_ca_sha2(keys):
    cert = build(
        name((NameOID.COMMON_NAME, "CP-8845-SEP001122334455")),
        keys["rsa"],
        issuer=name((NameOID.COMMON_NAME, "Cisco Manufacturing CA SHA2"), (NameOID.ORGANIZATION_NAME, "Cisco")),
        signer=keys["rsa2"],
        serial=0x75A85F6E00000000015D,
    )
    info = parse_certificate(der_of(cert))
    assert info.issuer == "O=Cisco,CN=Cisco Manufacturing CA SHA2"
    assert info.serial == "75a85f6e00000000015d"
    assert info.signature_algorithm == "sha256WithRSAEncryption"
    assert client_cert_kind(info) == "MIC"
    assert capf_id(info) is None


@pytest.mark.parametrize(
    ("cn", "org", "expected"),
    [
        ("Cisco Manufacturing CA", None, "MIC"),
        ("Cisco Manufacturing CA", "Cisco Systems", "MIC"),
        ("Cisco Manufacturing CA SHA2", "Cisco", "MIC"),
        ("Cisco Manufacturing CA SHA2", None, "MIC"),
        ("Cisco Manufacturing CA SHA2", "Acme Lab", "other"),  # imitation
        ("CAP-RTP-001", "Cisco Systems", "MIC"),
        ("CAP-RTP-002", "Cisco Systems, Inc.", "MIC"),
        ("CAP-RTP-002", "cisco", "MIC"),
        ("CAP-RTP-001", None, "other"),  # generic name: O=Cisco required
        ("CAP-RTP-001", "Example", "other"),
        ("ACT2 SUDI CA", "Cisco", "MIC"),
        ("ACT2 SUDI CA", None, "other"),
        ("Cisco Root CA 2048", "Cisco Systems", "MIC"),
        ("Cisco Root CA M2", "Cisco", "MIC"),
        ("Cisco Manufacturing CA SHA3", "Cisco", "other"),
        ("Cisco Small Business Client Root Authority 2", "Cisco Small Business", "other"),
    ],
)
def test_mic_issuer_table(keys, cn, org, expected):
    pairs = [(NameOID.COMMON_NAME, cn)] + ([(NameOID.ORGANIZATION_NAME, org)] if org else [])
    info = parse_certificate(der_of(build(
        name((NameOID.COMMON_NAME, "SEP1")), keys["ec"], issuer=name(*pairs), signer=keys["ec384"])))
    assert client_cert_kind(info) == expected


def test_classification_of_unparseable_cert():
    info = parse_certificate(b"\x30\x03\x02\x01\x01")
    assert client_cert_kind(info) == "other"
    assert capf_id(info) is None
    assert known_ca_note(info) is None


# ---------------------------------------------------------------------------
# well-known CAs
# ---------------------------------------------------------------------------


def test_real_addtrust_external_root():
    info = parse_certificate(ADDTRUST_EXTERNAL_DER)
    assert info.errors == ()
    assert info.sha1 == "02faf3e291435468607857694df5e45b68851868"
    assert info.sha256 == "687fa451382278fff0c8b11f8d43d576671c6eb2bceab413fb83d965d06d2ff2"  # Zeek x509.log
    assert info.subject == "CN=AddTrust External CA Root,OU=AddTrust External TTP Network,O=AddTrust AB,C=SE"
    assert info.serial == "01"
    assert info.signature_algorithm == "sha1WithRSAEncryption"
    assert (info.key_type, info.key_bits) == ("RSA", 2048)
    assert info.is_ca is True
    assert info.self_issued and info.self_signed  # SHA-1 signature verified
    assert info.not_after == datetime(2020, 5, 30, 10, 48, 38, tzinfo=UTC)
    assert known_ca_note(info) == "AddTrust External CA Root (expired 2020-05-30)"
    # by fingerprint alone
    assert known_ca_note(dataclasses.replace(info, subject_cn=None)) == "AddTrust External CA Root (expired 2020-05-30)"
    assert validity_at(info, datetime(2020, 5, 30, 10, 48, 38, tzinfo=UTC)) == "valid"
    assert validity_at(info, datetime(2020, 5, 31, tzinfo=UTC)) == "expired"
    assert validity_at(info, datetime(2000, 5, 30, tzinfo=UTC)) == "not_yet_valid"


def test_addtrust_class1_by_fingerprint():
    info = dataclasses.replace(
        parse_certificate(ADDTRUST_EXTERNAL_DER),
        subject_cn=None, sha1="ccab0ea04c2301d6697bdd379fcd12eb24e3949d",
    )
    assert known_ca_note(info) == "AddTrust Class 1 CA Root (expired 2020-05-30)"


@pytest.mark.parametrize(
    ("cn", "fragment"),
    [
        ("AddTrust Class 1 CA Root", "AddTrust Class 1 CA Root (expired 2020-05-30)"),
        ("Cisco Small Business Provisioning Root Authority 1", "provisioning root CA"),
        ("Cisco Small Business Provisioning Root Authority 2", "provisioning root CA"),
        ("Cisco Small Business Client Root Authority 1", "client root CA"),
        ("Cisco Small Business Client Root Authority 2", "client root CA"),
        ("Linksys Provisioning Root Authority 1", "Linksys"),
        ("Sipura Provisioning Root Authority 1", "Sipura"),
    ],
)
def test_known_ca_by_subject_and_issuer(keys, cn, fragment):
    subj = name(
        (NameOID.ORGANIZATION_NAME, "Cisco Small Business"),
        (NameOID.COMMON_NAME, cn),
        (NameOID.EMAIL_ADDRESS, "ciscosb-certadmin@cisco.com"),
    )
    root = parse_certificate(der_of(build(subj, keys["ec"])))
    note = known_ca_note(root)
    assert note is not None and fragment in note and not note.startswith("issued by")
    leaf = parse_certificate(der_of(build(
        name((NameOID.COMMON_NAME, "prov.example.com")), keys["ec384"], issuer=subj, signer=keys["ec"])))
    lnote = known_ca_note(leaf)
    assert lnote is not None and lnote.startswith("issued by ") and fragment in lnote


def test_known_ca_none_for_ordinary(keys):
    for cn in ("Linksys Smart Wi-Fi", "www.sipura-fans.example", "AddTrust External CA Root 2"):
        info = parse_certificate(der_of(build(name((NameOID.COMMON_NAME, cn)), keys["ec"])))
        assert known_ca_note(info) is None, cn


# ---------------------------------------------------------------------------
# cache
# ---------------------------------------------------------------------------


def test_parse_chain_caches(leaf, ca, monkeypatch):
    x509_cache.clear_cache()
    a, b = der_of(leaf), der_of(ca)
    chain = parse_chain([a, b])
    assert [i.subject_cn for i in chain] == ["cucm.example.com", "Test Root CA"]
    again = parse_chain([bytearray(a), memoryview(b)])
    assert again[0] is chain[0] and again[1] is chain[1]
    assert x509_cache.cache_size() == 2
    calls = []
    real = x509_cache._parse
    monkeypatch.setattr(x509_cache, "_parse", lambda der, key: calls.append(key) or real(der, key))
    many = parse_chain([a] * 10_000)
    assert len(many) == 10_000 and calls == []
    assert parse_chain([]) == ()


def test_cache_is_bounded(keys, monkeypatch):
    x509_cache.clear_cache()
    monkeypatch.setattr(x509_cache, "CACHE_MAX", 3)
    ders = [b"not a cert %d" % i for i in range(10)]
    infos = parse_chain(ders)
    assert x509_cache.cache_size() == 3
    assert all(i.errors[0].startswith("cert_parse_error") for i in infos)
    # most recent survive
    assert parse_chain(ders[-1:])[0] is infos[-1]
    x509_cache.clear_cache()


def test_certinfo_is_frozen_and_hashable(leaf):
    info = parse_certificate(der_of(leaf))
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.subject = "x"  # type: ignore[misc]
    assert hash(info) == hash(parse_certificate(der_of(leaf)))
    assert info == parse_certificate(der_of(leaf))


# ---------------------------------------------------------------------------
# malformed input: never raises
# ---------------------------------------------------------------------------


def assert_sane(info: CertInfo, der: bytes) -> None:
    assert isinstance(info, CertInfo)
    assert_fingerprints(info, der)
    assert isinstance(info.errors, tuple)
    for e in info.errors:
        code = e.split(":", 1)[0]
        assert code.replace("_", "").isalpha() and code == code.lower(), e
    short_name(info)
    client_cert_kind(info)
    capf_id(info)
    known_ca_note(info)
    validity_at(info, datetime(2024, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize(
    "der",
    [b"", b"\x00", b"\x00" * 64, b"\xff" * 64, b"\x30", b"\x30\x80", b"\x30\x82\xff\xff",
     b"hello world, this is not DER", b"\x30\x00", b"\x30\x03\x30\x01\x00"],
)
def test_garbage(der):
    info = parse_certificate(der)
    assert_sane(info, der)
    assert len(info.errors) == 1 and info.errors[0].startswith("cert_parse_error: ")
    assert info.subject is None and info.serial is None and info.version is None
    assert info.self_issued is False and info.self_signed is False


def test_non_bytes_input():
    info = parse_certificate(bytearray(b"\x30\x00"))
    assert info.der == b"\x30\x00" and isinstance(info.der, bytes)
    assert parse_certificate(None).errors[0].startswith("cert_parse_error")  # type: ignore[arg-type]


def test_truncated_at_every_offset(leaf):
    der = der_of(leaf)
    for n in range(len(der)):
        info = parse_certificate(der[:n])
        assert_sane(info, der[:n])
        assert info.errors and info.errors[0].startswith("cert_parse_error: ")
    # trailing garbage is refused too, but still summarised by fingerprint
    assert_sane(parse_certificate(der + b"\x00"), der + b"\x00")


def test_every_single_byte_flip(leaf):
    der = der_of(leaf)
    rng = random.Random(5061)
    for i in range(len(der)):
        mutated = bytearray(der)
        mutated[i] ^= rng.choice((0x01, 0x80, 0xFF))
        assert_sane(parse_certificate(bytes(mutated)), bytes(mutated))


def _ext_value_span(der: bytes, oid: x509.ObjectIdentifier) -> tuple[int, int]:
    """(start, end) of the extnValue OCTET STRING contents of extension ``oid``."""
    frame = x509_der._Frame.of(der)
    for raw in frame.extensions_raw():
        if x509_der._ext_oid(raw) == oid.dotted_string:
            base = der.index(raw)
            _t, cs, ce = x509_der._tlv(raw, 0, len(raw))
            kids = x509_der._children(raw, cs, ce)
            _tag, _s, vcs, vce = kids[-1]
            return base + vcs, base + vce
    raise AssertionError("extension not found")


def test_corrupt_extension_falls_back_per_extension(leaf, keys):
    der = der_of(leaf)
    start, end = _ext_value_span(der, ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    assert der[start] == 0x30  # GeneralNames SEQUENCE
    bad = bytearray(der)
    bad[start] = 0x31  # SEQUENCE -> SET: the SAN no longer parses
    info = parse_certificate(bytes(bad))
    assert_sane(info, bytes(bad))
    assert any(e.startswith("bad_extensions: ") for e in info.errors)
    assert "bad_extension: 2.5.29.17: " in " ".join(info.errors)
    assert info.san_dns == () and info.san_ip == ()
    # the other extensions are still read
    assert info.ski == ski_of(keys["rsa"]).digest.hex()
    assert info.aki == ski_of(keys["ec"]).digest.hex()
    assert info.is_ca is False
    assert info.key_usage == ("digital_signature", "key_encipherment")
    assert info.extended_key_usage == ("serverAuth", "clientAuth", "1.3.6.1.4.1.99999.7")
    assert info.subject_cn == "cucm.example.com"
    assert info.serial == "75a85f6e00000000015d"


def test_flip_every_byte_of_each_extension_value(leaf):
    der = der_of(leaf)
    for oid in (ExtensionOID.SUBJECT_ALTERNATIVE_NAME, ExtensionOID.SUBJECT_KEY_IDENTIFIER,
                ExtensionOID.AUTHORITY_KEY_IDENTIFIER, ExtensionOID.BASIC_CONSTRAINTS,
                ExtensionOID.KEY_USAGE, ExtensionOID.EXTENDED_KEY_USAGE):
        start, end = _ext_value_span(der, oid)
        for i in range(start, end):
            bad = bytearray(der)
            bad[i] ^= 0xFF
            info = parse_certificate(bytes(bad))
            assert_sane(info, bytes(bad))
            assert info.subject_cn == "cucm.example.com"  # the rest of the cert is intact


def test_duplicate_extension(keys):
    # a SAN plus an IssuerAltName (same OID length) whose OID is then patched to SAN
    ian = x509.UnrecognizedExtension(
        x509.ObjectIdentifier("2.5.29.18"),
        x509.SubjectAlternativeName([x509.DNSName("second.example")]).public_bytes(),
    )
    cert = build(
        name((NameOID.COMMON_NAME, "dup")),
        keys["ec"],
        extensions=[
            (x509.SubjectAlternativeName([x509.DNSName("first.example")]), False),
            (ian, False),
            (x509.BasicConstraints(ca=False, path_length=None), True),
        ],
    )
    der = der_of(cert)
    assert der.count(b"\x06\x03\x55\x1d\x12") == 1
    bad = der.replace(b"\x06\x03\x55\x1d\x12", b"\x06\x03\x55\x1d\x11")
    info = parse_certificate(bad)
    assert_sane(info, bad)
    assert "duplicate_extension: 2.5.29.17" in info.errors
    assert info.san_dns == ("first.example",)
    assert info.is_ca is False


def test_explicit_default_false_is_recovered(keys):
    """Real-world certs encode BasicConstraints cA FALSE / critical FALSE explicitly."""
    bc_bad = x509.UnrecognizedExtension(ExtensionOID.BASIC_CONSTRAINTS, b"\x30\x03\x01\x01\x00")
    cert = build(
        name((NameOID.COMMON_NAME, "www.cviis.org")),
        keys["ec"],
        extensions=[(bc_bad, False), (x509.SubjectAlternativeName([x509.DNSName("www.cviis.org")]), False)],
    )
    der = der_of(cert)
    info = parse_certificate(der)
    assert_sane(info, der)
    assert "non_der_extension: 2.5.29.19" in info.errors
    assert info.is_ca is False and info.path_length is None
    assert info.san_dns == ("www.cviis.org",)
    # critical FALSE explicitly encoded in the Extension itself
    frame = x509_der._Frame.of(der)
    raws = frame.extensions_raw()
    san = raws[1]
    _t, cs, ce = x509_der._tlv(san, 0, len(san))
    kids = x509_der._children(san, cs, ce)
    san_explicit = wrap(0x30, san[kids[0][1]:kids[0][3]] + b"\x01\x01\x00" + san[kids[1][1]:kids[1][3]])
    tbs, sigalg = split_cert(frame.with_extensions([raws[0], san_explicit]))
    der2 = sign_tbs(tbs, sigalg, keys["ec"], hashes.SHA256())
    info2 = parse_certificate(der2)
    assert_sane(info2, der2)
    assert info2.san_dns == ("www.cviis.org",)
    assert info2.is_ca is False
    assert "non_der_extension: 2.5.29.17" in info2.errors
    assert "non_der_extension: 2.5.29.19" in info2.errors
    assert info2.subject_cn == "www.cviis.org"
    # the self-signature is checked over the ORIGINAL bytes
    assert info2.self_issued is True and info2.self_signed is True


def _patch_serial(der: bytes, old: int, new: bytes) -> bytes:
    pattern = b"\xa0\x03\x02\x01\x02\x02\x01" + bytes([old])
    assert der.count(pattern) == 1
    return der.replace(pattern, b"\xa0\x03\x02\x01\x02\x02\x01" + new)


@pytest.mark.parametrize(("new", "expected"), [(b"\xa5", "-5b"), (b"\x00", "00")])
def test_nonpositive_serial(keys, new, expected):
    der = _patch_serial(der_of(build(name((NameOID.COMMON_NAME, "neg")), keys["ec"], serial=0x5A)), 0x5A, new)
    info = parse_certificate(der)
    assert_sane(info, der)
    if info.errors and info.errors[0].startswith("cert_parse_error"):
        pytest.skip("this cryptography release refuses non-positive serials")  # pragma: no cover
    assert info.serial == expected
    assert f"nonpositive_serial: {expected}" in info.errors
    assert info.subject_cn == "neg"


def test_unsupported_public_key_algorithm(keys):
    """An SPKI with an unknown algorithm OID: key_type is the OID, bits from the BIT STRING."""
    ski = ski_of(keys["rsa"])
    cert = build(
        name((NameOID.COMMON_NAME, "weird-key")),
        keys["rsa"],
        extensions=[(ski, False), (x509.AuthorityKeyIdentifier(ski.digest, None, None), False)],
    )
    der = der_of(cert)
    rsa_oid = b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01"
    assert der.count(rsa_oid) == 1
    bad = der.replace(rsa_oid, rsa_oid[:-1] + b"\x63")  # 1.2.840.113549.1.1.99
    info = parse_certificate(bad)
    assert_sane(info, bad)
    assert info.key_type == "1.2.840.113549.1.1.99"
    pkcs1 = keys["rsa"].public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    assert info.key_bits == len(pkcs1) * 8
    assert any(e.startswith("bad_public_key: ") for e in info.errors)
    assert any(e.startswith("signature_unverifiable: ") for e in info.errors)
    assert info.self_issued is True
    assert info.self_signed is True  # unverifiable: SKI == AKI decides
    assert info.subject_cn == "weird-key"


def test_unknown_signature_algorithm(keys):
    cert = build(name((NameOID.COMMON_NAME, "sig")), keys["rsa"], issuer=name((NameOID.COMMON_NAME, "other")),
                 signer=keys["rsa2"])
    der = der_of(cert)
    sha256rsa = b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0b"
    assert der.count(sha256rsa) == 2  # TBS and outer
    bad = der.replace(sha256rsa, sha256rsa[:-1] + b"\x62")
    info = parse_certificate(bad)
    assert_sane(info, bad)
    assert info.signature_algorithm is None
    assert info.signature_hash is None
    assert info.subject_cn == "sig" and info.key_type == "RSA"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2048))
def test_hypothesis_random_bytes(data):
    assert_sane(parse_certificate(data), data)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_hypothesis_mutated_real_cert(data):
    der = ADDTRUST_EXTERNAL_DER
    n = data.draw(st.integers(1, 8))
    mutated = bytearray(der)
    for _ in range(n):
        i = data.draw(st.integers(0, len(der) - 1))
        mutated[i] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(len(der) // 2, len(der)))
    blob = bytes(mutated[:cut])
    assert_sane(parse_certificate(blob), blob)


# ---------------------------------------------------------------------------
# real-world certificates vs. Zeek's x509.log (needs the corpus and tshark)
# ---------------------------------------------------------------------------

CORPUS = corpus_file("zeek-zeek")
TSHARK = shutil.which("tshark") or ("/usr/bin/tshark" if os.path.exists("/usr/bin/tshark") else None)
ZEEK_TRACES = {
    "basic": "tls-conn-with-extensions.pcap",
    "ecdsa": "ecdsa-cert.pcap",
    "ml-dsa-44-cert": "ml-dsa-44-cert.pcap",
    "tls-1.2": "tls1.2.pcap",
    "tls1_1": "tls1_1.pcap",
}


def _tshark_certs(pcap: Path) -> list[bytes]:
    out = subprocess.run(
        [TSHARK, "-n", "-r", str(pcap), "-Y", "tls.handshake.certificate", "-T", "fields",
         "-e", "tls.handshake.certificate"],
        capture_output=True, text=True, timeout=60, check=False,
    ).stdout
    return [bytes.fromhex(h) for line in out.split() for h in line.split(",") if h]


@pytest.fixture(scope="module")
def zeek_rows():
    if TSHARK is None or not CORPUS.is_dir():
        pytest.skip("tshark or the public corpus is not available")
    ders: dict[str, bytes] = {}
    rows = []
    for baseline, trace in ZEEK_TRACES.items():
        log = CORPUS / "baselines" / baseline / "x509.log"
        if not log.exists() or not (CORPUS / trace).exists():
            continue
        fields = None
        for line in log.read_text().splitlines():
            if line.startswith("#fields"):
                fields = line.split("\t")[1:]
            elif line and not line.startswith("#"):
                rows.append(dict(zip(fields, line.split("\t"))))
        for der in _tshark_certs(CORPUS / trace):
            ders[hashlib.sha256(der).hexdigest()] = der
    if not rows:
        pytest.skip("no Zeek x509 baselines")
    return rows, ders


_ZEEK_CURVES = {"prime256v1": "secp256r1"}


def test_real_certs_match_zeek(zeek_rows):
    rows, ders = zeek_rows
    checked = 0
    for row in rows:
        der = ders.get(row["fingerprint"])
        if der is None:
            continue
        info = parse_certificate(der)
        assert info.sha256 == row["fingerprint"]
        assert info.version == int(row["certificate.version"])
        assert info.serial == row["certificate.serial"].lower()
        # Zeek writes OpenSSL's RFC 2253 form: keys differ in case (street/STREET),
        # and OpenSSL names postalCode where RFC 4514 gives the dotted OID
        assert info.subject.lower().replace("2.5.4.17=", "postalcode=") == row["certificate.subject"].lower()
        assert info.issuer.lower() == row["certificate.issuer"].lower()
        assert info.not_before.timestamp() == float(row["certificate.not_valid_before"])
        assert info.not_after.timestamp() == float(row["certificate.not_valid_after"])
        assert info.signature_algorithm == row["certificate.sig_alg"]
        assert info.key_bits == int(row["certificate.key_length"])
        if row["certificate.curve"] != "-":
            assert info.curve == _ZEEK_CURVES.get(row["certificate.curve"], row["certificate.curve"])
        zdns = row["san.dns"]
        assert info.san_dns == (tuple(zdns.split(",")) if zdns != "-" else ())
        zca = row["basic_constraints.ca"]
        assert info.is_ca == {"T": True, "F": False, "-": None}[zca]
        zpl = row["basic_constraints.path_len"]
        assert info.path_length == (None if zpl == "-" else int(zpl))
        assert info.errors == ()
        checked += 1
    assert checked >= 8


def test_real_ml_dsa_cert(zeek_rows):
    _rows, ders = zeek_rows
    der = ders.get("fd95785a038018dccb84cd816602920a1e010d8acd9ce63407aa68440f595758")
    if der is None:
        pytest.skip("ML-DSA trace not available")
    info = parse_certificate(der)
    assert info.key_type == "ML-DSA-44"
    assert info.signature_algorithm == "ML-DSA-44"
    assert info.key_bits == 10496
    assert info.self_issued and info.self_signed
    assert short_name(info) == "ml-dsa.example.com"


def test_real_chain_addtrust_issued(zeek_rows):
    _rows, ders = zeek_rows
    der = ders.get("7363593d116aafcf804b974465546e1f02ed74b52db529ba7520345e5fed1ed4")
    if der is None:
        pytest.skip("tls1_1 trace not available")
    info = parse_certificate(der)
    assert info.subject_cn == "COMODO High-Assurance Secure Server CA"
    assert known_ca_note(info) == "issued by AddTrust External CA Root (expired 2020-05-30)"
    assert validity_at(info, datetime(2020, 6, 1, tzinfo=UTC)) == "expired"


def test_real_certs_subject_matches_tshark_x509sat():
    """The subject CN tshark shows (x509sat string fields) is the one we report."""
    pcap = CORPUS / "ecdsa-cert.pcap"
    if TSHARK is None or not pcap.exists():
        pytest.skip("tshark or corpus missing")
    out = subprocess.run(
        [TSHARK, "-n", "-r", str(pcap), "-Y", "tls.handshake.certificate", "-T", "fields",
         "-E", "occurrence=a", "-e", "x509sat.printableString", "-e", "x509sat.uTF8String"],
        capture_output=True, text=True, timeout=60, check=False,
    ).stdout
    shown = set(",".join(out.split("\t")).replace("\n", ",").split(","))
    infos = parse_chain(_tshark_certs(pcap))
    assert infos
    for info in infos:
        for value in (info.subject_cn, info.issuer_cn):
            assert value in shown
