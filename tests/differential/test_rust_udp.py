"""DTLS, QUIC, EAP-TLS and tunnels through the Rust engine (issue 10), read as a user reads them:
`inspector.read_capture(..., engine="rust")`, rows checked against the fixtures' generator facts
(`rust/core/tests/data/*/*.expect`, `*.tshark`) and against tshark on the public corpus."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import inspector
from corpus import CORPUS

core = pytest.importorskip("inspector._core", reason="the Rust extension is not built (make setup)")
if not hasattr(core, "analyze"):
    pytest.skip("this inspector._core has no analyze()", allow_module_level=True)

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "rust" / "core" / "tests" / "data"
PCAPS = ROOT / "pcaps"
UDP_SAMPLES = PCAPS / "udp"
TSHARK = shutil.which("tshark")


def read(path, **kw):
    return inspector.read_capture(path, engine="rust", **kw)


def facts(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            out[k] = v
    return out


def chain(v: str) -> list[str]:
    return [x for x in v.split(",") if x]


def rows(cap):
    return cap.flows.to_dict("records")


def tshark_fields(path: Path, *fields: str, filt: str | None = None) -> list[list[str]]:
    cmd = [TSHARK, "-r", str(path), "-T", "fields", "-E", "separator=\t"]
    if filt:
        cmd += ["-Y", filt]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout
    return [line.split("\t") for line in out.splitlines() if line.strip()]


# ---- DTLS -----------------------------------------------------------------------------------------

DTLS_CASES = ["dtls10", "mutual_srtp", "unknown_ca"]


@pytest.mark.parametrize("name", DTLS_CASES)
def test_dtls_fixture_rows(name):
    exp = facts(DATA / "dtls" / f"{name}.expect")
    cap = read(DATA / "dtls" / f"{name}.pcap")
    [r] = rows(cap)
    assert (r["transport"], r["protocol"]) == ("udp", "DTLS")
    assert r["tls_version"] == exp["version"]
    assert r["sni"] == exp["sni"]
    assert r["cipher"] == exp["cipher"]
    assert list(r["server_chain_sha256"]) == chain(exp["server_chain"])
    assert list(r["client_chain_sha256"]) == chain(exp.get("client_chain", ""))
    assert r["srtp_profile"] == exp["srtp_profile"]
    assert (r["client_ip"], r["client_port"], r["server_ip"], r["server_port"]) == ("10.0.0.1", 50000, "10.0.0.2", 4433)
    assert pd_na(r["encapsulation"]) and pd_na(r["quic_version"])
    # the certificates table holds the chains, X.509 read by Python
    assert r["server_subject"].startswith("CN=cucm1.example.lab")
    certs = set(cap.certificates.sha256)
    assert set(chain(exp["tshark_certs"])) <= certs


def pd_na(v) -> bool:
    import pandas as pd
    return v is None or v is pd.NA or (not isinstance(v, (list, tuple, str)) and pd.isna(v))


def test_dtls_alert_is_an_event_with_its_sender_and_a_failed_outcome():
    cap = read(DATA / "dtls" / "unknown_ca.pcap")
    [r] = rows(cap)
    assert r["outcome"] == "failed"
    assert r["outcome_detail"] == "client sent fatal unknown_ca"
    assert list(r["alerts"]) == ["client:fatal:unknown_ca"]
    alerts = cap.events[cap.events.kind == "alert"]
    assert list(zip(alerts.sender, alerts.code)) == [("client", "unknown_ca")]
    assert list(alerts.flow_id) == [1]


def test_dtls_mutual_with_a_stun_binding_first_warns_of_nothing():
    cap = read(DATA / "dtls" / "mutual_srtp.pcap")
    [r] = rows(cap)
    assert r["outcome"] == "established"
    assert r["client_cert_requested"]
    assert len(r["client_chain_sha256"]) == 1
    assert not [w for w in cap.analysis.capture_warnings if w.startswith("udp_not_decoded")]


def test_dtls_idle_time_splits_two_associations_on_one_5tuple():
    cap = read(DATA / "dtls" / "idle_split.pcap")
    assert len(cap.flows) == 2
    assert list(cap.flows.outcome) == ["established", "established"]
    assert cap.flows.ts_start.iloc[1] > cap.flows.ts_end.iloc[0]


@pytest.mark.skipif(TSHARK is None or CORPUS is None, reason="tshark or the public corpus missing")
def test_public_dtls12_agrees_with_tshark():
    path = CORPUS / "zeek-zeek" / "dtls1_2.pcap"
    [r] = rows(read(path))
    assert (r["protocol"], r["tls_version"]) == ("DTLS", "DTLS 1.2")
    ders = [d for row in tshark_fields(path, "dtls.handshake.certificate") for d in row[0].split(",") if d]
    want = [hashlib.sha256(bytes.fromhex(d.replace(":", ""))).hexdigest() for d in ders]
    assert want and list(r["server_chain_sha256"]) == want
    sni = [row[0] for row in tshark_fields(path, "dtls.handshake.extensions_server_name", filt="dtls.handshake.type == 1")]
    assert r["sni"] == (sni[0] if sni and sni[0] else None)
    cs = tshark_fields(path, "udp.srcport", "udp.dstport", filt="dtls.handshake.type == 1")[0]
    assert (r["client_port"], r["server_port"]) == (int(cs[0]), int(cs[1]))


@pytest.mark.skipif(CORPUS is None, reason="the public corpus is missing")
def test_public_dtls13_is_recognised():
    [r] = rows(read(CORPUS / "zeek-zeek" / "dtls13-wolfssl.pcap"))
    assert (r["transport"], r["protocol"], r["tls_version"]) == ("udp", "DTLS", "DTLS 1.3")
    assert r["outcome_detail"] == "DTLS 1.3: the handshake is encrypted after the ServerHello"


# ---- QUIC -----------------------------------------------------------------------------------------

def test_quic_v1_initial_gives_sni_alpn_and_version():
    exp = facts(DATA / "quic" / "v1.tshark")
    py = facts(DATA / "quic" / "v1.python")
    [r] = rows(read(DATA / "quic" / "v1.pcap"))
    assert (r["transport"], r["protocol"]) == ("udp", "QUIC")
    assert (r["tls_version"], r["quic_version"]) == ("TLS 1.3", "QUIC v1")
    assert r["sni"] == exp["sni"] == "quic.example.test"
    assert r["ja4"] == py["ja4"]
    assert (r["client_ip"], r["server_port"]) == ("10.0.0.1", 443)


def test_quic_with_its_key_log_shows_the_server_certificate():
    exp = facts(DATA / "quic" / "v1.tshark")
    [r] = rows(read(DATA / "quic" / "v1.pcap", keylog=DATA / "quic" / "v1.keylog"))
    assert list(r["server_chain_sha256"]) == [exp["certificate_sha256"]]
    assert r["alpn"] == "h3"
    assert r["outcome"] == "established"


def test_a_key_log_that_opened_a_quic_flow_is_not_called_unmatched():
    """Bug: keylog_unmatched ("nothing was decrypted") counted only TCP flows' key-log hits."""
    cap = read(DATA / "quic" / "v1.pcap", keylog=DATA / "quic" / "v1.keylog")
    assert bool(cap.flows["decrypted"].iloc[0]) is True
    assert not [w for w in cap.warnings if w.startswith("keylog_unmatched")]


