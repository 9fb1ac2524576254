"""Generate the DTLS fixtures of rust/core/tests/dtls_*.rs: genuine OpenSSL DTLS 1.2 handshakes
(pyOpenSSL over memory BIOs), written as pcap (Ethernet/IPv4/UDP) with a `.expect` file.

    cd /work/wt-r6 && PYTHONPATH=$PWD /work/main/.venv/bin/python rust/core/tests/data/dtls/gen_dtls.py

Each `.expect` line is `key=value`: the SHA-256 of each certificate the generator gave each side
(`server_chain`, `client_chain`, comma-separated, leaf first), the alerts as
`sender:level:description` (plaintext) or `sender:encrypted`, the SRTP profile OpenSSL chose,
and what tshark (the reference) reads from the same pcap (`tshark_*`), checked here to agree.
"""

from __future__ import annotations

import hashlib
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from OpenSSL import SSL, crypto

sys.path.insert(0, str(Path(__file__).resolve().parents[5]))  # the repository: synth/ (test captures, not shipped)
from synth import pki

HERE = Path(__file__).resolve().parent
CLIENT = ("10.0.0.1", 50000)
SERVER = ("10.0.0.2", 4433)  # not a DTLS port: found by content
SNI = "media.example.lab"
CIPHER = "ECDHE-RSA-AES256-GCM-SHA384"
SRTP = b"SRTP_AES128_CM_SHA1_80:SRTP_AEAD_AES_128_GCM"
MTU = 500
OP_NO_QUERY_MTU = 0x00001000
OP_COOKIE_EXCHANGE = 0x00002000


def der(c) -> bytes:
    return c.public_bytes(serialization.Encoding.DER)


def sha(c) -> str:
    return hashlib.sha256(der(c)).hexdigest()


DTLS10 = 0xFEFF
CIPHER10 = "ECDHE-RSA-AES256-SHA:@SECLEVEL=0"


def ctx_for(ident: pki.Identity | None, trust: list, server: bool, verify: bool, dtls10: bool = False) -> SSL.Context:
    """A DTLS context; a server verifying clients names its trust anchors in CertificateRequest."""
    ctx = SSL.Context(SSL.DTLS_SERVER_METHOD if server else SSL.DTLS_CLIENT_METHOD)
    ctx.set_options(OP_NO_QUERY_MTU | (OP_COOKIE_EXCHANGE if server else 0))
    if dtls10:
        ctx.set_min_proto_version(DTLS10)
        ctx.set_max_proto_version(DTLS10)
    ctx.set_cipher_list((CIPHER10 if dtls10 else CIPHER).encode())
    ctx.set_tlsext_use_srtp(SRTP)
    if ident is not None:
        ctx.use_certificate(crypto.X509.from_cryptography(ident.cert))
        for extra in ident.chain[1:]:
            ctx.add_extra_chain_cert(crypto.X509.from_cryptography(extra))
        ctx.use_privatekey(crypto.PKey.from_cryptography_key(ident.key))
    store = ctx.get_cert_store()
    for t in trust:
        store.add_cert(crypto.X509.from_cryptography(t))
    if verify and server:
        for t in trust:
            ctx.add_client_ca(crypto.X509.from_cryptography(t))
    if verify:
        mode = SSL.VERIFY_PEER | (SSL.VERIFY_FAIL_IF_NO_PEER_CERT if server else 0)
        ctx.set_verify(mode, lambda conn, cert, errno, depth, ok: bool(ok))
    if server:
        ctx.set_cookie_generate_callback(lambda conn: b"cookie-0123456789abcdef")
        ctx.set_cookie_verify_callback(lambda conn, cookie: cookie == b"cookie-0123456789abcdef")
    return ctx


def records(data: bytes) -> list[bytes]:
    out, i = [], 0
    while i + 13 <= len(data):
        n = struct.unpack(">H", data[i + 11:i + 13])[0]
        out.append(data[i:i + 13 + n])
        i += 13 + n
    assert i == len(data), "memory BIO returned a partial record"
    return out


def datagrams(data: bytes) -> list[bytes]:
    """Pack the records OpenSSL wrote into datagrams of at most MTU bytes, in order."""
    out: list[bytes] = []
    for r in records(data):
        if out and len(out[-1]) + len(r) <= MTU:
            out[-1] += r
        else:
            out.append(r)
    return out


