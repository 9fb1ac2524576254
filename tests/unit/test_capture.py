"""Capture files -> packets: formats, byte orders, compression, and files that are not right."""

import gzip
import struct

import pytest

from inspector.sources.capture import CaptureReader, PcapngParser, PcapParser
from inspector.errors import CaptureError
from synth.frames import Packet
from synth.pcapio import to_pcap_bytes, to_pcapng_bytes
from corpus import PCAPS as PCAPS_DIR

PKTS = [Packet(1700000000.0 + i * 0.25, 1, bytes([i]) * (60 + i)) for i in range(10)]


def read(path):
    reader = CaptureReader(path, chunk_size=97)  # odd chunk size: records straddle chunks
    return list(reader.packets()), reader


@pytest.mark.parametrize("big_endian", [False, True])
@pytest.mark.parametrize("nanosecond", [False, True])
@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
def test_formats_byte_orders_and_resolutions(tmp_path, fmt, big_endian, nanosecond):
    enc = to_pcap_bytes if fmt == "pcap" else to_pcapng_bytes
    path = tmp_path / f"x.{fmt}"
    path.write_bytes(enc(PKTS, big_endian=big_endian, nanosecond=nanosecond))
    pkts, reader = read(path)
    assert [p[2] for p in pkts] == [p.data for p in PKTS]
    assert [p[1] for p in pkts] == [1] * 10
    assert pkts[3][0] == pytest.approx(PKTS[3].ts, abs=1e-6)
    assert reader.format == fmt and reader.warnings == []


def test_gzip_compressed(tmp_path):
    path = tmp_path / "x.pcapng.gz"
    path.write_bytes(gzip.compress(to_pcapng_bytes(PKTS)))
    pkts, reader = read(path)
    assert len(pkts) == 10 and reader.format == "pcapng.gz"


def test_pcapng_interfaces_with_different_link_types(tmp_path):
    mixed = [Packet(1.0, 1, b"e" * 20), Packet(2.0, 113, b"s" * 20), Packet(3.0, 1, b"f" * 20)]
    path = tmp_path / "m.pcapng"
    path.write_bytes(to_pcapng_bytes(mixed, simple=False))
    pkts, _ = read(path)
    assert [(p[1], p[2][:1]) for p in pkts] == [(1, b"e"), (113, b"s"), (1, b"f")]


def test_pcapng_simple_packet_block(tmp_path):
    path = tmp_path / "s.pcapng"
    path.write_bytes(to_pcapng_bytes(PKTS, simple=True))
    pkts, _ = read(path)
    assert [p[2] for p in pkts] == [p.data for p in PKTS]


def test_cut_mid_record_keeps_complete_packets_and_warns(tmp_path):
    data = to_pcap_bytes(PKTS)
    path = tmp_path / "cut.pcap"
    path.write_bytes(data[:-30])
    pkts, reader = read(path)
    assert len(pkts) == 9
    assert [w.code for w in reader.warnings] == ["capture_truncated"]


def test_cut_gzip_stream_warns(tmp_path):
    path = tmp_path / "cut.pcap.gz"
    path.write_bytes(gzip.compress(to_pcap_bytes(PKTS))[:-40])
    pkts, reader = read(path)
    assert len(pkts) >= 1
    assert "capture_truncated" in [w.code for w in reader.warnings]


@pytest.mark.parametrize("content,needle", [
    (b"", "empty file"),
    (b"hello, this is text\n" * 3, "text file"),
    (b"\xff\xd8\xff\xe0" + b"\x00" * 40, "JPEG"),
    (b"\xd4\xc3\xb2\xa1\x02\x00", "cut short"),
])
def test_not_a_capture_is_one_clear_error(tmp_path, content, needle):
    path = tmp_path / "bad"
    path.write_bytes(content)
    with pytest.raises(CaptureError, match=needle):
        read(path)


