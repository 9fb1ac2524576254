"""X.509: certificate summaries and classification (sans-I/O; the pipeline's certificate stage).

=================  =====================================================================
`info`             `CertInfo`, the summary of one certificate (error codes: `parse`)
`parse`            `parse_certificate`: one DER -> `CertInfo`, never raises (cryptography)
`der`              DER framing for the fallbacks (tag/length walking only)
`signature`        `verify_with_key`: signatures cryptography's X.509 layer refuses (SHA-1)
`cache`            `parse_certificate_cached`, `parse_chain`: parsed once per distinct DER
`classify`         LSC / MIC / other, the CAPF id, the well-known special CAs, short names
`rules`            host name matching (RFC 6125), validity at a time (RFC 5280)
=================  =====================================================================

cryptography is imported when the first certificate is parsed (see `inspector._lazy`), never by
importing this package.
"""

from __future__ import annotations

from .cache import cache_size, clear_cache, parse_certificate_cached, parse_chain
from .classify import CAPF_ISSUER_CN, CISCO_ORGS, KNOWN_CAS, MIC_ISSUERS, capf_id, client_cert_kind, known_ca_note, short_name
from .info import CertInfo
from .parse import parse_certificate
from .rules import hostname_matches, validity_at
from .signature import verify_with_key

__all__ = [
    "CertInfo",
    "parse_certificate",
    "parse_certificate_cached",
    "parse_chain",
    "clear_cache",
    "cache_size",
    "client_cert_kind",
    "capf_id",
    "known_ca_note",
    "short_name",
    "hostname_matches",
    "validity_at",
    "verify_with_key",
    "CAPF_ISSUER_CN",
    "MIC_ISSUERS",
    "CISCO_ORGS",
    "KNOWN_CAS",
]