def test_quic_v2_is_named():
    [r] = rows(read(DATA / "quic" / "v2.pcap"))
    assert r["quic_version"] == "QUIC v2"
    assert r["sni"] == facts(DATA / "quic" / "v2.tshark")["sni"]


def test_quic_alpn_mismatch_is_a_failure_with_the_alert():
    [r] = rows(read(DATA / "quic" / "alpn_mismatch.pcap", keylog=DATA / "quic" / "alpn_mismatch.keylog"))
    assert r["outcome"] == "failed"
    assert "no_application_protocol" in r["outcome_detail"]
    assert list(r["alerts"]) == ["server:fatal:no_application_protocol"]


def test_quic_version_negotiation_alone_is_counted_and_warned_not_silent():
    cap = read(DATA / "quic" / "vn.pcap")
    assert len(cap.flows) == 0
    assert cap.analysis.stats["udp_not_tls"] == 2
    assert "udp_not_decoded: 2 UDP packets to port 443 look like QUIC; not decoded" in cap.analysis.capture_warnings


# ---- EAP-TLS --------------------------------------------------------------------------------------

EAP_CASES = {
    "eapol_tls_success": ("eap", "EAP-TLS", "established"),
    "eapol_tls_reject": ("eap", "EAP-TLS", "failed"),
    "eapol_peap": ("eap", "PEAP", "established"),
    "radius_tls_success": ("udp", "EAP-TLS", "established"),
    "radius_tls_reject": ("udp", "EAP-TLS", "failed"),
    "radius_ttls": ("udp", "EAP-TTLS", "established"),
}