def run(client_ident, client_trust, server_trust, verify_client: bool, *, retransmit: bool, dtls10: bool = False):
    """One handshake; returns [(direction, datagram)] and the two connections."""
    sconn = SSL.Connection(ctx_for(pki.cucm_tomcat(), server_trust, True, verify_client, dtls10), None)
    cconn = SSL.Connection(ctx_for(client_ident, client_trust, False, True, dtls10), None)
    for c in (sconn, cconn):
        c.set_ciphertext_mtu(MTU)
    sconn.set_accept_state()
    cconn.set_connect_state()
    cconn.set_tlsext_host_name(SNI.encode())
    wire: list[tuple[str, bytes]] = []

    def step(conn, direction):
        try:
            conn.do_handshake()
        except SSL.WantReadError:
            pass
        except SSL.Error:
            pass
        try:
            data = conn.bio_read(1 << 20)
        except SSL.WantReadError:
            data = b""
        for d in datagrams(data):
            wire.append((direction, d))
        return data

    def deliver(conn, data):
        if data:
            conn.bio_write(data)

    pending = step(cconn, "c2s")
    flights = 0
    while pending and flights < 20:
        flights += 1
        direction = wire[-1][0]
        if retransmit and flights == 3:
            # the server's Certificate flight is sent twice (a lost-ACK retransmission)
            wire.extend([w for w in wire if w[0] == direction][-len(datagrams(pending)):])
        deliver(sconn if direction == "c2s" else cconn, pending)
        pending = step(sconn if direction == "c2s" else cconn, "s2c" if direction == "c2s" else "c2s")
    return wire, cconn, sconn


def app_and_close(wire, cconn, sconn):
    cconn.send(b"ping over DTLS")
    wire += [("c2s", d) for d in datagrams(cconn.bio_read(1 << 16))]
    sconn.bio_write(wire[-1][1])
    sconn.recv(1000)
    sconn.send(b"pong")
    wire += [("s2c", d) for d in datagrams(sconn.bio_read(1 << 16))]
    cconn.shutdown()
    wire += [("c2s", d) for d in datagrams(cconn.bio_read(1 << 16))]


def stun_binding() -> bytes:
    # RFC 5389 Binding Request: type 0x0001, length 0, magic cookie, transaction id
    return struct.pack(">HHI", 1, 0, 0x2112A442) + bytes(range(12))


def rtp_packet(seq: int) -> bytes:
    return struct.pack(">BBHII", 0x80, 96, seq, seq * 160, 0x1234ABCD) + bytes(20)


def ip_checksum(h: bytes) -> int:
    s = sum(struct.unpack(">10H", h))
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def udp_frame(src, dst, payload: bytes, ident: int) -> bytes:
    ip = lambda a: bytes(int(x) for x in a.split("."))
    udp = struct.pack(">HHHH", src[1], dst[1], 8 + len(payload), 0) + payload
    h = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), ident, 0, 64, 17, 0, ip(src[0]), ip(dst[0]))
    h = h[:10] + struct.pack(">H", ip_checksum(h)) + h[12:]
    eth = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00"
    return eth + h + udp


def write_pcap(path: Path, wire: list[tuple[str, bytes]], gap_after: int | None = None) -> None:
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    t = 1_700_000_000.0
    for i, (direction, payload) in enumerate(wire):
        t += 0.01
        if gap_after is not None and i == gap_after:
            t += 600.0
        src, dst = (CLIENT, SERVER) if direction == "c2s" else (SERVER, CLIENT)
        frame = udp_frame(src, dst, payload, i + 1)
        sec, usec = int(t), int(round((t - int(t)) * 1e6))
        out.append(struct.pack("<IIII", sec, usec, len(frame), len(frame)) + frame)
    path.write_bytes(b"".join(out))


def tshark(path: Path, fields: list[str]) -> list[list[str]]:
    args = ["tshark", "-r", str(path), "-d", "udp.port==4433,dtls",
            "-Y", "dtls", "-T", "fields", "-E", "separator=|"]
    for f in fields:
        args += ["-e", f]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return [line.split("|") for line in out.splitlines()]


def tshark_certs(path: Path) -> list[str]:
    rows = tshark(path, ["dtls.handshake.certificate"])
    certs = []
    for (value,) in rows:
        for h in filter(None, value.split(",")):
            digest = hashlib.sha256(bytes.fromhex(h.replace(":", ""))).hexdigest()
            if digest not in certs:
                certs.append(digest)
    return certs


