"""What a handshake's wire facts mean: who is the client, how the handshake ended, and why.

Every engine reads the wire its own way (the Python engine, `inspector.flows`; the tshark engine,
`inspector.engines.tshark`, from Wireshark's fields) and hands the facts here, so the roles, the
``outcome`` / ``outcome_detail`` columns, when a handshake is over (`tls12_over`, `tls13_over`) and
the TLS 1.3 record-size rule are decided once, in the same words (and the ladder diagram, `inspector.output.ladder`, marks the record `tls13_alert_at`
took for an alert).  The Rust engine has its counterpart in ``rust/core/src/flow.rs`` (``outcome``) and
``rust/core/src/tls/session.rs`` (``handshake_over``); the differential tests compare its tables
with the Python engine's on every capture, so the two cannot drift apart unseen.

Sans-I/O: plain values in, plain values out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Sequence, TypeVar

from .tcp import ALERT_RECORD_MIN

__all__ = ["ENCRYPTED_ALERT_MAX", "TLS13_RECORDS_MAX", "HandshakeFacts", "choose_client", "is_encrypted_alert", "outcome",
           "tls12_over", "tls13_alert_at", "tls13_over", "tls13_outcome"]

Role = Literal["client", "server"]
E = TypeVar("E")

#: An encrypted alert record is 2 bytes of alert + the content type + a 16-byte AEAD tag = 19 bytes
#: (a few more with record padding); an encrypted Finished is at least 4 + 32 + 17 = 53.  So a first
#: encrypted record of at most this many bytes is taken for an alert.
ENCRYPTED_ALERT_MAX = 24

#: TLS 1.3 encrypted records looked at before the handshake is taken as over either way
TLS13_RECORDS_MAX = 16


def is_encrypted_alert(length: int) -> bool:
    """An encrypted record this long is an alert, not a Finished (`ENCRYPTED_ALERT_MAX`)."""
    return length <= ENCRYPTED_ALERT_MAX


def choose_client(a: E, b: E, *, hello_client: E | None, syn_initiator: E | None, a_port: int, b_port: int,
                  tls_ports: frozenset[int]) -> E:
    """Which endpoint is the TLS client: the sender of the ClientHello (or the receiver of the
    ServerHello: ``hello_client``); else the side that sent the first SYN; else the side not on a TLS
    port when the other is; else the higher port."""
    if hello_client is not None:
        return hello_client
    if syn_initiator is not None:
        return syn_initiator
    if b_port in tls_ports and a_port not in tls_ports:
        return a
    if a_port in tls_ports and b_port not in tls_ports:
        return b
    return a if a_port >= b_port else b


def _first_client(records: Sequence[tuple[str, int]], client: str = "client") -> int | None:
    return next((i for i, (who, _) in enumerate(records) if who == client), None)


def tls13_over(records: Sequence[tuple[str, int]], client: str = "client") -> bool:
    """TLS 1.3 without keys: the handshake is over once the client spoke encrypted (its Finished,
    or an alert) and either that was an alert or the server spoke after it.  ``client`` names the
    client's side as the records do (a role, or the session's side letter: asked per record, so
    the records are not renamed for it)."""
    first = _first_client(records, client)
    if first is None:
        return False
    return (is_encrypted_alert(records[first][1]) or any(who != client for who, _ in records[first + 1:])
            or len(records) >= TLS13_RECORDS_MAX)


def tls12_over(*, finished: int, ccs: int, client_ccs_first: bool, server_after_client_finished: int,
               appdata: int) -> bool:
    """TLS 1.2 and earlier: the handshake is over once both sides sent Finished (``finished``: how
    many did), in a full handshake (the client's ChangeCipherSpec came first) at once; in an
    abbreviated one the client's Finished comes last, so once the server spoke after it (its verdict
    may be an encrypted alert).  With no Finished seen: once both sent ChangeCipherSpec and
    application data came."""
    if finished == 2:
        return client_ccs_first or server_after_client_finished > 0
    return ccs == 2 and appdata > 0


def tls13_alert_at(records: Sequence[tuple[Role, int]]) -> int | None:
    """Which of the TLS 1.3 encrypted records (sender, length) is taken for an alert: the client's
    first when it is small (it rejected the server's certificate), else the server's first after
    it when that is small and the server's only one (it rejected the client's); None when none."""
    first = _first_client(records)
    if first is None:
        return None
    if is_encrypted_alert(records[first][1]):
        return first
    later_server = [i for i in range(first + 1, len(records)) if records[i][0] != "client"]
    if len(later_server) == 1 and is_encrypted_alert(records[later_server[0]][1]):
        return later_server[0]
    return None


def tls13_outcome(records: Sequence[tuple[Role, int]]) -> tuple[str, str | None] | None:
    """TLS 1.3 handshakes are encrypted after the ServerHello: judge by the sizes and order of the
    encrypted records (sender, length).  Established when the server speaks again after the
    client's Finished; None when the records do not tell."""
    first = _first_client(records)
    if first is None:
        return None
    alert = tls13_alert_at(records)
    if alert is not None:
        if records[alert][0] == "client":
            return "failed", "client sent an encrypted alert (TLS 1.3: it likely rejected the server's certificate)"
        return "failed", ("server sent an encrypted alert after the client's Finished (TLS 1.3: likely "
                          "rejected the client's certificate)")
    if len(records) > first + 1:  # either side spoke again after the client's Finished
        return "established", None
    return None


