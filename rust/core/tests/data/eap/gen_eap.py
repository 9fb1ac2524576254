"""Generate the EAP fixtures of rust/core/tests/eap_*.rs: genuine OpenSSL TLS 1.2 handshakes
(Python `ssl` over MemoryBIO) framed into EAP-TLS (or PEAP) fragments, carried in 802.1X EAPOL
frames and in RADIUS Access-Request / Access-Challenge / Access-Accept / Access-Reject packets
(EAP-Message attributes, Message-Authenticator, secret "testing123"), written as pcap.

    cd /work/wt-r6 && PYTHONPATH=$PWD /work/main/.venv/bin/python rust/core/tests/data/eap/gen_eap.py

`.expect` lines are `key=value`: the SHA-256 of each certificate the generator gave each side,
the alerts as `sender:level:code`, the outcome, and what tshark reads from the same pcap
(`tshark_certs`: every certificate of a TLS Certificate message it reassembled), checked here.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import ssl
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives import serialization

sys.path.insert(0, str(Path(__file__).resolve().parents[5]))  # the repository: synth/ (test captures, not shipped)
from synth import pki

HERE = Path(__file__).resolve().parent
FRAG = 1000
IDENTITY = b"SEP001122334455"
PHONE_MAC = bytes.fromhex("001122334455")
SWITCH_MAC = bytes.fromhex("00aabbccdd01")
PAE_GROUP = bytes.fromhex("0180c2000003")
NAS = ("10.1.1.1", 50123)
ISE = ("10.1.1.2", 1812)
SECRET = b"testing123"
CIPHER = "ECDHE-RSA-AES128-GCM-SHA256"


def sha(c) -> str:
    return hashlib.sha256(c.public_bytes(serialization.Encoding.DER)).hexdigest()


def handshake(server: pki.Identity, client: pki.Identity | None, server_trusts,
              client_trusts=None) -> list[tuple[str, bytes]]:
    """Flights [(sender "A" peer / "B" server, bytes)] of one TLS 1.2 handshake; the client trusts
    ``client_trusts`` (default: the server's root)."""
    tmp = Path(tempfile.mkdtemp())
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.maximum_version = ssl.TLSVersion.TLSv1_2
    sctx.set_ciphers(CIPHER)
    sctx.load_cert_chain(*server.write_files(tmp))
    if server_trusts:
        sctx.verify_mode = ssl.CERT_REQUIRED
        sctx.load_verify_locations(cadata="".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in server_trusts))
    cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    cctx.maximum_version = ssl.TLSVersion.TLSv1_2
    cctx.set_ciphers(CIPHER)
    cctx.load_verify_locations(cadata="".join(c.public_bytes(serialization.Encoding.PEM).decode()
                                              for c in (client_trusts or [server.root])))
    if client is not None:
        cctx.load_cert_chain(*client.write_files(tmp))
    bio = {k: ssl.MemoryBIO() for k in ("c_in", "c_out", "s_in", "s_out")}
    c = cctx.wrap_bio(bio["c_in"], bio["c_out"], server_hostname="ise.example.lab")
    s = sctx.wrap_bio(bio["s_in"], bio["s_out"], server_side=True)
    flights: list[tuple[str, bytes]] = []
    done = {"c": False, "s": False}
    for _ in range(10):
        for name, obj, out, peer_in, sender in (("c", c, bio["c_out"], bio["s_in"], "A"), ("s", s, bio["s_out"], bio["c_in"], "B")):
            if not done[name]:
                try:
                    obj.do_handshake()
                    done[name] = True
                except ssl.SSLWantReadError:
                    pass
                except ssl.SSLError:
                    done = {"c": True, "s": True}
            data = out.read()
            if data:
                flights.append((sender, data))
                peer_in.write(data)
        if done["c"] and done["s"] and not bio["c_out"].pending and not bio["s_out"].pending:
            break
    return flights


def eap(code: int, ident: int, method: int | None = None, data: bytes = b"") -> bytes:
    body = bytes([method]) + data if method is not None else b""
    return struct.pack(">BBH", code, ident, 4 + len(body)) + body


