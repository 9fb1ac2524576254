"""Exceptions that cross stage boundaries.

Only unusable input raises: a file that is not a capture, or one whose framing is broken before any
packet could be read.  Everything else (a bad packet, a lying length inside TLS) becomes a warning
event on its flow, never an exception.
"""

from __future__ import annotations


class InspectError(Exception):
    """Base class for errors tlsinspect reports to the user as one line (exit code 2)."""


class CaptureError(InspectError):
    """The capture file cannot be read (not a capture, broken framing, I/O error).

    ``offset`` is the byte offset in the (decompressed) file where reading stopped, when known.
    """

    def __init__(self, reason: str, offset: int | None = None) -> None:
        self.reason = reason
        self.offset = offset
        where = f" at byte {offset}" if offset is not None else ""
        super().__init__(f"{reason}{where}")
