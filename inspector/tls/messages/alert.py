"""Alert records (level and description)."""

from __future__ import annotations

from dataclasses import dataclass

from ..constants import alert_level_name, alert_name
from .reader import _as_bytes, ParseError


# --------------------------------------------------------------------------------------------
# Alert


@dataclass(frozen=True, slots=True)
class Alert:
    level: int
    description: int

    @property
    def level_name(self) -> str:
        return alert_level_name(self.level)

    @property
    def description_name(self) -> str:
        return alert_name(self.description)


def parse_alert(record_fragment: bytes) -> list[Alert]:
    """All 2-byte alerts in a (plaintext) alert record fragment; an odd byte count is a
    ParseError.  An empty fragment gives an empty list."""
    buf = _as_bytes(record_fragment)
    if len(buf) & 1:
        raise ParseError("alert fragment of odd length", len(buf) - 1)
    return [Alert(buf[i], buf[i + 1]) for i in range(0, len(buf), 2)]