def frame_eap(flights, method: int, success: bool) -> list[tuple[str, bytes]]:
    """EAP packets [(sender, packet)] of the whole authentication, in lockstep."""
    out = [("B", eap(1, 1, 1)), ("A", eap(2, 1, 1, IDENTITY))]
    rid = 2
    out.append(("B", eap(1, rid, method, bytes([0x20]))))  # Start
    for sender, data in flights:
        chunks = [data[i:i + FRAG] for i in range(0, len(data), FRAG)]
        for k, chunk in enumerate(chunks):
            flags = (0x80 if k == 0 else 0) | (0x40 if k < len(chunks) - 1 else 0)
            head = bytes([flags]) + (struct.pack(">I", len(data)) if k == 0 else b"")
            if sender == "B":
                rid += 1
                out.append(("B", eap(1, rid, method, head + chunk)))
            else:
                out.append(("A", eap(2, rid, method, head + chunk)))
            if k < len(chunks) - 1:  # the receiver acknowledges the fragment
                if sender == "B":
                    out.append(("A", eap(2, rid, method, b"\x00")))
                else:
                    rid += 1
                    out.append(("B", eap(1, rid, method, b"\x00")))
    if out[-1][0] == "B":
        out.append(("A", eap(2, rid, method, b"\x00")))
    out.append(("B", eap(3 if success else 4, rid)))
    return out


def ether(src: bytes, dst: bytes, ethertype: int, payload: bytes) -> bytes:
    f = dst + src + struct.pack(">H", ethertype) + payload
    return f + bytes(max(0, 60 - len(f)))


def eapol_frames(packets, retransmit_at: int | None) -> list[bytes]:
    frames = [ether(PHONE_MAC, PAE_GROUP, 0x888E, struct.pack(">BBH", 2, 1, 0))]  # EAPOL-Start
    for i, (sender, p) in enumerate(packets):
        body = struct.pack(">BBH", 2, 0, len(p)) + p
        src, dst = (PHONE_MAC, PAE_GROUP) if sender == "A" else (SWITCH_MAC, PHONE_MAC)
        frames.append(ether(src, dst, 0x888E, body))
        if i == retransmit_at:
            frames.append(frames[-1])
    return frames


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
    return ether(SWITCH_MAC, bytes.fromhex("00aabbccdd02"), 0x0800, h + udp)


def attr(t: int, v: bytes) -> bytes:
    return bytes([t, 2 + len(v)]) + v


def radius(code: int, ident: int, auth: bytes, attrs: bytes, request_auth: bytes | None) -> bytes:
    """A RADIUS packet with a valid Message-Authenticator (and Response Authenticator)."""
    attrs += attr(80, bytes(16))
    length = 20 + len(attrs)
    head_auth = auth if request_auth is None else request_auth
    pkt = struct.pack(">BBH", code, ident, length) + head_auth + attrs
    ma = hmac.new(SECRET, pkt, hashlib.md5).digest()
    pkt = pkt[:-16] + ma
    if request_auth is not None:
        resp = hashlib.md5(pkt[:4] + request_auth + pkt[20:] + SECRET).digest()
        pkt = pkt[:4] + resp + pkt[20:]
    return pkt


def eap_attrs(p: bytes) -> bytes:
    return b"".join(attr(79, p[i:i + 253]) for i in range(0, len(p), 253))


def radius_frames(packets) -> list[bytes]:
    """The authenticator's side goes to RADIUS: the EAP Identity Request is the switch's own."""
    frames, rid, state, req_auth = [], 0, None, b""
    for sender, p in packets[1:]:
        if sender == "A":
            rid = (rid + 1) & 0xFF
            req_auth = os.urandom(16)
            attrs = attr(1, IDENTITY) + attr(31, b"00-11-22-33-44-55") + eap_attrs(p)
            if state is not None:
                attrs += attr(24, state)
            frames.append(udp_frame(NAS, ISE, radius(1, rid, req_auth, attrs, None), len(frames) + 1))
        else:
            code = {3: 2, 4: 3}.get(p[0], 11)
            attrs = eap_attrs(p)
            if code == 11:
                state = b"ise-state-%d" % p[1]
                attrs += attr(24, state)
            frames.append(udp_frame(ISE, NAS, radius(code, rid, b"", attrs, req_auth), len(frames) + 1))
    return frames


