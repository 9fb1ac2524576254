"""Regenerate the QUIC fixtures of rust/core/tests/quic_*.rs from genuine aioquic bytes.

    /work/main/.venv/bin/python rust/core/tests/data/quic/gen.py

Writes, next to this file:
- rfc9001_*.bin / rfc9369_*.bin: the RFC 9001 / RFC 9369 appendix A Initial packets, sealed by
  aioquic's CryptoPair from the RFCs' plaintext (the test also checks them against the RFC's
  published header bytes and keys); draft29_client_initial.bin: the same ClientHello as a
  draft-29 Initial (tshark's reading of draft29.pcap checks the salt);
- <scenario>.dgrams: one datagram a line, `c <hex>` (client to server) or `s <hex>`, in the order
  aioquic's in-memory client and server exchanged them (QuicConnection objects, no sockets);
- <scenario>.keylog: aioquic's `secrets_log_file` (NSS key log with the QUIC secrets);
- <scenario>.pcap: the datagrams framed as Ethernet/IPv4/UDP 10.0.0.1:50000 <-> 10.0.0.2:443,
  for tshark;
- server_cert.der: the server certificate all scenarios used; <scenario>.tshark: what tshark says
  (`field=value,value` lines); <scenario>.python: the client's first ClientHello as aioquic opens
  it, fingerprinted by the Python engine (`ja4`, `ja4_r` with the `q` transport letter).

Scenarios: v1 (h3, SNI quic.example.test, TLS_AES_256_GCM_SHA384), v2 (RFC 9369, AES-128-GCM),
chacha20 (v1, TLS_CHACHA20_POLY1305_SHA256), closed (v1, 20 kB of stream data, then the client's
application CONNECTION_CLOSE 0x10c "bye"), key_update (the same after a key update the client
requests), resumed (a second connection resuming the first's session ticket, with 0-RTT data), alpn_mismatch (the server refuses
with CONNECTION_CLOSE crypto_error no_application_protocol), retry (the server answers the first
Initial with a Retry), vn (a Version Negotiation answer to a client Initial of a reserved version).
"""
from __future__ import annotations

import datetime
import hashlib
import io
import os
import struct
import subprocess
import sys

from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.connection import QuicConnection
from aioquic.quic.crypto import CryptoPair
from aioquic.tls import CipherSuite
from aioquic.quic.packet import QuicProtocolVersion, encode_quic_retry, encode_quic_version_negotiation
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", "..", "..", ".."))
sys.path.insert(0, REPO)
from inspector.tls import fingerprint as py_fingerprint  # noqa: E402  (the Python reference engine)
from inspector.tls.messages import parse_client_hello as py_parse_client_hello  # noqa: E402
SNI = "quic.example.test"

# RFC 9001 appendix A.2 (client) and A.3 (server): unprotected headers and payloads.
RFC_DCID = bytes.fromhex("8394c8f03e515708")
RFC_CLIENT_CRYPTO = bytes.fromhex(
    "060040f1010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e868"
    "04fe3a47f06a2b69484c00000413011302010000c000000010000e00000b6578"
    "616d706c652e636f6dff01000100000a00080006001d00170018001000070005"
    "04616c706e000500050100000000003300260024001d00209370b2c9caa47fba"
    "baf4559fedba753de171fa71f50f1ce15d43e994ec74d748002b000302030400"
    "0d0010000e0403050306030203080408050806002d00020101001c0002400100"
    "3900320408ffffffffffffffff05048000ffff07048000ffff08011001048000"
    "75300901100f088394c8f03e51570806048000ffff"
)
RFC_SERVER_PAYLOAD = bytes.fromhex(
    "02000000000600405a020000560303eefce7f7b37ba1d1632e96677825ddf739"
    "88cfc79825df566dc5430b9a045a1200130100002e00330024001d00209d3c94"
    "0d89690b84d08a60993c144eca684d1081287c834d5311bcf32bb9da1a002b00"
    "020304"
)


