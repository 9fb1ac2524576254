"""The five tables' schema and their rows as plain dicts (no pandas: the CLI's JSON and CSV
outputs are written from these rows, so a command-line run never pays for importing pandas).

Each table's schema is a tuple of `Column`: its name, its type (`dtype`: the pandas dtype, or `L`
for a list whose element type is `item`, or `X` for raw bytes), and what it means.  Every form of
a table derives from it: the DataFrames (`inspector.frame`), the Arrow schema of Parquet, from
`--format parquet` and batch alike (`inspector.arrow`), and the JSON/CSV values (`json_form`: times
as ISO 8601 UTC strings, bytes left out).  The README's schema tables are generated from these
(``python -m inspector.frame``), so code and documentation cannot drift.  Missing values are None
(``pd.NA`` in DataFrames), never empty strings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterable

from .x509 import client_cert_kind, known_ca_note
from .model import Analysis, CertSeen, EventRecord, FlowRecord, MessageRecord


S, I, B, T, L, F = "string", "Int64", "boolean", "datetime64[ns, UTC]", "object", "Float64"
X = "bytes"  #: raw bytes (a certificate's DER): an object column in pandas, binary in Arrow, not in JSON/CSV

_JSON_FORMS = {S: "string", I: "integer", B: "boolean", F: "number", T: "string, ISO 8601 UTC", X: None}


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a table: name, type, meaning (``item``: the element type of a list column;
    ``embeds_json``: a string column holding a JSON document, which the JSON outputs embed as itself)."""

    name: str
    dtype: str
    doc: str
    item: str = S
    embeds_json: bool = False

    def __post_init__(self) -> None:
        if self.dtype not in _JSON_FORMS and self.dtype != L:
            raise ValueError(f"column {self.name}: unknown dtype {self.dtype!r}")
        if self.item not in (S, I):
            raise ValueError(f"column {self.name}: list items are strings or integers, not {self.item!r}")

    @property
    def pandas_dtype(self) -> str:
        """The DataFrame dtype: lists and bytes are object columns."""
        return "object" if self.dtype in (L, X) else self.dtype

    @property
    def json_form(self) -> str | None:
        """How JSON (and JSON lines, CSV) write the value; None: not written (bytes)."""
        if self.dtype == L:
            return "array of " + ("integers" if self.item == I else "strings")
        if self.embeds_json:
            return "object"
        return _JSON_FORMS[self.dtype]

    @property
    def type_name(self) -> str:
        """The type as the README's schema tables spell it."""
        if self.dtype == L:
            return "list<int64>" if self.item == I else "list<string>"
        return self.dtype

