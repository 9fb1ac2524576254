"""Run genuine OpenSSL handshakes in memory and record the bytes each side wrote.

Two ``ssl.SSLObject``s talk through ``MemoryBIO`` pairs (no sockets). Every time a side
is stepped, whatever it wrote is flushed as one chunk, in wire order. A small parser
reads the plaintext parts back (ClientHello SNI, ServerHello, alerts) so expectations
can be computed from the bytes actually produced.
"""

from __future__ import annotations

import base64
import os
import ssl
import struct
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterator, Literal, NamedTuple, Sequence

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .pki import Identity

Direction = Literal["c2s", "s2c"]

CONTENT_CCS, CONTENT_ALERT, CONTENT_HANDSHAKE, CONTENT_APPDATA = 20, 21, 22, 23
MAX_PLAINTEXT = 1 << 14

TLS_VERSIONS = {0x0300: "SSL 3.0", 0x0301: "TLS 1.0", 0x0302: "TLS 1.1", 0x0303: "TLS 1.2", 0x0304: "TLS 1.3"}

CIPHER_SUITES = {
    0x000A: "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
    0x002F: "TLS_RSA_WITH_AES_128_CBC_SHA",
    0x0033: "TLS_DHE_RSA_WITH_AES_128_CBC_SHA",
    0x0035: "TLS_RSA_WITH_AES_256_CBC_SHA",
    0x0039: "TLS_DHE_RSA_WITH_AES_256_CBC_SHA",
    0x003C: "TLS_RSA_WITH_AES_128_CBC_SHA256",
    0x003D: "TLS_RSA_WITH_AES_256_CBC_SHA256",
    0x0067: "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256",
    0x006B: "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256",
    0x009C: "TLS_RSA_WITH_AES_128_GCM_SHA256",
    0x009D: "TLS_RSA_WITH_AES_256_GCM_SHA384",
    0x009E: "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
    0x009F: "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
    0x1301: "TLS_AES_128_GCM_SHA256",
    0x1302: "TLS_AES_256_GCM_SHA384",
    0x1303: "TLS_CHACHA20_POLY1305_SHA256",
    0xC009: "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    0xC00A: "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
    0xC013: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    0xC014: "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    0xC023: "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
    0xC024: "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
    0xC027: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
    0xC028: "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
    0xC02B: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    0xC02C: "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    0xC02F: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    0xC030: "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    0xCCA8: "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    0xCCA9: "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    0xCCAA: "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
}
"""IANA names of the cipher suites OpenSSL commonly negotiates, by code point."""

# RFC 2409 / RFC 3526 MODP groups: p = 2^n - 2^(n-64) - 1 + 2^64 * (floor(2^(n-130) * pi) + offset), g = 2.
_MODP_OFFSETS = {1024: 129093, 1536: 741804, 2048: 124476, 3072: 1690314, 4096: 240904}


class ServerHello(NamedTuple):
    """What a ServerHello selected (``version`` honours supported_versions)."""

    version: int
    cipher_suite: int
    session_id: bytes


@dataclass
class Conversation:
    """The bytes of one TLS connection, as chunks in wire order, and how it ended."""

    chunks: list[tuple[Direction, bytes]] = field(default_factory=list)
    established: bool = False
    client_error: str | None = None
    server_error: str | None = None
    session: ssl.SSLSession | None = None
    session_reused: bool = False
    version: str | None = None
    """OpenSSL's protocol name (``TLSv1.2``), None unless established."""
    cipher: str | None = None
    """OpenSSL's cipher name, None unless established."""
    keylog: str = ""
    """NSS key log lines written for this connection, when the client context had a keylog file."""

    def stream(self, direction: Direction) -> bytes:
        """All bytes sent in one direction."""
        return b"".join(data for d, data in self.chunks if d == direction)

    def handshake_messages(self, direction: Direction) -> list[tuple[int, bytes]]:
        """Plaintext handshake messages (type, body) sent in one direction, up to its ChangeCipherSpec."""
        buf = bytearray()
        for ctype, _, fragment in iter_records(self.stream(direction)):
            if ctype == CONTENT_CCS:
                break
            if ctype == CONTENT_HANDSHAKE:
                buf += fragment
        messages = []
        pos = 0
        while pos + 4 <= len(buf):
            length = int.from_bytes(buf[pos + 1 : pos + 4], "big")
            messages.append((buf[pos], bytes(buf[pos + 4 : pos + 4 + length])))
            pos += 4 + length
        return messages

    def alerts(self) -> list[tuple[Direction, int, int]]:
        """Plaintext alerts as (direction, level, description), in wire order."""
        return [
            (d, fragment[0], fragment[1])
            for d, data in self.chunks
            for ctype, _, fragment in iter_records(data)
            if ctype == CONTENT_ALERT and len(fragment) == 2
        ]

    @property
    def sni(self) -> str | None:
        """The server_name the ClientHello carried, if any."""
        hello = dict(self.handshake_messages("c2s")).get(1)
        return None if hello is None else _client_hello_sni(hello)

    @property
    def server_hello(self) -> ServerHello | None:
        """The parsed ServerHello, or None when the server never sent one."""
        hello = dict(self.handshake_messages("s2c")).get(2)
        return None if hello is None else _parse_server_hello(hello)


