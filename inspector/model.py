"""The records every stage passes on: what a capture yielded, as plain data.

`FlowRecord` (a flows row), `EventRecord` (an alert or warning), `MessageRecord` (a ladder arrow),
`CertSeen` (a distinct certificate with the flows that sent it), `Analysis` (all of one capture) and
`Limits` (the resource limits).  Both engines (`inspector.engines.python`, `inspector.engines.rust`, the
tshark engine) fill them; schema, diagnoses and outputs read them.  This module imports nothing
heavy (no cryptography, no pandas), so a command-line run that only writes rows never pays for
them: `CertSeen.info` is an `inspector.x509.CertInfo`, created only when a certificate appears.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from .link import FRAG_TIMEOUT, MAX_FRAG_BYTES, MAX_FRAG_DATAGRAMS

if TYPE_CHECKING:
    from .x509 import CertInfo

__all__ = ["ALERT_LEVELS", "Alert", "Analysis", "CertSeen", "EventRecord", "FlowRecord", "Limits", "MessageRecord",
           "alert_level", "is_missing", "validity"]

_NUMPY_NAN_TYPES = frozenset({"float16", "float32", "float64", "longdouble", "datetime64", "timedelta64"})


def is_missing(v: Any) -> bool:
    """A value that was not observed: None, NaN, pandas NA/NaT, numpy NaN/NaT (recognised without
    importing pandas, so the plain outputs never pay for it).  Lists, strings and bytes are values."""
    if v is None:
        return True
    if isinstance(v, float):
        return bool(v != v)
    t = type(v)
    if t.__name__ in ("NAType", "NaTType"):
        return True
    if t.__module__ == "numpy" and t.__name__ in _NUMPY_NAN_TYPES:
        return bool(v != v)
    return False


def validity(not_before: Any, not_after: Any, at: Any) -> Literal["valid", "expired", "not_yet_valid", "unknown"]:
    """A certificate's validity at ``at``, both bounds inclusive (RFC 5280); ``unknown`` when a
    bound or the time is missing.  The three must be comparable (all aware datetimes, or all
    pandas Timestamps)."""
    if is_missing(not_before) or is_missing(not_after) or is_missing(at):
        return "unknown"
    if at < not_before:
        return "not_yet_valid"
    if at > not_after:
        return "expired"
    return "valid"


@dataclass(slots=True)
class Limits:
    """Resource limits; hitting one is a warning on the flow, never a failure."""

    max_flows: int = 20_000  # handshakes in flight before the oldest is evicted (~5 KB each)
    max_handshake_bytes: int = 1024 * 1024  # largest handshake message accepted (chains of 300 KB exist)
    max_pending_bytes: int = 256 * 1024  # out-of-order bytes kept above a hole, per direction
    max_certs: int = 32  # certificates parsed per chain
    max_tombstones: int = 500_000  # finished connections remembered (to skip their packets)
    max_frag_datagrams: int = MAX_FRAG_DATAGRAMS  # IPv4 datagrams being reassembled (oldest evicted)
    max_frag_bytes: int = MAX_FRAG_BYTES  # bytes per reassembled IPv4 datagram
    frag_timeout: float = FRAG_TIMEOUT  # seconds of capture time to complete a fragmented datagram
    max_keylog_bytes: int = 256 * 1024 * 1024  # key log bytes read (a bigger file is read from its end)
    keylog_timeout: float = 10.0  # seconds a key log FIFO may stay silent
    max_buffered_bytes: int = 512 * 1024 * 1024  # handshake bytes buffered by all flows in flight


ALERT_LEVELS = ("warning", "fatal", "encrypted")


def alert_level(text: Any) -> str | None:
    """The level an alert's text starts with, as every engine writes an alert event's ``detail`` and
    its ladder arrow's ``name`` (``"fatal unknown_ca after the peer's Certificate"`` -> ``"fatal"``);
    None when it starts with none."""
    word = str(text).split(" ", 1)[0]
    return word if word in ALERT_LEVELS else None


@dataclass(frozen=True, slots=True)
class Alert:
    """A TLS alert: who sent it, its level ("warning", "fatal", or "encrypted" when unreadable), its
    description, and the frame and time it came in (None when read back from the flows table).  The
    flows table's ``alerts`` column spells each ``"sender:level:description"`` (`str`), and `parse`
    reads that back; `event` makes its events row: the one place each form is made."""

    sender: str
    level: str
    description: str
    frame: int | None = None
    ts: float | None = None

    def __str__(self) -> str:
        return f"{self.sender}:{self.level}:{self.description}"

    @property
    def fatal(self) -> bool:
        return self.level == "fatal"

    def event(self, capture: str, flow_id: int | None, after: str | None = None) -> EventRecord:
        """This alert as an `events` row; ``after``: the peer's last handshake message before it."""
        detail = f"{self.level} {self.description}" + (f" after the peer's {after}" if after else "")
        return EventRecord(capture, flow_id, self.frame, self.ts, "alert", self.sender, self.description, detail)

    @classmethod
    def parse(cls, text: str) -> Alert | None:
        """``"server:fatal:unknown_ca"`` -> ``Alert("server", "fatal", "unknown_ca")``; None when the
        text is not in that form."""
        parts = str(text).split(":", 2)
        return cls(*parts) if len(parts) == 3 else None

    @classmethod
    def all_of(cls, texts: Any) -> list[Alert]:
        """A flow's ``alerts`` cell (a list, a tuple, an array, or NA) as records, in order."""
        if texts is None or is_missing(texts):
            return []
        return [a for a in map(cls.parse, texts) if a is not None]


