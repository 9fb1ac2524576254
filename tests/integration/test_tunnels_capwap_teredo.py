"""Teredo, CAPWAP (data: 802.3 and native 802.11; control: DTLS) and 6in4 / IP-in-IP on several
link types, through the CLI with the Rust engine (issue 10), checked against tshark.

The captures are built here around genuine bytes: the TLS handshake of pcaps/sni_mismatch_8443.pcap
(SNI, a chain, a fatal bad_certificate alert) re-framed in each tunnel, and the OpenSSL DTLS 1.2
mutual-authentication fixture (rust/core/tests/data/dtls/mutual_srtp.pcap) re-framed as a CAPWAP
control channel (the 4-byte CAPWAP DTLS header before each datagram, the WLC on UDP 5246). The
Python reference engine reads none of these (tests/differential/test_rust_engine.py sets them aside)."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

import inspector

core = pytest.importorskip("inspector._core", reason="the Rust extension is not built (make setup)")
scapy_all = pytest.importorskip("scapy.all")

from scapy.layers.dot11 import Dot11, Dot11QoS  # noqa: E402
from scapy.layers.inet import IP, TCP, UDP  # noqa: E402
from scapy.layers.inet6 import IPv6  # noqa: E402
from scapy.layers.l2 import LLC, SNAP, CookedLinux, Ether  # noqa: E402
from scapy.packet import Raw  # noqa: E402
from scapy.utils import rdpcap  # noqa: E402

from synth.frames import Packet  # noqa: E402
from synth.pcapio import write_pcap  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TLS_SOURCE = ROOT / "pcaps" / "sni_mismatch_8443.pcap"
DTLS_SOURCE = ROOT / "rust" / "core" / "tests" / "data" / "dtls" / "mutual_srtp.pcap"
TSHARK = shutil.which("tshark")

AP, WLC = "192.0.2.10", "192.0.2.1"
TEREDO_SERVER, TEREDO_CLIENT = "198.51.100.1", "203.0.113.7"
V6_CLIENT, V6_SERVER = "2001:0:c633:6401::1", "2001:db8::443"


def report(path: Path) -> dict:
    proc = subprocess.run([sys.executable, "-m", "inspector", "report", str(path), "--engine", "rust",
                           "--format", "json"], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)


def flows_of(doc: dict) -> list[dict]:
    return doc["flows"]


def tshark_fields(path: Path, filt: str, *fields: str, prefs: tuple[str, ...] = ()) -> list[list[str]]:
    cmd = [TSHARK, "-r", str(path), "-Y", filt, "-T", "fields", "-E", "separator=\t"]
    for p in prefs:
        cmd += ["-o", p]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout
    return [line.split("\t") for line in out.splitlines() if line.strip()]


def tls_frames():
    """(ts, scapy IP packet) of the genuine TLS handshake."""
    return [(float(p.time), p[IP]) for p in rdpcap(str(TLS_SOURCE))]


def as_ipv6(ip) -> IPv6:
    """The same TCP segment between IPv6 hosts (checksum recomputed)."""
    tcp = ip[TCP].copy()
    del tcp.chksum
    client = ip.src == "10.48.36.10"
    return IPv6(src=V6_CLIENT if client else V6_SERVER, dst=V6_SERVER if client else V6_CLIENT) / tcp


def eth() -> Ether:
    """An Ethernet header with both addresses given (without a dst, scapy resolves one by ARP: seconds a
    packet on a machine with no route to the test addresses)."""
    return Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")


def capwap_header(t_bit: bool, wbid: int = 1) -> bytes:
    word = (2 << 19) | (wbid << 9) | (int(t_bit) << 8)  # HLEN 2 words, no F/K/M/W
    return struct.pack(">II", word, 0)


def to_wlc(ip, inner: bytes) -> Ether:
    """CAPWAP data between the AP and the WLC (the client's frames go up, the server's down)."""
    up = ip.src == "10.48.36.10"
    udp = UDP(sport=5247 if not up else 32768, dport=32768 if not up else 5247)
    return eth() / IP(src=AP if up else WLC, dst=WLC if up else AP) / udp / Raw(inner)


def build(kind: str) -> tuple[list[Packet], int]:
    out = []
    linktype = 1
    for ts, ip in tls_frames():
        client = ip.src == "10.48.36.10"
        if kind == "teredo":
            # the relay side carries an origin indication (RFC 4380 5.1.1) before the IPv6 packet
            origin = b"" if client else bytes([0, 0, 0xF0, 0x0F, 0x3F, 0xFF, 0xFF, 0xFE])
            udp = UDP(sport=50000, dport=3544) if client else UDP(sport=3544, dport=50000)
            frame = eth() / IP(src=TEREDO_CLIENT if client else TEREDO_SERVER,
                                 dst=TEREDO_SERVER if client else TEREDO_CLIENT) / udp / Raw(origin + bytes(as_ipv6(ip)))
        elif kind == "capwap_8023":
            frame = to_wlc(ip, capwap_header(False) + bytes(Ether(src="00:11:22:33:44:55", dst="00:11:22:33:44:66") / ip))
        elif kind == "capwap_80211":
            # ToDS up, FromDS down; QoS data; RFC 1042 LLC/SNAP
            fc = 0x01 if client else 0x02
            wlan = (Dot11(type=2, subtype=8, FCfield=fc, addr1="00:aa:00:00:00:01", addr2="00:bb:00:00:00:02",
                          addr3="00:cc:00:00:00:03") / Dot11QoS() / LLC(dsap=0xAA, ssap=0xAA, ctrl=3)
                    / SNAP(OUI=0, code=0x0800) / ip)
            frame = to_wlc(ip, capwap_header(True) + bytes(wlan))
        elif kind == "6in4_sll":
            linktype = 113
            frame = CookedLinux(pkttype=0, lladdrtype=1, lladdrlen=6, proto=0x0800) / IP(
                src="192.0.2.50", dst="192.0.2.60", proto=41) / as_ipv6(ip)
        elif kind == "ipip_raw":
            linktype = 101
            frame = IP(src="192.0.2.50", dst="192.0.2.60", proto=4) / ip
        elif kind == "ipip_null":
            linktype = 0
            frame = Raw(struct.pack("<I", 2)) / IP(src="192.0.2.50", dst="192.0.2.60", proto=4) / ip
        else:
            raise ValueError(kind)
        out.append(Packet(ts=ts, data=bytes(frame), linktype=linktype))
    return out, linktype


def capwap_dtls() -> list[Packet]:
    out = []
    for p in rdpcap(str(DTLS_SOURCE)):
        udp = p[UDP]
        sport = 5246 if udp.sport == 4433 else udp.sport
        dport = 5246 if udp.dport == 4433 else udp.dport
        frame = eth() / IP(src=p[IP].src, dst=p[IP].dst) / UDP(sport=sport, dport=dport) / Raw(
            b"\x01\x00\x00\x00" + bytes(udp.payload))
        out.append(Packet(ts=float(p.time), data=bytes(frame), linktype=1))
    return out


@pytest.fixture(scope="module")
def reference() -> dict:
    """The untunnelled capture's TLS row."""
    [row] = flows_of(report(TLS_SOURCE))
    return row


