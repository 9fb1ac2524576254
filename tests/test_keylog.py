"""TLS 1.3 with a key log: the encrypted handshake revealed (certificates, alerts), checked
against what OpenSSL itself did in the same handshake."""

import functools
import ssl

import pytest
from typer.testing import CliRunner

import inspector
from inspector.cli import app
from inspector.synth import pki
from inspector.synth.frames import tcp_packets
from inspector.synth.handshake import client_context, run_handshake, server_context
from inspector.synth.pcapio import write_capture
from inspector.tls.decrypt import hkdf_expand_label, parse_keylog

TLS13 = ssl.TLSVersion.TLSv1_3


@functools.lru_cache(maxsize=None)
def lsc_rejected_tls13(tmp: str):
    """A phone on TLS 1.3 with an old-cluster LSC: the server's unknown_ca alert is encrypted."""
    server = server_context(pki.cucm_callmanager(), min_version=TLS13, request_client_cert=True,
                            trusted_cas=[pki.capf_a6d4c572().cert])
    keylog = f"{tmp}/keys.log"
    client = client_context(trusted_cas=[pki.cucm_callmanager().cert], min_version=TLS13,
                            client_identity=pki.phone_lsc_old_cluster(), keylog_filename=keylog)
    conv = run_handshake(server, client, sni=None)
    pcap = f"{tmp}/lsc13.pcap"
    write_capture(pcap, tcp_packets(conv, client=("10.10.1.20", 51000), server=("10.48.36.215", 5061)))
    return conv, pcap, keylog


@pytest.fixture(scope="module")
def lsc13(tmp_path_factory):
    return lsc_rejected_tls13(str(tmp_path_factory.mktemp("k13")))


def test_without_keylog_the_rejection_is_inferred_from_sizes(lsc13):
    conv, pcap, _ = lsc13
    assert conv.server_error and "verify failed" in conv.server_error  # what OpenSSL decided
    f = inspector.read_capture(pcap).flows.iloc[0]
    assert f.tls_version == "TLS 1.3" and f.outcome == "failed"
    assert f.outcome_detail.startswith("server sent an encrypted alert")
    assert not f.certs_visible and not f.decrypted


def test_with_keylog_the_alert_and_both_chains_are_revealed(lsc13):
    conv, pcap, keylog = lsc13
    cap = inspector.read_capture(pcap, keylog=keylog)
    f = cap.flows.iloc[0]
    assert f.decrypted and f.certs_visible
    assert list(f.alerts) == ["server:fatal:unknown_ca"]
    assert f.outcome_detail == "server sent fatal unknown_ca after the client's Certificate"
    assert f.client_issuer == pki.phone_lsc_old_cluster().cert.issuer.rfc4514_string()
    assert f.client_cert_kind == "LSC"
    assert f.server_subject == pki.cucm_callmanager().cert.subject.rfc4514_string()
    assert f.client_cert_requested
    assert "unknown_ca" in set(cap.findings.code)


def test_keylog_on_the_command_line(lsc13, tmp_path):
    _, pcap, keylog = lsc13
    r = CliRunner().invoke(app, ["report", pcap, "--keylog", keylog])
    assert r.exit_code == 0 and "server sent fatal unknown_ca" in r.output
    bad = tmp_path / "empty.log"
    bad.write_text("nothing here\n")
    r = CliRunner().invoke(app, ["report", pcap, "--keylog", str(bad)])
    assert r.exit_code == 2 and "no key log lines" in r.output


def test_bundled_tls13_sample_with_its_keylog():
    cap = inspector.read_capture("pcaps/tls13_443.pcap", keylog="pcaps/tls13_443.keylog")
    f = cap.flows.iloc[0]
    assert f.outcome == "established" and f.decrypted
    assert f.server_subject.startswith("CN=expressway-e.example.lab")
    assert len(f.server_chain_sha256) == 2


def test_wrong_keys_are_a_warning_not_a_crash(lsc13, tmp_path):
    conv, pcap, keylog = lsc13
    text = open(keylog).read()
    lines = [l.split() for l in text.splitlines() if l.strip() and not l.startswith("#")]
    forged = "\n".join(f"{a} {b} {'00' * (len(c) // 2)}" for a, b, c in lines)
    path = tmp_path / "forged.log"
    path.write_text(forged)
    f = inspector.read_capture(pcap, keylog=path).flows.iloc[0]
    assert "decryption_failed" in f.warnings and f.outcome == "failed"


def test_hkdf_expand_label_rfc8448_vector():
    """RFC 8448 section 3: server handshake key and IV from its handshake traffic secret."""
    from cryptography.hazmat.primitives import hashes
    secret = bytes.fromhex("b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38")
    assert hkdf_expand_label(secret, b"key", b"", 16, hashes.SHA256).hex() == "3fce516009c21727d0f2e4e86ee403bc"
    assert hkdf_expand_label(secret, b"iv", b"", 12, hashes.SHA256).hex() == "5d313eb2671276ee13000b30"


def test_parse_keylog_skips_garbage():
    log = parse_keylog("# comment\nCLIENT_RANDOM zz 00\nSERVER_HANDSHAKE_TRAFFIC_SECRET "
                       + "ab" * 32 + " " + "cd" * 32 + "\nrubbish\n")
    assert len(log) == 1 and log.bad_lines == 2