@dataclass(frozen=True, slots=True)
class FlowRecord:
    """One TLS connection, as the `flows` DataFrame row (see README for the schema)."""

    capture: str
    flow_id: int
    ts_start: float
    ts_end: float
    first_frame: int
    last_frame: int
    client_ip: str
    client_port: int
    server_ip: str
    server_port: int
    ip_version: int
    tls_version: str | None
    client_max_version: str | None
    cipher: str | None
    cipher_id: int | None
    sni: str | None
    alpn: str | None
    server_subject: str | None
    server_issuer: str | None
    server_chain_sha256: tuple[str, ...]
    client_subject: str | None
    client_issuer: str | None
    client_chain_sha256: tuple[str, ...]
    client_cert_kind: str | None
    client_cert_requested: bool
    requested_ca_names: tuple[str, ...]
    alerts: tuple[str, ...]
    outcome: str
    outcome_detail: str | None
    certs_visible: bool
    decrypted: bool
    resumed: bool
    dh_bits: int | None
    kx_group: str | None
    history: str
    ja3: str | None
    ja3s: str | None
    ja4: str | None
    starttls: str | None
    packets: int
    warnings: tuple[str, ...]
    transport: str = "tcp"  # "tcp", "udp" (DTLS, QUIC), "eap" (EAPOL, RADIUS): the Rust engine
    protocol: str = "TLS"  # "TLS", "DTLS", "QUIC", "EAP-TLS", "PEAP", "EAP-TTLS"
    encapsulation: str | None = None  # tunnel path, e.g. "gre", "erspan2>vxlan"
    quic_version: str | None = None
    srtp_profile: str | None = None


@dataclass(frozen=True, slots=True)
class EventRecord:
    """An alert or a warning, as an `events` DataFrame row."""

    capture: str
    flow_id: int | None
    frame: int | None
    ts: float | None
    kind: str  # "alert" or "warning"
    sender: str | None  # "client"/"server" for alerts; the side a warning concerns, if any
    code: str
    detail: str

    @property
    def level(self) -> str | None:
        """An alert's level ("warning", "fatal", "encrypted"; the first word of its detail, as every
        engine writes it); None for a warning."""
        return alert_level(self.detail) if self.kind == "alert" else None


@dataclass(frozen=True, slots=True)
class MessageRecord:
    """One handshake message, ChangeCipherSpec, alert or application data record of a flow, as a
    `messages` DataFrame row (the arrows of the ladder diagram)."""

    capture: str
    flow_id: int
    frame: int
    ts: float
    sender: str  # "client" or "server"
    kind: str  # "handshake", "encrypted_handshake", "change_cipher_spec", "alert", "application_data"
    name: str


@dataclass(slots=True)
class CertSeen:
    """A distinct certificate with the flows that sent it.  Mutable on purpose: the engines add
    each flow id and role to it as flows end (and renumber them once the capture is over)."""

    info: CertInfo
    flow_ids: list[int] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)  # "server"/"client", with chain position


@dataclass(slots=True)
class Analysis:
    """What one capture yielded: rows for the three tables plus counters.  Mutable on purpose: the
    engines fill its lists as flows end, and `inspector.api` clears the flows of a streamed capture
    (whose rows went out as they ended) while keeping its capture-level events."""

    capture: str
    flows: list[FlowRecord]
    certificates: dict[str, CertSeen]
    events: list[EventRecord]
    stats: Counter
    capture_warnings: list[str] = field(default_factory=list)
    first_ts: float | None = None
    last_ts: float | None = None
    messages: list[MessageRecord] = field(default_factory=list)  # not kept in streaming mode
