"""Build the benchmark captures: ``python bench/gen.py [--size 100m|1g|3g] [--force]``.

Writes ``bench/data/bench-<size>-v<GEN_VERSION>.pcap`` (Ethernet, IPv4, classic pcap) and its
sidecar ``bench-<size>-v<GEN_VERSION>.json`` (what the capture holds: expected TLS flow count,
per-template outcomes, packet mix).  Both are kept and reused until GEN_VERSION changes (the
version is in the file names) or ``--force`` is given.

How it stays fast: only a handful of genuine TLS handshakes are run (``synth``: Python's
``ssl`` over memory BIOs, one per template and application-data size), framed once into TCP
packets (``synth.frames.tcp_packets``).  Every flow of the capture is a copy of one
template whose IP addresses, ports, sequence and acknowledgement numbers and timing are rewritten
with ``struct`` (TCP and IP checksums are left stale, the IP total length stays right).  Flows are
interleaved by a heap merge in time order (about ``--concurrency`` TLS flows in flight at once)
and written with large buffered writes.

The mix, per 1 GB (scaled linearly for 100m and 3g):

* ~20,000 TLS connections from five templates: TLS 1.2 mutual auth on 5061 (3-certificate RSA
  server chain, phone MIC client chain, handshake records coalesced as phones do), TLS 1.2 on 8443
  (CA-signed chain, SNI), TLS 1.3 on 443, a TLS 1.2 handshake on 6972 that the client aborts with
  fatal unknown_ca, and a full + resumed (session ID) pair on 8443.  Established flows carry
  genuine encrypted application data (1400-byte segments, one ACK per two segments) and end
  with close_notify and FIN.
* HTTP/1.1 over TCP port 80 flows, RTP-like UDP G.711 streams (20 ms, 214-byte frames, both
  directions of each call), and a trickle of ARP requests and ICMP echo request/reply pairs.
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import random
import ssl
import struct
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: synth/ (test captures, not shipped)

GEN_VERSION = 1
"""Bump whenever the capture content changes: cached files carry it in their names."""

BENCH_DIR = Path(__file__).resolve().parent
DATA_DIR = BENCH_DIR / "data"
SIZES = {"100m": 100_000_000, "1g": 1_000_000_000, "3g": 3_000_000_000}
TLS_FLOWS_PER_GB = 20_000
CAPTURE_T0 = 1_700_000_000  # 2023-11-14 22:13:20 UTC, inside the synth certificates' validity
SEGMENT = 1400  # TCP payload per full segment
ACK_EVERY = 2  # a receiver ACK after every ACK_EVERY full segments of bulk data
IN_FLIGHT_GAP_US = 12  # spacing of back-to-back segments (~1400 B at 1 Gb/s)
PCAP_REC = 16  # pcap per-packet record header
_M32 = 0xFFFFFFFF

# Share of the bytes not taken by TLS flows.
RTP_SHARE, MISC_SHARE = 0.60, 0.004  # HTTP gets the rest

_PCAP_HDR = struct.Struct("<IIII")
_ADDR = struct.Struct("!4s4sHHII")  # IPv4 src/dst + TCP ports, seq, ack (frame bytes 26..46)


def paths(size: str) -> tuple[Path, Path]:
    """(capture, sidecar) paths of a size."""
    base = DATA_DIR / f"bench-{size}-v{GEN_VERSION}"
    return base.with_suffix(".pcap"), base.with_suffix(".json")


# ---------------------------------------------------------------------------------------------
# Templates: genuine handshakes framed once
# ---------------------------------------------------------------------------------------------

@dataclass
class TcpTemplate:
    """One framed TCP connection, ready to be copied with new addresses, ISNs and timing.

    ``packets``: (flight, position in flight, phase, from_client, seq - ISN, ack - peer ISN,
    has_ack, frame[:26], frame[46:]); phase 0 = TCP/TLS handshake, 1 = application data,
    2 = close.
    """

    name: str
    server_ip: bytes
    server_port: int
    packets: list[tuple]
    flights: int
    frame_bytes: int
    handshake_packets: int  # packets carrying TLS handshake-phase bytes
    data_packets: int  # packets carrying application-data-phase bytes

    @property
    def n(self) -> int:
        return len(self.packets)

    @property
    def file_bytes(self) -> int:
        return self.frame_bytes + PCAP_REC * self.n


def _pace(chunks: list, start: int, stop: int) -> list:
    """Split chunks[start:stop] into ACK_EVERY-segment pieces (the receiver ACKs each piece)."""
    out = list(chunks[:start])
    piece = ACK_EVERY * SEGMENT
    for direction, data in chunks[start:stop]:
        out += [(direction, data[i:i + piece]) for i in range(0, len(data), piece)]
    return out + list(chunks[stop:])


def frame_template(name: str, chunks: list, n_handshake: int, n_data: int,
                   client: tuple[str, int], server: tuple[str, int],
                   close: str = "fin") -> TcpTemplate:
    """Frame a conversation (chunks: handshake, then data, then close) as one TCP connection."""
    from synth.frames import FIN, tcp_packets
    from synth.handshake import Conversation

    # Each direction's stream offsets -> phase, before the data chunks are split for ACK pacing.
    bounds: dict[str, list[tuple[int, int]]] = {"c2s": [], "s2c": []}
    offset = {"c2s": 0, "s2c": 0}
    for i, (direction, data) in enumerate(chunks):
        phase = 0 if i < n_handshake else 1 if i < n_handshake + n_data else 2
        bounds[direction].append((offset[direction], phase))
        offset[direction] += len(data)
    paced = _pace(chunks, n_handshake, n_handshake + n_data)
    isn_c, isn_s = 1000, 5000
    pkts = tcp_packets(Conversation(chunks=paced), client=client, server=server, segment_size=SEGMENT,
                       t0=0.0, isn_client=isn_c, isn_server=isn_s, close=close)
    client_ip = bytes(int(x) for x in client[0].split("."))
    out, flight, k, last_us, phase = [], -1, 0, None, 0
    handshake_packets = data_packets = 0
    for p in pkts:
        d = p.data
        us = round(p.ts * 1e6)
        if last_us is None or us - last_us > 10:
            flight, k = flight + 1, 0
        else:
            k += 1
        last_us = us
        from_client = d[26:30] == client_ip
        seq, ack = struct.unpack_from("!II", d, 38)
        flags = d[47]
        doff = (d[46] >> 4) * 4
        payload_len = struct.unpack_from("!H", d, 16)[0] - 20 - doff
        isn_self, isn_peer = (isn_c, isn_s) if from_client else (isn_s, isn_c)
        if payload_len:
            pos = (seq - isn_self - 1) & _M32
            phase = max(ph for start, ph in bounds["c2s" if from_client else "s2c"] if start <= pos)
            handshake_packets += phase == 0
            data_packets += phase == 1
        elif flags & FIN:
            phase = 2
        out.append((flight, k, phase, from_client, (seq - isn_self) & _M32, (ack - isn_peer) & _M32,
                    bool(flags & 0x10), d[:26], d[46:]))
    return TcpTemplate(name, bytes(int(x) for x in server[0].split(".")), server[1], out, flight + 1,
                       sum(len(p.data) for p in pkts), handshake_packets, data_packets)


def _app(label: bytes, size: int) -> bytes:
    """Plaintext of ``size`` bytes (it goes over the wire encrypted)."""
    return (label + b" " + b"x" * size)[:size]


def _split_conv(conv, *, app: bool, close: bool) -> tuple[list, int, int]:
    """(chunks, handshake chunk count, data chunk count) of a run_handshake result."""
    chunks = list(conv.chunks)
    n_data = 2 if app else 0
    n_close = 2 if close else 0
    n_hs = len(chunks) - n_data - n_close
    for _, data in chunks[n_hs:]:
        if data[0] not in (21, 23):  # application data / (encrypted) close_notify records
            raise RuntimeError(f"unexpected record type {data[0]} after the handshake")
    return chunks, n_hs, n_data


@dataclass
class TlsKind:
    """A TLS template family: one or two connections per unit, size variants, expectations."""

    name: str
    weight: float  # share of TLS *connections*
    variants: list[list[TcpTemplate]]  # per data size variant: the unit's connections
    expect: list[dict]  # per connection of a unit: what tlsinspect should report
    server_ips: list[bytes]


def build_tls_kinds() -> list[TlsKind]:
    """Run the genuine handshakes (about a dozen) and frame them."""
    from synth import pki
    from synth.handshake import (client_context, coalesce_handshake_records, run_handshake,
                                           server_context)
    from synth.scenarios import flow_expect

    def expect_of(conv, client, server, server_identity, client_identity=None):
        e = flow_expect(conv, client, server, server_identity=server_identity, client_identity=client_identity)
        keep = ("server_port", "sni", "tls_version", "cipher", "established", "resumed", "alert",
                "cert_request", "certificates_in_clear", "server_subject", "server_chain", "client_subject")
        out = {k: e[k] for k in keep}
        out["outcome"] = "established" if conv.established else "failed"
        return out

    kinds: list[TlsKind] = []
    tls12 = ssl.TLSVersion.TLSv1_2

    # 1. SIP over TLS 1.2 on 5061: 3-certificate RSA server chain, phone MIC client certificate.
    root = pki.make_ca("Bench Collab Root CA", org="Example Lab")
    policy = pki.make_ca("Bench Collab Policy CA", issuer=root, org="Example Lab", path_len=1)
    issuing = pki.make_ca("Bench Collab Issuing CA", issuer=policy, org="Example Lab", path_len=0)
    sip_server = pki.make_leaf(pki.CUCM_FQDN, issuing, client=True, san_dns=[pki.CUCM_FQDN],
                               org="Example Lab")
    assert len(sip_server.chain) == 3
    phone = pki.phone_mic()
    client, server = ("10.10.1.20", 51000), (pki.CUCM_IP, 5061)
    variants, expect = [], None
    for req, resp in ((1200, 1600), (6000, 8000), (14000, 28000)):
        sctx = server_context(sip_server, request_client_cert=True, trusted_cas=[pki.cisco_root_ca_2048().cert],
                              max_version=tls12)
        cctx = client_context(trusted_cas=[root.cert], client_identity=phone, max_version=tls12)
        conv = coalesce_handshake_records(run_handshake(sctx, cctx, sni=None, close=True,
                                                        app_data=(_app(b"REGISTER", req), _app(b"SIP/2.0", resp))))
        chunks, n_hs, n_data = _split_conv(conv, app=True, close=True)
        variants.append([frame_template("sip_tls12_mutual_5061", chunks, n_hs, n_data, client, server)])
        expect = expect_of(conv, client, server, sip_server, phone)
    kinds.append(TlsKind("sip_tls12_mutual_5061", 0.35, variants, [expect],
                         [bytes([10, 48, 36, 215 + i]) for i in range(3)]))

    # 2. HTTPS TLS 1.2 on 8443: CUCM tomcat, CA-signed chain (leaf + issuing CA), SNI.
    tomcat = pki.cucm_tomcat()
    client, server = ("10.48.36.10", 52000), (pki.CUCM_IP, 8443)
    variants = []
    for resp in (8000, 32000, 96000):
        sctx = server_context(tomcat, trusted_cas=[pki.example_root_ca().cert], max_version=tls12)
        cctx = client_context(trusted_cas=[pki.example_root_ca().cert], check_hostname=True)
        conv = run_handshake(sctx, cctx, sni=pki.CUCM_FQDN, close=True,
                             app_data=(_app(b"GET /cucm-uds/users HTTP/1.1", 600), _app(b"HTTP/1.1 200 OK", resp)))
        chunks, n_hs, n_data = _split_conv(conv, app=True, close=True)
        variants.append([frame_template("https_tls12_8443", chunks, n_hs, n_data, client, server)])
        expect = expect_of(conv, client, server, tomcat)
    kinds.append(TlsKind("https_tls12_8443", 0.25, variants, [expect],
                         [bytes([10, 48, 36, 215 + i]) for i in range(3)]))

    # 3. TLS 1.3 on 443: MRA client to Expressway-E (certificates encrypted).
    expressway = pki.expressway_e()
    client, server = ("203.0.113.50", 53000), ("198.51.100.20", 443)
    variants = []
    for resp in (4000, 24000, 64000):
        sctx = server_context(expressway)
        cctx = client_context(trusted_cas=[pki.example_root_ca().cert], check_hostname=True)
        conv = run_handshake(sctx, cctx, sni=pki.EXPRESSWAY_E_FQDN, close=True,
                             app_data=(_app(b"GET /dwr HTTP/1.1", 400), _app(b"HTTP/1.1 200 OK", resp)))
        if conv.version != "TLSv1.3":
            raise RuntimeError(f"expected TLS 1.3, got {conv.version}")
        chunks, n_hs, n_data = _split_conv(conv, app=True, close=True)
        variants.append([frame_template("tls13_443", chunks, n_hs, n_data, client, server)])
        expect = expect_of(conv, client, server, expressway)
    kinds.append(TlsKind("tls13_443", 0.25, variants, [expect],
                         [bytes([198, 51, 100, 20 + i]) for i in range(2)]))

    # 4. Failed: self-signed ECDSA server cert + CertificateRequest on 6972; client sends unknown_ca.
    ecdsa = pki.cucm_tomcat_ecdsa()
    client, server = ("10.48.36.10", 52100), (pki.CUCM_IP, 6972)
    sctx = server_context(ecdsa, request_client_cert=True, trusted_cas=[pki.example_root_ca().cert],
                          max_version=tls12)
    cctx = client_context(trusted_cas=[pki.example_root_ca().cert], check_hostname=True)
    conv = run_handshake(sctx, cctx, sni=ecdsa.cn)
    if conv.established or not conv.alerts():
        raise RuntimeError("the 6972 template should fail with an alert")
    chunks, n_hs, n_data = _split_conv(conv, app=False, close=False)
    kinds.append(TlsKind("unknown_ca_6972", 0.05,
                         [[frame_template("unknown_ca_6972", chunks, n_hs, 0, client, server)]],
                         [expect_of(conv, client, server, ecdsa)],
                         [bytes([10, 48, 36, 215 + i]) for i in range(3)]))

    # 5. Resumption on 8443: a full TLS 1.2 handshake, then one resuming its session ID.
    client, server = ("10.48.36.10", 52300), (pki.CUCM_IP, 8443)
    sctx = server_context(tomcat, session_tickets=False, max_version=tls12)
    cctx = client_context(trusted_cas=[pki.example_root_ca().cert], check_hostname=True)
    app = (_app(b"GET /cucm-uds/version HTTP/1.1", 500), _app(b"HTTP/1.1 200 OK", 6000))
    first = run_handshake(sctx, cctx, sni=pki.CUCM_FQDN, app_data=app, close=True)
    second = run_handshake(sctx, cctx, sni=pki.CUCM_FQDN, session=first.session, app_data=app, close=True)
    if not second.session_reused:
        raise RuntimeError("OpenSSL did not resume the session")
    unit = [frame_template("resumption_8443", *_split_conv(c, app=True, close=True), client, server)
            for c in (first, second)]
    kinds.append(TlsKind("resumption_8443", 0.10, [unit],
                         [expect_of(c, client, server, tomcat) for c in (first, second)],
                         [bytes([10, 48, 36, 215 + i]) for i in range(3)]))
    return kinds


def build_http_templates() -> list[TcpTemplate]:
    """Plain HTTP/1.1 on port 80 (no TLS), a few response sizes."""
    client, server = ("10.1.0.1", 40000), ("192.0.2.10", 80)
    out = []
    for size in (1500, 6000, 24000, 90000):
        req = b"GET /firmware/part HTTP/1.1\r\nHost: tftp.example.lab\r\nUser-Agent: bench\r\n\r\n"
        resp = b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n" % size
        resp += bytes(random.Random(size).getrandbits(8) for _ in range(256)) * (size // 256 + 1)
        out.append(frame_template("http_80", [("c2s", req), ("s2c", resp[:size])], 0, 2, client, server))
    return out


# ---------------------------------------------------------------------------------------------
# Flow copies (generators of (timestamp in us, frame bytes))
# ---------------------------------------------------------------------------------------------

def tcp_flow(tpl: TcpTemplate, start: int, cip: bytes, sip: bytes, cport: int, isn_c: int, isn_s: int,
             half_rtt: int, think1: int, think2: int) -> Iterator[tuple[int, bytes]]:
    """Yield the template's frames with new addresses, ISNs and timing."""
    pack = _ADDR.pack
    sport = tpl.server_port
    gap = IN_FLIGHT_GAP_US
    for flight, k, phase, from_client, seq, ack, has_ack, head, tail in tpl.packets:
        t = start + flight * half_rtt + k * gap
        if phase:
            t += think1 if phase == 1 else think1 + think2
        if from_client:
            hdr = pack(cip, sip, cport, sport, (seq + isn_c) & _M32, (ack + isn_s) & _M32 if has_ack else 0)
        else:
            hdr = pack(sip, cip, sport, cport, (seq + isn_s) & _M32, (ack + isn_c) & _M32 if has_ack else 0)
        yield t, head + hdr + tail


