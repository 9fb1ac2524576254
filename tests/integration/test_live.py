"""``tlsinspect live`` on the loopback interface, with real handshakes made during the test.

A Python ``ssl`` server on 127.0.0.1 (a self-signed RSA certificate) answers clients: one that
trusts the certificate (an established TLS 1.2 handshake) and one that does not (the client sends
a fatal unknown_ca).  The clients repeat, a bounded number of rounds, until the live output shows
both flows; then the test sends SIGTERM and checks the summary, the JSON lines and the ``-w`` file.
Needs root (or capture rights) and dumpcap; skipped otherwise.  The permission and missing-tool
messages are checked without capturing.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import inspector

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "live-test.example.lab")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("live-test.example.lab")]), False)
            .sign(key, hashes.SHA256()))
    cert_pem, key_pem = tmp / "cert.pem", tmp / "key.pem"
    cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    return cert_pem, key_pem


class TlsServer:
    """Accepts connections on 127.0.0.1 in a thread until closed."""

    def __init__(self, cert: Path, key: Path) -> None:
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.maximum_version = ssl.TLSVersion.TLSv1_2  # certificates and alerts in clear text
        self.ctx.load_cert_chain(cert, key)
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.sock.settimeout(0.5)
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, socket.timeout, OSError):
                continue
            conn.settimeout(5)
            try:
                with self.ctx.wrap_socket(conn, server_side=True) as tls:
                    tls.sendall(b"hello\n")
            except (ssl.SSLError, OSError):
                pass

    def close(self) -> None:
        self.running = False
        self.thread.join(timeout=5)
        self.sock.close()


def _client(port: int, cafile: Path | None) -> None:
    ctx = ssl.create_default_context(cafile=str(cafile) if cafile else None)
    if cafile is None:  # trusts nothing we serve: a fatal unknown_ca from the client
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_default_certs()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s, \
                ctx.wrap_socket(s, server_hostname="live-test.example.lab") as tls:
            tls.recv(16)
    except (ssl.SSLError, OSError):
        pass


def _can_capture() -> bool:
    return shutil.which("dumpcap") is not None and os.geteuid() == 0


@pytest.mark.skipif(not _can_capture(), reason="needs root and dumpcap")
def test_live_on_loopback_prints_each_handshake_and_a_summary(tmp_path):
    cert, key = _self_signed(tmp_path)
    server = TlsServer(cert, key)
    keep = tmp_path / "live.pcapng"
    proc = subprocess.Popen(
        [sys.executable, "-m", "inspector", "live", "-i", "lo", "-f", f"tcp port {server.port}",
         "--format", "jsonl", "-w", str(keep), "--duration", "120"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV, cwd=ROOT)
    lines: list[dict] = []
    seen = threading.Event()

    def read() -> None:
        for raw in proc.stdout:
            lines.append(json.loads(raw))
            outcomes = {r["outcome"] for r in lines}
            if {"established", "failed"} <= outcomes:
                seen.set()
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        for _ in range(40):  # bounded: dumpcap needs a moment to start; repeat until both are seen
            _client(server.port, cert)
            _client(server.port, None)
            if seen.wait(1.0):
                break
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            _out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
        reader.join(timeout=10)
        server.close()
    assert proc.returncode == 0, err
    assert seen.is_set(), (lines, err)
    ok = next(r for r in lines if r["outcome"] == "established")
    bad = next(r for r in lines if r["outcome"] == "failed")
    for r in (ok, bad):
        assert r["server_ip"] == "127.0.0.1" and r["server_port"] == server.port
        assert r["sni"] == "live-test.example.lab" and r["tls_version"] == "TLS 1.2"
    assert bad["alerts"][-1].startswith("client:fatal:")
    assert any(x["severity"] in ("critical", "error") for x in bad["findings"])
    assert "TLS flows" in err and "established" in err and "failed" in err  # the summary
    # -w kept the capture: read again, it holds the same handshakes
    again = subprocess.run([sys.executable, "-m", "inspector", str(keep), "--format", "json"],
                           capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=120)
    assert again.returncode == 0, again.stderr
    flows = json.loads(again.stdout)["flows"]
    assert {(f["client_port"], f["outcome"]) for f in flows} >= {
        (r["client_port"], r["outcome"]) for r in lines}


@pytest.mark.skipif(not _can_capture(), reason="needs root and dumpcap")
def test_live_text_lines_name_the_outcome(tmp_path):
    cert, key = _self_signed(tmp_path)
    server = TlsServer(cert, key)
    proc = subprocess.Popen(
        [sys.executable, "-m", "inspector", "live", "-i", "lo", "-f", f"tcp port {server.port}",
         "--failed", "--duration", "120"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**ENV, "COLUMNS": "120"}, cwd=ROOT)
    got: list[str] = []
    seen = threading.Event()

    def read() -> None:
        for raw in proc.stdout:
            got.append(raw)
            if "failed" in raw:
                seen.set()
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        for _ in range(40):
            _client(server.port, cert)
            _client(server.port, None)
            if seen.wait(1.0):
                break
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            _out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
        reader.join(timeout=10)
        server.close()
    assert proc.returncode == 0, err
    text = "".join(got)
    assert f"127.0.0.1:{server.port}" in text and "failed: client sent fatal" in text
    assert "established" not in text  # --failed
    assert "shown" in err  # the summary counts what the filter let through


def test_missing_capture_tool_is_one_line_and_exit_2(tmp_path):
    env = {**ENV, "PATH": str(tmp_path)}  # neither dumpcap nor tcpdump
    proc = subprocess.run([sys.executable, "-m", "inspector", "live", "-i", "lo"], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "no capture tool found" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_permission_is_one_clear_line_and_exit_2(tmp_path):
    """A dumpcap that fails as an unprivileged one does (its real message, from Debian's dumpcap)."""
    fake = tmp_path / "dumpcap"
    fake.write_text("#!/bin/sh\necho \"dumpcap: You don't have permission to capture on that device "
                    "(socket: Operation not permitted)\" >&2\nexit 1\n")
    fake.chmod(0o755)
    proc = subprocess.run([sys.executable, "-m", "inspector", "live", "-i", "eth0"], capture_output=True,
                          text=True, env={**ENV, "PATH": f"{tmp_path}:/usr/bin:/bin"}, cwd=ROOT, timeout=60)
    assert proc.returncode == 2, proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert "no permission to capture on eth0" in last and "CAP_NET_RAW" in last
    assert "Traceback" not in proc.stderr


@pytest.mark.skipif(os.geteuid() == 0 or shutil.which("dumpcap") is None, reason="needs a non-root user")
def test_missing_permission_for_real():
    proc = subprocess.run([sys.executable, "-m", "inspector", "live", "-i", "lo", "--duration", "1"],
                          capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=60)
    assert proc.returncode == 2 and "permission" in proc.stderr


@pytest.mark.skipif(shutil.which("dumpcap") is None, reason="needs dumpcap")
def test_unknown_interface_and_bad_capture_filter_are_dumpcaps_own_words():
    r = subprocess.run([sys.executable, "-m", "inspector", "live", "-i", "nosuch0", "-q"], capture_output=True,
                       text=True, env=ENV, cwd=ROOT, timeout=60)
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    assert "nosuch0" in r.stderr and "Capturing on" not in r.stderr
    if os.geteuid() == 0:
        r = subprocess.run([sys.executable, "-m", "inspector", "live", "-i", "lo", "-f", "tcp port ((", "-q"],
                           capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=60)
        assert r.returncode == 2 and "Invalid capture filter" in r.stderr


def test_tcpdump_is_the_fallback_and_its_pcap_stream_is_read(tmp_path):
    """Only tcpdump on PATH: live runs it (-U -w -) and reads its pcap from the pipe.  The stand-in
    tcpdump records its arguments and writes the bundled sample, as tcpdump -w - would."""
    fake = tmp_path / "tcpdump"
    fake.write_text(f"#!/bin/sh\necho \"$@\" > {tmp_path}/args\nexec /bin/cat {ROOT}/pcaps/cisco_lab_mix.pcapng\n")
    fake.chmod(0o755)
    r = subprocess.run([sys.executable, "-m", "inspector", "live", "-i", "eth9", "-f", "tcp port 5061",
                        "--format", "jsonl"], capture_output=True, text=True, env={**ENV, "PATH": str(tmp_path)},
                       cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "args").read_text().split() == ["-i", "eth9", "-U", "-s", "0", "-w", "-", "tcp", "port", "5061"]
    rows = [json.loads(x) for x in r.stdout.splitlines()]
    assert len(rows) == 11 and {x["outcome"] for x in rows} == {"established", "failed", "reset"}
    lsc = next(x for x in rows if x["server_port"] == 5061 and x["outcome"] == "failed")
    assert [f["code"] for f in lsc["findings"]][0] == "unknown_ca"
    assert "11 TLS flows" in r.stderr  # the summary


def test_the_live_reader_sees_dtls_not_only_tcp():
    """What `tlsinspect live` reads (dumpcap's pipe) goes through the Rust engine: a phone's DTLS
    (VPN) handshake is a flow row as it ends (the Python engine, used before, saw no UDP at all)."""
    from corpus import corpus_path
    from inspector.cli.live import analyze_stream

    path = corpus_path("zeek-zeek/dtls13-wolfssl.pcap")
    rows: dict[str, list] = {}
    with open(path, "rb") as pipe:  # a BufferedReader, as Popen's stdout
        cap = analyze_stream(pipe, lambda table, r: rows.setdefault(table, []).extend(r))
    (flow,) = rows["flows"]
    assert (flow["protocol"], flow["capture"], flow["transport"]) == ("DTLS", "live", "udp")
    assert flow["tls_version"] == inspector.read_capture(path).flows.tls_version[0]
    assert cap.format == "pcap"
