"""TLS 1.3 with a key log: the encrypted handshake revealed (certificates, alerts), checked
against what OpenSSL itself did in the same handshake."""

import functools
import ssl

import pytest
from typer.testing import CliRunner

import inspector
from inspector.cli.app import app
from synth import pki
from synth.frames import tcp_packets
from synth.handshake import client_context, run_handshake, server_context
from synth.pcapio import write_capture
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
    r = CliRunner().invoke(app, ["report", pcap, "--keylog", str(bad)])  # issue 11.11: a warning, not exit 2
    assert r.exit_code == 0 and "keylog_empty" in r.output and "no key log lines" in r.output
    assert "server sent an encrypted alert" in r.output


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


def tampered_resumption(tmp: str):
    """TLS 1.2 resumption whose client Finished is corrupted on the wire: in an abbreviated
    handshake the server has already sent its ChangeCipherSpec, so its fatal alert is encrypted."""
    tls12 = ssl.TLSVersion.TLSv1_2
    server = server_context(pki.cucm_tomcat(), max_version=tls12, session_tickets=False,
                            ciphers="ECDHE-RSA-AES128-GCM-SHA256")
    keylog = f"{tmp}/keys12.log"
    client = client_context(trusted_cas=[pki.example_root_ca().cert], max_version=tls12, keylog_filename=keylog)
    first = run_handshake(server, client, sni="cucm1.example.lab", close=True)  # clean close keeps the session
    c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
    cli = client.wrap_bio(c_in, c_out, server_hostname="cucm1.example.lab", session=first.session)
    srv = server.wrap_bio(s_in, s_out, server_side=True)
    chunks, server_error = [], None
    for _ in range(20):
        for obj in (cli, srv):
            try:
                obj.do_handshake()
            except ssl.SSLWantReadError:
                pass
            except ssl.SSLError as e:
                server_error = str(e)
        data = c_out.read()
        if data:
            if cli.session_reused and b"\x14\x03\x03" in data:  # client CCS + Finished: corrupt Finished
                data = data[:-3] + bytes([data[-3] ^ 0xFF]) + data[-2:]
            chunks.append(("c2s", data))
            s_in.write(data)
        data = s_out.read()
        if data:
            chunks.append(("s2c", data))
            c_in.write(data)
        if server_error:
            break
    from synth.handshake import Conversation
    pcap = f"{tmp}/tampered12.pcap"
    write_capture(pcap, tcp_packets(Conversation(chunks=chunks), client=("10.48.36.10", 52400),
                                    server=("10.48.36.215", 8443)))
    return server_error, pcap, keylog


def test_tls12_encrypted_alert_is_read_with_the_master_secret(tmp_path):
    server_error, pcap, keylog = tampered_resumption(str(tmp_path))
    assert server_error and ("MAC" in server_error.upper() or "DECRYPT" in server_error.upper())
    plain = inspector.read_capture(pcap).flows.iloc[0]
    assert plain.resumed and list(plain.alerts) == ["server:encrypted:encrypted_alert"]
    f = inspector.read_capture(pcap, keylog=keylog).flows.iloc[0]
    assert f.decrypted and f.alerts[0] in ("server:fatal:bad_record_mac", "server:fatal:decrypt_error")
    assert f.outcome == "failed" and f.outcome_detail.startswith("server sent fatal")


@pytest.mark.parametrize("engine", ["python", "rust", "tshark"])
def test_every_engine_waits_for_the_servers_verdict_after_an_abbreviated_handshake(tmp_path, engine):
    """In a resumption the client's Finished comes last: the handshake is not over at the second
    Finished, the server's next record (here its encrypted alert) is its verdict (interpret.tls12_over)."""
    _, pcap, _ = tampered_resumption(str(tmp_path))
    f = inspector.read_capture(pcap, engine=engine).flows.iloc[0]
    assert f.resumed and list(f.alerts) == ["server:encrypted:encrypted_alert"]


def test_tls12_prf_vector():
    """The TLS 1.2 PRF (P_SHA256) test vector published on the IETF TLS list."""
    from cryptography.hazmat.primitives import hashes
    from inspector.tls.decrypt import tls12_prf
    out = tls12_prf(bytes.fromhex("9bbe436ba940f017b17652849a71db35"), b"test label",
                    bytes.fromhex("a0ba9f936cda311827a6f796ffd5198c"), 100, hashes.SHA256)
    assert out.hex().startswith("e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a")
