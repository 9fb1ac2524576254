"""Compressed captures under attack or bad luck (issue 14, items 3 and 6): a gzip stream cut short
keeps what was decoded; a decompression bomb and a flood of empty records stop early, each with a
named warning."""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

import inspector
from inspector.sources.capture import CaptureReader, PcapngParser
from inspector.cli.app import app
from synth.frames import Packet
from synth.pcapio import to_pcap_bytes

SAMPLE = Path(__file__).resolve().parents[2] / "pcaps" / "cisco_lab_mix.pcapng"


def gunzip_prefix(data: bytes) -> bytes:
    """What a cut-short gzip stream decodes to (zlib itself, as the reference)."""
    return zlib.decompressobj(31).decompress(data)


@pytest.mark.parametrize("cut", [3000, 9000, 20000])
def test_cut_short_gzip_keeps_what_was_decoded(tmp_path, cut):
    """Before: `gzip -c sample.pcapng | head -c 9000` gave 0 frames and no warning; the same bytes
    unzipped gave the flows and capture_truncated."""
    gz = gzip.compress(SAMPLE.read_bytes())
    assert cut < len(gz)
    zipped, plain = tmp_path / "cut.pcapng.gz", tmp_path / "cut.pcapng"
    zipped.write_bytes(gz[:cut])
    plain.write_bytes(gunzip_prefix(gz[:cut]))
    a, b = inspector.read_capture(zipped), inspector.read_capture(plain)
    assert a.stats["frames"] == b.stats["frames"] > 0
    assert len(a.flows) == len(b.flows) and list(a.flows["sni"]) == list(b.flows["sni"])
    assert any(w.startswith("capture_truncated: the gzip stream is cut short") for w in a.warnings)