def iter_records(data: bytes) -> Iterator[tuple[int, int, bytes]]:
    """Yield (content type, record version, fragment) for each complete TLS record in ``data``."""
    pos = 0
    while pos < len(data):
        if pos + 5 > len(data):
            raise ValueError("truncated TLS record header")
        ctype, version, length = struct.unpack_from("!BHH", data, pos)
        if pos + 5 + length > len(data):
            raise ValueError("truncated TLS record")
        yield ctype, version, data[pos + 5 : pos + 5 + length]
        pos += 5 + length


def _extensions(body: bytes, pos: int) -> dict[int, bytes]:
    exts: dict[int, bytes] = {}
    if pos + 2 > len(body):
        return exts
    end = pos + 2 + int.from_bytes(body[pos : pos + 2], "big")
    pos += 2
    while pos + 4 <= end:
        etype, elen = struct.unpack_from("!HH", body, pos)
        exts[etype] = body[pos + 4 : pos + 4 + elen]
        pos += 4 + elen
    return exts


def _client_hello_sni(body: bytes) -> str | None:
    pos = 34
    pos += 1 + body[pos]
    pos += 2 + int.from_bytes(body[pos : pos + 2], "big")
    pos += 1 + body[pos]
    sni = _extensions(body, pos).get(0)
    if not sni or sni[2] != 0:
        return None
    return sni[5 : 5 + int.from_bytes(sni[3:5], "big")].decode("ascii")


def _parse_server_hello(body: bytes) -> ServerHello:
    version = int.from_bytes(body[0:2], "big")
    sid_len = body[34]
    session_id = body[35 : 35 + sid_len]
    pos = 35 + sid_len
    cipher_suite = int.from_bytes(body[pos : pos + 2], "big")
    supported = _extensions(body, pos + 3).get(43)
    if supported is not None:
        version = int.from_bytes(supported[:2], "big")
    return ServerHello(version, cipher_suite, session_id)


def alert_name(description: int) -> str:
    """``48`` -> ``unknown_ca`` (names from ``ssl.AlertDescription``)."""
    try:
        return ssl.AlertDescription(description).name.removeprefix("ALERT_DESCRIPTION_").lower()
    except ValueError:
        return f"alert_{description}"


def coalesce_handshake_records(conv: Conversation, direction: Direction = "c2s") -> Conversation:
    """Repack adjacent plaintext handshake records of each chunk into one record.

    Mimics stacks (Cisco phones) that put Certificate, ClientKeyExchange and
    CertificateVerify in one record. Stops at that direction's ChangeCipherSpec; never
    exceeds the 16 KiB record limit. The handshake transcript is unchanged.
    """
    chunks: list[tuple[Direction, bytes]] = []
    encrypted = False
    for d, data in conv.chunks:
        if d != direction or encrypted:
            chunks.append((d, data))
            continue
        out: list[tuple[int, int, bytes]] = []
        for ctype, version, fragment in iter_records(data):
            encrypted = encrypted or ctype == CONTENT_CCS
            prev = out[-1] if out else None
            if (
                prev is not None
                and not encrypted
                and ctype == prev[0] == CONTENT_HANDSHAKE
                and len(prev[2]) + len(fragment) <= MAX_PLAINTEXT
            ):
                out[-1] = (ctype, prev[1], prev[2] + fragment)
            else:
                out.append((ctype, version, fragment))
        chunks.append((d, b"".join(struct.pack("!BHH", t, v, len(f)) + f for t, v, f in out)))
    return replace(conv, chunks=chunks)


# --- contexts ---------------------------------------------------------------------------------


