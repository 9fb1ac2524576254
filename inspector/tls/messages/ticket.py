"""NewSessionTicket."""

from __future__ import annotations

from dataclasses import dataclass

from .reader import _as_bytes, _Reader


# --------------------------------------------------------------------------------------------
# NewSessionTicket


@dataclass(frozen=True, slots=True)
class NewSessionTicket:
    lifetime: int
    ticket_len: int


def parse_new_session_ticket(body: bytes, *, tls13: bool) -> NewSessionTicket:
    """``lifetime`` (TLS 1.2: ticket_lifetime_hint) in seconds and the ticket's length."""
    r = _Reader(_as_bytes(body))
    lifetime = r.u32("ticket_lifetime")
    if tls13:
        r.u32("ticket_age_add")
        r.vec8("ticket_nonce")
    ticket = r.vec16("ticket")
    if tls13:
        r.vec16("extensions")
    return NewSessionTicket(lifetime=lifetime, ticket_len=len(ticket))
