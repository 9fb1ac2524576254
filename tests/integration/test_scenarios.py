"""End to end: genuine OpenSSL handshakes of the Cisco scenarios, framed every way a lab capture
can be (Ethernet/IPv4, IPv6, VLAN, QinQ, SLL, SLL2, raw, loopback, pcap and pcapng, gzip, tiny
reordered duplicated segments, ISNs near 2**32) -> the flows a user would check.

The expected values come from the handshake objects themselves (`Scenario.expect`), not literals.
"""

import functools

import pytest

import inspector
from synth import scenarios as sc
from synth.pcapio import write_capture

NAMES = sc.FRAMED_SCENARIOS
FRAMINGS = sc.FRAMINGS


@functools.lru_cache(maxsize=None)
def scenario(name):
    return getattr(sc, name)()


def check(flows, scen):
    expected = scen.expect["flows"]
    assert len(flows) == len(expected), flows[["client_ip", "client_port", "outcome"]]
    for f, e in zip(flows.itertuples(), expected):
        assert f"{f.client_ip}:{f.client_port}".endswith(e["client"].split(":")[-1])
        assert f.server_port == e["server_port"]
        assert f.tls_version == e["tls_version"]
        assert f.cipher == e["cipher"]
        assert (None if f.sni is pd_na else f.sni) == e["sni"]
        assert f.outcome == ("established" if e["established"] else "failed")
        if e["alert"]:
            assert e["alert"] in f.alerts
            sender = e["alert"].split(":")[0]
            assert f.outcome_detail.startswith(f"{sender} sent fatal")
        assert bool(f.resumed) == e["resumed"]
        assert bool(f.certs_visible) == e["certificates_in_clear"]
        if e["certificates_in_clear"]:
            assert f.server_subject == e["server_subject"]
            assert f.server_issuer == e["server_issuer"]
        assert bool(f.client_cert_requested) == e["cert_request"]
        if e["client_subject"] and e["certificates_in_clear"]:
            assert f.client_subject == e["client_subject"]
            assert f.client_issuer == e["client_issuer"]
            assert f.client_cert_kind == e["client_cert_kind"]
        else:
            assert f.client_cert_kind is pd_na


pd_na = __import__("pandas").NA


@pytest.mark.parametrize("framing", list(FRAMINGS))
@pytest.mark.parametrize("name", NAMES)
def test_scenario_in_every_framing(tmp_path, name, framing):
    scen = scenario(name)
    packets = sc.build_capture(scen, **FRAMINGS[framing])
    path = tmp_path / f"{name}.pcap"
    write_capture(path, packets)
    check(inspector.read_capture(path).flows, scen)


@pytest.mark.parametrize("fmt", ["pcapng", "pcapng.gz", "pcap.gz"])
def test_all_scenarios_in_one_capture(tmp_path, fmt):
    packets = []
    for i, name in enumerate(NAMES):
        packets += sc.build_capture(scenario(name), port_offset=i * 10, t0=1_700_000_000 + i * 10,
                                    link="vlan" if i % 2 else "ether")
    packets.sort(key=lambda p: p.ts)
    path = tmp_path / f"mix.{fmt}"
    write_capture(path, packets, big_endian=fmt.endswith("gz"))
    cap = inspector.read_capture(path)
    expected = sum(len(scenario(n).expect["flows"]) for n in NAMES)
    assert len(cap.flows) == expected
    # every certificate row links back to flows that sent it
    for row in cap.certificates.itertuples():
        assert row.flow_ids and all(1 <= i <= expected for i in row.flow_ids)
    alerts = cap.events[cap.events.kind == "alert"]
    expected_alerts = [f["alert"].split(":")[2] for n in NAMES for f in scenario(n).expect["flows"] if f["alert"]]
    assert sorted(alerts.code) == sorted(expected_alerts)


def test_sequence_numbers_near_wraparound(tmp_path):
    from synth.frames import tcp_packets
    conv, client, server = scenario("ca_chain_8443").conversations[0]
    packets = tcp_packets(conv, client=client, server=server, isn_client=2**32 - 700,
                          isn_server=2**32 - 30, segment_size=200, reorder=True)
    path = tmp_path / "wrap.pcap"
    write_capture(path, packets)
    flows = inspector.read_capture(path).flows
    assert list(flows.outcome) == ["established"]
    assert flows.sni[0] == "cucm1.example.lab"


def test_capture_starting_mid_handshake_is_flagged(tmp_path):
    scen = scenario("ca_chain_8443")
    packets = sc.build_capture(scen)
    path = tmp_path / "mid.pcap"
    write_capture(path, packets[2:])  # no SYN, no SYN-ACK
    flows = inspector.read_capture(path).flows
    assert len(flows) == 1
    assert flows.sni[0] == "cucm1.example.lab"
    assert "midstream" in flows.warnings[0]


def test_port_reuse_gives_two_flows(tmp_path):
    from synth.frames import tcp_packets
    conv, client, server = scenario("ecdsa_selfsigned_6972_unknown_ca").conversations[0]
    first = tcp_packets(conv, client=client, server=server, t0=sc.CAPTURE_T0)
    # the same 4-tuple later, with a new SYN and new ISNs
    second = tcp_packets(conv, client=client, server=server, t0=sc.CAPTURE_T0 + 100,
                         isn_client=77777, isn_server=99999)
    path = tmp_path / "reuse.pcap"
    write_capture(path, first + second)
    flows = inspector.read_capture(path).flows
    assert len(flows) == 2
    assert list(flows.outcome) == ["failed", "failed"]


@pytest.mark.parametrize("heads,port,name", [
    ([b"220 mx.example.com ESMTP", b"EHLO me"], 25, "smtp"),
    ([b"220 (vsFTPd 3.0.3)", b"AUTH TLS"], 21, "ftp"),
    ([b"* OK IMAP4rev1 ready"], 143, "imap"),
    ([b"+OK POP3 ready"], 110, "pop3"),
    ([b"<?xml version='1.0'?><stream:stream"], 5222, "xmpp"),
    ([b"\x00\x00\x00\x08\x04\xd2\x16\x2f"], 15432, "postgresql"),
    ([b"\x30\x1d\x02\x01\x01\x77\x18"], 389, "ldap"),
    ([b"\x4a\x00\x00\x00\x0a8.0.28"], 3306, "mysql"),
    ([b"\x05\x01\x00"], 1080, "socks"),
    ([b"CAP LS"], 6667, "unknown"),
])
def test_prelude_protocol_names(heads, port, name):
    from inspector.tls.detect import prelude_protocol
    assert prelude_protocol(heads, port) == name