def rfc_vectors() -> None:
    for name, version, c_first, s_first in (
        ("rfc9001", QuicProtocolVersion.VERSION_1, 0xC3, 0xC1),
        ("rfc9369", QuicProtocolVersion.VERSION_2, 0xD3, 0xD1),
    ):
        v = struct.pack("!I", version)
        client = CryptoPair()
        client.setup_initial(cid=RFC_DCID, is_client=True, version=version)
        header = bytes([c_first]) + v + b"\x08" + RFC_DCID + b"\x00\x00\x44\x9e" + struct.pack("!I", 2)
        payload = RFC_CLIENT_CRYPTO + bytes(1162 - len(RFC_CLIENT_CRYPTO))
        with open(os.path.join(HERE, f"{name}_client_initial.bin"), "wb") as f:
            f.write(client.encrypt_packet(header, payload, 2))
        server = CryptoPair()
        server.setup_initial(cid=RFC_DCID, is_client=False, version=version)
        header = bytes([s_first]) + v + b"\x00\x08" + bytes.fromhex("f067a5502a4262b5") + b"\x00\x40\x75\x00\x01"
        with open(os.path.join(HERE, f"{name}_server_initial.bin"), "wb") as f:
            f.write(server.encrypt_packet(header, RFC_SERVER_PAYLOAD, 1))


DRAFT29 = 0xFF00001D
DRAFT29_SALT = bytes.fromhex("afbfec289993d24c9e9786f19c6111e04390a899")


def draft29_vector() -> None:
    """The RFC 9001 A.2 ClientHello as a draft-29 Initial: aioquic's HKDF and packet protection
    (draft-29 uses v1's labels) with draft-29's salt. tshark decrypting it checks the salt."""
    from aioquic.quic.crypto import CryptoContext
    from aioquic.tls import hkdf_expand_label, hkdf_extract

    initial = hkdf_extract(hashes.SHA256(), DRAFT29_SALT, RFC_DCID)
    secret = hkdf_expand_label(hashes.SHA256(), initial, b"client in", b"", 32)
    ctx = CryptoContext()
    ctx.setup(cipher_suite=CipherSuite.AES_128_GCM_SHA256, secret=secret, version=QuicProtocolVersion.VERSION_1)
    header = b"\xc3" + struct.pack("!I", DRAFT29) + b"\x08" + RFC_DCID + b"\x00\x00\x44\x9e" + struct.pack("!I", 2)
    payload = RFC_CLIENT_CRYPTO + bytes(1162 - len(RFC_CLIENT_CRYPTO))
    d = ctx.encrypt_packet(header, payload, 2)
    with open(os.path.join(HERE, "draft29_client_initial.bin"), "wb") as f:
        f.write(d)
    pcap = os.path.join(HERE, "draft29.pcap")
    write_pcap(pcap, [("c", d)])
    with open(os.path.join(HERE, "draft29.tshark"), "w") as f:
        for k, v in sorted(tshark_facts(pcap, None).items()):
            f.write(f"{k}={','.join(v) if isinstance(v, list) else v}\n")


def make_cert() -> tuple[object, object]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SNI)])
    now = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(0x5151)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(SNI)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


CLIENT_ADDR = ("10.0.0.1", 50000)
SERVER_ADDR = ("10.0.0.2", 443)


