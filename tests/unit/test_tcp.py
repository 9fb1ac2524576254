"""TCP reassembly: every way the bytes can arrive gives the same stream, and anomalies are named."""

import random

from hypothesis import given, settings, strategies as st

from inspector.tcp import StreamReassembler

STREAM = bytes(range(256)) * 8  # 2 KiB, every offset distinguishable


def segments(data: bytes, size: int, isn: int) -> list[tuple[int, bytes]]:
    return [((isn + 1 + i) % 2**32, data[i:i + size]) for i in range(0, len(data), size)]


def run(segs, isn: int | None = 1000, flush: bool = True) -> tuple[bytes, StreamReassembler, list]:
    r = StreamReassembler()
    out = []
    if isn is not None:
        r.segment(isn, b"", syn=True)
    for seq, payload in segs:
        out.extend(r.segment(seq, payload))
    if flush:
        out.extend(r.flush())
    return b"".join(d for d, _ in out), r, out


def test_in_order():
    data, r, _ = run(segments(STREAM, 100, 1000))
    assert data == STREAM and r.anomalies == []


def test_reordered_and_duplicated_tiny_segments():
    segs = segments(STREAM, 7, 1000)
    rng = random.Random(1)
    segs = segs + rng.sample(segs, 50)
    rng.shuffle(segs)
    data, r, _ = run(segs)
    assert data == STREAM
    assert "content_gap" not in r.anomalies


def test_sequence_wraparound():
    isn = 2**32 - 300
    data, r, _ = run(segments(STREAM, 100, isn), isn=isn)
    assert data == STREAM


def test_midstream_without_syn_is_flagged():
    segs = segments(STREAM, 100, 5000)
    data, r, _ = run(segs, isn=None)
    assert data == STREAM
    assert r.midstream and "midstream" in r.anomalies


def test_overlap_with_different_bytes_first_copy_wins():
    segs = segments(STREAM, 100, 1000)
    first, second = segs[0], segs[2]
    forged = (second[0], b"X" * 100)
    data, r, _ = run([first, forged, second, segs[1]] + segs[3:])
    assert data[200:300] == b"X" * 100  # the first copy of those bytes won
    assert "overlap_different_data" in r.anomalies


def test_gap_is_jumped_at_flush_and_marked():
    segs = segments(STREAM, 100, 1000)
    del segs[3]
    data, r, out = run(segs)
    assert data == STREAM[:300] + STREAM[400:]
    assert "content_gap" in r.anomalies
    assert [gap for _, gap in out].count(True) == 1


def test_pending_bytes_are_bounded():
    r = StreamReassembler(max_pending=1000)
    r.segment(1000, b"", syn=True)
    for i in range(1, 50):  # never fills the first 100 bytes
        r.segment(1001 + i * 100, b"y" * 100)
        assert r.pending_bytes <= 1000 + 100
    assert "content_gap" in r.anomalies


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 300), st.integers(0, 2**32 - 1), st.randoms(use_true_random=False))
def test_any_segmentation_order_or_isn_gives_the_same_stream(size, isn, rnd):
    segs = segments(STREAM[:700], size, isn)
    segs += [rnd.choice(segs) for _ in range(len(segs) // 3)]
    rnd.shuffle(segs)
    data, r, _ = run(segs, isn=isn)
    assert data == STREAM[:700]


def test_retransmission_with_different_bytes_than_delivered_is_flagged():
    segs = segments(STREAM, 100, 1000)
    data, r, _ = run(segs + [(segs[3][0], b"Z" * 100)])
    assert data == STREAM and "overlap_different_data" in r.anomalies
    data, r, _ = run(segs + [segs[3]])
    assert r.anomalies == []
