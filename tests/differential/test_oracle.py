"""Unit tests of oracle, the tshark side of the corpus comparison.

The parser is tested on hand-written ``-T fields`` lines (no tshark needed); the rest runs tshark
on a few corpus files and checks values read by hand from ``tshark -V`` (the text output):
SNI, cipher suite, certificate lengths and subjects (x509sat rdnSequence), alert fields.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest

from corpus import CORPUS

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # allow plain `pytest` without an install
    sys.path.insert(0, str(ROOT))

import oracle  # noqa: E402
from oracle import (  # noqa: E402
    AGGREGATOR,
    FIELDS,
    TsharkError,
    alert_description_name,
    find_tshark,
    parse_fields_output,
    tshark_command,
    tshark_flows,
    version_name,
)

US = AGGREGATOR


def _line(**values: str) -> str:
    """One ``-T fields`` output line; keyword names are FIELDS with '.' -> '__'."""
    row = {f: "" for f in FIELDS}
    for k, v in values.items():
        name = k.replace("__", ".")
        assert name in row, name
        row[name] = v
    return "\t".join(row[f] for f in FIELDS)


def _pkt(frame: int, stream: int, src: str, sport: int, dst: str, dport: int, **tls: str) -> str:
    return _line(frame__number=str(frame), frame__protocols="eth:ethertype:ip:tcp:tls",
                 tcp__stream=str(stream), ip__src=src, ip__dst=dst, tcp__srcport=str(sport),
                 tcp__dstport=str(dport), **tls)


def _cert(n: int, fill: int) -> bytes:
    return bytes([0x30, 0x82, (n - 4) >> 8, (n - 4) & 0xFF]) + bytes([fill]) * (n - 4)


# ---------------------------------------------------------------------------------------------
# no tshark needed


def test_command_has_the_documented_options():
    cmd = tshark_command("x.pcap", ports=(443, 8443), extra_decode_as=("tcp.port==4433,tls",),
                         tshark="/usr/bin/tshark")
    assert cmd[:4] == ["/usr/bin/tshark", "-n", "-r", "x.pcap"]
    joined = " ".join(cmd)
    for opt in ("-o tls.desegment_ssl_records:TRUE", "-o tls.desegment_ssl_application_data:TRUE",
                "-o tcp.reassemble_out_of_order:TRUE", "-d tcp.port==443,tls",
                "-d tcp.port==8443,tls", "-d tcp.port==4433,tls", "-T fields",
                "-E occurrence=a", f"-E aggregator={US}", "-E separator=/t"):
        assert opt in joined, opt
    assert [cmd[i + 1] for i, a in enumerate(cmd) if a == "-e"] == list(FIELDS)
    # every field in the docstring's command
    for f in FIELDS:
        assert f"-e {f}" in oracle.__doc__


def test_names():
    assert version_name(0x0303) == "TLS 1.2"
    assert version_name(0x0002) == "SSL 2.0"
    assert version_name(0x7F10) == "TLS 1.3 (draft 16)"
    assert version_name(0xFB1A) == "TLS 1.3 (Facebook draft 26)"
    assert version_name(0x1234) == "0x1234"
    assert version_name(None) is None
    assert alert_description_name(48) == "unknown_ca"
    assert alert_description_name(112) == "unrecognized_name"
    assert alert_description_name(200) == "unknown(200)"


def test_parse_roles_chains_and_alerts():
    s1, s2, s3, c1 = _cert(300, 1), _cert(200, 2), _cert(100, 3), _cert(150, 4)
    renego = _cert(120, 5)
    text = "\n".join([
        # SYN only: sets the first frame, no TLS
        _pkt(1, 0, "10.0.0.1", 50000, "10.0.0.2", 4433),
        _pkt(4, 0, "10.0.0.1", 50000, "10.0.0.2", 4433, tls__record__version="0x0301",
             tls__handshake__type="1", tls__handshake__version="0x0303",
             tls__handshake__extensions__supported_version=f"0x0304{US}0x0303",
             tls__handshake__ciphersuite=f"0x1301{US}0xc02f",
             tls__handshake__extensions_server_name="a|b.example"),
        # ServerHello + Certificate(2) + CertificateRequest + ServerHelloDone in one packet
        _pkt(6, 0, "10.0.0.2", 4433, "10.0.0.1", 50000,
             tls__record__version=US.join(["0x0303"] * 4),
             tls__handshake__type=f"2{US}11{US}13{US}14", tls__handshake__version="0x0303",
             tls__handshake__ciphersuite="0xc02f",
             tls__handshake__certificates_length=str(3 + 300 + 3 + 200),
             tls__handshake__certificate_length=f"300{US}200",
             tls__handshake__certificate=f"{s1.hex()}{US}{s2.hex()}"),
        # client: Certificate(1), then a second Certificate message in the same packet
        _pkt(8, 0, "10.0.0.1", 50000, "10.0.0.2", 4433,
             tls__record__version=f"0x0303{US}0x0303",
             tls__handshake__type=f"11{US}11",
             tls__handshake__certificates_length=f"{3 + 150}{US}{3 + 120}",
             tls__handshake__certificate_length=f"150{US}120",
             tls__handshake__certificate=f"{c1.hex()}{US}{renego.hex()}"),
        # a second server Certificate (renegotiation): the first one is kept
        _pkt(9, 0, "10.0.0.2", 4433, "10.0.0.1", 50000, tls__record__version="0x0303",
             tls__handshake__type="11", tls__handshake__certificates_length=str(3 + 100),
             tls__handshake__certificate_length="100", tls__handshake__certificate=s3.hex()),
        _pkt(10, 0, "10.0.0.2", 4433, "10.0.0.1", 50000, tls__record__version="0x0303",
             tls__alert_message__level="2", tls__alert_message__desc="48"),
        # stream 1: only an alert, sent from the TLS port: the other side is the client
        _pkt(20, 1, "10.0.0.9", 443, "10.0.0.1", 50001, tls__record__version="0x0303",
             tls__alert_message__level="1", tls__alert_message__desc="0"),
    ])
    flows = parse_fields_output(text, ports=(443,))
    assert [f.stream for f in flows] == [0, 1]
    f, g = flows
    assert f.key == ("10.0.0.1", 50000, "10.0.0.2", 4433)
    assert f.first_frame == 1 and f.frames == (4, 6, 8, 9, 10)
    assert (f.client_hellos, f.server_hellos) == (1, 1)
    assert f.sni == "a|b.example"  # '|' in a value is safe with the US aggregator
    assert f.version == 0x0303 and f.tls_version == "TLS 1.2" and f.cipher_id == 0xC02F
    assert f.server_chain == (s1, s2)
    assert f.server_chain_sha256 == tuple(hashlib.sha256(d).hexdigest() for d in (s1, s2))
    assert f.client_certificate_sent and f.client_chain == (c1,)
    assert f.alert_strings == ("server:fatal:unknown_ca",)
    assert f.alerts[0].frame == 10 and f.notes == ()
    assert g.key == ("10.0.0.1", 50001, "10.0.0.9", 443)
    assert not g.has_hello and g.alert_strings == ("server:warning:close_notify",)


def test_parse_tls13_supported_version_and_sslv2():
    text = "\n".join([
        _pkt(3, 0, "10.0.0.1", 40000, "10.0.0.2", 443, tls__record__version="0x0301",
             tls__handshake__type="1", tls__handshake__version="0x0303",
             tls__handshake__extensions__supported_version=f"0x0304{US}0x0303"),
        _pkt(5, 0, "10.0.0.2", 443, "10.0.0.1", 40000, tls__record__version=f"0x0303{US}0x0303",
             tls__handshake__type="2", tls__handshake__version="0x0303",
             tls__handshake__extensions__supported_version="0x0304",
             tls__handshake__ciphersuite="0x1302"),
        # SSLv2: ServerHello is type 4 and carries the certificate
        _pkt(4, 1, "10.0.0.3", 40001, "10.0.0.4", 443, tls__record__version="0x0002",
             tls__handshake__type="1", tls__handshake__version="0x0002"),
        _pkt(6, 1, "10.0.0.4", 443, "10.0.0.3", 40001, tls__record__version="0x0002",
             tls__handshake__type="4", tls__handshake__version="0x0002",
             tls__handshake__certificate_length="50",
             tls__handshake__certificate=_cert(50, 7).hex()),
    ])
    f, g = parse_fields_output(text)
    assert f.tls_version == "TLS 1.3" and f.cipher_id == 0x1302 and f.server_chain == ()
    assert g.tls_version == "SSL 2.0" and g.cipher_id is None and g.server_chain == (_cert(50, 7),)
    assert (g.client_hellos, g.server_hellos) == (1, 1)
    assert g.key == ("10.0.0.3", 40001, "10.0.0.4", 443)


def test_parse_ipv6_and_truncated_certificate_note():
    der = _cert(40, 9)
    text = _line(frame__number="7", frame__protocols="eth:ethertype:ipv6:tcp:tls", tcp__stream="0",
                 ipv6__src="fd00:0:0:0::2", ipv6__dst="fd00::1", tcp__srcport="443",
                 tcp__dstport="1234", tls__record__version="0x0303", tls__handshake__type="11",
                 tls__handshake__certificates_length=str(3 + 45),
                 tls__handshake__certificate_length="45", tls__handshake__certificate=der.hex())
    (f,) = parse_fields_output(text)
    assert f.server_ip == "fd00::2" and f.client_ip == "fd00::1"  # compressed, like the engine
    assert f.server_chain == (der,)
    assert f.notes and "40 of the 45 bytes" in f.notes[0]


# ---------------------------------------------------------------------------------------------
# tshark on corpus files (values read by hand from `tshark -V`)

TSHARK = find_tshark()
needs_corpus = pytest.mark.skipif(TSHARK is None or CORPUS is None,
                                  reason="tshark or the public corpus is not available")


def _leaf_names(der: bytes) -> tuple[str, str]:
    from cryptography import x509
    cert = x509.load_der_x509_certificate(der)
    return cert.subject.rfc4514_string(), cert.issuer.rfc4514_string()


@needs_corpus
def test_client_certificate_pcap():
    (f,) = tshark_flows(CORPUS / "zeek-zeek/client-certificate.pcap")
    assert f.key == ("192.168.0.64", 49480, "54.36.191.227", 443)
    assert f.sni == "certauth.idrix.fr"
    assert f.tls_version == "TLS 1.2" and f.cipher_id == 0xC030  # ECDHE_RSA_AES_256_GCM_SHA384
    # frame 11: Certificates Length 4018 = 1323 + 1306 + 1380 + 3*3
    assert [len(d) for d in f.server_chain] == [1323, 1306, 1380]
    assert f.server_chain_sha256 == (
        "4983a8a16d7e3954eceffda10e1a198388b334f71ba311acd99f89984739297e",
        "67add1166b020ae61b8f5fc96813c04c2aa589960796865572a3c7e737613dfd",
        "6d99fb265eb1c5b3744765fcbc648f3cd8e1bffafdc4c2f99b9d47cf7ff1c24f",
    )
    assert _leaf_names(f.server_chain[0]) == ("CN=certauth.idrix.fr", "CN=R3,O=Let's Encrypt,C=US")
    # frame 15, from the client: Certificates Length 3423 = 1512 + 1905 + 2*3
    assert [len(d) for d in f.client_chain] == [1512, 1905]
    assert f.client_chain_sha256 == (
        "a1f55d76849597ea678caa765fddf967cb1d9150a29c4e4479c58e0bafaaedc3",
        "bb4d3ee661e5029409db6740b9951494a7f22a7bc0fdc1a1900c07a4781f1419",
    )
    assert _leaf_names(f.client_chain[0])[0] == "CN=johanna@corelight.com"
    assert f.alerts == () and f.notes == ()


@needs_corpus
def test_certificate_request_failed_pcap():
    # IPv6, port 3000 (found by tshark's TCP heuristic), empty client Certificate, then
    # frame 9: Alert (Level: Fatal (2), Description: Handshake Failure (40)) from port 3000
    (f,) = tshark_flows(CORPUS / "zeek-zeek/certificate-request-failed.pcap")
    assert f.key == ("fd42:496a:d659:bb85::1", 52464, "fd42:496a:d659:bb85:216:3eff:fe6a:a257", 3000)
    assert f.sni is None and f.tls_version == "TLS 1.2" and f.cipher_id == 0xC030
    assert len(f.server_chain) == 2
    assert f.client_certificate_sent and f.client_chain == ()
    (a,) = f.alerts
    assert (a.frame, a.sender, a.level, a.description) == (9, "server", 2, 40)
    assert str(a) == "server:fatal:handshake_failure"


@needs_corpus
def test_sslv2_server_hello_certificate():
    # frame 6: SSLv2 Server Hello (4), Certificate Length 903, subject CN=plesk
    (f,) = tshark_flows(CORPUS / "zeek-zeek/ssl-v2.pcap")
    assert f.key == ("192.168.4.149", 59062, "91.227.4.92", 443)
    assert f.tls_version == "SSL 2.0" and f.cipher_id is None
    assert [len(d) for d in f.server_chain] == [903]
    assert f.server_chain_sha256 == ("8ce7a4de80166f6198ad559e2aaaa0d858ad2fb173557a9b159cfcaf4760beef",)
    assert "CN=plesk" in _leaf_names(f.server_chain[0])[0]


@needs_corpus
def test_tls13_draft_server_hello():
    # frames 6 and 21: Version: TLS 1.3 (draft 16) (0x7f10), Cipher Suite 0x1303;
    # frame 8: Alert Fatal Unknown CA (48) from the client
    f, g = tshark_flows(CORPUS / "zeek-zeek/tls13draft16-ff52.a01.pcap")
    for fl in (f, g):
        assert fl.tls_version == "TLS 1.3 (draft 16)" and fl.cipher_id == 0x1303
        assert fl.server_chain == ()  # encrypted in TLS 1.3
    assert f.alert_strings == ("client:fatal:unknown_ca",) and f.alerts[0].frame == 8
    assert g.alerts == ()


@needs_corpus
def test_partial_file_and_truncated_certificate():
    p = CORPUS / "OISF-suricata-verify/bug-1450-04__tls_DER-incomplete-header.pcap"
    # tshark: "appears to be damaged or corrupt" after frame 6; frame 6 has Certificate Length 9
    # but the certificate field shows 7 bytes (30053084ffffff)
    (f,) = tshark_flows(p)
    assert f.server_port == 10443 and f.cipher_id == 0xC014
    assert f.server_chain == (bytes.fromhex("30053084ffffff"),)
    assert "7 of the 9 bytes" in f.notes[0]
    with pytest.raises(TsharkError, match="damaged or corrupt"):
        tshark_flows(p, strict=True)


@needs_corpus
def test_decode_as_hint():
    p = CORPUS / "Lekensteyn-wireshark-notes/sslv2.pcapng"
    assert tshark_flows(p) == []  # SSLv2 on 4433: tshark needs a hint
    (f,) = tshark_flows(p, extra_decode_as=("tcp.port==4433,tls",))
    assert f.server_port == 4433 and f.tls_version == "SSL 2.0" and len(f.server_chain) == 1


@pytest.mark.skipif(TSHARK is None, reason="tshark not available")
def test_not_a_capture_raises(tmp_path):
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(b"this is not a capture file at all\n" * 4)
    with pytest.raises(TsharkError):
        tshark_flows(bad)


def test_missing_tshark_raises(tmp_path):
    with pytest.raises(TsharkError):
        tshark_flows(tmp_path / "x.pcap", tshark=str(tmp_path / "no-such-tshark"))


def test_the_oracle_decodes_the_domain_tls_ports():
    """The oracle tells tshark to decode TLS on the same ports the engines treat as TLS."""
    from inspector.domain import TLS_PORTS
    assert oracle.DEFAULT_PORTS == TLS_PORTS
    cmd = oracle.tshark_command("x.pcap")
    assert all(f"tcp.port=={p},tls" in cmd for p in TLS_PORTS)
