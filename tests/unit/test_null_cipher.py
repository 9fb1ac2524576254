"""Issue 11 item 12: under a NULL cipher the records after ChangeCipherSpec are plaintext followed by
a MAC; their alerts are read (as tshark does), in both engines."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from inspector.api import read_capture
from inspector.tls.session import null_cipher_mac_len
from corpus import corpus_file

NULL_PCAP = corpus_file("Lekensteyn-wireshark-notes/tls-null.pcapng")
ENGINES = ["python", "rust"]

needs_pcap = pytest.mark.skipif(not NULL_PCAP.exists(), reason="public corpus not present")


def _tshark_alerts(path: Path) -> list[tuple[int, str, int, int]]:
    """(frame, source address, level, description) of every alert tshark reads."""
    out = subprocess.run(["tshark", "-r", str(path), "-Y", "tls.alert_message", "-T", "fields",
                          "-e", "frame.number", "-e", "ip.src", "-e", "tls.alert_message.level",
                          "-e", "tls.alert_message.desc"], capture_output=True, text=True, check=True).stdout
    return [(int(f), src, int(lv), int(d)) for f, src, lv, d in (ln.split("\t") for ln in out.splitlines())]


@pytest.mark.parametrize("suite, mac", [
    ("TLS_RSA_WITH_NULL_SHA256", 32), ("TLS_ECDHE_ECDSA_WITH_NULL_SHA", 20), ("TLS_RSA_WITH_NULL_MD5", 16),
    ("TLS_PSK_WITH_NULL_SHA384", 48), ("TLS_NULL_WITH_NULL_NULL", 0), ("TLS_RSA_WITH_AES_128_CBC_SHA", 0),
])
def test_mac_length_by_the_suites_hash(suite: str, mac: int) -> None:
    assert null_cipher_mac_len(suite) == mac


@needs_pcap
@pytest.mark.parametrize("engine", ENGINES)
def test_null_cipher_close_notify_is_read(engine: str) -> None:
    cap = read_capture(NULL_PCAP, engine=engine)
    flow = cap.flows.iloc[0]
    assert flow["cipher"] == "TLS_RSA_WITH_NULL_SHA256"
    assert flow["outcome"] == "established"
    assert list(flow["alerts"]) == ["client:warning:close_notify"]  # not "encrypted_alert"
    ev = cap.events[cap.events["kind"] == "alert"]
    assert ev["frame"].tolist() == [14]
    assert ev["detail"].iloc[0].startswith("warning close_notify")


@needs_pcap
@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
@pytest.mark.parametrize("engine", ENGINES)
def test_null_cipher_alerts_agree_with_tshark(engine: str) -> None:
    cap = read_capture(NULL_PCAP, engine=engine)
    flow = cap.flows.iloc[0]
    want = _tshark_alerts(NULL_PCAP)
    assert want == [(14, flow["client_ip"], 1, 0)]  # warning(1) close_notify(0) from the client
    ev = cap.events[cap.events["kind"] == "alert"]
    got = [(int(r.frame), flow["client_ip"] if r.sender == "client" else flow["server_ip"],
            1 if r.detail.startswith("warning") else 2, 0 if r.code == "close_notify" else -1)
           for r in ev.itertuples()]
    assert got == want