def tshark_alerts(path: Path) -> list[str]:
    rows = tshark(path, ["udp.srcport", "dtls.record.epoch", "dtls.alert_message.level", "dtls.alert_message.desc",
                         "dtls.record.content_type"])
    out = []
    for port, epoch, level, desc, ctype in rows:
        for e, ct, lv, ds in zip(epoch.split(","), ctype.split(","), (level.split(",") + [""] * 9), (desc.split(",") + [""] * 9)):
            if ct == "21":
                sender = "client" if port == str(CLIENT[1]) else "server"
                out.append(f"{sender}:encrypted" if e != "0" else f"{sender}:{lv}:{ds}")
    return out


def main() -> int:
    server = pki.cucm_tomcat()
    phone = pki.phone_lsc()
    scenarios = []

    # 1. mutual authentication, cookie exchange, use_srtp, a retransmitted flight, STUN and RTP on
    #    the same 5-tuple (RFC 7983), application data and close_notify (encrypted alert).
    wire, c, s = run(phone, [server.root], [phone.root], True, retransmit=True)
    assert c.get_selected_srtp_profile() == b"SRTP_AES128_CM_SHA1_80", c.get_selected_srtp_profile()
    app_and_close(wire, c, s)
    wire = [("c2s", stun_binding())] + wire + [("c2s", rtp_packet(1)), ("s2c", rtp_packet(7))]
    scenarios.append(("mutual_srtp", wire, [server.cert, *server.chain[1:]], [phone.cert, *phone.chain[1:]],
                      "SRTP_AES128_CM_HMAC_SHA1_80", ["client:encrypted"], None))

    # 2. the client does not trust the server's CA: fatal unknown_ca, plaintext (epoch 0).
    other_root = pki.example_root_ca() if server.root is not pki.example_root_ca() else pki.cisco_root_ca_2048()
    wire, c, s = run(None, [pki.cisco_root_ca_2048().cert], [], False, retransmit=False)
    scenarios.append(("unknown_ca", wire, [server.cert, *server.chain[1:]], [], "SRTP_AES128_CM_HMAC_SHA1_80",
                      ["client:fatal:48"], None))

    # 3. two associations on one 5-tuple, 600 s apart: the idle timeout splits them.
    w1, c, s = run(None, [server.root], [], False, retransmit=False)
    n1 = len(w1)
    w2, c, s = run(None, [server.root], [], False, retransmit=False)
    scenarios.append(("idle_split", w1 + w2, [server.cert, *server.chain[1:]], [], "SRTP_AES128_CM_HMAC_SHA1_80", [], n1))

    # 4. DTLS 1.0 (OpenSSL at security level 0), a CBC suite, close_notify from the server.
    wire, c, s = run(None, [server.root], [], False, retransmit=False, dtls10=True)
    assert c.get_protocol_version_name() == "DTLSv1", c.get_protocol_version_name()
    s.shutdown()
    wire += [("s2c", d) for d in datagrams(s.bio_read(1 << 16))]
    scenarios.append(("dtls10", wire, [server.cert, *server.chain[1:]], [], "SRTP_AES128_CM_HMAC_SHA1_80",
                      ["server:encrypted"], None))

    for name, wire, schain, cchain, srtp, alerts, gap in scenarios:
        path = HERE / f"{name}.pcap"
        write_pcap(path, wire, gap)
        expect = {
            "datagrams": str(len(wire)),
            "sni": SNI,
            "version": "DTLS 1.0" if name == "dtls10" else "DTLS 1.2",
            "cipher": "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA" if name == "dtls10" else "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "server_chain": ",".join(sha(x) for x in schain),
            "client_chain": ",".join(sha(x) for x in cchain),
            "srtp_profile": srtp,
            "alerts": ";".join(alerts),
            "tshark_certs": ",".join(tshark_certs(path)),
            "tshark_alerts": ";".join(tshark_alerts(path)),
        }
        if gap is not None:
            expect["split_at_datagram"] = str(gap)
        if name == "mutual_srtp":
            expect["cert_request_ca_names"] = phone.root.subject.public_bytes().hex()
        want_certs = [sha(x) for x in schain + cchain]
        got = expect["tshark_certs"].split(",") if expect["tshark_certs"] else []
        assert got == want_certs, (name, got, want_certs)
        (HERE / f"{name}.expect").write_text("".join(f"{k}={v}\n" for k, v in expect.items()))
        print(name, len(wire), "datagrams", expect["tshark_alerts"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