def test_cut_short_gzip_on_the_cli_reports_flows(tmp_path):
    import json

    path, out = tmp_path / "cut.pcapng.gz", tmp_path / "out.json"
    path.write_bytes(gzip.compress(SAMPLE.read_bytes())[:9000])
    r = CliRunner().invoke(app, ["report", str(path), "--format", "json", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "capture_truncated" in r.output  # the warning line on stderr
    assert len(json.loads(out.read_text())["flows"]) > 0


def _payload(i: int) -> bytes:
    return bytes([i & 0xFF]) * 200 + bytes(range(256))


def test_gzip_with_a_bad_checksum_keeps_every_packet(tmp_path):
    """zlib drops the output of a call that fails: a bad CRC at the very end used to lose it all."""
    raw = to_pcap_bytes([Packet(1.0 + i, 1, _payload(i)) for i in range(400)])
    gz = bytearray(gzip.compress(raw, compresslevel=1))
    gz[-8] ^= 0xFF  # the CRC-32 of the trailer
    path = tmp_path / "crc.pcap.gz"
    path.write_bytes(bytes(gz))
    reader = CaptureReader(path)
    pkts = list(reader.packets())
    assert [p[2] for p in pkts] == [_payload(i) for i in range(400)]
    assert [w.code for w in reader.warnings] == ["capture_truncated"]
    assert "damaged" in reader.warnings[0].detail


def test_damaged_gzip_keeps_the_packets_before_the_damage(tmp_path):
    raw = to_pcap_bytes([Packet(1.0 + i, 1, _payload(i)) for i in range(400)])
    gz = bytearray(gzip.compress(raw, compresslevel=1))
    for i in range(len(gz) // 2, len(gz) // 2 + 64):
        gz[i] ^= 0x5A
    path = tmp_path / "bad.pcap.gz"
    path.write_bytes(bytes(gz))
    cap = inspector.read_capture(path)
    assert cap.stats["frames"] >= 10
    assert any(w.startswith("capture_truncated") for w in cap.warnings)
    reader = CaptureReader(path)
    first = next(iter(reader.batches()))
    assert [p[2] for p in first[:10]] == [_payload(i) for i in range(10)]


def test_concatenated_gzip_members_are_all_read(tmp_path):
    a = to_pcap_bytes([Packet(1.0 + i, 1, b"a" * 80) for i in range(5)])
    b = to_pcap_bytes([Packet(9.0 + i, 1, b"b" * 80) for i in range(5)])[24:]  # records only
    path = tmp_path / "two.pcap.gz"
    path.write_bytes(gzip.compress(a) + gzip.compress(b) + b"\0" * 512)
    reader = CaptureReader(path)
    pkts = list(reader.packets())
    assert [p[2][:1] for p in pkts] == [b"a"] * 5 + [b"b"] * 5 and reader.warnings == []


def test_decompression_bomb_stops_with_a_warning(tmp_path):
    zeros = [Packet(1.0, 1, b"\0" * 65535)] * 64  # ~4 MiB of zeros: gzip ratio ~1000:1
    path = tmp_path / "bomb.pcap.gz"
    path.write_bytes(gzip.compress(to_pcap_bytes(zeros)))
    reader = CaptureReader(path, chunk_size=65536, gunzip_ratio_floor=1024 * 1024)
    n = sum(1 for _ in reader.packets())
    assert 0 < n < 64
    assert [w.code for w in reader.warnings] == ["decompression_limit"]
    assert "more than 500 times" in reader.warnings[0].detail
    plain = CaptureReader(path, chunk_size=65536)  # the default floor (256 MiB) lets 4 MiB through
    assert sum(1 for _ in plain.packets()) == 64 and plain.warnings == []


def test_decompressed_size_cap(tmp_path):
    path = tmp_path / "big.pcap.gz"
    path.write_bytes(gzip.compress(to_pcap_bytes([Packet(1.0 + i, 1, bytes(range(256)) * 4) for i in range(100)])))
    reader = CaptureReader(path, chunk_size=4096, max_gunzip_bytes=20_000)
    n = sum(1 for _ in reader.packets())
    assert 0 < n < 100 and reader.warnings[0].code == "decompression_limit"


def _empty_records(n: int) -> bytes:
    return struct.pack("<IIII", 0, 0, 0, 0) * n


def test_empty_record_flood_in_a_gzip_bomb_ends_early(tmp_path):
    """Before: 1 MB of .gz expanding to 1 GiB of empty records read all of it: 44 s, `frames 0`,
    no warning.  Now reading stops after 1,000,000 empty records (16 MB), with a warning."""
    member = gzip.compress(_empty_records(1 << 20), compresslevel=9)  # 16 MiB each
    path = tmp_path / "bomb.pcap.gz"
    head = to_pcap_bytes([Packet(1.0, 1, b"x" * 60)])
    path.write_bytes(gzip.compress(head) + member * 64)  # 1 GiB decompressed
    assert path.stat().st_size < 2_000_000
    cap = inspector.read_capture(path)
    assert cap.stats["frames"] == 1
    flood = [w for w in cap.warnings if w.startswith("empty_record_flood:")]
    assert flood == ["empty_record_flood: more than 1000000 consecutive records carry no packet data; "
                     "reading stopped there"]
    assert cap.bytes_read < 40 * 1024 * 1024
    assert not any(w.startswith("capture_truncated") for w in cap.warnings)


def test_empty_records_below_the_flood_limit_are_skipped_quietly(tmp_path):
    path = tmp_path / "some.pcap"
    path.write_bytes(to_pcap_bytes([Packet(1.0, 1, b"x" * 60)]) + _empty_records(1000)
                     + to_pcap_bytes([Packet(2.0, 1, b"y" * 60)])[24:])
    reader = CaptureReader(path)
    assert [p[2][:1] for p in reader.packets()] == [b"x", b"y"]
    assert reader.warnings == [] and reader.skipped_packets == 1000


def test_pcapng_flood_of_blocks_without_packets_stops():
    def block(btype: int, body: bytes) -> bytes:
        return struct.pack("<II", btype, 12 + len(body)) + body + struct.pack("<I", 12 + len(body))

    shb = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    idb = block(1, struct.pack("<HHI", 1, 0, 0))
    custom = block(0x00000BAD, b"1234")
    epb = block(6, struct.pack("<IIIII", 0, 0, 0, 4, 4) + b"pkt!")
    p = PcapngParser()
    p.max_empty_records = 50
    out = p.feed(shb + idb + custom * 40 + epb + custom * 51 + epb)
    assert len(out) == 1 and p.flooded
    assert [w.code for w in p.warnings] == ["empty_record_flood"]
    assert p.feed(epb) == []
    p.close()
    assert [w.code for w in p.warnings] == ["empty_record_flood"]
