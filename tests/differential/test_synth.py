"""The synthetic capture generator, checked against tshark (the reference dissector)."""

from __future__ import annotations

import functools
import gzip
import json
import shutil
import ssl
import struct
import subprocess
from pathlib import Path

import pytest
from cryptography.x509.oid import NameOID

from synth import pki
from synth.frames import LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, Packet, tcp_packets
from synth.handshake import CIPHER_SUITES, coalesce_handshake_records, iter_records
from synth.pcapio import to_pcap_bytes, to_pcapng_bytes, write_capture, write_pcap
from synth.samples import MIX, MIX_NAME, write_samples
from synth.scenarios import SCENARIOS, Scenario, build_capture

TSHARK = shutil.which("tshark")
needs_tshark = pytest.mark.skipif(TSHARK is None, reason="tshark not installed")


@functools.cache
def scenario(name: str) -> Scenario:
    return SCENARIOS[name]()


def tshark(path: Path, fields: list[str], *, ports: set[int] = frozenset(), display_filter: str | None = None,
           options: tuple[str, ...] = ()) -> list[list[list[str]]]:
    """Rows of tshark fields; each field is the list of its occurrences in the frame."""
    cmd = [TSHARK, "-r", str(path), "-T", "fields", "-E", "aggregator=|", "-E", "occurrence=a"]
    for port in sorted(ports - {443, 5061}):
        cmd += ["-d", f"tcp.port=={port},tls"]
    for option in options:
        cmd += ["-o", option]
    if display_filter:
        cmd += ["-Y", display_filter]
    for field in fields:
        cmd += ["-e", field]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=60).stdout
    return [[value.split("|") if value else [] for value in line.split("\t")] for line in out.splitlines()]


def server_ports(sc: Scenario) -> set[int]:
    return {server[1] for _, _, server in sc.conversations}


def common_names(identity: pki.Identity) -> list[str]:
    return [str(c.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value) for c in identity.chain]


# --- framing ----------------------------------------------------------------------------------

FRAMINGS = {
    "ether": dict(link="ether"),
    "vlan": dict(link="vlan"),
    "qinq": dict(link="qinq"),
    "sll": dict(link="sll"),
    "sll2": dict(link="sll2"),
    "raw": dict(link="raw"),
    "null": dict(link="null"),
    "ether-ipv6": dict(link="ether", ipv6=True),
    "null-ipv6": dict(link="null", ipv6=True),
    "sll2-ipv6": dict(link="sll2", ipv6=True),
    "tiny-shuffled-vlan-ipv6.pcapng.gz": dict(link="vlan", ipv6=True, segment_size=7, reorder=True, duplicate=True),
    "tiny-shuffled-sll.pcap": dict(link="sll", segment_size=7, reorder=True, duplicate=True),
}


@needs_tshark
@pytest.mark.parametrize("framing", FRAMINGS)
def test_ca_chain_8443_framings(framing: str, tmp_path: Path) -> None:
    sc = scenario("ca_chain_8443")
    options = FRAMINGS[framing]
    packets = build_capture(sc, **options)
    path = tmp_path / (framing if "." in framing else framing + ".pcap")
    if path.name.endswith(".pcapng.gz"):
        path.write_bytes(gzip.compress(to_pcapng_bytes(packets, big_endian=True, nanosecond=True, simple=True)))
    else:
        write_capture(path, packets)
    rows = tshark(
        path,
        ["frame.time_epoch", "tcp.checksum.status", "ip.checksum.status", "tcp.analysis.flags",
         "tcp.analysis.out_of_order", "tcp.analysis.retransmission",
         "tls.handshake.extensions_server_name", "x509sat.uTF8String"],
        ports=server_ports(sc),
        options=("tcp.check_checksum:TRUE", "ip.check_checksum:TRUE"),
    )
    assert len(rows) == len(packets)
    column = {name: [v for row in rows for v in row[i]] for i, name in enumerate(
        ["time", "tcp_ck", "ip_ck", "flags", "ooo", "retrans", "sni", "x509"])}
    assert set(column["tcp_ck"]) == {"1"}  # 1 = good
    assert set(column["ip_ck"]) == (set() if options.get("ipv6") else {"1"})
    assert column["sni"] == [sc.expect["sni"]]
    assert set(common_names(pki.cucm_tomcat())) <= set(column["x509"])
    if options.get("reorder"):
        assert column["ooo"] and column["retrans"]
    else:
        assert not column["flags"]
    timed = rows[:-1] if path.suffix == ".gz" else rows  # the last packet went into an SPB: no time
    assert all(abs(float(row[0][0]) - p.ts) < 1e-6 for row, p in zip(timed, packets))