def tcp_duration(tpl: TcpTemplate, half_rtt: int, think1: int, think2: int) -> int:
    flight, k, phase = tpl.packets[-1][:3]
    return flight * half_rtt + k * IN_FLIGHT_GAP_US + (think1 if phase else 0) + (think2 if phase == 2 else 0)


def chain_flows(*gens: Iterator[tuple[int, bytes]]) -> Iterator[tuple[int, bytes]]:
    for gen in gens:
        yield from gen


_ETH_C2S = bytes.fromhex("005056aabbcc001122334455")  # dst, src MACs
_ETH_BCAST = bytes.fromhex("ffffffffffff001122334466")


def rtp_stream(start: int, n: int, src: bytes, dst: bytes, sport: int, dport: int, ssrc: int,
               payloads: list[bytes], jitter: list[int]) -> Iterator[tuple[int, bytes]]:
    """G.711 RTP: 160-byte payload every 20 ms (214-byte Ethernet frames)."""
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0xB8, 200, 0, 0x4000, 64, 17, 0, src, dst)
    head = _ETH_C2S + b"\x08\x00" + ip + struct.pack("!HHHH", sport, dport, 180, 0) + b"\x80\x00"
    rtp = struct.Struct("!HII").pack
    seq0, ts0 = ssrc & 0xFFFF, ssrc >> 8
    for i in range(n):
        yield (start + 20_000 * i + jitter[i & 255],
               head + rtp((seq0 + i) & 0xFFFF, (ts0 + 160 * i) & _M32, ssrc) + payloads[i & 63])


