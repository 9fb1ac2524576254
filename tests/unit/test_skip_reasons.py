"""Never a silent zero: packets not analysed are named by reason in every output (issue 10).

The capture here holds no TLS at all: ARP (not IP), ICMP (not TCP/UDP), DNS (UDP without TLS)
and UDP to 4433 that looks like DTLS or QUIC but is neither.  A user must see, in the report's
footer, JSON, the HTML page, `Capture.stats` and batch's files table and summaries, what was
there and why it was not analysed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from scapy.layers.dns import DNS, DNSQR
from scapy.layers.inet import ICMP, IP, UDP
from scapy.layers.l2 import ARP, Ether
from scapy.utils import wrpcap

import inspector
from inspector.skips import skipped_packets, skipped_summary

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "inspector"]

N_ARP, N_ICMP, N_DNS, N_4433 = 3, 5, 7, 4


@pytest.fixture(scope="module")
def no_tls(tmp_path_factory) -> Path:
    pkts = []
    mac = dict(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    for i in range(N_ARP):
        pkts.append(Ether(**mac) / ARP(psrc="10.0.0.1", pdst=f"10.0.0.{10 + i}"))
    for i in range(N_ICMP):
        pkts.append(Ether(**mac) / IP(src="10.0.0.1", dst="10.0.0.2") / ICMP(seq=i))
    for i in range(N_DNS):
        pkts.append(Ether(**mac) / IP(src="10.0.0.1", dst="10.0.0.53") / UDP(sport=40000 + i, dport=53)
                    / DNS(rd=1, qd=DNSQR(qname=f"cucm{i}.example.com")))
    for i in range(N_4433):
        pkts.append(Ether(**mac) / IP(src="10.0.0.1", dst="10.0.0.9") / UDP(sport=50000, dport=4433)
                    / (b"\x01\x00" + bytes(42)))  # neither DTLS nor QUIC, to a DTLS/QUIC port
    for i, p in enumerate(pkts):
        p.time = 1_700_000_000 + i * 0.01
    path = tmp_path_factory.mktemp("skips") / "no_tls.pcap"
    wrpcap(str(path), pkts)
    return path


def test_reasons_count_each_packet_once():
    stats = {"frames": 100, "udp_not_tls": 50, "quic_unconfirmed": 20, "skipped_not_ip": 3,
             "tcp_connections": 4, "not_tls": 2, "skipped_unknown_encapsulation:gre": 1}
    assert skipped_packets(stats) == {"udp_not_tls": 30, "quic_unconfirmed": 20, "not_ip": 3,
                                      "unknown_encapsulation:gre": 1}
    assert skipped_summary(stats, limit=2) == "30 udp_not_tls, 20 quic_unconfirmed, 4 other (2 reasons)"
    assert skipped_packets({"frames": 9, "tcp_connections": 1}) == {}


def test_capture_stats_name_every_reason(no_tls):
    cap = inspector.read_capture(no_tls)
    assert len(cap.flows) == 0
    reasons = skipped_packets(cap.stats)
    assert reasons.get("not_ip") == N_ARP
    assert reasons.get("not_tcp") == N_ICMP
    assert reasons.get("udp_not_tls") == N_DNS + N_4433
    assert sum(reasons.values()) == N_ARP + N_ICMP + N_DNS + N_4433 == cap.stats["frames"]
    assert any(w.startswith("udp_not_decoded:") and "4433" in w for w in cap.warnings)


def test_footer_names_the_reasons(no_tls):
    out = subprocess.run([*CLI, str(no_tls)], capture_output=True, text=True, cwd=ROOT,
                         env={**os.environ, "COLUMNS": "100"})
    assert out.returncode == 0, out.stderr
    text = " ".join(out.stdout.split())
    assert f"packets not analysed: {N_DNS + N_4433} udp_not_tls, {N_ICMP} not_tcp, {N_ARP} not_ip" in text
    assert "look like DTLS or QUIC; not decoded" in text


def test_json_has_stats_and_skipped(no_tls):
    out = subprocess.run([*CLI, str(no_tls), "--format", "json"], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["stats"]["frames"] == N_ARP + N_ICMP + N_DNS + N_4433
    assert doc["skipped"] == {"udp_not_tls": N_DNS + N_4433, "not_tcp": N_ICMP, "not_ip": N_ARP}
    assert doc["flows"] == []


def test_html_summary_names_the_reasons(no_tls, tmp_path):
    page = tmp_path / "r.html"
    out = subprocess.run([*CLI, str(no_tls), "--format", "html", "-o", str(page)], capture_output=True,
                         text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert f"packets not analysed: {N_DNS + N_4433} udp_not_tls, {N_ICMP} not_tcp, {N_ARP} not_ip" \
        in page.read_text()


def test_batch_files_table_and_summaries(no_tls, tmp_path):
    from inspector.batch import read_manifest
    from inspector.fleet import fleet_summary

    src = tmp_path / "in"
    src.mkdir()
    (src / "no_tls.pcap").write_bytes(no_tls.read_bytes())
    (src / "lab.pcapng").write_bytes((ROOT / "pcaps" / "cisco_lab_mix.pcapng").read_bytes())
    res = tmp_path / "results"
    out = subprocess.run([*CLI, "batch", str(src), "-o", str(res), "--jobs", "1", "--quiet"],
                         capture_output=True, text=True, cwd=ROOT, env={**os.environ, "COLUMNS": "200"})
    assert out.returncode == 0, out.stderr
    assert "files with no TLS flow" in out.stdout and "(1 with a warning)" in out.stdout
    assert "no_tls.pcap" in out.stdout and "look like DTLS or QUIC" in out.stdout

    files = read_manifest(res).set_index("capture")
    row = files.loc["no_tls.pcap"]
    assert row["flows"] == 0
    assert row["skipped_packets"] == N_ARP + N_ICMP + N_DNS + N_4433
    assert json.loads(row["skipped_reasons"]) == {"udp_not_tls": N_DNS + N_4433, "not_tcp": N_ICMP,
                                                  "not_ip": N_ARP}
    assert files.loc["lab.pcapng", "flows"] > 0

    fs = fleet_summary(res)
    assert [os.path.basename(p) for p in fs.no_flows["capture"]] == ["no_tls.pcap"]
    assert fs.no_flows["warnings"][0][0].startswith("udp_not_decoded:")
    from inspector.output.fleet import fleet_html
    page = fleet_html(fs)
    assert 'class="ti-silent"' in page and "no_tls.pcap" in page and "look like DTLS or QUIC" in page
    assert f"<td class=\"n\">{N_ARP + N_ICMP + N_DNS + N_4433}</td>" in page
    shown = subprocess.run([*CLI, "summary", str(res)], capture_output=True, text=True, cwd=ROOT,
                           env={**os.environ, "COLUMNS": "200"})
    assert shown.returncode == 0, shown.stderr
    assert "Captures with no TLS flow" in shown.stdout and "no_tls.pcap" in shown.stdout

    # a second run skips both files and still reports the empty one
    again = subprocess.run([*CLI, "batch", str(src), "-o", str(res), "--jobs", "1", "--quiet"],
                           capture_output=True, text=True, cwd=ROOT, env={**os.environ, "COLUMNS": "200"})
    assert again.returncode == 0, again.stderr
    assert "files with no TLS flow" in again.stdout and "(1 with a warning)" in again.stdout
