"""Anomalies ("weirds", as Zeek calls them): one record shape and one registry of codes.

Every warning either engine reports — a flow's `warnings` column, an `events` row of kind
"warning", a capture warning ("code: detail") — carries a stable snake_case code registered here,
with what it means, how serious it is and where it applies:

- severity: ``info`` (nothing is lost, e.g. a capture that starts mid-connection), ``warning``
  (part of a message or flow could not be read), ``error`` (the capture or the engine lost data:
  a truncated file, an evicted flow);
- scope: ``flow`` (on one flow: its `warnings` column and events) or ``capture``;
- engines: which engines emit it (``python`` the reference, ``rust``, ``tshark``).

A code ending in ``*`` is a family: ``bad_*`` is any handshake message that does not parse
(``bad_certificate_request``...), ``malformed_*`` any extension (``malformed_alpn``).  `rust_codes()` lists the codes of the Rust engine's anomaly
enums (`_core.warning_codes()` must equal it, tests/unit/test_weird.py), `warnings_markdown()` is the
README's warnings table (``python -m inspector.weird`` prints it; a test keeps it in step).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["WEIRD_CODES", "Weird", "WeirdCode", "is_registered", "lookup", "rust_codes", "warnings_markdown"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Weird:
    """One anomaly as observed: its registered code, where (frame, time) and what exactly;
    ``side`` is the direction whose bytes showed it, where one did (the engine's "a"/"b")."""

    code: str
    frame: int | None = None
    ts: float | None = None
    detail: str = ""
    side: str | None = None


@dataclass(frozen=True, slots=True)
class WeirdCode:
    """A registered anomaly code."""

    code: str
    severity: str  # "info", "warning", "error"
    scope: str  # "flow" or "capture"
    engines: tuple[str, ...]
    meaning: str
    rust_enum: bool = False  # a variant of one of the Rust engine's anomaly enums

    @property
    def family(self) -> bool:
        return self.code.endswith("*")


_B, _P, _R, _T = ("python", "rust"), ("python",), ("rust",), ("tshark",)


def _c(code, severity, scope, engines, meaning, rust_enum=False) -> WeirdCode:
    return WeirdCode(code, severity, scope, engines, meaning, rust_enum)


#: The registry, in the README's order: capture-level codes first, then flow codes by layer.
WEIRD_CODES: tuple[WeirdCode, ...] = (
    # ---- the capture file and the reader
    _c("capture_truncated", "error", "capture", _B + _T, "the file ends inside a record: the flows read so far are reported"),
    _c("timestamp_out_of_range", "warning", "capture", _B, "a packet timestamp cannot be a date; it is kept as read"),
    _c("bad_packet_block", "warning", "capture", _B, "a pcapng packet block too short to hold its header (skipped)"),
    _c("packet_without_interface", "warning", "capture", _B, "a pcapng packet names an interface no IDB described (skipped)"),
    _c("caplen_over_block", "warning", "capture", _B, "a pcapng packet's captured length runs past its block (skipped)"),
    _c("caplen_over_snaplen", "warning", "capture", _B, "a pcap record longer than the file's snaplen (read anyway)"),
    _c("empty_record_flood", "error", "capture", _B, "too many consecutive records without a packet: reading stopped"),
    _c("dsb_keylog_too_large", "warning", "capture", _R, "a pcapng Decryption Secrets Block over the key log limit (ignored)"),
    _c("unsupported_linktype", "warning", "capture", _B, "packets of a link type the engine does not read, counted and skipped"),
    _c("ip_fragment_expired", "warning", "capture", _B, "IPv4 fragments never completed within the reassembly timeout"),
    _c("ip_fragment_table_full", "warning", "capture", _B, "more IPv4 datagrams in reassembly than the limit: the oldest dropped"),
    _c("ip_fragment_too_large", "warning", "capture", _B, "an IPv4 datagram reassembled past the byte limit (dropped)"),
    _c("udp_not_decoded", "info", "capture", _R, "UDP traffic on a port that usually carries (D)TLS was not decoded"),
    _c("keylog_beside", "info", "capture", _P, "the key log found beside the capture was used"),
    _c("keylog_empty", "warning", "capture", _P, "the key log holds no NSS key log lines"),
    _c("keylog_bad_lines", "warning", "capture", _P, "some lines of the key log are not key log lines (skipped)"),
    _c("keylog_truncated", "warning", "capture", _P, "the key log is over the size limit: only its end was read"),
    _c("keylog_unmatched", "warning", "capture", _B, "the key log has no secrets for any TLS flow of the capture"),
    _c("not_tls", "info", "capture", _B, "a connection on a TLS port that carries no TLS (an event, not a flow)"),
    _c("tshark_engine_error", "error", "capture", _T, "a packet tshark dissected could not be read"),
    # ---- TCP and the flow table
    _c("midstream", "info", "flow", _B + _T, "the capture starts in the middle of the connection (no SYN seen)", True),
    _c("content_gap", "warning", "flow", _B + _T, "bytes are missing (a TCP gap); parsing resumed at the next plausible record", True),
    _c("overlap_different_data", "warning", "flow", _B, "a retransmission carries different bytes (the first copy wins)", True),
    _c("capture_missed_bytes", "warning", "flow", _B, "the peer acknowledged bytes the capture does not hold (tshark: ACKed unseen segment); an event per direction says how many"),
    _c("snaplen_truncated", "warning", "flow", _B, "the capture cut this flow's packets (snaplen)"),
    _c("evicted_flow_table_full", "error", "flow", _B, "evicted before its end: too many flows in flight", True),
    _c("evicted_memory_budget", "error", "flow", _B, "evicted before its end: the buffered-bytes budget was spent", True),
    _c("malformed_packet", "warning", "flow", _T, "tshark marks a packet of this connection [Malformed Packet]"),
    # ---- TLS records
    _c("tls_resync", "warning", "flow", _B, "the record stream lost its framing and resumed at a later record"),
    _c("invalid_record", "warning", "flow", _B, "a record header with an unknown type or version"),
    _c("invalid_record_length", "warning", "flow", _B, "a record longer than TLS allows"),
    _c("too_many_records", "warning", "flow", _B, "more records than the per-flow limit: the rest is not parsed"),
    _c("handshake_too_large", "warning", "flow", _B, "a handshake message over the size limit (not parsed)"),
    _c("decryption_failed", "warning", "flow", _B, "a record could not be decrypted with the key log's secrets"),
    # ---- TLS handshake messages
    _c("bad_*", "warning", "flow", _B, "a handshake message or alert that does not parse (bad_client_hello, bad_certificate_request...)"),
    _c("duplicate_client_hello", "warning", "flow", _B + _T, "a second ClientHello where none was expected"),
    _c("extension_overrun", "warning", "flow", _B, "the extension block or one extension claims more bytes than exist"),
    _c("trailing_data", "warning", "flow", _B, "bytes after the last field the message defines"),
    _c("duplicate_extension", "warning", "flow", _B, "the same extension type twice (the first one is interpreted)"),
    _c("malformed_*", "warning", "flow", _B, "an extension body that does not parse (malformed_alpn...)"),
    _c("invalid_server_name", "warning", "flow", _B, "empty, non-ASCII or control characters in the SNI host name"),
    _c("many_server_names", "warning", "flow", _B, "the SNI carries more than one host_name (the first is kept)"),
    _c("session_id_too_long", "warning", "flow", _B, "a session id over 32 bytes"),
    _c("cipher_suites_odd_length", "warning", "flow", _B, "the cipher_suites vector has an odd length (last byte dropped)"),
    _c("no_cipher_suites", "warning", "flow", _B, "a ClientHello offering no cipher suite"),
    _c("no_compression_methods", "warning", "flow", _B, "a ClientHello offering no compression method"),
    _c("pre_shared_key_not_last", "warning", "flow", _B, "pre_shared_key is not the last extension (RFC 8446 4.2.11)"),
    _c("cipher_specs_invalid_length", "warning", "flow", _B, "an SSLv2 ClientHello's cipher specs are not a multiple of 3 bytes"),
    _c("sslv2_challenge_length", "warning", "flow", _B, "an SSLv2 ClientHello's challenge outside 16-32 bytes"),
    _c("downgrade_sentinel_tls12", "warning", "flow", _B, "a TLS 1.3 server's random carries the TLS 1.2 downgrade sentinel"),
    _c("downgrade_sentinel_tls11", "warning", "flow", _B, "a TLS 1.3 server's random carries the TLS 1.1 downgrade sentinel"),
    _c("certificate_invalid_length", "warning", "flow", _B, "a certificate list or entry length lies (fitting entries kept)"),
    _c("zero_length_certificate", "warning", "flow", _B, "an empty certificate entry (skipped)"),
    _c("too_many_certificates", "warning", "flow", _B, "more certificates in a chain than the limit (the rest not parsed)"),
    _c("ca_names_invalid_length", "warning", "flow", _B, "the certificate_authorities list or an entry length lies"),
    _c("cert_parse_error", "warning", "flow", _B + _T, "a certificate that does not decode (its bytes are kept)"),
    # ---- DTLS (Rust engine)
    _c("dtls_invalid_record", "warning", "flow", _R, "a DTLS record header that does not parse"),
    _c("dtls_truncated_record", "warning", "flow", _R, "a DTLS record runs past its datagram"),
    _c("dtls_record_too_long", "warning", "flow", _R, "a DTLS record longer than allowed"),
    _c("dtls_unknown_cid_length", "warning", "flow", _R, "a DTLS 1.2 connection-id record whose CID length is unknown"),
    _c("dtls_bad_fragment", "warning", "flow", _R, "a DTLS handshake fragment outside its message"),
    _c("dtls_fragment_mismatch", "warning", "flow", _R, "DTLS fragments of one message disagree on its length or type"),
    _c("dtls_handshake_too_large", "warning", "flow", _R, "a DTLS handshake message over the size limit"),
    _c("dtls_too_many_fragments_pending", "warning", "flow", _R, "more DTLS fragments waiting than the limit"),
    _c("dtls_too_many_messages", "warning", "flow", _R, "more DTLS handshake messages than the limit"),
    _c("malformed_use_srtp", "warning", "flow", _R, "a use_srtp extension that does not parse"),
    # ---- QUIC (Rust engine)
    _c("quic_truncated_header", "warning", "flow", _R, "a QUIC long header cut short", True),
    _c("quic_length_overrun", "warning", "flow", _R, "a QUIC packet's Length runs past the datagram", True),
    _c("quic_cid_too_long", "warning", "flow", _R, "a QUIC connection id over 20 bytes", True),
    _c("quic_fixed_bit_clear", "warning", "flow", _R, "a QUIC packet without its fixed bit", True),
    _c("quic_frame_truncated", "warning", "flow", _R, "a QUIC frame runs past its packet", True),
    _c("quic_unknown_frame", "warning", "flow", _R, "a QUIC frame type of unknown length: the rest of the packet is skipped", True),
    _c("quic_initial_undecryptable", "warning", "flow", _R, "a QUIC Initial that does not decrypt"),
    _c("quic_undecryptable_version", "info", "flow", _R, "a QUIC version whose Initial keys are unknown"),
    _c("quic_retry_integrity_failed", "warning", "flow", _R, "a Retry whose integrity tag does not verify"),
    _c("quic_late_retry", "warning", "flow", _R, "a Retry after the server already answered"),
    _c("quic_new_initial_dcid", "warning", "flow", _R, "a client Initial with a new destination connection id"),
    _c("quic_crypto_cap", "warning", "flow", _R, "CRYPTO data past the per-flow limit (not reassembled)"),
    _c("quic_bad_client_hello", "warning", "flow", _R, "a QUIC ClientHello that does not parse"),
    _c("quic_bad_server_hello", "warning", "flow", _R, "a QUIC ServerHello that does not parse"),
    _c("quic_bad_certificate", "warning", "flow", _R, "a QUIC Certificate message that does not parse"),
    _c("quic_certificate_compressed", "info", "flow", _R, "the server compressed its certificates (RFC 8879): not decoded"),
    # ---- EAP-TLS and RADIUS (Rust engine)
    _c("eap_method_changed", "warning", "flow", _R, "the EAP method changed during the conversation"),
    _c("eap_tls_fragment_restart", "warning", "flow", _R, "an EAP-TLS message restarted before its fragments were complete"),
    _c("eap_tls_length_mismatch", "warning", "flow", _R, "EAP-TLS fragments that do not add up to the announced length"),
    _c("eap_tls_message_too_large", "warning", "flow", _R, "an EAP-TLS message over the size limit"),
    _c("radius_bad_attribute", "warning", "flow", _R, "a RADIUS attribute runs past its packet"),
)

_BY_CODE = {w.code: w for w in WEIRD_CODES if not w.family}
_FAMILIES = tuple(w for w in WEIRD_CODES if w.family)


def lookup(code: str) -> WeirdCode | None:
    """The registry entry of ``code`` (exact, else its family), or None when unregistered."""
    w = _BY_CODE.get(code)
    if w is not None:
        return w
    for fam in _FAMILIES:
        if code.startswith(fam.code[:-1]) and len(code) > len(fam.code) - 1:
            return fam
    return None


def is_registered(code: str) -> bool:
    return lookup(code) is not None


def rust_codes() -> frozenset[str]:
    """The codes that are variants of the Rust engine's anomaly enums (`_core.warning_codes()`)."""
    return frozenset(w.code for w in WEIRD_CODES if w.rust_enum)


def warnings_markdown() -> str:
    """The README's warnings table, generated from `WEIRD_CODES`."""
    lines = ["| code | severity | scope | engines | meaning |", "|---|---|---|---|---|"]
    for w in WEIRD_CODES:
        lines.append(f"| `{w.code}` | {w.severity} | {w.scope} | {', '.join(w.engines)} | {w.meaning} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(warnings_markdown(), end="")
