"""Fixtures for the Rust TLS parser tests, from the Python engine (the reference).

    /work/main/.venv/bin/python rust/core/tests/data/tls/gen_fixtures.py   (from the repo root)

Writes, next to this script:
- ``<scenario>.c2s.bin`` / ``<scenario>.s2c.bin``: each direction's bytes of a genuine OpenSSL
  handshake (synth runs OpenSSL over MemoryBIO), plus hand-built streams (SSLv2
  ClientHello, STARTTLS prelude);
- ``<scenario>.expect``: what the Python engine makes of them, one fact a line (tab-separated):
  RecordReader events for several feeding modes (whole, byte by byte, 7-byte chunks, a gap,
  peer_tls, keep_payload, low limits), each handshake message parsed (canonical strings, see
  ``canon_*``, including JA3/JA3S/JA4), and seeded mutations (one byte changed, truncations) of
  each message body and of the record stream, each with the Python result (the canonical
  string's SHA-256 prefix, or the ParseError text), so the Rust port is compared value for value
  without large files. tls13 also carries hand-built TLS 1.3 Certificate / CertificateRequest /
  HelloRetryRequest / NewSessionTicket bodies, an ECDHE ServerKeyExchange and alerts.

The canonical strings are defined here and re-implemented in rust/core/tests/tls_common/mod.rs;
both must stay in step.
"""

from __future__ import annotations

import hashlib
import random
import ssl
import struct
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[4]))
OUT = HERE  # --out DIR writes elsewhere (a large one-off corpus: --scale N multiplies the cases)
SCALE = 1

from synth import handshake as hs  # noqa: E402
from synth import pki  # noqa: E402
from inspector.tls import fingerprint as fp  # noqa: E402
from inspector.tls import messages as m  # noqa: E402
from inspector.tls import records as rec  # noqa: E402


