"""capture_missed_bytes (issue 11 item 4): the peer acknowledged bytes the capture does not hold.

Built from a genuine handshake (lsc_rejected_unknown_ca) with the segment holding the server's
fatal alert dropped while the client's ACK of it is kept; tshark flags the client's ACKs as
tcp.analysis.ack_lost_segment on the same capture.  On the public corpus tshark flags
ntop-nDPI/tls_2_reasms.pcapng, tls_client_certificate_with_missing_server_one.pcapng and
tls_invalid_reads.pcap, and both engines flag the same flows (surveyed by hand, 80 files)."""

from __future__ import annotations

import pytest

from inspector import api
from inspector.diagnose import diagnose
from synth import scenarios as sc
from synth.pcapio import write_capture


def _payload(p):
    d = p.data
    t = 14 + (d[14] & 15) * 4
    return d[t + (d[t + 12] >> 4) * 4:14 + ((d[16] << 8) | d[17])]


@pytest.fixture(scope="module")
def dropped_alert(tmp_path_factory):
    packets = [p for p in sc.build_capture(sc.SCENARIOS["lsc_rejected_unknown_ca"]()) if _payload(p)[:1] != b"\x15"]
    path = tmp_path_factory.mktemp("missed") / "dropped_alert.pcap"
    write_capture(path, packets)
    return path


@pytest.mark.parametrize("engine", ["python", "rust"])
def test_dropped_alert_is_flagged_and_not_called_silent(dropped_alert, engine):
    a = api.read_capture(dropped_alert, engine=engine).analysis
    (flow,) = a.flows
    assert "capture_missed_bytes" in flow.warnings
    assert "without an alert" not in flow.outcome_detail and "missed 7 bytes from the server" in flow.outcome_detail
    ev = [(e.sender, e.detail) for e in a.events if e.code == "capture_missed_bytes"]
    assert ev == [("server", "server->client: 7 bytes acknowledged but not captured")]
    codes = {f.code for f in diagnose(a)}
    assert "capture_missed_bytes" in codes and "handshake_reset" not in codes


@pytest.mark.parametrize("engine", ["python", "rust"])
def test_whole_capture_is_not_flagged(tmp_path, engine):
    path = tmp_path / "whole.pcap"
    write_capture(path, sc.build_capture(sc.SCENARIOS["lsc_rejected_unknown_ca"](), duplicate=True))
    a = api.read_capture(path, engine=engine).analysis
    assert all("capture_missed_bytes" not in f.warnings for f in a.flows)
