"""The stated memory bounds of the engine's tables (README, "Hostile and malformed input"), each
checked at 10 times the bound: the flow table (connections in flight) and the tombstones
(finished 4-tuples remembered).  The fragment table and the key log have theirs in
test_hostile_fragments.py and test_hostile_keylog.py.  Measured with tracemalloc, no timing."""

from __future__ import annotations

import struct
import tracemalloc

from inspector.engines.python import Analyzer
from inspector.flows import Limits

from test_hostile import client_hello


def _frame(i: int, payload: bytes, dport: int) -> bytes:
    src, dst = bytes([10, (i >> 16) & 255, (i >> 8) & 255, i & 255]), bytes([10, 200, 0, 1])
    tcp = struct.pack("!HHIIBBHHH", 10000 + i % 50000, dport, 1000, 0, 0x50, 0x18, 65535, 0, 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40 + len(payload), 0, 0, 64, 6, 0, src, dst)
    return b"\x00" * 12 + b"\x08\x00" + ip + tcp + payload


def _peak(n: int, limits: Limits, payload: bytes, dport: int) -> tuple[int, Analyzer, int]:
    rows = []
    a = Analyzer("mem", limits=limits, on_flow=lambda rec, events: rows.append(rec.outcome))
    packets = ((1.0 + i * 1e-4, 1, _frame(i, payload, dport), 54 + len(payload)) for i in range(n))
    tracemalloc.start()
    try:
        a.feed(packets)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, a, len(rows)


def test_flow_table_holds_at_ten_times_its_bound():
    """max_flows connections in flight, each ~4.3 KB with a 300-byte partial ClientHello: 10x as
    many never finishing flows keep the table at the bound (the oldest is evicted and reported)."""
    bound = 500
    peak, a, emitted = _peak(10 * bound, Limits(max_flows=bound), client_hello()[:300], 443)
    assert len(a.active) == bound and emitted == 9 * bound
    assert a.stats["flows_evicted"] == 9 * bound
    assert peak < bound * 8 * 1024, peak  # ~2 MB; unbounded, the same input holds ~21 MB


def test_tombstones_hold_at_ten_times_their_bound():
    """max_tombstones finished connections remembered (two 4-tuple keys each, ~270 bytes a
    connection): 20x as many short connections keep the table at the bound."""
    bound = 1000
    peak, a, _ = _peak(20 * bound, Limits(max_tombstones=bound), b"GET / HTTP/1.1\r\n\r\n", 80)
    assert not a.active and len(a.tombstones) <= 2 * bound and len(a.table) <= 2 * bound
    assert peak < 1_500_000, peak  # unbounded, the same input holds ~5 MB


def _hog_packets(n: int):
    """n connections, each sending a ClientHello and then ~1 MB of a handshake message that never
    ends (61 records of 16,000 bytes under a 1,000,000-byte Certificate header)."""
    head = bytes([11]) + (1_000_000).to_bytes(3, "big")
    first = head + bytes(16000 - 4)
    records = [client_hello(), b"\x16\x03\x03" + len(first).to_bytes(2, "big") + first]
    records += [b"\x16\x03\x03" + (16000).to_bytes(2, "big") + bytes(16000)] * 60
    for i in range(n):
        seq = 1
        for r in records:
            for k in range(0, len(r), 1400):
                seg = r[k:k + 1400]
                src, dst = bytes([10, 1, 0, i & 255]), bytes([10, 2, 0, 1])
                tcp = struct.pack("!HHIIBBHHH", 10000 + i, 443, seq, 0, 0x50, 0x18, 65535, 0, 0)
                ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40 + len(seg), 0, 0, 64, 6, 0, src, dst)
                frame = b"\x00" * 12 + b"\x08\x00" + ip + tcp + seg
                yield (1.0 + i, 1, frame, len(frame))
                seq += len(seg)


def test_buffered_handshake_bytes_hold_at_ten_times_their_budget():
    """Before: each flow in flight could buffer up to ~1 MiB of an unfinished handshake message
    (200 such flows held 210 MB; 20,000 would hold 20 GB).  Now the flows in flight share
    Limits.max_buffered_bytes; over it, the flow holding the most is evicted and reported."""
    budget = 2 * 1024 * 1024
    rows = []
    a = Analyzer("mem", limits=Limits(max_buffered_bytes=budget), on_flow=lambda rec, ev: rows.append(rec))
    tracemalloc.start()
    try:
        a.feed(_hog_packets(20))  # ~20 MB buffered if unbounded: 10x the budget
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert a.buffered <= budget
    assert peak < 2 * budget, peak
    assert a.stats["flows_evicted_memory"] >= 18
    evicted = [r for r in rows if "evicted_memory_budget" in r.warnings]
    assert len(evicted) == a.stats["flows_evicted_memory"]
    assert evicted[0].outcome == "incomplete" and evicted[0].outcome_detail == (
        "flow evicted before the handshake ended (memory budget for buffered handshakes reached)")
    assert evicted[0].sni == "cucm1.example.lab"  # what was parsed before is kept


def test_rust_engine_keeps_the_buffered_bytes_budget(tmp_path):
    """The Rust engine takes Limits.max_buffered_bytes through the bindings: the same 20 hogging
    flows under a 2 MiB budget are evicted as the Python engine evicts them, and still reported."""
    import pytest

    import inspector
    from inspector.engines import rust as rust_engine
    from synth.frames import Packet
    from synth.pcapio import write_capture

    if not rust_engine.available():
        pytest.skip("the Rust engine is not built")
    path = tmp_path / "hog.pcap"
    write_capture(path, [Packet(ts, lt, frame) for ts, lt, frame, _ in _hog_packets(20)])
    budget = 2 * 1024 * 1024
    rows = []
    a = Analyzer("mem", limits=Limits(max_buffered_bytes=budget), on_flow=lambda rec, ev: rows.append(rec))
    a.feed((ts, lt, frame, olen) for ts, lt, frame, olen in _hog_packets(20))
    cap = inspector.read_capture(path, limits=Limits(max_buffered_bytes=budget), engine="rust")
    assert cap.stats["flows_evicted_memory"] == a.stats["flows_evicted_memory"] >= 18
    evicted = cap.flows[cap.flows["warnings"].map(lambda w: "evicted_memory_budget" in w)]
    assert len(evicted) == cap.stats["flows_evicted_memory"]
    first = evicted.sort_values("flow_id").iloc[0]
    assert first.outcome == "incomplete" and first.outcome_detail == (
        "flow evicted before the handshake ended (memory budget for buffered handshakes reached)")
    assert first.sni == "cucm1.example.lab"
    ev = cap.events[cap.events["code"] == "evicted_memory_budget"]
    assert len(ev) == len(evicted) and "Limits.max_buffered_bytes" in ev.iloc[0].detail
    # without the limit (the default 512 MiB budget) nothing is evicted
    whole = inspector.read_capture(path, engine="rust")
    assert whole.stats.get("flows_evicted_memory", 0) == 0