def _peer(who: Role) -> Role:
    return "server" if who == "client" else "client"


@dataclass(frozen=True, slots=True)
class HandshakeFacts:
    """What an engine saw of one connection's handshake, with the sides named by role."""

    #: the first fatal alert: (sender, description, the peer's last message before it or None)
    fatal: tuple[Role, str, str | None] | None = None
    #: a ClientHello or ServerHello (SSLv2 included, as the engine counts them) was seen
    hellos_seen: bool = True
    #: only part of the first hello was seen: (message name, bytes seen, bytes needed or None)
    partial_hello: tuple[str, int, int | None] | None = None
    sslv2: bool = False
    tls13: bool = False
    #: TLS 1.3 decrypted with a key log: both Finished seen and the server did not object
    tls13_finished: bool = False
    #: TLS 1.3: the encrypted records in order, (sender, length)
    encrypted_records: tuple[tuple[Role, int], ...] = ()
    #: TLS 1.2 and earlier: both Finished seen, or both ChangeCipherSpec and application data
    finished_both: bool = False
    #: TLS 1.2 and earlier: the sender of the first encrypted alert, if any
    encrypted_alert_by: Role | None = None
    #: the first RST or FIN within the handshake: (sender, "rst" or "fin")
    close: tuple[Role, str] | None = None
    #: the last handshake message each side sent, by role
    last_message: dict[Role, str] = field(default_factory=dict)
    #: bytes the capture missed, by the role that sent them (acknowledged but not captured)
    missed: dict[Role, int] = field(default_factory=dict)
    #: why the flow was evicted before its handshake ended ("memory" or "table"), if it was
    evicted: str | None = None


def outcome(f: HandshakeFacts) -> tuple[str, str | None]:
    """The ``outcome`` and ``outcome_detail`` columns."""
    if f.fatal is not None:
        who, description, after = f.fatal
        tail = f" after the {_peer(who)}'s {after}" if after else ""
        return "failed", f"{who} sent fatal {description}{tail}"
    if not f.hellos_seen:
        if f.partial_hello is not None:
            name, seen, need = f.partial_hello
            of = f" of the {need}" if need is not None else ""
            how = ""
            if f.close is not None:
                how = f"; then the {f.close[0]} {'reset' if f.close[1] == 'rst' else 'closed'} the connection"
            return "incomplete", f"only {seen}{of} bytes of the {name} were seen{how}"
        return "incomplete", "the hellos are not in the capture (it starts mid-connection)"
    if f.sslv2:
        return "established", "SSL 2.0 (obsolete and insecure); its handshake is encrypted after the ServerHello"
    if f.tls13 and f.tls13_finished:
        return "established", None
    if f.tls13:
        verdict = tls13_outcome(f.encrypted_records)
        if verdict is not None:
            return verdict
    elif f.finished_both:
        return "established", None
    elif f.encrypted_alert_by is not None:
        return "failed", f"{f.encrypted_alert_by} sent an encrypted alert during the handshake"
    if f.close is not None:
        who, kind = f.close
        peer = _peer(who)
        last = f.last_message.get(peer)
        after = f" after the {peer}'s {last}" if last else ""
        how = "reset" if kind == "rst" else "closed"
        missed = [f"{f.missed[r]} bytes from the {r}" for r in ("client", "server")
                  if f.missed.get(r, 0) >= ALERT_RECORD_MIN]
        if missed:  # the alert may have been among the bytes the capture missed
            return "reset", (f"{who} {how} the connection{after}; no alert in the capture, which missed "
                             f"{' and '.join(missed)}")
        return "reset", f"{who} {how} the connection{after} without an alert"
    if f.evicted:
        why = "memory budget for buffered handshakes reached" if f.evicted == "memory" else "flow table full"
        return "incomplete", f"flow evicted before the handshake ended ({why})"
    return "incomplete", "the capture ends before the handshake does"