FLOW_COLUMNS: tuple[Column, ...] = (
    Column("capture", S, "capture file name the flow was read from"),
    Column("flow_id", I, "1-based flow number within the capture, in order of first packet"),
    Column("ts_start", T, "time of the flow's first packet (UTC)"),
    Column("ts_end", T, "time of the last packet the tool looked at (UTC)"),
    Column("first_frame", I, "frame number (1-based, as in Wireshark) of the first packet"),
    Column("last_frame", I, "frame number of the last packet looked at"),
    Column("client_ip", S, "TLS client address (the side that sent ClientHello)"),
    Column("client_port", I, "TLS client TCP port"),
    Column("server_ip", S, "TLS server address"),
    Column("server_port", I, "TLS server TCP port"),
    Column("ip_version", I, "4 or 6"),
    Column("tls_version", S, 'negotiated version, e.g. "TLS 1.2" (ServerHello, supported_versions aware)'),
    Column("client_max_version", S, "highest version the client offered"),
    Column("cipher", S, "negotiated cipher suite, IANA name"),
    Column("cipher_id", I, "negotiated cipher suite code"),
    Column("sni", S, "server_name from the ClientHello"),
    Column("alpn", S, "protocol the server selected by ALPN"),
    Column("server_subject", S, "server leaf certificate subject, RFC 4514"),
    Column("server_issuer", S, "server leaf certificate issuer, RFC 4514"),
    Column("server_chain_sha256", L, "SHA-256 fingerprints (hex) of the server chain, as sent"),
    Column("client_subject", S, "client leaf certificate subject, RFC 4514"),
    Column("client_issuer", S, "client leaf certificate issuer, RFC 4514"),
    Column("client_chain_sha256", L, "SHA-256 fingerprints of the client chain, as sent"),
    Column("client_cert_kind", S, 'client leaf: "LSC" (issuer CAPF-xxxxxxxx), "MIC" (Cisco manufacturing CA), "other"; NA if none'),
    Column("client_cert_requested", B, "the server sent a CertificateRequest"),
    Column("requested_ca_names", L, "CA names listed in the CertificateRequest, RFC 4514"),
    Column("server_validation", S, 'server chain judged at the flow\'s start without a trust store '
           '(inspector.trust): "self_signed", "unknown_issuer:<CA CN>", "expired:<CN>", "name_mismatch" '
           '(SNI, else server IP)...; "no_certificate" when not visible'),
    Column("client_validation", S, 'client chain judged against the CertificateRequest\'s CA names, else as '
           'server_validation: "ok", "unknown_issuer:<CA CN>"...; NA when the client sent no certificate'),
    Column("alerts", L, 'alerts in order, "sender:level:description" (level "encrypted" when unreadable)'),
    Column("outcome", S, '"established", "failed" (alert), "reset" (RST/FIN, no alert), "incomplete"'),
    Column("outcome_detail", S, 'why, e.g. "client sent fatal unknown_ca after the server\'s Certificate"'),
    Column("certs_visible", B, "the server's Certificate was seen (false for TLS 1.3 and resumption)"),
    Column("decrypted", B, "encrypted handshake records were decrypted with the key log (--keylog)"),
    Column("resumed", B, "session resumption (abbreviated handshake, or TLS 1.3 PSK)"),
    Column("dh_bits", I, "DHE prime size in bits (ServerKeyExchange)"),
    Column("kx_group", S, "ECDHE curve or TLS 1.3 key share group"),
    Column("history", S, "handshake messages in order, Zeek ssl_history letters (client upper case); "
           "F/f also mark an encrypted Finished, which Zeek does not letter"),
    Column("ja3", S, "JA3 client fingerprint (MD5)"),
    Column("ja3s", S, "JA3S server fingerprint (MD5)"),
    Column("ja4", S, "JA4 client fingerprint (FoxIO)"),
    Column("starttls", S, "protocol that ran before TLS started (smtp, imap, ldap...), NA if none"),
    Column("packets", I, "TCP packets of the flow looked at (until the handshake ended)"),
    Column("warnings", L, "anomaly codes for this flow (midstream, content_gap, cert_parse_error...)"),
    Column("transport", S, "tcp, udp (DTLS, QUIC, EAP inside RADIUS) or eap (802.1X EAPOL; the "
           "endpoints are MAC addresses, ports 0)"),
    Column("protocol", S, "TLS, DTLS, QUIC, EAP-TLS, PEAP, EAP-TTLS or EAP-FAST; DTLS rows spell "
           "tls_version \"DTLS 1.2\", QUIC rows \"TLS 1.3\" (Rust engine only for all but TLS)"),
    Column("encapsulation", S, "tunnels crossed to reach the flow, outermost first (gre, "
           "erspan2>vxlan, 6in4, teredo, capwap...); the endpoints are the inner ones; NA when none"),
    Column("quic_version", S, "QUIC rows: QUIC v1, QUIC v2, QUIC draft-29, Google QUIC Q050; NA "
           "otherwise"),
    Column("srtp_profile", S, "DTLS rows: the use_srtp profile the server selected (WebRTC and "
           "collaboration media, e.g. SRTP_AES128_CM_HMAC_SHA1_80); NA otherwise"),
)