# kind -> (encapsulation, client ip, server ip, tshark preferences)
TLS_CASES = {
    "teredo": ("teredo", V6_CLIENT, V6_SERVER, ()),
    "capwap_8023": ("capwap", "10.48.36.10", "10.48.36.215", ()),
    "capwap_80211": ("capwap", "10.48.36.10", "10.48.36.215", ("capwap.swap_fc:FALSE",)),
    "6in4_sll": ("6in4", V6_CLIENT, V6_SERVER, ()),
    "ipip_raw": ("ipip", "10.48.36.10", "10.48.36.215", ()),
    "ipip_null": ("ipip", "10.48.36.10", "10.48.36.215", ()),
}


@pytest.mark.parametrize("kind", sorted(TLS_CASES))
def test_tls_in_a_tunnel_is_the_inner_flow(kind, tmp_path, reference):
    encap, client, server, prefs = TLS_CASES[kind]
    packets, linktype = build(kind)
    path = tmp_path / f"{kind}.pcap"
    write_pcap(path, packets, linktype=linktype)
    [row] = flows_of(report(path))
    assert row["encapsulation"] == encap
    assert (row["client_ip"], row["client_port"], row["server_ip"], row["server_port"]) == (client, 52200, server, 8443)
    for col in ("sni", "tls_version", "cipher", "outcome", "server_chain_sha256", "alert"):
        assert row.get(col) == reference.get(col), col
    assert row["sni"]
    assert reference["server_chain_sha256"]
    if TSHARK:
        # tshark, the reference dissector, sees the same inner hosts, SNI and certificates
        src_field = "ipv6.src" if ":" in client else "ip.src"
        hello = tshark_fields(path, "tls.handshake.type == 1", src_field, "tls.handshake.extensions_server_name",
                              prefs=prefs)
        assert [h[-1] for h in hello] == [row["sni"]]
        assert client in hello[0][0].split(",")
        certs = tshark_fields(path, "tls.handshake.type == 11", "tls.handshake.certificate", prefs=prefs)
        assert len(certs) == 1
        import hashlib
        shas = [hashlib.sha256(bytes.fromhex(c.replace(":", ""))).hexdigest() for c in certs[0][0].split(",")]
        assert shas == list(row["server_chain_sha256"])