def h16(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()[:16]


def ints(xs) -> str:
    return ",".join(str(x) for x in xs)


def opt(x) -> str:
    return "-" if x is None else str(x)


def canon_client_hello(ch: m.ClientHello) -> str:
    exts = ";".join(f"{t}:{d.hex()}" for t, d in ch.extensions)
    return "|".join([
        str(ch.legacy_version), ch.random.hex(), ch.session_id.hex(), ints(ch.cipher_suites),
        ints(ch.compression_methods), exts, opt(ch.sni), str(ch.sni_count), ",".join(ch.alpn),
        ints(ch.supported_versions), ints(ch.supported_groups), ints(ch.ec_point_formats),
        ints(ch.signature_algorithms), ints(ch.key_share_groups),
        ints(int(x) for x in (ch.session_ticket, ch.psk, ch.early_data, ch.ech)),
        ",".join(ch.warnings), fp.ja3(ch), fp.ja4(ch), fp.ja4_r(ch)])


def canon_server_hello(sh: m.ServerHello) -> str:
    exts = ";".join(f"{t}:{d.hex()}" for t, d in sh.extensions)
    return "|".join([
        str(sh.legacy_version), sh.random.hex(), sh.session_id.hex(), str(sh.cipher_suite),
        str(sh.compression_method), exts, str(sh.selected_version),
        str(int(sh.is_hello_retry_request)), opt(sh.alpn), opt(sh.key_share_group),
        str(int(sh.extended_master_secret)), str(int(sh.session_ticket_ext)), ",".join(sh.warnings),
        fp.ja3s(sh)])


def canon_certificate(c: m.Certificate) -> str:
    return "|".join([",".join(hashlib.sha256(d).hexdigest() for d in c.certs),
                     "-" if c.context is None else c.context.hex(), ",".join(c.warnings)])


def canon_certificate_request(c: m.CertificateRequest) -> str:
    return "|".join([ints(c.cert_types), ints(c.signature_algorithms), ",".join(n.hex() for n in c.ca_names),
                     "-" if c.context is None else c.context.hex(), ",".join(c.warnings)])


def canon_server_key_exchange(k: m.ServerKeyExchange) -> str:
    return "|".join([k.kx, opt(k.dh_p_bits), opt(k.curve), opt(k.signature_algorithm)])


def canon_new_session_ticket(t: m.NewSessionTicket) -> str:
    return f"{t.lifetime}|{t.ticket_len}"


def canon_alerts(alerts: list[m.Alert]) -> str:
    return ",".join(f"{a.level}:{a.description}:{a.level_name}:{a.description_name}" for a in alerts)


def parse(kind: str, body: bytes, args: dict) -> str:
    """``ok <canonical>`` or ``err <ParseError text>``."""
    try:
        if kind == "client_hello":
            return "ok " + canon_client_hello(m.parse_client_hello(body))
        if kind == "sslv2_client_hello":
            return "ok " + canon_client_hello(m.parse_sslv2_client_hello(body))
        if kind == "server_hello":
            return "ok " + canon_server_hello(m.parse_server_hello(body))
        if kind == "certificate":
            return "ok " + canon_certificate(m.parse_certificate(body, tls13=args["tls13"],
                                                                 max_certs=args.get("max_certs", 32)))
        if kind == "certificate_request":
            return "ok " + canon_certificate_request(
                m.parse_certificate_request(body, tls13=args["tls13"], version=args["version"]))
        if kind == "server_key_exchange":
            return "ok " + canon_server_key_exchange(m.parse_server_key_exchange(
                body, cipher_suite=args["cipher_suite"], version=args["version"]))
        if kind == "new_session_ticket":
            return "ok " + canon_new_session_ticket(m.parse_new_session_ticket(body, tls13=args["tls13"]))
        if kind == "alert":
            return "ok " + canon_alerts(m.parse_alert(body))
    except m.TLSParseError as e:
        return f"err {e}"
    raise ValueError(kind)


def short(result: str) -> str:
    """Errors verbatim; successful parses by the SHA-256 prefix of their canonical string."""
    return result if result.startswith("err ") else "ok " + h16(result[3:].encode())


def canon_event(ev: rec.Event) -> str:
    n = type(ev).__name__
    if isinstance(ev, rec.HandshakeMessage):
        return f"{n} {ev.frame} {ev.msg_type} {ev.record_version} {len(ev.body)} {h16(ev.body)}"
    if isinstance(ev, (rec.EncryptedHandshake,)):
        return f"{n} {ev.frame} {ev.length}"
    if isinstance(ev, rec.ChangeCipherSpec):
        return f"{n} {ev.frame}"
    if isinstance(ev, rec.AlertRecord):
        return f"{n} {ev.frame} {ev.payload.hex()} {int(ev.encrypted)}"
    if isinstance(ev, rec.ApplicationData):
        return f"{n} {ev.frame} {ev.length} {h16(ev.record)}"
    if isinstance(ev, (rec.SSLv2ClientHello, rec.SSLv2ServerHello)):
        return f"{n} {ev.frame} {ev.record.hex()}"
    if isinstance(ev, rec.Anomaly):
        return f"{n} {ev.frame} {ev.code} {ev.detail}"
    if isinstance(ev, rec.TLSStart):
        return f"{n} {ev.frame} {ev.prelude_bytes} {ev.prelude_head.hex()}"
    raise TypeError(ev)


def feed(data: bytes, mode: dict) -> list[str]:
    """Feed ``data`` to a RecordReader the way ``mode`` says; the events, canonical.

    mode: chunk (bytes per feed; the frame number is the chunk index), gap_at (a chunk index
    that is dropped, the next one fed with gap=True), peer_tls, keep_payload, max_handshake,
    max_records."""
    r = rec.RecordReader(mode.get("max_handshake", 256 * 1024), max_records=mode.get("max_records", 10_000))
    r.peer_tls = mode.get("peer_tls", False)
    r.keep_payload = mode.get("keep_payload", False)
    chunk = mode["chunk"]
    gap_at = mode.get("gap_at")
    out: list[str] = []
    gap = False
    for k, i in enumerate(range(0, len(data), chunk)):
        if k == gap_at:
            gap = True
            continue
        out += [canon_event(e) for e in r.feed(data[i:i + chunk], k, gap)]
        gap = False
    out.append(f"end {r.state} {r.records} {int(r.encrypted)} {opt(r.ccs_frame)} {r.bytes_in}")
    return out


MODES = [
    {"chunk": 1 << 20}, {"chunk": 1}, {"chunk": 7}, {"chunk": 100, "gap_at": 3},
    {"chunk": 50, "peer_tls": True}, {"chunk": 1000, "keep_payload": True},
    {"chunk": 1000, "max_handshake": 600}, {"chunk": 1000, "max_records": 3},
]


def messages_of(data: bytes) -> list[tuple[int, bytes, int]]:
    r = rec.RecordReader()
    return [(e.msg_type, e.body, e.record_version) for e in r.feed(data, 0)
            if isinstance(e, rec.HandshakeMessage)]


def mutations(kind: str, body: bytes, args: dict, rng: random.Random, n: int) -> list:
    cases = []
    cuts = range(len(body)) if len(body) <= 100 * SCALE else sorted(rng.sample(range(len(body)), 60 * SCALE))
    for cut in cuts:
        cases.append({"cut": cut, "r": short(parse(kind, body[:cut], args))})
    for _ in range(n * SCALE):
        pos = rng.randrange(len(body)) if body else 0
        val = rng.choice((0, 1, 0x80, 0xFF, rng.randrange(256)))
        b = bytearray(body)
        if b:
            b[pos] = val
        cases.append({"pos": pos, "val": val, "r": short(parse(kind, bytes(b), args))})
    return cases


def mode_line(mo: dict) -> str:
    return (f"chunk={mo['chunk']} gap_at={mo.get('gap_at', -1)} peer_tls={int(mo.get('peer_tls', False))} "
            f"keep_payload={int(mo.get('keep_payload', False))} max_handshake={mo.get('max_handshake', 256 * 1024)} "
            f"max_records={mo.get('max_records', 10_000)}")


def args_line(args: dict) -> str:
    return (f"tls13={int(args.get('tls13', False))} version={args.get('version', 0)} "
            f"cipher_suite={args.get('cipher_suite', 0)} max_certs={args.get('max_certs', 32)}")


def message_lines(d: str, index: int, kind: str, body: bytes, args: dict, rng: random.Random) -> list[str]:
    lines = [f"message\t{d}\t{index}\t{kind}\t{args_line(args)}\t{body.hex()}",
             f"result\t{parse(kind, body, args)}"]
    for case in mutations(kind, body, args, rng, 80):
        where = f"cut={case['cut']}" if "cut" in case else f"pos={case['pos']} val={case['val']}"
        lines.append(f"mut\t{where}\t{case['r']}")
    return lines


def scenario(name: str, c2s: bytes, s2c: bytes, rng: random.Random, *, tls13: bool, sslv2: bool = False,
             extra: list[tuple[str, bytes, dict]] = ()) -> None:
    """Write the streams and ``<name>.expect``: tab-separated lines, one fact each."""
    (OUT / f"{name}.c2s.bin").write_bytes(c2s)
    (OUT / f"{name}.s2c.bin").write_bytes(s2c)
    lines: list[str] = []
    for d, data in (("c2s", c2s), ("s2c", s2c)):
        for mo in MODES:
            lines.append(f"stream\t{d}\t{mode_line(mo)}")
            lines += [f"event\t{e}" for e in feed(data, mo)]
        for _ in range(60 * SCALE if data else 0):
            pos = rng.randrange(min(len(data), 400 * SCALE))
            val = rng.randrange(256)
            b = bytearray(data)
            b[pos] = val
            lines.append(f"streammut\t{d}\tpos={pos} val={val}\t{h16(chr(10).join(feed(bytes(b), {'chunk': 13})).encode())}")
        for cut in rng.sample(range(len(data)), min(40 * SCALE, len(data))):
            lines.append(f"streammut\t{d}\tcut={cut}\t{h16(chr(10).join(feed(data[:cut], {'chunk': 13})).encode())}")
    sh = None
    for d, data in (("c2s", c2s), ("s2c", s2c)):
        if sslv2 and d == "c2s":
            evs = rec.RecordReader().feed(data, 0)
            v2 = next(e.record for e in evs if isinstance(e, rec.SSLv2ClientHello))
            lines += message_lines(d, -1, "sslv2_client_hello", v2, {}, rng)
        for i, (mt, body, ver) in enumerate(messages_of(data)):
            if mt == 2:
                sh = m.parse_server_hello(body)
            version = sh.selected_version if sh else ver
            kind, args = {
                1: ("client_hello", {}), 2: ("server_hello", {}),
                11: ("certificate", {"tls13": tls13}),
                13: ("certificate_request", {"tls13": tls13, "version": version}),
                12: ("server_key_exchange", {"cipher_suite": sh.cipher_suite if sh else 0, "version": version}),
                4: ("new_session_ticket", {"tls13": tls13}),
            }.get(mt, (None, None))
            if kind is not None:
                lines += message_lines(d, i, kind, body, args, rng)
    for i, (kind, body, args) in enumerate(extra):
        lines += message_lines("none", i, kind, body, args, rng)
    (OUT / f"{name}.expect").write_text("\n".join(lines) + "\n")


def run(server_ctx, client_ctx, sni="server.example.lab", **kw) -> hs.Conversation:
    return hs.run_handshake(server_ctx, client_ctx, sni=sni, **kw)


def sslv2_hello() -> bytes:
    specs = bytes.fromhex("010080" "0700c0" "00002f" "000035" "00000a" "0000ff")
    challenge = bytes(range(16))
    body = struct.pack(">BHHHH", 1, 0x0301, len(specs), 0, len(challenge)) + specs + challenge
    return struct.pack(">H", 0x8000 | len(body)) + body


def vec(width: int, data: bytes) -> bytes:
    return len(data).to_bytes(width, "big") + data


def ext(t: int, data: bytes) -> bytes:
    return struct.pack(">HH", t, len(data)) + data


def handmade(leaf: pki.Identity, ca: pki.Identity) -> list[tuple[str, bytes, dict]]:
    """Messages a TLS 1.3 capture hides (encrypted) or OpenSSL does not send here."""
    from cryptography.hazmat.primitives.serialization import Encoding
    ders = [leaf.cert.public_bytes(Encoding.DER), ca.cert.public_bytes(Encoding.DER)]
    cert13 = vec(1, b"") + vec(3, b"".join(vec(3, d) + vec(2, ext(5, b"\x01\x00")) for d in ders))
    name = ca.cert.subject.public_bytes()
    cr13 = vec(1, b"\x07") + vec(2, ext(13, vec(2, bytes.fromhex("040308040503"))) + ext(47, vec(2, vec(2, name))))
    hrr = (struct.pack(">H", 0x0303) + m.HRR_RANDOM + vec(1, bytes(32)) + struct.pack(">HB", 0x1301, 0)
           + vec(2, ext(43, b"\x03\x04") + ext(51, b"\x00\x17") + ext(44, vec(2, b"cookie"))))
    nst13 = struct.pack(">II", 7200, 12345) + vec(1, b"\x00") + vec(2, bytes(48)) + vec(2, b"")
    ske = b"\x03\x00\x1d" + vec(1, bytes(32)) + b"\x04\x03" + vec(2, bytes(70))
    grease_ch = (struct.pack(">H", 0x0303) + bytes(32) + vec(1, b"") + vec(2, bytes.fromhex("0a0a130113021303c02b"))
                 + vec(1, b"\x00") + vec(2, ext(0x1A1A, b"") + ext(0, vec(2, b"\x00" + vec(2, b"h\xffst")))
                                        + ext(16, vec(2, vec(1, b"h2") + vec(1, b"http/1.1")))
                                        + ext(43, vec(1, bytes.fromhex("2a2a03040303")))
                                        + ext(10, vec(2, bytes.fromhex("3a3a001d0017"))) + ext(11, vec(1, b"\x00"))
                                        + ext(13, vec(2, bytes.fromhex("04030804")))
                                        + ext(51, vec(2, bytes.fromhex("001d0003aabbcc")))
                                        + ext(0, vec(2, b"\x00" + vec(2, b"dup"))) + ext(0x4A4A, b"\x00")))
    return [("certificate", cert13, {"tls13": True}), ("certificate", cert13, {"tls13": True, "max_certs": 1}),
            ("certificate_request", cr13, {"tls13": True, "version": 0x0304}),
            ("server_hello", hrr, {}), ("new_session_ticket", nst13, {"tls13": True}),
            ("server_key_exchange", ske, {"cipher_suite": 0xC02B, "version": 0x0303}),
            ("client_hello", grease_ch, {}), ("alert", bytes.fromhex("02280130"), {})]


def names() -> None:
    """``names.hashes``: for each name helper, the SHA-256 of its names for every code of its
    domain (one a line), so the Rust tables are checked value for value in 300 bytes."""
    from inspector.tls import ciphers, constants as c
    u16, u8 = range(0x10000), range(0x100)
    sslv2 = sorted(ciphers.SSLV2_CIPHER_KINDS) + [0x010000, 0xFFFFFF]
    funcs = [("version_name", c.version_name, u16), ("cipher_name", c.cipher_name, [*u16, *sslv2]),
             ("cipher_kx", ciphers.cipher_kx, [*u16, *sslv2]), ("group_name", c.group_name, u16),
             ("sigalg_name", c.sigalg_name, u16), ("extension_name", c.extension_name, u16),
             ("alert_name", c.alert_name, u8), ("alert_level_name", c.alert_level_name, u8),
             ("handshake_name", c.handshake_name, u8), ("content_type_name", c.content_type_name, u8)]
    lines = [f"{n}\t{h16(chr(10).join(f(i) for i in dom).encode())}" for n, f, dom in funcs]
    (OUT / "names.hashes").write_text("\n".join(lines) + "\n")


def ca_names(ders: list[bytes], rng: random.Random) -> None:
    """``ca_names.tsv``: DER names (certificate subjects and issuers, hand-built oddities) with
    the Python ``ca_name_to_str`` of each, then seeded mutations of them with its hash. Where
    cryptography panics (an OID just over 128 bits) the Python engine has no answer: "PANIC"."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    def text(der: bytes) -> str:
        try:
            return m.ca_name_to_str(der)
        except BaseException:  # noqa: BLE001 - pyo3 PanicException
            return "PANIC"

    def tlv(tag: int, content: bytes) -> bytes:
        n = len(content)
        ln = bytes([n]) if n < 128 else bytes([0x81, n]) if n < 256 else b"\x82" + n.to_bytes(2, "big")
        return bytes([tag]) + ln + content

    def name(*rdns: list[tuple[bytes, int, bytes]]) -> bytes:
        return tlv(0x30, b"".join(tlv(0x31, b"".join(tlv(0x30, tlv(6, oid) + tlv(t, v)) for oid, t, v in rdn))
                                  for rdn in rdns))

    cn, c, o, dc = bytes.fromhex("550403"), bytes.fromhex("550406"), bytes.fromhex("55040a"), \
        bytes.fromhex("0992268993f22c640119")
    big = bytes([0x84] + [0x80] * 17 + [0x00])  # first subidentifier 2**128: cryptography panics
    names = [bytes(x) for x in ders] + [
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "a,b+c\\d\"e<f>g;h"),
                   x509.NameAttribute(NameOID.COUNTRY_NAME, "DE")]).public_bytes(),
        name([(cn, 0x0C, "Grüße".encode())], [(o, 0x13, "Caf\xe9".encode("latin-1"))]),
        name([(cn, 0x1E, "BMP ☃".encode("utf-16-be")), (c, 0x13, b"USA")]),
        name([(cn, 0x1C, "wide".encode("utf-32-be"))], [(cn, 0x1E, b"\xd8\x00")], [(cn, 0x1C, b"\x00\x11\x00\x00")]),
        name([(cn, 0x14, b"t61 \xa4")], [(dc, 0x16, b"lab")], [(cn, 0x0C, b"#hash")], [(cn, 0x0C, b" lead")]),
        name([(cn, 0x0C, b" ")], [(cn, 0x0C, b"trail ")], [(cn, 0x0C, b"")], [(cn, 0x0C, b"nul\x00")]),
        name([(cn, 0x0C, b"x" * 70)], [(cn, 0x02, b"\x01")], [(cn, 0x04, b"\xff\xfe")]),
        name([(bytes.fromhex("2a864886f70d010901"), 0x16, b"pki@example.lab")]),  # emailAddress: dotted
        name([(bytes.fromhex("8137"), 0x0C, b"2.x")], [(bytes.fromhex("808001"), 0x0C, b"padded")]),
        name([(bytes([0x2A] + [0x01] * 62), 0x0C, b"63")], [(bytes([0x2A] + [0x01] * 63), 0x0C, b"64")]),
        name([(bytes([0x2A] + [0x83] + [0xFF] * 17 + [0x7F]), 0x0C, b"2**128-1")]),
        name([(big, 0x0C, b"panic")]),
        name([(cn, 0x0C, b"\xc3\x28")]), b"", b"\x30", b"\x30\x00", b"\x31\x00", b"\x30\x80",
        b"\x30\x84\x00\x00\x00\x00", b"\x30\x03\x31\x01\x30", bytes(40),
    ]
    lines = [f"name\t{d.hex()}\t{text(d)}" for d in names]
    for i, d in enumerate(names):
        for _ in range(25 if d else 0):
            b = bytearray(d)
            if rng.random() < 0.3:
                spec = f"cut={rng.randrange(len(d))}"
                b = b[:int(spec[4:])]
            else:
                pos, val = rng.randrange(len(d)), rng.randrange(256)
                spec = f"pos={pos} val={val}"
                b[pos] = val
            lines.append(f"namemut\t{i}\t{spec}\t{h16(text(bytes(b)).encode())}")
    (OUT / "ca_names.tsv").write_text("\n".join(lines) + "\n")


def main() -> None:
    names()
    rng = random.Random(9)
    ca = pki.make_ca("Fixture Root CA", key="ec256")
    leaf = pki.make_leaf("server.example.lab", ca, key="ec256", san_dns=["server.example.lab"])
    client_id = pki.make_leaf("SEP001122334455", ca, key="ec256", client=True, server=False)
    rsa_leaf = pki.make_leaf("dhe.example.lab", ca, key="rsa1024", san_dns=["dhe.example.lab"])

    # TLS 1.2 ECDHE with mutual authentication (CertificateRequest with CA names), ALPN-less
    conv = run(hs.server_context(leaf, max_version=ssl.TLSVersion.TLSv1_2, request_client_cert=True,
                                 trusted_cas=[ca.cert]),
               hs.client_context(trusted_cas=[ca.cert], client_identity=client_id,
                                 max_version=ssl.TLSVersion.TLSv1_2), close=True)
    scenario("tls12_mutual", conv.stream("c2s"), conv.stream("s2c"), rng, tls13=False)
    from cryptography.hazmat.primitives.serialization import Encoding
    ca_names([n for ident in (ca, leaf, client_id, rsa_leaf) for n in
              (ident.cert.subject.public_bytes(), ident.cert.issuer.public_bytes())]
             + [pki.cisco_manufacturing_ca_sha2().cert.subject.public_bytes(),
                pki.phone_mic().cert.subject.public_bytes(), pki.phone_lsc().cert.issuer.public_bytes()],
             random.Random(47))

    # TLS 1.3 with client certificate (encrypted after ServerHello) and app data
    conv = run(hs.server_context(leaf, request_client_cert=True, trusted_cas=[ca.cert]),
               hs.client_context(trusted_cas=[ca.cert], client_identity=client_id),
               app_data=(b"GET / HTTP/1.1\r\n\r\n", b"HTTP/1.1 200 OK\r\n\r\n"), close=True)
    scenario("tls13", conv.stream("c2s"), conv.stream("s2c"), rng, tls13=True, extra=handmade(leaf, ca))

    # TLS 1.2 DHE with a 1024-bit group (ServerKeyExchange p bits), client rejects the CA
    conv = run(hs.server_context(rsa_leaf, max_version=ssl.TLSVersion.TLSv1_2, dh_params_bits=1024,
                                 ciphers="DHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0"),
               hs.client_context(trusted_cas=[], max_version=ssl.TLSVersion.TLSv1_2,
                                 ciphers="DHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0"), sni="dhe.example.lab")
    scenario("tls12_dhe_unknown_ca", conv.stream("c2s"), conv.stream("s2c"), rng, tls13=False)

    # STARTTLS-style prelude, then a TLS 1.2 handshake
    conv = run(hs.server_context(leaf, max_version=ssl.TLSVersion.TLSv1_2),
               hs.client_context(trusted_cas=[ca.cert], max_version=ssl.TLSVersion.TLSv1_2))
    scenario("starttls", b"EHLO client.example.lab\r\nSTARTTLS\r\n" + conv.stream("c2s"),
             b"220 mail.example.lab ESMTP ready\r\n250 STARTTLS\r\n220 go ahead\r\n" + conv.stream("s2c"),
             rng, tls13=False)

    # SSLv2-compatible ClientHello answered with a TLS alert
    scenario("sslv2_hello", sslv2_hello(), bytes.fromhex("15030100020228"), rng, tls13=False, sslv2=True)

    # TCP streams of public captures (../shared/corpus/public, split with --pcaps): a real SSLv2
    # handshake (Lekensteyn-wireshark-notes/sslv2.pcapng), TLS 1.3 drafts 22 and 28
    # (OISF-suricata-verify tls13-draft22, tls13-draft28)
    streams_from(HERE, rng, "public_*")


def streams_from(directory: Path, rng: random.Random, pattern: str = "*") -> None:
    """Scenarios from ``<name>.c2s.bin`` / ``<name>.s2c.bin`` pairs already in ``directory``
    (e.g. TCP streams of public captures, split out with tshark's follow,tcp,raw)."""
    for c2s in sorted(directory.glob(f"{pattern}.c2s.bin")):
        name = c2s.name.removesuffix(".c2s.bin")
        s2c = directory / f"{name}.s2c.bin"
        data_c, data_s = c2s.read_bytes(), s2c.read_bytes() if s2c.exists() else b""
        sh = next((m.parse_server_hello(b) for t, b, _ in messages_of(data_s) if t == 2), None)
        tls13 = sh is not None and (sh.selected_version == 0x0304 or sh.selected_version >> 8 in (0x7F, 0xFB))
        scenario(name, data_c, data_s, rng, tls13=tls13)


def split_pcaps(paths: list[str], directory: Path, max_streams: int = 40) -> None:
    """Each TCP stream of each capture -> ``<file>_<n>.c2s.bin`` / ``.s2c.bin`` in ``directory``
    (tshark's follow,tcp,raw: the reassembled bytes each side sent)."""
    import subprocess
    for path in paths:
        stem = Path(path).name.split(".")[0].replace("-", "_")
        ids = subprocess.run(["tshark", "-n", "-r", path, "-T", "fields", "-e", "tcp.stream"],
                             capture_output=True, text=True, timeout=120).stdout.split()
        for sid in sorted({int(i) for i in ids if i.isdigit()})[:max_streams]:
            out = subprocess.run(["tshark", "-n", "-r", path, "-q", "-z", f"follow,tcp,raw,{sid}"],
                                 capture_output=True, text=True, timeout=120).stdout
            sides = {"c2s": bytearray(), "s2c": bytearray()}
            for line in out.splitlines():
                if not line.strip() or line.startswith(("=", "Follow", "Filter", "Node")):
                    continue
                side = "s2c" if line.startswith("\t") else "c2s"
                try:
                    sides[side] += bytes.fromhex(line.strip())
                except ValueError:
                    continue
            if sides["c2s"] or sides["s2c"]:
                (directory / f"{stem}_{sid}.c2s.bin").write_bytes(bytes(sides["c2s"]))
                (directory / f"{stem}_{sid}.s2c.bin").write_bytes(bytes(sides["s2c"]))


if __name__ == "__main__":
    args = sys.argv[1:]
    if "--out" in args:
        OUT = Path(args[args.index("--out") + 1])
        OUT.mkdir(parents=True, exist_ok=True)
    if "--scale" in args:
        SCALE = int(args[args.index("--scale") + 1])
    if "--pcaps" in args:  # --pcaps FILE... (after the other options)
        split_pcaps(args[args.index("--pcaps") + 1:], OUT)
    if "--streams" in args or "--pcaps" in args:
        streams_from(OUT, random.Random(9))
    else:
        main()