CERT_COLUMNS: tuple[Column, ...] = (
    Column("capture", S, "capture file name"),
    Column("sha256", S, "SHA-256 fingerprint of the DER, hex (the key linking flows to certificates)"),
    Column("sha1", S, "SHA-1 fingerprint, hex"),
    Column("subject", S, "RFC 4514 subject"),
    Column("issuer", S, "RFC 4514 issuer"),
    Column("subject_cn", S, "subject common name"),
    Column("issuer_cn", S, "issuer common name"),
    Column("serial", S, "serial number, hex"),
    Column("not_before", T, "validity start (UTC)"),
    Column("not_after", T, "validity end (UTC)"),
    Column("key_type", S, '"RSA", "EC", "Ed25519"...'),
    Column("key_bits", I, "key size in bits"),
    Column("curve", S, "EC curve name"),
    Column("signature_algorithm", S, 'e.g. "sha256WithRSAEncryption"'),
    Column("signature_hash", S, 'e.g. "sha256", "sha1"'),
    Column("san_dns", L, "subjectAltName DNS names"),
    Column("san_ip", L, "subjectAltName IP addresses"),
    Column("ski", S, "subject key identifier, hex"),
    Column("aki", S, "authority key identifier, hex"),
    Column("is_ca", B, "basicConstraints CA flag (NA if the extension is absent)"),
    Column("path_length", I, "basicConstraints path length"),
    Column("key_usage", L, "keyUsage bits set"),
    Column("extended_key_usage", L, "extendedKeyUsage purposes"),
    Column("self_signed", B, "subject == issuer and the signature verifies with its own key"),
    Column("self_issued", B, "subject == issuer"),
    Column("roles", L, '"server", "server_chain", "client", "client_chain": where it was seen'),
    Column("client_cert_kind", S, "LSC/MIC/other when seen as a client leaf"),
    Column("known_ca", S, "note on a well-known CA from the domain notes (e.g. expired AddTrust roots)"),
    Column("flow_ids", L, "flows (flow_id) where it was sent", item=I),
    Column("errors", L, "parse problems (the DER is kept even when it does not decode)"),
    Column("der", X, "the certificate bytes as sent (DataFrames and Parquet only)"),
)

EVENT_COLUMNS: tuple[Column, ...] = (
    Column("capture", S, "capture file name"),
    Column("flow_id", I, "flow the event belongs to (NA for capture-level warnings)"),
    Column("frame", I, "frame number where it was seen, when known"),
    Column("ts", T, "time (UTC), when known"),
    Column("kind", S, '"alert" or "warning"'),
    Column("sender", S, '"client"/"server" for alerts; the side a warning concerns, when known'),
    Column("code", S, "alert description (unknown_ca...) or warning code (content_gap...)"),
    Column("detail", S, "human-readable detail"),
    Column("level", S, 'an alert\'s level: "warning", "fatal", or "encrypted" (sent after the keys changed, '
           'unreadable without them); NA for a warning event'),
)


FINDING_COLUMNS: tuple[Column, ...] = (
    Column("capture", S, "capture file name"),
    Column("flow_id", I, "first flow the finding is about (joins flows.flow_id); NA for a capture "
           "finding about no flow"),
    Column("flow_ids", L, "every flow it is about: one for a flow finding; all the flows that sent the "
           "certificate for a certificate finding (sha1_signature, weak_key, expiry...), one finding per fact",
           item=I),
    Column("code", S, "stable finding code (unknown_ca, sni_not_in_cert, expired_in_chain...; "
           "`tlsinspect --explain CODE`)"),
    Column("severity", S, '"critical", "error", "warning" or "info"'),
    Column("message", S, "what was found, in words"),
    Column("fix", S, "the likely fix"),
    Column("evidence", S, "JSON object: frames, alert, certificate fingerprints, SNI... (a string in "
           "DataFrames, CSV and Parquet; the object itself in JSON)", embeds_json=True),
)

