"""The hostile-input catalogue (shared/RELIABILITY.md section 2): each case ends in a clear error
(exit 2) or in a per-flow warning with everything else still reported.  Never a traceback, never a
hang, never unbounded memory.  Case numbers follow the catalogue.
"""

from __future__ import annotations

import functools
import struct

import pytest
from typer.testing import CliRunner

import inspector
from inspector import CaptureError, Limits
from inspector.cli.app import app
from synth import scenarios as sc
from synth.frames import Packet, tcp_packets
from synth.handshake import Conversation
from synth.pcapio import to_pcap_bytes, to_pcapng_bytes, write_capture

CLIENT, SERVER = ("10.0.0.1", 40000), ("10.0.0.2", 443)


@functools.lru_cache(maxsize=None)
def real() -> Conversation:
    """A genuine TLS 1.2 handshake with a 2-certificate server chain and SNI."""
    return sc.SCENARIOS["ca_chain_8443"]().conversations[0][0]


def rec(ct: int, body: bytes, ver: int = 0x0303) -> bytes:
    return struct.pack("!BHH", ct, ver, len(body)) + body


def hs(mt: int, body: bytes) -> bytes:
    return bytes([mt]) + len(body).to_bytes(3, "big") + body


def client_hello() -> bytes:
    return real().chunks[0][1]


def server_hello_record() -> bytes:
    """The server's ServerHello alone, as a record."""
    body = dict(real().handshake_messages("s2c"))[2]
    return rec(22, hs(2, body))


def certificate_message(chain_body: bytes) -> bytes:
    return rec(22, hs(11, chain_body))


def server_chain_ders() -> list[bytes]:
    body = dict(real().handshake_messages("s2c"))[11]
    ders, pos = [], 3
    while pos < len(body):
        n = int.from_bytes(body[pos:pos + 3], "big")
        ders.append(body[pos + 3:pos + 3 + n])
        pos += 3 + n
    return ders


def write(tmp_path, chunks, name="case.pcap", **kw) -> str:
    packets = tcp_packets(Conversation(chunks=list(chunks)), client=CLIENT, server=SERVER, **kw)
    path = tmp_path / name
    write_capture(path, packets)
    return path


def one_flow(path, **kw):
    cap = inspector.read_capture(path, **kw)
    assert len(cap.flows) == 1, cap.flows
    return cap, cap.flows.iloc[0]


def cli_ok(path) -> int:
    r = CliRunner().invoke(app, ["report", str(path), "--format", "json"])
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    assert r.exit_code in (0, 2)
    return r.exit_code


# ---- 1-11: files ---------------------------------------------------------------------------

@pytest.mark.parametrize("content", [b"", b"just some text\n", b"\xff\xd8\xff\xe0JFIF" + bytes(40),
                                     b"\xd4\xc3\xb2\xa1\x02\x00\x04\x00"])
def test_01_not_a_capture(tmp_path, content):
    p = tmp_path / "x.pcap"
    p.write_bytes(content)
    with pytest.raises(CaptureError):
        inspector.read_capture(p)
    assert cli_ok(p) == 2


def test_02_cut_inside_a_record_keeps_flows(tmp_path):
    full = write(tmp_path, real().chunks)
    data = full.read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(data[:-25])
    cap, f = one_flow(cut)
    assert f.sni == "cucm1.example.lab"
    assert any(w.startswith("capture_truncated") for w in cap.warnings)
    assert cli_ok(cut) == 0


def test_03_caplen_zero_is_skipped(tmp_path):
    pk = tcp_packets(real(), client=CLIENT, server=SERVER)
    data = bytearray(to_pcap_bytes(pk))
    data[24:24] = struct.pack("<IIII", 1, 0, 0, 60)  # an empty record first
    p = tmp_path / "zero.pcap"
    p.write_bytes(bytes(data))
    _, f = one_flow(p)
    assert f.outcome == "established"


