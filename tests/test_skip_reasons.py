"""Never a silent zero (issue 10): what was not analysed is counted by reason, by name, in the
report's footer, JSON `stats`, `Capture.stats` and the batch files table; a capture with 0 flows
and a capture warning stands out in the fleet summary."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import inspector
from inspector import batch as B
from inspector.report import skip_counts, summary_line

ROOT = Path(__file__).resolve().parents[1]
VN = ROOT / "rust" / "core" / "tests" / "data" / "quic" / "vn.pcap"  # QUIC version negotiation only
PEAP = ROOT / "rust" / "core" / "tests" / "data" / "eap" / "eapol_peap.pcap"  # + one EAPOL-Start


def _arp_capture(path: Path) -> Path:
    """Three ARP frames (not IP) before the QUIC version negotiation of vn.pcap."""
    scapy = pytest.importorskip("scapy.all")
    arp = [scapy.Ether(src="02:00:00:00:00:01", dst="ff:ff:ff:ff:ff:ff") / scapy.ARP(pdst=f"192.0.2.{i}")
           for i in (1, 2, 3)]
    for i, p in enumerate(arp):
        p.time = 1_700_000_000 + i
    scapy.wrpcap(str(path), arp + list(scapy.rdpcap(str(VN))))
    return path


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "inspector", *args], capture_output=True, text=True,
                          cwd=ROOT, env={"PYTHONPATH": str(ROOT), "COLUMNS": "80", "PATH": "/usr/bin:/bin"})


def test_capture_stats_count_each_reason(tmp_path):
    cap = inspector.read_capture(_arp_capture(tmp_path / "arp_vn.pcap"))
    assert len(cap.flows) == 0
    assert skip_counts(cap.stats) == {"not_ip": 3, "udp_not_tls": 2, "quic_unconfirmed": 1}
    assert cap.stats["frames"] == 5
    assert any("look like QUIC; not decoded" in w for w in cap.warnings)


def test_footer_names_the_reasons_within_80_columns(tmp_path):
    path = _arp_capture(tmp_path / "arp_vn.pcap")
    line = summary_line(inspector.read_capture(path))
    assert line == "5 frames, 0 TCP connections, 0 TLS; skipped: 3 not_ip, 2 udp_not_tls, 1 quic_unconfirmed"
    out = cli(str(path))
    assert out.returncode == 0, out.stderr
    text = " ".join(out.stdout.split())
    assert "skipped: 3 not_ip, 2 udp_not_tls, 1 quic_unconfirmed" in text
    assert "look like QUIC; not decoded" in text


def test_footer_keeps_only_the_largest_reasons():
    stats = {"frames": 100, "tcp_connections": 2, "not_ip": 5, "udp_not_tls": 50, "skipped_ipv6_fragment": 7,
             "not_tls": 9, "eapol_not_eap": 1}

    class Cap:  # summary_line reads stats and the flows' count only
        pass

    cap = Cap()
    cap.stats = stats
    cap.analysis = type("A", (), {"flows": []})()
    assert summary_line(cap) == ("100 frames, 2 TCP connections, 0 TLS; skipped: 50 udp_not_tls, 9 not_tls, "
                                 "7 ipv6_fragment, 5 not_ip (+1 more)")


def test_json_has_every_counter(tmp_path):
    out = cli("--format", "json", str(PEAP))
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    cap = inspector.read_capture(PEAP)
    assert doc["stats"] == {k: int(v) for k, v in cap.stats.items()}
    assert doc["stats"]["eapol_not_eap"] == 1 and doc["skipped"] == {"eapol_not_eap": 1}
    assert len(doc["flows"]) == 1


def test_batch_files_table_and_fleet_summary_show_the_silent_zero(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    _arp_capture(inputs / "arp_vn.pcap")
    (inputs / "peap.pcap").write_bytes(PEAP.read_bytes())
    out = tmp_path / "results"
    s = B.run_batch([str(inputs)], out, quiet=True, jobs=1)
    assert s.ok == 2
    files = B.read_manifest(out).set_index("capture")
    assert json.loads(files.at["arp_vn.pcap", "skipped"]) == {"not_ip": 3, "udp_not_tls": 2, "quic_unconfirmed": 1}
    assert json.loads(files.at["peap.pcap", "skipped"]) == {"eapol_not_eap": 1}
    fs = B.fleet_summary(out)
    assert fs.silent_files["capture"].tolist() == ["arp_vn.pcap"]  # peap.pcap has a flow
    assert any("look like QUIC" in w for w in fs.silent_files.at[0, "warnings"])
    from rich.console import Console
    con = Console(record=True, width=200)
    B.print_fleet(fs, con)
    text = con.export_text()
    assert "Captures with 0 TLS flows and a warning" in text and "arp_vn.pcap" in text
    from inspector.htmlreport import fleet_html
    page = fleet_html(fs)
    assert 'class="ti-silent"' in page and "arp_vn.pcap" in page and "look like QUIC" in page