def _pi_fixed(bits: int) -> int:
    """floor(pi * 2**bits), by Machin's formula in integer arithmetic."""
    guard = 64
    one = 1 << (bits + guard)

    def arctan_inv(x: int) -> int:
        total = term = one // x
        n, sign = 1, -1
        while term:
            term //= x * x
            total += sign * (term // (2 * n + 1))
            sign, n = -sign, n + 1
        return total

    return (4 * (4 * arctan_inv(5) - arctan_inv(239))) >> guard


def _der(tag: int, content: bytes) -> bytes:
    """One DER TLV."""
    n = len(content)
    if n < 0x80:
        return bytes([tag, n]) + content
    size = (n.bit_length() + 7) // 8
    return bytes([tag, 0x80 | size]) + n.to_bytes(size, "big") + content


def modp_dh_params_pem(bits: int) -> bytes:
    """PKCS#3 PEM of the RFC 2409/3526 MODP group of ``bits`` bits (1024, 1536, 2048, 3072, 4096)."""
    if bits not in _MODP_OFFSETS:
        raise ValueError(f"no MODP group of {bits} bits; choose one of {sorted(_MODP_OFFSETS)}")
    p = 2**bits - 2 ** (bits - 64) - 1 + 2**64 * (_pi_fixed(bits - 130) + _MODP_OFFSETS[bits])
    der = _der(0x30, _der(0x02, b"\x00" + p.to_bytes(bits // 8, "big")) + _der(0x02, b"\x02"))
    b64 = base64.b64encode(der).decode()
    body = "\n".join(b64[i : i + 64] for i in range(0, len(b64), 64))
    return f"-----BEGIN DH PARAMETERS-----\n{body}\n-----END DH PARAMETERS-----\n".encode()


def _weak(identity: Identity | None, dh_params_bits: int | None) -> bool:
    """True when OpenSSL's default security level would refuse the RSA key or DH group."""
    small_rsa = identity is not None and isinstance(identity.key, rsa.RSAPrivateKey) and identity.key.key_size < 2048
    return small_rsa or (dh_params_bits is not None and dh_params_bits < 2048)


def _load(ctx: ssl.SSLContext, identity: Identity | None, trusted_cas: Sequence[x509.Certificate],
          dh_params_bits: int | None = None) -> None:
    """Load identity, trust anchors and DH parameters into ``ctx`` through temporary files."""
    if trusted_cas:
        ctx.load_verify_locations(
            cadata=b"".join(c.public_bytes(serialization.Encoding.PEM) for c in trusted_cas).decode()
        )
    with tempfile.TemporaryDirectory(prefix="tlsinspect-synth-") as tmp:
        if identity is not None:
            cert_path, key_path = identity.write_files(tmp)
            ctx.load_cert_chain(cert_path, key_path)
        if dh_params_bits is not None:
            dh_path = Path(tmp) / "dh.pem"
            dh_path.write_bytes(modp_dh_params_pem(dh_params_bits))
            ctx.load_dh_params(str(dh_path))


def server_context(
    identity: Identity,
    *,
    min_version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2,
    max_version: ssl.TLSVersion = ssl.TLSVersion.MAXIMUM_SUPPORTED,
    request_client_cert: bool = False,
    trusted_cas: Sequence[x509.Certificate] = (),
    ciphers: str | None = None,
    dh_params_bits: int | None = None,
    session_tickets: bool = True,
) -> ssl.SSLContext:
    """A server context presenting ``identity.chain``.

    ``request_client_cert`` makes the server send CertificateRequest and require a client
    certificate that chains to ``trusted_cas``. A 1024-bit key or DH group lowers the
    OpenSSL security level to 0 unless ``ciphers`` is given. ``session_tickets=False``
    forces session-ID resumption (server-side session cache).
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version, ctx.maximum_version = min_version, max_version
    if ciphers is not None:
        ctx.set_ciphers(ciphers)
    elif _weak(identity, dh_params_bits):
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    if not session_tickets:
        ctx.options |= ssl.OP_NO_TICKET
    if request_client_cert:
        ctx.verify_mode = ssl.CERT_REQUIRED
    _load(ctx, identity, trusted_cas, dh_params_bits)
    return ctx


def client_context(
    *,
    trusted_cas: Sequence[x509.Certificate] = (),
    client_identity: Identity | None = None,
    check_hostname: bool = False,
    verify: bool = True,
    min_version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2,
    max_version: ssl.TLSVersion = ssl.TLSVersion.MAXIMUM_SUPPORTED,
    ciphers: str | None = None,
    keylog_filename: str | os.PathLike[str] | None = None,
) -> ssl.SSLContext:
    """A client context; ``verify`` (CERT_REQUIRED against ``trusted_cas``) makes it reject unknown CAs."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version, ctx.maximum_version = min_version, max_version
    ctx.check_hostname = check_hostname
    ctx.verify_mode = ssl.CERT_REQUIRED if verify else ssl.CERT_NONE
    if ciphers is not None:
        ctx.set_ciphers(ciphers)
    elif _weak(client_identity, None):
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    if keylog_filename is not None:
        ctx.keylog_filename = os.fspath(keylog_filename)
    _load(ctx, client_identity, trusted_cas)
    return ctx


# --- the handshake ----------------------------------------------------------------------------


class _Side:
    """One end of the connection: its SSLObject, its outgoing BIO and the peer's incoming BIO."""

    def __init__(self, obj: ssl.SSLObject, out: ssl.MemoryBIO, peer_in: ssl.MemoryBIO, direction: Direction):
        self.obj, self.out, self.peer_in, self.direction = obj, out, peer_in, direction
        self.done = False

    def flush(self, conv: Conversation) -> None:
        """Move what this side wrote into the peer's incoming BIO and record it as one chunk."""
        data = self.out.read()
        if data:
            conv.chunks.append((self.direction, data))
            self.peer_in.write(data)

    def step(self) -> None:
        """Advance the handshake; once done, read to process post-handshake messages."""
        try:
            if self.done:
                self.obj.read(65536)
            else:
                self.obj.do_handshake()
                self.done = True
        except (ssl.SSLWantReadError, ssl.SSLZeroReturnError):
            pass

    def read_all(self) -> bytes:
        """Read all available application data."""
        data = bytearray()
        try:
            while chunk := self.obj.read(65536):
                data += chunk
        except (ssl.SSLWantReadError, ssl.SSLZeroReturnError):
            pass
        return bytes(data)

    def unwrap(self) -> None:
        """Send close_notify (and process the peer's, when there is one)."""
        try:
            self.obj.unwrap()
        except (ssl.SSLWantReadError, ssl.SSLZeroReturnError):
            pass


def _keylog_size(ctx: ssl.SSLContext) -> int:
    name = ctx.keylog_filename
    return os.path.getsize(name) if name and os.path.exists(name) else 0


def run_handshake(
    server_ctx: ssl.SSLContext,
    client_ctx: ssl.SSLContext,
    *,
    sni: str | None,
    session: ssl.SSLSession | None = None,
    max_rounds: int = 50,
    app_data: tuple[bytes, bytes] | None = None,
    close: bool = False,
) -> Conversation:
    """Run one handshake between the two contexts and return what went over the wire.

    On failure the failing side's alert is flushed into the chunks and delivered to the
    peer, so both ``client_error`` and ``server_error`` are filled. After success,
    ``app_data`` (request, response) is exchanged and ``close`` sends close_notify both ways.
    """
    c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
    client = _Side(client_ctx.wrap_bio(c_in, c_out, server_hostname=sni, session=session), c_out, s_in, "c2s")
    server = _Side(server_ctx.wrap_bio(s_in, s_out, server_side=True), s_out, c_in, "s2c")
    conv = Conversation()
    keylog_start = _keylog_size(client_ctx)
    errors: dict[Direction, str] = {}

    for _ in range(max_rounds):
        for side, peer in ((client, server), (server, client)):
            try:
                side.step()
            except ssl.SSLError as exc:
                errors[side.direction] = str(exc)
                side.flush(conv)
                try:
                    peer.step()
                except ssl.SSLError as peer_exc:
                    errors[peer.direction] = str(peer_exc)
                peer.flush(conv)
                break
            side.flush(conv)
        if errors or (client.done and server.done and not c_in.pending and not s_in.pending):
            break
    else:
        raise RuntimeError(f"handshake not finished after {max_rounds} rounds")

    conv.client_error, conv.server_error = errors.get("c2s"), errors.get("s2c")
    conv.established = not errors
    if conv.established:
        if app_data is not None:
            client.obj.write(app_data[0])
            client.flush(conv)
            if server.read_all() != app_data[0]:
                raise RuntimeError("server did not receive the request intact")
            server.obj.write(app_data[1])
            server.flush(conv)
            if client.read_all() != app_data[1]:
                raise RuntimeError("client did not receive the response intact")
        if close:
            client.unwrap()
            client.flush(conv)
            server.unwrap()
            server.flush(conv)
            client.unwrap()
        cipher = client.obj.cipher()
        conv.version, conv.cipher = client.obj.version(), cipher[0] if cipher else None
        conv.session, conv.session_reused = client.obj.session, client.obj.session_reused
    if client_ctx.keylog_filename:
        with open(client_ctx.keylog_filename, encoding="ascii") as fh:
            fh.seek(keylog_start)
            conv.keylog = fh.read()
    return conv