@needs_tshark
def test_mid_stream_rst_and_timestamps(tmp_path: Path) -> None:
    conv = scenario("ca_chain_8443").conversations[0][0]
    packets = tcp_packets(conv, syn=False, close="rst", rst_by="server", server=("10.48.36.215", 8443))
    assert [p.ts for p in packets] == sorted(p.ts for p in packets)
    path = tmp_path / "midstream.pcap"
    write_pcap(path, packets, nanosecond=True, big_endian=True)
    rows = tshark(path, ["tcp.flags.syn", "tcp.flags.reset", "tcp.srcport", "tls.handshake.type"], ports={8443})
    assert all(row[0] == ["0"] for row in rows)
    assert rows[-1][1] == ["1"] and rows[-1][2] == ["8443"]
    assert ["1"] in [row[3] for row in rows]


# --- scenarios --------------------------------------------------------------------------------


@needs_tshark
@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario_matches_tshark(name: str, tmp_path: Path) -> None:
    sc = scenario(name)
    path = tmp_path / f"{name}.pcap"
    write_capture(path, build_capture(sc))
    rows = tshark(
        path,
        ["tcp.stream", "tcp.srcport", "tls.handshake.type", "tls.handshake.extensions_server_name",
         "tls.handshake.ciphersuite", "tls.handshake.extensions.supported_version", "tls.handshake.session_id",
         "x509sat.uTF8String", "tls.alert_message.level", "tls.alert_message.desc", "tls.handshake.p_len"],
        ports=server_ports(sc),
        display_filter="tls",
    )
    assert len(sc.conversations) == len(sc.expect["flows"])
    for stream, ((_, client, server), expect) in enumerate(zip(sc.conversations, sc.expect["flows"])):
        mine = [row for row in rows if row[0] == [str(stream)]]
        c2s = [row for row in mine if row[1] == [str(client[1])]]
        s2c = [row for row in mine if row[1] == [str(server[1])]]
        hello = next(row for row in s2c if "2" in row[2])
        assert [v for row in c2s for v in row[3]] == ([expect["sni"]] if expect["sni"] else [])
        assert int(hello[4][0], 16) == expect["cipher_suite"]
        assert CIPHER_SUITES[expect["cipher_suite"]] == expect["cipher"]
        version = int(hello[5][0], 16) if hello[5] else 0x0303
        assert {0x0303: "TLS 1.2", 0x0304: "TLS 1.3"}[version] == expect["tls_version"]
        assert (hello[6][0] if hello[6] else None) == expect["session_id"]
        s2c_types = {v for row in s2c for v in row[2]}
        c2s_types = {v for row in c2s for v in row[2]}
        assert ("11" in s2c_types) == expect["certificates_in_clear"]
        assert ("13" in s2c_types) == expect["cert_request"]
        if expect["certificates_in_clear"]:
            server_names = {v for row in s2c for v in row[7]}
            assert expect["server_subject"].split(",")[0].removeprefix("CN=") in server_names
        if expect["client_subject"]:
            assert "11" in c2s_types
            client_names = {v for row in c2s for v in row[7]}
            assert expect["client_issuer"].split(",")[0].removeprefix("CN=") in client_names
        plain_alerts = [(side, row) for side, rows_ in (("client", c2s), ("server", s2c)) for row in rows_
                        if row[9]]
        if expect["alert"]:
            side, level, description = expect["alert"].split(":")
            sender, row = plain_alerts[0]
            assert sender == side
            assert row[8] == ["2" if level == "fatal" else "1"]
            assert int(row[9][0]) == ssl.AlertDescription["ALERT_DESCRIPTION_" + description.upper()].value
        else:
            assert not plain_alerts
        if "dh_prime_bits" in expect:
            assert int(next(v for row in s2c for v in row[10])) * 8 == expect["dh_prime_bits"]


def test_expectations() -> None:
    assert scenario("mic_5061").expect["client_cert_kind"] == "MIC"
    assert scenario("lsc_5061").expect["client_cert_kind"] == "LSC"
    assert scenario("lsc_rejected_unknown_ca").expect["alert"] == "server:fatal:unknown_ca"
    assert scenario("ecdsa_selfsigned_6972_unknown_ca").expect["alert"] == "client:fatal:unknown_ca"
    assert scenario("ecdsa_selfsigned_6972_unknown_ca").expect["cert_request"]
    assert scenario("tls13_443").expect["tls_version"] == "TLS 1.3"
    first, second = scenario("resumption_8443").expect["flows"]
    assert (first["resumed"], second["resumed"]) == (False, True)
    assert first["session_id"] == second["session_id"] and second["server_subject"] is None
    for name in ("mic_5061", "lsc_5061", "ca_chain_8443", "tls13_443", "resumption_8443"):
        assert scenario(name).expect["established"], name