def handshake(cert, key, *, version=QuicProtocolVersion.VERSION_1, client_alpn=("h3",), server_alpn=("h3",),
              retry=False, suite=CipherSuite.AES_256_GCM_SHA384, close=False, key_update=False,
              tickets: dict | None = None, resume=None, early_data=False) -> tuple[list[tuple[str, bytes]], str]:
    log = io.StringIO()
    ccfg = QuicConfiguration(is_client=True, alpn_protocols=list(client_alpn), server_name=SNI,
                             secrets_log_file=log, verify_mode=0)
    ccfg.supported_versions = [version]
    # the server chooses one suite (the client offers aioquic's usual three)
    scfg = QuicConfiguration(is_client=False, alpn_protocols=list(server_alpn), certificate=cert, private_key=key,
                             cipher_suites=[suite])
    scfg.supported_versions = [version]
    ccfg.session_ticket = resume
    server_kw = {}
    client_kw = {}
    if tickets is not None:  # the server issues tickets into `tickets` and resumes from it
        server_kw = {"session_ticket_handler": lambda t: tickets.__setitem__(t.ticket, t),
                     "session_ticket_fetcher": tickets.get}
        client_kw = {"session_ticket_handler": lambda t: tickets.setdefault("client", []).append(t)}
    client = QuicConnection(configuration=ccfg, **client_kw)
    now = 1_700_000_000.0
    client.connect(SERVER_ADDR, now=now)
    if early_data:
        client.send_stream_data(client.get_next_available_stream_id(), b"GET /early", end_stream=True)
    out: list[tuple[str, bytes]] = []
    first = [d for d, _ in client.datagrams_to_send(now=now)]
    out += [("c", d) for d in first]
    odcid = client._peer_cid.cid  # the DCID of the client's first Initial
    if retry:
        new_cid = bytes.fromhex("5245545259434944")  # "RETRYCID"
        r = encode_quic_retry(version=version, source_cid=new_cid, destination_cid=client.host_cid,
                              original_destination_cid=odcid, retry_token=b"retry-token-0123456789")
        out.append(("s", r))
        now += 0.01
        client.receive_datagram(r, SERVER_ADDR, now=now)
        server = QuicConnection(configuration=scfg, original_destination_connection_id=odcid,
                                retry_source_connection_id=new_cid)
    else:
        server = QuicConnection(configuration=scfg, original_destination_connection_id=odcid, **server_kw)
        for d in first:
            server.receive_datagram(d, CLIENT_ADDR, now=now)
    for _ in range(40):
        moved = False
        for d, _ in client.datagrams_to_send(now=now):
            out.append(("c", d))
            server.receive_datagram(d, CLIENT_ADDR, now=now)
            moved = True
        now += 0.005
        for d, _ in server.datagrams_to_send(now=now):
            out.append(("s", d))
            client.receive_datagram(d, SERVER_ADDR, now=now)
            moved = True
        now += 0.005
        if not moved:
            break
    if close:
        # 20 kB from the server on a stream, then the client closes (application close)
        if key_update:
            client.request_key_update()
        sid = client.get_next_available_stream_id()
        client.send_stream_data(sid, b"GET /", end_stream=True)
        for d, _ in client.datagrams_to_send(now=now):
            out.append(("c", d))
            server.receive_datagram(d, CLIENT_ADDR, now=now)
        server.send_stream_data(sid, bytes(20_000), end_stream=True)
        for d, _ in server.datagrams_to_send(now=now):
            out.append(("s", d))
            client.receive_datagram(d, SERVER_ADDR, now=now)
        now += 0.01
        client.close(error_code=0x10C, reason_phrase="bye")
        for d, _ in client.datagrams_to_send(now=now):
            out.append(("c", d))
    return out, log.getvalue()


def version_negotiation() -> list[tuple[str, bytes]]:
    # a client Initial sealed as v1, but with a reserved version the server does not speak
    pair = CryptoPair()
    dcid, scid = bytes.fromhex("0001020304050607"), bytes.fromhex("a0a1a2a3")
    pair.setup_initial(cid=dcid, is_client=True, version=QuicProtocolVersion.VERSION_1)
    header = b"\xc3" + struct.pack("!I", 0x1A2A3A4A) + b"\x08" + dcid + b"\x04" + scid + b"\x00\x44\x9e" + struct.pack("!I", 0)
    payload = b"\x01" + bytes(1162 - 1)
    c = pair.encrypt_packet(header, payload, 0)
    s = encode_quic_version_negotiation(source_cid=dcid, destination_cid=scid,
                                        supported_versions=[QuicProtocolVersion.VERSION_1, QuicProtocolVersion.VERSION_2])
    return [("c", c), ("s", s)]


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\x00"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def frame_udp(direction: str, payload: bytes) -> bytes:
    (src, sport), (dst, dport) = (CLIENT_ADDR, SERVER_ADDR) if direction == "c" else (SERVER_ADDR, CLIENT_ADDR)
    s, d = bytes(map(int, src.split("."))), bytes(map(int, dst.split(".")))
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0, s, d)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    eth = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00"
    return eth + ip + udp


