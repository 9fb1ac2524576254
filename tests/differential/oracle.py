"""The tshark side: what Wireshark's dissector sees in a capture, one `TsharkFlow` per TCP stream.

The tests' independent oracle (tests/differential/test_corpus_tshark.py, test_oracle.py); it is
not part of the shipped package (the shipped second engine is `inspector.engines.tshark`).
Nothing here imports the engine's parsers: version and alert names come from tables in this module
(IANA registries), so a wrong name in the engine's tables shows up as a disagreement instead of
being copied.

`tshark_flows` runs tshark exactly once per file::

    tshark -n -r FILE
        -o tls.desegment_ssl_records:TRUE -o tls.desegment_ssl_application_data:TRUE
        -o tcp.reassemble_out_of_order:TRUE
        -d tcp.port==443,tls -d tcp.port==2443,tls ... (one -d per port in ``ports``)
        [-d SPEC ...]                                  (one per ``extra_decode_as`` entry)
        -Y "tls || tcp.flags.syn==1"
        -T fields -E header=n -E separator=/t -E quote=n -E occurrence=a -E aggregator=<US>
        -e frame.number -e frame.protocols -e tcp.stream
        -e ip.src -e ip.dst -e ipv6.src -e ipv6.dst -e tcp.srcport -e tcp.dstport
        -e tls.record.version -e tls.handshake.type -e tls.handshake.version
        -e tls.handshake.extensions.supported_version -e tls.handshake.ciphersuite
        -e tls.handshake.extensions_server_name -e tls.handshake.certificates_length
        -e tls.handshake.certificate_length -e tls.handshake.certificate
        -e tls.alert_message.level -e tls.alert_message.desc -e tls.handshake.ja3 -e tls.handshake.ja3s

(``<US>`` is the ASCII unit separator, 0x1f, so repeated values cannot clash with field text;
``FIELDS`` below is the authoritative ``-e`` list.)  The command runs with ``WIRESHARK_CONFIG_DIR``
pointing at an empty directory so that personal preferences (decode-as tables, heuristics)
cannot change the result.  With ``-T fields`` every value of a field in a packet is printed in
protocol-tree order, so a packet carrying several records (ServerHello, Certificate,
ServerHelloDone) gives ``2<US>11<US>14`` for ``tls.handshake.type``; reassembled messages
appear in the frame that completes them.

Per TCP stream (``tcp.stream``) the parser keeps:

- client/server: the sender of the first ClientHello is the client; failing that the receiver of
  the first ServerHello; failing both (alerts or records only) the endpoint on a TLS port, else
  the higher port, is taken as the client;
- ``sni``: the first ``server_name`` of the first ClientHello;
- ``version``: from the last ServerHello (a HelloRetryRequest is a ServerHello to tshark 4.0,
  the real one follows it): ``supported_version`` when present, else ``tls.handshake.version``;
  an SSLv2 ServerHello gives 0x0002;
- ``cipher_id``: the last ServerHello's cipher suite (None for SSLv2, which has no single one);
- ``server_chain`` / ``client_chain``: the DER certificates of the first Certificate message
  each side sent (an SSLv2 ServerHello's certificate counts as the server's).  A packet may
  hold several Certificate messages, and ``tls.handshake.certificate`` is repeated per
  certificate across all of them; the messages are told apart with
  ``tls.handshake.certificates_length`` (each certificate takes 3 + its
  ``tls.handshake.certificate_length`` bytes of it).  Caveat: when tshark's X.509 dissector
  throws on a certificate, the ``tls.handshake.certificate`` value stops where the exception
  did (fewer bytes than ``certificate_length``); such a certificate is kept as tshark gives it
  and noted in ``TsharkFlow.notes``;
- ``alerts``: every alert tshark could read in the clear (``tls.alert_message.level`` and
  ``.desc``), with the sending side.  Alerts tshark considers encrypted have no such fields
  and are absent.

tshark only dissects TLS where something tells it to: its well-known ports (443, 993, 465...),
the ``-d`` decode-as entries, the TCP heuristic (a stream that *starts* with a TLS record), and
STARTTLS in the protocols it knows (SMTP, IMAP, POP3, FTP, XMPP, LDAP, PostgreSQL, MySQL...).
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from inspector.domain import TLS_PORTS
from inspector.engines.tshark import find_tshark

__all__ = [
    "DEFAULT_PORTS",
    "FIELDS",
    "TsharkAlert",
    "TsharkError",
    "TsharkFlow",
    "alert_description_name",
    "find_tshark",
    "parse_fields_output",
    "tshark_command",
    "tshark_flows",
    "version_name",
]

DEFAULT_PORTS: tuple[int, ...] = TLS_PORTS

#: the ``-e`` fields, in output column order
FIELDS: tuple[str, ...] = (
    "frame.number",
    "frame.protocols",
    "tcp.stream",
    "ip.src",
    "ip.dst",
    "ipv6.src",
    "ipv6.dst",
    "tcp.srcport",
    "tcp.dstport",
    "tls.record.version",
    "tls.handshake.type",
    "tls.handshake.version",
    "tls.handshake.extensions.supported_version",
    "tls.handshake.ciphersuite",
    "tls.handshake.extensions_server_name",
    "tls.handshake.certificates_length",
    "tls.handshake.certificate_length",
    "tls.handshake.certificate",
    "tls.alert_message.level",
    "tls.alert_message.desc",
    "tls.handshake.ja3",
    "tls.handshake.ja3s",
)

DISPLAY_FILTER = "tls || tcp.flags.syn==1"
AGGREGATOR = "\x1f"
PREFERENCES = (
    "tls.desegment_ssl_records:TRUE",
    "tls.desegment_ssl_application_data:TRUE",
    "tcp.reassemble_out_of_order:TRUE",
)

# handshake message types (TLS; SSLv2 numbers its ServerHello 4)
_HS_CLIENT_HELLO = 1
_HS_SERVER_HELLO = 2
_HS_CERTIFICATE = 11
_SSL2_SERVER_HELLO = 4
_SSL2_RECORD_VERSION = 0x0002

_VERSION_NAMES = {
    0x0002: "SSL 2.0",
    0x0300: "SSL 3.0",
    0x0301: "TLS 1.0",
    0x0302: "TLS 1.1",
    0x0303: "TLS 1.2",
    0x0304: "TLS 1.3",
}

# TLS AlertDescription registry (IANA "TLS Alerts"), plus SSL 3.0's no_certificate
_ALERT_NAMES = {
    0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac",
    21: "decryption_failed", 22: "record_overflow", 30: "decompression_failure",
    40: "handshake_failure", 41: "no_certificate", 42: "bad_certificate",
    43: "unsupported_certificate", 44: "certificate_revoked", 45: "certificate_expired",
    46: "certificate_unknown", 47: "illegal_parameter", 48: "unknown_ca", 49: "access_denied",
    50: "decode_error", 51: "decrypt_error", 52: "too_many_cids_requested",
    60: "export_restriction", 70: "protocol_version", 71: "insufficient_security",
    80: "internal_error", 86: "inappropriate_fallback", 90: "user_canceled",
    100: "no_renegotiation", 109: "missing_extension", 110: "unsupported_extension",
    111: "certificate_unobtainable", 112: "unrecognized_name",
    113: "bad_certificate_status_response", 114: "bad_certificate_hash_value",
    115: "unknown_psk_identity", 116: "certificate_required",
    120: "no_application_protocol", 121: "ech_required",
}
_LEVEL_NAMES = {1: "warning", 2: "fatal"}


class TsharkError(RuntimeError):
    """tshark is missing, timed out, or failed without producing usable output."""


def version_name(code: int | None) -> str | None:
    """0x0303 -> ``"TLS 1.2"``; 0x7f17 -> ``"TLS 1.3 (draft 23)"``; unknown -> ``"0xabcd"``."""
    if code is None:
        return None
    if code in _VERSION_NAMES:
        return _VERSION_NAMES[code]
    if 0x7F00 <= code <= 0x7FFF:
        return f"TLS 1.3 (draft {code & 0xFF})"
    if 0xFB00 <= code <= 0xFBFF:
        return f"TLS 1.3 (Facebook draft {code & 0xFF})"
    return f"0x{code:04x}"


def alert_description_name(code: int) -> str:
    """48 -> ``"unknown_ca"``; unregistered -> ``"unknown(200)"``."""
    return _ALERT_NAMES.get(code, f"unknown({code})")


def alert_level_name(level: int | None) -> str:
    if level is None:
        return "unknown"
    return _LEVEL_NAMES.get(level, f"unknown({level})")


@dataclass(frozen=True, slots=True)
class TsharkAlert:
    """One alert tshark read in the clear."""

    frame: int
    sender: str  # "client" or "server"
    level: int | None
    description: int

    @property
    def level_name(self) -> str:
        return alert_level_name(self.level)

    @property
    def description_name(self) -> str:
        return alert_description_name(self.description)

    def __str__(self) -> str:  # same shape as the engine's ``alerts`` column
        return f"{self.sender}:{self.level_name}:{self.description_name}"


@dataclass(frozen=True, slots=True)
class TsharkFlow:
    """What tshark saw of TLS in one TCP stream."""

    stream: int
    first_frame: int  # the stream's first SYN, else its first frame with a TLS record
    client_ip: str
    client_port: int
    server_ip: str
    server_port: int
    client_hellos: int = 0
    server_hellos: int = 0  # HelloRetryRequest included
    sni: str | None = None
    version: int | None = None
    cipher_id: int | None = None
    server_certificate_sent: bool = False
    client_certificate_sent: bool = False  # an empty Certificate message counts
    server_chain: tuple[bytes, ...] = ()
    client_chain: tuple[bytes, ...] = ()
    alerts: tuple[TsharkAlert, ...] = ()
    frames: tuple[int, ...] = field(default=(), repr=False)  # frames with TLS records
    notes: tuple[str, ...] = ()  # where tshark's values are known to be incomplete
    ja3: tuple[str, ...] = ()  # of every ClientHello, in order
    ja3s: tuple[str, ...] = ()  # of every ServerHello (HelloRetryRequest included)

    @property
    def has_hello(self) -> bool:
        return bool(self.client_hellos or self.server_hellos)

    @property
    def tls_version(self) -> str | None:
        return version_name(self.version)

    @property
    def server_chain_sha256(self) -> tuple[str, ...]:
        return tuple(hashlib.sha256(d).hexdigest() for d in self.server_chain)

    @property
    def client_chain_sha256(self) -> tuple[str, ...]:
        return tuple(hashlib.sha256(d).hexdigest() for d in self.client_chain)

    @property
    def alert_strings(self) -> tuple[str, ...]:
        return tuple(str(a) for a in self.alerts)

    @property
    def key(self) -> tuple[str, int, str, int]:
        return (self.client_ip, self.client_port, self.server_ip, self.server_port)


def tshark_command(path: str | os.PathLike, *, ports: Iterable[int] = DEFAULT_PORTS,
                   extra_decode_as: Iterable[str] = (), tshark: str = "tshark") -> list[str]:
    """The argument list `tshark_flows` runs (see the module docstring).

    ``extra_decode_as`` entries are ``-d`` specs such as ``"tcp.port==4433,tls"``.
    """
    cmd = [tshark, "-n", "-r", os.fspath(path)]
    for pref in PREFERENCES:
        cmd += ["-o", pref]
    for port in sorted(set(int(p) for p in ports)):
        cmd += ["-d", f"tcp.port=={port},tls"]
    for spec in extra_decode_as:
        cmd += ["-d", spec]
    cmd += ["-Y", DISPLAY_FILTER, "-T", "fields", "-E", "header=n", "-E", "separator=/t",
            "-E", "quote=n", "-E", "occurrence=a", "-E", f"aggregator={AGGREGATOR}"]
    for f in FIELDS:
        cmd += ["-e", f]
    return cmd


def tshark_flows(path: str | os.PathLike, *, ports: Sequence[int] = DEFAULT_PORTS,
                 extra_decode_as: Sequence[str] = (), timeout: float = 120.0,
                 tshark: str | None = None, strict: bool = False) -> list[TsharkFlow]:
    """Run tshark once on ``path`` and return its view of every TCP stream with TLS records.

    Streams are ordered by first frame; streams with only a SYN and no TLS record are left out.
    A file tshark reads only in part (it exits 2 with "cut short in the middle of a packet" or
    "appears to be damaged or corrupt" after printing the packets before the damage) gives the
    streams read so far, like the engine's ``capture_truncated``; with ``strict=True`` it raises.
    Raises `TsharkError` when tshark is missing, times out, or fails otherwise.
    """
    exe = tshark or find_tshark()
    if exe is None:
        raise TsharkError("tshark not found")
    cmd = tshark_command(path, ports=ports, extra_decode_as=extra_decode_as, tshark=exe)
    with tempfile.TemporaryDirectory(prefix="tlsinspect-tshark-") as confdir:
        env = dict(os.environ, WIRESHARK_CONFIG_DIR=confdir, LC_ALL="C")
        try:
            proc = subprocess.run(cmd, capture_output=True, timeout=timeout, env=env, check=False)
        except FileNotFoundError as e:
            raise TsharkError(f"cannot run tshark: {e}") from e
        except subprocess.TimeoutExpired as e:
            raise TsharkError(f"tshark timed out after {timeout:g} s on {path}") from e
    stdout = proc.stdout.decode("utf-8", "replace")
    if proc.returncode != 0:
        stderr = proc.stderr.decode("utf-8", "replace")
        errors = [ln for ln in stderr.splitlines()
                  if ln.strip() and "could be dangerous" not in ln]
        partial = stdout and any(m in ln for ln in errors for m in _PARTIAL_READ_MESSAGES)
        if strict or not partial:
            raise TsharkError(f"tshark exited {proc.returncode} on {path}: " + " | ".join(errors))
    return parse_fields_output(stdout, ports=ports)


# tshark's messages for a file it read only in part (it prints the packets before the damage)
_PARTIAL_READ_MESSAGES = ("cut short in the middle of a packet", "appears to be damaged or corrupt")


# ---------------------------------------------------------------------------------------------
# parsing


def _values(cell: str) -> list[str]:
    return [v for v in cell.split(AGGREGATOR)] if cell else []


def _ints(cell: str) -> list[int]:
    out = []
    for v in _values(cell):
        v = v.strip()
        if v:
            out.append(int(v, 0))
    return out


def _addr(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return text


@dataclass(slots=True)
class _Stream:
    stream: int
    first_frame: int
    endpoints: tuple[tuple[str, int], tuple[str, int]]  # first packet's (src, dst)
    client: tuple[str, int] | None = None
    client_hellos: int = 0
    server_hellos: int = 0
    sni: str | None = None
    version: int | None = None
    cipher_id: int | None = None
    server_cert_sent: bool = False
    client_cert_sent: bool = False
    server_chain: tuple[bytes, ...] = ()
    client_chain: tuple[bytes, ...] = ()
    # alerts before the client is known get their sender resolved at the end
    alerts: list[tuple[int, tuple[str, int], int | None, int]] = field(default_factory=list)
    frames: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    ja3: list[str] = field(default_factory=list)
    ja3s: list[str] = field(default_factory=list)


def _split_messages(lengths: list[int], certs: list[bytes],
                    cert_lengths: list[int]) -> list[tuple[bytes, ...]]:
    """Group a packet's certificates into Certificate messages by ``certificates_length``.

    ``cert_lengths`` are the declared ``certificate_length`` values; used when there is one per
    certificate, else the DER lengths are.
    """
    sizes = cert_lengths if len(cert_lengths) == len(certs) else [len(c) for c in certs]
    chains: list[tuple[bytes, ...]] = []
    i = 0
    for total in lengths:
        used = 0
        chain = []
        while used < total and i < len(certs):
            chain.append(certs[i])
            used += 3 + sizes[i]
            i += 1
        chains.append(tuple(chain))
    if i < len(certs):  # certificates without a length (should not happen): last message's
        if chains:
            chains[-1] = chains[-1] + tuple(certs[i:])
        else:
            chains.append(tuple(certs[i:]))
    return chains


def _pick_ip(protocols: str, v4: list[str], v6: list[str]) -> list[str]:
    """The innermost IP layer's addresses (tunnels give several)."""
    if v4 and v6:
        layers = [p for p in protocols.split(":") if p in ("ip", "ipv6")]
        return v6 if layers and layers[-1] == "ipv6" else v4
    return v4 or v6