def test_huge_caplen_is_an_error_before_reading_data(tmp_path):
    data = bytearray(to_pcap_bytes(PKTS))
    struct.pack_into("<I", data, 24 + 8, 0xFFFFFFFF)  # first record's caplen
    path = tmp_path / "huge.pcap"
    path.write_bytes(bytes(data))
    with pytest.raises(CaptureError, match="bigger than the maximum"):
        read(path)


def test_caplen_zero_is_skipped_and_counted():
    hdr = to_pcap_bytes(PKTS[:1])[:24]
    rec0 = struct.pack("<IIII", 1, 0, 0, 60)
    rec1 = struct.pack("<IIII", 2, 0, 4, 4) + b"abcd"
    p = PcapParser(hdr)
    pkts = p.feed(hdr[24:] + rec0 + rec1)
    assert [x[2] for x in pkts] == [b"abcd"] and p.skipped == 1


@pytest.mark.parametrize("blen", [8, 13, 0x7FFFFFF0])
def test_pcapng_bad_block_length_is_an_error(blen):
    data = bytearray(to_pcapng_bytes(PKTS))
    shb_len = struct.unpack_from("<I", data, 4)[0]
    idb_len = struct.unpack_from("<I", data, shb_len + 4)[0]
    struct.pack_into("<I", data, shb_len + idb_len + 4, blen)  # first EPB
    p = PcapngParser()
    p.feed(bytes(data))
    assert isinstance(p.error, CaptureError)


def test_pcapng_unknown_block_is_skipped():
    data = to_pcapng_bytes(PKTS)
    shb_len = struct.unpack_from("<I", data, 4)[0]
    custom = struct.pack("<II", 0x0BAD, 16) + b"abcd" + struct.pack("<I", 16)
    p = PcapngParser()
    pkts = p.feed(data[:shb_len] + custom + data[shb_len:])
    assert len(pkts) == 10 and p.error is None


def test_pcapng_packet_without_interface_is_skipped_with_warning():
    data = to_pcapng_bytes(PKTS)
    shb_len = struct.unpack_from("<I", data, 4)[0]
    idb_len = struct.unpack_from("<I", data, shb_len + 4)[0]
    p = PcapngParser()
    pkts = p.feed(data[:shb_len] + data[shb_len + idb_len:])  # drop the IDB
    assert pkts == [] and p.skipped == 10
    assert [w.code for w in p.warnings] == ["packet_without_interface"]


def test_sniff_format_is_the_one_reader_of_magic_numbers(tmp_path):
    """batch's discovery and the tshark engine both ask `sniff_format` what a file is."""
    import io

    from inspector.sources.capture import sniff_format
    pcap = (PCAPS_DIR / "mic_5061.pcap").read_bytes()
    ng = (PCAPS_DIR / "cisco_lab_mix.pcapng").read_bytes()
    assert sniff_format(io.BytesIO(pcap))[:2] == ("pcap", False)
    assert sniff_format(io.BytesIO(ng))[:2] == ("pcapng", False)
    assert sniff_format(io.BytesIO(gzip.compress(ng)))[:2] == ("pcapng", True)
    assert sniff_format(io.BytesIO(b"hello world")) == (None, False, b"hell")
    assert sniff_format(io.BytesIO(b"")) == (None, False, b"")
    with pytest.raises((OSError, EOFError)):
        sniff_format(io.BytesIO(gzip.compress(ng)[:10] + b"\xff" * 20))
    from inspector.batch import looks_like_capture
    for name, data, want in (("a.pcap", pcap, True), ("b.txt", b"notes", False),
                             ("c.gz", gzip.compress(pcap), True), ("d.gz", b"\x1f\x8b" + b"\x00" * 30, True),
                             # a damaged deflate stream raised zlib.error through discovery (a traceback)
                             ("e.bin", gzip.compress(ng)[:10] + b"\xff" * 20, True)):
        (tmp_path / name).write_bytes(data)
        assert looks_like_capture(str(tmp_path / name)) is want, name