def write_pcap(path: str, dgrams: list[tuple[str, bytes]]) -> None:
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, (direction, d) in enumerate(dgrams):
            pkt = frame_udp(direction, d)
            f.write(struct.pack("<IIII", 1_700_000_000, i * 1000, len(pkt), len(pkt)))
            f.write(pkt)


def tshark_facts(pcap: str, keylog: str | None) -> dict:
    args = ["tshark", "-r", pcap, "-T", "fields", "-E", "separator=|", "-e", "quic.version",
            "-e", "tls.handshake.extensions_server_name", "-e", "tls.handshake.extensions_alpn_str",
            "-e", "tls.handshake.certificate", "-e", "tls.handshake.ciphersuite",
            "-e", "tls.handshake.extensions_key_share_group", "-e", "quic.scid", "-e", "quic.dcid",
            "-e", "quic.cc.error_code", "-e", "quic.cc.reason_phrase", "-e", "quic.long.packet_type"]
    if keylog:
        args += ["-o", f"tls.keylog_file:{keylog}"]
    out = subprocess.run(args, capture_output=True, text=True, check=False).stdout
    facts: dict[str, list[str]] = {"version": [], "sni": [], "alpn": [], "certificates": [], "ciphersuite": [],
                                   "key_share_group": [], "scid": [], "dcid": [], "cc_error_code": [],
                                   "cc_reason": [], "long_packet_type": []}
    for line in out.splitlines():
        parts = line.split("|")
        for k, v in zip(facts, parts):
            for item in filter(None, v.split(",")):
                if item not in facts[k]:
                    facts[k].append(item)
    facts.pop("ciphersuite")
    facts.pop("key_share_group")
    sh = ["tshark", "-r", pcap, "-Y", "tls.handshake.type == 2", "-T", "fields", "-E", "separator=|",
          "-e", "tls.handshake.ciphersuite", "-e", "tls.handshake.extensions_key_share_group"]
    line = subprocess.run(sh, capture_output=True, text=True, check=False).stdout.strip()
    if line:
        facts["server_hello_cipher"], facts["server_hello_group"] = line.split("|")
    ch = ["tshark", "-r", pcap, "-Y", "tls.handshake.type == 1", "-T", "fields", "-E", "separator=|",
          "-e", "tls.handshake.extensions_supported_group", "-e", "tls.handshake.extensions.supported_version",
          "-e", "tls.handshake.extensions_key_share_group"]
    line = subprocess.run(ch, capture_output=True, text=True, check=False).stdout.strip().splitlines()
    if line:
        groups, versions, shares = line[0].split("|")
        facts["client_hello_groups"], facts["client_hello_versions"] = groups.split(","), versions.split(",")
        facts["client_hello_key_shares"] = shares.split(",")
    facts["certificate_sha256"] = [hashlib.sha256(bytes.fromhex(c.replace(":", ""))).hexdigest()
                                   for c in facts.pop("certificates")]
    return facts


def varint(b: bytes, pos: int) -> tuple[int, int]:
    n = 1 << (b[pos] >> 6)
    v = b[pos] & 0x3F
    for c in b[pos + 1:pos + n]:
        v = (v << 8) | c
    return v, pos + n