@pytest.mark.parametrize("name", list(EAP_CASES))
def test_eap_fixture_rows(name):
    exp = facts(DATA / "eap" / f"{name}.expect")
    cap = read(DATA / "eap" / f"{name}.pcap")
    [r] = rows(cap)
    assert (r["transport"], r["protocol"], r["outcome"]) == EAP_CASES[name]
    assert r["tls_version"] == exp["version"]
    assert list(r["server_chain_sha256"]) == chain(exp["server_chain"])
    assert list(r["client_chain_sha256"]) == chain(exp.get("client_chain", ""))
    assert set(chain(exp["tshark_certs"])) <= set(cap.certificates.sha256)
    if r["transport"] == "eap":  # 802.1X: the supplicant's and the authenticator's MACs
        assert (r["client_ip"], r["client_port"], r["server_port"]) == ("00:11:22:33:44:55", 0, 0)
    else:
        assert r["server_port"] == 1812


def test_eap_reject_names_the_radius_answer_and_the_alert():
    cap = read(DATA / "eap" / "radius_tls_reject.pcap")
    [r] = rows(cap)
    assert r["outcome_detail"] == "rejected (Access-Reject): server sent fatal unknown_ca"
    alerts = cap.events[cap.events.kind == "alert"]
    assert list(zip(alerts.sender, alerts.code)) == [("server", "unknown_ca")]


# ---- tunnels --------------------------------------------------------------------------------------

scapy = pytest.importorskip("scapy.all")


def _wrap(src: Path, dst: Path, how: str) -> None:
    from scapy.all import GRE, IP, UDP, Ether, rdpcap, wrpcap
    from scapy.layers.vxlan import VXLAN

    out = []
    for p in rdpcap(str(src)):
        inner = p[IP] if how != "6in4" else p.payload
        outer = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IP(src="192.0.2.1", dst="192.0.2.2")
        if how == "gre":
            q = outer / GRE() / inner
        elif how == "gtpu":  # GTP-U G-PDU: flags 0x30, type 255, length, TEID
            body = bytes(inner)
            q = outer / UDP(sport=2152, dport=2152) / (bytes([0x30, 0xFF]) + len(body).to_bytes(2, "big")
                                                       + (7).to_bytes(4, "big") + body)
        elif how == "vxlan":
            q = outer / UDP(sport=40000, dport=4789) / VXLAN(vni=42) / Ether(bytes(p))
        else:  # 6in4: an IPv6 packet as IPv4 protocol 41
            q = outer / inner
            q[IP].proto = 41
        q.time = p.time
        out.append(q)
    wrpcap(str(dst), out)


@pytest.mark.parametrize("how", ["gre", "vxlan", "gtpu"])
def test_tls_inside_a_tunnel_has_the_inner_endpoints(tmp_path, how):
    src = PCAPS / "mic_5061.pcap"
    plain = rows(read(src))
    dst = tmp_path / f"{how}.pcap"
    _wrap(src, dst, how)
    tun = rows(read(dst))
    assert len(tun) == len(plain) >= 1
    for a, b in zip(plain, tun):
        assert (b["client_ip"], b["client_port"], b["server_ip"], b["server_port"]) == \
               (a["client_ip"], a["client_port"], a["server_ip"], a["server_port"])
        assert list(b["server_chain_sha256"]) == list(a["server_chain_sha256"])
        assert b["encapsulation"] == how
        assert pd_na(a["encapsulation"]) and b["transport"] == "tcp" and b["protocol"] == "TLS"


def test_6in4_on_ethernet_is_read(tmp_path):
    from synth import scenarios as sc
    from synth.pcapio import write_capture

    scen = sc.mic_5061()
    v6 = tmp_path / "v6.pcap"
    write_capture(v6, sc.build_capture(scen, link="ether", ipv6=True))
    plain = rows(read(v6))
    dst = tmp_path / "6in4.pcap"
    _wrap(v6, dst, "6in4")
    tun = rows(read(dst))
    assert len(tun) == len(plain) >= 1
    assert [r["encapsulation"] for r in tun] == ["6in4"] * len(tun)
    assert [r["client_ip"] for r in tun] == [r["client_ip"] for r in plain]