def write_pcap(path: Path, frames: list[bytes]) -> None:
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for i, f in enumerate(frames):
        t = 1_700_000_000 + i
        out.append(struct.pack("<IIII", t, 1000 * i, len(f), len(f)) + f)
    path.write_bytes(b"".join(out))


def tshark_certs(path: Path) -> list[str]:
    out = subprocess.run(["tshark", "-r", str(path), "-Y", "tls.handshake.certificate", "-T", "fields", "-e",
                          "tls.handshake.certificate"], capture_output=True, text=True, check=True).stdout
    certs = []
    for line in out.split():
        for h in filter(None, line.split(",")):
            d = hashlib.sha256(bytes.fromhex(h.replace(":", ""))).hexdigest()
            if d not in certs:
                certs.append(d)
    return certs


def tshark_codes(path: Path, field: str) -> str:
    out = subprocess.run(["tshark", "-r", str(path), "-T", "fields", "-e", field], capture_output=True, text=True,
                         check=True).stdout
    return ",".join(x for x in out.split() if x)


def main() -> int:
    ise = pki.make_leaf("ise.example.lab", pki.example_issuing_ca(), san_dns=["ise.example.lab"], org="Example Lab")
    phone = pki.phone_lsc()
    capf_root = phone.root
    mic_ca = pki.cisco_manufacturing_ca_sha2()
    schain = [ise.cert, *ise.chain[1:]]
    cases = []
    # EAP-TLS, the phone's LSC accepted (ISE trusts the CAPF), over EAPOL, one Request repeated
    fl = handshake(ise, phone, [capf_root])
    pk = frame_eap(fl, 13, True)
    cases.append(("eapol_tls_success", eapol_frames(pk, retransmit_at=4), schain, [phone.cert], "", "success", None))
    # the same authentication seen between the switch and ISE (RADIUS)
    cases.append(("radius_tls_success", radius_frames(pk), schain, [phone.cert], "", "success", "Access-Accept"))
    # ISE trusts only Cisco Manufacturing CA: it rejects the LSC (unknown_ca), Access-Reject
    fl = handshake(ise, phone, [mic_ca.root])
    pk = frame_eap(fl, 13, False)
    cases.append(("radius_tls_reject", radius_frames(pk), schain, [phone.cert], "server:fatal:48", "failure", "Access-Reject"))
    cases.append(("eapol_tls_reject", eapol_frames(pk, None), schain, [phone.cert], "server:fatal:48", "failure", None))
    # PEAPv0's outer handshake: server certificate only
    fl = handshake(ise, None, [])
    pk = frame_eap(fl, 25, True)
    cases.append(("eapol_peap", eapol_frames(pk, None), schain, [], "", "success", None))
    # EAP-TTLS's outer handshake, through RADIUS
    fl = handshake(ise, None, [])
    pk = frame_eap(fl, 21, True)
    cases.append(("radius_ttls", radius_frames(pk), schain, [], "", "success", "Access-Accept"))

    for name, frames, sc, cc, alerts, outcome, radius_code in cases:
        path = HERE / f"{name}.pcap"
        write_pcap(path, frames)
        e = {
            "frames": str(len(frames)),
            "identity": IDENTITY.decode(),
            "version": "TLS 1.2",
            "cipher": "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "server_chain": ",".join(sha(c) for c in sc),
            "client_chain": ",".join(sha(c) for c in cc),
            "alerts": alerts,
            "outcome": outcome,
            "radius": radius_code or "",
            "tshark_certs": ",".join(tshark_certs(path)),
            "tshark_eap_codes": tshark_codes(path, "eap.code"),
            "tshark_radius_codes": tshark_codes(path, "radius.code"),
            "tshark_alerts": tshark_codes(path, "tls.alert_message.desc"),
        }
        want = [sha(c) for c in sc + cc]
        assert e["tshark_certs"].split(",") == want, (name, e["tshark_certs"], want)
        (HERE / f"{name}.expect").write_text("".join(f"{k}={v}\n" for k, v in e.items()))
        print(name, len(frames), "frames;", "tshark alerts", e["tshark_alerts"], "radius", e["tshark_radius_codes"][-8:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