def test_04_caplen_huge_is_an_error(tmp_path):
    data = bytearray(to_pcap_bytes(tcp_packets(real(), client=CLIENT, server=SERVER)))
    struct.pack_into("<I", data, 24 + 8, 0xFFFFFFFF)
    p = tmp_path / "huge.pcap"
    p.write_bytes(bytes(data))
    with pytest.raises(CaptureError, match="bigger than the maximum"):
        inspector.read_capture(p)


def test_05_caplen_over_snaplen_is_accepted_with_one_warning(tmp_path):
    pk = tcp_packets(real(), client=CLIENT, server=SERVER)
    p = tmp_path / "snap.pcap"
    data = bytearray(to_pcap_bytes(pk))
    struct.pack_into("<I", data, 16, 96)  # the header's snaplen says 96; records carry more
    p.write_bytes(bytes(data))
    cap, f = one_flow(p)
    assert f.outcome == "established"
    assert sum(w.startswith("caplen_over_snaplen") for w in cap.warnings) == 1


def test_06_unknown_link_type_is_an_error_when_nothing_is_readable(tmp_path):
    p = tmp_path / "lt.pcap"
    p.write_bytes(to_pcap_bytes([Packet(1.0, 147, b"\x00" * 64)] * 3))
    with pytest.raises(CaptureError, match="link type 147"):
        inspector.read_capture(p)


def test_06b_unknown_link_type_on_one_pcapng_interface_is_skipped(tmp_path):
    pk = tcp_packets(real(), client=CLIENT, server=SERVER) + [Packet(2e9, 147, b"\x00" * 64)]
    p = tmp_path / "lt.pcapng"
    p.write_bytes(to_pcapng_bytes(pk))
    cap, f = one_flow(p)
    assert any("link type 147" in w for w in cap.warnings)


def test_07_unknown_pcapng_block_is_skipped(tmp_path):
    data = to_pcapng_bytes(tcp_packets(real(), client=CLIENT, server=SERVER))
    shb = struct.unpack_from("<I", data, 4)[0]
    custom = struct.pack("<II", 0x40000BAD, 20) + b"opaque!!" + struct.pack("<I", 20)
    p = tmp_path / "blk.pcapng"
    p.write_bytes(data[:shb] + custom + data[shb:])
    one_flow(p)


@pytest.mark.parametrize("blen", [8, 14, 0xFFFFFFF0])
def test_08_pcapng_bad_block_length(tmp_path, blen):
    data = bytearray(to_pcapng_bytes(tcp_packets(real(), client=CLIENT, server=SERVER)))
    shb = struct.unpack_from("<I", data, 4)[0]
    idb = struct.unpack_from("<I", data, shb + 4)[0]
    first_epb = shb + idb
    second_epb = first_epb + struct.unpack_from("<I", data, first_epb + 4)[0]
    struct.pack_into("<I", data, second_epb + 4, blen)
    p = tmp_path / "bl.pcapng"
    p.write_bytes(bytes(data))
    cap = inspector.read_capture(p)  # one packet was read before: flows so far + warning
    assert any(w.startswith("capture_truncated") for w in cap.warnings)


def test_09_epb_without_idb_is_skipped(tmp_path):
    data = to_pcapng_bytes(tcp_packets(real(), client=CLIENT, server=SERVER))
    shb = struct.unpack_from("<I", data, 4)[0]
    idb = struct.unpack_from("<I", data, shb + 4)[0]
    p = tmp_path / "noidb.pcapng"
    p.write_bytes(data[:shb] + data[shb + idb:])
    cap = inspector.read_capture(p)
    assert len(cap.flows) == 0
    assert any(w.startswith("packet_without_interface") for w in cap.warnings)


def test_10_two_sections_with_different_byte_orders(tmp_path):
    pk = tcp_packets(real(), client=CLIENT, server=SERVER)
    half = len(pk) // 2
    p = tmp_path / "two.pcapng"
    p.write_bytes(to_pcapng_bytes(pk[:half]) + to_pcapng_bytes(pk[half:], big_endian=True))
    _, f = one_flow(p)
    assert f.outcome == "established"


