"""Does a TCP stream carry TLS?  A cheap look at the first bytes a connection sends.

`classify_start` returns one of:
- ``"tls"``: a TLS handshake record header or an SSLv2-compatible ClientHello starts the stream;
- ``"midstream"``: the capture started inside a TLS connection (record header of another type,
  or no SYN seen on a TLS port): parsing resynchronises on the next record header;
- ``"prelude"``: something else first, which may be upgraded to TLS later (STARTTLS in SMTP, IMAP,
  POP3, FTP, XMPP, LDAP; the PostgreSQL and MySQL SSL requests; SOCKS; a TLS port): the record
  layer scans on, within a bounded number of bytes, for a ClientHello/ServerHello;
- ``"not_tls"``: a protocol known not to upgrade (HTTP, SSH...), or a midstream non-TLS flow.
"""

from __future__ import annotations

from typing import Iterable

from .records import CT_HANDSHAKE, is_sslv2_client_hello, plausible_record_header

NOT_TLS_PREFIXES = (
    b"GET ", b"POST ", b"PUT ", b"HEAD ", b"DELETE ", b"OPTIONS ", b"PATCH ", b"HTTP/1.", b"SSH-",
    b"PRI * HTTP/2",
)


def classify_start(data: bytes, port_a: int, port_b: int, tls_ports: frozenset[int],
                   *, midstream: bool) -> str:
    if plausible_record_header(data):
        return "tls" if data[0] == CT_HANDSHAKE and not midstream else "midstream"
    if is_sslv2_client_hello(data):
        return "tls"
    if midstream:
        return "midstream" if (port_a in tls_ports or port_b in tls_ports) else "not_tls"
    if data.startswith(NOT_TLS_PREFIXES):
        return "not_tls"
    return "prelude"


#: First bytes of either side before TLS started -> the protocol that upgraded to TLS.
PRELUDE_SIGNATURES = (
    (b"* OK", "imap"), (b"+OK", "pop3"), (b"<?xml", "xmpp"), (b"<stream", "xmpp"),
    (b"EHLO", "smtp"), (b"HELO", "smtp"), (b"220", "smtp"),
    (b"\x00\x00\x00\x08\x04\xd2\x16\x2f", "postgresql"),  # SSLRequest
)


def prelude_protocol(heads: Iterable[bytes], server_port: int) -> str:
    """Name the plaintext protocol seen before TLS (the first bytes each side sent), or "unknown"."""
    heads = [h for h in heads if h]
    for magic, name in PRELUDE_SIGNATURES:
        if any(h.startswith(magic) for h in heads):
            if magic == b"220" and (server_port == 21 or any(b"FTP" in h.upper() for h in heads)):
                return "ftp"
            return name
    if server_port in (389, 3268) or any(h[:1] == b"\x30" for h in heads):
        return "ldap"  # a BER SEQUENCE: the StartTLS extended request
    if server_port == 3306 or any(len(h) > 4 and h[4] == 10 for h in heads):
        return "mysql"  # protocol 10 server greeting
    if server_port == 1080 or any(h[:1] == b"\x05" for h in heads):
        return "socks"
    return "unknown"