def test_phone_records_are_coalesced() -> None:
    conv = scenario("lsc_5061").conversations[0][0]
    client_flight = [data for d, data in conv.chunks if d == "c2s"][1]
    first_type, _, fragment = next(iter_records(client_flight))
    assert first_type == 22 and fragment[0] == 11  # Certificate ...
    assert coalesce_handshake_records(conv).chunks == conv.chunks  # idempotent


@needs_tshark
def test_tls13_decrypts_with_keylog(tmp_path: Path) -> None:
    sc = scenario("tls13_443")
    conv = sc.conversations[0][0]
    assert "CLIENT_HANDSHAKE_TRAFFIC_SECRET" in conv.keylog
    keylog = tmp_path / "keys.log"
    keylog.write_text(conv.keylog)
    path = tmp_path / "tls13.pcapng"
    write_capture(path, build_capture(sc, ipv6=True))
    rows = tshark(path, ["tls.handshake.type", "x509sat.uTF8String", "http.request.uri"],
                  options=(f"tls.keylog_file:{keylog}",))
    assert "11" in {v for row in rows for v in row[0]}
    assert pki.expressway_e().cn in {v for row in rows for v in row[1]}
    assert ["/cucm-uds/version"] in [row[2] for row in rows]


@needs_tshark
def test_cipher_names_match_tshark() -> None:
    out = subprocess.run([TSHARK, "-G", "values"], capture_output=True, text=True, check=True).stdout
    names = {int(code): name for kind, field, code, name, *_ in
             (line.split("\t") for line in out.splitlines() if line.startswith("V\ttls.handshake.ciphersuite\t"))}
    assert {code: names[code] for code in CIPHER_SUITES} == CIPHER_SUITES


# --- files ------------------------------------------------------------------------------------


def test_pcap_and_pcapng_layout() -> None:
    packets = [Packet(1700000000.25, LINKTYPE_ETHERNET, b"\xaa" * 60),
               Packet(1700000001.5, LINKTYPE_ETHERNET, b"\xbb" * 61)]
    pcap = to_pcap_bytes(packets, snaplen=50)
    assert struct.unpack_from("<IHHiIII", pcap) == (0xA1B2C3D4, 2, 4, 0, 0, 50, 1)
    assert struct.unpack_from("<IIII", pcap, 24) == (1700000000, 250000, 50, 60)
    big_ns = to_pcap_bytes(packets, nanosecond=True, big_endian=True)
    assert big_ns[:4] == bytes.fromhex("a1b23c4d")
    assert struct.unpack_from(">II", big_ns, 24) == (1700000000, 250000000)
    with pytest.raises(ValueError):
        to_pcap_bytes([*packets, Packet(1700000002.0, LINKTYPE_LINUX_SLL, b"\0" * 20)])
    with pytest.raises(ValueError):
        to_pcap_bytes([])
    assert len(to_pcap_bytes([], linktype=LINKTYPE_ETHERNET)) == 24
    ng = to_pcapng_bytes([*packets, Packet(1700000002.0, LINKTYPE_LINUX_SLL, b"\0" * 20)], simple=True)
    blocks, pos = [], 0
    while pos < len(ng):
        block_type, length = struct.unpack_from("<II", ng, pos)
        assert length % 4 == 0 and struct.unpack_from("<I", ng, pos + length - 4)[0] == length
        blocks.append(block_type)
        pos += length
    assert blocks == [0x0A0D0D0A, 1, 1, 6, 3, 6]  # SHB, IDB x2, EPB, SPB (last of interface 0), EPB


@needs_tshark
def test_samples(tmp_path: Path) -> None:
    written = write_samples(tmp_path)
    assert sum(p.stat().st_size for p in written) < 300_000
    assert {f"{name}.pcap" for name in SCENARIOS} <= {p.name for p in written}
    expect = json.loads((tmp_path / "expect.json").read_text())
    assert expect["ca_chain_8443.pcap"]["sni"] == pki.CUCM_FQDN
    flows = sum(len(scenario(name).conversations) for name, _, _ in MIX)
    ports = set().union(*(server_ports(scenario(name)) for name, _, _ in MIX))
    rows = tshark(tmp_path / MIX_NAME, ["frame.interface_id", "tls.handshake.type", "ipv6.src"], ports=ports)
    assert sum(row[1].count("1") for row in rows) == flows
    assert {v for row in rows for v in row[0]} == {"0", "1"}
    assert any(row[2] for row in rows)