def test_capwap_control_dtls_shows_both_chains(tmp_path):
    path = tmp_path / "capwap_dtls.pcap"
    write_pcap(path, capwap_dtls(), linktype=1)
    [row] = flows_of(report(path))
    plain = [r for r in flows_of(report(DTLS_SOURCE)) if r["protocol"] == "DTLS"][0]
    assert (row["protocol"], row["transport"], row["encapsulation"]) == ("DTLS", "udp", "capwap")
    assert (row["client_ip"], row["server_ip"], row["server_port"]) == ("10.0.0.1", "10.0.0.2", 5246)
    for col in ("sni", "tls_version", "cipher", "server_chain_sha256", "client_chain_sha256", "outcome"):
        assert row.get(col) == plain.get(col), col
    assert row["client_chain_sha256"] and row["server_chain_sha256"]
    if TSHARK:
        # tshark reads the CAPWAP DTLS header on 5246 and the DTLS beneath it
        import hashlib
        certs = tshark_fields(path, "dtls.handshake.type == 11", "dtls.handshake.certificate")
        shas = [hashlib.sha256(bytes.fromhex(c.replace(":", ""))).hexdigest()
                for line in certs for c in line[0].split(",")]
        assert sorted(shas) == sorted(list(row["server_chain_sha256"]) + list(row["client_chain_sha256"]))
        assert tshark_fields(path, "capwap", "frame.number")  # tshark calls it CAPWAP


def test_other_traffic_on_teredo_and_capwap_ports_is_not_misread(tmp_path):
    """UDP on 3544 that is not an IPv6 packet, and CAPWAP plain control, are counted, not flows."""
    pkts = []
    for i in range(3):
        junk = eth() / IP(src="10.1.1.1", dst="10.1.1.2") / UDP(sport=40000, dport=3544) / Raw(b"\x45hello" * 8)
        ctrl = eth() / IP(src=AP, dst=WLC) / UDP(sport=32768, dport=5246) / Raw(
            capwap_header(False, wbid=0) + bytes([0, 0, 0, 1, i, 0, 0, 0]))
        pkts += [Packet(ts=float(i), data=bytes(junk), linktype=1), Packet(ts=i + 0.5, data=bytes(ctrl), linktype=1)]
    path = tmp_path / "ports.pcap"
    write_pcap(path, pkts, linktype=1)
    doc = report(path)
    assert flows_of(doc) == []
    # the UDP on 3544 that is not Teredo is named in a capture warning
    assert any("3 UDP packets to port 3544 look like Teredo" in w for w in doc["warnings"]), doc["warnings"]
    cap = inspector.read_capture(path, engine="rust")
    assert cap.stats.get("skipped_capwap_control") == 3
    assert cap.stats.get("udp_not_tls") == 3