MESSAGE_COLUMNS: tuple[Column, ...] = (
    Column("capture", S, "capture file name"),
    Column("flow_id", I, "flow the message belongs to (joins flows.flow_id)"),
    Column("frame", I, "frame number where the message (its last byte) was seen"),
    Column("ts", T, "time of that frame (UTC)"),
    Column("sender", S, '"client" or "server"'),
    Column("kind", S, '"handshake", "encrypted_handshake" (Finished after ChangeCipherSpec), '
           '"change_cipher_spec", "alert", "application_data" (the first record each way; TLS 1.3: '
           'every encrypted handshake record), "tcp" (a retransmission of bytes already seen, RST, FIN)'),
    Column("name", S, 'e.g. "ClientHello", "Certificate", "ChangeCipherSpec", "fatal unknown_ca", '
           '"encrypted alert", "encrypted record (53 bytes)", "retransmission", "RST"; in order, at most 64 per flow'),
)

TABLES: dict[str, tuple[Column, ...]] = {
    "flows": FLOW_COLUMNS, "certificates": CERT_COLUMNS, "events": EVENT_COLUMNS,
    "findings": FINDING_COLUMNS, "messages": MESSAGE_COLUMNS,
}
"""The library's tables by name, in the order the README documents them."""

#: the flows columns `inspector.trust` computes (judged against a store, not read off the wire):
#: every path that writes flow rows adds them through `inspector.trust.columns.validated_flow_rows`
VALIDATION_COLUMNS: tuple[str, ...] = ("server_validation", "client_validation")

#: column names by type, over every table (a name has one type wherever it appears; tested)
TIME_COLUMNS = frozenset(c.name for cols in TABLES.values() for c in cols if c.dtype == T)
BYTES_COLUMNS = frozenset(c.name for cols in TABLES.values() for c in cols if c.dtype == X)
JSON_TEXT_COLUMNS = frozenset(c.name for cols in TABLES.values() for c in cols if c.embeds_json)

_FLOW_LISTS = frozenset(c.name for c in FLOW_COLUMNS if c.dtype == L)


def flow_rows(flows: Iterable[FlowRecord]) -> list[dict[str, Any]]:
    """Flow rows; list columns (tuples in the record, to keep 1M flows small) become lists."""
    lists = _FLOW_LISTS
    return [{c.name: (list(v) if c.name in lists else v)
             for c in FLOW_COLUMNS for v in (getattr(f, c.name, None),)} for f in flows]


def cert_rows(analysis: Analysis) -> list[dict[str, Any]]:
    rows = []
    for fp, seen in analysis.certificates.items():
        rows.append(cert_row(analysis.capture, seen))
    return rows


def cert_row(capture: str, seen: CertSeen) -> dict[str, Any]:
    info = seen.info
    row = {c.name: getattr(info, c.name, None) for c in CERT_COLUMNS}
    row.update(
        capture=capture,
        san_dns=list(info.san_dns), san_ip=list(info.san_ip), key_usage=list(info.key_usage),
        extended_key_usage=list(info.extended_key_usage), errors=list(info.errors),
        roles=list(seen.roles), flow_ids=list(seen.flow_ids),
        client_cert_kind=client_cert_kind(info) if "client" in seen.roles else None,
        known_ca=known_ca_note(info), der=info.der,
    )
    return row


def event_rows(events: Iterable[EventRecord]) -> list[dict[str, Any]]:
    return [{c.name: getattr(e, c.name) for c in EVENT_COLUMNS} for e in events]


def message_rows(messages: Iterable[MessageRecord]) -> list[dict[str, Any]]:
    return [{c.name: getattr(ms, c.name) for c in MESSAGE_COLUMNS} for ms in messages]


def finding_row(capture: str, f: Any) -> dict[str, Any]:
    """One `inspector.diagnose.Finding` as a findings row."""
    return dict(capture=capture, flow_id=f.flow_id, flow_ids=list(f.flow_ids), code=f.code,
                severity=f.severity.name, message=f.message, fix=f.fix,
                evidence=json.dumps(f.evidence, sort_keys=True))


def schema_markdown() -> str:
    """The README schema section, generated from the column tuples above."""
    out = []
    for title, cols in TABLES.items():
        out.append(f"#### `{title}`\n\n| column | dtype | meaning |\n|---|---|---|")
        for c in cols:
            out.append(f"| `{c.name}` | {c.type_name} | {c.doc} |")
        out.append("")
    return "\n".join(out)