@pytest.mark.skipif(TSHARK is None or CORPUS is None, reason="tshark or the public corpus missing")
def test_public_gtpu_capture_agrees_with_tshark():
    path = CORPUS / "ntop-nDPI" / "tls_invalid_reads.pcap"
    got = [r for r in rows(read(path)) if r["encapsulation"] == "gtpu"]
    hellos = tshark_fields(path, "ip.src", "tcp.srcport", "ip.dst", "tcp.dstport",
                           "tls.handshake.extensions_server_name", filt="gtp && tls.handshake.type == 1")
    want = [(h[0].split(",")[-1], int(h[1]), h[2].split(",")[-1], int(h[3]), h[4]) for h in hellos]
    assert want == [("10.191.139.17", 58552, "54.221.224.45", 443, "e.crashlytics.com")]
    assert [(r["client_ip"], r["client_port"], r["server_ip"], r["server_port"], r["sni"]) for r in got] == want


@pytest.mark.parametrize("linktype,head", [(9, b"\xff\x03\x00\x21"), (50, b"\xff\x03\x00\x21"),
                                           (104, b"\x0f\x00\x08\x00")], ids=["ppp", "ppp_hdlc", "cisco_hdlc"])
def test_ppp_and_cisco_hdlc_links_are_read(tmp_path, linktype, head):
    from scapy.all import IP, Raw, rdpcap, wrpcap

    src = PCAPS / "mic_5061.pcap"
    out = []
    for p in rdpcap(str(src)):
        q = Raw(head + bytes(p[IP]))
        q.time = p.time
        out.append(q)
    dst = tmp_path / f"lt{linktype}.pcap"
    wrpcap(str(dst), out, linktype=linktype)
    plain, got = rows(read(src)), rows(read(dst))
    assert [(r["server_ip"], r["server_port"], list(r["server_chain_sha256"])) for r in got] == \
           [(r["server_ip"], r["server_port"], list(r["server_chain_sha256"])) for r in plain]
    assert not read(dst).analysis.capture_warnings


# ---- the samples, through the command line --------------------------------------------------------

SAMPLES = {
    "dtls_srtp_4433.pcap": "DTLS",
    "quic_v1_443.pcap": "QUIC",
    "eapol_tls_reject.pcap": "EAP-TLS",
    "radius_eap_tls_accept.pcap": "EAP-TLS",
}


@pytest.mark.parametrize("name", list(SAMPLES))
def test_samples_show_in_the_report(name):
    cap = read(UDP_SAMPLES / name)
    assert list(cap.flows.protocol) == [SAMPLES[name]]
    out = subprocess.run([sys.executable, "-m", "inspector", "--engine", "rust", str(UDP_SAMPLES / name)], capture_output=True,
                         text=True, timeout=120, cwd=ROOT)
    assert out.returncode in (0, 1, 2), out.stderr
    assert "0 TLS flows" not in out.stdout
    assert cap.flows.server_ip.iloc[0] in out.stdout or cap.flows.sni.iloc[0] in out.stdout


@pytest.mark.skipif(CORPUS is None, reason="the public corpus is not here")
def test_dtls_from_a_pipe_is_read_as_from_the_file():
    """Pipes go to the Rust engine too: DTLS (which the Python engine does not read) from stdin
    gives the file's rows (once, a pipe meant the Python engine: no flow at all)."""
    import json
    import os
    path = CORPUS / "zeek-zeek" / "dtls13-wolfssl.pcap"
    piped = subprocess.run([sys.executable, "-m", "inspector", "-", "--format", "jsonl"], input=path.read_bytes(),
                           capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120,
                           check=True).stdout.decode().splitlines()
    rows = [json.loads(line) for line in piped]
    want = inspector.read_capture(path).flows
    assert len(rows) == len(want) == 1 and rows[0]["protocol"] == want.protocol[0] == "DTLS"
    assert rows[0]["tls_version"] == want.tls_version[0] and rows[0]["capture"] == "stdin"
