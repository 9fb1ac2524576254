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