def parse_fields_output(text: str, *, ports: Iterable[int] = DEFAULT_PORTS) -> list[TsharkFlow]:
    """Parse the ``-T fields`` output of `tshark_command` into flows (no tshark needed)."""
    tls_ports = frozenset(int(p) for p in ports)
    streams: dict[int, _Stream] = {}
    ncol = len(FIELDS)
    for line in text.splitlines():
        cols = line.split("\t")
        if len(cols) < ncol:
            cols += [""] * (ncol - len(cols))
        row = dict(zip(FIELDS, cols))
        streams_here = _ints(row["tcp.stream"])
        sports, dports = _ints(row["tcp.srcport"]), _ints(row["tcp.dstport"])
        if not streams_here or not sports or not dports:
            continue
        frame = int(row["frame.number"])
        proto = row["frame.protocols"]
        srcs = _pick_ip(proto, _values(row["ip.src"]), _values(row["ipv6.src"]))
        dsts = _pick_ip(proto, _values(row["ip.dst"]), _values(row["ipv6.dst"]))
        if not srcs or not dsts:
            continue
        src = (_addr(srcs[-1]), sports[-1])
        dst = (_addr(dsts[-1]), dports[-1])
        sid = streams_here[-1]
        st = streams.get(sid)
        if st is None:
            st = streams[sid] = _Stream(sid, frame, (src, dst))

        rec_versions = _ints(row["tls.record.version"])
        types = _ints(row["tls.handshake.type"])
        certs = [bytes.fromhex(h) for h in _values(row["tls.handshake.certificate"]) if h]
        cert_lengths = _ints(row["tls.handshake.certificate_length"])
        if len(cert_lengths) == len(certs):
            for der, n in zip(certs, cert_lengths):
                if len(der) != n:
                    st.notes.append(f"frame {frame}: tshark gave {len(der)} of the {n} bytes of a "
                                    "certificate (its X.509 dissector failed)")
        levels = _ints(row["tls.alert_message.level"])
        descs = _ints(row["tls.alert_message.desc"])
        if not (rec_versions or types or certs or descs):
            continue  # a SYN, or a TLS packet without records (continuation of a segment)
        st.frames.append(frame)
        sslv2 = _SSL2_RECORD_VERSION in rec_versions
        st.ja3 += [v for v in _values(row["tls.handshake.ja3"]) if v]
        st.ja3s += [v for v in _values(row["tls.handshake.ja3s"]) if v]

        # ClientHello / ServerHello decide the roles
        if _HS_CLIENT_HELLO in types:
            st.client_hellos += types.count(_HS_CLIENT_HELLO)
            if st.client is None:
                st.client = src
            if st.client_hellos == types.count(_HS_CLIENT_HELLO):  # the first one
                names = _values(row["tls.handshake.extensions_server_name"])
                st.sni = names[0] if names and names[0] else None
        server_hello = (_SSL2_SERVER_HELLO in types) if sslv2 else (_HS_SERVER_HELLO in types)
        if server_hello:
            st.server_hellos += 1
            if st.client is None:
                st.client = dst
            if sslv2:
                st.version = _SSL2_RECORD_VERSION
                st.cipher_id = None
            else:
                sv = _ints(row["tls.handshake.extensions.supported_version"])
                hv = _ints(row["tls.handshake.version"])
                st.version = sv[-1] if sv else (hv[-1] if hv else None)
                cs = _ints(row["tls.handshake.ciphersuite"])
                st.cipher_id = cs[-1] if cs else None

        # certificates: SSLv2 ServerHello carries the server's; else Certificate messages
        if sslv2:
            chains = [tuple(certs)] if (server_hello and certs) else []
        else:
            lengths = _ints(row["tls.handshake.certificates_length"])
            chains = _split_messages(lengths, certs, cert_lengths) if (lengths or certs) else []
        if chains:
            from_client = st.client is not None and src == st.client
            if from_client or (st.client is None and dst[1] in tls_ports):
                if not st.client_cert_sent:
                    st.client_cert_sent = True
                    st.client_chain = chains[0]
            else:
                if not st.server_cert_sent:
                    st.server_cert_sent = True
                    st.server_chain = chains[0]

        for i, desc in enumerate(descs):
            level = levels[i] if i < len(levels) else None
            st.alerts.append((frame, src, level, desc))

    flows = []
    for st in streams.values():
        if not st.frames:
            continue
        a, b = st.endpoints
        client = st.client
        if client is None:
            if a[1] in tls_ports and b[1] not in tls_ports:
                client = b
            elif b[1] in tls_ports and a[1] not in tls_ports:
                client = a
            else:
                client = a if a[1] >= b[1] else b
        server = b if client == a else a
        alerts = tuple(
            TsharkAlert(frame=f, sender="client" if sender == client else "server",
                        level=level, description=desc)
            for f, sender, level, desc in st.alerts)
        flows.append(TsharkFlow(
            stream=st.stream, first_frame=st.first_frame,
            client_ip=client[0], client_port=client[1], server_ip=server[0], server_port=server[1],
            client_hellos=st.client_hellos, server_hellos=st.server_hellos, sni=st.sni,
            version=st.version, cipher_id=st.cipher_id,
            server_certificate_sent=st.server_cert_sent,
            client_certificate_sent=st.client_cert_sent,
            server_chain=st.server_chain, client_chain=st.client_chain,
            alerts=alerts, frames=tuple(st.frames), notes=tuple(st.notes),
            ja3=tuple(st.ja3), ja3s=tuple(st.ja3s)))
    flows.sort(key=lambda f: (f.first_frame, f.stream))
    return flows


if __name__ == "__main__":  # python tests/differential/oracle.py FILE...: a quick look
    import sys

    for arg in sys.argv[1:]:
        for fl in tshark_flows(Path(arg)):
            print(f"{arg} stream {fl.stream} frame {fl.first_frame}: "
                  f"{fl.client_ip}:{fl.client_port} -> {fl.server_ip}:{fl.server_port} "
                  f"CH={fl.client_hellos} SH={fl.server_hellos} sni={fl.sni} "
                  f"{fl.tls_version} cipher={fl.cipher_id if fl.cipher_id is None else hex(fl.cipher_id)} "
                  f"server_chain={len(fl.server_chain)} client_chain="
                  f"{len(fl.client_chain) if fl.client_certificate_sent else '-'} "
                  f"alerts={list(fl.alert_strings)}")
