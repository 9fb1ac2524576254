"""Captures that hold only part of the handshake (issue 14, items 7 and 8): a snaplen that cut the
packets is named on the flow (``snaplen_truncated``, with the snaplen) and in its outcome; hellos
seen only in part are reported as ``incomplete`` with what was seen, never dropped in silence."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest

import inspector
from synth.frames import Packet
from synth.pcapio import write_capture

from test_hostile import client_hello

SAMPLE = Path(__file__).resolve().parents[2] / "pcaps" / "ca_chain_8443.pcap"


def sliced(tmp_path, snaplen: int) -> Path:
    """The sample as `editcap -s SNAPLEN` writes it (captured length < original length)."""
    out = tmp_path / f"s{snaplen}.pcap"
    editcap = shutil.which("editcap")
    if editcap:
        subprocess.run([editcap, "-s", str(snaplen), str(SAMPLE), str(out)], check=True)
        return out
    data = SAMPLE.read_bytes()  # the same by hand: classic pcap, little-endian
    head, pos, parts = bytearray(data[:24]), 24, []
    head[16:20] = struct.pack("<I", snaplen)
    while pos + 16 <= len(data):
        sec, usec, incl, orig = struct.unpack_from("<IIII", data, pos)
        keep = min(incl, snaplen)
        parts.append(struct.pack("<IIII", sec, usec, keep, orig) + data[pos + 16:pos + 16 + keep])
        pos += 16 + incl
    out.write_bytes(bytes(head) + b"".join(parts))
    return out


@pytest.mark.parametrize("snaplen, outcome", [(64, "incomplete"), (200, "incomplete"), (1000, "established")])
def test_snaplen_is_named_on_the_flow_and_in_its_outcome(tmp_path, snaplen, outcome):
    """Before: 0 flows at 64, a wrong outcome at 200 (an "encrypted alert"), content_gap alone at
    1000; nothing named the snaplen."""
    cap = inspector.read_capture(sliced(tmp_path, snaplen))
    assert len(cap.flows) == 1
    f = cap.flows.iloc[0]
    assert "snaplen_truncated" in f.warnings
    assert f.outcome == outcome
    assert f"the capture cut the packets at {snaplen} bytes (snaplen {snaplen})" in f.outcome_detail
    ev = cap.events[cap.events["code"] == "snaplen_truncated"]
    assert len(ev) == 1 and f"snaplen {snaplen}" in ev.iloc[0].detail


def test_whole_packets_have_no_snaplen_warning():
    cap = inspector.read_capture(SAMPLE)
    f = cap.flows.iloc[0]
    assert f.outcome == "established" and "snaplen_truncated" not in f.warnings
    assert "snaplen" not in str(f.outcome_detail)


def test_an_uncaptured_fcs_is_not_a_snaplen_cut(tmp_path):
    """Original length = captured length + 4 (the Ethernet FCS, not captured): nothing of the IP
    datagram is missing, so no warning."""
    data = SAMPLE.read_bytes()
    assert data[:4] == b"\xd4\xc3\xb2\xa1"
    out, pos = bytearray(data[:24]), 24
    while pos + 16 <= len(data):
        sec, usec, incl, orig = struct.unpack_from("<IIII", data, pos)
        out += struct.pack("<IIII", sec, usec, incl, incl + 4) + data[pos + 16:pos + 16 + incl]
        pos += 16 + incl
    path = tmp_path / "fcs.pcap"
    path.write_bytes(bytes(out))
    f = inspector.read_capture(path).flows.iloc[0]
    assert f.outcome == "established" and "snaplen_truncated" not in f.warnings


def test_a_snaplen_above_every_frame_is_not_a_cut(tmp_path):
    """A snaplen above every frame cuts nothing: no warning."""
    cap = inspector.read_capture(sliced(tmp_path, 1514))
    assert "snaplen_truncated" not in cap.flows.iloc[0].warnings


def _frame(i: int, payload: bytes, flags: int = 0x18) -> bytes:
    src, dst = bytes([10, 1, (i >> 8) & 255, i & 255]), bytes([10, 2, 0, 1])
    tcp = struct.pack("!HHIIBBHHH", 10000 + i % 50000, 443, 1000, 0, 0x50, flags, 65535, 0, 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40 + len(payload), 0, 0, 64, 6, 0, src, dst)
    return b"\x00" * 12 + b"\x08\x00" + ip + tcp + payload


def test_many_flows_with_a_partial_client_hello_are_all_reported(tmp_path):
    """Before: 30,000 (or 100,000) flows whose ClientHello was cut short gave 0 flows and no
    warning.  Each is now a row, ``incomplete``, saying how much of the ClientHello was seen."""
    n = 30_000
    part = client_hello()[:100]
    path = tmp_path / "partial.pcap"
    write_capture(path, [Packet(1.0 + i * 1e-4, 1, _frame(i, part)) for i in range(n)])
    cap = inspector.read_capture(path)
    assert len(cap.flows) == n
    assert set(cap.flows["outcome"]) == {"incomplete"}
    need = int.from_bytes(client_hello()[6:9], "big") + 4
    assert set(cap.flows["outcome_detail"]) == {f"only 95 of the {need} bytes of the ClientHello were seen"}


def test_partial_client_hello_then_reset_says_both(tmp_path):
    part = client_hello()[:300]
    path = tmp_path / "one.pcap"
    write_capture(path, [Packet(1.0, 1, _frame(7, part)), Packet(2.0, 1, _frame(7, b"", flags=0x04))])
    f = inspector.read_capture(path).flows.iloc[0]
    assert f.outcome == "incomplete"
    assert f.outcome_detail.startswith("only 295 of the ") and f.outcome_detail.endswith(
        "bytes of the ClientHello were seen; then the client reset the connection")