def python_facts(dgrams: list[tuple[str, bytes]], version: int) -> dict:
    """The client's first Initial opened by aioquic, its ClientHello parsed and fingerprinted by
    the Python engine (inspector.tls): JA4 with the QUIC transport letter."""
    d = dgrams[0][1]
    dcid = d[6:6 + d[5]]
    pos = 6 + d[5]
    pos += 1 + d[pos]
    tlen, pos = varint(d, pos)
    pos += tlen
    length, pos = varint(d, pos)
    pair = CryptoPair()
    pair.setup_initial(cid=dcid, is_client=False, version=version)
    _, payload, _ = pair.decrypt_packet(d[:pos + length], pos, 0)
    crypto = b""
    i = 0
    while i < len(payload):
        t = payload[i]
        if t == 0x06:
            off, i = varint(payload, i + 1)
            n, i = varint(payload, i)
            assert off == len(crypto)
            crypto += payload[i:i + n]
            i += n
        elif t in (0x00, 0x01):
            i += 1
        else:
            raise ValueError(f"frame {t:#x} in the client's first Initial")
    ch = py_parse_client_hello(crypto[4:4 + int.from_bytes(crypto[1:4], "big")])
    return {"ja4": py_fingerprint.ja4(ch, "q"), "ja4_r": py_fingerprint.ja4_r(ch, "q"), "sni": ch.sni or ""}


def save(name: str, dgrams: list[tuple[str, bytes]], keylog: str | None, version: int | None = None) -> None:
    with open(os.path.join(HERE, f"{name}.dgrams"), "w") as f:
        for direction, d in dgrams:
            f.write(f"{direction} {d.hex()}\n")
    kl = None
    if keylog is not None:
        kl = os.path.join(HERE, f"{name}.keylog")
        with open(kl, "w") as f:
            f.write(keylog)
    pcap = os.path.join(HERE, f"{name}.pcap")
    write_pcap(pcap, dgrams)
    with open(os.path.join(HERE, f"{name}.tshark"), "w") as f:
        for k, v in sorted(tshark_facts(pcap, kl).items()):
            f.write(f"{k}={','.join(v) if isinstance(v, list) else v}\n")
    if version is not None:
        with open(os.path.join(HERE, f"{name}.python"), "w") as f:
            for k, v in sorted(python_facts(dgrams, version).items()):
                f.write(f"{k}={v}\n")


def main() -> int:
    rfc_vectors()
    draft29_vector()
    cert, key = make_cert()
    with open(os.path.join(HERE, "server_cert.der"), "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.DER))
    d, log = handshake(cert, key)
    save("v1", d, log, QuicProtocolVersion.VERSION_1)
    d, log = handshake(cert, key, version=QuicProtocolVersion.VERSION_2, suite=CipherSuite.AES_128_GCM_SHA256)
    save("v2", d, log, QuicProtocolVersion.VERSION_2)
    d, log = handshake(cert, key, close=True)
    save("closed", d, log, QuicProtocolVersion.VERSION_1)
    d, log = handshake(cert, key, close=True, key_update=True)
    save("key_update", d, log, QuicProtocolVersion.VERSION_1)
    tickets: dict = {}
    handshake(cert, key, tickets=tickets)
    d, log = handshake(cert, key, tickets=tickets, resume=tickets["client"][-1], early_data=True)
    save("resumed", d, log, QuicProtocolVersion.VERSION_1)
    d, log = handshake(cert, key, suite=CipherSuite.CHACHA20_POLY1305_SHA256)
    save("chacha20", d, log, QuicProtocolVersion.VERSION_1)
    d, log = handshake(cert, key, client_alpn=("h3",), server_alpn=("hq-interop",))
    save("alpn_mismatch", d, log, QuicProtocolVersion.VERSION_1)
    d, log = handshake(cert, key, retry=True)
    save("retry", d, log, QuicProtocolVersion.VERSION_1)
    save("vn", version_negotiation(), None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