def test_11_timestamps_zero_or_backwards(tmp_path):
    pk = tcp_packets(real(), client=CLIENT, server=SERVER)
    pk = [Packet(0.0 if i % 2 else 1e9 - i, p.linktype, p.data) for i, p in enumerate(pk)]
    p = tmp_path / "ts.pcap"
    write_capture(p, pk)
    _, f = one_flow(p)
    assert f.outcome == "established"


# ---- 12-16: IP and TCP headers -----------------------------------------------------------

def _mutate_packet(pk: list[Packet], index: int, fn) -> list[Packet]:
    out = list(pk)
    out[index] = Packet(pk[index].ts, pk[index].linktype, bytes(fn(bytearray(pk[index].data))))
    return out


@pytest.mark.parametrize("mutation", ["ihl_small", "total_length_short", "padding"])
def test_12_bad_ipv4_headers_are_skipped_or_trimmed(tmp_path, mutation):
    pk = tcp_packets(real(), client=CLIENT, server=SERVER)
    ack = 2  # the client's ACK of the handshake: losing it changes nothing
    if mutation == "ihl_small":
        pk = _mutate_packet(pk, ack, lambda d: d.__setitem__(14, 0x43) or d)
    elif mutation == "total_length_short":
        pk = _mutate_packet(pk, ack, lambda d: d.__setitem__(slice(16, 18), b"\x00\x05") or d)
    else:  # Ethernet padding after the IP datagram on every packet
        pk = [Packet(p.ts, p.linktype, p.data + b"\x00" * 12) for p in pk]
    p = tmp_path / "ip.pcap"
    write_capture(p, pk)
    cap, f = one_flow(p)
    assert f.outcome == "established"