def misc_packets(start: int, end: int, n: int, rng: random.Random) -> Iterator[tuple[int, bytes]]:
    """ARP requests and ICMP echo request/reply pairs spread over [start, end)."""
    step = max(1, (end - start) // max(1, n))
    t = start
    for i in range(n):
        host = bytes([10, 64, rng.randrange(16), rng.randrange(1, 255)])
        gw = bytes([10, 64, 0, 1])
        if i % 3 == 0:
            arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, _ETH_BCAST[6:], gw, b"\0" * 6, host)
            yield t, _ETH_BCAST + b"\x08\x06" + arp + b"\0" * 18
        else:
            reply = i % 3 == 2
            src, dst = (host, gw) if reply else (gw, host)
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 84, i & 0xFFFF, 0x4000, 64, 1, 0, src, dst)
            icmp = struct.pack("!BBHHH", 0 if reply else 8, 0, 0, 0x1234, i // 3 & 0xFFFF) + b"\x42" * 56
            yield t, _ETH_C2S + b"\x08\x00" + ip + icmp
        t += step if i % 3 != 1 else min(step, 300 + rng.randrange(700))  # replies follow requests


# ---------------------------------------------------------------------------------------------
# Plan and write
# ---------------------------------------------------------------------------------------------

def _client_ip(h: int) -> bytes:
    return bytes([10, 100 + h // 64516, h // 254 % 254 + 1, h % 254 + 1])


def generate(size: str, *, concurrency: int = 200, seed: int = 1, force: bool = False,
             quiet: bool = False) -> tuple[Path, Path]:
    """Build the capture of ``size`` unless it exists; return (capture, sidecar) paths."""
    pcap, sidecar = paths(size)
    if pcap.exists() and sidecar.exists() and not force:
        return pcap, sidecar
    log = (lambda *a: None) if quiet else (lambda *a: print("gen:", *a, file=sys.stderr, flush=True))
    t_start = time.perf_counter()
    target = SIZES[size]
    scale = target / 1e9
    rng = random.Random(seed)

    kinds = build_tls_kinds()
    http = build_http_templates()
    log(f"templates built in {time.perf_counter() - t_start:.1f}s "
        f"({sum(len(v) for k in kinds for v in k.variants)} TLS handshake framings)")

    # --- TLS units: kind, variant, timing; the arrival rate keeps ~concurrency flows in flight.
    n_tls = round(TLS_FLOWS_PER_GB * scale)
    weights = [k.weight / len(k.expect) for k in kinds]  # per unit, from per-connection shares
    units = []  # (kind index, variant index, half_rtt, think1, think2, duration)
    flows = 0
    while flows < n_tls:
        ki = rng.choices(range(len(kinds)), weights)[0]
        kind = kinds[ki]
        vi = rng.randrange(len(kind.variants))
        half_rtt = int(rng.choice((500, 1000, 2000, 5000, 10000, 20000, 40000)) * rng.uniform(0.8, 1.2))
        think1 = int(rng.expovariate(1 / 400_000))  # idle before the request
        think2 = int(rng.expovariate(1 / 300_000))  # idle before close
        parts = kind.variants[vi]
        dur = sum(tcp_duration(t, half_rtt, think1, think2) for t in parts) + 100_000 * (len(parts) - 1)
        units.append((ki, vi, half_rtt, think1, think2, dur))
        flows += len(parts)
    mean_dur = sum(u[-1] for u in units) / flows  # per connection (a resumption pair counts twice)
    duration = int(flows * mean_dur / concurrency)  # us
    tls_bytes = sum(t.file_bytes for u in units for t in kinds[u[0]].variants[u[1]])
    tls_packets = sum(t.n for u in units for t in kinds[u[0]].variants[u[1]])

    # --- the rest of the byte budget: RTP, HTTP, ARP/ICMP.
    rest = max(0, target - 24 - tls_bytes)
    misc_n = int(rest * MISC_SHARE / 100)
    rtp_budget = int(rest * RTP_SHARE / (214 + PCAP_REC))
    calls = []  # (start, packets per direction)
    max_pk = max(50, duration // 20_000 - 1)
    rtp_n = 0
    while rtp_n < rtp_budget:
        n = min(max_pk, rng.randrange(500, 6000), max(25, (rtp_budget - rtp_n) // 2))
        calls.append((rng.randrange(0, max(1, duration - n * 20_000)), n))
        rtp_n += 2 * n
    http_budget = rest - misc_n * 100 - rtp_n * (214 + PCAP_REC)
    http_flows = []  # (start, template index, half_rtt)
    http_bytes = http_packets = 0
    while http_bytes < http_budget:
        ti = rng.choices(range(len(http)), (4, 3, 2, 1))[0]
        http_flows.append((rng.randrange(duration), ti, rng.choice((300, 1000, 3000, 10000))))
        http_bytes += http[ti].file_bytes
        http_packets += http[ti].n
    log(f"plan: {flows} TLS connections ({len(units)} units), {len(http_flows)} HTTP flows, "
        f"{len(calls)} RTP calls ({rtp_n} packets), {misc_n} ARP/ICMP, {duration / 1e6:.0f}s of traffic")

    # --- start events, sorted by time; each becomes a packet generator when its time comes.
    starts: list[tuple[int, int, str, tuple]] = []
    gap = duration / max(1, len(units))
    t = 0.0
    for i, u in enumerate(units):
        t += rng.expovariate(1 / gap)
        starts.append((int(t), len(starts), "tls", u))
    for c in calls:
        starts.append((c[0], len(starts), "rtp", c))
    for h in http_flows:
        starts.append((h[0], len(starts), "http", h))
    starts.append((0, len(starts), "misc", ()))
    starts.sort()

    counts = {k.name: 0 for k in kinds}
    conn_no = 0  # TCP connections so far: picks the client host round-robin
    hosts = 4096
    used = [0] * hosts  # connections per host: a port unique per host (for < 64000 of them)

    def client_addr(h: int | None = None) -> tuple[int, bytes, int]:
        nonlocal conn_no
        if h is None:
            h, conn_no = conn_no % hosts, conn_no + 1
        r = used[h]
        used[h] += 1
        return h, _client_ip(h), 1024 + (r * 7919 + h * 131) % 64000

    rtp_payloads = [rng.randbytes(160) for _ in range(64)]
    jitter = [rng.randrange(0, 800) for _ in range(256)]

    def make(kind: str, start: int, args: tuple) -> Iterator[tuple[int, bytes]]:
        if kind == "tls":
            ki, vi, half_rtt, think1, think2, _ = args
            k = kinds[ki]
            sip = k.server_ips[counts[k.name] % len(k.server_ips)]
            gens, t0, h = [], start, None
            for tpl in k.variants[vi]:  # two connections for resumption: same host, a later port
                h, cip, cport = client_addr(h)
                counts[k.name] += 1
                gens.append(tcp_flow(tpl, t0, cip, sip, cport, rng.getrandbits(32), rng.getrandbits(32),
                                     half_rtt, think1, think2))
                t0 += tcp_duration(tpl, half_rtt, think1, think2) + 100_000
            return gens[0] if len(gens) == 1 else chain_flows(*gens)
        if kind == "http":
            _, ti, half_rtt = args
            _, cip, cport = client_addr()
            return tcp_flow(http[ti], start, cip, bytes([192, 0, 2, 10 + ti]), cport, rng.getrandbits(32),
                            rng.getrandbits(32), half_rtt, 0, 0)
        if kind == "rtp":
            _, n = args
            a = bytes([10, 20, rng.randrange(256), rng.randrange(1, 255)])
            b = bytes([10, 30, rng.randrange(256), rng.randrange(1, 255)])
            pa, pb = 16384 + 2 * rng.randrange(8192), 16384 + 2 * rng.randrange(8192)
            fwd = rtp_stream(start, n, a, b, pa, pb, rng.getrandbits(32), rtp_payloads, jitter)
            rev = rtp_stream(start + 7_000, n, b, a, pb, pa, rng.getrandbits(32), rtp_payloads, jitter)
            return heapq.merge(fwd, rev, key=lambda p: p[0])
        return misc_packets(start, duration, misc_n, rng)

    # --- heap merge in time order, large writes.
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    tmp = pcap.with_suffix(".pcap.tmp")
    rec = _PCAP_HDR.pack
    heap: list = []
    push, replace_top, pop = heapq.heappush, heapq.heapreplace, heapq.heappop
    written = packets = 0
    concurrency_samples = []
    si, n_starts = 0, len(starts)
    with open(tmp, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        written = 24
        parts: list[bytes] = []
        buffered = 0
        while True:
            while si < n_starts and (not heap or starts[si][0] <= heap[0][0]):
                st, uid, kind, args = starts[si]
                si += 1
                gen = make(kind, st, args)
                first = next(gen, None)
                if first is not None:
                    push(heap, (first[0], uid, first[1], gen))
            if not heap:
                break
            ts, uid, frame, gen = heap[0]
            n = len(frame)
            sec, usec = divmod(ts, 1_000_000)
            parts.append(rec(CAPTURE_T0 + sec, usec, n, n))
            parts.append(frame)
            buffered += n + PCAP_REC
            packets += 1
            nxt = next(gen, None)
            if nxt is None:
                pop(heap)
            else:
                replace_top(heap, (nxt[0], uid, nxt[1], gen))
            if buffered >= 16 << 20:
                f.write(b"".join(parts))
                written += buffered
                parts, buffered = [], 0
                concurrency_samples.append(len(heap))
        f.write(b"".join(parts))
        written += buffered
    gen_s = time.perf_counter() - t_start

    tls_hs_packets = sum(t.handshake_packets for u in units for t in kinds[u[0]].variants[u[1]])
    tls_data_packets = sum(t.data_packets for u in units for t in kinds[u[0]].variants[u[1]])
    templates = {}
    for k in kinds:
        for i, e in enumerate(k.expect):
            name = k.name if len(k.expect) == 1 else f"{k.name}[{'full' if i == 0 else 'resumed'}]"
            n_unit = counts[k.name] // len(k.expect)
            templates[name] = {**e, "count": n_unit,
                               "packets_per_flow": sorted({v[i].n for v in k.variants}),
                               "bytes_per_flow": sorted({v[i].file_bytes for v in k.variants})}
    by_outcome: dict[str, int] = {}
    by_port: dict[str, int] = {}
    for t in templates.values():
        by_outcome[t["outcome"]] = by_outcome.get(t["outcome"], 0) + t["count"]
        by_port[str(t["server_port"])] = by_port.get(str(t["server_port"]), 0) + t["count"]
    meta = {
        "generator": "bench/gen.py",
        "gen_version": GEN_VERSION,
        "size": size,
        "file": pcap.name,
        "bytes": written,
        "packets": packets,
        "seed": seed,
        "concurrency_target": concurrency,
        "generators_in_flight_mean_all_kinds": round(sum(concurrency_samples) / max(1, len(concurrency_samples)), 1),
        "traffic_seconds": round(duration / 1e6, 1),
        "tls_flows": sum(counts.values()),
        "tls_flows_by_outcome": by_outcome,
        "tls_flows_by_server_port": by_port,
        "templates": templates,
        "packet_mix": {
            "tls": tls_packets,
            "tls_handshake_payload": tls_hs_packets,
            "tls_application_data": tls_data_packets,
            "tls_tcp_control_and_close": tls_packets - tls_hs_packets - tls_data_packets,
            "http": http_packets,
            "rtp": rtp_n,
            "arp_icmp": misc_n,
            "share_not_tls_handshake": round(1 - tls_hs_packets / packets, 4),
        },
        "http_flows": len(http_flows),
        "rtp_calls": len(calls),
        "gen_seconds": round(gen_s, 1),
    }
    if packets != tls_packets + http_packets + rtp_n + misc_n:
        raise RuntimeError(f"packet count mismatch: wrote {packets}")
    os.replace(tmp, pcap)
    sidecar.write_text(json.dumps(meta, indent=2) + "\n")
    log(f"wrote {pcap} ({written / 1e6:.0f} MB, {packets} packets, {meta['tls_flows']} TLS flows) "
        f"in {gen_s:.1f}s ({written / 1e6 / gen_s:.0f} MB/s)")
    return pcap, sidecar


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", choices=sorted(SIZES), default="1g")
    ap.add_argument("--concurrency", type=int, default=200, help="TLS flows in flight at once (mean)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--force", action="store_true", help="rebuild even if the cached file exists")
    args = ap.parse_args(argv)
    pcap, sidecar = generate(args.size, concurrency=args.concurrency, seed=args.seed, force=args.force)
    print(pcap)
    print(sidecar)
    return 0


if __name__ == "__main__":
    sys.exit(main())
