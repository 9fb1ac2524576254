"""Sans-I/O parsers for TLS handshake messages.

Every ``parse_*`` function takes the handshake message *body* (the bytes after the 4-byte handshake
header; for `parse_alert` the alert record fragment, for `parse_sslv2_client_hello` the whole SSLv2
record) and returns a frozen dataclass.  Input that cannot be made sense of raises `ParseError`
(``reason``, ``offset`` into the given bytes); nothing else escapes for malformed input.  Anomalies
that still leave a usable result (a lying list length, a duplicate extension, a malformed optional
extension) are reported in the result's ``warnings`` tuple as stable snake_case codes instead:

=================================  =============================================================
``extension_overrun``              extension block or one extension claims more bytes than exist
``trailing_data``                  bytes after the last field the message defines
``duplicate_extension``            the same extension type twice (the first one is interpreted)
``malformed_<extension>``          an extension body that does not parse (e.g. malformed_alpn)
``many_server_names``              SNI carries more than one host_name (the first is kept)
``invalid_server_name``            empty, non-ASCII or control characters in the SNI host name
``session_id_too_long``            session_id longer than 32 bytes
``cipher_suites_odd_length``       cipher_suites vector of odd length (last byte dropped)
``no_cipher_suites`` / ``no_compression_methods``
``pre_shared_key_not_last``        ClientHello pre_shared_key is not the last extension
``downgrade_sentinel_tls12`` / ``downgrade_sentinel_tls11``   ServerHello.random ends in DOWNGRD
``certificate_invalid_length``     certificate list or entry length lies (fitting entries kept)
``zero_length_certificate``        an empty certificate entry (skipped)
``too_many_certificates``          more than ``max_certs`` entries (the first ones kept)
``ca_names_invalid_length``        certificate_authorities list or entry length lies
``cipher_specs_invalid_length``    SSLv2 cipher_specs length not a multiple of 3
``sslv2_challenge_length``         SSLv2 challenge outside 16..32 bytes
=================================  =============================================================

One module per message family: `hello` (ClientHello, SSLv2 ClientHello, ServerHello), `certificate`
(Certificate, CertificateRequest), `key_exchange` (ServerKeyExchange), `alert`, `ticket`
(NewSessionTicket); `extensions` (the hello extensions), `names` (CertificateRequest CA names),
`reader` (the byte reader, `ParseError`).
"""

from __future__ import annotations

from .alert import Alert, parse_alert
from .certificate import Certificate, CertificateRequest, parse_certificate, parse_certificate_request
from .hello import ClientHello, ServerHello, parse_client_hello, parse_server_hello, parse_sslv2_client_hello
from .key_exchange import ServerKeyExchange, parse_server_key_exchange
from .names import ca_name_to_str
from .reader import ParseError, TLSParseError
from .ticket import NewSessionTicket, parse_new_session_ticket

__all__ = [
    "TLSParseError",
    "ParseError",
    "ClientHello",
    "ServerHello",
    "Certificate",
    "CertificateRequest",
    "ServerKeyExchange",
    "Alert",
    "NewSessionTicket",
    "parse_client_hello",
    "parse_sslv2_client_hello",
    "parse_server_hello",
    "parse_certificate",
    "parse_certificate_request",
    "parse_server_key_exchange",
    "parse_alert",
    "parse_new_session_ticket",
    "ca_name_to_str",
]