def test_13_ipv4_fragments_are_reassembled(tmp_path):
    pk = tcp_packets(real(), client=CLIENT, server=SERVER)
    frags = []
    for p in pk:
        d = p.data
        ip, payload = d[14:34], d[34:]
        if len(payload) < 200:
            frags.append(p)
            continue
        cut = 96  # multiple of 8
        for off, part, more in ((0, payload[:cut], 1), (cut, payload[cut:], 0)):
            h = bytearray(ip)
            h[2:4] = (20 + len(part)).to_bytes(2, "big")
            h[6:8] = ((more << 13) | (off // 8)).to_bytes(2, "big")
            frags.append(Packet(p.ts, p.linktype, d[:14] + bytes(h) + part))
    frags[1], frags[2] = frags[2], frags[1]  # and a little disorder
    path = tmp_path / "frag.pcap"
    write_capture(path, frags)
    _, f = one_flow(path)
    assert f.outcome == "established" and f.sni == "cucm1.example.lab"


def test_14_ipv6_extension_header_loop_is_skipped(tmp_path):
    pk = tcp_packets(real(), client=CLIENT, server=SERVER, ipv6=True)

    def loop(d):
        # 40 hop-by-hop headers pointing at one another
        ext = b"".join(bytes([0, 0]) + bytes(6) for _ in range(40))
        d[20] = 0  # next header: hop-by-hop
        return d[:54] + ext + d[54:]

    pk = _mutate_packet(pk, 2, loop)
    p = tmp_path / "v6.pcap"
    write_capture(p, pk)
    cap, f = one_flow(p)
    assert cap.stats.get("skipped_ipv6_bad_extension_headers") == 1


def test_15_bad_checksums_are_ignored(tmp_path):
    pk = tcp_packets(real(), client=CLIENT, server=SERVER)
    pk = [Packet(p.ts, p.linktype, p.data[:24] + b"\xde\xad" + p.data[26:]) for p in pk]  # IP checksum
    p = tmp_path / "ck.pcap"
    write_capture(p, pk)
    assert one_flow(p)[1].outcome == "established"


def test_16_tcp_data_offset_below_5_is_skipped(tmp_path):
    pk = tcp_packets(real(), client=CLIENT, server=SERVER)
    pk = _mutate_packet(pk, 2, lambda d: d.__setitem__(46, 0x30) or d)
    p = tmp_path / "doff.pcap"
    write_capture(p, pk)
    cap, f = one_flow(p)
    assert cap.stats.get("bad_tcp_header_length") == 1 and f.outcome == "established"


# ---- 17-22: TCP streams ---------------------------------------------------------------------

def test_17_midstream_is_flagged(tmp_path):
    pk = tcp_packets(real(), client=CLIENT, server=SERVER)
    p = tmp_path / "mid.pcap"
    write_capture(p, pk[3:])
    _, f = one_flow(p)
    assert "midstream" in f.warnings and f.server_subject is not None


def test_18_unfilled_gap_is_flagged(tmp_path):
    pk = tcp_packets(real(), client=CLIENT, server=SERVER, segment_size=300)
    drop = next(i for i, p in enumerate(pk) if len(p.data) > 300 and i > 4)
    p = tmp_path / "gap.pcap"
    write_capture(p, pk[:drop] + pk[drop + 1:])
    cap = inspector.read_capture(p)
    assert len(cap.flows) == 1
    assert "content_gap" in cap.flows.warnings[0]


def test_19_overlap_with_different_bytes(tmp_path):
    pk = tcp_packets(real(), client=CLIENT, server=SERVER, segment_size=300)
    i = next(i for i, p in enumerate(pk) if len(p.data) > 300 and i > 4)
    forged = Packet(pk[i].ts - 1e-4, pk[i].linktype, pk[i].data[:60] + b"\x00" * (len(pk[i].data) - 60))
    p = tmp_path / "ovl.pcap"
    write_capture(p, pk[:i] + [forged] + pk[i:])
    cap = inspector.read_capture(p)
    assert len(cap.flows) == 1  # first copy wins: the forged bytes break the record layer
    assert "overlap_different_data" in cap.flows.warnings[0]


def test_20_out_of_order_and_wraparound(tmp_path):
    pk = tcp_packets(real(), client=CLIENT, server=SERVER, isn_client=2**32 - 50,
                     isn_server=2**32 - 1, segment_size=50, reorder=True, duplicate=True)
    p = tmp_path / "wrap.pcap"
    write_capture(p, pk)
    _, f = one_flow(p)
    assert f.outcome == "established" and list(f.warnings) == []


def test_21_four_tuple_reuse(tmp_path):
    a = tcp_packets(real(), client=CLIENT, server=SERVER, t0=1e9)
    b = tcp_packets(real(), client=CLIENT, server=SERVER, t0=1e9 + 60, isn_client=9999999)
    p = tmp_path / "reuse.pcap"
    write_capture(p, a + b)
    assert len(inspector.read_capture(p).flows) == 2


def test_22_rst_mid_handshake_gives_a_partial_row(tmp_path):
    chunks = real().chunks[:2]
    p = write(tmp_path, chunks, close="rst", rst_by="client")
    _, f = one_flow(p)
    assert f.outcome == "reset" and f.sni == "cucm1.example.lab"
    assert f.outcome_detail.startswith("client reset the connection")


def test_22b_data_above_a_hole_is_bounded(tmp_path):
    chunks = [("c2s", client_hello()), ("s2c", server_hello_record())]
    pk = tcp_packets(Conversation(chunks=chunks), client=CLIENT, server=SERVER, close=None)
    # 2 MB the server sends far above a hole that never fills
    base = pk[-1]
    flood = []
    for k in range(1500):
        d = bytearray(base.data)
        seq = (int.from_bytes(d[38:42], "big") + 100_000 + k * 1400) % 2**32
        d[38:42] = seq.to_bytes(4, "big")
        body = bytes(d[:54]) + b"\x17" * 1400
        body = bytearray(body)
        body[16:18] = (len(body) - 14).to_bytes(2, "big")
        flood.append(Packet(base.ts + 0.001 * (k + 1), base.linktype, bytes(body)))
    p = tmp_path / "hole.pcap"
    write_capture(p, pk + flood)
    cap, f = one_flow(p)
    assert "content_gap" in f.warnings


# ---- 23-31: TLS records and messages -------------------------------------------------------

@pytest.mark.parametrize("length", [0, (1 << 14) + 2049])
def test_23_bad_record_length(tmp_path, length):
    bad = struct.pack("!BHH", 22, 0x0303, length) + b"\x00" * min(length, 64)
    p = write(tmp_path, [("c2s", client_hello()), ("s2c", server_hello_record() + bad)])
    _, f = one_flow(p)
    assert "invalid_record_length" in f.warnings and f.tls_version == "TLS 1.2"


def test_24_handshake_length_max_in_one_byte_records(tmp_path):
    header = bytes([11]) + (2**24 - 1).to_bytes(3, "big")
    records = b"".join(rec(22, header[i:i + 1]) for i in range(4)) + b"".join(rec(22, b"\x00") for _ in range(2000))
    p = write(tmp_path, [("c2s", client_hello()), ("s2c", server_hello_record() + records)])
    _, f = one_flow(p)
    assert "handshake_too_large" in f.warnings


def test_25_ten_thousand_records_in_one_segment(tmp_path):
    flood = rec(23, b"x") * 10_001
    p = write(tmp_path, [("c2s", client_hello()), ("s2c", server_hello_record() + flood)])
    _, f = one_flow(p, limits=Limits())
    assert "too_many_records" in f.warnings


def test_26_lying_certificate_lengths_keep_what_fits(tmp_path):
    ders = server_chain_ders()
    entries = b"".join(len(d).to_bytes(3, "big") + d for d in ders)
    lying = (len(entries) + 5000).to_bytes(3, "big") + entries[:3] + (len(ders[0]) + 1).to_bytes(3, "big")[:0] + entries[3:]
    p = write(tmp_path, [("c2s", client_hello()), ("s2c", server_hello_record() + certificate_message(lying))])
    cap, f = one_flow(p)
    assert "certificate_invalid_length" in f.warnings
    assert len(f.server_chain_sha256) == len(ders)


def test_27_garbage_der_is_kept_and_flagged(tmp_path):
    garbage = b"\x30\x82\x01\x00" + b"\xAA" * 256
    body = (len(garbage) + 3).to_bytes(3, "big") + len(garbage).to_bytes(3, "big") + garbage
    p = write(tmp_path, [("c2s", client_hello()), ("s2c", server_hello_record() + certificate_message(body))])
    cap, f = one_flow(p)
    assert "cert_parse_error" in f.warnings
    row = cap.certificates.iloc[0]
    assert row.der == garbage and row.subject is __import__("pandas").NA


def test_28_ten_thousand_certificate_chain_is_capped(tmp_path):
    der = server_chain_ders()[1]
    entries = (len(der).to_bytes(3, "big") + der) * 10_000
    body = len(entries).to_bytes(3, "big") + entries
    chunks = [("c2s", client_hello()), ("s2c", server_hello_record()
                                         + b"".join(rec(22, hs(11, body)[i:i + 16384]) for i in range(0, len(body) + 4, 16384)))]
    p = write(tmp_path, chunks)
    _, f = one_flow(p, limits=Limits(max_handshake_bytes=32 * 1024 * 1024))
    assert len(f.server_chain_sha256) == 32 and "too_many_certificates" in f.warnings


def test_29_hostile_sni_is_escaped_in_csv(tmp_path):
    ch = client_hello()
    name = b"cucm1.example.lab"
    evil = b"=cmd|x\n\x00.lab....."
    assert len(evil) == len(name)
    p = write(tmp_path, [("c2s", ch.replace(name, evil))] + real().chunks[1:2])
    cap, f = one_flow(p)
    assert f.sni == "=cmd|x\\x0a\\x00.lab....."  # control bytes shown escaped, never raw
    assert "invalid_server_name" in f.warnings
    out = tmp_path / "f.csv"
    r = CliRunner().invoke(app, ["report", str(p), "--format", "csv", "-o", str(out)])
    assert r.exit_code == 0
    assert "'=cmd|x" in out.read_text()


def test_30_sslv2_client_hello_is_recognised(tmp_path):
    ciphers = b"\x00\x00\x2f\x00\x00\x35\x01\x00\x80"
    challenge = b"\x11" * 16
    body = b"\x01\x03\x01" + struct.pack("!HHH", len(ciphers), 0, len(challenge)) + ciphers + challenge
    v2 = struct.pack("!H", 0x8000 | len(body)) + body
    p = write(tmp_path, [("c2s", v2), ("s2c", server_hello_record())])
    _, f = one_flow(p)
    assert f.history.startswith("Cs") and f.client_max_version == "TLS 1.0"


def test_31_non_tls_on_443_is_a_warning_and_tls_on_any_port_is_found(tmp_path):
    http = [("c2s", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"), ("s2c", b"HTTP/1.1 200 OK\r\n\r\n")]
    a = tcp_packets(Conversation(chunks=http), client=CLIENT, server=SERVER, t0=1e9)
    b = tcp_packets(real(), client=("10.0.0.1", 40001), server=("10.0.0.2", 9999), t0=1e9 + 1)
    p = tmp_path / "mix.pcap"
    write_capture(p, a + b)
    cap = inspector.read_capture(p)
    assert list(cap.flows.server_port) == [9999]
    assert "not_tls" in set(cap.events.code)


def test_32_tls13_has_empty_certificate_fields(tmp_path):
    conv = sc.SCENARIOS["tls13_443"]().conversations[0][0]
    p = write(tmp_path, conv.chunks)
    _, f = one_flow(p)
    assert f.server_subject is __import__("pandas").NA and not f.certs_visible and f.outcome == "established"


# ---- 33-34: scale ---------------------------------------------------------------------------

def test_33_many_flows_are_evicted_but_still_reported(tmp_path):
    hello = client_hello()
    packets = []
    template = tcp_packets(Conversation(chunks=[("c2s", hello)]), client=CLIENT, server=SERVER, close=None)
    for k in range(3000):
        for pkt in template:
            d = bytearray(pkt.data)
            sport = 1024 + k
            if d[34:36] == (40000).to_bytes(2, "big"):
                d[34:36] = sport.to_bytes(2, "big")
            else:
                d[36:38] = sport.to_bytes(2, "big")
            packets.append(Packet(pkt.ts + k * 1e-3, pkt.linktype, bytes(d)))
    p = tmp_path / "many.pcap"
    write_capture(p, packets)
    cap = inspector.read_capture(p, limits=Limits(max_flows=100))
    assert len(cap.flows) == 3000
    evicted = cap.flows.warnings.map(lambda w: "evicted_flow_table_full" in w).sum()
    assert evicted == 3000 - 100
    assert (cap.flows.outcome == "incomplete").all()


def test_34_application_data_is_not_buffered(tmp_path):
    big = rec(23, b"\x00" * 16000) * 400  # 6.4 MB after the handshake
    chunks = list(real().chunks) + [("s2c", big)]
    p = write(tmp_path, chunks)
    cap, f = one_flow(p)
    assert f.outcome == "established"
    assert f.packets < 40  # judged done early: later packets were skipped by the hot loop


def test_short_ethernet_ipv4_frame_on_the_fast_path(tmp_path):
    """Found by fuzzing: a 21-byte Ethernet/IPv4 frame (header claims more) crashed the hot loop."""
    pk = tcp_packets(real(), client=CLIENT, server=SERVER)
    pk.insert(1, Packet(pk[0].ts, 1, pk[0].data[:21]))
    p = tmp_path / "short.pcap"
    write_capture(p, pk)
    _, f = one_flow(p)
    assert f.outcome == "established"
